/*
 * weft_mpi_graph: a recorded graph. weft_graph keeps its structure to
 * itself, and a compute across ranks needs it (who consumes what, from
 * which rank), so the calls are recorded here and each rank later builds
 * plain weft graphs of the parts it runs (exec.c).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mpi/mpi_int.h"

#define INDEX_MASK 0xFFFFFFu
#define MPI_GRAPH_MAX_NODES ((size_t)INDEX_MASK)

static uint32_t graph_serial;

int
wm_graph_fail(weft_mpi_graph *g, int code, const char *fmt, ...)
{
	va_list ap;

	g->errcode = code;
	va_start(ap, fmt);
	vsnprintf(g->err, sizeof(g->err), fmt, ap);
	va_end(ap);
	return code;
}

weft_mpi_graph *
weft_mpi_graph_new(weft_mpi *m)
{
	weft_mpi_graph *g;

	if (!m || m->failed)
		return NULL;
	g = calloc(1, sizeof(*g));
	if (!g)
		return NULL;
	g->m = m;
	/* Not thread-safe, and need not be: the tag only catches a node of
	 * one graph passed to another, and a clash merely misses that. */
	g->tag = (graph_serial++ % 255u) + 1u;
	return g;
}

void
weft_mpi_graph_free(weft_mpi_graph *g)
{
	if (!g)
		return;
	for (size_t i = 0; i < g->nargs; i++)
		weft_value_release(&g->args[i].lit);
	free(g->nodes);
	free(g->args);
	free(g->keys);
	free(g->kmap);
	free(g);
}

uint32_t
wm_index(const weft_mpi_graph *g, weft_node n)
{
	uint32_t i = n.id & INDEX_MASK;

	if (!g || (n.id >> 24) != g->tag || i == 0 || i > g->n)
		return WM_NONE;
	return i - 1;
}

weft_node
wm_node_of(const weft_mpi_graph *g, uint32_t i)
{
	return (weft_node) { (g->tag << 24) | (i + 1) };
}

const char *
wm_key(const weft_mpi_graph *g, uint32_t i, char *buf, size_t size)
{
	if (g->nodes[i].key)
		return g->keys + g->nodes[i].key - 1;
	snprintf(buf, size, "node-%" PRIu32, i);
	return buf;
}

/* -- keys ----------------------------------------------------------------- */

static uint64_t
str_hash(const char *s)
{
	return wm_hash_bytes(7, s, strlen(s));
}

static size_t
kmap_slot(const weft_mpi_graph *g, const char *key)
{
	size_t mask = g->kmap_cap - 1, s = (size_t)str_hash(key) & mask;

	while (g->kmap[s] &&
	    strcmp(g->keys + g->nodes[g->kmap[s] - 1].key - 1, key) != 0)
		s = (s + 1) & mask;
	return s;
}

static int
kmap_grow(weft_mpi_graph *g)
{
	size_t ncap = g->kmap_cap ? g->kmap_cap * 2 : 64;
	uint32_t *old = g->kmap;
	size_t ocap = g->kmap_cap;

	if ((g->nkeys + 1) * 2 <= g->kmap_cap)
		return WEFT_OK;
	g->kmap = calloc(ncap, sizeof(*g->kmap));
	if (!g->kmap) {
		g->kmap = old;
		return WEFT_ENOMEM;
	}
	g->kmap_cap = ncap;
	for (size_t i = 0; i < ocap; i++)
		if (old[i])
			g->kmap[kmap_slot(g, g->keys + g->nodes[old[i] - 1].key -
				     1)] = old[i];
	free(old);
	return WEFT_OK;
}

static int
grow(void **p, size_t *cap, size_t need, size_t size)
{
	size_t nc = *cap ? *cap : 16;
	void *np;

	if (need <= *cap)
		return WEFT_OK;
	while (nc < need)
		nc *= 2;
	np = realloc(*p, nc * size);
	if (!np)
		return WEFT_ENOMEM;
	*p = np;
	*cap = nc;
	return WEFT_OK;
}

/* -- building ---------------------------------------------------------------- */

static void
release_lits(size_t nargs, const weft_arg *args)
{
	for (size_t i = 0; args && i < nargs; i++)
		if (args[i].kind == 2) {
			weft_value v = args[i].lit;
			weft_value_release(&v);
		}
}

