/*
 * From compiled keys to a weft graph: the cycle check (with the cycle's
 * path), the targets, the cull, the nodes, and the statistics; plus the
 * public accessors of a weft_spec.
 *
 * Graph files can hold millions of keys in one chain, so every walk here
 * uses an explicit stack, never recursion over keys.
 */
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "lib/lib.h"
#include "spec/load.h"
#include "spec/spec_int.h"

enum { WHITE = 0, GRAY = 1, BLACK = 2 };

struct frame {
	uint32_t k, next;
};

static int
nomem(struct loader *L)
{
	return weft__spec_fail(L, WEFT_ENOMEM, SPEC_NONE, SPEC_NONE,
	    "out of memory");
}

/* Reports the cycle stack[from..depth) -> stack[from]. */
static int
cycle_error(struct loader *L, const struct frame *stack, size_t from,
    size_t depth)
{
	struct weft_spec *s = L->s;
	weft__buf b = { 0 };
	size_t n = depth - from;
	uint32_t first = stack[from].k;
	int rc;

	for (size_t i = from; i < depth; i++) {
		/* Long cycles: the first and last few keys tell enough. */
		if (n > 16 && i == from + 8) {
			weft__buf_printf(&b, "... (%zu more) -> ", n - 14);
			i = depth - 6;
		}
		weft__buf_printf(&b, "%s -> ", s->keys[stack[i].k].name);
	}
	weft__buf_puts(&b, s->keys[first].name);
	rc = weft__spec_fail(L, WEFT_ECYCLE, s->keys[first].kpos, first,
	    "cycle: %s", b.oom ? "(out of memory)" : b.p);
	weft__buf_free(&b);
	return rc;
}

/* Depth-first over every key: a post-order (dependencies first) into
 * order[], or the first cycle found. */
static int
order_keys(struct loader *L, uint32_t *order)
{
	struct weft_spec *s = L->s;
	struct frame *stack = NULL;
	size_t depth = 0, cap = 0, norder = 0;
	int rc = WEFT_OK;

	for (size_t r = 0; r < s->nkeys && rc == WEFT_OK; r++) {
		if (s->keys[r].mark != WHITE)
			continue;
		if (weft__grow((void **)&stack, &cap, 1, sizeof(*stack))) {
			rc = nomem(L);
			break;
		}
		stack[0] = (struct frame) { (uint32_t)r, 0 };
		depth = 1;
		s->keys[r].mark = GRAY;
		while (depth > 0) {
			struct frame *f = &stack[depth - 1];
			spec_key *k = &s->keys[f->k];
			uint32_t d;
			if (f->next == k->ndeps) {
				k->mark = BLACK;
				order[norder++] = f->k;
				depth--;
				continue;
			}
			d = k->deps[f->next++];
			if (s->keys[d].mark == BLACK)
				continue;
			if (s->keys[d].mark == GRAY) {
				size_t from = depth - 1;
				while (stack[from].k != d)
					from--;
				rc = cycle_error(L, stack, from, depth);
				break;
			}
			if (weft__grow((void **)&stack, &cap, depth + 1,
				sizeof(*stack))) {
				rc = nomem(L);
				break;
			}
			stack[depth++] = (struct frame) { d, 0 };
			s->keys[d].mark = GRAY;
		}
	}
	weft__free(stack);
	return rc;
}

/* The targets (duplicates dropped), and `mark` = 1 on every key they
 * need; `mark` was BLACK (2) on every key after order_keys. */
