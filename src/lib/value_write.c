/*
 * Writing values as JSON or plain text (weft/write.h): one walk, in
 * constant C stack, that hands its text to a sink and stops at the sink's
 * first refusal.
 */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "lib/lib.h"

const char *
weft__fmt_double(char *buf, size_t size, double d)
{
	if (isnan(d))
		snprintf(buf, size, "nan");
	else if (isinf(d))
		snprintf(buf, size, d < 0 ? "-inf" : "inf");
	else {
		/* The shortest of 15, 16, 17 significant digits that reads
		 * back as the same double: 0.1 prints as 0.1, not as
		 * 0.10000000000000001. */
		for (int prec = 15; prec <= 17; prec++) {
			snprintf(buf, size, "%.*g", prec, d);
			if (strtod(buf, NULL) == d)
				break;
		}
		if (!strpbrk(buf, ".eE")) {
			size_t n = strlen(buf);
			if (n + 3 <= size)
				memcpy(buf + n, ".0", 3);
		}
	}
	return buf;
}

/* Length of the valid UTF-8 sequence at s (n bytes left), 0 if invalid. */
static size_t
utf8_seq(const unsigned char *s, size_t n)
{
	unsigned c = s[0];
	size_t len;
	unsigned cp;

	if (c < 0x80)
		return 1;
	if (c >= 0xC2 && c <= 0xDF)
		len = 2, cp = c & 0x1F;
	else if (c >= 0xE0 && c <= 0xEF)
		len = 3, cp = c & 0x0F;
	else if (c >= 0xF0 && c <= 0xF4)
		len = 4, cp = c & 0x07;
	else
		return 0;
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3F);
	}
	/* No overlong forms, no surrogates, nothing past U+10FFFF. */
	if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
	    (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF)
		return 0;
	return len;
}

/* A JSON string literal of s[0..n); invalid UTF-8 becomes U+FFFD. Returns
 * the sink's first error. */
static int
put_json_string(weft_write_fn sink, void *ud, const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0, run = 0;
	int rc = sink(ud, "\"", 1);

	while (i < n && rc == WEFT_OK) {
		unsigned c = u[i];
		const char *esc = NULL;
		char hex[8];
		size_t len = 1;

		if (c == '"')
			esc = "\\\"";
		else if (c == '\\')
			esc = "\\\\";
		else if (c == '\n')
			esc = "\\n";
		else if (c == '\t')
			esc = "\\t";
		else if (c == '\r')
			esc = "\\r";
		else if (c < 0x20) {
			snprintf(hex, sizeof(hex), "\\u%04x", c);
			esc = hex;
		} else if (c >= 0x80 && (len = utf8_seq(u + i, n - i)) == 0) {
			esc = "\\ufffd";
			len = 1;
		}
		if (esc) {
			if (i > run)
				rc = sink(ud, s + run, i - run);
			if (rc == WEFT_OK)
				rc = sink(ud, esc, strlen(esc));
			run = i + len;
		}
		i += len;
	}
	if (rc == WEFT_OK && i > run)
		rc = sink(ud, s + run, i - run);
	return rc == WEFT_OK ? sink(ud, "\"", 1) : rc;
}

static int
put_double(weft_write_fn sink, void *ud, double d, int json)
{
	char tmp[64];

	if (json && !isfinite(d))
		return sink(ud, "null", 4);
	weft__fmt_double(tmp, sizeof(tmp), d);
	return sink(ud, tmp, strlen(tmp));
}

static int
put_bytes(weft_write_fn sink, void *ud, weft_value v)
{
	static const char digits[] = "0123456789abcdef";
	const unsigned char *p = weft_bytes_data(v);
	size_t n = weft_len(v);
	char hex[256];
	int rc = sink(ud, "{\"bytes\": \"", 11);

	/* In pieces of 128 bytes: one sink call per byte would be slow. */
	for (size_t i = 0; i < n && rc == WEFT_OK;) {
		size_t k = 0;
		for (; i < n && k < sizeof(hex); i++) {
			hex[k++] = digits[p[i] >> 4];
			hex[k++] = digits[p[i] & 15];
		}
		rc = sink(ud, hex, k);
	}
	return rc == WEFT_OK ? sink(ud, "\"}", 2) : rc;
}

static int
put_f64s(weft_write_fn sink, void *ud, weft_value v, int json)
{
	const double *d = weft_f64s_data(v);
	int rc = sink(ud, "[", 1);

	for (size_t i = 0; i < weft_len(v) && rc == WEFT_OK; i++) {
		if (i)
			rc = sink(ud, ", ", 2);
		if (rc == WEFT_OK)
			rc = put_double(sink, ud, d[i], json);
	}
	return rc == WEFT_OK ? sink(ud, "]", 1) : rc;
}

