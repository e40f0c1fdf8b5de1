/* A CSV file that changes after weft_csv_open (issue 11.4): rows appended,
 * the file truncated at a record end, rewritten with other bytes of the
 * same size, or replaced by another file under its name. A query must
 * fail with "file changed since it was opened", never return the rows of
 * another version of the file. The same for a graph file whose csv.chunk
 * tasks see the file before and after a change: their partials must not
 * merge. Before the fix, appended rows were read and a truncation returned
 * fewer rows with WEFT_OK. */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "csvutil.h"
#include "testutil.h"

static char *
rows(int n)
{
	size_t cap = 32 * (size_t)n + 32;
	char *s = malloc(cap);
	int k = snprintf(s, cap, "key,x\n");
	for (int i = 0; i < n; i++)
		k += snprintf(s + k, cap - (size_t)k, "%d,%d.5\n", i % 3, i);
	return s;
}

static void
append(const char *path, const char *s)
{
	FILE *f = fopen(path, "a");
	assert_non_null(f);
	fputs(s, f);
	fclose(f);
}

/* Sets the file's modification time `sec` seconds in the past, so that a
 * change within the same clock tick is still a change of mtime. */
static void
age(const char *path, int sec)
{
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	struct timespec ts[2] = { st.st_atim, st.st_mtim };
	ts[0].tv_sec -= sec;
	ts[1].tv_sec -= sec;
	assert_int_equal(utimensat(AT_FDCWD, path, ts, 0), 0);
}

enum { APPEND, TRUNCATE, REWRITE, REPLACE, NCHANGES };
static const char *const change_name[] = { "append", "truncate", "rewrite",
	"replace" };

static void
change(const char *path, int how, const char *orig)
{
	switch (how) {
	case APPEND:
		append(path, "1,1000.5\n2,2000.5\n");
		break;
	case TRUNCATE: /* at a record end: the last 10 rows (7 bytes each) go */
		assert_int_equal(truncate(path, (off_t)(strlen(orig) - 10 * 7)),
		    0);
		break;
	case REWRITE: { /* same size, other numbers */
		char *s = strdup(orig);
		for (char *p = s; *p; p++)
			if (*p == '5')
				*p = '7';
		FILE *f = fopen(path, "r+");
		fputs(s, f);
		fclose(f);
		free(s);
		break;
	}
	default: { /* another file renamed over it */
		char *other = write_file(orig, strlen(orig));
		assert_int_equal(rename(other, path), 0);
		free(other);
		break;
	}
	}
}

/* The C API: open, change, compute. */
static void
change_after_open_fails(void **state)
{
	(void)state;
	char *orig = rows(40);
	for (int how = 0; how < NCHANGES; how++) {
		for (int nch = 1; nch <= 4; nch += 3) {
			char *path = write_file(orig, strlen(orig));
			age(path, 10);
			weft_csv_opts o = { .nchunks = (size_t)nch };
			weft_csv *c;
			assert_int_equal(weft_csv_open(path, &o, &c, NULL, 0),
			    WEFT_OK);
			weft_csv_agg ag[] = { { NULL, WEFT_AGG_COUNT, 0 },
				{ "x", WEFT_AGG_SUM, 0 } };
			weft_csv_query q = { .group_by = "key",
				.key_type = WEFT_CSV_INT, .naggs = 2, .aggs = ag };
			weft_graph *g = weft_graph_new();
			weft_node t;
			assert_int_equal(weft_csv_aggregate(c, g, &q, &t, NULL),
			    WEFT_OK);
			weft_array *arr;
			assert_int_equal(
			    weft_csv_column(c, g, "x", WEFT_CSV_FLOAT, &arr),
			    WEFT_OK);
			weft_node s;
			assert_int_equal(weft_array_sum(arr, &s), WEFT_OK);
			weft_csv_free(c);
			change(path, how, orig);
			weft_node both[2] = { t, s };
			for (int k = 0; k < 2; k++) {
				weft_value v;
				int rc = weft_compute(g, 1, &both[k], &v, NULL);
				CHECK(rc == WEFT_ETASK,
				    "%s, %d ranges, %s: computed (%s)\n",
				    change_name[how], nch,
				    k ? "column" : "aggregate", weft_strerror(rc));
				CHECK(strstr(weft_graph_error(g),
					  "file changed since it was opened"),
				    "%s: %s\n", change_name[how],
				    weft_graph_error(g));
			}
			weft_array_free(arr);
			weft_graph_free(g);
			drop_file(path);
		}
	}
	free(orig);
	weft_shutdown();
}

/* -- graph files ------------------------------------------------------------- */

/* test.append(path, after): appends a row to the file and returns the
 * path, so that a task depending on it sees the file changed. */
static int
t_append(weft_ctx *ctx, size_t n, const weft_value *a, weft_value *out)
{
	(void)n;
	(void)ctx;
	append(weft_as_str(a[0]), "0,1.5\n");
	*out = weft_value_retain(a[0]);
	return WEFT_OK;
}

static int
run_json(weft_registry *reg, const char *json, weft_value *out, char *err,
    size_t errsize)
{
	weft_spec *s;
	weft_spec_error se;
	int rc = weft_spec_load_buffer(json, strlen(json), "t.json", reg, NULL,
	    &s, &se);
	if (rc != WEFT_OK) {
		snprintf(err, errsize, "load: %.400s", se.message);
		return rc;
	}
	/* One thread: the chunks run in key order, c0 before the change. */
	weft_pool_opts po = { .threads = 1 };
	weft_pool *p = weft_pool_new(&po);
	weft_opts o = { .pool = p };
	rc = weft_compute(weft_spec_graph(s), 1, weft_spec_targets(s), out, &o);
	if (rc != WEFT_OK)
		snprintf(err, errsize, "%.500s", weft_graph_error(weft_spec_graph(s)));
	weft_pool_free(p);
	weft_spec_free(s);
	return rc;
}

static void
graph_chunks_agree_on_one_version(void **state)
{
	(void)state;
	weft_registry *reg = weft_registry_new();
	assert_non_null(reg);
	assert_int_equal(weft_registry_add_analytics(reg), WEFT_OK);
	assert_int_equal(
	    weft_registry_add(reg, "test.append", t_append, 2, 2, "test"),
	    WEFT_OK);
	char *orig = rows(60);
	char *path = write_file(orig, strlen(orig));
	age(path, 10);
	char json[2048];
	snprintf(json, sizeof json,
	    "{\"graph\": {"
	    "\"c0\": [\"csv.chunk\", {\"lit\": \"%s\"}, 0, 2, null, "
	    "{\"lit\": \"count\"}],"
	    "\"c1\": [\"csv.chunk\", [\"test.append\", {\"lit\": \"%s\"}, "
	    "{\"ref\": \"c0\"}], 1, 2, null, {\"lit\": \"count\"}],"
	    "\"f\": [\"csv.frame\", [\"csv.merge\", {\"ref\": \"c0\"}, "
	    "{\"ref\": \"c1\"}]]},"
	    " \"targets\": [\"f\"]}",
	    path, path);
	weft_value v;
	char err[512];
	int rc = run_json(reg, json, &v, err, sizeof err);
	if (rc == WEFT_OK)
		weft_value_release(&v);
	CHECK(rc == WEFT_ETASK, "the merge of two versions computed\n");
	CHECK(strstr(err, "file changed since it was opened"), "%s\n", err);
	drop_file(path);
	free(orig);
	weft_registry_free(reg);
	weft_shutdown();
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(change_after_open_fails),
		cmocka_unit_test(graph_chunks_agree_on_one_version),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
