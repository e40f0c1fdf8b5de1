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
	out->key = nd->key ? g->keys + nd->key - 1 : NULL;
	out->priority = weft__graph_prio(g, i);
	out->persisted = weft__graph_persisted(g, i);
	return WEFT_OK;
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
		weft_arg a = { 2, { 0 }, *weft__graph_lit(g, nd, (uint32_t)i) };
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
