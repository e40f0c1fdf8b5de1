/*
 * Chase-Lev work-stealing deque (Lê, Pop, Cohen, Zappa Nardelli, "Correct
 * and Efficient Work-Stealing for Weak Memory Models", PPoPP 2013), in C11
 * atomics, growable, holding 64-bit words (the scheduler's jobs; 0 is a
 * valid item).
 *
 * Roles:
 * - One *owner* thread calls push() and pop() (LIFO at the bottom end), and
 *   init()/destroy() while no other thread can touch the deque.
 * - Any thread (*thief*) calls steal() (FIFO at the top end) and size().
 *
 * Memory: the ring grows by doubling when push() finds it full, and never
 * shrinks. A thief may still be reading a replaced ring, so replaced rings
 * stay allocated (chained through `prev`) until destroy(); together they
 * are smaller than the final ring. All memory comes from base/alloc.h.
 *
 * The struct is public so that a worker can embed it. It is cache-line
 * aligned (256 bytes): memory holding it must be 64-byte aligned, so a heap
 * allocated worker needs an aligned allocation, not plain malloc().
 */
#ifndef WEFT_SCHED_DEQUE_H
#define WEFT_SCHED_DEQUE_H

#include <stdbool.h>
#include <stdint.h>

#include "base/atomic.h"
#include "weft/errno.h"

/* steal() results. ABORT is not EMPTY: it means another thread won the
 * race for the top item, so a retry may succeed. Only EMPTY should count
 * towards going to sleep. */
enum {
	WEFT__STEAL_OK = 0,
	WEFT__STEAL_EMPTY = 1,
	WEFT__STEAL_ABORT = 2,
};

/* Default and hard upper bound of the ring's log2 capacity: 2^40 slots is
 * 8 TiB, far beyond any real allocation, so by default push() only fails
 * when the allocator does. */
#define WEFT__DEQUE_LOG2_MAX 40u

typedef struct weft__deque_buf weft__deque_buf;

/* One ring. Item i lives in slots[i & mask]. */
struct weft__deque_buf {
	int64_t mask;          /* capacity - 1; capacity is a power of two */
	unsigned log2;         /* log2(capacity) */
	weft__deque_buf *prev; /* the ring this one replaced; owner-private */
	/* _Atomic because a thief may read a slot the owner is writing (on
	 * wrap-around); all accesses are relaxed, ordering comes from
	 * top/bottom/buf. */
	_Atomic uint64_t slots[];
};

typedef struct weft__deque weft__deque;

/* Items are the indices [top, bottom). Indices are signed 64-bit and never
 * reset: bottom - 1 must be able to go below top (even to -1), and 2^63
 * increments rule out ABA on top. Each shared word has its own cache line
 * so that thieves polling top do not steal the owner's bottom line. */
struct weft__deque {
	WEFT_CACHE_ALIGNED _Atomic int64_t top;  /* CAS by thieves and owner */
	WEFT_CACHE_ALIGNED _Atomic int64_t bottom; /* written by owner only */
	WEFT_CACHE_ALIGNED _Atomic(weft__deque_buf *) buf; /* owner swaps */
	/* Owner-private from here on. */
	/* A value top had at some point (loaded with acquire), hence a lower
	 * bound of top: push() reloads top only when the ring looks full,
	 * sparing the owner a line transfer per push (Taskflow _cached_top). */
	WEFT_CACHE_ALIGNED int64_t top_cache;
	/* Growth stops at this log2 capacity and push() returns WEFT_ENOMEM.
	 * init() sets WEFT__DEQUE_LOG2_MAX; the owner may lower it before the
	 * first push to bound memory (tests do, to reach the full path). */
	unsigned log2_max;
};

/* Makes an empty deque with 2^log2_capacity slots (0 is allowed: one slot).
 * Returns WEFT_OK, or WEFT_ENOMEM (also when log2_capacity exceeds
 * WEFT__DEQUE_LOG2_MAX); on error destroy() is still safe to call. */
int weft__deque_init(weft__deque *d, unsigned log2_capacity);

