#include "base/alloc.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "weft/alloc.h"
#include "weft/errno.h"

static void *
libc_malloc(void *ud, size_t size)
{
	(void)ud;
	return malloc(size);
}

static void *
libc_realloc(void *ud, void *p, size_t size)
{
	(void)ud;
	return realloc(p, size);
}

static void
libc_free(void *ud, void *p)
{
	(void)ud;
	free(p);
}

/* Read on every allocation, written only by weft_set_allocator, which the
 * caller promises to call while no other weft call runs. */
static weft_allocator weft__alloc = { libc_malloc, libc_realloc,
	libc_free, NULL };

int
weft_set_allocator(const weft_allocator *a)
{
	/* the cached block came from the allocator being replaced */
	weft__block_flush();
	if (!a) {
		weft__alloc = (weft_allocator) { libc_malloc,
			libc_realloc, libc_free, NULL };
		return WEFT_OK;
	}
	if (!a->malloc_fn || !a->realloc_fn || !a->free_fn)
		return WEFT_EINVAL;
	weft__alloc = *a;
	return WEFT_OK;
}

void *
weft__malloc(size_t size)
{
	return weft__alloc.malloc_fn(weft__alloc.ud, size ? size : 1);
}

/* No transparent-huge-page hint on big arrays (a graph's, a compute's
 * per-node slots; there was one): on this project's VMs a fresh 2 MiB page
 * is often memory the host has taken back, and zeroing it made a fresh
 * million-node compute on one thread cost 78-200 ns per task from run to
 * run, against a steady ~100 ns with 4 KiB pages (bench/run, weft against
 * Taskflow, 5 rounds each way, 2026-12-02). Where huge pages pay,
 * /sys/kernel/mm/transparent_hugepage/enabled = always gives them to every
 * process without a hint. */

void *
weft__calloc(size_t n, size_t size)
{
	if (size && n > SIZE_MAX / size)
		return NULL;
	size_t bytes = n * size;
	if (weft__alloc.malloc_fn == libc_malloc) {
		/* libc's calloc knows a fresh mapping is zero already: a
		 * compute's per-node slots were zeroed twice, by the kernel's
		 * page faults and then by memset, and the faults were most of
		 * the setup of a million-node compute. */
		return calloc(bytes ? bytes : 1, 1);
	}
	void *p = weft__malloc(bytes);
	if (p)
		memset(p, 0, bytes);
	return p;
}

void *
weft__realloc(void *p, size_t size)
{
	return weft__alloc.realloc_fn(weft__alloc.ud, p, size ? size : 1);
}

void
weft__free(void *p)
{
	if (!p)
		return;
	int saved = errno;
	weft__alloc.free_fn(weft__alloc.ud, p);
	errno = saved;
}

/* Aligned blocks are carved from a normal allocation, with the original
 * pointer stored just before the aligned address, so that the hook needs
 * no aligned entry point; weft__free_aligned gives it back. */
void *
weft__calloc_aligned(size_t n, size_t size, size_t align)
{
	if (size && n > SIZE_MAX / size)
		return NULL;
	size_t bytes = n * size;
	if (bytes > SIZE_MAX - align - sizeof(void *))
		return NULL;
	char *raw = weft__malloc(bytes + align + sizeof(void *));
	if (!raw)
		return NULL;
	uintptr_t a = ((uintptr_t)(raw + sizeof(void *)) + align - 1) &
	    ~(uintptr_t)(align - 1);
	memcpy((char *)a - sizeof(void *), &raw, sizeof raw);
	memset((void *)a, 0, bytes);
	return (void *)a;
}

void
weft__free_aligned(void *p)
{
	if (!p)
		return;
	void *raw;
	memcpy(&raw, (char *)p - sizeof(void *), sizeof raw);
	weft__free(raw);
}

/*
 * The block cache. A compute's per-node state is one big zeroed block (32
 * bytes per node), and a graph's arrays are a few more (nodes, argument
 * slots, successor links, literals); fresh pages cost a page fault and the
 * kernel's zeroing each, which perf put at a quarter of a million-node
 * compute's CPU time. Blocks of a freed graph or a finished compute are kept
 * for the next ones, which then reuse pages already mapped: a memset or a
 * memcpy instead of faults. At most WEFT__BLOCK_SLOTS blocks of 1 MiB to
 * 256 MiB, 256 MiB in all, and only under the C library's allocator (a
 * user's allocator sees every block come and go, as its accounting
 * expects); weft_shutdown() frees them.
 */
#define WEFT__BLOCK_MIN ((size_t)1 << 20)
#define WEFT__BLOCK_MAX ((size_t)256 << 20)
#define WEFT__BLOCK_TOTAL ((size_t)256 << 20)
#define WEFT__BLOCK_SLOTS 8

static pthread_mutex_t block_mu = PTHREAD_MUTEX_INITIALIZER;
static struct {
	void *p;
	size_t bytes;
} blocks[WEFT__BLOCK_SLOTS];
static size_t blocks_total;

static int
cacheable(size_t bytes)
{
	return bytes >= WEFT__BLOCK_MIN && bytes <= WEFT__BLOCK_MAX &&
	    weft__alloc.malloc_fn == libc_malloc;
}

