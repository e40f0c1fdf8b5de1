/*
 * Built-in functions on numbers: arithmetic, comparisons, logic and the
 * reductions (sum, min, max, mean).
 *
 * Numbers follow Python, so a Dask user gets what Dask gives: int op int
 * stays an int (add, sub, mul, floordiv, mod, pow with a non-negative
 * exponent), anything with a float is a float, div is true division, and
 * floordiv/mod round toward negative infinity. Where Python would grow a
 * big integer, an int64 overflow is a task error instead of a wrong answer.
 * Bools count as the ints 0 and 1, as in Python.
 */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "lib/lib.h"
#include "weft.h"
#include "weft/registry.h"

typedef struct num {
	int is_int;
	int64_t i;
	double f;
} num;

static int
is_number(weft_value v)
{
	weft_type t = weft_type_of(v);
	return t == WEFT_INT || t == WEFT_FLOAT || t == WEFT_BOOL;
}

static num
to_num(weft_value v)
{
	num n = { weft_type_of(v) != WEFT_FLOAT, weft_as_int(v),
		weft_as_float(v) };
	return n;
}

/* Fails unless args[0..n) are all numbers. */
static int
want_numbers(weft_ctx *ctx, size_t n, const weft_value *args)
{
	for (size_t i = 0; i < n; i++)
		if (!is_number(args[i]))
			return weft_fail(ctx,
			    "argument %zu is a %s, not a number", i + 1,
			    weft_type_name(weft_type_of(args[i])));
	return WEFT_OK;
}

static int
checked_add(int64_t a, int64_t b, int64_t *r)
{
	if ((b > 0 && a > INT64_MAX - b) || (b < 0 && a < INT64_MIN - b))
		return 0;
	*r = a + b;
	return 1;
}

static int
checked_sub(int64_t a, int64_t b, int64_t *r)
{
	if ((b < 0 && a > INT64_MAX + b) || (b > 0 && a < INT64_MIN + b))
		return 0;
	*r = a - b;
	return 1;
}

static int
checked_mul(int64_t a, int64_t b, int64_t *r)
{
	uint64_t ua = a < 0 ? 0 - (uint64_t)a : (uint64_t)a;
	uint64_t ub = b < 0 ? 0 - (uint64_t)b : (uint64_t)b;
	uint64_t p;

	if (ua != 0 && ub > UINT64_MAX / ua)
		return 0;
	p = ua * ub;
	if ((a < 0) != (b < 0)) {
		if (p > (uint64_t)INT64_MAX + 1)
			return 0;
		*r = p == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)p;
	} else {
		if (p > (uint64_t)INT64_MAX)
			return 0;
		*r = (int64_t)p;
	}
	return 1;
}

static int
overflow(weft_ctx *ctx)
{
	return weft_fail(ctx, "integer overflow (result does not fit in 64 "
			      "bits)");
}

enum op { ADD, SUB, MUL, DIV, FLOORDIV, MOD, POW };

static int
int_pow(weft_ctx *ctx, int64_t a, int64_t b, weft_value *out)
{
	int64_t r = 1;

	/* Square and multiply; any overflow along the way is final, since
	 * |a| >= 2 only grows. */
	while (b > 0) {
		if ((b & 1) && !checked_mul(r, a, &r))
			return overflow(ctx);
		b >>= 1;
		if (b > 0 && !checked_mul(a, a, &a))
			return overflow(ctx);
	}
	*out = weft_int(r);
	return WEFT_OK;
}

static int
arith_int(weft_ctx *ctx, enum op op, int64_t a, int64_t b, weft_value *out)
{
	int64_t r = 0;

	switch (op) {
	case ADD:
		if (!checked_add(a, b, &r))
			return overflow(ctx);
		break;
	case SUB:
		if (!checked_sub(a, b, &r))
			return overflow(ctx);
		break;
	case MUL:
		if (!checked_mul(a, b, &r))
			return overflow(ctx);
		break;
	case DIV:
		if (b == 0)
			return weft_fail(ctx, "division by zero");
		*out = weft_float((double)a / (double)b);
		return WEFT_OK;
	case FLOORDIV:
		if (b == 0)
			return weft_fail(ctx, "integer division by zero");
		if (a == INT64_MIN && b == -1)
			return overflow(ctx);
		r = a / b;
		if (a % b != 0 && ((a < 0) != (b < 0)))
			r--;
		break;
	case MOD:
		if (b == 0)
			return weft_fail(ctx, "integer modulo by zero");
		r = b == -1 ? 0 : a % b;
		if (r != 0 && ((r < 0) != (b < 0)))
			r += b;
		break;
	case POW:
		if (b < 0) {
			if (a == 0)
				return weft_fail(ctx,
				    "zero to a negative power");
			*out = weft_float(pow((double)a, (double)b));
			return WEFT_OK;
		}
		return int_pow(ctx, a, b, out);
	}
	*out = weft_int(r);
	return WEFT_OK;
}

