/*
 * The plan of one compute, the same on every rank because it depends only
 * on the graph: which nodes the targets need, their distinct inputs and
 * consumers, each node's owner, and a hash of all that for the check that
 * every rank built the same graph. No MPI here.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mpi/mpi_int.h"

void
wm_plan_free(wm_plan *p)
{
	free(p->nodes);
	free(p->args);
	free(p->need);
	free(p->isneed);
	free(p->owner);
	free(p->in_off);
	free(p->in);
	free(p->out_off);
	free(p->out);
	free(p->tidx);
	memset(p, 0, sizeof(*p));
}

static int
nomem(char *err, size_t errsize)
{
	snprintf(err, errsize, "compute: out of memory for the plan");
	return WEFT_ENOMEM;
}

const char *
wm_key(const wm_plan *p, uint32_t i, char *buf, size_t size)
{
	if (p->nodes[i].key)
		return p->nodes[i].key;
	snprintf(buf, size, "node-%lu", (unsigned long)i);
	return buf;
}

/* The graph as its view shows it, in flat arrays (literals and keys
 * borrowed: nothing changes the graph while a compute runs). */
static int
snapshot(const weft_mpi_graph *g, wm_plan *p)
{
	size_t nargs = 0, at = 0;
	weft_node_view v;
	weft_arg a;

	p->nodes = malloc((p->n ? p->n : 1) * sizeof(*p->nodes));
	if (!p->nodes)
		return WEFT_ENOMEM;
	for (uint32_t i = 0; i < p->n; i++) {
		if (weft_node_view_get(g->g, weft_graph_node(g->g, i), &v) !=
			WEFT_OK ||
		    v.nargs > UINT32_MAX - nargs)
			return WEFT_ENOMEM;
		p->nodes[i].fn = v.fn;
		p->nodes[i].arg0 = (uint32_t)nargs;
		p->nodes[i].nargs = (uint32_t)v.nargs;
		p->nodes[i].key = v.key;
		nargs += v.nargs;
	}
	p->args = malloc((nargs ? nargs : 1) * sizeof(*p->args));
	if (!p->args)
		return WEFT_ENOMEM;
	for (uint32_t i = 0; i < p->n; i++) {
		weft_node n = weft_graph_node(g->g, i);
		for (uint32_t k = 0; k < p->nodes[i].nargs; k++, at++) {
			weft_node_arg(g->g, n, k, &a);
			p->args[at].ref = weft_arg_is_ref(&a)
			    ? (uint32_t)weft_node_index(g->g, weft_arg_node(&a)) + 1
			    : 0;
			p->args[at].lit = weft_arg_value(&a);
		}
	}
	return WEFT_OK;
}

/* Marks what the targets need. A node refers only to nodes made before
 * it, so one backward sweep from the last target marks every ancestor:
 * sequential memory, where a walk along the edges would jump across the
 * graph at every step. */
static int
cull(wm_plan *p)
{
	uint32_t top = 0;

	for (size_t t = 0; t < p->ntargets; t++) {
		p->isneed[p->tidx[t]] = 1;
		if (p->tidx[t] + 1 > top)
			top = p->tidx[t] + 1;
	}
	for (uint32_t i = top; i-- > 0;) {
		const struct wm_node *nd = &p->nodes[i];
		if (!p->isneed[i])
			continue;
		for (uint32_t a = 0; a < nd->nargs; a++) {
			uint32_t r = p->args[nd->arg0 + a].ref;
			if (r)
				p->isneed[r - 1] = 1;
		}
	}
	return WEFT_OK;
}

