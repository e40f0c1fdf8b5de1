/*
 * The analytics as registered functions, so that a JSON graph run by
 * `weft run` can read and aggregate a CSV file, or reduce generated arrays,
 * chunk by chunk (examples/analytics/csv_graph.py writes such graphs).
 *
 *   csv.chunk(path, i, n, key, agg...)  range i of n of the file -> partial
 *       key: "col" (string keys), "col:int" (integer keys) or null (no
 *       grouping); agg: "op:col" with op count|sum|mean|min|max|var|std,
 *       or "count" (rows)
 *   csv.merge(partial...)   partials of consecutive ranges, in file order
 *   csv.frame(partial)      the frame (weft/csv.h), or the first bad row
 *   csv.info(partial)       [rows, skipped, lines, first skipped | null]
 *   array.gen(kind, a, b, seed, start, len)  elements start.. of a generated
 *       array (kind "range", "uniform" or "normal", see weft_gen) -> f64s
 *   array.moments(f64s)     count, sum, M2, min, max of a chunk
 *   array.merge(moments...) merged moments
 *   array.stats(moments)    [["count", n], ["sum", s], ["mean", m],
 *                            ["std", s], ["min", a], ["max", b]]
 *   array.hist(lo, hi, nbins, f64s)  counts per bin (numpy's bins)
 *   array.vadd(f64s...)     element-wise sum (merges histograms)
 *
 * A partial is a PTR value that only these functions read; they check its
 * tag before using it.
 */
#include "analytics/analytics.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "base/alloc.h"
#include "weft/csv.h"
#include "weft/registry.h"

#define PART_TAG 0x57504152u /* "WPAR" */

struct regpart {
	uint32_t tag;
	weft_value spec; /* PTR to the weft__csv_spec, retained */
	weft__part *pt;
};

static void
regpart_free(void *v)
{
	struct regpart *r = v;
	r->tag = 0;
	weft_value_release(&r->spec);
	weft__part_free(r->pt);
	weft__free(r);
}

static const struct regpart *
regpart_of(weft_value v)
{
	const struct regpart *r = weft_ptr_get(v);
	return r && r->tag == PART_TAG ? r : NULL;
}

static int
wrap_part(weft_ctx *ctx, weft_value spec, weft__part *pt, weft_value *out)
{
	struct regpart *r = weft__malloc(sizeof *r);
	if (!r) {
		weft__part_free(pt);
		return weft_fail(ctx, "out of memory");
	}
	r->tag = PART_TAG;
	r->spec = weft_value_retain(spec);
	r->pt = pt;
	*out = weft_ptr(r, regpart_free);
	return weft_is_nil(*out) ? weft_fail(ctx, "out of memory") : WEFT_OK;
}

static const char *const ops[] = { "count", "sum", "mean", "min", "max",
	"var", "std" };

