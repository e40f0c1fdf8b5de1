/*
 * The driver shared by every C/C++ program of the suite: shapes, reference
 * results, the command line, timing, memory and the JSON result line.
 * Nothing here is timed except through the runtime's own bench_now_ms()
 * calls; the reference is computed after the timed run, so that its memory
 * does not pre-fault pages for the run.
 */
#include "bench.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "dag.h"

static const char *const shape_names[BENCH_NSHAPES] = {
	"indep", "chain", "tree", "wave", "fib", "random", "coarse", "idle",
	"wake",
};

const char *
bench_shape_name(bench_shape s)
{
	return (unsigned)s < BENCH_NSHAPES ? shape_names[s] : "?";
}

static int
shape_from_name(const char *name, bench_shape *out)
{
	for (unsigned s = 0; s < BENCH_NSHAPES; s++)
		if (strcmp(name, shape_names[s]) == 0) {
			*out = (bench_shape)s;
			return 0;
		}
	return -1;
}

double
bench_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* -- problems ------------------------------------------------------------ */

static uint64_t
fib_value(size_t n)
{
	uint64_t a = 0, b = 1;

	for (size_t i = 0; i < n; i++) {
		uint64_t t = a + b;
		a = b;
		b = t;
	}
	return a;
}

int
bench_problem_init_n(bench_problem *p, bench_shape shape, size_t n)
{
	memset(p, 0, sizeof(*p));
	p->shape = shape;
	p->n = n < 1 ? 1 : n;
	n = p->n;
	switch (shape) {
	case BENCH_INDEP:
	case BENCH_COARSE:
	case BENCH_WAKE:
		p->tasks = n;
		break;
	case BENCH_CHAIN:
		p->tasks = n;
		p->edges = n - 1;
		break;
	case BENCH_TREE:
		p->tasks = 2 * n - 1;
		p->edges = 2 * n - 2;
		break;
	case BENCH_WAVE:
		p->tasks = n * n;
		p->edges = 2 * n * (n - 1);
		break;
	case BENCH_FIB:
		p->tasks = (size_t)(2 * fib_value(n + 1) - 1);
		break;
	case BENCH_RANDOM: {
		p->tasks = n;
		p->off = malloc((n + 1) * sizeof(*p->off));
		p->pred = malloc(n * BENCH_DAG_MAX_FANIN * sizeof(*p->pred));
		uint8_t *used = calloc(n, 1);
		if (!p->off || !p->pred || !used) {
			free(used);
			bench_problem_free(p);
			return -1;
		}
		p->edges = bench_dag_fill(n, BENCH_DAG_SEED, p->off, p->pred);
		for (size_t e = 0; e < p->edges; e++)
			used[p->pred[e]] = 1;
		for (size_t i = 0; i < n; i++)
			p->nsinks += !used[i];
		p->sinks = malloc(p->nsinks * sizeof(*p->sinks));
		if (!p->sinks) {
			free(used);
			bench_problem_free(p);
			return -1;
		}
		for (size_t i = 0, k = 0; i < n; i++)
			if (!used[i])
				p->sinks[k++] = (uint32_t)i;
		free(used);
		break;
	}
	case BENCH_IDLE:
		p->tasks = 0;
		break;
	default:
		return -1;
	}
	return 0;
}

static size_t
scaled(double full, double scale)
{
	double v = floor(full * scale + 0.5);
	return v < 1 ? 1 : (size_t)v;
}

int
bench_problem_init(bench_problem *p, bench_shape shape, double scale)
{
	size_t n;

	switch (shape) {
	case BENCH_INDEP:
	case BENCH_CHAIN:
	case BENCH_RANDOM:
		n = scaled(1e6, scale);
		break;
	case BENCH_COARSE:
		n = scaled(1e4, scale);
		break;
	case BENCH_TREE: { /* 2^20 leaves, scaled to a power of two */
		double e = floor(20 + log2(scale) + 0.5);
		n = (size_t)1 << (e < 0 ? 0 : (unsigned)e);
		break;
	}
	case BENCH_WAVE:
		n = scaled(1024, sqrt(scale));
		break;
	case BENCH_FIB: { /* calls grow by phi per level */
		double e = floor(30 + log(scale) / log(1.6180339887) + 0.5);
		n = e < 2 ? 2 : (size_t)e;
		break;
	}
	default:
		n = 1;
	}
	return bench_problem_init_n(p, shape, n);
}

