/*
 * Values on the wire. The ranks are homogeneous (same endianness, same
 * double), so numbers travel as their bytes and a FLOAT or F64S arrives
 * with the very bits it left with.
 *
 * Packed form, recursive: a type byte, then
 *   NIL -; BOOL u8; INT i64; FLOAT f64 bits; STR, BYTES u64 length, bytes;
 *   F64S u64 count, doubles; LIST u64 count, items;
 *   PTR u16 name length, name, u64 length, what the type's pack() wrote.
 * A large STR, BYTES or F64S goes raw instead: the header says its type
 * and length, and the body messages come straight from the value's memory.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mpi/mpi_int.h"

#define MAX_DEPTH 1000

struct sink {
	unsigned char *p; /* NULL: only count */
	size_t n;
};

static void
put(struct sink *s, const void *src, size_t n)
{
	if (s->p && n)
		memcpy(s->p + s->n, src, n);
	s->n += n;
}

static void
put_u64(struct sink *s, uint64_t v)
{
	put(s, &v, 8);
}

/* Writes (or measures) v; on error, err says why. */
static int
enc(const weft_mpi *m, struct sink *s, weft_value v, unsigned depth,
    char *err, size_t errsize)
{
	weft_type t = weft_type_of(v);
	unsigned char tb = (unsigned char)t;

	if (depth > MAX_DEPTH) {
		snprintf(err, errsize, "lists nested deeper than %d levels",
		    MAX_DEPTH);
		return WEFT_ETYPE;
	}
	put(s, &tb, 1);
	switch (t) {
	case WEFT_NIL:
		return WEFT_OK;
	case WEFT_BOOL: {
		unsigned char b = weft_as_bool(v);
		put(s, &b, 1);
		return WEFT_OK;
	}
	case WEFT_INT: {
		int64_t i = weft_as_int(v);
		put(s, &i, 8);
		return WEFT_OK;
	}
	case WEFT_FLOAT: {
		double d = weft_as_float(v);
		put(s, &d, 8);
		return WEFT_OK;
	}
	case WEFT_STR:
	case WEFT_BYTES:
		put_u64(s, weft_len(v));
		put(s, weft_bytes_data(v), weft_len(v));
		return WEFT_OK;
	case WEFT_F64S:
		put_u64(s, weft_len(v));
		put(s, weft_f64s_data(v), weft_len(v) * sizeof(double));
		return WEFT_OK;
	case WEFT_LIST:
		put_u64(s, weft_len(v));
		for (size_t i = 0; i < weft_len(v); i++) {
			int rc = enc(
			    m, s, weft_list_get(v, i), depth + 1, err, errsize);
			if (rc != WEFT_OK)
				return rc;
		}
		return WEFT_OK;
	case WEFT_PTR: {
		const weft_mpi_type *ty = weft_mpi_ptr_type(v);
		const void *ptr = weft_ptr_get(v);
		uint16_t nl;
		size_t len = 0;
		int rc;
		if (!ty) {
			snprintf(err, errsize,
			    "a ptr value of no registered type (make it with "
			    "weft_mpi_ptr() and weft_mpi_type_register() "
			    "its type)");
			return WEFT_ETYPE;
		}
		if (wm_type_find(m, ty->name) != ty) {
			snprintf(err, errsize,
			    "ptr type '%s' is not registered with this "
			    "context",
			    ty->name);
			return WEFT_ETYPE;
		}
		nl = (uint16_t)strlen(ty->name);
		put(s, &nl, 2);
		put(s, ty->name, nl);
		rc = ty->size(ptr, &len);
		if (rc != WEFT_OK) {
			snprintf(err, errsize, "ptr type '%s': size() failed: %s",
			    ty->name, weft_strerror(rc));
			return WEFT_ETYPE;
		}
		put_u64(s, len);
		if (s->p) {
			rc = ty->pack(ptr, s->p + s->n, len);
			if (rc != WEFT_OK) {
				snprintf(err, errsize,
				    "ptr type '%s': pack() failed: %s",
				    ty->name, weft_strerror(rc));
				return WEFT_ETYPE;
			}
		}
		s->n += len;
		return WEFT_OK;
	}
	default:
		snprintf(err, errsize, "a value of unknown type %d", (int)t);
		return WEFT_ETYPE;
	}
}

void
wm_out_free(wm_out *o)
{
	free(o->buf);
	free(o->packed);
	weft_value_release(&o->hold);
	memset(o, 0, sizeof(*o));
}