static int
arith_float(weft_ctx *ctx, enum op op, double a, double b, weft_value *out)
{
	double r = 0;

	switch (op) {
	case ADD:
		r = a + b;
		break;
	case SUB:
		r = a - b;
		break;
	case MUL:
		r = a * b;
		break;
	case DIV:
		if (b == 0)
			return weft_fail(ctx, "division by zero");
		r = a / b;
		break;
	case FLOORDIV:
		if (b == 0)
			return weft_fail(ctx, "float floor division by zero");
		r = floor(a / b);
		break;
	case MOD:
		if (b == 0)
			return weft_fail(ctx, "float modulo by zero");
		r = fmod(a, b);
		if (r != 0 && ((r < 0) != (b < 0)))
			r += b;
		else if (r == 0)
			r = copysign(0.0, b);
		break;
	case POW:
		if (a == 0 && b < 0)
			return weft_fail(ctx, "zero to a negative power");
		if (a < 0 && isfinite(b) && b != floor(b))
			return weft_fail(ctx,
			    "negative number to a fractional power");
		r = pow(a, b);
		break;
	}
	*out = weft_float(r);
	return WEFT_OK;
}

static int
arith(weft_ctx *ctx, enum op op, const weft_value *args, weft_value *out)
{
	num a, b;
	int rc = want_numbers(ctx, 2, args);

	if (rc != WEFT_OK)
		return rc;
	a = to_num(args[0]);
	b = to_num(args[1]);
	if (a.is_int && b.is_int)
		return arith_int(ctx, op, a.i, b.i, out);
	return arith_float(ctx, op, a.f, b.f, out);
}

/* add of two strings, two lists or two byte strings concatenates, as
 * Python's + does; anything else is arithmetic. */
static int
fn_add(weft_ctx *ctx, size_t n, const weft_value *a, weft_value *out)
{
	weft_type t = weft_type_of(a[0]);

	(void)n;
	if (t == weft_type_of(a[1]) &&
	    (t == WEFT_STR || t == WEFT_LIST || t == WEFT_BYTES))
		return weft__concat(ctx, 2, a, out);
	return arith(ctx, ADD, a, out);
}

#define ARITH_FN(name, op)                                                    \
	static int name(                                                      \
	    weft_ctx *ctx, size_t n, const weft_value *a, weft_value *out)    \
	{                                                                     \
		(void)n;                                                      \
		return arith(ctx, op, a, out);                                \
	}
ARITH_FN(fn_sub, SUB)
ARITH_FN(fn_mul, MUL)
ARITH_FN(fn_div, DIV)
ARITH_FN(fn_floordiv, FLOORDIV)
ARITH_FN(fn_mod, MOD)
ARITH_FN(fn_pow, POW)

static int
fn_inc(weft_ctx *ctx, size_t n, const weft_value *a, weft_value *out)
{
	weft_value args[2] = { a[0], weft_int(1) };
	(void)n;
	return arith(ctx, ADD, args, out);
}

static int
fn_dec(weft_ctx *ctx, size_t n, const weft_value *a, weft_value *out)
{
	weft_value args[2] = { a[0], weft_int(1) };
	(void)n;
	return arith(ctx, SUB, args, out);
}

static int
fn_neg(weft_ctx *ctx, size_t n, const weft_value *a, weft_value *out)
{
	weft_value args[2] = { weft_int(0), a[0] };
	(void)n;
	if (weft_type_of(a[0]) == WEFT_FLOAT) {
		*out = weft_float(-weft_as_float(a[0]));
		return WEFT_OK;
	}
	return arith(ctx, SUB, args, out);
}

