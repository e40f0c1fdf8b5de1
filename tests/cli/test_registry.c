/* The function registry (names, arity, order, suggestions, plugins) and the
 * built-in functions, called directly (a NULL ctx makes weft_fail return
 * WEFT_ETASK without a message; messages are tested in test_spec). */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "weft.h"

static weft_registry *reg;

static int
setup(void **state)
{
	(void)state;
	reg = weft_registry_new();
	if (!reg || weft_registry_add_builtins(reg) != WEFT_OK)
		return -1;
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	weft_registry_free(reg);
	return 0;
}

/* Calls built-in `name` on n args; returns its code; *out owned. */
static int
call(const char *name, size_t n, const weft_value *args, weft_value *out)
{
	const weft_func_info *f = weft_registry_find(reg, name);
	assert_non_null(f);
	assert_true((int)n >= f->min_args);
	assert_true(f->max_args == WEFT_ARGS_ANY || (int)n <= f->max_args);
	*out = weft_nil();
	int rc = f->fn(NULL, n, args, out);
	if (rc != WEFT_OK)
		weft_value_release(out);
	return rc;
}

static int64_t
call_int(const char *name, size_t n, const weft_value *args)
{
	weft_value r;
	assert_int_equal(call(name, n, args, &r), WEFT_OK);
	assert_int_equal(weft_type_of(r), WEFT_INT);
	return weft_as_int(r);
}

static double
call_float(const char *name, size_t n, const weft_value *args)
{
	weft_value r;
	assert_int_equal(call(name, n, args, &r), WEFT_OK);
	assert_int_equal(weft_type_of(r), WEFT_FLOAT);
	return weft_as_float(r);
}

static void
expect_fail(const char *name, size_t n, const weft_value *args)
{
	weft_value r;
	assert_int_equal(call(name, n, args, &r), WEFT_ETASK);
	assert_true(weft_is_nil(r));
}

/* Prints v as JSON into buf. */
static const char *
json(weft_value v, char *buf, size_t size)
{
	FILE *f = fmemopen(buf, size, "w");
	assert_non_null(f);
	assert_int_equal(weft_value_write(f, v, 0), WEFT_OK);
	fclose(f);
	return buf;
}

static int
dummy(weft_ctx *c, size_t n, const weft_value *a, weft_value *o)
{
	(void)c, (void)n, (void)a;
	*o = weft_int(7);
	return WEFT_OK;
}