static int
r_csv_chunk(weft_ctx *ctx, size_t n, const weft_value *a, weft_value *out)
{
	const char *path = weft_as_str(a[0]);
	int64_t i = weft_as_int(a[1]), nch = weft_as_int(a[2]);
	if (!path || weft_type_of(a[1]) != WEFT_INT ||
	    weft_type_of(a[2]) != WEFT_INT || nch < 1 || i < 0 || i >= nch ||
	    nch > (int64_t)(WEFT_MAX_NODES / 4))
		return weft_fail(ctx, "csv.chunk(path, i, n, key, agg...): want "
				      "a path and 0 <= i < n");
	if (!weft_is_nil(a[3]) && !weft_as_str(a[3]))
		return weft_fail(ctx, "csv.chunk: key must be a string or null");
	size_t naggs = n - 4;
	if (naggs == 0 || naggs > 256)
		return weft_fail(ctx, "csv.chunk: want 1 to 256 aggregates");

	/* Names are parsed into one scratch block: keys and columns point
	 * into it. */
	char keybuf[256];
	weft_csv_query q;
	memset(&q, 0, sizeof q);
	weft_csv_agg *ag = weft__calloc(naggs, sizeof *ag);
	char **cols = weft__calloc(naggs, sizeof *cols);
	int rc = ag && cols ? WEFT_OK : WEFT_ENOMEM;
	char msg[512] = "out of memory";
	if (rc == WEFT_OK && weft_as_str(a[3])) {
		snprintf(keybuf, sizeof keybuf, "%s", weft_as_str(a[3]));
		size_t kl = strlen(keybuf);
		q.key_type = WEFT_CSV_STR;
		if (kl > 4 && strcmp(keybuf + kl - 4, ":int") == 0) {
			keybuf[kl - 4] = 0;
			q.key_type = WEFT_CSV_INT;
		} else if (kl > 4 && strcmp(keybuf + kl - 4, ":str") == 0) {
			keybuf[kl - 4] = 0;
		}
		q.group_by = keybuf;
	}
	for (size_t k = 0; rc == WEFT_OK && k < naggs; k++) {
		const char *s = weft_as_str(a[4 + k]);
		const char *colon = s ? strchr(s, ':') : NULL;
		size_t ol = colon ? (size_t)(colon - s) : s ? strlen(s) : 0;
		int op = -1;
		for (int j = 0; s && j < 7; j++)
			if (strlen(ops[j]) == ol && strncmp(s, ops[j], ol) == 0)
				op = j;
		if (op < 0 || (!colon && op != WEFT_AGG_COUNT)) {
			snprintf(msg, sizeof msg,
			    "csv.chunk: aggregate %zu: want \"op:column\" (op "
			    "count, sum, mean, min, max, var or std) or \"count\"",
			    k + 1);
			rc = WEFT_EINVAL;
			break;
		}
		ag[k].op = (weft_agg)op;
		if (colon) {
			cols[k] = weft__strdup(colon + 1);
			if (!cols[k]) {
				rc = WEFT_ENOMEM;
				break;
			}
			ag[k].column = cols[k];
		}
	}
	q.naggs = naggs;
	q.aggs = ag;
	weft_csv *c = NULL;
	weft__csv_spec *sp = NULL;
	if (rc == WEFT_OK) {
		weft_csv_opts o = { .nchunks = (size_t)nch };
		rc = weft_csv_open(path, &o, &c, msg, sizeof msg);
	}
	if (rc == WEFT_OK) {
		rc = weft__csv_query_spec(c, &q, &sp);
		if (rc == WEFT_ENOTFOUND)
			snprintf(msg, sizeof msg, "%s: no such column in the header",
			    path);
		else if (rc == WEFT_EINVAL)
			snprintf(msg, sizeof msg,
			    "%s: a column is both the key and aggregated, or "
			    "aggregated as two types",
			    path);
	}
	weft_csv_free(c);
	for (size_t k = 0; cols && k < naggs; k++)
		weft__free(cols[k]);
	weft__free(cols);
	weft__free(ag);
	if (rc != WEFT_OK)
		return weft_fail(ctx, "%s", msg);

	weft_value spec = weft_ptr(sp, weft__csv_spec_free);
	weft__part *pt = weft_is_nil(spec) ? NULL : weft__part_new(sp);
	if (!pt) {
		weft_value_release(&spec);
		return weft_fail(ctx, "out of memory");
	}
	rc = weft__csv_scan(sp, (size_t)i, 0, pt, msg, sizeof msg);
	if (rc != WEFT_OK) {
		weft__part_free(pt);
		weft_value_release(&spec);
		return weft_fail(ctx, "%s", msg);
	}
	rc = wrap_part(ctx, spec, pt, out);
	weft_value_release(&spec);
	return rc;
}

