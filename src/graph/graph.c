#include "graph/graph.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/atomic.h"

/* Graph serials 1..2^32-1, never 0 (which would let WEFT_NODE_NONE's
 * index 0 pass for a node). A node of another graph is caught unless
 * 2^32 - 1 graphs were made in between (see weft/graph.h). */
static _Atomic uint64_t weft__next_serial;

/* Guards every graph's list of users (computes). Lock order: this lock,
 * then a run's lock, then a pool's. */
static pthread_mutex_t weft__users_mu = PTHREAD_MUTEX_INITIALIZER;

weft_arg(weft_ref)(weft_node n)
{
	weft_arg a = { 1, n, { 0, { 0 }, { 0 } } };
	return a;
}

weft_arg(weft_lit)(weft_value v)
{
	weft_arg a = { 2, { 0 }, v };
	return a;
}

weft_graph *
weft_graph_new(void)
{
	weft_graph *g = weft__calloc(1, sizeof *g);
	if (!g)
		return NULL;
	g->serial = (uint32_t)(weft_atomic_add_relaxed(&weft__next_serial, 1) %
				   0xFFFFFFFFu) +
	    1;
	return g;
}

void
weft_graph_free(weft_graph *g)
{
	if (!g)
		return;
	/* Freeing a graph while computes of it run is a caller's error; it
	 * is caught here: each is canceled, drained and detached, so its
	 * future reports WEFT_ECANCELED instead of reading freed memory. */
	pthread_mutex_lock(&weft__users_mu);
	while (g->users) {
		weft__graph_user *u = g->users;
		g->users = u->next;
		u->next = u->prev = NULL;
		u->release(u);
	}
	pthread_mutex_unlock(&weft__users_mu);
	for (size_t i = 0; i < g->nlits; i++)
		weft_value_release(&g->lits[i]);
	/* the big arrays go to the block cache, for the next graph */
	weft__block_free(g->nodes, g->cap * sizeof *g->nodes);
	weft__block_free(g->args, g->slots_cap * sizeof *g->args);
	weft__block_free(g->edge_next, g->slots_cap * sizeof *g->edge_next);
	weft__block_free(g->edge_dst, g->slots_cap * sizeof *g->edge_dst);
	weft__block_free(g->lits, g->lits_cap * sizeof *g->lits);
	weft__free(g->keys);
	weft__free(g->kmap);
	weft__free(g->keyat);
	weft_release_persisted(g, 0, NULL);
	weft__free(g->pvals);
	weft__free(g->pset);
	weft__free(g->prio);
	weft__free(g);
}

void
weft__graph_attach(weft_graph *g, weft__graph_user *u)
{
	pthread_mutex_lock(&weft__users_mu);
	u->prev = NULL;
	u->next = g->users;
	if (g->users)
		g->users->prev = u;
	g->users = u;
	pthread_mutex_unlock(&weft__users_mu);
}

void
weft__graph_detach(weft_graph *const *gp, weft__graph_user *u)
{
	pthread_mutex_lock(&weft__users_mu);
	weft_graph *g = *gp;
	if (!g) {
		pthread_mutex_unlock(&weft__users_mu);
		return;
	}
	if (u->prev)
		u->prev->next = u->next;
	else if (g->users == u)
		g->users = u->next;
	if (u->next)
		u->next->prev = u->prev;
	u->next = u->prev = NULL;
	pthread_mutex_unlock(&weft__users_mu);
}

int
weft__graph_set_error(weft_graph *g, int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(g->err, sizeof g->err, fmt, ap);
	va_end(ap);
	g->errcode = code;
	return code;
}

const char *
weft_graph_error(const weft_graph *g)
{
	return g ? g->err : "no graph";
}

int
weft_graph_errcode(const weft_graph *g)
{
	return g ? g->errcode : WEFT_EINVAL;
}

void
weft_graph_clear_error(weft_graph *g)
{
	if (g) {
		g->err[0] = '\0';
		g->errcode = WEFT_OK;
	}
}

size_t
weft_graph_size(const weft_graph *g)
{
	return g ? g->n : 0;
}

/* -- keys ---------------------------------------------------------------- */

static uint64_t
hash(const char *s)
{
	uint64_t h = 1469598103934665603ull; /* FNV-1a */
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h;
}

static const char *
key_at(const weft_graph *g, uint32_t i)
{
	return weft__graph_key_at(g, i);
}

/* Makes room in keyat for node i (new entries unnamed). */
static int
keyat_grow(weft_graph *g, size_t i)
{
	if (i < g->keyat_cap)
		return WEFT_OK;
	size_t old = g->keyat_cap;
	if (weft__grow((void **)&g->keyat, &g->keyat_cap,
		g->cap > i ? g->cap : i + 1, sizeof *g->keyat))
		return WEFT_ENOMEM;
	memset(g->keyat + old, 0, (g->keyat_cap - old) * sizeof *g->keyat);
	return WEFT_OK;
}

