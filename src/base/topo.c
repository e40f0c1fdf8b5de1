#include "base/topo.h"

#include <errno.h>
#include <hwloc.h>

#include "base/alloc.h"

struct weft__topo {
	hwloc_topology_t topo;
	hwloc_const_cpuset_t allowed;
	unsigned cores; /* allowed cores, or PUs when there are no cores */
	unsigned pus;
	hwloc_obj_type_t core_type; /* HWLOC_OBJ_CORE, or PU as a fallback */
	int can_bind;
};

static int
topo_load(weft__topo *t, const char *synthetic, unsigned long flags)
{
	if (hwloc_topology_init(&t->topo) < 0)
		return WEFT_ENOMEM;
	if (synthetic &&
	    hwloc_topology_set_synthetic(t->topo, synthetic) < 0) {
		hwloc_topology_destroy(t->topo);
		return WEFT_EINVAL;
	}
	if (flags && hwloc_topology_set_flags(t->topo, flags) < 0)
		goto fail;
	if (hwloc_topology_load(t->topo) < 0)
		goto fail;
	return WEFT_OK;
fail:
	hwloc_topology_destroy(t->topo);
	return WEFT_EIO;
}

int
weft__topo_open(weft__topo **out, const char *synthetic)
{
	weft__topo *t = weft__calloc(1, sizeof *t);
	if (!t)
		return WEFT_ENOMEM;
	int rc = WEFT_EIO;
	if (!synthetic) {
		/* Respect taskset/MPI masks; cgroup limits apply by default,
		 * so INCLUDE_DISALLOWED is never set. */
		unsigned long flags = HWLOC_TOPOLOGY_FLAG_IS_THISSYSTEM;
#if HWLOC_API_VERSION >= 0x00020100
		flags |= HWLOC_TOPOLOGY_FLAG_RESTRICT_TO_CPUBINDING;
#endif
		rc = topo_load(t, NULL, flags);
	}
	if (rc == WEFT_EIO) /* retry without flags, as SCHEDULER.md says */
		rc = topo_load(t, synthetic, 0);
	if (rc != WEFT_OK) {
		weft__free(t);
		return rc;
	}
	t->allowed = hwloc_topology_get_allowed_cpuset(t->topo);
	t->core_type = HWLOC_OBJ_CORE;
	int n = hwloc_get_nbobjs_inside_cpuset_by_type(
	    t->topo, t->allowed, HWLOC_OBJ_CORE);
	if (n <= 0) { /* some VMs and ARM boards show no Core objects */
		t->core_type = HWLOC_OBJ_PU;
		n = hwloc_get_nbobjs_inside_cpuset_by_type(
		    t->topo, t->allowed, HWLOC_OBJ_PU);
	}
	int np = hwloc_get_nbobjs_inside_cpuset_by_type(
	    t->topo, t->allowed, HWLOC_OBJ_PU);
	t->cores = n > 0 ? (unsigned)n : 1;
	t->pus = np > 0 ? (unsigned)np : t->cores;
	const struct hwloc_topology_support *s =
	    hwloc_topology_get_support(t->topo);
	t->can_bind = !synthetic && s && s->cpubind &&
	    s->cpubind->set_thread_cpubind;
	*out = t;
	return WEFT_OK;
}

void
weft__topo_close(weft__topo *t)
{
	if (!t)
		return;
	hwloc_topology_destroy(t->topo);
	weft__free(t);
}

unsigned
weft__topo_cores(const weft__topo *t)
{
	return t->cores;
}

unsigned
weft__topo_pus(const weft__topo *t)
{
	return t->pus;
}

int
weft__topo_can_bind(const weft__topo *t)
{
	return t->can_bind;
}

void
weft__place_clear(weft__place *p)
{
	if (p->cpuset)
		hwloc_bitmap_free(p->cpuset);
	if (p->coreset)
		hwloc_bitmap_free(p->coreset);
	p->cpuset = p->coreset = NULL;
	p->core = p->pu = -1;
}

int
weft__topo_plan(
    const weft__topo *t, unsigned i, weft__topo_mode mode, weft__place *p)
{
	p->core = p->pu = -1;
	p->cpuset = p->coreset = NULL;
	if (mode == WEFT__TOPO_NONE)
		return WEFT_OK;
	unsigned ci = i % t->cores;
	hwloc_obj_t core = hwloc_get_obj_inside_cpuset_by_type(
	    t->topo, t->allowed, t->core_type, ci);
	if (!core)
		return WEFT_OK; /* cannot happen with a loaded topology */
	hwloc_bitmap_t coreset = hwloc_bitmap_dup(core->cpuset);
	if (!coreset)
		return WEFT_ENOMEM;
	hwloc_bitmap_and(coreset, coreset, t->allowed);
	int npu = hwloc_get_nbobjs_inside_cpuset_by_type(
	    t->topo, coreset, HWLOC_OBJ_PU);
	unsigned pi = npu > 0 ? (i / t->cores) % (unsigned)npu : 0;
	hwloc_obj_t pu = hwloc_get_obj_inside_cpuset_by_type(
	    t->topo, coreset, HWLOC_OBJ_PU, mode == WEFT__TOPO_PUS ? pi : 0);
	p->core = (int)ci;
	p->pu = pu ? (int)pu->os_index : -1;
	p->coreset = coreset;
	if (mode == WEFT__TOPO_PUS && pu) {
		p->cpuset = hwloc_bitmap_dup(pu->cpuset);
		if (!p->cpuset) {
			weft__place_clear(p);
			return WEFT_ENOMEM;
		}
	}
	return WEFT_OK;
}

weft__topo_bound
weft__topo_bind(weft__topo *t, pthread_t th, const weft__place *p, int *err)
{
	*err = 0;
	if (!p->coreset)
		return WEFT__TOPO_BOUND_NONE;
	if (!t->can_bind) {
		*err = ENOSYS;
		return WEFT__TOPO_BOUND_NONE;
	}
	if (p->cpuset &&
	    hwloc_set_thread_cpubind(t->topo, th, p->cpuset, 0) == 0)
		return WEFT__TOPO_BOUND_PU;
	if (p->cpuset)
		*err = errno;
	/* The PU was refused (or cores were asked for): the whole core. */
	if (hwloc_set_thread_cpubind(t->topo, th, p->coreset, 0) == 0)
		return WEFT__TOPO_BOUND_CORE;
	if (!*err)
		*err = errno ? errno : EINVAL;
	return WEFT__TOPO_BOUND_NONE;
}