static void
test_add_find_order(void **state)
{
	(void)state;
	weft_registry *r = weft_registry_new();
	assert_non_null(r);
	assert_int_equal(weft_registry_count(r), 0);
	assert_int_equal(weft_registry_add(r, "zeta", dummy, 0, 0, "z"), 0);
	assert_int_equal(weft_registry_add(r, "alpha", dummy, 1, 3, NULL), 0);
	assert_int_equal(
	    weft_registry_add(r, "mid.x", dummy, 2, WEFT_ARGS_ANY, "m"), 0);
	assert_int_equal(weft_registry_count(r), 3);
	assert_string_equal(weft_registry_at(r, 0)->name, "alpha");
	assert_string_equal(weft_registry_at(r, 1)->name, "mid.x");
	assert_string_equal(weft_registry_at(r, 2)->name, "zeta");
	assert_null(weft_registry_at(r, 3));
	const weft_func_info *f = weft_registry_find(r, "alpha");
	assert_non_null(f);
	assert_ptr_equal(f->fn, dummy);
	assert_string_equal(f->help, "");
	assert_string_equal(f->origin, "");
	assert_null(weft_registry_find(r, "beta"));
	assert_null(weft_registry_find(r, NULL));

	char a[32];
	assert_string_equal(weft_func_arity(f, a, sizeof(a)), "1..3");
	assert_string_equal(weft_func_arity(weft_registry_find(r, "zeta"), a,
				sizeof(a)),
	    "0");
	assert_string_equal(weft_func_arity(weft_registry_find(r, "mid.x"), a,
				sizeof(a)),
	    "2+");

	/* Duplicates, bad names and arities are refused. */
	assert_int_equal(weft_registry_add(r, "zeta", dummy, 0, 0, NULL),
	    WEFT_EINVAL);
	assert_int_equal(weft_registry_add(r, "", dummy, 0, 0, NULL),
	    WEFT_EINVAL);
	assert_int_equal(weft_registry_add(r, "9lives", dummy, 0, 0, NULL),
	    WEFT_EINVAL);
	assert_int_equal(weft_registry_add(r, "has space", dummy, 0, 0, NULL),
	    WEFT_EINVAL);
	assert_int_equal(weft_registry_add(r, NULL, dummy, 0, 0, NULL),
	    WEFT_EINVAL);
	assert_int_equal(weft_registry_add(r, "nofn", NULL, 0, 0, NULL),
	    WEFT_EINVAL);
	assert_int_equal(weft_registry_add(r, "neg", dummy, -1, 0, NULL),
	    WEFT_EINVAL);
	assert_int_equal(weft_registry_add(r, "inv", dummy, 3, 2, NULL),
	    WEFT_EINVAL);
	char longname[WEFT_FUNC_NAME_MAX + 2];
	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	assert_int_equal(weft_registry_add(r, longname, dummy, 0, 0, NULL),
	    WEFT_EINVAL);
	longname[WEFT_FUNC_NAME_MAX] = '\0';
	assert_int_equal(weft_registry_add(r, longname, dummy, 0, 0, NULL), 0);
	assert_int_equal(weft_registry_count(r), 4);
	assert_int_equal(weft_registry_add(NULL, "x", dummy, 0, 0, NULL),
	    WEFT_EINVAL);
	assert_int_equal(weft_registry_add_builtins(NULL), WEFT_EINVAL);
	weft_registry_free(r);
	weft_registry_free(NULL);
}

static void
test_suggest(void **state)
{
	(void)state;
	assert_string_equal(weft_registry_suggest(reg, "ad"), "add");
	assert_string_equal(weft_registry_suggest(reg, "summ"), "sum");
	assert_string_equal(weft_registry_suggest(reg, "flaten"), "flatten");
	assert_string_equal(weft_registry_suggest(reg, "getiem"), "getitem");
	assert_string_equal(weft_registry_suggest(reg, "ragne"), "range");
	assert_null(weft_registry_suggest(reg, "frobnicate"));
	assert_null(weft_registry_suggest(reg, "add")); /* exact: no hint */
	assert_null(weft_registry_suggest(reg, NULL));
	char big[300];
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_null(weft_registry_suggest(reg, big));
}

static void
test_builtins_listed(void **state)
{
	(void)state;
	static const char *const must[] = { "inc", "add", "sub", "mul", "div",
		"neg", "sum", "max", "min", "len", "mean", "identity", "range",
		"concat", "getitem", "sleep_ms", "spin_us", "fail", "format" };
	for (size_t i = 0; i < sizeof(must) / sizeof(must[0]); i++) {
		const weft_func_info *f = weft_registry_find(reg, must[i]);
		assert_non_null(f);
		assert_string_equal(f->origin, "builtin");
		assert_true(strlen(f->help) > 0);
	}
	/* Adding them twice fails, and changes nothing. */
	size_t n = weft_registry_count(reg);
	assert_int_equal(weft_registry_add_builtins(reg), WEFT_EINVAL);
	assert_int_equal(weft_registry_count(reg), n);
}

