/* The analytics' registered functions (weft_registry_add_analytics) in a
 * graph file, as `weft run` would load it, give the same results as the C
 * API; and their bad arguments fail with messages. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "testutil.h"

static weft_registry *reg;

static int
setup(void **state)
{
	(void)state;
	reg = weft_registry_new();
	if (!reg || weft_registry_add_builtins(reg) != WEFT_OK ||
	    weft_registry_add_analytics(reg) != WEFT_OK)
		return -1;
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	weft_registry_free(reg);
	weft_shutdown();
	return 0;
}

/* Loads `json` and computes its targets; returns the compute's code. */
static int
run_json(const char *json, size_t n, weft_value *out, char *err, size_t errsize)
{
	weft_spec *s;
	weft_spec_error se;
	int rc = weft_spec_load_buffer(json, strlen(json), "test.json", reg, NULL,
	    &s, &se);
	if (rc != WEFT_OK) {
		snprintf(err, errsize, "load: %s", weft_strerror(rc));
		return rc;
	}
	assert_int_equal(weft_spec_ntargets(s), n);
	weft_pool_opts po = { .threads = 2 };
	weft_pool *p = weft_pool_new(&po);
	weft_opts o = { .pool = p };
	rc = weft_compute(weft_spec_graph(s), n, weft_spec_targets(s), out, &o);
	if (rc != WEFT_OK)
		snprintf(err, errsize, "%s", weft_graph_error(weft_spec_graph(s)));
	weft_pool_free(p);
	weft_spec_free(s);
	return rc;
}

