/*
 * The node loop of a compute: cull, per-run state in one flat array, and
 * the dependency-driven execution on the pool.
 *
 * Per node in the run there is one 32-byte slot: a pending-input counter,
 * a remaining-consumer counter, the fused successor, flags and the result.
 * When a node ends, its worker releases the inputs whose last consumer it
 * was, decrements its successors, runs one newly ready successor itself
 * next (no deque round trip) and pushes the others.
 *
 * Completion needs no shared counter per task: every node in the run is an
 * ancestor of a target, so when the last target is done, every node is.
 * A failure or a cancel does not stop that walk: later nodes are *skipped*
 * (their function is not called) but still release their inputs and
 * decrement their successors, so the run drains, every intermediate is
 * freed, and the targets complete as skipped.
 */
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/futex.h"
#include "base/sort.h"
#include "graph/value.h"
#include "run/run.h"
#include "weft/task.h"

#define WEFT__RANGE (UINT64_C(1) << 51) /* job arg: a range of roots */
#define WEFT__STACK_ARGS 16
#define WEFT__TBUF 64

/* -- inside tasks ------------------------------------------------------------ */

int
weft_fail(weft_ctx *ctx, const char *fmt, ...)
{
	if (!ctx)
		return WEFT_ETASK;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(ctx->msg, sizeof ctx->msg, fmt ? fmt : "(no message)", ap);
	va_end(ap);
	ctx->has_msg = 1;
	return WEFT_ETASK;
}

int
weft_ctx_worker(const weft_ctx *ctx)
{
	return ctx ? ctx->worker : -1;
}

weft_node
weft_ctx_node(const weft_ctx *ctx)
{
	return ctx ? weft__graph_node(ctx->run->g, ctx->node) : WEFT_NODE_NONE;
}

int
weft_ctx_canceled(const weft_ctx *ctx)
{
	return ctx && weft_atomic_load_relaxed(&ctx->run->failed) != 0;
}

const char *
weft_ctx_key(weft_ctx *ctx)
{
	if (!ctx)
		return "";
	return weft__graph_key(ctx->run->g, ctx->node, ctx->key, sizeof ctx->key);
}

static void
record_failure(weft__run *r, weft_ctx *ctx, int rc)
{
	uint32_t zero = WEFT__RUN_OK;
	if (!weft_atomic_cas_acq_rel(&r->failed, &zero, WEFT__RUN_FAILED))
		return; /* the first failure (or a cancel) wins */
	r->fail_node = ctx->node;
	r->fail_code = rc;
	if (ctx->has_msg)
		snprintf(r->fail_msg, sizeof r->fail_msg, "%s", ctx->msg);
	else
		snprintf(r->fail_msg, sizeof r->fail_msg, "%s (%s)",
		    weft_strerror(rc), weft_err_name(rc));
}

static void
task_info(weft__run *r, weft_ctx *ctx, weft_task_info *ti)
{
	ti->node = weft__graph_node(r->g, ctx->node);
	ti->key = weft_ctx_key(ctx);
	ti->worker = ctx->worker;
	ti->end_ns = 0;
	ti->rc = WEFT_OK;
}

/* A task returned OK with a NIL: a failed constructor's NIL must not pass
 * for a result (weft_value_failed). */
static int
check_nil(weft_ctx *ctx, weft_value out)
{
	if (!weft_value_failed(out))
		return WEFT_OK;
	weft_fail(ctx, "the task returned the NIL of a failed value "
		       "constructor (out of memory?)");
	return WEFT_ENOMEM;
}

/* Calls the node's function with its arguments gathered into an array of
 * borrowed values. Returns 0, or -1 when the task failed. */
