/*
 * Graph files across ranks. Rank 0 reads the file and broadcasts it; every
 * rank checks it with the spec reader (weft_spec_load_buffer), so errors
 * are exactly weft run's; then every rank compiles each key's computation
 * again, following the same rules, into a node of a weft_mpi_graph. The
 * spec reader builds an opaque weft_graph, and a compute across ranks
 * needs each key's dependencies, hence the second reading.
 *
 * The rules mirror src/spec/load.c and eval.c: a key whose computation is
 * one call with literal or reference arguments becomes a node calling that
 * function directly; any other computation (nested calls, lists, aliases,
 * literals) becomes a node running wm_spec_eval() over its compiled
 * expression, with the keys it references as arguments.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mpi/mpi_int.h"

enum { X_LIT, X_ARG, X_CALL, X_LIST };

typedef struct sx {
	uint8_t kind;
	uint32_t n; /* CALL: arguments; LIST: items; ARG: dependency slot */
	const weft_func_info *fn;
	weft_value lit;
	struct sx **kids;
} sx;

struct skey {
	const char *name;
	json_t *v;
	int rank;
	sx *e;
	uint32_t *deps;
	uint32_t ndeps;
	uint8_t mark, need;
	weft_node node;
};

struct weft_mpi_spec {
	weft_mpi *m;
	weft_spec *ws;
	weft_mpi_graph *g;
	weft_node *targets;
	size_t ntargets;
	void **allocs; /* everything compiled, freed together */
	size_t nallocs, capallocs;
	sx **lits;
	size_t nlits, caplits;
};

struct cc {
	weft_mpi_spec *s;
	const weft_registry *reg;
	struct skey *keys;
	size_t nkeys;
	uint32_t *map; /* key name -> index + 1 */
	size_t mapcap;
	uint32_t *seen, *slot, *deps;
	size_t ndeps, capdeps, cur;
};

static int
grow(void **p, size_t *cap, size_t need, size_t size)
{
	size_t nc = *cap ? *cap : 16;
	void *np;

	if (need <= *cap)
		return 0;
	while (nc < need)
		nc *= 2;
	np = realloc(*p, nc * size);
	if (!np)
		return -1;
	*p = np;
	*cap = nc;
	return 0;
}

static void *
salloc(weft_mpi_spec *s, size_t size)
{
	void *p;

	if (grow((void **)&s->allocs, &s->capallocs, s->nallocs + 1,
		sizeof(void *)))
		return NULL;
	p = calloc(1, size ? size : 1);
	if (p)
		s->allocs[s->nallocs++] = p;
	return p;
}

/* -- keys -------------------------------------------------------------------- */

static size_t
key_slot(const struct cc *c, const char *name, size_t len)
{
	size_t mask = c->mapcap - 1;
	size_t h = (size_t)wm_hash_bytes(3, name, len) & mask;

	while (c->map[h]) {
		const char *k = c->keys[c->map[h] - 1].name;
		if (strncmp(k, name, len) == 0 && k[len] == '\0')
			break;
		h = (h + 1) & mask;
	}
	return h;
}

static size_t
find_key(const struct cc *c, const char *name, size_t len)
{
	size_t h = key_slot(c, name, len);
	return c->map[h] ? c->map[h] - 1 : WM_NONE;
}

/* -- compiling (load.c's rules, on input the spec reader accepted) ----------- */

static int
literal(const json_t *v, weft_value *out)
{
	*out = weft_nil();
	switch (json_typeof(v)) {
	case JSON_INTEGER:
		*out = weft_int((int64_t)json_integer_value(v));
		return WEFT_OK;
	case JSON_REAL:
		*out = weft_float(json_real_value(v));
		return WEFT_OK;
	case JSON_TRUE:
		*out = weft_bool(true);
		return WEFT_OK;
	case JSON_FALSE:
		*out = weft_bool(false);
		return WEFT_OK;
	case JSON_NULL:
		return WEFT_OK;
	case JSON_STRING:
		*out = weft_str_n(json_string_value(v), json_string_length(v));
		return weft_is_nil(*out) ? WEFT_ENOMEM : WEFT_OK;
	case JSON_ARRAY: {
		size_t n = json_array_size(v);
		if (weft_list_new(n, out) != WEFT_OK)
			return WEFT_ENOMEM;
		for (size_t i = 0; i < n; i++) {
			weft_value it;
			int rc = literal(json_array_get(v, i), &it);
			if (rc != WEFT_OK) {
				weft_value_release(out);
				return rc;
			}
			weft_list_set(out, i, it);
		}
		return WEFT_OK;
	}
	default:
		return WEFT_EPARSE;
	}
}

