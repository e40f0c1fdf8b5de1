/*
 * Named C11 atomic operations. The memory order is part of the name so that
 * every ordering decision can be found with grep (as mimalloc does).
 */
#ifndef WEFT_BASE_ATOMIC_H
#define WEFT_BASE_ATOMIC_H

#include <stdatomic.h>

#define WEFT_CACHE_LINE 64
#define WEFT_CACHE_ALIGNED _Alignas(WEFT_CACHE_LINE)

#define weft_atomic_load_relaxed(p) atomic_load_explicit((p), memory_order_relaxed)
#define weft_atomic_load_acquire(p) atomic_load_explicit((p), memory_order_acquire)
#define weft_atomic_load_seq_cst(p) atomic_load_explicit((p), memory_order_seq_cst)
#define weft_atomic_store_relaxed(p, x)                                       \
	atomic_store_explicit((p), (x), memory_order_relaxed)
#define weft_atomic_store_release(p, x)                                       \
	atomic_store_explicit((p), (x), memory_order_release)
#define weft_atomic_store_seq_cst(p, x)                                       \
	atomic_store_explicit((p), (x), memory_order_seq_cst)
#define weft_atomic_add_relaxed(p, x)                                         \
	atomic_fetch_add_explicit((p), (x), memory_order_relaxed)
#define weft_atomic_add_acq_rel(p, x)                                         \
	atomic_fetch_add_explicit((p), (x), memory_order_acq_rel)
#define weft_atomic_add_seq_cst(p, x)                                         \
	atomic_fetch_add_explicit((p), (x), memory_order_seq_cst)
#define weft_atomic_sub_relaxed(p, x)                                         \
	atomic_fetch_sub_explicit((p), (x), memory_order_relaxed)
#define weft_atomic_sub_release(p, x)                                         \
	atomic_fetch_sub_explicit((p), (x), memory_order_release)
#define weft_atomic_sub_acq_rel(p, x)                                         \
	atomic_fetch_sub_explicit((p), (x), memory_order_acq_rel)
#define weft_atomic_sub_seq_cst(p, x)                                         \
	atomic_fetch_sub_explicit((p), (x), memory_order_seq_cst)
#define weft_atomic_cas_seq_cst(p, expected, desired)                         \
	atomic_compare_exchange_strong_explicit((p), (expected), (desired),   \
	    memory_order_seq_cst, memory_order_relaxed)
#define weft_atomic_cas_acq_rel(p, expected, desired)                         \
	atomic_compare_exchange_strong_explicit((p), (expected), (desired),   \
	    memory_order_acq_rel, memory_order_acquire)
#define weft_atomic_exchange_acq_rel(p, x)                                    \
	atomic_exchange_explicit((p), (x), memory_order_acq_rel)
#define weft_atomic_fence_seq_cst() atomic_thread_fence(memory_order_seq_cst)
#define weft_atomic_fence_release() atomic_thread_fence(memory_order_release)
#define weft_atomic_fence_acquire() atomic_thread_fence(memory_order_acquire)

/* A polite busy-wait hint for spin loops. */
#if defined(__x86_64__) || defined(__i386__)
#define weft_cpu_relax() __builtin_ia32_pause()
#elif defined(__aarch64__)
#define weft_cpu_relax() __asm__ __volatile__("yield" ::: "memory")
#else
#define weft_cpu_relax() ((void)0)
#endif

#endif
