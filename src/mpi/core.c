/*
 * The weft-mpi context: starting MPI, the registry check, the pool sized
 * from the cpuset MPI gave, PTR types, fatal errors.
 */
#include <hwloc.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mpi/mpi_int.h"

double
wm_now(void)
{
	/* MPI's clock: seconds, never set back; only read during computes,
	 * while MPI is up. */
	return MPI_Wtime();
}

int
wm_grow(void **p, size_t *cap, size_t need, size_t size)
{
	size_t nc = *cap ? *cap : 16;
	void *np;

	if (need <= *cap)
		return 0;
	while (nc < need)
		nc *= 2;
	np = realloc(*p, nc * size);
	if (!np)
		return -1;
	*p = np;
	*cap = nc;
	return 0;
}

void
wm_set_err(weft_mpi *m, const char *fmt, ...)
{
	va_list ap;

	if (!m)
		return;
	va_start(ap, fmt);
	vsnprintf(m->err, sizeof(m->err), fmt, ap);
	va_end(ap);
}

static void
die(weft_mpi *m, int code, const char *fmt, va_list ap)
{
	char msg[WM_ERRMAX];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	/* The one place the library writes to stderr: the job is about to
	 * die, and this line is how the user learns why. */
	fprintf(stderr, "weft-mpi: rank %d: fatal: %s\n", m ? m->rank : -1,
	    msg);
	fflush(stderr);
	MPI_Abort(m ? m->comm : MPI_COMM_WORLD, code);
	abort(); /* MPI_Abort does not return; if it did, stop anyway */
}

void
wm_fatal(weft_mpi *m, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	die(m, WEFT_MPI_EXIT_FATAL, fmt, ap);
	va_end(ap);
}

static void
timed_out(weft_mpi *m, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	die(m, WEFT_MPI_EXIT_TIMEOUT, fmt, ap);
	va_end(ap);
}

void
wm_deadline(weft_mpi *m, double deadline, double timeout_s)
{
	/* Rank 0 aborts first, the others a second later if still needed:
	 * Open MPI 4.1's launcher may crash when every rank aborts at once. */
	if (deadline > 0 && wm_now() > deadline + (m && m->rank ? 1.0 : 0.0))
		timed_out(m,
		    "the compute ran past its timeout of %g s (a hung or "
		    "lost rank?)",
		    timeout_s);
}

void
wm_wait(weft_mpi *m, MPI_Request *q, double deadline, double timeout_s,
    const char *what, int (*idle)(void *), void *ud)
{
	unsigned spins = 0;
	int done = 0;

	for (;;) {
		wm_check(m, MPI_Test(q, &done, MPI_STATUS_IGNORE), what);
		if (done)
			return;
		if (idle && idle(ud)) {
			spins = 0;
			continue;
		}
		wm_deadline(m, deadline, timeout_s);
		/* Yield first (the other ranks may be a moment away), then
		 * sleep 50 us at a time: a rank waiting for a slow one must
		 * not take its core. */
		if (spins++ < 8) {
			sched_yield();
		} else {
			struct timespec ts = { 0, 50000 };
			nanosleep(&ts, NULL);
		}
	}
}

void
wm_check(weft_mpi *m, int mpirc, const char *what)
{
	char s[MPI_MAX_ERROR_STRING];
	int len = 0;

	if (mpirc == MPI_SUCCESS)
		return;
	if (MPI_Error_string(mpirc, s, &len) != MPI_SUCCESS)
		snprintf(s, sizeof(s), "error %d", mpirc);
	wm_fatal(m, "%s failed: %s", what, s);
}

/* -- hashing ---------------------------------------------------------------- */

static uint64_t
mix(uint64_t x)
{
	/* splitmix64's finalizer: every input bit moves every output bit */
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ull;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebull;
	x ^= x >> 31;
	return x;
}

uint64_t
wm_hash_u64(uint64_t h, uint64_t v)
{
	/* FxHash's step: cheap, and any change of any input changes the
	 * result but for chance collisions, which is all the cross-rank
	 * checks need (nobody attacks their own graph). */
	h = (h << 5 | h >> 59) ^ v;
	return h * 0x517cc1b727220a95ull;
}

uint64_t
wm_hash_bytes(uint64_t h, const void *p, size_t n)
{
	const unsigned char *s = p;
	size_t i = 0;

	h = wm_hash_u64(h, n);
	for (; i + 8 <= n; i += 8) {
		uint64_t w;
		memcpy(&w, s + i, 8);
		h = wm_hash_u64(h, w);
	}
	if (i < n) {
		uint64_t w = 0;
		memcpy(&w, s + i, n - i);
		h = wm_hash_u64(h, w);
	}
	return mix(h); /* good low bits too: tables index by them */
}