static sx *
new_sx(struct cc *c, uint8_t kind, uint32_t n)
{
	sx *e = salloc(c->s, sizeof(*e));

	if (!e)
		return NULL;
	e->kind = kind;
	e->n = n;
	e->lit = weft_nil();
	if ((kind == X_CALL || kind == X_LIST) && n > 0) {
		e->kids = salloc(c->s, n * sizeof(*e->kids));
		if (!e->kids)
			return NULL;
	}
	return e;
}

static int
keep_lit(struct cc *c, sx *e, weft_value v)
{
	weft_mpi_spec *s = c->s;

	if (!e || grow((void **)&s->lits, &s->caplits, s->nlits + 1,
		      sizeof(*s->lits))) {
		weft_value_release(&v);
		return WEFT_ENOMEM;
	}
	e->kind = X_LIT;
	e->n = 0;
	e->lit = v;
	s->lits[s->nlits++] = e;
	return WEFT_OK;
}

static int
lit_sx(struct cc *c, const json_t *v, sx **out)
{
	weft_value lit;
	int rc = literal(v, &lit);

	if (rc != WEFT_OK)
		return rc;
	*out = new_sx(c, X_LIT, 0);
	return keep_lit(c, *out, lit);
}

static int
ref_sx(struct cc *c, size_t k, sx **out)
{
	if (c->seen[k] != c->cur + 1) {
		if (grow((void **)&c->deps, &c->capdeps, c->ndeps + 1,
			sizeof(*c->deps)))
			return WEFT_ENOMEM;
		c->seen[k] = (uint32_t)c->cur + 1;
		c->slot[k] = (uint32_t)c->ndeps;
		c->deps[c->ndeps++] = (uint32_t)k;
	}
	*out = new_sx(c, X_ARG, c->slot[k]);
	return *out ? WEFT_OK : WEFT_ENOMEM;
}

static int compile(struct cc *c, const json_t *v, sx **out);

static int
compile_list(struct cc *c, const json_t *v, size_t from, sx **out)
{
	size_t n = json_array_size(v) - from;
	int all_lit = 1, rc;
	sx *e = new_sx(c, X_LIST, (uint32_t)n);
	weft_value list;

	if (!e)
		return WEFT_ENOMEM;
	for (size_t i = 0; i < n; i++) {
		rc = compile(c, json_array_get(v, from + i), &e->kids[i]);
		if (rc != WEFT_OK)
			return rc;
		all_lit &= e->kids[i]->kind == X_LIT;
	}
	*out = e;
	if (!all_lit)
		return WEFT_OK;
	/* All literal: one literal list, built now (as the spec does). */
	if (weft_list_new(n, &list) != WEFT_OK)
		return WEFT_ENOMEM;
	for (size_t i = 0; i < n; i++) {
		weft_list_set(&list, i, e->kids[i]->lit);
		e->kids[i]->lit = weft_nil();
	}
	return keep_lit(c, e, list);
}

static int
compile_call(struct cc *c, const weft_func_info *f, const json_t *v,
    size_t from, sx **out)
{
	size_t n = json_array_size(v) - from;
	sx *e = new_sx(c, X_CALL, (uint32_t)n);

	if (!e)
		return WEFT_ENOMEM;
	e->fn = f;
	for (size_t i = 0; i < n; i++) {
		int rc = compile(c, json_array_get(v, from + i), &e->kids[i]);
		if (rc != WEFT_OK)
			return rc;
	}
	*out = e;
	return WEFT_OK;
}

