/* Stress: random DAGs (1 to 100,000 nodes, fan-in 0 to 64) with random
 * targets, failing nodes, persists and cancels, on pools of 1, 2, 3 and 8
 * threads, each result checked against a sequential evaluation; and many
 * callers computing, failing, canceling and timing out on one pool at once.
 * Every block allocated is freed (counted through the allocator hook).
 *
 * Runs for WEFT_STRESS_SECONDS (default 4) per test; set it to 600 for a
 * soak. WEFT_STRESS_SEED picks the seed (printed, to replay a failure). */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "testutil.h"

static _Atomic long live;

static void *
c_malloc(void *ud, size_t n)
{
	(void)ud;
	void *p = malloc(n);
	if (p)
		live++;
	return p;
}

static void *
c_realloc(void *ud, void *p, size_t n)
{
	(void)ud;
	void *q = realloc(p, n);
	if (q && !p)
		live++;
	return q;
}

static void
c_free(void *ud, void *p)
{
	(void)ud;
	if (p) {
		live--;
		free(p);
	}
}

static double
now_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static double
budget(void)
{
	const char *s = getenv("WEFT_STRESS_SECONDS");
	double v = s ? atof(s) : 4.0;
	return v > 0 ? v : 4.0;
}

static uint64_t
seed0(void)
{
	const char *s = getenv("WEFT_STRESS_SEED");
	return s ? strtoull(s, NULL, 0) : (uint64_t)time(NULL);
}

/* Node i computes mix(its inputs), except nodes marked failing, whose key
 * is "fail-<i>". Inputs are small strings sometimes, so values are heap
 * objects whose leaks the counter would see. */
static int
mixer(weft_ctx *c, size_t n, const weft_value *a, weft_value *o)
{
	(void)c;
	int64_t h = (int64_t)n;
	for (size_t i = 0; i < n; i++)
		h = tu_mix(h, weft_type_of(a[i]) == WEFT_STR
			    ? (int64_t)weft_len(a[i])
			    : weft_as_int(a[i]));
	if (h % 7 == 0) { /* a heap value now and then */
		char buf[32];
		snprintf(buf, sizeof buf, "%lld", (long long)(h % 1000));
		*o = weft_str(buf);
	} else {
		*o = weft_int(h);
	}
	return WEFT_OK;
}

static int
failer(weft_ctx *c, size_t n, const weft_value *a, weft_value *o)
{
	(void)n;
	(void)a;
	(void)o;
	return weft_fail(c, "planned failure");
}

typedef struct dag {
	size_t n;
	weft_graph *g;
	weft_node *nodes;
	int64_t *ref;	   /* sequential value (len for strings) */
	uint8_t *fails;	   /* node fails */
	uint8_t *bad;	   /* node fails or has a failing ancestor */
} dag;

static int64_t
as_ref(int64_t h)
{
	if (h % 7 == 0) {
		char buf[32];
		return (int64_t)snprintf(buf, sizeof buf, "%lld", (long long)(h % 1000));
	}
	return h;
}

static void
dag_build(dag *d, uint64_t *s, size_t n, unsigned maxfan, int with_fail)
{
	d->n = n;
	d->g = weft_graph_new();
	d->nodes = malloc(n * sizeof *d->nodes);
	d->ref = malloc(n * sizeof *d->ref);
	d->fails = calloc(n, 1);
	d->bad = calloc(n, 1);
	weft_arg *args = malloc(65 * sizeof *args);
	for (size_t i = 0; i < n; i++) {
		unsigned nin = i ? (unsigned)(tu_rand(s) % (maxfan + 1)) : 0;
		size_t k = 0;
		int64_t h;
		int bad = 0;
		/* inputs mostly from recent nodes: long paths, like pipelines */
		for (unsigned j = 0; j < nin; j++) {
			size_t back = 1 + (size_t)(tu_rand(s) % (i < 64 ? i : 64));
			size_t in = tu_rand(s) % 8 == 0 ? (size_t)(tu_rand(s) % i) : i - back;
			args[k++] = weft_ref(d->nodes[in]);
			bad |= d->bad[in];
		}
		if (k == 0)
			args[k++] = weft_lit(weft_int((int64_t)(tu_rand(s) % 1000)));
		h = (int64_t)k;
		for (size_t j = 0; j < k; j++)
			h = tu_mix(h, args[j].kind == 1
				    ? d->ref[weft_node_index(d->g, args[j].node)]
				    : weft_as_int(args[j].lit));
		d->ref[i] = as_ref(h);
		if (with_fail && tu_rand(s) % 5000 == 0) {
			char key[32];
			snprintf(key, sizeof key, "fail-%zu", i);
			d->fails[i] = 1;
			bad = 1;
			d->nodes[i] = weft_delayed_named(d->g, key, failer, k, args);
		} else {
			d->nodes[i] = weft_delayed(d->g, mixer, k, args);
		}
		d->bad[i] = (uint8_t)bad;
		assert_true(weft_node_ok(d->nodes[i]));
	}
	free(args);
}