int
wm_pack(const weft_mpi *m, weft_value v, uint32_t node, uint32_t epoch,
    wm_out *o, char *err, size_t errsize)
{
	weft_type t = weft_type_of(v);
	wm_hdr h;
	struct sink s = { NULL, 0 };
	int rc;

	memset(o, 0, sizeof(*o));
	o->hold = weft_nil();
	memset(&h, 0, sizeof(h));
	h.magic = WM_MAGIC;
	h.epoch = epoch;
	h.node = node;
	h.type = (int32_t)t;
	h.chunk = m->chunk;

	if ((t == WEFT_STR || t == WEFT_BYTES || t == WEFT_F64S) &&
	    weft_len(v) * (t == WEFT_F64S ? sizeof(double) : 1) > WM_INLINE) {
		/* Raw: no copy at all; the value stays alive until the
		 * sends are done. */
		o->len = weft_len(v) * (t == WEFT_F64S ? sizeof(double) : 1);
		o->body = t == WEFT_F64S ? (const void *)weft_f64s_data(v)
					 : weft_bytes_data(v);
		o->hold = weft_value_retain(v);
		h.flags = WM_RAW;
	} else {
		rc = enc(m, &s, v, 0, err, errsize);
		if (rc != WEFT_OK)
			return rc;
		o->len = s.n;
		if (o->len > WM_INLINE) {
			o->packed = malloc(o->len);
			if (!o->packed)
				goto nomem;
			s.p = o->packed;
			s.n = 0;
			rc = enc(m, &s, v, 0, err, errsize);
			if (rc != WEFT_OK) {
				wm_out_free(o);
				return rc;
			}
			o->body = o->packed;
		}
	}
	h.len = o->len;
	if (o->body) {
		o->chunk = m->chunk;
		o->nbody = (uint32_t)((o->len + m->chunk - 1) / m->chunk);
	}
	h.nbody = o->nbody;
	o->buflen = sizeof(h) + (o->body ? 0 : o->len);
	o->buf = malloc(o->buflen);
	if (!o->buf)
		goto nomem;
	memcpy(o->buf, &h, sizeof(h));
	if (!o->body) {
		s.p = o->buf + sizeof(h);
		s.n = 0;
		rc = enc(m, &s, v, 0, err, errsize);
		if (rc != WEFT_OK) {
			wm_out_free(o);
			return rc;
		}
	}
	return WEFT_OK;
nomem:
	wm_out_free(o);
	snprintf(err, errsize, "out of memory packing %zu bytes", s.n);
	return WEFT_ENOMEM;
}

/* -- unpacking --------------------------------------------------------------- */

struct src {
	const unsigned char *p;
	size_t n, at;
};

static int
get(struct src *s, void *dst, size_t n)
{
	if (n > s->n - s->at)
		return -1;
	if (n)
		memcpy(dst, s->p + s->at, n);
	s->at += n;
	return 0;
}

static int
dec(const weft_mpi *m, struct src *s, weft_value *out, unsigned depth,
    char *err, size_t errsize)
{
	unsigned char tb;
	uint64_t n;

	*out = weft_nil();
	if (depth > MAX_DEPTH || get(s, &tb, 1))
		goto bad;
	switch (tb) {
	case WEFT_NIL:
		return WEFT_OK;
	case WEFT_BOOL: {
		unsigned char b;
		if (get(s, &b, 1))
			goto bad;
		*out = weft_bool(b != 0);
		return WEFT_OK;
	}
	case WEFT_INT: {
		int64_t i;
		if (get(s, &i, 8))
			goto bad;
		*out = weft_int(i);
		return WEFT_OK;
	}
	case WEFT_FLOAT: {
		double d;
		if (get(s, &d, 8))
			goto bad;
		*out = weft_float(d);
		return WEFT_OK;
	}
	case WEFT_STR:
	case WEFT_BYTES:
		if (get(s, &n, 8) || n > s->n - s->at)
			goto bad;
		*out = tb == WEFT_STR
		    ? weft_str_n((const char *)s->p + s->at, (size_t)n)
		    : weft_bytes(s->p + s->at, (size_t)n);
		s->at += (size_t)n;
		return weft_is_nil(*out) ? WEFT_ENOMEM : WEFT_OK;
	case WEFT_F64S: {
		double *d;
		if (get(s, &n, 8) || n > (s->n - s->at) / sizeof(double))
			goto bad;
		if (weft_f64s_new((size_t)n, NULL, out) != WEFT_OK)
			return WEFT_ENOMEM;
		d = weft_f64s_data_mut(*out);
		if (n)
			memcpy(d, s->p + s->at, (size_t)n * sizeof(double));
		s->at += (size_t)n * sizeof(double);
		return WEFT_OK;
	}
	case WEFT_LIST:
		/* every item takes at least its type byte */
		if (get(s, &n, 8) || n > s->n - s->at)
			goto bad;
		if (weft_list_new((size_t)n, out) != WEFT_OK)
			return WEFT_ENOMEM;
		for (uint64_t i = 0; i < n; i++) {
			weft_value it;
			int rc = dec(m, s, &it, depth + 1, err, errsize);
			if (rc != WEFT_OK) {
				weft_value_release(out);
				return rc;
			}
			weft_list_set(out, (size_t)i, it);
		}
		return WEFT_OK;
	case WEFT_PTR: {
		uint16_t nl;
		char name[65];
		const weft_mpi_type *ty;
		void *ptr = NULL;
		int rc;
		if (get(s, &nl, 2) || nl == 0 || nl > 64 ||
		    get(s, name, nl))
			goto bad;
		name[nl] = '\0';
		ty = wm_type_find(m, name);
		if (!ty) {
			snprintf(err, errsize,
			    "received a ptr of type '%s', which this rank "
			    "has not registered",
			    name);
			return WEFT_ETYPE;
		}
		if (get(s, &n, 8) || n > s->n - s->at)
			goto bad;
		rc = ty->unpack(s->p + s->at, (size_t)n, &ptr);
		if (rc != WEFT_OK) {
			snprintf(err, errsize, "ptr type '%s': unpack() failed: %s",
			    name, weft_strerror(rc));
			return WEFT_ETYPE;
		}
		s->at += (size_t)n;
		*out = weft_mpi_ptr(ty, ptr);
		return weft_is_nil(*out) ? WEFT_ENOMEM : WEFT_OK;
	}
	default:
		break;
	}
bad:
	snprintf(err, errsize, "a malformed value message");
	return WEFT_EIO;
}

int
wm_unpack(const weft_mpi *m, const unsigned char *p, size_t len,
    weft_value *out, char *err, size_t errsize)
{
	struct src s = { p, len, 0 };
	int rc = dec(m, &s, out, 0, err, errsize);

	if (rc == WEFT_OK && s.at != len) {
		weft_value_release(out);
		snprintf(err, errsize, "a malformed value message");
		return WEFT_EIO;
	}
	return rc;
}
