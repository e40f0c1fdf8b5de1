/*
 * bench_mpi: what running across ranks costs and gains.
 *
 *   mpiexec -n 3 bench_mpi [--tasks N] [--task-us US]
 *
 * 1. coarse: 30 chains of N/30 tasks of US microseconds of CPU work each,
 *    with a cross link between neighbour chains every 10 steps, then a
 *    sum: on all ranks (weft_mpi_compute) and in one process (rank 0,
 *    weft_compute on its pool), with messages and bytes per cross edge.
 * 2. overhead: 30000 empty tasks in 30 chains -- in one process, on
 *    all ranks, and on all ranks with every node owned by rank 0 (the
 *    distributed path without a single message): the cost per task.
 * 3. latency: a chain of 300 empty tasks hopping rank to rank.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "weft.h"
#include "weft/mpi.h"

static int rank, nranks;
static weft_mpi *M;

static double
now(void)
{
	return MPI_Wtime();
}

/* Iterations of the work loop per microsecond, measured on rank 0. */
static double iters_per_us = 100;

static uint64_t
spin(uint64_t acc, uint64_t iters)
{
	/* a dependent chain of multiplies: CPU work the compiler cannot
	 * skip, the same result on every rank */
	for (uint64_t k = 0; k < iters; k++)
		acc = acc * 6364136223846793005ull + 1442695040888963407ull;
	return acc;
}

/* CPU work of a[0] microseconds, as a fixed number of iterations (not a
 * clock: an oversubscribed core must make it slower, not shorter). */
static int
f_work(weft_ctx *c, size_t n, const weft_value *a, weft_value *out)
{
	uint64_t acc = 0;
	(void)c;
	for (size_t i = 1; i < n; i++)
		acc += (uint64_t)weft_as_int(a[i]);
	acc = spin(acc, (uint64_t)((double)weft_as_int(a[0]) * iters_per_us));
	*out = weft_int((int64_t)(acc & 0xffff));
	return WEFT_OK;
}

static void quiet_barrier(void);

/* On rank 0 alone (the others sleep), best of three. */
static void
calibrate(void)
{
	quiet_barrier();
	if (rank == 0) {
		double best = 1e30;
		for (int k = 0; k < 3; k++) {
			double t = now();
			volatile uint64_t sink = spin((uint64_t)k, 20000000);
			(void)sink;
			t = now() - t;
			best = t < best ? t : best;
		}
		iters_per_us = 20000000 / (best * 1e6);
	}
	MPI_Bcast(&iters_per_us, 1, MPI_DOUBLE, 0, MPI_COMM_WORLD);
}

/* A barrier that sleeps rather than spins (Open MPI's spins), so the
 * single-process runs have the machine to themselves. */
static void
quiet_barrier(void)
{
	MPI_Request q;
	int done = 0;
	MPI_Ibarrier(MPI_COMM_WORLD, &q);
	for (;;) {
		MPI_Test(&q, &done, MPI_STATUS_IGNORE);
		if (done)
			return;
		struct timespec ts = { 0, 1000000 };
		nanosleep(&ts, NULL);
	}
}

static int
f_empty(weft_ctx *c, size_t n, const weft_value *a, weft_value *out)
{
	int64_t s = 1;
	(void)c;
	for (size_t i = 0; i < n; i++)
		s += weft_as_int(a[i]);
	*out = weft_int(s);
	return WEFT_OK;
}

typedef struct {
	weft_graph *g1;
	weft_mpi_graph *g;
	weft_node t1, t;
} pair;

/* 30 chains; step j of chain i also takes chain i+1's step j-1 when
 * j % every == 0 (0: never). fn(us, inputs...). */
