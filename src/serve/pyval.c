/*
 * Python value trees (pyval.h): the arena, lookups, and the conversion of
 * arguments into weft values.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pyval.h"

struct pyv_block {
	struct pyv_block *next;
	size_t size, used;
	_Alignas(16) unsigned char data[];
};

#define PYV_BLOCK_MIN 4096

void *
pyv_alloc(pyv_arena *a, size_t n)
{
	n = (n + 15) & ~(size_t)15;
	struct pyv_block *b = a->head;
	if (!b || b->size - b->used < n) {
		size_t size = n > PYV_BLOCK_MIN ? n : PYV_BLOCK_MIN;
		if (b && b->size * 2 > size && b->size < ((size_t)1 << 20))
			size = b->size * 2;
		if (a->limit && (size > a->limit || a->used > a->limit - size))
			return NULL;
		b = malloc(sizeof *b + size);
		if (!b)
			return NULL;
		b->size = size;
		b->used = 0;
		b->next = a->head;
		a->head = b;
		a->used += size;
	}
	void *p = b->data + b->used;
	b->used += n;
	return p;
}

void
pyv_arena_free(pyv_arena *a)
{
	struct pyv_block *b = a->head;
	while (b) {
		struct pyv_block *next = b->next;
		free(b);
		b = next;
	}
	a->head = NULL;
	a->used = 0;
}

int
pyv_is_str(const pyv *v, const char *s)
{
	return v && v->kind == PYV_STR && v->n == strlen(s) &&
	    memcmp(v->u.s, s, v->n) == 0;
}

const pyv *
pyv_dict_get(const pyv *d, const char *key)
{
	if (!d || d->kind != PYV_DICT)
		return NULL;
	for (size_t i = 0; i < d->n; i++)
		if (pyv_is_str(&d->u.items[2 * i], key))
			return &d->u.items[2 * i + 1];
	return NULL;
}

const char *
pyv_kind_name(pyv_kind k)
{
	static const char *const names[] = { "None", "bool", "int", "float",
		"str", "bytes", "tuple", "list", "set", "dict" };
	return (unsigned)k < sizeof names / sizeof names[0] ? names[k] : "?";
}

size_t
serve_utf8_len(const unsigned char *p, size_t left)
{
	unsigned char c = p[0];
	size_t n;
	uint32_t cp;

	if (c < 0x80)
		return 1;
	if (c >= 0xC2 && c <= 0xDF) {
		n = 2;
		cp = c & 0x1F;
	} else if (c >= 0xE0 && c <= 0xEF) {
		n = 3;
		cp = c & 0x0F;
	} else if (c >= 0xF0 && c <= 0xF4) {
		n = 4;
		cp = c & 0x07;
	} else
		return 0;
	if (left < n)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((p[i] & 0xC0) != 0x80)
			return 0;
		cp = (cp << 6) | (p[i] & 0x3F);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
	    cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
		return 0;
	return n;
}

static int
b64_digit(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

long
serve_base64_decode(const char *s, size_t n, unsigned char *out)
{
	unsigned long acc = 0;
	int bits = 0;
	long len = 0;

	while (n > 0 && s[n - 1] == '=')
		n--;
	for (size_t i = 0; i < n; i++) {
		int d = b64_digit((unsigned char)s[i]);
		if (d < 0)
			return -1;
		acc = (acc << 6) | (unsigned long)d;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[len++] = (unsigned char)(acc >> bits);
			acc &= (1ul << bits) - 1;
		}
	}
	/* One leftover digit cannot encode a byte. */
	return bits >= 6 ? -1 : len;
}

static int
dict_to_weft(const pyv *v, weft_value *out, char *err, size_t errsize)
{
	const pyv *data = pyv_dict_get(v, "data");
	const pyv *cls = pyv_dict_get(v, "__class__");

	if (data && data->kind == PYV_STR &&
	    pyv_is_str(pyv_dict_get(v, "encoding"), "base64")) {
		unsigned char *buf = malloc(data->n / 4 * 3 + 3);
		if (!buf)
			return WEFT_ENOMEM;
		long n = serve_base64_decode(data->u.s, data->n, buf);
		if (n < 0) {
			free(buf);
			snprintf(err, errsize, "bytes argument: bad base64 data");
			return WEFT_EINVAL;
		}
		*out = weft_bytes(buf, (size_t)n);
		free(buf);
		return weft_type_of(*out) == WEFT_BYTES ? WEFT_OK : WEFT_ENOMEM;
	}
	if (pyv_is_str(cls, "float") &&
	    pyv_is_str(pyv_dict_get(v, "value"), "nan")) {
		*out = weft_float(NAN);
		return WEFT_OK;
	}
	snprintf(err, errsize,
	    "a dict%s%.*s%s cannot be a weft argument (weft values have no "
	    "mapping type; pass a list)",
	    cls && cls->kind == PYV_STR ? " (class " : "",
	    cls && cls->kind == PYV_STR ? (int)(cls->n > 60 ? 60 : cls->n) : 0,
	    cls && cls->kind == PYV_STR ? cls->u.s : "",
	    cls && cls->kind == PYV_STR ? ")" : "");
	return WEFT_EINVAL;
}

int
pyv_to_weft(const pyv *v, weft_value *out, char *err, size_t errsize)
{
	*out = weft_nil();
	switch (v->kind) {
	case PYV_NONE:
		return WEFT_OK;
	case PYV_BOOL:
		*out = weft_bool(v->u.b);
		return WEFT_OK;
	case PYV_INT:
		*out = weft_int(v->u.i);
		return WEFT_OK;
	case PYV_FLOAT:
		*out = weft_float(v->u.f);
		return WEFT_OK;
	case PYV_STR:
		*out = weft_str_n(v->u.s, v->n);
		return weft_type_of(*out) == WEFT_STR ? WEFT_OK : WEFT_ENOMEM;
	case PYV_BYTES:
		*out = weft_bytes(v->u.s, v->n);
		return weft_type_of(*out) == WEFT_BYTES ? WEFT_OK : WEFT_ENOMEM;
	case PYV_TUPLE:
	case PYV_LIST:
	case PYV_SET: {
		weft_value list;
		int rc = weft_list_new(v->n, &list);
		if (rc != WEFT_OK)
			return rc;
		for (size_t i = 0; i < v->n; i++) {
			weft_value item;
			rc = pyv_to_weft(&v->u.items[i], &item, err, errsize);
			if (rc == WEFT_OK)
				rc = weft_list_set(&list, i, item);
			if (rc != WEFT_OK) {
				weft_value_release(&list);
				return rc;
			}
		}
		*out = list;
		return WEFT_OK;
	}
	case PYV_DICT:
		return dict_to_weft(v, out, err, errsize);
	}
	snprintf(err, errsize, "unknown value kind");
	return WEFT_EINVAL;
}
