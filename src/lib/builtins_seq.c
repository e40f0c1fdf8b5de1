/*
 * Built-in functions on lists and strings, conversions, and the helpers for
 * tests and demos (identity, fail, sleep_ms, spin_us).
 *
 * Strings are UTF-8 and, as in Python, len/getitem/slice count code points,
 * not bytes. Indexes may be negative (from the end).
 */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/alloc.h"
#include "lib/lib.h"
#include "weft.h"
#include "weft/registry.h"

/* The most items range() makes: 16 Mi (256 MiB of values). */
#define RANGE_MAX ((int64_t)1 << 24)
/* The longest sleep_ms / spin_us: one hour / one minute. */
#define SLEEP_MAX_MS 3600000
#define SPIN_MAX_US 60000000

static const char *
tname(weft_value v)
{
	return weft_type_name(weft_type_of(v));
}

static int
oom(weft_ctx *ctx)
{
	return weft_fail(ctx, "out of memory");
}

/* A heap constructor's result: NIL means it ran out of memory. */
static int
made(weft_ctx *ctx, weft_value v, weft_value *out)
{
	if (weft_is_nil(v))
		return oom(ctx);
	*out = v;
	return WEFT_OK;
}

static int
is_intlike(weft_value v)
{
	return weft_type_of(v) == WEFT_INT || weft_type_of(v) == WEFT_BOOL;
}

static int
want_int(weft_ctx *ctx, const weft_value *a, size_t i, int64_t *out)
{
	if (!is_intlike(a[i]))
		return weft_fail(ctx, "argument %zu is a %s, not an int", i + 1,
		    tname(a[i]));
	*out = weft_as_int(a[i]);
	return WEFT_OK;
}

/* Code points in s[0..n): bytes that do not continue a sequence. */
static size_t
utf8_count(const char *s, size_t n)
{
	size_t c = 0;
	for (size_t i = 0; i < n; i++)
		c += ((unsigned char)s[i] & 0xC0) != 0x80;
	return c;
}

/* Byte offset of code point `cp` in s[0..n) (n when cp is past the end). */
static size_t
utf8_offset(const char *s, size_t n, size_t cp)
{
	size_t i = 0;
	for (; i < n; i++) {
		if (((unsigned char)s[i] & 0xC0) != 0x80) {
			if (cp == 0)
				return i;
			cp--;
		}
	}
	return n;
}

/* Length as len() reports it: code points of a string, items otherwise. */
static size_t
seq_len(weft_value v)
{
	if (weft_type_of(v) == WEFT_STR)
		return utf8_count(weft_as_str(v), weft_len(v));
	return weft_len(v);
}

static int
is_seq(weft_value v)
{
	weft_type t = weft_type_of(v);
	return t == WEFT_STR || t == WEFT_BYTES || t == WEFT_LIST ||
	    t == WEFT_F64S;
}

static int
fn_len(weft_ctx *ctx, size_t n, const weft_value *a, weft_value *out)
{
	(void)n;
	if (!is_seq(a[0]))
		return weft_fail(ctx, "a %s has no length", tname(a[0]));
	*out = weft_int((int64_t)seq_len(a[0]));
	return WEFT_OK;
}

static int
fn_identity(weft_ctx *ctx, size_t n, const weft_value *a, weft_value *out)
{
	(void)ctx, (void)n;
	*out = weft_value_retain(a[0]);
	return WEFT_OK;
}

static int
fn_type(weft_ctx *ctx, size_t n, const weft_value *a, weft_value *out)
{
	(void)n;
	return made(ctx, weft_str(tname(a[0])), out);
}

static int
fn_list(weft_ctx *ctx, size_t n, const weft_value *a, weft_value *out)
{
	return made(ctx, weft_list(n, a), out);
}

