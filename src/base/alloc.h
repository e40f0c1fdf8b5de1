/*
 * Every allocation of the library goes through these wrappers, so that an
 * allocator hook (and allocation-failure injection in tests) has one place
 * to act. They never abort: NULL means out of memory, and callers turn it
 * into WEFT_ENOMEM.
 */
#ifndef WEFT_BASE_ALLOC_H
#define WEFT_BASE_ALLOC_H

#include <stddef.h>

void *weft__malloc(size_t size);
void *weft__calloc(size_t n, size_t size);
void *weft__realloc(void *p, size_t size);
/* free() that preserves errno, as uv__free does. NULL is ignored. */
void weft__free(void *p);
/* Zeroed memory aligned to `align` (a power of two, >= sizeof(void *)),
 * for structures with cache-line-aligned members; free with
 * weft__free_aligned. */
void *weft__calloc_aligned(size_t n, size_t size, size_t align);
void weft__free_aligned(void *p);
/* Big arrays that come and go with graphs and computes, through a small
 * cache of freed blocks whose pages are mapped already (see alloc.c). Give
 * each back with weft__block_free and its size in bytes (a smaller figure
 * is fine: the cache then under-counts it). */
/* Zeroed memory (a compute's per-node state). */
void *weft__block_calloc(size_t bytes);
/* Moves p (old_bytes of content, NULL for none) to a block of at least
 * `bytes`; *got receives the block's size, which may be larger. NULL when
 * out of memory, p then untouched. */
void *weft__block_realloc(void *p, size_t old_bytes, size_t bytes,
    size_t *got);
/* weft__grow through the cache: *cap may end above the doubled size when a
 * cached block is bigger. */
int weft__block_grow(void **buf, size_t *cap, size_t need, size_t elem);
void weft__block_free(void *p, size_t bytes);
/* Frees the cached blocks (weft_shutdown, weft_set_allocator). */
void weft__block_flush(void);
/* Duplicates a NUL-terminated string; NULL on no memory. */
char *weft__strdup(const char *s);

/* Grows *buf (of *cap elements of `elem` bytes) to hold at least `need`
 * elements, doubling. 0 or WEFT_ENOMEM (overflow counts as no memory). */
int weft__grow_slow(void **buf, size_t *cap, size_t need, size_t elem);
static inline int
weft__grow(void **buf, size_t *cap, size_t need, size_t elem)
{
	return need <= *cap ? 0 : weft__grow_slow(buf, cap, need, elem);
}

#endif
