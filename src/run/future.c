/*
 * The public face of a compute: weft_compute, futures, persist, and the
 * default pool. A future is a run (run.h); weft_compute is an async
 * compute followed by a wait.
 */
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/futex.h"
#include "run/run.h"
#include "weft/future.h"

struct weft_future {
	weft__run run;
};

/* -- the default pool ------------------------------------------------------ */

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

/* -- starting ----------------------------------------------------------------- */

#define WEFT__KNOWN_FLAGS (WEFT_NO_FUSE)

static int
weft__check(weft_graph *g, size_t n, const weft_node *targets,
    const weft_opts *opts)
{
	if (!g)
		return WEFT_EINVAL;
	if (n > 0 && !targets)
		return weft__graph_set_error(g, WEFT_EINVAL,
		    "compute: %zu targets but a NULL targets array", n);
	if (n >= UINT32_MAX) /* target positions are 32-bit */
		return weft__graph_set_error(g, WEFT_EINVAL,
		    "compute: %zu targets is too many", n);
	if (opts && (opts->flags & ~(unsigned)WEFT__KNOWN_FLAGS))
		return weft__graph_set_error(g, WEFT_EINVAL,
		    "compute: unknown flags 0x%x",
		    opts->flags & ~(unsigned)WEFT__KNOWN_FLAGS);
	return WEFT_OK;
}

static weft_future *
weft__start(weft_graph *g, size_t n, const weft_node *targets,
    const weft_opts *opts, int *rcp)
{
	int rc = weft__check(g, n, targets, opts);
	weft_future *f = NULL;
	if (rc != WEFT_OK)
		goto out;
	weft_pool *pool = opts && opts->pool ? opts->pool : weft_default_pool();
	if (!pool) {
		rc = weft__graph_set_error(g, WEFT_ENOMEM,
		    "compute: the default pool could not be started");
		goto out;
	}
	f = weft__calloc_aligned(1, sizeof *f, WEFT_CACHE_LINE);
	if (!f) {
		rc = weft__graph_set_error(
		    g, WEFT_ENOMEM, "compute: out of memory");
		goto out;
	}
	weft__run *r = &f->run;
	r->g = g;
	r->pool = pool;
	if (opts) {
		r->flags = opts->flags;
		r->cb = opts->callbacks;
		r->trace = opts->trace;
	}
	rc = weft__run_prepare(r, n, targets);
	if (rc == WEFT_OK)
		rc = weft__run_start(r);
	if (rc != WEFT_OK) {
		weft__run_destroy(r);
		weft__free_aligned(f);
		f = NULL;
	}
out:
	*rcp = rc;
	return f;
}

weft_future *
weft_compute_async(weft_graph *g, size_t n, const weft_node *targets,
    const weft_opts *opts)
{
	int rc;
	return weft__start(g, n, targets, opts, &rc);
}

/* -- waiting ------------------------------------------------------------------ */

static int64_t
weft__timeout_ns(double s)
{
	if (s < 0)
		return -1;
	if (s > 1e9)
		s = 1e9;
	return (int64_t)(s * 1e9);
}

int
weft_future_wait(weft_future *f, double timeout_seconds)
{
	if (!f)
		return WEFT_EINVAL;
	int rc = weft__run_wait(&f->run, weft__timeout_ns(timeout_seconds));
	if (rc != WEFT_OK)
		return rc;
	weft__run_finish(&f->run);
	return f->run.rc;
}

void
weft_future_cancel(weft_future *f)
{
	if (!f)
		return;
	uint32_t ok = WEFT__RUN_OK;
	weft_atomic_cas_acq_rel(&f->run.failed, &ok, WEFT__RUN_CANCELED);
}

const char *
weft_future_error(const weft_future *f)
{
	if (!f)
		return "";
	return f->run.finished ? f->run.errmsg : "";
}

int
weft_future_results(weft_future *f, weft_value *results)
{
	if (!f || (f->run.n && !results))
		return WEFT_EINVAL;
	int rc = weft_future_wait(f, -1);
	weft__run *r = &f->run;
	for (size_t i = 0; i < r->n; i++)
		results[i] = rc == WEFT_OK
		    ? weft_value_retain(r->slots[r->tidx[i]].result)
		    : weft_nil();
	return rc;
}

static const uint32_t *weft__perm_tidx;

static int
weft__perm_cmp(const void *a, const void *b)
{
	uint32_t x = weft__perm_tidx[*(const uint32_t *)a];
	uint32_t y = weft__perm_tidx[*(const uint32_t *)b];
	if (x != y)
		return (x > y) - (x < y);
	return (*(const uint32_t *)a > *(const uint32_t *)b) -
	    (*(const uint32_t *)a < *(const uint32_t *)b);
}
static pthread_mutex_t weft__perm_mu = PTHREAD_MUTEX_INITIALIZER;

/* Target positions sorted by node, to map a finished node to every place
 * it was asked for. Built on the first as-completed call. */
static int
weft__build_perm(weft__run *r)
{
	if (r->tperm)
		return WEFT_OK;
	r->tperm = weft__malloc((r->n ? r->n : 1) * sizeof *r->tperm);
	if (!r->tperm)
		return WEFT_ENOMEM;
	for (size_t i = 0; i < r->n; i++)
		r->tperm[i] = (uint32_t)i;
	pthread_mutex_lock(&weft__perm_mu);
	weft__perm_tidx = r->tidx;
	qsort(r->tperm, r->n, sizeof *r->tperm, weft__perm_cmp);
	pthread_mutex_unlock(&weft__perm_mu);
	return WEFT_OK;
}

