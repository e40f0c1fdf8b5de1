/**
 * \file weft/mpi.h
 * \brief weft on MPI: one graph, run across the ranks of an MPI job.
 *
 * Optional part: link `libweft-mpi` (pkg-config `weft-mpi`) and include this
 * header yourself; `weft.h` does not include it.
 *
 * The model is SPMD with sequential task flow, as in StarPU-MPI: every rank
 * runs the same program and builds the same graph, in the same order, with
 * weft_mpi_delayed() and friends, so node ids agree across ranks without a
 * message. weft_mpi_compute() is collective: every rank calls it with the
 * same targets. Each node has an owner rank, and only its owner runs it.
 * Values cross ranks only along edges whose ends have different owners, as
 * soon as they are ready, each value at most once per destination rank.
 * Results go to rank 0 (or the rank(s) asked for), equal bit for bit to a
 * single-process weft_compute() of the same graph.
 *
 * \code
 * weft_mpi *m;
 * if (weft_mpi_init(&argc, &argv, NULL, &m) != WEFT_OK) { ...; weft_mpi_finalize(m); }
 * weft_mpi_graph *g = weft_mpi_graph_new(m);
 * weft_node a = WEFT_MPI_DELAYED(g, load, weft_lit(weft_int(0)));
 * weft_node b = WEFT_MPI_DELAYED(g, load, weft_lit(weft_int(1)));
 * weft_mpi_set_owner(g, b, 1 % weft_mpi_size(m));
 * weft_node s = WEFT_MPI_DELAYED(g, add, weft_ref(a), weft_ref(b));
 * weft_value r;
 * int rc = weft_mpi_compute(g, 1, &s, &r, NULL);  // every rank; r on rank 0
 * weft_value_release(&r);
 * weft_mpi_graph_free(g);
 * weft_mpi_finalize(m);
 * \endcode
 *
 * What must be identical on every rank: the program (function pointers are
 * never sent; each rank calls its own copy), the graph (same calls in the
 * same order, same keys, literals and owners; checked at each compute), the
 * function registry given to weft_mpi_init() (checked there), and the PTR
 * types registered with weft_mpi_type_register(). Values travel as raw
 * bytes: the machines must agree on endianness and on the layout of
 * doubles and int64 (homogeneous clusters; every common one is).
 *
 * Threads: the thread that calls weft_mpi_compute() makes every MPI call of
 * the compute while the pool's workers run tasks (workers never call MPI).
 * weft_mpi_init() asks MPI for MPI_THREAD_MULTIPLE and needs at least
 * MPI_THREAD_FUNNELED; with FUNNELED or SERIALIZED, computes must be
 * called from the thread that initialized MPI, and the program must not
 * call MPI itself while a compute runs.
 *
 * Errors: every function returns a weft error code (weft/errno.h) and the
 * same code on every rank for collective calls. A failing task makes the
 * compute return WEFT_ETASK on every rank, with the same message:
 * "task 'KEY' failed on rank R: MESSAGE". A rank that dies takes the job
 * down through MPI's own abort. Only fatal runtime conditions (an MPI call
 * that fails, a compute that exceeds its `timeout_s`) end the job, with a
 * one-line message on stderr and MPI_Abort() with WEFT_MPI_EXIT_TIMEOUT or
 * WEFT_MPI_EXIT_FATAL; the library never aborts on bad input.
 */
#ifndef WEFT_MPI_H
#define WEFT_MPI_H

#include <mpi.h>
#include <stddef.h>
#include <stdint.h>

#include "../weft.h"

