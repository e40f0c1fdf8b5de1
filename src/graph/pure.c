/*
 * Pure calls: nodes whose key is derived from the function and a hash of
 * the arguments (Dask's tokenize), so building the same call twice gives
 * the same node; and the names of functions, which such keys start with.
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
	if (fn && dladdr((void *)(uintptr_t)fn, &info) && info.dli_sname &&
	    info.dli_saddr == (void *)(uintptr_t)fn) {
		snprintf(buf, size, "%s", info.dli_sname);
		return buf;
	}
	return NULL;
}

const char *
weft__fn_label(weft_fn fn, char *buf, size_t size)
{
	if (weft__fn_name(fn, buf, size))
		return buf;
	Dl_info info;
	if (fn && dladdr((void *)(uintptr_t)fn, &info) && info.dli_fname) {
		/* a static function: where it is, which a reader can look
		 * up with addr2line or nm */
		const char *base = strrchr(info.dli_fname, '/');
		base = base ? base + 1 : info.dli_fname;
		uintptr_t off = (uintptr_t)fn - (uintptr_t)info.dli_fbase;
		snprintf(buf, size, "%s+0x%" PRIxPTR,
		    *base ? base : "(main)", off);
		return buf;
	}
	snprintf(buf, size, "fn@%p", (void *)(uintptr_t)fn);
	return buf;
}

/* -- pure calls ------------------------------------------------------------ */

static uint64_t
mix(uint64_t h, uint64_t x)
{
	h ^= x + 0x9E3779B97F4A7C15ull + (h << 6) + (h >> 2);
	return h * 0xff51afd7ed558ccdull;
}

static uint64_t
hash_bytes(uint64_t h, const void *p, size_t n)
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
hash_value(uint64_t h, weft_value v, int depth)
{
	weft_type t = weft_type_of(v);
	h = mix(h, (uint64_t)t);
	switch (t) {
	case WEFT_BOOL:
	case WEFT_INT:
		return mix(h, (uint64_t)weft_as_int(v));
	case WEFT_FLOAT: {
		double d = weft_as_float(v);
		uint64_t u;
		memcpy(&u, &d, sizeof u);
		return mix(h, u);
	}
	case WEFT_STR:
	case WEFT_BYTES:
		return hash_bytes(h, weft_bytes_data(v), weft_len(v));
	case WEFT_F64S:
		return hash_bytes(
		    h, weft_f64s_data(v), weft_len(v) * sizeof(double));
	case WEFT_LIST:
		h = mix(h, weft_len(v));
		if (depth < 8)
			for (size_t i = 0; i < weft_len(v); i++)
				h = hash_value(
				    h, weft_list_get(v, i), depth + 1);
		return h;
	case WEFT_PTR:
		return mix(h, (uint64_t)(uintptr_t)weft_ptr_get(v));
	default:
		return h;
	}
}

/* Whether node i is the call fn(args). */
static int
same_call(
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
	/* The key must mean the same call in another process (a cache key,
	 * like Dask's tokenize): the function counts by its name when the
	 * dynamic linker knows it, by address only when it does not. */
	char name[96], key[128];
	uint64_t h = 0x51ed270b27d1ce7bull;
	if (weft__fn_name(fn, name, sizeof name))
		h = hash_bytes(h, name, strlen(name));
	else {
		snprintf(name, sizeof name, "pure");
		h = mix(h, (uint64_t)(uintptr_t)fn);
	}
	h = mix(h, nargs);
	char kb[256];
	for (size_t k = 0; k < nargs; k++) {
		if (args[k].kind == 2 && weft_value_failed(args[k].lit)) {
			return weft_delayed(g, fn, nargs, args); /* error */
		} else if (args[k].kind == 2) {
			h = hash_value(mix(h, 2), args[k].lit, 0);
		} else if (args[k].kind == 1 &&
		    weft__graph_index(g, args[k].node) != WEFT__NONE) {
			const char *key = weft__graph_key(g,
			    (uint32_t)args[k].node.id, kb, sizeof kb);
			h = hash_bytes(mix(h, 1), key, strlen(key));
		} else {
			return weft_delayed(g, fn, nargs, args); /* error */
		}
	}
	snprintf(key, sizeof key, "%s-%016" PRIx64, name, h);
	weft_node old = weft_graph_find(g, key);
	if (weft_node_ok(old)) {
		uint32_t i = (uint32_t)old.id;
		if (!same_call(g, i, fn, nargs, args)) {
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

