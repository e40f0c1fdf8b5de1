/*
 * Internals of weft-mpi. This part sits beside the library, not inside it:
 * it uses the public API only (weft.h, weft/mpi.h) and keeps its own
 * helpers, with the `wm_` prefix.
 */
#ifndef WEFT_MPI_INT_H
#define WEFT_MPI_INT_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "weft.h"
#include "weft/mpi.h"

/* Tags on the context's own (duplicated) communicator. */
enum {
	WM_TAG_DATA = 101, /* a value: header, maybe with its payload */
	WM_TAG_BODY = 102, /* payload chunks that follow a header */
	WM_TAG_CTRL = 103, /* a failure notice */
};

#define WM_NONE UINT32_MAX
#define WM_ERRMAX 1200

/* -- the context ---------------------------------------------------------- */

struct wm_fnent {
	weft_fn fn;
	uint32_t idx;
};

struct weft_mpi {
	MPI_Comm comm;
	int rank, size;
	int own_mpi;	  /* weft_mpi_init called MPI_Init_thread */
	int thread_level; /* what MPI provided */
	int failed;	  /* init failed with this code: only error/finalize */
	weft_pool *pool;
	int own_pool;
	const weft_registry *reg;
	struct wm_fnent *fnmap; /* fn pointer -> registry index */
	size_t fnmap_cap;
	const weft_mpi_type **types;
	size_t ntypes, captypes;
	size_t chunk;	/* largest message */
	uint32_t epoch; /* computes so far: stamps every message */
	char err[WM_ERRMAX];
};

/* Registry index of fn, or -1 when the registry does not have it. */
int32_t wm_fn_index(const weft_mpi *m, weft_fn fn);
/* The registered PTR type called `name`, or NULL. */
const weft_mpi_type *wm_type_find(const weft_mpi *m, const char *name);
void wm_set_err(weft_mpi *m, const char *fmt, ...) WEFT_PRINTF(2, 3);
/* A fatal runtime condition: one line on stderr, then MPI_Abort with
 * WEFT_MPI_EXIT_FATAL. */
void wm_fatal(weft_mpi *m, const char *fmt, ...) WEFT_PRINTF(2, 3);
/* The same with WEFT_MPI_EXIT_TIMEOUT, when `deadline` (wm_now() time,
 * 0 = none) has passed: a compute that ran past its timeout_s. */
void wm_deadline(weft_mpi *m, double deadline, double timeout_s);
/* Waits for a non-blocking collective, under the deadline. `idle`, when
 * not NULL, is called between tests (it keeps sends moving) and returns
 * nonzero when it did something. */
void wm_wait(weft_mpi *m, MPI_Request *q, double deadline, double timeout_s,
    const char *what, int (*idle)(void *), void *ud);
/* Checks the return code of an MPI call; fatal unless MPI_SUCCESS. */
void wm_check(weft_mpi *m, int mpirc, const char *what);
double wm_now(void);
/* Grows array *p of *cap items of `size` bytes to hold `need`. 0, or -1
 * when out of memory (the array is unchanged). */
int wm_grow(void **p, size_t *cap, size_t need, size_t size);

/* -- the graph ------------------------------------------------------------- */

/*
 * A weft_mpi_graph is a plain weft_graph plus what only a distributed
 * compute needs: an explicit owner per node. Its structure is read through
 * the graph view of weft/graph.h (weft_node_view_get, weft_node_arg), never
 * recorded a second time.
 */
struct weft_mpi_graph {
	weft_mpi *m;
	weft_graph *g;	  /* the graph */
	int own;	  /* 1: freed with this; 0: a spec's (borrowed) */
	int32_t *owner;	  /* [nown]: explicit owner per node, -1 none */
	int32_t *planned; /* [nown]: owner in the last compute needing it */
	size_t nown;
	int errcode;
	char err[WM_ERRMAX];
	weft_mpi_stats stats;
};

/* A graph of m over `g` (taken, or borrowed when own is 0); NULL when out
 * of memory. */