void
bench_problem_free(bench_problem *p)
{
	free(p->off);
	free(p->pred);
	free(p->sinks);
	p->off = p->pred = p->sinks = NULL;
}

size_t
bench_slots(const bench_problem *p)
{
	return p->shape == BENCH_TREE ? 2 * p->n
	    : p->shape == BENCH_FIB   ? 1
				      : p->tasks;
}

uint64_t
bench_check_values(const bench_problem *p, const uint64_t *v)
{
	uint64_t s = 0;
	size_t n = p->n;

	switch (p->shape) {
	case BENCH_INDEP:
	case BENCH_COARSE:
	case BENCH_WAKE:
		for (size_t i = 0; i < n; i++)
			s += v[i];
		return s;
	case BENCH_CHAIN:
		return v[n - 1];
	case BENCH_TREE:
		return v[1];
	case BENCH_WAVE:
		return v[n * n - 1];
	case BENCH_FIB:
		return v[0];
	case BENCH_RANDOM:
		for (size_t k = 0; k < p->nsinks; k++)
			s += v[p->sinks[k]];
		return s;
	default:
		return 0;
	}
}

/* (A, C) such that BENCH_COARSE_ITERS LCG steps from x give A*x + C. */
static void
coarse_jump(uint64_t *ap, uint64_t *cp)
{
	uint64_t A = 1, C = 0, a = BENCH_LCG_A, c = BENCH_LCG_C;

	for (unsigned k = BENCH_COARSE_ITERS; k; k >>= 1) {
		if (k & 1) { /* apply (a, c) after (A, C) */
			A = a * A;
			C = a * C + c;
		}
		c = a * c + c; /* (a, c) twice */
		a = a * a;
	}
	*ap = A;
	*cp = C;
}

uint64_t
bench_reference(const bench_problem *p)
{
	size_t n = p->n;
	uint64_t s = 0, *v;

	switch (p->shape) {
	case BENCH_INDEP:
	case BENCH_WAKE:
		for (size_t i = 0; i < n; i++)
			s += bench_leaf(i);
		return s;
	case BENCH_COARSE: { /* closed form: independent of bench_coarse */
		uint64_t A, C;
		coarse_jump(&A, &C);
		for (size_t i = 0; i < n; i++)
			s += A * i + C;
		return s;
	}
	case BENCH_CHAIN:
		s = bench_leaf(0);
		for (size_t i = 1; i < n; i++)
			s = bench_step(s);
		return s;
	case BENCH_FIB:
		return fib_value(n);
	default:
		break;
	}
	/* the array-based shapes */
	size_t slots = p->shape == BENCH_TREE ? 2 * n : p->tasks;
	v = malloc(slots * sizeof(*v));
	if (!v) {
		fprintf(stderr, "bench: no memory for the reference\n");
		exit(3);
	}
	switch (p->shape) {
	case BENCH_TREE:
		for (size_t k = 0; k < n; k++)
			v[n + k] = bench_leaf(k);
		for (size_t i = n - 1; i >= 1; i--)
			v[i] = bench_join(v[2 * i], v[2 * i + 1]);
		break;
	case BENCH_WAVE:
		for (size_t i = 0; i < n; i++)
			for (size_t j = 0; j < n; j++)
				v[i * n + j] =
				    bench_join(i ? v[(i - 1) * n + j] : 0,
					j ? v[i * n + j - 1] : 0);
		break;
	case BENCH_RANDOM:
		for (size_t i = 0; i < n; i++) {
			uint64_t in[BENCH_DAG_MAX_FANIN];
			size_t k = 0;
			for (uint32_t e = p->off[i]; e < p->off[i + 1]; e++)
				in[k++] = v[p->pred[e]];
			v[i] = bench_rnode(i, k, in);
		}
		break;
	default:
		break;
	}
	s = bench_check_values(p, v);
	free(v);
	return s;
}

