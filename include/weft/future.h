/**
 * \file weft/future.h
 * \brief Asynchronous computes: futures, cancellation, timeouts, and
 * iterating over targets as they complete.
 *
 * \code
 * weft_future *f = weft_compute_async(g, n, targets, NULL);
 * size_t i;
 * weft_value v;
 * while (weft_future_next(f, -1, &i, &v) == WEFT_OK) {   // as completed
 *         use(i, v);
 *         weft_value_release(&v);
 * }
 * int rc = weft_future_wait(f, 2.5);   // WEFT_OK, WEFT_ETASK, ...
 * weft_future_free(f);
 * \endcode
 *
 * Several computes may run at once on one pool, from any threads, as long as
 * no graph is computed twice at the same time and no graph is changed while
 * one of its computes runs.
 */
#ifndef WEFT_FUTURE_H
#define WEFT_FUTURE_H

#include "compute.h"

#ifdef __cplusplus
extern "C" {
#endif

/** A running or finished compute. Owned by the caller: weft_future_free. */
typedef struct weft_future weft_future;

/**
 * Starts a compute of `targets[0..n)` and returns at once. NULL on error
 * (the same errors as weft_compute; the message is in weft_graph_error(g)).
 * The graph must not change until the future is freed. Freeing the graph
 * first is a caller's error that weft catches (weft_graph_free): the
 * compute is canceled and drained, and the future then reports
 * WEFT_ECANCELED, holds no results, and must still be freed.
 */
WEFT_API weft_future *weft_compute_async(weft_graph *g, size_t n,
    const weft_node *targets, const weft_opts *opts);

/**
 * Waits up to `timeout_seconds` (< 0: forever; 0: just look) for the
 * compute to end. Returns WEFT_OK, WEFT_ETASK (a task failed; see
 * weft_future_error), WEFT_ECANCELED, or WEFT_ETIMEDOUT when it is still
 * running. May be called again after a timeout. Thread-safe.
 */
WEFT_API int weft_future_wait(weft_future *f, double timeout_seconds);

/**
 * Stores the targets' results in `results[0..n)` (new owned references,
 * so it may be called more than once). Waits for the end first. Returns
 * the compute's code; on an error every result is NIL.
 */
WEFT_API int weft_future_results(weft_future *f, weft_value *results);

/**
 * Asks the compute to stop: running tasks finish, nothing new starts, and
 * the wait returns WEFT_ECANCELED (unless the compute had already ended or
 * failed). Returns at once. Thread-safe; harmless after the end.
 */
WEFT_API void weft_future_cancel(weft_future *f);

/**
 * As-completed iteration: waits up to `timeout_seconds` for the next target
 * to finish and gives its index in the targets array and (when `value` is
 * not NULL) a new owned reference to its result. Each index comes once, in
 * the order the targets finished. Returns WEFT_OK; WEFT_ETIMEDOUT;
 * WEFT_ENOTFOUND when every target has been given; or the compute's error
 * (WEFT_ETASK, WEFT_ECANCELED) once it has failed and no finished target is
 * left to give. Use from one thread at a time.
 */
WEFT_API int weft_future_next(weft_future *f, double timeout_seconds,
    size_t *index, weft_value *value);

/** The failed compute's message ("task 'k' failed: ..."), or "". */
WEFT_API const char *weft_future_error(const weft_future *f);

/**
 * Frees the future. A compute still running is canceled and waited for
 * first, so the graph is free to change afterwards. NULL is ok.
 */
WEFT_API void weft_future_free(weft_future *f);

#ifdef __cplusplus
}
#endif
#endif
