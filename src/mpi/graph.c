/*
 * weft_mpi_graph: a weft_graph and an owner per node. Building goes
 * straight to the graph (weft_delayed_named); a compute reads it back
 * through the graph view (plan.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mpi/mpi_int.h"

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
wm_graph_wrap(weft_mpi *m, weft_graph *wg, int own)
{
	weft_mpi_graph *g = calloc(1, sizeof(*g));

	if (!g) {
		if (own)
			weft_graph_free(wg);
		return NULL;
	}
	g->m = m;
	g->g = wg;
	g->own = own;
	return g;
}

weft_mpi_graph *
weft_mpi_graph_new(weft_mpi *m)
{
	weft_graph *wg;

	if (!m || m->failed)
		return NULL;
	wg = weft_graph_new();
	return wg ? wm_graph_wrap(m, wg, 1) : NULL;
}

void
weft_mpi_graph_free(weft_mpi_graph *g)
{
	if (!g)
		return;
	if (g->own)
		weft_graph_free(g->g);
	free(g->owner);
	free(g->planned);
	free(g);
}

uint32_t
wm_index(const weft_mpi_graph *g, weft_node n)
{
	size_t i = g ? weft_node_index(g->g, n) : (size_t)-1;

	return i >= WM_NONE ? WM_NONE : (uint32_t)i;
}

weft_node
wm_node_of(const weft_mpi_graph *g, uint32_t i)
{
	return weft_graph_node(g->g, i);
}

int
wm_owners_fit(weft_mpi_graph *g)
{
	size_t n = weft_graph_size(g->g), cap = g->nown;
	int32_t *o, *p;

	if (n <= g->nown)
		return WEFT_OK;
	while (cap < n)
		cap = cap ? cap * 2 : 64;
	o = realloc(g->owner, cap * sizeof(*o));
	if (!o)
		return WEFT_ENOMEM;
	g->owner = o;
	p = realloc(g->planned, cap * sizeof(*p));
	if (!p)
		return WEFT_ENOMEM;
	g->planned = p;
	for (size_t i = g->nown; i < cap; i++)
		g->owner[i] = g->planned[i] = -1;
	g->nown = cap;
	return WEFT_OK;
}

/* -- building ---------------------------------------------------------------- */

static void
release_lits(size_t nargs, const weft_arg *args)
{
	for (size_t i = 0; args && i < nargs; i++)
		if (!weft_arg_is_ref(&args[i])) {
			weft_value v = weft_arg_value(&args[i]);
			weft_value_release(&v);
		}
}

weft_node
weft_mpi_delayed_named(weft_mpi_graph *g, const char *key, weft_fn fn,
    size_t nargs, const weft_arg *args)
{
	weft_node n;

	if (!g) {
		release_lits(nargs, args);
		return WEFT_NODE_NONE;
	}
	/* The graph takes the literals, also on failure. */
	n = weft_delayed_named(g->g, key, fn, nargs, args);
	if (!weft_node_ok(n))
		wm_graph_fail(g, weft_graph_errcode(g->g), "%s",
		    weft_graph_error(g->g));
	return n;
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

/* -- owners and queries ------------------------------------------------------ */

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
	if (wm_owners_fit(g) != WEFT_OK)
		return wm_graph_fail(g, WEFT_ENOMEM, "set_owner: out of memory");
	g->owner[i] = rank;
	return WEFT_OK;
}

int
weft_mpi_owner(const weft_mpi_graph *g, weft_node n)
{
	uint32_t i = wm_index(g, n);

	if (i == WM_NONE || i >= g->nown)
		return -1;
	return g->planned[i] >= 0 ? g->planned[i] : g->owner[i];
}

size_t
weft_mpi_graph_size(const weft_mpi_graph *g)
{
	return g ? weft_graph_size(g->g) : 0;
}

weft_node
weft_mpi_graph_find(const weft_mpi_graph *g, const char *key)
{
	return g && key ? weft_graph_find(g->g, key) : WEFT_NODE_NONE;
}

const char *
weft_mpi_node_key(const weft_mpi_graph *g, weft_node n, char *buf, size_t size)
{
	if (!buf || size == 0)
		return buf;
	if (!g) {
		snprintf(buf, size, "?");
		return buf;
	}
	return weft_node_key(g->g, n, buf, size);
}

weft_graph *
weft_mpi_graph_weft(const weft_mpi_graph *g)
{
	return g ? g->g : NULL;
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
