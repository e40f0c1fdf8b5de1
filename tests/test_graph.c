/* Graph building: handles, keys, literals' ownership, and the errors of
 * delayed calls (reported through the graph, never a crash). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "testutil.h"

static int
nop(weft_ctx *c, size_t n, const weft_value *a, weft_value *o)
{
	(void)c;
	(void)n;
	(void)a;
	*o = weft_int(1);
	return WEFT_OK;
}

static int freed;

static void
count_free(void *p)
{
	(void)p;
	freed++;
}

static void
test_build_and_size(void **state)
{
	(void)state;
	weft_graph *g = weft_graph_new();
	assert_non_null(g);
	assert_int_equal(weft_graph_size(g), 0);
	weft_node a = WEFT_DELAYED(g, nop); /* zero arguments */
	weft_node b = WEFT_DELAYED(g, nop, weft_ref(a), weft_lit(weft_int(3)));
	assert_true(weft_node_ok(a) && weft_node_ok(b));
	assert_int_not_equal(a.id, b.id);
	assert_int_equal(weft_graph_size(g), 2);
	assert_string_equal(weft_graph_error(g), "");
	assert_int_equal(weft_graph_errcode(g), WEFT_OK);
	weft_graph_free(g);
	weft_graph_free(NULL);
}

static void
test_keys_unique_and_found(void **state)
{
	(void)state;
	weft_graph *g = weft_graph_new();
	weft_node x = WEFT_DELAYED_NAMED(g, "load-1", nop);
	weft_node y = WEFT_DELAYED(g, nop, weft_ref(x));
	assert_true(weft_node_ok(x));
	assert_int_equal(weft_graph_find(g, "load-1").id, x.id);
	assert_int_equal(weft_graph_find(g, "node-1").id, y.id);
	assert_false(weft_node_ok(weft_graph_find(g, "node-0"))); /* named */
	assert_false(weft_node_ok(weft_graph_find(g, "missing")));
	assert_false(weft_node_ok(weft_graph_find(g, "node-99")));
	char buf[16];
	assert_string_equal(weft_node_key(g, x, buf, sizeof buf), "load-1");
	assert_string_equal(weft_node_key(g, y, buf, sizeof buf), "node-1");
	assert_string_equal(weft_node_key(g, WEFT_NODE_NONE, buf, sizeof buf), "?");
	/* a key in use is an error, and the graph is unchanged */
	freed = 0;
	weft_node dup = WEFT_DELAYED_NAMED(g, "load-1", nop,
	    weft_lit(weft_ptr(&freed, count_free)));
	assert_false(weft_node_ok(dup));
	assert_int_equal(weft_graph_errcode(g), WEFT_EINVAL);
	assert_string_equal(weft_graph_error(g),
	    "delayed: key 'load-1' already names a node");
	assert_int_equal(freed, 1); /* the literal was released */
	assert_int_equal(weft_graph_size(g), 2);
	weft_graph_clear_error(g);
	assert_string_equal(weft_graph_error(g), "");
	/* many keys: the map grows */
	for (int i = 0; i < 5000; i++) {
		char k[32];
		snprintf(k, sizeof k, "k%d", i);
		assert_true(weft_node_ok(WEFT_DELAYED_NAMED(g, k, nop)));
	}
	assert_int_equal(weft_node_index(g, weft_graph_find(g, "k4321")), 2 + 4321);
	weft_graph_free(g);
}

static void
test_errors_are_reported(void **state)
{
	(void)state;
	weft_graph *g = weft_graph_new();
	weft_graph *h = weft_graph_new();
	weft_node a = WEFT_DELAYED(g, nop);
	weft_node other = WEFT_DELAYED(h, nop);

	assert_false(weft_node_ok(WEFT_DELAYED(g, NULL)));
	assert_non_null(strstr(weft_graph_error(g), "function is NULL"));

	assert_false(weft_node_ok(WEFT_DELAYED(g, nop, weft_ref(other))));
	assert_string_equal(weft_graph_error(g),
	    "delayed: argument 0 refers to a node of another graph");

	/* a failure propagates through a chain, checked once at the end, and
	 * the first error (the root cause) is the one kept */
	weft_node c = WEFT_DELAYED(g, nop, weft_ref(WEFT_NODE_NONE));
	assert_false(weft_node_ok(c));
	assert_string_equal(weft_graph_error(g),
	    "delayed: argument 0 refers to a node of another graph");
	weft_graph_clear_error(g);
	weft_node bad = WEFT_DELAYED(g, nop, weft_ref(WEFT_NODE_NONE));
	assert_false(weft_node_ok(bad));
	assert_non_null(strstr(weft_graph_error(g), "WEFT_NODE_NONE"));

	assert_false(weft_node_ok(weft_delayed(g, nop, 3, NULL)));
	weft_arg junk = { 9, { 0 }, { 0, { 0 }, { 0 } } };
	assert_false(weft_node_ok(weft_delayed(g, nop, 1, &junk)));
	assert_false(weft_node_ok(weft_delayed(NULL, nop, 0, NULL)));

	/* literals handed to a failing call are released, not leaked */
	freed = 0;
	assert_false(weft_node_ok(WEFT_DELAYED(g, NULL,
	    weft_lit(weft_ptr(&freed, count_free)))));
	assert_int_equal(freed, 1);
	assert_int_equal(weft_graph_size(g), 1);
	(void)a;
	weft_graph_free(g);
	weft_graph_free(h);
}