static void
build_chains(pair *p, size_t ntasks, int64_t us, size_t every, int one_rank)
{
	size_t nch = 30, len = ntasks / nch;
	weft_node *prev1 = calloc(nch, sizeof(weft_node)),
		  *prev = calloc(nch, sizeof(weft_node)),
		  *cur1 = calloc(nch, sizeof(weft_node)),
		  *cur = calloc(nch, sizeof(weft_node));
	weft_arg a1[3], a2[3], *s1, *s2;
	weft_fn fn = us > 0 ? f_work : f_empty;

	p->g1 = weft_graph_new();
	p->g = weft_mpi_graph_new(M);
	for (size_t j = 0; j < len; j++) {
		for (size_t i = 0; i < nch; i++) {
			size_t na = 0;
			a1[na] = weft_lit(weft_int(us));
			a2[na++] = weft_lit(weft_int(us));
			if (j > 0) {
				a1[na] = weft_ref(prev1[i]);
				a2[na++] = weft_ref(prev[i]);
			}
			if (j > 0 && every && j % every == 0) {
				a1[na] = weft_ref(prev1[(i + 1) % nch]);
				a2[na++] = weft_ref(prev[(i + 1) % nch]);
			}
			cur1[i] = weft_delayed(p->g1, fn, na, a1);
			cur[i] = weft_mpi_delayed(p->g, fn, na, a2);
			/* chains i*nranks/nch: 10 per rank, neighbours together */
			weft_mpi_set_owner(p->g, cur[i],
			    one_rank ? 0 : (int)(i * (size_t)nranks / nch));
		}
		memcpy(prev1, cur1, nch * sizeof(weft_node));
		memcpy(prev, cur, nch * sizeof(weft_node));
	}
	s1 = calloc(nch + 1, sizeof(weft_arg));
	s2 = calloc(nch + 1, sizeof(weft_arg));
	s1[0] = weft_lit(weft_int(0));
	s2[0] = weft_lit(weft_int(0));
	for (size_t i = 0; i < nch; i++) {
		s1[i + 1] = weft_ref(prev1[i]);
		s2[i + 1] = weft_ref(prev[i]);
	}
	p->t1 = weft_delayed(p->g1, f_empty, nch + 1, s1);
	p->t = weft_mpi_delayed(p->g, f_empty, nch + 1, s2);
	if (one_rank)
		weft_mpi_set_owner(p->g, p->t, 0);
	free(s1);
	free(s2);
	free(prev1);
	free(prev);
	free(cur1);
	free(cur);
}

static void
pair_free(pair *p)
{
	weft_graph_free(p->g1);
	weft_mpi_graph_free(p->g);
}

/* Best of `reps`: one process (on rank 0; the others wait) and all
 * ranks. */
static weft_pool *whole; /* rank 0: a pool over every core it may use */

static void
time_pair(pair *p, int reps, double *t1, double *tn, weft_mpi_stats *st)
{
	weft_opts o = { 0 };
	weft_value r1 = weft_nil(), r = weft_nil();

	o.pool = whole;
	*t1 = *tn = 1e30;
	for (int k = 0; k < reps; k++) {
		double t;
		quiet_barrier();
		if (rank == 0) {
			t = now();
			weft_compute(p->g1, 1, &p->t1, &r1, &o);
			t = now() - t;
			if (t < *t1)
				*t1 = t;
		}
		quiet_barrier();
		t = now();
		if (weft_mpi_compute(p->g, 1, &p->t, &r, NULL) != WEFT_OK &&
		    rank == 0)
			fprintf(stderr, "bench: %s\n", weft_mpi_graph_error(p->g));
		t = now() - t;
		if (t < *tn)
			*tn = t;
		if (rank == 0 && !weft_value_equal(r, r1))
			fprintf(stderr,
			    "bench: results differ! %s %lld vs %s %lld\n",
			    weft_type_name(weft_type_of(r)),
			    (long long)weft_as_int(r),
			    weft_type_name(weft_type_of(r1)),
			    (long long)weft_as_int(r1));
		weft_value_release(&r);
		weft_value_release(&r1);
	}
	weft_mpi_stats_get(p->g, st);
}

/* Sums a figure over the ranks, onto rank 0. */
static size_t
total(size_t v)
{
	unsigned long long x = v, s = 0;
	MPI_Reduce(&x, &s, 1, MPI_UNSIGNED_LONG_LONG, MPI_SUM, 0,
	    MPI_COMM_WORLD);
	return (size_t)s;
}

