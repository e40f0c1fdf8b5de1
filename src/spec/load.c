/*
 * Reading a graph file: JSON (through jansson) into one compiled
 * expression per key, with an error that says where and why at the first
 * problem. Building the weft graph from the compiled keys is in build.c.
 */
#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "base/alloc.h"
#include "lib/lib.h"
#include "spec/load.h"
#include "spec/spec_int.h"

/* -- arena and key map ----------------------------------------------------- */

struct spec_chunk {
	struct spec_chunk *next;
	/* payload follows, aligned like max_align_t */
};

#define CHUNK_SIZE ((size_t)64 << 10)
#define ALIGN (sizeof(void *) > sizeof(double) ? sizeof(void *) : 8)

void *
weft__spec_alloc(spec_arena *a, size_t size)
{
	size_t hdr = (sizeof(struct spec_chunk) + ALIGN - 1) & ~(ALIGN - 1);
	void *p;

	size = (size + ALIGN - 1) & ~(ALIGN - 1);
	if (size == 0)
		size = ALIGN;
	if (size > a->left) {
		size_t want = size > CHUNK_SIZE - hdr ? size + hdr : CHUNK_SIZE;
		struct spec_chunk *c;
		if (size > SIZE_MAX - hdr)
			return NULL;
		c = weft__malloc(want);
		if (!c)
			return NULL;
		c->next = a->head;
		a->head = c;
		a->at = (char *)c + hdr;
		a->left = want - hdr;
	}
	p = a->at;
	a->at += size;
	a->left -= size;
	return p;
}

char *
weft__spec_strdup(spec_arena *a, const char *s, size_t n)
{
	char *d = weft__spec_alloc(a, n + 1);
	if (d) {
		memcpy(d, s, n);
		d[n] = '\0';
	}
	return d;
}

void
weft__spec_arena_free(spec_arena *a)
{
	struct spec_chunk *c = a->head;
	while (c) {
		struct spec_chunk *n = c->next;
		weft__free(c);
		c = n;
	}
	memset(a, 0, sizeof(*a));
}

static uint64_t
hash(const char *s, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a */
	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)s[i]) * 0x100000001b3ull;
	return h;
}

size_t
weft__spec_find_key(const struct weft_spec *s, const char *name, size_t n)
{
	size_t mask, i;

	if (!s->map.cap)
		return SPEC_NONE;
	mask = s->map.cap - 1;
	for (i = (size_t)hash(name, n) & mask; s->map.slot[i];
	     i = (i + 1) & mask) {
		const char *k = s->keys[s->map.slot[i] - 1].name;
		if (strncmp(k, name, n) == 0 && k[n] == '\0')
			return s->map.slot[i] - 1;
	}
	return SPEC_NONE;
}

/* -- errors ---------------------------------------------------------------- */

static void
sanitize(char *s)
{
	/* One line per message, whatever the keys hold. */
	for (; *s; s++)
		if ((unsigned char)*s < 0x20)
			*s = ' ';
}

static int
fail_v(struct loader *L, int code, size_t off, size_t key, const char *fmt,
    va_list ap)
{
	weft_spec_error *e = L->err;
	char msg[900];
	unsigned line = 0, col = 0;

	if (!e || e->code != WEFT_OK)
		return code;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	e->code = code;
	if (off != SPEC_NONE && L->text) {
		weft__spec_line_col(L->text, L->len, off, &line, &col);
		snprintf(e->message, sizeof(e->message), "%s:%u:%u: error: %s",
		    L->name, line, col, msg);
	} else
		snprintf(e->message, sizeof(e->message), "%s: error: %s",
		    L->name, msg);
	e->line = line;
	e->column = col;
	if (key != SPEC_NONE && key < L->s->nkeys && L->s->keys[key].name)
		snprintf(e->key, sizeof(e->key), "%s", L->s->keys[key].name);
	sanitize(e->message);
	return code;
}

int
weft__spec_fail_off(struct loader *L, int code, size_t off, size_t key,
    const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	code = fail_v(L, code, off, key, fmt, ap);
	va_end(ap);
	return code;
}

/* An error at position entry `pe` (SPEC_NONE: no position). */
int
weft__spec_fail(struct loader *L, int code, size_t pe, size_t key, const char *fmt,
    ...)
{
	va_list ap;
	va_start(ap, fmt);
	code = fail_v(L, code, weft__spec_pos_off(&L->px, pe), key, fmt, ap);
	va_end(ap);
	return code;
}

static int
nomem(struct loader *L)
{
	return weft__spec_fail(L, WEFT_ENOMEM, SPEC_NONE, SPEC_NONE,
	    "out of memory");
}

static void
warn(struct loader *L, size_t pe, const char *fmt, ...) WEFT_PRINTF(3, 4);

