/* The graph-file reader: every rule of the format, every error with its
 * code, position and key, the cull, and running what it built. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "weft.h"

static weft_registry *reg;
static weft_pool *pool;
static weft_spec_error err;

static int
setup(void **state)
{
	(void)state;
	weft_pool_opts po = { .threads = 2 };
	reg = weft_registry_new();
	pool = weft_pool_new(&po);
	if (!reg || !pool || weft_registry_add_builtins(reg) != WEFT_OK)
		return -1;
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	weft_pool_free(pool);
	weft_registry_free(reg);
	return 0;
}

static int
load_o(const char *text, const weft_spec_opts *o, weft_spec **s)
{
	return weft_spec_load_buffer(
	    text, strlen(text), "t.json", reg, o, s, &err);
}

static weft_spec *
load_ok(const char *text, const weft_spec_opts *o)
{
	weft_spec *s = NULL;
	int rc = load_o(text, o, &s);
	if (rc != WEFT_OK)
		fail_msg("load failed (%s): %s", weft_err_name(rc), err.message);
	assert_int_equal(err.code, WEFT_OK);
	return s;
}

/* Expects the load to fail with `code` at line:col (0: any) in `key`
 * (NULL: no key), with `needle` in the message. */
static void
load_bad(const char *text, const weft_spec_opts *o, int code, unsigned line,
    unsigned col, const char *key, const char *needle)
{
	weft_spec *s = (weft_spec *)&s;
	int rc = load_o(text, o, &s);
	if (rc != code || (needle && !strstr(err.message, needle)))
		fail_msg("want %s with '%s', got %s: %s", weft_err_name(code),
		    needle ? needle : "", weft_err_name(rc), err.message);
	assert_null(s);
	assert_int_equal(err.code, code);
	if (line) {
		assert_int_equal(err.line, line);
		assert_int_equal(err.column, col);
		char pos[64];
		snprintf(pos, sizeof(pos), "t.json:%u:%u: error: ", line, col);
		assert_true(strncmp(err.message, pos, strlen(pos)) == 0);
	}
	assert_string_equal(err.key, key ? key : "");
}

/* Runs the spec's targets; returns them as a JSON object (static). */
static const char *
run(weft_spec *s)
{
	static char buf[4096];
	size_t n = weft_spec_ntargets(s);
	weft_value *res = calloc(n + 1, sizeof(*res));
	weft_opts o = { .pool = pool };
	FILE *f = fmemopen(buf, sizeof(buf), "w");

	assert_non_null(res);
	assert_non_null(f);
	int rc = weft_compute(
	    weft_spec_graph(s), n, weft_spec_targets(s), res, &o);
	if (rc != WEFT_OK) {
		fprintf(f, "ERROR %s", weft_err_name(rc));
	} else {
		fputs("{", f);
		for (size_t i = 0; i < n; i++) {
			fprintf(f, "%s\"%s\": ", i ? ", " : "",
			    weft_spec_target_key(s, i));
			weft_value_write(f, res[i], 0);
			weft_value_release(&res[i]);
		}
		fputs("}", f);
	}
	fclose(f);
	free(res);
	return buf;
}

static void
expect_run(const char *text, const char *want)
{
	weft_spec *s = load_ok(text, NULL);
	assert_string_equal(run(s), want);
	weft_spec_free(s);
}

