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
/** The worker that ran node `n` most recently in this trace, or -1. It
 *  scans every event (O(events) per call): to colour a whole graph, walk
 *  the events once with weft_trace_get() instead. */
WEFT_API int weft_trace_worker_of(const weft_trace *t, weft_node n);

/**
 * Writes the events as Chrome trace-event JSON (one row per worker, one
 * complete event per task, named by key). `g` must be the graph the events
 * came from. WEFT_OK, WEFT_EIO on a write error, WEFT_EINVAL.
 */
WEFT_API int weft_trace_write_json(
    const weft_trace *t, const weft_graph *g, FILE *f);

/**
 * Writes the graph in Graphviz DOT: one box per node labelled with its key
 * and function name, an edge per reference, persisted nodes doubled and
 * grey. With a trace (weft/trace.h, may be NULL), nodes are filled with
 * their worker's colour. WEFT_OK, WEFT_EIO on a write error, WEFT_EINVAL.
 */
WEFT_API int weft_graph_write_dot(
    const weft_graph *g, FILE *f, const weft_trace *trace);

#ifdef __cplusplus
}
#endif
#endif
