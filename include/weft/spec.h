/**
 * \file weft/spec.h
 * \brief Graph files: Dask's graph specification, in JSON, read into a
 * weft_graph through a function registry (weft/registry.h).
 *
 * A file is a JSON object `{"graph": {KEY: COMPUTATION, ...}, "targets":
 * [KEY, ...]}`. `targets` is optional: by default, every key that no other
 * key uses, in file order. Other top-level fields are ignored, with a
 * warning (weft_spec_warning()).
 *
 * A COMPUTATION, in the compact form (Dask's rules):
 * - a number, `true`, `false` or `null`: a literal;
 * - a string: a reference when it is a key of the graph, otherwise a literal
 *   string (with WEFT_SPEC_STRICT, an error);
 * - an array whose first element is the name of a registered function: a
 *   task, `["add", "x", 1]` is add(x, 1); the head is the function even when
 *   a key has the same name;
 * - an array headed by a key, by a non-string, or empty: a list of
 *   computations;
 * - an array headed by a string that is neither a function nor a key: an
 *   error (a misspelt function is the likely cause); write a list of
 *   strings as `{"list": [...]}` or `{"lit": [...]}`;
 * - a key whose computation is a reference is an alias of that key.
 *
 * And in the explicit form, which removes every ambiguity and mixes freely
 * with the compact one: `{"lit": V}` (V as a value, never a reference or a
 * task), `{"ref": "k"}`, `{"fn": "add", "args": [...]}` (args optional),
 * `{"list": [...]}`. Any other object is an error: values have no objects.
 * At the top of a key, an explicit form may also carry `"rank": R`, the
 * rank that runs the key under weft-mpi (weft/mpi.h); one process ignores
 * it, and weft_spec_key_field() reads it.
 *
 * JSON values become weft values: integers INT (64 bits), other numbers
 * FLOAT, strings STR, true/false BOOL, null NIL, arrays LIST.
 *
 * Each key is one task of the graph; tasks nested inside a key's
 * computation run inline, inside that key's task (as in Dask). Lists whose
 * items are all literals are built once, when the file is read.
 *
 * The graph is culled: only the keys the targets need become nodes (see
 * WEFT_SPEC_NO_CULL). Every key is still checked.
 *
 * Errors never print and never abort: each function returns a code, and the
 * loaders fill a weft_spec_error with the position (file:line:column), the
 * key and a one-line message.
 */
#ifndef WEFT_SPEC_H
#define WEFT_SPEC_H

#include <stddef.h>
#include <stdio.h>

#include "compute.h"
#include "errno.h"
#include "graph.h"
#include "registry.h"
#include "trace.h"
#include "value.h"
#include "version.h"
#include "write.h" /* weft_value_write(), declared here before */