static int
fn_range(weft_ctx *ctx, size_t n, const weft_value *a, weft_value *out)
{
	int64_t start = 0, stop, step = 1;
	uint64_t count = 0;
	int rc;

	if (n == 1)
		rc = want_int(ctx, a, 0, &stop);
	else {
		rc = want_int(ctx, a, 0, &start);
		if (rc == WEFT_OK)
			rc = want_int(ctx, a, 1, &stop);
		if (rc == WEFT_OK && n == 3)
			rc = want_int(ctx, a, 2, &step);
	}
	if (rc != WEFT_OK)
		return rc;
	if (step == 0)
		return weft_fail(ctx, "range() step must not be zero");
	/* Unsigned differences: stop - start cannot overflow that way. */
	if (step > 0 && start < stop)
		count = ((uint64_t)stop - (uint64_t)start - 1) /
			(uint64_t)step +
		    1;
	else if (step < 0 && start > stop)
		count = ((uint64_t)start - (uint64_t)stop - 1) /
			(0 - (uint64_t)step) +
		    1;
	if (count > (uint64_t)RANGE_MAX)
		return weft_fail(ctx,
		    "range() of %llu items is too large (the limit is %lld)",
		    (unsigned long long)count, (long long)RANGE_MAX);
	if (weft_list_new((size_t)count, out) != WEFT_OK)
		return oom(ctx);
	for (uint64_t i = 0; i < count; i++)
		weft_list_set(out,
		    (size_t)i, weft_int((int64_t)((uint64_t)start +
				   i * (uint64_t)step)));
	return WEFT_OK;
}

/* Resolves a possibly negative index into [0, len). */
static int
index_of(weft_ctx *ctx, weft_value seq, weft_value idx, size_t *out)
{
	size_t len = seq_len(seq);
	int64_t i;

	if (!is_intlike(idx))
		return weft_fail(ctx, "index is a %s, not an int", tname(idx));
	i = weft_as_int(idx);
	if (i < 0)
		i += (int64_t)len;
	if (i < 0 || (uint64_t)i >= len)
		return weft_fail(ctx, "index %lld out of range (a %s of %zu)",
		    (long long)weft_as_int(idx), tname(seq), len);
	*out = (size_t)i;
	return WEFT_OK;
}

static int
fn_getitem(weft_ctx *ctx, size_t n, const weft_value *a, weft_value *out)
{
	size_t i = 0;
	int rc;

	(void)n;
	if (!is_seq(a[0]))
		return weft_fail(ctx, "a %s cannot be indexed", tname(a[0]));
	rc = index_of(ctx, a[0], a[1], &i);
	if (rc != WEFT_OK)
		return rc;
	switch (weft_type_of(a[0])) {
	case WEFT_LIST:
		*out = weft_value_retain(weft_list_get(a[0], i));
		return WEFT_OK;
	case WEFT_F64S:
		*out = weft_float(weft_f64s_data(a[0])[i]);
		return WEFT_OK;
	case WEFT_BYTES:
		*out = weft_int(((const unsigned char *)weft_bytes_data(a[0]))[i]);
		return WEFT_OK;
	default: {
		const char *s = weft_as_str(a[0]);
		size_t len = weft_len(a[0]);
		size_t b = utf8_offset(s, len, i);
		size_t e = utf8_offset(s, len, i + 1);
		return made(ctx, weft_str_n(s + b, e - b), out);
	}
	}
}

/* Python's slice bound: negative from the end, clamped to [0, len]. */
static int
slice_bound(weft_ctx *ctx, weft_value v, size_t len, size_t dflt, size_t *out)
{
	int64_t i;

	if (weft_is_nil(v)) {
		*out = dflt;
		return WEFT_OK;
	}
	if (!is_intlike(v))
		return weft_fail(ctx, "slice bound is a %s, not an int or null",
		    tname(v));
	i = weft_as_int(v);
	if (i < 0)
		i += (int64_t)len;
	*out = i < 0 ? 0 : (uint64_t)i > len ? len : (size_t)i;
	return WEFT_OK;
}

static int
fn_slice(weft_ctx *ctx, size_t n, const weft_value *a, weft_value *out)
{
	size_t len, b = 0, e = 0;
	int rc;

	if (!is_seq(a[0]))
		return weft_fail(ctx, "a %s cannot be sliced", tname(a[0]));
	len = seq_len(a[0]);
	rc = slice_bound(ctx, a[1], len, 0, &b);
	if (rc == WEFT_OK)
		rc = slice_bound(ctx, n > 2 ? a[2] : weft_nil(), len, len, &e);
	if (rc != WEFT_OK)
		return rc;
	if (e < b)
		e = b;
	switch (weft_type_of(a[0])) {
	case WEFT_LIST:
		if (weft_list_new(e - b, out) != WEFT_OK)
			return oom(ctx);
		for (size_t i = b; i < e; i++)
			weft_list_set(out, i - b,
			    weft_value_retain(weft_list_get(a[0], i)));
		return WEFT_OK;
	case WEFT_F64S:
		if (weft_f64s_new(e - b, weft_f64s_data(a[0]) + b, out))
			return oom(ctx);
		return WEFT_OK;
	case WEFT_BYTES:
		return made(ctx,
		    weft_bytes((const char *)weft_bytes_data(a[0]) + b, e - b),
		    out);
	default: {
		const char *s = weft_as_str(a[0]);
		size_t bl = weft_len(a[0]);
		size_t bb = utf8_offset(s, bl, b), be = utf8_offset(s, bl, e);
		return made(ctx, weft_str_n(s + bb, be - bb), out);
	}
	}
}

