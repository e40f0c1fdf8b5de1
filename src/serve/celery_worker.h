/*
 * A Celery worker on weft: consumes Celery task messages from a broker,
 * runs each as a weft compute on a pool, publishes the result to the
 * client's rpc:// reply queue and only then acknowledges the message.
 *
 * Threads: the thread that calls celery_worker_run() does all broker I/O;
 * the pool's workers hand finished tasks back to it through a queue and an
 * eventfd. SIGTERM and SIGINT ask for a warm shutdown (stop consuming,
 * finish what runs, publish, ack, return 0); a second one ends the process
 * at once (_exit(1)), leaving running tasks: the broker redelivers them.
 */
#ifndef WEFT_SERVE_CELERY_WORKER_H
#define WEFT_SERVE_CELERY_WORKER_H

#include <stddef.h>

#include "weft.h"

typedef struct celery_worker_opts {
	const char *broker_url;	    /* amqp://USER:PASS@HOST:PORT/VHOST */
	const char *const *queues;  /* queues to consume; none: "celery" */
	size_t nqueues;
	const weft_registry *reg;   /* the functions tasks may call */
	/* "NAME=FUNC" pairs: Celery task NAME runs registered FUNC. Other
	 * names run the function named by their last dotted part
	 * ("celery_app.add" runs "add"). */
	const char *const *task_map;
	size_t ntask_map;
	weft_pool *pool;	    /* where tasks run (not freed) */
	unsigned prefetch;	    /* messages in flight; 0: 32 per thread */
	int track_started;	    /* publish STARTED when a task starts */
	int verbose;		    /* log every task on stderr */
	/* The AMQP heartbeat asked of the broker, in seconds (0: 30). A dead
	 * peer is noticed after two missed beats. */
	unsigned heartbeat_s;
	/* Seconds between connection attempts grow from 0.1 to this (0: 5). */
	double max_backoff_s;
} celery_worker_opts;

/*
 * Runs until a warm shutdown completes (returns 0) or the options are
 * unusable (returns a WEFT_E* code after printing why on stderr). A broker
 * that is down or goes away is retried with backoff, forever: the worker
 * outlives broker restarts, as Celery's does.
 */
int celery_worker_run(const celery_worker_opts *opts);

#endif
