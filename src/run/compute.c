/*
 * weft_compute: cull, per-run state in one flat array, and the node loop.
 *
 * Per node of the culled set the run keeps one 24-byte slot: a pending-input
 * counter, a remaining-consumer counter and the result. When a node ends,
 * its worker releases the inputs whose last consumer it was, decrements its
 * successors, runs one newly ready successor itself next (no deque round
 * trip) and pushes the others.
 *
 * Completion needs no shared counter per task: every culled node is an
 * ancestor of a target, so when the last target is done, every node is. A
 * failure (or skip) does not stop that walk: nodes after a failure are
 * *skipped* (their function is not called) but still release their inputs
 * and decrement their successors, so the run drains, every intermediate is
 * freed, and the targets complete as skipped.
 */
#include "run/run.h"

#include "weft/compute.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <pthread.h>

#include "base/alloc.h"
#include "base/atomic.h"
#include "base/futex.h"

#define WEFT__UNUSED 0xFFFFFFFFu     /* pending of a node not in the run */
#define WEFT__TARGET 0x80000000u     /* refs bit: a target, never freed */
#define WEFT__RANGE (UINT64_C(1) << 51) /* job arg: a range of roots */
#define WEFT__STACK_ARGS 16

typedef struct weft__slot {
	_Atomic uint32_t pending; /* inputs not yet done */
	_Atomic uint32_t refs;	  /* consumers not yet done | TARGET */
	weft_value result;
} weft__slot;

struct weft__run {
	weft_graph *g;
	weft_pool *pool;
	weft__slot *slots;
	uint32_t *roots;
	size_t nroots;
	uint32_t hi; /* highest node index in the run; slots[0..hi] */
	uint32_t grain; /* roots run in a row by one job, once split */
	WEFT_CACHE_ALIGNED _Atomic uint32_t failed;
	_Atomic uint32_t targets_left;
	_Atomic uint32_t done; /* futex word the caller waits on */
	uint32_t handler;
	uint32_t fail_node;
	int fail_code;
	char fail_msg[1024];
};

/* -- tasks ---------------------------------------------------------------- */

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

const char *
weft_ctx_key(weft_ctx *ctx)
{
	if (!ctx)
		return "";
	return weft__graph_key(ctx->run->g, ctx->node, ctx->key, sizeof ctx->key);
}

static void
weft__record_failure(weft__run *r, weft_ctx *ctx, int rc)
{
	uint32_t zero = 0;
	if (!weft_atomic_cas_acq_rel(&r->failed, &zero, 1))
		return; /* the first failure wins; later ones are not reported */
	r->fail_node = ctx->node;
	r->fail_code = rc;
	if (ctx->has_msg)
		snprintf(r->fail_msg, sizeof r->fail_msg, "%s", ctx->msg);
	else
		snprintf(r->fail_msg, sizeof r->fail_msg, "%s (%s)",
		    weft_strerror(rc), weft_err_name(rc));
}

/* Calls the node's function with its arguments gathered into an array of
 * borrowed values. */
static void
weft__call(weft__run *r, uint32_t v, const weft__node *nd, weft__worker *w)
{
	const weft_graph *g = r->g;
	weft_value stackargs[WEFT__STACK_ARGS];
	weft_value *argv = stackargs;
	weft_ctx ctx;
	ctx.run = r;
	ctx.node = v;
	ctx.worker = w ? (int)weft__worker_index(w) : -1;
	ctx.has_msg = 0;
	if (nd->nargs > WEFT__STACK_ARGS) {
		argv = weft__malloc(nd->nargs * sizeof *argv);
		if (!argv) {
			weft_fail(&ctx, "out of memory for %u arguments",
			    nd->nargs);
			weft__record_failure(r, &ctx, WEFT_ENOMEM);
			return;
		}
	}
	const uint32_t *a = g->args + nd->arg0;
	for (uint32_t i = 0; i < nd->nargs; i++)
		argv[i] = (a[i] & WEFT__ARG_LIT) ? g->lits[a[i] & ~WEFT__ARG_LIT]
						 : r->slots[a[i]].result;
	/* The task writes straight into the result slot (NIL from calloc):
	 * copying a just-returned value out of a local missed store
	 * forwarding and stalled every task. */
	weft_value *out = &r->slots[v].result;
	int rc = nd->fn(&ctx, nd->nargs, argv, out);
	if (argv != stackargs)
		weft__free(argv);
	if (rc != WEFT_OK) {
		weft_value_release(out);
		weft__record_failure(r, &ctx, rc);
	}
}

