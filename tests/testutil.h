/* Helpers shared by the test programs: small task functions and a seeded
 * random number generator, so every test is reproducible from its seed. */
#ifndef WEFT_TESTUTIL_H
#define WEFT_TESTUTIL_H

#include <stdint.h>
#include <stdlib.h>

#include "weft.h"

static inline uint64_t
tu_rand(uint64_t *s)
{
	/* splitmix64 */
	uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	return z ^ (z >> 31);
}

/* How much work the long tests do: WEFT_TEST_SCALE (default 1.0) scales
 * iteration counts down under sanitizers, up for soak runs. */
static inline double
tu_scale(void)
{
	const char *s = getenv("WEFT_TEST_SCALE");
	double v = s ? atof(s) : 1.0;
	return v > 0 ? v : 1.0;
}

/* The mixing function of random-DAG tests: order-sensitive, so a wrong
 * argument order or a missing input changes the result. */
static inline int64_t
tu_mix(int64_t h, int64_t x)
{
	uint64_t u = (uint64_t)h * 0x100000001B3ull ^ (uint64_t)x;
	return (int64_t)(u ^ (u >> 29));
}

#endif
