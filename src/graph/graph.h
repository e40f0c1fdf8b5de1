/*
 * The graph's private representation, shared with the run layer.
 *
 * Nodes live in one flat array, indexed by creation order. A node can only
 * refer to nodes that already exist, so index order is a topological order:
 * a graph built with delayed calls has no cycles, and a reverse sweep over
 * the indexes visits every consumer before its inputs (the cull needs no
 * stack).
 *
 * Arguments live in one flat array of 32-bit slots: a node index, or
 * WEFT__LIT for a literal. A node's literals sit in order in g->lits from
 * nd->lit0, so a reader walks them with a cursor; keeping the literal's
 * index out of the slot leaves all 32 bits to node indexes. Each reference
 * slot is also an edge of its input's successor chain (edge_next,
 * edge_dst), so successor lists are built in O(1) per argument while the
 * graph is built, with no per-node allocation and no rebuild before a
 * compute.
 *
 * A handle (weft_node.id) is the graph's 32-bit serial above the 32-bit
 * node index. Serials come from one process-wide counter, so nodes of
 * different graphs differ unless 2^32 - 1 graphs were made in between.
 */
#ifndef WEFT_GRAPH_GRAPH_H
#define WEFT_GRAPH_GRAPH_H

#include <pthread.h>
#include <stdint.h>

#include "weft/graph.h"

#define WEFT__NONE 0xFFFFFFFFu /* no node, no edge */
#define WEFT__LIT 0xFFFFFFFFu  /* an argument slot that holds a literal */

typedef struct weft__node {
	weft_fn fn;
	uint32_t arg0;	    /* first slot in g->args */
	uint32_t nargs;	    /* slots */
	uint32_t succ_head; /* first edge (slot index) of the successor
			       chain, WEFT__NONE when none */
	uint32_t lit0;	    /* its first literal in g->lits */
} weft__node;

/* Something that uses a graph without owning it (a compute). The graph
 * keeps a list of them, and weft_graph_free calls `release` on each (with
 * the list's lock held): it must stop using the graph before returning. */
typedef struct weft__graph_user weft__graph_user;
struct weft__graph_user {
	weft__graph_user *next, *prev;
	void (*release)(weft__graph_user *u);
};

struct weft_graph {
	uint32_t serial; /* top 32 bits of every node id of this graph */
	weft__node *nodes;
	size_t n, cap;
	uint32_t *args;	     /* slot: node index or WEFT__LIT */
	uint32_t *edge_next; /* per slot: next edge of the same input */
	uint32_t *edge_dst;  /* per slot: the consuming node */
	size_t nslots, slots_cap;
	weft_value *lits;
	size_t nlits, lits_cap;
	char *keys; /* NUL-separated key strings */
	size_t keys_len, keys_cap;
	uint32_t *keyat; /* per node: offset + 1 in keys, 0 = unnamed; NULL
			    until a node is named (a node stays 24 bytes) */
	size_t keyat_cap;
	uint32_t *kmap; /* open addressing: node index + 1, 0 = empty */
	size_t kmap_cap, nkeys;
	int32_t *prio;	    /* per node, NULL until a priority is set */
	size_t prio_cap;
	weft_value *pvals;  /* persisted results, NULL until weft_persist */
	uint8_t *pset;	    /* 1 where pvals holds a result */
	size_t pcap, npersisted;
	weft__graph_user *users; /* guarded by one process-wide lock, which
				    outlives any graph */
	int errcode;
	char err[1400];
};

void weft__graph_attach(weft_graph *g, weft__graph_user *u);
/* Detaches u from *gp if *gp is not NULL (read under the lock, so a graph
 * being freed at the same time is never touched afterwards). */
void weft__graph_detach(weft_graph *const *gp, weft__graph_user *u);

/* The node index behind a handle, or WEFT__NONE if it is not of g. */
static inline uint32_t
weft__graph_index(const weft_graph *g, weft_node n)
{
	uint32_t i = (uint32_t)n.id;
	if ((uint32_t)(n.id >> 32) != g->serial || i >= g->n)
		return WEFT__NONE;
	return i;
}
/* The handle of node `index` of g. */
static inline weft_node
weft__graph_node(const weft_graph *g, uint32_t index)
{
	weft_node n = { (uint64_t)g->serial << 32 | index };
	return n;
}

/* Records the graph's last error (printf-style). Returns `code`. */
int weft__graph_set_error(weft_graph *g, int code, const char *fmt, ...)
    WEFT_PRINTF(3, 4);
/* The key of node i, NULL when unnamed. */
static inline const char *
weft__graph_key_at(const weft_graph *g, uint32_t i)
{
	uint32_t k = g->keyat && i < g->keyat_cap ? g->keyat[i] : 0;
	return k ? g->keys + k - 1 : NULL;
}

/* The priority of node i (0 unless set). */
static inline int32_t
weft__graph_prio(const weft_graph *g, uint32_t i)
{
	return g->prio && i < g->prio_cap ? g->prio[i] : 0;
}

/* Whether node i has a persisted result. */
static inline int
weft__graph_persisted(const weft_graph *g, uint32_t i)
{
	return g->pset && i < g->pcap && g->pset[i];
}

/* Keeps `v` (owned) as node i's persisted result. WEFT_OK/WEFT_ENOMEM (v
 * is released on error). */
int weft__graph_persist_set(weft_graph *g, uint32_t i, weft_value v);

/* The symbol of a function, written into buf, when the dynamic linker
 * knows it (an exported function); NULL otherwise. */
const char *weft__fn_name(weft_fn fn, char *buf, size_t size);
/* A label for a function: its symbol, else "module+0xOFFSET" (a static
 * function, for addr2line), else "fn@ADDRESS". Written into buf. */
const char *weft__fn_label(weft_fn fn, char *buf, size_t size);

/* The key of node `i` (named, or the default "node-<i>"). */
const char *weft__graph_key(
    const weft_graph *g, uint32_t i, char *buf, size_t size);

#endif
