/*
 * The serpent parser (serpent.h): a recursive descent over Python literal
 * syntax. Items of the open containers wait on one scratch stack and are
 * copied into the arena when their container closes, so a container needs
 * no growing array of its own.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "serpent.h"

typedef struct sp {
	const char *start, *p, *end;
	pyv_arena *arena;
	pyv *stack; /* items of the open containers */
	size_t sn, scap;
	serve_buf text; /* a string literal being decoded */
	unsigned depth;
	int rc;
	char *err;
	size_t errsize;
} sp;

/* Records the first error, with its line and column (in bytes). */
static int WEFT_PRINTF(3, 4)
sp_fail(sp *s, const char *at, const char *fmt, ...)
{
	if (s->rc != WEFT_OK)
		return s->rc;
	unsigned line = 1, col = 1;
	for (const char *q = s->start; q < at && q < s->end; q++) {
		if (*q == '\n') {
			line++;
			col = 1;
		} else
			col++;
	}
	int n = snprintf(s->err, s->errsize, "line %u, column %u: ", line, col);
	if (n >= 0 && (size_t)n < s->errsize) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(s->err + n, s->errsize - (size_t)n, fmt, ap);
		va_end(ap);
	}
	s->rc = WEFT_EPARSE;
	return s->rc;
}

static int
sp_nomem(sp *s)
{
	if (s->rc == WEFT_OK) {
		snprintf(s->err, s->errsize, "out of memory");
		s->rc = WEFT_ENOMEM;
	}
	return s->rc;
}

/* Skips blanks, newlines, comments and backslash line joins. */
static void
sp_skip(sp *s)
{
	while (s->p < s->end) {
		char c = *s->p;
		if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' ||
		    c == '\v')
			s->p++;
		else if (c == '#') {
			while (s->p < s->end && *s->p != '\n')
				s->p++;
		} else if (c == '\\' && s->end - s->p >= 2 && s->p[1] == '\n')
			s->p += 2;
		else
			break;
	}
}

static int
sp_push(sp *s, const pyv *v)
{
	if (s->sn == s->scap) {
		size_t cap = s->scap ? 2 * s->scap : 64;
		pyv *st = realloc(s->stack, cap * sizeof *st);
		if (!st)
			return sp_nomem(s);
		s->stack = st;
		s->scap = cap;
	}
	s->stack[s->sn++] = *v;
	return WEFT_OK;
}

/* Moves the items from `base` up into the arena as the container *out. */
static int
sp_close(sp *s, size_t base, pyv_kind kind, pyv *out)
{
	size_t n = s->sn - base;
	out->kind = kind;
	out->n = kind == PYV_DICT ? n / 2 : n;
	out->u.items = NULL;
	if (n) {
		pyv *items = pyv_alloc(s->arena, n * sizeof *items);
		if (!items)
			return sp_nomem(s);
		memcpy(items, s->stack + base, n * sizeof *items);
		out->u.items = items;
	}
	s->sn = base;
	return WEFT_OK;
}

static int sp_value(sp *s, pyv *out);

/* -- numbers ------------------------------------------------------------ */

static int
is_digit_in(char c, int base)
{
	if (base == 16)
		return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
		    (c >= 'A' && c <= 'F');
	return c >= '0' && c < '0' + base;
}

