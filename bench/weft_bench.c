/*
 * weft on the suite's shapes, through the public API only: a fresh graph
 * per run built with weft_delayed(), one weft_compute() on a pool made once
 * per process, results released and the graph freed ("teardown").
 *
 * fib is one graph node whose task spawns a child task per call
 * (weft_spawn) and waits for its two children (weft_wait), as in
 * weft/task.h: every call is a task.
 */
#include <stdio.h>
#include <stdlib.h>

#include <weft.h>

#include "bench.h"

typedef struct wstate {
	weft_pool *pool;
	weft_opts opts;
} wstate;

static int
w_init(unsigned threads, void **st)
{
	weft_pool_opts po = { .threads = threads };
	wstate *s = calloc(1, sizeof(*s));
	int err = 0;

	if (!s)
		return -1;
	s->pool = weft_pool_new2(&po, &err);
	if (!s->pool) {
		fprintf(stderr, "weft: weft_pool_new: %s\n",
		    weft_strerror(err));
		free(s);
		return -1;
	}
	s->opts.pool = s->pool;
	*st = s;
	return 0;
}

static void
w_fini(void *st)
{
	wstate *s = st;

	weft_pool_free(s->pool);
	free(s);
}

static uint64_t
u64(weft_value v)
{
	return (uint64_t)weft_as_int(v);
}

static weft_value
val(uint64_t x)
{
	return weft_int((int64_t)x);
}

/* -- the task functions: unpack, call the shared body, pack ------------- */

static int
t_leaf(weft_ctx *c, size_t n, const weft_value *a, weft_value *out)
{
	(void)c;
	(void)n;
	*out = val(bench_leaf(u64(a[0])));
	return WEFT_OK;
}

static int
t_coarse(weft_ctx *c, size_t n, const weft_value *a, weft_value *out)
{
	(void)c;
	(void)n;
	*out = val(bench_coarse(u64(a[0])));
	return WEFT_OK;
}

static int
t_step(weft_ctx *c, size_t n, const weft_value *a, weft_value *out)
{
	(void)c;
	(void)n;
	*out = val(bench_step(u64(a[0])));
	return WEFT_OK;
}

static int
t_join(weft_ctx *c, size_t n, const weft_value *a, weft_value *out)
{
	(void)c;
	(void)n;
	*out = val(bench_join(u64(a[0]), u64(a[1])));
	return WEFT_OK;
}

/* args: the node's index, then its predecessors' values */
static int
t_rnode(weft_ctx *c, size_t n, const weft_value *a, weft_value *out)
{
	uint64_t in[4];

	(void)c;
	for (size_t k = 1; k < n; k++)
		in[k - 1] = u64(a[k]);
	*out = val(bench_rnode(u64(a[0]), n - 1, in));
	return WEFT_OK;
}

/* fib(k): one task per call, children spawned and waited for. */
static int
t_fib(weft_ctx *c, size_t n, const weft_value *a, weft_value *out)
{
	uint64_t k = u64(a[0]);
	weft_value arg[2], r[2];
	weft_task *t[2];
	int rc;

	(void)n;
	if (k < 2) {
		*out = val(bench_fib_leaf(k));
		return WEFT_OK;
	}
	arg[0] = val(k - 1);
	arg[1] = val(k - 2);
	t[0] = weft_spawn(c, t_fib, 1, &arg[0]);
	t[1] = weft_spawn(c, t_fib, 1, &arg[1]);
	rc = weft_wait(c, 2, t, r);
	for (int i = 0; i < 2 && rc == WEFT_OK; i++)
		if (!t[i]) /* spawn failed (no memory): run it here */
			rc = t_fib(c, 1, &arg[i], &r[i]);
	if (rc != WEFT_OK)
		return rc;
	/* r[] hold INTs: nothing to release */
	*out = val(bench_add(u64(r[0]), u64(r[1])));
	return WEFT_OK;
}

static weft_arg
lit(uint64_t x)
{
	return weft_lit(val(x));
}

