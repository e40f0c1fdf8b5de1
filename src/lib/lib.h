/*
 * Private helpers of the function layer, shared with the spec layer above
 * it: a growable text buffer, the value printer (JSON and plain text) and
 * the edit distance behind "did you mean" suggestions.
 */
#ifndef WEFT_LIB_LIB_H
#define WEFT_LIB_LIB_H

#include <stddef.h>
#include <stdint.h>

#include "weft/registry.h"
#include "weft/value.h"
#include "weft/write.h"

/* A growable, NUL-terminated byte buffer. Appends never fail loudly: on no
 * memory they set `oom` and drop the text, so a caller checks once. */
typedef struct weft__buf {
	char *p;
	size_t len, cap;
	int oom;
} weft__buf;

void weft__buf_put(weft__buf *b, const char *s, size_t n);
void weft__buf_puts(weft__buf *b, const char *s);
void weft__buf_printf(weft__buf *b, const char *fmt, ...) WEFT_PRINTF(2, 3);
void weft__buf_free(weft__buf *b);

/* A writer's sink (weft/write.h) that appends to a weft__buf (ud); it
 * stops the writer with WEFT_ENOMEM once the buffer gave up. */
int weft__buf_sink(void *ud, const char *s, size_t n);

enum {
	/* JSON: strings quoted and escaped, NaN/Inf as null. Without it,
	 * plain text: a top-level string as is, NaN/Inf as nan/inf. */
	WEFT__REPR_JSON = 1,
};

/* Prints `v` (borrowed) through `sink` (value_write.c). Lists print as JSON
 * arrays at any depth, in constant C stack. WEFT_OK, WEFT_ENOMEM, or the
 * sink's first error, which ends the walk. */
int weft__repr(weft_write_fn sink, void *ud, weft_value v, unsigned flags);

/* Shortest "%.*g" form of d that reads back as d ("0.1", "1e+300"), with
 * ".0" added when it would read as an integer. `buf` holds >= 32 bytes.
 * NaN and infinities give "nan", "inf", "-inf". */
const char *weft__fmt_double(char *buf, size_t size, double d);

/* Optimal string alignment distance between two names; (size_t)-1 when
 * either is longer than WEFT_FUNC_NAME_MAX. */
size_t weft__edit_distance(const char *a, const char *b);
/* The largest distance still worth a "did you mean" for a name of `len`
 * bytes. */
size_t weft__typo_distance(size_t len);

/* Registration of the built-in groups (builtins_*.c). Each returns the
 * first error of its weft_registry_add calls, and adds the rest anyway. */
/* One row of a table of functions to register. */
typedef struct weft__builtin {
	const char *name;
	weft_fn fn;
	int min, max;
	const char *help;
} weft__builtin;

/* Registers every row of `t`; returns the first error (and goes on). */
int weft__register_table(weft_registry *r, const weft__builtin *t, size_t n);

int weft__builtins_num(weft_registry *r);
int weft__builtins_seq(weft_registry *r);

/* concat(args...): strings, byte strings or lists joined end to end (the
 * built-in `concat`, which `add` of two strings or lists also uses). */
int weft__concat(
    weft_ctx *ctx, size_t n, const weft_value *args, weft_value *out);

/* Sets what weft_func_info.origin records for what is registered next
 * (static storage; "" by default). */
void weft__registry_set_origin(weft_registry *r, const char *origin);

#endif
