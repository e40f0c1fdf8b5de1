/*
 * weft-mpi tests, run as `mpiexec -n 3 test_mpi`. Every rank runs every
 * test in the same order (the computes are collective); a failed check
 * prints where and ends the whole job with MPI_Abort, so a failure never
 * leaves the other ranks waiting.
 *
 * Random graphs are built twice, into a weft_graph (one process) and a
 * weft_mpi_graph (all ranks), and the results must be equal bit for bit.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "weft.h"
#include "weft/mpi.h"

static int rank, nranks;
static weft_mpi *M;

#define CHECK(c, ...)                                                         \
	do {                                                                  \
		if (!(c))                                                     \
			fail_at(__FILE__, __LINE__, #c, __VA_ARGS__);          \
	} while (0)

static void
fail_at(const char *file, int line, const char *cond, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "test_mpi: rank %d: FAIL %s:%d: %s: ", rank, file,
	    line, cond);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	fflush(stderr);
	MPI_Abort(MPI_COMM_WORLD, 1);
}

static void
say(const char *fmt, ...)
{
	va_list ap;

	if (rank != 0)
		return;
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	fflush(stdout);
}

/* The same on every rank? (compares a hash of s with rank 0's) */
static int
same_everywhere(const char *s)
{
	unsigned long long h = 1469598103934665603ull, h0;
	int ok, all;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	h0 = h;
	MPI_Bcast(&h0, 1, MPI_UNSIGNED_LONG_LONG, 0, MPI_COMM_WORLD);
	ok = h0 == h;
	MPI_Allreduce(&ok, &all, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
	return all;
}

/* -- deterministic randomness ------------------------------------------------ */

static uint64_t
mix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ull;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

static uint64_t rng;

static uint64_t
rnd(uint64_t n)
{
	rng = mix(rng);
	return n ? rng % n : 0;
}

/* A digest of a value's content (bit exact). */
static uint64_t
digest(weft_value v)
{
	uint64_t h = mix((uint64_t)weft_type_of(v));
	const unsigned char *b;
	size_t n;

	switch (weft_type_of(v)) {
	case WEFT_INT:
	case WEFT_BOOL:
		return mix(h ^ (uint64_t)weft_as_int(v));
	case WEFT_FLOAT: {
		double d = weft_as_float(v);
		uint64_t u;
		memcpy(&u, &d, 8);
		return mix(h ^ u);
	}
	case WEFT_STR:
	case WEFT_BYTES:
		b = weft_bytes_data(v);
		n = weft_len(v);
		break;
	case WEFT_F64S:
		b = (const unsigned char *)weft_f64s_data(v);
		n = weft_len(v) * 8;
		break;
	case WEFT_LIST:
		for (size_t i = 0; i < weft_len(v); i++)
			h = mix(h ^ digest(weft_list_get(v, i)));
		return h;
	default:
		return h;
	}
	for (size_t i = 0; i < n; i++)
		h = mix(h ^ b[i]);
	return h;
}

static uint64_t
args_digest(size_t n, const weft_value *a)
{
	uint64_t h = 7;
	for (size_t i = 0; i < n; i++)
		h = mix(h ^ digest(a[i]));
	return h;
}

/* -- task functions -------------------------------------------------------------- */

static int
f_num(weft_ctx *c, size_t n, const weft_value *a, weft_value *out)
{
	uint64_t h = args_digest(n, a);
	(void)c;
	*out = (h & 1) ? weft_int((int64_t)(h >> 3))
		       : weft_float((double)(h >> 11) * 1e-3 - 1e12);
	return WEFT_OK;
}

static int
f_sum(weft_ctx *c, size_t n, const weft_value *a, weft_value *out)
{
	double s = 0.1;
	(void)c;
	for (size_t i = 0; i < n; i++) {
		if (weft_type_of(a[i]) == WEFT_F64S)
			for (size_t j = 0; j < weft_len(a[i]); j++)
				s += weft_f64s_data(a[i])[j] * (double)(j + 1);
		else
			s = s * 1.0000001 + weft_as_float(a[i]);
	}
	*out = weft_float(s);
	return WEFT_OK;
}

static int
f_list(weft_ctx *c, size_t n, const weft_value *a, weft_value *out)
{
	weft_value items[6];
	size_t k = 0;
	(void)c;
	for (size_t i = 0; i < n && k < 4; i++)
		items[k++] = weft_int((int64_t)digest(a[i]));
	items[k++] = weft_str((n & 1) ? "odd" : "");
	items[k++] = weft_list(0, NULL);
	*out = weft_list(k, items);
	for (size_t i = 0; i < k; i++)
		weft_value_release(&items[i]);
	return WEFT_OK;
}

static int
f_vec(weft_ctx *c, size_t n, const weft_value *a, weft_value *out)
{
	uint64_t h = args_digest(n, a);
	/* mostly small; sometimes above the inline limit (64 KiB) */
	size_t len = (h % 16 == 0) ? 9000 + h % 3000 : h % 200;
	double *d;
	(void)c;
	if (weft_f64s_new(len, NULL, out) != WEFT_OK)
		return WEFT_ENOMEM;
	d = weft_f64s_data_mut(*out);
	for (size_t i = 0; i < len; i++)
		d[i] = sin((double)(h % 1000) + (double)i * 0.37);
	return WEFT_OK;
}

static int
f_str(weft_ctx *c, size_t n, const weft_value *a, weft_value *out)
{
	char buf[96];
	uint64_t h = args_digest(n, a);
	(void)c;
	snprintf(buf, sizeof(buf), "s%llx:%zu", (unsigned long long)h, n);
	*out = weft_str(buf);
	return WEFT_OK;
}

static int
f_bytes(weft_ctx *c, size_t n, const weft_value *a, weft_value *out)
{
	unsigned char b[40];
	uint64_t h = args_digest(n, a);
	(void)c;
	for (size_t i = 0; i < sizeof(b); i++)
		b[i] = (unsigned char)(mix(h + i) & 0xff);
	b[3] = 0;
	*out = weft_bytes(b, 1 + h % sizeof(b));
	return WEFT_OK;
}

static int
f_nil(weft_ctx *c, size_t n, const weft_value *a, weft_value *out)
{
	(void)c;
	(void)n;
	(void)a;
	*out = weft_nil();
	return WEFT_OK;
}

static weft_fn const fns[] = { f_num, f_sum, f_list, f_vec, f_str, f_bytes,
	f_nil, f_num, f_sum };
#define NFNS (sizeof(fns) / sizeof(fns[0]))

/* -- random graphs ------------------------------------------------------------ */

static int
hook_rank_of(void *ud, const char *key, weft_node n, int nr)
{
	uint64_t h = 5;
	(void)ud;
	(void)n;
	for (; *key; key++)
		h = mix(h ^ (unsigned char)*key);
	return (h % 4 == 0) ? WEFT_MPI_ANY : (int)(h % (uint64_t)nr);
}

static weft_value
rand_lit(void)
{
	switch (rnd(4)) {
	case 0:
		return weft_int((int64_t)rnd(1000) - 500);
	case 1:
		return weft_float((double)rnd(1u << 20) / 7.0);
	case 2:
		return weft_str("lit");
	default:
		return weft_bool(rnd(2));
	}
}

/* One random graph, built into both; compares every result. */
static void
random_case(uint64_t seed, size_t nn, int mode, int root, unsigned flags)
{
	weft_graph *g1 = weft_graph_new();
	weft_mpi_graph *g = weft_mpi_graph_new(M);
	weft_node *n1 = calloc(nn, sizeof(*n1)), *n2 = calloc(nn, sizeof(*n2));
	weft_node t1[8], t2[8];
	weft_value r1[8], r2[8];
	weft_opts o1 = { 0 };
	weft_mpi_compute_opts o2 = { 0 };
	size_t nt = 0;
	int rc;

	CHECK(g1 && g && n1 && n2, "setup");
	rng = seed;
	for (size_t i = 0; i < nn; i++) {
		weft_arg a1[5], a2[5];
		size_t na = rnd(5);
		weft_fn fn = fns[rnd(NFNS)];
		char key[32];
		int named = rnd(3) == 0;
		for (size_t k = 0; k < na; k++) {
			if (i > 0 && rnd(4) != 0) {
				/* mostly recent nodes: chains */
				size_t back = rnd(4) ? 1 + rnd(3) : 1 + rnd(i);
				size_t j = back > i ? 0 : i - back;
				a1[k] = weft_ref(n1[j]);
				a2[k] = weft_ref(n2[j]);
			} else {
				weft_value v = rand_lit();
				a1[k] = weft_lit(weft_value_retain(v));
				a2[k] = weft_lit(v);
			}
		}
		snprintf(key, sizeof(key), "k%zu", i);
		n1[i] = weft_delayed_named(g1, named ? key : NULL, fn, na, a1);
		n2[i] = weft_mpi_delayed_named(g, named ? key : NULL, fn, na, a2);
		CHECK(weft_node_ok(n1[i]) && weft_node_ok(n2[i]), "%s",
		    weft_mpi_graph_error(g));
		if (mode == 1 && rnd(2))
			weft_mpi_set_owner(g, n2[i], (int)rnd((uint64_t)nranks));
		if (mode == 3)
			weft_mpi_set_owner(g, n2[i], nranks - 1);
	}
	t1[nt] = n1[nn - 1];
	t2[nt++] = n2[nn - 1];
	while (nt < 1 + (seed % 6)) {
		size_t j = rnd(nn);
		t1[nt] = n1[j];
		t2[nt++] = n2[j];
	}
	o1.pool = weft_mpi_pool(M);
	o1.flags = flags;
	rc = weft_compute(g1, nt, t1, r1, &o1);
	CHECK(rc == WEFT_OK, "single-process compute: %s", weft_graph_error(g1));
	o2.root = root;
	o2.flags = flags;
	o2.timeout_s = 60;
	if (mode == 2) {
		o2.rank_of = hook_rank_of;
	}
	rc = weft_mpi_compute(g, nt, t2, r2, &o2);
	CHECK(rc == WEFT_OK, "seed %llu: %s", (unsigned long long)seed,
	    weft_mpi_graph_error(g));
	for (size_t i = 0; i < nt; i++) {
		if (root == WEFT_MPI_ALL || root == rank)
			CHECK(weft_value_equal(r1[i], r2[i]),
			    "seed %llu nodes %zu mode %d root %d: target %zu "
			    "(%s vs %s) differs",
			    (unsigned long long)seed, nn, mode, root, i,
			    weft_type_name(weft_type_of(r1[i])),
			    weft_type_name(weft_type_of(r2[i])));
		else
			CHECK(weft_is_nil(r2[i]), "non-root got a result");
		weft_value_release(&r1[i]);
		weft_value_release(&r2[i]);
	}
	/* The owners really are spread (except mode 3). */
	if (mode == 3)
		for (size_t i = 0; i < nn; i++) {
			int ow = weft_mpi_owner(g, n2[i]);
			CHECK(ow == -1 || ow == nranks - 1, "owner %d", ow);
		}
	free(n1);
	free(n2);
	weft_graph_free(g1);
	weft_mpi_graph_free(g);
}

static void
test_random(void)
{
	static const int roots[] = { 0, 1, 2, WEFT_MPI_ALL };
	int cases = 0;

	for (uint64_t seed = 1; seed <= 48; seed++) {
		size_t nn = 1 + (size_t)(mix(seed) % (seed < 8 ? 6 : 220));
		int mode = (int)(seed % 4);
		int root = roots[(seed / 4) % 4];
		unsigned flags = (seed % 5 == 0) ? WEFT_NO_FUSE : 0;
		random_case(seed, nn, mode, root, flags);
		cases++;
	}
	say("ok random graphs: %d cases, results identical to one process\n",
	    cases);
}

/* -- basics -------------------------------------------------------------------- */

static int
f_add(weft_ctx *c, size_t n, const weft_value *a, weft_value *out)
{
	int64_t s = 0;
	(void)c;
	for (size_t i = 0; i < n; i++)
		s += weft_as_int(a[i]);
	*out = weft_int(s);
	return WEFT_OK;
}

static int
f_rank(weft_ctx *c, size_t n, const weft_value *a, weft_value *out)
{
	int r;
	(void)c;
	(void)n;
	(void)a;
	MPI_Comm_rank(MPI_COMM_WORLD, &r); /* test only: which rank ran me */
	*out = weft_int(r);
	return WEFT_OK;
}

static void
test_basic(void)
{
	weft_mpi_graph *g = weft_mpi_graph_new(M);
	weft_node a, b, c, s, rk[3];
	weft_value res[4];
	weft_mpi_stats st;
	int rc;

	CHECK(weft_mpi_size(M) == 3, "comm size %d", weft_mpi_size(M));
	a = WEFT_MPI_DELAYED_NAMED(g, "a", f_add, weft_lit(weft_int(1)));
	b = WEFT_MPI_DELAYED_NAMED(g, "b", f_add, weft_lit(weft_int(2)));
	c = WEFT_MPI_DELAYED(g, f_add, weft_ref(a), weft_ref(b));
	s = WEFT_MPI_DELAYED(g, f_add, weft_ref(c), weft_ref(a),
	    weft_lit(weft_int(100)));
	CHECK(weft_mpi_set_owner(g, a, 0) == WEFT_OK, "owner");
	CHECK(weft_mpi_set_owner(g, b, 1) == WEFT_OK, "owner");
	CHECK(weft_mpi_set_owner(g, c, 2) == WEFT_OK, "owner");
	CHECK(weft_mpi_set_owner(g, s, 1) == WEFT_OK, "owner");
	CHECK(weft_mpi_set_owner(g, s, 3) == WEFT_EINVAL, "rank 3");
	for (int r = 0; r < 3; r++) {
		rk[r] = WEFT_MPI_DELAYED(g, f_rank, weft_lit(weft_int(r)));
		weft_mpi_set_owner(g, rk[r], r);
	}
	{
		weft_node t[4] = { s, rk[0], rk[1], rk[2] };
		rc = weft_mpi_compute(g, 4, t, res, NULL);
	}
	CHECK(rc == WEFT_OK, "%s", weft_mpi_graph_error(g));
	if (rank == 0) {
		CHECK(weft_as_int(res[0]) == 104, "s = %lld",
		    (long long)weft_as_int(res[0]));
		for (int r = 0; r < 3; r++)
			CHECK(weft_as_int(res[1 + r]) == r,
			    "node owned by %d ran on %lld", r,
			    (long long)weft_as_int(res[1 + r]));
	} else {
		for (int i = 0; i < 4; i++)
			CHECK(weft_is_nil(res[i]), "non-root result");
	}
	for (int i = 0; i < 4; i++)
		weft_value_release(&res[i]);
	CHECK(weft_mpi_stats_get(g, &st) == WEFT_OK, "stats");
	CHECK(st.nodes == 7 && st.cross_edges == 4, "nodes %zu cross %zu",
	    st.nodes, st.cross_edges);
	/* a: rank 0 sends to 2 (c) and 1 (s); the root gets s and rk. */
	if (rank == 0)
		CHECK(st.msgs_sent == 2 && st.msgs_recv == 3,
		    "rank 0 sent %zu received %zu", st.msgs_sent,
		    st.msgs_recv);
	CHECK(weft_node_ok(weft_mpi_graph_find(g, "a")) &&
		!weft_node_ok(weft_mpi_graph_find(g, "zz")) &&
		weft_mpi_graph_find(g, "node-2").id == c.id,
	    "find");
	/* bad arguments fail on every rank alike */
	{
		weft_mpi_compute_opts o = { 0 };
		o.root = 7;
		rc = weft_mpi_compute(g, 1, &s, res, &o);
		CHECK(rc == WEFT_EINVAL, "bad root: %d", rc);
		CHECK(strstr(weft_mpi_graph_error(g), "root"), "%s",
		    weft_mpi_graph_error(g));
		weft_node bad = { 12345 };
		rc = weft_mpi_compute(g, 1, rank == 1 ? &bad : &s, res, NULL);
		CHECK(rc == WEFT_EINVAL, "bad target on rank 1: %d", rc);
		CHECK(same_everywhere(weft_mpi_graph_error(g)), "%s",
		    weft_mpi_graph_error(g));
		CHECK(strstr(weft_mpi_graph_error(g), "rank 1"), "%s",
		    weft_mpi_graph_error(g));
		for (int i = 0; i < 1; i++)
			weft_value_release(&res[i]);
	}
	/* zero targets: a collective no-op */
	CHECK(weft_mpi_compute(g, 0, NULL, NULL, NULL) == WEFT_OK, "n=0");
	weft_mpi_graph_free(g);
	say("ok basics: owners run their nodes, results on the root only\n");
}

/* The default policy keeps chains together and spreads them evenly. */
static void
test_policy(void)
{
	weft_mpi_graph *g = weft_mpi_graph_new(M);
	weft_node last[30], src, total;
	weft_value res;
	weft_mpi_stats st;
	int per[3] = { 0, 0, 0 }, rc;

	src = WEFT_MPI_DELAYED(g, f_add, weft_lit(weft_int(5)));
	for (int i = 0; i < 30; i++) {
		/* a fan-out from src, then a chain of three */
		weft_node x = WEFT_MPI_DELAYED(
		    g, f_add, weft_ref(src), weft_lit(weft_int(i)));
		weft_node y = WEFT_MPI_DELAYED(g, f_add, weft_ref(x));
		last[i] = WEFT_MPI_DELAYED(g, f_add, weft_ref(y));
	}
	{
		weft_arg args[30];
		for (int i = 0; i < 30; i++)
			args[i] = weft_ref(last[i]);
		total = weft_mpi_delayed(g, f_add, 30, args);
	}
	rc = weft_mpi_compute(g, 1, &total, &res, NULL);
	CHECK(rc == WEFT_OK, "%s", weft_mpi_graph_error(g));
	if (rank == 0)
		CHECK(weft_as_int(res) == 30 * 5 + 435, "total %lld",
		    (long long)weft_as_int(res));
	weft_value_release(&res);
	for (int i = 0; i < 30; i++) {
		weft_node x = { last[i].id - 2 }, y = { last[i].id - 1 };
		int ow = weft_mpi_owner(g, last[i]);
		CHECK(ow == weft_mpi_owner(g, x) && ow == weft_mpi_owner(g, y),
		    "chain %d split", i);
		per[ow]++;
	}
	CHECK(per[0] == 10 && per[1] == 10 && per[2] == 10,
	    "chains per rank %d %d %d", per[0], per[1], per[2]);
	weft_mpi_stats_get(g, &st);
	/* src -> 20 chains on other ranks, 20 chain ends -> total */
	CHECK(st.cross_edges == 40, "cross edges %zu", st.cross_edges);
	weft_mpi_graph_free(g);
	say("ok default policy: 30 chains, 10 per rank, none split\n");
}

/* -- failures ------------------------------------------------------------------- */

static int
f_fail(weft_ctx *c, size_t n, const weft_value *a, weft_value *out)
{
	struct timespec ts = { 0, 20 * 1000000L };
	(void)n;
	(void)a;
	(void)out;
	nanosleep(&ts, NULL);
	return weft_fail(c, "deliberate failure %d", 42);
}

static int
f_big(weft_ctx *c, size_t n, const weft_value *a, weft_value *out)
{
	size_t len = (size_t)weft_as_int(a[0]);
	double *d;
	(void)c;
	(void)n;
	if (weft_f64s_new(len, NULL, out) != WEFT_OK)
		return WEFT_ENOMEM;
	d = weft_f64s_data_mut(*out);
	for (size_t i = 0; i < len; i++)
		d[i] = (double)i * 0.5 + 1.0 / (double)(i + 1);
	return WEFT_OK;
}

static void
test_failure(void)
{
	for (int round = 0; round < 3; round++) {
		weft_mpi_graph *g = weft_mpi_graph_new(M);
		weft_node big, bad, use, other, t[2];
		weft_value res[2];
		int rc;

		/* rank 0 makes a 4 MB array for rank 2; rank 1 fails;
		 * rank 2's node needs both */
		big = WEFT_MPI_DELAYED_NAMED(
		    g, "big", f_big, weft_lit(weft_int(500000)));
		bad = WEFT_MPI_DELAYED_NAMED(g, "bad", f_fail);
		use = WEFT_MPI_DELAYED_NAMED(
		    g, "use", f_sum, weft_ref(big), weft_ref(bad));
		other = WEFT_MPI_DELAYED_NAMED(
		    g, "other", f_sum, weft_ref(big));
		weft_mpi_set_owner(g, big, 0);
		weft_mpi_set_owner(g, bad, round == 2 ? 0 : 1);
		weft_mpi_set_owner(g, use, 2);
		weft_mpi_set_owner(g, other, round == 1 ? 1 : 2);
		t[0] = use;
		t[1] = other;
		rc = weft_mpi_compute(g, 2, t, res, NULL);
		CHECK(rc == WEFT_ETASK, "rc %d", rc);
		{
			char want[128];
			snprintf(want, sizeof(want),
			    "task 'bad' failed on rank %d: deliberate "
			    "failure 42",
			    round == 2 ? 0 : 1);
			CHECK(strcmp(weft_mpi_graph_error(g), want) == 0,
			    "message '%s'", weft_mpi_graph_error(g));
		}
		CHECK(same_everywhere(weft_mpi_graph_error(g)), "messages");
		CHECK(weft_is_nil(res[0]) && weft_is_nil(res[1]), "results");
		/* The graph, the pool and the communicator work after a
		 * failure: nothing of the failed compute is left in flight. */
		t[0] = other;
		rc = weft_mpi_compute(g, 1, t, res, NULL);
		CHECK(rc == WEFT_OK, "after failure: %s",
		    weft_mpi_graph_error(g));
		if (rank == 0)
			CHECK(weft_as_float(res[0]) > 1e15, "sum %g",
			    weft_as_float(res[0]));
		weft_value_release(&res[0]);
		weft_mpi_graph_free(g);
	}
	say("ok failures: WEFT_ETASK and the same message on every rank; "
	    "the next compute works\n");
}

/* Two failures at once: the lower rank's message wins, everywhere. */
static void
test_two_failures(void)
{
	weft_mpi_graph *g = weft_mpi_graph_new(M);
	weft_node f1, f2, s;
	weft_value res;
	int rc;

	f1 = WEFT_MPI_DELAYED_NAMED(g, "f2", f_fail);
	f2 = WEFT_MPI_DELAYED_NAMED(g, "f1", f_fail);
	s = WEFT_MPI_DELAYED(g, f_sum, weft_ref(f1), weft_ref(f2));
	weft_mpi_set_owner(g, f1, 2);
	weft_mpi_set_owner(g, f2, 1);
	weft_mpi_set_owner(g, s, 0);
	rc = weft_mpi_compute(g, 1, &s, &res, NULL);
	CHECK(rc == WEFT_ETASK, "rc %d", rc);
	CHECK(same_everywhere(weft_mpi_graph_error(g)), "messages");
	CHECK(strstr(weft_mpi_graph_error(g), "on rank 1") ||
		strstr(weft_mpi_graph_error(g), "on rank 2"),
	    "%s", weft_mpi_graph_error(g));
	weft_mpi_graph_free(g);
	say("ok two failures at once: one message, the same everywhere\n");
}

/* -- values of every kind, large ones, user types ----------------------------------- */

struct point {
	double x, y;
	char name[24];
};

static int
pt_size(const void *p, size_t *len)
{
	(void)p;
	*len = sizeof(struct point);
	return WEFT_OK;
}

static int
pt_pack(const void *p, void *buf, size_t len)
{
	memcpy(buf, p, len);
	return WEFT_OK;
}

static int
pt_unpack(const void *buf, size_t len, void **p)
{
	if (len != sizeof(struct point))
		return WEFT_EINVAL;
	*p = malloc(len);
	if (!*p)
		return WEFT_ENOMEM;
	memcpy(*p, buf, len);
	return WEFT_OK;
}

static const weft_mpi_type point_type = { "point", pt_size, pt_pack,
	pt_unpack, free, { NULL, NULL } };

static int
f_point(weft_ctx *c, size_t n, const weft_value *a, weft_value *out)
{
	struct point *p = calloc(1, sizeof(*p));
	(void)c;
	(void)n;
	if (!p)
		return WEFT_ENOMEM;
	p->x = weft_as_float(a[0]);
	p->y = p->x * 3;
	snprintf(p->name, sizeof(p->name), "pt%g", p->x);
	*out = weft_mpi_ptr(&point_type, p);
	return weft_is_nil(*out) ? WEFT_ENOMEM : WEFT_OK;
}

static int
f_raw_ptr(weft_ctx *c, size_t n, const weft_value *a, weft_value *out)
{
	(void)c;
	(void)n;
	(void)a;
	*out = weft_ptr(malloc(8), free);
	return WEFT_OK;
}

/* A point, or a list holding points, as text. */
static int
f_show(weft_ctx *c, size_t n, const weft_value *a, weft_value *out)
{
	char buf[256] = "";
	size_t at = 0;
	(void)c;
	for (size_t i = 0; i < n; i++) {
		weft_value v = a[i];
		if (weft_type_of(v) == WEFT_LIST)
			v = weft_list_get(v, 0);
		const struct point *p = weft_ptr_get(v);
		if (!p || weft_mpi_ptr_type(v) != &point_type)
			return weft_fail(c, "not a point");
		at += (size_t)snprintf(buf + at, sizeof(buf) - at,
		    "%s(%g,%g) ", p->name, p->x, p->y);
	}
	*out = weft_str(buf);
	return WEFT_OK;
}

static int
f_wrap(weft_ctx *c, size_t n, const weft_value *a, weft_value *out)
{
	(void)c;
	*out = weft_list(n, a);
	return WEFT_OK;
}

static int
f_bigstr(weft_ctx *c, size_t n, const weft_value *a, weft_value *out)
{
	size_t len = (size_t)weft_as_int(a[0]);
	char *s = malloc(len);
	(void)c;
	(void)n;
	if (!s)
		return WEFT_ENOMEM;
	for (size_t i = 0; i < len; i++)
		s[i] = (char)('a' + i % 26);
	*out = weft_as_bool(a[1]) ? weft_str_n(s, len) : weft_bytes(s, len);
	free(s);
	return WEFT_OK;
}

static int
f_biglist(weft_ctx *c, size_t n, const weft_value *a, weft_value *out)
{
	size_t len = (size_t)weft_as_int(a[0]);
	(void)c;
	(void)n;
	if (weft_list_new(len, out) != WEFT_OK)
		return WEFT_ENOMEM;
	for (size_t i = 0; i < len; i++)
		weft_list_set(out, i,
		    i % 3 ? weft_int((int64_t)i * 7) : weft_float(i / 3.0));
	return WEFT_OK;
}

static int
f_scale(weft_ctx *c, size_t n, const weft_value *a, weft_value *out)
{
	size_t len = weft_len(a[0]);
	const double *x = weft_f64s_data(a[0]);
	double *d;
	(void)c;
	(void)n;
	if (weft_f64s_new(len, NULL, out) != WEFT_OK)
		return WEFT_ENOMEM;
	d = weft_f64s_data_mut(*out);
	for (size_t i = 0; i < len; i++)
		d[i] = x[i] * 1.5 - 0.25;
	return WEFT_OK;
}

/* Builds the "large values" graph into either kind of graph. */
#define BIGN 3000000
static void
test_large(void)
{
	/* A second context on the same MPI (which stays initialized), with
	 * small messages, so that values go in many chunks. */
	weft_mpi_opts mo = { 0 };
	weft_mpi *m2 = NULL;
	weft_mpi_graph *g;
	weft_graph *g1 = weft_graph_new();
	weft_node t1[6], t2[6];
	weft_value r1[6], r2[6];
	weft_opts o1 = { 0 };
	double t0;
	int rc;

	mo.chunk_bytes = 1 << 20;
	rc = weft_mpi_init(NULL, NULL, &mo, &m2);
	CHECK(rc == WEFT_OK, "second context: %s", weft_mpi_error(m2));
	g = weft_mpi_graph_new(m2);
	{
		weft_node v = WEFT_MPI_DELAYED(g, f_big,
		    weft_lit(weft_int(BIGN)));
		weft_node w = WEFT_MPI_DELAYED(g, f_scale, weft_ref(v));
		weft_node s = WEFT_MPI_DELAYED(g, f_sum, weft_ref(w));
		weft_node str = WEFT_MPI_DELAYED(g, f_bigstr,
		    weft_lit(weft_int(300000)), weft_lit(weft_bool(1)));
		weft_node byt = WEFT_MPI_DELAYED(g, f_bigstr,
		    weft_lit(weft_int(2500000)), weft_lit(weft_bool(0)));
		weft_node lst = WEFT_MPI_DELAYED(g, f_biglist,
		    weft_lit(weft_int(40000)));
		weft_mpi_set_owner(g, v, 0);
		weft_mpi_set_owner(g, w, 1);
		weft_mpi_set_owner(g, s, 2);
		weft_mpi_set_owner(g, str, 1);
		weft_mpi_set_owner(g, byt, 2);
		weft_mpi_set_owner(g, lst, 2);
		t2[0] = w;
		t2[1] = s;
		t2[2] = str;
		t2[3] = byt;
		t2[4] = lst;
		t2[5] = w;
	}
	{
		weft_node v = WEFT_DELAYED(g1, f_big, weft_lit(weft_int(BIGN)));
		weft_node w = WEFT_DELAYED(g1, f_scale, weft_ref(v));
		t1[0] = w;
		t1[1] = WEFT_DELAYED(g1, f_sum, weft_ref(w));
		t1[2] = WEFT_DELAYED(g1, f_bigstr, weft_lit(weft_int(300000)),
		    weft_lit(weft_bool(1)));
		t1[3] = WEFT_DELAYED(g1, f_bigstr,
		    weft_lit(weft_int(2500000)), weft_lit(weft_bool(0)));
		t1[4] = WEFT_DELAYED(g1, f_biglist, weft_lit(weft_int(40000)));
		t1[5] = w;
	}
	o1.pool = weft_mpi_pool(M);
	CHECK(weft_compute(g1, 6, t1, r1, &o1) == WEFT_OK, "one process");
	t0 = MPI_Wtime();
	rc = weft_mpi_compute(g, 6, t2, r2, NULL);
	t0 = MPI_Wtime() - t0;
	CHECK(rc == WEFT_OK, "%s", weft_mpi_graph_error(g));
	for (int i = 0; i < 6; i++) {
		if (rank == 0)
			CHECK(weft_value_equal(r1[i], r2[i]),
			    "large target %d differs", i);
		weft_value_release(&r1[i]);
		weft_value_release(&r2[i]);
	}
	{
		weft_mpi_stats st;
		weft_mpi_stats_get(g, &st);
		if (rank == 1)
			/* w goes to rank 2 (s) and to rank 0 (root), once
			 * each although it is asked for twice */
			CHECK(st.msgs_sent == 3 &&
				st.bytes_sent > 2 * (size_t)BIGN * 8,
			    "rank 1 sent %zu values, %zu bytes",
			    st.msgs_sent, st.bytes_sent);
	}
	say("ok large values: a 24 MB array across 3 ranks in 1 MiB "
	    "chunks, strings, bytes, a 40000-item list (%.2f s)\n",
	    t0);
	weft_mpi_graph_free(g);
	weft_graph_free(g1);
	CHECK(weft_mpi_finalize(m2) == WEFT_OK, "finalize");
}

static void
test_ptr(void)
{
	weft_mpi_graph *g = weft_mpi_graph_new(M);
	weft_node p, q, l, sh, raw, use;
	weft_value res;
	int rc;

	CHECK(weft_mpi_type_register(M, &point_type) == WEFT_OK, "register");
	{
		static const weft_mpi_type other = { "point", pt_size, pt_pack,
			pt_unpack, free, { NULL, NULL } };
		CHECK(weft_mpi_type_register(M, &other) == WEFT_EINVAL,
		    "duplicate name");
	}
	p = WEFT_MPI_DELAYED(g, f_point, weft_lit(weft_float(1.5)));
	q = WEFT_MPI_DELAYED(g, f_point, weft_lit(weft_float(-2)));
	l = WEFT_MPI_DELAYED(g, f_wrap, weft_ref(q));
	sh = WEFT_MPI_DELAYED(g, f_show, weft_ref(p), weft_ref(l));
	weft_mpi_set_owner(g, p, 0);
	weft_mpi_set_owner(g, q, 1);
	weft_mpi_set_owner(g, l, 1);
	weft_mpi_set_owner(g, sh, 2);
	rc = weft_mpi_compute(g, 1, &sh, &res, NULL);
	CHECK(rc == WEFT_OK, "%s", weft_mpi_graph_error(g));
	if (rank == 0)
		CHECK(strcmp(weft_as_str(res), "pt1.5(1.5,4.5) pt-2(-2,-6) ") ==
			0,
		    "'%s'", weft_as_str(res));
	weft_value_release(&res);
	/* the point itself, to the root */
	rc = weft_mpi_compute(g, 1, &q, &res, NULL);
	CHECK(rc == WEFT_OK, "%s", weft_mpi_graph_error(g));
	if (rank == 0)
		CHECK(weft_mpi_ptr_type(res) == &point_type &&
			((struct point *)weft_ptr_get(res))->y == -6,
		    "point");
	weft_value_release(&res);
	/* a plain weft_ptr cannot cross: a clear error naming the node */
	raw = WEFT_MPI_DELAYED_NAMED(g, "rawptr", f_raw_ptr);
	use = WEFT_MPI_DELAYED(g, f_show, weft_ref(raw));
	weft_mpi_set_owner(g, raw, 0);
	weft_mpi_set_owner(g, use, 1);
	rc = weft_mpi_compute(g, 1, &use, &res, NULL);
	CHECK(rc == WEFT_ETYPE, "rc %d", rc);
	CHECK(strstr(weft_mpi_graph_error(g),
		  "value of node 'rawptr' (ptr) cannot be sent to rank 1: a "
		  "ptr value of no registered type"),
	    "'%s'", weft_mpi_graph_error(g));
	CHECK(same_everywhere(weft_mpi_graph_error(g)), "messages");
	weft_mpi_graph_free(g);
	say("ok ptr values: a registered type crosses ranks, a plain one is "
	    "a clear error\n");
}

/* -- the cross-rank checks --------------------------------------------------------- */

static void
test_divergence(void)
{
	weft_mpi_graph *g = weft_mpi_graph_new(M);
	weft_node a, b;
	weft_value res;
	int rc;

	a = WEFT_MPI_DELAYED(g, f_add, weft_lit(weft_int(rank == 2 ? 9 : 1)));
	b = WEFT_MPI_DELAYED(g, f_add, weft_ref(a));
	rc = weft_mpi_compute(g, 1, &b, &res, NULL);
	CHECK(rc == WEFT_EINVAL, "rc %d", rc);
	CHECK(strstr(weft_mpi_graph_error(g),
		  "the graph differs between ranks: rank 2 built a different "
		  "graph than rank 0"),
	    "'%s'", weft_mpi_graph_error(g));
	weft_mpi_graph_free(g);

	/* registries that differ: init fails on every rank */
	{
		weft_registry *reg = weft_registry_new();
		weft_mpi_opts mo = { 0 };
		weft_mpi *m2 = NULL;
		weft_registry_add_builtins(reg);
		if (rank == 2)
			weft_registry_add(reg, "extra", f_add, 0, 1, NULL);
		mo.registry = reg;
		rc = weft_mpi_init(NULL, NULL, &mo, &m2);
		CHECK(rc == WEFT_EINVAL && m2, "rc %d", rc);
		CHECK(strstr(weft_mpi_error(m2),
			  "function registry differs on rank 2"),
		    "'%s'", weft_mpi_error(m2));
		CHECK(weft_mpi_graph_new(m2) == NULL, "failed context");
		weft_mpi_finalize(m2);
		weft_registry_free(reg);
	}
	/* the same registry: fine, and calls by name work */
	{
		weft_registry *reg = weft_registry_new();
		weft_mpi_opts mo = { 0 };
		weft_mpi *m2 = NULL;
		weft_node x, y, z;
		weft_registry_add_builtins(reg);
		mo.registry = reg;
		mo.threads = 1;
		rc = weft_mpi_init(NULL, NULL, &mo, &m2);
		CHECK(rc == WEFT_OK, "%s", weft_mpi_error(m2));
		g = weft_mpi_graph_new(m2);
		x = weft_mpi_call(g, "x", "range", 1,
		    (weft_arg[]) { weft_lit(weft_int(10)) });
		y = weft_mpi_call(g, "y", "sum", 1, (weft_arg[]) { weft_ref(x) });
		z = weft_mpi_call(g, "z", "nosuch", 0, NULL);
		CHECK(weft_node_ok(y) && !weft_node_ok(z), "call");
		CHECK(strstr(weft_mpi_graph_error(g), "unknown function"),
		    "'%s'", weft_mpi_graph_error(g));
		weft_mpi_set_owner(g, x, 1);
		rc = weft_mpi_compute(g, 1, &y, &res, NULL);
		CHECK(rc == WEFT_OK, "%s", weft_mpi_graph_error(g));
		if (rank == 0)
			CHECK(weft_as_int(res) == 45, "sum");
		weft_value_release(&res);
		weft_mpi_graph_free(g);
		weft_mpi_finalize(m2);
		weft_registry_free(reg);
	}
	say("ok checks: a graph or a registry that differs between ranks is "
	    "an error everywhere\n");
}

int
main(int argc, char **argv)
{
	int provided;
	double t0;

	MPI_Init_thread(&argc, &argv, MPI_THREAD_MULTIPLE, &provided);
	MPI_Comm_rank(MPI_COMM_WORLD, &rank);
	MPI_Comm_size(MPI_COMM_WORLD, &nranks);
	/* A launcher of another MPI starts 3 singletons, which would pass
	 * alone: insist on one job of three. */
	CHECK(nranks == 3, "the tests need exactly 3 ranks, not %d", nranks);
	CHECK(weft_mpi_init(&argc, &argv, NULL, &M) == WEFT_OK, "init: %s",
	    weft_mpi_error(M));
	t0 = MPI_Wtime();
	test_basic();
	test_policy();
	test_random();
	test_failure();
	test_two_failures();
	test_large();
	test_ptr();
	test_divergence();
	say("all weft-mpi tests passed on %d ranks (%.2f s)\n", nranks,
	    MPI_Wtime() - t0);
	CHECK(weft_mpi_finalize(M) == WEFT_OK, "finalize");
	MPI_Finalize();
	return 0;
}