static void
warn(struct loader *L, size_t pe, const char *fmt, ...)
{
	struct weft_spec *s = L->s;
	weft__buf b = { 0 };
	char msg[512];
	unsigned line, col;
	size_t off = weft__spec_pos_off(&L->px, pe);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (off != SPEC_NONE) {
		weft__spec_line_col(L->text, L->len, off, &line, &col);
		weft__buf_printf(&b, "%s:%u:%u: warning: %s", L->name, line,
		    col, msg);
	} else
		weft__buf_printf(&b, "%s: warning: %s", L->name, msg);
	if (b.oom || weft__grow((void **)&s->warnings, &s->capwarnings,
			 s->nwarnings + 1, sizeof(*s->warnings))) {
		weft__buf_free(&b);
		return; /* a lost warning is not worth failing the load */
	}
	sanitize(b.p);
	s->warnings[s->nwarnings++] = b.p;
}

static const char *
json_kind(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		return "an object";
	case JSON_ARRAY:
		return "an array";
	case JSON_STRING:
		return "a string";
	case JSON_INTEGER:
		return "an integer";
	case JSON_REAL:
		return "a number";
	case JSON_TRUE:
	case JSON_FALSE:
		return "a boolean";
	default:
		return "null";
	}
}

/* Whether `a` and `b` differ only in letter case or surrounding blanks
 * ("Total", "total "): worth suggesting however short the name. */
static int
same_but_case(const char *a, const char *b)
{
	while (*a == ' ' || *a == '\t')
		a++;
	while (*b == ' ' || *b == '\t')
		b++;
	for (; *a && *b; a++, b++) {
		char x = *a, y = *b;
		if (x >= 'A' && x <= 'Z')
			x = (char)(x - 'A' + 'a');
		if (y >= 'A' && y <= 'Z')
			y = (char)(y - 'A' + 'a');
		if (x != y)
			break;
	}
	while (*a == ' ' || *a == '\t')
		a++;
	while (*b == ' ' || *b == '\t')
		b++;
	return !*a && !*b;
}

/* Whether b is a with two neighbouring characters swapped. */
static int
swapped(const char *a, const char *b)
{
	size_t i = 0;

	while (a[i] && a[i] == b[i])
		i++;
	return a[i] && a[i + 1] && a[i] == b[i + 1] && a[i + 1] == b[i] &&
	    strcmp(a + i + 2, b + i + 2) == 0;
}

/*
 * " (did you mean 'x'?)", " (did you mean 'x' or 'y'?)" (keys equally
 * close: naming one would be a guess), or "" when no key is close enough
 * for `name` to be a typo of it. A one- or two-letter name is close to
 * every other short name, so it only matches a key that differs in letter
 * case or blanks, or by one letter more or less. Skipped on graphs too large to search on an error path.
 */
static const char *
key_hint(struct loader *L, const char *name, char *buf, size_t size)
{
	const char *best[3] = { NULL, NULL, NULL };
	size_t bestd = (size_t)-1, nbest = 0, len = strlen(name);
	size_t most = len <= 2 ? 0 : weft__typo_distance(len);

	buf[0] = '\0';
	if (L->s->nkeys > 20000)
		return buf;
	for (size_t i = 0; i < L->s->nkeys; i++) {
		const char *k = L->s->keys[i].name;
		int cased = same_but_case(name, k);
		size_t d = cased ? 1 : weft__edit_distance(name, k);
		/* For short names, only a letter doubled or dropped ('xx'
		 * for 'x') or two swapped ('yx' for 'xy'): 'c' for 'a' is
		 * no typo. */
		int close = cased || d <= most ||
		    (most == 0 && d == 1 &&
			(strlen(k) != len || swapped(name, k)));
		if (strcmp(name, k) == 0 || !close)
			continue;
		if (d < bestd) {
			bestd = d;
			nbest = 0;
		}
		if (d == bestd && nbest < 3)
			best[nbest++] = k;
		else if (d == bestd)
			nbest++;
	}
	if (nbest == 1)
		snprintf(buf, size, " (did you mean '%s'?)", best[0]);
	else if (nbest == 2)
		snprintf(buf, size, " (did you mean '%s' or '%s'?)", best[0],
		    best[1]);
	else if (nbest == 3)
		snprintf(buf, size, " (did you mean '%s', '%s' or '%s'?)",
		    best[0], best[1], best[2]);
	return buf;
}

/* For a target that is no key and no typo of one, in a small graph: the
 * keys there are, which is what the user needs to pick from. */
static const char *
keys_hint(struct loader *L, const char *name, char *buf, size_t size)
{
	size_t at;

	if (*key_hint(L, name, buf, size) || L->s->nkeys == 0 ||
	    L->s->nkeys > 8)
		return buf;
	at = (size_t)snprintf(buf, size, " (the keys are");
	for (size_t i = 0; i < L->s->nkeys && at < size; i++)
		at += (size_t)snprintf(buf + at, size - at, "%s '%s'",
		    i ? "," : ":", L->s->keys[i].name);
	if (at < size)
		snprintf(buf + at, size - at, ")");
	return buf;
}

/* " (did you mean 'x'?)" or "". */
static const char *
did_you_mean(char *buf, size_t size, const char *s)
{
	if (!s)
		return "";
	snprintf(buf, size, " (did you mean '%s'?)", s);
	return buf;
}

/* -- literals -------------------------------------------------------------- */

/* A JSON value as a weft value, taken literally (no references, no
 * tasks). jansson bounds the nesting, so recursion is safe here. */
