/*
 * The function registry: a sorted array of function records, looked up by
 * binary search. Registries hold tens to hundreds of functions and are read
 * far more often than written, so a sorted array beats a hash table here:
 * it is as fast for these sizes, gives weft_registry_at() its name order for
 * free, and a lookup only reads (any number of threads may look up at once).
 */
#include <dlfcn.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "base/alloc.h"
#include "lib/lib.h"
#include "weft/registry.h"

struct plugin {
	void *handle;
	char *path;
};

/* A function record; `info` first, so a weft_func_info * is an entry *. */
struct entry {
	weft_func_info info;
	unsigned load; /* which plugin load added it (0: none) */
};

struct weft_registry {
	weft_func_info **funcs; /* sorted by name; each an entry */
	size_t nfuncs, capfuncs;
	struct plugin *plugins;
	size_t nplugins, capplugins;
	const char *origin; /* stamped on what is registered now */
	unsigned load, loads; /* the plugin load under way (0: none) */
};

weft_registry *
weft_registry_new(void)
{
	weft_registry *r = weft__calloc(1, sizeof(*r));

	if (r)
		r->origin = "";
	return r;
}

static void
func_free(weft_func_info *f)
{
	if (!f)
		return;
	weft__free((char *)f->name);
	weft__free((char *)f->help);
	weft__free((char *)f->origin);
	weft__free(f);
}

void
weft_registry_free(weft_registry *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->nfuncs; i++)
		func_free(r->funcs[i]);
	weft__free(r->funcs);
	/* Unload in reverse order: a plugin may depend on an earlier one. */
	for (size_t i = r->nplugins; i-- > 0;) {
		dlclose(r->plugins[i].handle);
		weft__free(r->plugins[i].path);
	}
	weft__free(r->plugins);
	weft__free(r);
}

static int
name_ok(const char *s)
{
	size_t n = 0;

	if (!s || !*s || (*s >= '0' && *s <= '9') || *s == '-')
		return 0;
	for (; s[n]; n++) {
		char c = s[n];
		int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '_' || c == '.' ||
		    c == ':' || c == '-';
		if (!ok || n >= WEFT_FUNC_NAME_MAX)
			return 0;
	}
	return 1;
}

/* Index of `name` in r->funcs, or of where it would go (*found = 0). */
static size_t
search(const weft_registry *r, const char *name, int *found)
{
	size_t lo = 0, hi = r->nfuncs;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(r->funcs[mid]->name, name);
		if (c == 0) {
			*found = 1;
			return mid;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = 0;
	return lo;
}

int
weft_registry_add(weft_registry *r, const char *name, weft_fn fn,
    int min_args, int max_args, const char *help)
{
	int found;
	size_t at;
	weft_func_info *f;

	if (!r || !fn || !name_ok(name) || min_args < 0 ||
	    (max_args != WEFT_ARGS_ANY && max_args < min_args))
		return WEFT_EINVAL;
	at = search(r, name, &found);
	if (found)
		return WEFT_EINVAL;
	if (weft__grow((void **)&r->funcs, &r->capfuncs, r->nfuncs + 1,
		sizeof(*r->funcs)))
		return WEFT_ENOMEM;
	f = weft__calloc(1, sizeof(struct entry));
	if (!f)
		return WEFT_ENOMEM;
	((struct entry *)f)->load = r->load;
	f->name = weft__strdup(name);
	f->help = weft__strdup(help ? help : "");
	f->origin = weft__strdup(r->origin);
	if (!f->name || !f->help || !f->origin) {
		func_free(f);
		return WEFT_ENOMEM;
	}
	f->fn = fn;
	f->min_args = min_args;
	f->max_args = max_args;
	memmove(r->funcs + at + 1, r->funcs + at,
	    (r->nfuncs - at) * sizeof(*r->funcs));
	r->funcs[at] = f;
	r->nfuncs++;
	return WEFT_OK;
}

int
weft_registry_set_flags(weft_registry *r, const char *name, unsigned flags)
{
	int found;
	size_t at;

	if (!r || !name || (flags & ~(unsigned)WEFT_FUNC_NUMBERS))
		return WEFT_EINVAL;
	at = search(r, name, &found);
	if (!found)
		return WEFT_ENOTFOUND;
	r->funcs[at]->flags = flags;
	return WEFT_OK;
}

const weft_func_info *
weft_registry_find(const weft_registry *r, const char *name)
{
	int found;
	size_t at;

	if (!r || !name)
		return NULL;
	at = search(r, name, &found);
	return found ? r->funcs[at] : NULL;
}

size_t
weft_registry_count(const weft_registry *r)
{
	return r ? r->nfuncs : 0;
}

const weft_func_info *
weft_registry_at(const weft_registry *r, size_t i)
{
	return r && i < r->nfuncs ? r->funcs[i] : NULL;
}

const char *
weft_func_arity(const weft_func_info *f, char *buf, size_t size)
{
	if (!buf || size == 0)
		return buf;
	if (!f)
		snprintf(buf, size, "?");
	else if (f->max_args == WEFT_ARGS_ANY)
		snprintf(buf, size, "%d+", f->min_args);
	else if (f->max_args == f->min_args)
		snprintf(buf, size, "%d", f->min_args);
	else
		snprintf(buf, size, "%d..%d", f->min_args, f->max_args);
	return buf;
}

/* Optimal string alignment distance (Levenshtein plus transpositions),
 * capped: names are at most WEFT_FUNC_NAME_MAX bytes, longer input is
 * never close to one. */
size_t
weft__edit_distance(const char *a, const char *b)
{
	enum { M = WEFT_FUNC_NAME_MAX + 1 };
	size_t la = strlen(a), lb = strlen(b);
	size_t d[3][M]; /* rows i-2, i-1, i (rolling) */

	if (la >= M || lb >= M)
		return (size_t)-1;
	for (size_t j = 0; j <= lb; j++)
		d[0][j] = j;
	for (size_t i = 1; i <= la; i++) {
		size_t *cur = d[i % 3], *prev = d[(i - 1) % 3];
		size_t *pp = d[(i + 1) % 3]; /* row i-2 */
		cur[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t cost = a[i - 1] != b[j - 1];
			size_t v = prev[j] + 1;
			if (cur[j - 1] + 1 < v)
				v = cur[j - 1] + 1;
			if (prev[j - 1] + cost < v)
				v = prev[j - 1] + cost;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] &&
			    a[i - 2] == b[j - 1] && pp[j - 2] + 1 < v)
				v = pp[j - 2] + 1;
			cur[j] = v;
		}
	}
	return d[la % 3][lb];
}

