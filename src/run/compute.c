/*
 * weft_compute and what every compute starts with: checking the request,
 * the default pool, and a run set up on its pool. A synchronous compute is
 * an async one (weft__compute_start) followed by a wait.
 */
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "run/run.h"

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
	weft__block_flush();
}

/* -- starting ----------------------------------------------------------------- */

#define WEFT__KNOWN_FLAGS (WEFT_NO_FUSE)

int
weft__compute_check(weft_graph *g, size_t n, const weft_node *targets,
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

weft_future *
weft__compute_start(weft_graph *g, size_t n, const weft_node *targets,
    const weft_opts *opts, int *rcp)
{
	int rc = weft__compute_check(g, n, targets, opts);
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

/* -- synchronous computes ------------------------------------------------------ */

/* Moves each target's result to the caller; a target listed again gets a
 * new reference to the first copy. */
static void
collect(weft__run *r, weft_value *res)
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
		return weft__compute_check(g, n, targets, opts);
	int rc;
	weft_future *f = weft__compute_start(g, n, targets, opts, &rc);
	if (!f)
		return rc;
	weft__run_wait(&f->run, -1);
	weft__run_finish(&f->run);
	rc = f->run.rc;
	if (rc == WEFT_OK)
		collect(&f->run, results);
	weft__run_destroy(&f->run);
	weft__free_aligned(f);
	return rc;
}

