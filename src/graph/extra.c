/*
 * More ways to build a graph: pure calls with derived keys (Dask's
 * tokenize), getitem nodes, priorities, and the store of persisted results.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "base/alloc.h"
#include "graph/graph.h"

const char *
weft__fn_name(weft_fn fn, char *buf, size_t size)
{
	Dl_info info;
	/* dladdr finds exported symbols; static functions show up as the
	 * nearest exported one, so check that the address matches. */
	if (dladdr((void *)(uintptr_t)fn, &info) && info.dli_sname &&
	    info.dli_saddr == (void *)(uintptr_t)fn) {
		snprintf(buf, size, "%s", info.dli_sname);
		return buf;
	}
	snprintf(buf, size, "fn");
	return buf;
}

/* -- pure calls ------------------------------------------------------------ */

static uint64_t
weft__mix(uint64_t h, uint64_t x)
{
	h ^= x + 0x9E3779B97F4A7C15ull + (h << 6) + (h >> 2);
	return h * 0xff51afd7ed558ccdull;
}

static uint64_t
weft__hash_bytes(uint64_t h, const void *p, size_t n)
{
	const unsigned char *c = p;
	for (size_t i = 0; i < n; i++)
		h = (h ^ c[i]) * 1099511628211ull;
	return h;
}

/* Content hash of a value; lists hash their items (bounded depth: deeper
 * items count by type only, which only costs dedup, not correctness, since
 * a key match is confirmed with weft_value_equal). */
static uint64_t
weft__hash_value(uint64_t h, weft_value v, int depth)
{
	weft_type t = weft_type_of(v);
	h = weft__mix(h, (uint64_t)t);
	switch (t) {
	case WEFT_BOOL:
	case WEFT_INT:
		return weft__mix(h, (uint64_t)weft_as_int(v));
	case WEFT_FLOAT: {
		double d = weft_as_float(v);
		uint64_t u;
		memcpy(&u, &d, sizeof u);
		return weft__mix(h, u);
	}
	case WEFT_STR:
	case WEFT_BYTES:
		return weft__hash_bytes(h, weft_bytes_data(v), weft_len(v));
	case WEFT_F64S:
		return weft__hash_bytes(
		    h, weft_f64s_data(v), weft_len(v) * sizeof(double));
	case WEFT_LIST:
		h = weft__mix(h, weft_len(v));
		if (depth < 8)
			for (size_t i = 0; i < weft_len(v); i++)
				h = weft__hash_value(
				    h, weft_list_get(v, i), depth + 1);
		return h;
	case WEFT_PTR:
		return weft__mix(h, (uint64_t)(uintptr_t)weft_ptr_get(v));
	default:
		return h;
	}
}

/* Whether node i is the call fn(args). */
static int
weft__same_call(
    const weft_graph *g, uint32_t i, weft_fn fn, size_t nargs, const weft_arg *args)
{
	const weft__node *nd = &g->nodes[i];
	if (nd->fn != fn || nd->nargs != nargs)
		return 0;
	const uint32_t *a = g->args + nd->arg0;
	const weft_value *lit = g->lits + nd->lit0;
	for (size_t k = 0; k < nargs; k++) {
		if (args[k].kind == 2) {
			if (a[k] != WEFT__LIT ||
			    !weft_value_equal(*lit++, args[k].lit))
				return 0;
		} else if (a[k] == WEFT__LIT ||
		    a[k] != (uint32_t)args[k].node.id) {
			return 0;
		}
	}
	return 1;
}

weft_node
weft_delayed_pure(weft_graph *g, weft_fn fn, size_t nargs, const weft_arg *args)
{
	if (!g || !fn || (nargs && !args))
		return weft_delayed(g, fn, nargs, args); /* reports the error */
	uint64_t h = weft__mix(0x51ed270b27d1ce7bull, (uint64_t)(uintptr_t)fn);
	h = weft__mix(h, nargs);
	char kb[256];
	for (size_t k = 0; k < nargs; k++) {
		if (args[k].kind == 2) {
			h = weft__hash_value(weft__mix(h, 2), args[k].lit, 0);
		} else if (args[k].kind == 1 &&
		    weft__graph_index(g, args[k].node) != WEFT__NONE) {
			const char *key = weft__graph_key(g,
			    (uint32_t)args[k].node.id, kb, sizeof kb);
			h = weft__hash_bytes(weft__mix(h, 1), key, strlen(key));
		} else {
			return weft_delayed(g, fn, nargs, args); /* error */
		}
	}
	char name[96], key[128];
	weft__fn_name(fn, name, sizeof name);
	snprintf(key, sizeof key, "%s-%016" PRIx64, name, h);
	weft_node old = weft_graph_find(g, key);
	if (weft_node_ok(old)) {
		uint32_t i = (uint32_t)old.id;
		if (!weft__same_call(g, i, fn, nargs, args)) {
			weft__graph_set_error(g, WEFT_EINVAL,
			    "delayed_pure: key '%s' collides with another call",
			    key);
			old = WEFT_NODE_NONE;
		}
		for (size_t k = 0; k < nargs; k++) /* the graph owns them */
			if (args[k].kind == 2) {
				weft_value v = args[k].lit;
				weft_value_release(&v);
			}
		return old;
	}
	return weft_delayed_named(g, key, fn, nargs, args);
}

/* -- getitem ---------------------------------------------------------------- */

static int
weft__getitem_fn(weft_ctx *ctx, size_t n, const weft_value *a, weft_value *out)
{
	(void)n;
	int64_t i = weft_as_int(a[1]);
	weft_type t = weft_type_of(a[0]);
	if (i < 0 || (size_t)i >= weft_len(a[0]) ||
	    (t != WEFT_LIST && t != WEFT_F64S))
		return weft_fail(ctx, "getitem: no item %" PRId64 " in a %s of %zu",
		    i, weft_type_name(t), weft_len(a[0]));
	if (t == WEFT_LIST)
		*out = weft_value_retain(weft_list_get(a[0], (size_t)i));
	else
		*out = weft_float(weft_f64s_data(a[0])[i]);
	return WEFT_OK;
}

weft_node
weft_getitem(weft_graph *g, weft_node n, size_t i)
{
	char kb[200], key[256];
	if (g && weft__graph_index(g, n) != WEFT__NONE) {
		snprintf(key, sizeof key, "getitem-%s-%zu",
		    weft__graph_key(g, (uint32_t)n.id, kb, sizeof kb), i);
		weft_node old = weft_graph_find(g, key);
		if (weft_node_ok(old))
			return old;
		return WEFT_DELAYED_NAMED(g, key, weft__getitem_fn, weft_ref(n),
		    weft_lit(weft_int((int64_t)i)));
	}
	return WEFT_DELAYED(g, weft__getitem_fn, weft_ref(n),
	    weft_lit(weft_int((int64_t)i))); /* reports the error */
}

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
