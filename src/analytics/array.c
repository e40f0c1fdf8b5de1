/*
 * Chunked arrays (weft/array.h): the handle, the chunk sources, map, and the
 * reductions, all built with the public graph API. Every reduction is a
 * per-chunk task followed by a fixed merge tree (weft__tree), so a result
 * depends on the chunking only, never on which worker ran what when.
 */
#include "analytics/analytics.h"

#include "base/alloc.h"

#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "weft/array.h"
#include "weft/errno.h"
#include "weft/graph.h"
#include "weft/value.h"

struct weft_array {
	weft_graph *g;
	size_t nchunks;
	weft_node *chunks;
	weft_node *copies; /* F64S copies of view chunks, made for map */
	size_t len;	   /* SIZE_MAX when unknown */
	unsigned fanin;
	int view;	/* chunks are struct view PTRs (borrowed data) */
	char name[24];	/* "array3": prefix of its nodes' keys */
	weft_node mom;	/* root of the moments tree, once asked for */
};

/* What a borrowing chunk node gives: a window on the caller's buffer. */
struct view {
	const double *p;
	size_t n;
};

/* -- helpers for tasks ------------------------------------------------------ */

/* The doubles of chunk value `v`; `view` says whether the array borrows. */
static int
chunk_of(weft_ctx *ctx, int64_t view, weft_value v, const double **p,
    size_t *n)
{
	if (view) {
		const struct view *w = weft_ptr_get(v);
		if (w) {
			*p = w->p;
			*n = w->n;
			return WEFT_OK;
		}
	} else if (weft_type_of(v) == WEFT_F64S) {
		*p = weft_f64s_data(v);
		*n = weft_len(v);
		return WEFT_OK;
	}
	return weft_fail(ctx, "chunk is a %s, not f64s",
	    weft_type_name(weft_type_of(v)));
}

static int
out_f64s(weft_ctx *ctx, size_t n, weft_value *out, double **d)
{
	*d = NULL;
	if (weft_f64s_new(n, NULL, out) != WEFT_OK)
		return weft_fail(ctx, "out of memory (%zu doubles)", n);
	*d = weft_f64s_data_mut(*out);
	return WEFT_OK;
}

/* -- trees and small nodes ---------------------------------------------------- */

static weft_arg
lit_retained(weft_value v)
{
	return weft_lit(weft_value_retain(v));
}

const char *
weft__key(weft_graph *g, char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return weft_node_ok(weft_graph_find(g, buf)) ? NULL : buf;
}

void
weft__prefix(weft_graph *g, const char *kind, const char *probe, char *buf,
    size_t size)
{
	char k[80];
	for (unsigned q = 1;; q++) {
		snprintf(k, sizeof k, "%s%u.%s", kind, q, probe);
		if (!weft_node_ok(weft_graph_find(g, k)) || q == UINT32_MAX) {
			snprintf(buf, size, "%s%u", kind, q);
			return;
		}
	}
}

weft_node
weft__node1(weft_graph *g, const char *key, weft_fn fn, weft_node in,
    size_t nlit, const weft_value *lits)
{
	weft_arg args[8];
	if (nlit > 7)
		return WEFT_NODE_NONE;
	for (size_t i = 0; i < nlit; i++)
		args[i] = lit_retained(lits[i]);
	args[nlit] = weft_ref(in);
	return weft_delayed_named(g, key, fn, nlit + 1, args);
}

static int
graph_err(weft_graph *g)
{
	int rc = weft_graph_errcode(g);
	return rc != WEFT_OK ? rc : WEFT_ENOMEM;
}

int
weft__tree(weft_graph *g, const char *name, weft_fn merge, size_t nlit,
    const weft_value *lits, size_t n, const weft_node *in, unsigned fanin,
    weft_node *out)
{
	if (n == 0 || fanin < 2 || fanin > 64 || nlit > 8)
		return WEFT_EINVAL;
	weft_node *lv = weft__malloc(n * sizeof *lv);
	if (!lv)
		return WEFT_ENOMEM;
	memcpy(lv, in, n * sizeof *lv);
	weft_arg args[8 + 64];
	char kb[96];
	for (size_t level = 0; n > 1; level++) {
		size_t m = 0;
		for (size_t i = 0; i < n; i += fanin) {
			size_t k = n - i < fanin ? n - i : fanin;
			if (k == 1) { /* a lone last one moves up as is */
				lv[m++] = lv[i];
				continue;
			}
			for (size_t j = 0; j < nlit; j++)
				args[j] = lit_retained(lits[j]);
			for (size_t j = 0; j < k; j++)
				args[nlit + j] = weft_ref(lv[i + j]);
			weft_node t = weft_delayed_named(g,
			    name ? weft__key(g, kb, sizeof kb, "%s-%zu-%zu", name,
				       level, m) :
				   NULL,
			    merge, nlit + k, args);
			if (!weft_node_ok(t)) {
				weft__free(lv);
				return graph_err(g);
			}
			lv[m++] = t;
		}
		n = m;
	}
	*out = lv[0];
	weft__free(lv);
	return WEFT_OK;
}

