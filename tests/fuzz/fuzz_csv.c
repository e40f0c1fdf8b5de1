/*
 * Fuzz target of the CSV reader (weft/csv.h).
 *
 * An input is five bytes of settings and then the file:
 *   [0] flags (NO_HEADER, SKIP_BAD, MULTILINE), delimiter (, ; tab |) and
 *       quote (" or ')
 *   [1] the small range size (1..32 bytes) and the merge fan-in
 *   [2] the group-by column (or none) and its type (INT or STR)
 *   [3] the aggregates: a mask of count, sum, mean, min, max, var, std of
 *       the value column, and COUNT of rows
 *   [4] the value column and its type (FLOAT or INT)
 * The file is written to a temporary file and opened; the reader's promises
 * are checked rather than trusted:
 * - a failed open gives WEFT_EPARSE (or EINVAL for a bad dialect) and a
 *   one-line message that names the file; an opened file has unique,
 *   non-empty column names that weft_csv_colindex() finds again;
 * - a query computed on one range and on many small ranges gives the same
 *   outcome: the same frame (keys, counts, minima and maxima exactly; sums,
 *   means and variances to rounding), the same rows, skipped rows and lines,
 *   or the same first bad row;
 * - the value column read as a chunked array holds the same values on one
 *   range and on many, one per row the aggregate counted.
 * A broken promise aborts, which libFuzzer reports as a crash. The same
 * code runs without libFuzzer through replay.c (test fuzz-csv-replay).
 */
#include <fcntl.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <weft.h>

#include "fuzz_check.h"
#include "fuzz_target.h"

/* Larger inputs are cut: the reader's cases are small. */
#define MAX_FILE 16384
/* At most this many ranges in the many-range run. */
#define MAX_RANGES 256

static weft_pool *pool;
static char path[512];

static void
drop_path(void)
{
	if (path[0])
		unlink(path);
	path[0] = 0;
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	weft_pool_opts po = { .threads = 1, .bind = WEFT_BIND_NONE };
	const char *dir = access("/dev/shm", W_OK) == 0 ? "/dev/shm" :
	    getenv("TMPDIR")			       ? getenv("TMPDIR") :
							 "/tmp";
	int fd;

	(void)argc;
	(void)argv;
	if (pool)
		return 0;
	snprintf(path, sizeof path, "%s/weft-fuzz-csv-XXXXXX", dir);
	fd = mkstemp(path);
	pool = weft_pool_new(&po);
	if (fd < 0 || !pool) {
		fputs("fuzz_csv: cannot set up\n", stderr);
		abort();
	}
	close(fd);
	/* libFuzzer exits without a cleanup call. */
	atexit(drop_path);
	return 0;
}

void
fuzz_target_cleanup(void)
{
	weft_pool_free(pool);
	pool = NULL;
	drop_path();
	weft_shutdown();
}

static void
write_input(const uint8_t *data, size_t size)
{
	int fd = open(path, O_WRONLY | O_TRUNC);
	size_t done = 0;
	CHECK(fd >= 0);
	while (done < size) {
		ssize_t k = write(fd, data + done, size - done);
		CHECK(k > 0);
		done += (size_t)k;
	}
	CHECK(close(fd) == 0);
}

/* A failed open: the documented codes and a message naming the file. */
static void
check_open_error(int rc, const char *err)
{
	CHECK(rc == WEFT_EPARSE || rc == WEFT_EINVAL);
	CHECK(err[0] != '\0');
	CHECK(strchr(err, '\n') == NULL);
	CHECK(strncmp(err, path, strlen(path)) == 0);
}

static void
check_header(const weft_csv *c, size_t size, unsigned flags)
{
	size_t n = weft_csv_ncols(c);
	CHECK(n >= 1);
	CHECK(weft_csv_size(c) == size);
	CHECK(weft_csv_nchunks(c) >= 1);
	CHECK(weft_csv_colname(c, n) == NULL);
	for (size_t i = 0; i < n; i++) {
		const char *s = weft_csv_colname(c, i);
		CHECK(s != NULL);
		CHECK(s[0] != '\0' || (flags & WEFT_CSV_NO_HEADER));
		/* unique: the first column of that name is this one */
		CHECK(weft_csv_colindex(c, s) == (long)i);
	}
}

