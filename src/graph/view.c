/*
 * The read-only view of a graph (weft/graph.h): nodes by index, their
 * function, key, priority and arguments. It reads the flat arrays of
 * graph/graph.h and copies nothing, so other layers (the spec reader's
 * writers, the distributed runner, the Python module) can walk a graph
 * without knowing its representation.
 */
#include <string.h>

#include "graph/graph.h"

weft_node
weft_graph_node(const weft_graph *g, size_t i)
{
	if (!g || i >= g->n)
		return WEFT_NODE_NONE;
	return weft__graph_node(g, (uint32_t)i);
}

size_t
weft_node_index(const weft_graph *g, weft_node n)
{
	uint32_t i = g ? weft__graph_index(g, n) : WEFT__NONE;
	return i == WEFT__NONE ? (size_t)-1 : (size_t)i;
}

int
weft_node_view_get(const weft_graph *g, weft_node n, weft_node_view *out)
{
	uint32_t i = g ? weft__graph_index(g, n) : WEFT__NONE;
	if (i == WEFT__NONE || !out)
		return WEFT_EINVAL;
	const weft__node *nd = &g->nodes[i];
	memset(out, 0, sizeof *out);
	out->fn = nd->fn;
	out->nargs = nd->nargs;
	out->key = weft__graph_key_at(g, i);
	out->priority = weft__graph_prio(g, i);
	out->persisted = weft__graph_persisted(g, i);
	return WEFT_OK;
}

/* Where the last literal lookup of this thread was, so that reading a
 * node's arguments in order costs O(1) each rather than a count from its
 * first argument (O(nargs^2) for a reduce over 100,000 inputs). Per
 * thread, so concurrent readers share nothing; keyed by the graph's serial,
 * which no other graph has, and a node's arguments never change. */
static _Thread_local struct {
	uint32_t serial, node, k, lit;
} lit_cursor;

/* The literal of slot k (a WEFT__LIT slot) of node `idx`. */
static const weft_value *
lit_of(const weft_graph *g, uint32_t idx, uint32_t k)
{
	const weft__node *nd = &g->nodes[idx];
	const uint32_t *a = g->args + nd->arg0;
	uint32_t from = 0, lit = 0;
	if (lit_cursor.serial == g->serial && lit_cursor.node == idx &&
	    lit_cursor.k <= k) {
		from = lit_cursor.k;
		lit = lit_cursor.lit;
	}
	for (uint32_t i = from; i < k; i++)
		lit += a[i] == WEFT__LIT;
	lit_cursor.serial = g->serial;
	lit_cursor.node = idx;
	lit_cursor.k = k;
	lit_cursor.lit = lit;
	return &g->lits[nd->lit0 + lit];
}

int
weft_node_arg(const weft_graph *g, weft_node n, size_t i, weft_arg *out)
{
	uint32_t k = g ? weft__graph_index(g, n) : WEFT__NONE;
	if (k == WEFT__NONE || !out || i >= g->nodes[k].nargs)
		return WEFT_EINVAL;
	const weft__node *nd = &g->nodes[k];
	uint32_t slot = g->args[nd->arg0 + i];
	if (slot == WEFT__LIT) {
		weft_arg a = { 2, { 0 }, *lit_of(g, k, (uint32_t)i) };
		*out = a;
	} else {
		weft_arg a = { 1, weft__graph_node(g, slot),
			{ 0, { 0 }, { 0 } } };
		*out = a;
	}
	return WEFT_OK;
}

int
weft_node_persisted_value(const weft_graph *g, weft_node n, weft_value *out)
{
	uint32_t i = g ? weft__graph_index(g, n) : WEFT__NONE;
	if (i == WEFT__NONE || !out)
		return WEFT_EINVAL;
	if (!weft__graph_persisted(g, i))
		return WEFT_ENOTFOUND;
	*out = g->pvals[i];
	return WEFT_OK;
}

int
weft_arg_is_ref(const weft_arg *a)
{
	return a && a->kind == 1;
}

weft_node
weft_arg_node(const weft_arg *a)
{
	return a && a->kind == 1 ? a->node : WEFT_NODE_NONE;
}

weft_value
weft_arg_value(const weft_arg *a)
{
	if (a && a->kind == 2)
		return a->lit;
	weft_value nil = { 0, { 0 }, { 0 } };
	return nil;
}
