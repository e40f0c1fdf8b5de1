/*
 * Fuzz target of the Pyro4 front end's parsers (src/serve): the message
 * framing (header, annotation chunks, HMAC) and the serpent and JSON
 * readers, with the writer that answers clients.
 *
 * Each input is read three ways, and promises are checked, not trusted:
 * - as a Pyro4 message: a header that parses has a checksum that adds up
 *   and a data size below 2^31; annotation chunks that parse lie inside
 *   their section; the message written back from the parsed fields parses
 *   again to the same fields (and with an HMAC key, the HMAC chunk checks);
 *   compressed data inflates within its limit or is refused; the data is
 *   read as serpent or JSON, as its serializer id says;
 * - as serpent text: a failed parse says where and why; a parsed value is
 *   converted to a weft value (which may be refused, never crash), and it
 *   is written back as serpent and as JSON: the serpent text parses again
 *   to an equal value;
 * - as JSON text, the same way.
 * A broken promise aborts, which libFuzzer reports as a crash. The same
 * code runs without libFuzzer through replay.c, in every build.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_target.h"
#include "pyjson.h"
#include "pyro_msg.h"
#include "pywrite.h"
#include "serpent.h"

#define ARENA_LIMIT ((size_t)64 << 20)

#define CHECK(cond)                                                          \
	do {                                                                 \
		if (!(cond)) {                                               \
			fprintf(stderr, "fuzz_pyro: broken promise: %s (%s:%d)\n", \
			    #cond, __FILE__, __LINE__);                      \
			abort();                                             \
		}                                                            \
	} while (0)

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return 0;
}

/* replay.c's clean-up hook: nothing is kept between inputs here. */
void
fuzz_target_cleanup(void)
{
}

static int
is_seq(pyv_kind k)
{
	return k == PYV_TUPLE || k == PYV_LIST || k == PYV_SET;
}

/* Equal as the writer promises: sequences of any kind alike, bytes as the
 * base64 dict they are written as. */
static int
same(const pyv *a, const pyv *b)
{
	if (a->kind == PYV_BYTES && b->kind == PYV_DICT) {
		const pyv *d = pyv_dict_get(b, "data");
		if (!d || d->kind != PYV_STR)
			return 0;
		unsigned char *buf = malloc(d->n / 4 * 3 + 3);
		CHECK(buf);
		long n = serve_base64_decode(d->u.s, d->n, buf);
		int eq = n == (long)a->n && memcmp(buf, a->u.s, a->n) == 0;
		free(buf);
		return eq;
	}
	if (is_seq(a->kind) && is_seq(b->kind)) {
		if (a->n != b->n)
			return 0;
		for (size_t i = 0; i < a->n; i++)
			if (!same(&a->u.items[i], &b->u.items[i]))
				return 0;
		return 1;
	}
	if (a->kind == PYV_FLOAT && b->kind == PYV_DICT)
		return isnan(a->u.f) && pyv_is_str(pyv_dict_get(b, "value"), "nan");
	if (a->kind != b->kind)
		return 0;
	switch (a->kind) {
	case PYV_NONE:
		return 1;
	case PYV_BOOL:
		return !a->u.b == !b->u.b;
	case PYV_INT:
		return a->u.i == b->u.i;
	case PYV_FLOAT:
		return a->u.f == b->u.f || (isnan(a->u.f) && isnan(b->u.f));
	case PYV_STR:
	case PYV_BYTES:
		return a->n == b->n && memcmp(a->u.s, b->u.s, a->n) == 0;
	case PYV_DICT:
		if (a->n != b->n)
			return 0;
		for (size_t i = 0; i < 2 * a->n; i++)
			if (!same(&a->u.items[i], &b->u.items[i]))
				return 0;
		return 1;
	default:
		return 0;
	}
}

/* The checks on one parsed value. */
static void
check_value(const pyv *v)
{
	char err[512];
	weft_value w;
	int rc = pyv_to_weft(v, &w, err, sizeof err);
	CHECK(rc == WEFT_OK || rc == WEFT_EINVAL || rc == WEFT_ENOMEM);
	CHECK(rc == WEFT_OK || (err[0] && strlen(err) < sizeof err));

	/* Written back as serpent, it reads back the same. */
	serve_buf b = { 0 };
	pyw out = { &b, 0 };
	pyw_begin(&out);
	pyw_pyv(&out, v);
	CHECK(!b.failed);
	pyv_arena a2 = { .limit = ARENA_LIMIT };
	pyv back;
	rc = serpent_parse((const char *)serve_buf_data(&b), serve_buf_size(&b),
	    &a2, &back, err, sizeof err);
	if (rc != WEFT_OK)
		fprintf(stderr, "fuzz_pyro: rewritten serpent fails: %s\n%.*s\n",
		    err, (int)serve_buf_size(&b), serve_buf_data(&b));
	CHECK(rc == WEFT_OK || rc == WEFT_ENOMEM);
	if (rc == WEFT_OK)
		CHECK(same(v, &back));
	pyv_arena_free(&a2);

	/* The weft value written out (as results are) is serpent too. */
	if (weft_type_of(w) != WEFT_NIL || v->kind == PYV_NONE) {
		serve_buf_clear(&b);
		pyw_begin(&out);
		if (pyw_weft(&out, w, 0) == WEFT_OK && !b.failed) {
			rc = serpent_parse((const char *)serve_buf_data(&b),
			    serve_buf_size(&b), &a2, &back, err, sizeof err);
			CHECK(rc == WEFT_OK || rc == WEFT_ENOMEM);
			pyv_arena_free(&a2);
		}
	}
	/* And JSON is written without a failure. */
	serve_buf_clear(&b);
	out.json = 1;
	pyw_pyv(&out, v);
	CHECK(!b.failed);
	serve_buf_free(&b);
	weft_value_release(&w);
}

