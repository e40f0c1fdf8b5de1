/*
 * Chase-Lev deque, following the C11 version of Lê et al. (PPoPP 2013,
 * fig. 1). The orders below are theirs except where a comment says why we
 * differ; /work/shared/SCHEDULER.md section 5 lists the traps each one
 * avoids.
 */
#include "sched/deque.h"

#include <stddef.h>

#include "base/alloc.h"
#include "weft/errno.h"

/* Indices and slots must be real lock-free atomics, or a thief could block
 * the owner on a hidden lock (and the PPoPP proof would not apply). */
#if ATOMIC_LLONG_LOCK_FREE != 2 && ATOMIC_LONG_LOCK_FREE != 2
#error "weft needs lock-free 64-bit atomics"
#endif

/* A ring of 2^log2 slots, or NULL when that does not fit in size_t or the
 * allocator fails. Slots are left uninitialized: a slot is only ever read
 * at an index in [top, bottom), and each of those was stored first. */
static weft__deque_buf *
deque_buf_new(unsigned log2, weft__deque_buf *prev)
{
	if (log2 > WEFT__DEQUE_LOG2_MAX || log2 >= sizeof(size_t) * 8 - 4)
		return NULL;
	size_t cap = (size_t)1 << log2;
	size_t head = offsetof(weft__deque_buf, slots);
	if (cap > (SIZE_MAX - head) / sizeof(_Atomic uint64_t))
		return NULL;
	weft__deque_buf *a =
	    weft__malloc(head + cap * sizeof(_Atomic uint64_t));
	if (!a)
		return NULL;
	a->mask = (int64_t)cap - 1;
	a->log2 = log2;
	a->prev = prev;
	return a;
}

int
weft__deque_init(weft__deque *d, unsigned log2_capacity)
{
	atomic_init(&d->top, 0);
	atomic_init(&d->bottom, 0);
	d->top_cache = 0;
	d->log2_max = WEFT__DEQUE_LOG2_MAX;
	weft__deque_buf *a = deque_buf_new(log2_capacity, NULL);
	atomic_init(&d->buf, a);
	return a ? WEFT_OK : WEFT_ENOMEM;
}

void
weft__deque_destroy(weft__deque *d)
{
	if (!d)
		return;
	weft__deque_buf *a = weft_atomic_load_relaxed(&d->buf);
	while (a) {
		weft__deque_buf *prev = a->prev;
		weft__free(a);
		a = prev;
	}
	weft_atomic_store_relaxed(&d->buf, NULL);
}

/* Owner, ring full: doubles it. Only [t, b) is copied; slots below the real
 * top (if t is stale) are copied needlessly but harmlessly. The old ring
 * is kept (new->prev) because a thief that loaded it may still read it.
 * Returns the new ring, or NULL with nothing changed. */
static weft__deque_buf *
deque_grow(weft__deque *d, weft__deque_buf *old, int64_t t, int64_t b)
{
	if (old->log2 >= d->log2_max)
		return NULL;
	weft__deque_buf *a = deque_buf_new(old->log2 + 1, old);
	if (!a)
		return NULL;
	for (int64_t i = t; i < b; i++) {
		uint64_t x = weft_atomic_load_relaxed(&old->slots[i & old->mask]);
		weft_atomic_store_relaxed(&a->slots[i & a->mask], x);
	}
	/* Release: a thief that acquires this pointer sees the copied slots
	 * and mask. It is stored before the bottom store that exposes items
	 * beyond the old capacity, and thieves load buf after bottom, so any
	 * thief that can see such an item also sees this ring. */
	weft_atomic_store_release(&d->buf, a);
	return a;
}

int
weft__deque_push_full(weft__deque *d, uint64_t item)
{
	int64_t b = weft_atomic_load_relaxed(&d->bottom);
	weft__deque_buf *a = weft_atomic_load_relaxed(&d->buf);
	/* top_cache may just be stale. Acquire pairs with the thieves' CAS on
	 * top: their reads of the slots below the new top happen before we
	 * overwrite those slots. */
	int64_t t = weft_atomic_load_acquire(&d->top);
	d->top_cache = t;
	if (b - t > a->mask) {
		a = deque_grow(d, a, t, b);
		if (!a)
			return WEFT_ENOMEM;
	}
	weft_atomic_store_relaxed(&a->slots[b & a->mask], item);
	weft_atomic_store_release(&d->bottom, b + 1);
	return WEFT_OK;
}

int
weft__deque_steal(weft__deque *d, uint64_t *item)
{
	int64_t t = weft_atomic_load_acquire(&d->top);
	/* Pairs with the fence in pop(): either the owner sees our top or we
	 * see its decremented bottom, so we cannot both take the last item
	 * without the CAS deciding. */
	weft_atomic_fence_seq_cst();
	/* Acquire pairs with push()'s release store of bottom: the slots
	 * below b (and the ring that holds them) are visible. */
	int64_t b = weft_atomic_load_acquire(&d->bottom);
	if (t >= b)
		return WEFT__STEAL_EMPTY;
	/* buf after bottom: a ring older than the one holding item t cannot
	 * be seen (grow() publishes before bottom). An older-than-current
	 * ring is fine: it still holds item t unchanged unless top moved
	 * past t, and then our CAS fails. */
	weft__deque_buf *a = weft_atomic_load_acquire(&d->buf);
	/* Read the slot BEFORE the CAS: once top passes t the owner may
	 * reuse the slot for item t + capacity. */
	uint64_t x = weft_atomic_load_relaxed(&a->slots[t & a->mask]);
	if (!weft_atomic_cas_seq_cst(&d->top, &t, t + 1))
		return WEFT__STEAL_ABORT;
	*item = x;
	return WEFT__STEAL_OK;
}

int64_t
weft__deque_size(const weft__deque *d)
{
	int64_t b = weft_atomic_load_relaxed(&d->bottom);
	int64_t t = weft_atomic_load_relaxed(&d->top);
	/* bottom sits one below top during a pop() of an empty deque. */
	return b > t ? b - t : 0;
}
