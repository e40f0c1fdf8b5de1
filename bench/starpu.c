/*
 * StarPU (CPU workers only): one starpu_task per node, with explicit
 * task-to-task dependencies (starpu_task_declare_deps_array) rather than
 * data handles, which would add a registered handle per value. The values
 * live in one array that the codelets index through cl_arg.
 *
 * "build" creates and submits every task while the workers are paused
 * (starpu_pause), "run" is starpu_resume plus starpu_task_wait_for_all, and
 * "teardown" destroys the tasks (destroy = 0 keeps them alive until then,
 * so that a dependency never points to a freed task).
 *
 * fib is missing: a StarPU task cannot wait for tasks it submits.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <starpu.h>

#include "bench.h"

/* The run in progress; codelets read it (one run at a time). */
static const bench_problem *cur;
static uint64_t *vals;

#define IDX(arg) ((size_t)(uintptr_t)(arg))

static void
cl_leaf_f(void *buffers[], void *arg)
{
	(void)buffers;
	vals[IDX(arg)] = bench_leaf(IDX(arg));
}

static void
cl_coarse_f(void *buffers[], void *arg)
{
	(void)buffers;
	vals[IDX(arg)] = bench_coarse(IDX(arg));
}

static void
cl_chain_f(void *buffers[], void *arg)
{
	size_t i = IDX(arg);

	(void)buffers;
	vals[i] = i ? bench_step(vals[i - 1]) : bench_leaf(0);
}

/* tree: slot i >= n is leaf i - n, below n a join of 2i and 2i+1 */
static void
cl_tree_f(void *buffers[], void *arg)
{
	size_t i = IDX(arg), n = cur->n;

	(void)buffers;
	vals[i] = i >= n ? bench_leaf(i - n)
			 : bench_join(vals[2 * i], vals[2 * i + 1]);
}

static void
cl_wave_f(void *buffers[], void *arg)
{
	size_t c = IDX(arg), n = cur->n, i = c / n, j = c % n;

	(void)buffers;
	vals[c] = bench_join(i ? vals[c - n] : 0, j ? vals[c - 1] : 0);
}

static void
cl_rnode_f(void *buffers[], void *arg)
{
	size_t i = IDX(arg), k = 0;
	uint64_t in[4];

	(void)buffers;
	for (uint32_t e = cur->off[i]; e < cur->off[i + 1]; e++)
		in[k++] = vals[cur->pred[e]];
	vals[i] = bench_rnode(i, k, in);
}

#define CODELET(cl)                                                           \
	static struct starpu_codelet cl = {                                   \
		.cpu_funcs = { cl##_f },                                      \
		.nbuffers = 0,                                                \
		.name = #cl,                                                  \
	}
CODELET(cl_leaf);
CODELET(cl_coarse);
CODELET(cl_chain);
CODELET(cl_tree);
CODELET(cl_wave);
CODELET(cl_rnode);

static int
sp_init(unsigned threads, void **st)
{
	struct starpu_conf conf;

	/* no banner, no calibration runs, no GPU drivers */
	setenv("STARPU_SILENT", "1", 0);
	starpu_conf_init(&conf);
	conf.ncpus = (int)threads;
	conf.ncuda = 0;
	conf.nopencl = 0;
	conf.precedence_over_environment_variables = 1;
	if (starpu_init(&conf) != 0)
		return -1;
	if (starpu_cpu_worker_get_count() != threads) {
		fprintf(stderr, "starpu: asked for %u CPU workers, got %u\n",
		    threads, starpu_cpu_worker_get_count());
		starpu_shutdown();
		return -1;
	}
	*st = NULL;
	return 0;
}

static void
sp_fini(void *st)
{
	(void)st;
	starpu_shutdown();
}

static struct starpu_codelet *
codelet_of(bench_shape s)
{
	switch (s) {
	case BENCH_INDEP:
		return &cl_leaf;
	case BENCH_COARSE:
		return &cl_coarse;
	case BENCH_CHAIN:
		return &cl_chain;
	case BENCH_TREE:
		return &cl_tree;
	case BENCH_WAVE:
		return &cl_wave;
	case BENCH_RANDOM:
		return &cl_rnode;
	default:
		return NULL;
	}
}

static int
sp_run(void *st, const bench_problem *p, bench_times *t)
{
	size_t n = p->n, nslots = p->shape == BENCH_TREE ? 2 * n : p->tasks;
	struct starpu_codelet *cl = codelet_of(p->shape);
	struct starpu_task **task;
	int rc = 0;

	(void)st;
	if (!cl)
		return -1;
	double t0 = bench_now_ms();
	vals = malloc(nslots * sizeof(*vals));
	task = calloc(nslots, sizeof(*task));
	if (!vals || !task) {
		free(vals);
		free(task);
		return -1;
	}
	cur = p;
	starpu_pause();
	/* creation order: every predecessor before its consumers */
	for (size_t k = 0; k < p->tasks && rc == 0; k++) {
		size_t i = p->shape == BENCH_TREE ? 2 * n - 1 - k : k;
		struct starpu_task *tk = starpu_task_create();
		struct starpu_task *dep[4];
		unsigned nd = 0;
		if (!tk) {
			rc = -1;
			break;
		}
		tk->cl = cl;
		tk->cl_arg = (void *)(uintptr_t)i;
		tk->destroy = 0;
		task[i] = tk;
		switch (p->shape) {
		case BENCH_CHAIN:
			if (i)
				dep[nd++] = task[i - 1];
			break;
		case BENCH_TREE:
			if (i < n) {
				dep[nd++] = task[2 * i];
				dep[nd++] = task[2 * i + 1];
			}
			break;
		case BENCH_WAVE:
			if (i >= n)
				dep[nd++] = task[i - n];
			if (i % n)
				dep[nd++] = task[i - 1];
			break;
		case BENCH_RANDOM:
			for (uint32_t e = p->off[i]; e < p->off[i + 1]; e++)
				dep[nd++] = task[p->pred[e]];
			break;
		default:
			break;
		}
		if (nd)
			starpu_task_declare_deps_array(tk, nd, dep);
		if (starpu_task_submit(tk) != 0)
			rc = -1;
	}
	double t1 = bench_now_ms();
	double t1r = bench_built();
	starpu_resume();
	starpu_task_wait_for_all();
	double t2 = bench_now_ms();
	t->check = bench_check_values(p, vals);
	double t3 = bench_now_ms();
	for (size_t i = 0; i < nslots; i++)
		if (task[i])
			starpu_task_destroy(task[i]);
	free(task);
	free(vals);
	vals = NULL;
	cur = NULL;
	t->build_ms = t1 - t0;
	t->run_ms = t2 - t1r;
	t->teardown_ms = bench_now_ms() - t3;
	if (rc != 0)
		fprintf(stderr, "starpu: task creation or submission failed\n");
	return rc;
}

int
main(int argc, char **argv)
{
	static const bench_runtime rt = {
		.name = "starpu",
		.shapes = BENCH_GRAPH_SHAPES | BENCH_POOL_SHAPES,
		.init = sp_init,
		.run = sp_run,
		.fini = sp_fini,
		.note = "CPU workers, default scheduler, explicit task "
			"dependencies, tasks submitted while paused",
		.missing = "a StarPU task cannot wait for the tasks it submits",
	};
	return bench_main(argc, argv, &rt, 1);
}
