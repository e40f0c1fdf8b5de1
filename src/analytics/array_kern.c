/*
 * The numeric kernels behind weft/array.h and the CSV aggregates: mergeable
 * moments, the counter-based generators, a sort for doubles and selection
 * of a rank across sorted runs. No graph code here: array.c wraps these in
 * tasks.
 */
#include "analytics/analytics.h"

#include "base/alloc.h"
#include "base/memhash.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* -- moments ---------------------------------------------------------------- */

void
weft__mom_init(weft__mom *m)
{
	m->n = 0;
	m->sum.hi = m->sum.lo = 0;
	m->mean = m->m2 = 0;
	m->min = INFINITY;
	m->max = -INFINITY;
	m->nans = 0;
}

void
weft__mom_push(weft__mom *m, double x)
{
	if (isnan(x)) {
		m->nans += 1;
		/* NaN poisons sum and M2, as numpy's sum and var would. */
		m->sum.hi += x;
		m->m2 += x;
		return;
	}
	m->n += 1;
	weft__dd_add(&m->sum, x);
	double d = x - m->mean;
	m->mean += d / m->n;
	m->m2 += d * (x - m->mean);
	if (x < m->min)
		m->min = x;
	if (x > m->max)
		m->max = x;
}

/* Chan, Golub and LeVeque's pairwise update of (n, mean, M2). */
static void
chan(weft__mom *m, double nb, double mean_b, double m2_b)
{
	if (nb == 0)
		return;
	if (m->n == 0) {
		m->n = nb;
		m->mean = mean_b;
		m->m2 = m2_b;
		return;
	}
	double n = m->n + nb;
	double d = mean_b - m->mean;
	m->mean += d * (nb / n);
	m->m2 += m2_b + d * d * (m->n * nb / n);
	m->n = n;
}

void
weft__mom_merge(weft__mom *m, const weft__mom *o)
{
	chan(m, o->n, o->mean, o->m2);
	weft__dd_add_dd(&m->sum, o->sum);
	if (o->min < m->min)
		m->min = o->min;
	if (o->max > m->max)
		m->max = o->max;
	m->nans += o->nans;
	if (o->nans > 0)
		m->m2 = NAN;
}

/*
 * Blocks of 512 elements (4 KiB, in L1 for the second pass): pass one sums
 * them in four double-double lanes (the exact-ish total) and finds min,
 * max and NaNs; pass two sums deviations from the block's mean (the
 * corrected two-pass formula); blocks then merge by Chan's formula. Four
 * independent lanes let the compiler pipeline the adds.
 */
#define MOM_BLOCK 512

void
weft__mom_add(weft__mom *m, const double *x, size_t n)
{
	double h[4] = { 0, 0, 0, 0 }, c[4] = { 0, 0, 0, 0 };
	double mn = m->min, mx = m->max, nans = 0;

	for (size_t off = 0; off < n; off += MOM_BLOCK) {
		size_t nb = n - off < MOM_BLOCK ? n - off : MOM_BLOCK;
		const double *b = x + off;
		double p[4] = { 0, 0, 0, 0 };
		size_t i = 0;
		for (; i + 4 <= nb; i += 4) {
			for (int l = 0; l < 4; l++) {
				double v = b[i + l], s, e;
				p[l] += v;
				weft__two_sum(h[l], v, &s, &e);
				h[l] = s;
				c[l] += e;
				mn = v < mn ? v : mn;
				mx = v > mx ? v : mx;
				nans += v != v;
			}
		}
		for (; i < nb; i++) {
			double v = b[i], s, e;
			p[0] += v;
			weft__two_sum(h[0], v, &s, &e);
			h[0] = s;
			c[0] += e;
			mn = v < mn ? v : mn;
			mx = v > mx ? v : mx;
			nans += v != v;
		}
		double mb = ((p[0] + p[1]) + (p[2] + p[3])) / (double)nb;
		double sd[4] = { 0, 0, 0, 0 }, sq[4] = { 0, 0, 0, 0 };
		for (i = 0; i + 4 <= nb; i += 4) {
			for (int l = 0; l < 4; l++) {
				double d = b[i + l] - mb;
				sd[l] += d;
				sq[l] += d * d;
			}
		}
		for (; i < nb; i++) {
			double d = b[i] - mb;
			sd[0] += d;
			sq[0] += d * d;
		}
		double tsd = (sd[0] + sd[1]) + (sd[2] + sd[3]);
		double tsq = (sq[0] + sq[1]) + (sq[2] + sq[3]);
		double dn = (double)nb;
		chan(m, dn, mb + tsd / dn, tsq - tsd * tsd / dn);
	}
	for (int l = 0; l < 4; l++) {
		weft__dd t = { h[l], c[l] };
		weft__dd_add_dd(&m->sum, t);
	}
	if (nans > 0) {
		/* NaNs were counted in n by the blocks: take them out again.
		 * The mean and M2 are NaN anyway. */
		m->n -= nans;
		m->nans += nans;
		m->m2 = NAN;
	}
	m->min = mn;
	m->max = mx;
}

