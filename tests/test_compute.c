/* weft_compute: results, cull, shared nodes, errors, freeing of
 * intermediates, recompute, nested computes, and random DAGs checked
 * against a sequential evaluation on pools of 1, 2 and 8 threads. */
#include <setjmp.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "testutil.h"

static weft_pool *pools[3];
static const unsigned pool_threads[3] = { 1, 2, 8 };
static _Atomic int calls;

static int
square(weft_ctx *c, size_t n, const weft_value *a, weft_value *o)
{
	(void)c;
	(void)n;
	calls++;
	*o = weft_int(weft_as_int(a[0]) * weft_as_int(a[0]));
	return WEFT_OK;
}

static int
add_all(weft_ctx *c, size_t n, const weft_value *a, weft_value *o)
{
	(void)c;
	calls++;
	int64_t s = 0;
	for (size_t i = 0; i < n; i++)
		s += weft_as_int(a[i]);
	*o = weft_int(s);
	return WEFT_OK;
}

static int
mix_all(weft_ctx *c, size_t n, const weft_value *a, weft_value *o)
{
	(void)c;
	int64_t h = (int64_t)n;
	for (size_t i = 0; i < n; i++)
		h = tu_mix(h, weft_as_int(a[i]));
	*o = weft_int(h);
	return WEFT_OK;
}

static int
divide(weft_ctx *c, size_t n, const weft_value *a, weft_value *o)
{
	(void)n;
	calls++;
	if (weft_as_int(a[1]) == 0)
		return weft_fail(c, "division by zero");
	*o = weft_int(weft_as_int(a[0]) / weft_as_int(a[1]));
	return WEFT_OK;
}

static int
plain_error(weft_ctx *c, size_t n, const weft_value *a, weft_value *o)
{
	(void)c;
	(void)n;
	(void)a;
	*o = weft_str("leaks unless released on error");
	return WEFT_ENOMEM;
}

static int
concat(weft_ctx *c, size_t n, const weft_value *a, weft_value *o)
{
	(void)c;
	char buf[256] = "";
	for (size_t i = 0; i < n; i++)
		strncat(buf, weft_as_str(a[i]) ? weft_as_str(a[i]) : "?",
		    sizeof buf - strlen(buf) - 1);
	*o = weft_str(buf);
	return WEFT_OK;
}

static int
setup(void **state)
{
	(void)state;
	for (int i = 0; i < 3; i++) {
		weft_pool_opts po = { .threads = pool_threads[i] };
		pools[i] = weft_pool_new(&po);
		if (!pools[i])
			return -1;
	}
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	for (int i = 0; i < 3; i++)
		weft_pool_free(pools[i]);
	weft_shutdown();
	return 0;
}

static void
test_square(void **state)
{
	(void)state;
	for (int p = 0; p < 3; p++) {
		weft_graph *g = weft_graph_new();
		weft_node t[5];
		for (int i = 0; i < 5; i++)
			t[i] = WEFT_DELAYED(g, square, weft_lit(weft_int(i + 1)));
		weft_value r[5];
		weft_opts o = { .pool = pools[p] };
		assert_int_equal(weft_compute(g, 5, t, r, &o), WEFT_OK);
		for (int i = 0; i < 5; i++) {
			assert_int_equal(weft_type_of(r[i]), WEFT_INT);
			assert_int_equal(weft_as_int(r[i]), (i + 1) * (i + 1));
		}
		weft_graph_free(g);
	}
}

static void
test_default_pool_and_null_opts(void **state)
{
	(void)state;
	weft_graph *g = weft_graph_new();
	weft_node x = WEFT_DELAYED(g, square, weft_lit(weft_int(12)));
	weft_value r;
	assert_int_equal(weft_compute(g, 1, &x, &r, NULL), WEFT_OK);
	assert_int_equal(weft_as_int(r), 144);
	assert_non_null(weft_default_pool());
	assert_true(weft_default_pool() == weft_default_pool());
	weft_graph_free(g);
}

