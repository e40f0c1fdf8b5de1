/*
 * A parser for serpent, Pyro4's default serializer: a Python literal
 * expression in UTF-8 (what Python's ast.literal_eval accepts), usually
 * after a "# serpent utf-8 python3.2" comment line.
 *
 * Read: None, True, False; ints (decimal, 0x, 0o, 0b, with '_', a sign);
 * floats (1e30000 is infinity); str and bytes literals with every escape
 * but \N{name} (prefixes r, b, u, rb; single, double and triple quotes);
 * adjacent literals joined ('a' 'b'); tuples, lists, dicts, sets; comments.
 * Refused with a message: ints beyond 64 bits, complex numbers, names,
 * calls, operators, and nesting deeper than SERPENT_MAX_DEPTH.
 */
#ifndef WEFT_SERVE_SERPENT_H
#define WEFT_SERVE_SERPENT_H

#include <stddef.h>

#include "pyval.h"

#define SERPENT_MAX_DEPTH 200

/*
 * Parses data[0..len) into *out; nodes and strings go to `arena` (freed by
 * the caller, also after an error). Returns WEFT_OK; WEFT_EPARSE with
 * "line L, column C: why" in err; WEFT_ENOMEM when the arena refuses.
 */
int serpent_parse(const char *data, size_t len, pyv_arena *arena, pyv *out,
    char *err, size_t errsize);

#endif
