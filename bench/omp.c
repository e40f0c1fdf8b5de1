/*
 * OpenMP tasks (libgomp): one `single` producer creates every task, with
 * `depend` clauses on the value slots wherever the shape has dependencies,
 * plain tasks where it has none (indep, coarse), and task + taskwait for
 * fib. Tasks start while they are being created, so build and run are one
 * phase here ("fused").
 */
#include <stdlib.h>

#include <omp.h>

#include "bench.h"

typedef struct omp_state {
	int threads;
} omp_state;

static int
omp_init(unsigned threads, void **st)
{
	omp_state *s = malloc(sizeof(*s));

	if (!s)
		return -1;
	s->threads = (int)threads;
	omp_set_dynamic(0);
	*st = s;
	return 0;
}

static void
omp_fini(void *st)
{
	free(st);
}

static uint64_t
fib_task(uint64_t n)
{
	uint64_t a, b;

	if (n < 2)
		return bench_fib_leaf(n);
#pragma omp task shared(a) firstprivate(n)
	a = fib_task(n - 1);
#pragma omp task shared(b) firstprivate(n)
	b = fib_task(n - 2);
#pragma omp taskwait
	return bench_add(a, b);
}

/* Creates the tasks of one shape; called by the single producer. */
static void
produce(const bench_problem *p, uint64_t *v, uint64_t *fib_out)
{
	size_t n = p->n;
	uint64_t dummy = 0;
	uint64_t *d = &dummy; /* "no neighbour": an address no task writes */

	switch (p->shape) {
	case BENCH_INDEP:
		for (size_t i = 0; i < n; i++) {
#pragma omp task firstprivate(i)
			v[i] = bench_leaf(i);
		}
		break;
	case BENCH_COARSE:
		for (size_t i = 0; i < n; i++) {
#pragma omp task firstprivate(i)
			v[i] = bench_coarse(i);
		}
		break;
	case BENCH_CHAIN:
#pragma omp task depend(out : v[0])
		v[0] = bench_leaf(0);
		for (size_t i = 1; i < n; i++) {
#pragma omp task firstprivate(i) depend(in : v[i - 1]) depend(out : v[i])
			v[i] = bench_step(v[i - 1]);
		}
		break;
	case BENCH_TREE:
		for (size_t k = 0; k < n; k++) {
#pragma omp task firstprivate(k) depend(out : v[n + k])
			v[n + k] = bench_leaf(k);
		}
		for (size_t i = n - 1; i >= 1; i--) {
#pragma omp task firstprivate(i) depend(in : v[2 * i], v[2 * i + 1])         \
    depend(out : v[i])
			v[i] = bench_join(v[2 * i], v[2 * i + 1]);
		}
		break;
	case BENCH_WAVE:
		for (size_t i = 0; i < n; i++)
			for (size_t j = 0; j < n; j++) {
				uint64_t *up = i ? &v[(i - 1) * n + j] : d;
				uint64_t *left = j ? &v[i * n + j - 1] : d;
				uint64_t *me = &v[i * n + j];
#pragma omp task firstprivate(up, left, me, i, j) depend(in : *up, *left)    \
    depend(out : *me)
				*me = bench_join(i ? *up : 0, j ? *left : 0);
			}
		break;
	case BENCH_RANDOM:
		for (size_t i = 0; i < n; i++) {
			const uint32_t *q = p->pred + p->off[i];
			switch (p->off[i + 1] - p->off[i]) {
			case 0:
#pragma omp task firstprivate(i) depend(out : v[i])
				bench_random_eval(p, v, i);
				break;
			case 1:
#pragma omp task firstprivate(i) depend(in : v[q[0]]) depend(out : v[i])
				bench_random_eval(p, v, i);
				break;
			case 2:
#pragma omp task firstprivate(i) depend(in : v[q[0]], v[q[1]])             \
    depend(out : v[i])
				bench_random_eval(p, v, i);
				break;
			case 3:
#pragma omp task firstprivate(i) depend(in : v[q[0]], v[q[1]], v[q[2]])    \
    depend(out : v[i])
				bench_random_eval(p, v, i);
				break;
			default:
#pragma omp task firstprivate(i)                                              \
    depend(in : v[q[0]], v[q[1]], v[q[2]], v[q[3]]) depend(out : v[i])
				bench_random_eval(p, v, i);
				break;
			}
		}
		break;
	case BENCH_FIB:
		*fib_out = fib_task(n);
		break;
	default:
		break;
	}
	/* the end of `single` is a barrier: every task has run after it */
}

static int
omp_run(void *st, const bench_problem *p, bench_times *t)
{
	omp_state *s = st;
	size_t slots = bench_slots(p);
	uint64_t *v, fib = 0;
	double t0 = bench_now_ms();

	v = malloc(slots * sizeof(*v));
	if (!v)
		return -1;
#pragma omp parallel num_threads(s->threads)
#pragma omp single
	produce(p, v, &fib);
	double t1 = bench_now_ms();
	if (p->shape == BENCH_FIB)
		v[0] = fib;
	t->check = bench_check_values(p, v);
	double t2 = bench_now_ms();
	free(v);
	t->fused = 1;
	t->run_ms = t1 - t0;
	t->teardown_ms = bench_now_ms() - t2;
	return 0;
}

int
main(int argc, char **argv)
{
	static const bench_runtime rt = {
		.name = "openmp",
		.shapes = BENCH_GRAPH_SHAPES | BENCH_MASK(BENCH_FIB) |
		    BENCH_POOL_SHAPES,
		.init = omp_init,
		.run = omp_run,
		.fini = omp_fini,
		.note = "libgomp tasks, depend clauses where the shape has "
			"edges; build and run fused",
	};
	return bench_main(argc, argv, &rt, 1);
}