/* The outcome of one compute. */
struct outcome {
	int rc;
	weft_value frame, info;
	char msg[1100]; /* the failure, without the task's key */
	weft_value col; /* the column's values, concatenated (F64S) */
	int col_rc;
	char col_msg[1100];
};

static void
failure(weft_graph *g, char *msg, size_t size)
{
	const char *e = weft_graph_error(g);
	const char *p = strstr(e, "failed: ");
	CHECK(strchr(e, '\n') == NULL);
	snprintf(msg, size, "%s", p ? p + 8 : e);
}

static int
run(const weft_csv_opts *o, const weft_csv_query *q, const char *vcol,
    weft_csv_type vtype, struct outcome *out)
{
	weft_csv *c;
	char err[512];
	int rc = weft_csv_open(path, o, &c, err, sizeof err);

	memset(out, 0, sizeof *out);
	out->frame = out->info = out->col = weft_nil();
	if (rc != WEFT_OK) {
		CHECK(c == NULL);
		check_open_error(rc, err);
		return rc;
	}
	check_header(c, weft_csv_size(c), o->flags);
	weft_graph *g = weft_graph_new();
	CHECK(g != NULL);
	weft_node t[2];
	weft_opts wo = { .pool = pool };
	rc = weft_csv_aggregate(c, g, q, &t[0], &t[1]);
	if (rc == WEFT_OK) {
		weft_value v[2];
		out->rc = weft_compute(g, 2, t, v, &wo);
		CHECK(out->rc == WEFT_OK || out->rc == WEFT_ETASK);
		if (out->rc == WEFT_OK) {
			out->frame = v[0];
			out->info = v[1];
		} else {
			failure(g, out->msg, sizeof out->msg);
			CHECK(strstr(out->msg, path) != NULL);
		}
	} else {
		/* the key aggregated, or one column as two types */
		CHECK(rc == WEFT_EINVAL);
		out->rc = rc;
	}
	weft_graph_free(g);

	/* The value column as an array. */
	weft_array *a;
	g = weft_graph_new();
	CHECK(g != NULL);
	rc = weft_csv_column(c, g, vcol, vtype, &a);
	CHECK(rc == WEFT_OK);
	size_t n = weft_array_nchunks(a);
	weft_node *nodes = malloc(n * sizeof *nodes);
	weft_value *vals = calloc(n, sizeof *vals);
	CHECK(nodes && vals);
	for (size_t i = 0; i < n; i++)
		nodes[i] = weft_array_chunk(a, i);
	out->col_rc = weft_compute(g, n, nodes, vals, &wo);
	CHECK(out->col_rc == WEFT_OK || out->col_rc == WEFT_ETASK);
	if (out->col_rc == WEFT_OK) {
		size_t len = 0, k = 0;
		for (size_t i = 0; i < n; i++) {
			CHECK(weft_type_of(vals[i]) == WEFT_F64S);
			len += weft_len(vals[i]);
		}
		CHECK(weft_f64s_new(len, NULL, &out->col) == WEFT_OK);
		double *d = weft_f64s_data_mut(out->col);
		for (size_t i = 0; i < n; i++) {
			size_t m = weft_len(vals[i]);
			if (m)
				memcpy(d + k, weft_f64s_data(vals[i]),
				    m * sizeof *d);
			k += m;
			weft_value_release(&vals[i]);
		}
	} else {
		failure(g, out->col_msg, sizeof out->col_msg);
	}
	free(nodes);
	free(vals);
	weft_array_free(a);
	weft_graph_free(g);
	weft_csv_free(c);
	return WEFT_OK;
}

static void
release(struct outcome *o)
{
	weft_value_release(&o->frame);
	weft_value_release(&o->info);
	weft_value_release(&o->col);
}

static int
same_double(double a, double b)
{
	return a == b || (isnan(a) && isnan(b));
}