static void
test_arith(void **state)
{
	(void)state;
	weft_value a[2];

	a[0] = weft_int(7), a[1] = weft_int(2);
	assert_int_equal(call_int("add", 2, a), 9);
	assert_int_equal(call_int("sub", 2, a), 5);
	assert_int_equal(call_int("mul", 2, a), 14);
	assert_true(call_float("div", 2, a) == 3.5);
	assert_int_equal(call_int("floordiv", 2, a), 3);
	assert_int_equal(call_int("mod", 2, a), 1);
	assert_int_equal(call_int("pow", 2, a), 49);
	assert_int_equal(call_int("inc", 1, a), 8);
	assert_int_equal(call_int("dec", 1, a), 6);
	assert_int_equal(call_int("neg", 1, a), -7);

	/* Python's floor rules for negatives. */
	a[0] = weft_int(-7), a[1] = weft_int(2);
	assert_int_equal(call_int("floordiv", 2, a), -4);
	assert_int_equal(call_int("mod", 2, a), 1);
	a[0] = weft_int(7), a[1] = weft_int(-2);
	assert_int_equal(call_int("floordiv", 2, a), -4);
	assert_int_equal(call_int("mod", 2, a), -1);
	assert_int_equal(call_int("abs", 1, (weft_value[]) { weft_int(-3) }),
	    3);

	/* int with float gives float; bools count as ints. */
	a[0] = weft_int(1), a[1] = weft_float(0.5);
	assert_true(call_float("add", 2, a) == 1.5);
	a[0] = weft_bool(true), a[1] = weft_int(2);
	assert_int_equal(call_int("add", 2, a), 3);
	a[0] = weft_float(-7.5), a[1] = weft_float(2);
	assert_true(call_float("mod", 2, a) == 0.5);
	assert_true(call_float("floordiv", 2, a) == -4.0);
	a[0] = weft_int(2), a[1] = weft_int(-1);
	assert_true(call_float("pow", 2, a) == 0.5);
	a[0] = weft_float(2), a[1] = weft_float(0.5);
	assert_true(fabs(call_float("pow", 2, a) - sqrt(2.0)) < 1e-15);

	/* Errors: division by zero, overflow, wrong types. */
	a[0] = weft_int(1), a[1] = weft_int(0);
	expect_fail("div", 2, a);
	expect_fail("floordiv", 2, a);
	expect_fail("mod", 2, a);
	a[1] = weft_float(0.0);
	expect_fail("div", 2, a);
	a[0] = weft_int(INT64_MAX), a[1] = weft_int(1);
	expect_fail("add", 2, a);
	expect_fail("inc", 1, a);
	a[0] = weft_int(INT64_MIN);
	expect_fail("sub", 2, a);
	expect_fail("neg", 1, a);
	expect_fail("abs", 1, a);
	a[1] = weft_int(-1);
	expect_fail("floordiv", 2, a);
	assert_int_equal(call_int("mod", 2, a), 0);
	a[0] = weft_int(INT64_MAX / 2 + 1), a[1] = weft_int(2);
	expect_fail("mul", 2, a);
	a[0] = weft_int(INT64_MIN / 2), a[1] = weft_int(2);
	assert_true(call_int("mul", 2, a) == INT64_MIN);
	a[0] = weft_int(2), a[1] = weft_int(63);
	expect_fail("pow", 2, a);
	a[1] = weft_int(62);
	assert_true(call_int("pow", 2, a) == (int64_t)1 << 62);
	a[0] = weft_int(-2), a[1] = weft_int(63);
	assert_true(call_int("pow", 2, a) == INT64_MIN);
	a[0] = weft_int(0), a[1] = weft_int(-1);
	expect_fail("pow", 2, a);
	a[0] = weft_float(-8), a[1] = weft_float(0.5);
	expect_fail("pow", 2, a);
	a[0] = weft_str("x"), a[1] = weft_int(1);
	expect_fail("sub", 2, a);
	expect_fail("add", 2, a);
	weft_value_release(&a[0]);
	a[0] = weft_nil();
	expect_fail("neg", 1, a);
}