static int
call(weft__run *r, uint32_t v, const weft__node *nd, weft__worker *w)
{
	const weft_graph *g = r->g;
	weft_value stackargs[WEFT__STACK_ARGS];
	weft_value *argv = stackargs;
	weft_ctx ctx;
	ctx.run = r;
	ctx.node = v;
	ctx.w = w;
	ctx.worker = (int)weft__worker_index(w);
	ctx.has_msg = 0;
	ctx.children = NULL;
	if (nd->nargs > WEFT__STACK_ARGS) {
		argv = weft__malloc(nd->nargs * sizeof *argv);
		if (!argv) {
			weft_fail(&ctx, "out of memory for %u arguments",
			    nd->nargs);
			record_failure(r, &ctx, WEFT_ENOMEM);
			return -1;
		}
	}
	const uint32_t *a = g->args + nd->arg0;
	const weft_value *lit = g->lits + nd->lit0;
	for (uint32_t i = 0; i < nd->nargs; i++)
		argv[i] = a[i] == WEFT__LIT ? *lit++ : r->slots[a[i]].result;
	/* The task writes straight into the result slot (NIL from calloc):
	 * copying a just-returned value out of a local missed store
	 * forwarding and stalled every task. */
	weft_value *out = &r->slots[v].result;
	int rc;
	if (!r->cb && !r->trace) {
		rc = nd->fn(&ctx, nd->nargs, argv, out);
		if (rc == WEFT_OK && out->type == WEFT_NIL)
			rc = check_nil(&ctx, *out);
	} else {
		weft_task_info ti;
		if (r->cb)
			task_info(r, &ctx, &ti);
		int64_t t0 = weft__now_ns();
		if (r->cb && r->cb->pretask) {
			ti.start_ns = t0;
			r->cb->pretask(r->cb->ud, &ti);
		}
		rc = nd->fn(&ctx, nd->nargs, argv, out);
		int64_t t1 = weft__now_ns();
		if (rc == WEFT_OK && out->type == WEFT_NIL)
			rc = check_nil(&ctx, *out);
		if (r->trace)
			weft__trace_add(r->trace, ctx.worker, v, t0, t1, rc,
			    rc == WEFT_OK ? NULL : ctx.has_msg ? ctx.msg : "");
		if (r->cb && r->cb->posttask) {
			ti.start_ns = t0;
			ti.end_ns = t1;
			ti.rc = rc;
			r->cb->posttask(r->cb->ud, &ti);
		}
	}
	if (ctx.children)
		weft__ctx_wait_children(&ctx);
	if (argv != stackargs)
		weft__free(argv);
	if (rc != WEFT_OK) {
		weft_value_release(out);
		record_failure(r, &ctx, rc);
		return -1;
	}
	return 0;
}

/* Drops this node's claim on each input; the last consumer frees it. A
 * count of 1 is ours alone, so it needs no atomic write. Targets are never
 * freed here: their consumers do not count them. */
static void
release_inputs(weft__run *r, const weft__node *nd)
{
	const uint32_t *a = r->g->args + nd->arg0;
	for (uint32_t i = 0; i < nd->nargs; i++) {
		if (a[i] == WEFT__LIT)
			continue;
		weft__slot *s = &r->slots[a[i]];
		if (s->flags & WEFT__F_TARGET)
			continue;
		uint32_t c = weft_atomic_load_acquire(&s->refs);
		if (c == 1 || weft_atomic_sub_acq_rel(&s->refs, 1) == 1)
			weft__release(&s->result);
	}
}

/* Reports finished targets: their places in the completion order, then
 * the count; the last one wakes the caller. Called once per job (or per
 * WEFT__TBUF targets), not per task, so a compute of a million independent
 * targets does not bounce one counter between the cores a million times. */
static void
targets_done(weft__run *r, const uint32_t *t, uint32_t n)
{
	uint32_t pos = weft_atomic_add_relaxed(&r->order_pos, n);
	for (uint32_t i = 0; i < n; i++)
		weft_atomic_store_release(
		    (_Atomic uint32_t *)&r->order[pos + i], t[i]);
	int watched = weft_atomic_load_relaxed(&r->watched);
	if (weft_atomic_sub_acq_rel(&r->targets_left, n) == n) {
		weft_atomic_store_release(&r->done, 1);
		weft__futex_wake(&r->done, INT32_MAX);
		if (watched) {
			weft_atomic_add_acq_rel(&r->progress, 1);
			weft__futex_wake(&r->progress, INT32_MAX);
		}
	} else if (watched) {
		weft_atomic_add_acq_rel(&r->progress, 1);
		weft__futex_wake(&r->progress, INT32_MAX);
	}
}

typedef struct weft__tbuf {
	uint32_t n;
	uint32_t t[WEFT__TBUF];
} weft__tbuf;

