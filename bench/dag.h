/*
 * The seeded random DAG of the `random` shape: one generator, shared by
 * every program of the suite (C, C++, and Dask through the body library and
 * ctypes), so that every runtime runs exactly the same graph.
 *
 * Node 0 is the only root. Node i > 0 has a fan-in k drawn uniformly in
 * 1..4 (at most i), and k distinct predecessors drawn uniformly from the
 * BENCH_DAG_WINDOW nodes before it. The window keeps the graph realistic:
 * values flow to nearby nodes, as in a pipeline, so a runtime that frees
 * intermediates can, while the graph still has ample parallelism (for
 * n = 1,000,000: 2,499,762 edges and a longest path of 5,868 nodes, i.e.
 * about 170 nodes per level).
 *
 * The predecessors of node i are pred[off[i] .. off[i+1]).
 */
#ifndef WEFT_BENCH_DAG_H
#define WEFT_BENCH_DAG_H

#include <stddef.h>
#include <stdint.h>

#define BENCH_DAG_WINDOW 1024u
#define BENCH_DAG_MAX_FANIN 4u
#define BENCH_DAG_SEED UINT64_C(0x5745465442454e43) /* "WEFTBENC" */

static inline uint64_t
bench_splitmix64(uint64_t *state)
{
	uint64_t z = (*state += UINT64_C(0x9E3779B97F4A7C15));
	z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
	return z ^ (z >> 31);
}

/*
 * Fills off[0..n] and pred[0..off[n]) (pred must hold 4 * n entries) and
 * returns the number of edges, off[n]. Deterministic for (n, seed).
 */
static inline size_t
bench_dag_fill(size_t n, uint64_t seed, uint32_t *off, uint32_t *pred)
{
	uint64_t s = seed;
	size_t e = 0;

	for (size_t i = 0; i < n; i++) {
		off[i] = (uint32_t)e;
		if (i == 0)
			continue;
		size_t k = 1 + (size_t)(bench_splitmix64(&s) % BENCH_DAG_MAX_FANIN);
		size_t w = i < BENCH_DAG_WINDOW ? i : BENCH_DAG_WINDOW;
		if (k > w)
			k = w;
		for (size_t j = 0; j < k; j++) {
			uint32_t p;
			int dup;
			do { /* distinct predecessors: redraw a repeat */
				p = (uint32_t)(i - 1 -
				    (size_t)(bench_splitmix64(&s) % w));
				dup = 0;
				for (size_t q = off[i]; q < e; q++)
					dup |= pred[q] == p;
			} while (dup);
			pred[e++] = p;
		}
	}
	off[n] = (uint32_t)e;
	return e;
}

#endif
