/*
 * oneTBB, two ways:
 * - tbb-flow: a flow::graph of continue_nodes, one per task, with one
 *   make_edge per dependency; the roots get a try_put. "build" makes the
 *   nodes and edges, "run" is the puts plus wait_for_all, "teardown"
 *   destroys the nodes.
 * - tbb-tg: a task_group, one run() per task (indep, coarse) and recursive
 *   task_groups for fib; it has no way to say "after these two", so the
 *   shapes with edges are left to flow_graph. Tasks start as they are
 *   added: build and run are fused.
 * The thread count is set with global_control(max_allowed_parallelism).
 */
#include <cstdint>
#include <cstdlib>
#include <deque>
#include <memory>
#include <new>
#include <vector>

#include <oneapi/tbb/flow_graph.h>
#include <oneapi/tbb/global_control.h>
#include <oneapi/tbb/task_group.h>

#include "bench.h"

namespace flow = oneapi::tbb::flow;
using node_t = flow::continue_node<flow::continue_msg>;
using msg_t = flow::continue_msg;

namespace {

struct state {
	std::unique_ptr<oneapi::tbb::global_control> gc;
};

int
tbb_init(unsigned threads, void **st)
{
	auto *s = new (std::nothrow) state;
	if (!s)
		return -1;
	s->gc = std::make_unique<oneapi::tbb::global_control>(
	    oneapi::tbb::global_control::max_allowed_parallelism, threads);
	*st = s;
	return 0;
}

void
tbb_fini(void *st)
{
	delete static_cast<state *>(st);
}

int
flow_run(void *, const bench_problem *p, bench_times *t)
{
	const size_t n = p->n;
	double t0 = bench_now_ms();
	std::vector<uint64_t> vals(bench_slots(p));
	uint64_t *v = vals.data();
	auto *g = new flow::graph;
	auto *nodes = new std::deque<node_t>;
	std::vector<node_t *> roots;

	switch (p->shape) {
	case BENCH_INDEP:
	case BENCH_COARSE: {
		bool coarse = p->shape == BENCH_COARSE;
		for (size_t i = 0; i < n; i++) {
			if (coarse)
				nodes->emplace_back(*g, [v, i](const msg_t &) {
					v[i] = bench_coarse(i);
				});
			else
				nodes->emplace_back(*g, [v, i](const msg_t &) {
					v[i] = bench_leaf(i);
				});
			roots.push_back(&nodes->back());
		}
		break;
	}
	case BENCH_CHAIN:
		nodes->emplace_back(
		    *g, [v](const msg_t &) { v[0] = bench_leaf(0); });
		roots.push_back(&nodes->back());
		for (size_t i = 1; i < n; i++) {
			nodes->emplace_back(*g, [v, i](const msg_t &) {
				v[i] = bench_step(v[i - 1]);
			});
			flow::make_edge((*nodes)[i - 1], nodes->back());
		}
		break;
	case BENCH_TREE:
		/* nodes[k] is slot n + k for a leaf; nodes[n + (n-1-i)] is
		 * internal slot i, made bottom-up */
		for (size_t k = 0; k < n; k++) {
			nodes->emplace_back(*g, [v, n, k](const msg_t &) {
				v[n + k] = bench_leaf(k);
			});
			roots.push_back(&nodes->back());
		}
		{
			std::vector<node_t *> at(2 * n);
			for (size_t k = 0; k < n; k++)
				at[n + k] = &(*nodes)[k];
			for (size_t i = n - 1; i >= 1; i--) {
				nodes->emplace_back(*g, [v, i](const msg_t &) {
					v[i] = bench_join(v[2 * i], v[2 * i + 1]);
				});
				at[i] = &nodes->back();
				flow::make_edge(*at[2 * i], *at[i]);
				flow::make_edge(*at[2 * i + 1], *at[i]);
			}
		}
		break;
	case BENCH_WAVE:
		for (size_t i = 0; i < n; i++)
			for (size_t j = 0; j < n; j++) {
				nodes->emplace_back(
				    *g, [v, n, i, j](const msg_t &) {
					    v[i * n + j] = bench_join(
						i ? v[(i - 1) * n + j] : 0,
						j ? v[i * n + j - 1] : 0);
				    });
				if (i)
					flow::make_edge(
					    (*nodes)[(i - 1) * n + j],
					    nodes->back());
				if (j)
					flow::make_edge((*nodes)[i * n + j - 1],
					    nodes->back());
			}
		roots.push_back(&(*nodes)[0]);
		break;
	case BENCH_RANDOM:
		for (size_t i = 0; i < n; i++) {
			nodes->emplace_back(*g, [v, p, i](const msg_t &) {
				bench_random_eval(p, v, i);
			});
			for (uint32_t e = p->off[i]; e < p->off[i + 1]; e++)
				flow::make_edge(
				    (*nodes)[p->pred[e]], nodes->back());
			if (p->off[i] == p->off[i + 1])
				roots.push_back(&nodes->back());
		}
		break;
	default:
		delete nodes;
		delete g;
		return -1;
	}
	double t1 = bench_now_ms();
	double t1r = bench_built();
	for (node_t *r : roots)
		r->try_put(msg_t());
	g->wait_for_all();
	double t2 = bench_now_ms();
	t->check = bench_check_values(p, v);
	double t3 = bench_now_ms();
	delete nodes;
	delete g;
	std::vector<uint64_t>().swap(vals);
	double t4 = bench_now_ms();
	t->build_ms = t1 - t0;
	t->run_ms = t2 - t1r;
	t->teardown_ms = t4 - t3;
	return 0;
}

uint64_t
fib_tg(uint64_t n)
{
	if (n < 2)
		return bench_fib_leaf(n);
	uint64_t a, b;
	oneapi::tbb::task_group g;
	g.run([&a, n] { a = fib_tg(n - 1); });
	g.run([&b, n] { b = fib_tg(n - 2); });
	g.wait();
	return bench_add(a, b);
}

int
tg_run(void *, const bench_problem *p, bench_times *t)
{
	const size_t n = p->n;
	double t0 = bench_now_ms();
	std::vector<uint64_t> vals(bench_slots(p));
	uint64_t *v = vals.data();

	switch (p->shape) {
	case BENCH_INDEP: {
		oneapi::tbb::task_group g;
		for (size_t i = 0; i < n; i++)
			g.run([v, i] { v[i] = bench_leaf(i); });
		g.wait();
		break;
	}
	case BENCH_COARSE: {
		oneapi::tbb::task_group g;
		for (size_t i = 0; i < n; i++)
			g.run([v, i] { v[i] = bench_coarse(i); });
		g.wait();
		break;
	}
	case BENCH_FIB: {
		oneapi::tbb::task_group g;
		g.run([v, n] { v[0] = fib_tg(n); });
		g.wait();
		break;
	}
	default:
		return -1;
	}
	double t1 = bench_now_ms();
	t->check = bench_check_values(p, v);
	double t2 = bench_now_ms();
	std::vector<uint64_t>().swap(vals);
	t->fused = 1;
	t->run_ms = t1 - t0;
	t->teardown_ms = bench_now_ms() - t2;
	return 0;
}

} // namespace

int
main(int argc, char **argv)
{
	static const bench_runtime rts[] = {
		{ "tbb-flow", BENCH_GRAPH_SHAPES | BENCH_POOL_SHAPES, tbb_init,
		    flow_run, tbb_fini,
		    "oneTBB flow::graph of continue_nodes",
		    "fib: flow_graph has no dynamic tasks (see tbb-tg)" },
		{ "tbb-tg",
		    BENCH_MASK(BENCH_INDEP) | BENCH_MASK(BENCH_COARSE) |
			BENCH_MASK(BENCH_FIB) | BENCH_POOL_SHAPES,
		    tbb_init, tg_run, tbb_fini,
		    "oneTBB task_group; build and run fused",
		    "task_group cannot express dependencies: see tbb-flow" },
	};
	return bench_main(argc, argv, rts, sizeof(rts) / sizeof(rts[0]));
}
