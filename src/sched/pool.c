/*
 * The pool: workers pinned with hwloc, each with a Chase-Lev deque, an
 * injection queue for jobs from outside, random-victim stealing, and an
 * eventcount so idle workers sleep without losing wake-ups.
 *
 * Idle protocol (SCHEDULER.md §4, with Go's "one spinner" rule):
 *   `counts` packs WAKING:1 | searching:15 | waiters:16. A worker whose deque
 *   is empty becomes a *searcher*; after spin_us without work it *prepares*
 *   (searching--, waiters++), re-checks every queue, and only then sleeps on
 *   the `epoch` futex. A producer publishes its job, then a seq_cst fence,
 *   then reads `counts`: it wakes a sleeper only when nobody is searching
 *   and no wake is already on its way (WAKING), so a burst of pushes costs
 *   one wake-up, not one per push. A searcher that finds work and was the
 *   last searcher wakes the next sleeper, so parallelism ramps up worker by
 *   worker. The waiter's RMW + fence before its re-check and the
 *   producer's push + fence before its load are Dekker's pattern: at least
 *   one of the two sees the other, so no wake-up is lost.
 *
 * Lock order: `p->mu` (handler table, injection queue) is a leaf lock; no
 * other lock is taken while holding it, and no job runs under it.
 */
#define _GNU_SOURCE
#include "sched/sched.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "base/alloc.h"
#include "base/atomic.h"
#include "base/futex.h"
#include "base/topo.h"
#include "sched/deque.h"

#define WEFT__WAITER 1u
#define WEFT__SEARCHER (1u << 16)
#define WEFT__WAKING (1u << 31)
#define WEFT__WAITERS(c) ((c)&0xFFFFu)
#define WEFT__SEARCHERS(c) (((c) >> 16) & 0x7FFFu)

typedef struct weft__handler {
	weft__handler_fn fn;
	weft__handler_ctl ctl;
	void *ctx;
} weft__handler;

struct weft__worker {
	weft__deque dq;
	WEFT_CACHE_ALIGNED _Atomic uint32_t active; /* handler id being run */
	weft_pool *pool;
	unsigned index;
	uint64_t rng;
	pthread_t th;
	int started, dq_ok;
	_Atomic int alive;
	weft_worker_info info; /* written before the pool is returned */
};

struct weft_pool {
	WEFT_CACHE_ALIGNED _Atomic uint32_t epoch; /* futex word of sleepers */
	WEFT_CACHE_ALIGNED _Atomic uint32_t counts;
	WEFT_CACHE_ALIGNED _Atomic uint32_t inj_count; /* jobs injected */
	_Atomic uint32_t shutdown;
	_Atomic uint32_t refs; /* the handle, plus one per live handler */
	int stopped;	       /* workers joined (weft_pool_free ran) */
	unsigned nworkers;
	int64_t spin_ns;
	weft__worker *workers;
	weft__topo *topo;
	weft_pool_info info;

	pthread_mutex_t mu; /* guards the handler ids and the injection ring */
	uint64_t *inj;	    /* ring buffer */
	size_t inj_cap, inj_head, inj_len;
	uint32_t *free_ids; /* stack of free handler ids */
	size_t nfree;
	weft__handler handlers[WEFT__MAX_HANDLERS];
};

static _Thread_local weft__worker *weft__tls_worker;

weft__worker *
weft__worker_current(void)
{
	return weft__tls_worker;
}

weft_pool *
weft__worker_pool(const weft__worker *w)
{
	return w->pool;
}

unsigned
weft__worker_index(const weft__worker *w)
{
	return w->index;
}

/* -- handlers ------------------------------------------------------------ */

static void pool_unref(weft_pool *p);

