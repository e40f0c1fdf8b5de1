/*
 * The floor: the same bodies in the same order with no runtime at all, one
 * thread (the --threads flag is accepted and ignored). "build" allocates the
 * value array; "run" is the loop.
 */
#include <stdlib.h>

#include "bench.h"

static int
seq_init(unsigned threads, void **st)
{
	(void)threads;
	*st = NULL;
	return 0;
}

static void
seq_fini(void *st)
{
	(void)st;
}

static uint64_t
fib(uint64_t n)
{
	return n < 2 ? bench_fib_leaf(n) : bench_add(fib(n - 1), fib(n - 2));
}

static int
seq_run(void *st, const bench_problem *p, bench_times *t)
{
	size_t n = p->n;
	uint64_t *v = NULL;
	double t0 = bench_now_ms();

	(void)st;
	if (p->shape == BENCH_FIB) {
		uint64_t r = fib(n);
		t->run_ms = bench_now_ms() - t0;
		t->check = r;
		return 0;
	}
	v = malloc((p->shape == BENCH_TREE ? 2 * n : p->tasks) * sizeof(*v));
	if (!v)
		return -1;
	double t1 = bench_now_ms();
	switch (p->shape) {
	case BENCH_INDEP:
		for (size_t i = 0; i < n; i++)
			v[i] = bench_leaf(i);
		break;
	case BENCH_COARSE:
		for (size_t i = 0; i < n; i++)
			v[i] = bench_coarse(i);
		break;
	case BENCH_CHAIN:
		v[0] = bench_leaf(0);
		for (size_t i = 1; i < n; i++)
			v[i] = bench_step(v[i - 1]);
		break;
	case BENCH_TREE:
		for (size_t k = 0; k < n; k++)
			v[n + k] = bench_leaf(k);
		for (size_t i = n - 1; i >= 1; i--)
			v[i] = bench_join(v[2 * i], v[2 * i + 1]);
		break;
	case BENCH_WAVE:
		for (size_t i = 0; i < n; i++)
			for (size_t j = 0; j < n; j++)
				v[i * n + j] =
				    bench_join(i ? v[(i - 1) * n + j] : 0,
					j ? v[i * n + j - 1] : 0);
		break;
	case BENCH_RANDOM:
		for (size_t i = 0; i < n; i++)
			bench_random_eval(p, v, i);
		break;
	default:
		free(v);
		return -1;
	}
	double t2 = bench_now_ms();
	t->check = bench_check_values(p, v);
	double t3 = bench_now_ms();
	free(v);
	t->build_ms = t1 - t0;
	t->run_ms = t2 - t1;
	t->teardown_ms = bench_now_ms() - t3;
	return 0;
}

int
main(int argc, char **argv)
{
	static const bench_runtime rt = {
		.name = "seq",
		.shapes = BENCH_GRAPH_SHAPES | BENCH_MASK(BENCH_FIB),
		.init = seq_init,
		.run = seq_run,
		.fini = seq_fini,
		.note = "sequential loop, no runtime: the floor",
	};
	return bench_main(argc, argv, &rt, 1);
}