#ifdef __cplusplus
extern "C" {
#endif

/** One process's view of the MPI job: its communicator, rank, pool and
 *  PTR types. Opaque. */
typedef struct weft_mpi weft_mpi;

/** A graph built the same way on every rank. Opaque. */
typedef struct weft_mpi_graph weft_mpi_graph;

/** weft_mpi_compute_opts.root: every rank receives the results. */
#define WEFT_MPI_ALL (-1)
/** A rank_of hook's answer: let the default policy choose. */
#define WEFT_MPI_ANY (-1)

/** The error code given to MPI_Abort() (the launcher's exit status) when a
 *  compute ran past its timeout_s. */
#define WEFT_MPI_EXIT_TIMEOUT 4
/** The code given to MPI_Abort() on another fatal runtime condition: an
 *  MPI call that failed, or no memory in the middle of a compute. */
#define WEFT_MPI_EXIT_FATAL 5

/* -- starting and stopping ------------------------------------------------ */

/** Options of weft_mpi_init(). Zero (or a NULL pointer) means default for
 *  every field. */
typedef struct weft_mpi_opts {
	/** The communicator to run on (duplicated; yours stays yours);
	 *  NULL = MPI_COMM_WORLD. */
	const MPI_Comm *comm;
	/** The function registry every rank must agree on (names, order and
	 *  arities are compared at init). Needed by weft_mpi_call() and
	 *  weft_mpi_spec_load_file(); NULL = no registry. It must outlive the
	 *  context, and no function may be added to it after init. */
	const weft_registry *registry;
	/** The pool that runs tasks; NULL = a pool of the context's own. */
	weft_pool *pool;
	/** Workers of the context's own pool; 0 = the cores of the cpuset
	 *  MPI gave this process, shared out among the ranks of this node
	 *  that got the same cpuset (then unbound, so they do not pile up on
	 *  the same cores). */
	unsigned threads;
	/** Largest MPI message, in bytes; larger values go in several.
	 *  0 = 256 MiB. At least 4096. */
	size_t chunk_bytes;
	void *reserved[4]; /**< must be zero */
} weft_mpi_opts;

/**
 * Starts weft on MPI. Collective over the communicator. Initializes MPI
 * (MPI_Init_thread, asking for MPI_THREAD_MULTIPLE) unless the program
 * already did; `argc`/`argv` are passed on to it and may be NULL.
 *
 * Like sqlite3_open(), it hands back a context in `*out` whenever MPI is
 * up, also on failure: read weft_mpi_error() and pass the context to
 * weft_mpi_finalize() in every case. A failed context refuses every other
 * call with WEFT_EINVAL. `*out` is NULL only when MPI itself could not be
 * started or `out` is NULL.
 *
 * Returns, on every rank alike: WEFT_OK; WEFT_EINVAL (bad opts, MPI thread
 * support below FUNNELED, or the registries differ between ranks: "function
 * registry differs on rank 2: 41 functions, rank 0 has 40, first
 * difference at 'sum'"); WEFT_ENOMEM; WEFT_EIO (MPI could not start).
 */
WEFT_API int weft_mpi_init(int *argc, char ***argv,
    const weft_mpi_opts *opts, weft_mpi **out);

/**
 * Frees the context: its pool (if its own), its communicator, and
 * MPI_Finalize() if weft_mpi_init() initialized MPI. Collective. Graphs of
 * the context must be freed first. NULL is ok. Returns WEFT_OK, or
 * WEFT_EIO when finalizing MPI failed.
 */
WEFT_API int weft_mpi_finalize(weft_mpi *m);

/** This process's rank in the context's communicator (-1 for NULL). */
WEFT_API int weft_mpi_rank(const weft_mpi *m);
/** Number of ranks (0 for NULL). */
WEFT_API int weft_mpi_size(const weft_mpi *m);
/** The pool tasks run on. */
WEFT_API weft_pool *weft_mpi_pool(const weft_mpi *m);
/** The duplicated communicator the context uses (for the program's own
 *  collectives, not during a compute). MPI_COMM_NULL for NULL. */
WEFT_API MPI_Comm weft_mpi_comm(const weft_mpi *m);
/** The last error message of the context (init, type registration,
 *  spec loading), "" when none. */
WEFT_API const char *weft_mpi_error(const weft_mpi *m);

/* -- user types: WEFT_PTR values across ranks ------------------------------ */

/**
 * How a WEFT_PTR payload crosses ranks, registered by name on every rank.
 * Define it `static const` and keep it alive as long as values of it live.
 */
typedef struct weft_mpi_type {
	/** Unique name, 1 to 64 bytes, the same on every rank. */
	const char *name;
	/** Bytes that pack() will write for `ptr`. WEFT_OK or an error. */
	int (*size)(const void *ptr, size_t *len);
	/** Writes exactly `len` bytes describing `ptr` to `buf`. */
	int (*pack)(const void *ptr, void *buf, size_t len);
	/** A new object from `len` bytes (the receiver owns it). */
	int (*unpack)(const void *buf, size_t len, void **ptr);
	/** Frees an object (the PTR value's destructor); may be NULL. */
	weft_ptr_free_fn free;
	void *reserved[2]; /**< must be zero */
} weft_mpi_type;

/**
 * Registers `t` (not copied: it must outlive the context) so that values
 * made by weft_mpi_ptr(t, ...) can be sent, and received ones rebuilt. Do
 * it on every rank, before the computes that need it. WEFT_OK; WEFT_EINVAL
 * (NULL, a bad name, a NULL size/pack/unpack, the name already taken by
 * another type).
 */
WEFT_API int weft_mpi_type_register(weft_mpi *m, const weft_mpi_type *t);

/**
 * A WEFT_PTR value of type `t` holding `ptr`: like weft_ptr(ptr, t->free),
 * and the value can cross ranks. weft_ptr_get() gives `ptr` back as usual.
 * Usable anywhere, in tasks too. NIL (after t->free(ptr)) when out of
 * memory or `t` is NULL. A PTR made with plain weft_ptr() cannot be sent:
 * the compute fails naming its node.
 */
WEFT_API weft_value weft_mpi_ptr(const weft_mpi_type *t, void *ptr);

/** The type of a PTR value made by weft_mpi_ptr(), or NULL. */
WEFT_API const weft_mpi_type *weft_mpi_ptr_type(weft_value v);

/* -- building a graph ---------------------------------------------------- */

/** A new, empty graph of context `m`; NULL when out of memory or `m` is
 *  NULL or failed. Not collective. */
WEFT_API weft_mpi_graph *weft_mpi_graph_new(weft_mpi *m);
/** Frees the graph and its literals. NULL is ok. */
WEFT_API void weft_mpi_graph_free(weft_mpi_graph *g);

/**
 * Adds the deferred call `fn(args...)`, exactly as weft_delayed() does
 * (weft/graph.h): literals are owned by the graph from now on, also on
 * failure; refs must be nodes of `g`. WEFT_NODE_NONE on error (the message
 * is in weft_mpi_graph_error()). Every rank must make the same calls in
 * the same order.
 */
WEFT_API weft_node weft_mpi_delayed(
    weft_mpi_graph *g, weft_fn fn, size_t nargs, const weft_arg *args);

/** weft_mpi_delayed() that names the node `key` (unique in the graph,
 *  copied). Unnamed nodes have the key "node-<index>", as in weft_graph,
 *  in messages; inside a task, weft_ctx_key() of an unnamed node gives a
 *  key local to its rank's run, so name the nodes whose tasks use their
 *  key. */
WEFT_API weft_node weft_mpi_delayed_named(weft_mpi_graph *g, const char *key,
    weft_fn fn, size_t nargs, const weft_arg *args);

/**
 * weft_mpi_delayed_named() with the function looked up by name in the
 * context's registry, with its arity checked: WEFT_NODE_NONE when there is
 * no registry, no such function or a wrong number of arguments.
 */
WEFT_API weft_node weft_mpi_call(weft_mpi_graph *g, const char *key,
    const char *fname, size_t nargs, const weft_arg *args);

/** `WEFT_MPI_DELAYED(g, fn, arg...)`: weft_mpi_delayed() with inline args. */
#define WEFT_MPI_DELAYED(...) WEFT__MPI_DELAYED_A(__VA_ARGS__, WEFT__ARG_END)
/** `WEFT_MPI_DELAYED_NAMED(g, "key", fn, arg...)`. */
#define WEFT_MPI_DELAYED_NAMED(...)                                           \
	WEFT__MPI_DELAYED_NAMED_A(__VA_ARGS__, WEFT__ARG_END)
/** \cond PRIVATE */
#define WEFT__MPI_DELAYED_A(g, fn, ...)                                       \
	WEFT__MPI_DELAYED(g, NULL, fn, __VA_ARGS__)
#define WEFT__MPI_DELAYED_NAMED_A(g, key, fn, ...)                            \
	WEFT__MPI_DELAYED(g, key, fn, __VA_ARGS__)
#define WEFT__MPI_DELAYED(g, key, fn, ...)                                    \
	weft_mpi_delayed_named((g), (key), (fn), WEFT__NARGS(__VA_ARGS__),    \
	    (const weft_arg[]) { __VA_ARGS__ })
/** \endcond */

/**
 * Makes `rank` the owner of `n` (the rank that runs it), overriding the
 * rank_of hook and the default policy; WEFT_MPI_ANY clears it. WEFT_OK, or
 * WEFT_EINVAL (bad node, rank out of range).
 */
WEFT_API int weft_mpi_set_owner(weft_mpi_graph *g, weft_node n, int rank);

/** The owner `n` had in the last compute that needed it; the explicit
 *  owner if none did; -1 when neither (or a bad node). */
WEFT_API int weft_mpi_owner(const weft_mpi_graph *g, weft_node n);

/** Number of nodes. */
WEFT_API size_t weft_mpi_graph_size(const weft_mpi_graph *g);
/** The node named `key` ("node-<i>" finds unnamed node i), or
 *  WEFT_NODE_NONE. */
WEFT_API weft_node weft_mpi_graph_find(
    const weft_mpi_graph *g, const char *key);
/** Writes the key of `n` into `buf` (like weft_node_key) and returns buf. */
WEFT_API const char *weft_mpi_node_key(
    const weft_mpi_graph *g, weft_node n, char *buf, size_t size);
/** The weft_graph underneath (owned by `g`): read it through the graph
 *  view of weft/graph.h, draw it (weft_graph_write_dot), or run it in one
 *  process with weft_compute(). Nodes of `g` are its nodes. NULL for NULL. */
WEFT_API weft_graph *weft_mpi_graph_weft(const weft_mpi_graph *g);
/** The last error of the graph (a failed build call or compute), "" when
 *  none; identical on every rank after a failed compute. */
WEFT_API const char *weft_mpi_graph_error(const weft_mpi_graph *g);
/** The code of that error, WEFT_OK when none. */
WEFT_API int weft_mpi_graph_errcode(const weft_mpi_graph *g);

/* -- computing ----------------------------------------------------------- */

/**
 * Chooses a node's owner. Called for every node a compute needs, in node
 * order, on every rank, so it must give the same answer everywhere (it is
 * checked). Returns a rank in [0, nranks), or WEFT_MPI_ANY for the
 * default policy.
 */
typedef int (*weft_mpi_rank_of_fn)(
    void *ud, const char *key, weft_node n, int nranks);

/** Options of weft_mpi_compute(). Zero, or a NULL pointer, means default
 *  for every field; the same options on every rank. */
typedef struct weft_mpi_compute_opts {
	/** The rank that receives the results: 0 by default; WEFT_MPI_ALL
	 *  for every rank. Other ranks get NIL results. */
	int root;
	/** Owner hook (PaRSEC's rank_of), or NULL. Explicit owners
	 *  (weft_mpi_set_owner) come first. */
	weft_mpi_rank_of_fn rank_of;
	void *rank_of_ud; /**< passed to rank_of */
	/** weft_opts flags for the local runs (WEFT_NO_FUSE), or 0. */
	unsigned flags;
	/** Callbacks of the local runs (weft/compute.h), or NULL. */
	const weft_callbacks *callbacks;
	/** > 0: a compute still running after this many seconds is a fatal
	 *  error (a hung rank): the job is aborted with MPI_Abort and
	 *  WEFT_MPI_EXIT_TIMEOUT. The time counts from the call, through
	 *  every collective of the compute (the agreement on the graph
	 *  included), so a rank that never joins ends the job too. */
	double timeout_s;
	void *reserved[4]; /**< must be zero */
} weft_mpi_compute_opts;

/**
 * Runs what `targets[0..n)` need across all ranks; collective, with the
 * same targets and options on every rank. On the result rank(s) `results`
 * receives owned values (release each), on the others NIL; `results` may
 * be NULL on ranks that receive nothing.
 *
 * Owners: weft_mpi_set_owner(), else opts->rank_of, else the default
 * policy: a node that is the only consumer of one of its inputs runs where
 * that input ran (chains stay together); a node joining several inputs
 * runs where most of them ran (ties: the less loaded rank); other nodes
 * (roots, and the consumers of a value many nodes share) start new chains,
 * handed out in contiguous blocks of equal size across the ranks.
 *
 * Each rank runs its nodes on its pool as soon as their inputs are there,
 * and sends each value to every other rank that needs it as soon as it is
 * ready. Returns, on every rank alike: WEFT_OK; WEFT_ETASK (a task failed:
 * weft_mpi_graph_error() reads "task 'KEY' failed on rank R: MESSAGE" on
 * every rank); WEFT_ETYPE (a value that has to cross ranks cannot be sent:
 * "value of node 'KEY' (ptr) cannot be sent to rank 2: ..."); WEFT_EINVAL
 * (bad arguments on some rank, or the graph differs between ranks: "the
 * graph differs between ranks: rank 2 built a different graph than rank
 * 0"); WEFT_ENOMEM. The graph stays usable after any error.
 *
 * One compute at a time per context (they share its communicator), from
 * a thread that may call MPI; do not call MPI on the context's
 * communicator meanwhile. A rank that cannot call it at all (a NULL or
 * failed graph) leaves the others waiting, until their timeout_s ends the
 * job: check init's result first, and give a timeout.
 */
WEFT_API int weft_mpi_compute(weft_mpi_graph *g, size_t n,
    const weft_node *targets, weft_value *results,
    const weft_mpi_compute_opts *opts);

/** What the last compute of a graph did on this rank. */
typedef struct weft_mpi_stats {
	size_t nodes;	      /**< nodes the compute needed (all ranks) */
	size_t tasks;	      /**< of them run on this rank */
	size_t cross_edges;   /**< needed edges whose ends have different
				   owners (all ranks) */
	size_t waves;	      /**< local runs started on this rank */
	size_t msgs_sent;     /**< values sent (one per destination) */
	size_t bytes_sent;    /**< their bytes, headers included */
	size_t msgs_recv;     /**< values received */
	size_t bytes_recv;    /**< their bytes */
	double seconds;	      /**< wall time of the compute */
	double starved;	      /**< seconds this rank had nodes left to run
				   but none it could run: it waited for
				   values from other ranks */
	void *reserved[4];    /**< for later figures */
} weft_mpi_stats;

/** Fills `out` with the last compute's figures. WEFT_OK or WEFT_EINVAL. */
WEFT_API int weft_mpi_stats_get(
    const weft_mpi_graph *g, weft_mpi_stats *out);

/* -- graph files --------------------------------------------------------- */

/** A graph file read into a weft_mpi_graph. Opaque. */
typedef struct weft_mpi_spec weft_mpi_spec;

/**
 * Reads the graph file at `path` (weft/spec.h; "-" is standard input)
 * into a graph of `m`. Collective: rank 0 reads the file and sends it to
 * the others, so it need only exist there. Every rank reads it with
 * weft_spec_load_buffer() and the context's registry, so errors are
 * exactly those of `weft run` (same messages, on every rank), and the
 * graph is the spec's own graph (weft_mpi_spec_local()): each key one node
 * named by the key, run on its owner, nested tasks inside it.
 *
 * A key's explicit computation may carry `"rank": R`, the key's owner
 * (`{"fn": "sum", "args": [...], "rank": 1}`; a single process ignores
 * it). Returns the codes of weft_spec_load_file(), WEFT_ETYPE for a rank
 * that is not an integer, WEFT_ERANGE for a rank out of range (both with
 * the field's position), WEFT_EINVAL without a registry; `err` (may be
 * NULL) gets the message on every rank.
 */
WEFT_API int weft_mpi_spec_load_file(weft_mpi *m, const char *path,
    const weft_spec_opts *opts, weft_mpi_spec **out, weft_spec_error *err);

/** Frees the spec and its graph. NULL is ok. */
WEFT_API void weft_mpi_spec_free(weft_mpi_spec *s);
/** The graph (owned by the spec). */
WEFT_API weft_mpi_graph *weft_mpi_spec_graph(const weft_mpi_spec *s);
/** Number of targets, their nodes, and their keys (as weft_spec_*). */
WEFT_API size_t weft_mpi_spec_ntargets(const weft_mpi_spec *s);
/** The target nodes (weft_mpi_spec_ntargets() of them; borrowed). */
WEFT_API const weft_node *weft_mpi_spec_targets(const weft_mpi_spec *s);
/** Target `i`'s key (borrowed). */
WEFT_API const char *weft_mpi_spec_target_key(
    const weft_mpi_spec *s, size_t i);
/** Warnings of the load (weft_spec_warning()), on every rank. */
WEFT_API size_t weft_mpi_spec_nwarnings(const weft_mpi_spec *s);
/** Warning `i` (borrowed). */
WEFT_API const char *weft_mpi_spec_warning(const weft_mpi_spec *s, size_t i);
/** The spec the graph was built from (on every rank): its graph is the
 *  distributed graph's, so weft_compute() of it on one rank checks the
 *  results; owned by `s`. */
WEFT_API weft_spec *weft_mpi_spec_local(const weft_mpi_spec *s);

#ifdef __cplusplus
}
#endif
#endif