static void
test_diamond_runs_shared_node_once(void **state)
{
	(void)state;
	for (int p = 0; p < 3; p++) {
		weft_graph *g = weft_graph_new();
		calls = 0;
		weft_node a = WEFT_DELAYED(g, square, weft_lit(weft_int(3)));
		weft_node b = WEFT_DELAYED(g, add_all, weft_ref(a), weft_lit(weft_int(1)));
		weft_node c = WEFT_DELAYED(g, add_all, weft_ref(a), weft_lit(weft_int(2)));
		weft_node d = WEFT_DELAYED(g, add_all, weft_ref(b), weft_ref(c), weft_ref(a));
		weft_value r[2];
		weft_node t[2] = { d, a };
		weft_opts o = { .pool = pools[p] };
		assert_int_equal(weft_compute(g, 2, t, r, &o), WEFT_OK);
		assert_int_equal(weft_as_int(r[0]), 10 + 11 + 9);
		assert_int_equal(weft_as_int(r[1]), 9);
		assert_int_equal(calls, 4);
		weft_graph_free(g);
	}
}

static void
test_cull_runs_only_ancestors(void **state)
{
	(void)state;
	weft_graph *g = weft_graph_new();
	calls = 0;
	weft_node a = WEFT_DELAYED(g, square, weft_lit(weft_int(2)));
	weft_node unused = WEFT_DELAYED(g, square, weft_ref(a));
	weft_node b = WEFT_DELAYED(g, square, weft_ref(a));
	WEFT_DELAYED(g, square, weft_ref(unused));
	weft_value r;
	weft_opts o = { .pool = pools[1] };
	assert_int_equal(weft_compute(g, 1, &b, &r, &o), WEFT_OK);
	assert_int_equal(weft_as_int(r), 16);
	assert_int_equal(calls, 2);
	/* the same graph again, other targets */
	calls = 0;
	assert_int_equal(weft_compute(g, 1, &unused, &r, &o), WEFT_OK);
	assert_int_equal(weft_as_int(r), 16);
	assert_int_equal(calls, 2);
	/* the same target twice: two owned references */
	weft_node t2[2] = { a, a };
	weft_value r2[2];
	assert_int_equal(weft_compute(g, 2, t2, r2, &o), WEFT_OK);
	assert_int_equal(weft_as_int(r2[0]), 4);
	assert_int_equal(weft_as_int(r2[1]), 4);
	weft_graph_free(g);
}

static void
test_strings(void **state)
{
	(void)state;
	weft_graph *g = weft_graph_new();
	weft_node a = WEFT_DELAYED(g, concat, weft_lit(weft_str("hello")),
	    weft_lit(weft_str(", ")));
	weft_node b = WEFT_DELAYED(g, concat, weft_ref(a), weft_lit(weft_str("world")));
	weft_value r[2];
	weft_node t[2] = { b, a };
	assert_int_equal(weft_compute(g, 2, t, r, NULL), WEFT_OK);
	assert_string_equal(weft_as_str(r[0]), "hello, world");
	assert_string_equal(weft_as_str(r[1]), "hello, ");
	weft_value_release(&r[0]);
	weft_value_release(&r[1]);
	weft_graph_free(g);
}

static void
test_failure_skips_dependents_and_pool_survives(void **state)
{
	(void)state;
	for (int p = 0; p < 3; p++) {
		weft_graph *g = weft_graph_new();
		weft_opts o = { .pool = pools[p] };
		weft_node ten = WEFT_DELAYED(g, square, weft_lit(weft_int(10)));
		weft_node bad = WEFT_DELAYED_NAMED(g, "bad-div", divide,
		    weft_ref(ten), weft_lit(weft_int(0)));
		weft_node dep = WEFT_DELAYED(g, square, weft_ref(bad));
		weft_node dep2 = WEFT_DELAYED(g, add_all, weft_ref(dep), weft_ref(ten));
		calls = 0;
		weft_value r[2] = { weft_int(7), weft_int(7) };
		weft_node t[2] = { dep2, ten };
		assert_int_equal(weft_compute(g, 2, t, r, &o), WEFT_ETASK);
		assert_string_equal(weft_graph_error(g),
		    "task 'bad-div' failed: division by zero");
		assert_int_equal(weft_graph_errcode(g), WEFT_ETASK);
		assert_true(weft_is_nil(r[0]) && weft_is_nil(r[1]));
		assert_int_equal(calls, 2); /* ten and bad-div; no dependent */
		/* the graph and the pool are fine for the next compute */
		weft_node ok = WEFT_DELAYED(g, divide, weft_ref(ten), weft_lit(weft_int(4)));
		assert_int_equal(weft_compute(g, 1, &ok, r, &o), WEFT_OK);
		assert_int_equal(weft_as_int(r[0]), 25);
		weft_graph_free(g);
	}
}

