/*
 * Printing values as JSON or plain text, and the text buffer it (and the
 * string built-ins) write into.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
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

void
weft__buf_sink(void *ud, const char *s, size_t n)
{
	weft__buf_put(ud, s, n);
}

const char *
weft__fmt_double(char *buf, size_t size, double d)
{
	if (isnan(d))
		snprintf(buf, size, "nan");
	else if (isinf(d))
		snprintf(buf, size, d < 0 ? "-inf" : "inf");
	else {
		/* The shortest of 15, 16, 17 significant digits that reads
		 * back as the same double: 0.1 prints as 0.1, not as
		 * 0.10000000000000001. */
		for (int prec = 15; prec <= 17; prec++) {
			snprintf(buf, size, "%.*g", prec, d);
			if (strtod(buf, NULL) == d)
				break;
		}
		if (!strpbrk(buf, ".eE")) {
			size_t n = strlen(buf);
			if (n + 3 <= size)
				memcpy(buf + n, ".0", 3);
		}
	}
	return buf;
}

/* Length of the valid UTF-8 sequence at s (n bytes left), 0 if invalid. */
static size_t
utf8_seq(const unsigned char *s, size_t n)
{
	unsigned c = s[0];
	size_t len;
	unsigned cp;

	if (c < 0x80)
		return 1;
	if (c >= 0xC2 && c <= 0xDF)
		len = 2, cp = c & 0x1F;
	else if (c >= 0xE0 && c <= 0xEF)
		len = 3, cp = c & 0x0F;
	else if (c >= 0xF0 && c <= 0xF4)
		len = 4, cp = c & 0x07;
	else
		return 0;
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3F);
	}
	/* No overlong forms, no surrogates, nothing past U+10FFFF. */
	if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
	    (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF)
		return 0;
	return len;
}

/* A JSON string literal of s[0..n); invalid UTF-8 becomes U+FFFD. */
static void
put_json_string(weft__sink sink, void *ud, const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0, run = 0;

	sink(ud, "\"", 1);
	while (i < n) {
		unsigned c = u[i];
		const char *esc = NULL;
		char hex[8];
		size_t len = 1;

		if (c == '"')
			esc = "\\\"";
		else if (c == '\\')
			esc = "\\\\";
		else if (c == '\n')
			esc = "\\n";
		else if (c == '\t')
			esc = "\\t";
		else if (c == '\r')
			esc = "\\r";
		else if (c < 0x20) {
			snprintf(hex, sizeof(hex), "\\u%04x", c);
			esc = hex;
		} else if (c >= 0x80 && (len = utf8_seq(u + i, n - i)) == 0) {
			esc = "\\ufffd";
			len = 1;
		}
		if (esc) {
			if (i > run)
				sink(ud, s + run, i - run);
			sink(ud, esc, strlen(esc));
			run = i + len;
		}
		i += len;
	}
	if (i > run)
		sink(ud, s + run, i - run);
	sink(ud, "\"", 1);
}

/* A scalar, or the opening of a container (returns 1 then). */
static int
put_scalar(weft__sink sink, void *ud, weft_value v, unsigned flags, int top)
{
	char tmp[64];
	int json = (flags & WEFT__REPR_JSON) != 0;

	switch (weft_type_of(v)) {
	case WEFT_NIL:
		sink(ud, "null", 4);
		break;
	case WEFT_BOOL:
		sink(ud, weft_as_bool(v) ? "true" : "false",
		    weft_as_bool(v) ? 4 : 5);
		break;
	case WEFT_INT:
		snprintf(tmp, sizeof(tmp), "%lld", (long long)weft_as_int(v));
		sink(ud, tmp, strlen(tmp));
		break;
	case WEFT_FLOAT: {
		double d = weft_as_float(v);
		if (json && !isfinite(d))
			sink(ud, "null", 4);
		else {
			weft__fmt_double(tmp, sizeof(tmp), d);
			sink(ud, tmp, strlen(tmp));
		}
		break;
	}
	case WEFT_STR:
		if (!json && top)
			sink(ud, weft_as_str(v), weft_len(v));
		else
			put_json_string(sink, ud, weft_as_str(v), weft_len(v));
		break;
	case WEFT_BYTES: {
		const unsigned char *p = weft_bytes_data(v);
		sink(ud, "{\"bytes\": \"", 11);
		for (size_t i = 0; i < weft_len(v); i++) {
			snprintf(tmp, sizeof(tmp), "%02x", p[i]);
			sink(ud, tmp, 2);
		}
		sink(ud, "\"}", 2);
		break;
	}
	case WEFT_F64S: {
		const double *d = weft_f64s_data(v);
		sink(ud, "[", 1);
		for (size_t i = 0; i < weft_len(v); i++) {
			if (i)
				sink(ud, ", ", 2);
			if (json && !isfinite(d[i]))
				sink(ud, "null", 4);
			else {
				weft__fmt_double(tmp, sizeof(tmp), d[i]);
				sink(ud, tmp, strlen(tmp));
			}
		}
		sink(ud, "]", 1);
		break;
	}
	case WEFT_PTR:
		snprintf(tmp, sizeof(tmp), "\"<ptr %p>\"", weft_ptr_get(v));
		sink(ud, tmp, strlen(tmp));
		break;
	case WEFT_LIST:
		sink(ud, "[", 1);
		return 1;
	}
	return 0;
}

struct frame {
	weft_value list; /* borrowed */
	size_t next;
};

int
weft__repr(weft__sink sink, void *ud, weft_value v, unsigned flags)
{
	struct frame *stack = NULL;
	size_t depth = 0, cap = 0;

	if (!put_scalar(sink, ud, v, flags, 1))
		return WEFT_OK;
	/* Lists: an explicit stack instead of recursion, so a list nested a
	 * million deep prints without overflowing the C stack. */
	if (weft__grow((void **)&stack, &cap, 1, sizeof(*stack)))
		return WEFT_ENOMEM;
	stack[depth++] = (struct frame) { v, 0 };
	while (depth > 0) {
		struct frame *f = &stack[depth - 1];
		weft_value item;

		/* writing into a buffer that gave up: stop walking, or a list
		 * of shared sublists (2^40 leaves in 1 KB) never ends */
		if (sink == weft__buf_sink && ((weft__buf *)ud)->oom) {
			weft__free(stack);
			return WEFT_ENOMEM;
		}

		if (f->next >= weft_len(f->list)) {
			sink(ud, "]", 1);
			depth--;
			continue;
		}
		if (f->next > 0)
			sink(ud, ", ", 2);
		item = weft_list_get(f->list, f->next++);
		if (put_scalar(sink, ud, item, flags, 0)) {
			if (weft__grow((void **)&stack, &cap, depth + 1,
				sizeof(*stack))) {
				weft__free(stack);
				return WEFT_ENOMEM;
			}
			stack[depth++] = (struct frame) { item, 0 };
		}
	}
	weft__free(stack);
	return WEFT_OK;
}