/* The slot of `key` in kmap: its node, or the empty slot where it goes. */
static size_t
kmap_slot(const weft_graph *g, const char *key)
{
	size_t mask = g->kmap_cap - 1;
	size_t s = (size_t)hash(key) & mask;
	while (g->kmap[s] && strcmp(key_at(g, g->kmap[s] - 1), key))
		s = (s + 1) & mask;
	return s;
}

static int
kmap_grow(weft_graph *g)
{
	if ((g->nkeys + 1) * 2 <= g->kmap_cap)
		return WEFT_OK;
	size_t ncap = g->kmap_cap ? g->kmap_cap * 2 : 64;
	uint32_t *old = g->kmap;
	size_t ocap = g->kmap_cap;
	g->kmap = weft__calloc(ncap, sizeof *g->kmap);
	if (!g->kmap) {
		g->kmap = old;
		return WEFT_ENOMEM;
	}
	g->kmap_cap = ncap;
	for (size_t i = 0; i < ocap; i++)
		if (old[i])
			g->kmap[kmap_slot(g, key_at(g, old[i] - 1))] =
			    old[i];
	weft__free(old);
	return WEFT_OK;
}

/* Parses a default key "node-<i>"; WEFT__NONE if `key` is not one. */
static uint32_t
default_key_index(const char *key)
{
	if (strncmp(key, "node-", 5) != 0 || key[5] < '0' || key[5] > '9')
		return WEFT__NONE;
	char *end;
	unsigned long v = strtoul(key + 5, &end, 10);
	if (*end || v >= WEFT__NONE)
		return WEFT__NONE;
	return (uint32_t)v;
}

weft_node
weft_graph_find(const weft_graph *g, const char *key)
{
	if (!g || !key)
		return WEFT_NODE_NONE;
	if (g->kmap_cap) {
		size_t s = kmap_slot(g, key);
		if (g->kmap[s])
			return weft__graph_node(g, g->kmap[s] - 1);
	}
	uint32_t i = default_key_index(key);
	if (i < g->n && !key_at(g, i))
		return weft__graph_node(g, i);
	return WEFT_NODE_NONE;
}

const char *
weft__graph_key(const weft_graph *g, uint32_t i, char *buf, size_t size)
{
	const char *k = key_at(g, i);
	if (k)
		snprintf(buf, size, "%s", k);
	else
		snprintf(buf, size, "node-%" PRIu32, i);
	return buf;
}

const char *
weft_node_key(const weft_graph *g, weft_node n, char *buf, size_t size)
{
	if (!buf || size == 0)
		return "";
	uint32_t i = g ? weft__graph_index(g, n) : WEFT__NONE;
	if (i == WEFT__NONE) {
		snprintf(buf, size, "?");
		return buf;
	}
	return weft__graph_key(g, i, buf, size);
}

/* -- delayed ------------------------------------------------------------- */

static void
release_lits(size_t nargs, const weft_arg *args)
{
	for (size_t i = 0; i < nargs; i++)
		if (args[i].kind == 2) {
			weft_value v = args[i].lit;
			weft_value_release(&v);
		}
}

/* Checks the arguments before anything is added, so that a failed call
 * leaves the graph as it was. */
static int
check_args(
    weft_graph *g, weft_fn fn, size_t nargs, const weft_arg *args, size_t *nlit)
{
	if (!fn)
		return weft__graph_set_error(
		    g, WEFT_EINVAL, "delayed: the function is NULL");
	if (nargs && !args)
		return weft__graph_set_error(g, WEFT_EINVAL,
		    "delayed: %zu arguments but the array is NULL", nargs);
	if (g->n >= WEFT_MAX_NODES)
		return weft__graph_set_error(g, WEFT_ENOMEM,
		    "delayed: the graph is full (%zu nodes)", g->n);
	if (nargs > UINT32_MAX - 1 || g->nslots + nargs > UINT32_MAX - 1)
		return weft__graph_set_error(g, WEFT_ENOMEM,
		    "delayed: too many arguments in the graph");
	*nlit = 0;
	for (size_t i = 0; i < nargs; i++) {
		if (args[i].kind == 2) {
			if (weft_value_failed(args[i].lit))
				return weft__graph_set_error(g, WEFT_ENOMEM,
				    "delayed: argument %zu is the NIL of a "
				    "failed value constructor (out of memory "
				    "or bad input)",
				    i);
			(*nlit)++;
			continue;
		}
		if (args[i].kind != 1)
			return weft__graph_set_error(g, WEFT_EINVAL,
			    "delayed: argument %zu is not a weft_ref() or "
			    "weft_lit()",
			    i);
		/* a failed call's WEFT_NODE_NONE keeps that call's error,
		 * the root cause, rather than replace it with this one */
		if (!weft_node_ok(args[i].node) && g->errcode != WEFT_OK)
			return g->errcode;
		if (!weft_node_ok(args[i].node))
			return weft__graph_set_error(g, WEFT_EINVAL,
			    "delayed: argument %zu refers to WEFT_NODE_NONE "
			    "(an earlier delayed call failed?)",
			    i);
		if (weft__graph_index(g, args[i].node) == WEFT__NONE)
			return weft__graph_set_error(g, WEFT_EINVAL,
			    "delayed: argument %zu refers to a node of another "
			    "graph",
			    i);
	}
	if (g->nlits + *nlit > UINT32_MAX)
		return weft__graph_set_error(g, WEFT_ENOMEM,
		    "delayed: too many literals in the graph");
	return WEFT_OK;
}

