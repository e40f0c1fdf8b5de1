/* Futures: waiting with timeouts, cancellation, as-completed order, and
 * several computes at once on one pool. Tasks that must stay running block
 * on a gate the test opens, never on sleeps. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "testutil.h"

/* A gate: tasks wait until the test opens it. */
static pthread_mutex_t gate_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gate_cv = PTHREAD_COND_INITIALIZER;
static int gate_open;
static _Atomic int gate_waiting, ran;

static void
gate_set(int open)
{
	pthread_mutex_lock(&gate_mu);
	gate_open = open;
	pthread_cond_broadcast(&gate_cv);
	pthread_mutex_unlock(&gate_mu);
}

static int
gated(weft_ctx *c, size_t n, const weft_value *a, weft_value *o)
{
	(void)c;
	(void)n;
	pthread_mutex_lock(&gate_mu);
	gate_waiting++;
	while (!gate_open)
		pthread_cond_wait(&gate_cv, &gate_mu);
	gate_waiting--;
	pthread_mutex_unlock(&gate_mu);
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

static int
sum2(weft_ctx *c, size_t n, const weft_value *a, weft_value *o)
{
	(void)c;
	(void)n;
	ran++;
	*o = weft_int(weft_as_int(a[0]) + weft_as_int(a[1]));
	return WEFT_OK;
}

static void
test_wait_timeout_then_finish(void **state)
{
	(void)state;
	weft_pool_opts po = { .threads = 2 };
	weft_pool *p = weft_pool_new(&po);
	weft_opts o = { .pool = p };
	weft_graph *g = weft_graph_new();
	gate_set(0);
	weft_node x = WEFT_DELAYED(g, gated, weft_lit(weft_int(41)));
	weft_node y = WEFT_DELAYED(g, plus1, weft_ref(x));
	weft_future *f = weft_compute_async(g, 1, &y, &o);
	assert_non_null(f);
	assert_int_equal(weft_future_wait(f, 0), WEFT_ETIMEDOUT);
	assert_int_equal(weft_future_wait(f, 0.01), WEFT_ETIMEDOUT);
	size_t idx;
	assert_int_equal(weft_future_next(f, 0.01, &idx, NULL), WEFT_ETIMEDOUT);
	gate_set(1);
	assert_int_equal(weft_future_wait(f, -1), WEFT_OK);
	weft_value r;
	assert_int_equal(weft_future_results(f, &r), WEFT_OK);
	assert_int_equal(weft_as_int(r), 42);
	/* results may be asked for again */
	assert_int_equal(weft_future_results(f, &r), WEFT_OK);
	assert_int_equal(weft_as_int(r), 42);
	assert_string_equal(weft_future_error(f), "");
	weft_future_free(f);
	weft_graph_free(g);
	weft_pool_free(p);
}

static void
test_cancel(void **state)
{
	(void)state;
	weft_pool_opts po = { .threads = 2 };
	weft_pool *p = weft_pool_new(&po);
	weft_opts o = { .pool = p };
	weft_graph *g = weft_graph_new();
	gate_set(0);
	ran = 0;
	/* two gated roots keep both workers busy; 100 nodes wait behind */
	weft_node a = WEFT_DELAYED(g, gated, weft_lit(weft_int(1)));
	weft_node b = WEFT_DELAYED(g, gated, weft_lit(weft_int(2)));
	weft_node x = a;
	for (int i = 0; i < 100; i++)
		x = WEFT_DELAYED(g, sum2, weft_ref(x), weft_ref(b));
	weft_future *f = weft_compute_async(g, 1, &x, &o);
	while (gate_waiting < 2)
		; /* both tasks have started */
	weft_future_cancel(f);
	gate_set(1);
	assert_int_equal(weft_future_wait(f, -1), WEFT_ECANCELED);
	assert_int_equal(ran, 2); /* the running ones finished; nothing new */
	weft_value r = weft_int(5);
	assert_int_equal(weft_future_results(f, &r), WEFT_ECANCELED);
	assert_true(weft_is_nil(r));
	assert_string_equal(weft_future_error(f), "compute canceled");
	weft_future_free(f);
	/* the graph and pool are fine afterwards */
	assert_int_equal(weft_compute(g, 1, &x, &r, &o), WEFT_OK);
	assert_int_equal(weft_as_int(r), 1 + 100 * 2);
	weft_graph_free(g);
	weft_pool_free(p);
}

static void
test_free_running_future_cancels(void **state)
{
	(void)state;
	weft_pool_opts po = { .threads = 1 };
	weft_pool *p = weft_pool_new(&po);
	weft_opts o = { .pool = p };
	weft_graph *g = weft_graph_new();
	gate_set(0);
	ran = 0;
	weft_node a = WEFT_DELAYED(g, gated, weft_lit(weft_int(1)));
	weft_node x = WEFT_DELAYED(g, plus1, weft_ref(a));
	weft_future *f = weft_compute_async(g, 1, &x, &o);
	while (gate_waiting < 1)
		;
	gate_set(1);
	weft_future_free(f); /* cancels what has not started, waits */
	assert_true(ran <= 2);
	weft_graph_free(g);
	weft_pool_free(p);
}

static void
test_as_completed_order(void **state)
{
	(void)state;
	weft_pool_opts po = { .threads = 2 };
	weft_pool *p = weft_pool_new(&po);
	weft_opts o = { .pool = p };
	weft_graph *g = weft_graph_new();
	gate_set(0);
	/* target 0 waits on the gate; targets 1..3 finish first */
	weft_node t[5];
	t[0] = WEFT_DELAYED(g, gated, weft_lit(weft_int(100)));
	for (int i = 1; i < 4; i++)
		t[i] = WEFT_DELAYED(g, plus1, weft_lit(weft_int(i)));
	t[4] = t[2]; /* listed twice: both places are given */
	weft_future *f = weft_compute_async(g, 5, t, &o);
	int seen[5] = { 0 };
	size_t idx;
	weft_value v;
	for (int k = 0; k < 4; k++) {
		assert_int_equal(weft_future_next(f, -1, &idx, &v), WEFT_OK);
		assert_true(idx >= 1 && idx <= 4);
		assert_int_equal(weft_as_int(v), (idx == 4 ? 2 : (int64_t)idx) + 1);
		seen[idx]++;
	}
	assert_int_equal(weft_future_next(f, 0.01, &idx, &v), WEFT_ETIMEDOUT);
	gate_set(1);
	assert_int_equal(weft_future_next(f, -1, &idx, &v), WEFT_OK);
	assert_int_equal(idx, 0);
	assert_int_equal(weft_as_int(v), 100);
	seen[0]++;
	assert_int_equal(weft_future_next(f, -1, &idx, &v), WEFT_ENOTFOUND);
	for (int i = 0; i < 5; i++)
		assert_int_equal(seen[i], 1);
	weft_future_free(f);
	weft_graph_free(g);
	weft_pool_free(p);
}

static int
fail_it(weft_ctx *c, size_t n, const weft_value *a, weft_value *o)
{
	(void)n;
	(void)a;
	(void)o;
	return weft_fail(c, "nope");
}

static void
test_as_completed_failure(void **state)
{
	(void)state;
	weft_graph *g = weft_graph_new();
	weft_node t[2];
	t[0] = WEFT_DELAYED(g, plus1, weft_lit(weft_int(1)));
	t[1] = WEFT_DELAYED_NAMED(g, "bad", fail_it);
	weft_future *f = weft_compute_async(g, 2, t, NULL);
	size_t idx;
	weft_value v;
	int rc, got = 0;
	while ((rc = weft_future_next(f, -1, &idx, &v)) == WEFT_OK) {
		/* a target that finished before the failure may come */
		assert_int_equal(idx, 0);
		assert_int_equal(weft_as_int(v), 2);
		got++;
	}
	assert_int_equal(rc, WEFT_ETASK);
	assert_true(got <= 1);
	assert_string_equal(weft_future_error(f), "task 'bad' failed: nope");
	weft_future_free(f);
	weft_graph_free(g);
}

typedef struct {
	weft_pool *pool;
	int seed;
	int ok;
} worker_arg;

static void *
caller(void *p)
{
	worker_arg *wa = p;
	weft_opts o = { .pool = wa->pool };
	wa->ok = 1;
	for (int round = 0; round < 50; round++) {
		weft_graph *g = weft_graph_new();
		weft_node x = WEFT_DELAYED(g, plus1, weft_lit(weft_int(wa->seed)));
		for (int i = 0; i < 200; i++)
			x = WEFT_DELAYED(g, plus1, weft_ref(x));
		weft_future *f = weft_compute_async(g, 1, &x, &o);
		weft_value r;
		if (weft_future_results(f, &r) != WEFT_OK ||
		    weft_as_int(r) != wa->seed + 201)
			wa->ok = 0;
		weft_future_free(f);
		weft_graph_free(g);
	}
	return NULL;
}

static void
test_concurrent_computes_one_pool(void **state)
{
	(void)state;
	weft_pool_opts po = { .threads = 2 };
	weft_pool *p = weft_pool_new(&po);
	pthread_t th[4];
	worker_arg wa[4];
	for (int i = 0; i < 4; i++) {
		wa[i] = (worker_arg) { p, i * 1000, 0 };
		pthread_create(&th[i], NULL, caller, &wa[i]);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		assert_int_equal(wa[i].ok, 1);
	}
	weft_pool_info pi;
	weft_pool_info_get(p, &pi);
	for (unsigned i = 0; i < pi.threads; i++) {
		weft_worker_info wi;
		weft_pool_worker_info(p, i, &wi);
		assert_int_equal(wi.alive, 1);
	}
	weft_pool_free(p);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_wait_timeout_then_finish),
		cmocka_unit_test(test_cancel),
		cmocka_unit_test(test_free_running_future_cancels),
		cmocka_unit_test(test_as_completed_order),
		cmocka_unit_test(test_as_completed_failure),
		cmocka_unit_test(test_concurrent_computes_one_pool),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	weft_shutdown();
	return rc;
}
