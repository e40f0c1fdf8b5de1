/*
 * The serpent and JSON writer (pywrite.h).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pywrite.h"

/* Python's weft value lists may nest; deeper than this is refused rather
 * than risk the stack (serpent itself stops at 1000 levels). */
#define PYW_MAX_DEPTH 500

void
pyw_begin(pyw *w)
{
	if (!w->json)
		serve_buf_adds(w->b, "# serpent utf-8 python3.2\n");
}

void
pyw_none(pyw *w)
{
	serve_buf_adds(w->b, w->json ? "null" : "None");
}

void
pyw_bool(pyw *w, int v)
{
	if (w->json)
		serve_buf_adds(w->b, v ? "true" : "false");
	else
		serve_buf_adds(w->b, v ? "True" : "False");
}

void
pyw_int(pyw *w, int64_t v)
{
	serve_buf_printf(w->b, "%lld", (long long)v);
}

void
pyw_float(pyw *w, double v)
{
	char buf[40];
	if (isnan(v)) {
		serve_buf_adds(w->b, w->json ? "NaN"
					     : "{'__class__':'float','value':'nan'}");
		return;
	}
	if (isinf(v)) {
		if (w->json)
			serve_buf_adds(w->b, v > 0 ? "Infinity" : "-Infinity");
		else
			serve_buf_adds(w->b, v > 0 ? "1e30000" : "-1e30000");
		return;
	}
	/* The shortest form that reads back the same double, as Python's
	 * repr; with a '.' or an exponent, so it reads back as a float. */
	for (int prec = 15; prec <= 17; prec++) {
		snprintf(buf, sizeof buf, "%.*g", prec, v);
		if (strtod(buf, NULL) == v)
			break;
	}
	serve_buf_adds(w->b, buf);
	if (!strpbrk(buf, ".eEn"))
		serve_buf_adds(w->b, ".0");
}

void
pyw_str(pyw *w, const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	/* Single quotes for serpent (any quote is a Python literal), double
	 * quotes for JSON. */
	char q = w->json ? '"' : '\'';
	serve_buf_addc(w->b, q);
	size_t run = 0; /* plain bytes not yet copied, ending at i */
	for (size_t i = 0; i < n;) {
		unsigned char c = p[i];
		const char *esc = NULL;
		char tmp[8];
		if (c >= 0x20 && c < 0x7f && c != '\\' && c != (unsigned char)q) {
			run++;
			i++;
			continue;
		}
		if (c >= 0x80) {
			size_t m = serve_utf8_len(p + i, n - i);
			if (m) {
				run += m;
				i += m;
				continue;
			}
			esc = "\xEF\xBF\xBD"; /* U+FFFD */
		} else if (c == '\\')
			esc = "\\\\";
		else if (c == (unsigned char)q)
			esc = w->json ? "\\\"" : "\\'";
		else if (c == '\n')
			esc = "\\n";
		else if (c == '\r')
			esc = "\\r";
		else if (c == '\t')
			esc = "\\t";
		else {
			snprintf(tmp, sizeof tmp, w->json ? "\\u%04x" : "\\x%02x",
			    c);
			esc = tmp;
		}
		serve_buf_add(w->b, p + i - run, run);
		run = 0;
		serve_buf_adds(w->b, esc);
		i++;
	}
	serve_buf_add(w->b, p + n - run, run);
	serve_buf_addc(w->b, q);
}

void
pyw_cstr(pyw *w, const char *s)
{
	pyw_str(w, s, strlen(s));
}

