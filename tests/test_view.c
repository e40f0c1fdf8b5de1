/* The read-only graph view: a random graph walked through the view and
 * rebuilt into a second graph computes the same results, and the view
 * rejects what is not a node of its graph. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "testutil.h"

/* Folds its arguments in order: ints, and the items of lists. */
static int
fold(weft_ctx *c, size_t n, const weft_value *a, weft_value *o)
{
	(void)c;
	int64_t h = 7;
	for (size_t i = 0; i < n; i++)
		h = tu_mix(h, weft_type_of(a[i]) == WEFT_INT
			    ? weft_as_int(a[i])
			    : (int64_t)weft_len(a[i]));
	*o = weft_int(h);
	return WEFT_OK;
}

/* A list of three ints derived from its argument, for getitem nodes. */
static int
triple(weft_ctx *c, size_t n, const weft_value *a, weft_value *o)
{
	(void)c;
	(void)n;
	int64_t x = weft_as_int(a[0]);
	/* Wraps like the unsigned arithmetic it is (random inputs may be
	 * large): signed overflow would be undefined. */
	weft_value items[3] = { weft_int(x),
		weft_int((int64_t)((uint64_t)x * 3u)), weft_int(x ^ 5) };
	*o = weft_list(3, items);
	return weft_type_of(*o) == WEFT_LIST ? WEFT_OK : WEFT_ENOMEM;
}

/* A random DAG of fold/triple/getitem nodes with literals (ints and a
 * string), some named, some with a priority. */
static weft_graph *
random_graph(uint64_t *seed, size_t n)
{
	weft_graph *g = weft_graph_new();
	assert_non_null(g);
	weft_node *nodes = calloc(n, sizeof *nodes);
	size_t nn = 0;
	for (size_t i = 0; i < n; i++) {
		uint64_t r = tu_rand(seed);
		weft_node x;
		if (nn && r % 7 == 0) {
			weft_node src = nodes[tu_rand(seed) % nn];
			weft_node t = WEFT_DELAYED(g, triple, weft_ref(src));
			x = weft_getitem(g, t, tu_rand(seed) % 3);
		} else {
			size_t na = (size_t)(tu_rand(seed) % 5);
			weft_arg args[5];
			for (size_t k = 0; k < na; k++) {
				uint64_t q = tu_rand(seed);
				if (nn && q % 3)
					args[k] = weft_ref(nodes[q % nn]);
				else if (q % 2)
					args[k] = weft_lit(weft_int((int64_t)q));
				else
					args[k] = weft_lit(weft_str("lit"));
			}
			char key[32];
			snprintf(key, sizeof key, "k%zu", i);
			x = weft_delayed_named(
			    g, r % 3 == 0 ? key : NULL, fold, na, args);
		}
		assert_true(weft_node_ok(x));
		if (r % 5 == 0)
			assert_int_equal(weft_node_set_priority(
					     g, x, (int)(r % 11) - 5),
			    WEFT_OK);
		nodes[nn++] = x;
	}
	free(nodes);
	return g;
}

/* Rebuilds `g` node by node through the view only. */
static weft_graph *
rebuild(const weft_graph *g)
{
	weft_graph *h = weft_graph_new();
	size_t n = weft_graph_size(g);
	weft_node *map = calloc(n ? n : 1, sizeof *map);
	for (size_t i = 0; i < n; i++) {
		weft_node x = weft_graph_node(g, i);
		assert_true(weft_node_ok(x));
		assert_int_equal(weft_node_index(g, x), i);
		weft_node_view v;
		assert_int_equal(weft_node_view_get(g, x, &v), WEFT_OK);
		weft_arg *args = calloc(v.nargs ? v.nargs : 1, sizeof *args);
		for (size_t k = 0; k < v.nargs; k++) {
			weft_arg a;
			assert_int_equal(weft_node_arg(g, x, k, &a), WEFT_OK);
			if (weft_arg_is_ref(&a)) {
				size_t j = weft_node_index(g, weft_arg_node(&a));
				assert_true(j < i); /* creation order is topological */
				args[k] = weft_ref(map[j]);
			} else {
				args[k] = weft_lit(
				    weft_value_retain(weft_arg_value(&a)));
			}
		}
		map[i] = weft_delayed_named(h, v.key, v.fn, v.nargs, args);
		assert_true(weft_node_ok(map[i]));
		if (v.priority)
			weft_node_set_priority(h, map[i], v.priority);
		free(args);
	}
	free(map);
	return h;
}

static void
test_rebuilt_graphs_compute_the_same(void **state)
{
	(void)state;
	uint64_t seed = 42;
	int rounds = (int)(60 * tu_scale()) + 1;
	for (int round = 0; round < rounds; round++) {
		size_t n = 1 + (size_t)(tu_rand(&seed) % 120);
		weft_graph *g = random_graph(&seed, n);
		weft_graph *h = rebuild(g);
		size_t m = weft_graph_size(g);
		assert_int_equal(weft_graph_size(h), m);
		weft_node *tg = malloc(m * sizeof *tg);
		weft_node *th = malloc(m * sizeof *th);
		for (size_t i = 0; i < m; i++) {
			tg[i] = weft_graph_node(g, i);
			th[i] = weft_graph_node(h, i);
			weft_node_view a, b;
			assert_int_equal(weft_node_view_get(g, tg[i], &a), 0);
			assert_int_equal(weft_node_view_get(h, th[i], &b), 0);
			assert_ptr_equal(a.fn, b.fn);
			assert_int_equal(a.nargs, b.nargs);
			assert_int_equal(a.priority, b.priority);
			char ka[64], kb[64];
			assert_string_equal(weft_node_key(g, tg[i], ka, sizeof ka),
			    weft_node_key(h, th[i], kb, sizeof kb));
		}
		weft_value *rg = calloc(m, sizeof *rg);
		weft_value *rh = calloc(m, sizeof *rh);
		assert_int_equal(weft_compute(g, m, tg, rg, NULL), WEFT_OK);
		assert_int_equal(weft_compute(h, m, th, rh, NULL), WEFT_OK);
		for (size_t i = 0; i < m; i++) {
			assert_true(weft_value_equal(rg[i], rh[i]));
			weft_value_release(&rg[i]);
			weft_value_release(&rh[i]);
		}
		free(rg);
		free(rh);
		free(tg);
		free(th);
		weft_graph_free(g);
		weft_graph_free(h);
	}
}

