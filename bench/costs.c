/*
 * What weft's optional features cost per task, on one graph, in one run:
 * a 1,000,000-node chain computed plain, without fusion, with a trace, and
 * with no-op pre/post-task callbacks, alternately, 9 rounds; medians.
 *
 *     build-bench/bench/weft-costs [threads]
 */
#include <stdio.h>
#include <stdlib.h>

#include <weft.h>

#include "bench.h"

static int
inc(weft_ctx *c, size_t n, const weft_value *a, weft_value *o)
{
	(void)c;
	(void)n;
	*o = weft_int(weft_as_int(a[0]) + 1);
	return WEFT_OK;
}

static void
nop(void *ud, const weft_task_info *ti)
{
	(void)ud;
	(void)ti;
}


int
main(int argc, char **argv)
{
	enum { N = 1000000, ROUNDS = 9, MODES = 4 };
	static const char *const name[MODES] = { "plain (fused)",
		"without fusion", "with a trace", "with callbacks" };
	weft_pool_opts po = { .threads = argc > 1 ? (unsigned)atoi(argv[1]) : 1 };
	weft_pool *p = weft_pool_new(&po);
	weft_graph *g = weft_graph_new();
	weft_trace *tr = weft_trace_new();
	if (!p || !g || !tr)
		return 1;
	weft_node x = WEFT_DELAYED(g, inc, weft_lit(weft_int(0)));
	for (int i = 1; i < N; i++)
		x = WEFT_DELAYED(g, inc, weft_ref(x));
	weft_callbacks cb = { NULL, nop, nop, NULL, NULL };
	double t[MODES][ROUNDS];
	for (int r = 0; r < ROUNDS; r++)
		for (int m = 0; m < MODES; m++) {
			weft_opts o = { .pool = p };
			if (m == 1)
				o.flags = WEFT_NO_FUSE;
			if (m == 2)
				o.trace = tr;
			if (m == 3)
				o.callbacks = &cb;
			weft_trace_clear(tr);
			weft_value v;
			double t0 = bench_now_ms();
			int rc = weft_compute(g, 1, &x, &v, &o);
			t[m][r] = (bench_now_ms() - t0) * 1e6 / N;
			if (rc != WEFT_OK || weft_as_int(v) != N) {
				fprintf(stderr, "weft-costs: wrong result (%s)\n",
				    weft_graph_error(g));
				return 1;
			}
		}
	printf("chain of %d, %u thread(s), median of %d rounds:\n", N,
	    weft_pool_threads(p), ROUNDS);
	for (int m = 0; m < MODES; m++) {
		qsort(t[m], ROUNDS, sizeof t[m][0], bench_cmp_double);
		printf("  %-16s %6.1f ns/task\n", name[m], t[m][ROUNDS / 2]);
	}
	weft_trace_free(tr);
	weft_graph_free(g);
	weft_pool_free(p);
	return 0;
}
