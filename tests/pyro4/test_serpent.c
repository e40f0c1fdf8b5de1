/*
 * Unit tests of the Pyro4 front end's parsers and writer (src/serve):
 * serpent values and refusals, the writer's round trip, and the message
 * framing byte for byte against what Pyro4 4.82 itself writes.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "pyjson.h"
#include "pyro_msg.h"
#include "pywrite.h"
#include "serpent.h"

static int
parse(const char *text, pyv_arena *a, pyv *v, char *err)
{
	return serpent_parse(text, strlen(text), a, v, err, 256);
}

static void
test_values(void **state)
{
	pyv_arena a = { 0 };
	pyv v;
	char err[256];
	(void)state;

	assert_int_equal(parse("# serpent utf-8 python3.2\n('weft', 'add', "
			       "(1, -2.5, None, True), {'k': [1, (2,), {3}]})",
			     &a, &v, err),
	    WEFT_OK);
	assert_int_equal(v.kind, PYV_TUPLE);
	assert_int_equal(v.n, 4);
	assert_true(pyv_is_str(&v.u.items[1], "add"));
	const pyv *args = &v.u.items[2];
	assert_int_equal(args->u.items[0].u.i, 1);
	assert_true(args->u.items[1].u.f == -2.5);
	assert_int_equal(args->u.items[2].kind, PYV_NONE);
	assert_int_equal(args->u.items[3].kind, PYV_BOOL);
	const pyv *k = pyv_dict_get(&v.u.items[3], "k");
	assert_non_null(k);
	assert_int_equal(k->u.items[1].kind, PYV_TUPLE);
	assert_int_equal(k->u.items[2].kind, PYV_SET);
	pyv_arena_free(&a);

	assert_int_equal(parse("'a\\x41\\u00e9\\U0001F642\\101' \"b\" r'\\n'",
			     &a, &v, err),
	    WEFT_OK);
	assert_string_equal(v.u.s, "aA\xc3\xa9\xf0\x9f\x99\x82"
				   "Ab\\n");
	pyv_arena_free(&a);

	assert_int_equal(parse("-9223372036854775808", &a, &v, err), WEFT_OK);
	assert_true(v.u.i == INT64_MIN);
	assert_int_equal(parse("1e30000", &a, &v, err), WEFT_OK);
	assert_true(isinf(v.u.f));
	assert_int_equal(parse("0x_ff", &a, &v, err), WEFT_OK);
	assert_int_equal(v.u.i, 255);
	pyv_arena_free(&a);
}

static void
test_refusals(void **state)
{
	static const struct {
		const char *text, *why;
	} cases[] = {
		{ "", "empty" },
		{ "(1, 2", "never closed" },
		{ "9223372036854775808", "64 bits" },
		{ "(1+2j)", "complex" },
		{ "__import__('os')", "not a literal" },
		{ "'abc", "unterminated" },
		{ "'a\nb'", "unterminated" },
		{ "[1] 2", "after the value" },
		{ "{1: 2, 3}", "expected ':'" },
		{ "'\\N{DASH}'", "\\N{name}" },
		{ "'\\ud800'", "UTF-8" },
		{ "b'\xc3\xa9'", "non-ASCII" },
		{ "'\xff'", "invalid UTF-8" },
		{ "f'x'", "f-strings" },
	};
	pyv_arena a = { 0 };
	pyv v;
	char err[256];
	(void)state;

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		int rc = parse(cases[i].text, &a, &v, err);
		if (rc != WEFT_EPARSE || !strstr(err, cases[i].why) ||
		    strncmp(err, "line ", 5) != 0)
			fail_msg("'%s': rc %d, '%s' (want '%s')", cases[i].text,
			    rc, err, cases[i].why);
		pyv_arena_free(&a);
	}
	/* Nesting: refused with a message, not a stack overflow. */
	char deep[2 * SERPENT_MAX_DEPTH + 10];
	memset(deep, '[', sizeof deep - 1);
	deep[sizeof deep - 1] = 0;
	assert_int_equal(parse(deep, &a, &v, err), WEFT_EPARSE);
	assert_non_null(strstr(err, "nesting"));
	/* A NUL byte, as serpent refuses it. */
	assert_int_equal(serpent_parse("'a\0b'", 5, &a, &v, err, sizeof err),
	    WEFT_EPARSE);
	pyv_arena_free(&a);
}

