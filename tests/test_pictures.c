/* Pictures of a compute: the DOT writer (labels, workers' colours and
 * legend, failed and not-run nodes, the big-graph summary, a caller's
 * labels) and the Chrome trace (args, failed tasks standing out), read
 * back as a program would (the trace parsed as JSON). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "testutil.h"

/* Exported (the tests link with -rdynamic), so dladdr names them. */
int weft_test_one(weft_ctx *c, size_t n, const weft_value *a, weft_value *o);
int weft_test_boom(weft_ctx *c, size_t n, const weft_value *a, weft_value *o);

int
weft_test_one(weft_ctx *c, size_t n, const weft_value *a, weft_value *o)
{
	(void)c;
	(void)n;
	(void)a;
	*o = weft_int(1);
	return WEFT_OK;
}

int
weft_test_boom(weft_ctx *c, size_t n, const weft_value *a, weft_value *o)
{
	(void)n;
	(void)a;
	(void)o;
	return weft_fail(c, "boom \"quoted\"");
}

static int
hidden(weft_ctx *c, size_t n, const weft_value *a, weft_value *o)
{
	return weft_test_one(c, n, a, o);
}

/* Everything f wrote, as a string (owned). */
static char *
slurp(FILE *f)
{
	long n = ftell(f);
	rewind(f);
	char *s = calloc(1, (size_t)n + 1);
	assert_int_equal(fread(s, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	return s;
}

/* `text` holds `s` / does not: on failure, show the text. */
static void
has(const char *text, const char *s)
{
	if (!strstr(text, s))
		fail_msg("no \"%s\" in:\n%s", s, text);
}

static void
lacks(const char *text, const char *s)
{
	if (strstr(text, s))
		fail_msg("\"%s\" should not be in:\n%s", s, text);
}

typedef struct run {
	weft_graph *g;
	weft_trace *t;
} run;

/* a -> e (a static function) -> b (fails) -> c (never runs), on two
 * workers: a chain, so which tasks run does not depend on timing. */
static void
failing_run(run *r)
{
	r->g = weft_graph_new();
	r->t = weft_trace_new();
	weft_node a = WEFT_DELAYED_NAMED(r->g, "a", weft_test_one);
	weft_node e = WEFT_DELAYED_NAMED(r->g, "e", hidden, weft_ref(a));
	weft_node b = WEFT_DELAYED_NAMED(r->g, "b", weft_test_boom, weft_ref(e));
	weft_node c = WEFT_DELAYED_NAMED(r->g, "c", weft_test_one, weft_ref(b));
	weft_pool_opts po = { .threads = 2 };
	weft_pool *p = weft_pool_new(&po);
	weft_opts o = { .pool = p, .trace = r->t };
	weft_value res;
	assert_int_equal(weft_compute(r->g, 1, &c, &res, &o), WEFT_ETASK);
	weft_pool_free(p);
}

static void
run_free(run *r)
{
	weft_trace_free(r->t);
	weft_graph_free(r->g);
}

static const char *
my_label(void *ud, const weft_graph *g, weft_node n, char *buf, size_t size)
{
	(void)ud;
	if (weft_node_index(g, n) % 2)
		return NULL; /* the default */
	snprintf(buf, size, "even(%zu)", weft_node_index(g, n));
	return buf;
}

static json_t *
event_named(json_t *events, const char *name)
{
	size_t i;
	json_t *e;
	json_array_foreach(events, i, e)
	{
		const char *n = json_string_value(json_object_get(e, "name"));
		const char *ph = json_string_value(json_object_get(e, "ph"));
		if (n && ph && !strcmp(ph, "X") && !strcmp(n, name))
			return e;
	}
	return NULL;
}

static void
test_trace_events_carry_args(void **state)
{
	(void)state;
	run r;
	failing_run(&r);
	FILE *f = tmpfile();
	assert_int_equal(weft_trace_write_json(r.t, r.g, f), WEFT_OK);
	char *text = slurp(f);
	json_error_t err;
	json_t *root = json_loads(text, 0, &err);
	if (!root)
		fail_msg("trace is not JSON: %s (line %d)\n%s", err.text,
		    err.line, text);
	json_t *events = json_object_get(root, "traceEvents");
	assert_true(json_is_array(events));

	json_t *a = event_named(events, "a");
	assert_non_null(a);
	json_t *args = json_object_get(a, "args");
	assert_string_equal(json_string_value(json_object_get(args, "function")),
	    "weft_test_one");
	assert_string_equal(
	    json_string_value(json_object_get(args, "status")), "ok");
	assert_null(json_object_get(args, "error"));
	assert_null(json_object_get(a, "cname"));

	json_t *b = event_named(events, "b (failed)");
	assert_non_null(b);
	args = json_object_get(b, "args");
	assert_string_equal(json_string_value(json_object_get(args, "function")),
	    "weft_test_boom");
	assert_string_equal(
	    json_string_value(json_object_get(args, "status")), "WEFT_ETASK");
	assert_string_equal(json_string_value(json_object_get(args, "error")),
	    "boom \"quoted\"");
	assert_string_equal(
	    json_string_value(json_object_get(b, "cname")), "terrible");
	assert_string_equal(
	    json_string_value(json_object_get(b, "cat")), "task,failed");

	/* a static function is named by where it is */
	json_t *e = event_named(events, "e");
	assert_non_null(e);
	const char *fn = json_string_value(
	    json_object_get(json_object_get(e, "args"), "function"));
	has(fn, "test_pictures+0x");
	assert_null(event_named(events, "c")); /* it never ran */
	json_decref(root);
	free(text);

	/* a caller's labels for the "function" arg */
	f = tmpfile();
	assert_int_equal(weft_trace_write_json_labels(r.t, r.g, f, my_label,
			     NULL),
	    WEFT_OK);
	text = slurp(f);
	root = json_loads(text, 0, &err);
	assert_non_null(root);
	events = json_object_get(root, "traceEvents");
	a = event_named(events, "a"); /* node 0: labelled */
	assert_string_equal(json_string_value(json_object_get(
				json_object_get(a, "args"), "function")),
	    "even(0)");
	e = event_named(events, "e"); /* node 1: the default */
	assert_non_null(strstr(json_string_value(json_object_get(
				   json_object_get(e, "args"), "function")),
	    "test_pictures+0x"));

	/* the same through the C API */
	weft_trace_event ev;
	int failed = 0;
	for (size_t i = 0; weft_trace_get(r.t, i, &ev) == WEFT_OK; i++) {
		const char *m = weft_trace_message(r.t, i);
		if (ev.status != WEFT_OK) {
			failed++;
			assert_string_equal(m, "boom \"quoted\"");
		} else {
			assert_null(m);
		}
	}
	assert_int_equal(failed, 1);
	json_decref(root);
	free(text);
	run_free(&r);
}

static void
test_dot_marks_workers_failures_and_not_run(void **state)
{
	(void)state;
	run r;
	failing_run(&r);
	FILE *f = tmpfile();
	weft_dot_info info;
	weft_dot_opts o = { .trace = r.t };
	assert_int_equal(weft_graph_write_dot_opts(r.g, f, &o, &info), WEFT_OK);
	char *dot = slurp(f);
	assert_int_equal(info.nodes, 4);
	assert_int_equal(info.summarized, 0);
	assert_int_equal(info.boxes, 4);
	assert_int_equal(info.failed, 1);
	assert_int_equal(info.not_run, 1);
	/* labels: key and function name, never a bare "fn" */
	has(dot, "n0 [label=\"a\\nweft_test_one\", fillcolor=\"");
	has(dot, "n2 [label=\"b\\nweft_test_boom\\nFAILED: boom \\\"quoted\\\"\", "
		 "fillcolor=\"#fb8072\", color=\"#b2182b\", penwidth=3");
	has(dot, "n3 [label=\"c\\nweft_test_one\", style=\"rounded,dashed\"");
	has(dot, "n1 [label=\"e\\ntest_pictures+0x");
	lacks(dot, "\\nfn\"");
	has(dot, "n0 -> n1;");
	has(dot, "n2 -> n3;");
	/* the legend: the workers seen, failed, did not run */
	has(dot, "subgraph cluster_legend");
	has(dot, "legend_w0 [label=\"worker 0\"");
	has(dot, "legend_failed [label=\"failed\"");
	has(dot, "legend_not_run [label=\"did not run\"");
	free(dot);

	/* without a trace: no colours, no legend */
	f = tmpfile();
	assert_int_equal(weft_graph_write_dot(r.g, f, NULL), WEFT_OK);
	dot = slurp(f);
	lacks(dot, "legend");
	lacks(dot, "tooltip");
	free(dot);
	assert_int_equal(weft_graph_write_dot(NULL, stdout, NULL), WEFT_EINVAL);
	assert_int_equal(weft_graph_write_dot(r.g, NULL, NULL), WEFT_EINVAL);
	run_free(&r);
}

static void
test_dot_summarizes_big_graphs(void **state)
{
	(void)state;
	weft_graph *g = weft_graph_new();
	weft_node prev = WEFT_DELAYED(g, weft_test_one);
	for (int i = 1; i < 3000; i++)
		prev = i % 3 ? WEFT_DELAYED(g, weft_test_one, weft_ref(prev))
			     : WEFT_DELAYED(g, hidden, weft_ref(prev));
	FILE *f = tmpfile();
	weft_dot_info info;
	assert_int_equal(weft_graph_write_dot_opts(g, f, NULL, &info), WEFT_OK);
	char *dot = slurp(f);
	assert_int_equal(info.summarized, 1);
	assert_int_equal(info.max_nodes, WEFT_DOT_MAX_NODES);
	assert_int_equal(info.boxes, 2); /* two kinds of node */
	has(dot, "summarized: 3000 nodes in 2 kinds");
	has(dot, "g0 [label=\"weft_test_one\\n2001 nodes\"");
	has(dot, "\\n999 nodes\"");
	has(dot, "g0 -> g1 [label=\"999\"];");
	lacks(dot, "n2999");
	free(dot);

	/* a caller's labels, and its own limit */
	f = tmpfile();
	weft_dot_opts o = { .label = my_label, .max_nodes = 5000 };
	assert_int_equal(weft_graph_write_dot_opts(g, f, &o, &info), WEFT_OK);
	dot = slurp(f);
	assert_int_equal(info.summarized, 0);
	assert_int_equal(info.boxes, 3000);
	has(dot, "n2 [label=\"node-2\\neven(2)\"]");
	has(dot, "n1 [label=\"node-1\\nweft_test_one\"]");
	free(dot);
	weft_graph_free(g);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_trace_events_carry_args),
		cmocka_unit_test(test_dot_marks_workers_failures_and_not_run),
		cmocka_unit_test(test_dot_summarizes_big_graphs),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	weft_shutdown();
	return rc;
}
