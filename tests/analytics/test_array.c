/* Chunked arrays (weft/array.h) against sequential references, on random
 * data, random chunkings (empty chunks included), random fan-ins and pools
 * of 1, 2 and 3 threads. The references are written independently of the
 * library: long double two-pass variance, a full sort for quantiles,
 * numpy's histogram steps, a compensated sequential sum. */
#include <float.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

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

static size_t
scaled(size_t n)
{
	size_t v = (size_t)((double)n * tu_scale());
	return v ? v : 1;
}

static double
unif(uint64_t *s)
{
	return (double)(tu_rand(s) >> 11) * 0x1.0p-53;
}

/* Data of different kinds: wide magnitudes with both signs, a big offset
 * (the variance trap), small integers with many ties. */
static double *
make_data(uint64_t *s, size_t n, int kind)
{
	double *x = malloc((n ? n : 1) * sizeof *x);
	assert_non_null(x);
	for (size_t i = 0; i < n; i++) {
		double u = unif(s);
		switch (kind) {
		case 0:
			x[i] = (u - 0.5) * pow(10.0, (double)(tu_rand(s) % 10) - 3);
			break;
		case 1:
			x[i] = 1e6 + (u - 0.5);
			break;
		default:
			x[i] = (double)(tu_rand(s) % 17) - 5;
			break;
		}
	}
	return x;
}

/* Random lengths adding up to n, some of them 0. */
static size_t *
random_lens(uint64_t *s, size_t n, size_t *m)
{
	size_t k = 1 + tu_rand(s) % 40;
	size_t *l = calloc(k, sizeof *l);
	assert_non_null(l);
	size_t left = n;
	for (size_t i = 0; i + 1 < k; i++) {
		size_t v = tu_rand(s) % 4 == 0 ? 0 : tu_rand(s) % (2 * n / k + 1);
		if (v > left)
			v = left;
		l[i] = v;
		left -= v;
	}
	l[k - 1] = left;
	*m = k;
	return l;
}

/* -- references ------------------------------------------------------------- */

static void
two_sum(double a, double b, double *s, double *e)
{
	double x = a + b, bv = x - a;
	*e = (a - (x - bv)) + (b - bv);
	*s = x;
}

/* Sequential compensated sum (Rump-Ogita-Oishi Sum2). */
static double
ref_sum(const double *x, size_t n)
{
	double s = 0, c = 0;
	for (size_t i = 0; i < n; i++) {
		double e;
		two_sum(s, x[i], &s, &e);
		c += e;
	}
	return s + c;
}

static double
ref_dot(const double *x, const double *y, size_t n)
{
	double s = 0, c = 0;
	for (size_t i = 0; i < n; i++) {
		double e;
		two_sum(s, x[i] * y[i], &s, &e);
		c += e;
	}
	return s + c;
}

static double
ref_var(const double *x, size_t n, unsigned ddof)
{
	long double m = 0, q = 0;
	for (size_t i = 0; i < n; i++)
		m += x[i];
	m /= (long double)n;
	for (size_t i = 0; i < n; i++)
		q += ((long double)x[i] - m) * ((long double)x[i] - m);
	return (double)(q / (long double)(n - ddof));
}

static int
cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* numpy.quantile(x, q) with method='linear', on a sorted copy. */
static double
ref_quantile(const double *sorted, size_t n, double q)
{
	double h = (double)n * q + (1.0 + q * (1.0 - 1.0 - 1.0)) - 1.0;
	if (h >= (double)(n - 1))
		return sorted[n - 1];
	if (h < 0)
		return sorted[0];
	double fl = floor(h), t = h - fl;
	double a = sorted[(size_t)fl], b = sorted[(size_t)fl + 1];
	double d = b - a;
	return t >= 0.5 ? b - d * (1 - t) : a + d * t;
}

