/*
 * JSON into Python value trees (pyjson.h), through jansson.
 */
#include <stdio.h>
#include <string.h>

#include "pyjson.h"

#include <jansson.h>

static int
from_json(json_t *j, pyv_arena *a, pyv *out)
{
	memset(out, 0, sizeof *out);
	switch (json_typeof(j)) {
	case JSON_NULL:
		out->kind = PYV_NONE;
		return WEFT_OK;
	case JSON_TRUE:
	case JSON_FALSE:
		out->kind = PYV_BOOL;
		out->u.b = json_is_true(j);
		return WEFT_OK;
	case JSON_INTEGER:
		out->kind = PYV_INT;
		out->u.i = (int64_t)json_integer_value(j);
		return WEFT_OK;
	case JSON_REAL:
		out->kind = PYV_FLOAT;
		out->u.f = json_real_value(j);
		return WEFT_OK;
	case JSON_STRING: {
		size_t n = json_string_length(j);
		char *s = pyv_alloc(a, n + 1);
		if (!s)
			return WEFT_ENOMEM;
		memcpy(s, json_string_value(j), n);
		s[n] = 0;
		out->kind = PYV_STR;
		out->n = n;
		out->u.s = s;
		return WEFT_OK;
	}
	case JSON_ARRAY: {
		size_t n = json_array_size(j);
		pyv *items = n ? pyv_alloc(a, n * sizeof *items) : NULL;
		if (n && !items)
			return WEFT_ENOMEM;
		for (size_t i = 0; i < n; i++) {
			int rc = from_json(json_array_get(j, i), a, &items[i]);
			if (rc != WEFT_OK)
				return rc;
		}
		out->kind = PYV_LIST;
		out->n = n;
		out->u.items = items;
		return WEFT_OK;
	}
	case JSON_OBJECT: {
		size_t n = json_object_size(j), i = 0;
		pyv *items = n ? pyv_alloc(a, 2 * n * sizeof *items) : NULL;
		const char *key;
		json_t *val;
		if (n && !items)
			return WEFT_ENOMEM;
		json_object_foreach(j, key, val)
		{
			size_t kn = strlen(key);
			char *k = pyv_alloc(a, kn + 1);
			if (!k)
				return WEFT_ENOMEM;
			memcpy(k, key, kn + 1);
			items[2 * i].kind = PYV_STR;
			items[2 * i].n = kn;
			items[2 * i].u.s = k;
			int rc = from_json(val, a, &items[2 * i + 1]);
			if (rc != WEFT_OK)
				return rc;
			i++;
		}
		out->kind = PYV_DICT;
		out->n = i;
		out->u.items = items;
		return WEFT_OK;
	}
	}
	return WEFT_EINVAL;
}

int
pyjson_parse(const char *data, size_t len, pyv_arena *arena, pyv *out,
    char *err, size_t errsize)
{
	json_error_t je;
	json_t *j = json_loadb(data, len, JSON_DECODE_ANY, &je);
	memset(out, 0, sizeof *out);
	if (!j) {
		snprintf(err, errsize, "line %d, column %d: %s", je.line,
		    je.column, je.text);
		return WEFT_EPARSE;
	}
	int rc = from_json(j, arena, out);
	json_decref(j);
	if (rc != WEFT_OK) {
		snprintf(err, errsize, "out of memory");
		memset(out, 0, sizeof *out);
	}
	return rc;
}
