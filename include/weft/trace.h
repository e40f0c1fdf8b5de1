/**
 * \file weft/trace.h
 * \brief Recording when and where each task ran, as Chrome trace events.
 *
 * \code
 * weft_trace *t = weft_trace_new();
 * weft_opts o = { .trace = t };
 * weft_compute(g, n, targets, results, &o);
 * FILE *f = fopen("trace.json", "w");
 * weft_trace_write_json(t, g, f);   // open in Perfetto or chrome://tracing
 * fclose(f);
 * weft_trace_free(t);
 * \endcode
 *
 * Each worker appends to its own buffer, so recording costs two clock reads
 * and one store per task and no lock. A trace may be used by one compute at
 * a time; it accumulates over computes until weft_trace_clear().
 */
#ifndef WEFT_TRACE_H
#define WEFT_TRACE_H

#include <stdio.h>

#include "compute.h"

#ifdef __cplusplus
extern "C" {
#endif

/** One recorded task. */
typedef struct weft_trace_event {
	uint32_t node_index; /**< index of the node in its graph */
	int worker;	     /**< worker index */
	int64_t start_ns;    /**< CLOCK_MONOTONIC */
	int64_t end_ns;
	int status;	     /**< what the task returned: WEFT_OK, or its
				  error (weft_trace_message() has the text) */
} weft_trace_event;

/** A new, empty trace; NULL when out of memory. */
WEFT_API weft_trace *weft_trace_new(void);
/** Frees it. NULL is ok. */
WEFT_API void weft_trace_free(weft_trace *t);
/** Forgets every event. */
WEFT_API void weft_trace_clear(weft_trace *t);
/** Number of events recorded (tasks that could not be recorded for want
 *  of memory are counted by weft_trace_dropped). */
WEFT_API size_t weft_trace_count(const weft_trace *t);
WEFT_API size_t weft_trace_dropped(const weft_trace *t);
/** Copies event `i` (in no particular order). WEFT_EINVAL when out of
 *  range. */
WEFT_API int weft_trace_get(
    const weft_trace *t, size_t i, weft_trace_event *out);
/** The message of event `i` when its task failed (what weft_fail()
 *  recorded; "" when it gave none), NULL when it succeeded or `i` is out of
 *  range. Valid until the trace is cleared or freed. */
WEFT_API const char *weft_trace_message(const weft_trace *t, size_t i);
/** The worker that ran node `n` most recently in this trace, or -1. It
 *  scans every event (O(events) per call): to colour a whole graph, walk
 *  the events once with weft_trace_get() instead. */
WEFT_API int weft_trace_worker_of(const weft_trace *t, weft_node n);

/**
 * Writes the events as Chrome trace-event JSON (one row per worker, one
 * complete event per task, named by key), for Perfetto or chrome://tracing.
 * Each event carries `args`: "function" (its symbol, or where a static one
 * is; see weft_trace_write_json_labels() for other labels), "status" ("ok" or the error's name, e.g. "WEFT_ETASK") and, for a
 * failed task, "error" (its message). A failed task stands out: its name
 * ends in " (failed)", its category is "task,failed" and its colour
 * (`cname`) is "terrible" (red). `g` must be the graph the events came
 * from. WEFT_OK, WEFT_EIO on a write error, WEFT_EINVAL.
 */
WEFT_API int weft_trace_write_json(
    const weft_trace *t, const weft_graph *g, FILE *f);

/**
 * A label for node `n` of `g`: write at most `size` bytes into `buf` and
 * return it, or return NULL for the default (the function's symbol).
 * Called on the writing thread. Used by weft_trace_write_json_labels() and
 * weft_dot_opts.label.
 */
typedef const char *(*weft_label_fn)(
    void *ud, const weft_graph *g, weft_node n, char *buf, size_t size);

/**
 * weft_trace_write_json() with the "function" arg of each event given by
 * `label` (may be NULL: the symbol), e.g. a spec's computation
 * (weft_spec_dot_opts() fills a weft_dot_opts whose `label` and `ud` fit).
 */
WEFT_API int weft_trace_write_json_labels(const weft_trace *t,
    const weft_graph *g, FILE *f, weft_label_fn label, void *ud);

/* -- pictures of a graph: Graphviz DOT ---------------------------------- */

/** Above this many nodes, weft_graph_write_dot() writes a summary. */
#define WEFT_DOT_MAX_NODES 2000

/** Options of weft_graph_write_dot_opts(). Zero means default. */
typedef struct weft_dot_opts {
	/** A trace of a compute of the graph, or NULL. With one, each node is
	 *  filled with its worker's colour (a legend says which), a failed
	 *  task is red with a thick border and its message, and a node the
	 *  trace does not hold (culled, skipped after a failure) is dashed
	 *  and grey: "did not run". */
	const weft_trace *trace;
	/** The second line of node `n`'s box (the first is its key): write
	 *  at most `size` bytes into `buf` and return it, or return NULL for
	 *  the default, the function's symbol ("module+0xOFFSET" for a static
	 *  function). Called on the writing thread. May be NULL. */
	weft_label_fn label;
	void *ud; /**< passed to `label` */
	/** Past this many nodes, write a summary: one box per kind of node
	 *  (its label up to the first '('), with counts of nodes, failed and
	 *  not run, and an edge per pair of kinds with the number of edges.
	 *  0 means WEFT_DOT_MAX_NODES. */
	size_t max_nodes;
	void *reserved[4]; /**< must be zero */
} weft_dot_opts;

/** What weft_graph_write_dot_opts() wrote. */
typedef struct weft_dot_info {
	size_t nodes;	  /**< nodes in the graph */
	size_t max_nodes; /**< the limit that applied */
	int summarized;	  /**< 1 when the graph was summarized: say so */
	size_t boxes;	  /**< boxes written (nodes, or kinds) */
	size_t failed;	  /**< nodes marked failed */
	size_t not_run;	  /**< nodes marked "did not run" */
} weft_dot_info;

/**
 * Writes `g` in Graphviz DOT (`dot -Tsvg`): one box per node, labelled
 * with its key and its function (or `opts->label`), an edge per reference,
 * persisted nodes doubled and grey; with `opts->trace`, workers' colours,
 * failed and not-run nodes marked, and a legend. A graph of more than
 * `opts->max_nodes` nodes is summarized (see weft_dot_opts) and
 * `info->summarized` is set, so a program can tell its user. `opts` and
 * `info` may be NULL. Only reads `g`: not while a thread changes it.
 * WEFT_OK, WEFT_EIO on a write error, WEFT_ENOMEM, WEFT_EINVAL (NULL g or
 * f).
 */
WEFT_API int weft_graph_write_dot_opts(const weft_graph *g, FILE *f,
    const weft_dot_opts *opts, weft_dot_info *info);

/** weft_graph_write_dot_opts() with only a trace (may be NULL). */
WEFT_API int weft_graph_write_dot(
    const weft_graph *g, FILE *f, const weft_trace *trace);

#ifdef __cplusplus
}
#endif
#endif
