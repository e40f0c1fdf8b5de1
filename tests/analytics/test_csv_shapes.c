/* Every shape of CSV query on one range and on many: no key, an INT key, a
 * STR key; a row count alone, one column's count, one aggregate, several;
 * the column as an array. Each against a reference computed from the rows
 * the test wrote. The values are multiples of 1/4, so that every sum is
 * exact and the results can be compared exactly whatever the merge order.
 *
 * (Issue 11.2: a row count alone over more than one range failed with a
 * false "out of memory": the merge copied a zero-size array.) */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "csvutil.h"
#include "testutil.h"

#define NKEY 7	/* INT keys 0..6 */
#define NNAME 5 /* STR keys n0..n4 */
#define NROWS 700

struct ref {
	double rows, count, sum, min, max;
};

static struct table {
	char *csv;
	size_t len;
	int key[NROWS], name[NROWS];
	double x[NROWS]; /* NaN: missing */
} tab;

static char *path;

static int
setup(void **state)
{
	(void)state;
	size_t cap = 64 * NROWS;
	uint64_t s = 0x5A4E;
	tab.csv = malloc(cap);
	int k = snprintf(tab.csv, cap, "id,key,name,x\n");
	for (int i = 0; i < NROWS; i++) {
		tab.key[i] = (int)(tu_rand(&s) % NKEY);
		tab.name[i] = (int)(tu_rand(&s) % NNAME);
		k += snprintf(tab.csv + k, cap - (size_t)k, "%d,%d,\"n%d\",", i,
		    tab.key[i], tab.name[i]);
		if (tu_rand(&s) % 9 == 0) {
			tab.x[i] = NAN;
		} else {
			tab.x[i] = (double)((int)(tu_rand(&s) % 2001) - 1000) / 4;
			k += snprintf(tab.csv + k, cap - (size_t)k, "%.2f",
			    tab.x[i]);
		}
		tab.csv[k++] = '\n';
	}
	tab.len = (size_t)k;
	path = write_file(tab.csv, tab.len);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	drop_file(path);
	free(tab.csv);
	weft_shutdown();
	return 0;
}

/* by: 0 none, 1 INT key, 2 STR key. Fills ref[] per group index. */
static size_t
reference(int by, struct ref *ref)
{
	size_t ng = by == 0 ? 1 : by == 1 ? NKEY : NNAME;
	for (size_t g = 0; g < ng; g++)
		ref[g] = (struct ref) { 0, 0, 0, INFINITY, -INFINITY };
	for (int i = 0; i < NROWS; i++) {
		struct ref *r = &ref[by == 0 ? 0 : by == 1 ? tab.key[i] : tab.name[i]];
		r->rows++;
		if (isnan(tab.x[i]))
			continue;
		r->count++;
		r->sum += tab.x[i];
		r->min = fmin(r->min, tab.x[i]);
		r->max = fmax(r->max, tab.x[i]);
	}
	return ng;
}

static double
want(const struct ref *r, weft_csv_agg a)
{
	if (!a.column)
		return r->rows;
	switch (a.op) {
	case WEFT_AGG_COUNT:
		return r->count;
	case WEFT_AGG_SUM:
		return r->sum;
	case WEFT_AGG_MEAN:
		return r->count ? r->sum / r->count : NAN;
	case WEFT_AGG_MIN:
		return r->count ? r->min : NAN;
	default:
		return r->count ? r->max : NAN;
	}
}

static const weft_csv_agg count_rows[] = { { NULL, WEFT_AGG_COUNT, 0 } };
static const weft_csv_agg count_x[] = { { "x", WEFT_AGG_COUNT, 0 } };
static const weft_csv_agg sum_x[] = { { "x", WEFT_AGG_SUM, 0 } };
static const weft_csv_agg several[] = { { NULL, WEFT_AGG_COUNT, 0 },
	{ "x", WEFT_AGG_MIN, 0 }, { "x", WEFT_AGG_MEAN, 0 },
	{ "x", WEFT_AGG_MAX, 0 } };
static const struct {
	const weft_csv_agg *aggs;
	size_t n;
} agg_sets[] = { { count_rows, 1 }, { count_x, 1 }, { sum_x, 1 },
	{ several, 4 } };

/* The chunkings: one range, tiny ranges, a few ranges, and a few with the
 * quote-counting pass. */
static weft_csv_opts
chunking(int c)
{
	weft_csv_opts o;
	memset(&o, 0, sizeof o);
	if (c == 0)
		o.nchunks = 1;
	else if (c == 1)
		o.chunk_bytes = 13;
	else if (c == 2)
		o.nchunks = 7;
	else {
		o.nchunks = 5;
		o.flags = WEFT_CSV_MULTILINE;
	}
	return o;
}