/* Whether node a has a higher priority than node b. */
static int
prio_above(const weft_graph *g, uint32_t a, uint32_t b)
{
	return weft__graph_prio(g, a) > weft__graph_prio(g, b);
}

/* Runs node v, then the ready successor it picks, and so on: a chain runs
 * as a loop on one worker. Finished targets go to `tb`. */
static void
run_node(weft__run *r, uint32_t v, weft__worker *w, weft__tbuf *tb)
{
	const weft_graph *g = r->g;
	for (;;) {
		const weft__node *nd = &g->nodes[v];
		weft__slot *vs = &r->slots[v];
		if (weft_atomic_load_relaxed(&r->failed) ||
		    call(r, v, nd, w) != 0)
			vs->flags |= WEFT__F_SKIPPED;
		release_inputs(r, nd);
		if (vs->flags & WEFT__F_TARGET) {
			if (tb->n == WEFT__TBUF) {
				targets_done(r, tb->t, tb->n);
				tb->n = 0;
			}
			tb->t[tb->n++] = v;
		}
		if (vs->fused != WEFT__NONE) { /* its only consumer, alone */
			v = vs->fused;
			continue;
		}

		uint32_t next = WEFT__NONE;
		uint32_t ready[8]; /* up to 7 pushed in priority order, + next */
		unsigned nready = 0, pushed = 0;
		for (uint32_t e = nd->succ_head; e != WEFT__NONE;
		     e = g->edge_next[e]) {
			uint32_t s = g->edge_dst[e];
			if (s > r->hi)
				continue; /* newer than every target */
			weft__slot *ss = &r->slots[s];
			uint32_t p = weft_atomic_load_acquire(&ss->pending);
			if (p == WEFT__UNUSED)
				continue; /* culled away */
			if (p != 1 && weft_atomic_sub_acq_rel(&ss->pending, 1) != 1)
				continue;
			if (next == WEFT__NONE)
				next = s;
			else if (g->prio && nready < 7)
				ready[nready++] = s;
			else {
				weft__worker_push(w, weft__job(r->handler, s));
				pushed++;
			}
		}
		if (nready) {
			/* run the highest priority next; push the rest so that
			 * the next highest is popped first (LIFO) */
			ready[nready++] = next;
			for (unsigned i = 1; i < nready; i++)
				for (unsigned j = i; j > 0 &&
				     prio_above(g, ready[j - 1], ready[j]);
				     j--) {
					uint32_t t = ready[j];
					ready[j] = ready[j - 1];
					ready[j - 1] = t;
				}
			next = ready[--nready];
			for (unsigned i = 0; i < nready; i++)
				weft__worker_push(w, weft__job(r->handler, ready[i]));
			pushed += nready;
		}
		if (pushed)
			weft__worker_notify(w);
		if (next == WEFT__NONE)
			return;
		v = next;
	}
}

/* The job handler: a node index, or a range of roots to split. Splitting
 * in halves gives each thief one large chunk per steal (SCHEDULER.md §2a). */
static void
handle(void *ctx, uint64_t arg, weft__worker *w)
{
	weft__run *r = ctx;
	weft__tbuf tb;
	tb.n = 0;
	if (!(arg & WEFT__RANGE)) {
		run_node(r, (uint32_t)arg, w, &tb);
	} else {
		/* a range of root units [lo, hi): see weft__run_prepare */
		uint32_t lo = (uint32_t)(arg >> 26) & 0x1FFFFFF;
		uint32_t hi = (uint32_t)arg & 0x3FFFFFF;
		while ((uint64_t)(hi - lo) * r->unit > r->grain && hi - lo > 1) {
			uint32_t mid = lo + (hi - lo) / 2;
			weft__worker_push(w,
			    weft__job(r->handler,
				WEFT__RANGE | (uint64_t)mid << 26 | hi));
			weft__worker_notify(w);
			hi = mid;
		}
		size_t end = (size_t)hi * r->unit;
		if (end > r->nroots)
			end = r->nroots;
		for (size_t i = (size_t)lo * r->unit; i < end; i++)
			run_node(r, r->roots[i], w, &tb);
	}
	/* after this the run may be gone */
	if (tb.n)
		targets_done(r, tb.t, tb.n);
}

