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
 * The block cache. A compute's per-node state is one big zeroed block
 * (32 bytes per node), and fresh pages cost a page fault and the kernel's
 * zeroing each time: perf put a quarter of a million-node compute's CPU
 * time there. Keeping the last block for the next compute turns that into
 * a memset of memory already mapped. One block, 1 MiB to 256 MiB, and only
 * under the C library's allocator (a user's allocator sees every block come
 * and go, as its accounting expects); weft_shutdown() frees it.
 */
#define WEFT__BLOCK_MIN ((size_t)1 << 20)
#define WEFT__BLOCK_MAX ((size_t)256 << 20)

static pthread_mutex_t block_mu = PTHREAD_MUTEX_INITIALIZER;
static void *block_p;
static size_t block_bytes;

void *
weft__block_calloc(size_t bytes)
{
	if (bytes >= WEFT__BLOCK_MIN && weft__alloc.malloc_fn == libc_malloc) {
		void *p = NULL;
		pthread_mutex_lock(&block_mu);
		/* not a block far bigger than asked: it would stay pinned */
		if (block_p && block_bytes >= bytes && block_bytes / 4 <= bytes) {
			p = block_p;
			block_p = NULL;
		}
		pthread_mutex_unlock(&block_mu);
		if (p)
			return memset(p, 0, bytes);
	}
	return weft__calloc(bytes, 1);
}

void
weft__block_free(void *p, size_t bytes)
{
	if (p && bytes >= WEFT__BLOCK_MIN && bytes <= WEFT__BLOCK_MAX &&
	    weft__alloc.malloc_fn == libc_malloc) {
		pthread_mutex_lock(&block_mu);
		void *old = block_p;
		block_p = p;
		block_bytes = bytes;
		pthread_mutex_unlock(&block_mu);
		p = old;
	}
	weft__free(p);
}

void
weft__block_flush(void)
{
	pthread_mutex_lock(&block_mu);
	void *p = block_p;
	block_p = NULL;
	pthread_mutex_unlock(&block_mu);
	weft__free(p);
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

int
weft__grow_slow(void **buf, size_t *cap, size_t need, size_t elem)
{
	if (need <= *cap)
		return WEFT_OK;
	size_t ncap = *cap ? *cap : 16;
	while (ncap < need) {
		if (ncap > SIZE_MAX / 2)
			return WEFT_ENOMEM;
		ncap *= 2;
	}
	if (ncap > SIZE_MAX / elem)
		return WEFT_ENOMEM;
	void *nb = weft__realloc(*buf, ncap * elem);
	if (!nb)
		return WEFT_ENOMEM;
	*buf = nb;
	*cap = ncap;
	return WEFT_OK;
}
