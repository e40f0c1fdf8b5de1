/*
 * Single-thread cost of the Chase-Lev deque, to compare with the floors in
 * SCHEDULER.md section 1 (push 0.84, push+take 2.10 non-empty / 4.44 one
 * item (CAS path) / 2.59 batched, push+steal 5.22 ns).
 *
 * Built by meson as BUILD/bench/deque-bench (internal API; bench/run does
 * not run it).
 * Prints the median of 11 timed loops per case, in ns per operation pair.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "sched/deque.h"
#include "weft/errno.h"

#define LOOPS 11
#define ITERS 2000000
#define BATCH 1024

static weft__deque d; /* static: the struct needs 64-byte alignment */
static volatile uint64_t sink;

static double
now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* One item in the deque at a time: every pop takes the last-item CAS. */
static void
one_item(void)
{
	uint64_t x, acc = 0;
	for (uint64_t i = 0; i < ITERS; i++) {
		(void)weft__deque_push(&d, i);
		if (weft__deque_pop(&d, &x))
			acc += x;
	}
	sink = acc;
}

/* A resident item keeps the deque non-empty: pops skip the CAS. */
static void
non_empty(void)
{
	uint64_t x, acc = 0;
	for (uint64_t i = 0; i < ITERS; i++) {
		(void)weft__deque_push(&d, i);
		if (weft__deque_pop(&d, &x))
			acc += x;
	}
	sink = acc;
}

static void
batched(void)
{
	uint64_t x, acc = 0;
	for (uint64_t i = 0; i < ITERS / BATCH; i++) {
		for (uint64_t k = 0; k < BATCH; k++)
			(void)weft__deque_push(&d, k);
		for (uint64_t k = 0; k < BATCH; k++)
			if (weft__deque_pop(&d, &x))
				acc += x;
	}
	sink = acc;
}

static void
push_steal(void)
{
	uint64_t x, acc = 0;
	for (uint64_t i = 0; i < ITERS; i++) {
		(void)weft__deque_push(&d, i);
		if (weft__deque_steal(&d, &x) == WEFT__STEAL_OK)
			acc += x;
	}
	sink = acc;
}

static void
run(const char *name, void (*fn)(void), uint64_t ops, int resident)
{
	double t[LOOPS];
	uint64_t x;
	if (weft__deque_init(&d, 12) != WEFT_OK) {
		fprintf(stderr, "deque_bench: out of memory\n");
		exit(1);
	}
	if (resident)
		(void)weft__deque_push(&d, 0);
	fn(); /* warm-up */
	for (int i = 0; i < LOOPS; i++) {
		double t0 = now_ns();
		fn();
		t[i] = (now_ns() - t0) / (double)ops;
	}
	while (weft__deque_pop(&d, &x))
		;
	weft__deque_destroy(&d);
	qsort(t, LOOPS, sizeof t[0], cmp_double);
	printf("%-34s %6.2f ns  [%.2f - %.2f]\n", name, t[LOOPS / 2], t[0],
	    t[LOOPS - 1]);
}

int
main(void)
{
	run("push+pop, 1 item (CAS path)", one_item, ITERS, 0);
	run("push+pop, deque non-empty", non_empty, ITERS, 1);
	run("push+pop, batches of 1024", batched,
	    (uint64_t)(ITERS / BATCH) * BATCH, 0);
	run("push+steal, same thread", push_steal, ITERS, 0);
	return 0;
}
