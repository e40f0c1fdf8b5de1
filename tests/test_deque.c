/*
 * Tests of the Chase-Lev deque: single-thread semantics, growth, the
 * "cannot grow" path, and concurrent runs where every item must be taken
 * exactly once (per-item counters), including the last-item race between
 * pop() and steal() on a ring of two slots that wraps constantly.
 *
 * WEFT_DEQUE_N overrides the item count of the stress tests; under TSan it
 * defaults to a quarter so the suite stays within its timeout on two cores.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include <pthread.h>
#include <sched.h>

#include "sched/deque.h"
#include "weft/errno.h"

#if defined(__SANITIZE_THREAD__)
#define TEST_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define TEST_TSAN 1
#endif
#endif
#ifndef TEST_TSAN
#define TEST_TSAN 0
#endif

static uint64_t
scaled(uint64_t n)
{
	const char *env = getenv("WEFT_DEQUE_N");
	if (env && *env) {
		uint64_t v = strtoull(env, NULL, 10);
		if (v)
			return v;
	}
	return TEST_TSAN ? n / 4 : n;
}

static uint64_t
rng_next(uint64_t *s)
{
	/* xorshift64: cheap, and deterministic per seed. */
	uint64_t x = *s;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return *s = x;
}

static unsigned
buf_log2(weft__deque *d)
{
	return weft_atomic_load_relaxed(&d->buf)->log2;
}

/* ---- single thread ---------------------------------------------------- */

static void
test_init_destroy(void **state)
{
	(void)state;
	weft__deque d;
	assert_int_equal(weft__deque_init(&d, 0), WEFT_OK);
	assert_int_equal(buf_log2(&d), 0);
	assert_int_equal(weft__deque_size(&d), 0);
	weft__deque_destroy(&d);

	/* Too large is "no memory", and destroy() after a failed init is
	 * safe. */
	assert_int_equal(
	    weft__deque_init(&d, WEFT__DEQUE_LOG2_MAX + 1), WEFT_ENOMEM);
	weft__deque_destroy(&d);
	weft__deque_destroy(NULL);
}

static void
test_empty(void **state)
{
	(void)state;
	weft__deque d;
	uint64_t x = 777;
	assert_int_equal(weft__deque_init(&d, 3), WEFT_OK);
	assert_false(weft__deque_pop(&d, &x));
	assert_int_equal(weft__deque_steal(&d, &x), WEFT__STEAL_EMPTY);
	assert_int_equal(x, 777); /* untouched on failure */
	assert_int_equal(weft__deque_size(&d), 0);

	/* A steal leaves the owner's cached top stale, so this pop goes the
	 * slow way (fence, then sees top > bottom) and must restore bottom. */
	assert_int_equal(weft__deque_push(&d, 5), WEFT_OK);
	assert_int_equal(weft__deque_steal(&d, &x), WEFT__STEAL_OK);
	assert_int_equal(x, 5);
	x = 777;
	assert_false(weft__deque_pop(&d, &x));
	assert_false(weft__deque_pop(&d, &x));
	assert_int_equal(weft__deque_steal(&d, &x), WEFT__STEAL_EMPTY);
	assert_int_equal(x, 777);
	assert_int_equal(weft__deque_size(&d), 0);
	assert_int_equal(weft__deque_push(&d, 6), WEFT_OK);
	assert_int_equal(weft__deque_size(&d), 1);
	assert_true(weft__deque_pop(&d, &x));
	assert_int_equal(x, 6);
	assert_int_equal(weft__deque_size(&d), 0);
	weft__deque_destroy(&d);
}

static void
test_lifo(void **state)
{
	(void)state;
	weft__deque d;
	uint64_t x;
	assert_int_equal(weft__deque_init(&d, 8), WEFT_OK);
	for (uint64_t i = 0; i < 100; i++) /* 0 is a valid item */
		assert_int_equal(weft__deque_push(&d, i), WEFT_OK);
	assert_int_equal(weft__deque_size(&d), 100);
	for (uint64_t i = 100; i-- > 0;) {
		assert_true(weft__deque_pop(&d, &x));
		assert_int_equal(x, i);
	}
	assert_false(weft__deque_pop(&d, &x));
	assert_int_equal(weft__deque_size(&d), 0);
	weft__deque_destroy(&d);
}