void
weft__mom_store(const weft__mom *m, double *o)
{
	o[0] = WEFT__MOM_MAGIC;
	o[1] = m->n;
	o[2] = m->sum.hi;
	o[3] = m->sum.lo;
	o[4] = m->mean;
	o[5] = m->m2;
	o[6] = m->min;
	o[7] = m->max;
	o[8] = m->nans;
}

void
weft__mom_load(weft__mom *m, const double *o)
{
	m->n = o[1];
	m->sum.hi = o[2];
	m->sum.lo = o[3];
	m->mean = o[4];
	m->m2 = o[5];
	m->min = o[6];
	m->max = o[7];
	m->nans = o[8];
}

weft_value
weft__mom_value(const weft__mom *m)
{
	weft_value v;
	if (weft_f64s_new(WEFT__MOM_LEN, NULL, &v) != WEFT_OK)
		return weft_nil();
	weft__mom_store(m, weft_f64s_data_mut(v));
	return v;
}

/* -- generators ----------------------------------------------------------- */

/* Uniform in [0, 1) from the counter i of stream `seed`, 53 bits. */
static inline double
unif(uint64_t seed, uint64_t i)
{
	return (double)(weft__mix64(seed + i * 0x9E3779B97F4A7C15u) >> 11) *
	    0x1.0p-53;
}

void
weft__gen_fill(const weft_gen *gen, size_t start, double *x, size_t n)
{
	switch (gen->kind) {
	case WEFT_GEN_RANGE:
		for (size_t i = 0; i < n; i++)
			x[i] = gen->a + (double)(start + i) * gen->b;
		break;
	case WEFT_GEN_UNIFORM: {
		double w = gen->b - gen->a;
		for (size_t i = 0; i < n; i++)
			x[i] = gen->a + w * unif(gen->seed, start + i);
		break;
	}
	case WEFT_GEN_NORMAL:
		/* Box-Muller from two draws of element i's own counters (2i,
		 * 2i+1), so no pair spans a chunk boundary. 1 - u is in (0, 1]:
		 * no log(0). */
		for (size_t i = 0; i < n; i++) {
			uint64_t k = 2 * (uint64_t)(start + i);
			double u1 = 1.0 - unif(gen->seed, k);
			double u2 = unif(gen->seed, k + 1);
			x[i] = gen->a +
			    gen->b * sqrt(-2.0 * log(u1)) *
				cos(6.283185307179586 * u2);
		}
		break;
	}
}

/* -- sorting -------------------------------------------------------------- */

static void
insertion(double *x, size_t n)
{
	for (size_t i = 1; i < n; i++) {
		double v = x[i];
		size_t j = i;
		while (j > 0 && x[j - 1] > v) {
			x[j] = x[j - 1];
			j--;
		}
		x[j] = v;
	}
}

static void
sift(double *x, size_t i, size_t n)
{
	double v = x[i];
	for (;;) {
		size_t c = 2 * i + 1;
		if (c >= n)
			break;
		if (c + 1 < n && x[c + 1] > x[c])
			c++;
		if (!(x[c] > v))
			break;
		x[i] = x[c];
		i = c;
	}
	x[i] = v;
}

static void
heapsort_d(double *x, size_t n)
{
	for (size_t i = n / 2; i-- > 0;)
		sift(x, i, n);
	for (size_t e = n; e-- > 1;) {
		double t = x[0];
		x[0] = x[e];
		x[e] = t;
		sift(x, 0, e);
	}
}

static inline void
swapd(double *a, double *b)
{
	double t = *a;
	*a = *b;
	*b = t;
}

/* Introsort: median-of-three quicksort, heapsort past 2 log n levels,
 * insertion sort for short ranges. Recurses on the smaller side only. */