static int
fn_abs(weft_ctx *ctx, size_t n, const weft_value *a, weft_value *out)
{
	int rc = want_numbers(ctx, 1, a);
	(void)n;
	if (rc != WEFT_OK)
		return rc;
	if (weft_type_of(a[0]) == WEFT_FLOAT)
		*out = weft_float(fabs(weft_as_float(a[0])));
	else if (weft_as_int(a[0]) == INT64_MIN)
		return overflow(ctx);
	else
		*out = weft_int(weft_as_int(a[0]) < 0 ? -weft_as_int(a[0])
						 : weft_as_int(a[0]));
	return WEFT_OK;
}

/* -- comparisons and logic ---------------------------------------------- */

/* *cmp = -1, 0, 1, or 2 when unordered (NaN). Numbers with numbers,
 * strings with strings; anything else fails. */
static int
compare(weft_ctx *ctx, weft_value a, weft_value b, int *cmp)
{
	if (is_number(a) && is_number(b)) {
		num x = to_num(a), y = to_num(b);
		if (x.is_int && y.is_int)
			*cmp = (x.i > y.i) - (x.i < y.i);
		else if (isnan(x.f) || isnan(y.f))
			*cmp = 2;
		else
			*cmp = (x.f > y.f) - (x.f < y.f);
		return WEFT_OK;
	}
	if (weft_type_of(a) == WEFT_STR && weft_type_of(b) == WEFT_STR) {
		int c = strcmp(weft_as_str(a), weft_as_str(b));
		*cmp = (c > 0) - (c < 0);
		return WEFT_OK;
	}
	return weft_fail(ctx, "cannot compare a %s with a %s",
	    weft_type_name(weft_type_of(a)), weft_type_name(weft_type_of(b)));
}

static bool
values_eq(weft_value a, weft_value b)
{
	if (is_number(a) && is_number(b)) {
		num x = to_num(a), y = to_num(b);
		return x.is_int && y.is_int ? x.i == y.i : x.f == y.f;
	}
	return weft_value_equal(a, b);
}

static int
fn_eq(weft_ctx *ctx, size_t n, const weft_value *a, weft_value *out)
{
	(void)ctx, (void)n;
	*out = weft_bool(values_eq(a[0], a[1]));
	return WEFT_OK;
}

static int
fn_ne(weft_ctx *ctx, size_t n, const weft_value *a, weft_value *out)
{
	(void)ctx, (void)n;
	*out = weft_bool(!values_eq(a[0], a[1]));
	return WEFT_OK;
}

#define CMP_FN(name, test)                                                    \
	static int name(                                                      \
	    weft_ctx *ctx, size_t n, const weft_value *a, weft_value *out)    \
	{                                                                     \
		int c, rc = compare(ctx, a[0], a[1], &c);                     \
		(void)n;                                                      \
		if (rc == WEFT_OK)                                            \
			*out = weft_bool(c != 2 && (test));                   \
		return rc;                                                    \
	}
CMP_FN(fn_lt, c < 0)
CMP_FN(fn_le, c <= 0)
CMP_FN(fn_gt, c > 0)
CMP_FN(fn_ge, c >= 0)

/* Python's truthiness: empty and zero are false. */
static bool
truthy(weft_value v)
{
	switch (weft_type_of(v)) {
	case WEFT_NIL:
		return false;
	case WEFT_BOOL:
	case WEFT_INT:
	case WEFT_FLOAT:
		return weft_as_bool(v);
	case WEFT_PTR:
		return true;
	default:
		return weft_len(v) > 0;
	}
}

static int
fn_not(weft_ctx *ctx, size_t n, const weft_value *a, weft_value *out)
{
	(void)ctx, (void)n;
	*out = weft_bool(!truthy(a[0]));
	return WEFT_OK;
}

static int
fn_and(weft_ctx *ctx, size_t n, const weft_value *a, weft_value *out)
{
	bool r = true;
	(void)ctx;
	for (size_t i = 0; i < n && r; i++)
		r = truthy(a[i]);
	*out = weft_bool(r);
	return WEFT_OK;
}