static int
compile_object(struct cc *c, const json_t *v, sx **out)
{
	json_t *x;

	if ((x = json_object_get(v, "lit")) != NULL)
		return lit_sx(c, x, out);
	if ((x = json_object_get(v, "ref")) != NULL) {
		size_t k = json_is_string(x)
		    ? find_key(c, json_string_value(x), json_string_length(x))
		    : WM_NONE;
		return k == WM_NONE ? WEFT_EPARSE : ref_sx(c, k, out);
	}
	if ((x = json_object_get(v, "list")) != NULL)
		return json_is_array(x) ? compile_list(c, x, 0, out)
					: WEFT_EPARSE;
	if ((x = json_object_get(v, "fn")) != NULL && json_is_string(x)) {
		const weft_func_info *f =
		    weft_registry_find(c->reg, json_string_value(x));
		json_t *args = json_object_get(v, "args");
		if (!f)
			return WEFT_EPARSE;
		if (!args) {
			sx *e = new_sx(c, X_CALL, 0);
			if (!e)
				return WEFT_ENOMEM;
			e->fn = f;
			*out = e;
			return WEFT_OK;
		}
		return json_is_array(args) ? compile_call(c, f, args, 0, out)
					   : WEFT_EPARSE;
	}
	return WEFT_EPARSE;
}

static int
compile(struct cc *c, const json_t *v, sx **out)
{
	switch (json_typeof(v)) {
	case JSON_STRING: {
		size_t k = find_key(
		    c, json_string_value(v), json_string_length(v));
		return k != WM_NONE ? ref_sx(c, k, out) : lit_sx(c, v, out);
	}
	case JSON_OBJECT:
		return compile_object(c, v, out);
	case JSON_ARRAY: {
		const json_t *head = json_array_get(v, 0);
		const weft_func_info *f;
		if (!head || !json_is_string(head))
			return compile_list(c, v, 0, out);
		f = weft_registry_find(c->reg, json_string_value(head));
		if (f)
			return compile_call(c, f, v, 1, out);
		return compile_list(c, v, 0, out);
	}
	default:
		return lit_sx(c, v, out);
	}
}

static int
compile_key(struct cc *c, size_t k)
{
	struct skey *key = &c->keys[k];
	int rc;

	c->cur = k;
	c->ndeps = 0;
	rc = compile(c, key->v, &key->e);
	if (rc != WEFT_OK)
		return rc;
	key->ndeps = (uint32_t)c->ndeps;
	key->deps = salloc(c->s, c->ndeps * sizeof(*key->deps));
	if (!key->deps)
		return WEFT_ENOMEM;
	if (c->ndeps)
		memcpy(key->deps, c->deps, c->ndeps * sizeof(*key->deps));
	return WEFT_OK;
}

/* -- running a key ------------------------------------------------------------ */

static int eval(weft_ctx *ctx, const sx *e, const weft_value *deps,
    weft_value *out);

static int
eval_call(weft_ctx *ctx, const sx *e, const weft_value *deps, weft_value *out)
{
	weft_value small[8], *args = small;
	uint32_t done = 0;
	int rc = WEFT_OK;

	memset(small, 0, sizeof(small));
	if (e->n > 8) {
		args = calloc(e->n, sizeof(*args));
		if (!args)
			return weft_fail(ctx, "out of memory for %u arguments",
			    (unsigned)e->n);
	}
	for (; done < e->n && rc == WEFT_OK; done++) {
		args[done] = weft_nil();
		rc = eval(ctx, e->kids[done], deps, &args[done]);
	}
	if (rc == WEFT_OK) {
		rc = e->fn->fn(ctx, e->n, args, out);
		if (rc != WEFT_OK)
			weft_value_release(out);
	}
	for (uint32_t i = 0; i < done; i++)
		weft_value_release(&args[i]);
	if (args != small)
		free(args);
	return rc;
}