static void
test_compact_forms(void **state)
{
	(void)state;
	/* Literals, references, tasks, and the strings that are not keys. */
	expect_run("{\"graph\": {\"a\": 1, \"b\": 2.5, \"c\": true, \"d\": "
		   "null, \"e\": \"text\", \"f\": [\"add\", \"a\", \"b\"]}, "
		   "\"targets\": [\"a\", \"b\", \"c\", \"d\", \"e\", \"f\"]}",
	    "{\"a\": 1, \"b\": 2.5, \"c\": true, \"d\": null, \"e\": "
	    "\"text\", \"f\": 3.5}");
	/* Nested tasks run inline; lists hold refs, tasks and lists. */
	expect_run("{\"graph\": {\"x\": 1, \"y\": [\"add\", [\"inc\", \"x\"], "
		   "[\"mul\", \"x\", 10]], \"z\": [\"x\", [\"inc\", \"y\"], "
		   "[1, [2, \"y\"]], \"nokey\"]}}",
	    "{\"z\": [1, 13, [1, [2, 12]], \"nokey\"]}");
	/* An alias is the key it names. */
	expect_run("{\"graph\": {\"x\": [\"range\", 3], \"y\": \"x\"}}",
	    "{\"y\": [0, 1, 2]}");
	/* The head names the function even when a key has the same name. */
	expect_run("{\"graph\": {\"inc\": 5, \"y\": [\"inc\", \"inc\"]}}",
	    "{\"y\": 6}");
	/* Empty arrays and arrays headed by non-strings are lists. */
	expect_run("{\"graph\": {\"e\": [], \"l\": [1, \"two\", null]}}",
	    "{\"e\": [], \"l\": [1, \"two\", null]}");
	/* A task whose argument is the same key twice. */
	expect_run("{\"graph\": {\"x\": 4, \"y\": [\"mul\", \"x\", \"x\"]}}",
	    "{\"y\": 16}");
	/* Calls with more than 8 nested arguments. */
	expect_run("{\"graph\": {\"x\": 1, \"s\": [\"sum\", [\"list\", "
		   "[\"inc\",\"x\"], 2, 3, 4, 5, 6, 7, 8, 9, [\"inc\", \"x\"]]]}}",
	    "{\"s\": 48}");
}

static void
test_explicit_forms(void **state)
{
	(void)state;
	expect_run("{\"graph\": {\"x\": 2, "
		   "\"l\": {\"lit\": [\"x\", [\"inc\", 1]]}, "
		   "\"r\": {\"ref\": \"x\"}, "
		   "\"f\": {\"fn\": \"add\", \"args\": [{\"ref\": \"x\"}, "
		   "{\"lit\": 40}]}, "
		   "\"g\": {\"fn\": \"list\"}, "
		   "\"m\": {\"list\": [\"x\", {\"lit\": \"x\"}, [\"inc\", \"x\"]]}"
		   "}, \"targets\": [\"l\", \"r\", \"f\", \"g\", \"m\"]}",
	    "{\"l\": [\"x\", [\"inc\", 1]], \"r\": 2, \"f\": 42, \"g\": [], "
	    "\"m\": [2, \"x\", 3]}");
}

/* weft_spec_opts.key_fields: extra fields at the top of a key, kept with
 * their positions; anywhere else, or without the option, still errors. */
