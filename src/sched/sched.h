/*
 * The scheduler's internal interface. It runs *jobs*, not graph nodes: a job
 * is a 64-bit word whose top 12 bits name a handler registered with the pool
 * and whose low 52 bits are that handler's argument (a node index, a range,
 * a pointer). Jobs are what the Chase-Lev deques hold, so a ready task costs
 * one 8-byte slot and no allocation.
 */
#ifndef WEFT_SCHED_SCHED_H
#define WEFT_SCHED_SCHED_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "weft/pool.h"

typedef struct weft__worker weft__worker;

/* Runs one job: `ctx` is the handler's, `arg` the job's low 52 bits. */
typedef void (*weft__handler_fn)(void *ctx, uint64_t arg, weft__worker *w);

#define WEFT__JOB_ARG_BITS 52
#define WEFT__JOB_ARG_MASK ((UINT64_C(1) << WEFT__JOB_ARG_BITS) - 1)
#define WEFT__MAX_HANDLERS 4096 /* so ids fit the top 12 bits */

static inline uint64_t
weft__job(uint32_t handler, uint64_t arg)
{
	return ((uint64_t)handler << WEFT__JOB_ARG_BITS) | arg;
}

/* A job that carries its own function: the handler WEFT__HANDLER_PTR (the
 * same in every pool) calls `run` with the job's address. For work that is
 * not part of a compute's flat arrays, such as spawned child tasks. The
 * address must fit in 52 bits (weft__pjob_fits). */
typedef struct weft__pjob weft__pjob;
struct weft__pjob {
	void (*run)(weft__pjob *self, weft__worker *w);
};
#define WEFT__HANDLER_PTR 1u

static inline int
weft__pjob_fits(const weft__pjob *j)
{
	return ((uint64_t)(uintptr_t)j & ~WEFT__JOB_ARG_MASK) == 0;
}

static inline uint64_t
weft__pjob_encode(weft__pjob *j)
{
	return weft__job(WEFT__HANDLER_PTR, (uint64_t)(uintptr_t)j);
}

/* What weft_pool_free asks of a handler still registered: to cancel its
 * work (CANCEL, returns 0), or whether all its jobs have drained (DONE,
 * returns 1 when so). Called with the pool's lock held: it must not block
 * or call back into the pool. */
enum { WEFT__CTL_CANCEL = 0, WEFT__CTL_DONE = 1 };
typedef int (*weft__handler_ctl)(void *ctx, int op);

/* Registers a handler; *id is never 0. Each handler holds a reference to
 * the pool, so a pool freed while computes are still registered stays in
 * memory (without its threads) until the last one is removed. WEFT_OK or
 * WEFT_EBUSY (table full). */
int weft__handler_add(weft_pool *p, weft__handler_fn fn,
    weft__handler_ctl ctl, void *ctx, uint32_t *id);
/* Waits until no worker is inside a job of `id`, then frees the id. Call
 * only once no job of `id` can be queued any more. */
void weft__handler_remove(weft_pool *p, uint32_t id);

/* The pool worker running on this thread, or NULL. */
weft__worker *weft__worker_current(void);
weft_pool *weft__worker_pool(const weft__worker *w);
unsigned weft__worker_index(const weft__worker *w);

/* Queues a job on the owner's deque (w must be the calling thread's
 * worker). When the deque cannot grow, runs the job at once instead: a job
 * is never dropped. Call weft__worker_notify() after a batch of pushes. */
void weft__worker_push(weft__worker *w, uint64_t job);
/* After w pushed on its own deque: wakes one sleeping worker if no worker
 * is already looking for work. Free when w is its pool's only worker: no
 * one else could take the job. */
void weft__worker_notify(weft__worker *w);
/* Queues a job from any thread (through the injection queue when the
 * caller is not a worker of p) and wakes a worker. WEFT_OK/WEFT_ENOMEM. */
int weft__submit(weft_pool *p, uint64_t job);

/* Runs other jobs (own deque, injection queue, steals) until *flag != 0.
 * For a worker that must wait for work it cannot do itself. */
void weft__worker_help_until(weft__worker *w, _Atomic uint32_t *flag);

#endif