/* Distinct inputs (CSR over node indices) and, reversed, consumers. */
static int
wire(wm_plan *p)
{
	uint32_t n = p->n, *stamp = NULL, *fill = NULL;
	size_t nin = 0;
	int rc = WEFT_ENOMEM;

	p->in_off = calloc((size_t)n + 1, sizeof(uint32_t));
	p->out_off = calloc((size_t)n + 1, sizeof(uint32_t));
	stamp = malloc(((size_t)n + 1) * sizeof(uint32_t));
	if (!p->in_off || !p->out_off || !stamp)
		goto out;
	for (uint32_t i = 0; i < n; i++)
		stamp[i] = WM_NONE;
	/* Pass 1: count distinct inputs. */
	for (size_t k = 0; k < p->nneed; k++) {
		uint32_t i = p->need[k];
		const struct wm_node *nd = &p->nodes[i];
		for (uint32_t a = 0; a < nd->nargs; a++) {
			uint32_t r = p->args[nd->arg0 + a].ref;
			if (r && stamp[r - 1] != i) {
				stamp[r - 1] = i;
				p->in_off[i + 1]++;
				p->out_off[r]++; /* consumer count of r-1 */
				nin++;
			}
		}
	}
	for (uint32_t i = 0; i < n; i++) {
		p->in_off[i + 1] += p->in_off[i];
		p->out_off[i + 1] += p->out_off[i];
	}
	p->in = malloc((nin ? nin : 1) * sizeof(uint32_t));
	p->out = malloc((nin ? nin : 1) * sizeof(uint32_t));
	fill = malloc(((size_t)n + 1) * sizeof(uint32_t));
	if (!p->in || !p->out || !fill)
		goto out;
	memcpy(fill, p->out_off, ((size_t)n + 1) * sizeof(uint32_t));
	for (uint32_t i = 0; i < n; i++)
		stamp[i] = WM_NONE;
	/* Pass 2: fill both, inputs in argument order, consumers in node
	 * order (need[] is ascending). */
	for (size_t k = 0; k < p->nneed; k++) {
		uint32_t i = p->need[k], at = p->in_off[i];
		const struct wm_node *nd = &p->nodes[i];
		for (uint32_t a = 0; a < nd->nargs; a++) {
			uint32_t r = p->args[nd->arg0 + a].ref;
			if (r && stamp[r - 1] != i) {
				stamp[r - 1] = i;
				p->in[at++] = r - 1;
				p->out[fill[r - 1]++] = i;
			}
		}
	}
	rc = WEFT_OK;
out:
	free(stamp);
	free(fill);
	return rc;
}

/*
 * The default policy. A node that is the only consumer of one of its
 * inputs continues that input's chain, on its rank (no transfer at all
 * along a chain). Otherwise a node with several inputs joins them where
 * most of them are. What is left -- roots, and consumers of a value that
 * several nodes share (a fan-out) -- starts a chain; chain heads are dealt
 * out in contiguous blocks of equal count, so neighbours (chunk i and
 * i+1) tend to share a rank and every rank gets the same number of chains.
 * Ties go to the rank with fewer nodes so far, then to the lower rank.
 */
static int
assign(const weft_mpi_graph *g, wm_plan *p, int nranks,
    const weft_mpi_compute_opts *o, char *err, size_t errsize)
{
	size_t *load = calloc((size_t)nranks, sizeof(size_t));
	size_t *tally = calloc((size_t)nranks, sizeof(size_t));
	int *touched = calloc((size_t)nranks, sizeof(int));
	uint8_t *head = calloc(p->n ? p->n : 1, 1);
	size_t nheads = 0, h = 0;
	int rc = WEFT_OK;
	char kb[32];

	if (!load || !tally || !touched || !head) {
		rc = nomem(err, errsize);
		goto out;
	}
	/* Explicit owners, then the hook. */
	for (size_t k = 0; k < p->nneed; k++) {
		uint32_t i = p->need[k];
		int r = i < g->nown ? g->owner[i] : -1;
		if (r < 0 && o && o->rank_of) {
			r = o->rank_of(o->rank_of_ud, wm_key(p, i, kb, sizeof(kb)),
			    wm_node_of(g, i), nranks);
			if (r != WEFT_MPI_ANY && (r < 0 || r >= nranks)) {
				snprintf(err, errsize,
				    "compute: rank_of gave rank %d for node "
				    "'%s' (%d ranks)",
				    r, wm_key(p, i, kb, sizeof(kb)), nranks);
				rc = WEFT_EINVAL;
				goto out;
			}
		}
		p->owner[i] = r >= nranks ? -1 : r;
	}
	/* Which free nodes start a chain: structure only. */
	for (size_t k = 0; k < p->nneed; k++) {
		uint32_t i = p->need[k], nin = p->in_off[i + 1] - p->in_off[i];
		int sole = 0;
		if (p->owner[i] >= 0)
			continue;
		for (uint32_t a = p->in_off[i]; a < p->in_off[i + 1]; a++) {
			uint32_t in = p->in[a];
			sole |= p->out_off[in + 1] - p->out_off[in] == 1;
		}
		head[i] = nin == 0 || (!sole && nin == 1);
		nheads += head[i];
	}
	for (size_t k = 0; k < p->nneed; k++) {
		uint32_t i = p->need[k];
		int best = -1, ntouched = 0, sole = 0;
		if (p->owner[i] >= 0) {
			load[p->owner[i]]++;
			continue;
		}
		if (head[i]) {
			p->owner[i] = (int)((h++ * (size_t)nranks) / nheads);
			load[p->owner[i]]++;
			continue;
		}
		for (uint32_t a = p->in_off[i]; a < p->in_off[i + 1]; a++) {
			uint32_t in = p->in[a];
			sole |= p->out_off[in + 1] - p->out_off[in] == 1;
		}
		/* Vote: the sole-consumer inputs if any, else all inputs. */
		for (uint32_t a = p->in_off[i]; a < p->in_off[i + 1]; a++) {
			uint32_t in = p->in[a];
			int r = p->owner[in];
			if (sole && p->out_off[in + 1] - p->out_off[in] != 1)
				continue;
			if (tally[r]++ == 0)
				touched[ntouched++] = r;
		}
		for (int t = 0; t < ntouched; t++) {
			int r = touched[t];
			if (best < 0 || tally[r] > tally[best] ||
			    (tally[r] == tally[best] &&
				(load[r] < load[best] ||
				    (load[r] == load[best] && r < best))))
				best = r;
		}
		for (int t = 0; t < ntouched; t++)
			tally[touched[t]] = 0;
		p->owner[i] = best >= 0 ? best : 0;
		load[p->owner[i]]++;
	}
out:
	free(load);
	free(tally);
	free(touched);
	free(head);
	return rc;
}