static int
pick_targets(struct loader *L)
{
	struct weft_spec *s = L->s;
	uint32_t *stack;
	size_t depth = 0, nt = 0;

	if (!L->targets_given)
		for (size_t k = 0; k < s->nkeys; k++)
			if (!s->keys[k].used)
				L->tk[L->ntk++] = (uint32_t)k;
	s->targets = weft__calloc(L->ntk ? L->ntk : 1, sizeof(*s->targets));
	s->target_keys =
	    weft__calloc(L->ntk ? L->ntk : 1, sizeof(*s->target_keys));
	stack = weft__calloc(s->nkeys ? s->nkeys : 1, sizeof(*stack));
	if (!s->targets || !s->target_keys || !stack) {
		weft__free(stack);
		return nomem(L);
	}
	for (size_t k = 0; k < s->nkeys; k++)
		s->keys[k].mark = (L->flags & WEFT_SPEC_NO_CULL) ? 1 : 0;
	for (size_t i = 0; i < L->ntk; i++) {
		uint32_t t = L->tk[i];
		int dup = 0;
		for (size_t j = 0; j < nt && !dup; j++)
			dup = s->target_keys[j] == t;
		if (dup)
			continue;
		s->target_keys[nt++] = t;
		/* Each key is pushed at most once (marked when pushed), so
		 * the stack never holds more than nkeys entries. */
		if (s->keys[t].mark)
			continue;
		s->keys[t].mark = 1;
		stack[depth++] = t;
		while (depth > 0) {
			spec_key *k = &s->keys[stack[--depth]];
			for (uint32_t j = 0; j < k->ndeps; j++) {
				spec_key *d = &s->keys[k->deps[j]];
				if (!d->mark) {
					d->mark = 1;
					stack[depth++] = k->deps[j];
				}
			}
		}
	}
	s->ntargets = nt;
	weft__free(stack);
	return WEFT_OK;
}

static int
build_key(struct loader *L, spec_key *key, weft_arg **args, size_t *cap)
{
	struct weft_spec *s = L->s;
	spec_expr *e = key->task.e;
	size_t n = key->task.direct ? e->n : key->ndeps;
	weft_value ptr;

	if (weft__grow((void **)args, cap, n + 1, sizeof(**args)))
		return nomem(L);
	/* Argument 0 tells the evaluator what to run. The spec owns the
	 * task; the graph only points at it (no destructor). */
	ptr = weft_ptr(&key->task, NULL);
	if (weft_is_nil(ptr))
		return nomem(L);
	(*args)[0] = weft_lit(ptr);
	if (key->task.direct) {
		for (uint32_t i = 0; i < e->n; i++) {
			spec_expr *x = e->kids[i];
			(*args)[i + 1] = x->kind == X_LIT
			    ? weft_lit(weft_value_retain(x->lit))
			    : weft_ref(s->keys[key->deps[x->n]].node);
		}
	} else {
		for (uint32_t i = 0; i < key->ndeps; i++)
			(*args)[i + 1] = weft_ref(s->keys[key->deps[i]].node);
	}
	key->node = weft_delayed_named(
	    s->g, key->name, weft__spec_eval_task, n + 1, *args);
	if (!weft_node_ok(key->node))
		return weft__spec_fail(L, weft_graph_errcode(s->g), key->kpos,
		    (size_t)(key - s->keys), "cannot build key '%s': %s",
		    key->name, weft_graph_error(s->g));
	key->built = 1;
	return WEFT_OK;
}

static int
count_calls(struct weft_spec *s, const spec_expr *e, int nested)
{
	if (e->kind == X_CALL) {
		size_t i = 0;
		while (i < s->nfuncs && s->funcs[i].f != e->fn)
			i++;
		if (i == s->nfuncs) {
			struct func_use *nf = weft__realloc(
			    s->funcs, (s->nfuncs + 1) * sizeof(*s->funcs));
			if (!nf)
				return WEFT_ENOMEM;
			s->funcs = nf;
			s->funcs[s->nfuncs++] = (struct func_use) { e->fn, 0 };
		}
		s->funcs[i].count++;
		s->stats.calls++;
		s->stats.nested += nested != 0;
	}
	if (e->kind == X_CALL || e->kind == X_LIST)
		for (uint32_t i = 0; i < e->n; i++) {
			int rc = count_calls(s, e->kids[i],
			    nested || e->kind == X_LIST || e->kind == X_CALL);
			if (rc != WEFT_OK)
				return rc;
		}
	return WEFT_OK;
}