static void
test_fifo(void **state)
{
	(void)state;
	weft__deque d;
	uint64_t x;
	assert_int_equal(weft__deque_init(&d, 8), WEFT_OK);
	for (uint64_t i = 0; i < 100; i++)
		assert_int_equal(weft__deque_push(&d, i), WEFT_OK);
	for (uint64_t i = 0; i < 100; i++) {
		assert_int_equal(weft__deque_steal(&d, &x), WEFT__STEAL_OK);
		assert_int_equal(x, i);
		assert_int_equal(weft__deque_size(&d), (int64_t)(99 - i));
	}
	assert_int_equal(weft__deque_steal(&d, &x), WEFT__STEAL_EMPTY);
	assert_false(weft__deque_pop(&d, &x));
	weft__deque_destroy(&d);
}

static void
test_both_ends(void **state)
{
	(void)state;
	weft__deque d;
	uint64_t x;
	const uint64_t big[] = {UINT64_MAX, UINT64_C(1) << 63, 0, 1};
	assert_int_equal(weft__deque_init(&d, 1), WEFT_OK);
	for (size_t i = 0; i < 4; i++)
		assert_int_equal(weft__deque_push(&d, big[i]), WEFT_OK);
	assert_true(weft__deque_pop(&d, &x));
	assert_int_equal(x, 1);
	assert_int_equal(weft__deque_steal(&d, &x), WEFT__STEAL_OK);
	assert_true(x == UINT64_MAX);
	assert_int_equal(weft__deque_steal(&d, &x), WEFT__STEAL_OK);
	assert_true(x == UINT64_C(1) << 63);
	assert_true(weft__deque_pop(&d, &x)); /* the last item, via CAS */
	assert_int_equal(x, 0);
	assert_false(weft__deque_pop(&d, &x));
	assert_int_equal(weft__deque_steal(&d, &x), WEFT__STEAL_EMPTY);
	weft__deque_destroy(&d);
}

static void
test_growth(void **state)
{
	(void)state;
	weft__deque d;
	uint64_t x;
	const uint64_t n = 100000;
	assert_int_equal(weft__deque_init(&d, 1), WEFT_OK);
	for (uint64_t i = 0; i < n; i++)
		assert_int_equal(weft__deque_push(&d, i * 3), WEFT_OK);
	assert_int_equal(weft__deque_size(&d), (int64_t)n);
	assert_int_equal(buf_log2(&d), 17); /* 2^17 >= 100000 > 2^16 */
	/* Every replaced ring is kept, one per doubling. */
	unsigned rings = 0;
	for (weft__deque_buf *a = weft_atomic_load_relaxed(&d.buf); a;
	     a = a->prev)
		rings++;
	assert_int_equal(rings, 17);
	for (uint64_t i = 0; i < n / 2; i++) {
		assert_int_equal(weft__deque_steal(&d, &x), WEFT__STEAL_OK);
		assert_int_equal(x, i * 3);
	}
	for (uint64_t i = n; i-- > n / 2;) {
		assert_true(weft__deque_pop(&d, &x));
		assert_int_equal(x, i * 3);
	}
	assert_false(weft__deque_pop(&d, &x));
	weft__deque_destroy(&d);
}

/* Growth while the live items wrap around the end of the ring: the copy
 * must follow indices, not slot positions. */