static int
eval(weft_ctx *ctx, const sx *e, const weft_value *deps, weft_value *out)
{
	switch (e->kind) {
	case X_LIT:
		*out = weft_value_retain(e->lit);
		return WEFT_OK;
	case X_ARG:
		*out = weft_value_retain(deps[e->n]);
		return WEFT_OK;
	case X_CALL:
		return eval_call(ctx, e, deps, out);
	default: {
		weft_value list;
		if (weft_list_new(e->n, &list) != WEFT_OK)
			return weft_fail(ctx, "out of memory for a list of %u",
			    (unsigned)e->n);
		for (uint32_t i = 0; i < e->n; i++) {
			weft_value it = weft_nil();
			int rc = eval(ctx, e->kids[i], deps, &it);
			if (rc != WEFT_OK) {
				weft_value_release(&list);
				return rc;
			}
			weft_list_set(&list, i, it);
		}
		*out = list;
		return WEFT_OK;
	}
	}
}

int
wm_spec_eval(weft_ctx *ctx, size_t nargs, const weft_value *args,
    weft_value *out)
{
	const sx *e = weft_ptr_get(args[0]);

	(void)nargs;
	return eval(ctx, e, args + 1, out);
}

/* -- building ------------------------------------------------------------------ */

static int
build_key(struct cc *c, struct skey *key)
{
	weft_mpi_graph *g = c->s->g;
	sx *e = key->e;
	int direct = e->kind == X_CALL;
	size_t n;
	weft_arg *args;

	for (uint32_t i = 0; direct && i < e->n; i++)
		direct = e->kids[i]->kind == X_LIT || e->kids[i]->kind == X_ARG;
	n = direct ? e->n : key->ndeps + 1;
	args = calloc(n ? n : 1, sizeof(*args));
	if (!args)
		return WEFT_ENOMEM;
	if (direct) {
		for (uint32_t i = 0; i < e->n; i++) {
			sx *x = e->kids[i];
			args[i] = x->kind == X_LIT
			    ? weft_lit(weft_value_retain(x->lit))
			    : weft_ref(c->keys[key->deps[x->n]].node);
		}
		key->node = weft_mpi_delayed_named(
		    g, key->name, e->fn->fn, n, args);
	} else {
		/* The graph only points at the expression: the spec owns
		 * it (no destructor). */
		args[0] = weft_lit(weft_ptr(e, NULL));
		for (uint32_t i = 0; i < key->ndeps; i++)
			args[i + 1] = weft_ref(c->keys[key->deps[i]].node);
		key->node = weft_mpi_delayed_named(
		    g, key->name, wm_spec_eval, n, args);
	}
	free(args);
	if (!weft_node_ok(key->node))
		return weft_mpi_graph_errcode(g);
	if (key->rank >= 0)
		return weft_mpi_set_owner(g, key->node, key->rank);
	return WEFT_OK;
}

/* Dependencies first, keys in file order otherwise: the spec reader's
 * order, so node i here is node i there. */
static int
build_all(struct cc *c, int nocull)
{
	struct frame {
		uint32_t k, next;
	} *stack = malloc((c->nkeys + 1) * sizeof(*stack));
	uint32_t *q = malloc((c->nkeys + 1) * sizeof(*q));
	size_t depth = 0, nq = 0;
	int rc = WEFT_OK;

	if (!stack || !q) {
		free(stack);
		free(q);
		return WEFT_ENOMEM;
	}
	/* what the targets need */
	for (size_t t = 0; t < c->s->ntargets; t++) {
		size_t k = find_key(c, weft_spec_target_key(c->s->ws, t),
		    strlen(weft_spec_target_key(c->s->ws, t)));
		if (k != WM_NONE && !c->keys[k].need) {
			c->keys[k].need = 1;
			q[nq++] = (uint32_t)k;
		}
	}
	while (nq) {
		struct skey *key = &c->keys[q[--nq]];
		for (uint32_t j = 0; j < key->ndeps; j++)
			if (!c->keys[key->deps[j]].need) {
				c->keys[key->deps[j]].need = 1;
				q[nq++] = key->deps[j];
			}
	}
	for (size_t r = 0; r < c->nkeys && rc == WEFT_OK; r++) {
		if (c->keys[r].mark)
			continue;
		stack[0] = (struct frame) { (uint32_t)r, 0 };
		depth = 1;
		c->keys[r].mark = 1;
		while (depth > 0 && rc == WEFT_OK) {
			struct frame *f = &stack[depth - 1];
			struct skey *k = &c->keys[f->k];
			if (f->next == k->ndeps) {
				if (k->need || nocull)
					rc = build_key(c, k);
				depth--;
				continue;
			}
			uint32_t d = k->deps[f->next++];
			if (c->keys[d].mark)
				continue; /* done (the reader ruled out
					     cycles) */
			c->keys[d].mark = 1;
			stack[depth++] = (struct frame) { d, 0 };
		}
	}
	free(stack);
	free(q);
	return rc;
}