static int
json_literal(struct loader *L, const json_t *v, size_t pe, weft_value *out)
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
		return weft_is_nil(*out) ? nomem(L) : WEFT_OK;
	case JSON_ARRAY: {
		size_t n = json_array_size(v), ce = weft__spec_pos_child(&L->px, pe);
		if (weft_list_new(n, out) != WEFT_OK)
			return nomem(L);
		for (size_t i = 0; i < n; i++) {
			weft_value it;
			int rc = json_literal(L, json_array_get(v, i), ce, &it);
			if (rc != WEFT_OK) {
				weft_value_release(out);
				return rc;
			}
			weft_list_set(out, i, it);
			ce = weft__spec_pos_next(&L->px, ce);
		}
		return WEFT_OK;
	}
	default:
		return weft__spec_fail(L, WEFT_ETYPE, pe, L->cur,
		    "an object is not a value (in key '%s'): values are "
		    "numbers, strings, booleans, null and arrays",
		    L->s->keys[L->cur].name);
	}
}

/* -- computations ---------------------------------------------------------- */

static spec_expr *
new_expr(struct loader *L, uint8_t kind, uint32_t n)
{
	spec_expr *e = weft__spec_alloc(&L->s->arena, sizeof(*e));

	if (!e)
		return NULL;
	memset(e, 0, sizeof(*e));
	e->kind = kind;
	e->n = n;
	if ((kind == X_CALL || kind == X_LIST) && n > 0) {
		e->kids = weft__spec_alloc(&L->s->arena, n * sizeof(*e->kids));
		if (!e->kids)
			return NULL;
		memset(e->kids, 0, n * sizeof(*e->kids));
	}
	return e;
}

/* The dependency slot of key k in the key being compiled. */
static int
add_dep(struct loader *L, size_t k, uint32_t *slot)
{
	if (L->seen[k] == L->cur + 1) {
		*slot = L->slot[k];
		return WEFT_OK;
	}
	if (weft__grow((void **)&L->deps, &L->capdeps, L->ndeps + 1,
		sizeof(*L->deps)))
		return nomem(L);
	L->seen[k] = (uint32_t)L->cur + 1;
	L->slot[k] = (uint32_t)L->ndeps;
	L->deps[L->ndeps++] = (uint32_t)k;
	if (k != L->cur)
		L->s->keys[k].used = 1;
	*slot = L->slot[k];
	return WEFT_OK;
}

static int
ref_expr(struct loader *L, size_t k, spec_expr **out)
{
	uint32_t slot = 0;
	int rc = add_dep(L, k, &slot);

	if (rc != WEFT_OK)
		return rc;
	*out = new_expr(L, X_ARG, slot);
	return *out ? WEFT_OK : nomem(L);
}

/* Registers literal expression e, so that its value is released with the
 * spec; on failure releases `v` (meant for e) at once. */
static int
keep_lit(struct loader *L, spec_expr *e, weft_value v)
{
	struct weft_spec *s = L->s;

	if (!e || weft__grow((void **)&s->lits, &s->caplits, s->nlits + 1,
		      sizeof(*s->lits))) {
		weft_value_release(&v);
		return nomem(L);
	}
	e->kind = X_LIT;
	e->n = 0;
	e->lit = v;
	s->lits[s->nlits++] = e;
	return WEFT_OK;
}

static int
lit_expr(struct loader *L, weft_value v, spec_expr **out)
{
	*out = new_expr(L, X_LIT, 0);
	return keep_lit(L, *out, v);
}

static int compile(struct loader *L, const json_t *v, size_t pe,
    unsigned depth, spec_expr **out);

/* A list of the computations v[from..]; all-literal lists fold into one
 * literal, built now rather than at every run. */
static int
compile_list(struct loader *L, const json_t *v, size_t from, size_t pe,
    size_t ce, unsigned depth, spec_expr **out)
{
	size_t n = json_array_size(v) - from;
	int all_lit = 1, rc;
	spec_expr *e = new_expr(L, X_LIST, (uint32_t)n);
	weft_value list;

	(void)pe;
	if (!e)
		return nomem(L);
	for (size_t i = 0; i < n; i++) {
		rc = compile(L, json_array_get(v, from + i), ce, depth + 1,
		    &e->kids[i]);
		if (rc != WEFT_OK)
			return rc;
		all_lit &= e->kids[i]->kind == X_LIT;
		ce = weft__spec_pos_next(&L->px, ce);
	}
	*out = e;
	if (!all_lit)
		return WEFT_OK;
	if (weft_list_new(n, &list) != WEFT_OK)
		return nomem(L);
	for (size_t i = 0; i < n; i++) {
		weft_list_set(&list, i, e->kids[i]->lit);
		e->kids[i]->lit = weft_nil();
	}
	return keep_lit(L, e, list);
}