static void
test_compare_logic(void **state)
{
	(void)state;
	weft_value a[3], r;

	a[0] = weft_int(1), a[1] = weft_float(1.0);
	assert_int_equal(call("eq", 2, a, &r), 0);
	assert_true(weft_as_bool(r));
	assert_int_equal(call("lt", 2, a, &r), 0);
	assert_false(weft_as_bool(r));
	assert_int_equal(call("le", 2, a, &r), 0);
	assert_true(weft_as_bool(r));
	a[1] = weft_float(NAN);
	assert_int_equal(call("lt", 2, a, &r), 0);
	assert_false(weft_as_bool(r));
	assert_int_equal(call("ge", 2, a, &r), 0);
	assert_false(weft_as_bool(r));
	assert_int_equal(call("ne", 2, a, &r), 0);
	assert_true(weft_as_bool(r));
	a[0] = weft_str("abc"), a[1] = weft_str("abd");
	assert_int_equal(call("lt", 2, a, &r), 0);
	assert_true(weft_as_bool(r));
	assert_int_equal(call("eq", 2, a, &r), 0);
	assert_false(weft_as_bool(r));
	weft_value_release(&a[1]);
	a[1] = weft_int(3);
	expect_fail("gt", 2, a);
	assert_int_equal(call("ne", 2, a, &r), 0);
	assert_true(weft_as_bool(r));

	assert_int_equal(call("not", 1, a, &r), 0); /* "abc" is truthy */
	assert_false(weft_as_bool(r));
	weft_value_release(&a[0]);
	a[0] = weft_int(0), a[1] = weft_int(5), a[2] = weft_int(6);
	assert_int_equal(call("and", 3, a, &r), 0);
	assert_false(weft_as_bool(r));
	assert_int_equal(call("or", 3, a, &r), 0);
	assert_true(weft_as_bool(r));
	assert_int_equal(call_int("if", 3, a), 6);
	a[0] = weft_bool(true);
	assert_int_equal(call_int("if", 3, a), 5);
}

static weft_value
ints(size_t n, const int64_t *v)
{
	weft_value l;
	assert_int_equal(weft_list_new(n, &l), WEFT_OK);
	for (size_t i = 0; i < n; i++)
		weft_list_set(&l, i, weft_int(v[i]));
	return l;
}

static void
test_reductions(void **state)
{
	(void)state;
	weft_value l = ints(4, (int64_t[]) { 3, -1, 7, 2 }), r;
	weft_value e = ints(0, NULL);

	assert_int_equal(call_int("sum", 1, &l), 11);
	assert_int_equal(call_int("min", 1, &l), -1);
	assert_int_equal(call_int("max", 1, &l), 7);
	assert_int_equal(call_int("len", 1, &l), 4);
	assert_true(call_float("mean", 1, &l) == 2.75);
	assert_int_equal(call_int("sum", 1, &e), 0);
	expect_fail("min", 1, &e);
	expect_fail("max", 1, &e);
	expect_fail("mean", 1, &e);
	/* Two or more arguments are the items. */
	weft_value args[3] = { weft_int(4), weft_float(0.5), weft_int(-2) };
	assert_true(call_float("sum", 3, args) == 2.5);
	assert_int_equal(call_int("min", 3, args), -2);
	assert_true(call_float("max", 2, args + 1) == 0.5);
	/* One non-list argument is an error, like Python's sum(5). */
	expect_fail("sum", 1, args);
	expect_fail("max", 1, args);
	/* f64s work as lists of floats. */
	weft_value f = weft_f64s((double[]) { 1.5, 2.5 }, 2);
	assert_true(call_float("sum", 1, &f) == 4.0);
	assert_true(call_float("max", 1, &f) == 2.5);
	assert_int_equal(call_int("len", 1, &f), 2);
	weft_value_release(&f);
	/* Mixed-type lists fail with a message, not a crash. */
	weft_value m[2] = { weft_int(1), weft_str("two") };
	weft_value ml = weft_list(2, m);
	expect_fail("sum", 1, &ml);
	expect_fail("max", 1, &ml);
	expect_fail("mean", 1, &ml);
	weft_value one = weft_list(1, m + 1);
	assert_int_equal(call("max", 1, &one, &r), WEFT_OK);
	assert_string_equal(weft_as_str(r), "two");
	weft_value_release(&r);
	weft_value_release(&one);
	weft_value_release(&ml);
	weft_value_release(&m[1]);
	/* Overflowing sums fail. */
	weft_value big = ints(2, (int64_t[]) { INT64_MAX, 1 });
	expect_fail("sum", 1, &big);
	weft_value_release(&big);
	weft_value_release(&l);
	weft_value_release(&e);
}