/* -- loading ------------------------------------------------------------------- */

static void
set_err(weft_spec_error *err, int code, const char *fmt, ...)
    WEFT_PRINTF(3, 4);

static void
set_err(weft_spec_error *err, int code, const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return;
	memset(err, 0, sizeof(*err));
	err->code = code;
	va_start(ap, fmt);
	vsnprintf(err->message, sizeof(err->message), fmt, ap);
	va_end(ap);
}

/* Rank 0 reads the file; every rank gets it, or rank 0's error. */
static int
share_file(weft_mpi *m, const char *path, const weft_spec_opts *opts,
    char **text, size_t *len, weft_spec_error *err)
{
	weft_spec_error e;
	uint64_t hdr[2] = { 0, 0 }; /* code (as unsigned), length */
	char *buf = NULL;
	size_t max = opts && opts->max_bytes ? opts->max_bytes
					      : WEFT_SPEC_MAX_BYTES_DEFAULT;

	memset(&e, 0, sizeof(e));
	if (m->rank == 0) {
		FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
		size_t cap = 0, n = 0;
		int bad = !f;
		while (!bad) {
			size_t got;
			if (grow((void **)&buf, &cap, n + 65536, 1)) {
				bad = WEFT_ENOMEM;
				break;
			}
			got = fread(buf + n, 1, cap - n, f);
			n += got;
			if (n > max || (got == 0 && ferror(f)))
				bad = 1;
			if (got == 0)
				break;
		}
		if (f && f != stdin)
			fclose(f);
		if (bad == WEFT_ENOMEM) {
			e.code = WEFT_ENOMEM;
			snprintf(e.message, sizeof(e.message), "%s: out of memory",
			    path);
		} else if (bad) {
			/* Let the spec reader say it, in its words. */
			weft_spec *ws = NULL;
			int rc = strcmp(path, "-") == 0
			    ? WEFT_EIO
			    : weft_spec_load_file(path, m->reg, opts, &ws, &e);
			weft_spec_free(ws);
			if (rc == WEFT_OK || strcmp(path, "-") == 0) {
				e.code = WEFT_EIO;
				snprintf(e.message, sizeof(e.message),
				    "%s: cannot read the file", path);
			}
		}
		if (e.code != WEFT_OK) {
			free(buf);
			buf = NULL;
			n = 0;
		}
		hdr[0] = (uint64_t)(int64_t)e.code;
		hdr[1] = n;
	}
	wm_check(m, MPI_Bcast(hdr, 2, MPI_UINT64_T, 0, m->comm), "MPI_Bcast");
	if ((int64_t)hdr[0] != WEFT_OK) {
		wm_check(m,
		    MPI_Bcast(&e, (int)sizeof(e), MPI_BYTE, 0, m->comm),
		    "MPI_Bcast");
		if (err)
			*err = e;
		return e.code;
	}
	if (m->rank != 0) {
		buf = malloc(hdr[1] ? hdr[1] : 1);
		if (!buf)
			wm_fatal(m, "out of memory for a %llu-byte graph file",
			    (unsigned long long)hdr[1]);
	}
	for (uint64_t off = 0; off < hdr[1]; off += m->chunk) {
		size_t n = hdr[1] - off < m->chunk ? hdr[1] - off : m->chunk;
		wm_check(m,
		    MPI_Bcast(buf + off, (int)n, MPI_BYTE, 0, m->comm),
		    "MPI_Bcast");
	}
	*text = buf;
	*len = (size_t)hdr[1];
	return WEFT_OK;
}