static int
sp_number(sp *s, pyv *out)
{
	const char *at = s->p;
	int neg = 0;
	char buf[512];
	size_t n = 0;

	if (*s->p == '-' || *s->p == '+') {
		neg = *s->p == '-';
		s->p++;
		sp_skip(s);
	}
	const char *num = s->p;
	int base = 10;
	if (s->end - s->p >= 2 && s->p[0] == '0' &&
	    strchr("xXoObB", s->p[1]) && s->p[1]) {
		char b = (char)(s->p[1] | 0x20);
		base = b == 'x' ? 16 : b == 'o' ? 8 : 2;
		s->p += 2;
	}
	int isfloat = 0, digits = 0;
	while (s->p < s->end) {
		char c = *s->p;
		if (c == '_') {
			s->p++;
			continue;
		}
		if (is_digit_in(c, base))
			digits++;
		else if (base == 10 && (c == '.' || c == 'e' || c == 'E'))
			isfloat = 1;
		else if (base == 10 && (c == '+' || c == '-') && n > 0 &&
		    (buf[n - 1] == 'e' || buf[n - 1] == 'E'))
			;
		else
			break;
		if (n + 1 >= sizeof buf)
			return sp_fail(s, at, "number too long");
		buf[n++] = c;
		s->p++;
	}
	buf[n] = 0;
	if (s->p < s->end && (*s->p == 'j' || *s->p == 'J'))
		return sp_fail(s, at,
		    "complex numbers are not supported (weft has no complex "
		    "type)");
	if (s->p < s->end &&
	    ((*s->p >= 'a' && *s->p <= 'z') || (*s->p >= 'A' && *s->p <= 'Z')))
		return sp_fail(s, s->p, "unexpected '%c' in a number", *s->p);
	if (!digits)
		return sp_fail(s, num, "expected a number");
	if (isfloat) {
		char *end;
		out->kind = PYV_FLOAT;
		out->u.f = strtod(buf, &end);
		if (*end)
			return sp_fail(s, num, "malformed float '%s'", buf);
		if (neg)
			out->u.f = -out->u.f;
		return WEFT_OK;
	}
	uint64_t mag = 0;
	for (size_t i = 0; i < n; i++) {
		char c = buf[i];
		unsigned d = c <= '9' ? (unsigned)(c - '0')
				      : (unsigned)((c | 0x20) - 'a' + 10);
		if (mag > (UINT64_MAX - d) / (unsigned)base)
			goto toobig;
		mag = mag * (unsigned)base + d;
	}
	if (mag > (uint64_t)INT64_MAX + (neg ? 1 : 0))
		goto toobig;
	out->kind = PYV_INT;
	out->u.i = neg ? (int64_t)(0 - mag) : (int64_t)mag;
	return WEFT_OK;
toobig:
	return sp_fail(s, at,
	    "integer %s%.40s%s does not fit in 64 bits (weft ints are int64)",
	    neg ? "-" : "", buf, n > 40 ? "..." : "");
}

/* -- strings ------------------------------------------------------------ */

