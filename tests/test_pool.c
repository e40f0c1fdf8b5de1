/* The pool: placement planned on synthetic machines (hwloc), binding
 * reported (refused on a synthetic topology, taken on this one), options,
 * and wake-ups: a pool that has gone to sleep must wake for one job, many
 * times in a row (a lost wake-up hangs the test, which meson times out). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <pthread.h>

#include <cmocka.h>

#include "testutil.h"

static void
test_synthetic_placement_round_robin(void **state)
{
	(void)state;
	/* 4 cores of 2 PUs: worker i -> core i % 4, PU (i / 4) % 2 */
	weft_pool_opts po = { .threads = 8, .bind = WEFT_BIND_PUS,
		.topology = "core:4 pu:2" };
	int err = -1;
	weft_pool *p = weft_pool_new2(&po, &err);
	assert_non_null(p);
	assert_int_equal(err, WEFT_OK);
	weft_pool_info pi;
	assert_int_equal(weft_pool_info_get(p, &pi), WEFT_OK);
	assert_int_equal(pi.threads, 8);
	assert_int_equal(pi.cores, 4);
	assert_int_equal(pi.pus, 8);
	assert_int_equal(pi.oversubscribed, 0);
	/* a synthetic machine is not this one: binding is refused, reported */
	assert_int_equal(pi.binding_refused, 1);
	assert_int_equal(pi.bound, 0);
	assert_non_null(strstr(pi.note, "running unbound"));
	for (unsigned i = 0; i < 8; i++) {
		weft_worker_info wi;
		assert_int_equal(weft_pool_worker_info(p, i, &wi), WEFT_OK);
		assert_int_equal(wi.index, i);
		assert_int_equal(wi.core, (int)(i % 4));
		/* synthetic PU os indexes are 2 * core + pu */
		assert_int_equal(wi.pu, (int)((i % 4) * 2 + (i / 4) % 2));
		assert_int_equal(wi.bound, WEFT_BOUND_NONE);
		assert_int_not_equal(wi.bind_errno, 0);
		assert_int_equal(wi.alive, 1);
	}
	weft_worker_info wi;
	assert_int_equal(weft_pool_worker_info(p, 8, &wi), WEFT_EINVAL);
	/* an unbound pool still computes */
	weft_graph *g = weft_graph_new();
	weft_node x = WEFT_DELAYED(g, NULL);
	assert_false(weft_node_ok(x));
	weft_graph_free(g);
	weft_pool_free(p);
}

static void
test_synthetic_cores_and_oversubscription(void **state)
{
	(void)state;
	weft_pool_opts po = { .threads = 5, .topology = "package:2 core:1 pu:2" };
	weft_pool *p = weft_pool_new(&po);
	assert_non_null(p);
	weft_pool_info pi;
	weft_pool_info_get(p, &pi);
	assert_int_equal(pi.cores, 2);
	assert_int_equal(pi.bind, WEFT_BIND_CORES);
	assert_int_equal(pi.oversubscribed, 1);
	for (unsigned i = 0; i < 5; i++) {
		weft_worker_info wi;
		weft_pool_worker_info(p, i, &wi);
		assert_int_equal(wi.core, (int)(i % 2));
	}
	weft_pool_free(p);

	/* no Core objects at all: PUs count as cores */
	weft_pool_opts po2 = { .threads = 3, .topology = "pu:3" };
	p = weft_pool_new(&po2);
	assert_non_null(p);
	weft_pool_info_get(p, &pi);
	assert_int_equal(pi.cores, 3);
	weft_pool_free(p);
}

static void
test_bad_options(void **state)
{
	(void)state;
	int err = 0;
	weft_pool_opts po = { .topology = "this is not a topology" };
	assert_null(weft_pool_new2(&po, &err));
	assert_int_equal(err, WEFT_EINVAL);
	weft_pool_opts po2 = { .threads = 100000 };
	assert_null(weft_pool_new2(&po2, &err));
	assert_int_equal(err, WEFT_EINVAL);
	weft_pool_opts po3 = { .bind = (weft_bind)42 };
	assert_null(weft_pool_new2(&po3, &err));
	assert_int_equal(err, WEFT_EINVAL);
	weft_pool_free(NULL);
	assert_int_equal(weft_pool_info_get(NULL, NULL), WEFT_EINVAL);
}

static void
test_this_machine(void **state)
{
	(void)state;
	weft_pool *p = weft_pool_new(NULL);
	assert_non_null(p);
	weft_pool_info pi;
	weft_pool_info_get(p, &pi);
	/* one worker per allowed core by default */
	assert_int_equal(pi.threads, pi.cores);
	assert_int_equal(weft_pool_threads(p), pi.threads);
	/* either every worker is bound, or the refusal is reported */
	for (unsigned i = 0; i < pi.threads; i++) {
		weft_worker_info wi;
		weft_pool_worker_info(p, i, &wi);
		if (wi.bound == WEFT_BOUND_NONE)
			assert_int_equal(pi.binding_refused, 1);
		else
			assert_int_equal(wi.bind_errno, 0);
	}
	assert_int_equal(pi.bound + (pi.binding_refused ? 1u : 0u) >= 1, 1);
	weft_pool_free(p);

	weft_pool_opts none = { .threads = 3, .bind = WEFT_BIND_NONE };
	p = weft_pool_new(&none);
	weft_pool_info_get(p, &pi);
	assert_int_equal(pi.bound, 0);
	assert_int_equal(pi.binding_refused, 0);
	weft_pool_free(p);
}