static void
test_plain_error_code_and_default_key(void **state)
{
	(void)state;
	weft_graph *g = weft_graph_new();
	WEFT_DELAYED(g, square, weft_lit(weft_int(1)));
	weft_node e = WEFT_DELAYED(g, plain_error);
	weft_value r;
	assert_int_equal(weft_compute(g, 1, &e, &r, NULL), WEFT_ETASK);
	assert_string_equal(weft_graph_error(g),
	    "task 'node-1' failed: out of memory (WEFT_ENOMEM)");
	char buf[32];
	assert_string_equal(weft_node_key(g, e, buf, sizeof buf), "node-1");
	weft_graph_free(g);
}

static _Atomic int live, peak, freed;

static void
obj_free(void *p)
{
	free(p);
	live--;
	freed++;
}

static int
make_obj(weft_ctx *c, size_t n, const weft_value *a, weft_value *o)
{
	(void)c;
	(void)n;
	(void)a;
	int now = ++live;
	int pk = peak;
	while (now > pk && !atomic_compare_exchange_weak(&peak, &pk, now))
		;
	*o = weft_ptr(malloc(16), obj_free);
	return WEFT_OK;
}

static void
test_intermediates_freed_during_compute(void **state)
{
	(void)state;
	for (int p = 0; p < 3; p++) {
		weft_graph *g = weft_graph_new();
		live = peak = freed = 0;
		weft_node x = WEFT_DELAYED(g, make_obj);
		for (int i = 0; i < 1000; i++)
			x = WEFT_DELAYED(g, make_obj, weft_ref(x));
		weft_value r;
		weft_opts o = { .pool = pools[p] };
		assert_int_equal(weft_compute(g, 1, &x, &r, &o), WEFT_OK);
		/* a chain holds at most its input and its own result */
		assert_true(peak <= 2);
		assert_int_equal(freed, 1000);
		assert_int_equal(live, 1);
		weft_value_release(&r);
		assert_int_equal(live, 0);
		/* on failure too, every intermediate is released */
		weft_node bad = WEFT_DELAYED(g, divide, weft_lit(weft_int(1)),
		    weft_lit(weft_int(0)));
		weft_node y = WEFT_DELAYED(g, add_all, weft_ref(x), weft_ref(bad));
		live = 0;
		assert_int_equal(weft_compute(g, 1, &y, &r, &o), WEFT_ETASK);
		assert_int_equal(live, 0);
		weft_graph_free(g);
	}
}

static void
test_wide_fan_in(void **state)
{
	(void)state;
	enum { N = 10000 };
	weft_graph *g = weft_graph_new();
	weft_arg *args = malloc(N * sizeof *args);
	for (int i = 0; i < N; i++)
		args[i] = weft_ref(
		    WEFT_DELAYED(g, square, weft_lit(weft_int(i))));
	weft_node s = weft_delayed(g, add_all, N, args);
	assert_true(weft_node_ok(s));
	int64_t want = 0;
	for (int64_t i = 0; i < N; i++)
		want += i * i;
	for (int p = 0; p < 3; p++) {
		weft_value r;
		weft_opts o = { .pool = pools[p] };
		assert_int_equal(weft_compute(g, 1, &s, &r, &o), WEFT_OK);
		assert_int_equal(weft_as_int(r), want);
	}
	free(args);
	weft_graph_free(g);
}

static void
test_long_chain_no_recursion(void **state)
{
	(void)state;
	size_t n = 1000000;
	weft_graph *g = weft_graph_new();
	weft_node x = WEFT_DELAYED(g, add_all, weft_lit(weft_int(0)));
	for (size_t i = 1; i < n; i++)
		x = WEFT_DELAYED(g, add_all, weft_ref(x), weft_lit(weft_int(1)));
	assert_true(weft_node_ok(x));
	weft_value r;
	weft_opts o = { .pool = pools[1] };
	assert_int_equal(weft_compute(g, 1, &x, &r, &o), WEFT_OK);
	assert_int_equal(weft_as_int(r), (int64_t)n - 1);
	weft_graph_free(g);
}

static weft_pool *nested_pool;

