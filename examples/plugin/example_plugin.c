/*
 * An example weft plugin: number-theory functions for graph files.
 *
 *   $ weft funcs --plugin build/examples/plugin/weft_example_plugin.so
 *   $ weft run examples/plugin/primes.json \
 *         --plugin build/examples/plugin/weft_example_plugin.so
 *
 * A plugin is a shared library that exports weft_plugin_init(), which
 * registers functions by name with their arity and a line of help. The
 * functions are ordinary weft task functions: they borrow their arguments,
 * store an owned result in *out, and report errors with weft_fail().
 */
#include <stdint.h>

#include "weft.h"

static int
want_count(weft_ctx *ctx, weft_value v, int64_t max, int64_t *out)
{
	if (weft_type_of(v) != WEFT_INT)
		return weft_fail(ctx, "expected an int, got a %s",
		    weft_type_name(weft_type_of(v)));
	if (weft_as_int(v) < 0 || weft_as_int(v) > max)
		return weft_fail(ctx, "%lld is out of range [0, %lld]",
		    (long long)weft_as_int(v), (long long)max);
	*out = weft_as_int(v);
	return WEFT_OK;
}

/* is_prime(n): trial division, on purpose: it is CPU work to spread. */
static int
is_prime(weft_ctx *ctx, size_t n, const weft_value *a, weft_value *out)
{
	int64_t v;
	int rc = want_count(ctx, a[0], INT64_MAX, &v);

	(void)n;
	if (rc != WEFT_OK)
		return rc;
	int prime = v >= 2;
	for (int64_t d = 2; prime && d <= v / d; d++)
		prime = v % d != 0;
	*out = weft_bool(prime);
	return WEFT_OK;
}

/* count_primes(lo, hi): primes in [lo, hi). */
static int
count_primes(weft_ctx *ctx, size_t n, const weft_value *a, weft_value *out)
{
	int64_t lo, hi, count = 0;
	int rc = want_count(ctx, a[0], (int64_t)1 << 40, &lo);

	(void)n;
	if (rc == WEFT_OK)
		rc = want_count(ctx, a[1], (int64_t)1 << 40, &hi);
	if (rc != WEFT_OK)
		return rc;
	for (int64_t v = lo < 2 ? 2 : lo; v < hi; v++) {
		int prime = 1;
		for (int64_t d = 2; prime && d <= v / d; d++)
			prime = v % d != 0;
		count += prime;
	}
	*out = weft_int(count);
	return WEFT_OK;
}

/* collatz(n): steps of the 3n+1 walk from n down to 1. */
static int
collatz(weft_ctx *ctx, size_t n, const weft_value *a, weft_value *out)
{
	int64_t v, steps = 0;
	int rc = want_count(ctx, a[0], (int64_t)1 << 40, &v);

	(void)n;
	if (rc != WEFT_OK)
		return rc;
	if (v == 0)
		return weft_fail(ctx, "collatz(0) never reaches 1");
	for (; v != 1; steps++)
		v = v % 2 ? 3 * v + 1 : v / 2;
	*out = weft_int(steps);
	return WEFT_OK;
}

WEFT_PLUGIN_EXPORT int weft_plugin_init(weft_registry *reg);

WEFT_PLUGIN_EXPORT int
weft_plugin_init(weft_registry *reg)
{
	int rc = weft_registry_add(reg, "is_prime", is_prime, 1, 1,
	    "true when n is a prime (trial division)");
	if (rc == WEFT_OK)
		rc = weft_registry_add(reg, "count_primes", count_primes, 2, 2,
		    "count_primes(lo, hi): primes in [lo, hi)");
	if (rc == WEFT_OK)
		rc = weft_registry_add(reg, "collatz", collatz, 1, 1,
		    "steps of the 3n+1 walk from n to 1");
	return rc;
}