/* -- setup -------------------------------------------------------------------- */

/* Roots by priority, higher first; creation order among equals. */
static int
root_before(const void *ctx, uint32_t x, uint32_t y)
{
	const weft_graph *g = ctx;
	int32_t px = weft__graph_prio(g, x), py = weft__graph_prio(g, y);
	return px != py ? px > py : x < y;
}

/*
 * Marks the targets and, in one reverse sweep over the indexes (a
 * topological order, see graph.h), everything they need: a node is in the
 * run when a consumer in the run claimed it. Counts each node's inputs and
 * consumers, lists the roots, and fuses linear chains. Persisted nodes are
 * ready values: they are not run and their inputs are not claimed.
 */
static int
setup(weft__run *r)
{
	const weft_graph *g = r->g;
	uint32_t hi = 0;
	for (size_t i = 0; i < r->n; i++)
		if (r->tidx[i] > hi)
			hi = r->tidx[i];
	r->hi = hi;
	r->slots = weft__block_calloc(((size_t)hi + 1) * sizeof *r->slots);
	if (!r->slots)
		return WEFT_ENOMEM;
	uint32_t ntargets = 0;
	for (size_t i = 0; i < r->n; i++) {
		weft__slot *s = &r->slots[r->tidx[i]];
		if (!(s->flags & WEFT__F_TARGET)) {
			s->flags = WEFT__F_TARGET;
			ntargets++;
		}
	}
	r->order = weft__malloc(ntargets * sizeof *r->order);
	if (!r->order)
		return WEFT_ENOMEM;
	memset(r->order, 0xFF, ntargets * sizeof *r->order);
	uint32_t left = ntargets;
	int fuse = !(r->flags & WEFT_NO_FUSE) && !g->prio;
	int any_persisted = g->npersisted > 0;

	size_t rcap = 0;
	for (uint32_t v = hi + 1; v-- > 0;) {
		weft__slot *s = &r->slots[v];
		/* while the sweep is above v, `pending` holds the last
		 * consumer that claimed it (single-threaded: relaxed ops are
		 * plain ones) */
		uint32_t claimer = weft_atomic_load_relaxed(&s->pending);
		uint32_t refs = weft_atomic_load_relaxed(&s->refs);
		s->fused = WEFT__NONE;
		if (refs == 0 && !(s->flags & WEFT__F_TARGET)) {
			weft_atomic_store_relaxed(&s->pending, WEFT__UNUSED);
			continue;
		}
		if (any_persisted && weft__graph_persisted(g, v)) {
			s->result = weft_value_retain(g->pvals[v]);
			weft_atomic_store_relaxed(&s->pending, WEFT__UNUSED);
			if (s->flags & WEFT__F_TARGET) {
				r->order[ntargets - left] = v;
				left--;
			}
			continue;
		}
		const weft__node *nd = &g->nodes[v];
		const uint32_t *a = g->args + nd->arg0;
		uint32_t np = 0;
		for (uint32_t i = 0; i < nd->nargs; i++) {
			if (a[i] == WEFT__LIT)
				continue;
			weft__slot *in = &r->slots[a[i]];
			weft_atomic_store_relaxed(
			    &in->refs, weft_atomic_load_relaxed(&in->refs) + 1);
			if (!any_persisted || !weft__graph_persisted(g, a[i])) {
				weft_atomic_store_relaxed(&in->pending, v);
				np++;
			}
		}
		weft_atomic_store_relaxed(&s->pending, np);
		r->ntasks++;
		/* Fuse v into its only consumer when it is that consumer's only
		 * pending input: it then runs right after v, with no counter
		 * and no queue. */
		if (fuse && refs == 1 && !(s->flags & WEFT__F_TARGET) &&
		    weft_atomic_load_relaxed(&r->slots[claimer].pending) == 1)
			s->fused = claimer;
		if (np == 0) {
			if (r->nroots == rcap &&
			    weft__grow((void **)&r->roots, &rcap, r->nroots + 1,
				sizeof *r->roots))
				return WEFT_ENOMEM;
			r->roots[r->nroots++] = v;
		}
	}
	weft_atomic_store_relaxed(&r->targets_left, left);
	weft_atomic_store_relaxed(&r->order_pos, ntargets - left);
	/* the sweep found roots from the top down: run them in creation
	 * order (depth-first, like dask.order), or by priority */
	for (size_t i = 0, j = r->nroots; i + 1 < j; i++, j--) {
		uint32_t t = r->roots[i];
		r->roots[i] = r->roots[j - 1];
		r->roots[j - 1] = t;
	}
	if (g->prio && r->nroots > 1)
		weft__sort_u32(r->roots, r->nroots, root_before, g);
	return WEFT_OK;
}