static int
fn_or(weft_ctx *ctx, size_t n, const weft_value *a, weft_value *out)
{
	bool r = false;
	(void)ctx;
	for (size_t i = 0; i < n && !r; i++)
		r = truthy(a[i]);
	*out = weft_bool(r);
	return WEFT_OK;
}

static int
fn_if(weft_ctx *ctx, size_t n, const weft_value *a, weft_value *out)
{
	(void)ctx, (void)n;
	*out = weft_value_retain(truthy(a[0]) ? a[1] : a[2]);
	return WEFT_OK;
}

/* -- reductions ----------------------------------------------------------- */

/* The items a reduction runs over: the elements of its one list (or f64s)
 * argument, or its arguments when there are two or more. */
typedef struct items {
	const weft_value *args; /* when not a single list */
	weft_value list;	/* LIST or F64S, borrowed */
	size_t n;
	const char *what; /* "item" or "argument", for messages */
} items;

static int
get_items(weft_ctx *ctx, size_t n, const weft_value *a, items *it)
{
	memset(it, 0, sizeof(*it));
	if (n >= 2) {
		it->args = a;
		it->n = n;
		it->what = "argument";
		return WEFT_OK;
	}
	if (weft_type_of(a[0]) == WEFT_LIST ||
	    weft_type_of(a[0]) == WEFT_F64S) {
		it->list = a[0];
		it->n = weft_len(a[0]);
		it->what = "item";
		return WEFT_OK;
	}
	return weft_fail(ctx, "expected a list (or two or more arguments), "
			      "got a %s",
	    weft_type_name(weft_type_of(a[0])));
}

/* Item i, borrowed (an f64s item is a fresh float, which owns nothing). */
static weft_value
item_at(const items *it, size_t i)
{
	if (it->args)
		return it->args[i];
	if (weft_type_of(it->list) == WEFT_F64S)
		return weft_float(weft_f64s_data(it->list)[i]);
	return weft_list_get(it->list, i);
}

static int
item_not_number(weft_ctx *ctx, const items *it, size_t i)
{
	return weft_fail(ctx, "%s %zu is a %s, not a number", it->what, i + 1,
	    weft_type_name(weft_type_of(item_at(it, i))));
}

static int
fn_sum(weft_ctx *ctx, size_t n, const weft_value *a, weft_value *out)
{
	items it;
	int64_t si = 0;
	double sf = 0;
	int is_int = 1;
	int rc = get_items(ctx, n, a, &it);

	if (rc != WEFT_OK)
		return rc;
	for (size_t i = 0; i < it.n; i++) {
		weft_value v = item_at(&it, i);
		if (!is_number(v))
			return item_not_number(ctx, &it, i);
		if (is_int && weft_type_of(v) != WEFT_FLOAT) {
			if (!checked_add(si, weft_as_int(v), &si))
				return overflow(ctx);
			continue;
		}
		if (is_int) {
			is_int = 0;
			sf = (double)si;
		}
		sf += weft_as_float(v);
	}
	*out = is_int ? weft_int(si) : weft_float(sf);
	return WEFT_OK;
}

static int
fn_mean(weft_ctx *ctx, size_t n, const weft_value *a, weft_value *out)
{
	items it;
	double s = 0;
	int rc = get_items(ctx, n, a, &it);

	if (rc != WEFT_OK)
		return rc;
	if (it.n == 0)
		return weft_fail(ctx, "mean of an empty list");
	for (size_t i = 0; i < it.n; i++) {
		weft_value v = item_at(&it, i);
		if (!is_number(v))
			return item_not_number(ctx, &it, i);
		s += weft_as_float(v);
	}
	*out = weft_float(s / (double)it.n);
	return WEFT_OK;
}

/* min (sign -1) or max (sign 1): the first extreme item, retained. */
static int
extreme(weft_ctx *ctx, size_t n, const weft_value *a, weft_value *out,
    int sign)
{
	items it;
	size_t best = 0;
	int rc = get_items(ctx, n, a, &it);

	if (rc != WEFT_OK)
		return rc;
	if (it.n == 0)
		return weft_fail(ctx, "%s of an empty list",
		    sign < 0 ? "min" : "max");
	for (size_t i = 1; i < it.n; i++) {
		int c;
		rc = compare(ctx, item_at(&it, i), item_at(&it, best), &c);
		if (rc != WEFT_OK)
			return rc;
		if (c != 2 && c == sign)
			best = i;
	}
	/* A lone item is compared with nothing: still, it must be
	 * comparable. */
	if (it.n == 1) {
		weft_value v = item_at(&it, 0);
		if (!is_number(v) && weft_type_of(v) != WEFT_STR)
			return weft_fail(ctx, "%s 1 is a %s: only numbers and "
					      "strings are ordered",
			    it.what, weft_type_name(weft_type_of(v)));
	}
	*out = weft_value_retain(item_at(&it, best));
	return WEFT_OK;
}