int
weft__handler_add(weft_pool *p, weft__handler_fn fn, weft__handler_ctl ctl,
    void *ctx, uint32_t *id)
{
	pthread_mutex_lock(&p->mu);
	if (p->nfree == 0) {
		pthread_mutex_unlock(&p->mu);
		return WEFT_EBUSY;
	}
	uint32_t h = p->free_ids[--p->nfree];
	/* Published to workers by the release of whatever queues the first
	 * job (deque bottom store or this mutex). */
	p->handlers[h].fn = fn;
	p->handlers[h].ctl = ctl;
	p->handlers[h].ctx = ctx;
	weft_atomic_add_relaxed(&p->refs, 1);
	pthread_mutex_unlock(&p->mu);
	*id = h;
	return WEFT_OK;
}

void
weft__handler_remove(weft_pool *p, uint32_t id)
{
	/* A worker sets `active` before running a job and clears it after;
	 * once no job of `id` is queued, waiting for every worker to leave
	 * `id` makes the handler's context safe to free. */
	for (unsigned i = 0; !p->stopped && i < p->nworkers; i++) {
		weft__worker *w = &p->workers[i];
		/* Yield soon: on a busy machine the caller, just woken, may
		 * have taken the very CPU of the worker it waits for. */
		for (unsigned spins = 0;
		     weft_atomic_load_acquire(&w->active) == id; spins++) {
			if (spins < 64)
				weft_cpu_relax();
			else
				sched_yield();
		}
	}
	pthread_mutex_lock(&p->mu);
	p->handlers[id].fn = NULL;
	p->handlers[id].ctl = NULL;
	p->handlers[id].ctx = NULL;
	p->free_ids[p->nfree++] = id;
	pthread_mutex_unlock(&p->mu);
	pool_unref(p);
}

static void
pjob_handle(void *ctx, uint64_t arg, weft__worker *w)
{
	(void)ctx;
	weft__pjob *j = (weft__pjob *)(uintptr_t)arg;
	j->run(j, w);
}

static void
execute(weft__worker *w, uint64_t job)
{
	uint32_t h = (uint32_t)(job >> WEFT__JOB_ARG_BITS);
	weft__handler *hd = &w->pool->handlers[h];
	uint32_t saved = weft_atomic_load_relaxed(&w->active);
	weft_atomic_store_relaxed(&w->active, h);
	hd->fn(hd->ctx, job & WEFT__JOB_ARG_MASK, w);
	weft_atomic_store_release(&w->active, saved);
}

/* -- waking -------------------------------------------------------------- */

static void
wake_one(weft_pool *p, uint32_t c)
{
	for (;;) {
		if (WEFT__SEARCHERS(c) > 0 || WEFT__WAITERS(c) == 0 ||
		    (c & WEFT__WAKING))
			return;
		if (atomic_compare_exchange_weak_explicit(&p->counts, &c,
			c | WEFT__WAKING, memory_order_seq_cst,
			memory_order_relaxed))
			break;
	}
	weft_atomic_add_acq_rel(&p->epoch, 1);
	weft__futex_wake(&p->epoch, 1);
}

static void
notify(weft_pool *p)
{
	/* Pairs with the fence in sleep_idle: the job is published before
	 * we look for sleepers. The fast path is a fence and a load. */
	weft_atomic_fence_seq_cst();
	wake_one(p, weft_atomic_load_relaxed(&p->counts));
}

void
weft__worker_notify(weft__worker *w)
{
	/* A pool of one: the fence and the look at the sleepers were ~13% of
	 * a spawn-heavy task's cost (fib), for nothing. */
	if (w->pool->nworkers > 1)
		notify(w->pool);
}

void
weft__worker_push(weft__worker *w, uint64_t job)
{
	if (weft__deque_push(&w->dq, job) != WEFT_OK)
		execute(w, job); /* could not grow: never drop a job */
}