static int
ident(weft_ctx *c, size_t n, const weft_value *a, weft_value *o)
{
	(void)c;
	(void)n;
	*o = weft_value_retain(a[0]);
	return WEFT_OK;
}

static void
test_wake_from_sleep_many_times(void **state)
{
	(void)state;
	/* spin_us = 1: workers go to sleep almost at once between computes,
	 * so each compute has to wake a sleeping pool. */
	for (unsigned t = 1; t <= 4; t *= 2) {
		weft_pool_opts po = { .threads = t, .spin_us = 1 };
		weft_pool *p = weft_pool_new(&po);
		weft_opts o = { .pool = p };
		int rounds = (int)(3000 * tu_scale());
		for (int i = 0; i < rounds; i++) {
			weft_graph *g = weft_graph_new();
			weft_node x = WEFT_DELAYED(g, ident, weft_lit(weft_int(i)));
			if (i % 3 == 0) /* sometimes two jobs, one per worker */
				x = WEFT_DELAYED(g, ident, weft_ref(x));
			weft_value r;
			assert_int_equal(weft_compute(g, 1, &x, &r, &o), WEFT_OK);
			assert_int_equal(weft_as_int(r), i);
			weft_graph_free(g);
		}
		weft_pool_free(p);
	}
}

typedef struct {
	weft_pool *p;
	int rounds, bad;
} wake_arg;

static void *
wake_caller(void *arg)
{
	wake_arg *wa = arg;
	weft_opts o = { .pool = wa->p };
	for (int i = 0; i < wa->rounds; i++) {
		weft_graph *g = weft_graph_new();
		weft_node x = WEFT_DELAYED(g, ident, weft_lit(weft_int(i)));
		weft_value r;
		if (weft_compute(g, 1, &x, &r, &o) != WEFT_OK ||
		    weft_as_int(r) != i)
			wa->bad = 1;
		weft_graph_free(g);
	}
	return NULL;
}

static void
test_wake_with_many_callers(void **state)
{
	(void)state;
	/* Several threads inject one job at a time into a pool whose workers
	 * fall asleep at once: the window where a wake is owed to a worker
	 * that finds the job already taken. A lost wake-up hangs here (the
	 * test's timeout fails it). */
	weft_pool_opts po = { .threads = 3, .spin_us = 1 };
	weft_pool *p = weft_pool_new(&po);
	enum { NT = 4 };
	pthread_t th[NT];
	wake_arg wa[NT];
	for (int i = 0; i < NT; i++) {
		wa[i] = (wake_arg) { p, (int)(4000 * tu_scale()), 0 };
		pthread_create(&th[i], NULL, wake_caller, &wa[i]);
	}
	for (int i = 0; i < NT; i++) {
		pthread_join(th[i], NULL);
		assert_int_equal(wa[i].bad, 0);
	}
	weft_pool_free(p);
}

static void
test_idle_pool_sleeps(void **state)
{
	(void)state;
	/* An idle pool must not burn CPU: after the spin window its workers
	 * sleep. Measured as the CPU time of the process over a wall-clock
	 * window; a busy-spinning pool of 2 would use ~2x the window. */
	weft_pool_opts po = { .threads = 2, .spin_us = 100 };
	weft_pool *p = weft_pool_new(&po);
	struct timespec a, b, w0, w1;
	struct timespec nap = { 0, 20 * 1000 * 1000 };
	nanosleep(&nap, NULL); /* let the spin window pass */
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &a);
	clock_gettime(CLOCK_MONOTONIC, &w0);
	struct timespec win = { 0, 200 * 1000 * 1000 };
	nanosleep(&win, NULL);
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &b);
	clock_gettime(CLOCK_MONOTONIC, &w1);
	double cpu = (b.tv_sec - a.tv_sec) + (b.tv_nsec - a.tv_nsec) * 1e-9;
	double wall = (w1.tv_sec - w0.tv_sec) + (w1.tv_nsec - w0.tv_nsec) * 1e-9;
	/* generous: under 10% of one core while idle */
	assert_true(cpu < 0.1 * wall);
	weft_pool_free(p);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_synthetic_placement_round_robin),
		cmocka_unit_test(test_synthetic_cores_and_oversubscription),
		cmocka_unit_test(test_bad_options),
		cmocka_unit_test(test_this_machine),
		cmocka_unit_test(test_wake_from_sleep_many_times),
		cmocka_unit_test(test_wake_with_many_callers),
		cmocka_unit_test(test_idle_pool_sleeps),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