/* Frees the ring and every replaced ring. Items still queued are dropped:
 * the caller drains first if they own resources. No other thread may use d
 * any more. NULL does nothing. */
void weft__deque_destroy(weft__deque *d);

/* push() when the ring looks full (deque.c): reloads top, grows the ring
 * if it is full indeed, then queues. */
int weft__deque_push_full(weft__deque *d, uint64_t item);

/* Owner only. Queues item at the bottom, growing the ring when full.
 * Returns WEFT_OK, or WEFT_ENOMEM when the ring cannot grow (allocation
 * failed or log2_max reached): the item is then NOT queued and the deque is
 * unchanged, so the caller must run it itself. Inline, like pop(): they
 * are on every spawn's path, and a call each was ~5% of a fib task. The
 * orders follow Le et al. (PPoPP 2013, fig. 1); deque.c has the rest. */
static inline int
weft__deque_push(weft__deque *d, uint64_t item)
{
	int64_t b = weft_atomic_load_relaxed(&d->bottom);
	weft__deque_buf *a = weft_atomic_load_relaxed(&d->buf);
	if (b - d->top_cache > a->mask)
		return weft__deque_push_full(d, item);
	weft_atomic_store_relaxed(&a->slots[b & a->mask], item);
	/* Release store, not the paper's release fence + relaxed store: both
	 * order the slot (and a new ring) before bottom, but TSan does not
	 * model fences and reports the job's payload as a race. */
	weft_atomic_store_release(&d->bottom, b + 1);
	return WEFT_OK;
}

/* Owner only. Takes the most recently pushed item (LIFO). Returns false,
 * leaving *item alone, when the deque is empty or a thief won the last
 * item. */
static inline bool
weft__deque_pop(weft__deque *d, uint64_t *item)
{
	int64_t b = weft_atomic_load_relaxed(&d->bottom);
	/* top >= top_cache, so this is surely empty: skip the fence (an idle
	 * owner polls its own deque often). */
	if (b <= d->top_cache)
		return false;
	b--;
	weft__deque_buf *a = weft_atomic_load_relaxed(&d->buf);
	weft_atomic_store_relaxed(&d->bottom, b);
	/* The bottom store must be visible before we read top, or a thief
	 * and this pop can both take item b (store->load reordering, which
	 * x86 does). Only a seq_cst fence orders a store before a load. */
	weft_atomic_fence_seq_cst();
	/* Acquire (the paper has relaxed) so that t may refresh top_cache,
	 * which push() relies on; it costs nothing on x86. */
	int64_t t = weft_atomic_load_acquire(&d->top);
	if (t > b) {
		/* Empty: thieves took everything. Undo the claim. */
		weft_atomic_store_relaxed(&d->bottom, b + 1);
		d->top_cache = t;
		return false;
	}
	uint64_t x = weft_atomic_load_relaxed(&a->slots[b & a->mask]);
	d->top_cache = t;
	if (t == b) {
		/* Last item: thieves may be taking it through top, so claim it
		 * the way they do. Win or lose, the deque is now empty at
		 * b + 1 and bottom returns there. */
		bool won = weft_atomic_cas_seq_cst(&d->top, &t, t + 1);
		weft_atomic_store_relaxed(&d->bottom, b + 1);
		if (!won)
			return false;
		/* Our successful CAS read top with acquire, so b + 1 is a
		 * valid bound. (On failure the new top was read relaxed and
		 * must not become top_cache.) */
		d->top_cache = b + 1;
	}
	*item = x;
	return true;
}


/* Any thread. Takes the oldest item (FIFO). Returns WEFT__STEAL_OK with
 * *item set, WEFT__STEAL_EMPTY, or WEFT__STEAL_ABORT (lost a race with
 * another thief or the owner; *item untouched; retrying may succeed). */
int weft__deque_steal(weft__deque *d, uint64_t *item);

/* Any thread. Number of queued items, approximate when other threads are
 * active (it may be stale by the time it returns); never negative. */
int64_t weft__deque_size(const weft__deque *d);

#endif