static void
check_text(const char *text, size_t n, int json)
{
	char err[512];
	pyv_arena a = { .limit = ARENA_LIMIT };
	pyv v;
	int rc = json ? pyjson_parse(text, n, &a, &v, err, sizeof err)
		      : serpent_parse(text, n, &a, &v, err, sizeof err);
	CHECK(rc == WEFT_OK || rc == WEFT_EPARSE || rc == WEFT_ENOMEM);
	if (rc == WEFT_EPARSE)
		CHECK(json ? err[0] != 0 : strncmp(err, "line ", 5) == 0);
	if (rc == WEFT_OK)
		check_value(&v);
	pyv_arena_free(&a);
}

static void
check_message(const unsigned char *p, size_t n)
{
	pyro_header h;
	char err[256];
	pyro_ann anns[PYRO_MAX_ANNOTATIONS];
	size_t nanns = 0;

	if (n < PYRO_HEADER_SIZE ||
	    pyro_header_parse(p, &h, err, sizeof err) != 0)
		return;
	CHECK(h.data_size <= 0x7FFFFFFFu);
	size_t avail = n - PYRO_HEADER_SIZE;
	size_t asize = h.ann_size < avail ? h.ann_size : avail;
	if (pyro_anns_parse(p + PYRO_HEADER_SIZE, asize, anns,
		PYRO_MAX_ANNOTATIONS, &nanns, err, sizeof err) != 0)
		return;
	for (size_t i = 0; i < nanns; i++)
		CHECK(anns[i].data >= p + PYRO_HEADER_SIZE &&
		    anns[i].data + anns[i].len <= p + PYRO_HEADER_SIZE + asize);
	const unsigned char *data = p + PYRO_HEADER_SIZE + asize;
	size_t dsize = n - PYRO_HEADER_SIZE - asize;
	if (dsize > h.data_size)
		dsize = h.data_size;

	/* Written back (less any HMAC chunk, then with a fresh one), the
	 * message reads back the same. */
	pyro_ann keep[PYRO_MAX_ANNOTATIONS];
	size_t nkeep = 0;
	for (size_t i = 0; i < nanns; i++)
		if (memcmp(anns[i].id, "HMAC", 4) != 0)
			keep[nkeep++] = anns[i];
	static const char key[] = "fuzz-key";
	serve_buf b = { 0 };
	int keyed = pyro_hmac_available();
	if (pyro_msg_write(&b, h.type, h.flags, h.seq, h.serializer, keep,
		nkeep, data, dsize, keyed ? key : NULL, sizeof key - 1) == 0 &&
	    !b.failed) {
		pyro_header h2;
		pyro_ann anns2[PYRO_MAX_ANNOTATIONS + 1];
		size_t n2 = 0;
		const unsigned char *q = serve_buf_data(&b);
		CHECK(pyro_header_parse(q, &h2, err, sizeof err) == 0);
		CHECK(h2.type == h.type && h2.flags == h.flags &&
		    h2.seq == h.seq && h2.serializer == h.serializer &&
		    h2.data_size == dsize);
		CHECK(pyro_anns_parse(q + PYRO_HEADER_SIZE, h2.ann_size, anns2,
			  PYRO_MAX_ANNOTATIONS + 1, &n2, err, sizeof err) == 0);
		CHECK(n2 == nkeep + (keyed ? 1 : 0));
		if (keyed) {
			unsigned char mac[PYRO_HMAC_SIZE];
			const pyro_ann *m = pyro_ann_find(anns2, n2, "HMAC");
			CHECK(m && m->len == PYRO_HMAC_SIZE);
			CHECK(pyro_hmac(key, sizeof key - 1,
				  q + PYRO_HEADER_SIZE + h2.ann_size, dsize,
				  anns2, n2, mac) == 0);
			CHECK(memcmp(mac, m->data, PYRO_HMAC_SIZE) == 0);
		}
	}
	serve_buf_free(&b);
	serve_buf z = { 0 };
	if (h.flags & PYRO_FLAGS_COMPRESSED) {
		/* Inflated within its limit, or refused with a reason. */
		if (pyro_inflate(data, dsize, (size_t)1 << 20, &z, err,
			sizeof err) != 0) {
			CHECK(err[0] != 0);
			serve_buf_free(&z);
			return;
		}
		CHECK(serve_buf_size(&z) <= ((size_t)1 << 20) + (64 << 10));
		data = serve_buf_data(&z);
		dsize = serve_buf_size(&z);
	}
	if (h.serializer == 1 || h.serializer == 2)
		check_text((const char *)data, dsize, h.serializer == 2);
	serve_buf_free(&z);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	check_message(data, size);
	check_text((const char *)data, size, 0);
	check_text((const char *)data, size, 1);
	return 0;
}
