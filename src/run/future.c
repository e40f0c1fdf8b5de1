/*
 * Futures: a compute started with weft_compute_async, then waited for,
 * canceled, read as a whole or target by target as they complete.
 */
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/futex.h"
#include "base/sort.h"
#include "run/run.h"
#include "weft/future.h"

weft_future *
weft_compute_async(weft_graph *g, size_t n, const weft_node *targets,
    const weft_opts *opts)
{
	int rc;
	return weft__compute_start(g, n, targets, opts, &rc);
}

/* -- waiting ------------------------------------------------------------------ */

static int64_t
timeout_ns(double s)
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
	int rc = weft__run_wait(&f->run, timeout_ns(timeout_seconds));
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

/* Target positions by their node, then by position. */
static int
perm_before(const void *ctx, uint32_t a, uint32_t b)
{
	const uint32_t *tidx = ctx;
	return tidx[a] != tidx[b] ? tidx[a] < tidx[b] : a < b;
}

/* Target positions sorted by node, to map a finished node to every place
 * it was asked for. Built on the first as-completed call. */
static int
build_perm(weft__run *r)
{
	if (r->tperm)
		return WEFT_OK;
	r->tperm = weft__malloc((r->n ? r->n : 1) * sizeof *r->tperm);
	if (!r->tperm)
		return WEFT_ENOMEM;
	for (size_t i = 0; i < r->n; i++)
		r->tperm[i] = (uint32_t)i;
	weft__sort_u32(r->tperm, r->n, perm_before, r->tidx);
	return WEFT_OK;
}

/* The first position in tperm of node v. */
static size_t
perm_find(const weft__run *r, uint32_t v)
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
	if (build_perm(r) != WEFT_OK)
		return WEFT_ENOMEM;
	int64_t to = timeout_ns(timeout_seconds);
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
			r->next_j = perm_find(r, v) + 1;
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

