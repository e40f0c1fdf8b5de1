/**
 * \file weft/registry.h
 * \brief Named functions: the registry that graph files (weft/spec.h) and
 * the `weft` command look task functions up in, the built-in function
 * library, and plugins.
 *
 * A registry maps a name ("add") to a weft_fn with its arity (the least and
 * the most arguments it takes) and a one-line description. It starts empty;
 * weft_registry_add_builtins() adds the built-in library, and
 * weft_registry_load_plugin() adds the functions of a shared library.
 *
 * Thread-safety: adding functions or loading plugins is not thread-safe;
 * once a registry is set up, any number of threads may look names up in it
 * at once (lookups only read).
 *
 * Lifetime: a graph built with functions of a plugin calls code of that
 * plugin, which stays loaded until weft_registry_free(): free such graphs
 * (and the specs that own them) first.
 */
#ifndef WEFT_REGISTRY_H
#define WEFT_REGISTRY_H

#include <stddef.h>

#include "errno.h"
#include "graph.h"
#include "task.h" /* weft_fail, for the functions it registers */
#include "version.h"

#ifdef __cplusplus
extern "C" {
#endif

/** A set of named functions. Opaque. */
typedef struct weft_registry weft_registry;

/** `max_args` of a function that takes any number of arguments. */
#define WEFT_ARGS_ANY (-1)
/** The longest function name, in bytes. */
#define WEFT_FUNC_NAME_MAX 64

/** What a function promises about its arguments (weft_func_info.flags),
 *  so that a graph file's reader can refuse, before anything runs, a call
 *  that is sure to fail. */
enum weft_func_flags {
	/** Every argument must be a number (int, float or bool): a literal
	 *  string, list or null argument is an error when a graph file is
	 *  read (`weft check` reports it, and `weft run` refuses the file),
	 *  not a task failure at run time. */
	WEFT_FUNC_NUMBERS = 1u << 0,
};

/** What the registry knows about one function. Read-only; valid until the
 *  registry is freed. */
typedef struct weft_func_info {
	const char *name; /**< its name, as looked up */
	weft_fn fn;	  /**< the function */
	int min_args;	  /**< least arguments (>= 0) */
	int max_args;	  /**< most arguments, or WEFT_ARGS_ANY */
	const char *help; /**< one line: what it does ("" when none) */
	const char *origin; /**< "builtin", or the path of the plugin that
				 registered it, or "" */
	unsigned flags;	    /**< weft_func_flags, or-ed (0: no promise) */
	void *reserved[2]; /**< for later fields */
} weft_func_info;

/** A new, empty registry; NULL when out of memory. */
WEFT_API weft_registry *weft_registry_new(void);

/** Frees the registry and unloads its plugins. NULL is ok. Graphs that use
 *  plugin functions must be freed first. */
WEFT_API void weft_registry_free(weft_registry *r);

/**
 * Registers `fn` as `name`, taking `min_args` to `max_args` arguments
 * (`max_args` WEFT_ARGS_ANY: no upper bound). `name` and `help` are copied;
 * `help` may be NULL. A name is 1 to WEFT_FUNC_NAME_MAX bytes of letters,
 * digits and `_ . : -`, and does not start with a digit or '-'.
 *
 * Returns WEFT_OK; WEFT_EINVAL for a NULL registry or fn, a bad name or
 * arity (min < 0, or max < min when max is not WEFT_ARGS_ANY), or a name
 * already registered (the first registration stays); WEFT_ENOMEM.
 */
WEFT_API int weft_registry_add(weft_registry *r, const char *name, weft_fn fn,
    int min_args, int max_args, const char *help);

/**
 * Adds the built-in function library (see `weft funcs`, or
 * weft_registry_at() after this call): arithmetic (inc, add, sub, mul, div,
 * floordiv, mod, pow, neg, abs, ...), comparisons and logic, reductions
 * over a list (sum, min, max, mean, len), lists and strings (range, list,
 * getitem, concat, flatten, format, ...), conversions, and test helpers
 * (identity, fail, sleep_ms, spin_us).
 *
 * Returns WEFT_OK, WEFT_EINVAL (NULL, or one of the names is already
 * registered: the others are still added) or WEFT_ENOMEM.
 */
WEFT_API int weft_registry_add_builtins(weft_registry *r);

/** Sets the flags (weft_func_flags, or-ed) of the function registered as
 *  `name`: what it promises about its arguments. Not thread-safe (like
 *  weft_registry_add). WEFT_OK; WEFT_ENOTFOUND (no such function);
 *  WEFT_EINVAL (NULL, or unknown flags). */
WEFT_API int weft_registry_set_flags(
    weft_registry *r, const char *name, unsigned flags);

/** The function registered as `name`, or NULL. Thread-safe. */
WEFT_API const weft_func_info *weft_registry_find(
    const weft_registry *r, const char *name);

/** Number of registered functions. */
WEFT_API size_t weft_registry_count(const weft_registry *r);

/** Function `i` (0 <= i < count) in name order, or NULL when out of range.
 *  Indexes change when functions are added. */
WEFT_API const weft_func_info *weft_registry_at(
    const weft_registry *r, size_t i);

/**
 * The registered name closest to `name` (edit distance, for "did you mean"
 * messages), or NULL when none is close enough to help. Thread-safe.
 */
WEFT_API const char *weft_registry_suggest(
    const weft_registry *r, const char *name);

/**
 * Writes "2", "1..3" or "0+" for the arity of `f` into `buf` (at most `size`
 * bytes, NUL-terminated) and returns `buf`.
 */
WEFT_API const char *weft_func_arity(
    const weft_func_info *f, char *buf, size_t size);

/**
 * The symbol a plugin exports. A plugin is a shared library that defines
 *
 * \code
 * #include <weft.h>
 * WEFT_PLUGIN_EXPORT int
 * weft_plugin_init(weft_registry *reg)
 * {
 *         return weft_registry_add(reg, "square", square, 1, 1,
 *             "x*x of a number");
 * }
 * \endcode
 *
 * and returns WEFT_OK, or an error code to refuse to load. It is called
 * once per weft_registry_load_plugin(); it may register any number of
 * functions and call any function of the public API.
 */
#define WEFT_PLUGIN_INIT_SYMBOL "weft_plugin_init"
/** Marks weft_plugin_init() as exported from the plugin. */
#define WEFT_PLUGIN_EXPORT WEFT_API
/** The type of weft_plugin_init(). */
typedef int (*weft_plugin_init_fn)(weft_registry *reg);

/**
 * Loads the shared library at `path` (dlopen; a path without '/' is
 * searched as dlopen does) and calls its weft_plugin_init(r). The library
 * stays loaded until weft_registry_free(r). Functions it registers have
 * `origin` == path.
 *
 * Returns WEFT_OK; WEFT_EINVAL for NULL arguments; WEFT_EIO when the
 * library cannot be loaded; WEFT_ENOTFOUND when it has no
 * weft_plugin_init; the init function's own error code when it fails (the
 * library is then unloaded, and the functions it registered before failing
 * are removed); WEFT_ENOMEM. On error, `err` (when not NULL) receives a
 * one-line message of at most `errsize` bytes, e.g.
 * "plugin 'x.so': cannot load: x.so: cannot open shared object file".
 */
WEFT_API int weft_registry_load_plugin(
    weft_registry *r, const char *path, char *err, size_t errsize);

#ifdef __cplusplus
}
#endif
#endif