static int
func_cmp(const void *a, const void *b)
{
	const struct func_use *x = a, *y = b;
	return strcmp(x->f->name, y->f->name);
}

/* Builds the needed keys, dependencies first, and the statistics. */
static int
build_graph(struct loader *L, const uint32_t *order)
{
	struct weft_spec *s = L->s;
	weft_arg *args = NULL;
	size_t cap = 0, *depth;
	int rc = WEFT_OK;

	s->g = weft_graph_new();
	depth = weft__calloc(s->nkeys ? s->nkeys : 1, sizeof(*depth));
	if (!s->g || !depth) {
		weft__free(depth);
		return nomem(L);
	}
	for (size_t i = 0; i < s->nkeys && rc == WEFT_OK; i++) {
		uint32_t k = order[i];
		spec_key *key = &s->keys[k];
		size_t dd = 0;
		if (!key->mark)
			continue;
		rc = build_key(L, key, &args, &cap);
		if (rc != WEFT_OK)
			break;
		for (uint32_t j = 0; j < key->ndeps; j++)
			if (depth[key->deps[j]] > dd)
				dd = depth[key->deps[j]];
		depth[k] = dd + 1;
		if (depth[k] > s->stats.depth)
			s->stats.depth = depth[k];
		s->stats.tasks++;
		s->stats.edges += key->ndeps;
		if (count_calls(s, key->task.e, 0) != WEFT_OK)
			rc = nomem(L);
	}
	weft__free(args);
	weft__free(depth);
	if (rc != WEFT_OK)
		return rc;
	for (size_t i = 0; i < s->ntargets; i++)
		s->targets[i] = s->keys[s->target_keys[i]].node;
	if (s->nfuncs > 1)
		qsort(s->funcs, s->nfuncs, sizeof(*s->funcs), func_cmp);
	s->stats.funcs = s->nfuncs;
	s->stats.keys = s->nkeys;
	return WEFT_OK;
}

static int
check_opts(struct loader *L, const weft_spec_opts *o)
{
	const unsigned known = WEFT_SPEC_STRICT | WEFT_SPEC_NO_CULL;

	L->max_keys = WEFT_SPEC_MAX_KEYS_DEFAULT;
	L->max_depth = WEFT_SPEC_MAX_DEPTH_DEFAULT;
	if (!o)
		return WEFT_OK;
	for (size_t i = 0; i < sizeof(o->reserved) / sizeof(o->reserved[0]);
	     i++)
		if (o->reserved[i])
			return weft__spec_fail(L, WEFT_EINVAL, SPEC_NONE, SPEC_NONE,
			    "options: reserved fields must be zero");
	if (o->flags & ~known)
		return weft__spec_fail(L, WEFT_EINVAL, SPEC_NONE, SPEC_NONE,
		    "options: unknown flags 0x%x", o->flags & ~known);
	if (o->max_depth > WEFT_SPEC_MAX_DEPTH_LIMIT)
		return weft__spec_fail(L, WEFT_EINVAL, SPEC_NONE, SPEC_NONE,
		    "options: max_depth %u is above the limit of %u",
		    o->max_depth, WEFT_SPEC_MAX_DEPTH_LIMIT);
	if (o->ntargets && !o->targets)
		return weft__spec_fail(L, WEFT_EINVAL, SPEC_NONE, SPEC_NONE,
		    "options: ntargets without targets");
	if (o->nkey_fields && !o->key_fields)
		return weft__spec_fail(L, WEFT_EINVAL, SPEC_NONE, SPEC_NONE,
		    "options: nkey_fields without key_fields");
	L->flags = o->flags;
	L->key_fields = o->key_fields;
	L->nkey_fields = o->nkey_fields;
	if (o->max_keys)
		L->max_keys = o->max_keys;
	if (L->max_keys > WEFT_MAX_NODES)
		L->max_keys = WEFT_MAX_NODES;
	if (o->max_depth)
		L->max_depth = o->max_depth;
	return WEFT_OK;
}