uint64_t
wm_hash_value(uint64_t h, weft_value v, unsigned depth)
{
	weft_type t = weft_type_of(v);
	const weft_mpi_type *ty;
	int64_t i;
	double d;

	h = wm_hash_u64(h, (uint64_t)t);
	if (t == WEFT_BOOL || t == WEFT_INT) {
		i = weft_as_int(v);
		return wm_hash_bytes(h, &i, sizeof(i));
	}
	if (t == WEFT_FLOAT) {
		d = weft_as_float(v);
		return wm_hash_bytes(h, &d, sizeof(d));
	}
	if (t == WEFT_STR || t == WEFT_BYTES || t == WEFT_F64S)
		return wm_hash_bytes(h,
		    t == WEFT_F64S ? (const void *)weft_f64s_data(v)
				   : (const void *)weft_bytes_data(v),
		    weft_len(v) * (t == WEFT_F64S ? sizeof(double) : 1));
	if (t == WEFT_LIST) {
		h = wm_hash_u64(h, weft_len(v));
		/* Deep enough to tell graphs apart. */
		for (size_t k = 0; depth < 64 && k < weft_len(v); k++)
			h = wm_hash_value(h, weft_list_get(v, k), depth + 1);
		return h;
	}
	/* PTR: addresses differ between ranks, the type does not. */
	ty = weft_mpi_ptr_type(v);
	return ty ? wm_hash_bytes(h, ty->name, strlen(ty->name)) : h;
}

/* -- PTR types -------------------------------------------------------------- */

/*
 * Which weft_mpi_type each PTR value made by weft_mpi_ptr() has, keyed by
 * its pointer. Process-wide because a PTR value's destructor gets only the
 * pointer, and values may outlive any context. Linear probing with
 * backward-shift deletion; one mutex (sends look up once per value).
 */
struct ptab_ent {
	void *p;
	const weft_mpi_type *t;
};
static pthread_mutex_t ptab_mu = PTHREAD_MUTEX_INITIALIZER;
static struct ptab_ent *ptab;
static size_t ptab_cap, ptab_n;

static size_t
ptab_slot(const void *p, size_t cap)
{
	return (size_t)mix((uint64_t)(uintptr_t)p) & (cap - 1);
}

static int
ptab_grow(void)
{
	size_t ncap = ptab_cap ? ptab_cap * 2 : 64;
	struct ptab_ent *nt = calloc(ncap, sizeof(*nt));

	if (!nt)
		return WEFT_ENOMEM;
	for (size_t i = 0; i < ptab_cap; i++) {
		if (!ptab[i].p)
			continue;
		size_t s = ptab_slot(ptab[i].p, ncap);
		while (nt[s].p)
			s = (s + 1) & (ncap - 1);
		nt[s] = ptab[i];
	}
	free(ptab);
	ptab = nt;
	ptab_cap = ncap;
	return WEFT_OK;
}

static int
ptab_put(void *p, const weft_mpi_type *t)
{
	int rc = WEFT_OK;

	pthread_mutex_lock(&ptab_mu);
	if ((ptab_n + 1) * 2 > ptab_cap)
		rc = ptab_grow();
	if (rc == WEFT_OK) {
		size_t s = ptab_slot(p, ptab_cap);
		while (ptab[s].p && ptab[s].p != p)
			s = (s + 1) & (ptab_cap - 1);
		if (!ptab[s].p)
			ptab_n++;
		ptab[s].p = p;
		ptab[s].t = t;
	}
	pthread_mutex_unlock(&ptab_mu);
	return rc;
}

static const weft_mpi_type *
ptab_get(const void *p, int remove)
{
	const weft_mpi_type *t = NULL;

	pthread_mutex_lock(&ptab_mu);
	if (ptab_cap && p) {
		size_t s = ptab_slot(p, ptab_cap);
		while (ptab[s].p && ptab[s].p != p)
			s = (s + 1) & (ptab_cap - 1);
		if (ptab[s].p) {
			t = ptab[s].t;
			if (remove) {
				/* backward shift: keep every probe chain
				 * unbroken */
				size_t hole = s, j = s;
				ptab[hole].p = NULL;
				for (;;) {
					j = (j + 1) & (ptab_cap - 1);
					if (!ptab[j].p)
						break;
					size_t home = ptab_slot(
					    ptab[j].p, ptab_cap);
					if (((j - home) & (ptab_cap - 1)) >=
					    ((j - hole) & (ptab_cap - 1))) {
						ptab[hole] = ptab[j];
						ptab[j].p = NULL;
						hole = j;
					}
				}
				ptab_n--;
			}
		}
	}
	pthread_mutex_unlock(&ptab_mu);
	return t;
}

