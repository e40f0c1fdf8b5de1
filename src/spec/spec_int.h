/*
 * Internals of the spec layer: a graph file compiled into one small
 * expression tree per key, then into weft nodes.
 */
#ifndef WEFT_SPEC_INT_H
#define WEFT_SPEC_INT_H

#include <stddef.h>
#include <stdint.h>

#include "weft/registry.h"
#include "weft/spec.h"

#define SPEC_NONE ((size_t)-1)

/* -- positions (pos.c) ----------------------------------------------------
 * jansson reports positions only for syntax errors, so after it has
 * accepted a text, one pass over the same text records where each value
 * starts. Entries are in document order (pre-order); an object's members
 * are a key entry followed by the value's entries. `size` counts the
 * entries of a subtree, itself included, so the next sibling of entry e is
 * e + size. Every lookup accepts SPEC_NONE and gives SPEC_NONE back, so a
 * missing index only costs the position in a message. */
typedef struct spec_pos {
	size_t off;  /* byte offset where the value (or key) starts */
	size_t size; /* entries in the subtree */
} spec_pos;

typedef struct spec_posindex {
	spec_pos *e;
	size_t n, cap;
} spec_posindex;

/* Indexes the JSON text t[0..len). WEFT_OK, WEFT_ENOMEM, or WEFT_EPARSE
 * when the text is not what jansson accepted (the index is then empty). */
int weft__spec_pos_scan(spec_posindex *px, const char *t, size_t len);
void weft__spec_pos_free(spec_posindex *px);
/* First child (array element / object key) of container entry e. */
size_t weft__spec_pos_child(const spec_posindex *px, size_t e);
/* The entry after e's subtree (its next sibling within the parent). */
size_t weft__spec_pos_next(const spec_posindex *px, size_t e);
/* The byte offset of entry e, or SPEC_NONE. */
size_t weft__spec_pos_off(const spec_posindex *px, size_t e);
/* 1-based line and column (in UTF-8 characters) of byte offset `off`. */
void weft__spec_line_col(const char *t, size_t len, size_t off, unsigned *line,
    unsigned *col);

/* -- expressions ---------------------------------------------------------- */

enum { X_LIT, X_ARG, X_CALL, X_LIST };

typedef struct spec_expr {
	uint8_t kind;
	uint32_t n; /* CALL: arguments; LIST: items; ARG: dependency slot */
	const weft_func_info *fn; /* CALL */
	weft_value lit;		  /* LIT, owned */
	struct spec_expr **kids;  /* CALL, LIST */
} spec_expr;

/* What the node of one key runs: its literal argument 0 points here. */
typedef struct spec_task {
	struct weft_spec *spec;
	uint32_t key;
	/* The top call's arguments are the node's arguments, in order: the
	 * call needs no evaluation (the common case, and the fast one). */
	uint8_t direct;
	spec_expr *e;
	/* The function whose call failed in the last run of this key, NULL
	 * if none. Written only by this key's task, read after the compute
	 * returned. */
	const weft_func_info *failed;
} spec_task;

typedef struct spec_key {
	const char *name; /* in the arena */
	size_t kpos;	  /* position entry of the key string */
	size_t vpos;	  /* position entry of its computation */
	spec_task task;
	uint32_t *deps; /* distinct keys its computation references */
	uint32_t ndeps;
	weft_node node;
	uint32_t field0, nfields; /* its extra fields: fields[field0..) */
	uint8_t mark;	/* DFS color, then "needed" */
	uint8_t used;	/* referenced by another key */
	uint8_t built;
} spec_key;

/* A bump allocator: the compiled file is freed at once. */
typedef struct spec_arena {
	struct spec_chunk *head;
	size_t left;
	char *at;
} spec_arena;

void *weft__spec_alloc(spec_arena *a, size_t size);
char *weft__spec_strdup(spec_arena *a, const char *s, size_t n);
void weft__spec_arena_free(spec_arena *a);

/* Key name -> index, open addressing. */
typedef struct spec_map {
	uint32_t *slot; /* index + 1; 0 = empty */
	size_t cap;
} spec_map;

/* An extra field of a key's explicit form (weft_spec_opts.key_fields). */
struct spec_field {
	const char *name; /* the caller's string */
	weft_value v;	  /* owned */
	unsigned line, col;
};

struct func_use {
	const weft_func_info *f;
	size_t count;
};

struct weft_spec {
	const weft_registry *reg;
	weft_graph *g;
	spec_arena arena;
	spec_key *keys;
	size_t nkeys;
	spec_map map;
	weft_node *targets;
	uint32_t *target_keys;
	size_t ntargets;
	char **warnings;
	size_t nwarnings, capwarnings;
	/* Every literal expression, to release their values at the end
	 * (also those of a key whose compile failed half way). */
	spec_expr **lits;
	size_t nlits, caplits;
	struct func_use *funcs;
	size_t nfuncs;
	struct spec_field *fields;
	size_t nfields, capfields;
	char *name; /* the input, in messages */
	weft_spec_stats stats;
};

/* Index of key `name` (n bytes), or SPEC_NONE. */
size_t weft__spec_find_key(const struct weft_spec *s, const char *name, size_t n);

/* The run-time side (eval.c): the function every node runs. */
int weft__spec_eval_task(
    weft_ctx *ctx, size_t nargs, const weft_value *args, weft_value *out);

#endif
