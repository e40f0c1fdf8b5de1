/* Clean shutdown: freeing a pool while futures are pending, freeing a
 * graph while a compute of it runs (both caller errors, caught: the
 * computes are canceled and drained, their futures report WEFT_ECANCELED
 * and free cleanly), and pools that join every thread. Held tasks wait on
 * a flag the test sets, never on sleeps. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>

#include <cmocka.h>

#include "testutil.h"

static _Atomic int started, ran;

/* Runs until its compute is canceled: the test cannot go on by accident. */
static int
held(weft_ctx *c, size_t n, const weft_value *a, weft_value *o)
{
	(void)n;
	started++;
	while (!weft_ctx_canceled(c))
		;
	ran++;
	*o = weft_value_retain(a[0]);
	return WEFT_OK;
}

static int
plus1(weft_ctx *c, size_t n, const weft_value *a, weft_value *o)
{
	(void)c;
	(void)n;
	ran++;
	*o = weft_int(weft_as_int(a[0]) + 1);
	return WEFT_OK;
}

static weft_graph *
chain_after_held(weft_node *last)
{
	weft_graph *g = weft_graph_new();
	weft_node x = WEFT_DELAYED(g, held, weft_lit(weft_str("payload")));
	for (int i = 0; i < 1000; i++)
		x = WEFT_DELAYED(g, plus1, weft_ref(x));
	*last = x;
	return g;
}


static void
test_pool_freed_with_pending_future(void **state)
{
	(void)state;
	weft_pool_opts po = { .threads = 2 };
	weft_pool *p = weft_pool_new(&po);
	weft_opts o = { .pool = p };
	weft_node last;
	weft_graph *g = chain_after_held(&last);
	started = ran = 0;
	weft_future *f = weft_compute_async(g, 1, &last, &o);
	while (!started)
		;
	weft_pool_free(p); /* cancels, drains, joins; f stays valid */
	assert_int_equal(ran, 1); /* the held task finished; nothing after */
	assert_int_equal(weft_future_wait(f, 0), WEFT_ECANCELED);
	weft_value r;
	assert_int_equal(weft_future_results(f, &r), WEFT_ECANCELED);
	weft_future_free(f);
	weft_graph_free(g);
}

static void
test_graph_freed_during_compute(void **state)
{
	(void)state;
	weft_pool_opts po = { .threads = 2 };
	weft_pool *p = weft_pool_new(&po);
	weft_opts o = { .pool = p };
	weft_node last;
	weft_graph *g = chain_after_held(&last);
	started = ran = 0;
	weft_future *f = weft_compute_async(g, 1, &last, &o);
	while (!started)
		;
	weft_graph_free(g); /* the compute is canceled and detached first */
	assert_int_equal(ran, 1);
	assert_int_equal(weft_future_wait(f, -1), WEFT_ECANCELED);
	assert_string_equal(weft_future_error(f), "compute canceled");
	size_t idx;
	assert_int_equal(weft_future_next(f, -1, &idx, NULL), WEFT_ECANCELED);
	weft_future_free(f);
	/* the pool is healthy */
	weft_graph *g2 = weft_graph_new();
	weft_node x = WEFT_DELAYED(g2, plus1, weft_lit(weft_int(1)));
	weft_value r;
	assert_int_equal(weft_compute(g2, 1, &x, &r, &o), WEFT_OK);
	assert_int_equal(weft_as_int(r), 2);
	weft_graph_free(g2);
	weft_pool_free(p);
}

static void
test_many_pools_join_their_threads(void **state)
{
	(void)state;
	/* a thread leak would exhaust the process long before 300 rounds */
	for (int i = 0; i < 300; i++) {
		weft_pool_opts po = { .threads = 4, .spin_us = 1 };
		weft_pool *p = weft_pool_new(&po);
		assert_non_null(p);
		weft_graph *g = weft_graph_new();
		weft_node x = WEFT_DELAYED(g, plus1, weft_lit(weft_int(i)));
		weft_opts o = { .pool = p };
		weft_value r;
		assert_int_equal(weft_compute(g, 1, &x, &r, &o), WEFT_OK);
		weft_graph_free(g);
		weft_pool_free(p);
	}
	weft_shutdown();
	weft_shutdown(); /* twice is fine */
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pool_freed_with_pending_future),
		cmocka_unit_test(test_graph_freed_during_compute),
		cmocka_unit_test(test_many_pools_join_their_threads),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