static int
r_csv_merge(weft_ctx *ctx, size_t n, const weft_value *a, weft_value *out)
{
	const struct regpart *first = regpart_of(a[0]);
	if (!first)
		return weft_fail(ctx, "csv.merge: argument 1 is not a csv.chunk "
				      "partial");
	weft__part *m = weft__part_copy(first->pt);
	if (!m)
		return weft_fail(ctx, "out of memory");
	for (size_t i = 1; i < n; i++) {
		const struct regpart *r = regpart_of(a[i]);
		const weft__csv_spec *a = weft_ptr_get(first->spec),
				     *b = r ? weft_ptr_get(r->spec) : NULL;
		/* Each csv.chunk opened the file itself: partials of two
		 * versions of it would count rows twice or not at all. */
		if (r && r->pt->nval == m->nval &&
		    r->pt->key_type == m->key_type && a->nchunks == b->nchunks &&
		    strcmp(a->path, b->path) == 0 &&
		    !weft__csv_same_version(a, b)) {
			weft__part_free(m);
			return weft_fail(ctx,
			    "csv.merge: %s: file changed since it was opened "
			    "(argument %zu read another version of it)",
			    a->path, i + 1);
		}
		if (!r || r->pt->nval != m->nval || r->pt->key_type != m->key_type ||
		    a->nchunks != b->nchunks || strcmp(a->path, b->path) != 0) {
			weft__part_free(m);
			return weft_fail(ctx,
			    "csv.merge: argument %zu is not a partial of the "
			    "same query",
			    i + 1);
		}
		if (weft__part_merge(m, r->pt) != WEFT_OK) {
			weft__part_free(m);
			return weft_fail(ctx, "out of memory");
		}
	}
	return wrap_part(ctx, first->spec, m, out);
}

static int
r_csv_frame(weft_ctx *ctx, size_t n, const weft_value *a, weft_value *out)
{
	(void)n;
	const struct regpart *r = regpart_of(a[0]);
	if (!r)
		return weft_fail(ctx, "csv.frame: not a csv.chunk partial");
	return weft__csv_frame(ctx, weft_ptr_get(r->spec), r->pt, out);
}

static int
r_csv_info(weft_ctx *ctx, size_t n, const weft_value *a, weft_value *out)
{
	(void)n;
	const struct regpart *r = regpart_of(a[0]);
	if (!r)
		return weft_fail(ctx, "csv.info: not a csv.chunk partial");
	return weft__csv_info(ctx, weft_ptr_get(r->spec), r->pt, out);
}

/* -- arrays ------------------------------------------------------------------ */

static int
r_array_gen(weft_ctx *ctx, size_t n, const weft_value *a, weft_value *out)
{
	(void)n;
	static const char *const kinds[] = { "range", "uniform", "normal" };
	const char *k = weft_as_str(a[0]);
	weft_gen g;
	memset(&g, 0, sizeof g);
	int kind = -1;
	for (int i = 0; k && i < 3; i++)
		if (strcmp(k, kinds[i]) == 0)
			kind = i;
	int64_t start = weft_as_int(a[4]), len = weft_as_int(a[5]);
	if (kind < 0 || start < 0 || len < 0 || len > ((int64_t)1 << 32))
		return weft_fail(ctx, "array.gen(kind, a, b, seed, start, len): "
				      "kind is range, uniform or normal; "
				      "start, len >= 0");
	g.kind = (weft_gen_kind)kind;
	g.a = weft_as_float(a[1]);
	g.b = weft_as_float(a[2]);
	g.seed = (uint64_t)weft_as_int(a[3]);
	if (weft_f64s_new((size_t)len, NULL, out) != WEFT_OK)
		return weft_fail(ctx, "out of memory");
	weft__gen_fill(&g, (size_t)start, weft_f64s_data_mut(*out), (size_t)len);
	return WEFT_OK;
}

static int
r_array_moments(weft_ctx *ctx, size_t n, const weft_value *a, weft_value *out)
{
	(void)n;
	if (weft_type_of(a[0]) != WEFT_F64S)
		return weft_fail(ctx, "array.moments: want an f64s, got %s",
		    weft_type_name(weft_type_of(a[0])));
	weft__mom m;
	weft__mom_init(&m);
	weft__mom_add(&m, weft_f64s_data(a[0]), weft_len(a[0]));
	*out = weft__mom_value(&m);
	return weft_is_nil(*out) ? weft_fail(ctx, "out of memory") : WEFT_OK;
}