int
weft__concat(weft_ctx *ctx, size_t n, const weft_value *a, weft_value *out)
{
	weft_type t = n ? weft_type_of(a[0]) : WEFT_LIST;
	size_t total = 0, at = 0;

	for (size_t i = 0; i < n; i++) {
		if (!is_seq(a[i]))
			return weft_fail(ctx,
			    "argument %zu is a %s: only strings, bytes and "
			    "lists can be concatenated",
			    i + 1, tname(a[i]));
		if (weft_type_of(a[i]) != t)
			return weft_fail(ctx,
			    "cannot concatenate a %s (argument %zu) to a %s",
			    tname(a[i]), i + 1, weft_type_name(t));
		total += weft_len(a[i]);
	}
	if (t == WEFT_LIST) {
		if (weft_list_new(total, out) != WEFT_OK)
			return oom(ctx);
		for (size_t i = 0; i < n; i++)
			for (size_t j = 0; j < weft_len(a[i]); j++)
				weft_list_set(out, at++,
				    weft_value_retain(weft_list_get(a[i], j)));
		return WEFT_OK;
	}
	if (t == WEFT_F64S) {
		double *d;
		if (weft_f64s_new(total, NULL, out) != WEFT_OK)
			return oom(ctx);
		d = weft_f64s_data_mut(*out);
		for (size_t i = 0; i < n; i++) {
			size_t k = weft_len(a[i]);
			if (k)
				memcpy(d + at, weft_f64s_data(a[i]),
				    k * sizeof(double));
			at += k;
		}
		return WEFT_OK;
	}
	{
		char *buf = weft__malloc(total + 1);
		weft_value v;
		if (!buf)
			return oom(ctx);
		for (size_t i = 0; i < n; i++) {
			size_t k = weft_len(a[i]);
			if (k)
				memcpy(buf + at, weft_bytes_data(a[i]), k);
			at += k;
		}
		v = t == WEFT_STR ? weft_str_n(buf, total)
				  : weft_bytes(buf, total);
		weft__free(buf);
		return made(ctx, v, out);
	}
}

static int
fn_concat(weft_ctx *ctx, size_t n, const weft_value *a, weft_value *out)
{
	return weft__concat(ctx, n, a, out);
}

static int
fn_flatten(weft_ctx *ctx, size_t n, const weft_value *a, weft_value *out)
{
	size_t total = 0, at = 0, len = weft_len(a[0]);

	(void)n;
	if (weft_type_of(a[0]) != WEFT_LIST)
		return weft_fail(ctx, "argument is a %s, not a list",
		    tname(a[0]));
	for (size_t i = 0; i < len; i++) {
		weft_value it = weft_list_get(a[0], i);
		total += weft_type_of(it) == WEFT_LIST ? weft_len(it) : 1;
	}
	if (weft_list_new(total, out) != WEFT_OK)
		return oom(ctx);
	for (size_t i = 0; i < len; i++) {
		weft_value it = weft_list_get(a[0], i);
		if (weft_type_of(it) != WEFT_LIST) {
			weft_list_set(out, at++, weft_value_retain(it));
			continue;
		}
		for (size_t j = 0; j < weft_len(it); j++)
			weft_list_set(
			    out, at++, weft_value_retain(weft_list_get(it, j)));
	}
	return WEFT_OK;
}

/* Appends str(v): a string as is, anything else in its JSON form. */
static int
put_str(weft__buf *b, weft_value v)
{
	return weft__repr(weft__buf_sink, b, v, 0);
}

static int
fn_str(weft_ctx *ctx, size_t n, const weft_value *a, weft_value *out)
{
	weft__buf b = { 0 };
	int rc;

	(void)n;
	if (weft_type_of(a[0]) == WEFT_STR) {
		*out = weft_value_retain(a[0]);
		return WEFT_OK;
	}
	rc = put_str(&b, a[0]);
	if (rc != WEFT_OK || b.oom) {
		weft__buf_free(&b);
		return oom(ctx);
	}
	rc = made(ctx, weft_str_n(b.p, b.len), out);
	weft__buf_free(&b);
	return rc;
}