static int
arity_ok(struct loader *L, const weft_func_info *f, size_t n, size_t pe)
{
	char a[32] = "";

	if ((int64_t)n >= f->min_args &&
	    (f->max_args == WEFT_ARGS_ANY || (int64_t)n <= f->max_args))
		return WEFT_OK;
	weft_func_arity(f, a, sizeof(a));
	return weft__spec_fail(L, WEFT_EINVAL, pe, L->cur,
	    "function '%s' takes %s argument%s, got %zu (in key '%s')",
	    f->name, a, strcmp(a, "1") == 0 ? "" : "s", n,
	    L->s->keys[L->cur].name);
}

static int
unknown_fn(struct loader *L, const char *name, size_t pe, int compact)
{
	char dym[WEFT_FUNC_NAME_MAX + 32];
	const char *sug = weft_registry_suggest(L->s->reg, name);

	return weft__spec_fail(L, WEFT_ENOTFOUND, pe, L->cur,
	    "unknown function '%s' in key '%s'%s%s", name,
	    L->s->keys[L->cur].name, did_you_mean(dym, sizeof(dym), sug),
	    compact ? "; a list of strings is written {\"list\": [...]} or "
		      "{\"lit\": [...]}"
		    : "");
}

/* Argument i of f (expression x, JSON j at entry pe), for a function that
 * takes numbers only: a literal that is no number would fail the run for
 * sure, so the reader refuses it now, and `weft check` agrees with `weft
 * run`. A string that is not a key is the common case (a misspelt key). */
static int
number_arg(struct loader *L, const weft_func_info *f, size_t i,
    const spec_expr *x, const json_t *j, size_t pe)
{
	weft_type t = x->kind == X_LIT ? weft_type_of(x->lit) : WEFT_INT;
	char dym[400];

	if (t == WEFT_INT || t == WEFT_FLOAT || t == WEFT_BOOL)
		return WEFT_OK;
	if (t == WEFT_STR && json_is_string(j))
		return weft__spec_fail(L, WEFT_ETYPE, pe, L->cur,
		    "'%s' is not a key, and function '%s' takes numbers: "
		    "argument %zu would be a string (in key '%s')%s",
		    weft_as_str(x->lit), f->name, i + 1,
		    L->s->keys[L->cur].name,
		    key_hint(L, weft_as_str(x->lit), dym, sizeof(dym)));
	return weft__spec_fail(L, WEFT_ETYPE, pe, L->cur,
	    "function '%s' takes numbers: argument %zu is a %s (in key '%s')",
	    f->name, i + 1, weft_type_name(t), L->s->keys[L->cur].name);
}

/* A call of f with the computations v[from..] as arguments. */
static int
compile_call(struct loader *L, const weft_func_info *f, const json_t *v,
    size_t from, size_t pe, size_t ce, unsigned depth, spec_expr **out)
{
	size_t n = json_array_size(v) - from;
	spec_expr *e;
	int rc = arity_ok(L, f, n, pe);

	if (rc != WEFT_OK)
		return rc;
	e = new_expr(L, X_CALL, (uint32_t)n);
	if (!e)
		return nomem(L);
	e->fn = f;
	for (size_t i = 0; i < n; i++) {
		rc = compile(L, json_array_get(v, from + i), ce, depth + 1,
		    &e->kids[i]);
		if (rc == WEFT_OK && (f->flags & WEFT_FUNC_NUMBERS))
			rc = number_arg(L, f, i, e->kids[i],
			    json_array_get(v, from + i), ce);
		if (rc != WEFT_OK)
			return rc;
		ce = weft__spec_pos_next(&L->px, ce);
	}
	*out = e;
	return WEFT_OK;
}

/* Position entry of member `field` of object v (at entry pe): of its
 * value, or of its key when `key` is set. */
static size_t
member_pos_of(struct loader *L, const json_t *v, size_t pe,
    const char *field, int key)
{
	const char *k;
	json_t *m;
	size_t ke = weft__spec_pos_child(&L->px, pe);

	json_object_foreach((json_t *)v, k, m)
	{
		size_t ve = weft__spec_pos_next(&L->px, ke);
		if (strcmp(k, field) == 0)
			return key ? ke : ve;
		ke = weft__spec_pos_next(&L->px, ve);
	}
	return SPEC_NONE;
}

static size_t
member_pos(struct loader *L, const json_t *v, size_t pe, const char *field)
{
	return member_pos_of(L, v, pe, field, 0);
}

/* The caller's name for extra field `k` (weft_spec_opts.key_fields), or
 * NULL when it is not one. */
static const char *
extra_field(const struct loader *L, const char *k)
{
	/* "rank": the rank that runs the key under weft-mpi. Part of the
	 * format, so that one file runs with and without MPI alike. */
	static const char rank[] = "rank";

	if (strcmp(k, rank) == 0)
		return rank;
	for (size_t i = 0; i < L->nkey_fields; i++)
		if (L->key_fields[i] && strcmp(L->key_fields[i], k) == 0)
			return L->key_fields[i];
	return NULL;
}

/* Keeps the extra fields of the key being compiled (its top-level
 * explicit form, v at entry pe): their values as literals. */