void
pyw_bytes(pyw *w, const void *data, size_t n)
{
	static const char digits[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	const unsigned char *p = data;
	pyw_open(w, '{');
	pyw_key(w, "data");
	char q = w->json ? '"' : '\'';
	serve_buf_addc(w->b, q);
	if (serve_buf_reserve(w->b, (n + 2) / 3 * 4) == 0) {
		char *o = (char *)w->b->p + w->b->len;
		size_t i = 0;
		for (; i + 3 <= n; i += 3) {
			unsigned v = (unsigned)p[i] << 16 | (unsigned)p[i + 1] << 8 |
			    p[i + 2];
			*o++ = digits[v >> 18];
			*o++ = digits[(v >> 12) & 63];
			*o++ = digits[(v >> 6) & 63];
			*o++ = digits[v & 63];
		}
		if (i < n) {
			unsigned v = (unsigned)p[i] << 16 |
			    (i + 1 < n ? (unsigned)p[i + 1] << 8 : 0);
			*o++ = digits[v >> 18];
			*o++ = digits[(v >> 12) & 63];
			*o++ = i + 1 < n ? digits[(v >> 6) & 63] : '=';
			*o++ = '=';
		}
		w->b->len = (size_t)((unsigned char *)o - w->b->p);
	}
	serve_buf_addc(w->b, q);
	pyw_sep(w);
	pyw_key(w, "encoding");
	pyw_cstr(w, "base64");
	pyw_close(w, '}', 2);
}

void
pyw_open(pyw *w, char open)
{
	serve_buf_addc(w->b, w->json && open == '(' ? '[' : open);
}

void
pyw_close(pyw *w, char close, size_t count)
{
	if (close == ')' && !w->json && count == 1)
		serve_buf_addc(w->b, ',');
	serve_buf_addc(w->b, w->json && close == ')' ? ']' : close);
}

void
pyw_sep(pyw *w)
{
	serve_buf_addc(w->b, ',');
}

void
pyw_colon(pyw *w)
{
	serve_buf_addc(w->b, ':');
}

void
pyw_key(pyw *w, const char *key)
{
	pyw_cstr(w, key);
	pyw_colon(w);
}

int
pyw_weft(pyw *w, weft_value v, unsigned depth)
{
	if (depth > PYW_MAX_DEPTH)
		return WEFT_EINVAL;
	switch (weft_type_of(v)) {
	case WEFT_NIL:
		pyw_none(w);
		return WEFT_OK;
	case WEFT_BOOL:
		pyw_bool(w, weft_as_bool(v));
		return WEFT_OK;
	case WEFT_INT:
		pyw_int(w, weft_as_int(v));
		return WEFT_OK;
	case WEFT_FLOAT:
		pyw_float(w, weft_as_float(v));
		return WEFT_OK;
	case WEFT_STR:
		pyw_str(w, weft_as_str(v), weft_len(v));
		return WEFT_OK;
	case WEFT_BYTES:
		pyw_bytes(w, weft_bytes_data(v), weft_len(v));
		return WEFT_OK;
	case WEFT_LIST: {
		size_t n = weft_len(v);
		pyw_open(w, '[');
		for (size_t i = 0; i < n; i++) {
			if (i)
				pyw_sep(w);
			int rc = pyw_weft(w, weft_list_get(v, i), depth + 1);
			if (rc != WEFT_OK)
				return rc;
		}
		pyw_close(w, ']', n);
		return WEFT_OK;
	}
	case WEFT_F64S: {
		size_t n = weft_len(v);
		const double *d = weft_f64s_data(v);
		pyw_open(w, '[');
		for (size_t i = 0; i < n; i++) {
			if (i)
				pyw_sep(w);
			pyw_float(w, d[i]);
		}
		pyw_close(w, ']', n);
		return WEFT_OK;
	}
	case WEFT_PTR:
	default:
		return WEFT_EINVAL;
	}
}

void
pyw_pyv(pyw *w, const pyv *v)
{
	switch (v->kind) {
	case PYV_NONE:
		pyw_none(w);
		return;
	case PYV_BOOL:
		pyw_bool(w, v->u.b);
		return;
	case PYV_INT:
		pyw_int(w, v->u.i);
		return;
	case PYV_FLOAT:
		pyw_float(w, v->u.f);
		return;
	case PYV_STR:
		pyw_str(w, v->u.s, v->n);
		return;
	case PYV_BYTES:
		pyw_bytes(w, v->u.s, v->n);
		return;
	case PYV_TUPLE:
	case PYV_LIST:
	case PYV_SET: {
		char open = v->kind == PYV_TUPLE ? '(' : '[';
		pyw_open(w, open);
		for (size_t i = 0; i < v->n; i++) {
			if (i)
				pyw_sep(w);
			pyw_pyv(w, &v->u.items[i]);
		}
		pyw_close(w, open == '(' ? ')' : ']', v->n);
		return;
	}
	case PYV_DICT:
		pyw_open(w, '{');
		for (size_t i = 0; i < v->n; i++) {
			if (i)
				pyw_sep(w);
			pyw_pyv(w, &v->u.items[2 * i]);
			pyw_colon(w);
			pyw_pyv(w, &v->u.items[2 * i + 1]);
		}
		pyw_close(w, '}', v->n);
		return;
	}
}