/* -- chunk sources ------------------------------------------------------------- */

/* Returns its literal: the chunk of a copied or borrowing array. */
static int
k_lit(weft_ctx *ctx, size_t n, const weft_value *a, weft_value *out)
{
	(void)ctx;
	(void)n;
	*out = weft_value_retain(a[0]);
	return WEFT_OK;
}

/* gen(kind, a, b, seed, start, len) */
static int
k_gen(weft_ctx *ctx, size_t n, const weft_value *a, weft_value *out)
{
	(void)n;
	weft_gen gen;
	memset(&gen, 0, sizeof gen);
	gen.kind = (weft_gen_kind)weft_as_int(a[0]);
	gen.a = weft_as_float(a[1]);
	gen.b = weft_as_float(a[2]);
	gen.seed = (uint64_t)weft_as_int(a[3]);
	size_t start = (size_t)weft_as_int(a[4]), len = (size_t)weft_as_int(a[5]);
	double *d;
	int rc = out_f64s(ctx, len, out, &d);
	if (rc == WEFT_OK)
		weft__gen_fill(&gen, start, d, len);
	return rc;
}

/* copy(view, chunk): an F64S of a borrowed chunk, for a user's map. */
static int
k_copy(weft_ctx *ctx, size_t n, const weft_value *a, weft_value *out)
{
	(void)n;
	const double *p;
	size_t len;
	int rc = chunk_of(ctx, weft_as_int(a[0]), a[1], &p, &len);
	if (rc != WEFT_OK)
		return rc;
	if (weft_f64s_new(len, p, out) != WEFT_OK)
		return weft_fail(ctx, "out of memory (%zu doubles)", len);
	return WEFT_OK;
}

/* Chunk lengths for n elements, per weft_chunking's rules. */
static int
plan(size_t n, const weft_chunking *ch, size_t *nchunks, size_t **lens)
{
	weft_chunking z;
	memset(&z, 0, sizeof z);
	if (!ch)
		ch = &z;
	size_t m;
	if (ch->lens) {
		m = ch->nchunks;
		if (m == 0)
			return WEFT_EINVAL;
		size_t t = 0;
		for (size_t i = 0; i < m; i++) {
			if (ch->lens[i] > n - t)
				return WEFT_EINVAL;
			t += ch->lens[i];
		}
		if (t != n)
			return WEFT_EINVAL;
	} else {
		size_t cl = ch->chunk_len;
		if (!cl && !ch->nchunks)
			cl = WEFT_ARRAY_CHUNK_DEFAULT;
		m = cl ? n / cl + (n % cl != 0) : ch->nchunks;
		if (m == 0)
			m = 1;
		if (m > WEFT_MAX_NODES)
			return WEFT_EINVAL;
	}
	size_t *l = weft__malloc(m * sizeof *l);
	if (!l)
		return WEFT_ENOMEM;
	if (ch->lens) {
		memcpy(l, ch->lens, m * sizeof *l);
	} else if (ch->chunk_len || !ch->nchunks) {
		size_t cl = ch->chunk_len ? ch->chunk_len : WEFT_ARRAY_CHUNK_DEFAULT;
		for (size_t i = 0; i < m; i++)
			l[i] = n - i * cl < cl ? n - i * cl : cl;
	} else {
		for (size_t i = 0; i < m; i++)
			l[i] = n / m + (i < n % m);
	}
	*nchunks = m;
	*lens = l;
	return WEFT_OK;
}

static unsigned
fanin_of(const weft_chunking *ch)
{
	return ch && ch->fanin ? ch->fanin : WEFT_FANIN_DEFAULT;
}

static int
check_chunking(const weft_chunking *ch)
{
	if (!ch)
		return WEFT_OK;
	if (ch->fanin == 1 || ch->fanin > 64)
		return WEFT_EINVAL;
	for (size_t i = 0; i < 4; i++)
		if (ch->reserved[i])
			return WEFT_EINVAL;
	return WEFT_OK;
}

static weft_array *
array_new(weft_graph *g, size_t nchunks, size_t len, unsigned fanin)
{
	weft_array *a = weft__calloc(1, sizeof *a);
	if (!a)
		return NULL;
	a->chunks = weft__calloc(nchunks, sizeof *a->chunks);
	if (!a->chunks) {
		weft__free(a);
		return NULL;
	}
	a->g = g;
	a->nchunks = nchunks;
	a->len = len;
	a->fanin = fanin;
	a->mom = WEFT_NODE_NONE;
	weft__prefix(g, "array", "chunk-0", a->name, sizeof a->name);
	return a;
}