int
weft__submit(weft_pool *p, uint64_t job)
{
	weft__worker *w = weft__tls_worker;
	if (w && w->pool == p) {
		weft__worker_push(w, job);
		notify(p);
		return WEFT_OK;
	}
	pthread_mutex_lock(&p->mu);
	if (p->inj_len == p->inj_cap) {
		size_t ncap = p->inj_cap ? p->inj_cap * 2 : 64;
		uint64_t *n = weft__malloc(ncap * sizeof *n);
		if (!n) {
			pthread_mutex_unlock(&p->mu);
			return WEFT_ENOMEM;
		}
		for (size_t i = 0; i < p->inj_len; i++)
			n[i] = p->inj[(p->inj_head + i) % p->inj_cap];
		weft__free(p->inj);
		p->inj = n;
		p->inj_cap = ncap;
		p->inj_head = 0;
	}
	p->inj[(p->inj_head + p->inj_len++) % p->inj_cap] = job;
	weft_atomic_add_relaxed(&p->inj_count, 1);
	pthread_mutex_unlock(&p->mu);
	notify(p);
	return WEFT_OK;
}

static bool
take_injected(weft_pool *p, uint64_t *job)
{
	if (weft_atomic_load_relaxed(&p->inj_count) == 0)
		return false;
	bool got = false;
	pthread_mutex_lock(&p->mu);
	if (p->inj_len > 0) {
		*job = p->inj[p->inj_head];
		p->inj_head = (p->inj_head + 1) % p->inj_cap;
		p->inj_len--;
		weft_atomic_sub_relaxed(&p->inj_count, 1);
		got = true;
	}
	pthread_mutex_unlock(&p->mu);
	return got;
}

static uint64_t
next_rand(weft__worker *w)
{
	/* xorshift64: victims only need to be spread, not unpredictable */
	uint64_t x = w->rng;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return w->rng = x;
}

/* One pass over the injection queue and every other worker's deque, from a
 * random victim on. A lost CAS (ABORT) is retried a few times: it means the
 * victim has work. */
static bool
steal_pass(weft__worker *w, uint64_t *job)
{
	weft_pool *p = w->pool;
	if (take_injected(p, job))
		return true;
	unsigned n = p->nworkers;
	if (n < 2)
		return false;
	unsigned start = (unsigned)(next_rand(w) % n);
	for (unsigned k = 0; k < n; k++) {
		weft__worker *v = &p->workers[(start + k) % n];
		if (v == w)
			continue;
		for (int tries = 0; tries < 4; tries++) {
			int r = weft__deque_steal(&v->dq, job);
			if (r == WEFT__STEAL_OK)
				return true;
			if (r == WEFT__STEAL_EMPTY)
				break;
		}
	}
	return false;
}

/* Whether any queue holds work; the re-check of the sleep protocol. */
static bool
any_work(weft_pool *p)
{
	if (weft_atomic_load_relaxed(&p->inj_count) > 0)
		return true;
	for (unsigned i = 0; i < p->nworkers; i++)
		if (weft__deque_size(&p->workers[i].dq) > 0)
			return true;
	return false;
}

/* Leaves the waiting state: waiters--, searching++, and clears WAKING (the
 * wake that was on its way has arrived, or is no longer needed). */
static void
unwait(weft_pool *p)
{
	uint32_t c = weft_atomic_load_relaxed(&p->counts);
	uint32_t n;
	do {
		n = ((c - WEFT__WAITER) + WEFT__SEARCHER) & ~WEFT__WAKING;
	} while (!atomic_compare_exchange_weak_explicit(&p->counts, &c, n,
	    memory_order_seq_cst, memory_order_relaxed));
}