/* Sums, means and variances depend on the order of the additions, that is
 * on the ranges, within rounding bounds that scale with the terms, not with
 * the result: a sum within n * max|x| * eps, a variance within
 * n * max|x|^2 * eps (Welford and Chan's merge), which swamps a variance far
 * below the square of the mean; and whether a partial sum overflows
 * (1e308 + 1e308 - 1e308) depends on the order too. `m` is the column's
 * largest finite magnitude, `n` its length; m < 0: not known (the column
 * failed to read), and these aggregates are not compared. */
static int
agree(weft_agg op, double x, double y, double n, double m)
{
	double tol;

	if (m < 0 || !(n * m < DBL_MAX / 4) || !(n * m * m < DBL_MAX / 4))
		return 1;
	if (op == WEFT_AGG_STD) { /* compared as variances */
		x *= x;
		y *= y;
	}
	tol = op == WEFT_AGG_SUM ? n * m : op == WEFT_AGG_MEAN ? m : n * m * m;
	return same_double(x, y) ||
	    (isfinite(x) && isfinite(y) &&
		fabs(x - y) <= 1e-6 * fmax(fabs(x), fabs(y)) + 1e-12 * tol);
}

/* The largest finite magnitude in `col`, and its length. */
static double
col_scale(weft_value col, double *n)
{
	const double *v = weft_f64s_data(col);
	double m = 0;

	*n = (double)weft_len(col);
	for (size_t i = 0; i < weft_len(col); i++)
		if (isfinite(v[i]) && fabs(v[i]) > m)
			m = fabs(v[i]);
	return m;
}

static void
compare_frames(weft_value a, weft_value b, const weft_csv_query *q,
    double n, double m)
{
	size_t nc = weft_frame_ncols(a), nr = weft_frame_nrows(a);
	size_t keyed = q->group_by != NULL;

	CHECK(nc == weft_frame_ncols(b));
	CHECK(nr == weft_frame_nrows(b));
	CHECK(nc == q->naggs + keyed);
	CHECK(keyed || nr == 1);
	for (size_t j = 0; j < nc; j++)
		CHECK(strcmp(weft_frame_name(a, j), weft_frame_name(b, j)) == 0);
	if (keyed)
		CHECK(weft_value_equal(weft_frame_col(a, 0), weft_frame_col(b, 0)));
	for (size_t j = keyed; j < nc; j++) {
		const double *x = weft_f64s_data(weft_frame_col(a, j));
		const double *y = weft_f64s_data(weft_frame_col(b, j));
		weft_agg op = q->aggs[j - keyed].op;
		CHECK(nr == 0 || (x && y));
		for (size_t i = 0; i < nr; i++) {
			if (op == WEFT_AGG_COUNT || op == WEFT_AGG_MIN ||
			    op == WEFT_AGG_MAX)
				CHECK(same_double(x[i], y[i]));
			else
				CHECK(agree(op, x[i], y[i], n, m));
		}
	}
}

