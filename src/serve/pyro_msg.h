/*
 * Pyro4's wire messages (protocol version 48, as python3-pyro4 4.82 speaks
 * it): a 24-byte header, annotation chunks, then the serialized data.
 *
 * Header, big-endian: "PYRO", version u16, type u16, flags u16, seq u16,
 * data size i32, serializer id u16, annotations size u16, reserved u16,
 * checksum u16 (the sum of type, version, data size, annotations size,
 * serializer, flags, seq and 0x34E9, modulo 2^16). An annotation chunk is a
 * 4-character id, a u16 length and that many bytes. With an HMAC key, chunk
 * "HMAC" holds HMAC-SHA1(key, data + the other chunks' bytes in id order).
 */
#ifndef WEFT_SERVE_PYRO_MSG_H
#define WEFT_SERVE_PYRO_MSG_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

#define PYRO_HEADER_SIZE 24
#define PYRO_PROTOCOL_VERSION 48
#define PYRO_MAX_ANNOTATIONS 16
#define PYRO_HMAC_SIZE 20

enum pyro_msg_type {
	PYRO_MSG_CONNECT = 1,
	PYRO_MSG_CONNECTOK = 2,
	PYRO_MSG_CONNECTFAIL = 3,
	PYRO_MSG_INVOKE = 4,
	PYRO_MSG_RESULT = 5,
	PYRO_MSG_PING = 6,
};

enum pyro_msg_flags {
	PYRO_FLAGS_EXCEPTION = 1 << 0,
	PYRO_FLAGS_COMPRESSED = 1 << 1,
	PYRO_FLAGS_ONEWAY = 1 << 2,
	PYRO_FLAGS_BATCH = 1 << 3,
	PYRO_FLAGS_META_ON_CONNECT = 1 << 4,
	PYRO_FLAGS_ITEMSTREAMRESULT = 1 << 5,
	PYRO_FLAGS_KEEPSERIALIZED = 1 << 6,
};

/* Serializer ids (Pyro4.util). weft speaks serpent and json. */
enum pyro_serializer {
	PYRO_SER_SERPENT = 1,
	PYRO_SER_JSON = 2,
	PYRO_SER_MARSHAL = 3,
	PYRO_SER_PICKLE = 4,
	PYRO_SER_DILL = 5,
	PYRO_SER_MSGPACK = 6,
	PYRO_SER_CLOUDPICKLE = 7,
};

typedef struct pyro_header {
	uint16_t type, flags, seq, serializer, ann_size;
	uint32_t data_size;
} pyro_header;

typedef struct pyro_ann {
	char id[4];
	uint16_t len;
	const unsigned char *data; /* borrowed from the message */
} pyro_ann;

/* Parses and checks a header (magic, version, checksum, a data size below
 * 2^31). 0, or -1 with the reason in err. */
int pyro_header_parse(const unsigned char *p, pyro_header *h, char *err,
    size_t errsize);

/* Splits `n` bytes of annotation chunks into anns (at most `max`). 0, or -1
 * with the reason in err (a chunk past the end, too many chunks). */
int pyro_anns_parse(const unsigned char *p, size_t n, pyro_ann *anns,
    size_t max, size_t *count, char *err, size_t errsize);

/* The chunk with this id, or NULL. */
const pyro_ann *pyro_ann_find(const pyro_ann *anns, size_t n, const char *id);

/* 1 when weft was built with an HMAC implementation (OpenSSL's libcrypto). */
int pyro_hmac_available(void);

/* HMAC-SHA1 of the message as Pyro4 computes it (the data, then every chunk
 * but "HMAC" in id order). 0, or -1 when unavailable or out of memory. */
int pyro_hmac(const void *key, size_t keylen, const void *data, size_t n,
    const pyro_ann *anns, size_t nanns, unsigned char out[PYRO_HMAC_SIZE]);

/* Inflates a compressed message's data (zlib, as Pyro4's COMPRESSION
 * writes it) into out, at most `limit` bytes. 0, or -1 with the reason in
 * err (not zlib data, past the limit, or weft built without zlib). */
int pyro_inflate(const void *p, size_t n, size_t limit, serve_buf *out,
    char *err, size_t errsize);

/* Appends a whole message to out: header, the chunks (and an "HMAC" chunk
 * when key is not NULL), data. Returns 0, or -1 when the HMAC could not be
 * computed (out is left as it was) or the data is too large. */
int pyro_msg_write(serve_buf *out, uint16_t type, uint16_t flags,
    uint16_t seq, uint16_t serializer, const pyro_ann *anns, size_t nanns,
    const void *data, size_t n, const void *key, size_t keylen);

#endif