static void
every_query_shape(void **state)
{
	(void)state;
	static const char *const keys[] = { NULL, "key", "name" };
	weft_pool_opts po = { .threads = 2 };
	weft_pool *pool = weft_pool_new(&po);
	assert_non_null(pool);
	for (int by = 0; by < 3; by++) {
		struct ref ref[NKEY];
		size_t ng = reference(by, ref);
		for (size_t a = 0; a < sizeof agg_sets / sizeof agg_sets[0]; a++) {
			for (int c = 0; c < 4; c++) {
				weft_csv_opts o = chunking(c);
				weft_csv *csv;
				char err[256];
				assert_int_equal(weft_csv_open(path, &o, &csv, err,
						     sizeof err),
				    WEFT_OK);
				assert_true(c == 0 || weft_csv_nchunks(csv) > 1);
				weft_csv_query q = { .group_by = keys[by],
					.key_type = by == 1 ? WEFT_CSV_INT :
							      WEFT_CSV_STR,
					.naggs = agg_sets[a].n,
					.aggs = agg_sets[a].aggs };
				weft_graph *g = weft_graph_new();
				weft_node t[2];
				assert_int_equal(
				    weft_csv_aggregate(csv, g, &q, &t[0], &t[1]),
				    WEFT_OK);
				weft_csv_free(csv);
				weft_value v[2];
				weft_opts wo = { .pool = pool };
				int rc = weft_compute(g, 2, t, v, &wo);
				CHECK(rc == WEFT_OK, "by %d, aggs %zu, chunking %d: %s\n",
				    by, a, c, weft_graph_error(g));
				int keyed = by != 0;
				weft_value f = v[0];
				CHECK(weft_frame_ncols(f) == agg_sets[a].n + (size_t)keyed,
				    "by %d, aggs %zu: %zu columns\n", by, a,
				    weft_frame_ncols(f));
				size_t row = 0;
				for (size_t gi = 0; gi < ng; gi++) {
					if (keyed && ref[gi].rows == 0)
						continue;
					for (size_t j = 0; j < agg_sets[a].n; j++) {
						double got = weft_f64s_data(weft_frame_col(
						    f, j + (size_t)keyed))[row];
						double w = want(&ref[gi],
						    agg_sets[a].aggs[j]);
						CHECK(got == w || (isnan(got) && isnan(w)),
						    "by %d, aggs %zu, chunking %d, "
						    "group %zu, column %zu: %g, want "
						    "%g\n",
						    by, a, c, gi, j, got, w);
					}
					row++;
				}
				CHECK(weft_frame_nrows(f) == row, "%zu rows, want %zu\n",
				    weft_frame_nrows(f), row);
				weft_csv_info in;
				assert_int_equal(weft_csv_info_get(v[1], &in), WEFT_OK);
				assert_int_equal(in.rows, NROWS);
				weft_value_release(&v[0]);
				weft_value_release(&v[1]);
				weft_graph_free(g);
			}
		}
	}
	weft_pool_free(pool);
}

/* The column as an array, on one range and on many: every value, in file
 * order. */
static void
column_shapes(void **state)
{
	(void)state;
	for (int c = 0; c < 4; c++) {
		weft_csv_opts o = chunking(c);
		weft_csv *csv;
		assert_int_equal(weft_csv_open(path, &o, &csv, NULL, 0), WEFT_OK);
		weft_graph *g = weft_graph_new();
		weft_array *arr;
		assert_int_equal(weft_csv_column(csv, g, "x", WEFT_CSV_FLOAT, &arr),
		    WEFT_OK);
		weft_csv_free(csv);
		size_t n = weft_array_nchunks(arr);
		weft_node *nodes = malloc(n * sizeof *nodes);
		weft_value *vals = malloc(n * sizeof *vals);
		for (size_t i = 0; i < n; i++)
			nodes[i] = weft_array_chunk(arr, i);
		int rc = weft_compute(g, n, nodes, vals, NULL);
		CHECK(rc == WEFT_OK, "chunking %d: %s\n", c, weft_graph_error(g));
		size_t k = 0;
		for (size_t i = 0; i < n; i++) {
			const double *d = weft_f64s_data(vals[i]);
			for (size_t j = 0; j < weft_len(vals[i]); j++, k++) {
				CHECK(k < NROWS, "chunking %d: too many values\n", c);
				CHECK(d[j] == tab.x[k] ||
					(isnan(d[j]) && isnan(tab.x[k])),
				    "chunking %d, row %zu: %g, want %g\n", c, k,
				    d[j], tab.x[k]);
			}
			weft_value_release(&vals[i]);
		}
		CHECK(k == NROWS, "chunking %d: %zu values\n", c, k);
		free(nodes);
		free(vals);
		weft_array_free(arr);
		weft_graph_free(g);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(every_query_shape),
		cmocka_unit_test(column_shapes),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