/* Takes the "rank" fields out of the keys' explicit forms. Returns 1 when
 * there were some, 0 when none, or an error. */
static int
strip_ranks(weft_mpi *m, const char *path, json_t *graph, int **ranks,
    weft_spec_error *err)
{
	const char *k;
	json_t *v;
	size_t i = 0, n = json_object_size(graph);
	int any = 0;

	*ranks = malloc((n ? n : 1) * sizeof(int));
	if (!*ranks)
		return WEFT_ENOMEM;
	json_object_foreach(graph, k, v)
	{
		json_t *r = json_is_object(v) ? json_object_get(v, "rank")
					      : NULL;
		(*ranks)[i] = -1;
		if (r) {
			if (!json_is_integer(r)) {
				set_err(err, WEFT_ETYPE,
				    "%s: error: 'rank' is not an integer (in "
				    "key '%s')",
				    path, k);
				return WEFT_ETYPE;
			}
			if (json_integer_value(r) < 0 ||
			    json_integer_value(r) >= m->size) {
				set_err(err, WEFT_ERANGE,
				    "%s: error: key '%s' asks for rank %lld, "
				    "but there are %d ranks",
				    path, k, (long long)json_integer_value(r),
				    m->size);
				return WEFT_ERANGE;
			}
			(*ranks)[i] = (int)json_integer_value(r);
			json_object_del(v, "rank");
			any = 1;
		}
		i++;
	}
	return any;
}

