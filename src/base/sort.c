/* Heapsort of 32-bit indexes with a context (see sort.h). Heapsort rather
 * than a merge sort: no scratch memory, so it cannot fail, and its worst
 * case is O(n log n) on any input. */
#include "base/sort.h"

/* Moves a[i] down the max-heap a[0..n) until both children go before it. */
static void
sift_down(uint32_t *a, size_t i, size_t n, weft__before_fn before,
    const void *ctx)
{
	uint32_t v = a[i];
	for (;;) {
		size_t c = 2 * i + 1;
		if (c >= n)
			break;
		if (c + 1 < n && before(ctx, a[c], a[c + 1]))
			c++;
		if (!before(ctx, v, a[c]))
			break;
		a[i] = a[c];
		i = c;
	}
	a[i] = v;
}

void
weft__sort_u32(uint32_t *a, size_t n, weft__before_fn before, const void *ctx)
{
	if (n < 2)
		return;
	for (size_t i = n / 2; i-- > 0;)
		sift_down(a, i, n, before, ctx);
	for (size_t end = n - 1; end > 0; end--) {
		uint32_t t = a[0];
		a[0] = a[end];
		a[end] = t;
		sift_down(a, 0, end, before, ctx);
	}
}