size_t
weft__typo_distance(size_t len)
{
	/* Close enough to be a typo: one edit for short names, two for
	 * medium ones, three for long ones. */
	return len <= 4 ? 1 : len <= 8 ? 2 : 3;
}

const char *
weft_registry_suggest(const weft_registry *r, const char *name)
{
	const char *best = NULL;
	size_t bestd = (size_t)-1, len;

	if (!r || !name)
		return NULL;
	len = strlen(name);
	for (size_t i = 0; i < r->nfuncs; i++) {
		size_t d = weft__edit_distance(name, r->funcs[i]->name);
		if (d < bestd) {
			bestd = d;
			best = r->funcs[i]->name;
		}
	}
	if (best && bestd > 0 && bestd <= weft__typo_distance(len))
		return best;
	return NULL;
}

static void
set_err(char *err, size_t errsize, const char *fmt, ...) WEFT_PRINTF(3, 4);

static void
set_err(char *err, size_t errsize, const char *fmt, ...)
{
	va_list ap;

	if (!err || errsize == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errsize, fmt, ap);
	va_end(ap);
}

/* Removes the functions a failed plugin load added. */
static void
drop_load(weft_registry *r, unsigned load)
{
	size_t k = 0;

	for (size_t i = 0; i < r->nfuncs; i++) {
		if (((struct entry *)r->funcs[i])->load == load)
			func_free(r->funcs[i]);
		else
			r->funcs[k++] = r->funcs[i];
	}
	r->nfuncs = k;
}

int
weft_registry_load_plugin(
    weft_registry *r, const char *path, char *err, size_t errsize)
{
	void *h, *sym;
	weft_plugin_init_fn init;
	char *origin;
	int rc;

	set_err(err, errsize, "%s", "");
	if (!r || !path || !*path) {
		set_err(err, errsize, "plugin: no path given");
		return WEFT_EINVAL;
	}
	if (weft__grow((void **)&r->plugins, &r->capplugins, r->nplugins + 1,
		sizeof(*r->plugins)))
		return WEFT_ENOMEM;
	origin = weft__strdup(path);
	if (!origin)
		return WEFT_ENOMEM;
	dlerror();
	h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		const char *why = dlerror();
		set_err(err, errsize, "plugin '%s': cannot load: %s", path,
		    why ? why : "unknown reason");
		weft__free(origin);
		return WEFT_EIO;
	}
	dlerror();
	sym = dlsym(h, WEFT_PLUGIN_INIT_SYMBOL);
	if (!sym) {
		set_err(err, errsize,
		    "plugin '%s': no '%s' function: not a weft plugin", path,
		    WEFT_PLUGIN_INIT_SYMBOL);
		dlclose(h);
		weft__free(origin);
		return WEFT_ENOTFOUND;
	}
	/* dlsym returns an object pointer; copying its bytes is the way
	 * POSIX blesses to turn it into a function pointer in ISO C. */
	memcpy(&init, &sym, sizeof(init));
	r->origin = origin;
	r->load = ++r->loads;
	rc = init(r);
	r->origin = "";
	r->load = 0;
	if (rc != WEFT_OK) {
		set_err(err, errsize, "plugin '%s': %s() failed: %s (%s)", path,
		    WEFT_PLUGIN_INIT_SYMBOL, weft_strerror(rc),
		    weft_err_name(rc));
		drop_load(r, r->loads);
		dlclose(h);
		weft__free(origin);
		return rc < 0 ? rc : WEFT_EINVAL;
	}
	r->plugins[r->nplugins].handle = h;
	r->plugins[r->nplugins].path = origin;
	r->nplugins++;
	return WEFT_OK;
}

void
weft__registry_set_origin(weft_registry *r, const char *origin)
{
	r->origin = origin ? origin : "";
}

int
weft_registry_add_builtins(weft_registry *r)
{
	int rc, rc2;

	if (!r)
		return WEFT_EINVAL;
	weft__registry_set_origin(r, "builtin");
	rc = weft__builtins_num(r);
	rc2 = weft__builtins_seq(r);
	weft__registry_set_origin(r, NULL);
	return rc != WEFT_OK ? rc : rc2;
}

int
weft__register_table(weft_registry *r, const weft__builtin *t, size_t n)
{
	int first = WEFT_OK;
	for (size_t i = 0; i < n; i++) {
		int rc = weft_registry_add(
		    r, t[i].name, t[i].fn, t[i].min, t[i].max, t[i].help);
		if (rc != WEFT_OK && first == WEFT_OK)
			first = rc;
	}
	return first;
}