static int
keep_fields(struct loader *L, const json_t *v, size_t pe)
{
	struct weft_spec *s = L->s;
	spec_key *key = &s->keys[L->cur];
	const char *k;
	json_t *m;

	key->field0 = (uint32_t)s->nfields;
	json_object_foreach((json_t *)v, k, m)
	{
		const char *name = extra_field(L, k);
		size_t fe = member_pos(L, v, pe, k), off;
		struct spec_field *f;
		weft_value val;
		int rc;
		if (!name)
			continue;
		rc = json_literal(L, m, fe, &val);
		if (rc != WEFT_OK)
			return rc;
		if (weft__grow((void **)&s->fields, &s->capfields,
			s->nfields + 1, sizeof(*s->fields))) {
			weft_value_release(&val);
			return nomem(L);
		}
		f = &s->fields[s->nfields++];
		f->name = name;
		f->v = val;
		f->line = f->col = 0;
		off = weft__spec_pos_off(&L->px, fe);
		if (off != SPEC_NONE)
			weft__spec_line_col(L->text, L->len, off, &f->line,
			    &f->col);
		key->nfields++;
	}
	return WEFT_OK;
}

/* The explicit form: {"lit": V}, {"ref": K}, {"list": [...]},
 * {"fn": F, "args": [...]}; at the top of a key, with the caller's extra
 * fields too. */
static int
compile_object(struct loader *L, const json_t *v, size_t pe, unsigned depth,
    spec_expr **out)
{
	const char *k, *form = NULL;
	json_t *m;
	size_t nform = 0, kname = L->cur;
	const char *name = L->s->keys[kname].name;
	json_t *fn = json_object_get(v, "fn");
	json_t *args = json_object_get(v, "args");

	json_object_foreach((json_t *)v, k, m)
	{
		if (strcmp(k, "lit") == 0 || strcmp(k, "ref") == 0 ||
		    strcmp(k, "list") == 0 || strcmp(k, "fn") == 0) {
			form = form ? form : k;
			nform++;
		}
	}
	if (nform == 0 && !args)
		return weft__spec_fail(L, WEFT_EPARSE, pe, kname,
		    "an object is not a value (in key '%s'): an object is "
		    "one of {\"lit\": V}, {\"ref\": K}, {\"list\": [...]}, "
		    "{\"fn\": F, \"args\": [...]}",
		    name);
	json_object_foreach((json_t *)v, k, m)
	{
		if (strcmp(k, "lit") && strcmp(k, "ref") && strcmp(k, "list") &&
		    strcmp(k, "fn") && strcmp(k, "args") &&
		    !(depth == 0 && extra_field(L, k)))
			return weft__spec_fail(L, WEFT_EPARSE,
			    member_pos_of(L, v, pe, k, 1), kname,
			    "unknown field '%s' in an explicit computation "
			    "(in key '%s'); it is one of {\"lit\": V}, "
			    "{\"ref\": K}, {\"list\": [...]}, {\"fn\": F, "
			    "\"args\": [...]}",
			    k, name);
	}
	if (nform > 1)
		return weft__spec_fail(L, WEFT_EPARSE, pe, kname,
		    "an explicit computation has exactly one of 'lit', 'ref', "
		    "'list' or 'fn' (in key '%s')",
		    name);
	if (args && !fn)
		return weft__spec_fail(L, WEFT_EPARSE,
		    member_pos_of(L, v, pe, "args", 1), kname,
		    "'args' without 'fn' (in key '%s')", name);
	if (depth == 0) {
		int rc = keep_fields(L, v, pe);
		if (rc != WEFT_OK)
			return rc;
	}

	if (strcmp(form, "lit") == 0) {
		weft_value lit;
		int rc = json_literal(L, json_object_get(v, "lit"),
		    member_pos(L, v, pe, "lit"), &lit);
		return rc != WEFT_OK ? rc : lit_expr(L, lit, out);
	}
	if (strcmp(form, "ref") == 0) {
		json_t *r = json_object_get(v, "ref");
		size_t rp = member_pos(L, v, pe, "ref"), ki;
		char dym[400];
		if (!json_is_string(r))
			return weft__spec_fail(L, WEFT_ETYPE, rp, kname,
			    "'ref' is %s, not a key (in key '%s')",
			    json_kind(r), name);
		ki = weft__spec_find_key(
		    L->s, json_string_value(r), json_string_length(r));
		if (ki == SPEC_NONE)
			return weft__spec_fail(L, WEFT_ENOTFOUND, rp, kname,
			    "key '%s' refers to a missing key '%s'%s", name,
			    json_string_value(r),
			    key_hint(L, json_string_value(r), dym, sizeof(dym)));
		return ref_expr(L, ki, out);
	}
	if (strcmp(form, "list") == 0) {
		json_t *l = json_object_get(v, "list");
		size_t lp = member_pos(L, v, pe, "list");
		if (!json_is_array(l))
			return weft__spec_fail(L, WEFT_ETYPE, lp, kname,
			    "'list' is %s, not an array (in key '%s')",
			    json_kind(l), name);
		return compile_list(L, l, 0, lp, weft__spec_pos_child(&L->px, lp),
		    depth, out);
	}
	{
		size_t fp = member_pos(L, v, pe, "fn");
		size_t ap = member_pos(L, v, pe, "args");
		const weft_func_info *f;
		if (!json_is_string(fn))
			return weft__spec_fail(L, WEFT_ETYPE, fp, kname,
			    "'fn' is %s, not a function name (in key '%s')",
			    json_kind(fn), name);
		f = weft_registry_find(L->s->reg, json_string_value(fn));
		if (!f)
			return unknown_fn(L, json_string_value(fn), fp, 0);
		if (args && !json_is_array(args))
			return weft__spec_fail(L, WEFT_ETYPE, ap, kname,
			    "'args' is %s, not an array (in key '%s')",
			    json_kind(args), name);
		if (!args) {
			int rc = arity_ok(L, f, 0, pe);
			spec_expr *e;
			if (rc != WEFT_OK)
				return rc;
			e = new_expr(L, X_CALL, 0);
			if (!e)
				return nomem(L);
			e->fn = f;
			*out = e;
			return WEFT_OK;
		}
		return compile_call(L, f, args, 0, pe,
		    weft__spec_pos_child(&L->px, ap), depth, out);
	}
}