static int
reserve(weft_graph *g, size_t nargs, size_t nlit)
{
	size_t sc = g->slots_cap, got;
	if (weft__block_grow((void **)&g->nodes, &g->cap, g->n + 1,
		sizeof *g->nodes))
		return WEFT_ENOMEM;
	if (weft__block_grow((void **)&g->lits, &g->lits_cap, g->nlits + nlit,
		sizeof *g->lits))
		return WEFT_ENOMEM;
	/* the three slot arrays grow together */
	if (weft__block_grow((void **)&g->args, &sc, g->nslots + nargs,
		sizeof *g->args))
		return WEFT_ENOMEM;
	/* If one of the two below fails, slots_cap keeps the old capacity:
	 * arrays that did grow are only larger than it says, which is safe,
	 * and the next call grows them again. */
	if (sc != g->slots_cap) {
		size_t old = g->slots_cap * sizeof(uint32_t);
		uint32_t *a = weft__block_realloc(g->edge_next, old,
		    sc * sizeof *a, &got);
		if (!a)
			return WEFT_ENOMEM;
		g->edge_next = a;
		a = weft__block_realloc(g->edge_dst, old, sc * sizeof *a, &got);
		if (!a)
			return WEFT_ENOMEM;
		g->edge_dst = a;
		g->slots_cap = sc;
	}
	return WEFT_OK;
}

weft_node
weft_delayed_named(weft_graph *g, const char *key, weft_fn fn, size_t nargs,
    const weft_arg *args)
{
	size_t nlit = 0;
	if (!g) {
		release_lits(args ? nargs : 0, args);
		return WEFT_NODE_NONE;
	}
	int rc = check_args(g, fn, nargs, args, &nlit);
	if (rc == WEFT_OK && key) {
		if (kmap_grow(g) != WEFT_OK || keyat_grow(g, g->n) != WEFT_OK) {
			rc = weft__graph_set_error(g, WEFT_ENOMEM,
			    "delayed: out of memory for key '%s'", key);
		} else if (g->kmap[kmap_slot(g, key)]) {
			rc = weft__graph_set_error(g, WEFT_EINVAL,
			    "delayed: key '%s' already names a node", key);
		} else {
			size_t kl = strlen(key) + 1;
			if (g->keys_len + kl > UINT32_MAX - 1 ||
			    weft__grow((void **)&g->keys, &g->keys_cap,
				g->keys_len + kl, 1))
				rc = weft__graph_set_error(g, WEFT_ENOMEM,
				    "delayed: out of memory for key '%s'",
				    key);
		}
	}
	if (rc == WEFT_OK && reserve(g, nargs, nlit) != WEFT_OK)
		rc = weft__graph_set_error(
		    g, WEFT_ENOMEM, "delayed: out of memory");
	if (rc != WEFT_OK) {
		release_lits(args ? nargs : 0, args);
		return WEFT_NODE_NONE;
	}

	uint32_t self = (uint32_t)g->n++;
	weft__node *nd = &g->nodes[self];
	nd->fn = fn;
	nd->arg0 = (uint32_t)g->nslots;
	nd->nargs = (uint32_t)nargs;
	nd->succ_head = WEFT__NONE;
	nd->lit0 = (uint32_t)g->nlits;
	for (size_t i = 0; i < nargs; i++) {
		uint32_t s = (uint32_t)g->nslots++;
		if (args[i].kind == 2) {
			g->args[s] = WEFT__LIT;
			g->lits[g->nlits++] = args[i].lit;
			continue;
		}
		uint32_t in = (uint32_t)args[i].node.id;
		g->args[s] = in;
		g->edge_dst[s] = self;
		g->edge_next[s] = g->nodes[in].succ_head;
		g->nodes[in].succ_head = s;
	}
	if (key) {
		size_t kl = strlen(key) + 1;
		memcpy(g->keys + g->keys_len, key, kl);
		g->keyat[self] = (uint32_t)g->keys_len + 1;
		g->keys_len += kl;
		g->kmap[kmap_slot(g, key)] = self + 1;
		g->nkeys++;
	}
	return weft__graph_node(g, self);
}

weft_node
weft_delayed(weft_graph *g, weft_fn fn, size_t nargs, const weft_arg *args)
{
	return weft_delayed_named(g, NULL, fn, nargs, args);
}
