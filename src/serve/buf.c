/*
 * Growable byte buffers (buf.h).
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"

int
serve_buf_reserve(serve_buf *b, size_t more)
{
	if (b->failed)
		return -1;
	if (b->cap - b->len >= more)
		return 0;
	/* Reclaim the consumed front first: a connection that reads and
	 * parses in turns then keeps one buffer of about a message. */
	if (b->off) {
		memmove(b->p, b->p + b->off, b->len - b->off);
		b->len -= b->off;
		b->off = 0;
		if (b->cap - b->len >= more)
			return 0;
	}
	if (more > SIZE_MAX / 2 - b->len) {
		b->failed = 1;
		return -1;
	}
	size_t cap = b->cap ? b->cap : 256;
	while (cap - b->len < more)
		cap *= 2;
	unsigned char *p = realloc(b->p, cap);
	if (!p) {
		b->failed = 1;
		return -1;
	}
	b->p = p;
	b->cap = cap;
	return 0;
}

void
serve_buf_add(serve_buf *b, const void *p, size_t n)
{
	if (n == 0 || serve_buf_reserve(b, n) != 0)
		return;
	memcpy(b->p + b->len, p, n);
	b->len += n;
}

void
serve_buf_addc(serve_buf *b, char c)
{
	if (serve_buf_reserve(b, 1) != 0)
		return;
	b->p[b->len++] = (unsigned char)c;
}

void
serve_buf_adds(serve_buf *b, const char *s)
{
	serve_buf_add(b, s, strlen(s));
}

void
serve_buf_printf(serve_buf *b, const char *fmt, ...)
{
	va_list ap;
	char small[128];
	int n;

	va_start(ap, fmt);
	n = vsnprintf(small, sizeof small, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n < sizeof small) {
		serve_buf_add(b, small, (size_t)n);
		return;
	}
	if (serve_buf_reserve(b, (size_t)n + 1) != 0)
		return;
	va_start(ap, fmt);
	vsnprintf((char *)b->p + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

void
serve_buf_consume(serve_buf *b, size_t n)
{
	if (n >= b->len - b->off) {
		b->len = b->off = 0;
		return;
	}
	b->off += n;
}

void
serve_buf_clear(serve_buf *b)
{
	b->len = b->off = 0;
	b->failed = 0;
}

void
serve_buf_free(serve_buf *b)
{
	free(b->p);
	memset(b, 0, sizeof *b);
}
