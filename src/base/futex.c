#define _GNU_SOURCE
#include "base/futex.h"

#include <time.h>

#ifdef __linux__
#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

void
weft__futex_wait(_Atomic uint32_t *addr, uint32_t expected, int64_t timeout_ns)
{
	struct timespec ts, *tsp = NULL;
	if (timeout_ns >= 0) {
		ts.tv_sec = (time_t)(timeout_ns / 1000000000);
		ts.tv_nsec = (long)(timeout_ns % 1000000000);
		tsp = &ts;
	}
	/* EAGAIN (value changed), EINTR and ETIMEDOUT all mean "go and
	 * re-check", which every caller does. */
	syscall(SYS_futex, (uint32_t *)addr, FUTEX_WAIT_PRIVATE, expected, tsp,
	    NULL, 0);
}

void
weft__futex_wake(_Atomic uint32_t *addr, int n)
{
	syscall(SYS_futex, (uint32_t *)addr, FUTEX_WAKE_PRIVATE, n, NULL, NULL,
	    0);
}

#else
#include <pthread.h>

/* One global mutex/condvar pair: correct (broadcast, callers re-check), and
 * only used where futexes are missing. */
static pthread_mutex_t weft__fx_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t weft__fx_cv = PTHREAD_COND_INITIALIZER;

void
weft__futex_wait(_Atomic uint32_t *addr, uint32_t expected, int64_t timeout_ns)
{
	pthread_mutex_lock(&weft__fx_mu);
	if (atomic_load(addr) == expected) {
		if (timeout_ns < 0) {
			pthread_cond_wait(&weft__fx_cv, &weft__fx_mu);
		} else {
			struct timespec ts;
			clock_gettime(CLOCK_REALTIME, &ts);
			int64_t t = ts.tv_nsec + timeout_ns;
			ts.tv_sec += (time_t)(t / 1000000000);
			ts.tv_nsec = (long)(t % 1000000000);
			pthread_cond_timedwait(&weft__fx_cv, &weft__fx_mu, &ts);
		}
	}
	pthread_mutex_unlock(&weft__fx_mu);
}

void
weft__futex_wake(_Atomic uint32_t *addr, int n)
{
	(void)addr;
	(void)n;
	pthread_mutex_lock(&weft__fx_mu);
	pthread_cond_broadcast(&weft__fx_cv);
	pthread_mutex_unlock(&weft__fx_mu);
}
#endif

int64_t
weft__now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}