static void
introsort(double *x, size_t n, int depth)
{
	while (n > 24) {
		if (depth-- == 0) {
			heapsort_d(x, n);
			return;
		}
		size_t mid = n / 2;
		if (x[mid] < x[0])
			swapd(&x[mid], &x[0]);
		if (x[n - 1] < x[0])
			swapd(&x[n - 1], &x[0]);
		if (x[n - 1] < x[mid])
			swapd(&x[n - 1], &x[mid]);
		double p = x[mid];
		size_t i = 0, j = n - 1;
		/* Hoare partition; the medians guard both ends. */
		for (;;) {
			while (x[i] < p)
				i++;
			while (p < x[j])
				j--;
			if (i >= j)
				break;
			swapd(&x[i], &x[j]);
			i++;
			j--;
		}
		size_t left = j + 1;
		if (left < n - left) {
			introsort(x, left, depth);
			x += left;
			n -= left;
		} else {
			introsort(x + left, n - left, depth);
			n = left;
		}
	}
	insertion(x, n);
}

size_t
weft__sort_f64(double *x, size_t n)
{
	/* NaNs to the end first: comparisons with them would break the
	 * partitions' guards. */
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		if (!isnan(x[i]))
			x[k++] = x[i];
	size_t nans = n - k;
	for (size_t i = k; i < n; i++)
		x[i] = NAN;
	int depth = 0;
	for (size_t t = k; t > 1; t >>= 1)
		depth += 2;
	introsort(x, k, depth);
	return nans;
}

/* -- selection across sorted runs --------------------------------------------- */

static size_t
lower_bound(const double *r, size_t lo, size_t hi, double p)
{
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (r[mid] < p)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static size_t
upper_bound(const double *r, size_t lo, size_t hi, double p)
{
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (p < r[mid])
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo;
}

struct wmed {
	double v;
	size_t w;
};

static int
cmp_wmed(const void *a, const void *b)
{
	double x = ((const struct wmed *)a)->v, y = ((const struct wmed *)b)->v;
	return (x > y) - (x < y);
}

/*
 * The element of rank k (0-based) of the union of m sorted NaN-free runs.
 * Each round takes the weighted median p of the windows' medians: at least
 * a quarter of the remaining elements lie on each side of it, so O(log N)
 * rounds of O(m log N) suffice, and no run is merged or copied. `scratch`
 * holds 2m size_t and m struct wmed (see weft__select_scratch()).
 */
double
weft__select_rank(size_t m, const double *const *run, const size_t *len,
    size_t k, void *scratch)
{
	size_t *lo = scratch, *hi = lo + m;
	struct wmed *md = (struct wmed *)(void *)(hi + m);
	for (size_t i = 0; i < m; i++) {
		lo[i] = 0;
		hi[i] = len[i];
	}
	for (;;) {
		size_t nm = 0, total = 0;
		for (size_t i = 0; i < m; i++) {
			size_t w = hi[i] - lo[i];
			if (w) {
				md[nm].v = run[i][lo[i] + w / 2];
				md[nm].w = w;
				nm++;
				total += w;
			}
		}
		/* The caller asks for k < N, and every round keeps the
		 * answer inside the windows, so total > 0 here. */
		qsort(md, nm, sizeof *md, cmp_wmed);
		size_t acc = 0, j = 0;
		for (; j < nm; j++) {
			acc += md[j].w;
			if (2 * acc >= total)
				break;
		}
		double p = md[j < nm ? j : nm - 1].v;
		size_t less = 0, leq = 0;
		for (size_t i = 0; i < m; i++) {
			less += lower_bound(run[i], lo[i], hi[i], p);
			leq += upper_bound(run[i], lo[i], hi[i], p);
		}
		if (k < less) {
			for (size_t i = 0; i < m; i++)
				hi[i] = lower_bound(run[i], lo[i], hi[i], p);
		} else if (k >= leq) {
			for (size_t i = 0; i < m; i++)
				lo[i] = upper_bound(run[i], lo[i], hi[i], p);
		} else {
			return p;
		}
	}
}

size_t
weft__select_scratch(size_t m)
{
	return 2 * m * sizeof(size_t) + m * sizeof(struct wmed);
}

/* numpy's _lerp: a + (b-a)*t, or b - (b-a)*(1-t) from t = 0.5 on (exact at
 * both ends, monotonic). */
double
weft__lerp(double a, double b, double t)
{
	double d = b - a;
	return t >= 0.5 ? b - d * (1 - t) : a + d * t;
}

/* numpy's virtual index for method 'linear': n*q + (alpha + q*(1 - alpha
 * - beta)) - 1 with alpha = beta = 1, evaluated in numpy's order. */
double
weft__qindex(size_t n, double q)
{
	return (double)n * q + (1.0 + q * (1.0 - 1.0 - 1.0)) - 1.0;
}