/* numpy.histogram(x, bins=nb, range=(lo, hi)), its uniform-bin steps. */
static void
ref_hist(const double *x, size_t n, double lo, double hi, size_t nb,
    double *cnt)
{
	double *edge = malloc((nb + 1) * sizeof *edge);
	assert_non_null(edge);
	double step = (hi - lo) / (double)nb;
	for (size_t i = 0; i < nb; i++)
		edge[i] = (double)i * step + lo;
	edge[nb] = hi;
	for (size_t i = 0; i < nb; i++)
		cnt[i] = 0;
	for (size_t i = 0; i < n; i++) {
		if (!(x[i] >= lo && x[i] <= hi))
			continue;
		long k = (long)(((x[i] - lo) / (hi - lo)) * (double)nb);
		if (k == (long)nb)
			k--;
		if (x[i] < edge[k])
			k--;
		if (x[i] >= edge[k + 1] && k != (long)nb - 1)
			k++;
		cnt[k]++;
	}
	free(edge);
}

static double
ulp(double x)
{
	x = fabs(x);
	return nextafter(x, INFINITY) - x;
}

#define ASSERT_ULPS(got, want, k)                                             \
	do {                                                                  \
		double g_ = (got), w_ = (want);                               \
		if (!(fabs(g_ - w_) <= (k) * ulp(w_))) {                      \
			print_error("%s = %.17g, want %.17g (%g ulps)\n",     \
			    #got, g_, w_, fabs(g_ - w_) / ulp(w_));           \
			fail();                                               \
		}                                                             \
	} while (0)

#define ASSERT_REL(got, want, tol)                                            \
	do {                                                                  \
		double g_ = (got), w_ = (want);                               \
		if (!(fabs(g_ - w_) <= (tol) * fabs(w_))) {                   \
			print_error("%s = %.17g, want %.17g (rel %g)\n", #got,  \
			    g_, w_, fabs(g_ - w_) / fabs(w_));                \
			fail();                                               \
		}                                                             \
	} while (0)

/* -- tests ---------------------------------------------------------------------- */

/* Every reduction on random data and random chunkings, borrowed, copied
 * and mapped, on each pool size; results identical across pools. */
static void
reductions_match_reference(void **state)
{
	(void)state;
	uint64_t seed = 0xA11A7;
	int rounds = (int)(30 * tu_scale()) + 3;
	for (int r = 0; r < rounds; r++) {
		size_t n = 1 + tu_rand(&seed) % scaled(20000);
		int kind = r % 3;
		double *x = make_data(&seed, n, kind);
		double *y = make_data(&seed, n, 0);
		size_t m, *lens = random_lens(&seed, n, &m);
		weft_chunking ch = { .nchunks = m, .lens = lens,
			.fanin = 2 + (unsigned)(tu_rand(&seed) % 4) };
		unsigned flags = r % 2 ? WEFT_ARRAY_COPY : 0;

		weft_graph *g = weft_graph_new();
		assert_non_null(g);
		weft_array *a, *b;
		assert_int_equal(weft_array_wrap(g, x, n, &ch, flags, &a), WEFT_OK);
		assert_int_equal(weft_array_wrap(g, y, n, &ch, 0, &b), WEFT_OK);
		assert_int_equal(weft_array_nchunks(a), m);
		assert_int_equal(weft_array_len(a), n);

		double qs[6] = { 0, 1, 0.5, unif(&seed), unif(&seed), 0.999 };
		double lo = kind == 2 ? -5 : -0.3, hi = kind == 2 ? 11 : 0.3;
		if (kind == 1) {
			lo = 1e6 - 0.4;
			hi = 1e6 + 0.4;
		}
		size_t nb = 1 + tu_rand(&seed) % 33;
		weft_node t[11];
		assert_int_equal(weft_array_sum(a, &t[0]), WEFT_OK);
		assert_int_equal(weft_array_count(a, &t[1]), WEFT_OK);
		assert_int_equal(weft_array_mean(a, &t[2]), WEFT_OK);
		assert_int_equal(weft_array_min(a, &t[3]), WEFT_OK);
		assert_int_equal(weft_array_max(a, &t[4]), WEFT_OK);
		assert_int_equal(weft_array_var(a, 0, &t[5]), WEFT_OK);
		assert_int_equal(weft_array_std(a, 1, &t[6]), WEFT_OK);
		assert_int_equal(weft_array_dot(a, b, &t[7]), WEFT_OK);
		assert_int_equal(weft_array_histogram(a, lo, hi, nb, &t[8]),
		    WEFT_OK);
		assert_int_equal(weft_array_quantiles(a, 6, qs, &t[9]), WEFT_OK);
		assert_int_equal(weft_array_stats(a, &t[10]), WEFT_OK);

		double *sorted = malloc(n * sizeof *sorted);
		memcpy(sorted, x, n * sizeof *x);
		qsort(sorted, n, sizeof *sorted, cmp_d);
		double *hc = malloc(nb * sizeof *hc);
		ref_hist(x, n, lo, hi, nb, hc);

		weft_value first[11];
		for (int p = 0; p < 3; p++) {
			weft_opts o = { .pool = pools[p] };
			weft_value v[11];
			assert_int_equal(weft_compute(g, 11, t, v, &o), WEFT_OK);
			ASSERT_ULPS(weft_as_float(v[0]), ref_sum(x, n), 1);
			assert_int_equal(weft_as_int(v[1]), (int64_t)n);
			ASSERT_ULPS(weft_as_float(v[2]), ref_sum(x, n) / (double)n, 2);
			assert_true(weft_as_float(v[3]) == sorted[0]);
			assert_true(weft_as_float(v[4]) == sorted[n - 1]);
			if (n > 1) {
				ASSERT_REL(weft_as_float(v[5]), ref_var(x, n, 0), 1e-9);
				ASSERT_REL(weft_as_float(v[6]), sqrt(ref_var(x, n, 1)),
				    1e-9);
			}
			ASSERT_ULPS(weft_as_float(v[7]), ref_dot(x, y, n), 1);
			assert_int_equal(weft_len(v[8]), nb);
			for (size_t i = 0; i < nb; i++)
				assert_true(weft_f64s_data(v[8])[i] == hc[i]);
			for (int i = 0; i < 6; i++) {
				double w = ref_quantile(sorted, n, qs[i]);
				if (weft_f64s_data(v[9])[i] != w) {
					print_error("q=%.17g: %.17g want %.17g\n", qs[i],
					    weft_f64s_data(v[9])[i], w);
					fail();
				}
			}
			weft_stats st;
			assert_int_equal(weft_stats_get(v[10], &st), WEFT_OK);
			assert_int_equal(st.count, (int64_t)n);
			assert_true(st.sum == weft_as_float(v[0]));
			/* A fixed tree: every pool gives the same bits. */
			for (int i = 0; i < 11; i++) {
				if (p == 0)
					first[i] = v[i];
				else {
					assert_true(weft_value_equal(v[i], first[i]));
					weft_value_release(&v[i]);
				}
			}
		}
		for (int i = 0; i < 11; i++)
			weft_value_release(&first[i]);
		weft_array_free(a);
		weft_array_free(b);
		weft_graph_free(g);
		free(x);
		free(y);
		free(lens);
		free(sorted);
		free(hc);
	}
}

/* The sum does not depend on the chunking (to the last bit, on data that
 * does not cancel pathologically), where a naive sum would. */
static void
sum_independent_of_chunking(void **state)
{
	(void)state;
	uint64_t seed = 77;
	size_t n = scaled(50000);
	double *x = make_data(&seed, n, 0);
	double want = ref_sum(x, n);
	for (int r = 0; r < 8; r++) {
		weft_graph *g = weft_graph_new();
		weft_chunking ch = { .chunk_len = 1 + tu_rand(&seed) % n,
			.fanin = 2 + (unsigned)(tu_rand(&seed) % 7) };
		weft_array *a;
		assert_int_equal(weft_array_wrap(g, x, n, &ch, 0, &a), WEFT_OK);
		weft_node s;
		assert_int_equal(weft_array_sum(a, &s), WEFT_OK);
		weft_value v;
		weft_opts o = { .pool = pools[r % 3] };
		assert_int_equal(weft_compute(g, 1, &s, &v, &o), WEFT_OK);
		assert_true(weft_as_float(v) == want);
		weft_array_free(a);
		weft_graph_free(g);
	}
	free(x);
}

static int
square_chunk(weft_ctx *c, size_t n, const weft_value *a, weft_value *o)
{
	/* args: chunk, scale (literal), offset (from a node) */
	assert_int_equal(n, 3);
	if (weft_type_of(a[0]) != WEFT_F64S)
		return weft_fail(c, "not f64s");
	size_t len = weft_len(a[0]);
	double k = weft_as_float(a[1]), off = weft_as_float(a[2]);
	if (weft_f64s_new(len, weft_f64s_data(a[0]), o) != WEFT_OK)
		return weft_fail(c, "oom");
	double *d = weft_f64s_data_mut(*o);
	for (size_t i = 0; i < len; i++)
		d[i] = k * d[i] * d[i] + off;
	return WEFT_OK;
}

static int
make_offset(weft_ctx *c, size_t n, const weft_value *a, weft_value *o)
{
	(void)c;
	(void)n;
	(void)a;
	*o = weft_float(0.25);
	return WEFT_OK;
}

/* map with a literal and a node argument, on borrowed and generated
 * arrays, then reduced. */
static void
map_then_reduce(void **state)
{
	(void)state;
	uint64_t seed = 5;
	size_t n = scaled(30000);
	double *x = make_data(&seed, n, 2);
	double *y = malloc(n * sizeof *y);
	for (size_t i = 0; i < n; i++)
		y[i] = 3.0 * x[i] * x[i] + 0.25;
	weft_graph *g = weft_graph_new();
	weft_chunking ch = { .chunk_len = 777 };
	weft_array *a, *m;
	assert_int_equal(weft_array_wrap(g, x, n, &ch, 0, &a), WEFT_OK);
	weft_node off = WEFT_DELAYED(g, make_offset);
	weft_arg extra[2] = { weft_lit(weft_float(3.0)), weft_ref(off) };
	assert_int_equal(weft_array_map(a, square_chunk, 2, extra, &m), WEFT_OK);
	assert_int_equal(weft_array_len(m), SIZE_MAX);
	weft_node t[2];
	assert_int_equal(weft_array_sum(m, &t[0]), WEFT_OK);
	assert_int_equal(weft_array_max(m, &t[1]), WEFT_OK);
	weft_value v[2];
	for (int p = 0; p < 3; p++) {
		weft_opts o = { .pool = pools[p] };
		assert_int_equal(weft_compute(g, 2, t, v, &o), WEFT_OK);
		ASSERT_ULPS(weft_as_float(v[0]), ref_sum(y, n), 1);
		double mx = y[0];
		for (size_t i = 1; i < n; i++)
			mx = y[i] > mx ? y[i] : mx;
		assert_true(weft_as_float(v[1]) == mx);
		weft_value_release(&v[0]);
		weft_value_release(&v[1]);
	}
	/* The chunk nodes of a mapped array are F64S, and compose with the
	 * caller's own graph. */
	weft_node c0 = weft_array_chunk(m, 0);
	assert_true(weft_node_ok(c0));
	assert_false(weft_node_ok(weft_array_chunk(m, weft_array_nchunks(m))));
	assert_int_equal(weft_compute(g, 1, &c0, v, NULL), WEFT_OK);
	assert_int_equal(weft_type_of(v[0]), WEFT_F64S);
	assert_int_equal(weft_len(v[0]), 777);
	assert_true(weft_f64s_data(v[0])[5] == y[5]);
	weft_value_release(&v[0]);
	weft_array_free(a);
	weft_array_free(m);
	weft_graph_free(g);
	free(x);
	free(y);
	weft_shutdown();
}

/* Generated arrays have the same elements whatever the chunking, and the
 * statistics of a normal sample are what they should be. */
static void
generated_arrays(void **state)
{
	(void)state;
	size_t n = scaled(100000);
	weft_gen gens[3] = {
		{ .kind = WEFT_GEN_RANGE, .a = 2.0, .b = 0.5 },
		{ .kind = WEFT_GEN_UNIFORM, .a = -1, .b = 3, .seed = 9 },
		{ .kind = WEFT_GEN_NORMAL, .a = 10, .b = 2, .seed = 11 },
	};
	for (int k = 0; k < 3; k++) {
		double st[2][3];
		for (int c = 0; c < 2; c++) {
			weft_graph *g = weft_graph_new();
			weft_chunking ch = { .chunk_len = c ? 1000 : 7919 };
			weft_array *a;
			assert_int_equal(weft_array_generate(g, &gens[k], n, &ch, &a),
			    WEFT_OK);
			weft_node t[3];
			assert_int_equal(weft_array_sum(a, &t[0]), WEFT_OK);
			assert_int_equal(weft_array_std(a, 0, &t[1]), WEFT_OK);
			double q = 0.5;
			assert_int_equal(weft_array_quantiles(a, 1, &q, &t[2]),
			    WEFT_OK);
			weft_value v[3];
			weft_opts o = { .pool = pools[2] };
			assert_int_equal(weft_compute(g, 3, t, v, &o), WEFT_OK);
			st[c][0] = weft_as_float(v[0]);
			st[c][1] = weft_as_float(v[1]);
			st[c][2] = weft_f64s_data(v[2])[0];
			weft_value_release(&v[0]);
			weft_value_release(&v[1]);
			weft_value_release(&v[2]);
			weft_array_free(a);
			weft_graph_free(g);
		}
		assert_true(st[0][0] == st[1][0]);
		assert_true(st[0][2] == st[1][2]);
		ASSERT_REL(st[0][1], st[1][1], 1e-12);
		double mean = st[0][0] / (double)n;
		if (k == 0) {
			ASSERT_REL(mean, 2.0 + 0.5 * (double)(n - 1) / 2, 1e-12);
		} else if (k == 1) {
			assert_true(fabs(mean - 1.0) < 0.05);
			assert_true(fabs(st[0][1] - 4 / sqrt(12)) < 0.05);
		} else {
			assert_true(fabs(mean - 10) < 0.05);
			assert_true(fabs(st[0][1] - 2) < 0.05);
			assert_true(fabs(st[0][2] - 10) < 0.05);
		}
	}
}

/* NaN propagates like numpy's, an empty array gives count 0, sum 0 and
 * NaN for the rest. */
static void
nan_and_empty(void **state)
{
	(void)state;
	double x[7] = { 1, 2, NAN, 4, 5, 6, 7 };
	weft_graph *g = weft_graph_new();
	weft_chunking ch = { .chunk_len = 3 };
	weft_array *a, *e;
	assert_int_equal(weft_array_wrap(g, x, 7, &ch, 0, &a), WEFT_OK);
	assert_int_equal(weft_array_wrap(g, NULL, 0, NULL, 0, &e), WEFT_OK);
	assert_int_equal(weft_array_nchunks(e), 1);
	weft_node t[10];
	double q = 0.5;
	assert_int_equal(weft_array_sum(a, &t[0]), WEFT_OK);
	assert_int_equal(weft_array_min(a, &t[1]), WEFT_OK);
	assert_int_equal(weft_array_quantiles(a, 1, &q, &t[2]), WEFT_OK);
	assert_int_equal(weft_array_histogram(a, 0, 10, 5, &t[3]), WEFT_OK);
	assert_int_equal(weft_array_count(e, &t[4]), WEFT_OK);
	assert_int_equal(weft_array_sum(e, &t[5]), WEFT_OK);
	assert_int_equal(weft_array_mean(e, &t[6]), WEFT_OK);
	assert_int_equal(weft_array_max(e, &t[7]), WEFT_OK);
	assert_int_equal(weft_array_quantiles(e, 1, &q, &t[8]), WEFT_OK);
	assert_int_equal(weft_array_stats(a, &t[9]), WEFT_OK);
	weft_value v[10];
	assert_int_equal(weft_compute(g, 10, t, v, NULL), WEFT_OK);
	assert_true(isnan(weft_as_float(v[0])));
	assert_true(isnan(weft_as_float(v[1])));
	assert_true(isnan(weft_f64s_data(v[2])[0]));
	const double *h = weft_f64s_data(v[3]);
	assert_true(h[0] == 1 && h[1] == 1 && h[2] == 2 && h[3] == 2 && h[4] == 0);
	assert_int_equal(weft_as_int(v[4]), 0);
	assert_true(weft_as_float(v[5]) == 0);
	assert_true(isnan(weft_as_float(v[6])));
	assert_true(isnan(weft_as_float(v[7])));
	assert_true(isnan(weft_f64s_data(v[8])[0]));
	weft_stats st;
	assert_int_equal(weft_stats_get(v[9], &st), WEFT_OK);
	assert_int_equal(st.nans, 1);
	assert_int_equal(st.count, 6);
	assert_true(isnan(st.mean));
	assert_int_equal(weft_stats_get(v[5], &st), WEFT_ETYPE);
	for (int i = 0; i < 10; i++)
		weft_value_release(&v[i]);
	weft_array_free(a);
	weft_array_free(e);
	weft_graph_free(g);
}

static int
make_str(weft_ctx *c, size_t n, const weft_value *a, weft_value *o)
{
	(void)c;
	(void)n;
	(void)a;
	*o = weft_str("not numbers");
	return WEFT_OK;
}

/* Bad arguments are refused when the graph is built; bad chunks fail the
 * compute with a message. */
static void
errors(void **state)
{
	(void)state;
	double x[10] = { 0 };
	weft_graph *g = weft_graph_new();
	weft_array *a, *b, *c;
	size_t bad[2] = { 3, 4 };
	weft_chunking ch = { .nchunks = 2, .lens = bad };
	assert_int_equal(weft_array_wrap(g, x, 10, &ch, 0, &a), WEFT_EINVAL);
	assert_null(a);
	weft_chunking f1 = { .fanin = 1 };
	assert_int_equal(weft_array_wrap(g, x, 10, &f1, 0, &a), WEFT_EINVAL);
	assert_int_equal(weft_array_wrap(g, NULL, 10, NULL, 0, &a), WEFT_EINVAL);
	assert_int_equal(weft_array_wrap(g, x, 10, NULL, 99, &a), WEFT_EINVAL);
	weft_gen gb = { .kind = (weft_gen_kind)7 };
	assert_int_equal(weft_array_generate(g, &gb, 10, NULL, &a), WEFT_EINVAL);

	size_t l1[2] = { 5, 5 }, l2[2] = { 4, 6 };
	weft_chunking c1 = { .nchunks = 2, .lens = l1 },
		      c2 = { .nchunks = 2, .lens = l2 }, c3 = { .chunk_len = 3 };
	assert_int_equal(weft_array_wrap(g, x, 10, &c1, 0, &a), WEFT_OK);
	assert_int_equal(weft_array_wrap(g, x, 10, &c2, 0, &b), WEFT_OK);
	assert_int_equal(weft_array_wrap(g, x, 10, &c3, 0, &c), WEFT_OK);
	weft_node t;
	assert_int_equal(weft_array_dot(a, c, &t), WEFT_EINVAL);
	assert_int_equal(weft_array_histogram(a, 1, 1, 4, &t), WEFT_EINVAL);
	assert_int_equal(weft_array_histogram(a, 0, INFINITY, 4, &t), WEFT_EINVAL);
	assert_int_equal(weft_array_histogram(a, 0, 1, 0, &t), WEFT_EINVAL);
	double q = 1.5;
	assert_int_equal(weft_array_quantiles(a, 1, &q, &t), WEFT_EINVAL);
	assert_int_equal(weft_array_sum(NULL, &t), WEFT_EINVAL);

	/* Same number of chunks, different lengths: found when run. */
	assert_int_equal(weft_array_dot(a, b, &t), WEFT_OK);
	weft_value v;
	assert_int_equal(weft_compute(g, 1, &t, &v, NULL), WEFT_ETASK);
	/* both chunks differ: either may be the one reported */
	assert_non_null(strstr(weft_graph_error(g), "dot: chunk "));
	assert_non_null(strstr(weft_graph_error(g), " has 5 and "));

	/* A chunk node of the wrong type. */
	weft_node s = WEFT_DELAYED(g, make_str);
	weft_array *d;
	assert_int_equal(weft_array_from_nodes(g, 1, &s, NULL, &d), WEFT_OK);
	assert_int_equal(weft_array_mean(d, &t), WEFT_OK);
	assert_int_equal(weft_compute(g, 1, &t, &v, NULL), WEFT_ETASK);
	assert_non_null(strstr(weft_graph_error(g), "chunk is a str, not f64s"));
	weft_array *e;
	assert_int_equal(weft_array_from_nodes(g, 0, &s, NULL, &e), WEFT_EINVAL);
	assert_null(e);
	assert_true(weft_array_graph(d) == g);

	weft_array_free(a);
	weft_array_free(b);
	weft_array_free(c);
	weft_array_free(d);
	weft_array_free(NULL);
	weft_graph_free(g);
}

/* Nodes are named after their array ("array1.chunk-0", "array1.mom-0-0",
 * "array1.sum"), with the next free number when a name is taken, and
 * unnamed when a later one is. */
static void
node_names(void **state)
{
	(void)state;
	double x[10] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 };
	weft_graph *g = weft_graph_new();
	weft_node mine = WEFT_DELAYED_NAMED(g, "array1.chunk-0", make_offset);
	weft_node taken = WEFT_DELAYED_NAMED(g, "array2.sum", make_offset);
	assert_true(weft_node_ok(mine) && weft_node_ok(taken));
	weft_chunking ch = { .chunk_len = 3, .fanin = 2 };
	weft_array *a;
	assert_int_equal(weft_array_wrap(g, x, 10, &ch, 0, &a), WEFT_OK);
	assert_true(weft_node_ok(weft_graph_find(g, "array2.chunk-3")));
	weft_node s, m;
	assert_int_equal(weft_array_sum(a, &s), WEFT_OK);
	assert_int_equal(weft_array_mean(a, &m), WEFT_OK);
	assert_true(weft_graph_find(g, "array2.mean").id == m.id);
	assert_true(weft_graph_find(g, "array2.sum").id == taken.id);
	assert_true(weft_node_ok(weft_graph_find(g, "array2.mom-1-0")));
	weft_value v[2];
	weft_node t[2] = { s, m };
	assert_int_equal(weft_compute(g, 2, t, v, NULL), WEFT_OK);
	assert_true(weft_as_float(v[0]) == 55 && weft_as_float(v[1]) == 5.5);
	weft_array_free(a);
	weft_graph_free(g);
}