/* Adds the nodes of `p` to `g`; fills targets (nt of them). */
static void
build(weft_graph *g, const bench_problem *p, weft_node *at,
    weft_node *targets, size_t *nt)
{
	size_t n = p->n;
	weft_arg args[5];

	switch (p->shape) {
	case BENCH_INDEP:
	case BENCH_COARSE: {
		weft_fn fn = p->shape == BENCH_INDEP ? t_leaf : t_coarse;
		for (size_t i = 0; i < n; i++) {
			args[0] = lit(i);
			targets[i] = weft_delayed(g, fn, 1, args);
		}
		*nt = n;
		break;
	}
	case BENCH_CHAIN: {
		weft_node prev;
		args[0] = lit(0);
		prev = weft_delayed(g, t_leaf, 1, args);
		for (size_t i = 1; i < n; i++) {
			args[0] = weft_ref(prev);
			prev = weft_delayed(g, t_step, 1, args);
		}
		targets[0] = prev;
		*nt = 1;
		break;
	}
	case BENCH_TREE: /* at[] in heap order, see bench.h */
		for (size_t k = 0; k < n; k++) {
			args[0] = lit(k);
			at[n + k] = weft_delayed(g, t_leaf, 1, args);
		}
		for (size_t i = n - 1; i >= 1; i--) {
			args[0] = weft_ref(at[2 * i]);
			args[1] = weft_ref(at[2 * i + 1]);
			at[i] = weft_delayed(g, t_join, 2, args);
		}
		targets[0] = at[1];
		*nt = 1;
		break;
	case BENCH_WAVE:
		for (size_t i = 0; i < n; i++)
			for (size_t j = 0; j < n; j++) {
				args[0] = i ? weft_ref(at[(i - 1) * n + j])
					    : lit(0);
				args[1] = j ? weft_ref(at[i * n + j - 1])
					    : lit(0);
				at[i * n + j] = weft_delayed(g, t_join, 2, args);
			}
		targets[0] = at[n * n - 1];
		*nt = 1;
		break;
	case BENCH_FIB:
		args[0] = lit(n);
		targets[0] = weft_delayed(g, t_fib, 1, args);
		*nt = 1;
		break;
	case BENCH_RANDOM:
		for (size_t i = 0; i < n; i++) {
			size_t k = 1;
			args[0] = lit(i);
			for (uint32_t e = p->off[i]; e < p->off[i + 1]; e++)
				args[k++] = weft_ref(at[p->pred[e]]);
			at[i] = weft_delayed(g, t_rnode, k, args);
		}
		for (size_t s = 0; s < p->nsinks; s++)
			targets[s] = at[p->sinks[s]];
		*nt = p->nsinks;
		break;
	default:
		*nt = 0;
		break;
	}
}

static int
w_run(void *st, const bench_problem *p, bench_times *t)
{
	wstate *s = st;
	size_t n = p->n, nt = 0, nat = 0;
	int rc = -1;

	if (p->shape == BENCH_TREE)
		nat = 2 * n;
	else if (p->shape == BENCH_WAVE || p->shape == BENCH_RANDOM)
		nat = p->tasks;
	size_t ntargets = p->shape == BENCH_RANDOM ? p->nsinks
	    : (p->shape == BENCH_INDEP || p->shape == BENCH_COARSE) ? n
								    : 1;

	double t0 = bench_now_ms();
	weft_graph *g = weft_graph_new();
	weft_node *at = nat ? malloc(nat * sizeof(*at)) : NULL;
	weft_node *targets = malloc(ntargets * sizeof(*targets));
	if (!g || (nat && !at) || !targets)
		goto out;
	build(g, p, at, targets, &nt);
	free(at); /* the handles are only needed while building */
	at = NULL;
	if (weft_graph_errcode(g) != WEFT_OK) {
		fprintf(stderr, "weft: building the %s graph: %s\n",
		    bench_shape_name(p->shape), weft_graph_error(g));
		goto out;
	}
	double t1 = bench_now_ms();
	double t1r = bench_built();
	weft_value *res = malloc(nt * sizeof(*res));
	int err = res ? weft_compute(g, nt, targets, res, &s->opts)
		      : WEFT_ENOMEM;
	double t2 = bench_now_ms();
	if (err != WEFT_OK) {
		fprintf(stderr, "weft: compute of %s failed: %s (%s)\n",
		    bench_shape_name(p->shape), weft_strerror(err),
		    g ? weft_graph_error(g) : "");
		free(res);
		goto out;
	}
	uint64_t sum = 0;
	for (size_t k = 0; k < nt; k++)
		sum += u64(res[k]);
	t->check = sum;
	double t3 = bench_now_ms();
	for (size_t k = 0; k < nt; k++)
		weft_value_release(&res[k]);
	free(res);
	free(targets);
	targets = NULL;
	weft_graph_free(g);
	g = NULL;
	double t4 = bench_now_ms();
	t->build_ms = t1 - t0;
	t->run_ms = t2 - t1r;
	t->teardown_ms = t4 - t3;
	rc = 0;
out:
	free(at);
	free(targets);
	weft_graph_free(g);
	return rc;
}

int
main(int argc, char **argv)
{
	static const bench_runtime rt = {
		.name = "weft",
		.shapes = BENCH_GRAPH_SHAPES | BENCH_MASK(BENCH_FIB) |
		    BENCH_POOL_SHAPES,
		.init = w_init,
		.run = w_run,
		.fini = w_fini,
		.note = "public API: weft_delayed + weft_compute on one pool",
		.missing = NULL,
	};
	return bench_main(argc, argv, &rt, 1);
}