static void
test_key_fields(void **state)
{
	static const char *const fields[] = { "prio" };
	weft_spec_opts o = { .key_fields = fields, .nkey_fields = 1 };
	const char *text = "{\"graph\": {\"a\": {\"lit\": 1, \"prio\": 2},\n"
			   " \"b\": {\"fn\": \"inc\", \"args\": [\"a\"], "
			   "\"prio\": \"x\", \"rank\": 1},\n \"c\": [\"inc\", \"b\"]}}";
	weft_value v;
	unsigned line = 0, col = 0;
	(void)state;

	weft_spec *s = load_ok(text, &o);
	assert_int_equal(weft_spec_key_field(s, "a", "prio", &v, &line, &col),
	    WEFT_OK);
	assert_int_equal(weft_as_int(v), 2);
	assert_int_equal(line, 1);
	assert_int_equal(col, 36);
	assert_int_equal(weft_spec_key_field(s, "b", "prio", &v, NULL, NULL),
	    WEFT_OK);
	assert_string_equal(weft_as_str(v), "x");
	/* "rank" (weft-mpi's owner) is always accepted and kept. */
	assert_int_equal(weft_spec_key_field(s, "b", "rank", &v, NULL, NULL),
	    WEFT_OK);
	assert_int_equal(weft_as_int(v), 1);
	assert_int_equal(weft_spec_key_field(s, "c", "prio", &v, NULL, NULL),
	    WEFT_ENOTFOUND);
	assert_int_equal(weft_spec_key_field(s, "zz", "prio", &v, NULL, NULL),
	    WEFT_ENOTFOUND);
	assert_int_equal(weft_spec_key_field(s, "a", "rank", &v, NULL, NULL),
	    WEFT_ENOTFOUND);
	assert_string_equal(weft_spec_name(s), "t.json");
	assert_string_equal(run(s), "{\"c\": 3}");
	weft_spec_free(s);
	/* Not asked for: an unknown field, as before. */
	load_bad(text, NULL, WEFT_EPARSE, 1, 28, "a", "unknown field 'prio'");
	/* Only at the top of a key. */
	load_bad("{\"graph\": {\"a\": [\"inc\", {\"lit\": 1, \"rank\": 0}]}}",
	    &o, WEFT_EPARSE, 1, 36, "a", "unknown field 'rank'");
	/* A field's value is a literal: no objects. */
	load_bad("{\"graph\": {\"a\": {\"lit\": 1, \"prio\": {\"x\": 1}}}}", &o,
	    WEFT_ETYPE, 0, 0, "a", "an object is not a value");
}

static void
test_targets_and_cull(void **state)
{
	(void)state;
	const char *g = "{\"graph\": {\"a\": 1, \"b\": [\"inc\", \"a\"], "
			"\"c\": [\"inc\", \"b\"], \"d\": [\"neg\", \"a\"], "
			"\"e\": 7}}";
	weft_spec_stats st;

	/* Default: the keys nobody uses, in file order. */
	weft_spec *s = load_ok(g, NULL);
	assert_int_equal(weft_spec_ntargets(s), 3);
	assert_string_equal(run(s), "{\"c\": 3, \"d\": -1, \"e\": 7}");
	assert_int_equal(weft_spec_stats_get(s, &st), WEFT_OK);
	assert_int_equal(st.keys, 5);
	assert_int_equal(st.tasks, 5);
	assert_int_equal(st.edges, 3);
	assert_int_equal(st.depth, 3);
	assert_int_equal(st.calls, 3);
	assert_int_equal(st.nested, 0);
	assert_int_equal(st.funcs, 2);
	size_t count;
	assert_string_equal(weft_spec_func_used(s, 0, &count)->name, "inc");
	assert_int_equal(count, 2);
	assert_string_equal(weft_spec_func_used(s, 1, NULL)->name, "neg");
	assert_null(weft_spec_func_used(s, 2, NULL));
	weft_spec_free(s);

	/* Targets override, duplicates dropped; only what they need is
	 * built. */
	const char *t[] = { "b", "b", "a" };
	weft_spec_opts o = { .targets = t, .ntargets = 3 };
	s = load_ok(g, &o);
	assert_int_equal(weft_spec_ntargets(s), 2);
	assert_string_equal(weft_spec_target_key(s, 0), "b");
	assert_null(weft_spec_target_key(s, 2));
	assert_int_equal(weft_spec_stats_get(s, &st), WEFT_OK);
	assert_int_equal(st.tasks, 2);
	assert_true(weft_node_ok(weft_graph_find(weft_spec_graph(s), "b")));
	assert_false(weft_node_ok(weft_graph_find(weft_spec_graph(s), "c")));
	assert_string_equal(run(s), "{\"b\": 2, \"a\": 1}");
	weft_spec_free(s);

	/* Everything, with NO_CULL. */
	o.flags = WEFT_SPEC_NO_CULL;
	s = load_ok(g, &o);
	assert_int_equal(weft_spec_stats_get(s, &st), WEFT_OK);
	assert_int_equal(st.tasks, 5);
	weft_spec_free(s);

	/* The file's targets, as an array or a single string. */
	s = load_ok("{\"targets\": [\"b\"], \"graph\": {\"a\": 1, \"b\": 2}}",
	    NULL);
	assert_string_equal(run(s), "{\"b\": 2}");
	weft_spec_free(s);
	s = load_ok("{\"graph\": {\"a\": 1, \"b\": 2}, \"targets\": \"a\"}",
	    NULL);
	assert_string_equal(run(s), "{\"a\": 1}");
	weft_spec_free(s);

	/* An empty graph has nothing to compute. */
	s = load_ok("{\"graph\": {}}", NULL);
	assert_int_equal(weft_spec_ntargets(s), 0);
	assert_string_equal(run(s), "{}");
	weft_spec_free(s);
}