/* The smallest cached block of `bytes` to 4 x `bytes` (a block far bigger
 * than asked would stay pinned under a small array), taken out of the
 * cache; NULL when none. *got receives its size. */
static void *
block_take(size_t bytes, size_t *got)
{
	if (!cacheable(bytes))
		return NULL; /* no cached block is bigger than the largest kept */
	void *p = NULL;
	pthread_mutex_lock(&block_mu);
	int best = -1;
	for (int i = 0; i < WEFT__BLOCK_SLOTS; i++)
		if (blocks[i].p && blocks[i].bytes >= bytes &&
		    blocks[i].bytes / 4 <= bytes &&
		    (best < 0 || blocks[i].bytes < blocks[best].bytes))
			best = i;
	if (best >= 0) {
		p = blocks[best].p;
		*got = blocks[best].bytes;
		blocks[best].p = NULL;
		blocks_total -= *got;
	}
	pthread_mutex_unlock(&block_mu);
	return p;
}

void *
weft__block_calloc(size_t bytes)
{
	size_t got;
	void *p = block_take(bytes, &got);
	if (p)
		return memset(p, 0, bytes);
	return weft__calloc(bytes, 1);
}

void *
weft__block_realloc(void *p, size_t old_bytes, size_t bytes, size_t *got)
{
	void *q = block_take(bytes, got);
	if (q) {
		if (p)
			memcpy(q, p, old_bytes < bytes ? old_bytes : bytes);
		weft__free(p);
		return q;
	}
	q = weft__realloc(p, bytes);
	if (q)
		*got = bytes;
	return q;
}

void
weft__block_free(void *p, size_t bytes)
{
	void *drop[WEFT__BLOCK_SLOTS + 1];
	int ndrop = 0;

	if (!p)
		return;
	if (!cacheable(bytes)) {
		weft__free(p);
		return;
	}
	pthread_mutex_lock(&block_mu);
	/* Room for it: smaller blocks go first, so the cache keeps the
	 * biggest (the ones whose faults cost most), up to the total. */
	for (;;) {
		int free_slot = -1, smallest = -1;
		for (int i = 0; i < WEFT__BLOCK_SLOTS; i++) {
			if (!blocks[i].p)
				free_slot = i;
			else if (smallest < 0 ||
			    blocks[i].bytes < blocks[smallest].bytes)
				smallest = i;
		}
		if (free_slot >= 0 &&
		    blocks_total + bytes <= WEFT__BLOCK_TOTAL) {
			blocks[free_slot].p = p;
			blocks[free_slot].bytes = bytes;
			blocks_total += bytes;
			p = NULL;
			break;
		}
		if (smallest < 0 || blocks[smallest].bytes > bytes)
			break; /* only bigger ones left: this one goes */
		drop[ndrop++] = blocks[smallest].p;
		blocks_total -= blocks[smallest].bytes;
		blocks[smallest].p = NULL;
	}
	pthread_mutex_unlock(&block_mu);
	weft__free(p);
	for (int i = 0; i < ndrop; i++)
		weft__free(drop[i]);
}

void
weft__block_flush(void)
{
	void *drop[WEFT__BLOCK_SLOTS];
	pthread_mutex_lock(&block_mu);
	for (int i = 0; i < WEFT__BLOCK_SLOTS; i++) {
		drop[i] = blocks[i].p;
		blocks[i].p = NULL;
	}
	blocks_total = 0;
	pthread_mutex_unlock(&block_mu);
	for (int i = 0; i < WEFT__BLOCK_SLOTS; i++)
		weft__free(drop[i]);
}

char *
weft__strdup(const char *s)
{
	size_t n = strlen(s) + 1;
	char *d = weft__malloc(n);
	if (d)
		memcpy(d, s, n);
	return d;
}

/* The capacity *cap doubles to for `need` elements of `elem` bytes, in
 * *ncap; WEFT_ENOMEM on overflow. */
static int
grown_cap(size_t cap, size_t need, size_t elem, size_t *ncap)
{
	size_t n = cap ? cap : 16;
	while (n < need) {
		if (n > SIZE_MAX / 2)
			return WEFT_ENOMEM;
		n *= 2;
	}
	if (n > SIZE_MAX / elem)
		return WEFT_ENOMEM;
	*ncap = n;
	return WEFT_OK;
}

int
weft__grow_slow(void **buf, size_t *cap, size_t need, size_t elem)
{
	size_t ncap;
	if (need <= *cap)
		return WEFT_OK;
	if (grown_cap(*cap, need, elem, &ncap) != WEFT_OK)
		return WEFT_ENOMEM;
	void *nb = weft__realloc(*buf, ncap * elem);
	if (!nb)
		return WEFT_ENOMEM;
	*buf = nb;
	*cap = ncap;
	return WEFT_OK;
}

int
weft__block_grow(void **buf, size_t *cap, size_t need, size_t elem)
{
	size_t ncap, got;
	if (need <= *cap)
		return WEFT_OK;
	if (grown_cap(*cap, need, elem, &ncap) != WEFT_OK)
		return WEFT_ENOMEM;
	void *nb = weft__block_realloc(*buf, *cap * elem, ncap * elem, &got);
	if (!nb)
		return WEFT_ENOMEM;
	*buf = nb;
	*cap = got / elem; /* a cached block may hold more: use it all */
	return WEFT_OK;
}
