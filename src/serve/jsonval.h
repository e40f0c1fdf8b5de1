/*
 * JSON (jansson) <-> weft_value, for the front ends that speak JSON on the
 * wire (Celery's json serializer, Pyro4's json serializer). Public API only.
 *
 *   JSON            weft_value
 *   null            NIL
 *   true / false    BOOL
 *   integer         INT   (jansson's json_int_t is 64-bit)
 *   real            FLOAT
 *   string          STR   (may hold NULs: the length is kept)
 *   array           LIST  (recursively)
 *   object          none: weft has no map type, so an object is an error
 *                   (WEFT_ETYPE), except the bytes form under
 *                   JSONVAL_BYTES_BASE64.
 *
 * Going back, F64S becomes an array of numbers, BYTES a string when it is
 * UTF-8 (or the base64 object under JSONVAL_BYTES_BASE64), and a PTR, a
 * non-finite FLOAT or a STR that is not UTF-8 is an error (JSON has no form
 * for them).
 *
 * Errors fill `err` (when not NULL; at most `errsize` bytes) with what and
 * where, e.g. "[1][0]: a JSON object has no weft value", where the path is
 * relative to the value converted. Nesting deeper than JSONVAL_MAX_DEPTH is
 * refused (WEFT_ERANGE), so hostile input cannot exhaust the stack.
 * Thread-safe (no shared state).
 */
#ifndef WEFT_SERVE_JSONVAL_H
#define WEFT_SERVE_JSONVAL_H

#include <jansson.h>
#include <stddef.h>

#include "weft.h"

/* Flags of both directions. */
enum {
	/* BYTES <-> {"data": BASE64, "encoding": "base64"} (the form serpent
	 * and Pyro4 use for bytes), instead of a UTF-8 string. */
	JSONVAL_BYTES_BASE64 = 1u << 0,
};

/* The deepest nesting of arrays either direction accepts. */
#define JSONVAL_MAX_DEPTH 200

/*
 * Converts `j` into a new owned value in *out. Returns WEFT_OK; WEFT_ETYPE
 * (an object, or a base64 object that does not decode); WEFT_ERANGE (too
 * deep); WEFT_ENOMEM; WEFT_EINVAL (NULL j or out). *out is NIL on error.
 */
int jsonval_to_value(
    const json_t *j, unsigned flags, weft_value *out, char *err, size_t errsize);

/*
 * Converts `v` (borrowed) into a new JSON value in *out (the caller owns
 * it: json_decref). Returns WEFT_OK; WEFT_ETYPE (a PTR, a non-finite
 * number, text that is not UTF-8); WEFT_ERANGE (too deep); WEFT_ENOMEM;
 * WEFT_EINVAL (NULL out). *out is NULL on error.
 */
int jsonval_from_value(
    weft_value v, unsigned flags, json_t **out, char *err, size_t errsize);

/*
 * A JSON array of `items[0..n)` (borrowed): the "arguments of a call" shape,
 * without building a LIST first. Same codes as jsonval_from_value; on error
 * `err` names the item ("[2]: ...").
 */
int jsonval_from_values(size_t n, const weft_value *items, unsigned flags,
    json_t **out, char *err, size_t errsize);

#endif