/* Quantiles by selection across many sorted chunks with heavy ties. */
static void
quantiles_ties(void **state)
{
	(void)state;
	uint64_t seed = 99;
	for (int r = 0; r < 20; r++) {
		size_t n = 1 + tu_rand(&seed) % scaled(5000);
		double *x = malloc(n * sizeof *x);
		for (size_t i = 0; i < n; i++)
			x[i] = (double)(tu_rand(&seed) % (1 + r));
		double *sorted = malloc(n * sizeof *sorted);
		memcpy(sorted, x, n * sizeof *x);
		qsort(sorted, n, sizeof *sorted, cmp_d);
		weft_graph *g = weft_graph_new();
		weft_chunking ch = { .chunk_len = 1 + tu_rand(&seed) % 50 };
		weft_array *a;
		assert_int_equal(weft_array_wrap(g, x, n, &ch, WEFT_ARRAY_COPY, &a),
		    WEFT_OK);
		free(x); /* copied */
		double qs[21];
		for (int i = 0; i <= 20; i++)
			qs[i] = i / 20.0;
		weft_node t;
		assert_int_equal(weft_array_quantiles(a, 21, qs, &t), WEFT_OK);
		weft_value v;
		weft_opts o = { .pool = pools[r % 3] };
		assert_int_equal(weft_compute(g, 1, &t, &v, &o), WEFT_OK);
		for (int i = 0; i <= 20; i++)
			assert_true(weft_f64s_data(v)[i] ==
			    ref_quantile(sorted, n, qs[i]));
		weft_value_release(&v);
		weft_array_free(a);
		weft_graph_free(g);
		free(sorted);
	}
}

