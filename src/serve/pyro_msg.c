/*
 * Pyro4 message framing (pyro_msg.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pyro_msg.h"

#ifdef WEFT_HAVE_ZLIB
#include <zlib.h>
#endif
#ifdef WEFT_HAVE_LIBCRYPTO
#include <openssl/evp.h>
#include <openssl/hmac.h>
#endif

#define PYRO_CHECKSUM_MAGIC 0x34E9u

static uint16_t
be16(const unsigned char *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void
put16(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 8);
	p[1] = (unsigned char)v;
}

int
pyro_header_parse(const unsigned char *p, pyro_header *h, char *err,
    size_t errsize)
{
	if (memcmp(p, "PYRO", 4) != 0) {
		snprintf(err, errsize, "not a Pyro message (no 'PYRO' magic)");
		return -1;
	}
	uint16_t version = be16(p + 4);
	if (version != PYRO_PROTOCOL_VERSION) {
		snprintf(err, errsize,
		    "Pyro protocol version %u; weft speaks %u (Pyro4 4.x)",
		    version, PYRO_PROTOCOL_VERSION);
		return -1;
	}
	h->type = be16(p + 6);
	h->flags = be16(p + 8);
	h->seq = be16(p + 10);
	h->data_size = (uint32_t)p[12] << 24 | (uint32_t)p[13] << 16 |
	    (uint32_t)p[14] << 8 | p[15];
	h->serializer = be16(p + 16);
	h->ann_size = be16(p + 18);
	uint16_t sum = be16(p + 22);
	uint32_t want = (h->type + version + h->data_size + h->ann_size +
			    h->serializer + h->flags + h->seq +
			    PYRO_CHECKSUM_MAGIC) &
	    0xFFFFu;
	if (sum != want) {
		snprintf(err, errsize, "header checksum mismatch");
		return -1;
	}
	if (h->data_size > 0x7FFFFFFFu) {
		snprintf(err, errsize, "negative data size");
		return -1;
	}
	return 0;
}

int
pyro_anns_parse(const unsigned char *p, size_t n, pyro_ann *anns,
    size_t max, size_t *count, char *err, size_t errsize)
{
	size_t i = 0, k = 0;
	while (i < n) {
		if (n - i < 6) {
			snprintf(err, errsize, "truncated annotation header");
			return -1;
		}
		uint16_t len = be16(p + i + 4);
		if (n - i - 6 < len) {
			snprintf(err, errsize,
			    "annotation '%.4s' runs past its section", p + i);
			return -1;
		}
		if (k == max) {
			snprintf(err, errsize, "more than %zu annotations", max);
			return -1;
		}
		memcpy(anns[k].id, p + i, 4);
		anns[k].len = len;
		anns[k].data = p + i + 6;
		k++;
		i += 6 + (size_t)len;
	}
	*count = k;
	return 0;
}

const pyro_ann *
pyro_ann_find(const pyro_ann *anns, size_t n, const char *id)
{
	for (size_t i = 0; i < n; i++)
		if (memcmp(anns[i].id, id, 4) == 0)
			return &anns[i];
	return NULL;
}

#ifdef WEFT_HAVE_LIBCRYPTO

int
pyro_hmac_available(void)
{
	return 1;
}

static int
ann_cmp(const void *a, const void *b)
{
	return memcmp(((const pyro_ann *)a)->id, ((const pyro_ann *)b)->id, 4);
}

int
pyro_hmac(const void *key, size_t keylen, const void *data, size_t n,
    const pyro_ann *anns, size_t nanns, unsigned char out[PYRO_HMAC_SIZE])
{
	pyro_ann sorted[PYRO_MAX_ANNOTATIONS];
	size_t k = 0, total = n;
	unsigned char *msg;
	unsigned int outlen = 0;

	for (size_t i = 0; i < nanns && k < PYRO_MAX_ANNOTATIONS; i++)
		if (memcmp(anns[i].id, "HMAC", 4) != 0) {
			sorted[k++] = anns[i];
			total += anns[i].len;
		}
	qsort(sorted, k, sizeof *sorted, ann_cmp);
	/* One buffer and the one-shot HMAC(): the streaming HMAC_CTX calls
	 * are deprecated in OpenSSL 3, and messages are small. */
	msg = malloc(total ? total : 1);
	if (!msg)
		return -1;
	if (n)
		memcpy(msg, data, n);
	for (size_t i = 0, at = n; i < k; i++) {
		if (sorted[i].len)
			memcpy(msg + at, sorted[i].data, sorted[i].len);
		at += sorted[i].len;
	}
	unsigned char *r = HMAC(EVP_sha1(), key, (int)keylen, msg, total, out,
	    &outlen);
	free(msg);
	return r && outlen == PYRO_HMAC_SIZE ? 0 : -1;
}