/* -- memory and CPU ------------------------------------------------------ */

long
bench_status_kb(const char *field)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	size_t len = strlen(field);
	long kb = -1;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, field, len) == 0 && line[len] == ':') {
			kb = strtol(line + len + 1, NULL, 10);
			break;
		}
	fclose(f);
	return kb;
}

/* Resets the process's peak RSS (VmHWM) to its current RSS (Linux >= 4.0);
 * 0 on success. */
static int
reset_peak_rss(void)
{
	FILE *f = fopen("/proc/self/clear_refs", "w");
	int ok;

	if (!f)
		return -1;
	ok = fputs("5", f) >= 0;
	return (fclose(f) == 0 && ok) ? 0 : -1;
}

static long built_rss_kb = -1;

double
bench_built(void)
{
	built_rss_kb = bench_status_kb("VmRSS");
	return bench_now_ms();
}

static double
cpu_ms(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec * 1e3 +
	    (double)ru.ru_utime.tv_usec / 1e3 +
	    (double)ru.ru_stime.tv_sec * 1e3 + (double)ru.ru_stime.tv_usec / 1e3;
}

static long
peak_rss_kb(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_maxrss;
}

static void
sleep_ms(double ms)
{
	struct timespec ts;

	ts.tv_sec = (time_t)(ms / 1e3);
	ts.tv_nsec = (long)((ms - (double)ts.tv_sec * 1e3) * 1e6);
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* -- the main program ---------------------------------------------------- */

typedef struct args {
	const char *runtime;
	bench_shape shape;
	unsigned threads;
	double scale;
	long n; /* explicit size, overrides scale */
	int reps;
	int warmup;
	int list;
} args;

static void
usage(FILE *f, const char *prog, const bench_runtime *rts, size_t nrts)
{
	fprintf(f,
	    "usage: %s --shape SHAPE [--threads N] [--scale F] [--n N]\n"
	    "          [--reps R] [--no-warmup] [--runtime NAME] [--list]\n"
	    "  --shape    indep chain tree wave fib random coarse idle wake\n"
	    "  --threads  workers (default 0 = one per online CPU)\n"
	    "  --scale    size relative to the full shape (default 1;\n"
	    "             0.01 for a smoke run)\n"
	    "  --n        the size parameter itself (nodes; tree: leaves;\n"
	    "             wave: side; fib: argument)\n"
	    "  --reps     timed runs in this process, one JSON line each\n"
	    "             (default 1; later reps reuse warm memory)\n"
	    "  --no-warmup  skip the small untimed run of the same shape\n"
	    "  --list     print the shapes this runtime supports\n"
	    "runtimes:",
	    prog);
	for (size_t i = 0; i < nrts; i++)
		fprintf(f, " %s", rts[i].name);
	fprintf(f, "\n");
}

static int
parse_args(int argc, char **argv, args *a, const bench_runtime *rts,
    size_t nrts)
{
	int have_shape = 0;

	memset(a, 0, sizeof(*a));
	a->scale = 1;
	a->reps = 1;
	a->warmup = 1;
	a->n = -1;
	for (int i = 1; i < argc; i++) {
		const char *o = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		char *end = NULL;
		if (strcmp(o, "--help") == 0 || strcmp(o, "-h") == 0) {
			usage(stdout, argv[0], rts, nrts);
			exit(0);
		} else if (strcmp(o, "--list") == 0) {
			a->list = 1;
			continue;
		} else if (strcmp(o, "--no-warmup") == 0) {
			a->warmup = 0;
			continue;
		}
		if (!v) {
			fprintf(stderr, "%s: %s needs a value\n", argv[0], o);
			return -1;
		}
		i++;
		errno = 0;
		if (strcmp(o, "--shape") == 0) {
			if (shape_from_name(v, &a->shape) != 0) {
				fprintf(stderr, "%s: unknown shape '%s'\n",
				    argv[0], v);
				return -1;
			}
			have_shape = 1;
			continue;
		} else if (strcmp(o, "--runtime") == 0) {
			a->runtime = v;
			continue;
		} else if (strcmp(o, "--threads") == 0) {
			long t = strtol(v, &end, 10);
			if (t < 0 || t > 4096)
				end = NULL;
			a->threads = (unsigned)t;
		} else if (strcmp(o, "--scale") == 0) {
			a->scale = strtod(v, &end);
			if (!(a->scale > 0 && a->scale <= 100))
				end = NULL;
		} else if (strcmp(o, "--n") == 0) {
			a->n = strtol(v, &end, 10);
			if (a->n < 1 || a->n > 100000000)
				end = NULL;
		} else if (strcmp(o, "--reps") == 0) {
			long r = strtol(v, &end, 10);
			if (r < 1 || r > 1000)
				end = NULL;
			a->reps = (int)r;
		} else {
			fprintf(stderr, "%s: unknown option '%s' (try --help)\n",
			    argv[0], o);
			return -1;
		}
		if (!end || *end || errno) {
			fprintf(stderr, "%s: bad value '%s' for %s\n", argv[0],
			    v, o);
			return -1;
		}
	}
	if (!have_shape && !a->list) {
		usage(stderr, argv[0], rts, nrts);
		return -1;
	}
	if (a->threads == 0) {
		long c = sysconf(_SC_NPROCESSORS_ONLN);
		a->threads = c > 0 ? (unsigned)c : 1;
	}
	return 0;
}

static void
json_num(FILE *f, const char *key, double v)
{
	if (isfinite(v))
		fprintf(f, ",\"%s\":%.6g", key, v);
	else
		fprintf(f, ",\"%s\":null", key);
}

/* The fixed head of every line. */
static void
emit_head(const bench_runtime *rt, const args *a, const bench_problem *p,
    int rep)
{
	printf("{\"runtime\":\"%s\",\"shape\":\"%s\",\"threads\":%u,"
	       "\"scale\":%.6g,\"rep\":%d,\"tasks\":%zu,\"edges\":%zu",
	    rt->name, bench_shape_name(a->shape), a->threads, a->scale, rep,
	    p->tasks, p->edges);
}

static void
emit_tail(const bench_runtime *rt, int ok)
{
	printf(",\"peak_rss_kb\":%ld,\"ok\":%s", peak_rss_kb(),
	    ok ? "true" : "false");
	if (rt->note)
		printf(",\"note\":\"%s\"", rt->note);
	printf("}\n");
	fflush(stdout);
}

static int
run_once(const bench_runtime *rt, void *st, const bench_problem *p,
    bench_times *t)
{
	memset(t, 0, sizeof(*t));
	return rt->run(st, p, t);
}

/* Builds the small problem of the warm-up: same shape, ~1,000 tasks. */
static int
warm_problem(bench_problem *p, bench_shape s)
{
	static const size_t n[BENCH_NSHAPES] = {
		[BENCH_INDEP] = 1000, [BENCH_CHAIN] = 1000,
		[BENCH_TREE] = 512, [BENCH_WAVE] = 32, [BENCH_FIB] = 14,
		[BENCH_RANDOM] = 1000, [BENCH_COARSE] = 4, [BENCH_IDLE] = 1000,
		[BENCH_WAKE] = 1000,
	};
	bench_shape ws = (s == BENCH_IDLE || s == BENCH_WAKE) ? BENCH_INDEP : s;
	return bench_problem_init_n(p, ws, n[s]);
}

static int
graph_reps(const bench_runtime *rt, void *st, const args *a)
{
	bench_problem p;
	int status = 0;
	int r = a->n > 0 ? bench_problem_init_n(&p, a->shape, (size_t)a->n)
			 : bench_problem_init(&p, a->shape, a->scale);

	if (r != 0) {
		fprintf(stderr, "%s: no memory for the %s problem\n", rt->name,
		    bench_shape_name(a->shape));
		return 3;
	}
	for (int rep = 0; rep < a->reps; rep++) {
		bench_times t;
		int peak_ok = reset_peak_rss() == 0;
		long rss0 = bench_status_kb("VmRSS");
		built_rss_kb = -1;
		double c0 = cpu_ms();
		if (run_once(rt, st, &p, &t) != 0) {
			fprintf(stderr, "%s: %s run failed\n", rt->name,
			    bench_shape_name(a->shape));
			status = 3;
			break;
		}
		double c1 = cpu_ms();
		long hwm = bench_status_kb("VmHWM");
		uint64_t want = bench_reference(&p);
		int ok = t.check == want;
		double total = t.build_ms + t.run_ms;
		double tasks = (double)p.tasks;

		emit_head(rt, a, &p, rep);
		json_num(stdout, "build_ms", t.build_ms);
		json_num(stdout, "run_ms", t.run_ms);
		json_num(stdout, "teardown_ms", t.teardown_ms);
		json_num(stdout, "total_ms", total);
		json_num(stdout, "ns_per_task", total * 1e6 / tasks);
		json_num(stdout, "build_ns_per_task",
		    t.fused ? NAN : t.build_ms * 1e6 / tasks);
		json_num(stdout, "run_ns_per_task", t.run_ms * 1e6 / tasks);
		json_num(stdout, "teardown_ns_per_task",
		    t.teardown_ms * 1e6 / tasks);
		json_num(stdout, "cpu_ms", c1 - c0);
		json_num(stdout, "bytes_per_node",
		    peak_ok && rss0 >= 0 && hwm >= 0
			? (double)(hwm - rss0) * 1024.0 / tasks
			: NAN);
		json_num(stdout, "graph_bytes_per_node",
		    rss0 >= 0 && built_rss_kb >= 0
			? (double)(built_rss_kb - rss0) * 1024.0 / tasks
			: NAN);
		printf(",\"fused\":%s,\"check\":\"0x%016" PRIx64
		       "\",\"expected\":\"0x%016" PRIx64 "\"",
		    t.fused ? "true" : "false", t.check, want);
		emit_tail(rt, ok);
		if (!ok) {
			fprintf(stderr,
			    "%s: WRONG RESULT for %s: got 0x%016" PRIx64
			    ", expected 0x%016" PRIx64 "\n",
			    rt->name, bench_shape_name(a->shape), t.check,
			    want);
			status = 1;
		}
	}
	bench_problem_free(&p);
	return status;
}

/* CPU the process uses over 1 s while its pool has no work (the main
 * thread sleeps, so every CPU ms is the workers'), counted from the moment
 * the last run returned: spinning before sleeping is included. */
static int
idle_rep(const bench_runtime *rt, void *st, const args *a, int rep)
{
	bench_problem p;
	bench_times t;
	const double wall = 1000;
	int status = 0;

	if (warm_problem(&p, BENCH_IDLE) != 0 || run_once(rt, st, &p, &t) != 0)
		status = 3;
	double c0 = cpu_ms();
	sleep_ms(wall);
	double used = cpu_ms() - c0;
	if (status == 0) {
		int ok = t.check == bench_reference(&p);
		bench_problem q = p;
		q.tasks = 0;
		q.edges = 0;
		emit_head(rt, a, &q, rep);
		json_num(stdout, "run_ms", wall);
		json_num(stdout, "cpu_ms", used);
		json_num(stdout, "idle_cpu_pct", used / wall * 100);
		emit_tail(rt, ok);
		status = ok ? 0 : 1;
	}
	bench_problem_free(&p);
	return status;
}

int
bench_cmp_double(const void *x, const void *y)
{
	double a = *(const double *)x, b = *(const double *)y;
	return (a > b) - (a < b);
}

/* Round trip of a 1-task run on a pool that went to sleep: 21 samples,
 * 50 ms of sleep before each. */
static int
wake_rep(const bench_runtime *rt, void *st, const args *a, int rep)
{
	enum { SAMPLES = 21 };
	double us[SAMPLES];
	bench_problem p;
	bench_times t;
	int ok = 1;

	if (bench_problem_init_n(&p, BENCH_INDEP, 1) != 0)
		return 3;
	uint64_t want = bench_reference(&p);
	for (int i = 0; i < SAMPLES; i++) {
		sleep_ms(50);
		double t0 = bench_now_ms();
		if (run_once(rt, st, &p, &t) != 0)
			return 3;
		us[i] = (bench_now_ms() - t0) * 1e3;
		ok &= t.check == want;
	}
	qsort(us, SAMPLES, sizeof(us[0]), bench_cmp_double);
	emit_head(rt, a, &p, rep);
	json_num(stdout, "run_ms", us[SAMPLES / 2] / 1e3);
	json_num(stdout, "wake_us", us[SAMPLES / 2]);
	json_num(stdout, "wake_us_min", us[0]);
	json_num(stdout, "wake_us_max", us[SAMPLES - 1]);
	emit_tail(rt, ok);
	return ok ? 0 : 1;
}

int
bench_main(int argc, char **argv, const bench_runtime *rts, size_t nrts)
{
	const bench_runtime *rt = &rts[0];
	void *st = NULL;
	args a;
	int status = 0;

	if (parse_args(argc, argv, &a, rts, nrts) != 0)
		return 2;
	if (a.runtime) {
		rt = NULL;
		for (size_t i = 0; i < nrts; i++)
			if (strcmp(rts[i].name, a.runtime) == 0)
				rt = &rts[i];
		if (!rt) {
			fprintf(stderr, "%s: unknown runtime '%s'\n", argv[0],
			    a.runtime);
			return 2;
		}
	}
	if (a.list) {
		const char *sep = "";
		for (unsigned s = 0; s < BENCH_NSHAPES; s++)
			if (rt->shapes & BENCH_MASK(s)) {
				printf("%s%s", sep, shape_names[s]);
				sep = " ";
			}
		printf("\n");
		return 0;
	}
	if (!(rt->shapes & BENCH_MASK(a.shape))) {
		fprintf(stderr, "%s: shape %s not supported%s%s\n", rt->name,
		    bench_shape_name(a.shape), rt->missing ? ": " : "",
		    rt->missing ? rt->missing : "");
		return 77;
	}
	if (rt->init(a.threads, &st) != 0) {
		fprintf(stderr, "%s: could not start %u threads\n", rt->name,
		    a.threads);
		return 3;
	}
	if (a.warmup) { /* start threads, fault in code; small: see graph_reps */
		bench_problem w;
		bench_times t;
		if (warm_problem(&w, a.shape) != 0 ||
		    run_once(rt, st, &w, &t) != 0) {
			fprintf(stderr, "%s: warm-up run failed\n", rt->name);
			status = 3;
		} else if (t.check != bench_reference(&w)) {
			fprintf(stderr, "%s: WRONG RESULT in the warm-up run\n",
			    rt->name);
			status = 1;
		}
		bench_problem_free(&w);
	}
	if (status == 0) {
		if (a.shape == BENCH_IDLE || a.shape == BENCH_WAKE) {
			for (int rep = 0; rep < a.reps && status == 0; rep++)
				status = a.shape == BENCH_IDLE
				    ? idle_rep(rt, st, &a, rep)
				    : wake_rep(rt, st, &a, rep);
		} else {
			status = graph_reps(rt, st, &a);
		}
	}
	rt->fini(st);
	return status;
}