static void
test_syntax_errors(void **state)
{
	(void)state;
	load_bad("{\"graph\": {\"a\": 1,\n  \"b\": 2,, \"c\": 3}}", NULL,
	    WEFT_EPARSE, 2, 10, NULL,
	    "invalid JSON: string or '}' expected near ','");
	load_bad("{\"graph\": {\"a\": 1,\n  \"a\": 2}}", NULL, WEFT_EPARSE, 2,
	    3, NULL, "duplicate object key");
	load_bad("", NULL, WEFT_EPARSE, 1, 1, NULL, "invalid JSON");
	load_bad("{\"graph\": {}} x", NULL, WEFT_EPARSE, 1, 15, NULL,
	    "end of file expected");
	load_bad("{\"graph\": {\"a\": 99999999999999999999}}", NULL,
	    WEFT_EPARSE, 1, 17, NULL, "too big integer");
	load_bad("{\"graph\": {\"a\": \"\\u0000\"}}", NULL, WEFT_EPARSE, 0, 0,
	    NULL, "invalid JSON");
	load_bad("{\"graph\": {\"a\": \"\xff\"}}", NULL, WEFT_EPARSE, 0, 0,
	    NULL, "invalid JSON");
	/* Columns count characters, not bytes. */
	load_bad("{\"graph\": {\"\xc3\xa9\xc3\xa9\": 1 2}}", NULL, WEFT_EPARSE, 1,
	    20, NULL, "invalid JSON");

	/* Deeper than jansson's bound: an error, not a stack overflow. */
	char deep[5000];
	size_t n = 0;
	n += (size_t)sprintf(deep, "{\"graph\": {\"a\": ");
	for (int i = 0; i < 2100; i++)
		deep[n++] = '[';
	deep[n] = '\0';
	load_bad(deep, NULL, WEFT_ERANGE, 0, 0, NULL, "depth");
}

static void
test_layout_errors(void **state)
{
	(void)state;
	load_bad("[1, 2]", NULL, WEFT_EPARSE, 1, 1, NULL, "not an array");
	load_bad("{\"targets\": []}", NULL, WEFT_EPARSE, 1, 1, NULL,
	    "no \"graph\" field");
	load_bad("{\"graph\": [1]}", NULL, WEFT_ETYPE, 1, 11, NULL,
	    "\"graph\" is an array, not an object");
	load_bad("{\"graph\": {\"a\": 1}, \"targets\": [\"a\", 3]}", NULL,
	    WEFT_ETYPE, 1, 38, NULL, "target 2 is an integer, not a key");
	load_bad("{\"graph\": {\"alpha\": 1}, \"targets\": [\"alpah\"]}", NULL,
	    WEFT_ENOTFOUND, 1, 37, NULL,
	    "target 'alpah' is not a key of the graph (did you mean "
	    "'alpha'?)");
	load_bad("{\"graph\": {\"a\": 1}, \"targets\": {\"a\": 1}}", NULL,
	    WEFT_ETYPE, 1, 32, NULL, "\"targets\" is an object");
	const char *t[] = { "zz" };
	weft_spec_opts o = { .targets = t, .ntargets = 1 };
	load_bad("{\"graph\": {\"a\": 1}}", &o, WEFT_ENOTFOUND, 0, 0, NULL,
	    "target 'zz' is not a key");
	/* No key is close to 'zz': the graph is small, so name its keys. */
	assert_string_equal(err.message,
	    "t.json: error: target 'zz' is not a key of the graph (the keys "
	    "are: 'a')");

	/* Unknown top-level fields are warnings. */
	weft_spec *s = load_ok("{\"graph\": {\"a\": 1},\n \"extra\": 1, "
			       "\"more\": {}}",
	    NULL);
	assert_int_equal(weft_spec_nwarnings(s), 2);
	assert_string_equal(weft_spec_warning(s, 0),
	    "t.json:2:2: warning: unknown top-level field 'extra' ignored");
	assert_null(weft_spec_warning(s, 2));
	weft_spec_free(s);
}