/* A scalar, or the opening of a container (*open = 1 then). Returns the
 * sink's first error. */
static int
put_scalar(weft_write_fn sink, void *ud, weft_value v, int json, int top,
    int *open)
{
	char tmp[64];

	*open = 0;
	switch (weft_type_of(v)) {
	case WEFT_NIL:
		return sink(ud, "null", 4);
	case WEFT_BOOL:
		return sink(ud, weft_as_bool(v) ? "true" : "false",
		    weft_as_bool(v) ? 4 : 5);
	case WEFT_INT:
		snprintf(tmp, sizeof(tmp), "%lld", (long long)weft_as_int(v));
		return sink(ud, tmp, strlen(tmp));
	case WEFT_FLOAT:
		return put_double(sink, ud, weft_as_float(v), json);
	case WEFT_STR:
		if (!json && top)
			return sink(ud, weft_as_str(v), weft_len(v));
		return put_json_string(sink, ud, weft_as_str(v), weft_len(v));
	case WEFT_BYTES:
		return put_bytes(sink, ud, v);
	case WEFT_F64S:
		return put_f64s(sink, ud, v, json);
	case WEFT_PTR:
		snprintf(tmp, sizeof(tmp), "\"<ptr %p>\"", weft_ptr_get(v));
		return sink(ud, tmp, strlen(tmp));
	case WEFT_LIST:
		*open = 1;
		return sink(ud, "[", 1);
	}
	return WEFT_OK;
}

struct frame {
	weft_value list; /* borrowed */
	size_t next;
};

int
weft__repr(weft_write_fn sink, void *ud, weft_value v, unsigned flags)
{
	int json = (flags & WEFT__REPR_JSON) != 0, open, rc;
	struct frame *stack = NULL;
	size_t depth = 0, cap = 0;

	rc = put_scalar(sink, ud, v, json, 1, &open);
	if (rc != WEFT_OK || !open)
		return rc;
	/* Lists: an explicit stack instead of recursion, so a list nested a
	 * million deep prints without overflowing the C stack. The sink's
	 * first error ends the walk: a list of shared sublists (2^40 leaves
	 * in 1 KB) must not be walked to its end into a full disk. */
	if (weft__grow((void **)&stack, &cap, 1, sizeof(*stack)))
		return WEFT_ENOMEM;
	stack[depth++] = (struct frame) { v, 0 };
	while (depth > 0 && rc == WEFT_OK) {
		struct frame *f = &stack[depth - 1];
		weft_value item;

		if (f->next >= weft_len(f->list)) {
			rc = sink(ud, "]", 1);
			depth--;
			continue;
		}
		if (f->next > 0 && (rc = sink(ud, ", ", 2)) != WEFT_OK)
			break;
		item = weft_list_get(f->list, f->next++);
		rc = put_scalar(sink, ud, item, json, 0, &open);
		if (rc == WEFT_OK && open) {
			if (weft__grow((void **)&stack, &cap, depth + 1,
				sizeof(*stack)))
				rc = WEFT_ENOMEM;
			else
				stack[depth++] = (struct frame) { item, 0 };
		}
	}
	weft__free(stack);
	return rc;
}

int
weft_value_write_to(weft_write_fn sink, void *ud, weft_value v,
    unsigned flags)
{
	if (!sink || (flags & ~(unsigned)WEFT_WRITE_TEXT))
		return WEFT_EINVAL;
	return weft__repr(
	    sink, ud, v, (flags & WEFT_WRITE_TEXT) ? 0 : WEFT__REPR_JSON);
}

static int
file_sink(void *ud, const char *s, size_t n)
{
	/* fwrite() leaves errno saying why (EPIPE, ENOSPC): the caller reads
	 * it right after WEFT_EIO, so nothing here may touch it. */
	if (n && fwrite(s, 1, n, ud) != n)
		return WEFT_EIO;
	return ferror((FILE *)ud) ? WEFT_EIO : WEFT_OK;
}

int
weft_value_write(FILE *f, weft_value v, unsigned flags)
{
	if (!f)
		return WEFT_EINVAL;
	return weft_value_write_to(file_sink, f, v, flags);
}

/* -- the size of what a value writes ------------------------------------- */

/* Lists share their items, so a value is a DAG of heap objects: the size
 * of each object is computed once and remembered by its address (objects
 * are immutable once shared), which makes the count linear in the memory
 * the value holds, not in the text it describes (2^40 leaves in 1 KB). */
struct memo {
	const void *obj;
	uint64_t size;
};

struct sizer {
	struct memo *t; /* open addressing, a power of two slots */
	size_t cap, n;
	int json;
};

