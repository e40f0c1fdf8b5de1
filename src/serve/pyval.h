/*
 * Python values as Pyro4's serializers send them: the tree a serpent or
 * JSON message parses into, before the parts that become weft values are
 * converted. Python has mappings, tuples and sets, which weft values have
 * not, so the wire is read into this tree first.
 *
 * Every node and string of one parse lives in one arena, freed at once: a
 * parse that fails half-way leaks nothing and frees in one call.
 */
#ifndef WEFT_SERVE_PYVAL_H
#define WEFT_SERVE_PYVAL_H

#include <stddef.h>
#include <stdint.h>

#include "weft.h"

typedef enum pyv_kind {
	PYV_NONE,
	PYV_BOOL,
	PYV_INT,
	PYV_FLOAT,
	PYV_STR,   /* UTF-8, NUL-terminated (may hold NULs: use n) */
	PYV_BYTES, /* only from a b'...' literal; Pyro4 sends bytes as a
		      base64 dict (see pyv_to_weft) */
	PYV_TUPLE,
	PYV_LIST,
	PYV_SET,
	PYV_DICT, /* items[2i] is a key, items[2i+1] its value */
} pyv_kind;

typedef struct pyv {
	pyv_kind kind;
	size_t n; /* STR/BYTES: bytes; TUPLE/LIST/SET/DICT: entries */
	union {
		int b;
		int64_t i;
		double f;
		const char *s;
		const struct pyv *items;
	} u;
} pyv;

/* A chain of blocks; zero-initialize, free with pyv_arena_free. */
typedef struct pyv_arena {
	struct pyv_block *head;
	size_t used; /* bytes in all blocks, against `limit` */
	size_t limit; /* 0 = none */
} pyv_arena;

/* Memory for `n` bytes, 16-aligned; NULL when out of memory or over the
 * arena's limit. */
void *pyv_alloc(pyv_arena *a, size_t n);
void pyv_arena_free(pyv_arena *a);

/* A dict's value for a string key, or NULL. */
const pyv *pyv_dict_get(const pyv *d, const char *key);
/* True when v is a string equal to s. */
int pyv_is_str(const pyv *v, const char *s);
/* The Python name of a kind ("str", "dict", ...). */
const char *pyv_kind_name(pyv_kind k);

/*
 * Converts a value received as a function argument into an owned weft
 * value: None, bool, int, float, str as such; tuple, list and set as a
 * list; a serpent bytes dict ({'data': BASE64, 'encoding': 'base64'}) and
 * b'...' as bytes; serpent's NaN dict as a NaN float. Any other dict has no
 * weft counterpart: WEFT_EINVAL with a message in err. WEFT_ENOMEM when
 * out of memory.
 */
int pyv_to_weft(const pyv *v, weft_value *out, char *err, size_t errsize);

/* Length of the valid UTF-8 sequence at p (at most `left` bytes, left >
 * 0), or 0 when it is not valid (overlong, a surrogate, past U+10FFFF). */
size_t serve_utf8_len(const unsigned char *p, size_t left);

/* Decodes standard base64 (padding optional, no whitespace). Writes at
 * most 3 * (n / 4) + 3 bytes to out; returns the count, or -1 when the
 * text is not base64. */
long serve_base64_decode(const char *s, size_t n, unsigned char *out);

#endif