static void
test_computation_errors(void **state)
{
	(void)state;
	load_bad("{\"graph\": {\"x\": 1,\n \"y\": [\"frobnicate\", \"x\"]}}",
	    NULL, WEFT_ENOTFOUND, 2, 8, "y",
	    "unknown function 'frobnicate' in key 'y'");
	load_bad("{\"graph\": {\"y\": [\"ad\", 1, 2]}}", NULL,
	    WEFT_ENOTFOUND, 1, 18, "y",
	    "unknown function 'ad' in key 'y' (did you mean 'add'?)");
	load_bad("{\"graph\": {\"y\": [\"add\", 1, [\"inc\"]]}}", NULL,
	    WEFT_EINVAL, 1, 28, "y",
	    "function 'inc' takes 1 argument, got 0 (in key 'y')");
	load_bad("{\"graph\": {\"y\": [\"add\", 1, 2, 3]}}", NULL, WEFT_EINVAL,
	    1, 17, "y", "function 'add' takes 2 arguments, got 3");
	load_bad("{\"graph\": {\"y\": {\"fn\": \"range\"}}}", NULL, WEFT_EINVAL,
	    1, 17, "y", "function 'range' takes 1..3 arguments, got 0");
	load_bad("{\"graph\": {\"y\": {\"fn\": \"nope\", \"args\": []}}}", NULL,
	    WEFT_ENOTFOUND, 1, 24, "y", "unknown function 'nope'");
	load_bad("{\"graph\": {\"y\": {\"fn\": 3}}}", NULL, WEFT_ETYPE, 1, 24,
	    "y", "'fn' is an integer, not a function name");
	load_bad("{\"graph\": {\"y\": {\"fn\": \"inc\", \"args\": 3}}}", NULL,
	    WEFT_ETYPE, 1, 39, "y", "'args' is an integer, not an array");
	load_bad("{\"graph\": {\"y\": {\"args\": [1]}}}", NULL, WEFT_EPARSE, 1,
	    18, "y", "'args' without 'fn' (in key 'y')");
	load_bad("{\"graph\": {\"y\": {\"x\": 1}}}", NULL, WEFT_EPARSE, 1,
	    17, "y", "an object is not a value (in key 'y')");
	load_bad("{\"graph\": {\"x\": 1, \"y\": {\"ref\": \"xx\"}}}", NULL,
	    WEFT_ENOTFOUND, 1, 33, "y",
	    "key 'y' refers to a missing key 'xx' (did you mean 'x'?)");
	load_bad("{\"graph\": {\"y\": {\"ref\": 1}}}", NULL, WEFT_ETYPE, 1, 25,
	    "y", "'ref' is an integer, not a key");
	load_bad("{\"graph\": {\"y\": {\"list\": 1}}}", NULL, WEFT_ETYPE, 1, 26,
	    "y", "'list' is an integer, not an array");
	load_bad("{\"graph\": {\"y\": {\"lit\": 1, \"ref\": \"y\"}}}", NULL,
	    WEFT_EPARSE, 1, 17, "y", "exactly one of");
	load_bad("{\"graph\": {\"y\": {\"lit\": 1, \"junk\": 2}}}", NULL,
	    WEFT_EPARSE, 1, 28, "y", "unknown field 'junk'");
	load_bad("{\"graph\": {\"y\": [1, {\"a\": 2}]}}", NULL, WEFT_EPARSE, 1,
	    21, "y", "an object is not a value");
	load_bad("{\"graph\": {\"y\": {\"lit\": [1, {\"a\": 2}]}}}", NULL,
	    WEFT_ETYPE, 1, 29, "y", "an object is not a value");

	/* A function that takes numbers only (WEFT_FUNC_NUMBERS): a literal
	 * that is no number is refused when the file is read, as check and
	 * run must agree; nested and explicit calls alike, keys are fine. */
	load_bad("{\"graph\": {\"x\": 1, \"y\": [\"add\", 1, [\"neg\", \"xx\"]]}}",
	    NULL, WEFT_ETYPE, 1, 44, "y",
	    "'xx' is not a key, and function 'neg' takes numbers: argument 1 "
	    "would be a string (in key 'y') (did you mean 'x'?)");
	load_bad("{\"graph\": {\"y\": {\"fn\": \"pow\", \"args\": [2, null]}}}",
	    NULL, WEFT_ETYPE, 1, 43, "y",
	    "function 'pow' takes numbers: argument 2 is a nil (in key 'y')");
	expect_run("{\"graph\": {\"x\": 2, \"y\": [\"mul\", \"x\", true]}}",
	    "{\"y\": 2}");

	/* Strict: a string that is not a key is an error. */
	weft_spec_opts o = { .flags = WEFT_SPEC_STRICT };
	load_bad("{\"graph\": {\"xy\": 1, \"y\": [\"identity\", \"yx\"]}}", &o,
	    WEFT_ENOTFOUND, 1, 39, "y",
	    "'yx' is not a key (in key 'y'; --strict) (did you mean 'xy' or "
	    "'y'?)");
	weft_spec *s = load_ok(
	    "{\"graph\": {\"y\": [\"identity\", {\"lit\": \"yx\"}]}}", &o);
	assert_string_equal(run(s), "{\"y\": \"yx\"}");
	weft_spec_free(s);
}