/* Drops this node's claim on each input; the last consumer frees it. A
 * count of 1 is ours alone, so it needs no atomic write. */
static void
weft__release_inputs(weft__run *r, const weft__node *nd)
{
	const uint32_t *a = r->g->args + nd->arg0;
	for (uint32_t i = 0; i < nd->nargs; i++) {
		if (a[i] & WEFT__ARG_LIT)
			continue;
		weft__slot *s = &r->slots[a[i]];
		uint32_t c = weft_atomic_load_acquire(&s->refs);
		if (c == 1 || (!(c & WEFT__TARGET) &&
				  weft_atomic_sub_acq_rel(&s->refs, 1) == 1))
			weft_value_release(&s->result);
	}
}

/* Counts `n` finished targets; the last one wakes the caller. Called once
 * per job, not per task, so that a compute of a million independent
 * targets does not bounce one counter between cores a million times. */
static void
weft__targets_done(weft__run *r, uint32_t n)
{
	if (weft_atomic_sub_acq_rel(&r->targets_left, n) == n) {
		weft_atomic_store_release(&r->done, 1);
		weft__futex_wake(&r->done, INT32_MAX);
	}
}

/* Runs node v, then the ready successor it picks, and so on: a chain runs
 * as a loop on one worker. Returns how many targets it finished; the
 * caller reports them (after which the run may be gone). */
static uint32_t
weft__run_node(weft__run *r, uint32_t v, weft__worker *w)
{
	const weft_graph *g = r->g;
	uint32_t targets = 0;
	for (;;) {
		const weft__node *nd = &g->nodes[v];
		if (!weft_atomic_load_relaxed(&r->failed))
			weft__call(r, v, nd, w);
		weft__release_inputs(r, nd);

		uint32_t next = WEFT__NONE;
		unsigned pushed = 0;
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
			if (next == WEFT__NONE) {
				next = s;
			} else {
				weft__worker_push(w, weft__job(r->handler, s));
				pushed++;
			}
		}
		if (pushed)
			weft__notify(r->pool);
		if (weft_atomic_load_relaxed(&r->slots[v].refs) & WEFT__TARGET)
			targets++;
		if (next == WEFT__NONE)
			return targets;
		v = next;
	}
}

/* The job handler: a node index, or a range of roots to split. Splitting
 * in halves gives each thief one large chunk per steal (SCHEDULER.md §2a). */
static void
weft__handle(void *ctx, uint64_t arg, weft__worker *w)
{
	weft__run *r = ctx;
	uint32_t done = 0;
	if (!(arg & WEFT__RANGE)) {
		done = weft__run_node(r, (uint32_t)arg, w);
	} else {
		uint32_t lo = (uint32_t)(arg >> 26) & 0x1FFFFFF;
		uint32_t hi = (uint32_t)arg & 0x3FFFFFF;
		while (hi - lo > r->grain) {
			uint32_t mid = lo + (hi - lo) / 2;
			weft__worker_push(w,
			    weft__job(r->handler,
				WEFT__RANGE | (uint64_t)mid << 26 | hi));
			weft__notify(r->pool);
			hi = mid;
		}
		for (uint32_t i = lo; i < hi; i++)
			done += weft__run_node(r, r->roots[i], w);
	}
	if (done)
		weft__targets_done(r, done);
}

/* -- setup ---------------------------------------------------------------- */

/* Marks the targets and, in one reverse sweep over the indexes (a
 * topological order, see graph.h), everything they need: a node is in the
 * run when a consumer in the run claimed it. Counts each node's inputs and
 * consumers, and lists the roots. */