static void
view_free(void *p)
{
	weft__free(p);
}

int
weft_array_wrap(weft_graph *g, const double *data, size_t n,
    const weft_chunking *ch, unsigned flags, weft_array **out)
{
	if (out)
		*out = NULL;
	if (!g || !out || (!data && n) || (flags & ~(unsigned)WEFT_ARRAY_COPY))
		return WEFT_EINVAL;
	int rc = check_chunking(ch);
	size_t m, *lens = NULL;
	if (rc == WEFT_OK)
		rc = plan(n, ch, &m, &lens);
	if (rc != WEFT_OK)
		return rc;
	weft_array *a = array_new(g, m, n, fanin_of(ch));
	if (!a) {
		weft__free(lens);
		return WEFT_ENOMEM;
	}
	a->view = !(flags & WEFT_ARRAY_COPY);
	size_t off = 0;
	for (size_t i = 0; i < m; i++) {
		weft_value v;
		if (a->view) {
			struct view *w = weft__malloc(sizeof *w);
			if (w) {
				w->p = data ? data + off : NULL;
				w->n = lens[i];
			}
			v = w ? weft_ptr(w, view_free) : weft_nil();
		} else {
			v = weft_f64s(data ? data + off : NULL, lens[i]);
		}
		if (weft_is_nil(v)) {
			rc = WEFT_ENOMEM;
			break;
		}
		char kb[64];
		a->chunks[i] = WEFT_DELAYED_NAMED(g,
		    weft__key(g, kb, sizeof kb, "%s.chunk-%zu", a->name, i), k_lit,
		    weft_lit(v));
		if (!weft_node_ok(a->chunks[i])) {
			rc = graph_err(g);
			break;
		}
		off += lens[i];
	}
	weft__free(lens);
	if (rc != WEFT_OK) {
		weft_array_free(a);
		return rc;
	}
	*out = a;
	return WEFT_OK;
}

int
weft_array_generate(weft_graph *g, const weft_gen *gen, size_t n,
    const weft_chunking *ch, weft_array **out)
{
	if (out)
		*out = NULL;
	if (!g || !gen || !out || gen->kind < WEFT_GEN_RANGE ||
	    gen->kind > WEFT_GEN_NORMAL || gen->reserved[0] || gen->reserved[1])
		return WEFT_EINVAL;
	if (n > (size_t)INT64_MAX / 2)
		return WEFT_EINVAL;
	int rc = check_chunking(ch);
	size_t m, *lens = NULL;
	if (rc == WEFT_OK)
		rc = plan(n, ch, &m, &lens);
	if (rc != WEFT_OK)
		return rc;
	weft_array *a = array_new(g, m, n, fanin_of(ch));
	if (!a) {
		weft__free(lens);
		return WEFT_ENOMEM;
	}
	size_t off = 0;
	for (size_t i = 0; i < m; i++) {
		char kb[64];
		a->chunks[i] = WEFT_DELAYED_NAMED(g,
		    weft__key(g, kb, sizeof kb, "%s.chunk-%zu", a->name, i), k_gen,
		    weft_lit(weft_int(gen->kind)), weft_lit(weft_float(gen->a)),
		    weft_lit(weft_float(gen->b)),
		    weft_lit(weft_int((int64_t)gen->seed)),
		    weft_lit(weft_int((int64_t)off)),
		    weft_lit(weft_int((int64_t)lens[i])));
		if (!weft_node_ok(a->chunks[i])) {
			rc = graph_err(g);
			break;
		}
		off += lens[i];
	}
	weft__free(lens);
	if (rc != WEFT_OK) {
		weft_array_free(a);
		return rc;
	}
	*out = a;
	return WEFT_OK;
}

int
weft_array_from_nodes(weft_graph *g, size_t nchunks, const weft_node *nodes,
    const weft_chunking *ch, weft_array **out)
{
	if (out)
		*out = NULL;
	if (!g || !out || !nodes || nchunks == 0 || nchunks > WEFT_MAX_NODES)
		return WEFT_EINVAL;
	int rc = check_chunking(ch);
	if (rc != WEFT_OK)
		return rc;
	for (size_t i = 0; i < nchunks; i++)
		if (!weft_node_ok(nodes[i]))
			return WEFT_EINVAL;
	weft_array *a = array_new(g, nchunks, SIZE_MAX, fanin_of(ch));
	if (!a)
		return WEFT_ENOMEM;
	memcpy(a->chunks, nodes, nchunks * sizeof *nodes);
	*out = a;
	return WEFT_OK;
}