/* format(fmt, args...): Python's str.format with "{}" and "{N}" fields
 * (no format specs); "{{" and "}}" are literal braces. */
static int
fn_format(weft_ctx *ctx, size_t n, const weft_value *a, weft_value *out)
{
	weft__buf b = { 0 };
	const char *s, *run;
	size_t next = 0;
	int rc = WEFT_OK;

	if (weft_type_of(a[0]) != WEFT_STR)
		return weft_fail(ctx, "the format is a %s, not a str",
		    tname(a[0]));
	s = run = weft_as_str(a[0]);
	while (*s && rc == WEFT_OK) {
		size_t field;
		if ((s[0] == '{' && s[1] == '{') ||
		    (s[0] == '}' && s[1] == '}')) {
			weft__buf_put(&b, run, (size_t)(s - run) + 1);
			s += 2;
			run = s;
			continue;
		}
		if (*s == '}') {
			rc = weft_fail(ctx, "single '}' in the format");
			break;
		}
		if (*s != '{') {
			s++;
			continue;
		}
		weft__buf_put(&b, run, (size_t)(s - run));
		s++;
		if (*s == '}')
			field = next++;
		else if (*s >= '0' && *s <= '9') {
			char *end;
			unsigned long long k = strtoull(s, &end, 10);
			s = end;
			field = k > SIZE_MAX - 1 ? SIZE_MAX - 1 : (size_t)k;
			if (*s != '}') {
				rc = weft_fail(ctx, "format fields are {} or "
						    "{N}; format specs are "
						    "not supported");
				break;
			}
		} else {
			rc = weft_fail(ctx,
			    "format fields are {} or {N}; format specs are "
			    "not supported");
			break;
		}
		if (field + 1 >= n) {
			rc = weft_fail(ctx,
			    "the format wants argument {%zu}, but %zu %s "
			    "given",
			    field, n - 1, n - 1 == 1 ? "was" : "were");
			break;
		}
		rc = put_str(&b, a[field + 1]);
		if (rc != WEFT_OK)
			rc = oom(ctx);
		s++;
		run = s;
	}
	if (rc == WEFT_OK) {
		weft__buf_put(&b, run, strlen(run));
		rc = b.oom ? oom(ctx)
			   : made(ctx, weft_str_n(b.p ? b.p : "", b.len), out);
	}
	weft__buf_free(&b);
	return rc;
}

static int
fn_join(weft_ctx *ctx, size_t n, const weft_value *a, weft_value *out)
{
	weft__buf b = { 0 };
	size_t len = weft_len(a[1]);
	int rc;

	(void)n;
	if (weft_type_of(a[0]) != WEFT_STR)
		return weft_fail(ctx, "the separator is a %s, not a str",
		    tname(a[0]));
	if (weft_type_of(a[1]) != WEFT_LIST)
		return weft_fail(ctx, "argument 2 is a %s, not a list",
		    tname(a[1]));
	for (size_t i = 0; i < len; i++) {
		weft_value it = weft_list_get(a[1], i);
		if (weft_type_of(it) != WEFT_STR) {
			weft__buf_free(&b);
			return weft_fail(ctx, "item %zu is a %s, not a str",
			    i + 1, tname(it));
		}
		if (i)
			weft__buf_put(&b, weft_as_str(a[0]), weft_len(a[0]));
		weft__buf_put(&b, weft_as_str(it), weft_len(it));
	}
	rc = b.oom ? oom(ctx)
		   : made(ctx, weft_str_n(b.p ? b.p : "", b.len), out);
	weft__buf_free(&b);
	return rc;
}

struct sort_item {
	weft_value v;
	size_t idx;
};

/* Numbers (NaN last) or strings; ties keep their order (stable). */
static int
sort_cmp(const void *pa, const void *pb)
{
	const struct sort_item *x = pa, *y = pb;
	int c;

	if (weft_type_of(x->v) == WEFT_STR)
		c = strcmp(weft_as_str(x->v), weft_as_str(y->v));
	else if (is_intlike(x->v) && is_intlike(y->v))
		c = (weft_as_int(x->v) > weft_as_int(y->v)) -
		    (weft_as_int(x->v) < weft_as_int(y->v));
	else {
		double a = weft_as_float(x->v), b = weft_as_float(y->v);
		c = isnan(a) || isnan(b) ? isnan(a) - isnan(b)
					 : (a > b) - (a < b);
	}
	return c ? c : (x->idx > y->idx) - (x->idx < y->idx);
}