/* Sleeps until notified; returns with the worker counted as a searcher. */
static void
sleep_idle(weft_pool *p)
{
	weft_atomic_add_seq_cst(&p->counts, WEFT__WAITER - WEFT__SEARCHER);
	weft_atomic_fence_seq_cst();
	uint32_t e = weft_atomic_load_acquire(&p->epoch);
	/* A wake on its way (WAKING) is taken by whoever waits next, even if
	 * another worker took the job first: sleeping on with WAKING set would
	 * leave it set with every worker asleep, and producers, seeing it,
	 * would wake no one. (ThreadSanitizer's slower runs of the stress test
	 * found that lost wake-up.) unwait() clears it. */
	if (!any_work(p) && !weft_atomic_load_relaxed(&p->shutdown) &&
	    !(weft_atomic_load_seq_cst(&p->counts) & WEFT__WAKING)) {
		while (weft_atomic_load_acquire(&p->epoch) == e)
			weft__futex_wait(&p->epoch, e, -1);
	}
	unwait(p);
}

/* Finds a job for an idle worker: spins and steals for spin_ns, then
 * sleeps, and again. False only at shutdown. */
static bool
find_work(weft__worker *w, uint64_t *job)
{
	weft_pool *p = w->pool;
	weft_atomic_add_seq_cst(&p->counts, WEFT__SEARCHER);
	for (;;) {
		int64_t deadline = weft__now_ns() + p->spin_ns;
		unsigned spins = 0;
		for (;;) {
			if (steal_pass(w, job)) {
				uint32_t c = weft_atomic_sub_seq_cst(
				    &p->counts, WEFT__SEARCHER);
				/* the last searcher hands the search on */
				if (WEFT__SEARCHERS(c) == 1)
					wake_one(p, c - WEFT__SEARCHER);
				return true;
			}
			if (weft_atomic_load_relaxed(&p->shutdown)) {
				weft_atomic_sub_seq_cst(
				    &p->counts, WEFT__SEARCHER);
				return false;
			}
			if (++spins % 64 == 0) {
				if (weft__now_ns() > deadline)
					break;
				sched_yield();
			} else {
				weft_cpu_relax();
			}
		}
		sleep_idle(p);
	}
}

void
weft__worker_help_until(weft__worker *w, _Atomic uint32_t *flag)
{
	uint64_t job;
	unsigned idle = 0;
	while (!weft_atomic_load_acquire(flag)) {
		if (weft__deque_pop(&w->dq, &job) || steal_pass(w, &job)) {
			execute(w, job);
			idle = 0;
		} else if (++idle < 256) {
			weft_cpu_relax();
		} else {
			/* Nothing to steal: what we wait for runs elsewhere.
			 * Nap on the flag, but wake often to steal again. */
			weft__futex_wait(flag, 0, 50000);
		}
	}
}

static void *
worker_main(void *arg)
{
	weft__worker *w = arg;
	weft__tls_worker = w;
	char name[16];
	snprintf(name, sizeof name, "weft-worker-%u", w->index % 1000);
	pthread_setname_np(pthread_self(), name);
	uint64_t job;
	for (;;) {
		if (weft__deque_pop(&w->dq, &job)) {
			execute(w, job);
			continue;
		}
		if (!find_work(w, &job))
			break;
		execute(w, job);
	}
	weft_atomic_store_release(&w->alive, 0);
	return NULL;
}

/* -- pool lifecycle ------------------------------------------------------ */

static void pool_destroy(weft_pool *p);