static int
nested(weft_ctx *c, size_t n, const weft_value *a, weft_value *o)
{
	(void)n;
	/* a compute inside a task, on the same pool: the worker must keep
	 * running work while it waits, or a 1-thread pool deadlocks */
	weft_graph *g = weft_graph_new();
	weft_node x = WEFT_DELAYED(g, square, weft_lit(weft_value_retain(a[0])));
	for (int i = 0; i < 50; i++)
		x = WEFT_DELAYED(g, add_all, weft_ref(x), weft_lit(weft_int(1)));
	weft_opts opts = { .pool = nested_pool };
	int rc = weft_compute(g, 1, &x, o, &opts);
	if (rc != WEFT_OK)
		rc = weft_fail(c, "nested: %s", weft_graph_error(g));
	weft_graph_free(g);
	return rc;
}

static void
test_nested_compute(void **state)
{
	(void)state;
	for (int p = 0; p < 3; p++) {
		nested_pool = pools[p];
		weft_graph *g = weft_graph_new();
		weft_arg args[20];
		for (int i = 0; i < 20; i++)
			args[i] = weft_ref(
			    WEFT_DELAYED(g, nested, weft_lit(weft_int(i))));
		weft_node s = weft_delayed(g, add_all, 20, args);
		weft_value r;
		weft_opts o = { .pool = pools[p] };
		assert_int_equal(weft_compute(g, 1, &s, &r, &o), WEFT_OK);
		int64_t want = 0;
		for (int i = 0; i < 20; i++)
			want += i * i + 50;
		assert_int_equal(weft_as_int(r), want);
		weft_graph_free(g);
	}
}

/* A random DAG: node i has 0..maxfan inputs among nodes < i and 0..2
 * literals, and mixes them in order. The sequential reference evaluates
 * the same formula in index order. */
static void
random_dag_round(weft_pool *pool, uint64_t seed, size_t n, unsigned maxfan)
{
	uint64_t s = seed;
	weft_graph *g = weft_graph_new();
	int64_t *ref = malloc(n * sizeof *ref);
	weft_node *nodes = malloc(n * sizeof *nodes);
	weft_arg args[80];
	for (size_t i = 0; i < n; i++) {
		unsigned nin = i ? (unsigned)(tu_rand(&s) % (maxfan + 1)) : 0;
		unsigned nlit = (unsigned)(tu_rand(&s) % 3);
		size_t k = 0;
		int64_t h = 0;
		for (unsigned j = 0; j < nin + nlit; j++) {
			if (j < nin) {
				size_t in = (size_t)(tu_rand(&s) % i);
				args[k++] = weft_ref(nodes[in]);
				h = tu_mix(h, ref[in]);
			} else {
				int64_t v = (int64_t)(tu_rand(&s) % 1000);
				args[k++] = weft_lit(weft_int(v));
				h = tu_mix(h, v);
			}
		}
		/* mix_all starts from nargs */
		int64_t hh = (int64_t)k;
		size_t idx = 0;
		for (unsigned j = 0; j < nin + nlit; j++) {
			int64_t v = args[idx].kind == 1
			    ? ref[weft_node_index(g, args[idx].node)]
			    : weft_as_int(args[idx].lit);
			hh = tu_mix(hh, v);
			idx++;
		}
		(void)h;
		ref[i] = hh;
		nodes[i] = weft_delayed(g, mix_all, k, args);
		assert_true(weft_node_ok(nodes[i]));
	}
	/* random targets, sometimes repeated */
	size_t nt = 1 + (size_t)(tu_rand(&s) % 8);
	weft_node t[8];
	weft_value r[8];
	size_t ti[8];
	for (size_t j = 0; j < nt; j++) {
		ti[j] = (size_t)(tu_rand(&s) % n);
		t[j] = nodes[ti[j]];
	}
	weft_opts o = { .pool = pool };
	assert_int_equal(weft_compute(g, nt, t, r, &o), WEFT_OK);
	for (size_t j = 0; j < nt; j++)
		assert_int_equal(weft_as_int(r[j]), ref[ti[j]]);
	free(ref);
	free(nodes);
	weft_graph_free(g);
}

static void
test_random_dags(void **state)
{
	(void)state;
	int rounds = (int)(600 * tu_scale());
	if (rounds < 20)
		rounds = 20;
	for (int p = 0; p < 3; p++) {
		uint64_t s = 42 + (uint64_t)p;
		for (int i = 0; i < rounds; i++) {
			size_t n = 1 + (size_t)(tu_rand(&s) % 3000);
			unsigned fan = (unsigned)(tu_rand(&s) % 9);
			random_dag_round(pools[p], tu_rand(&s), n, fan);
		}
	}
}