/* The releases weft_array_map owes for the literals in `extra` (the
 * value of a reference is NIL, whose release does nothing). */
static void
release_extra(size_t n, const weft_arg *extra)
{
	for (size_t j = 0; j < n; j++) {
		weft_value v = weft_arg_value(&extra[j]);
		weft_value_release(&v);
	}
}

int
weft_array_map(weft_array *a, weft_fn fn, size_t nextra,
    const weft_arg *extra, weft_array **out)
{
	if (out)
		*out = NULL;
	if (!a || !fn || !out || (nextra && !extra)) {
		if (nextra && extra)
			release_extra(nextra, extra);
		return WEFT_EINVAL;
	}
	weft_graph *g = a->g;
	int rc = WEFT_OK;
	weft_arg *args = weft__malloc((nextra + 1) * sizeof *args);
	weft_array *r = array_new(g, a->nchunks, SIZE_MAX, a->fanin);
	if (!args || !r)
		rc = WEFT_ENOMEM;
	if (rc == WEFT_OK && a->view && !a->copies) {
		a->copies = weft__calloc(a->nchunks, sizeof *a->copies);
		if (!a->copies)
			rc = WEFT_ENOMEM;
		for (size_t i = 0; rc == WEFT_OK && i < a->nchunks; i++) {
			char kb[64];
			a->copies[i] = WEFT_DELAYED_NAMED(g,
			    weft__key(g, kb, sizeof kb, "%s.copy-%zu", a->name, i),
			    k_copy,
			    weft_lit(weft_int(1)), weft_ref(a->chunks[i]));
			if (!weft_node_ok(a->copies[i]))
				rc = graph_err(g);
		}
		if (rc != WEFT_OK) {
			weft__free(a->copies);
			a->copies = NULL;
		}
	}
	for (size_t i = 0; rc == WEFT_OK && i < a->nchunks; i++) {
		args[0] = weft_ref(a->view ? a->copies[i] : a->chunks[i]);
		/* Each chunk's call owns one reference to each literal. */
		for (size_t j = 0; j < nextra; j++)
			args[1 + j] = weft_arg_is_ref(&extra[j]) ?
			    extra[j] :
			    lit_retained(weft_arg_value(&extra[j]));
		char kb[64];
		r->chunks[i] = weft_delayed_named(g,
		    weft__key(g, kb, sizeof kb, "%s.chunk-%zu", r->name, i), fn,
		    nextra + 1, args);
		if (!weft_node_ok(r->chunks[i]))
			rc = graph_err(g);
	}
	weft__free(args);
	release_extra(nextra, extra);
	if (rc != WEFT_OK) {
		weft_array_free(r);
		return rc;
	}
	*out = r;
	return WEFT_OK;
}

void
weft_array_free(weft_array *a)
{
	if (!a)
		return;
	weft__free(a->chunks);
	weft__free(a->copies);
	weft__free(a);
}

weft_graph *
weft_array_graph(const weft_array *a)
{
	return a ? a->g : NULL;
}

size_t
weft_array_nchunks(const weft_array *a)
{
	return a ? a->nchunks : 0;
}

weft_node
weft_array_chunk(const weft_array *a, size_t i)
{
	return a && i < a->nchunks ? a->chunks[i] : WEFT_NODE_NONE;
}

size_t
weft_array_len(const weft_array *a)
{
	return a ? a->len : SIZE_MAX;
}

/* -- moments and their finishers ----------------------------------------------- */

/* mom(view, chunk) */
static int
k_mom(weft_ctx *ctx, size_t n, const weft_value *a, weft_value *out)
{
	(void)n;
	const double *p;
	size_t len;
	int rc = chunk_of(ctx, weft_as_int(a[0]), a[1], &p, &len);
	if (rc != WEFT_OK)
		return rc;
	weft__mom m;
	weft__mom_init(&m);
	weft__mom_add(&m, p, len);
	double *d;
	rc = out_f64s(ctx, WEFT__MOM_LEN, out, &d);
	if (rc == WEFT_OK)
		weft__mom_store(&m, d);
	return rc;
}

static int
mom_in(weft_ctx *ctx, weft_value v, weft__mom *m)
{
	const double *d = weft_f64s_data(v);
	if (!d || weft_len(v) != WEFT__MOM_LEN || d[0] != WEFT__MOM_MAGIC)
		return weft_fail(ctx, "not a moments value (%s)",
		    weft_type_name(weft_type_of(v)));
	weft__mom_load(m, d);
	return WEFT_OK;
}