static int
pool_place(weft_pool *p, const weft_pool_opts *o)
{
	weft_pool_info *pi = &p->info;
	pi->threads = p->nworkers;
	pi->cores = weft__topo_cores(p->topo);
	pi->pus = weft__topo_pus(p->topo);
	pi->bind = o->bind == WEFT_BIND_DEFAULT ? WEFT_BIND_CORES : o->bind;
	pi->oversubscribed = p->nworkers > pi->pus;
	int first_err = 0;
	for (unsigned i = 0; i < p->nworkers; i++) {
		weft__worker *w = &p->workers[i];
		weft__place pl;
		weft__topo_mode mode = pi->bind == WEFT_BIND_NONE
		    ? WEFT__TOPO_NONE
		    : pi->bind == WEFT_BIND_PUS ? WEFT__TOPO_PUS
						: WEFT__TOPO_CORES;
		int rc = weft__topo_plan(p->topo, i, mode, &pl);
		if (rc != WEFT_OK)
			return rc;
		w->info.core = pl.core;
		w->info.pu = pl.pu;
		weft__topo_bound b =
		    weft__topo_bind(p->topo, w->th, &pl, &w->info.bind_errno);
		w->info.bound = b == WEFT__TOPO_BOUND_PU ? WEFT_BOUND_PU
		    : b == WEFT__TOPO_BOUND_CORE	 ? WEFT_BOUND_CORE
						 : WEFT_BOUND_NONE;
		weft__place_clear(&pl);
		if (w->info.bound != WEFT_BOUND_NONE)
			pi->bound++;
		else if (pi->bind != WEFT_BIND_NONE && !first_err)
			first_err = w->info.bind_errno;
	}
	pi->binding_refused =
	    pi->bind != WEFT_BIND_NONE && pi->bound < p->nworkers;
	if (pi->binding_refused)
		snprintf(pi->note, sizeof pi->note,
		    "binding refused for %u of %u workers (%s): running "
		    "unbound",
		    p->nworkers - pi->bound, p->nworkers, strerror(first_err));
	else if (pi->bind == WEFT_BIND_NONE)
		snprintf(pi->note, sizeof pi->note, "binding not requested");
	else
		snprintf(pi->note, sizeof pi->note,
		    "%u workers bound to %s on %u cores / %u PUs%s", p->nworkers,
		    pi->bind == WEFT_BIND_PUS ? "PUs" : "cores", pi->cores,
		    pi->pus, pi->oversubscribed ? " (oversubscribed)" : "");
	return WEFT_OK;
}

weft_pool *
weft_pool_new2(const weft_pool_opts *opts, int *err)
{
	weft_pool_opts o = { 0 };
	if (opts)
		o = *opts;
	int rc = WEFT_EINVAL;
	weft_pool *p = NULL;
	if (o.threads > WEFT__MAX_HANDLERS || o.bind > WEFT_BIND_NONE)
		goto out;
	rc = WEFT_ENOMEM;
	p = weft__calloc_aligned(1, sizeof *p, WEFT_CACHE_LINE);
	if (!p)
		goto out;
	weft_atomic_store_relaxed(&p->refs, 1);
	if (pthread_mutex_init(&p->mu, NULL) != 0) {
		weft__free_aligned(p);
		p = NULL;
		goto out;
	}
	rc = weft__topo_open(&p->topo, o.topology);
	if (rc != WEFT_OK)
		goto fail;
	rc = WEFT_ENOMEM;
	p->nworkers = o.threads ? o.threads : weft__topo_cores(p->topo);
	p->spin_ns = (int64_t)(o.spin_us ? o.spin_us : 50) * 1000;
	p->free_ids = weft__malloc(WEFT__MAX_HANDLERS * sizeof *p->free_ids);
	/* the deques' indexes sit on their own cache lines */
	p->workers = weft__calloc_aligned(
	    p->nworkers, sizeof *p->workers, WEFT_CACHE_LINE);
	if (!p->free_ids || !p->workers)
		goto fail;
	/* 0 means "no handler", 1 runs pointer jobs; the rest are handed
	 * out from the top of the stack, lowest first */
	for (uint32_t id = WEFT__MAX_HANDLERS - 1; id > WEFT__HANDLER_PTR; id--)
		p->free_ids[p->nfree++] = id;
	p->handlers[WEFT__HANDLER_PTR].fn = pjob_handle;
	for (unsigned i = 0; i < p->nworkers; i++) {
		weft__worker *w = &p->workers[i];
		w->pool = p;
		w->index = i;
		w->rng = 0x9E3779B97F4A7C15ull * (i + 1);
		w->info.index = i;
		w->info.core = w->info.pu = -1;
		if (weft__deque_init(&w->dq, 8) != WEFT_OK)
			goto fail;
		w->dq_ok = 1;
	}
	for (unsigned i = 0; i < p->nworkers; i++) {
		weft__worker *w = &p->workers[i];
		weft_atomic_store_relaxed(&w->alive, 1);
		if (pthread_create(&w->th, NULL, worker_main, w) != 0) {
			weft_atomic_store_relaxed(&w->alive, 0);
			rc = WEFT_ENOMEM;
			goto fail;
		}
		w->started = 1;
	}
	rc = pool_place(p, &o);
	if (rc != WEFT_OK)
		goto fail;
	if (err)
		*err = WEFT_OK;
	return p;
fail:
	pool_destroy(p);
	p = NULL;
out:
	if (err)
		*err = rc;
	return p;
}

