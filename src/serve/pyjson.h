/*
 * Reading Pyro4's JSON serializer: JSON text into a Python value tree
 * (pyval.h), with jansson. Writing JSON is pywrite.h's.
 */
#ifndef WEFT_SERVE_PYJSON_H
#define WEFT_SERVE_PYJSON_H

#include <stddef.h>

#include "pyval.h"

/* Parses data[0..len) into *out (nodes in `arena`). WEFT_OK; WEFT_EPARSE
 * with "line L, column C: why" in err; WEFT_ENOMEM. */
int pyjson_parse(const char *data, size_t len, pyv_arena *arena, pyv *out,
    char *err, size_t errsize);

#endif