#else

int
pyro_hmac_available(void)
{
	return 0;
}

int
pyro_hmac(const void *key, size_t keylen, const void *data, size_t n,
    const pyro_ann *anns, size_t nanns, unsigned char out[PYRO_HMAC_SIZE])
{
	(void)key, (void)keylen, (void)data, (void)n, (void)anns, (void)nanns;
	memset(out, 0, PYRO_HMAC_SIZE);
	return -1;
}

#endif

int
pyro_inflate(const void *p, size_t n, size_t limit, serve_buf *out,
    char *err, size_t errsize)
{
#ifdef WEFT_HAVE_ZLIB
	z_stream z;
	int rc;

	memset(&z, 0, sizeof z);
	if (n > 0xFFFFFFFFu || inflateInit(&z) != Z_OK) {
		snprintf(err, errsize, "cannot start zlib");
		return -1;
	}
	z.next_in = (Bytef *)(uintptr_t)p;
	z.avail_in = (uInt)n;
	do {
		if (serve_buf_reserve(out, 64 << 10) != 0) {
			rc = Z_MEM_ERROR;
			break;
		}
		z.next_out = out->p + out->len;
		z.avail_out = (uInt)(out->cap - out->len);
		rc = inflate(&z, Z_NO_FLUSH);
		out->len = out->cap - z.avail_out;
		if (out->len > limit) {
			inflateEnd(&z);
			snprintf(err, errsize,
			    "compressed data inflates past %zu bytes", limit);
			return -1;
		}
	} while (rc == Z_OK);
	inflateEnd(&z);
	if (rc != Z_STREAM_END) {
		snprintf(err, errsize, "bad compressed data (zlib: %s)",
		    rc == Z_MEM_ERROR ? "out of memory" : z.msg ? z.msg : "truncated");
		return -1;
	}
	return 0;
#else
	(void)p, (void)n, (void)limit, (void)out;
	snprintf(err, errsize,
	    "compressed message, but this weft was built without zlib");
	return -1;
#endif
}

int
pyro_msg_write(serve_buf *out, uint16_t type, uint16_t flags,
    uint16_t seq, uint16_t serializer, const pyro_ann *anns, size_t nanns,
    const void *data, size_t n, const void *key, size_t keylen)
{
	unsigned char h[PYRO_HEADER_SIZE], mac[PYRO_HMAC_SIZE];
	uint32_t ann_size = 0;

	if (n > 0x7FFFFFFFu)
		return -1;
	for (size_t i = 0; i < nanns; i++)
		ann_size += 6u + anns[i].len;
	if (key) {
		if (pyro_hmac(key, keylen, data, n, anns, nanns, mac) != 0)
			return -1;
		ann_size += 6u + PYRO_HMAC_SIZE;
	}
	if (ann_size > 0xFFFFu)
		return -1;
	memcpy(h, "PYRO", 4);
	put16(h + 4, PYRO_PROTOCOL_VERSION);
	put16(h + 6, type);
	put16(h + 8, flags);
	put16(h + 10, seq);
	h[12] = (unsigned char)(n >> 24);
	h[13] = (unsigned char)(n >> 16);
	h[14] = (unsigned char)(n >> 8);
	h[15] = (unsigned char)n;
	put16(h + 16, serializer);
	put16(h + 18, ann_size);
	put16(h + 20, 0);
	put16(h + 22, (type + PYRO_PROTOCOL_VERSION + (uint32_t)n + ann_size +
			  serializer + flags + seq + PYRO_CHECKSUM_MAGIC) &
		0xFFFFu);
	serve_buf_add(out, h, sizeof h);
	for (size_t i = 0; i < nanns; i++) {
		unsigned char ah[6];
		memcpy(ah, anns[i].id, 4);
		put16(ah + 4, anns[i].len);
		serve_buf_add(out, ah, 6);
		serve_buf_add(out, anns[i].data, anns[i].len);
	}
	if (key) {
		unsigned char ah[6];
		memcpy(ah, "HMAC", 4);
		put16(ah + 4, PYRO_HMAC_SIZE);
		serve_buf_add(out, ah, 6);
		serve_buf_add(out, mac, PYRO_HMAC_SIZE);
	}
	serve_buf_add(out, data, n);
	return 0;
}