int
main(int argc, char **argv)
{
	size_t ntasks = 3000;
	int64_t us = 1000;
	pair p;
	double t1, tn, t1b, tno;
	weft_mpi_stats st;
	int provided;

	MPI_Init_thread(&argc, &argv, MPI_THREAD_MULTIPLE, &provided);
	MPI_Comm_rank(MPI_COMM_WORLD, &rank);
	MPI_Comm_size(MPI_COMM_WORLD, &nranks);
	for (int i = 1; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "--tasks") == 0)
			ntasks = (size_t)atol(argv[i + 1]);
		else if (strcmp(argv[i], "--task-us") == 0)
			us = atol(argv[i + 1]);
	}
	if (ntasks < 30)
		ntasks = 30;
	if (weft_mpi_init(&argc, &argv, NULL, &M) != WEFT_OK) {
		fprintf(stderr, "bench: %s\n", weft_mpi_error(M));
		weft_mpi_finalize(M);
		MPI_Finalize();
		return 1;
	}
	calibrate();
	if (rank == 0)
		whole = weft_pool_new(NULL);
	{
		unsigned th = weft_pool_threads(weft_mpi_pool(M));
		size_t all = total(th);
		if (rank == 0)
			printf("bench_mpi: %d ranks, %zu worker threads in all "
			       "(%u on rank 0); one process: %u threads\n",
			    nranks, all, th, weft_pool_threads(whole));
	}

	/* 1. coarse */
	build_chains(&p, ntasks, us, 10, 0);
	time_pair(&p, 2, &t1, &tn, &st);
	{
		size_t msgs = total(st.msgs_sent), bytes = total(st.bytes_sent);
		double starved = 0;
		MPI_Reduce(&st.starved, &starved, 1, MPI_DOUBLE, MPI_SUM, 0,
		    MPI_COMM_WORLD);
		if (rank == 0)
			printf("coarse: ranks starved (waiting for values with "
			       "nothing to run) %.3f s in all, %.0f%% of the "
			       "run\n",
			    starved, 100 * starved / (tn * nranks));
		if (rank == 0) {
			printf("coarse: %zu tasks (%.2f ms of CPU each, "
			       "measured), %zu cross-rank edges: one process "
			       "(%u threads) %.3f s, %d ranks %.3f s (x%.2f)\n",
			    st.nodes,
			    t1 * 1e3 * weft_pool_threads(whole) /
				(double)st.nodes,
			    st.cross_edges, weft_pool_threads(whole), t1,
			    nranks, tn, t1 / tn);
			printf("coarse: %zu values sent, %zu bytes, %.1f bytes "
			       "per cross edge (value + 48-byte header)\n",
			    msgs, bytes,
			    st.cross_edges ? (double)bytes /
				    (double)st.cross_edges
					   : 0.0);
		}
	}
	pair_free(&p);

	/* 2. overhead of the distributed path, per task */
	build_chains(&p, 30000, 0, 0, 0);
	time_pair(&p, 3, &t1, &tn, &st);
	pair_free(&p);
	build_chains(&p, 30000, 0, 0, 1);
	time_pair(&p, 3, &t1b, &tno, &st);
	pair_free(&p);
	(void)t1b;
	if (rank == 0) {
		printf("overhead: 30000 empty tasks in chains of 1000: 1 process "
		       "%.1f ms (%.0f ns/task); %d ranks %.1f ms; all owned by "
		       "rank 0 %.1f ms (%.0f ns/task, +%.0f ns/task for the "
		       "distributed path)\n",
		    t1 * 1e3, t1 * 1e9 / 30000, nranks, tn * 1e3, tno * 1e3,
		    tno * 1e9 / 30000, (tno - t1) * 1e9 / 30000);
	}

	/* 3. latency: a chain hopping ranks */
	{
		weft_mpi_graph *g = weft_mpi_graph_new(M);
		weft_node prev = WEFT_MPI_DELAYED(g, f_empty);
		weft_value r;
		double best = 1e30;
		int hops = 300;
		weft_mpi_set_owner(g, prev, 0);
		for (int i = 1; i < hops; i++) {
			weft_node x = WEFT_MPI_DELAYED(g, f_empty, weft_ref(prev));
			weft_mpi_set_owner(g, x, i % nranks);
			prev = x;
		}
		for (int k = 0; k < 3; k++) {
			double t;
			MPI_Barrier(MPI_COMM_WORLD);
			t = now();
			weft_mpi_compute(g, 1, &prev, &r, NULL);
			t = now() - t;
			weft_value_release(&r);
			if (t < best)
				best = t;
		}
		if (rank == 0)
			printf("latency: a chain of %d tasks changing rank at "
			       "every step: %.1f ms, %.0f us per hop\n",
			    hops, best * 1e3, best * 1e6 / hops);
		weft_mpi_graph_free(g);
	}
	weft_pool_free(whole);
	weft_mpi_finalize(M);
	MPI_Finalize();
	return 0;
}