static int
check_args(weft_mpi_graph *g, weft_fn fn, size_t nargs, const weft_arg *args)
{
	if (!fn)
		return wm_graph_fail(
		    g, WEFT_EINVAL, "delayed: the function is NULL");
	if (nargs && !args)
		return wm_graph_fail(g, WEFT_EINVAL,
		    "delayed: %zu arguments but the array is NULL", nargs);
	if (g->n >= MPI_GRAPH_MAX_NODES - 1)
		return wm_graph_fail(g, WEFT_ENOMEM,
		    "delayed: the graph is full (%zu nodes)", g->n);
	if (nargs > UINT32_MAX / 2 || g->nargs + nargs > UINT32_MAX / 2)
		return wm_graph_fail(g, WEFT_ENOMEM,
		    "delayed: too many arguments in the graph");
	for (size_t i = 0; i < nargs; i++) {
		/* weft_arg's kind: 1 ref, 2 literal (weft/graph.h) */
		if (args[i].kind == 2)
			continue;
		if (args[i].kind != 1)
			return wm_graph_fail(g, WEFT_EINVAL,
			    "delayed: argument %zu is not a weft_ref() or "
			    "weft_lit()",
			    i);
		if (!weft_node_ok(args[i].node) && g->errcode != WEFT_OK)
			return g->errcode; /* keep the root cause */
		if (wm_index(g, args[i].node) == WM_NONE)
			return wm_graph_fail(g, WEFT_EINVAL,
			    "delayed: argument %zu refers to %s", i,
			    weft_node_ok(args[i].node)
				? "a node of another graph"
				: "WEFT_NODE_NONE (an earlier delayed call "
				  "failed?)");
	}
	return WEFT_OK;
}

weft_node
weft_mpi_delayed_named(weft_mpi_graph *g, const char *key, weft_fn fn,
    size_t nargs, const weft_arg *args)
{
	struct wm_node *nd;
	size_t kl = key ? strlen(key) + 1 : 0;
	int rc;

	if (!g) {
		release_lits(nargs, args);
		return WEFT_NODE_NONE;
	}
	rc = check_args(g, fn, nargs, args);
	if (rc == WEFT_OK && key) {
		if (kmap_grow(g) != WEFT_OK ||
		    grow((void **)&g->keys, &g->keys_cap, g->keys_len + kl, 1))
			rc = wm_graph_fail(g, WEFT_ENOMEM,
			    "delayed: out of memory for key '%s'", key);
		else if (g->kmap[kmap_slot(g, key)])
			rc = wm_graph_fail(g, WEFT_EINVAL,
			    "delayed: key '%s' already names a node", key);
	}
	if (rc == WEFT_OK &&
	    (grow((void **)&g->nodes, &g->cap, g->n + 1, sizeof(*g->nodes)) ||
		grow((void **)&g->args, &g->capargs, g->nargs + nargs,
		    sizeof(*g->args))))
		rc = wm_graph_fail(g, WEFT_ENOMEM, "delayed: out of memory");
	if (rc != WEFT_OK) {
		release_lits(nargs, args);
		return WEFT_NODE_NONE;
	}
	nd = &g->nodes[g->n];
	nd->fn = fn;
	nd->arg0 = (uint32_t)g->nargs;
	nd->nargs = (uint32_t)nargs;
	nd->key = 0;
	nd->owner = -1;
	nd->planned = -1;
	for (size_t i = 0; i < nargs; i++) {
		struct wm_arg *a = &g->args[g->nargs++];
		if (args[i].kind == 2) {
			a->ref = 0;
			a->lit = args[i].lit;
		} else {
			a->ref = wm_index(g, args[i].node) + 1;
			a->lit = weft_nil();
		}
	}
	if (key) {
		memcpy(g->keys + g->keys_len, key, kl);
		nd->key = (uint32_t)g->keys_len + 1;
		g->keys_len += kl;
		g->n++;
		g->kmap[kmap_slot(g, key)] = (uint32_t)g->n;
		g->nkeys++;
	} else {
		g->n++;
	}
	return wm_node_of(g, (uint32_t)g->n - 1);
}

weft_node
weft_mpi_delayed(
    weft_mpi_graph *g, weft_fn fn, size_t nargs, const weft_arg *args)
{
	return weft_mpi_delayed_named(g, NULL, fn, nargs, args);
}