static int
weft__setup(weft__run *r, size_t n, const uint32_t *tidx, uint32_t hi)
{
	const weft_graph *g = r->g;
	r->hi = hi;
	r->slots = weft__calloc((size_t)hi + 1, sizeof *r->slots);
	if (!r->slots)
		return WEFT_ENOMEM;
	uint32_t ntargets = 0;
	for (size_t i = 0; i < n; i++) {
		weft__slot *s = &r->slots[tidx[i]];
		if (!(weft_atomic_load_relaxed(&s->refs) & WEFT__TARGET)) {
			weft_atomic_store_relaxed(&s->refs, WEFT__TARGET);
			ntargets++;
		}
	}
	weft_atomic_store_relaxed(&r->targets_left, ntargets);
	size_t rcap = 0;
	for (uint32_t v = hi + 1; v-- > 0;) {
		weft__slot *s = &r->slots[v];
		if (weft_atomic_load_relaxed(&s->refs) == 0) {
			weft_atomic_store_relaxed(&s->pending, WEFT__UNUSED);
			continue;
		}
		const weft__node *nd = &g->nodes[v];
		const uint32_t *a = g->args + nd->arg0;
		uint32_t np = 0;
		for (uint32_t i = 0; i < nd->nargs; i++) {
			if (a[i] & WEFT__ARG_LIT)
				continue;
			/* single-threaded here: relaxed ops are plain ones */
			_Atomic uint32_t *c = &r->slots[a[i]].refs;
			weft_atomic_store_relaxed(c, weft_atomic_load_relaxed(c) + 1);
			np++;
		}
		weft_atomic_store_relaxed(&s->pending, np);
		if (np == 0) {
			if (r->nroots == rcap &&
			    weft__grow((void **)&r->roots, &rcap, r->nroots + 1,
				sizeof *r->roots))
				return WEFT_ENOMEM;
			r->roots[r->nroots++] = v;
		}
	}
	return WEFT_OK;
}

/* Waits for the run's `done` word: a worker of the same pool keeps running
 * jobs meanwhile (nested compute); another thread spins briefly, then
 * sleeps. */
static void
weft__wait_done(weft__run *r)
{
	weft__worker *w = weft__worker_current();
	if (w && weft__worker_pool(w) == r->pool) {
		weft__worker_help_until(w, &r->done);
		return;
	}
	for (int i = 0; i < 2000 && !weft_atomic_load_acquire(&r->done); i++)
		weft_cpu_relax();
	while (!weft_atomic_load_acquire(&r->done))
		weft__futex_wait(&r->done, 0, -1);
}

/* -- the default pool ----------------------------------------------------- */

static pthread_mutex_t weft__default_mu = PTHREAD_MUTEX_INITIALIZER;
static _Atomic(weft_pool *) weft__default;

weft_pool *
weft_default_pool(void)
{
	weft_pool *p = weft_atomic_load_acquire(&weft__default);
	if (p)
		return p;
	pthread_mutex_lock(&weft__default_mu);
	p = weft_atomic_load_relaxed(&weft__default);
	if (!p) {
		p = weft_pool_new(NULL);
		weft_atomic_store_release(&weft__default, p);
	}
	pthread_mutex_unlock(&weft__default_mu);
	return p;
}

void
weft_shutdown(void)
{
	pthread_mutex_lock(&weft__default_mu);
	weft_pool *p = weft_atomic_exchange_acq_rel(&weft__default, NULL);
	pthread_mutex_unlock(&weft__default_mu);
	weft_pool_free(p);
}

/* -- compute -------------------------------------------------------------- */

static void
weft__nil_results(size_t n, weft_value *results)
{
	if (results)
		for (size_t i = 0; i < n; i++)
			results[i] = weft_nil();
}

static void
weft__release_targets(weft__run *r, size_t n, const uint32_t *tidx)
{
	for (size_t i = 0; i < n; i++)
		weft_value_release(&r->slots[tidx[i]].result);
}

/* Moves each target's result to the caller; a target listed again gets a
 * new reference to the first copy (its slot's `pending`, free once the run
 * is over, remembers where that is). */
