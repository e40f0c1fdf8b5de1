/*
 * The task bodies, alone in their translation unit so that no program can
 * inline them: every task of every runtime pays one real call, as user code
 * would. Built into a static library for the C/C++ programs and into a
 * shared one that the Dask program loads with ctypes (ctypes releases the
 * GIL during the call, so even Dask's threads run them in parallel).
 */
#include "bench.h"
#include "dag.h"

#define NOINLINE __attribute__((noinline))

static inline uint64_t
rotl1(uint64_t x)
{
	return (x << 1) | (x >> 63);
}

NOINLINE uint64_t
bench_leaf(uint64_t i)
{
	return (i + 1) * UINT64_C(0x9E3779B97F4A7C15);
}

NOINLINE uint64_t
bench_step(uint64_t x)
{
	return x * BENCH_LCG_A + BENCH_LCG_C;
}

/* Not commutative, so a swapped or missing input changes the result. */
NOINLINE uint64_t
bench_join(uint64_t a, uint64_t b)
{
	return rotl1(a) + b + 1;
}

NOINLINE uint64_t
bench_rnode(uint64_t i, size_t k, const uint64_t *vals)
{
	uint64_t h = (i + 1) * UINT64_C(0x9E3779B97F4A7C15);

	for (size_t j = 0; j < k; j++)
		h = rotl1(h) + vals[j] + 1;
	return h;
}

/* A dependent multiply-add chain: the compiler can neither vectorize it
 * nor replace it by a closed form (the check uses one: common.c). */
NOINLINE uint64_t
bench_coarse(uint64_t i)
{
	uint64_t x = i;

	for (unsigned k = 0; k < BENCH_COARSE_ITERS; k++)
		x = x * BENCH_LCG_A + BENCH_LCG_C;
	return x;
}

NOINLINE uint64_t
bench_fib_leaf(uint64_t n)
{
	return n;
}

NOINLINE uint64_t
bench_add(uint64_t a, uint64_t b)
{
	return a + b;
}

size_t
bench_dag(size_t n, uint64_t seed, uint32_t *off, uint32_t *pred)
{
	return bench_dag_fill(n, seed, off, pred);
}