int
weft__k_mom_merge(weft_ctx *ctx, size_t n, const weft_value *a,
    weft_value *out)
{
	weft__mom m, o;
	int rc = mom_in(ctx, a[0], &m);
	for (size_t i = 1; rc == WEFT_OK && i < n; i++) {
		rc = mom_in(ctx, a[i], &o);
		if (rc == WEFT_OK)
			weft__mom_merge(&m, &o);
	}
	double *d;
	if (rc == WEFT_OK)
		rc = out_f64s(ctx, WEFT__MOM_LEN, out, &d);
	if (rc == WEFT_OK)
		weft__mom_store(&m, d);
	return rc;
}

enum { FIN_SUM, FIN_COUNT, FIN_MEAN, FIN_MIN, FIN_MAX, FIN_VAR, FIN_STD };

int
weft_stats_get(weft_value v, weft_stats *s)
{
	if (!s)
		return WEFT_EINVAL;
	memset(s, 0, sizeof *s);
	const double *d = weft_f64s_data(v);
	if (!d || weft_len(v) != WEFT__MOM_LEN || d[0] != WEFT__MOM_MAGIC)
		return WEFT_ETYPE;
	weft__mom m;
	weft__mom_load(&m, d);
	s->count = (int64_t)m.n;
	s->nans = (int64_t)m.nans;
	s->sum = weft__dd_value(m.sum);
	int bad = m.nans > 0 || m.n == 0;
	s->mean = bad ? NAN : s->sum / m.n;
	s->m2 = bad ? NAN : m.m2;
	s->var = bad ? NAN : m.m2 / m.n;
	s->std = sqrt(s->var);
	s->min = bad ? NAN : m.min;
	s->max = bad ? NAN : m.max;
	return WEFT_OK;
}

/* fin(what, ddof, mom) */
static int
k_fin(weft_ctx *ctx, size_t n, const weft_value *a, weft_value *out)
{
	(void)n;
	weft__mom m;
	int rc = mom_in(ctx, a[2], &m);
	if (rc != WEFT_OK)
		return rc;
	weft_stats s;
	weft_stats_get(a[2], &s);
	double ddof = (double)weft_as_int(a[1]), v;
	switch (weft_as_int(a[0])) {
	case FIN_SUM:
		v = s.sum;
		break;
	case FIN_COUNT:
		*out = weft_int(s.count);
		return WEFT_OK;
	case FIN_MEAN:
		v = s.mean;
		break;
	case FIN_MIN:
		v = s.min;
		break;
	case FIN_MAX:
		v = s.max;
		break;
	default: /* VAR, STD */
		v = (s.nans > 0 || m.n <= ddof) ? NAN : m.m2 / (m.n - ddof);
		if (weft_as_int(a[0]) == FIN_STD)
			v = sqrt(v);
		break;
	}
	*out = weft_float(v);
	return WEFT_OK;
}

static int
mom_root(weft_array *a, weft_node *root)
{
	if (weft_node_ok(a->mom)) {
		*root = a->mom;
		return WEFT_OK;
	}
	weft_node *parts = weft__malloc(a->nchunks * sizeof *parts);
	if (!parts)
		return WEFT_ENOMEM;
	int rc = WEFT_OK;
	char momname[48];
	snprintf(momname, sizeof momname, "%s.mom", a->name);
	for (size_t i = 0; i < a->nchunks; i++) {
		char kb[64];
		parts[i] = WEFT_DELAYED_NAMED(a->g,
		    weft__key(a->g, kb, sizeof kb, "%s.mom-%zu", a->name, i), k_mom,
		    weft_lit(weft_int(a->view)),
		    weft_ref(a->chunks[i]));
		if (!weft_node_ok(parts[i])) {
			rc = graph_err(a->g);
			break;
		}
	}
	if (rc == WEFT_OK)
		rc = weft__tree(a->g, momname, weft__k_mom_merge, 0, NULL,
		    a->nchunks, parts, a->fanin, &a->mom);
	weft__free(parts);
	if (rc == WEFT_OK)
		*root = a->mom;
	return rc;
}

static int
fin(weft_array *a, int what, unsigned ddof, weft_node *out)
{
	if (!a || !out)
		return WEFT_EINVAL;
	weft_node root;
	int rc = mom_root(a, &root);
	if (rc != WEFT_OK)
		return rc;
	static const char *const fname[] = { "sum", "count", "mean", "min",
		"max", "var", "std" };
	char kb[64];
	*out = WEFT_DELAYED_NAMED(a->g,
	    weft__key(a->g, kb, sizeof kb, "%s.%s", a->name, fname[what]), k_fin,
	    weft_lit(weft_int(what)),
	    weft_lit(weft_int(ddof)), weft_ref(root));
	return weft_node_ok(*out) ? WEFT_OK : graph_err(a->g);
}

int
weft_array_sum(weft_array *a, weft_node *out)
{
	return fin(a, FIN_SUM, 0, out);
}