static void
wm_ptr_free(void *p)
{
	const weft_mpi_type *t = ptab_get(p, 1);
	if (t && t->free)
		t->free(p);
}

weft_value
weft_mpi_ptr(const weft_mpi_type *t, void *ptr)
{
	if (!t || !ptr) {
		if (t && ptr && t->free)
			t->free(ptr);
		return weft_nil();
	}
	if (ptab_put(ptr, t) != WEFT_OK) {
		if (t->free)
			t->free(ptr);
		return weft_nil();
	}
	/* On no memory weft_ptr calls wm_ptr_free, which frees ptr. */
	return weft_ptr(ptr, wm_ptr_free);
}

const weft_mpi_type *
weft_mpi_ptr_type(weft_value v)
{
	if (weft_type_of(v) != WEFT_PTR)
		return NULL;
	return ptab_get(weft_ptr_get(v), 0);
}

static int
type_name_ok(const char *s)
{
	size_t n = s ? strlen(s) : 0;
	return n >= 1 && n <= 64;
}

int
weft_mpi_type_register(weft_mpi *m, const weft_mpi_type *t)
{
	if (!m || m->failed)
		return WEFT_EINVAL;
	if (!t || !type_name_ok(t->name) || !t->size || !t->pack ||
	    !t->unpack) {
		wm_set_err(m, "type register: a type needs a name of 1 to 64 "
			      "bytes and size, pack and unpack functions");
		return WEFT_EINVAL;
	}
	for (size_t i = 0; i < m->ntypes; i++) {
		if (m->types[i] == t)
			return WEFT_OK;
		if (strcmp(m->types[i]->name, t->name) == 0) {
			wm_set_err(m, "type register: '%s' is already the "
				      "name of another type",
			    t->name);
			return WEFT_EINVAL;
		}
	}
	if (m->ntypes == m->captypes) {
		size_t nc = m->captypes ? m->captypes * 2 : 8;
		const weft_mpi_type **nt =
		    realloc((void *)m->types, nc * sizeof(*nt));
		if (!nt)
			return WEFT_ENOMEM;
		m->types = nt;
		m->captypes = nc;
	}
	m->types[m->ntypes++] = t;
	return WEFT_OK;
}

const weft_mpi_type *
wm_type_find(const weft_mpi *m, const char *name)
{
	for (size_t i = 0; i < m->ntypes; i++)
		if (strcmp(m->types[i]->name, name) == 0)
			return m->types[i];
	return NULL;
}

/* -- the registry ------------------------------------------------------------- */

static int
fnmap_build(weft_mpi *m)
{
	size_t n = m->reg ? weft_registry_count(m->reg) : 0, cap = 16;

	while (cap < n * 2)
		cap *= 2;
	m->fnmap = calloc(cap, sizeof(*m->fnmap));
	if (!m->fnmap)
		return WEFT_ENOMEM;
	m->fnmap_cap = cap;
	for (size_t i = 0; i < n; i++) {
		const weft_func_info *f = weft_registry_at(m->reg, i);
		size_t s = (size_t)mix((uint64_t)(uintptr_t)f->fn) & (cap - 1);
		while (m->fnmap[s].fn && m->fnmap[s].fn != f->fn)
			s = (s + 1) & (cap - 1);
		if (!m->fnmap[s].fn) /* one name per function: the first */
			m->fnmap[s] = (struct wm_fnent) { f->fn, (uint32_t)i };
	}
	return WEFT_OK;
}

int32_t
wm_fn_index(const weft_mpi *m, weft_fn fn)
{
	size_t s;

	if (!m->fnmap_cap || !fn)
		return -1;
	/* Function pointers are not data pointers in ISO C; compare them
	 * as the integers the hash uses. */
	s = (size_t)mix((uint64_t)(uintptr_t)fn) & (m->fnmap_cap - 1);
	while (m->fnmap[s].fn) {
		if (m->fnmap[s].fn == fn)
			return (int32_t)m->fnmap[s].idx;
		s = (s + 1) & (m->fnmap_cap - 1);
	}
	return -1;
}

static uint64_t
registry_hash(const weft_registry *r, size_t upto)
{
	uint64_t h = 0x5745465452454731ull;

	for (size_t i = 0; r && i < upto; i++) {
		const weft_func_info *f = weft_registry_at(r, i);
		h = wm_hash_bytes(h, f->name, strlen(f->name));
		h = wm_hash_u64(h, (uint64_t)(int64_t)f->min_args);
		h = wm_hash_u64(h, (uint64_t)(int64_t)f->max_args);
	}
	return h;
}

