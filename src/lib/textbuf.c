/*
 * The growable text buffer of the library (weft__buf, lib/lib.h): what the
 * string built-ins, error messages and DOT labels are written into.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "base/alloc.h"
#include "lib/lib.h"

#define WEFT__BUF_MAX ((size_t)256 << 20)

void
weft__buf_put(weft__buf *b, const char *s, size_t n)
{
	if (b->oom)
		return;
	/* A list that shares its sublists can describe far more text than
	 * memory holds: past 256 MiB, treat it as out of memory. */
	if (n > WEFT__BUF_MAX || b->len > WEFT__BUF_MAX - n) {
		b->oom = 1;
		return;
	}
	if (n + 1 > b->cap - b->len || !b->p) {
		if (weft__grow((void **)&b->p, &b->cap, b->len + n + 1, 1)) {
			b->oom = 1;
			return;
		}
	}
	if (n)
		memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

void
weft__buf_puts(weft__buf *b, const char *s)
{
	weft__buf_put(b, s, strlen(s));
}

void
weft__buf_printf(weft__buf *b, const char *fmt, ...)
{
	char small[256];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n < sizeof(small)) {
		weft__buf_put(b, small, (size_t)n);
		return;
	}
	/* Long output: print straight into the buffer. */
	weft__buf_put(b, "", 0);
	if (b->oom ||
	    weft__grow((void **)&b->p, &b->cap, b->len + (size_t)n + 1, 1)) {
		b->oom = 1;
		return;
	}
	va_start(ap, fmt);
	vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

void
weft__buf_free(weft__buf *b)
{
	weft__free(b->p);
	memset(b, 0, sizeof(*b));
}

int
weft__buf_sink(void *ud, const char *s, size_t n)
{
	weft__buf *b = ud;

	weft__buf_put(b, s, n);
	/* A buffer that gave up stops the writer's walk, or a list of shared
	 * sublists (2^40 leaves in 1 KB) would never end. */
	return b->oom ? WEFT_ENOMEM : WEFT_OK;
}