static void
test_cycles(void **state)
{
	(void)state;
	load_bad("{\"graph\": {\"a\": [\"inc\", \"b\"],\n \"b\": [\"inc\", "
		 "\"c\"],\n \"c\": [\"add\", 1, [\"inc\", \"a\"]]}}",
	    NULL, WEFT_ECYCLE, 1, 12, "a", "cycle: a -> b -> c -> a");
	load_bad("{\"graph\": {\"ok\": 1, \"x\": [\"inc\", \"x\"]}}", NULL,
	    WEFT_ECYCLE, 1, 21, "x", "cycle: x -> x");
	load_bad("{\"graph\": {\"p\": \"q\", \"q\": {\"ref\": \"p\"}}}", NULL,
	    WEFT_ECYCLE, 1, 12, "p", "cycle: p -> q -> p");

	/* A long cycle is shortened in the message. */
	char buf[8192];
	size_t n = (size_t)sprintf(buf, "{\"graph\": {");
	for (int i = 0; i < 100; i++)
		n += (size_t)sprintf(buf + n, "%s\"k%d\": [\"inc\", \"k%d\"]",
		    i ? ", " : "", i, (i + 1) % 100);
	sprintf(buf + n, "}}");
	load_bad(buf, NULL, WEFT_ECYCLE, 1, 12, "k0",
	    "cycle: k0 -> k1 -> k2 -> k3 -> k4 -> k5 -> k6 -> k7 -> ... (86 "
	    "more) -> k94 -> k95 -> k96 -> k97 -> k98 -> k99 -> k0");
}

