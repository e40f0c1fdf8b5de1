/* Out of memory everywhere in the function and spec layers: the k-th
 * allocation fails, for every k until a whole load-and-run needs no more.
 * Each attempt must end in a clean error (and, under ASan, free all it
 * took). jansson allocates on its own and is not covered. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "weft.h"
#include "weft/alloc.h"

/* Allocations left before one fails; < 0: never. */
static _Atomic long countdown = -1;

static int
should_fail(void)
{
	long c = atomic_load(&countdown);
	while (c >= 0) {
		if (atomic_compare_exchange_weak(&countdown, &c, c - 1))
			return c == 0;
	}
	return 0;
}

static void *
t_malloc(void *ud, size_t size)
{
	(void)ud;
	return should_fail() ? NULL : malloc(size);
}

static void *
t_realloc(void *ud, void *p, size_t size)
{
	(void)ud;
	return should_fail() ? NULL : realloc(p, size);
}

static void
t_free(void *ud, void *p)
{
	(void)ud;
	free(p);
}

static const char graph[] =
    "{\"graph\": {\"x\": 3, \"l\": [\"x\", [\"inc\", \"x\"], [1, 2], "
    "\"text\"], \"s\": [\"sum\", [\"list\", \"x\", [\"mul\", \"x\", 2]]], "
    "\"f\": [\"format\", \"{} and {}\", \"s\", \"l\"], "
    "\"r\": [\"range\", 5], \"a\": \"r\", "
    "\"e\": {\"fn\": \"concat\", \"args\": [\"a\", {\"lit\": [7]}]}},"
    " \"extra\": 1}";

/* One load and run; returns 1 when nothing failed. */
static int
attempt(weft_pool *pool)
{
	weft_registry *reg = weft_registry_new();
	weft_spec *s = NULL;
	weft_spec_error err;
	int rc;

	if (!reg)
		return 0;
	rc = weft_registry_add_builtins(reg);
	if (rc != WEFT_OK) {
		assert_int_equal(rc, WEFT_ENOMEM);
		weft_registry_free(reg);
		return 0;
	}
	rc = weft_spec_load_buffer(
	    graph, strlen(graph), "oom.json", reg, NULL, &s, &err);
	if (rc != WEFT_OK) {
		assert_null(s);
		if (rc != WEFT_ENOMEM)
			fail_msg("want ENOMEM, got %s: %s", weft_err_name(rc),
			    err.message);
		assert_int_equal(err.code, WEFT_ENOMEM);
		weft_registry_free(reg);
		return 0;
	}
	size_t n = weft_spec_ntargets(s);
	weft_value res[8];
	weft_opts o = { .pool = pool };
	assert_true(n <= 8);
	rc = weft_compute(weft_spec_graph(s), n, weft_spec_targets(s), res, &o);
	int ok = rc == WEFT_OK;
	if (ok) {
		FILE *f = fopen("/dev/null", "w");
		assert_non_null(f);
		for (size_t i = 0; i < n; i++) {
			if (weft_value_write(f, res[i], 0) != WEFT_OK)
				ok = 0;
			weft_value_release(&res[i]);
		}
		rc = weft_spec_write_dot(s, f, NULL);
		assert_true(rc == WEFT_OK || rc == WEFT_ENOMEM);
		ok &= rc == WEFT_OK;
		fclose(f);
	} else {
		const char *key, *msg;
		assert_true(rc == WEFT_ETASK || rc == WEFT_ENOMEM);
		weft_spec_failure(s, &key, NULL, &msg);
	}
	weft_spec_free(s);
	weft_registry_free(reg);
	return ok;
}

static void
test_every_allocation(void **state)
{
	(void)state;
	weft_allocator a = { t_malloc, t_realloc, t_free, NULL };
	assert_int_equal(weft_set_allocator(&a), WEFT_OK);
	weft_pool_opts po = { .threads = 1 };
	weft_pool *pool = weft_pool_new(&po);
	assert_non_null(pool);

	long k;
	for (k = 0; k < 100000; k++) {
		atomic_store(&countdown, k);
		int ok = attempt(pool);
		long left = atomic_exchange(&countdown, -1);
		if (ok && left >= 0)
			break; /* a whole run without reaching the failure */
	}
	printf("# %ld allocations in a load and run\n", k);
	assert_true(k > 50); /* it did go through many allocations */
	assert_true(k < 100000);
	weft_pool_free(pool);
	assert_int_equal(weft_set_allocator(NULL), WEFT_OK);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_allocation),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
