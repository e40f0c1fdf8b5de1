/*
 * An in-place sort of 32-bit indexes with a caller's context, so that
 * concurrent callers need no global (qsort's comparator has no context
 * argument, and qsort_r is not C11).
 */
#ifndef WEFT_BASE_SORT_H
#define WEFT_BASE_SORT_H

#include <stddef.h>
#include <stdint.h>

/* Whether x goes before y. Must be a strict total order (break ties by
 * the indexes themselves): the sort is not stable. */
typedef int (*weft__before_fn)(const void *ctx, uint32_t x, uint32_t y);

/* Sorts a[0..n) by `before`: a heapsort, O(n log n), no allocation. */
void weft__sort_u32(
    uint32_t *a, size_t n, weft__before_fn before, const void *ctx);

#endif