static void
dag_free(dag *d)
{
	weft_graph_free(d->g);
	free(d->nodes);
	free(d->ref);
	free(d->fails);
	free(d->bad);
}

static int64_t
val(weft_value v)
{
	return weft_type_of(v) == WEFT_STR ? (int64_t)weft_len(v) : weft_as_int(v);
}

static void
one_round(weft_pool *pool, uint64_t *s, size_t maxn)
{
	dag d;
	size_t n = 1 + (size_t)(tu_rand(s) % maxn);
	dag_build(&d, s, n, (unsigned)(tu_rand(s) % 65), 1);
	weft_opts o = { .pool = pool, .flags = tu_rand(s) % 2 ? WEFT_NO_FUSE : 0 };
	size_t nt = 1 + (size_t)(tu_rand(s) % 16);
	weft_node t[16];
	size_t ti[16];
	int any_bad = 0;
	for (size_t j = 0; j < nt; j++) {
		ti[j] = tu_rand(s) % 4 ? n - 1 - (size_t)(tu_rand(s) % (n < 50 ? n : 50))
				       : (size_t)(tu_rand(s) % n);
		t[j] = d.nodes[ti[j]];
		any_bad |= d.bad[ti[j]];
	}
	/* sometimes persist a random good node first */
	size_t pn = (size_t)(tu_rand(s) % n);
	if (tu_rand(s) % 4 == 0 && !d.bad[pn])
		assert_int_equal(weft_persist(d.g, 1, &d.nodes[pn], &o), WEFT_OK);
	weft_value r[16];
	int mode = (int)(tu_rand(s) % 8);
	int rc;
	if (mode == 0) { /* cancel at once */
		weft_future *f = weft_compute_async(d.g, nt, t, &o);
		assert_non_null(f);
		weft_future_cancel(f);
		rc = weft_future_results(f, r);
		weft_future_free(f);
		assert_true(rc == WEFT_OK || rc == WEFT_ECANCELED || rc == WEFT_ETASK);
	} else {
		rc = weft_compute(d.g, nt, t, r, &o);
		assert_int_equal(rc, any_bad ? WEFT_ETASK : WEFT_OK);
	}
	if (rc == WEFT_OK) {
		for (size_t j = 0; j < nt; j++) {
			assert_int_equal(val(r[j]), d.ref[ti[j]]);
			weft_value_release(&r[j]);
		}
	} else if (rc == WEFT_ETASK) {
		/* the message names one of the failing nodes */
		const char *e = weft_graph_error(d.g);
		size_t k;
		assert_int_equal(sscanf(e, "task 'fail-%zu' failed: planned", &k), 1);
		assert_true(k < n && d.fails[k]);
	}
	dag_free(&d);
}

static void
test_random_graphs_many_pools(void **state)
{
	(void)state;
	weft_allocator a = { c_malloc, c_realloc, c_free, NULL };
	weft_set_allocator(&a);
	live = 0;
	uint64_t s = seed0();
	print_message("seed %llu\n", (unsigned long long)s);
	const unsigned th[4] = { 1, 2, 3, 8 };
	double end = now_s() + budget();
	long rounds = 0;
	for (int k = 0; now_s() < end || k < 4; k++) {
		weft_pool_opts po = { .threads = th[k % 4] };
		weft_pool *p = weft_pool_new(&po);
		assert_non_null(p);
		/* mostly small graphs, now and then a big one */
		for (int i = 0; i < 20; i++, rounds++)
			one_round(p, &s, i == 0 ? 100000 : 2000);
		weft_pool_free(p);
	}
	print_message("%ld random graphs\n", rounds);
	assert_int_equal(live, 0);
	weft_set_allocator(NULL);
}

/* -- many callers on one pool ------------------------------------------------ */

typedef struct caller_arg {
	weft_pool *pool;
	uint64_t seed;
	double end;
	long computes, failed, canceled, timedout;
	int wrong;
} caller_arg;

static _Atomic int release_slow;