/* Grows a chain in g to n nodes: node i = add_all(node i-1, i). */
static weft_node
chain_to(weft_graph *g, weft_node last, size_t from, size_t n)
{
	for (size_t i = from; i < n; i++) {
		weft_arg a[2];
		size_t k = 0;
		if (i)
			a[k++] = weft_ref(last);
		a[k++] = weft_lit(weft_int((int64_t)i));
		last = weft_delayed(g, add_all, k, a);
		assert_true(weft_node_ok(last));
	}
	return last;
}

/* Big arrays of graphs and computes go through a cache of freed blocks
 * (src/base/alloc.c): graphs built after others were freed, and a graph
 * that grows into the blocks of one freed meanwhile (its content copied
 * over), compute what a sequential evaluation gives. Sizes are past the
 * cache's 1 MiB floor. */
static void
test_big_graphs_reuse_memory(void **state)
{
	(void)state;
	uint64_t s = 7;
	int rounds = tu_scale() < 1 ? 4 : 10;
	for (int i = 0; i < rounds; i++) {
		size_t n = 60000 + (size_t)(tu_rand(&s) % 200000);
		random_dag_round(pools[i % 3], tu_rand(&s), n, 4);
	}
	for (int p = 0; p < 3; p++) {
		weft_graph *a = weft_graph_new(), *b = weft_graph_new();
		weft_node la = chain_to(a, (weft_node){ 0 }, 0, 70000);
		weft_node lb = chain_to(b, (weft_node){ 0 }, 0, 300000);
		weft_value r;
		weft_opts o = { .pool = pools[p] };
		assert_int_equal(weft_compute(b, 1, &lb, &r, &o), WEFT_OK);
		assert_int_equal(weft_as_int(r), 300000LL * 299999 / 2);
		weft_graph_free(b);
		la = chain_to(a, la, 70000, 400000);
		assert_int_equal(weft_compute(a, 1, &la, &r, &o), WEFT_OK);
		assert_int_equal(weft_as_int(r), 400000LL * 399999 / 2);
		weft_graph_free(a);
	}
}

static void
test_bad_arguments(void **state)
{
	(void)state;
	weft_graph *g = weft_graph_new();
	weft_graph *h = weft_graph_new();
	weft_node a = WEFT_DELAYED(g, square, weft_lit(weft_int(2)));
	weft_node other = WEFT_DELAYED(h, square, weft_lit(weft_int(2)));
	weft_value r[2];
	assert_int_equal(weft_compute(g, 1, &other, r, NULL), WEFT_EINVAL);
	assert_non_null(strstr(weft_graph_error(g), "not a node of this graph"));
	weft_node none = WEFT_NODE_NONE;
	assert_int_equal(weft_compute(g, 1, &none, r, NULL), WEFT_EINVAL);
	assert_int_equal(weft_compute(g, 1, &a, NULL, NULL), WEFT_EINVAL);
	assert_int_equal(weft_compute(g, 1, NULL, r, NULL), WEFT_EINVAL);
	assert_int_equal(weft_compute(NULL, 1, &a, r, NULL), WEFT_EINVAL);
	weft_opts bad = { .flags = 0x80 };
	assert_int_equal(weft_compute(g, 1, &a, r, &bad), WEFT_EINVAL);
	assert_int_equal(weft_compute(g, 0, NULL, NULL, NULL), WEFT_OK);
	/* still fine */
	assert_int_equal(weft_compute(g, 1, &a, r, NULL), WEFT_OK);
	assert_int_equal(weft_as_int(r[0]), 4);
	weft_graph_free(g);
	weft_graph_free(h);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_square),
		cmocka_unit_test(test_default_pool_and_null_opts),
		cmocka_unit_test(test_diamond_runs_shared_node_once),
		cmocka_unit_test(test_cull_runs_only_ancestors),
		cmocka_unit_test(test_strings),
		cmocka_unit_test(test_failure_skips_dependents_and_pool_survives),
		cmocka_unit_test(test_plain_error_code_and_default_key),
		cmocka_unit_test(test_intermediates_freed_during_compute),
		cmocka_unit_test(test_wide_fan_in),
		cmocka_unit_test(test_long_chain_no_recursion),
		cmocka_unit_test(test_nested_compute),
		cmocka_unit_test(test_random_dags),
		cmocka_unit_test(test_big_graphs_reuse_memory),
		cmocka_unit_test(test_bad_arguments),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
