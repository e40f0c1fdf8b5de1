/**
 * \file weft/task.h
 * \brief Inside a running task: its context (weft_fail, weft_ctx_*), and
 * dynamic parallelism (spawn and wait).
 *
 * \code
 * static int fib(weft_ctx *c, size_t n, const weft_value *a, weft_value *out)
 * {
 *         int64_t k = weft_as_int(a[0]);
 *         if (k < 2) { *out = weft_int(k); return WEFT_OK; }
 *         weft_value x = weft_int(k - 1), y = weft_int(k - 2);
 *         weft_task *t[2] = { weft_spawn(c, fib, 1, &x), weft_spawn(c, fib, 1, &y) };
 *         weft_value r[2];
 *         int rc = weft_wait(c, 2, t, r);
 *         if (rc == WEFT_OK)
 *                 *out = weft_int(weft_as_int(r[0]) + weft_as_int(r[1]));
 *         return rc;
 * }
 * \endcode
 *
 * A waiting worker runs other work (its children first, if no thief took
 * them), so waits never block a worker and never deadlock, at any depth.
 */
#ifndef WEFT_TASK_H
#define WEFT_TASK_H

#include "graph.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * Records a message for the running task's failure and returns WEFT_ETASK,
 * so a task can `return weft_fail(ctx, "bad row %zu", i);`. The message is
 * truncated to 1023 bytes. The compute reports it with the node's key.
 */
WEFT_API int weft_fail(weft_ctx *ctx, const char *fmt, ...) WEFT_PRINTF(2, 3);
/** The index of the worker running the task (0-based), or -1 off the pool. */
WEFT_API int weft_ctx_worker(const weft_ctx *ctx);
/** The running task's node. */
WEFT_API weft_node weft_ctx_node(const weft_ctx *ctx);
/** The running task's key (see weft_node_key); valid during the task. */
WEFT_API const char *weft_ctx_key(weft_ctx *ctx);
/** 1 when the task's compute has been canceled or has failed elsewhere: a
 *  long task may poll it and return early (its result is not used). */
WEFT_API int weft_ctx_canceled(const weft_ctx *ctx);

/** A spawned child task; owned by the task that spawned it until waited. */
typedef struct weft_task weft_task;

/**
 * Starts `fn(args)` as a child of the running task. `args` are borrowed
 * (the child keeps its own references). Returns NULL when out of memory
 * (run the work inline instead) or when `ctx` is NULL. A child of a
 * failed or canceled compute does not run (its wait gives WEFT_ECANCELED).
 * Children the task did not wait for are waited for (and their results
 * dropped) when it returns. Threads: only from the running task itself,
 * on the thread that was given `ctx` (the child goes on that worker's own
 * queue); weft_wait likewise.
 */
WEFT_API weft_task *weft_spawn(
    weft_ctx *ctx, weft_fn fn, size_t nargs, const weft_value *args);

/**
 * Waits for `tasks[0..n)` and frees them; `results[i]` (when `results` is
 * not NULL) receives child i's owned result, NIL if it failed. Returns
 * WEFT_OK, or the first child's error (WEFT_ETASK with its message
 * available through weft_ctx_child_error), WEFT_ECANCELED, WEFT_EINVAL for
 * a task that is not a child of this ctx. NULL entries are skipped (a
 * failed spawn).
 */
WEFT_API int weft_wait(
    weft_ctx *ctx, size_t n, weft_task **tasks, weft_value *results);

/** The message of the last child failure weft_wait reported, or "". */
WEFT_API const char *weft_ctx_child_error(const weft_ctx *ctx);

#ifdef __cplusplus
}
#endif
#endif