int
weft_array_count(weft_array *a, weft_node *out)
{
	return fin(a, FIN_COUNT, 0, out);
}

int
weft_array_mean(weft_array *a, weft_node *out)
{
	return fin(a, FIN_MEAN, 0, out);
}

int
weft_array_min(weft_array *a, weft_node *out)
{
	return fin(a, FIN_MIN, 0, out);
}

int
weft_array_max(weft_array *a, weft_node *out)
{
	return fin(a, FIN_MAX, 0, out);
}

int
weft_array_var(weft_array *a, unsigned ddof, weft_node *out)
{
	return fin(a, FIN_VAR, ddof, out);
}

int
weft_array_std(weft_array *a, unsigned ddof, weft_node *out)
{
	return fin(a, FIN_STD, ddof, out);
}

int
weft_array_stats(weft_array *a, weft_node *out)
{
	if (!a || !out)
		return WEFT_EINVAL;
	return mom_root(a, out);
}

/* -- per-chunk kernels with their merge -------------------------------------------- */

/* Runs `kern` on every chunk (literals first, then the chunk) and merges
 * the results in a tree. */
static int
map_reduce(weft_array *a, const char *what, weft_fn kern, size_t nlit,
    const weft_value *lits, weft_fn merge, weft_node *root)
{
	weft_node *parts = weft__malloc(a->nchunks * sizeof *parts);
	if (!parts)
		return WEFT_ENOMEM;
	int rc = WEFT_OK;
	for (size_t i = 0; i < a->nchunks; i++) {
		char kb[64];
		parts[i] = weft__node1(a->g,
		    weft__key(a->g, kb, sizeof kb, "%s.%s-%zu", a->name, what, i),
		    kern, a->chunks[i], nlit, lits);
		if (!weft_node_ok(parts[i])) {
			rc = graph_err(a->g);
			break;
		}
	}
	if (rc == WEFT_OK)
	{
		char tn[64];
		snprintf(tn, sizeof tn, "%s.%s", a->name, what);
		rc = weft__tree(a->g, tn, merge, 0, NULL, a->nchunks, parts,
		    a->fanin, root);
	}
	weft__free(parts);
	return rc;
}

int
weft__k_vec_add(weft_ctx *ctx, size_t n, const weft_value *a,
    weft_value *out)
{
	size_t len = weft_len(a[0]);
	for (size_t i = 0; i < n; i++)
		if (weft_type_of(a[i]) != WEFT_F64S || weft_len(a[i]) != len)
			return weft_fail(ctx, "array.vadd: argument %zu is not an "
					      "f64s of length %zu",
			    i + 1, len);
	double *d;
	int rc = out_f64s(ctx, len, out, &d);
	if (rc != WEFT_OK)
		return rc;
	for (size_t i = 0; i < n; i++) {
		const double *s = weft_f64s_data(a[i]);
		for (size_t j = 0; j < len; j++)
			d[j] += s[j];
	}
	return WEFT_OK;
}

int
weft__hist_fill(const double *p, size_t len, double lo, double hi, size_t nb,
    double *cnt)
{
	/* numpy.linspace(lo, hi, nb + 1): i * step + lo, the last = hi */
	double *edge = weft__malloc((nb + 1) * sizeof *edge);
	if (!edge)
		return WEFT_ENOMEM;
	double step = (hi - lo) / (double)nb;
	for (size_t i = 0; i < nb; i++)
		edge[i] = (double)i * step + lo;
	edge[nb] = hi;
	double den = hi - lo, num = (double)nb;
	for (size_t i = 0; i < len; i++) {
		double x = p[i];
		if (!(x >= lo && x <= hi)) /* also drops NaN */
			continue;
		size_t k = (size_t)(((x - lo) / den) * num);
		if (k >= nb)
			k = nb - 1;
		if (x < edge[k])
			k--;
		else if (k != nb - 1 && x >= edge[k + 1])
			k++;
		cnt[k] += 1;
	}
	weft__free(edge);
	return WEFT_OK;
}

/* hist(view, lo, hi, nbins, chunk): numpy.histogram's uniform-bin path. */
static int
k_hist(weft_ctx *ctx, size_t n, const weft_value *a, weft_value *out)
{
	(void)n;
	const double *p;
	size_t len;
	int rc = chunk_of(ctx, weft_as_int(a[0]), a[4], &p, &len);
	if (rc != WEFT_OK)
		return rc;
	double lo = weft_as_float(a[1]), hi = weft_as_float(a[2]);
	size_t nb = (size_t)weft_as_int(a[3]);
	double *cnt;
	rc = out_f64s(ctx, nb, out, &cnt);
	if (rc != WEFT_OK)
		return rc;
	if (weft__hist_fill(p, len, lo, hi, nb, cnt) != WEFT_OK) {
		weft_value_release(out);
		return weft_fail(ctx, "out of memory");
	}
	return WEFT_OK;
}