static void
test_view_of_persisted_and_bad_input(void **state)
{
	(void)state;
	weft_graph *g = weft_graph_new();
	weft_graph *other = weft_graph_new();
	weft_node a = WEFT_DELAYED_NAMED(g, "a", fold, weft_lit(weft_int(1)));
	weft_node b = WEFT_DELAYED(g, fold, weft_ref(a), weft_lit(weft_int(2)));
	weft_node o = WEFT_DELAYED(other, fold);
	assert_int_equal(weft_persist(g, 1, &a, NULL), WEFT_OK);

	weft_node_view v;
	assert_int_equal(weft_node_view_get(g, a, &v), WEFT_OK);
	assert_string_equal(v.key, "a");
	assert_int_equal(v.persisted, 1);
	weft_value pv;
	assert_int_equal(weft_node_persisted_value(g, a, &pv), WEFT_OK);
	assert_int_equal(weft_as_int(pv), tu_mix(7, 1));
	assert_int_equal(weft_node_view_get(g, b, &v), WEFT_OK);
	assert_null(v.key);
	assert_int_equal(v.persisted, 0);
	assert_int_equal(v.nargs, 2);
	assert_int_equal(
	    weft_node_persisted_value(g, b, &pv), WEFT_ENOTFOUND);

	weft_arg arg;
	assert_int_equal(weft_node_arg(g, b, 0, &arg), WEFT_OK);
	assert_true(weft_arg_is_ref(&arg));
	assert_int_equal(weft_node_index(g, weft_arg_node(&arg)), 0);
	assert_int_equal(weft_type_of(weft_arg_value(&arg)), WEFT_NIL);
	assert_int_equal(weft_node_arg(g, b, 1, &arg), WEFT_OK);
	assert_false(weft_arg_is_ref(&arg));
	assert_false(weft_node_ok(weft_arg_node(&arg)));
	assert_int_equal(weft_as_int(weft_arg_value(&arg)), 2);

	/* out of range, foreign, NONE, NULL */
	assert_int_equal(weft_node_arg(g, b, 2, &arg), WEFT_EINVAL);
	assert_int_equal(weft_node_arg(g, b, 0, NULL), WEFT_EINVAL);
	assert_false(weft_node_ok(weft_graph_node(g, 2)));
	assert_false(weft_node_ok(weft_graph_node(NULL, 0)));
	assert_int_equal(weft_node_index(g, o), (size_t)-1);
	assert_int_equal(weft_node_index(g, WEFT_NODE_NONE), (size_t)-1);
	assert_int_equal(weft_node_index(NULL, a), (size_t)-1);
	assert_int_equal(weft_node_view_get(g, o, &v), WEFT_EINVAL);
	assert_int_equal(weft_node_view_get(g, a, NULL), WEFT_EINVAL);
	assert_int_equal(weft_node_arg(g, o, 0, &arg), WEFT_EINVAL);
	assert_false(weft_arg_is_ref(NULL));
	assert_false(weft_node_ok(weft_arg_node(NULL)));
	assert_int_equal(weft_type_of(weft_arg_value(NULL)), WEFT_NIL);
	weft_graph_free(g);
	weft_graph_free(other);
}

/* A node with many arguments, literals and references mixed: read in
 * order (the per-thread cursor), backwards and at random, each argument is
 * the right one. */
static void
test_wide_node_arguments(void **state)
{
	(void)state;
	weft_graph *g = weft_graph_new();
	weft_node src = WEFT_DELAYED(g, fold);
	size_t n = 100000;
	weft_arg *args = malloc(n * sizeof *args);
	for (size_t i = 0; i < n; i++)
		args[i] = i % 3 == 1 ? weft_ref(src)
				     : weft_lit(weft_int((int64_t)i));
	weft_node wide = weft_delayed(g, fold, n, args);
	assert_true(weft_node_ok(wide));
	weft_node other = WEFT_DELAYED(g, fold, weft_lit(weft_int(-1)));
	weft_arg a;
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(weft_node_arg(g, wide, i, &a), WEFT_OK);
		if (i % 3 == 1)
			assert_true(weft_arg_is_ref(&a));
		else
			assert_int_equal(weft_as_int(weft_arg_value(&a)), i);
	}
	uint64_t seed = 3;
	for (int r = 0; r < 2000; r++) {
		size_t i = r < 1000 ? n - 1 - (size_t)r
				    : (size_t)(tu_rand(&seed) % n);
		assert_int_equal(weft_node_arg(g, wide, i, &a), WEFT_OK);
		if (i % 3 != 1)
			assert_int_equal(weft_as_int(weft_arg_value(&a)), i);
		if (r % 7 == 0) { /* another node in between */
			assert_int_equal(weft_node_arg(g, other, 0, &a), 0);
			assert_int_equal(weft_as_int(weft_arg_value(&a)), -1);
		}
	}
	free(args);
	weft_graph_free(g);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rebuilt_graphs_compute_the_same),
		cmocka_unit_test(test_view_of_persisted_and_bad_input),
		cmocka_unit_test(test_wide_node_arguments),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	weft_shutdown();
	return rc;
}