static int
slow(weft_ctx *c, size_t n, const weft_value *a, weft_value *o)
{
	(void)c;
	(void)n;
	while (!release_slow)
		; /* held until the test lets go, never a sleep */
	*o = weft_value_retain(a[0]);
	return WEFT_OK;
}

static void *
caller(void *p)
{
	caller_arg *ca = p;
	uint64_t s = ca->seed;
	weft_opts o = { .pool = ca->pool };
	while (now_s() < ca->end) {
		dag d;
		dag_build(&d, &s, 1 + (size_t)(tu_rand(&s) % 300), 4, 1);
		size_t ti = d.n - 1;
		weft_value r;
		int mode = (int)(tu_rand(&s) % 4);
		if (mode == 0) { /* cancel mid-way */
			weft_future *f = weft_compute_async(d.g, 1, &d.nodes[ti], &o);
			weft_future_cancel(f);
			int rc = weft_future_wait(f, -1);
			if (rc == WEFT_ECANCELED)
				ca->canceled++;
			else if (rc == WEFT_OK) {
				weft_future_results(f, &r);
				ca->wrong |= val(r) != d.ref[ti];
				weft_value_release(&r);
			}
			weft_future_free(f);
		} else if (mode == 1) { /* time out on a held task */
			weft_node h = WEFT_DELAYED(d.g, slow, weft_ref(d.nodes[ti]));
			weft_future *f = weft_compute_async(d.g, 1, &h, &o);
			int rc = weft_future_wait(f, 0.001);
			if (rc == WEFT_ETIMEDOUT)
				ca->timedout++;
			weft_future_free(f); /* cancels, waits */
		} else {
			int rc = weft_compute(d.g, 1, &d.nodes[ti], &r, &o);
			if (rc == WEFT_ETASK)
				ca->failed++;
			else if (rc == WEFT_OK)
				ca->wrong |= val(r) != d.ref[ti];
			else
				ca->wrong = 1;
			ca->wrong |= (rc == WEFT_ETASK) != d.bad[ti];
			weft_value_release(&r);
		}
		ca->computes++;
		dag_free(&d);
	}
	return NULL;
}

static void *
releaser(void *p)
{
	double end = *(double *)p;
	while (now_s() < end + 0.5) {
		struct timespec ts = { 0, 2000000 };
		release_slow = 0;
		nanosleep(&ts, NULL);
		release_slow = 1; /* let held tasks go, then hold again */
		nanosleep(&ts, NULL);
	}
	release_slow = 1;
	return NULL;
}

static void
test_callers_fail_cancel_timeout(void **state)
{
	(void)state;
	weft_allocator a = { c_malloc, c_realloc, c_free, NULL };
	weft_set_allocator(&a);
	live = 0;
	weft_pool_opts po = { .threads = 3 };
	weft_pool *p = weft_pool_new(&po);
	enum { NC = 4 };
	pthread_t th[NC], rel;
	caller_arg ca[NC];
	double end = now_s() + budget();
	pthread_create(&rel, NULL, releaser, &end);
	uint64_t s = seed0();
	for (int i = 0; i < NC; i++) {
		ca[i] = (caller_arg) { p, tu_rand(&s), end, 0, 0, 0, 0, 0 };
		pthread_create(&th[i], NULL, caller, &ca[i]);
	}
	long total = 0, failed = 0, canceled = 0, timedout = 0;
	for (int i = 0; i < NC; i++) {
		pthread_join(th[i], NULL);
		assert_int_equal(ca[i].wrong, 0);
		total += ca[i].computes;
		failed += ca[i].failed;
		canceled += ca[i].canceled;
		timedout += ca[i].timedout;
	}
	pthread_join(rel, NULL);
	print_message("%ld computes: %ld failed, %ld canceled, %ld timed out\n",
	    total, failed, canceled, timedout);
	/* the pool serves the next compute, with every worker alive */
	weft_graph *g = weft_graph_new();
	weft_node x = WEFT_DELAYED(g, mixer, weft_lit(weft_int(1)));
	weft_value r;
	weft_opts o = { .pool = p };
	assert_int_equal(weft_compute(g, 1, &x, &r, &o), WEFT_OK);
	weft_value_release(&r);
	weft_graph_free(g);
	for (unsigned i = 0; i < 3; i++) {
		weft_worker_info wi;
		weft_pool_worker_info(p, i, &wi);
		assert_int_equal(wi.alive, 1);
	}
	weft_pool_free(p);
	assert_int_equal(live, 0);
	weft_set_allocator(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_random_graphs_many_pools),
		cmocka_unit_test(test_callers_fail_cancel_timeout),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