static void
test_growth_wrapped(void **state)
{
	(void)state;
	weft__deque d;
	uint64_t x;
	for (int round = 0; round < 2; round++) {
		assert_int_equal(weft__deque_init(&d, 2), WEFT_OK);
		for (uint64_t i = 0; i < 3; i++)
			assert_int_equal(weft__deque_push(&d, i), WEFT_OK);
		for (uint64_t i = 0; i < 2; i++) {
			assert_int_equal(
			    weft__deque_steal(&d, &x), WEFT__STEAL_OK);
			assert_int_equal(x, i);
		}
		/* Items 2..5 sit in slots 2,3,0,1: full. 6 forces growth. */
		for (uint64_t i = 3; i < 7; i++)
			assert_int_equal(weft__deque_push(&d, i), WEFT_OK);
		assert_int_equal(buf_log2(&d), 3);
		assert_int_equal(weft__deque_size(&d), 5);
		for (uint64_t i = 2; i < 7; i++) {
			if (round == 0) {
				assert_int_equal(
				    weft__deque_steal(&d, &x), WEFT__STEAL_OK);
				assert_int_equal(x, i);
			} else {
				assert_true(weft__deque_pop(&d, &x));
				assert_int_equal(x, 8 - i);
			}
		}
		assert_int_equal(weft__deque_size(&d), 0);
		weft__deque_destroy(&d);
	}
}

/* When the ring cannot grow, push() refuses the item and changes nothing. */
static void
test_cannot_grow(void **state)
{
	(void)state;
	weft__deque d;
	uint64_t x;
	assert_int_equal(weft__deque_init(&d, 1), WEFT_OK);
	d.log2_max = 2;
	for (uint64_t i = 0; i < 4; i++)
		assert_int_equal(weft__deque_push(&d, i), WEFT_OK);
	assert_int_equal(weft__deque_push(&d, 99), WEFT_ENOMEM);
	assert_int_equal(weft__deque_size(&d), 4);
	assert_int_equal(buf_log2(&d), 2);
	assert_true(weft__deque_pop(&d, &x));
	assert_int_equal(x, 3);
	assert_int_equal(weft__deque_push(&d, 4), WEFT_OK); /* room again */
	assert_int_equal(weft__deque_push(&d, 99), WEFT_ENOMEM);
	assert_int_equal(weft__deque_steal(&d, &x), WEFT__STEAL_OK);
	assert_int_equal(x, 0);
	assert_int_equal(weft__deque_push(&d, 5), WEFT_OK);
	const uint64_t rest[] = {5, 4, 2, 1};
	for (size_t i = 0; i < 4; i++) {
		assert_true(weft__deque_pop(&d, &x));
		assert_int_equal(x, rest[i]);
	}
	assert_false(weft__deque_pop(&d, &x));
	weft__deque_destroy(&d);

	/* One slot, no growth at all. */
	assert_int_equal(weft__deque_init(&d, 0), WEFT_OK);
	d.log2_max = 0;
	assert_int_equal(weft__deque_push(&d, 7), WEFT_OK);
	assert_int_equal(weft__deque_push(&d, 8), WEFT_ENOMEM);
	assert_true(weft__deque_pop(&d, &x));
	assert_int_equal(x, 7);
	assert_false(weft__deque_pop(&d, &x));
	weft__deque_destroy(&d);
}

/* ---- concurrency -------------------------------------------------------- */

#define MAX_THIEVES 3

struct stress {
	weft__deque d;
	uint64_t n;                  /* items are 0 .. n-1 */
	/* Plain (non-atomic) data the owner writes before pushing item i and
	 * the taker reads after: the deque must publish it, as a job's node
	 * data is published in the scheduler. TSan checks this too. */
	uint64_t *payload;
	_Atomic unsigned char *seen; /* times each item was taken */
	_Atomic uint64_t bad;        /* items out of range: garbage reads */
	_Atomic uint64_t negative;   /* size() < 0 seen */
	_Atomic int done;            /* owner drained its deque */
	_Atomic unsigned started;
};

struct thief {
	struct stress *s;
	pthread_t tid;
	uint64_t stolen;
	uint64_t aborts;
};

#define PAYLOAD(i) ((i) ^ UINT64_C(0x5DEECE66D))