static int
compile(struct loader *L, const json_t *v, size_t pe, unsigned depth,
    spec_expr **out)
{
	const char *name = L->s->keys[L->cur].name;

	/* Levels are counted in containers (tasks, lists, explicit forms):
	 * a task at the top of a key is level 1. */
	if ((json_is_array(v) || json_is_object(v)) && depth >= L->max_depth)
		return weft__spec_fail(L, WEFT_ERANGE, pe, L->cur,
		    "key '%s' nests deeper than %u levels", name,
		    L->max_depth);
	switch (json_typeof(v)) {
	case JSON_STRING: {
		size_t k = weft__spec_find_key(
		    L->s, json_string_value(v), json_string_length(v));
		if (k != SPEC_NONE)
			return ref_expr(L, k, out);
		if (L->flags & WEFT_SPEC_STRICT) {
			char dym[400];
			return weft__spec_fail(L, WEFT_ENOTFOUND, pe, L->cur,
			    "'%s' is not a key (in key '%s'; --strict)%s; "
			    "write a literal string as {\"lit\": \"...\"}",
			    json_string_value(v), name,
			    key_hint(L, json_string_value(v), dym, sizeof(dym)));
		}
		weft_value lit;
		int rc = json_literal(L, v, pe, &lit);
		return rc != WEFT_OK ? rc : lit_expr(L, lit, out);
	}
	case JSON_INTEGER:
	case JSON_REAL:
	case JSON_TRUE:
	case JSON_FALSE:
	case JSON_NULL: {
		weft_value lit;
		int rc = json_literal(L, v, pe, &lit);
		return rc != WEFT_OK ? rc : lit_expr(L, lit, out);
	}
	case JSON_OBJECT:
		return compile_object(L, v, pe, depth, out);
	case JSON_ARRAY: {
		const json_t *head = json_array_get(v, 0);
		size_t ce = weft__spec_pos_child(&L->px, pe);
		const weft_func_info *f;
		if (!head || !json_is_string(head))
			return compile_list(L, v, 0, pe, ce, depth, out);
		f = weft_registry_find(L->s->reg, json_string_value(head));
		if (f)
			return compile_call(L, f, v, 1, pe,
			    weft__spec_pos_next(&L->px, ce), depth, out);
		if (weft__spec_find_key(L->s, json_string_value(head),
			json_string_length(head)) != SPEC_NONE)
			return compile_list(L, v, 0, pe, ce, depth, out);
		return unknown_fn(L, json_string_value(head), ce, 1);
	}
	}
	return weft__spec_fail(L, WEFT_EPARSE, pe, L->cur, "unexpected JSON value");
}

/* Compiles key k's computation (JSON v at entry pe). */
static int
compile_key(struct loader *L, size_t k, const json_t *v)
{
	spec_key *key = &L->s->keys[k];
	spec_expr *e = NULL;
	int rc;

	L->cur = k;
	L->ndeps = 0;
	rc = compile(L, v, key->vpos, 0, &e);
	if (rc != WEFT_OK)
		return rc;
	key->task.spec = L->s;
	key->task.key = (uint32_t)k;
	key->task.e = e;
	key->task.direct = e->kind == X_CALL;
	for (uint32_t i = 0; i < e->n && key->task.direct; i++)
		key->task.direct = e->kids[i]->kind == X_LIT ||
		    e->kids[i]->kind == X_ARG;
	key->ndeps = (uint32_t)L->ndeps;
	if (L->ndeps) {
		key->deps = weft__spec_alloc(&L->s->arena,
		    L->ndeps * sizeof(*key->deps));
		if (!key->deps)
			return nomem(L);
		memcpy(key->deps, L->deps, L->ndeps * sizeof(*key->deps));
	}
	return WEFT_OK;
}

/* -- the file -------------------------------------------------------------- */

