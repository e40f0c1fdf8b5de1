/*
 * The state of one load, shared by load.c (reading and compiling) and
 * build.c (checking the key graph and building weft nodes).
 */
#ifndef WEFT_SPEC_LOAD_H
#define WEFT_SPEC_LOAD_H

#include "base/futex.h"
#include "spec/spec_int.h"

struct loader {
	struct weft_spec *s;
	const char *name; /* the input, in messages */
	const char *text; /* the JSON text */
	size_t len;
	char *owned; /* text we read and must free */
	double read_s;	 /* reading the file */
	double t_parsed; /* when the JSON was parsed: building starts */
	double free_s;	 /* freeing jansson's tree (counted as reading) */
	spec_posindex px;
	weft_spec_error *err;
	unsigned flags;
	unsigned max_depth;
	size_t max_keys;
	const char *const *key_fields; /* weft_spec_opts.key_fields */
	size_t nkey_fields;
	/* Compiling one key: its index, and its distinct dependencies so
	 * far (seen[k] == cur + 1 when key k is one, at slot[k]). */
	size_t cur;
	uint32_t *seen, *slot;
	uint32_t *deps;
	size_t ndeps, capdeps;
	/* Targets as key indexes, as given (duplicates kept). */
	uint32_t *tk;
	size_t ntk;
	int targets_given;
};

/* Records the first error (later ones are dropped) and returns `code`. At
 * position entry `pe`, or at byte offset `off`; SPEC_NONE for none. `key`
 * is the key index the error is in, or SPEC_NONE. */
int weft__spec_fail(struct loader *L, int code, size_t pe, size_t key,
    const char *fmt, ...) WEFT_PRINTF(5, 6);
int weft__spec_fail_off(struct loader *L, int code, size_t off, size_t key,
    const char *fmt, ...) WEFT_PRINTF(5, 6);

/* Reads `path` ("-": stdin) into L->owned/text/len. */
int weft__spec_read_file(struct loader *L, const char *path, size_t max_bytes);
/* Parses L->text and compiles every key and the targets. */
int weft__spec_load_text(struct loader *L, const weft_spec_opts *o);
/* Seconds on the monotonic clock, for the load's timing statistics: the
 * core's clock (base/futex.h), in seconds. */
static inline double
weft__spec_now_s(void)
{
	return (double)weft__now_ns() * 1e-9;
}

#endif
