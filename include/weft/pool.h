/**
 * \file weft/pool.h
 * \brief The work-stealing thread pool that runs computes.
 *
 * A pool owns worker threads, one per core by default, each bound to its
 * own core with hwloc (round robin over the cores the process may use, then
 * over the PUs of each core when there are more workers than cores). Each
 * worker has a Chase-Lev deque; idle workers steal from random victims, then
 * spin briefly, then sleep: an idle pool uses no CPU.
 *
 * Where binding is refused (a restricted cpuset, a container, a synthetic
 * topology) the pool still works, unbound, and weft_pool_worker_info() says
 * so: binding is reported, never silently assumed.
 *
 * A pool may serve several computes at once, from several threads.
 */
#ifndef WEFT_POOL_H
#define WEFT_POOL_H

#include <stddef.h>

#include "errno.h"
#include "version.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Worker threads (opaque). */
typedef struct weft_pool weft_pool;

/** Where workers go. */
typedef enum weft_bind {
	WEFT_BIND_DEFAULT = 0, /**< the same as WEFT_BIND_CORES */
	WEFT_BIND_CORES = 1,   /**< worker i on core i % cores (any PU of it) */
	WEFT_BIND_PUS = 2,     /**< worker i on one PU: core i % cores, then
				    PU (i / cores) % PUs of that core */
	WEFT_BIND_NONE = 3,    /**< no binding */
} weft_bind;

/** Pool options. Zero means default for every field, so
 *  `weft_pool_opts po = { .threads = 2 };` works as written. */
typedef struct weft_pool_opts {
	/** Worker threads; 0 = one per core the process may use. */
	unsigned threads;
	/** Placement (weft_bind). */
	weft_bind bind;
	/** Microseconds an idle worker keeps looking for work before it
	 *  sleeps; 0 = the default (50 us). */
	unsigned spin_us;
	/** A hwloc synthetic topology such as "core:4 pu:2", to plan
	 *  placement for a machine that is not this one (tests). Binding then
	 *  fails by design and the pool runs unbound. NULL = this machine. */
	const char *topology;
	void *reserved[4]; /**< must be zero */
} weft_pool_opts;

/**
 * Starts a pool. `opts` may be NULL (all defaults). Returns NULL when out of
 * memory, when threads cannot be started, or when `opts` is invalid (an
 * unreadable synthetic topology, more than 4096 threads); `err`, when not
 * NULL, receives the code. Free with weft_pool_free().
 */
WEFT_API weft_pool *weft_pool_new(const weft_pool_opts *opts);
/** weft_pool_new() that also reports why it failed. */
WEFT_API weft_pool *weft_pool_new2(const weft_pool_opts *opts, int *err);

/**
 * Stops and joins every worker and frees the pool. NULL is ok. Must not be
 * called from one of the pool's own workers. Computes still running on the
 * pool (a caller's error) are canceled and drained first; their futures
 * then report WEFT_ECANCELED and stay valid until freed.
 */
WEFT_API void weft_pool_free(weft_pool *p);

/** Number of worker threads. */
WEFT_API unsigned weft_pool_threads(const weft_pool *p);

/** What binding took effect for a worker. */
typedef enum weft_bound {
	WEFT_BOUND_NONE = 0, /**< unbound (asked for none, or refused) */
	WEFT_BOUND_PU = 1,   /**< bound to one PU */
	WEFT_BOUND_CORE = 2, /**< bound to the PUs of one core */
} weft_bound;

/** How one worker was placed. */
typedef struct weft_worker_info {
	unsigned index;	  /**< worker index */
	int core;	  /**< logical index of its core among the allowed
			       ones, -1 when not planned (BIND_NONE) */
	int pu;		  /**< OS index of its PU (PUS) or of the core's first
			       PU (CORES), -1 when not planned */
	weft_bound bound; /**< what took effect */
	int bind_errno;	  /**< errno of the refused binding, 0 if none */
	int alive;	  /**< 1 while the thread runs */
} weft_worker_info;

/** Fills `out` for worker `i`. WEFT_EINVAL when `i` is out of range. */
WEFT_API int weft_pool_worker_info(
    const weft_pool *p, unsigned i, weft_worker_info *out);

/** Pool-wide summary of the placement. */
typedef struct weft_pool_info {
	unsigned threads;    /**< workers */
	unsigned cores;	     /**< cores the process may use (from hwloc) */
	unsigned pus;	     /**< PUs the process may use */
	weft_bind bind;	     /**< what was asked for */
	unsigned bound;	     /**< workers whose binding took effect */
	int binding_refused; /**< 1 when a binding was asked for and at
				  least one worker runs unbound */
	int oversubscribed;  /**< 1 when threads > PUs */
	char note[160];	     /**< one line on what happened, e.g. "binding
				  refused (EINVAL): running unbound" */
} weft_pool_info;

/** Fills `out`. Thread-safe. */
WEFT_API int weft_pool_info_get(const weft_pool *p, weft_pool_info *out);

#ifdef __cplusplus
}
#endif
#endif