static uint64_t
sat_add(uint64_t a, uint64_t b)
{
	return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

static size_t
memo_slot(const struct sizer *z, const void *obj)
{
	uint64_t h = (uint64_t)(uintptr_t)obj * 0x9E3779B97F4A7C15ull;
	size_t i = (size_t)(h >> 32) & (z->cap - 1);

	while (z->t[i].obj && z->t[i].obj != obj)
		i = (i + 1) & (z->cap - 1);
	return i;
}

static const struct memo *
memo_get(const struct sizer *z, const void *obj)
{
	size_t i;

	if (!z->cap)
		return NULL;
	i = memo_slot(z, obj);
	return z->t[i].obj ? &z->t[i] : NULL;
}

static int
memo_put(struct sizer *z, const void *obj, uint64_t size)
{
	size_t i;

	if (2 * (z->n + 1) > z->cap) {
		struct sizer big = { NULL, z->cap ? 2 * z->cap : 64, 0, z->json };
		big.t = weft__calloc(big.cap, sizeof(*big.t));
		if (!big.t)
			return WEFT_ENOMEM;
		for (size_t k = 0; k < z->cap; k++)
			if (z->t[k].obj)
				big.t[memo_slot(&big, z->t[k].obj)] = z->t[k];
		big.n = z->n;
		weft__free(z->t);
		*z = big;
	}
	i = memo_slot(z, obj);
	if (!z->t[i].obj)
		z->n++;
	z->t[i] = (struct memo) { obj, size };
	return WEFT_OK;
}

static int
count_sink(void *ud, const char *s, size_t n)
{
	uint64_t *c = ud;

	(void)s;
	*c = sat_add(*c, n);
	return WEFT_OK;
}

/* The size of an item that is not a list (a top-level string in text is
 * handled by the caller: it is not quoted). Heap objects are remembered. */
static int
item_size(struct sizer *z, weft_value v, uint64_t *size)
{
	const struct memo *m;
	int open;

	*size = 0;
	if (weft_type_of(v) < WEFT_STR)
		return put_scalar(count_sink, size, v, z->json, 0, &open);
	if ((m = memo_get(z, v.u.obj))) {
		*size = m->size;
		return WEFT_OK;
	}
	put_scalar(count_sink, size, v, z->json, 0, &open);
	return memo_put(z, v.u.obj, *size);
}

struct size_frame {
	weft_value list; /* borrowed */
	size_t next;
	uint64_t size;
};

/* A list's size: "[" "]", ", " between items, and the items. */
static uint64_t
list_frame_size(weft_value list)
{
	size_t n = weft_len(list);
	return 2 + (n ? 2 * (uint64_t)(n - 1) : 0);
}

static int
list_size(struct sizer *z, weft_value v, uint64_t *size)
{
	struct size_frame *stack = NULL;
	size_t depth = 0, cap = 0;
	int rc = WEFT_OK;

	if (weft__grow((void **)&stack, &cap, 1, sizeof(*stack)))
		return WEFT_ENOMEM;
	stack[depth++] = (struct size_frame) { v, 0, list_frame_size(v) };
	while (rc == WEFT_OK) {
		struct size_frame *f = &stack[depth - 1];
		const struct memo *m;
		weft_value item;
		uint64_t n;

		if (f->next >= weft_len(f->list)) {
			uint64_t done = f->size;
			rc = memo_put(z, f->list.u.obj, done);
			if (--depth == 0) {
				*size = done;
				break;
			}
			stack[depth - 1].size =
			    sat_add(stack[depth - 1].size, done);
			continue;
		}
		item = weft_list_get(f->list, f->next++);
		if (weft_type_of(item) != WEFT_LIST) {
			rc = item_size(z, item, &n);
			f->size = sat_add(f->size, n);
		} else if ((m = memo_get(z, item.u.obj))) {
			f->size = sat_add(f->size, m->size);
		} else if (weft__grow((void **)&stack, &cap, depth + 1,
			       sizeof(*stack))) {
			rc = WEFT_ENOMEM;
		} else {
			stack[depth++] = (struct size_frame) { item, 0,
				list_frame_size(item) };
		}
	}
	weft__free(stack);
	return rc;
}

int
weft_value_write_size(weft_value v, unsigned flags, uint64_t *size)
{
	struct sizer z = { NULL, 0, 0, !(flags & WEFT_WRITE_TEXT) };
	int open, rc;

	if (!size || (flags & ~(unsigned)WEFT_WRITE_TEXT))
		return WEFT_EINVAL;
	*size = 0;
	if (weft_type_of(v) != WEFT_LIST)
		/* at the top, as weft_value_write_to() writes it */
		return put_scalar(count_sink, size, v, z.json, 1, &open);
	rc = list_size(&z, v, size);
	weft__free(z.t);
	return rc;
}