static void
test_sequences(void **state)
{
	(void)state;
	char buf[256];
	weft_value a[4], r;

	a[0] = weft_int(5);
	assert_int_equal(call("range", 1, a, &r), 0);
	assert_string_equal(json(r, buf, sizeof(buf)), "[0, 1, 2, 3, 4]");
	weft_value_release(&r);
	a[0] = weft_int(10), a[1] = weft_int(0), a[2] = weft_int(-3);
	assert_int_equal(call("range", 3, a, &r), 0);
	assert_string_equal(json(r, buf, sizeof(buf)), "[10, 7, 4, 1]");
	weft_value_release(&r);
	a[2] = weft_int(0);
	expect_fail("range", 3, a);
	a[0] = weft_int(INT64_MIN), a[1] = weft_int(INT64_MAX);
	expect_fail("range", 2, a); /* too many items, not an overflow */
	a[0] = weft_int(3), a[1] = weft_int(3);
	assert_int_equal(call("range", 2, a, &r), 0);
	assert_int_equal(weft_len(r), 0);

	/* getitem, slice, concat on the range [0..5) */
	weft_value l;
	a[0] = weft_int(5);
	assert_int_equal(call("range", 1, a, &l), 0);
	weft_value_release(&r);
	a[0] = l, a[1] = weft_int(-1);
	assert_int_equal(call_int("getitem", 2, a), 4);
	a[1] = weft_int(5);
	expect_fail("getitem", 2, a);
	a[1] = weft_int(-6);
	expect_fail("getitem", 2, a);
	a[1] = weft_float(1.0);
	expect_fail("getitem", 2, a);
	a[1] = weft_int(1), a[2] = weft_int(-1);
	assert_int_equal(call("slice", 3, a, &r), 0);
	assert_string_equal(json(r, buf, sizeof(buf)), "[1, 2, 3]");
	weft_value_release(&r);
	a[1] = weft_nil(), a[2] = weft_int(100);
	assert_int_equal(call("slice", 3, a, &r), 0);
	assert_int_equal(weft_len(r), 5);
	weft_value_release(&r);
	a[1] = l;
	assert_int_equal(call("concat", 2, a, &r), 0);
	assert_int_equal(weft_len(r), 10);
	weft_value_release(&r);
	assert_int_equal(call("add", 2, a, &r), 0); /* list + list */
	assert_int_equal(weft_len(r), 10);
	weft_value_release(&r);
	assert_int_equal(call("list", 2, a, &r), 0);
	assert_int_equal(call("flatten", 1, &r, &a[2]), 0);
	assert_int_equal(weft_len(a[2]), 10);
	weft_value_release(&a[2]);
	weft_value_release(&r);
	assert_int_equal(call("concat", 0, NULL, &r), 0);
	assert_int_equal(weft_type_of(r), WEFT_LIST);
	assert_int_equal(weft_len(r), 0);
	weft_value_release(&r);

	/* Strings count code points. */
	a[0] = weft_str("h\xc3\xa9llo"), a[1] = weft_int(1);
	assert_int_equal(call_int("len", 1, a), 5);
	assert_int_equal(call("getitem", 2, a, &r), 0);
	assert_string_equal(weft_as_str(r), "\xc3\xa9");
	weft_value_release(&r);
	a[2] = weft_int(3);
	assert_int_equal(call("slice", 3, a, &r), 0);
	assert_string_equal(weft_as_str(r), "\xc3\xa9l");
	weft_value_release(&r);
	a[1] = weft_str(" world");
	assert_int_equal(call("concat", 2, a, &r), 0);
	assert_string_equal(weft_as_str(r), "h\xc3\xa9llo world");
	weft_value_release(&r);
	a[2] = l;
	expect_fail("concat", 3, a); /* str with list */
	weft_value_release(&a[1]);
	a[1] = weft_int(1);
	expect_fail("len", 1, a + 1);
	weft_value_release(&a[0]);

	/* sort, join */
	weft_value u = ints(5, (int64_t[]) { 3, 1, 2, 1, 0 });
	assert_int_equal(call("sort", 1, &u, &r), 0);
	assert_string_equal(json(r, buf, sizeof(buf)), "[0, 1, 1, 2, 3]");
	weft_value_release(&r);
	weft_value_release(&u);
	weft_value s[2] = { weft_str("a"), weft_str("b") };
	a[0] = weft_str("-"), a[1] = weft_list(2, s);
	assert_int_equal(call("join", 2, a, &r), 0);
	assert_string_equal(weft_as_str(r), "a-b");
	weft_value_release(&r);
	expect_fail("join", 2, (weft_value[]) { a[0], l });
	weft_value_release(&a[0]);
	weft_value_release(&a[1]);
	weft_value_release(&s[0]);
	weft_value_release(&s[1]);
	weft_value_release(&l);
}