weft_node
weft_mpi_call(weft_mpi_graph *g, const char *key, const char *fname,
    size_t nargs, const weft_arg *args)
{
	const weft_func_info *f;
	char a[32];

	if (!g || !g->m->reg || !fname) {
		if (g)
			wm_graph_fail(g, WEFT_EINVAL,
			    "call: %s", fname ? "the context has no registry"
					      : "the function name is NULL");
		release_lits(nargs, args);
		return WEFT_NODE_NONE;
	}
	f = weft_registry_find(g->m->reg, fname);
	if (!f) {
		const char *s = weft_registry_suggest(g->m->reg, fname);
		wm_graph_fail(g, WEFT_ENOTFOUND,
		    "call: unknown function '%s'%s%s%s", fname,
		    s ? " (did you mean '" : "", s ? s : "", s ? "'?)" : "");
		release_lits(nargs, args);
		return WEFT_NODE_NONE;
	}
	if ((int64_t)nargs < f->min_args ||
	    (f->max_args != WEFT_ARGS_ANY && (int64_t)nargs > f->max_args)) {
		wm_graph_fail(g, WEFT_EINVAL,
		    "call: function '%s' takes %s arguments, got %zu", fname,
		    weft_func_arity(f, a, sizeof(a)), nargs);
		release_lits(nargs, args);
		return WEFT_NODE_NONE;
	}
	return weft_mpi_delayed_named(g, key, f->fn, nargs, args);
}

/* -- queries ----------------------------------------------------------------- */

int
weft_mpi_set_owner(weft_mpi_graph *g, weft_node n, int rank)
{
	uint32_t i = wm_index(g, n);

	if (i == WM_NONE)
		return g ? wm_graph_fail(g, WEFT_EINVAL, "set_owner: bad node")
			 : WEFT_EINVAL;
	if (rank != WEFT_MPI_ANY && (rank < 0 || rank >= g->m->size))
		return wm_graph_fail(g, WEFT_EINVAL,
		    "set_owner: rank %d is out of range (%d ranks)", rank,
		    g->m->size);
	g->nodes[i].owner = rank;
	return WEFT_OK;
}

int
weft_mpi_owner(const weft_mpi_graph *g, weft_node n)
{
	uint32_t i = wm_index(g, n);

	if (i == WM_NONE)
		return -1;
	return g->nodes[i].planned >= 0 ? g->nodes[i].planned
					: g->nodes[i].owner;
}

size_t
weft_mpi_graph_size(const weft_mpi_graph *g)
{
	return g ? g->n : 0;
}

weft_node
weft_mpi_graph_find(const weft_mpi_graph *g, const char *key)
{
	char *end;
	unsigned long v;

	if (!g || !key)
		return WEFT_NODE_NONE;
	if (g->kmap_cap) {
		size_t s = kmap_slot(g, key);
		if (g->kmap[s])
			return wm_node_of(g, g->kmap[s] - 1);
	}
	if (strncmp(key, "node-", 5) != 0 || key[5] < '0' || key[5] > '9')
		return WEFT_NODE_NONE;
	v = strtoul(key + 5, &end, 10);
	if (*end || v >= g->n || g->nodes[v].key)
		return WEFT_NODE_NONE;
	return wm_node_of(g, (uint32_t)v);
}

const char *
weft_mpi_node_key(const weft_mpi_graph *g, weft_node n, char *buf, size_t size)
{
	uint32_t i = wm_index(g, n);

	if (!buf || size == 0)
		return buf;
	if (i == WM_NONE) {
		snprintf(buf, size, "?");
		return buf;
	}
	if (g->nodes[i].key)
		snprintf(buf, size, "%s", g->keys + g->nodes[i].key - 1);
	else
		snprintf(buf, size, "node-%" PRIu32, i);
	return buf;
}

const char *
weft_mpi_graph_error(const weft_mpi_graph *g)
{
	return g ? g->err : "";
}

int
weft_mpi_graph_errcode(const weft_mpi_graph *g)
{
	return g ? g->errcode : WEFT_EINVAL;
}

int
weft_mpi_stats_get(const weft_mpi_graph *g, weft_mpi_stats *out)
{
	if (!g || !out)
		return WEFT_EINVAL;
	*out = g->stats;
	return WEFT_OK;
}
