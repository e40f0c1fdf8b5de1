/**
 * \file weft/compute.h
 * \brief Running a graph: weft_compute().
 */
#ifndef WEFT_COMPUTE_H
#define WEFT_COMPUTE_H

#include <stddef.h>

#include "graph.h"
#include "pool.h"
#include "value.h"
#include "version.h"

#ifdef __cplusplus
extern "C" {
#endif

/** What a callback learns about one task. Valid during the call only. */
typedef struct weft_task_info {
	weft_node node;	  /**< the node */
	const char *key;  /**< its key (named or "node-<i>") */
	int worker;	  /**< worker index */
	int64_t start_ns; /**< CLOCK_MONOTONIC when it started */
	int64_t end_ns;	  /**< when it ended (post-task only, else 0) */
	int rc;		  /**< its return code (post-task only) */
} weft_task_info;

/**
 * Callbacks of a compute (Dask's local callbacks). Any may be NULL. They
 * run on the worker that runs the task (pre/post) or on the thread that
 * starts and ends the compute (start/finish), so they must be thread-safe
 * and quick. When `opts->callbacks` is NULL nothing is timed or formatted:
 * a compute without callbacks pays one predictable branch per task.
 *
 * When weft_compute() fails before any task can start (WEFT_EINVAL, or
 * WEFT_ENOMEM during set-up), no callback is called. Otherwise `start` is
 * called once and `finish` once, with the compute's result, also when it is
 * WEFT_ETASK or WEFT_ECANCELED.
 */
typedef struct weft_callbacks {
	void (*start)(void *ud, size_t ntasks); /**< before any task runs */
	/** before a task runs */
	void (*pretask)(void *ud, const weft_task_info *ti);
	/** after it ran */
	void (*posttask)(void *ud, const weft_task_info *ti);
	void (*finish)(void *ud, int rc); /**< after the last task */
	void *ud;			  /**< passed to each */
} weft_callbacks;

typedef struct weft_trace weft_trace; /**< a recorder: weft/trace.h */

/** Compute flags (weft_opts.flags). */
enum {
	/** Do not fuse linear chains (see weft_opts). */
	WEFT_NO_FUSE = 1u << 0,
};

/** Options of a compute. Zero means default: `weft_opts o = { .pool = p };`
 *  and a NULL `opts` pointer both work. */
typedef struct weft_opts {
	/** The pool to run on; NULL = the default pool (weft_default_pool). */
	weft_pool *pool;
	/** WEFT_NO_FUSE, or 0. By default, a node whose only consumer has it
	 *  as its only input runs fused with that consumer: no counters, no
	 *  queue, same results. */
	unsigned flags;
	/** Callbacks, or NULL. The struct must outlive the compute. */
	const weft_callbacks *callbacks;
	/** A trace that records every task (weft/trace.h), or NULL. */
	weft_trace *trace;
	void *reserved[5]; /**< must be zero */
} weft_opts;

/**
 * Runs what `targets[0..n)` need, and only that, on the pool, and stores
 * their results in `results[0..n)`: owned values, the caller releases each.
 * A target may appear several times (each slot gets its own reference).
 *
 * Each needed node runs once, after all its inputs. Intermediate results
 * are released as soon as their last consumer has run. A failing task stops
 * new tasks from starting; its dependents never run.
 *
 * Returns WEFT_OK; WEFT_ETASK when a task failed (weft_graph_error(g) then
 * reads "task 'KEY' failed: MESSAGE" and every result is NIL); WEFT_EINVAL
 * for bad arguments (NULL g, n > 0 with NULL targets or results, an invalid
 * target, unknown flags); WEFT_ENOMEM. The graph and the pool stay usable
 * after any error. `results` is all NIL after any error.
 *
 * Called from inside a task running on the same pool, the calling worker
 * runs other work while it waits (no deadlock). Several computes of
 * different graphs may run at once on one pool; the same graph must not be
 * computed by two threads at once.
 */
WEFT_API int weft_compute(weft_graph *g, size_t n, const weft_node *targets,
    weft_value *results, const weft_opts *opts);

/**
 * A cheap node that takes item `i` of node `n`'s result, which must be a
 * WEFT_LIST (or item i of an F64S, as a FLOAT): Dask's `nout`. (Declared here, with the run layer: its function is
 * part of the run.) A wrong type
 * or index fails that node at compute time with a clear message.
 * getitem nodes of the same (n, i) are the same node.
 */
WEFT_API weft_node weft_getitem(weft_graph *g, weft_node n, size_t i);

/**
 * Computes `targets[0..n)` like weft_compute() (opts may be NULL) and keeps
 * their results in the graph: later computes use them as ready values and
 * do not rerun their ancestors. Returns the compute's code; nothing is
 * kept on an error.
 */
WEFT_API int weft_persist(weft_graph *g, size_t n, const weft_node *targets,
    const weft_opts *opts);

/**
 * The default pool (all cores, default options), created on first use,
 * thread-safely. NULL if it could not be created. Do not free it; see
 * weft_shutdown().
 */
WEFT_API weft_pool *weft_default_pool(void);

/**
 * Frees the default pool, if it was created, and the blocks weft keeps from
 * freed graphs and finished computes for the next ones (big arrays: a
 * compute's per-node state, a graph's nodes, argument slots and literals;
 * blocks of 1 MiB to 256 MiB, at most 256 MiB in all, and only under the C
 * library's allocator), so that a new graph reuses pages already mapped.
 * Optional (for leak checkers, or to give that memory back); no compute may
 * run on the default pool then. A later use creates a new one.
 */
WEFT_API void weft_shutdown(void);

#ifdef __cplusplus
}
#endif
#endif
