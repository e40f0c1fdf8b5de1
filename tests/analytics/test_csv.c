/* The parallel CSV reader (weft/csv.h) against references computed from the
 * rows the test itself wrote: random files (quoted keys with delimiters and
 * doubled quotes, CRLF, blank lines, missing values, numbers in every
 * syntax, no trailing newline), every chunk size from one byte up, pools
 * of 1, 2 and 3 threads; and bad input: ragged rows, unparsable numbers,
 * an empty file, quoted newlines with and without WEFT_CSV_MULTILINE,
 * skipping bad rows. */
#include <float.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "analytics/analytics.h"
#include "base/decimal.h"
#include "csvutil.h"
#include "testutil.h"

static weft_pool *pools[3];

static int
setup(void **state)
{
	(void)state;
	for (unsigned i = 0; i < 3; i++) {
		weft_pool_opts po = { .threads = i + 1 };
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
	for (unsigned i = 0; i < 3; i++)
		weft_pool_free(pools[i]);
	return 0;
}

/* -- files ------------------------------------------------------------------- */

struct buf {
	char *p;
	size_t n, cap;
};

static void
put(struct buf *b, const char *s, size_t n)
{
	if (b->n + n + 1 > b->cap) {
		b->cap = (b->n + n + 1) * 2;
		b->p = realloc(b->p, b->cap);
		assert_non_null(b->p);
	}
	memcpy(b->p + b->n, s, n);
	b->n += n;
	b->p[b->n] = 0;
}

static void
puts_(struct buf *b, const char *s)
{
	put(b, s, strlen(s));
}

static void
printf_(struct buf *b, const char *fmt, ...)
{
	char tmp[256];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
	va_end(ap);
	put(b, tmp, (size_t)n);
}

/* -- the random table and its reference ------------------------------------------ */

#define NKEYS 13

struct row {
	int64_t key;
	int name;	/* index into names[] */
	double x;	/* NaN: missing */
};

static const char *const names[] = { "plain", "with,comma", "say \"hi\"",
	"", "two\nlines", "z" };
/* how each name is written in the file */
static const char *const names_csv[] = { "plain", "\"with,comma\"",
	"\"say \"\"hi\"\"\"", "", "\"two\nlines\"", "\"z\"" };

struct table {
	struct row *rows;
	size_t n;
	struct buf csv;
};

static double
unif(uint64_t *s)
{
	return (double)(tu_rand(s) >> 11) * 0x1.0p-53;
}

/* Writes x in one of several syntaxes and returns what strtod reads. */
static double
put_number(struct buf *b, uint64_t *s)
{
	char tmp[64];
	switch (tu_rand(s) % 9) {
	case 0:
		snprintf(tmp, sizeof tmp, "%lld", (long long)(tu_rand(s) % 2001) - 1000);
		break;
	case 1:
		snprintf(tmp, sizeof tmp, "%.17g", (unif(s) - 0.5) * 1e3);
		break;
	case 2:
		snprintf(tmp, sizeof tmp, "%.3e", (unif(s) - 0.3) * 1e-5);
		break;
	case 3:
		snprintf(tmp, sizeof tmp, " %.2f ", unif(s) * 100);
		break;
	case 4:
		snprintf(tmp, sizeof tmp, "%.21f", unif(s));
		break;
	case 5:
		snprintf(tmp, sizeof tmp, "+%.6f", unif(s) * 1e6);
		break;
	case 6:
		snprintf(tmp, sizeof tmp, "%.15g", (unif(s) - 0.5) * 1e25);
		break;
	default:
		snprintf(tmp, sizeof tmp, "%.6f", unif(s) * 100 - 20);
		break;
	}
	puts_(b, tmp);
	return strtod(tmp, NULL);
}

/* id,key,name,x  with the options given. */
static void
make_table(struct table *t, uint64_t *s, size_t n, int multiline, int crlf)
{
	memset(t, 0, sizeof *t);
	t->rows = calloc(n ? n : 1, sizeof *t->rows);
	t->n = n;
	puts_(&t->csv, "id,key,name,x");
	puts_(&t->csv, crlf ? "\r\n" : "\n");
	for (size_t i = 0; i < n; i++) {
		struct row *r = &t->rows[i];
		r->key = (int64_t)(tu_rand(s) % NKEYS) - 3;
		r->name = (int)(tu_rand(s) % (multiline ? 6 : 4));
		if (!multiline && r->name == 4)
			r->name = 5;
		printf_(&t->csv, "%zu,%lld,%s,", i, (long long)r->key,
		    names_csv[r->name]);
		if (tu_rand(s) % 10 == 0) {
			r->x = NAN; /* missing */
			if (tu_rand(s) % 2)
				puts_(&t->csv, "\"\"");
		} else if (tu_rand(s) % 15 == 0) {
			puts_(&t->csv, "\"");
			r->x = put_number(&t->csv, s);
			puts_(&t->csv, "\"");
		} else {
			r->x = put_number(&t->csv, s);
		}
		if (i + 1 < n || tu_rand(s) % 2)
			puts_(&t->csv, crlf ? "\r\n" : "\n");
		if (tu_rand(s) % 50 == 0)
			puts_(&t->csv, "\n"); /* a blank line */
	}
}

struct agg {
	double count, rows, sum, sum_c, sabs, min, max;
	long double m; /* for the two-pass variance */
	long double q;
};

static void
two_sum(double a, double b, double *s, double *e)
{
	double x = a + b, bv = x - a;
	*e = (a - (x - bv)) + (b - bv);
	*s = x;
}

/* Reference aggregates per key (by int key, or by name when by_name). */
static void
reference(const struct table *t, int by_name, struct agg *out, size_t nout)
{
	for (size_t k = 0; k < nout; k++) {
		memset(&out[k], 0, sizeof out[k]);
		out[k].min = INFINITY;
		out[k].max = -INFINITY;
	}
	for (size_t i = 0; i < t->n; i++) {
		const struct row *r = &t->rows[i];
		struct agg *a = &out[by_name ? (size_t)r->name : (size_t)(r->key + 3)];
		a->rows++;
		if (isnan(r->x))
			continue;
		double e;
		a->count++;
		two_sum(a->sum, r->x, &a->sum, &e);
		a->sum_c += e;
		a->sabs += fabs(r->x);
		a->m += r->x;
		if (r->x < a->min)
			a->min = r->x;
		if (r->x > a->max)
			a->max = r->x;
	}
	for (size_t k = 0; k < nout; k++)
		if (out[k].count)
			out[k].m /= out[k].count;
	for (size_t i = 0; i < t->n; i++) {
		const struct row *r = &t->rows[i];
		struct agg *a = &out[by_name ? (size_t)r->name : (size_t)(r->key + 3)];
		if (!isnan(r->x))
			a->q += ((long double)r->x - a->m) * ((long double)r->x - a->m);
	}
}

static double
ulp(double x)
{
	x = fabs(x);
	return nextafter(x, INFINITY) - x;
}

/* Within k ulps, plus what double-double accumulation may lose when the
 * terms (of absolute sum sabs) cancel: far below one ulp otherwise. */
static int
close_ulps(double got, double want, double k, double sabs)
{
	if (isnan(want))
		return isnan(got);
	return fabs(got - want) <= k * ulp(want) + 0x1.0p-90 * sabs;
}

static const weft_csv_agg aggs[] = {
	{ "x", WEFT_AGG_COUNT, WEFT_CSV_FLOAT },
	{ "x", WEFT_AGG_SUM, WEFT_CSV_FLOAT },
	{ "x", WEFT_AGG_MEAN, WEFT_CSV_FLOAT },
	{ "x", WEFT_AGG_MIN, WEFT_CSV_FLOAT },
	{ "x", WEFT_AGG_MAX, WEFT_CSV_FLOAT },
	{ "x", WEFT_AGG_VAR, WEFT_CSV_FLOAT },
	{ NULL, WEFT_AGG_COUNT, WEFT_CSV_FLOAT },
	{ "x", WEFT_AGG_STD, WEFT_CSV_FLOAT },
};
#define NAGGS (sizeof aggs / sizeof aggs[0])

/* Checks frame row `i` against reference `a`; `big` bounds |x| for the
 * sums' tolerance. */
static void
check_row(weft_value f, size_t i, int off, const struct agg *a)
{
	double got[NAGGS];
	for (size_t j = 0; j < NAGGS; j++)
		got[j] = weft_f64s_data(weft_frame_col(f, j + (size_t)off))[i];
	double sum = a->sum + a->sum_c;
	double var = a->count > 1 ? (double)(a->q / (a->count - 1)) : NAN;
	CHECK(got[0] == a->count, "count %g want %g\n", got[0], a->count);
	/* Both sums are compensated: a few ulps of the largest term. */
	CHECK(close_ulps(got[1], sum, 2, a->sabs), "sum %.17g want %.17g\n",
	    got[1], sum);
	CHECK(close_ulps(got[2], a->count ? sum / a->count : NAN, 2,
		  a->sabs / (a->count ? a->count : 1)),
	    "mean %.17g want %.17g\n", got[2], sum / a->count);
	CHECK(a->count ? got[3] == a->min : isnan(got[3]), "min %.17g want %.17g\n",
	    got[3], a->min);
	CHECK(a->count ? got[4] == a->max : isnan(got[4]), "max %.17g want %.17g\n",
	    got[4], a->max);
	CHECK(isnan(var) ? isnan(got[5]) : fabs(got[5] - var) <= 1e-9 * var,
	    "var %.17g want %.17g\n", got[5], var);
	CHECK(got[6] == a->rows, "rows %g want %g\n", got[6], a->rows);
	CHECK(isnan(var) ? isnan(got[7]) : fabs(got[7] - sqrt(var)) <= 1e-9 * sqrt(var),
	    "std %.17g want %.17g\n", got[7], sqrt(var));
}

/* Runs q on `path` with `opts` on pool p; returns the compute's code and
 * the frame (and info) values. */
static int
run_query(const char *path, const weft_csv_opts *opts, const weft_csv_query *q,
    int p, weft_value *frame, weft_value *info, char *err, size_t errsize)
{
	weft_csv *c;
	char oerr[256];
	int rc = weft_csv_open(path, opts, &c, oerr, sizeof oerr);
	assert_int_equal(rc, WEFT_OK);
	weft_graph *g = weft_graph_new();
	weft_node t[2];
	assert_int_equal(weft_csv_aggregate(c, g, q, &t[0], &t[1]), WEFT_OK);
	weft_csv_free(c); /* the graph keeps what it needs */
	weft_value v[2];
	weft_opts o = { .pool = pools[p] };
	rc = weft_compute(g, 2, t, v, &o);
	if (rc == WEFT_OK) {
		*frame = v[0];
		if (info)
			*info = v[1];
		else
			weft_value_release(&v[1]);
	} else if (err) {
		snprintf(err, errsize, "%s", weft_graph_error(g));
	}
	weft_graph_free(g);
	return rc;
}

/* -- tests ---------------------------------------------------------------------- */

static void
groupby_matches_reference(void **state)
{
	(void)state;
	uint64_t seed = 0xC5F;
	int rounds = (int)(12 * tu_scale()) + 2;
	for (int r = 0; r < rounds; r++) {
		size_t n = (size_t)(tu_rand(&seed) % (size_t)(3000 * tu_scale() + 1));
		struct table t;
		int multiline = r % 3 == 2;
		make_table(&t, &seed, n, multiline, r % 4 == 1);
		char *path = write_file(t.csv.p, t.csv.n);
		struct agg ref_key[NKEYS], ref_name[6];
		reference(&t, 0, ref_key, NKEYS);
		reference(&t, 1, ref_name, 6);
		for (int c = 0; c < 6; c++) {
			weft_csv_opts co = { .flags = multiline ? WEFT_CSV_MULTILINE : 0,
				.fanin = 2 + (unsigned)(tu_rand(&seed) % 4) };
			if (c == 0) /* ranges far shorter than rows */
				co.chunk_bytes = 1 + tu_rand(&seed) % 24;
			else if (c == 1)
				co.nchunks = 1;
			else
				co.chunk_bytes = 1 + tu_rand(&seed) % (t.csv.n / 3 + 2);
			int p = (r + c) % 3;

			/* by int key */
			weft_csv_query q = { .group_by = "key",
				.key_type = WEFT_CSV_INT, .naggs = NAGGS, .aggs = aggs };
			weft_value f, info;
			char err[512];
			int rc = run_query(path, &co, &q, p, &f, &info, err, sizeof err);
			CHECK(rc == WEFT_OK, "round %d chunking %d: %s\n", r, c, err);
			assert_int_equal(weft_frame_ncols(f), NAGGS + 1);
			assert_string_equal(weft_frame_name(f, 0), "key");
			assert_string_equal(weft_frame_name(f, 3), "mean(x)");
			assert_string_equal(weft_frame_name(f, 7), "count");
			assert_int_equal(weft_frame_find(f, "var(x)"), 6);
			size_t row = 0;
			for (int k = 0; k < NKEYS; k++) {
				if (ref_key[k].rows == 0)
					continue;
				assert_int_equal(weft_as_int(weft_list_get(
						     weft_frame_col(f, 0), row)),
				    k - 3);
				check_row(f, row, 1, &ref_key[k]);
				row++;
			}
			assert_int_equal(weft_frame_nrows(f), row);
			weft_csv_info in;
			assert_int_equal(weft_csv_info_get(info, &in), WEFT_OK);
			assert_int_equal(in.rows, (int64_t)n);
			assert_int_equal(in.skipped, 0);
			assert_null(in.first_skipped);
			weft_value_release(&f);
			weft_value_release(&info);

			/* by quoted string key */
			q.group_by = "name";
			q.key_type = WEFT_CSV_STR;
			rc = run_query(path, &co, &q, p, &f, NULL, err, sizeof err);
			CHECK(rc == WEFT_OK, "round %d chunking %d: %s\n", r, c, err);
			/* bytewise order: "", plain, say "hi", two\nlines,
			 * with,comma, z */
			static const int order[6] = { 3, 0, 2, 4, 1, 5 };
			row = 0;
			for (int k = 0; k < 6; k++) {
				const struct agg *a = &ref_name[order[k]];
				if (a->rows == 0)
					continue;
				assert_string_equal(weft_as_str(weft_list_get(
							weft_frame_col(f, 0), row)),
				    names[order[k]]);
				check_row(f, row, 1, a);
				row++;
			}
			assert_int_equal(weft_frame_nrows(f), row);
			weft_value_release(&f);

			/* no grouping: one row */
			q.group_by = NULL;
			struct agg all;
			memset(&all, 0, sizeof all);
			all.min = INFINITY;
			all.max = -INFINITY;
			{
				/* the whole table as one group */
				struct table t1 = t;
				struct row *rr = malloc((n ? n : 1) * sizeof *rr);
				for (size_t i = 0; i < n; i++) {
					rr[i] = t.rows[i];
					rr[i].key = -3;
				}
				t1.rows = rr;
				struct agg tmp[NKEYS];
				reference(&t1, 0, tmp, NKEYS);
				all = tmp[0];
				free(rr);
			}
			rc = run_query(path, &co, &q, p, &f, NULL, err, sizeof err);
			CHECK(rc == WEFT_OK, "round %d chunking %d: %s\n", r, c, err);
			assert_int_equal(weft_frame_nrows(f), 1);
			assert_int_equal(weft_frame_ncols(f), NAGGS);
			check_row(f, 0, 0, &all);
			weft_value_release(&f);
		}
		drop_file(path);
		free(t.rows);
		free(t.csv.p);
	}
}

/* The error of a bad file for every chunk size, and with skipping. */
static void
expect_error(const char *content, const char *want, unsigned flags)
{
	char *path = write_file(content, strlen(content));
	size_t len = strlen(content);
	char full[600];
	snprintf(full, sizeof full, "%s:%s", path, want);
	weft_csv_query q = { .group_by = "key", .key_type = WEFT_CSV_INT,
		.naggs = 3, .aggs = aggs };
	for (size_t cb = 1; cb <= len + 1; cb += 1 + cb / 8) {
		weft_csv_opts co = { .chunk_bytes = cb, .flags = flags };
		weft_value f;
		char err[600];
		int rc = run_query(path, &co, &q, (int)(cb % 3), &f, NULL, err,
		    sizeof err);
		CHECK(rc == WEFT_ETASK, "chunk_bytes %zu: no error for %s\n", cb,
		    want);
		CHECK(strstr(err, full) != NULL,
		    "chunk_bytes %zu: got \"%s\", want \"%s\"\n", cb, err, full);
		/* the failing task is named after the query */
		CHECK(strstr(err, "task 'csv1.") != NULL, "key in \"%s\"\n", err);
	}
	drop_file(path);
}

static void
bad_rows(void **state)
{
	(void)state;
	expect_error("id,key,x\n1,2,3.5\n2,3\n3,4,5\n",
	    "3:4: expected 3 fields, found 2", 0);
	expect_error("id,key,x\n1,2,3.5\n2,3,4,5\n",
	    "3:7: expected 3 fields, found more", 0);
	expect_error("id,key,x\n1,2,3.5\n\n2,3,1.2.3\n",
	    "4:5: column 'x': cannot parse \"1.2.3\" as a number", 0);
	expect_error("id,key,x\n1,2,3.5\n2,x7,1\n",
	    "3:3: column 'key': cannot parse \"x7\" as an integer", 0);
	expect_error("id,key,x\n1,,3.5\n", "2:3: column 'key': missing key", 0);
	/* Two bad rows: the first in the file is reported, whatever range
	 * fails first. */
	expect_error("id,key,x\n1,2,3.5\n2,3,4\n3,4,abc\n4,5,6\n5,6,7\n6,1,e\n",
	    "4:5: column 'x': cannot parse \"abc\" as a number", 0);
	/* A quoted newline without the flag. */
	expect_error("id,key,x\n1,2,\"3.5\n\"\n2,3,4\n",
	    "2:5: quoted field contains a newline; open with WEFT_CSV_MULTILINE",
	    0);
	expect_error("id,key,x\n1,2,\"3.5\"x\n",
	    "2:10: unexpected character after a closing quote", 0);
	/* With the flag, a quote left open runs to the end of the file. */
	expect_error("id,key,x\n1,2,3\n2,3,\"4\n5,6,7\n",
	    "3:1: unterminated quoted field", WEFT_CSV_MULTILINE);
}

static void
skip_bad_rows(void **state)
{
	(void)state;
	const char *s = "id,key,x\r\n1,2,3.5\r\n2,3\r\n3,2,1.5\r\n4,2,zz\r\n"
			"5,3,10\r\n6,3,\r\n7,2,2";
	char *path = write_file(s, strlen(s));
	weft_csv_query q = { .group_by = "key", .key_type = WEFT_CSV_INT,
		.naggs = NAGGS, .aggs = aggs };
	for (size_t cb = 1; cb <= strlen(s) + 1; cb++) {
		weft_csv_opts co = { .chunk_bytes = cb, .flags = WEFT_CSV_SKIP_BAD };
		weft_value f, info;
		char err[512];
		int rc = run_query(path, &co, &q, (int)(cb % 3), &f, &info, err,
		    sizeof err);
		CHECK(rc == WEFT_OK, "%s\n", err);
		weft_csv_info in;
		assert_int_equal(weft_csv_info_get(info, &in), WEFT_OK);
		assert_int_equal(in.rows, 5);
		assert_int_equal(in.skipped, 2);
		assert_int_equal(in.lines, 8);
		assert_non_null(in.first_skipped);
		CHECK(strstr(in.first_skipped, ":3:") &&
			strstr(in.first_skipped, "expected 3 fields, found 2"),
		    "first skipped: %s\n", in.first_skipped);
		assert_int_equal(weft_frame_nrows(f), 2);
		const double *cnt = weft_f64s_data(weft_frame_col(f, 1));
		const double *mean = weft_f64s_data(weft_frame_col(f, 3));
		const double *rows = weft_f64s_data(weft_frame_col(f, 7));
		assert_true(cnt[0] == 3 && mean[0] == 7.0 / 3 && rows[0] == 3);
		assert_true(cnt[1] == 1 && mean[1] == 10 && rows[1] == 2);
		weft_value_release(&f);
		weft_value_release(&info);
	}
	drop_file(path);
}

static void
edge_files(void **state)
{
	(void)state;
	weft_csv *c;
	char err[256];
	/* empty, and only a byte order mark */
	char *p = write_file("", 0);
	assert_int_equal(weft_csv_open(p, NULL, &c, err, sizeof err), WEFT_EPARSE);
	assert_null(c);
	assert_non_null(strstr(err, "empty file"));
	drop_file(p);
	p = write_file("\xEF\xBB\xBF", 3);
	assert_int_equal(weft_csv_open(p, NULL, &c, err, sizeof err), WEFT_EPARSE);
	drop_file(p);
	assert_int_equal(weft_csv_open("/nonexistent/x.csv", NULL, &c, err,
			     sizeof err),
	    WEFT_EIO);
	assert_non_null(strstr(err, "/nonexistent/x.csv: cannot open"));
	p = write_file("a,b,a\n1,2,3\n", 12);
	assert_int_equal(weft_csv_open(p, NULL, &c, err, sizeof err), WEFT_EPARSE);
	assert_non_null(strstr(err, "duplicate column name 'a'"));
	drop_file(p);
	weft_csv_opts bad = { .delim = '\n' };
	assert_int_equal(weft_csv_open("x", &bad, &c, err, sizeof err), WEFT_EINVAL);

	/* a header only: no rows */
	p = write_file("\xEF\xBB\xBFid,key,x", 11);
	assert_int_equal(weft_csv_open(p, NULL, &c, err, sizeof err), WEFT_OK);
	assert_int_equal(weft_csv_ncols(c), 3);
	assert_string_equal(weft_csv_colname(c, 0), "id");
	assert_int_equal(weft_csv_colindex(c, "x"), 2);
	assert_int_equal(weft_csv_colindex(c, "nope"), -1);
	weft_csv_free(c);
	weft_csv_query q = { .group_by = "key", .key_type = WEFT_CSV_INT,
		.naggs = 3, .aggs = aggs };
	weft_value f;
	assert_int_equal(run_query(p, NULL, &q, 0, &f, NULL, NULL, 0), WEFT_OK);
	assert_int_equal(weft_frame_nrows(f), 0);
	weft_value_release(&f);
	q.group_by = NULL;
	assert_int_equal(run_query(p, NULL, &q, 1, &f, NULL, NULL, 0), WEFT_OK);
	assert_int_equal(weft_frame_nrows(f), 1);
	assert_true(weft_f64s_data(weft_frame_col(f, 0))[0] == 0);
	assert_true(weft_f64s_data(weft_frame_col(f, 1))[0] == 0);
	assert_true(isnan(weft_f64s_data(weft_frame_col(f, 2))[0]));
	weft_value_release(&f);
	drop_file(p);

	/* no header, semicolons, CRLF, no final newline, a quoted key */
	const char *s = "1;\"a;b\";2.5\r\n2;c;3.5\r\n3;\"a;b\";4";
	p = write_file(s, strlen(s));
	weft_csv_opts co = { .delim = ';', .flags = WEFT_CSV_NO_HEADER,
		.chunk_bytes = 5 };
	assert_int_equal(weft_csv_open(p, &co, &c, err, sizeof err), WEFT_OK);
	assert_string_equal(weft_csv_colname(c, 2), "2");
	weft_graph *g = weft_graph_new();
	weft_csv_agg a2[2] = { { "2", WEFT_AGG_SUM, WEFT_CSV_FLOAT },
		{ "0", WEFT_AGG_MAX, WEFT_CSV_INT } };
	weft_csv_query q2 = { .group_by = "1", .key_type = WEFT_CSV_STR,
		.naggs = 2, .aggs = a2 };
	weft_node t;
	assert_int_equal(weft_csv_aggregate(c, g, &q2, &t, NULL), WEFT_OK);
	/* unknown columns, bad queries */
	weft_csv_agg a3 = { "nope", WEFT_AGG_SUM, WEFT_CSV_FLOAT };
	weft_csv_query q3 = { .naggs = 1, .aggs = &a3 };
	weft_node t3;
	assert_int_equal(weft_csv_aggregate(c, g, &q3, &t3, NULL), WEFT_ENOTFOUND);
	a3.column = NULL;
	assert_int_equal(weft_csv_aggregate(c, g, &q3, &t3, NULL), WEFT_EINVAL);
	q3.naggs = 0;
	assert_int_equal(weft_csv_aggregate(c, g, &q3, &t3, NULL), WEFT_EINVAL);
	weft_array *arr;
	assert_int_equal(weft_csv_column(c, g, "nope", WEFT_CSV_FLOAT, &arr),
	    WEFT_ENOTFOUND);
	weft_csv_free(c);
	assert_int_equal(weft_compute(g, 1, &t, &f, NULL), WEFT_OK);
	assert_int_equal(weft_frame_nrows(f), 2);
	assert_string_equal(weft_as_str(weft_list_get(weft_frame_col(f, 0), 0)),
	    "a;b");
	assert_string_equal(weft_frame_name(f, 1), "sum(2)");
	assert_true(weft_f64s_data(weft_frame_col(f, 1))[0] == 6.5);
	assert_true(weft_f64s_data(weft_frame_col(f, 1))[1] == 3.5);
	assert_true(weft_f64s_data(weft_frame_col(f, 2))[0] == 3);
	weft_value_release(&f);
	weft_graph_free(g);
	drop_file(p);
	weft_shutdown();
}

/* A column as a chunked array: sum and quantiles of x. */
static void
column_array(void **state)
{
	(void)state;
	uint64_t seed = 31;
	struct table t;
	make_table(&t, &seed, (size_t)(2000 * tu_scale()) + 10, 0, 0);
	char *path = write_file(t.csv.p, t.csv.n);
	weft_csv_opts co = { .chunk_bytes = 997 };
	weft_csv *c;
	assert_int_equal(weft_csv_open(path, &co, &c, NULL, 0), WEFT_OK);
	weft_graph *g = weft_graph_new();
	weft_array *a;
	assert_int_equal(weft_csv_column(c, g, "key", WEFT_CSV_INT, &a), WEFT_OK);
	assert_int_equal(weft_array_nchunks(a), weft_csv_nchunks(c));
	weft_csv_free(c);
	weft_node t2[3];
	double qs[3] = { 0, 0.5, 1 };
	assert_int_equal(weft_array_sum(a, &t2[0]), WEFT_OK);
	assert_int_equal(weft_array_count(a, &t2[1]), WEFT_OK);
	assert_int_equal(weft_array_quantiles(a, 3, qs, &t2[2]), WEFT_OK);
	weft_value v[3];
	weft_opts o = { .pool = pools[2] };
	assert_int_equal(weft_compute(g, 3, t2, v, &o), WEFT_OK);
	double sum = 0, mn = INFINITY, mx = -INFINITY;
	for (size_t i = 0; i < t.n; i++) {
		sum += (double)t.rows[i].key;
		mn = fmin(mn, (double)t.rows[i].key);
		mx = fmax(mx, (double)t.rows[i].key);
	}
	assert_true(weft_as_float(v[0]) == sum);
	assert_int_equal(weft_as_int(v[1]), (int64_t)t.n);
	assert_true(weft_f64s_data(v[2])[0] == mn);
	assert_true(weft_f64s_data(v[2])[2] == mx);
	for (int i = 0; i < 3; i++)
		weft_value_release(&v[i]);
	weft_array_free(a);
	weft_graph_free(g);

	/* a bad row fails its range's task with the byte offset */
	const char *s = "a,b\n1,2\n3,x\n";
	char *p2 = write_file(s, strlen(s));
	assert_int_equal(weft_csv_open(p2, NULL, &c, NULL, 0), WEFT_OK);
	g = weft_graph_new();
	assert_int_equal(weft_csv_column(c, g, "b", WEFT_CSV_FLOAT, &a), WEFT_OK);
	weft_csv_free(c);
	assert_int_equal(weft_array_sum(a, &t2[0]), WEFT_OK);
	assert_int_equal(weft_compute(g, 1, t2, v, NULL), WEFT_ETASK);
	CHECK(strstr(weft_graph_error(g), "row at byte 8: column 'b': cannot "
					  "parse \"x\" as a number"),
	    "%s\n", weft_graph_error(g));
	weft_array_free(a);
	weft_graph_free(g);
	drop_file(p2);
	drop_file(path);
	free(t.rows);
	free(t.csv.p);
	weft_shutdown();
}

/* The number parser against strtod, bit for bit, on random decimal
 * strings: short and long mantissas, exponents near the fast paths'
 * limits, and halfway cases. */
static void
numbers_match_strtod(void **state)
{
	(void)state;
	uint64_t s = 12345;
	int n = (int)(200000 * tu_scale());
	for (int i = 0; i < n; i++) {
		char tmp[80];
		int nd = 1 + (int)(tu_rand(&s) % 22);
		int k = 0;
		if (tu_rand(&s) % 2)
			tmp[k++] = '-';
		int dot = (int)(tu_rand(&s) % (unsigned)(nd + 1));
		for (int d = 0; d < nd; d++) {
			if (d == dot && d)
				tmp[k++] = '.';
			tmp[k++] = (char)('0' + tu_rand(&s) % 10);
		}
		if (tu_rand(&s) % 3 == 0)
			k += snprintf(tmp + k, sizeof tmp - (size_t)k, "e%d",
			    (int)(tu_rand(&s) % 80) - 40);
		tmp[k] = 0;
		double got, want = strtod(tmp, NULL);
		assert_true(weft__parse_f64(tmp, tmp + k, &got));
		if (memcmp(&got, &want, sizeof got) != 0) {
			print_error("%s: %.17g want %.17g\n", tmp, got, want);
			fail();
		}
	}
	/* halfway between two doubles: 2^53 + 1 and friends */
	const char *hw[] = { "9007199254740993", "9007199254740995",
		"18014398509481987", "0.10000000000000000555", "1e23",
		"8.98846567431158e307", "2.2250738585072011e-308", "nan", "-inf",
		"1E5", ".5", "5.", "+7" };
	for (size_t i = 0; i < sizeof hw / sizeof hw[0]; i++) {
		double got, want = strtod(hw[i], NULL);
		assert_true(weft__parse_f64(hw[i], hw[i] + strlen(hw[i]), &got));
		assert_true(memcmp(&got, &want, sizeof got) == 0 ||
		    (isnan(got) && isnan(want)));
	}
	const char *bad[] = { "", "-", "1.2.3", "1e", "e5", "0x", "1,5", "--1" };
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		double got;
		assert_false(weft__parse_f64(bad[i], bad[i] + strlen(bad[i]), &got));
	}
	int64_t v;
	const char *mn = "-9223372036854775808", *ov = "9223372036854775808";
	assert_true(weft__parse_i64(mn, mn + strlen(mn), &v));
	assert_true(v == INT64_MIN);
	assert_false(weft__parse_i64(ov, ov + strlen(ov), &v));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(groupby_matches_reference),
		cmocka_unit_test(bad_rows),
		cmocka_unit_test(skip_bad_rows),
		cmocka_unit_test(edge_files),
		cmocka_unit_test(column_array),
		cmocka_unit_test(numbers_match_strtod),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