static void
compare(const struct outcome *a, const struct outcome *b,
    const weft_csv_query *q)
{
	weft_csv_info ia, ib;

	CHECK(a->rc == b->rc);
	if (a->rc == WEFT_ETASK)
		CHECK(strcmp(a->msg, b->msg) == 0);
	if (a->rc == WEFT_OK) {
		double n = 0, m = a->col_rc == WEFT_OK
		    ? col_scale(a->col, &n) : -1;
		compare_frames(a->frame, b->frame, q, n, m);
		CHECK(weft_csv_info_get(a->info, &ia) == WEFT_OK);
		CHECK(weft_csv_info_get(b->info, &ib) == WEFT_OK);
		CHECK(ia.rows == ib.rows && ia.skipped == ib.skipped &&
		    ia.lines == ib.lines);
		CHECK(!ia.first_skipped == !ib.first_skipped);
		CHECK(!ia.first_skipped ||
		    strcmp(ia.first_skipped, ib.first_skipped) == 0);
	}
	/* The column: the same values, or both fail. Each range's task
	 * fails for its own first bad row (the byte offset says which): the
	 * one reported may differ, when several ranges have one. */
	CHECK(a->col_rc == b->col_rc);
	if (a->col_rc == WEFT_ETASK)
		CHECK(strstr(a->col_msg, ": row at byte ") &&
		    strstr(b->col_msg, ": row at byte "));
	if (a->col_rc == WEFT_OK) {
		size_t n = weft_len(a->col);
		CHECK(n == weft_len(b->col));
		for (size_t i = 0; i < n; i++)
			CHECK(same_double(weft_f64s_data(a->col)[i],
			    weft_f64s_data(b->col)[i]));
		/* One value per row the aggregate counted, when it parses
		 * the column too; a row skipped for a bad key still has its
		 * value here, and a row count alone skips no bad value. */
		int parses = 0;
		for (size_t i = 0; i < q->naggs; i++)
			parses |= q->aggs[i].column != NULL;
		if (a->rc == WEFT_OK && parses)
			CHECK(q->group_by ? (int64_t)n >= ia.rows :
					    (int64_t)n == ia.rows);
		if (a->rc == WEFT_OK && !parses && !q->group_by)
			CHECK((int64_t)n <= ia.rows);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char delims[] = { ',', ';', '\t', '|' };
	static const weft_agg ops[] = { WEFT_AGG_COUNT, WEFT_AGG_SUM,
		WEFT_AGG_MEAN, WEFT_AGG_MIN, WEFT_AGG_MAX, WEFT_AGG_VAR,
		WEFT_AGG_STD };

	if (!pool)
		LLVMFuzzerInitialize(NULL, NULL);
	if (size < 5)
		return 0;
	const uint8_t *set = data;
	data += 5;
	size -= 5;
	if (size > MAX_FILE)
		size = MAX_FILE;
	write_input(data, size);

	weft_csv_opts one, many;
	memset(&one, 0, sizeof one);
	one.flags = set[0] & 7u;
	one.delim = delims[(set[0] >> 3) & 3];
	one.quote = set[0] & 0x20 ? '\'' : '"';
	many = one;
	one.nchunks = 1;
	many.chunk_bytes = 1 + (set[1] & 31u);
	if (many.chunk_bytes < size / MAX_RANGES + 1)
		many.chunk_bytes = size / MAX_RANGES + 1;
	many.fanin = 2 + (set[1] >> 6);

	/* The header decides which columns there are. */
	weft_csv *c;
	char err[512];
	int rc = weft_csv_open(path, &one, &c, err, sizeof err);
	if (rc != WEFT_OK) {
		CHECK(c == NULL);
		check_open_error(rc, err);
		return 0;
	}
	check_header(c, size, one.flags);
	size_t ncols = weft_csv_ncols(c);
	size_t kcol = set[2] & 0x7F, vcol = set[4] & 0x7F;
	char *key = kcol < ncols ? strdup(weft_csv_colname(c, kcol)) : NULL;
	char *val = strdup(weft_csv_colname(c, vcol % ncols));
	weft_csv_free(c);
	CHECK(val && (kcol >= ncols || key));

	weft_csv_agg aggs[8];
	size_t naggs = 0;
	weft_csv_type vtype = set[4] & 0x80 ? WEFT_CSV_INT : WEFT_CSV_FLOAT;
	for (int i = 0; i < 7; i++)
		if (set[3] & (1u << i))
			aggs[naggs++] = (weft_csv_agg) { val, ops[i], vtype };
	if ((set[3] & 0x80) || naggs == 0)
		aggs[naggs++] = (weft_csv_agg) { NULL, WEFT_AGG_COUNT, 0 };
	weft_csv_query q = { .group_by = key,
		.key_type = set[2] & 0x80 ? WEFT_CSV_INT : WEFT_CSV_STR,
		.naggs = naggs, .aggs = aggs };

	struct outcome a, b;
	CHECK(run(&one, &q, val, vtype, &a) == WEFT_OK);
	CHECK(run(&many, &q, val, vtype, &b) == WEFT_OK);
	compare(&a, &b, &q);
	release(&a);
	release(&b);
	free(key);
	free(val);
	return 0;
}
