/*
 * Fuzz target of the stdout writer: values to JSON and text
 * (weft/write.h) and the bounded writer every front end prints through
 * (weft_front_out, src/front).
 *
 * An input is a little program that builds a value (see build()): scalars
 * of any bits (NaN, -0.0, huge ints), strings and bytes of any bytes
 * (invalid UTF-8, NUL), f64s, lists of what was built, and lists that
 * share an item many times, so that a few bytes describe terabytes of
 * text. The writer's promises are checked rather than trusted:
 * - weft_value_write_size() is exactly what weft_value_write_to() writes,
 *   in JSON and in text;
 * - the JSON is valid (jansson reads it back) and means the value: ints
 *   and floats read back bit for bit, valid strings unchanged, bytes as
 *   hex, NaN and infinities as null;
 * - a sink that refuses at byte K stops the walk: it is never called
 *   again, and what it took is a prefix of the whole text;
 * - weft_front_out with a limit L writes at most L bytes, a prefix of the
 *   whole, and fails with WEFT_ERANGE exactly when the text is longer.
 * Values whose text passes CAP bytes are checked through the size and the
 * bounded paths only (that is the case the bounds exist for).
 * A broken promise aborts, which libFuzzer reports as a crash.
 *
 * The same code runs without libFuzzer through replay.c.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <weft.h>

#include "front.h"
#include "fuzz_target.h"

#define CHECK(c)                                                             \
	do {                                                                 \
		if (!(c)) {                                                  \
			fprintf(stderr, "fuzz_write: %s:%d: broken: %s\n",   \
			    __FILE__, __LINE__, #c);                         \
			abort();                                             \
		}                                                            \
	} while (0)

/* Texts longer than this are not captured whole. */
#define CAP ((size_t)1 << 16)
/* The build stack's depth, and the most items of one list. */
#define STACK 64
#define LIST_MAX 8
/* jansson reads at most 2048 levels; compare only shallower values. */
#define JSON_DEPTH 500

/* -- reading the input ----------------------------------------------------- */

struct input {
	const uint8_t *p;
	size_t n;
};

static unsigned
byte(struct input *in)
{
	if (!in->n)
		return 0;
	in->n--;
	return *in->p++;
}

static uint64_t
bytes8(struct input *in)
{
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v |= (uint64_t)byte(in) << (8 * i);
	return v;
}

/* -- building a value ------------------------------------------------------ */

struct stack {
	weft_value v[STACK];
	size_t n;
};

static void
push(struct stack *s, weft_value v)
{
	if (s->n == STACK) {
		/* Full: the oldest goes. */
		weft_value_release(&s->v[0]);
		memmove(s->v, s->v + 1, (STACK - 1) * sizeof(s->v[0]));
		s->n--;
	}
	s->v[s->n++] = v;
}

/* A list of the top n items (taken), oldest first. */
static void
make_list(struct stack *s, size_t n)
{
	weft_value l;

	if (n > s->n)
		n = s->n;
	CHECK(weft_list_new(n, &l) == WEFT_OK);
	for (size_t i = 0; i < n; i++)
		CHECK(weft_list_set(&l, i, s->v[s->n - n + i]) == WEFT_OK);
	s->n -= n;
	push(s, l);
}

/* The top item `k` times in one list: sharing, so size doubles cheaply. */
static void
make_shared(struct stack *s, size_t k)
{
	weft_value l, top;

	if (!s->n)
		push(s, weft_int(0));
	top = s->v[--s->n];
	CHECK(weft_list_new(k, &l) == WEFT_OK);
	for (size_t i = 0; i < k; i++)
		CHECK(weft_list_set(&l, i, weft_value_retain(top)) == WEFT_OK);
	weft_value_release(&top);
	push(s, l);
}