/* Reports a jansson error at the start of the token it names. */
static int
json_error(struct loader *L, const json_error_t *je)
{
	const char *near = strstr(je->text, " near '");
	size_t off = (size_t)je->position;
	int code = json_error_code(je) == json_error_stack_overflow
	    ? WEFT_ERANGE
	    : WEFT_EPARSE;

	/* jansson points just past the token; the message quotes it, so
	 * step back over it when it matches the text. */
	if (near) {
		const char *tok = near + 7;
		size_t tl = strlen(tok);
		if (tl > 0 && tok[tl - 1] == '\'' && tl - 1 <= off &&
		    off <= L->len &&
		    memcmp(L->text + off - (tl - 1), tok, tl - 1) == 0)
			off -= tl - 1;
	}
	if (off > L->len)
		off = L->len;
	/* {'graph': ...}: a Python dict printed with str(), most likely. */
	if (off < L->len && L->text[off] == '\'')
		return weft__spec_fail_off(L, code, off, SPEC_NONE,
		    "invalid JSON: %s; JSON strings take double quotes "
		    "(\"graph\"), not single quotes (a Python dict is not JSON: "
		    "write it with json.dump())",
		    je->text);
	return weft__spec_fail_off(L, code, off, SPEC_NONE, "invalid JSON: %s",
	    je->text);
}

static int
read_targets_override(struct loader *L, const weft_spec_opts *o)
{
	for (size_t i = 0; i < o->ntargets; i++) {
		const char *t = o->targets[i];
		size_t k;
		char dym[400];
		if (!t)
			return weft__spec_fail(L, WEFT_EINVAL, SPEC_NONE, SPEC_NONE,
			    "target %zu is NULL", i + 1);
		k = weft__spec_find_key(L->s, t, strlen(t));
		if (k == SPEC_NONE)
			return weft__spec_fail(L, WEFT_ENOTFOUND, SPEC_NONE,
			    SPEC_NONE, "target '%s' is not a key of the graph%s",
			    t, keys_hint(L, t, dym, sizeof(dym)));
		L->tk[L->ntk++] = (uint32_t)k;
	}
	return WEFT_OK;
}

static int
read_targets(struct loader *L, const json_t *t, size_t pe)
{
	size_t n, ce;

	if (json_is_string(t)) {
		/* One key may be given as a plain string. */
		size_t k = weft__spec_find_key(
		    L->s, json_string_value(t), json_string_length(t));
		char dym[400];
		if (k == SPEC_NONE)
			return weft__spec_fail(L, WEFT_ENOTFOUND, pe, SPEC_NONE,
			    "target '%s' is not a key of the graph%s",
			    json_string_value(t),
			    keys_hint(L, json_string_value(t), dym, sizeof(dym)));
		L->tk[L->ntk++] = (uint32_t)k;
		return WEFT_OK;
	}
	if (!json_is_array(t))
		return weft__spec_fail(L, WEFT_ETYPE, pe, SPEC_NONE,
		    "\"targets\" is %s, not an array of keys", json_kind(t));
	n = json_array_size(t);
	ce = weft__spec_pos_child(&L->px, pe);
	for (size_t i = 0; i < n; i++, ce = weft__spec_pos_next(&L->px, ce)) {
		const json_t *x = json_array_get(t, i);
		size_t k;
		char dym[400];
		if (!json_is_string(x))
			return weft__spec_fail(L, WEFT_ETYPE, ce, SPEC_NONE,
			    "target %zu is %s, not a key", i + 1,
			    json_kind(x));
		k = weft__spec_find_key(
		    L->s, json_string_value(x), json_string_length(x));
		if (k == SPEC_NONE)
			return weft__spec_fail(L, WEFT_ENOTFOUND, ce, SPEC_NONE,
			    "target '%s' is not a key of the graph%s",
			    json_string_value(x),
			    keys_hint(L, json_string_value(x), dym, sizeof(dym)));
		L->tk[L->ntk++] = (uint32_t)k;
	}
	return WEFT_OK;
}

/* Registers the keys of the graph object (entry pe) in file order. */
static int
read_keys(struct loader *L, const json_t *graph, size_t pe)
{
	struct weft_spec *s = L->s;
	size_t n = json_object_size(graph), i = 0, cap = 16;
	size_t ke = weft__spec_pos_child(&L->px, pe);
	const char *k;
	json_t *v;

	if (n > L->max_keys)
		return weft__spec_fail(L, WEFT_ERANGE, pe, SPEC_NONE,
		    "the graph has %zu keys, more than the limit of %zu", n,
		    L->max_keys);
	while (cap < 2 * n)
		cap *= 2;
	s->keys = weft__calloc(n ? n : 1, sizeof(*s->keys));
	s->map.slot = weft__calloc(cap, sizeof(*s->map.slot));
	L->seen = weft__calloc(n ? n : 1, sizeof(*L->seen));
	L->slot = weft__calloc(n ? n : 1, sizeof(*L->slot));
	if (!s->keys || !s->map.slot || !L->seen || !L->slot)
		return nomem(L);
	s->map.cap = cap;
	json_object_foreach((json_t *)graph, k, v)
	{
		size_t len = strlen(k), h;
		spec_key *key = &s->keys[i];
		(void)v;
		key->name = weft__spec_strdup(&s->arena, k, len);
		if (!key->name)
			return nomem(L);
		key->kpos = ke;
		key->vpos = weft__spec_pos_next(&L->px, ke);
		ke = weft__spec_pos_next(&L->px, key->vpos);
		for (h = (size_t)hash(k, len) & (cap - 1); s->map.slot[h];
		     h = (h + 1) & (cap - 1))
			;
		s->map.slot[h] = (uint32_t)i + 1;
		s->nkeys = ++i;
	}
	return WEFT_OK;
}