static int
fn_sort(weft_ctx *ctx, size_t n, const weft_value *a, weft_value *out)
{
	size_t len = weft_len(a[0]);
	struct sort_item *it;
	int strs = 0;

	(void)n;
	if (weft_type_of(a[0]) != WEFT_LIST)
		return weft_fail(ctx, "argument is a %s, not a list",
		    tname(a[0]));
	for (size_t i = 0; i < len; i++) {
		weft_value v = weft_list_get(a[0], i);
		weft_type t = weft_type_of(v);
		int s = t == WEFT_STR;
		if (!s && t != WEFT_INT && t != WEFT_FLOAT && t != WEFT_BOOL)
			return weft_fail(ctx, "item %zu is a %s: only numbers "
					      "and strings can be sorted",
			    i + 1, tname(v));
		if (i == 0)
			strs = s;
		else if (s != strs)
			return weft_fail(ctx, "cannot sort strings together "
					      "with numbers (item %zu)",
			    i + 1);
	}
	it = weft__malloc(len * sizeof(*it));
	if (!it)
		return oom(ctx);
	for (size_t i = 0; i < len; i++)
		it[i] = (struct sort_item) { weft_list_get(a[0], i), i };
	qsort(it, len, sizeof(*it), sort_cmp);
	if (weft_list_new(len, out) != WEFT_OK) {
		weft__free(it);
		return oom(ctx);
	}
	for (size_t i = 0; i < len; i++)
		weft_list_set(out, i, weft_value_retain(it[i].v));
	weft__free(it);
	return WEFT_OK;
}

/* Trims ASCII white space; returns the start, sets *len. */
static const char *
trim(const char *s, size_t *len)
{
	size_t n = *len;
	while (n && (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r'))
		s++, n--;
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' ||
			s[n - 1] == '\n' || s[n - 1] == '\r'))
		n--;
	*len = n;
	return s;
}

static int
fn_int(weft_ctx *ctx, size_t n, const weft_value *a, weft_value *out)
{
	(void)n;
	switch (weft_type_of(a[0])) {
	case WEFT_INT:
	case WEFT_BOOL:
		*out = weft_int(weft_as_int(a[0]));
		return WEFT_OK;
	case WEFT_FLOAT: {
		double d = weft_as_float(a[0]);
		if (!isfinite(d))
			return weft_fail(
			    ctx, "cannot convert %g to an int", d);
		/* 2^63 is exact in a double; every double below it in
		 * magnitude truncates into range. */
		if (d >= 9223372036854775808.0 || d < -9223372036854775808.0)
			return weft_fail(ctx, "%g is out of the int range", d);
		*out = weft_int((int64_t)d);
		return WEFT_OK;
	}
	case WEFT_STR: {
		size_t len = weft_len(a[0]);
		const char *s = trim(weft_as_str(a[0]), &len);
		char buf[32], *end;
		long long v;
		if (len == 0 || len >= sizeof(buf))
			return weft_fail(ctx, "invalid int: '%s'",
			    weft_as_str(a[0]));
		memcpy(buf, s, len);
		buf[len] = '\0';
		errno = 0;
		v = strtoll(buf, &end, 10);
		if (*end || errno == ERANGE)
			return weft_fail(ctx, "invalid int: '%s'", buf);
		*out = weft_int(v);
		return WEFT_OK;
	}
	default:
		return weft_fail(ctx, "cannot convert a %s to an int",
		    tname(a[0]));
	}
}

static int
fn_float(weft_ctx *ctx, size_t n, const weft_value *a, weft_value *out)
{
	(void)n;
	switch (weft_type_of(a[0])) {
	case WEFT_INT:
	case WEFT_BOOL:
	case WEFT_FLOAT:
		*out = weft_float(weft_as_float(a[0]));
		return WEFT_OK;
	case WEFT_STR: {
		size_t len = weft_len(a[0]);
		const char *s = trim(weft_as_str(a[0]), &len);
		char buf[64], *end;
		double d;
		if (len == 0 || len >= sizeof(buf))
			return weft_fail(ctx, "invalid float: '%s'",
			    weft_as_str(a[0]));
		memcpy(buf, s, len);
		buf[len] = '\0';
		d = strtod(buf, &end);
		if (*end)
			return weft_fail(ctx, "invalid float: '%s'", buf);
		*out = weft_float(d);
		return WEFT_OK;
	}
	default:
		return weft_fail(ctx, "cannot convert a %s to a float",
		    tname(a[0]));
	}
}