/* Every rank compares its registry with rank 0's. The same answer on every
 * rank: the check is an allgather. */
static int
registry_check(weft_mpi *m)
{
	uint64_t mine[2], *all = calloc((size_t)m->size * 2, sizeof(*all));
	size_t n = m->reg ? weft_registry_count(m->reg) : 0;
	int bad = -1;

	if (!all)
		wm_fatal(m, "out of memory at init");
	mine[0] = n;
	mine[1] = registry_hash(m->reg, n);
	wm_check(m,
	    MPI_Allgather(mine, 2, MPI_UINT64_T, all, 2, MPI_UINT64_T,
		m->comm),
	    "MPI_Allgather");
	for (int r = 1; r < m->size && bad < 0; r++)
		if (all[2 * r] != all[0] || all[2 * r + 1] != all[1])
			bad = r;
	if (bad >= 0) {
		/* Where do this rank and rank 0 part? Each rank can tell
		 * for itself only; the message names the counts. */
		wm_set_err(m,
		    "function registry differs on rank %d: %llu functions, "
		    "rank 0 has %llu (register the same functions, in the "
		    "same order, on every rank)",
		    bad, (unsigned long long)all[2 * bad],
		    (unsigned long long)all[0]);
	}
	free(all);
	return bad >= 0 ? WEFT_EINVAL : WEFT_OK;
}

/* -- the pool ---------------------------------------------------------------- */

/*
 * MPI may bind each rank to its own cores (Open MPI at -np 2) or leave
 * every rank of a node with the whole machine (oversubscribed runs,
 * MPICH). In the second case one pool per rank, each a worker per core and
 * each pinned to the same cores, would pile up; share the cores out
 * instead and leave placement to the OS.
 */
static int
pool_start(weft_mpi *m, unsigned threads)
{
	hwloc_topology_t topo = NULL;
	hwloc_bitmap_t set = NULL;
	MPI_Comm local = MPI_COMM_NULL;
	uint64_t mine = 0, *all = NULL;
	int ncores = 1, nlocal = 1, nshare = 1, err = 0;
	weft_pool_opts po = { 0 };

	if (hwloc_topology_init(&topo) == 0 && hwloc_topology_load(topo) == 0) {
		set = hwloc_bitmap_alloc();
		if (set && hwloc_get_cpubind(topo, set, HWLOC_CPUBIND_PROCESS))
			hwloc_bitmap_copy(
			    set, hwloc_topology_get_allowed_cpuset(topo));
		if (set) {
			int c = hwloc_get_nbobjs_inside_cpuset_by_type(
			    topo, set, HWLOC_OBJ_CORE);
			char *s = NULL;
			ncores = c > 0 ? c : 1;
			if (hwloc_bitmap_asprintf(&s, set) >= 0 && s) {
				mine = wm_hash_bytes(1, s, strlen(s));
				free(s);
			}
		}
	}
	wm_check(m,
	    MPI_Comm_split_type(m->comm, MPI_COMM_TYPE_SHARED, m->rank,
		MPI_INFO_NULL, &local),
	    "MPI_Comm_split_type");
	wm_check(m, MPI_Comm_size(local, &nlocal), "MPI_Comm_size");
	all = calloc((size_t)nlocal, sizeof(*all));
	if (!all)
		wm_fatal(m, "out of memory at init");
	wm_check(m,
	    MPI_Allgather(&mine, 1, MPI_UINT64_T, all, 1, MPI_UINT64_T, local),
	    "MPI_Allgather");
	nshare = 0;
	for (int i = 0; i < nlocal; i++)
		nshare += all[i] == mine;
	if (nshare < 1)
		nshare = 1;
	free(all);
	MPI_Comm_free(&local);
	if (set)
		hwloc_bitmap_free(set);
	if (topo)
		hwloc_topology_destroy(topo);

	po.threads = threads ? threads
			     : (unsigned)(ncores / nshare > 0 ? ncores / nshare
							      : 1);
	po.bind = nshare > 1 ? WEFT_BIND_NONE : WEFT_BIND_DEFAULT;
	m->pool = weft_pool_new2(&po, &err);
	if (!m->pool) {
		wm_set_err(m, "cannot start %u worker threads: %s",
		    po.threads, weft_strerror(err));
		return err ? err : WEFT_ENOMEM;
	}
	m->own_pool = 1;
	return WEFT_OK;
}

/* -- accessors -------------------------------------------------------------- */

