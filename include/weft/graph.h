/**
 * \file weft/graph.h
 * \brief Building a lazy task graph with delayed calls.
 *
 * A weft_graph owns its nodes. Each node is a deferred call `fn(args...)`
 * whose arguments are literals or the results of other nodes. Nothing runs
 * until weft_compute() (weft/compute.h) asks for some nodes' results.
 *
 * Thread-safety: building a graph (weft_delayed and friends) is not
 * thread-safe; one thread builds a graph at a time, and not while a compute
 * of it runs. Different graphs may be built on different threads.
 *
 * Errors: a graph keeps the last error that happened to it (a failed
 * delayed call or a failed compute): weft_graph_error() gives its message.
 * A failed delayed call returns WEFT_NODE_NONE; using WEFT_NODE_NONE as an
 * argument or target fails in turn and keeps the first call's error, so a
 * chain of calls can be checked once, at the end, and still tell why.
 */
#ifndef WEFT_GRAPH_H
#define WEFT_GRAPH_H

#include <stddef.h>
#include <stdint.h>

#include "errno.h"
#include "value.h"
#include "version.h"

#ifdef __cplusplus
extern "C" {
#endif

/** A task graph under construction. Opaque; owns its nodes. */
typedef struct weft_graph weft_graph;
/** What a running task gets: its key, its worker, the way to report errors. */
typedef struct weft_ctx weft_ctx;

/**
 * A handle to a node of one graph. Cheap to copy; valid while the graph
 * lives. Treat `id` as private: it holds the graph's serial number (from a
 * process-wide counter) and the node's index, so a node of any other live
 * graph is refused with WEFT_EINVAL ("not a node of this graph"), whatever
 * the number of graphs. The one residual limit: serials are 32 bits, so a
 * node could pass for a node of a graph created 4,294,967,295 graphs after
 * its own, in the same process, if both are still alive.
 */
typedef struct weft_node {
	uint64_t id;
} weft_node;

/** The node no successful call returns (id 0). */
#define WEFT_NODE_NONE ((weft_node) { 0 })
/** The most nodes one graph holds (2^32 - 1); memory is the real limit
 *  (see README "Memory": tens of bytes per node and per argument). The
 *  arguments of all nodes of a graph together are limited likewise. */
#define WEFT_MAX_NODES ((size_t)0xFFFFFFFFu)

/** True when `n` is not WEFT_NODE_NONE. */
static inline int
weft_node_ok(weft_node n)
{
	return n.id != 0;
}

/**
 * A task function. `args` holds `nargs` *borrowed* values: do not release
 * them; retain one to keep it in the result. `*out` starts as NIL and
 * receives an *owned* value. Return WEFT_OK, or an error: usually
 * `return weft_fail(ctx, "division by zero");`. On error, whatever was
 * stored in `*out` is released. A task may run on any worker thread.
 */
typedef int (*weft_fn)(
    weft_ctx *ctx, size_t nargs, const weft_value *args, weft_value *out);

/** One argument of a delayed call: a node reference or a literal value. */
typedef struct weft_arg {
	uint32_t kind; /* private: 1 ref, 2 literal, 3 end-of-list marker */
	weft_node node;
	weft_value lit;
} weft_arg;

/** An argument that is the result of node `n`. */
WEFT_API weft_arg weft_ref(weft_node n);
/** A literal argument. The graph takes ownership of `v` when the arg is
 *  passed to a delayed call (even when that call fails). The NIL of a
 *  failed constructor (weft_value_failed(), e.g. weft_str() out of memory)
 *  makes that call fail with WEFT_ENOMEM rather than pass for a NIL. */
WEFT_API weft_arg weft_lit(weft_value v);

#ifndef __cplusplus
/* In C, both are built in place: a call returning the 32-byte struct
 * through memory cost more than the rest of a delayed call. The functions
 * remain for other languages and for taking their address. */
#define weft_ref(n) ((weft_arg) { 1, (n), { 0, { 0 }, { 0 } } })
#define weft_lit(v) ((weft_arg) { 2, { 0 }, (v) })
#endif

/** A new, empty graph; NULL when out of memory. Free with weft_graph_free. */
WEFT_API weft_graph *weft_graph_new(void);
/** Frees the graph, its nodes, literals and persisted values. NULL is ok.
 *  Every weft_node of it becomes invalid. Computes of it still running (a
 *  caller's error) are canceled and drained first; their futures report
 *  WEFT_ECANCELED. */
WEFT_API void weft_graph_free(weft_graph *g);

/**
 * Adds the deferred call `fn(args[0..nargs))` and returns its node, or
 * WEFT_NODE_NONE on error (no memory, NULL fn, a ref to another graph, to
 * WEFT_NODE_NONE, a literal that a failed constructor returned, or the
 * graph is full); weft_graph_error() says which.
 * Literals in `args` are owned by the graph from now on, also on failure.
 * `args` itself is only read. Any number of arguments is allowed.
 */
WEFT_API weft_node weft_delayed(
    weft_graph *g, weft_fn fn, size_t nargs, const weft_arg *args);

/**
 * Like weft_delayed(), and names the node `key` (copied). Keys are unique
 * in a graph: a key already in use fails with WEFT_EINVAL. `key` NULL is
 * the same as weft_delayed().
 */
WEFT_API weft_node weft_delayed_named(weft_graph *g, const char *key,
    weft_fn fn, size_t nargs, const weft_arg *args);

/** \cond PRIVATE */
#define WEFT__ARG_END ((weft_arg) { 3, { 0 }, { 0, { 0 }, { 0 } } })
#define WEFT__NARGS(...)                                                      \
	(sizeof((weft_arg[]) { __VA_ARGS__ }) / sizeof(weft_arg) - 1)
#define WEFT__DELAYED(g, key, fn, ...)                                        \
	weft_delayed_named((g), (key), (fn), WEFT__NARGS(__VA_ARGS__),        \
	    (const weft_arg[]) { __VA_ARGS__ })
/** \endcond */

/**
 * `WEFT_DELAYED(g, fn, arg...)`: weft_delayed() with the weft_args written
 * inline, e.g. `WEFT_DELAYED(g, add, weft_ref(x), weft_lit(weft_int(1)))`.
 * Zero arguments are fine: `WEFT_DELAYED(g, make)`.
 */
#define WEFT_DELAYED(...) WEFT__DELAYED_A(__VA_ARGS__, WEFT__ARG_END)
#define WEFT__DELAYED_A(g, fn, ...) WEFT__DELAYED(g, NULL, fn, __VA_ARGS__)
/** `WEFT_DELAYED_NAMED(g, "key", fn, arg...)`: the same with a key. */
#define WEFT_DELAYED_NAMED(...)                                               \
	WEFT__DELAYED_NAMED_A(__VA_ARGS__, WEFT__ARG_END)
#define WEFT__DELAYED_NAMED_A(g, key, fn, ...)                                \
	WEFT__DELAYED(g, key, fn, __VA_ARGS__)

/** Number of nodes in the graph. */
WEFT_API size_t weft_graph_size(const weft_graph *g);

/**
 * The node named `key`, or WEFT_NODE_NONE when no node has that key.
 * Unnamed nodes are found by their default key too ("node-17").
 */
WEFT_API weft_node weft_graph_find(const weft_graph *g, const char *key);

/**
 * Writes the key of `n` into `buf` (at most `size` bytes, NUL-terminated)
 * and returns `buf`. Unnamed nodes get a default key, `node-<index>`.
 * An invalid node gives "?". Thread-safe against concurrent readers.
 */
WEFT_API const char *weft_node_key(
    const weft_graph *g, weft_node n, char *buf, size_t size);

/**
 * The message of the last error of `g`: a failed delayed call ("delayed:
 * argument 2 refers to another graph") or a failed compute ("task 'bad-div'
 * failed: division by zero"). Empty string when none. The text lives until
 * the next call that changes it or weft_graph_free(). The form of a task
 * failure, `task 'KEY' failed: MESSAGE`, is stable: programs may parse it.
 */
WEFT_API const char *weft_graph_error(const weft_graph *g);
/** The code of the last error of `g` (WEFT_OK when none). */
WEFT_API int weft_graph_errcode(const weft_graph *g);
/** Forgets the last error. */
WEFT_API void weft_graph_clear_error(weft_graph *g);

/* -- a read-only view ----------------------------------------------------- */

/**
 * What weft_node_view_get() tells about one node. The pointers in it are
 * borrowed from the graph: `key` stays valid until the graph is next
 * changed (a delayed call may move the key storage) or freed.
 */
typedef struct weft_node_view {
	/** The node's function (an internal one for weft_getitem nodes). */
	weft_fn fn;
	/** Its number of arguments (read each with weft_node_arg()). */
	size_t nargs;
	/** Its key; NULL when unnamed (the default key, "node-<index>", is
	 *  what weft_node_key() writes). */
	const char *key;
	/** Its priority (weft_node_set_priority(); 0 by default). */
	int priority;
	/** 1 when it has a persisted result (weft_persist()), else 0. */
	int persisted;
} weft_node_view;

/**
 * The `i`-th node of `g` in creation order, or WEFT_NODE_NONE when `i` is
 * out of range (or `g` is NULL). A node can only refer to nodes made before
 * it, so creation order is a topological order: walking i = 0, 1, ...
 * visits every node after all its inputs.
 *
 * The view functions only read the graph. They are safe from any number of
 * threads at once, and while a compute of `g` runs (which changes no node),
 * but not while a thread builds `g` (weft_delayed and friends) or frees it.
 */
WEFT_API weft_node weft_graph_node(const weft_graph *g, size_t i);

/** The index of `n` in `g` (its creation order), or (size_t)-1 when `n` is
 *  not a node of `g` (WEFT_NODE_NONE, another graph's node, NULL `g`). */
WEFT_API size_t weft_node_index(const weft_graph *g, weft_node n);

/** Fills `*out` with what `n` is. WEFT_OK, or WEFT_EINVAL when `n` is not a
 *  node of `g` or `out` is NULL (then `*out` is unchanged). */
WEFT_API int weft_node_view_get(
    const weft_graph *g, weft_node n, weft_node_view *out);

/**
 * Argument `i` of node `n`: a reference (weft_arg_is_ref(), weft_arg_node())
 * or a literal (weft_arg_value()). A literal is BORROWED from the graph: do
 * not release it; retain it to keep it, e.g. to pass it to a delayed call
 * of another graph (`weft_lit(weft_value_retain(weft_arg_value(&a)))`).
 * It lives as long as the graph. WEFT_OK, or WEFT_EINVAL when `n` is not a
 * node of `g`, `i` is not below its nargs, or `out` is NULL.
 */
WEFT_API int weft_node_arg(
    const weft_graph *g, weft_node n, size_t i, weft_arg *out);

/** The persisted result of `n`, BORROWED (valid until it is released or
 *  the graph freed): WEFT_OK, WEFT_ENOTFOUND when `n` has none, WEFT_EINVAL
 *  when `n` is not a node of `g` or `out` is NULL. */
WEFT_API int weft_node_persisted_value(
    const weft_graph *g, weft_node n, weft_value *out);

/** 1 when `a` is a reference to a node (weft_ref()), else 0 (a literal,
 *  or NULL). */
WEFT_API int weft_arg_is_ref(const weft_arg *a);
/** The node a reference argument refers to; WEFT_NODE_NONE for a literal
 *  or NULL. */
WEFT_API weft_node weft_arg_node(const weft_arg *a);
/** The value of a literal argument, borrowed from whoever holds `a` (for
 *  an arg from weft_node_arg(), the graph); NIL for a reference or NULL. */
WEFT_API weft_value weft_arg_value(const weft_arg *a);

/* -- more ways to build --------------------------------------------------- */

/**
 * A pure call: like weft_delayed(), but the node's key is derived from the
 * function and a hash of the arguments (literals by content, references by
 * their node's key), as Dask's tokenize does: "NAME-0123abcd...". Building
 * the same pure call twice returns the same node (and releases the second
 * call's literals).
 *
 * NAME is the function's symbol when the dynamic linker knows it (an
 * exported function; link programs with -rdynamic for their own), and the
 * hash then uses that name: the key is the same in every process and run,
 * usable as a cache key. Otherwise (a static function) NAME is "pure" and
 * the hash uses the function's address, which differs between processes
 * (address-space randomization). PTR literals hash by their pointer, so
 * keys with them are not stable across processes either.
 */
WEFT_API weft_node weft_delayed_pure(
    weft_graph *g, weft_fn fn, size_t nargs, const weft_arg *args);

/**
 * Sets a priority hint on `n` (default 0). Among tasks that are ready at
 * the same time on one worker, higher priority runs first; roots are
 * started in priority order. Otherwise weft runs depth-first in creation
 * order, which keeps few intermediate results alive (like dask.order).
 * WEFT_OK or WEFT_EINVAL.
 */
WEFT_API int weft_node_set_priority(weft_graph *g, weft_node n, int priority);

/** Drops the kept results (weft_persist(), weft/compute.h) of
 *  `nodes[0..n)` (n == 0: of every node).
 *  Returns how many were dropped. */
WEFT_API size_t weft_release_persisted(
    weft_graph *g, size_t n, const weft_node *nodes);

/** 1 when `n` has a persisted result, else 0. */
WEFT_API int weft_is_persisted(const weft_graph *g, weft_node n);

#ifdef __cplusplus
}
#endif
#endif
