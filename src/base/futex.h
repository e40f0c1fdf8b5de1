/*
 * Sleeping on a 32-bit word: the Linux futex where there is one, a mutex and
 * condition variable elsewhere. Both sides tolerate spurious wake-ups, so
 * callers always wait in a loop that re-checks their condition.
 */
#ifndef WEFT_BASE_FUTEX_H
#define WEFT_BASE_FUTEX_H

#include <stdatomic.h>
#include <stdint.h>

/* Sleeps while *addr == expected (or until woken; may return early).
 * timeout_ns < 0: no timeout. */
void weft__futex_wait(_Atomic uint32_t *addr, uint32_t expected,
    int64_t timeout_ns);
/* Wakes up to n sleepers on addr (n = INT32_MAX: all). */
void weft__futex_wake(_Atomic uint32_t *addr, int n);

/* Monotonic clock in nanoseconds. */
int64_t weft__now_ns(void);

#endif
