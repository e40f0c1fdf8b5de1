/*
 * The partition logic alone, without MPI running: plans of random graphs
 * for 1 to 8 simulated ranks. Checks that every needed node gets an owner
 * in range, that chains never split, that chain heads are dealt out
 * evenly, that planning is deterministic, and that the cross-rank check
 * (the plan's hash) sees a changed literal, owner or target.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mpi/mpi_int.h"

static int failures;

#define CHECK(c, ...)                                                         \
	do {                                                                  \
		if (!(c)) {                                                   \
			fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__,         \
			    __LINE__, #c);                                    \
			fprintf(stderr, __VA_ARGS__);                         \
			fputc('\n', stderr);                                  \
			failures++;                                           \
		}                                                             \
	} while (0)

static uint64_t rng;

static uint64_t
rnd(uint64_t n)
{
	rng += 0x9e3779b97f4a7c15ull;
	uint64_t x = rng;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	x ^= x >> 31;
	return n ? x % n : 0;
}

static int
f(weft_ctx *c, size_t n, const weft_value *a, weft_value *out)
{
	(void)c;
	(void)n;
	(void)a;
	*out = weft_nil();
	return WEFT_OK;
}

/* A context that is never started: the plan only reads its size. */
static weft_mpi *
fake(int size)
{
	weft_mpi *m = calloc(1, sizeof(*m));
	m->size = size;
	m->comm = MPI_COMM_NULL;
	return m;
}

static weft_mpi_graph *
random_graph(weft_mpi *m, uint64_t seed, size_t nn, int explicit_owners)
{
	weft_mpi_graph *g = weft_mpi_graph_new(m);
	weft_node *n = calloc(nn, sizeof(*n));

	rng = seed;
	for (size_t i = 0; i < nn; i++) {
		weft_arg a[4];
		size_t na = rnd(4);
		for (size_t k = 0; k < na; k++)
			a[k] = i && rnd(5) ? weft_ref(n[i - 1 - rnd(i < 4 ? i : 4)])
					   : weft_lit(weft_int((int64_t)rnd(9)));
		n[i] = weft_mpi_delayed(g, f, na, a);
		if (explicit_owners && rnd(5) == 0)
			weft_mpi_set_owner(g, n[i], (int)rnd((uint64_t)m->size));
	}
	free(n);
	return g;
}

static int
explicit_owner(const weft_mpi_graph *g, uint32_t i)
{
	return i < g->nown ? g->owner[i] : -1;
}

static void
check_plan(weft_mpi_graph *g, int nranks, int explicit_owners,
    const char *what)
{
	weft_node t = wm_node_of(g, (uint32_t)weft_mpi_graph_size(g) - 1);
	wm_plan p, q;
	char err[256];
	size_t cross = 0, *heads = calloc((size_t)nranks, sizeof(size_t));
	int rc = wm_plan_build(g, 1, &t, nranks, 0, NULL, &p, err, sizeof(err));

	CHECK(rc == WEFT_OK, "%s: %s", what, err);
	rc = wm_plan_build(g, 1, &t, nranks, 0, NULL, &q, err, sizeof(err));
	CHECK(rc == WEFT_OK && p.hash == q.hash && p.nneed == q.nneed &&
		memcmp(p.need, q.need, p.nneed * sizeof(*p.need)) == 0,
	    "%s: plans differ", what);
	for (size_t k = 0; k < p.nneed; k++) {
		uint32_t i = p.need[k], nin = p.in_off[i + 1] - p.in_off[i];
		int ow = p.owner[i];
		CHECK(ow >= 0 && ow < nranks, "%s: owner %d", what, ow);
		CHECK(ow == q.owner[i], "%s: owners not deterministic", what);
		if (explicit_owner(g, i) >= 0) {
			CHECK(ow == explicit_owner(g, i), "%s: explicit owner", what);
			continue;
		}
		/* a chain link: the only input, consumed only here */
		if (nin == 1) {
			uint32_t in = p.in[p.in_off[i]];
			if (p.out_off[in + 1] - p.out_off[in] == 1)
				CHECK(ow == p.owner[in],
				    "%s: chain split at node %u", what, i);
			else
				heads[ow]++;
		} else if (nin == 0) {
			heads[ow]++;
		}
		for (uint32_t a = p.in_off[i]; a < p.in_off[i + 1]; a++)
			cross += p.owner[p.in[a]] != ow;
	}
	for (size_t k = 0; k < p.nneed; k++) {
		uint32_t i = p.need[k];
		if (explicit_owner(g, i) < 0)
			continue;
		for (uint32_t a = p.in_off[i]; a < p.in_off[i + 1]; a++)
			cross += p.owner[p.in[a]] != p.owner[i];
	}
	CHECK(cross == p.cross_edges, "%s: cross %zu vs %zu", what, cross,
	    p.cross_edges);
	if (!explicit_owners) {
		size_t lo = (size_t)-1, hi = 0;
		for (int r = 0; r < nranks; r++) {
			lo = heads[r] < lo ? heads[r] : lo;
			hi = heads[r] > hi ? heads[r] : hi;
		}
		CHECK(hi - lo <= 1, "%s: chain heads %zu to %zu per rank", what,
		    lo, hi);
	}
	free(heads);
	wm_plan_free(&p);
	wm_plan_free(&q);
}