static int
load(const char *path, const char *data, size_t len, const char *name,
    const weft_registry *reg, const weft_spec_opts *o, weft_spec **out,
    weft_spec_error *err)
{
	weft_spec_error scratch;
	struct loader L;
	uint32_t *order = NULL;
	int rc;

	memset(&L, 0, sizeof(L));
	L.err = err ? err : &scratch;
	memset(L.err, 0, sizeof(*L.err));
	L.name = name;
	if (out)
		*out = NULL;
	if (!out || !reg || (!path && !data && len))
		return weft__spec_fail(&L, WEFT_EINVAL, SPEC_NONE, SPEC_NONE,
		    "a NULL argument");
	L.s = weft__calloc(1, sizeof(*L.s));
	if (!L.s)
		return nomem(&L);
	L.s->reg = reg;
	L.s->name = weft__strdup(name);
	rc = L.s->name ? check_opts(&L, o) : nomem(&L);
	if (rc == WEFT_OK && path)
		rc = weft__spec_read_file(&L, path,
		    o && o->max_bytes ? o->max_bytes
				      : WEFT_SPEC_MAX_BYTES_DEFAULT);
	else if (rc == WEFT_OK) {
		size_t max = o && o->max_bytes ? o->max_bytes
					       : WEFT_SPEC_MAX_BYTES_DEFAULT;
		L.text = data ? data : "";
		L.len = len;
		if (len > max)
			rc = weft__spec_fail(&L, WEFT_ERANGE, SPEC_NONE, SPEC_NONE,
			    "the input is larger than the limit of %zu bytes",
			    max);
	}
	if (rc == WEFT_OK)
		rc = weft__spec_load_text(&L, o);
	if (rc == WEFT_OK) {
		order = weft__calloc(
		    L.s->nkeys ? L.s->nkeys : 1, sizeof(*order));
		rc = order ? order_keys(&L, order) : nomem(&L);
	}
	if (rc == WEFT_OK)
		rc = pick_targets(&L);
	if (rc == WEFT_OK)
		rc = build_graph(&L, order);
	/* jansson's own work, parsing and freeing, is the reading; the
	 * rest is ours. */
	L.s->stats.build_s = weft__spec_now_s() - L.t_parsed - L.free_s;
	L.s->stats.read_s += L.free_s;
	weft__free(order);
	weft__free(L.seen);
	weft__free(L.slot);
	weft__free(L.deps);
	weft__free(L.tk);
	weft__free(L.owned);
	weft__spec_pos_free(&L.px);
	if (rc != WEFT_OK) {
		weft_spec_free(L.s);
		return rc;
	}
	*out = L.s;
	return WEFT_OK;
}

/* -- public ---------------------------------------------------------------- */

int
weft_spec_load_file(const char *path, const weft_registry *reg,
    const weft_spec_opts *opts, weft_spec **out, weft_spec_error *err)
{
	const char *name = !path ? "<null>"
	    : strcmp(path, "-") == 0 ? "<stdin>"
				     : path;
	if (!path) {
		weft_spec_error scratch;
		weft_spec_error *e = err ? err : &scratch;
		memset(e, 0, sizeof(*e));
		e->code = WEFT_EINVAL;
		snprintf(e->message, sizeof(e->message),
		    "error: no file name given");
		if (out)
			*out = NULL;
		return WEFT_EINVAL;
	}
	return load(path, NULL, 0, name, reg, opts, out, err);
}

int
weft_spec_load_buffer(const char *data, size_t len, const char *name,
    const weft_registry *reg, const weft_spec_opts *opts, weft_spec **out,
    weft_spec_error *err)
{
	return load(NULL, data, len, name ? name : "<buffer>", reg, opts, out,
	    err);
}