static void
weft__collect(weft__run *r, size_t n, const uint32_t *tidx, weft_value *res)
{
	for (size_t i = 0; i < n; i++) {
		weft__slot *s = &r->slots[tidx[i]];
		if (weft_atomic_load_relaxed(&s->refs) & WEFT__TARGET) {
			res[i] = s->result;
			s->result = weft_nil();
			weft_atomic_store_relaxed(&s->refs, 0);
			weft_atomic_store_relaxed(&s->pending, (uint32_t)i);
		} else {
			res[i] = weft_value_retain(
			    res[weft_atomic_load_relaxed(&s->pending)]);
		}
	}
}

int
weft_compute(weft_graph *g, size_t n, const weft_node *targets,
    weft_value *results, const weft_opts *opts)
{
	weft__nil_results(n, results);
	if (!g)
		return WEFT_EINVAL;
	if (n > 0 && (!targets || !results))
		return weft__graph_set_error(g, WEFT_EINVAL,
		    "compute: %zu targets but a NULL %s array", n,
		    targets ? "results" : "targets");
	if (opts && opts->flags)
		return weft__graph_set_error(g, WEFT_EINVAL,
		    "compute: flags must be 0, got %u", opts->flags);
	if (n == 0)
		return WEFT_OK;

	uint32_t stack_tidx[16];
	uint32_t *tidx = n <= 16 ? stack_tidx : weft__malloc(n * sizeof *tidx);
	if (!tidx)
		return weft__graph_set_error(
		    g, WEFT_ENOMEM, "compute: out of memory");
	uint32_t hi = 0;
	int rc = WEFT_OK;
	for (size_t i = 0; i < n; i++) {
		tidx[i] = weft__graph_index(g, targets[i]);
		if (tidx[i] == WEFT__NONE) {
			rc = weft__graph_set_error(g, WEFT_EINVAL,
			    "compute: target %zu is %s", i,
			    weft_node_ok(targets[i])
				? "not a node of this graph"
				: "WEFT_NODE_NONE (a delayed call failed?)");
			goto out;
		}
		if (tidx[i] > hi)
			hi = tidx[i];
	}

	weft_pool *pool = opts && opts->pool ? opts->pool : weft_default_pool();
	if (!pool) {
		rc = weft__graph_set_error(g, WEFT_ENOMEM,
		    "compute: the default pool could not be started");
		goto out;
	}
	weft__run r;
	memset(&r, 0, sizeof r);
	r.g = g;
	r.pool = pool;
	rc = weft__setup(&r, n, tidx, hi);
	/* Split the roots until each worker has ~16 chunks to steal, and no
	 * chunk holds more than 64 roots: a steal per single root costs more
	 * than a small task (SCHEDULER.md §2a). */
	size_t per = r.nroots / (16 * (size_t)weft_pool_threads(pool));
	r.grain = per < 1 ? 1 : per > 64 ? 64 : (uint32_t)per;
	if (rc == WEFT_OK)
		rc = weft__handler_add(pool, weft__handle, &r, &r.handler);
	if (rc != WEFT_OK) {
		weft__graph_set_error(g, rc, "compute: %s", weft_strerror(rc));
		goto free_run;
	}
	/* Roots always exist: the lowest-index node in the run has no
	 * inputs in the run. */
	rc = weft__submit(pool, weft__job(r.handler,
				    WEFT__RANGE | (uint64_t)r.nroots));
	if (rc != WEFT_OK) {
		weft__handler_remove(pool, r.handler);
		weft__graph_set_error(g, rc, "compute: %s", weft_strerror(rc));
		goto free_run;
	}
	weft__wait_done(&r);
	weft__handler_remove(pool, r.handler);

	if (weft_atomic_load_acquire(&r.failed)) {
		char key[256];
		weft__graph_key(g, r.fail_node, key, sizeof key);
		rc = weft__graph_set_error(g, WEFT_ETASK,
		    "task '%s' failed: %s", key, r.fail_msg);
		weft__release_targets(&r, n, tidx);
	} else {
		weft__collect(&r, n, tidx, results);
	}
free_run:
	weft__free(r.slots);
	weft__free(r.roots);
out:
	if (tidx != stack_tidx)
		weft__free(tidx);
	return rc;
}
