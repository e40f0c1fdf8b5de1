/*
 * One compute over a graph (the run layer's private interface).
 *
 * A run is also the public weft_future: weft_compute() is an async compute
 * followed by a wait.
 */
#ifndef WEFT_RUN_RUN_H
#define WEFT_RUN_RUN_H

#include <pthread.h>
#include <stdint.h>

#include "base/atomic.h"
#include "graph/graph.h"
#include "sched/sched.h"
#include "weft/compute.h"
#include "weft/future.h"
#include "weft/task.h"

#define WEFT__UNUSED 0xFFFFFFFFu /* pending of a node not in the run */

/* Slot flags (written before the run starts, or by the one worker that
 * runs the node). */
#define WEFT__F_TARGET 1u
#define WEFT__F_SKIPPED 2u /* did not run or failed: its result is NIL */

/* Per node of the run: 32 bytes, two to a cache line. */
typedef struct weft__slot {
	_Atomic uint32_t pending; /* inputs not yet done */
	_Atomic uint32_t refs;	  /* consumers not yet done */
	uint32_t fused;		  /* the consumer it runs fused with, or NONE */
	uint32_t flags;
	weft_value result;
} weft__slot;

/* run->failed */
#define WEFT__RUN_OK 0u
#define WEFT__RUN_FAILED 1u
#define WEFT__RUN_CANCELED 2u

typedef struct weft__run {
	weft__graph_user user; /* first: the graph's list of its computes */
	weft_graph *g;	       /* NULL once the graph was freed under us */
	weft_pool *pool;
	weft__slot *slots;
	uint32_t *roots;
	size_t nroots;
	uint32_t hi;	/* highest node index in the run; slots[0..hi] */
	uint32_t grain; /* roots run in a row by one job, once split */
	uint32_t unit;	/* roots per unit of a range job */
	uint32_t handler;
	uint32_t ntasks; /* nodes that will run */
	unsigned flags;
	const weft_callbacks *cb;
	struct weft_trace *trace;

	size_t n;	 /* targets as given */
	uint32_t *tidx;	 /* their node indexes */
	uint32_t *order; /* distinct targets in completion order */
	uint32_t *tperm; /* target positions sorted by node (lazy) */
	size_t next_k, next_j; /* as-completed cursors */

	WEFT_CACHE_ALIGNED _Atomic uint32_t failed;
	_Atomic uint32_t targets_left;
	_Atomic uint32_t order_pos;
	_Atomic uint32_t done;	   /* futex: 1 when the run has drained */
	_Atomic uint32_t progress; /* futex: bumped as targets finish */
	_Atomic uint32_t watched;  /* someone waits on progress */

	uint32_t fail_node;
	int fail_code;
	char fail_msg[1024];

	pthread_mutex_t mu; /* guards the finishing below, and g */
	int mu_ok;
	int finished;	    /* handler released, message built */
	int rc;
	char errmsg[1400];
} weft__run;

/* A future is a run (weft/future.h). */
struct weft_future {
	weft__run run;
};

/* Checks a compute request, sets up its run on its pool and starts it
 * (compute.c). NULL on error, with *rcp set and the graph's error. */
weft_future *weft__compute_start(weft_graph *g, size_t n,
    const weft_node *targets, const weft_opts *opts, int *rcp);
/* Checks the arguments of a compute; the graph's error on failure. */
int weft__compute_check(weft_graph *g, size_t n, const weft_node *targets,
    const weft_opts *opts);

typedef struct weft__child weft__child;

struct weft_ctx {
	weft__run *run;
	uint32_t node;
	weft__worker *w; /* the worker running the task: spawn and wait use
			    it instead of a thread-local lookup */
	int worker;
	int has_msg;
	weft_task *children; /* spawned, not yet waited */
	char key[128];
	char msg[1024];
	char child_msg[256];
};

/* Node execution (run.c) */
int weft__run_prepare(weft__run *r, size_t n, const weft_node *targets);
int weft__run_start(weft__run *r);
void weft__run_finish(weft__run *r);
void weft__run_destroy(weft__run *r);
int weft__run_wait(weft__run *r, int64_t timeout_ns);

/* Children still not waited for when a task returns (spawn.c). */
void weft__ctx_wait_children(weft_ctx *ctx);

/* Trace recording (trace.c). */
/* Records one task: its return code, and for a failed task its message
 * (copied; "" when it gave none). */
void weft__trace_add(struct weft_trace *t, int worker, uint32_t node,
    int64_t start, int64_t end, int rc, const char *msg);
int weft__trace_reserve(struct weft_trace *t, unsigned workers);

#endif