static int
fn_fail(weft_ctx *ctx, size_t n, const weft_value *a, weft_value *out)
{
	weft__buf b = { 0 };
	int rc;

	(void)out;
	if (n == 0)
		return weft_fail(ctx, "fail() was called");
	put_str(&b, a[0]);
	rc = weft_fail(ctx, "%s", b.p && !b.oom ? b.p : "fail() was called");
	weft__buf_free(&b);
	return rc;
}

static int
want_duration(weft_ctx *ctx, weft_value v, int64_t max, int64_t *out)
{
	if (!is_intlike(v) && weft_type_of(v) != WEFT_FLOAT)
		return weft_fail(ctx, "the duration is a %s, not a number",
		    tname(v));
	if (weft_as_float(v) < 0 || weft_as_float(v) > (double)max ||
	    isnan(weft_as_float(v)))
		return weft_fail(ctx, "the duration must be in [0, %lld]",
		    (long long)max);
	*out = weft_as_int(v);
	return WEFT_OK;
}

static int
fn_sleep_ms(weft_ctx *ctx, size_t n, const weft_value *a, weft_value *out)
{
	int64_t ms;
	struct timespec ts;
	int rc = want_duration(ctx, a[0], SLEEP_MAX_MS, &ms);

	if (rc != WEFT_OK)
		return rc;
	ts.tv_sec = (time_t)(ms / 1000);
	ts.tv_nsec = (long)(ms % 1000) * 1000000L;
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
	*out = n > 1 ? weft_value_retain(a[1]) : weft_int(ms);
	return WEFT_OK;
}

static int64_t
now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int
fn_spin_us(weft_ctx *ctx, size_t n, const weft_value *a, weft_value *out)
{
	int64_t us, end;
	int rc = want_duration(ctx, a[0], SPIN_MAX_US, &us);

	if (rc != WEFT_OK)
		return rc;
	end = now_ns() + us * 1000;
	while (now_ns() < end)
		;
	*out = n > 1 ? weft_value_retain(a[1]) : weft_int(us);
	return WEFT_OK;
}

static const weft__builtin builtins[] = {
	{ "identity", fn_identity, 1, 1, "x itself" },
	{ "type", fn_type, 1, 1, "the type name of x: \"int\", \"list\", ..." },
	{ "len", fn_len, 1, 1,
	    "items of a list, code points of a string, bytes of bytes" },
	{ "list", fn_list, 0, WEFT_ARGS_ANY, "a list of the arguments" },
	{ "range", fn_range, 1, 3,
	    "range([start,] stop[, step]): a list of ints, as in Python" },
	{ "getitem", fn_getitem, 2, 2,
	    "x[i] of a list, string or bytes; i < 0 counts from the end" },
	{ "slice", fn_slice, 2, 3,
	    "x[start:stop] of a list or string (null: open end)" },
	{ "concat", fn_concat, 0, WEFT_ARGS_ANY,
	    "strings, bytes or lists joined end to end" },
	{ "flatten", fn_flatten, 1, 1,
	    "a list of lists as one list (one level)" },
	{ "sort", fn_sort, 1, 1, "a list of numbers or strings, sorted" },
	{ "join", fn_join, 2, 2, "join(sep, strings): the strings joined" },
	{ "format", fn_format, 1, WEFT_ARGS_ANY,
	    "format(\"{} and {}\", a, b): Python's str.format, no specs" },
	{ "str", fn_str, 1, 1, "x as a string (lists in JSON form)" },
	{ "int", fn_int, 1, 1,
	    "x as an int (floats truncated; strings parsed)" },
	{ "float", fn_float, 1, 1, "x as a float (strings parsed)" },
	{ "fail", fn_fail, 0, 1,
	    "always fails, with the message given (for tests)" },
	{ "sleep_ms", fn_sleep_ms, 1, 2,
	    "sleep_ms(ms[, x]): sleeps, then returns x (or ms)" },
	{ "spin_us", fn_spin_us, 1, 2,
	    "spin_us(us[, x]): busy CPU work, then returns x (or us)" },
};

int
weft__builtins_seq(weft_registry *r)
{
	return weft__register_table(
	    r, builtins, sizeof(builtins) / sizeof(builtins[0]));
}