static void
test_strings_conversions(void **state)
{
	(void)state;
	weft_value a[4], r;

	a[0] = weft_str("{} + {} = {2}{{}}"), a[1] = weft_int(1);
	a[2] = weft_float(0.5), a[3] = weft_str("x");
	assert_int_equal(call("format", 4, a, &r), 0);
	assert_string_equal(weft_as_str(r), "1 + 0.5 = x{}");
	weft_value_release(&r);
	expect_fail("format", 2, a); /* wants {1} too */
	weft_value_release(&a[0]);
	a[0] = weft_str("{:.2f}");
	expect_fail("format", 2, a);
	weft_value_release(&a[0]);
	a[0] = weft_str("oops }");
	expect_fail("format", 1, a);
	weft_value_release(&a[0]);
	weft_value_release(&a[3]);

	weft_value items[2] = { weft_int(1), weft_str("q\"") };
	a[0] = weft_list(2, items);
	assert_int_equal(call("str", 1, a, &r), 0);
	assert_string_equal(weft_as_str(r), "[1, \"q\\\"\"]");
	weft_value_release(&r);
	weft_value_release(&a[0]);
	weft_value_release(&items[1]);
	a[0] = weft_float(0.1);
	assert_int_equal(call("str", 1, a, &r), 0);
	assert_string_equal(weft_as_str(r), "0.1");
	weft_value_release(&r);
	assert_int_equal(call("type", 1, a, &r), 0);
	assert_string_equal(weft_as_str(r), "float");
	weft_value_release(&r);

	a[0] = weft_str(" -42 ");
	assert_int_equal(call_int("int", 1, a), -42);
	weft_value_release(&a[0]);
	a[0] = weft_str("4x");
	expect_fail("int", 1, a);
	weft_value_release(&a[0]);
	a[0] = weft_str("99999999999999999999");
	expect_fail("int", 1, a);
	weft_value_release(&a[0]);
	a[0] = weft_str("2.5e3");
	assert_true(call_float("float", 1, a) == 2500.0);
	weft_value_release(&a[0]);
	a[0] = weft_float(-3.9);
	assert_int_equal(call_int("int", 1, a), -3);
	a[0] = weft_float(1e300);
	expect_fail("int", 1, a);
	a[0] = weft_float(NAN);
	expect_fail("int", 1, a);
}

static void
test_helpers(void **state)
{
	(void)state;
	weft_value a[2], r;

	a[0] = weft_int(5), a[1] = weft_str("kept");
	assert_int_equal(call("sleep_ms", 2, a, &r), 0);
	assert_string_equal(weft_as_str(r), "kept");
	weft_value_release(&r);
	assert_int_equal(call_int("spin_us", 1, a), 5);
	assert_int_equal(call_int("identity", 1, a), 5);
	weft_value_release(&a[1]);
	a[0] = weft_int(-1);
	expect_fail("sleep_ms", 1, a);
	a[0] = weft_str("x");
	expect_fail("spin_us", 1, a);
	expect_fail("fail", 1, a);
	weft_value_release(&a[0]);
	expect_fail("fail", 0, NULL);
}

