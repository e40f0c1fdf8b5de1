/*
 * The benchmark suite's common part: the task bodies (body.c), the shapes
 * and their sequential reference results, and the driver every program runs
 * (common.c): command line, warm-up, timing, memory, verification and the
 * one JSON result line per run.
 *
 * A program implements one or more bench_runtime and calls bench_main().
 * Usable from C and C++ (the oneTBB program).
 */
#ifndef WEFT_BENCH_H
#define WEFT_BENCH_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* -- task bodies (body.c: their own translation unit, never inlined) ---- */

/* indep, tree leaves: the value of leaf i. */
uint64_t bench_leaf(uint64_t i);
/* chain: the next value after x. */
uint64_t bench_step(uint64_t x);
/* tree (left, right) and wave (up, left; 0 where there is no neighbour). */
uint64_t bench_join(uint64_t a, uint64_t b);
/* random: node i over the values of its k predecessors (k <= 4). */
uint64_t bench_rnode(uint64_t i, size_t k, const uint64_t *vals);
/* coarse: about 100 us of dependent arithmetic (BENCH_COARSE_ITERS LCG
 * steps from i), the same on every runtime. */
uint64_t bench_coarse(uint64_t i);
/* fib: fib(n) for n < 2, and the sum of two sub-results. */
uint64_t bench_fib_leaf(uint64_t n);
uint64_t bench_add(uint64_t a, uint64_t b);
/* The random DAG of dag.h, exported for ctypes (the Dask program). */
size_t bench_dag(size_t n, uint64_t seed, uint32_t *off, uint32_t *pred);

#define BENCH_COARSE_ITERS 90000u
#define BENCH_LCG_A UINT64_C(6364136223846793005)
#define BENCH_LCG_C UINT64_C(1442695040888963407)

/* -- shapes -------------------------------------------------------------- */

typedef enum bench_shape {
	BENCH_INDEP,  /* 1,000,000 independent tasks */
	BENCH_CHAIN,  /* a chain of 1,000,000 tasks */
	BENCH_TREE,   /* a binary reduction of 2^21 - 1 nodes */
	BENCH_WAVE,   /* a 1024 x 1024 wavefront */
	BENCH_FIB,    /* fib(30), one task per call (dynamic tasks) */
	BENCH_RANDOM, /* the seeded random DAG of dag.h, 1,000,000 nodes */
	BENCH_COARSE, /* 10,000 tasks of ~100 us */
	BENCH_IDLE,   /* CPU used by an idle pool over 1 s */
	BENCH_WAKE,   /* latency of a 1-task run on a sleeping pool */
	BENCH_NSHAPES
} bench_shape;

#define BENCH_MASK(s) (1u << (s))
#define BENCH_GRAPH_SHAPES                                                    \
	(BENCH_MASK(BENCH_INDEP) | BENCH_MASK(BENCH_CHAIN) |                  \
	    BENCH_MASK(BENCH_TREE) | BENCH_MASK(BENCH_WAVE) |                 \
	    BENCH_MASK(BENCH_RANDOM) | BENCH_MASK(BENCH_COARSE))
#define BENCH_POOL_SHAPES (BENCH_MASK(BENCH_IDLE) | BENCH_MASK(BENCH_WAKE))

const char *bench_shape_name(bench_shape s);

/*
 * One instance of a shape. Array-based runtimes number the nodes as below
 * and keep one uint64_t value per node:
 * - indep, coarse, chain, random: node i, 0 <= i < n;
 * - tree: heap order, root 1, node i has children 2i and 2i+1; the leaves
 *   are n..2n-1 and leaf n+k holds bench_leaf(k); slot 0 is unused;
 * - wave: cell (i, j) is node i*n + j, 0 <= i, j < n;
 * - fib: n is the argument; there are no nodes.
 */
typedef struct bench_problem {
	bench_shape shape;
	size_t n;     /* see above */
	size_t tasks; /* tasks a run executes (the ns/task divisor) */
	size_t edges; /* dependencies */
	/* random only: predecessors of i are pred[off[i]..off[i+1]); the
	 * result is the wrapping sum of the values of the sinks. */
	uint32_t *off, *pred, *sinks;
	size_t nsinks;
} bench_problem;

/* The instance of `shape` at `scale` (1 = the full size). 0 or -1 (no
 * memory). */
int bench_problem_init(bench_problem *p, bench_shape shape, double scale);
/* The instance with an explicit size n (as in bench_problem). */
int bench_problem_init_n(bench_problem *p, bench_shape shape, size_t n);
void bench_problem_free(bench_problem *p);
/* The expected check value, computed sequentially (not timed). */
uint64_t bench_reference(const bench_problem *p);
/* How many uint64_t node values an array-based runtime keeps for `p`,
 * laid out as above (fib: 1, for the result). */
size_t bench_slots(const bench_problem *p);
/* random, array-based runtimes: runs node i's body over the values of its
 * predecessors in v and stores its value in v[i]. Inline, as each runtime
 * had it written out in its own task. */
static inline void
bench_random_eval(const bench_problem *p, uint64_t *v, size_t i)
{
	uint64_t in[4]; /* BENCH_DAG_MAX_FANIN */
	size_t k = 0;

	for (uint32_t e = p->off[i]; e < p->off[i + 1]; e++)
		in[k++] = v[p->pred[e]];
	v[i] = bench_rnode(i, k, in);
}
/* The check value of a run from an array of node values laid out as above
 * (fib: pass the result as vals[0]). */
uint64_t bench_check_values(const bench_problem *p, const uint64_t *vals);

/* -- the driver --------------------------------------------------------- */

/* What one run measured; filled by bench_runtime.run. */
typedef struct bench_times {
	double build_ms;    /* making the graph (0 when fused) */
	double run_ms;      /* executing it (and building, when fused) */
	double teardown_ms; /* freeing it (reported apart) */
	uint64_t check;     /* the result, see bench_check_values */
	int fused;	    /* 1: tasks start while they are created */
} bench_times;

typedef struct bench_runtime {
	const char *name; /* printed as "runtime" */
	unsigned shapes;  /* mask of supported shapes */
	/* Starts the runtime's workers; 0 on success. */
	int (*init)(unsigned threads, void **state);
	/* Builds, runs and frees one instance, timing each phase with
	 * bench_now_ms(); 0 on success (a wrong result is still 0). */
	int (*run)(void *state, const bench_problem *p, bench_times *t);
	void (*fini)(void *state);
	const char *note;    /* printed with each result line, or NULL */
	const char *missing; /* why the other shapes are missing, or NULL */
} bench_runtime;

/* Milliseconds on a monotonic clock. */
double bench_now_ms(void);

/* qsort comparison of doubles, ascending (for medians). */
int bench_cmp_double(const void *x, const void *y);

/* A "Vm...:" field of /proc/self/status (VmRSS, VmHWM) in kB, or -1. */
long bench_status_kb(const char *field);

/* Called by a runtime between building its graph and running it: notes the
 * RSS the graph takes (graph_bytes_per_node); returns bench_now_ms() after
 * the note, i.e. when the run phase starts. */
double bench_built(void);

/*
 * The main program: parses the command line (--help lists it), runs
 * the shape and prints one JSON line per timed rep on stdout. Exit status:
 * 0 all verified, 1 a wrong result, 2 usage, 3 a runtime error, 77 the
 * shape is not supported by this runtime.
 */
int bench_main(int argc, char **argv, const bench_runtime *rts, size_t nrts);

#ifdef __cplusplus
}
#endif
#endif
