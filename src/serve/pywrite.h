/*
 * Writing Python values for Pyro4's clients, in serpent (a Python literal,
 * after serpent's header line) or in JSON (as Python's json module reads
 * it: NaN and Infinity included). One writer for both, so that results,
 * exceptions and metadata are built once and come out in the serializer
 * the client chose.
 *
 * Bytes are written as serpent writes them, a dict {'data': BASE64,
 * 'encoding': 'base64'} (serpent.tobytes() turns it back into bytes).
 */
#ifndef WEFT_SERVE_PYWRITE_H
#define WEFT_SERVE_PYWRITE_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "pyval.h"

typedef struct pyw {
	serve_buf *b;
	int json; /* 0: serpent, 1: JSON */
} pyw;

/* serpent's first line; nothing for JSON. */
void pyw_begin(pyw *w);
void pyw_none(pyw *w);
void pyw_bool(pyw *w, int v);
void pyw_int(pyw *w, int64_t v);
void pyw_float(pyw *w, double v);
/* A str from UTF-8 text; invalid bytes come out as U+FFFD. */
void pyw_str(pyw *w, const char *s, size_t n);
void pyw_cstr(pyw *w, const char *s);
void pyw_bytes(pyw *w, const void *p, size_t n);
/* Containers: '(' (a list in JSON), '[', '{' (a dict). pyw_sep goes
 * between items, pyw_colon between a key and its value. A tuple of one
 * needs its trailing comma: pyw_close(w, ')', 1). */
void pyw_open(pyw *w, char open);
void pyw_close(pyw *w, char close, size_t count);
void pyw_sep(pyw *w);
void pyw_colon(pyw *w);
/* A dict key (a str) and its colon. */
void pyw_key(pyw *w, const char *key);

/* A weft value: nil, bool, int, float, str, bytes, lists, f64 arrays (as
 * lists of floats). A pointer value has no wire form: WEFT_EINVAL, and
 * what was written of it stays (the caller discards the buffer). */
int pyw_weft(pyw *w, weft_value v, unsigned depth);
/* A parsed value, as it was (sets as lists in JSON). */
void pyw_pyv(pyw *w, const pyv *v);

#endif
