/*
 * jsonval: JSON <-> weft_value, both directions, and its errors (with the
 * path of the bad item).
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "jsonval.h"

static json_t *
parse(const char *text)
{
	json_error_t e;
	json_t *j = json_loads(text, JSON_DECODE_ANY | JSON_ALLOW_NUL, &e);
	assert_non_null(j);
	return j;
}

/* text -> value -> JSON, compared with the text's own JSON. */
static void
round_trip(const char *text, unsigned flags)
{
	json_t *j = parse(text), *back = NULL;
	weft_value v;
	char err[256];

	assert_int_equal(jsonval_to_value(j, flags, &v, err, sizeof err),
	    WEFT_OK);
	assert_int_equal(
	    jsonval_from_value(v, flags, &back, err, sizeof err), WEFT_OK);
	assert_true(json_equal(j, back));
	weft_value_release(&v);
	json_decref(back);
	json_decref(j);
}

static void
test_round_trips(void **state)
{
	(void)state;
	round_trip("null", 0);
	round_trip("[true, false, 0, -9223372036854775807, 1.5, \"x\"]", 0);
	round_trip("[[], [[1, [2, [3]]]], \"\\u00e9t\\u00e9\"]", 0);
	round_trip("\"a\\u0000b\"", 0);
	round_trip("{\"data\": \"AAEC/w==\", \"encoding\": \"base64\"}",
	    JSONVAL_BYTES_BASE64);
	round_trip("{\"data\": \"\", \"encoding\": \"base64\"}",
	    JSONVAL_BYTES_BASE64);
	round_trip("{\"data\": \"YWI=\", \"encoding\": \"base64\"}",
	    JSONVAL_BYTES_BASE64);
}

static void
test_types(void **state)
{
	json_t *j = parse("[1, 2.0, \"s\", null, [true]]");
	weft_value v;

	(void)state;
	assert_int_equal(jsonval_to_value(j, 0, &v, NULL, 0), WEFT_OK);
	assert_int_equal(weft_type_of(v), WEFT_LIST);
	assert_int_equal(weft_len(v), 5);
	assert_int_equal(weft_type_of(weft_list_get(v, 0)), WEFT_INT);
	assert_int_equal(weft_type_of(weft_list_get(v, 1)), WEFT_FLOAT);
	assert_string_equal(weft_as_str(weft_list_get(v, 2)), "s");
	assert_true(weft_is_nil(weft_list_get(v, 3)));
	assert_true(weft_as_bool(weft_list_get(weft_list_get(v, 4), 0)));
	weft_value_release(&v);
	json_decref(j);
}

static void
test_object_is_an_error_with_its_path(void **state)
{
	json_t *j = parse("[1, [2, {\"a\": 1}]]");
	weft_value v = weft_int(3);
	char err[256];

	(void)state;
	assert_int_equal(jsonval_to_value(j, 0, &v, err, sizeof err),
	    WEFT_ETYPE);
	assert_true(weft_is_nil(v));
	assert_non_null(strstr(err, "[1][1]: a JSON object"));
	json_decref(j);
	/* Without the flag, the bytes form is just an object. */
	j = parse("{\"data\": \"AA==\", \"encoding\": \"base64\"}");
	assert_int_equal(jsonval_to_value(j, 0, &v, err, sizeof err),
	    WEFT_ETYPE);
	json_decref(j);
	j = parse("{\"data\": \"A*==\", \"encoding\": \"base64\"}");
	assert_int_equal(jsonval_to_value(j, JSONVAL_BYTES_BASE64, &v, err,
			     sizeof err),
	    WEFT_ETYPE);
	assert_non_null(strstr(err, "not base64"));
	json_decref(j);
}

static void
test_depth_is_bounded(void **state)
{
	enum { N = JSONVAL_MAX_DEPTH + 10 };
	char *text = malloc(2 * N + 1);
	json_t *j;
	weft_value v, list;
	json_t *out;
	char err[256];

	(void)state;
	memset(text, '[', N);
	memset(text + N, ']', N);
	text[2 * N] = 0;
	j = parse(text);
	assert_int_equal(jsonval_to_value(j, 0, &v, err, sizeof err),
	    WEFT_ERANGE);
	json_decref(j);
	free(text);
	/* The same the other way. */
	list = weft_list(0, NULL);
	for (int i = 0; i < N; i++) {
		weft_value outer = weft_list(1, &list);
		weft_value_release(&list);
		list = outer;
	}
	assert_int_equal(jsonval_from_value(list, 0, &out, err, sizeof err),
	    WEFT_ERANGE);
	assert_null(out);
	weft_value_release(&list);
}

static void
test_no_json_form(void **state)
{
	json_t *out;
	char err[256];
	weft_value items[3] = { weft_int(1), weft_float(NAN),
		weft_bytes("\xff\xfe", 2) };

	(void)state;
	assert_int_equal(
	    jsonval_from_values(3, items, 0, &out, err, sizeof err),
	    WEFT_ETYPE);
	assert_non_null(strstr(err, "[1]: "));
	assert_int_equal(jsonval_from_value(items[2], 0, &out, err, sizeof err),
	    WEFT_ETYPE);
	assert_non_null(strstr(err, "not UTF-8"));
	weft_value p = weft_ptr(err, NULL);
	assert_int_equal(jsonval_from_value(p, 0, &out, err, sizeof err),
	    WEFT_ETYPE);
	weft_value_release(&p);
	/* F64S is an array of numbers. */
	double d[2] = { 1.5, -2 };
	weft_value f = weft_f64s(d, 2);
	assert_int_equal(jsonval_from_value(f, 0, &out, NULL, 0), WEFT_OK);
	assert_int_equal(json_array_size(out), 2);
	assert_true(json_real_value(json_array_get(out, 1)) == -2);
	json_decref(out);
	weft_value_release(&f);
	weft_value_release(&items[2]);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trips),
		cmocka_unit_test(test_types),
		cmocka_unit_test(test_object_is_an_error_with_its_path),
		cmocka_unit_test(test_depth_is_bounded),
		cmocka_unit_test(test_no_json_form),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