/* 3000 chains of 4 and a sum: 1000 chains per rank of 3, none split, and
 * only the chain ends cross (to the sum). */
static void
test_map_reduce(void)
{
	weft_mpi *m = fake(3);
	weft_mpi_graph *g = weft_mpi_graph_new(m);
	weft_arg *ends = calloc(3001, sizeof(*ends));
	weft_node t;
	wm_plan p;
	char err[256];
	size_t per[3] = { 0, 0, 0 };

	for (int i = 0; i < 3000; i++) {
		weft_node x = WEFT_MPI_DELAYED(g, f, weft_lit(weft_int(i)));
		for (int k = 0; k < 3; k++)
			x = WEFT_MPI_DELAYED(g, f, weft_ref(x));
		ends[i] = weft_ref(x);
	}
	t = weft_mpi_delayed(g, f, 3000, ends);
	CHECK(wm_plan_build(g, 1, &t, 3, 0, NULL, &p, err, sizeof(err)) ==
		WEFT_OK,
	    "%s", err);
	for (uint32_t i = 0; i < 12000; i++)
		per[p.owner[i]]++;
	CHECK(per[0] == 4000 && per[1] == 4000 && per[2] == 4000,
	    "nodes per rank %zu %zu %zu", per[0], per[1], per[2]);
	CHECK(p.cross_edges == 2000, "cross edges %zu", p.cross_edges);
	wm_plan_free(&p);
	free(ends);
	weft_mpi_graph_free(g);
	free(m);
}

/* The hash sees what must be the same everywhere. */
static void
test_hash(void)
{
	weft_mpi *m = fake(4);
	uint64_t h[5];
	char err[256];

	for (int v = 0; v < 5; v++) {
		weft_mpi_graph *g = weft_mpi_graph_new(m);
		weft_node a = WEFT_MPI_DELAYED(
		    g, f, weft_lit(weft_float(v == 1 ? 2.5 : 1.5)));
		weft_node b = WEFT_MPI_DELAYED_NAMED(
		    g, v == 2 ? "bee" : "b", f, weft_ref(a));
		weft_node c = WEFT_MPI_DELAYED(g, f, weft_ref(a), weft_ref(b));
		wm_plan p;
		if (v == 3)
			weft_mpi_set_owner(g, b, 3);
		weft_node t = v == 4 ? b : c;
		CHECK(wm_plan_build(g, 1, &t, 4, 0, NULL, &p, err,
			  sizeof(err)) == WEFT_OK,
		    "%s", err);
		h[v] = p.hash;
		wm_plan_free(&p);
		weft_mpi_graph_free(g);
	}
	for (int i = 0; i < 5; i++)
		for (int j = i + 1; j < 5; j++)
			CHECK(h[i] != h[j], "variants %d and %d hash alike", i,
			    j);
	free(m);
}

static int
bad_hook(void *ud, const char *key, weft_node n, int nr)
{
	(void)ud;
	(void)key;
	(void)n;
	return nr; /* out of range */
}

int
main(void)
{
	for (int nr = 1; nr <= 8; nr++) {
		weft_mpi *m = fake(nr);
		for (uint64_t seed = 1; seed <= 40; seed++) {
			char what[64];
			weft_mpi_graph *g = random_graph(
			    m, seed * 977 + (uint64_t)nr, 1 + seed * 7, seed & 1);
			snprintf(what, sizeof(what), "ranks %d seed %llu", nr,
			    (unsigned long long)seed);
			check_plan(g, nr, (int)(seed & 1), what);
			weft_mpi_graph_free(g);
		}
		free(m);
	}
	test_map_reduce();
	test_hash();
	{
		weft_mpi *m = fake(2);
		weft_mpi_graph *g = weft_mpi_graph_new(m);
		weft_node a = WEFT_MPI_DELAYED(g, f);
		weft_mpi_compute_opts o = { 0 };
		wm_plan p;
		char err[256];
		o.rank_of = bad_hook;
		CHECK(wm_plan_build(g, 1, &a, 2, 0, &o, &p, err, sizeof(err)) ==
			WEFT_EINVAL,
		    "hook out of range");
		CHECK(strstr(err, "rank_of gave rank 2 for node 'node-0'"),
		    "%s", err);
		wm_plan_free(&p);
		weft_mpi_graph_free(g);
		free(m);
	}
	if (failures)
		fprintf(stderr, "%d failure(s)\n", failures);
	else
		printf("ok: plans of 320 random graphs on 1 to 8 simulated "
		       "ranks, a map-reduce, the hash\n");
	return failures != 0;
}