static void
test_limits(void **state)
{
	(void)state;
	weft_spec_opts o = { .max_depth = 3 };
	weft_spec *s = load_ok("{\"graph\": {\"y\": [\"inc\", [\"inc\", "
			       "[\"inc\", 1]]]}}",
	    &o);
	assert_string_equal(run(s), "{\"y\": 4}");
	weft_spec_free(s);
	load_bad("{\"graph\": {\"y\": [\"inc\", [\"inc\", [\"inc\", [1]]]]}}",
	    &o, WEFT_ERANGE, 1, 41, "y", "key 'y' nests deeper than 3 levels");
	o = (weft_spec_opts) { .max_keys = 2 };
	load_bad("{\"graph\": {\"a\": 1, \"b\": 2, \"c\": 3}}", &o, WEFT_ERANGE,
	    1, 11, NULL, "the graph has 3 keys, more than the limit of 2");
	o = (weft_spec_opts) { .max_bytes = 10 };
	load_bad("{\"graph\": {\"a\": 1}}", &o, WEFT_ERANGE, 0, 0, NULL,
	    "larger than the limit of 10 bytes");
	o = (weft_spec_opts) { .max_depth = WEFT_SPEC_MAX_DEPTH_LIMIT + 1 };
	load_bad("{}", &o, WEFT_EINVAL, 0, 0, NULL, "max_depth");
	o = (weft_spec_opts) { .flags = 1u << 20 };
	load_bad("{}", &o, WEFT_EINVAL, 0, 0, NULL, "unknown flags");
	o = (weft_spec_opts) { .ntargets = 1 };
	load_bad("{}", &o, WEFT_EINVAL, 0, 0, NULL, "ntargets");
	o = (weft_spec_opts) { .reserved[0] = &o };
	load_bad("{}", &o, WEFT_EINVAL, 0, 0, NULL, "reserved");

	/* NULL arguments. */
	weft_spec *out = (weft_spec *)&out;
	assert_int_equal(weft_spec_load_buffer("{}", 2, NULL, NULL, NULL, &out,
			     NULL),
	    WEFT_EINVAL);
	assert_null(out);
	assert_int_equal(
	    weft_spec_load_buffer("{}", 2, NULL, reg, NULL, NULL, &err),
	    WEFT_EINVAL);
	assert_int_equal(weft_spec_load_file(NULL, reg, NULL, &out, &err),
	    WEFT_EINVAL);
	assert_int_equal(
	    weft_spec_load_buffer(NULL, 5, NULL, reg, NULL, &out, &err),
	    WEFT_EINVAL);
	weft_spec_free(NULL);
	assert_null(weft_spec_graph(NULL));
	assert_int_equal(weft_spec_ntargets(NULL), 0);
	assert_int_equal(weft_spec_stats_get(NULL, NULL), WEFT_EINVAL);
}

static void
test_run_failures(void **state)
{
	(void)state;
	const char *key, *fn, *msg;

	weft_spec *s = load_ok("{\"graph\": {\"x\": 0, \"it's\": [\"add\", 1, "
			       "[\"div\", 1, \"x\"]], \"z\": [\"inc\", "
			       "\"it's\"]}}",
	    NULL);
	assert_int_equal(weft_spec_failure(s, &key, &fn, &msg),
	    WEFT_ENOTFOUND);
	assert_string_equal(run(s), "ERROR WEFT_ETASK");
	assert_int_equal(weft_spec_failure(s, &key, &fn, &msg), WEFT_OK);
	assert_string_equal(key, "it's");
	assert_string_equal(fn, "div");
	assert_string_equal(msg, "division by zero");
	weft_spec_free(s);

	s = load_ok("{\"graph\": {\"y\": [\"fail\", \"on purpose\"]}}", NULL);
	assert_string_equal(run(s), "ERROR WEFT_ETASK");
	assert_int_equal(weft_spec_failure(s, &key, &fn, NULL), WEFT_OK);
	assert_string_equal(key, "y");
	assert_string_equal(fn, "fail");
	assert_int_equal(weft_spec_failure(s, NULL, NULL, &msg), WEFT_OK);
	assert_string_equal(msg, "on purpose");
	weft_spec_free(s);
}