/* The first position in tperm of node v. */
static size_t
weft__perm_find(const weft__run *r, uint32_t v)
{
	size_t lo = 0, hi = r->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (r->tidx[r->tperm[mid]] < v)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

int
weft_future_next(weft_future *f, double timeout_seconds, size_t *index,
    weft_value *value)
{
	if (!f || !index)
		return WEFT_EINVAL;
	weft__run *r = &f->run;
	if (value)
		*value = weft_nil();
	if (weft__build_perm(r) != WEFT_OK)
		return WEFT_ENOMEM;
	int64_t to = weft__timeout_ns(timeout_seconds);
	int64_t deadline = to < 0 ? -1 : weft__now_ns() + to;
	weft_atomic_store_seq_cst(&r->watched, 1);
	for (;;) {
		/* more places of the node we are on? (next_j is 1-based) */
		if (r->next_j) {
			size_t j = r->next_j - 1;
			uint32_t v = r->order[r->next_k - 1];
			if (j < r->n && r->tidx[r->tperm[j]] == v) {
				r->next_j++;
				*index = r->tperm[j];
				if (value)
					*value = weft_value_retain(
					    r->slots[v].result);
				return WEFT_OK;
			}
			r->next_j = 0;
		}
		uint32_t seq = weft_atomic_load_acquire(&r->progress);
		if (r->next_k < (size_t)weft_atomic_load_acquire(&r->order_pos) ||
		    weft_atomic_load_acquire(&r->done)) {
			uint32_t v = WEFT__NONE;
			/* an entry is reserved before it is written */
			while (r->next_k < (size_t)weft_atomic_load_acquire(&r->order_pos)) {
				v = weft_atomic_load_acquire(
				    (_Atomic uint32_t *)&r->order[r->next_k]);
				if (v != WEFT__NONE)
					break;
				weft_cpu_relax();
			}
			if (v == WEFT__NONE) { /* done, all given */
				weft__run_finish(r);
				return r->rc != WEFT_OK ? r->rc : WEFT_ENOTFOUND;
			}
			r->next_k++;
			if (r->slots[v].flags & WEFT__F_SKIPPED)
				continue; /* failed or skipped: not a result */
			r->next_j = weft__perm_find(r, v) + 1;
			continue;
		}
		int64_t left = -1;
		if (deadline >= 0) {
			left = deadline - weft__now_ns();
			if (left <= 0)
				return WEFT_ETIMEDOUT;
		}
		if (r->next_k >= (size_t)weft_atomic_load_acquire(&r->order_pos) &&
		    !weft_atomic_load_acquire(&r->done))
			weft__futex_wait(&r->progress, seq,
			    left < 0 || left > 1000000 ? 1000000 : left);
	}
}

void
weft_future_free(weft_future *f)
{
	if (!f)
		return;
	if (!weft_atomic_load_acquire(&f->run.done))
		weft_future_cancel(f);
	weft__run_wait(&f->run, -1);
	weft__run_finish(&f->run);
	weft__run_destroy(&f->run);
	weft__free_aligned(f);
}

/* -- synchronous computes ------------------------------------------------------ */

/* Moves each target's result to the caller; a target listed again gets a
 * new reference to the first copy. */
static void
weft__collect(weft__run *r, weft_value *res)
{
	for (size_t i = 0; i < r->n; i++) {
		weft__slot *s = &r->slots[r->tidx[i]];
		if (s->flags & WEFT__F_TARGET) {
			res[i] = s->result;
			s->result = weft_nil();
			s->flags &= ~WEFT__F_TARGET;
			/* `fused` is free now: where the first copy went */
			s->fused = (uint32_t)i;
		} else {
			res[i] = weft_value_retain(res[s->fused]);
		}
	}
}

int
weft_compute(weft_graph *g, size_t n, const weft_node *targets,
    weft_value *results, const weft_opts *opts)
{
	if (results)
		for (size_t i = 0; i < n; i++)
			results[i] = weft_nil();
	if (g && n > 0 && !results)
		return weft__graph_set_error(g, WEFT_EINVAL,
		    "compute: %zu targets but a NULL results array", n);
	if (g && n == 0)
		return weft__check(g, n, targets, opts);
	int rc;
	weft_future *f = weft__start(g, n, targets, opts, &rc);
	if (!f)
		return rc;
	weft__run_wait(&f->run, -1);
	weft__run_finish(&f->run);
	rc = f->run.rc;
	if (rc == WEFT_OK)
		weft__collect(&f->run, results);
	weft__run_destroy(&f->run);
	weft__free_aligned(f);
	return rc;
}

int
weft_persist(weft_graph *g, size_t n, const weft_node *targets,
    const weft_opts *opts)
{
	if (!g || (n && !targets))
		return WEFT_EINVAL;
	weft_value *res = weft__calloc(n ? n : 1, sizeof *res);
	if (!res)
		return weft__graph_set_error(g, WEFT_ENOMEM, "persist: out of memory");
	int rc = weft_compute(g, n, targets, res, opts);
	for (size_t i = 0; rc == WEFT_OK && i < n; i++) {
		rc = weft__graph_persist_set(
		    g, (uint32_t)targets[i].id, res[i]);
		res[i] = weft_nil();
		if (rc != WEFT_OK)
			weft__graph_set_error(g, rc, "persist: out of memory");
	}
	for (size_t i = 0; i < n; i++)
		weft_value_release(&res[i]);
	weft__free(res);
	return rc;
}