int
weft_mpi_spec_load_file(weft_mpi *m, const char *path,
    const weft_spec_opts *opts, weft_mpi_spec **out, weft_spec_error *err)
{
	weft_mpi_spec *s = NULL;
	struct cc c;
	char *text = NULL, *clean = NULL;
	size_t len = 0;
	json_t *root = NULL, *graph;
	json_error_t je;
	int *ranks = NULL, rc, any = 0;

	memset(&c, 0, sizeof(c));
	if (err)
		memset(err, 0, sizeof(*err));
	if (out)
		*out = NULL;
	if (!m || m->failed || !path || !out || !m->reg) {
		set_err(err, WEFT_EINVAL, "%s",
		    m && !m->reg ? "the context has no registry"
				 : "invalid arguments");
		return WEFT_EINVAL;
	}
	rc = share_file(m, path, opts, &text, &len, err);
	if (rc != WEFT_OK)
		return rc;
	/* From here on every rank has the same text and reaches the same
	 * verdict on its own. */
	s = calloc(1, sizeof(*s));
	if (!s) {
		rc = WEFT_ENOMEM;
		goto fail;
	}
	s->m = m;
	root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
	graph = root && json_is_object(root) ? json_object_get(root, "graph")
					     : NULL;
	if (graph && json_is_object(graph)) {
		any = strip_ranks(m, strcmp(path, "-") ? path : "<stdin>", graph,
		    &ranks, err);
		if (any < 0) {
			rc = any;
			goto fail;
		}
	}
	if (any) {
		clean = json_dumps(root, JSON_INDENT(1));
		if (!clean) {
			rc = WEFT_ENOMEM;
			goto fail;
		}
	}
	rc = weft_spec_load_buffer(clean ? clean : text,
	    clean ? strlen(clean) : len, strcmp(path, "-") ? path : "<stdin>",
	    m->reg, opts, &s->ws, err);
	if (rc != WEFT_OK)
		goto fail;

	/* The file is good: compile it again, key by key. */
	c.s = s;
	c.reg = m->reg;
	c.nkeys = json_object_size(graph);
	c.mapcap = 16;
	while (c.mapcap < c.nkeys * 2)
		c.mapcap *= 2;
	c.keys = calloc(c.nkeys ? c.nkeys : 1, sizeof(*c.keys));
	c.map = calloc(c.mapcap, sizeof(*c.map));
	c.seen = calloc(c.nkeys ? c.nkeys : 1, sizeof(*c.seen));
	c.slot = calloc(c.nkeys ? c.nkeys : 1, sizeof(*c.slot));
	s->g = weft_mpi_graph_new(m);
	s->ntargets = weft_spec_ntargets(s->ws);
	s->targets = calloc(s->ntargets ? s->ntargets : 1, sizeof(weft_node));
	if (!c.keys || !c.map || !c.seen || !c.slot || !s->g || !s->targets) {
		rc = WEFT_ENOMEM;
		goto fail;
	}
	{
		const char *k;
		json_t *v;
		size_t i = 0;
		json_object_foreach(graph, k, v)
		{
			c.keys[i].name = k;
			c.keys[i].v = v;
			c.keys[i].rank = ranks ? ranks[i] : -1;
			c.map[key_slot(&c, k, strlen(k))] = (uint32_t)i + 1;
			i++;
		}
	}
	for (size_t k = 0; k < c.nkeys && rc == WEFT_OK; k++)
		rc = compile_key(&c, k);
	if (rc == WEFT_OK)
		rc = build_all(&c, opts && (opts->flags & WEFT_SPEC_NO_CULL));
	for (size_t t = 0; rc == WEFT_OK && t < s->ntargets; t++) {
		s->targets[t] =
		    weft_mpi_graph_find(s->g, weft_spec_target_key(s->ws, t));
		if (!weft_node_ok(s->targets[t]))
			rc = WEFT_EINVAL;
	}
	if (rc != WEFT_OK) {
		set_err(err, rc, "%s: cannot build the graph: %s",
		    path, weft_strerror(rc));
		goto fail;
	}
	free(c.keys);
	free(c.map);
	free(c.seen);
	free(c.slot);
	free(c.deps);
	free(ranks);
	/* Key names point into the JSON tree; the graph copied them. */
	json_decref(root);
	free(clean);
	free(text);
	*out = s;
	return WEFT_OK;
fail:
	if (err && err->code == WEFT_OK)
		set_err(err, rc, "%s: %s", path, weft_strerror(rc));
	free(c.keys);
	free(c.map);
	free(c.seen);
	free(c.slot);
	free(c.deps);
	free(ranks);
	json_decref(root);
	free(clean);
	free(text);
	weft_mpi_spec_free(s);
	return rc;
}

void
weft_mpi_spec_free(weft_mpi_spec *s)
{
	if (!s)
		return;
	weft_mpi_graph_free(s->g);
	for (size_t i = 0; i < s->nlits; i++)
		weft_value_release(&s->lits[i]->lit);
	for (size_t i = 0; i < s->nallocs; i++)
		free(s->allocs[i]);
	free(s->allocs);
	free(s->lits);
	free(s->targets);
	weft_spec_free(s->ws);
	free(s);
}

weft_mpi_graph *
weft_mpi_spec_graph(const weft_mpi_spec *s)
{
	return s ? s->g : NULL;
}

size_t
weft_mpi_spec_ntargets(const weft_mpi_spec *s)
{
	return s ? s->ntargets : 0;
}

const weft_node *
weft_mpi_spec_targets(const weft_mpi_spec *s)
{
	return s ? s->targets : NULL;
}

const char *
weft_mpi_spec_target_key(const weft_mpi_spec *s, size_t i)
{
	return s ? weft_spec_target_key(s->ws, i) : NULL;
}

size_t
weft_mpi_spec_nwarnings(const weft_mpi_spec *s)
{
	return s ? weft_spec_nwarnings(s->ws) : 0;
}

const char *
weft_mpi_spec_warning(const weft_mpi_spec *s, size_t i)
{
	return s ? weft_spec_warning(s->ws, i) : NULL;
}

weft_spec *
weft_mpi_spec_local(const weft_mpi_spec *s)
{
	return s ? s->ws : NULL;
}