static char *
write_csv(uint64_t *seed, size_t rows)
{
	char *path = malloc(256);
	snprintf(path, 256, "%s/weft-reg-XXXXXX",
	    getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	FILE *f = fdopen(fd, "w");
	fprintf(f, "id,key,name,x\n");
	for (size_t i = 0; i < rows; i++)
		fprintf(f, "%zu,%d,\"n%d\",%.6f\n", i, (int)(tu_rand(seed) % 9),
		    (int)(tu_rand(seed) % 4), (double)(tu_rand(seed) % 100000) / 7);
	fclose(f);
	return path;
}

static void
csv_graph_matches_api(void **state)
{
	(void)state;
	uint64_t seed = 3;
	char *path = write_csv(&seed, 5000);
	for (int nch = 1; nch <= 9; nch += 4) {
		char json[8192];
		int k = snprintf(json, sizeof json, "{\"graph\": {");
		for (int i = 0; i < nch; i++)
			k += snprintf(json + k, sizeof json - (size_t)k,
			    "\"c%d\": [\"csv.chunk\", {\"lit\": \"%s\"}, %d, %d, "
			    "{\"lit\": \"key:int\"}, {\"lit\": \"mean:x\"}, "
			    "{\"lit\": \"std:x\"}, {\"lit\": \"count\"}],",
			    i, path, i, nch);
		k += snprintf(json + k, sizeof json - (size_t)k,
		    "\"m\": [\"csv.merge\"");
		for (int i = 0; i < nch; i++)
			k += snprintf(json + k, sizeof json - (size_t)k,
			    ", {\"ref\": \"c%d\"}", i);
		snprintf(json + k, sizeof json - (size_t)k,
		    "], \"frame\": [\"csv.frame\", {\"ref\": \"m\"}],"
		    " \"info\": [\"csv.info\", {\"ref\": \"m\"}]},"
		    " \"targets\": [\"frame\", \"info\"]}");
		weft_value v[2];
		char err[512];
		int rc = run_json(json, 2, v, err, sizeof err);
		if (rc != WEFT_OK) {
			print_error("%s\n", err);
			fail();
		}

		/* The same through the C API. */
		weft_csv_opts co = { .nchunks = (size_t)nch };
		weft_csv *c;
		assert_int_equal(weft_csv_open(path, &co, &c, NULL, 0), WEFT_OK);
		weft_graph *g = weft_graph_new();
		weft_csv_agg ag[3] = { { "x", WEFT_AGG_MEAN, WEFT_CSV_FLOAT },
			{ "x", WEFT_AGG_STD, WEFT_CSV_FLOAT },
			{ NULL, WEFT_AGG_COUNT, WEFT_CSV_FLOAT } };
		weft_csv_query q = { .group_by = "key", .key_type = WEFT_CSV_INT,
			.naggs = 3, .aggs = ag };
		weft_node t;
		assert_int_equal(weft_csv_aggregate(c, g, &q, &t, NULL), WEFT_OK);
		weft_value want;
		assert_int_equal(weft_compute(g, 1, &t, &want, NULL), WEFT_OK);
		assert_int_equal(weft_frame_nrows(v[0]), 9);
		assert_true(weft_value_equal(v[0], want));
		weft_csv_info in;
		assert_int_equal(weft_csv_info_get(v[1], &in), WEFT_OK);
		assert_int_equal(in.rows, 5000);
		weft_value_release(&want);
		weft_value_release(&v[0]);
		weft_value_release(&v[1]);
		weft_graph_free(g);
		weft_csv_free(c);
	}

	/* Errors: a missing column, a bad aggregate, not a partial. */
	static const char *bad[][2] = {
		{ "[\"csv.chunk\", {\"lit\": \"%s\"}, 0, 1, null, {\"lit\": \"mean:nope\"}]",
		    "no such column" },
		{ "[\"csv.chunk\", {\"lit\": \"%s\"}, 0, 1, null, {\"lit\": \"avg:x\"}]",
		    "want \"op:column\"" },
		{ "[\"csv.chunk\", {\"lit\": \"%s\"}, 3, 2, null, {\"lit\": \"mean:x\"}]",
		    "0 <= i < n" },
		{ "[\"csv.frame\", {\"lit\": \"%s\"}]", "not a csv.chunk partial" },
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		char task[512], json[1024], err[512];
		snprintf(task, sizeof task, bad[i][0], path);
		snprintf(json, sizeof json,
		    "{\"graph\": {\"t\": %s}, \"targets\": [\"t\"]}", task);
		weft_value v;
		assert_int_equal(run_json(json, 1, &v, err, sizeof err), WEFT_ETASK);
		if (!strstr(err, bad[i][1])) {
			print_error("got \"%s\", want \"%s\"\n", err, bad[i][1]);
			fail();
		}
	}
	unlink(path);
	free(path);
}

/* "count" alone, through csv.merge of several ranges (issue 11.2: a
 * zero-size copy in the merge failed as "out of memory"). */
static void
csv_graph_count_alone(void **state)
{
	(void)state;
	uint64_t seed = 5;
	char *path = write_csv(&seed, 300);
	for (int keyed = 0; keyed < 2; keyed++) {
		char json[2048];
		snprintf(json, sizeof json,
		    "{\"graph\": {"
		    "\"c0\": [\"csv.chunk\", {\"lit\": \"%s\"}, 0, 3, %s, "
		    "{\"lit\": \"count\"}],"
		    "\"c1\": [\"csv.chunk\", {\"lit\": \"%s\"}, 1, 3, %s, "
		    "{\"lit\": \"count\"}],"
		    "\"c2\": [\"csv.chunk\", {\"lit\": \"%s\"}, 2, 3, %s, "
		    "{\"lit\": \"count\"}],"
		    "\"m\": [\"csv.merge\", {\"ref\": \"c0\"}, {\"ref\": \"c1\"}, "
		    "{\"ref\": \"c2\"}],"
		    "\"frame\": [\"csv.frame\", {\"ref\": \"m\"}]},"
		    " \"targets\": [\"frame\"]}",
		    path, keyed ? "{\"lit\": \"key:int\"}" : "null", path,
		    keyed ? "{\"lit\": \"key:int\"}" : "null", path,
		    keyed ? "{\"lit\": \"key:int\"}" : "null");
		weft_value v;
		char err[512];
		int rc = run_json(json, 1, &v, err, sizeof err);
		if (rc != WEFT_OK) {
			print_error("%s\n", err);
			fail();
		}
		weft_value counts = weft_frame_col(v, keyed ? 1 : 0);
		double total = 0;
		for (size_t i = 0; i < weft_len(counts); i++)
			total += weft_f64s_data(counts)[i];
		assert_true(total == 300);
		weft_value_release(&v);
	}
	unlink(path);
	free(path);
}

static void
array_graph_matches_api(void **state)
{
	(void)state;
	const char *json =
	    "{\"graph\": {"
	    "\"g0\": [\"array.gen\", {\"lit\": \"normal\"}, 1.0, 2.0, 7, 0, 1000],"
	    "\"g1\": [\"array.gen\", {\"lit\": \"normal\"}, 1.0, 2.0, 7, 1000, 2345],"
	    "\"m0\": [\"array.moments\", {\"ref\": \"g0\"}],"
	    "\"m1\": [\"array.moments\", {\"ref\": \"g1\"}],"
	    "\"m\": [\"array.merge\", {\"ref\": \"m0\"}, {\"ref\": \"m1\"}],"
	    "\"stats\": [\"array.stats\", {\"ref\": \"m\"}],"
	    "\"h\": [\"array.vadd\", [\"array.hist\", -3, 5, 4, {\"ref\": \"g0\"}],"
	    "        [\"array.hist\", -3, 5, 4, {\"ref\": \"g1\"}]]},"
	    "\"targets\": [\"stats\", \"h\"]}";
	weft_value v[2];
	char err[512];
	int rc = run_json(json, 2, v, err, sizeof err);
	if (rc != WEFT_OK) {
		print_error("%s\n", err);
		fail();
	}
	weft_graph *g = weft_graph_new();
	weft_gen gen = { .kind = WEFT_GEN_NORMAL, .a = 1, .b = 2, .seed = 7 };
	size_t lens[2] = { 1000, 2345 };
	weft_chunking ch = { .nchunks = 2, .lens = lens };
	weft_array *a;
	assert_int_equal(weft_array_generate(g, &gen, 3345, &ch, &a), WEFT_OK);
	weft_node t[2];
	assert_int_equal(weft_array_stats(a, &t[0]), WEFT_OK);
	assert_int_equal(weft_array_histogram(a, -3, 5, 4, &t[1]), WEFT_OK);
	weft_value w[2];
	assert_int_equal(weft_compute(g, 2, t, w, NULL), WEFT_OK);
	weft_stats s;
	weft_stats_get(w[0], &s);
	assert_string_equal(weft_as_str(weft_list_get(weft_list_get(v[0], 2), 0)),
	    "mean");
	assert_int_equal(weft_as_int(weft_list_get(weft_list_get(v[0], 0), 1)),
	    3345);
	assert_true(weft_as_float(weft_list_get(weft_list_get(v[0], 2), 1)) ==
	    s.mean);
	assert_true(weft_as_float(weft_list_get(weft_list_get(v[0], 3), 1)) ==
	    s.std);
	assert_true(weft_value_equal(v[1], w[1]));
	for (int i = 0; i < 2; i++) {
		weft_value_release(&v[i]);
		weft_value_release(&w[i]);
	}
	weft_array_free(a);
	weft_graph_free(g);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(csv_graph_matches_api),
		cmocka_unit_test(csv_graph_count_alone),
		cmocka_unit_test(array_graph_matches_api),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