static uint64_t
plan_hash(const weft_mpi_graph *g, const wm_plan *p, int nranks, int root)
{
	uint64_t h = wm_hash_u64(0x57454654u, (uint64_t)nranks);

	h = wm_hash_u64(h, (uint64_t)(int64_t)root);
	for (size_t k = 0; k < p->nneed; k++) {
		uint32_t i = p->need[k];
		const struct wm_node *nd = &p->nodes[i];
		h = wm_hash_u64(h, i);
		h = wm_hash_u64(h, (uint64_t)(int64_t)wm_fn_index(g->m, nd->fn));
		h = wm_hash_u64(h, nd->nargs);
		h = wm_hash_u64(h, (uint64_t)(int64_t)p->owner[i]);
		if (nd->key)
			h = wm_hash_bytes(h, nd->key, strlen(nd->key));
		for (uint32_t a = 0; a < nd->nargs; a++) {
			const struct wm_arg *ar = &p->args[nd->arg0 + a];
			h = ar->ref ? wm_hash_u64(h, ar->ref)
				    : wm_hash_value(h, ar->lit, 0);
		}
	}
	for (size_t t = 0; t < p->ntargets; t++)
		h = wm_hash_u64(h, p->tidx[t]);
	return h;
}

int
wm_plan_build(const weft_mpi_graph *g, size_t n, const weft_node *targets,
    int nranks, int root, const weft_mpi_compute_opts *o, wm_plan *p,
    char *err, size_t errsize)
{
	int rc;

	memset(p, 0, sizeof(*p));
	if (weft_graph_size(g->g) >= WM_NONE) {
		snprintf(err, errsize, "compute: too many nodes");
		return WEFT_EINVAL;
	}
	p->n = (uint32_t)weft_graph_size(g->g);
	p->ntargets = n;
	p->tidx = malloc((n ? n : 1) * sizeof(*p->tidx));
	p->isneed = calloc(p->n ? p->n : 1, 1);
	p->owner = malloc((p->n ? p->n : 1) * sizeof(*p->owner));
	if (!p->tidx || !p->isneed || !p->owner)
		return nomem(err, errsize);
	for (size_t t = 0; t < n; t++) {
		p->tidx[t] = wm_index(g, targets[t]);
		if (p->tidx[t] == WM_NONE) {
			snprintf(err, errsize,
			    "compute: target %zu is not a node of this graph",
			    t);
			return WEFT_EINVAL;
		}
	}
	if (snapshot(g, p) != WEFT_OK || cull(p) != WEFT_OK)
		return nomem(err, errsize);
	for (uint32_t i = 0; i < p->n; i++)
		p->nneed += p->isneed[i];
	p->need = malloc((p->nneed ? p->nneed : 1) * sizeof(*p->need));
	if (!p->need)
		return nomem(err, errsize);
	p->nneed = 0;
	for (uint32_t i = 0; i < p->n; i++)
		if (p->isneed[i])
			p->need[p->nneed++] = i;
	if (wire(p) != WEFT_OK)
		return nomem(err, errsize);
	rc = assign(g, p, nranks, o, err, errsize);
	if (rc != WEFT_OK)
		return rc;
	for (size_t k = 0; k < p->nneed; k++) {
		uint32_t i = p->need[k];
		for (uint32_t a = p->in_off[i]; a < p->in_off[i + 1]; a++)
			p->cross_edges += p->owner[p->in[a]] != p->owner[i];
	}
	p->hash = plan_hash(g, p, nranks, root);
	return WEFT_OK;
}
