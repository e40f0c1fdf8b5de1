/*
 * JSON <-> weft_value (see jsonval.h). Both directions recurse on arrays,
 * bounded by JSONVAL_MAX_DEPTH; the error path is built on the way back up,
 * so the common (successful) case formats nothing.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errbuf.h"
#include "jsonval.h"

/* Prepends "[i]" to the message in err (and ": " before a bare message). */
static void
prefix_index(char *err, size_t errsize, size_t i)
{
	char head[32], *tmp;
	size_t len;

	if (!err || !errsize)
		return;
	snprintf(head, sizeof head, err[0] == '[' ? "[%zu]" : "[%zu]: ", i);
	len = strlen(err) + strlen(head) + 1;
	tmp = malloc(len);
	if (!tmp)
		return; /* the message without its path is still true */
	snprintf(tmp, len, "%s%s", head, err);
	snprintf(err, errsize, "%s", tmp);
	free(tmp);
}

/* -- base64 (RFC 4648, with padding) -------------------------------------- */

static const char b64[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static char *
b64_encode(const unsigned char *p, size_t n)
{
	char *s = malloc((n + 2) / 3 * 4 + 1), *o = s;
	size_t i;

	if (!s)
		return NULL;
	for (i = 0; i + 2 < n; i += 3) {
		uint32_t w = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 |
		    p[i + 2];
		*o++ = b64[w >> 18];
		*o++ = b64[w >> 12 & 63];
		*o++ = b64[w >> 6 & 63];
		*o++ = b64[w & 63];
	}
	if (i < n) {
		uint32_t w = (uint32_t)p[i] << 16 |
		    (i + 1 < n ? (uint32_t)p[i + 1] << 8 : 0);
		*o++ = b64[w >> 18];
		*o++ = b64[w >> 12 & 63];
		*o++ = i + 1 < n ? b64[w >> 6 & 63] : '=';
		*o++ = '=';
	}
	*o = 0;
	return s;
}

static int
b64_digit(char c)
{
	const char *p = c ? strchr(b64, c) : NULL;
	return p ? (int)(p - b64) : -1;
}

/* Decodes into a new BYTES value; WEFT_ETYPE when `s` is not base64. */
static int
b64_decode(const char *s, size_t n, weft_value *out)
{
	unsigned char *buf;
	size_t len = 0, i;
	uint32_t w = 0;
	int bits = 0;

	while (n && s[n - 1] == '=')
		n--;
	buf = malloc(n / 4 * 3 + 3);
	if (!buf)
		return WEFT_ENOMEM;
	for (i = 0; i < n; i++) {
		int d = b64_digit(s[i]);
		if (d < 0) {
			free(buf);
			return WEFT_ETYPE;
		}
		w = w << 6 | (uint32_t)d;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			buf[len++] = (unsigned char)(w >> bits);
		}
	}
	*out = weft_bytes(buf, len);
	free(buf);
	return weft_is_nil(*out) ? WEFT_ENOMEM : WEFT_OK;
}

/* -- JSON -> value -------------------------------------------------------- */

static int
to_value(const json_t *j, unsigned flags, int depth, weft_value *out,
    char *err, size_t errsize)
{
	switch (json_typeof(j)) {
	case JSON_NULL:
		*out = weft_nil();
		return WEFT_OK;
	case JSON_TRUE:
		*out = weft_bool(true);
		return WEFT_OK;
	case JSON_FALSE:
		*out = weft_bool(false);
		return WEFT_OK;
	case JSON_INTEGER:
		*out = weft_int((int64_t)json_integer_value(j));
		return WEFT_OK;
	case JSON_REAL:
		*out = weft_float(json_real_value(j));
		return WEFT_OK;
	case JSON_STRING:
		*out = weft_str_n(json_string_value(j), json_string_length(j));
		return weft_is_nil(*out)
		    ? serve_fail(err, errsize, WEFT_ENOMEM, "out of memory")
		    : WEFT_OK;
	case JSON_ARRAY: {
		size_t n = json_array_size(j);
		int rc;

		if (depth >= JSONVAL_MAX_DEPTH)
			return serve_fail(err, errsize, WEFT_ERANGE,
			    "arrays nested deeper than %d", JSONVAL_MAX_DEPTH);
		rc = weft_list_new(n, out);
		if (rc != WEFT_OK)
			return serve_fail(err, errsize, rc, "out of memory");
		for (size_t i = 0; i < n; i++) {
			weft_value item;
			rc = to_value(json_array_get(j, i), flags, depth + 1,
			    &item, err, errsize);
			if (rc == WEFT_OK)
				rc = weft_list_set(out, i, item);
			if (rc != WEFT_OK) {
				prefix_index(err, errsize, i);
				weft_value_release(out);
				return rc;
			}
		}
		return WEFT_OK;
	}
	case JSON_OBJECT: {
		const json_t *data = json_object_get(j, "data");
		const json_t *enc = json_object_get(j, "encoding");
		if ((flags & JSONVAL_BYTES_BASE64) && json_object_size(j) == 2 &&
		    json_is_string(data) && json_is_string(enc) &&
		    strcmp(json_string_value(enc), "base64") == 0) {
			int rc = b64_decode(json_string_value(data),
			    json_string_length(data), out);
			if (rc == WEFT_ETYPE)
				return serve_fail(err, errsize, rc,
				    "bytes object: 'data' is not base64");
			return rc == WEFT_OK
			    ? rc
			    : serve_fail(err, errsize, rc, "out of memory");
		}
		return serve_fail(err, errsize, WEFT_ETYPE,
		    "a JSON object has no weft value (weft values are null, "
		    "booleans, numbers, strings and lists)");
	}
	}
	return serve_fail(err, errsize, WEFT_ETYPE, "unknown JSON type");
}

