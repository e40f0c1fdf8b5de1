/* The context sort of base/sort.h (priorities of roots, as-completed
 * target order): random arrays, with many equal keys, against qsort. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/sort.h"
#include "testutil.h"

static const int *qkeys; /* the reference's comparator has no context */

static int
by_key_then_index(const void *ctx, uint32_t x, uint32_t y)
{
	const int *key = ctx;
	return key[x] != key[y] ? key[x] < key[y] : x < y;
}

static int
ref_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	if (qkeys[x] != qkeys[y])
		return qkeys[x] < qkeys[y] ? -1 : 1;
	return (x > y) - (x < y);
}

static void
test_sort_matches_qsort(void **state)
{
	(void)state;
	uint64_t seed = 7;
	for (int round = 0; round < 300; round++) {
		size_t n = (size_t)(tu_rand(&seed) % 700);
		int span = 1 + (int)(tu_rand(&seed) % 50);
		int *key = malloc((n + 1) * sizeof *key);
		uint32_t *a = malloc((n + 1) * sizeof *a);
		uint32_t *b = malloc((n + 1) * sizeof *b);
		for (size_t i = 0; i < n; i++) {
			key[i] = (int)(tu_rand(&seed) % (uint64_t)span) - span / 2;
			a[i] = b[i] = (uint32_t)(n - 1 - i);
		}
		weft__sort_u32(a, n, by_key_then_index, key);
		qkeys = key;
		qsort(b, n, sizeof *b, ref_cmp);
		assert_memory_equal(a, b, n * sizeof *a);
		free(key);
		free(a);
		free(b);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sort_matches_qsort),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