static void
test_literals_owned_by_graph(void **state)
{
	(void)state;
	freed = 0;
	weft_graph *g = weft_graph_new();
	weft_value shared = weft_ptr(&freed, count_free);
	WEFT_DELAYED(g, nop, weft_lit(weft_value_retain(shared)));
	WEFT_DELAYED(g, nop, weft_lit(shared)); /* ownership moves */
	assert_int_equal(freed, 0);
	weft_graph_free(g);
	assert_int_equal(freed, 1);
}

static void
test_freed_graph_handles_are_caught(void **state)
{
	(void)state;
	weft_graph *g = weft_graph_new();
	weft_node a = WEFT_DELAYED(g, nop);
	weft_graph *h = weft_graph_new();
	/* h has another serial: a's id does not resolve in h */
	assert_false(weft_node_ok(WEFT_DELAYED(h, nop, weft_ref(a))));
	weft_graph_free(g);
	weft_graph_free(h);
}

/* Returns its one argument plus one (to tell which node ran). */
static int
inc(weft_ctx *c, size_t n, const weft_value *a, weft_value *o)
{
	(void)c;
	(void)n;
	*o = weft_int(weft_as_int(a[0]) + 1);
	return WEFT_OK;
}

/* Regression (issue 11.3): handles carried an 8-bit graph tag, so graph
 * i + 255 took graph i's node for its own: compute returned its own node's
 * value and delayed accepted the reference. This test failed on the old
 * code (graph 255 accepted graph 0's node). Every node of 300 live graphs
 * must now be refused by every other graph. */
#define NGRAPHS 300
static void
test_nodes_of_300_live_graphs_told_apart(void **state)
{
	(void)state;
	weft_graph *g[NGRAPHS];
	weft_node x[NGRAPHS];
	for (int i = 0; i < NGRAPHS; i++) {
		g[i] = weft_graph_new();
		assert_non_null(g[i]);
		x[i] = WEFT_DELAYED(g[i], inc, weft_lit(weft_int(i * 10)));
		assert_true(weft_node_ok(x[i]));
	}
	for (int i = 0; i < NGRAPHS; i++)
		for (int j = 0; j < NGRAPHS; j++)
			assert_int_equal(weft_node_index(g[j], x[i]),
			    i == j ? 0 : (size_t)-1);
	for (int i = 0; i < NGRAPHS; i++) {
		int j = (i + 255) % NGRAPHS; /* the old tag's alias */
		weft_value r = weft_int(-1);
		assert_int_equal(
		    weft_compute(g[j], 1, &x[i], &r, NULL), WEFT_EINVAL);
		assert_int_equal(weft_type_of(r), WEFT_NIL);
		assert_string_equal(weft_graph_error(g[j]),
		    "compute: target 0 is not a node of this graph");
		assert_false(weft_node_ok(
		    WEFT_DELAYED(g[j], inc, weft_ref(x[i]))));
		assert_string_equal(weft_graph_error(g[j]),
		    "delayed: argument 0 refers to a node of another graph");
		assert_int_equal(weft_graph_size(g[j]), 1);
		weft_graph_clear_error(g[j]);
		/* and its own node still computes its own value */
		assert_int_equal(
		    weft_compute(g[i], 1, &x[i], &r, NULL), WEFT_OK);
		assert_int_equal(weft_as_int(r), i * 10 + 1);
	}
	for (int i = 0; i < NGRAPHS; i++)
		weft_graph_free(g[i]);
}

static void
test_version_and_errors(void **state)
{
	(void)state;
	assert_int_equal(weft_version(), WEFT_VERSION_HEX);
	assert_string_equal(weft_version_string(), "0.1.0");
	assert_string_equal(weft_strerror(WEFT_OK), "success");
	assert_string_equal(weft_strerror(WEFT_ETASK), "a task failed");
	assert_string_equal(weft_err_name(WEFT_ENOMEM), "WEFT_ENOMEM");
	assert_string_equal(weft_strerror(-9999), "unknown error");
	assert_string_equal(weft_err_name(-9999), "WEFT_E?");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_build_and_size),
		cmocka_unit_test(test_keys_unique_and_found),
		cmocka_unit_test(test_errors_are_reported),
		cmocka_unit_test(test_literals_owned_by_graph),
		cmocka_unit_test(test_freed_graph_handles_are_caught),
		cmocka_unit_test(test_nodes_of_300_live_graphs_told_apart),
		cmocka_unit_test(test_version_and_errors),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	weft_shutdown();
	return rc;
}