static void
test_dot(void **state)
{
	(void)state;
	char buf[2048];
	weft_spec *s = load_ok("{\"graph\": {\"x\": [\"range\", 20], \"q\": "
			       "\"x\", \"y\": [\"add\", \"q\", [[\"inc\", 1], "
			       "{\"lit\": \"a\\\"b\"}]], \"unused\": 1}, "
			       "\"targets\": [\"y\"]}",
	    NULL);
	FILE *f = fmemopen(buf, sizeof(buf), "w");
	assert_int_equal(weft_spec_write_dot(s, f, NULL), WEFT_OK);
	fclose(f);
	assert_string_equal(buf,
	    "digraph weft {\n  rankdir=BT;\n  node [shape=box, "
	    "style=\"rounded,filled\", fillcolor=white, "
	    "fontname=\"monospace\"];\n"
	    "  n0 [label=\"x\\nrange(20)\"];\n"
	    "  n1 [label=\"q\\nx\"];\n  n0 -> n1;\n"
	    "  n2 [label=\"y\\nadd(q, [inc(1), \\\"a\\\\\\\"b\\\"])\"];\n"
	    "  n1 -> n2;\n}\n");
	assert_int_equal(weft_spec_write_dot(NULL, stdout, NULL), WEFT_EINVAL);
	assert_int_equal(weft_spec_write_dot(s, NULL, NULL), WEFT_EINVAL);
	weft_spec_free(s);
}

static void
test_files(void **state)
{
	(void)state;
	char path[] = "/tmp/weft-spec-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	const char *text = "{\"graph\": {\"a\": [\"sum\", [1, 2, 3]]}}";
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	weft_spec *s = NULL;
	assert_int_equal(weft_spec_load_file(path, reg, NULL, &s, &err), 0);
	assert_string_equal(run(s), "{\"a\": 6}");
	weft_spec_free(s);
	unlink(path);

	assert_int_equal(weft_spec_load_file(path, reg, NULL, &s, &err),
	    WEFT_EIO);
	assert_non_null(strstr(err.message, "cannot open"));
	assert_int_equal(
	    weft_spec_load_file("/tmp", reg, NULL, &s, &err), WEFT_EIO);
	assert_non_null(strstr(err.message, "/tmp: error: cannot read"));
}

/* 100,000 keys in one chain, and 100,000 leaves into one sum: read,
 * checked and run without recursion over keys. */
static void
test_big(void **state)
{
	(void)state;
	enum { N = 100000 };
	size_t cap = (size_t)N * 48 + 64, n = 0;
	char *buf = malloc(cap);
	assert_non_null(buf);
	n += (size_t)sprintf(buf + n, "{\"graph\": {\"c0\": 0");
	for (int i = 1; i < N; i++)
		n += (size_t)sprintf(
		    buf + n, ", \"c%d\": [\"inc\", \"c%d\"]", i, i - 1);
	n += (size_t)sprintf(buf + n, ", \"all\": [\"sum\", [");
	for (int i = 0; i < N; i++)
		n += (size_t)sprintf(buf + n, "%s\"c%d\"", i ? ", " : "", i);
	sprintf(buf + n, "]]}}");

	weft_spec *s = load_ok(buf, NULL);
	weft_spec_stats st;
	weft_spec_stats_get(s, &st);
	assert_int_equal(st.keys, N + 1);
	assert_int_equal(st.tasks, N + 1);
	assert_int_equal(st.depth, N + 1);
	assert_string_equal(run(s), "{\"all\": 4999950000}");
	weft_spec_free(s);

	free(buf);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_compact_forms),
		cmocka_unit_test(test_explicit_forms),
		cmocka_unit_test(test_key_fields),
		cmocka_unit_test(test_targets_and_cull),
		cmocka_unit_test(test_syntax_errors),
		cmocka_unit_test(test_layout_errors),
		cmocka_unit_test(test_computation_errors),
		cmocka_unit_test(test_cycles),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_run_failures),
		cmocka_unit_test(test_dot),
		cmocka_unit_test(test_files),
		cmocka_unit_test(test_big),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