void
weft_spec_free(weft_spec *s)
{
	if (!s)
		return;
	/* The graph first: its nodes point at the tasks in the arena. */
	weft_graph_free(s->g);
	for (size_t i = 0; i < s->nlits; i++)
		weft_value_release(&s->lits[i]->lit);
	weft__free(s->lits);
	for (size_t i = 0; i < s->nwarnings; i++)
		weft__free(s->warnings[i]);
	weft__free(s->warnings);
	weft__free(s->keys);
	weft__free(s->map.slot);
	weft__free(s->targets);
	weft__free(s->target_keys);
	weft__free(s->funcs);
	for (size_t i = 0; i < s->nfields; i++)
		weft_value_release(&s->fields[i].v);
	weft__free(s->fields);
	weft__free(s->name);
	weft__spec_arena_free(&s->arena);
	weft__free(s);
}

weft_graph *
weft_spec_graph(const weft_spec *s)
{
	return s ? s->g : NULL;
}

size_t
weft_spec_ntargets(const weft_spec *s)
{
	return s ? s->ntargets : 0;
}

const weft_node *
weft_spec_targets(const weft_spec *s)
{
	return s ? s->targets : NULL;
}

const char *
weft_spec_target_key(const weft_spec *s, size_t i)
{
	return s && i < s->ntargets ? s->keys[s->target_keys[i]].name : NULL;
}

size_t
weft_spec_nwarnings(const weft_spec *s)
{
	return s ? s->nwarnings : 0;
}

const char *
weft_spec_warning(const weft_spec *s, size_t i)
{
	return s && i < s->nwarnings ? s->warnings[i] : NULL;
}

int
weft_spec_key_field(const weft_spec *s, const char *key, const char *field,
    weft_value *out, unsigned *line, unsigned *column)
{
	size_t k;

	if (!s || !key || !field || !out)
		return WEFT_EINVAL;
	k = weft__spec_find_key(s, key, strlen(key));
	if (k == SPEC_NONE)
		return WEFT_ENOTFOUND;
	for (uint32_t i = 0; i < s->keys[k].nfields; i++) {
		const struct spec_field *f = &s->fields[s->keys[k].field0 + i];
		if (strcmp(f->name, field) != 0)
			continue;
		*out = f->v;
		if (line)
			*line = f->line;
		if (column)
			*column = f->col;
		return WEFT_OK;
	}
	return WEFT_ENOTFOUND;
}

const char *
weft_spec_name(const weft_spec *s)
{
	return s && s->name ? s->name : "";
}

int
weft_spec_stats_get(const weft_spec *s, weft_spec_stats *out)
{
	if (!s || !out)
		return WEFT_EINVAL;
	*out = s->stats;
	return WEFT_OK;
}

const weft_func_info *
weft_spec_func_used(const weft_spec *s, size_t i, size_t *count)
{
	if (!s || i >= s->nfuncs)
		return NULL;
	if (count)
		*count = s->funcs[i].count;
	return s->funcs[i].f;
}

int
weft_spec_failure(const weft_spec *s, const char **key, const char **fn,
    const char **message)
{
	const char *msg;
	static const char pre[] = "task '";
	static const char mid[] = "' failed: ";

	if (key)
		*key = NULL;
	if (fn)
		*fn = NULL;
	if (message)
		*message = NULL;
	if (!s || !s->g || weft_graph_errcode(s->g) != WEFT_ETASK)
		return WEFT_ENOTFOUND;
	msg = weft_graph_error(s->g);
	if (message)
		*message = msg;
	if (strncmp(msg, pre, sizeof(pre) - 1) != 0)
		return WEFT_OK;
	/* The message is "task 'KEY' failed: MESSAGE"; keys may hold quotes,
	 * so match it against the keys that were built. */
	for (size_t k = 0; k < s->nkeys; k++) {
		const spec_key *sk = &s->keys[k];
		size_t n = strlen(sk->name);
		if (!sk->built || strncmp(msg + sizeof(pre) - 1, sk->name, n) ||
		    strncmp(msg + sizeof(pre) - 1 + n, mid, sizeof(mid) - 1))
			continue;
		if (key)
			*key = sk->name;
		if (fn)
			*fn = sk->task.failed ? sk->task.failed->name : NULL;
		if (message)
			*message = msg + sizeof(pre) - 1 + n + sizeof(mid) - 1;
		break;
	}
	return WEFT_OK;
}