int
weft_array_histogram(
    weft_array *a, double lo, double hi, size_t nbins, weft_node *out)
{
	if (!a || !out || !isfinite(lo) || !isfinite(hi) || !(lo < hi) ||
	    nbins < 1 || nbins > ((size_t)1 << 24))
		return WEFT_EINVAL;
	weft_value lits[4] = { weft_int(a->view), weft_float(lo), weft_float(hi),
		weft_int((int64_t)nbins) };
	return map_reduce(a, "hist", k_hist, 4, lits, weft__k_vec_add, out);
}

/* -- dot ---------------------------------------------------------------------------- */

/* dot(view_a, view_b, index, a, b) -> F64S {hi, lo} */
static int
k_dot(weft_ctx *ctx, size_t n, const weft_value *a, weft_value *out)
{
	(void)n;
	const double *x, *y;
	size_t nx, ny;
	int rc = chunk_of(ctx, weft_as_int(a[0]), a[3], &x, &nx);
	if (rc == WEFT_OK)
		rc = chunk_of(ctx, weft_as_int(a[1]), a[4], &y, &ny);
	if (rc != WEFT_OK)
		return rc;
	if (nx != ny)
		return weft_fail(ctx, "dot: chunk %lld has %zu and %zu elements",
		    (long long)weft_as_int(a[2]), nx, ny);
	double h[4] = { 0, 0, 0, 0 }, c[4] = { 0, 0, 0, 0 };
	size_t i = 0;
	for (; i + 4 <= nx; i += 4) {
		for (int l = 0; l < 4; l++) {
			double s, e;
			weft__two_sum(h[l], x[i + l] * y[i + l], &s, &e);
			h[l] = s;
			c[l] += e;
		}
	}
	for (; i < nx; i++) {
		double s, e;
		weft__two_sum(h[0], x[i] * y[i], &s, &e);
		h[0] = s;
		c[0] += e;
	}
	weft__dd t = { 0, 0 };
	for (int l = 0; l < 4; l++) {
		weft__dd u = { h[l], c[l] };
		weft__dd_add_dd(&t, u);
	}
	double *d;
	rc = out_f64s(ctx, 2, out, &d);
	if (rc == WEFT_OK) {
		d[0] = t.hi;
		d[1] = t.lo;
	}
	return rc;
}

static int
k_dd_merge(weft_ctx *ctx, size_t n, const weft_value *a, weft_value *out)
{
	weft__dd t = { 0, 0 };
	for (size_t i = 0; i < n; i++) {
		const double *s = weft_f64s_data(a[i]);
		if (!s || weft_len(a[i]) != 2)
			return weft_fail(ctx, "dd_merge: bad partial %zu", i);
		weft__dd u = { s[0], s[1] };
		weft__dd_add_dd(&t, u);
	}
	double *d;
	int rc = out_f64s(ctx, 2, out, &d);
	if (rc == WEFT_OK) {
		d[0] = t.hi;
		d[1] = t.lo;
	}
	return rc;
}

static int
k_dd_fin(weft_ctx *ctx, size_t n, const weft_value *a, weft_value *out)
{
	(void)n;
	const double *s = weft_f64s_data(a[0]);
	if (!s || weft_len(a[0]) != 2)
		return weft_fail(ctx, "dd_fin: bad partial");
	weft__dd t = { s[0], s[1] };
	*out = weft_float(weft__dd_value(t));
	return WEFT_OK;
}

int
weft_array_dot(weft_array *a, weft_array *b, weft_node *out)
{
	if (!a || !b || !out || a->g != b->g || a->nchunks != b->nchunks)
		return WEFT_EINVAL;
	if (a->len != SIZE_MAX && b->len != SIZE_MAX && a->len != b->len)
		return WEFT_EINVAL;
	weft_node *parts = weft__malloc(a->nchunks * sizeof *parts);
	if (!parts)
		return WEFT_ENOMEM;
	int rc = WEFT_OK;
	for (size_t i = 0; i < a->nchunks; i++) {
		char kb[64];
		parts[i] = WEFT_DELAYED_NAMED(a->g,
		    weft__key(a->g, kb, sizeof kb, "%s.dot-%zu", a->name, i), k_dot,
		    weft_lit(weft_int(a->view)),
		    weft_lit(weft_int(b->view)), weft_lit(weft_int((int64_t)i)),
		    weft_ref(a->chunks[i]), weft_ref(b->chunks[i]));
		if (!weft_node_ok(parts[i])) {
			rc = graph_err(a->g);
			break;
		}
	}
	weft_node root;
	if (rc == WEFT_OK)
		rc = weft__tree(a->g, NULL, k_dd_merge, 0, NULL, a->nchunks, parts,
		    a->fanin, &root);
	weft__free(parts);
	if (rc != WEFT_OK)
		return rc;
	*out = WEFT_DELAYED(a->g, k_dd_fin, weft_ref(root));
	return weft_node_ok(*out) ? WEFT_OK : graph_err(a->g);
}

