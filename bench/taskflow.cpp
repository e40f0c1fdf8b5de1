/*
 * Taskflow (https://github.com/taskflow/taskflow), an optional peer: it is
 * not packaged in Debian, so it is built only from a checkout the user
 * gives (meson option `taskflow`, set by `bench/run --taskflow DIR`); it is
 * never vendored here.
 *
 * One tf::Taskflow per graph: one emplace() per task and one precede() per
 * dependency, written the way oneTBB's flow graph is (tbb.cpp), over the
 * same value slots and bodies. "build" makes the tasks and edges, "run" is
 * executor.run(taskflow).wait(), "teardown" destroys the taskflow. fib uses
 * a TaskGroup per call with both children as tasks (one task per call, as
 * weft, OpenMP and tbb-tg do), run from an executor.async. The executor's
 * worker count is the thread count.
 */
#include <cstdint>
#include <memory>
#include <new>
#include <vector>

#include <taskflow/taskflow.hpp>

#include "bench.h"

#ifndef BENCH_TF_VERSION /* set by bench/meson.build from TF_VERSION */
#define BENCH_TF_VERSION "?"
#endif

namespace {

struct state {
	explicit state(unsigned threads) : ex(threads) { }
	tf::Executor ex;
};

int
tf_init(unsigned threads, void **st)
{
	auto *s = new (std::nothrow) state(threads);
	if (!s)
		return -1;
	*st = s;
	return 0;
}

void
tf_fini(void *st)
{
	delete static_cast<state *>(st);
}

uint64_t
fib_tg(tf::Executor &ex, uint64_t n)
{
	if (n < 2)
		return bench_fib_leaf(n);
	uint64_t a, b;
	tf::TaskGroup tg = ex.task_group();
	tg.silent_async([&ex, &a, n] { a = fib_tg(ex, n - 1); });
	tg.silent_async([&ex, &b, n] { b = fib_tg(ex, n - 2); });
	tg.corun();
	return bench_add(a, b);
}

/* Adds the tasks and edges of p to tf; false on an unknown shape. */
bool
build(tf::Taskflow &tf, const bench_problem *p, uint64_t *v)
{
	const size_t n = p->n;
	std::vector<tf::Task> at;

	switch (p->shape) {
	case BENCH_INDEP:
		for (size_t i = 0; i < n; i++)
			tf.emplace([v, i] { v[i] = bench_leaf(i); });
		return true;
	case BENCH_COARSE:
		for (size_t i = 0; i < n; i++)
			tf.emplace([v, i] { v[i] = bench_coarse(i); });
		return true;
	case BENCH_CHAIN: {
		tf::Task prev = tf.emplace([v] { v[0] = bench_leaf(0); });
		for (size_t i = 1; i < n; i++) {
			tf::Task t = tf.emplace(
			    [v, i] { v[i] = bench_step(v[i - 1]); });
			prev.precede(t);
			prev = t;
		}
		return true;
	}
	case BENCH_TREE:
		/* heap order: at[i] is slot i; leaves first, then the
		 * internal nodes bottom-up, as tbb.cpp makes them */
		at.resize(2 * n);
		for (size_t k = 0; k < n; k++)
			at[n + k] = tf.emplace(
			    [v, n, k] { v[n + k] = bench_leaf(k); });
		for (size_t i = n - 1; i >= 1; i--) {
			at[i] = tf.emplace([v, i] {
				v[i] = bench_join(v[2 * i], v[2 * i + 1]);
			});
			at[i].succeed(at[2 * i], at[2 * i + 1]);
		}
		return true;
	case BENCH_WAVE:
		at.resize(n * n);
		for (size_t i = 0; i < n; i++)
			for (size_t j = 0; j < n; j++) {
				tf::Task t = tf.emplace([v, n, i, j] {
					v[i * n + j] = bench_join(
					    i ? v[(i - 1) * n + j] : 0,
					    j ? v[i * n + j - 1] : 0);
				});
				if (i)
					at[(i - 1) * n + j].precede(t);
				if (j)
					at[i * n + j - 1].precede(t);
				at[i * n + j] = t;
			}
		return true;
	case BENCH_RANDOM:
		at.resize(n);
		for (size_t i = 0; i < n; i++) {
			at[i] = tf.emplace(
			    [v, p, i] { bench_random_eval(p, v, i); });
			for (uint32_t e = p->off[i]; e < p->off[i + 1]; e++)
				at[p->pred[e]].precede(at[i]);
		}
		return true;
	default:
		return false;
	}
}

int
tf_run(void *st, const bench_problem *p, bench_times *t)
{
	tf::Executor &ex = static_cast<state *>(st)->ex;
	double t0 = bench_now_ms();
	std::vector<uint64_t> vals(bench_slots(p));
	uint64_t *v = vals.data();

	if (p->shape == BENCH_FIB) {
		const uint64_t n = p->n;
		v[0] = ex.async([&ex, n] { return fib_tg(ex, n); }).get();
		double t1 = bench_now_ms();
		t->check = bench_check_values(p, v);
		double t2 = bench_now_ms();
		std::vector<uint64_t>().swap(vals);
		t->fused = 1;
		t->run_ms = t1 - t0;
		t->teardown_ms = bench_now_ms() - t2;
		return 0;
	}
	auto tf = std::make_unique<tf::Taskflow>();
	if (!build(*tf, p, v))
		return -1;
	double t1 = bench_now_ms();
	double t1r = bench_built();
	ex.run(*tf).wait();
	double t2 = bench_now_ms();
	t->check = bench_check_values(p, v);
	double t3 = bench_now_ms();
	tf.reset();
	std::vector<uint64_t>().swap(vals);
	double t4 = bench_now_ms();
	t->build_ms = t1 - t0;
	t->run_ms = t2 - t1r;
	t->teardown_ms = t4 - t3;
	return 0;
}

} // namespace

int
main(int argc, char **argv)
{
	static const bench_runtime rt = {
		"taskflow",
		BENCH_GRAPH_SHAPES | BENCH_MASK(BENCH_FIB) | BENCH_POOL_SHAPES,
		tf_init,
		tf_run,
		tf_fini,
		"Taskflow " BENCH_TF_VERSION ": tf::Taskflow of emplace()d "
		"tasks and precede() edges; fib: TaskGroup silent_async + corun",
		nullptr,
	};
	return bench_main(argc, argv, &rt, 1);
}
