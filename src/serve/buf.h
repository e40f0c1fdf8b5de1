/*
 * A growable byte buffer for the network front ends: what a connection has
 * read and not yet parsed, and what it has to send.
 *
 * Appending never fails loudly: a refused allocation sets `failed`, later
 * appends do nothing, and the owner checks `failed` once at the end (so a
 * writer of many small pieces needs no check after each).
 */
#ifndef WEFT_SERVE_BUF_H
#define WEFT_SERVE_BUF_H

#include <stddef.h>

#include "weft.h"

typedef struct serve_buf {
	unsigned char *p; /* owned; NULL while empty and never grown */
	size_t len, cap;
	size_t off; /* bytes at the front already consumed (sent, parsed) */
	int failed; /* an append was refused for want of memory */
} serve_buf;

/* Makes room for `more` bytes after len; 0, or -1 (and failed) when not. */
int serve_buf_reserve(serve_buf *b, size_t more);
void serve_buf_add(serve_buf *b, const void *p, size_t n);
void serve_buf_addc(serve_buf *b, char c);
void serve_buf_adds(serve_buf *b, const char *s);
void serve_buf_printf(serve_buf *b, const char *fmt, ...) WEFT_PRINTF(2, 3);
/* Drops `n` bytes from the front (after off); moves the rest down only when
 * the consumed part is large, so consuming is O(1) amortized. */
void serve_buf_consume(serve_buf *b, size_t n);
/* Unconsumed bytes and their count. */
static inline const unsigned char *
serve_buf_data(const serve_buf *b)
{
	return b->p ? b->p + b->off : (const unsigned char *)"";
}
static inline size_t
serve_buf_size(const serve_buf *b)
{
	return b->len - b->off;
}
/* Empties the buffer, keeping its memory. */
void serve_buf_clear(serve_buf *b);
/* Frees the memory; the buffer is empty and usable again. */
void serve_buf_free(serve_buf *b);

#endif