int
jsonval_to_value(const json_t *j, unsigned flags, weft_value *out, char *err,
    size_t errsize)
{
	int rc;

	if (!out)
		return serve_fail(err, errsize, WEFT_EINVAL, "no place for the value");
	*out = weft_nil();
	if (!j)
		return serve_fail(err, errsize, WEFT_EINVAL, "no JSON value");
	if (err && errsize)
		err[0] = 0;
	rc = to_value(j, flags, 0, out, err, errsize);
	if (rc != WEFT_OK)
		weft_value_release(out);
	return rc;
}

/* -- value -> JSON -------------------------------------------------------- */

static int from_value(weft_value v, unsigned flags, int depth, json_t **out,
    char *err, size_t errsize);

/* A JSON array of items[0..n); `depth` is the array's own. */
static int
array_of(size_t n, const weft_value *items, const weft_value *list,
    unsigned flags, int depth, json_t **out, char *err, size_t errsize)
{
	json_t *a;

	if (depth >= JSONVAL_MAX_DEPTH)
		return serve_fail(err, errsize, WEFT_ERANGE,
		    "lists nested deeper than %d", JSONVAL_MAX_DEPTH);
	a = json_array();
	if (!a)
		return serve_fail(err, errsize, WEFT_ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++) {
		json_t *item;
		weft_value v = list ? weft_list_get(*list, i) : items[i];
		int rc = from_value(v, flags, depth + 1, &item, err, errsize);
		if (rc == WEFT_OK && json_array_append_new(a, item) != 0)
			rc = serve_fail(err, errsize, WEFT_ENOMEM, "out of memory");
		if (rc != WEFT_OK) {
			prefix_index(err, errsize, i);
			json_decref(a);
			return rc;
		}
	}
	*out = a;
	return WEFT_OK;
}

static int
bytes_to_json(weft_value v, unsigned flags, json_t **out, char *err,
    size_t errsize)
{
	const char *p = weft_bytes_data(v);
	size_t n = weft_len(v);

	if (flags & JSONVAL_BYTES_BASE64) {
		char *s = b64_encode((const unsigned char *)p, n);
		*out = s ? json_pack("{s:s,s:s}", "data", s, "encoding",
				   "base64")
			 : NULL;
		free(s);
		return *out ? WEFT_OK
			    : serve_fail(err, errsize, WEFT_ENOMEM, "out of memory");
	}
	*out = json_stringn(p ? p : "", n);
	return *out ? WEFT_OK
		    : serve_fail(err, errsize, WEFT_ETYPE,
			  "bytes that are not UTF-8 have no JSON form");
}

static int
from_value(weft_value v, unsigned flags, int depth, json_t **out, char *err,
    size_t errsize)
{
	weft_type t = weft_type_of(v);

	*out = NULL;
	switch (t) {
	case WEFT_NIL:
		*out = json_null();
		break;
	case WEFT_BOOL:
		*out = json_boolean(weft_as_bool(v));
		break;
	case WEFT_INT:
		*out = json_integer((json_int_t)weft_as_int(v));
		break;
	case WEFT_FLOAT:
		if (!isfinite(weft_as_float(v)))
			return serve_fail(err, errsize, WEFT_ETYPE,
			    "%g has no JSON form", weft_as_float(v));
		*out = json_real(weft_as_float(v));
		break;
	case WEFT_STR:
		*out = json_stringn(weft_as_str(v), weft_len(v));
		if (!*out)
			return serve_fail(err, errsize, WEFT_ETYPE,
			    "a string that is not UTF-8 has no JSON form");
		break;
	case WEFT_BYTES:
		return bytes_to_json(v, flags, out, err, errsize);
	case WEFT_LIST:
		return array_of(weft_len(v), NULL, &v, flags, depth, out, err,
		    errsize);
	case WEFT_F64S: {
		const double *d = weft_f64s_data(v);
		size_t n = weft_len(v);
		json_t *a = json_array();
		for (size_t i = 0; a && i < n; i++) {
			if (!isfinite(d[i])) {
				json_decref(a);
				return serve_fail(err, errsize, WEFT_ETYPE,
				    "[%zu]: %g has no JSON form", i, d[i]);
			}
			if (json_array_append_new(a, json_real(d[i])) != 0) {
				json_decref(a);
				a = NULL;
			}
		}
		*out = a;
		break;
	}
	default:
		return serve_fail(err, errsize, WEFT_ETYPE,
		    "a %s value has no JSON form", weft_type_name(t));
	}
	return *out ? WEFT_OK
		    : serve_fail(err, errsize, WEFT_ENOMEM, "out of memory");
}

int
jsonval_from_value(
    weft_value v, unsigned flags, json_t **out, char *err, size_t errsize)
{
	if (!out)
		return serve_fail(err, errsize, WEFT_EINVAL, "no place for the JSON");
	if (err && errsize)
		err[0] = 0;
	return from_value(v, flags, 0, out, err, errsize);
}

int
jsonval_from_values(size_t n, const weft_value *items, unsigned flags,
    json_t **out, char *err, size_t errsize)
{
	if (!out || (n && !items))
		return serve_fail(err, errsize, WEFT_EINVAL, "invalid arguments");
	*out = NULL;
	if (err && errsize)
		err[0] = 0;
	return array_of(n, items, NULL, flags, 0, out, err, errsize);
}