static weft_value
build(struct input *in)
{
	static const char tricky[] = "q\"b\\n\nt\tr\r\x01\x1f\x7f caf\xc3\xa9 "
				     "\xf0\x9f\x98\x80 \xed\xa0\x80 \xc0\xaf";
	struct stack s = { .n = 0 };
	char buf[256];
	double d[8];

	while (in->n) {
		unsigned op = byte(in) % 12, n;
		uint64_t u;
		double f;

		switch (op) {
		case 0:
			push(&s, weft_nil());
			break;
		case 1:
			push(&s, weft_bool(byte(in) & 1));
			break;
		case 2:
			push(&s, weft_int((int64_t)bytes8(in)));
			break;
		case 3:
			push(&s, weft_int((int8_t)byte(in)));
			break;
		case 4:
			u = bytes8(in);
			memcpy(&f, &u, sizeof(f));
			push(&s, weft_float(f));
			break;
		case 5:
		case 6:
			n = byte(in) % 64;
			for (unsigned i = 0; i < n; i++)
				buf[i] = (char)byte(in);
			push(&s, op == 5 ? weft_str_n(buf, n)
					 : weft_bytes(buf, n));
			break;
		case 7:
			n = byte(in) % 8;
			for (unsigned i = 0; i < n; i++) {
				u = bytes8(in);
				memcpy(&d[i], &u, sizeof(d[i]));
			}
			{
				weft_value v;
				CHECK(weft_f64s_new(n, d, &v) == WEFT_OK);
				push(&s, v);
			}
			break;
		case 8:
			make_list(&s, byte(in) % (LIST_MAX + 1));
			break;
		case 9:
			if (s.n)
				push(&s, weft_value_retain(s.v[s.n - 1]));
			break;
		case 10:
			make_shared(&s, 1 + byte(in) % LIST_MAX);
			break;
		default:
			push(&s, weft_str(tricky));
		}
	}
	if (s.n == 1)
		return s.v[0];
	make_list(&s, s.n);
	return s.v[0];
}

/* -- capturing what the writer writes -------------------------------------- */

struct capture {
	char *p;
	size_t len, cap;
	size_t stop_at; /* refuse the write that would pass this (0: never) */
	int stopped;
	size_t after_stop;
};

static int
capture_sink(void *ud, const char *s, size_t n)
{
	struct capture *c = ud;

	if (c->stopped) {
		c->after_stop++;
		return WEFT_EIO;
	}
	if (c->stop_at ? c->len + n > c->stop_at : c->len + n > CAP) {
		c->stopped = 1;
		return WEFT_EIO;
	}
	if (c->len + n + 1 > c->cap) {
		c->cap = 2 * (c->len + n + 1);
		c->p = realloc(c->p, c->cap);
		CHECK(c->p != NULL);
	}
	memcpy(c->p + c->len, s, n);
	c->len += n;
	c->p[c->len] = '\0';
	return WEFT_OK;
}

/* -- what the JSON must mean ----------------------------------------------- */

/* Valid UTF-8 (no overlong forms, no surrogates, nothing past U+10FFFF),
 * as jansson judges it: an oracle independent of the writer's own. */
static int
valid_utf8(const char *s, size_t n)
{
	json_t *j = json_stringn(s, n);
	int ok = j != NULL;

	json_decref(j);
	return ok;
}

static int
same_double(const json_t *j, double d)
{
	if (!isfinite(d))
		return json_is_null(j);
	return json_is_real(j) && json_real_value(j) == d &&
	    signbit(json_real_value(j)) == signbit(d);
}

static size_t
depth_of(weft_value v, size_t limit)
{
	size_t most = 0;

	if (weft_type_of(v) != WEFT_LIST || limit == 0)
		return weft_type_of(v) == WEFT_LIST;
	for (size_t i = 0; i < weft_len(v) && most < limit; i++) {
		size_t d = depth_of(weft_list_get(v, i), limit - 1);
		most = d > most ? d : most;
	}
	return 1 + most;
}

static void
check_json(const json_t *j, weft_value v)
{
	static const char hex[] = "0123456789abcdef";

	switch (weft_type_of(v)) {
	case WEFT_NIL:
		CHECK(json_is_null(j));
		break;
	case WEFT_BOOL:
		CHECK(json_is_boolean(j) &&
		    json_is_true(j) == weft_as_bool(v));
		break;
	case WEFT_INT:
		CHECK(json_is_integer(j) &&
		    json_integer_value(j) == weft_as_int(v));
		break;
	case WEFT_FLOAT:
		CHECK(same_double(j, weft_as_float(v)));
		break;
	case WEFT_STR:
		CHECK(json_is_string(j));
		if (valid_utf8(weft_as_str(v), weft_len(v)))
			CHECK(json_string_length(j) == weft_len(v) &&
			    memcmp(json_string_value(j), weft_as_str(v),
				weft_len(v)) == 0);
		break;
	case WEFT_BYTES: {
		const json_t *h = json_object_get(j, "bytes");
		const unsigned char *b = weft_bytes_data(v);
		CHECK(json_is_object(j) && json_object_size(j) == 1 &&
		    json_is_string(h) &&
		    json_string_length(h) == 2 * weft_len(v));
		for (size_t i = 0; i < weft_len(v); i++)
			CHECK(json_string_value(h)[2 * i] == hex[b[i] >> 4] &&
			    json_string_value(h)[2 * i + 1] == hex[b[i] & 15]);
		break;
	}
	case WEFT_F64S:
		CHECK(json_is_array(j) && json_array_size(j) == weft_len(v));
		for (size_t i = 0; i < weft_len(v); i++)
			CHECK(same_double(json_array_get(j, i),
			    weft_f64s_data(v)[i]));
		break;
	case WEFT_LIST:
		CHECK(json_is_array(j) && json_array_size(j) == weft_len(v));
		for (size_t i = 0; i < weft_len(v); i++)
			check_json(json_array_get(j, i), weft_list_get(v, i));
		break;
	case WEFT_PTR:
		break;
	}
}