static void
put(struct stress *s, uint64_t i)
{
	s->payload[i] = PAYLOAD(i);
	assert_int_equal(weft__deque_push(&s->d, i), WEFT_OK);
}

static void
take(struct stress *s, uint64_t x)
{
	if (x >= s->n || s->payload[x] != PAYLOAD(x))
		weft_atomic_add_relaxed(&s->bad, 1);
	else
		weft_atomic_add_relaxed(&s->seen[x], 1);
}

static void *
thief_main(void *arg)
{
	struct thief *th = arg;
	struct stress *s = th->s;
	unsigned idle = 0;
	uint64_t x, iter = 0;
	weft_atomic_add_relaxed(&s->started, 1);
	while (!weft_atomic_load_acquire(&s->done)) {
		int r = weft__deque_steal(&s->d, &x);
		if (r == WEFT__STEAL_OK) {
			take(s, x);
			th->stolen++;
			idle = 0;
		} else if (r == WEFT__STEAL_ABORT) {
			th->aborts++;
		} else if (++idle % 64 == 0) {
			/* With more threads than cores, give the owner the
			 * CPU instead of spinning through its time slice. */
			sched_yield();
		} else {
			weft_cpu_relax();
		}
		if (++iter % 64 == 0 && weft__deque_size(&s->d) < 0)
			weft_atomic_add_relaxed(&s->negative, 1);
	}
	/* The owner found its deque empty before setting done: anything
	 * stolen now would be an item taken twice, which the counters show. */
	while (weft__deque_steal(&s->d, &x) != WEFT__STEAL_EMPTY) {
		take(s, x);
		th->stolen++;
	}
	return NULL;
}

static void
stress_start(struct stress *s, struct thief *th, unsigned nthieves,
    uint64_t n, unsigned log2)
{
	s->n = n;
	s->seen = calloc(n, sizeof *s->seen);
	assert_non_null(s->seen);
	s->payload = malloc(n * sizeof *s->payload);
	assert_non_null(s->payload);
	atomic_init(&s->bad, 0);
	atomic_init(&s->negative, 0);
	atomic_init(&s->done, 0);
	atomic_init(&s->started, 0);
	assert_int_equal(weft__deque_init(&s->d, log2), WEFT_OK);
	for (unsigned i = 0; i < nthieves; i++) {
		th[i] = (struct thief){.s = s};
		assert_int_equal(
		    pthread_create(&th[i].tid, NULL, thief_main, &th[i]), 0);
	}
	/* Start pushing only once every thief is polling. */
	while (weft_atomic_load_relaxed(&s->started) < nthieves)
		sched_yield();
}

/* Joins the thieves and checks that each item was taken exactly once.
 * Returns the number of items stolen. */
static uint64_t
stress_finish(struct stress *s, struct thief *th, unsigned nthieves,
    uint64_t owner_taken)
{
	weft_atomic_store_release(&s->done, 1);
	uint64_t stolen = 0;
	for (unsigned i = 0; i < nthieves; i++) {
		assert_int_equal(pthread_join(th[i].tid, NULL), 0);
		stolen += th[i].stolen;
	}
	assert_int_equal(weft_atomic_load_relaxed(&s->bad), 0);
	assert_int_equal(weft_atomic_load_relaxed(&s->negative), 0);
	uint64_t missing = 0, twice = 0;
	for (uint64_t i = 0; i < s->n; i++) {
		unsigned c = weft_atomic_load_relaxed(&s->seen[i]);
		missing += c == 0;
		twice += c > 1;
	}
	if (missing || twice)
		print_error("n=%llu thieves=%u: %llu items lost, %llu taken "
			    "more than once\n",
		    (unsigned long long)s->n, nthieves,
		    (unsigned long long)missing, (unsigned long long)twice);
	assert_int_equal(missing, 0);
	assert_int_equal(twice, 0);
	assert_int_equal(owner_taken + stolen, s->n);
	if (getenv("WEFT_DEQUE_VERBOSE")) {
		uint64_t aborts = 0;
		for (unsigned i = 0; i < nthieves; i++)
			aborts += th[i].aborts;
		print_message("n=%llu thieves=%u: stolen %llu, aborts %llu, "
			      "ring 2^%u\n",
		    (unsigned long long)s->n, nthieves,
		    (unsigned long long)stolen, (unsigned long long)aborts,
		    buf_log2(&s->d));
	}
	assert_int_equal(weft__deque_size(&s->d), 0);
	weft__deque_destroy(&s->d);
	free(s->seen);
	free(s->payload);
	return stolen;
}