static void
put_utf8(serve_buf *b, uint32_t cp)
{
	char u[4];
	size_t n;
	if (cp < 0x80) {
		u[0] = (char)cp;
		n = 1;
	} else if (cp < 0x800) {
		u[0] = (char)(0xC0 | (cp >> 6));
		u[1] = (char)(0x80 | (cp & 0x3F));
		n = 2;
	} else if (cp < 0x10000) {
		u[0] = (char)(0xE0 | (cp >> 12));
		u[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
		u[2] = (char)(0x80 | (cp & 0x3F));
		n = 3;
	} else {
		u[0] = (char)(0xF0 | (cp >> 18));
		u[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
		u[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
		u[3] = (char)(0x80 | (cp & 0x3F));
		n = 4;
	}
	serve_buf_add(b, u, n);
}

/* Reads `count` hex digits at p into *v; 0 or -1. */
static int
hex_n(const char *p, const char *end, int count, uint32_t *v)
{
	*v = 0;
	if (end - p < count)
		return -1;
	for (int i = 0; i < count; i++) {
		if (!is_digit_in(p[i], 16))
			return -1;
		char c = p[i];
		*v = *v * 16 + (uint32_t)(c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10);
	}
	return 0;
}

/* One escape after a backslash (s->p at the character after it). */
static int
sp_escape(sp *s, int bytes)
{
	const char *at = s->p - 1;
	char c = *s->p++;
	uint32_t v;
	switch (c) {
	case '\n':
		return WEFT_OK; /* a line join inside the literal */
	case '\\': case '\'': case '"':
		serve_buf_addc(&s->text, c);
		return WEFT_OK;
	case 'a': serve_buf_addc(&s->text, '\a'); return WEFT_OK;
	case 'b': serve_buf_addc(&s->text, '\b'); return WEFT_OK;
	case 'f': serve_buf_addc(&s->text, '\f'); return WEFT_OK;
	case 'n': serve_buf_addc(&s->text, '\n'); return WEFT_OK;
	case 'r': serve_buf_addc(&s->text, '\r'); return WEFT_OK;
	case 't': serve_buf_addc(&s->text, '\t'); return WEFT_OK;
	case 'v': serve_buf_addc(&s->text, '\v'); return WEFT_OK;
	case 'x':
		if (hex_n(s->p, s->end, 2, &v) != 0)
			return sp_fail(s, at, "bad \\x escape");
		s->p += 2;
		goto put;
	case 'u':
	case 'U':
		if (bytes)
			break;
		if (hex_n(s->p, s->end, c == 'u' ? 4 : 8, &v) != 0)
			return sp_fail(s, at, "bad \\%c escape", c);
		s->p += c == 'u' ? 4 : 8;
		if (v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
			return sp_fail(s, at,
			    "\\%c escape U+%X is not a character UTF-8 can "
			    "hold", c, (unsigned)v);
		goto put;
	case 'N':
		if (bytes)
			break;
		return sp_fail(s, at, "\\N{name} escapes are not supported");
	default:
		if (c >= '0' && c <= '7') {
			v = (uint32_t)(c - '0');
			for (int i = 0; i < 2 && s->p < s->end && *s->p >= '0' &&
			     *s->p <= '7'; i++)
				v = v * 8 + (uint32_t)(*s->p++ - '0');
			goto put;
		}
		break;
	}
	/* Python keeps an unknown escape as it is. */
	serve_buf_addc(&s->text, '\\');
	s->p--;
	return WEFT_OK;
put:
	if (bytes)
		serve_buf_addc(&s->text, (char)(v & 0xFF));
	else
		put_utf8(&s->text, v);
	return WEFT_OK;
}

/* One literal: s->p at its quote; `raw`/`bytes` from its prefix. */
static int
sp_literal(sp *s, int raw, int bytes)
{
	const char *at = s->p;
	char q = *s->p;
	int triple = s->end - s->p >= 3 && s->p[1] == q && s->p[2] == q;
	s->p += triple ? 3 : 1;
	for (;;) {
		if (s->p >= s->end)
			return sp_fail(s, at, "unterminated string");
		unsigned char c = (unsigned char)*s->p;
		if (c == (unsigned char)q) {
			if (!triple) {
				s->p++;
				return WEFT_OK;
			}
			if (s->end - s->p >= 3 && s->p[1] == q && s->p[2] == q) {
				s->p += 3;
				return WEFT_OK;
			}
		}
		if (c == '\n' && !triple)
			return sp_fail(s, at, "unterminated string");
		if (c == '\\' && s->end - s->p >= 2) {
			if (raw) {
				/* The backslash stays; it only keeps a quote, a
				 * backslash or a newline after it from acting.
				 * Anything else is read as usual (UTF-8 checked). */
				serve_buf_addc(&s->text, '\\');
				s->p++;
				if (*s->p == q || *s->p == '\\' || *s->p == '\n')
					serve_buf_addc(&s->text, *s->p++);
			} else {
				s->p++;
				if (sp_escape(s, bytes) != WEFT_OK)
					return s->rc;
			}
			continue;
		}
		if (c >= 0x80) {
			if (bytes)
				return sp_fail(s, s->p,
				    "bytes literal with a non-ASCII character");
			size_t n = serve_utf8_len((const unsigned char *)s->p,
			    (size_t)(s->end - s->p));
			if (!n)
				return sp_fail(s, s->p, "invalid UTF-8");
			serve_buf_add(&s->text, s->p, n);
			s->p += n;
			continue;
		}
		serve_buf_addc(&s->text, (char)c);
		s->p++;
	}
}

/* The string prefix at s->p ("", "b", "rb", ...), if a quote follows:
 * sets raw/bytes and returns its length; -1 when it is no string. */
static int
sp_prefix(sp *s, int *raw, int *bytes)
{
	int n = 0;
	*raw = *bytes = 0;
	int u = 0, f = 0;
	while (n < 3 && s->p + n < s->end) {
		char c = (char)(s->p[n] | 0x20);
		if (c == 'r' && !*raw)
			*raw = 1;
		else if (c == 'b' && !*bytes && !u)
			*bytes = 1;
		else if (c == 'u' && !n)
			u = 1;
		else if (c == 'f' && !f)
			f = 1;
		else
			break;
		if (!((s->p[n] >= 'a' && s->p[n] <= 'z') ||
			(s->p[n] >= 'A' && s->p[n] <= 'Z')))
			break;
		n++;
	}
	if (s->p + n >= s->end || (s->p[n] != '\'' && s->p[n] != '"'))
		return -1;
	if (f)
		return -2;
	if (u && (*raw || *bytes))
		return -1;
	return n;
}

/* A string or bytes literal, and the literals right after it. */
static int
sp_string(sp *s, pyv *out)
{
	const char *at = s->p;
	int raw, bytes, first_bytes = -1;

	serve_buf_clear(&s->text);
	for (;;) {
		int n = sp_prefix(s, &raw, &bytes);
		if (n == -2)
			return sp_fail(s, s->p, "f-strings are not literals");
		if (n < 0)
			break;
		if (first_bytes >= 0 && first_bytes != bytes)
			return sp_fail(s, s->p,
			    "cannot mix bytes and str literals");
		first_bytes = bytes;
		s->p += n;
		if (sp_literal(s, raw, bytes) != WEFT_OK)
			return s->rc;
		sp_skip(s);
	}
	if (s->text.failed)
		return sp_nomem(s);
	size_t len = serve_buf_size(&s->text);
	char *str = pyv_alloc(s->arena, len + 1);
	if (!str)
		return sp_nomem(s);
	memcpy(str, serve_buf_data(&s->text), len);
	str[len] = 0;
	out->kind = first_bytes > 0 ? PYV_BYTES : PYV_STR;
	out->n = len;
	out->u.s = str;
	(void)at;
	return WEFT_OK;
}

/* -- containers --------------------------------------------------------- */

/* A separator was expected. A sign there is Python's complex literal
 * (1+2j), the one binary operation literal_eval allows. */
static int
sp_expected(sp *s, const char *what)
{
	if (s->p < s->end && (*s->p == '+' || *s->p == '-'))
		return sp_fail(s, s->p,
		    "complex numbers are not supported (weft has no complex "
		    "type)");
	return sp_fail(s, s->p, "expected %s", what);
}

/* Items up to `close`, comma-separated, a trailing comma allowed. The
 * first item, when given, was read already. Dicts read key: value pairs. */
static int
sp_items(sp *s, char close, int dict, const char *open_at)
{
	for (;;) {
		sp_skip(s);
		if (s->p < s->end && *s->p == close) {
			s->p++;
			return WEFT_OK;
		}
		pyv v;
		if (sp_value(s, &v) != WEFT_OK || sp_push(s, &v) != WEFT_OK)
			return s->rc;
		sp_skip(s);
		if (dict) {
			if (s->p >= s->end || *s->p != ':')
				return sp_expected(s, "':' in a dict");
			s->p++;
			sp_skip(s);
			if (sp_value(s, &v) != WEFT_OK ||
			    sp_push(s, &v) != WEFT_OK)
				return s->rc;
			sp_skip(s);
		}
		if (s->p < s->end && *s->p == ',') {
			s->p++;
			continue;
		}
		if (s->p < s->end && *s->p == close) {
			s->p++;
			return WEFT_OK;
		}
		if (s->p >= s->end)
			return sp_fail(s, open_at, "'%c' is never closed",
			    close == ')' ? '(' : close == ']' ? '[' : '{');
		return sp_expected(s, close == ')' ? "',' or ')'"
				      : close == ']' ? "',' or ']'"
						     : "',' or '}'");
	}
}

static int
sp_container(sp *s, pyv *out)
{
	const char *at = s->p;
	char open = *s->p++;
	size_t base = s->sn;
	pyv first;

	sp_skip(s);
	if (open == '[') {
		if (sp_items(s, ']', 0, at) != WEFT_OK)
			return s->rc;
		return sp_close(s, base, PYV_LIST, out);
	}
	char close = open == '(' ? ')' : '}';
	if (s->p < s->end && *s->p == close) {
		s->p++;
		return sp_close(s, base, open == '(' ? PYV_TUPLE : PYV_DICT, out);
	}
	if (sp_value(s, &first) != WEFT_OK)
		return s->rc;
	sp_skip(s);
	if (s->p >= s->end)
		return sp_fail(s, at, "'%c' is never closed", open);
	if (open == '(') {
		if (*s->p == ')') { /* (x) is x */
			s->p++;
			*out = first;
			return WEFT_OK;
		}
		if (*s->p != ',')
			return sp_expected(s, "',' or ')'");
		s->p++;
		if (sp_push(s, &first) != WEFT_OK ||
		    sp_items(s, ')', 0, at) != WEFT_OK)
			return s->rc;
		return sp_close(s, base, PYV_TUPLE, out);
	}
	if (sp_push(s, &first) != WEFT_OK)
		return s->rc;
	int dict = *s->p == ':';
	if (dict) {
		pyv v;
		s->p++;
		sp_skip(s);
		if (sp_value(s, &v) != WEFT_OK || sp_push(s, &v) != WEFT_OK)
			return s->rc;
		sp_skip(s);
	}
	if (s->p < s->end && *s->p == ',')
		s->p++;
	else if (s->p < s->end && *s->p == '}') {
		s->p++;
		return sp_close(s, base, dict ? PYV_DICT : PYV_SET, out);
	} else
		return sp_expected(s, "',' or '}'");
	if (sp_items(s, '}', dict, at) != WEFT_OK)
		return s->rc;
	return sp_close(s, base, dict ? PYV_DICT : PYV_SET, out);
}

/* -- values ------------------------------------------------------------- */

static int
sp_name(sp *s, pyv *out)
{
	const char *at = s->p;
	while (s->p < s->end &&
	    ((*s->p >= 'a' && *s->p <= 'z') || (*s->p >= 'A' && *s->p <= 'Z') ||
		(*s->p >= '0' && *s->p <= '9') || *s->p == '_'))
		s->p++;
	size_t n = (size_t)(s->p - at);
	if (n == 4 && memcmp(at, "None", 4) == 0) {
		out->kind = PYV_NONE;
		return WEFT_OK;
	}
	if ((n == 4 && memcmp(at, "True", 4) == 0) ||
	    (n == 5 && memcmp(at, "False", 5) == 0)) {
		out->kind = PYV_BOOL;
		out->u.b = n == 4;
		return WEFT_OK;
	}
	return sp_fail(s, at, "'%.*s' is not a literal (only None, True and "
			      "False are)", (int)(n > 40 ? 40 : n), at);
}

static int
sp_value(sp *s, pyv *out)
{
	memset(out, 0, sizeof *out);
	if (s->p >= s->end)
		return sp_fail(s, s->p, "unexpected end of data");
	if (++s->depth > SERPENT_MAX_DEPTH) {
		s->depth--;
		return sp_fail(s, s->p, "nesting deeper than %d",
		    SERPENT_MAX_DEPTH);
	}
	char c = *s->p;
	int raw, bytes;
	if (c == '\'' || c == '"' ||
	    (((c | 0x20) >= 'a' && (c | 0x20) <= 'z') &&
		sp_prefix(s, &raw, &bytes) != -1))
		sp_string(s, out);
	else if (c == '(' || c == '[' || c == '{')
		sp_container(s, out);
	else if ((c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.')
		sp_number(s, out);
	else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_')
		sp_name(s, out);
	else if ((unsigned char)c < 0x20 || (unsigned char)c >= 0x7f)
		sp_fail(s, s->p, "unexpected byte 0x%02x",
		    (unsigned)(unsigned char)c);
	else
		sp_fail(s, s->p, "unexpected '%c'", c);
	s->depth--;
	return s->rc;
}

int
serpent_parse(const char *data, size_t len, pyv_arena *arena, pyv *out,
    char *err, size_t errsize)
{
	sp s;
	memset(&s, 0, sizeof s);
	s.start = s.p = data;
	s.end = data + len;
	s.arena = arena;
	s.err = err;
	s.errsize = errsize;
	memset(out, 0, sizeof *out);
	if (err && errsize)
		err[0] = 0;
	if (memchr(data, 0, len))
		sp_fail(&s, (const char *)memchr(data, 0, len),
		    "serpent data holds a NUL byte");
	else {
		/* A UTF-8 byte order mark is no syntax error in Python. */
		if (len >= 3 && memcmp(data, "\xEF\xBB\xBF", 3) == 0)
			s.p += 3;
		sp_skip(&s);
		if (s.p >= s.end)
			sp_fail(&s, s.p, "no value (empty data)");
		else if (sp_value(&s, out) == WEFT_OK) {
			sp_skip(&s);
			if (s.p < s.end)
				sp_fail(&s, s.p, "unexpected data after the value");
		}
	}
	free(s.stack);
	serve_buf_free(&s.text);
	if (s.rc != WEFT_OK)
		memset(out, 0, sizeof *out);
	return s.rc;
}
