/*
 * The machine as hwloc sees it, and where each worker goes.
 *
 * Placement follows SCHEDULER.md §3: the topology is restricted to the
 * process's CPU binding (taskset, MPI, Slurm masks) and cgroup cpusets;
 * worker i goes to core i % cores, then PU (i / cores) % PUs-of-that-core;
 * objects' cpusets are used, never "worker i = CPU i", because logical and
 * OS indexes differ under cgroups.
 */
#ifndef WEFT_BASE_TOPO_H
#define WEFT_BASE_TOPO_H

#include <pthread.h>
#include <stddef.h>

#include "weft/errno.h"

typedef struct weft__topo weft__topo;

/* What to plan for a worker (the pool maps its weft_bind to this). */
typedef enum weft__topo_mode {
	WEFT__TOPO_NONE = 0,  /* no place */
	WEFT__TOPO_CORES = 1, /* a core, any PU of it */
	WEFT__TOPO_PUS = 2,   /* one PU of a core */
} weft__topo_mode;

/* What binding took effect (the pool maps it to its weft_bound). */
typedef enum weft__topo_bound {
	WEFT__TOPO_BOUND_NONE = 0,
	WEFT__TOPO_BOUND_PU = 1,
	WEFT__TOPO_BOUND_CORE = 2,
} weft__topo_bound;

/* Where one worker should run. */
typedef struct weft__place {
	int core;     /* logical core index among the allowed cores, or -1 */
	int pu;	      /* OS index of the chosen PU, or -1 */
	void *cpuset; /* hwloc_bitmap_t to bind to (owned), NULL for none */
	void *coreset; /* the whole core's cpuset (owned), fallback */
} weft__place;

/* Loads this machine's topology, or a synthetic one when `synthetic` is not
 * NULL. WEFT_OK, WEFT_ENOMEM, or WEFT_EINVAL (bad synthetic description). */
int weft__topo_open(weft__topo **out, const char *synthetic);
void weft__topo_close(weft__topo *t);

unsigned weft__topo_cores(const weft__topo *t);
unsigned weft__topo_pus(const weft__topo *t);
/* 1 when binding a thread is supported (real machine, hwloc support). */
int weft__topo_can_bind(const weft__topo *t);

/* Fills *p for worker i under `mode`. WEFT_OK or WEFT_ENOMEM. */
int weft__topo_plan(
    const weft__topo *t, unsigned i, weft__topo_mode mode, weft__place *p);
void weft__place_clear(weft__place *p);

/* Binds thread `th` as planned: the PU set, then the core's set, else
 * nothing. Returns what took effect; *err gets the errno of the refusal. */
weft__topo_bound weft__topo_bind(
    weft__topo *t, pthread_t th, const weft__place *p, int *err);

#endif