/* -- the checks ------------------------------------------------------------ */

/* The whole text, when under CAP; NULL (and *size) otherwise. */
static char *
whole(weft_value v, unsigned flags, uint64_t *size, size_t *len)
{
	struct capture c = { 0 };
	int rc;

	CHECK(weft_value_write_size(v, flags, size) == WEFT_OK);
	rc = weft_value_write_to(capture_sink, &c, v, flags);
	if (*size <= CAP) {
		CHECK(rc == WEFT_OK && c.len == *size);
		*len = c.len;
		if (!c.p)
			c.p = calloc(1, 1);
		CHECK(c.p != NULL);
		return c.p;
	}
	/* Over CAP: the sink refused, and the walk ended there. */
	CHECK(rc == WEFT_EIO && c.stopped && c.after_stop == 0);
	free(c.p);
	return NULL;
}

/* A sink refusing at byte k: a prefix, and no call after the refusal. */
static void
check_stop(weft_value v, unsigned flags, const char *text, uint64_t size,
    size_t k)
{
	struct capture c = { 0 };
	int rc;

	c.stop_at = k ? k : 1;
	rc = weft_value_write_to(capture_sink, &c, v, flags);
	CHECK(c.after_stop == 0);
	if (size <= c.stop_at)
		CHECK(rc == WEFT_OK && c.len == size);
	else
		CHECK(rc == WEFT_EIO && c.stopped && c.len <= c.stop_at);
	if (text && c.len)
		CHECK(memcmp(c.p, text, c.len) == 0);
	free(c.p);
}

/* The front ends' bounded writer, over a memory FILE. */
static void
check_bounded(weft_value v, unsigned flags, const char *text, uint64_t size,
    uint64_t limit)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f;
	weft_front_out o;

	if (!limit && size > CAP)
		return; /* no limit: it would write it all */
	f = open_memstream(&buf, &len);
	CHECK(f != NULL);
	weft_front_out_init(&o, f, limit);
	weft_front_out_value(&o, v, flags);
	weft_front_out_flush(&o);
	if (!limit || size <= limit)
		CHECK(o.rc == WEFT_OK && o.written == size);
	else
		CHECK(o.rc == WEFT_ERANGE && o.written <= limit &&
		    o.wanted > limit);
	fclose(f);
	CHECK(len == o.written);
	if (text && len)
		CHECK(memcmp(buf, text, len) == 0);
	free(buf);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	weft_front_set_verbose(0);
	return 0;
}

void
fuzz_target_cleanup(void)
{
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct input in = { data, size };
	unsigned k = byte(&in) | byte(&in) << 8, lim = byte(&in) << 4;
	weft_value v = build(&in);

	for (unsigned flags = 0; flags <= WEFT_WRITE_TEXT; flags++) {
		uint64_t n;
		size_t len = 0;
		char *text = whole(v, flags, &n, &len);

		if (text && !flags && depth_of(v, JSON_DEPTH) < JSON_DEPTH) {
			json_error_t err;
			json_t *j = json_loadb(text, len,
			    JSON_DECODE_ANY | JSON_ALLOW_NUL, &err);
			if (!j)
				fprintf(stderr, "fuzz_write: invalid JSON: %s "
						"at %d: %.200s\n",
				    err.text, err.position, text);
			CHECK(j != NULL);
			check_json(j, v);
			json_decref(j);
		}
		if (text && flags && weft_type_of(v) == WEFT_STR)
			CHECK(len == weft_len(v) &&
			    memcmp(text, weft_as_str(v), len) == 0);
		check_stop(v, flags, text, n, k);
		check_bounded(v, flags, text, n, lim);
		check_bounded(v, flags, text, n, k);
		free(text);
	}
	weft_value_release(&v);
	return 0;
}
