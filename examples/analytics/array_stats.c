/* Statistics of a generated array of 100 million normal doubles, computed
 * in parallel as one weft graph: count, mean, std, min, max (one pass over
 * the chunks), a histogram, and exact quantiles of a smaller array.
 *
 *   array_stats [N=100000000] [THREADS=0 (one per core)] [CHUNK=1048576]
 *
 * The chunks are generated inside their tasks (a counter-based generator,
 * so any chunking gives the same numbers) and freed as soon as the
 * reductions have read them: memory stays at a few chunks per worker.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <weft.h>

static double
now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

#define CHECK(x)                                                              \
	do {                                                                  \
		int rc_ = (x);                                                \
		if (rc_ != WEFT_OK) {                                         \
			fprintf(stderr, "array_stats: %s: %s (%s)\n", #x,     \
			    weft_strerror(rc_), weft_graph_error(g));         \
			return 1;                                             \
		}                                                             \
	} while (0)

int
main(int argc, char **argv)
{
	size_t n = argc > 1 ? strtoull(argv[1], NULL, 10) : 100000000u;
	unsigned threads = argc > 2 ? (unsigned)atoi(argv[2]) : 0;
	size_t chunk = argc > 3 ? strtoull(argv[3], NULL, 10) : (size_t)1 << 20;

	weft_pool_opts po = { .threads = threads };
	weft_pool *pool = weft_pool_new(&po);
	weft_graph *g = weft_graph_new();
	if (!pool || !g)
		return 1;
	weft_opts opts = { .pool = pool };

	/* 1. One pass: all the moments, and a histogram, of N(3, 2). */
	weft_gen gen = { .kind = WEFT_GEN_NORMAL, .a = 3.0, .b = 2.0, .seed = 42 };
	weft_chunking ch = { .chunk_len = chunk };
	weft_array *a;
	CHECK(weft_array_generate(g, &gen, n, &ch, &a));
	weft_node t[2];
	CHECK(weft_array_stats(a, &t[0]));
	CHECK(weft_array_histogram(a, -5.0, 11.0, 16, &t[1]));
	weft_value r[2];
	double t0 = now();
	CHECK(weft_compute(g, 2, t, r, &opts));
	double dt = now() - t0;
	weft_stats s;
	weft_stats_get(r[0], &s);
	printf("N(3, 2), %zu elements in %zu chunks, %u threads: %.3f s "
	       "(%.0f M elements/s)\n",
	    n, weft_array_nchunks(a), weft_pool_threads(pool), dt,
	    (double)n / dt / 1e6);
	printf("  count %lld  mean %.6f  std %.6f  min %.4f  max %.4f\n",
	    (long long)s.count, s.mean, s.std, s.min, s.max);
	printf("  histogram over [-5, 11), 16 bins:\n");
	const double *h = weft_f64s_data(r[1]);
	for (int i = 0; i < 16; i++) {
		printf("  %6.1f %10.0f ", -5.0 + i, h[i]);
		for (int k = 0; k < (int)(60 * h[i] / (double)n * 5); k++)
			putchar('#');
		putchar('\n');
	}
	weft_value_release(&r[0]);
	weft_value_release(&r[1]);

	/* 2. Exact quantiles of a smaller array: chunks are sorted in
	 *    parallel and each quantile is selected across them. */
	size_t nq = n / 10 ? n / 10 : 1;
	weft_array *b;
	CHECK(weft_array_generate(g, &gen, nq, &ch, &b));
	double qs[5] = { 0.01, 0.25, 0.5, 0.75, 0.99 };
	weft_node qn;
	CHECK(weft_array_quantiles(b, 5, qs, &qn));
	t0 = now();
	CHECK(weft_compute(g, 1, &qn, r, &opts));
	dt = now() - t0;
	const double *qv = weft_f64s_data(r[0]);
	printf("quantiles of %zu elements (%.3f s): ", nq, dt);
	for (int i = 0; i < 5; i++)
		printf("q%.2f=%.4f ", qs[i], qv[i]);
	printf("\n  (N(3,2) has q0.01=-1.6527 q0.25=1.6510 q0.5=3 "
	       "q0.75=4.3490 q0.99=7.6527)\n");
	weft_value_release(&r[0]);

	weft_array_free(a);
	weft_array_free(b);
	weft_graph_free(g);
	weft_pool_free(pool);
	return 0;
}