static int
r_array_stats(weft_ctx *ctx, size_t n, const weft_value *a, weft_value *out)
{
	(void)n;
	weft_stats s;
	if (weft_stats_get(a[0], &s) != WEFT_OK)
		return weft_fail(ctx, "array.stats: not an array.moments value");
	static const char *const names[] = { "count", "sum", "mean", "std",
		"min", "max" };
	weft_value v[6] = { weft_int(s.count), weft_float(s.sum),
		weft_float(s.mean), weft_float(s.std), weft_float(s.min),
		weft_float(s.max) };
	if (weft_list_new(6, out) != WEFT_OK)
		return weft_fail(ctx, "out of memory");
	for (int i = 0; i < 6; i++) {
		weft_value pair[2] = { weft_str(names[i]), v[i] };
		weft_value p = weft_list(2, pair);
		weft_value_release(&pair[0]);
		if (weft_is_nil(p) || weft_list_set(out, (size_t)i, p) != WEFT_OK) {
			weft_value_release(out);
			return weft_fail(ctx, "out of memory");
		}
	}
	return WEFT_OK;
}

static int
r_array_hist(weft_ctx *ctx, size_t n, const weft_value *a, weft_value *out)
{
	(void)n;
	double lo = weft_as_float(a[0]), hi = weft_as_float(a[1]);
	int64_t nb = weft_as_int(a[2]);
	if (!isfinite(lo) || !isfinite(hi) || !(lo < hi) || nb < 1 ||
	    nb > (1 << 24) || weft_type_of(a[3]) != WEFT_F64S)
		return weft_fail(ctx, "array.hist(lo, hi, nbins, f64s): want lo < "
				      "hi, 1 <= nbins <= 2^24");
	if (weft_f64s_new((size_t)nb, NULL, out) != WEFT_OK ||
	    weft__hist_fill(weft_f64s_data(a[3]), weft_len(a[3]), lo, hi,
		(size_t)nb, weft_f64s_data_mut(*out)) != WEFT_OK) {
		weft_value_release(out);
		return weft_fail(ctx, "out of memory");
	}
	return WEFT_OK;
}

int
weft_registry_add_analytics(weft_registry *r)
{
	static const struct {
		const char *name;
		weft_fn fn;
		int min, max;
		const char *help;
	} fns[] = {
		{ "csv.chunk", r_csv_chunk, 5, WEFT_ARGS_ANY,
		    "csv.chunk(path, i, n, key, \"op:col\"...): aggregates of "
		    "byte range i of n" },
		{ "csv.merge", r_csv_merge, 1, WEFT_ARGS_ANY,
		    "merge csv.chunk partials of consecutive ranges" },
		{ "csv.frame", r_csv_frame, 1, 1,
		    "the group-by frame of a merged partial" },
		{ "csv.info", r_csv_info, 1, 1,
		    "[rows, skipped, lines, first skipped] of a partial" },
		{ "array.gen", r_array_gen, 6, 6,
		    "array.gen(kind, a, b, seed, start, len): generated chunk" },
		{ "array.moments", r_array_moments, 1, 1,
		    "count, sum, M2, min, max of an f64s chunk" },
		{ "array.merge", weft__k_mom_merge, 1, WEFT_ARGS_ANY,
		    "merge array.moments values (Chan's formula)" },
		{ "array.stats", r_array_stats, 1, 1,
		    "count, sum, mean, std, min, max of merged moments" },
		{ "array.hist", r_array_hist, 4, 4,
		    "array.hist(lo, hi, nbins, f64s): numpy's histogram counts" },
		{ "array.vadd", weft__k_vec_add, 1, WEFT_ARGS_ANY,
		    "element-wise sum of f64s values of one length" },
	};
	if (!r)
		return WEFT_EINVAL;
	/* Through the public API, as a plugin would: the first error is
	 * returned and the other functions are added anyway. */
	int first = WEFT_OK;
	for (size_t i = 0; i < sizeof fns / sizeof fns[0]; i++) {
		int rc = weft_registry_add(r, fns[i].name, fns[i].fn, fns[i].min,
		    fns[i].max, fns[i].help);
		if (rc != WEFT_OK && first == WEFT_OK)
			first = rc;
	}
	return first;
}