int
weft__spec_load_text(struct loader *L, const weft_spec_opts *o)
{
	json_error_t je;
	json_t *root, *graph = NULL, *targets = NULL;
	const char *k;
	json_t *v;
	size_t e, ge = SPEC_NONE, te = SPEC_NONE;
	double t0 = weft__spec_now_s(), t1;
	int rc;

	root = json_loadb(L->text, L->len, JSON_REJECT_DUPLICATES, &je);
	if (!root)
		return json_error(L, &je);
	rc = weft__spec_pos_scan(&L->px, L->text, L->len);
	if (rc == WEFT_ENOMEM) {
		json_decref(root);
		return nomem(L);
	}
	t1 = weft__spec_now_s();
	L->s->stats.read_s = t1 - t0 + L->read_s;
	L->t_parsed = t1;
	rc = WEFT_OK;
	if (!json_is_object(root)) {
		rc = weft__spec_fail(L, WEFT_EPARSE, 0, SPEC_NONE,
		    "a graph file is an object {\"graph\": {...}, "
		    "\"targets\": [...]}, not %s",
		    json_kind(root));
		goto out;
	}
	/* Top-level members, with their positions (file order). */
	e = weft__spec_pos_child(&L->px, 0);
	json_object_foreach(root, k, v)
	{
		size_t ve = weft__spec_pos_next(&L->px, e);
		if (strcmp(k, "graph") == 0) {
			graph = v;
			ge = ve;
		} else if (strcmp(k, "targets") == 0) {
			targets = v;
			te = ve;
		} else
			warn(L, e, "unknown top-level field '%s' ignored", k);
		e = weft__spec_pos_next(&L->px, ve);
	}
	if (!graph) {
		rc = weft__spec_fail(L, WEFT_EPARSE, 0, SPEC_NONE,
		    "no \"graph\" field: a graph file is an object "
		    "{\"graph\": {...}, \"targets\": [...]}");
		goto out;
	}
	if (!json_is_object(graph)) {
		rc = weft__spec_fail(L, WEFT_ETYPE, ge, SPEC_NONE,
		    "\"graph\" is %s, not an object of keys", json_kind(graph));
		goto out;
	}
	rc = read_keys(L, graph, ge);
	if (rc != WEFT_OK)
		goto out;
	L->tk = weft__calloc(L->s->nkeys + (o ? o->ntargets : 0) +
		(targets && json_is_array(targets) ? json_array_size(targets)
						   : 0) +
		1,
	    sizeof(*L->tk));
	if (!L->tk) {
		rc = nomem(L);
		goto out;
	}
	{
		size_t i = 0;
		json_object_foreach(graph, k, v)
		{
			rc = compile_key(L, i++, v);
			if (rc != WEFT_OK)
				goto out;
		}
	}
	if (o && o->targets) {
		rc = read_targets_override(L, o);
		L->targets_given = 1;
	} else if (targets) {
		rc = read_targets(L, targets, te);
		L->targets_given = 1;
	}
out:
	t0 = weft__spec_now_s();
	json_decref(root);
	L->free_s = weft__spec_now_s() - t0;
	return rc;
}

int
weft__spec_read_file(struct loader *L, const char *path, size_t max_bytes)
{
	FILE *f;
	char *buf = NULL;
	size_t len = 0, cap = 0;
	int is_stdin = strcmp(path, "-") == 0;
	double t0 = weft__spec_now_s();

	f = is_stdin ? stdin : fopen(path, "rb");
	if (!f)
		return weft__spec_fail(L, WEFT_EIO, SPEC_NONE, SPEC_NONE,
		    "cannot open: %s", strerror(errno));
	for (;;) {
		size_t got;
		if (weft__grow((void **)&buf, &cap, len + 65536, 1)) {
			if (!is_stdin)
				fclose(f);
			weft__free(buf);
			return nomem(L);
		}
		got = fread(buf + len, 1, cap - len, f);
		len += got;
		if (len > max_bytes) {
			if (!is_stdin)
				fclose(f);
			weft__free(buf);
			return weft__spec_fail(L, WEFT_ERANGE, SPEC_NONE, SPEC_NONE,
			    "the file is larger than the limit of %zu bytes",
			    max_bytes);
		}
		if (got == 0)
			break;
	}
	if (ferror(f)) {
		int en = errno;
		if (!is_stdin)
			fclose(f);
		weft__free(buf);
		return weft__spec_fail(L, WEFT_EIO, SPEC_NONE, SPEC_NONE,
		    "cannot read: %s", strerror(en));
	}
	if (!is_stdin)
		fclose(f);
	L->owned = buf;
	L->text = buf;
	L->len = len;
	L->read_s = weft__spec_now_s() - t0;
	return WEFT_OK;
}