static void
test_write_round_trip(void **state)
{
	static const char *const texts[] = {
		"(1, 'x', None)", "[1.5, -0.0, 1e300, 1e-300, 0.1]",
		"{'a': (1,), 'b': [True, False]}", "b'\\x00\\xff'",
		"'quote \\' and \\\\ and \\n and \\x01 and \xc3\xa9'",
		"{'__class__':'float','value':'nan'}",
	};
	(void)state;
	for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
		pyv_arena a = { 0 }, b = { 0 };
		pyv v, back;
		char err[256];
		serve_buf buf = { 0 };
		pyw w = { &buf, 0 };
		assert_int_equal(parse(texts[i], &a, &v, err), WEFT_OK);
		pyw_begin(&w);
		pyw_pyv(&w, &v);
		assert_int_equal(serpent_parse((const char *)serve_buf_data(&buf),
				     serve_buf_size(&buf), &b, &back, err,
				     sizeof err),
		    WEFT_OK);
		serve_buf_clear(&buf);
		pyw_pyv(&w, &back); /* writes the same text again */
		w.json = 1;
		serve_buf_clear(&buf);
		pyw_pyv(&w, &v);
		if (v.kind != PYV_BYTES && !strstr(texts[i], "nan")) {
			pyv_arena c = { 0 };
			pyv j;
			assert_int_equal(pyjson_parse((const char *)
						  serve_buf_data(&buf),
					     serve_buf_size(&buf), &c, &j, err,
					     sizeof err),
			    WEFT_OK);
			pyv_arena_free(&c);
		}
		serve_buf_free(&buf);
		pyv_arena_free(&a);
		pyv_arena_free(&b);
	}
}

static void
test_weft_values(void **state)
{
	pyv_arena a = { 0 };
	pyv v;
	char err[256];
	weft_value w;
	(void)state;

	assert_int_equal(parse("[1, 'two', {'data': 'AAH/', 'encoding': "
			       "'base64'}, (3.5,)]",
			     &a, &v, err),
	    WEFT_OK);
	assert_int_equal(pyv_to_weft(&v, &w, err, sizeof err), WEFT_OK);
	assert_int_equal(weft_len(w), 4);
	weft_value b = weft_list_get(w, 2);
	assert_int_equal(weft_type_of(b), WEFT_BYTES);
	assert_memory_equal(weft_bytes_data(b), "\x00\x01\xff", 3);
	serve_buf buf = { 0 };
	pyw out = { &buf, 0 };
	assert_int_equal(pyw_weft(&out, w, 0), WEFT_OK);
	serve_buf_addc(&buf, 0);
	assert_string_equal((const char *)serve_buf_data(&buf),
	    "[1,'two',{'data':'AAH/','encoding':'base64'},[3.5]]");
	serve_buf_free(&buf);
	weft_value_release(&w);
	pyv_arena_free(&a);

	assert_int_equal(parse("{'a': 1}", &a, &v, err), WEFT_OK);
	assert_int_equal(pyv_to_weft(&v, &w, err, sizeof err), WEFT_EINVAL);
	assert_non_null(strstr(err, "no mapping type"));
	pyv_arena_free(&a);
}

static void
test_framing(void **state)
{
	/* Pyro4 4.82: Message(MSG_INVOKE, b'abc', 1, 0, 7, annotations=
	 * {'CORR': b'0123456789abcdef'}, hmac_key=b'secret').to_bytes() */
	static const char want_hex[] =
	    "5059524f0030000400000007000000030001003000003558434f5252001030"
	    "313233343536373839616263646566484d414300142dd067977f9f8409a72c"
	    "f9157010ee4aeac52782616263";
	unsigned char want[sizeof want_hex / 2];
	for (size_t i = 0; i < sizeof want; i++)
		sscanf(want_hex + 2 * i, "%2hhx", &want[i]);
	pyro_ann corr = { { 'C', 'O', 'R', 'R' }, 16,
		(const unsigned char *)"0123456789abcdef" };
	serve_buf b = { 0 };
	(void)state;
	if (!pyro_hmac_available())
		skip();
	assert_int_equal(pyro_msg_write(&b, PYRO_MSG_INVOKE, 0, 7,
			     PYRO_SER_SERPENT, &corr, 1, "abc", 3, "secret", 6),
	    0);
	assert_int_equal(serve_buf_size(&b), sizeof want);
	assert_memory_equal(serve_buf_data(&b), want, sizeof want);

	pyro_header h;
	char err[128];
	assert_int_equal(pyro_header_parse(want, &h, err, sizeof err), 0);
	assert_int_equal(h.type, PYRO_MSG_INVOKE);
	assert_int_equal(h.seq, 7);
	assert_int_equal(h.data_size, 3);
	assert_int_equal(h.ann_size, 48);
	want[23] ^= 1; /* the checksum */
	assert_int_equal(pyro_header_parse(want, &h, err, sizeof err), -1);
	assert_non_null(strstr(err, "checksum"));
	serve_buf_free(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_values),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_write_round_trip),
		cmocka_unit_test(test_weft_values),
		cmocka_unit_test(test_framing),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