static void
test_write(void **state)
{
	(void)state;
	char buf[512];
	weft_value v;

	v = weft_float(2.0);
	assert_string_equal(json(v, buf, sizeof(buf)), "2.0");
	v = weft_float(1e300);
	assert_string_equal(json(v, buf, sizeof(buf)), "1e+300");
	v = weft_float(0.1 + 0.2);
	assert_string_equal(json(v, buf, sizeof(buf)), "0.30000000000000004");
	v = weft_float(INFINITY);
	assert_string_equal(json(v, buf, sizeof(buf)), "null");
	v = weft_str("a\n\x01\xff\"");
	assert_string_equal(
	    json(v, buf, sizeof(buf)), "\"a\\n\\u0001\\ufffd\\\"\"");
	weft_value_release(&v);
	v = weft_bytes("\x01\xab", 2);
	assert_string_equal(json(v, buf, sizeof(buf)), "{\"bytes\": \"01ab\"}");
	weft_value_release(&v);

	/* A list nested 100000 deep prints without recursion. */
	weft_value l = weft_list(0, NULL);
	for (int i = 0; i < 100000; i++) {
		weft_value n = weft_list(1, &l);
		weft_value_release(&l);
		l = n;
	}
	FILE *f = fopen("/dev/null", "w");
	assert_non_null(f);
	assert_int_equal(weft_value_write(f, l, 0), WEFT_OK);
	assert_int_equal(weft_value_write(f, l, 7), WEFT_EINVAL);
	assert_int_equal(weft_value_write(NULL, l, 0), WEFT_EINVAL);
	fclose(f);
	weft_value_release(&l);

	FILE *t = fmemopen(buf, sizeof(buf), "w");
	weft_value s = weft_str("plain");
	assert_int_equal(weft_value_write(t, s, WEFT_WRITE_TEXT), WEFT_OK);
	fclose(t);
	assert_string_equal(buf, "plain");
	weft_value_release(&s);
}

static void
test_plugins(void **state)
{
	(void)state;
	char err[512];
	weft_registry *r = weft_registry_new();
	assert_non_null(r);

	assert_int_equal(weft_registry_load_plugin(r, TEST_PLUGIN, err,
			     sizeof(err)),
	    WEFT_OK);
	const weft_func_info *f = weft_registry_find(r, "square");
	assert_non_null(f);
	assert_string_equal(f->origin, TEST_PLUGIN);
	weft_value a = weft_int(9), out = weft_nil();
	assert_int_equal(f->fn(NULL, 1, &a, &out), WEFT_OK);
	assert_int_equal(weft_as_int(out), 81);

	/* A plugin whose init fails leaves nothing behind. */
	size_t n = weft_registry_count(r);
	assert_int_equal(weft_registry_load_plugin(r, TEST_BAD_PLUGIN, err,
			     sizeof(err)),
	    WEFT_EINVAL);
	assert_non_null(strstr(err, "weft_plugin_init() failed"));
	assert_int_equal(weft_registry_count(r), n);
	assert_null(weft_registry_find(r, "half_done"));

	/* Not a plugin; not a file. */
	assert_int_equal(
	    weft_registry_load_plugin(r, "libm.so.6", err, sizeof(err)),
	    WEFT_ENOTFOUND);
	assert_non_null(strstr(err, "not a weft plugin"));
	assert_int_equal(weft_registry_load_plugin(r, "/nonexistent/x.so",
			     err, sizeof(err)),
	    WEFT_EIO);
	assert_non_null(strstr(err, "cannot load"));
	assert_int_equal(weft_registry_load_plugin(r, NULL, err, sizeof(err)),
	    WEFT_EINVAL);
	assert_int_equal(weft_registry_load_plugin(r, "", NULL, 0),
	    WEFT_EINVAL);
	/* The same plugin twice: its names are taken, so init fails. */
	assert_int_equal(weft_registry_load_plugin(r, TEST_PLUGIN, err,
			     sizeof(err)),
	    WEFT_EINVAL);
	assert_non_null(weft_registry_find(r, "square"));
	weft_registry_free(r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_add_find_order),
		cmocka_unit_test(test_suggest),
		cmocka_unit_test(test_builtins_listed),
		cmocka_unit_test(test_arith),
		cmocka_unit_test(test_compare_logic),
		cmocka_unit_test(test_reductions),
		cmocka_unit_test(test_sequences),
		cmocka_unit_test(test_strings_conversions),
		cmocka_unit_test(test_helpers),
		cmocka_unit_test(test_write),
		cmocka_unit_test(test_plugins),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
