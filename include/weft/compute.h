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

/** Options of a compute. Zero means default: `weft_opts o = { .pool = p };`
 *  and a NULL `opts` pointer both work. */
typedef struct weft_opts {
	/** The pool to run on; NULL = the default pool (weft_default_pool). */
	weft_pool *pool;
	/** Must be 0 for now. */
	unsigned flags;
	void *reserved[7]; /**< must be zero */
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
 * target, nonzero flags); WEFT_ENOMEM. The graph and the pool stay usable
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
 * The default pool (all cores, default options), created on first use,
 * thread-safely. NULL if it could not be created. Do not free it; see
 * weft_shutdown().
 */
WEFT_API weft_pool *weft_default_pool(void);

/**
 * Frees the default pool, if it was created. Optional (for leak checkers);
 * no compute may run on it then. A later use creates a new one.
 */
WEFT_API void weft_shutdown(void);

#ifdef __cplusplus
}
#endif
#endif