/* Checks the targets and builds the run's state. On error the graph's
 * error is set and the run can be destroyed. */
/* weft_graph_free while this run is live: cancel, drain, finish, and
 * forget the graph (called with the graph users' lock held). */
static void
run_release(weft__graph_user *u)
{
	weft__run *r = (weft__run *)u;
	uint32_t ok = WEFT__RUN_OK;
	weft_atomic_cas_acq_rel(&r->failed, &ok, WEFT__RUN_CANCELED);
	weft__run_wait(r, -1);
	weft__run_finish(r);
	pthread_mutex_lock(&r->mu);
	r->g = NULL;
	pthread_mutex_unlock(&r->mu);
}

/* weft_pool_free while this run is live (pool lock held: no blocking). */
static int
run_ctl(void *ctx, int op)
{
	weft__run *r = ctx;
	if (op == WEFT__CTL_CANCEL) {
		uint32_t ok = WEFT__RUN_OK;
		weft_atomic_cas_acq_rel(&r->failed, &ok, WEFT__RUN_CANCELED);
		return 0;
	}
	return (int)weft_atomic_load_acquire(&r->done);
}

int
weft__run_prepare(weft__run *r, size_t n, const weft_node *targets)
{
	weft_graph *g = r->g;
	if (pthread_mutex_init(&r->mu, NULL) != 0)
		return weft__graph_set_error(g, WEFT_ENOMEM, "compute: no mutex");
	r->mu_ok = 1;
	r->user.release = run_release;
	weft__graph_attach(g, &r->user);
	r->fail_node = WEFT__NONE;
	r->n = n;
	r->tidx = weft__malloc(n * sizeof *r->tidx);
	if (!r->tidx)
		return weft__graph_set_error(g, WEFT_ENOMEM,
		    "compute: out of memory");
	for (size_t i = 0; i < n; i++) {
		r->tidx[i] = weft__graph_index(g, targets[i]);
		if (r->tidx[i] == WEFT__NONE)
			return weft__graph_set_error(g, WEFT_EINVAL,
			    "compute: target %zu is %s", i,
			    weft_node_ok(targets[i])
				? "not a node of this graph"
				: "WEFT_NODE_NONE (a delayed call failed?)");
	}
	if (setup(r) != WEFT_OK)
		return weft__graph_set_error(
		    g, WEFT_ENOMEM, "compute: out of memory");
	if (r->trace &&
	    weft__trace_reserve(r->trace, weft_pool_threads(r->pool)) != WEFT_OK)
		return weft__graph_set_error(
		    g, WEFT_ENOMEM, "compute: out of memory for the trace");
	/* Split the roots until each worker has ~16 chunks to steal, and no
	 * chunk holds more than 64 roots: a steal per single root costs more
	 * than a small task (SCHEDULER.md §2a). */
	size_t per = r->nroots / (16 * (size_t)weft_pool_threads(r->pool));
	r->grain = per < 1 ? 1 : per > 64 ? 64 : (uint32_t)per;
	/* A range job holds 25 bits per end: past 2^25 roots, its ends count
	 * units of several roots. */
	r->unit = (uint32_t)(r->nroots >> 25) + 1;
	return WEFT_OK;
}