/* The owner pushes bursts (growing the ring from 2 slots while thieves
 * read it) and pops part of each burst back. */
static void
test_stress_grow(void **state)
{
	(void)state;
	static struct stress s; /* 64-byte aligned; too big for comfort on
				   the stack */
	struct thief th[MAX_THIEVES];
	const uint64_t n = scaled(2000000);
	uint64_t stolen_all = 0;
	uint64_t rng = 0x9E3779B97F4A7C15u;
	for (unsigned round = 0; round < 2 * MAX_THIEVES; round++) {
		unsigned nthieves = 1 + round % MAX_THIEVES;
		stress_start(&s, th, nthieves, n, 1);
		uint64_t next = 0, owner_taken = 0, x;
		while (next < n) {
			uint64_t r = rng_next(&rng);
			uint64_t burst = 1 + r % (r & 0xF00 ? 64 : 4096);
			for (uint64_t k = 0; k < burst && next < n; k++)
				put(&s, next++);
			uint64_t pops = (r >> 32) % (burst + 1);
			for (uint64_t k = 0; k < pops; k++) {
				if (!weft__deque_pop(&s.d, &x))
					break;
				take(&s, x);
				owner_taken++;
			}
		}
		/* The bursts must have made the ring grow under the thieves. */
		assert_true(buf_log2(&s.d) > 4);
		while (weft__deque_pop(&s.d, &x)) {
			take(&s, x);
			owner_taken++;
		}
		stolen_all += stress_finish(&s, th, nthieves, owner_taken);
	}
	/* Not a correctness property, but without steals the test above
	 * proved nothing about concurrency. */
	assert_true(stolen_all > 0);
}

/* The deque holds at most two items in a ring of two slots: every pop() of
 * a single item races the thieves for it through the CAS on top, and slots
 * are reused right after a steal, which catches a slot read after the
 * CAS instead of before it. */
static void
test_stress_last_item(void **state)
{
	(void)state;
	static struct stress s;
	struct thief th[MAX_THIEVES];
	const uint64_t n = scaled(1000000);
	uint64_t stolen_all = 0;
	uint64_t rng = 0xD1B54A32D192ED03u;
	for (unsigned round = 0; round < 4; round++) {
		unsigned nthieves = 1 + round % 2;
		stress_start(&s, th, nthieves, n, 1);
		uint64_t next = 0, owner_taken = 0, x;
		while (next < n) {
			/* push,pop  or  push,push,pop,pop */
			unsigned k = (rng_next(&rng) & 1) && next + 1 < n ? 2 : 1;
			for (unsigned i = 0; i < k; i++)
				put(&s, next++);
			for (unsigned i = 0; i < k; i++) {
				if (weft__deque_pop(&s.d, &x)) {
					take(&s, x);
					owner_taken++;
				}
			}
		}
		assert_int_equal(buf_log2(&s.d), 1); /* never grew */
		stolen_all += stress_finish(&s, th, nthieves, owner_taken);
	}
	assert_true(stolen_all > 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_init_destroy),
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_lifo),
		cmocka_unit_test(test_fifo),
		cmocka_unit_test(test_both_ends),
		cmocka_unit_test(test_growth),
		cmocka_unit_test(test_growth_wrapped),
		cmocka_unit_test(test_cannot_grow),
		cmocka_unit_test(test_stress_grow),
		cmocka_unit_test(test_stress_last_item),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