#ifdef __cplusplus
extern "C" {
#endif

/** A graph file, read: owns the weft_graph built from it. Opaque. */
typedef struct weft_spec weft_spec;

/** Flags of weft_spec_opts. */
enum weft_spec_flags {
	/** A string argument that is not a key is an error instead of a
	 *  literal string (write literal strings as {"lit": "..."}). */
	WEFT_SPEC_STRICT = 1u << 0,
	/** Build every key into the graph, not only what the targets need. */
	WEFT_SPEC_NO_CULL = 1u << 1,
};

/** Default and hard limits (weft_spec_opts). */
#define WEFT_SPEC_MAX_KEYS_DEFAULT ((size_t)1 << 22)
#define WEFT_SPEC_MAX_DEPTH_DEFAULT 64u /**< nesting in one key */
#define WEFT_SPEC_MAX_DEPTH_LIMIT 1000u /**< the most max_depth may ask */
#define WEFT_SPEC_MAX_BYTES_DEFAULT ((size_t)256 << 20) /**< file size */

/** Options of a load. Zero means default for every field, and a NULL
 *  pointer means all defaults. */
typedef struct weft_spec_opts {
	/** weft_spec_flags, or-ed. */
	unsigned flags;
	/** When not NULL: the keys to compute (`ntargets` of them), instead of
	 *  the file's "targets". Copied. */
	const char *const *targets;
	size_t ntargets; /**< how many targets */
	/** The most keys a file may have; 0 = WEFT_SPEC_MAX_KEYS_DEFAULT.
	 *  Never more than WEFT_MAX_NODES. */
	size_t max_keys;
	/** The deepest nesting of one key's computation (tasks in tasks,
	 *  lists in lists); 0 = WEFT_SPEC_MAX_DEPTH_DEFAULT; at most
	 *  WEFT_SPEC_MAX_DEPTH_LIMIT. Nested tasks run recursively on a
	 *  worker's stack, so this bounds the stack they use. */
	unsigned max_depth;
	/** The largest file, in bytes; 0 = WEFT_SPEC_MAX_BYTES_DEFAULT. */
	size_t max_bytes;
	/** Extra fields that the explicit form at the top of a key may carry
	 *  (besides "rank", always accepted), for a front end that gives them a
	 *  meaning (`{"fn": "sum", "args": [...], "prio": 1}`). The reader
	 *  takes their values as literals and keeps them for
	 *  weft_spec_key_field(); any other unknown field stays an error.
	 *  `nkey_fields` names, or NULL. Not copied: they must outlive the
	 *  load. */
	const char *const *key_fields;
	size_t nkey_fields; /**< how many names `key_fields` holds */
	void *reserved[4]; /**< must be zero */
} weft_spec_opts;

/** Why a load failed. */
typedef struct weft_spec_error {
	/** The code the loader returned (WEFT_OK when none). */
	int code;
	/** 1-based position in the file (columns count UTF-8 characters);
	 *  0 when the error has no position (e.g. a --target override). */
	unsigned line;
	unsigned column; /**< see line */
	/** The key whose computation is at fault, "" when none (truncated
	 *  to fit). */
	char key[128];
	/** The whole message, one line: "FILE:LINE:COL: error: unknown
	 *  function 'frobnicate' in key 'y' (did you mean 'floordiv'?)". */
	char message[1024];
} weft_spec_error;

/**
 * Reads the graph file at `path` ("-" reads standard input) with the
 * functions of `reg`, and builds its graph. On success `*out` receives the
 * spec (free it with weft_spec_free()). `opts` and `err` may be NULL.
 *
 * Returns WEFT_OK, or:
 * - WEFT_EIO: the file cannot be read;
 * - WEFT_EPARSE: not valid JSON (including duplicate keys in an object), or
 *   not laid out as a graph file (no "graph", an object as a value, ...);
 * - WEFT_ETYPE: a field of the wrong type ("graph" not an object, a target
 *   not a string, "args" not an array, ...);
 * - WEFT_ENOTFOUND: an unknown function, a {"ref"} or target that is not a
 *   key, or (strict) a string argument that is not a key;
 * - WEFT_EINVAL: a function called with the wrong number of arguments, or
 *   bad opts;
 * - WEFT_ECYCLE: keys that depend on each other (the message gives the
 *   path, `a -> b -> a`);
 * - WEFT_ERANGE: a limit of opts exceeded (file size, keys, depth);
 * - WEFT_ENOMEM.
 * `reg` must outlive the spec. Thread-safe for different specs.
 */
WEFT_API int weft_spec_load_file(const char *path, const weft_registry *reg,
    const weft_spec_opts *opts, weft_spec **out, weft_spec_error *err);

/**
 * Like weft_spec_load_file(), from `len` bytes at `data` (not necessarily
 * NUL-terminated). `name` names the input in messages (NULL: "<buffer>").
 */
WEFT_API int weft_spec_load_buffer(const char *data, size_t len,
    const char *name, const weft_registry *reg, const weft_spec_opts *opts,
    weft_spec **out, weft_spec_error *err);

/** Frees the spec and its graph. NULL is ok. */
WEFT_API void weft_spec_free(weft_spec *s);

/** The graph built from the file; owned by the spec (do not free it). Each
 *  built key is a node of that name (weft_graph_find()). */
WEFT_API weft_graph *weft_spec_graph(const weft_spec *s);

/** Number of targets (duplicates removed). */
WEFT_API size_t weft_spec_ntargets(const weft_spec *s);
/** The targets' nodes, ready for weft_compute(); valid while `s` lives. */
WEFT_API const weft_node *weft_spec_targets(const weft_spec *s);
/** The key of target `i`, or NULL when out of range. */
WEFT_API const char *weft_spec_target_key(const weft_spec *s, size_t i);

/** Number of warnings of the load (e.g. unknown top-level fields). */
WEFT_API size_t weft_spec_nwarnings(const weft_spec *s);
/** Warning `i`, one line: "FILE:LINE:COL: warning: ...", or NULL. */
WEFT_API const char *weft_spec_warning(const weft_spec *s, size_t i);

/**
 * The value of extra field `field` ("rank", or one of
 * weft_spec_opts.key_fields) on the
 * explicit computation of key `key`: WEFT_OK, with `*out` BORROWED from
 * the spec (valid while it lives) and, when not NULL, its 1-based position
 * in `*line` and `*column`; WEFT_ENOTFOUND when that key does not carry
 * the field (or there is no such key); WEFT_EINVAL for NULL arguments.
 */
WEFT_API int weft_spec_key_field(const weft_spec *s, const char *key,
    const char *field, weft_value *out, unsigned *line, unsigned *column);

/** The name the spec's messages give the input ("FILE", "<stdin>",
 *  "<buffer>"), for messages of its own about the file. */
WEFT_API const char *weft_spec_name(const weft_spec *s);

/** What a load found and built. */
typedef struct weft_spec_stats {
	size_t keys;   /**< keys in the file */
	size_t tasks;  /**< tasks built: the keys the targets need */
	size_t edges;  /**< dependencies between built tasks */
	size_t depth;  /**< tasks on the longest dependency chain */
	size_t calls;  /**< function calls in the built tasks */
	size_t nested; /**< of which inside another call or a list */
	size_t funcs;  /**< distinct functions the built tasks call */
	double read_s;	/**< seconds reading and parsing the JSON */
	double build_s; /**< seconds checking it and building the graph */
	void *reserved[4]; /**< for later figures */
} weft_spec_stats;

/** Fills `out`. WEFT_EINVAL for NULL arguments. */
WEFT_API int weft_spec_stats_get(const weft_spec *s, weft_spec_stats *out);

/**
 * Function `i` (0 <= i < stats.funcs, in name order) called by the built
 * tasks, and in `*count` (when not NULL) how many calls of it there are;
 * NULL when out of range.
 */
WEFT_API const weft_func_info *weft_spec_func_used(
    const weft_spec *s, size_t i, size_t *count);

/**
 * After weft_compute() of the spec's graph returned WEFT_ETASK: which key
 * failed, in which function, and the message. Each pointer (any may be
 * NULL) receives a string valid until the next compute or the spec's free,
 * or NULL when unknown: `*fn` is the function whose call failed, nested or
 * not; NULL when the failure came from the spec's own evaluation (out of
 * memory building a list) or the key is not known.
 * Returns WEFT_OK, or WEFT_ENOTFOUND when the graph has no task failure.
 */
WEFT_API int weft_spec_failure(const weft_spec *s, const char **key,
    const char **fn, const char **message);

/**
 * Writes the built part of the graph in Graphviz DOT through the one
 * writer, weft_graph_write_dot_opts() (weft/trace.h): one box per key,
 * labelled with the key and its computation as the file wrote it
 * ("z\nadd(y, mul(x, 10))", shortened past 60 characters), one edge per
 * dependency; with a trace (may be NULL), workers' colours, failed and
 * not-run keys marked, and a legend; big graphs summarized. WEFT_OK,
 * WEFT_EIO on a write error, WEFT_ENOMEM, WEFT_EINVAL.
 */
WEFT_API int weft_spec_write_dot(
    const weft_spec *s, FILE *f, const weft_trace *trace);

/**
 * Fills `*opts` (zeroed first) with the spec's labels, for a caller that
 * wants the other options of weft_graph_write_dot_opts() too: the size
 * limit, and the weft_dot_info that says whether the graph was summarized.
 * \code
 * weft_dot_opts o;
 * weft_dot_info info;
 * weft_spec_dot_opts(s, &o);
 * o.trace = trace;
 * rc = weft_graph_write_dot_opts(weft_spec_graph(s), f, &o, &info);
 * if (rc == WEFT_OK && info.summarized) ... tell the user
 * \endcode
 * The labels read `s`: it must outlive the writing.
 */
WEFT_API void weft_spec_dot_opts(const weft_spec *s, weft_dot_opts *opts);

#ifdef __cplusplus
}
#endif
#endif