static int
fn_min(weft_ctx *ctx, size_t n, const weft_value *a, weft_value *out)
{
	return extreme(ctx, n, a, out, -1);
}

static int
fn_max(weft_ctx *ctx, size_t n, const weft_value *a, weft_value *out)
{
	return extreme(ctx, n, a, out, 1);
}

static const weft__builtin builtins[] = {
	{ "inc", fn_inc, 1, 1, "x + 1" },
	{ "dec", fn_dec, 1, 1, "x - 1" },
	{ "add", fn_add, 2, 2,
	    "a + b (two strings or two lists: concatenated)" },
	{ "sub", fn_sub, 2, 2, "a - b" },
	{ "mul", fn_mul, 2, 2, "a * b" },
	{ "div", fn_div, 2, 2,
	    "a / b, true division: always a float; b = 0 fails" },
	{ "floordiv", fn_floordiv, 2, 2,
	    "a // b, rounded toward -infinity (ints stay ints)" },
	{ "mod", fn_mod, 2, 2, "a % b, with the sign of b (as in Python)" },
	{ "pow", fn_pow, 2, 2,
	    "a ** b (ints stay ints for b >= 0; overflow fails)" },
	{ "neg", fn_neg, 1, 1, "-x" },
	{ "abs", fn_abs, 1, 1, "|x|" },
	{ "eq", fn_eq, 2, 2, "a == b (1 == 1.0; lists item by item)" },
	{ "ne", fn_ne, 2, 2, "a != b" },
	{ "lt", fn_lt, 2, 2, "a < b (numbers, or strings)" },
	{ "le", fn_le, 2, 2, "a <= b" },
	{ "gt", fn_gt, 2, 2, "a > b" },
	{ "ge", fn_ge, 2, 2, "a >= b" },
	{ "not", fn_not, 1, 1, "true when x is false, 0, null or empty" },
	{ "and", fn_and, 1, WEFT_ARGS_ANY, "true when every argument is" },
	{ "or", fn_or, 1, WEFT_ARGS_ANY, "true when any argument is" },
	{ "if", fn_if, 3, 3,
	    "if(c, a, b): a when c is true, else b (all are computed)" },
	{ "sum", fn_sum, 1, WEFT_ARGS_ANY,
	    "sum of a list, or of the arguments (ints stay ints)" },
	{ "mean", fn_mean, 1, WEFT_ARGS_ANY,
	    "mean of a list or of the arguments (a float); empty fails" },
	{ "min", fn_min, 1, WEFT_ARGS_ANY,
	    "least item of a list, or argument; empty fails" },
	{ "max", fn_max, 1, WEFT_ARGS_ANY,
	    "greatest item of a list, or argument; empty fails" },
};

/* Those that take numbers only: a literal string given to one of them is
 * refused when the graph file is read (weft_func_flags). */
static const char *const numbers_only[] = { "inc", "dec", "sub", "mul",
	"div", "floordiv", "mod", "pow", "neg", "abs" };

int
weft__builtins_num(weft_registry *r)
{
	int rc = weft__register_table(
	    r, builtins, sizeof(builtins) / sizeof(builtins[0]));

	for (size_t i = 0; i < sizeof(numbers_only) / sizeof(numbers_only[0]);
	     i++) {
		const weft_func_info *f =
		    weft_registry_find(r, numbers_only[i]);
		/* Only ours: a function of that name registered before the
		 * built-ins made no such promise. */
		for (size_t b = 0; f && b < sizeof(builtins) /
			 sizeof(builtins[0]); b++)
			if (builtins[b].fn == f->fn)
				weft_registry_set_flags(
				    r, numbers_only[i], WEFT_FUNC_NUMBERS);
	}
	return rc;
}