weft_pool *
weft_pool_new(const weft_pool_opts *opts)
{
	return weft_pool_new2(opts, NULL);
}

/* Stops and joins the workers; the memory stays until the last
 * reference goes. */
static void
pool_stop(weft_pool *p)
{
	weft_atomic_store_seq_cst(&p->shutdown, 1);
	weft_atomic_add_acq_rel(&p->epoch, 1);
	weft__futex_wake(&p->epoch, INT32_MAX);
	if (p->workers) {
		for (unsigned i = 0; i < p->nworkers; i++)
			if (p->workers[i].started)
				pthread_join(p->workers[i].th, NULL);
		for (unsigned i = 0; i < p->nworkers; i++)
			if (p->workers[i].dq_ok)
				weft__deque_destroy(&p->workers[i].dq);
	}
	p->stopped = 1;
	weft__topo_close(p->topo);
	p->topo = NULL;
}

static void
pool_unref(weft_pool *p)
{
	if (weft_atomic_sub_acq_rel(&p->refs, 1) != 1)
		return;
	pthread_mutex_destroy(&p->mu);
	weft__free_aligned(p->workers);
	weft__free(p->free_ids);
	weft__free(p->inj);
	weft__free_aligned(p);
}

static void
pool_destroy(weft_pool *p)
{
	pool_stop(p);
	pool_unref(p);
}

/* Whether every registered handler (other than pointer jobs) has drained;
 * with `cancel`, asks each to stop first. */
static int
pool_drained(weft_pool *p, int cancel)
{
	int drained = 1;
	pthread_mutex_lock(&p->mu);
	for (uint32_t h = WEFT__HANDLER_PTR + 1; h < WEFT__MAX_HANDLERS; h++) {
		weft__handler *hd = &p->handlers[h];
		if (!hd->fn || !hd->ctl)
			continue;
		if (cancel)
			hd->ctl(hd->ctx, WEFT__CTL_CANCEL);
		if (!hd->ctl(hd->ctx, WEFT__CTL_DONE))
			drained = 0;
	}
	pthread_mutex_unlock(&p->mu);
	return drained;
}

void
weft_pool_free(weft_pool *p)
{
	if (!p)
		return;
	/* Computes still running are canceled and left to drain (their
	 * skipped nodes still free their values) while the workers live; their
	 * futures then report WEFT_ECANCELED and may be freed later. */
	if (!pool_drained(p, 1)) {
		struct timespec nap = { 0, 200000 };
		while (!pool_drained(p, 0))
			nanosleep(&nap, NULL);
	}
	pool_destroy(p);
}

unsigned
weft_pool_threads(const weft_pool *p)
{
	return p ? p->nworkers : 0;
}

int
weft_pool_worker_info(const weft_pool *p, unsigned i, weft_worker_info *out)
{
	if (!p || !out || i >= p->nworkers)
		return WEFT_EINVAL;
	*out = p->workers[i].info;
	out->alive = weft_atomic_load_acquire(&p->workers[i].alive);
	return WEFT_OK;
}

int
weft_pool_info_get(const weft_pool *p, weft_pool_info *out)
{
	if (!p || !out)
		return WEFT_EINVAL;
	*out = p->info;
	return WEFT_OK;
}