weft_mpi_graph *wm_graph_wrap(weft_mpi *m, weft_graph *g, int own);
/* Index of node n in g, or WM_NONE. */
uint32_t wm_index(const weft_mpi_graph *g, weft_node n);
weft_node wm_node_of(const weft_mpi_graph *g, uint32_t i);
/* Grows owner/planned to cover the graph's nodes. WEFT_OK or ENOMEM. */
int wm_owners_fit(weft_mpi_graph *g);
int wm_graph_fail(weft_mpi_graph *g, int code, const char *fmt, ...)
    WEFT_PRINTF(3, 4);

/* 64-bit hashing for the cross-rank checks. */
uint64_t wm_hash_bytes(uint64_t h, const void *p, size_t n);
uint64_t wm_hash_u64(uint64_t h, uint64_t v);
uint64_t wm_hash_value(uint64_t h, weft_value v, unsigned depth);

/* -- the plan of one compute (plan.c) --------------------------------------- */

/* One node as the graph view shows it, and its arguments: read once per
 * compute into flat arrays, which the plan and the waves walk. */
struct wm_node {
	weft_fn fn;
	uint32_t arg0, nargs;
	const char *key; /* borrowed from the graph; NULL when unnamed */
};

struct wm_arg {
	uint32_t ref;	 /* node index + 1; 0 for a literal */
	weft_value lit;	 /* borrowed from the graph */
};

typedef struct wm_plan {
	uint32_t n;	   /* graph size when planned */
	struct wm_node *nodes; /* [n] */
	struct wm_arg *args;
	uint32_t *need;	   /* needed node indices, ascending */
	size_t nneed;
	uint8_t *isneed;   /* [n] */
	int32_t *owner;	   /* [n], for needed nodes */
	uint32_t *in_off;  /* [n+1]: distinct inputs of each needed node */
	uint32_t *in;
	uint32_t *out_off; /* [n+1]: distinct needed consumers */
	uint32_t *out;
	uint32_t *tidx;	   /* [ntargets]: index of each target */
	size_t ntargets;
	size_t cross_edges;
	uint64_t hash;	   /* structure, owners and targets */
} wm_plan;

/* Culls, wires up and assigns owners for `nranks` ranks. WEFT_OK, or an
 * error with the message in err. Pure: no MPI, so it can be tested
 * alone. */
int wm_plan_build(const weft_mpi_graph *g, size_t n, const weft_node *targets,
    int nranks, int root, const weft_mpi_compute_opts *o, wm_plan *p,
    char *err, size_t errsize);
void wm_plan_free(wm_plan *p);
/* The key of node i: its name, or "node-<i>" written into buf. */
const char *wm_key(const wm_plan *p, uint32_t i, char *buf, size_t size);

/* -- values on the wire (wire.c) -------------------------------------------- */

/* Header of a value message. Raw bytes: the ranks are homogeneous. */
typedef struct wm_hdr {
	uint32_t magic;
	uint32_t epoch;
	uint32_t node;
	uint32_t flags; /* WM_RAW: the payload is the raw data of one
			   STR/BYTES/F64S value of `type` */
	int32_t type;
	int32_t status;
	uint32_t nbody; /* body messages that follow */
	uint32_t reserved;
	uint64_t len;	/* payload bytes */
	uint64_t chunk; /* payload bytes per body message */
} wm_hdr;

#define WM_MAGIC 0x4d544657u /* "WFTM" */
#define WM_RAW 1u
/* Payloads up to this size travel inside the header message. */
#define WM_INLINE ((size_t)64 << 10)

/* A value ready to send: one buffer that starts with the header, and the
 * payload either inline after it, in body chunks from `body`. */
typedef struct wm_out {
	unsigned char *buf; /* header [+ inline payload] */
	size_t buflen;
	unsigned char *packed; /* packed payload (not inline), owned */
	const unsigned char *body;
	weft_value hold; /* the value whose data `body` points into (RAW) */
	uint32_t nbody;
	size_t len, chunk;
} wm_out;

/* Prepares v (borrowed) for sending as node `node`. WEFT_OK, or WEFT_ETYPE
 * / WEFT_ENOMEM with why in err. */
int wm_pack(const weft_mpi *m, weft_value v, uint32_t node, uint32_t epoch,
    wm_out *o, char *err, size_t errsize);
void wm_out_free(wm_out *o);
/* Rebuilds a value from a packed payload. */
int wm_unpack(const weft_mpi *m, const unsigned char *p, size_t len,
    weft_value *out, char *err, size_t errsize);

#endif
