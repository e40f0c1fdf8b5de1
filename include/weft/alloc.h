/**
 * \file weft/alloc.h
 * \brief Replacing the allocator (and counting or failing allocations).
 *
 * Every allocation weft makes for graphs, values, computes and the JSON
 * reader's own structures goes through one hook. Threads, hwloc, jansson's
 * parse tree (jansson has only a process-wide hook) and the C library
 * allocate on their own.
 */
#ifndef WEFT_ALLOC_H
#define WEFT_ALLOC_H

#include <stddef.h>

#include "version.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * An allocator. `malloc_fn` and `realloc_fn` return NULL when out of
 * memory (weft then reports WEFT_ENOMEM); `free_fn` gets what they
 * returned, or NULL (ignore it). All three must be thread-safe: workers
 * allocate and free concurrently.
 */
typedef struct weft_allocator {
	void *(*malloc_fn)(void *ud, size_t size); /**< as malloc() */
	/** as realloc() */
	void *(*realloc_fn)(void *ud, void *p, size_t size);
	void (*free_fn)(void *ud, void *p); /**< as free() */
	void *ud; /**< passed to each */
} weft_allocator;

/**
 * Installs `a` (copied), or the C library's allocator when `a` is NULL.
 * Call it before any other weft function, or when every weft object
 * (graph, value, pool, future) made under the previous allocator is gone:
 * memory must be freed by the allocator that gave it. Returns WEFT_OK, or
 * WEFT_EINVAL when a function is missing.
 */
WEFT_API int weft_set_allocator(const weft_allocator *a);

#ifdef __cplusplus
}
#endif
#endif