const char *
weft_mpi_error(const weft_mpi *m)
{
	return m ? m->err : "";
}

int
weft_mpi_rank(const weft_mpi *m)
{
	return m ? m->rank : -1;
}

int
weft_mpi_size(const weft_mpi *m)
{
	return m ? m->size : 0;
}

weft_pool *
weft_mpi_pool(const weft_mpi *m)
{
	return m ? m->pool : NULL;
}

MPI_Comm
weft_mpi_comm(const weft_mpi *m)
{
	return m ? m->comm : MPI_COMM_NULL;
}

/* -- init and finalize -------------------------------------------------------- */

static int
opts_ok(const weft_mpi_opts *o)
{
	for (size_t i = 0; i < sizeof(o->reserved) / sizeof(o->reserved[0]);
	     i++)
		if (o->reserved[i])
			return 0;
	return o->chunk_bytes == 0 || o->chunk_bytes >= 4096;
}

int
weft_mpi_init(int *argc, char ***argv, const weft_mpi_opts *opts,
    weft_mpi **out)
{
	static const weft_mpi_opts none = { 0 };
	weft_mpi *m;
	int inited = 0, rc;

	if (!out)
		return WEFT_EINVAL;
	*out = NULL;
	if (!opts)
		opts = &none;
	m = calloc(1, sizeof(*m));
	if (!m)
		return WEFT_ENOMEM;
	m->rank = -1;
	m->comm = MPI_COMM_NULL;
	if (MPI_Initialized(&inited) != MPI_SUCCESS) {
		free(m);
		return WEFT_EIO;
	}
	if (!inited) {
		if (MPI_Init_thread(argc, argv, MPI_THREAD_MULTIPLE,
			&m->thread_level) != MPI_SUCCESS) {
			free(m);
			return WEFT_EIO;
		}
		m->own_mpi = 1;
	} else if (MPI_Query_thread(&m->thread_level) != MPI_SUCCESS) {
		free(m);
		return WEFT_EIO;
	}
	*out = m;
	/* Our own communicator: our tags never meet the program's. */
	wm_check(m,
	    MPI_Comm_dup(opts->comm ? *opts->comm : MPI_COMM_WORLD, &m->comm),
	    "MPI_Comm_dup");
	MPI_Comm_set_errhandler(m->comm, MPI_ERRORS_RETURN);
	MPI_Comm_rank(m->comm, &m->rank);
	MPI_Comm_size(m->comm, &m->size);
	m->reg = opts->registry;
	m->chunk = opts->chunk_bytes ? opts->chunk_bytes : (size_t)256 << 20;
	if (m->chunk > (size_t)1 << 30)
		m->chunk = (size_t)1 << 30; /* MPI counts are ints */

	/* Every check below gives the same answer on every rank, so every
	 * rank fails alike; bad options are the same on every rank too. */
	if (!opts_ok(opts)) {
		wm_set_err(m, "init: bad options (chunk_bytes below 4096 or "
			      "reserved fields set)");
		m->failed = WEFT_EINVAL;
		return m->failed;
	}
	if (m->thread_level < MPI_THREAD_FUNNELED) {
		wm_set_err(m, "init: MPI gives thread support %d; weft needs "
			      "MPI_THREAD_FUNNELED or more",
		    m->thread_level);
		m->failed = WEFT_EINVAL;
		return m->failed;
	}
	rc = fnmap_build(m);
	if (rc == WEFT_OK)
		rc = registry_check(m);
	if (rc == WEFT_OK) {
		if (opts->pool)
			m->pool = opts->pool;
		else
			rc = pool_start(m, opts->threads);
		/* a pool that failed on one rank must fail them all */
		int bad = rc != WEFT_OK, any = 0;
		wm_check(m,
		    MPI_Allreduce(&bad, &any, 1, MPI_INT, MPI_MAX, m->comm),
		    "MPI_Allreduce");
		if (any && rc == WEFT_OK) {
			rc = WEFT_ENOMEM;
			wm_set_err(m, "init: another rank could not start its "
				      "pool");
		}
	}
	if (rc != WEFT_OK)
		m->failed = rc;
	return rc;
}

int
weft_mpi_finalize(weft_mpi *m)
{
	int rc = WEFT_OK;

	if (!m)
		return WEFT_OK;
	if (m->own_pool)
		weft_pool_free(m->pool);
	if (m->comm != MPI_COMM_NULL)
		MPI_Comm_free(&m->comm);
	if (m->own_mpi && MPI_Finalize() != MPI_SUCCESS)
		rc = WEFT_EIO;
	free(m->fnmap);
	free((void *)m->types);
	free(m);
	return rc;
}