/* -- quantiles ---------------------------------------------------------------------- */

/* sort(view, chunk): a sorted copy, NaNs last. */
static int
k_sort(weft_ctx *ctx, size_t n, const weft_value *a, weft_value *out)
{
	(void)n;
	const double *p;
	size_t len;
	int rc = chunk_of(ctx, weft_as_int(a[0]), a[1], &p, &len);
	if (rc != WEFT_OK)
		return rc;
	if (weft_f64s_new(len, p, out) != WEFT_OK)
		return weft_fail(ctx, "out of memory (%zu doubles)", len);
	weft__sort_f64(weft_f64s_data_mut(*out), len);
	return WEFT_OK;
}

/* quant(qs, run...) */
static int
k_quant(weft_ctx *ctx, size_t n, const weft_value *a, weft_value *out)
{
	size_t nq = weft_len(a[0]), m = n - 1;
	const double *q = weft_f64s_data(a[0]);
	double *r;
	int rc = out_f64s(ctx, nq, out, &r);
	if (rc != WEFT_OK)
		return rc;
	const double **run = weft__malloc(m * sizeof *run);
	size_t *len = weft__malloc(m * sizeof *len);
	void *scratch = weft__malloc(weft__select_scratch(m));
	if (!run || !len || !scratch) {
		weft__free(run);
		weft__free(len);
		weft__free(scratch);
		weft_value_release(out);
		return weft_fail(ctx, "out of memory");
	}
	size_t total = 0;
	int nan = 0;
	for (size_t i = 0; i < m; i++) {
		run[i] = weft_f64s_data(a[1 + i]);
		len[i] = weft_len(a[1 + i]);
		total += len[i];
		if (len[i] && isnan(run[i][len[i] - 1]))
			nan = 1;
	}
	for (size_t j = 0; j < nq; j++) {
		if (nan || total == 0) {
			r[j] = NAN;
			continue;
		}
		double h = weft__qindex(total, q[j]);
		if (h >= (double)(total - 1)) {
			r[j] = weft__select_rank(m, run, len, total - 1, scratch);
		} else if (h < 0) {
			r[j] = weft__select_rank(m, run, len, 0, scratch);
		} else {
			double fl = floor(h);
			size_t k = (size_t)fl;
			double x0 = weft__select_rank(m, run, len, k, scratch);
			double x1 = weft__select_rank(m, run, len, k + 1, scratch);
			r[j] = weft__lerp(x0, x1, h - fl);
		}
	}
	weft__free(run);
	weft__free(len);
	weft__free(scratch);
	return WEFT_OK;
}

int
weft_array_quantiles(
    weft_array *a, size_t nq, const double *q, weft_node *out)
{
	if (!a || !out || !q || nq == 0)
		return WEFT_EINVAL;
	for (size_t j = 0; j < nq; j++)
		if (!(q[j] >= 0 && q[j] <= 1))
			return WEFT_EINVAL;
	weft_value qs = weft_f64s(q, nq);
	if (weft_is_nil(qs))
		return WEFT_ENOMEM;
	weft_arg *args = weft__malloc((a->nchunks + 1) * sizeof *args);
	if (!args) {
		weft_value_release(&qs);
		return WEFT_ENOMEM;
	}
	args[0] = weft_lit(qs);
	int rc = WEFT_OK;
	for (size_t i = 0; i < a->nchunks; i++) {
		char kb[64];
		weft_node s = WEFT_DELAYED_NAMED(a->g,
		    weft__key(a->g, kb, sizeof kb, "%s.sort-%zu", a->name, i), k_sort,
		    weft_lit(weft_int(a->view)), weft_ref(a->chunks[i]));
		if (!weft_node_ok(s)) {
			rc = graph_err(a->g);
			break;
		}
		args[1 + i] = weft_ref(s);
	}
	if (rc == WEFT_OK) {
		char kb[64];
		*out = weft_delayed_named(a->g,
		    weft__key(a->g, kb, sizeof kb, "%s.quantiles", a->name), k_quant,
		    a->nchunks + 1, args);
		if (!weft_node_ok(*out))
			rc = graph_err(a->g);
	} else {
		weft_value_release(&qs);
	}
	weft__free(args);
	return rc;
}
