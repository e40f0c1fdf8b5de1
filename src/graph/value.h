/*
 * Internals of weft_value that other modules of the library may use (the
 * run layer, for memory accounting). The public contract is weft/value.h.
 */
#ifndef WEFT_GRAPH_VALUE_H
#define WEFT_GRAPH_VALUE_H

#include <stddef.h>

#include "weft/value.h"

/* reserved_[0] of a NIL that a failed constructor returned */
#define WEFT__VALUE_FAILED 1

/* Bytes of the heap object `v` points to (header included), or 0 for the
 * inline types. Shallow on purpose: a list's items may be shared with other
 * values, so counting them here would count them twice; and it is O(1). A
 * PTR counts its box only, not the user's memory. */
size_t weft__value_bytes(weft_value v);

/* The current reference count of `v`'s heap object, 0 for the inline types.
 * A snapshot for tests and debugging: other threads may change it at once. */
size_t weft__value_refs(weft_value v);

/* weft_value_release with the common case inline: the scalar types hold no
 * reference, so the run loop skips the call for them. */
static inline void
weft__release(weft_value *v)
{
	if (v->type >= WEFT_STR)
		weft_value_release(v);
	else
		v->type = WEFT_NIL;
}

#endif
