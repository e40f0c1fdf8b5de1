/*
 * Hashing bytes for open-addressing tables (the CSV reader's groups and
 * header names): fast, well mixed, not keyed (not for hostile inputs'
 * denial of service, only for spreading).
 */
#ifndef WEFT_BASE_MEMHASH_H
#define WEFT_BASE_MEMHASH_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* splitmix64's finalizer: every input bit moves every output bit. */
static inline uint64_t
weft__mix64(uint64_t z)
{
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9u;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBu;
	return z ^ (z >> 31);
}

/* A hash of s[0..n), eight bytes a step. */
static inline uint64_t
weft__hash_mem(const void *p, size_t n)
{
	const char *s = p;
	uint64_t h = 0x9E3779B97F4A7C15u ^ n;
	while (n >= 8) {
		uint64_t w;
		memcpy(&w, s, 8);
		h = weft__mix64(h ^ w);
		s += 8;
		n -= 8;
	}
	uint64_t w = 0;
	if (n)
		memcpy(&w, s, n);
	return weft__mix64(h ^ w);
}

#endif
