/*
 * Per-node attributes kept beside the node array: priorities, and the
 * store of persisted results (weft_persist, in the run layer, fills it).
 * Both arrays are allocated on first use, so graphs without them pay
 * nothing.
 */
#include <string.h>

#include "base/alloc.h"
#include "graph/graph.h"

/* -- priorities -------------------------------------------------------------- */

int
weft_node_set_priority(weft_graph *g, weft_node n, int priority)
{
	uint32_t i = g ? weft__graph_index(g, n) : WEFT__NONE;
	if (i == WEFT__NONE)
		return WEFT_EINVAL;
	if (i >= g->prio_cap) {
		size_t old = g->prio_cap;
		if (weft__grow((void **)&g->prio, &g->prio_cap,
			g->cap > i ? g->cap : i + 1, sizeof *g->prio))
			return WEFT_ENOMEM;
		memset(g->prio + old, 0, (g->prio_cap - old) * sizeof *g->prio);
	}
	g->prio[i] = priority;
	return WEFT_OK;
}

/* -- persisted results ------------------------------------------------------- */

int
weft__graph_persist_set(weft_graph *g, uint32_t i, weft_value v)
{
	if (i >= g->pcap) {
		size_t ncap = g->pcap, cap2 = g->pcap;
		if (weft__grow((void **)&g->pvals, &ncap, i + 1, sizeof *g->pvals)) {
			weft_value_release(&v);
			return WEFT_ENOMEM;
		}
		if (weft__grow((void **)&g->pset, &cap2, ncap, 1)) {
			/* pvals grew; keep pcap as it was, retry next time */
			weft_value_release(&v);
			return WEFT_ENOMEM;
		}
		memset(g->pset + g->pcap, 0, ncap - g->pcap);
		g->pcap = ncap;
	}
	if (g->pset[i])
		weft_value_release(&g->pvals[i]);
	else
		g->npersisted++;
	g->pvals[i] = v;
	g->pset[i] = 1;
	return WEFT_OK;
}

size_t
weft_release_persisted(weft_graph *g, size_t n, const weft_node *nodes)
{
	if (!g || !g->pset)
		return 0;
	size_t dropped = 0;
	size_t m = n ? n : g->pcap;
	for (size_t k = 0; k < m; k++) {
		uint32_t i = n ? (nodes ? weft__graph_index(g, nodes[k]) : WEFT__NONE)
			       : (uint32_t)k;
		if (i == WEFT__NONE || i >= g->pcap || !g->pset[i])
			continue;
		weft_value_release(&g->pvals[i]);
		g->pset[i] = 0;
		g->npersisted--;
		dropped++;
	}
	return dropped;
}

int
weft_is_persisted(const weft_graph *g, weft_node n)
{
	uint32_t i = g ? weft__graph_index(g, n) : WEFT__NONE;
	return i != WEFT__NONE && weft__graph_persisted(g, i);
}