/* Elements exactly on (and one ulp around) numpy's bin edges, where the
 * index computed by division needs numpy's corrections; and many random
 * quantiles of real-valued data, where the interpolation's rounding shows. */
static void
edges_and_interpolation(void **state)
{
	(void)state;
	uint64_t seed = 4242;
	for (int r = 0; r < 40; r++) {
		double lo = (unif(&seed) - 0.5) * 10, hi = lo + 0.1 + unif(&seed) * 7;
		size_t nb = 1 + tu_rand(&seed) % 97;
		double step = (hi - lo) / (double)nb;
		size_t n = 3 * (nb + 1) + 2;
		double *x = malloc(n * sizeof *x);
		size_t k = 0;
		for (size_t i = 0; i <= nb; i++) {
			double e = i == nb ? hi : (double)i * step + lo;
			x[k++] = e;
			x[k++] = nextafter(e, -INFINITY);
			x[k++] = nextafter(e, INFINITY);
		}
		x[k++] = lo - 1;
		x[k++] = NAN;
		double *hc = malloc(nb * sizeof *hc);
		ref_hist(x, n, lo, hi, nb, hc);
		weft_graph *g = weft_graph_new();
		weft_chunking ch = { .chunk_len = 1 + tu_rand(&seed) % 9 };
		weft_array *a;
		assert_int_equal(weft_array_wrap(g, x, n, &ch, 0, &a), WEFT_OK);
		weft_node t;
		assert_int_equal(weft_array_histogram(a, lo, hi, nb, &t), WEFT_OK);
		weft_value v;
		assert_int_equal(weft_compute(g, 1, &t, &v, NULL), WEFT_OK);
		double total = 0;
		for (size_t i = 0; i < nb; i++) {
			assert_true(weft_f64s_data(v)[i] == hc[i]);
			total += hc[i];
		}
		/* all but the one below lo, the one below lo's edge twin and
		 * the NaN; the one above hi is out too */
		assert_true(total == (double)(n - 4));
		weft_value_release(&v);
		weft_array_free(a);
		weft_graph_free(g);
		free(x);
		free(hc);
	}

	size_t n = scaled(3000);
	double *x = make_data(&seed, n, 0);
	double *sorted = malloc(n * sizeof *sorted);
	memcpy(sorted, x, n * sizeof *x);
	qsort(sorted, n, sizeof *sorted, cmp_d);
	double qs[300];
	for (int i = 0; i < 300; i++)
		qs[i] = unif(&seed);
	weft_graph *g = weft_graph_new();
	weft_chunking ch = { .chunk_len = 97 };
	weft_array *a;
	assert_int_equal(weft_array_wrap(g, x, n, &ch, 0, &a), WEFT_OK);
	weft_node t;
	assert_int_equal(weft_array_quantiles(a, 300, qs, &t), WEFT_OK);
	weft_value v;
	assert_int_equal(weft_compute(g, 1, &t, &v, NULL), WEFT_OK);
	for (int i = 0; i < 300; i++)
		assert_true(weft_f64s_data(v)[i] == ref_quantile(sorted, n, qs[i]));
	weft_value_release(&v);
	weft_array_free(a);
	weft_graph_free(g);
	free(x);
	free(sorted);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(reductions_match_reference),
		cmocka_unit_test(sum_independent_of_chunking),
		cmocka_unit_test(map_then_reduce),
		cmocka_unit_test(generated_arrays),
		cmocka_unit_test(nan_and_empty),
		cmocka_unit_test(errors),
		cmocka_unit_test(quantiles_ties),
		cmocka_unit_test(node_names),
		cmocka_unit_test(edges_and_interpolation),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