int
weft__run_start(weft__run *r)
{
	if (r->cb && r->cb->start)
		r->cb->start(r->cb->ud, r->ntasks);
	if (weft_atomic_load_relaxed(&r->targets_left) == 0) {
		/* every target was persisted: nothing to run */
		weft_atomic_store_release(&r->done, 1);
		return WEFT_OK;
	}
	int rc = weft__handler_add(
	    r->pool, handle, run_ctl, r, &r->handler);
	if (rc != WEFT_OK)
		return weft__graph_set_error(r->g, rc,
		    "compute: %u computes already run on this pool",
		    WEFT__MAX_HANDLERS - 2);
	rc = weft__submit(r->pool,
	    weft__job(r->handler,
		WEFT__RANGE | (uint64_t)((r->nroots + r->unit - 1) / r->unit)));
	if (rc != WEFT_OK) {
		weft__handler_remove(r->pool, r->handler);
		r->handler = 0;
		return weft__graph_set_error(r->g, rc, "compute: out of memory");
	}
	return WEFT_OK;
}

/* Waits for `done`: a worker of the same pool keeps running jobs meanwhile
 * (nested compute); another thread spins briefly, then sleeps. */
int
weft__run_wait(weft__run *r, int64_t timeout_ns)
{
	if (weft_atomic_load_acquire(&r->done))
		return WEFT_OK;
	weft__worker *w = weft__worker_current();
	if (w && weft__worker_pool(w) == r->pool && timeout_ns < 0) {
		weft__worker_help_until(w, &r->done);
		return WEFT_OK;
	}
	int64_t start = weft__now_ns();
	int64_t deadline = timeout_ns < 0 ? -1 : start + timeout_ns;
	/* Spin about as long as a futex wake-up takes here (SCHEDULER.md §4)
	 * before sleeping: a small compute then ends while we still look, and
	 * costs one wake-up (the worker's) instead of two. Yielding lets a
	 * worker that shares our core run. */
	int64_t spin_until = start + 60000;
	if (deadline >= 0 && deadline < spin_until)
		spin_until = deadline;
	for (unsigned i = 1; !weft_atomic_load_acquire(&r->done); i++) {
		if (i % 64 == 0) {
			if (weft__now_ns() >= spin_until)
				break;
			sched_yield();
		} else {
			weft_cpu_relax();
		}
	}
	while (!weft_atomic_load_acquire(&r->done)) {
		int64_t left = -1;
		if (deadline >= 0) {
			left = deadline - weft__now_ns();
			if (left <= 0)
				return WEFT_ETIMEDOUT;
		}
		weft__futex_wait(&r->done, 0, left);
	}
	return WEFT_OK;
}

/* After `done`: gives the handler back (once no worker is inside one of
 * the run's jobs), builds the result code and message. Idempotent. */
void
weft__run_finish(weft__run *r)
{
	pthread_mutex_lock(&r->mu);
	if (!r->finished) {
		if (r->handler)
			weft__handler_remove(r->pool, r->handler);
		r->handler = 0;
		uint32_t f = weft_atomic_load_acquire(&r->failed);
		if (f == WEFT__RUN_FAILED) {
			char key[256];
			if (r->g)
				weft__graph_key(r->g, r->fail_node, key, sizeof key);
			else
				snprintf(key, sizeof key, "node-%u", r->fail_node);
			snprintf(r->errmsg, sizeof r->errmsg,
			    "task '%s' failed: %s", key, r->fail_msg);
			r->rc = WEFT_ETASK;
		} else if (f == WEFT__RUN_CANCELED) {
			snprintf(r->errmsg, sizeof r->errmsg,
			    "compute canceled");
			r->rc = WEFT_ECANCELED;
		}
		if (r->rc != WEFT_OK && r->g)
			weft__graph_set_error(r->g, r->rc, "%s", r->errmsg);
		if (r->cb && r->cb->finish)
			r->cb->finish(r->cb->ud, r->rc);
		r->finished = 1;
	}
	pthread_mutex_unlock(&r->mu);
}

void
weft__run_destroy(weft__run *r)
{
	weft__graph_detach(&r->g, &r->user);
	if (r->slots) {
		for (size_t i = 0; i < r->n; i++)
			weft_value_release(&r->slots[r->tidx[i]].result);
	}
	weft__block_free(r->slots, ((size_t)r->hi + 1) * sizeof *r->slots);
	weft__free(r->roots);
	weft__free(r->tidx);
	weft__free(r->order);
	weft__free(r->tperm);
	if (r->mu_ok)
		pthread_mutex_destroy(&r->mu);
}
