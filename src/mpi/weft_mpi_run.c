/*
 * weft-mpi: runs a graph file across the ranks of an MPI job.
 *
 *   mpirun -n 3 weft-mpi run graph.json
 *
 * Rank 0 reads the file and prints the results, in weft run's format;
 * every rank runs the keys it owns. Uses the public API only.
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "weft.h"
#include "weft/mpi.h"

enum {
	EXIT_OK = 0,
	EXIT_RUN = 1,
	EXIT_USAGE = 2,
	EXIT_MISMATCH = 3,
	EXIT_TIMEOUT = WEFT_MPI_EXIT_TIMEOUT,
};

static const char usage[] =
    "usage: mpirun -n N weft-mpi run FILE [options]\n"
    "\n"
    "Runs a graph file (as 'weft run' does) across the ranks of an MPI "
    "job:\n"
    "each key runs on one rank, values cross ranks only where a key uses "
    "one\n"
    "from another rank, and rank 0 prints the targets' values as one "
    "JSON\n"
    "object {\"key\": value, ...} on standard output, exactly as 'weft "
    "run'\n"
    "would. Rank 0 reads FILE ('-' is standard input) and sends it to the\n"
    "others. A key's owner is chosen by a default policy (chains stay on "
    "one\n"
    "rank, chains are shared out evenly), or given in the explicit form:\n"
    "  \"k\": {\"fn\": \"sum\", \"args\": [\"a\", \"b\"], \"rank\": 1}\n"
    "\n"
    "options:\n"
    "  -t, --target KEY     compute KEY (repeatable)\n"
    "  -j, --threads N      worker threads per rank (default 0: the "
    "cores MPI\n"
    "                       gave the rank, shared among ranks that got "
    "the same)\n"
    "  --plugin LIB.so      load more functions (repeatable; the same on "
    "every\n"
    "                       rank)\n"
    "  -o, --output json|text  as for weft run\n"
    "  --strict             a string argument that is not a key is an "
    "error\n"
    "  --check              rank 0 also runs the graph in one process and\n"
    "                       compares the results bit for bit (exit 3 if "
    "they\n"
    "                       differ)\n"
    "  --stats              one line per rank on stderr: tasks, waves, "
    "messages\n"
    "                       and bytes sent and received, seconds\n"
    "  --timeout SECONDS    abort the job if the run takes longer (a hung "
    "rank)\n"
    "  --max-nodes N, --max-depth N   as for weft run\n"
    "  -h, --help           show this help\n"
    "\n"
    "Every rank must be given the same options: they are compared before "
    "the\n"
    "run, and a job whose ranks disagree ends with status 2.\n"
    "\n"
    "exit status: 0 success; 1 a task failed (stderr names the key, the "
    "rank\n"
    "and the message); 2 bad input or usage, or ranks that disagree; 3 "
    "--check\n"
    "found a difference; 4 --timeout passed (the job was aborted); 5 a "
    "fatal\n"
    "MPI error\n";

struct opts {
	const char *file;
	const char **targets;
	size_t ntargets;
	const char **plugins;
	size_t nplugins;
	unsigned threads;
	int text, check, stats;
	double timeout;
	weft_spec_opts so;
};

static int rank0;
/* While parsing, messages are kept, not printed: each rank parses its own
 * command line, and the ranks first agree on who says what (agree()). */
static int parsing;
static char parse_msg[256];

static void
err(const char *fmt, ...) WEFT_PRINTF(1, 2);

static void
err(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (parsing) {
		if (!parse_msg[0])
			vsnprintf(parse_msg, sizeof(parse_msg), fmt, ap);
	} else if (rank0) {
		fputs("weft-mpi: ", stderr);
		vfprintf(stderr, fmt, ap);
		fputc('\n', stderr);
	}
	va_end(ap);
}

/* "--name VALUE" or "--name=VALUE"; 1 matched, 0 not, -1 missing value. */
static int
opt(int argc, char **argv, int *i, const char *name, const char *alias,
    const char **val)
{
	const char *a = argv[*i];
	size_t n = strlen(name);

	if (strncmp(a, name, n) == 0 && a[n] == '=') {
		*val = a + n + 1;
		return 1;
	}
	if (strcmp(a, name) != 0 && !(alias && strcmp(a, alias) == 0))
		return 0;
	if (*i + 1 >= argc) {
		err("option '%s' needs a value", a);
		return -1;
	}
	*val = argv[++*i];
	return 1;
}

static int
num(const char *o, const char *s, double lo, double hi, double *out)
{
	char *end;
	double v = strtod(s, &end);

	if (!*s || *end || !(v >= lo && v <= hi)) {
		err("%s: '%s' is not a number in [%g, %g]", o, s, lo, hi);
		return -1;
	}
	*out = v;
	return 0;
}

static int
push(const char ***list, size_t *n, const char *s)
{
	const char **nl = realloc((void *)*list, (*n + 1) * sizeof(**list));

	if (!nl)
		return -1;
	nl[(*n)++] = s;
	*list = nl;
	return 0;
}

/* -1 usage error (reported), 1 help shown, 0 ok. */
static int
parse(int argc, char **argv, struct opts *o)
{
	memset(o, 0, sizeof(*o));
	if (argc < 2) {
		err("no command (see 'weft-mpi --help')");
		return -1;
	}
	if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)
		return 1;
	if (strcmp(argv[1], "run") != 0) {
		err("unknown command '%s' (the command is 'run'; see "
		    "'weft-mpi --help')",
		    argv[1]);
		return -1;
	}
	for (int i = 2; i < argc; i++) {
		const char *a = argv[i], *v;
		double d;
		int r;
		if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0)
			return 1;
		if (a[0] != '-' || strcmp(a, "-") == 0) {
			if (o->file) {
				err("more than one FILE ('%s' and '%s')",
				    o->file, a);
				return -1;
			}
			o->file = a;
		} else if ((r = opt(argc, argv, &i, "--target", "-t", &v))) {
			if (r < 0 || push(&o->targets, &o->ntargets, v))
				return -1;
		} else if ((r = opt(argc, argv, &i, "--threads", "-j", &v))) {
			if (r < 0 || num(a, v, 0, 4096, &d))
				return -1;
			o->threads = (unsigned)d;
		} else if ((r = opt(argc, argv, &i, "--plugin", NULL, &v))) {
			if (r < 0 || push(&o->plugins, &o->nplugins, v))
				return -1;
		} else if ((r = opt(argc, argv, &i, "--output", "-o", &v))) {
			if (r < 0)
				return -1;
			if (strcmp(v, "json") && strcmp(v, "text")) {
				err("--output: '%s' is not json or text", v);
				return -1;
			}
			o->text = strcmp(v, "text") == 0;
		} else if ((r = opt(argc, argv, &i, "--timeout", NULL, &v))) {
			if (r < 0 || num(a, v, 0, 1e9, &o->timeout))
				return -1;
		} else if ((r = opt(argc, argv, &i, "--max-nodes", NULL, &v))) {
			if (r < 0 || num(a, v, 1, WEFT_MAX_NODES, &d))
				return -1;
			o->so.max_keys = (size_t)d;
		} else if ((r = opt(argc, argv, &i, "--max-depth", NULL, &v))) {
			if (r < 0 || num(a, v, 1, WEFT_SPEC_MAX_DEPTH_LIMIT, &d))
				return -1;
			o->so.max_depth = (unsigned)d;
		} else if (strcmp(a, "--strict") == 0) {
			o->so.flags |= WEFT_SPEC_STRICT;
		} else if (strcmp(a, "--check") == 0) {
			o->check = 1;
		} else if (strcmp(a, "--stats") == 0) {
			o->stats = 1;
		} else {
			err("unknown option '%s' (see 'weft-mpi --help')", a);
			return -1;
		}
	}
	if (!o->file) {
		err("no FILE given (see 'weft-mpi --help')");
		return -1;
	}
	if (o->ntargets) {
		o->so.targets = o->targets;
		o->so.ntargets = o->ntargets;
	}
	return 0;
}

static int
print_results(const weft_mpi_spec *s, const weft_value *res, int text)
{
	size_t n = weft_mpi_spec_ntargets(s);
	int rc = WEFT_OK;

	if (!text)
		fputs("{", stdout);
	for (size_t i = 0; i < n && rc == WEFT_OK; i++) {
		const char *key = weft_mpi_spec_target_key(s, i);
		if (!text && i)
			fputs(", ", stdout);
		if (text) {
			fputs(key, stdout);
		} else {
			weft_value k = weft_str(key);
			rc = weft_is_nil(k) ? WEFT_ENOMEM
					    : weft_value_write(stdout, k, 0);
			weft_value_release(&k);
		}
		if (rc == WEFT_OK) {
			fputs(": ", stdout);
			rc = weft_value_write(
			    stdout, res[i], text ? WEFT_WRITE_TEXT : 0);
		}
		if (text)
			fputs("\n", stdout);
	}
	if (!text)
		fputs("}\n", stdout);
	if (fflush(stdout) != 0 && rc == WEFT_OK)
		rc = WEFT_EIO;
	return rc;
}

/* Rank 0: the same file in one process, compared bit for bit. */
static int
check(weft_mpi *m, const weft_mpi_spec *s, const weft_value *res)
{
	weft_spec *ws = weft_mpi_spec_local(s);
	size_t n = weft_spec_ntargets(ws);
	weft_value *one = calloc(n ? n : 1, sizeof(*one));
	weft_opts wo = { 0 };
	int rc, bad = 0;

	if (!one)
		return -1;
	wo.pool = weft_mpi_pool(m);
	rc = weft_compute(weft_spec_graph(ws), n, weft_spec_targets(ws), one,
	    &wo);
	if (rc != WEFT_OK) {
		err("--check: the single-process run failed: %s",
		    weft_graph_error(weft_spec_graph(ws)));
		bad = 1;
	}
	for (size_t i = 0; i < n; i++) {
		if (rc == WEFT_OK && !weft_value_equal(one[i], res[i])) {
			err("--check: target '%s' differs from the "
			    "single-process result",
			    weft_spec_target_key(ws, i));
			bad = 1;
		}
		weft_value_release(&one[i]);
	}
	free(one);
	if (!bad)
		fprintf(stderr, "weft-mpi: --check: %zu target%s identical to "
				"the single-process run\n",
		    n, n == 1 ? "" : "s");
	return bad;
}

/* -- every rank agrees before the first collective ------------------------ */

/* FNV-1a over the command line: ranks given different options (MPMD
 * launches, a wrapper script that differs per node) must not run. */
static uint64_t
argv_hash(int argc, char **argv)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (int i = 1; i < argc; i++)
		for (const unsigned char *p = (const unsigned char *)argv[i];;
		     p++) {
			h = (h ^ *p) * 0x100000001b3ull;
			if (!*p)
				break;
		}
	return h;
}

struct vote {
	int32_t status; /* parse()'s answer: 0 run, 1 help, -1 usage error */
	uint32_t pad;
	uint64_t hash;
	char msg[256];
};

/*
 * The first collective of the program, reached by every rank whatever its
 * parse gave: each rank contributes its verdict and a hash of its command
 * line, and every rank takes the same decision from them. Before it, no
 * rank may leave (a rank that went to MPI_Finalize alone used to leave
 * the others spinning in their first collective for ever). Returns -1 to
 * run, or the exit status; rank 0 says why.
 */
static int
agree(int status, uint64_t hash, int nranks)
{
	struct vote mine, *all = calloc((size_t)nranks, sizeof(*all));
	int bad = -1, diff = -1, same_msg = 1, code = -1;

	memset(&mine, 0, sizeof(mine));
	mine.status = status;
	mine.hash = hash;
	snprintf(mine.msg, sizeof(mine.msg), "%s", parse_msg);
	if (!all) {
		fprintf(stderr, "weft-mpi: out of memory\n");
		MPI_Abort(MPI_COMM_WORLD, EXIT_USAGE);
	}
	MPI_Allgather(&mine, (int)sizeof(mine), MPI_BYTE, all,
	    (int)sizeof(mine), MPI_BYTE, MPI_COMM_WORLD);
	for (int r = 0; r < nranks; r++) {
		if (bad < 0 && all[r].status < 0)
			bad = r;
		if (diff < 0 && (all[r].hash != all[0].hash ||
				    all[r].status != all[0].status))
			diff = r;
		same_msg &= strcmp(all[r].msg, all[0].msg) == 0;
	}
	if (bad >= 0) {
		/* The same mistake everywhere reads as one message. */
		if (rank0 && same_msg && diff < 0)
			fprintf(stderr, "weft-mpi: %s\n", all[bad].msg);
		else if (rank0)
			fprintf(stderr, "weft-mpi: rank %d: %s\n", bad,
			    all[bad].msg);
		code = EXIT_USAGE;
	} else if (diff >= 0) {
		if (rank0)
			fprintf(stderr,
			    "weft-mpi: the ranks were given different options: "
			    "rank %d's command line differs from rank 0's "
			    "(every rank must run the same 'weft-mpi run' "
			    "command)\n",
			    diff);
		code = EXIT_USAGE;
	} else if (status == 1) {
		if (rank0)
			fputs(usage, stdout);
		code = EXIT_OK;
	}
	free(all);
	return code;
}

/*
 * --timeout covers the whole run, every collective included (setting up,
 * reading the file, the compute, the results, finalizing): a thread that
 * aborts the job when the time is up, with its own exit status.
 */
static struct {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int stop, started, multiple;
	double seconds;
	struct timespec deadline;
	pthread_t th;
} wd = { .mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER };

static void *
watchdog(void *arg)
{
	int rc = 0, rank = (int)(intptr_t)arg;

	pthread_mutex_lock(&wd.mu);
	while (!wd.stop && rc != ETIMEDOUT)
		rc = pthread_cond_timedwait(&wd.cv, &wd.mu, &wd.deadline);
	if (!wd.stop) {
		fprintf(stderr,
		    "weft-mpi: rank %d: fatal: the run went past its timeout "
		    "of %g s (a hung or lost rank?)\n",
		    rank, wd.seconds);
		fflush(stderr);
		/* MPI may be called from this thread only under
		 * MPI_THREAD_MULTIPLE; otherwise leaving without finalizing
		 * makes the launcher end the job. */
		if (wd.multiple)
			MPI_Abort(MPI_COMM_WORLD, EXIT_TIMEOUT);
		_exit(EXIT_TIMEOUT);
	}
	pthread_mutex_unlock(&wd.mu);
	return NULL;
}

static void
watchdog_start(double seconds, int rank, int provided)
{
	pthread_condattr_t ca;
	struct timespec now;
	double end;

	if (seconds <= 0)
		return;
	/* The condition variable waits on the monotonic clock: a clock
	 * step must not end (or stretch) the run. */
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_destroy(&wd.cv);
	pthread_cond_init(&wd.cv, &ca);
	pthread_condattr_destroy(&ca);
	clock_gettime(CLOCK_MONOTONIC, &now);
	end = (double)now.tv_nsec * 1e-9 + seconds;
	wd.deadline.tv_sec = now.tv_sec + (time_t)end;
	wd.deadline.tv_nsec = (long)((end - (double)(time_t)end) * 1e9);
	wd.seconds = seconds;
	wd.multiple = provided >= MPI_THREAD_MULTIPLE;
	wd.started = pthread_create(&wd.th, NULL, watchdog,
			 (void *)(intptr_t)rank) == 0;
}

static void
watchdog_stop(void)
{
	if (!wd.started)
		return;
	pthread_mutex_lock(&wd.mu);
	wd.stop = 1;
	pthread_cond_signal(&wd.cv);
	pthread_mutex_unlock(&wd.mu);
	pthread_join(wd.th, NULL);
}

int
main(int argc, char **argv)
{
	struct opts o;
	weft_registry *reg = NULL;
	weft_mpi *m = NULL;
	weft_mpi_spec *s = NULL;
	weft_value *res = NULL;
	weft_spec_error se;
	weft_mpi_opts mo = { 0 };
	weft_mpi_compute_opts co = { 0 };
	int provided, rank = 0, nranks = 1, rc, code = EXIT_USAGE, bad, anybad;

	if (MPI_Init_thread(&argc, &argv, MPI_THREAD_MULTIPLE, &provided) !=
	    MPI_SUCCESS) {
		fprintf(stderr, "weft-mpi: MPI could not start\n");
		return EXIT_USAGE;
	}
	MPI_Comm_rank(MPI_COMM_WORLD, &rank);
	MPI_Comm_size(MPI_COMM_WORLD, &nranks);
	rank0 = rank == 0;
	/* Every rank parses its own arguments, then all agree on them
	 * before anything else; only rank 0 speaks. */
	parsing = 1;
	rc = parse(argc, argv, &o);
	parsing = 0;
	if (rc == 0)
		watchdog_start(o.timeout, rank, provided);
	code = agree(rc, argv_hash(argc, argv), nranks);
	if (code >= 0)
		goto out;
	code = EXIT_USAGE;
	reg = weft_registry_new();
	bad = !reg || weft_registry_add_builtins(reg) != WEFT_OK;
	for (size_t i = 0; !bad && i < o.nplugins; i++) {
		char msg[512];
		if (weft_registry_load_plugin(reg, o.plugins[i], msg,
			sizeof(msg)) != WEFT_OK) {
			/* each rank may fail on its own: say where */
			fprintf(stderr, "weft-mpi: rank %d: %s\n", rank, msg);
			bad = 1;
		}
	}
	MPI_Allreduce(&bad, &anybad, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
	if (anybad) {
		err("cannot set up the functions on every rank");
		goto out;
	}
	mo.registry = reg;
	mo.threads = o.threads;
	rc = weft_mpi_init(&argc, &argv, &mo, &m);
	if (rc != WEFT_OK) {
		err("%s", m ? weft_mpi_error(m) : weft_strerror(rc));
		goto out;
	}
	rc = weft_mpi_spec_load_file(m, o.file, &o.so, &s, &se);
	if (rc != WEFT_OK) {
		/* The message names the file and position. */
		err("%s", se.message);
		goto out;
	}
	for (size_t i = 0; rank0 && i < weft_mpi_spec_nwarnings(s); i++)
		fprintf(stderr, "%s\n", weft_mpi_spec_warning(s, i));
	res = calloc(weft_mpi_spec_ntargets(s) + 1, sizeof(*res));
	if (!res) {
		/* One rank alone cannot leave now: the others are about to
		 * compute. */
		fprintf(stderr, "weft-mpi: rank %d: fatal: out of memory\n",
		    rank);
		MPI_Abort(MPI_COMM_WORLD, WEFT_MPI_EXIT_FATAL);
	}
	code = EXIT_RUN;
	co.timeout_s = o.timeout;
	rc = weft_mpi_compute(weft_mpi_spec_graph(s), weft_mpi_spec_ntargets(s),
	    weft_mpi_spec_targets(s), res, &co);
	if (o.stats) {
		weft_mpi_stats st;
		weft_mpi_stats_get(weft_mpi_spec_graph(s), &st);
		fprintf(stderr,
		    "weft-mpi: rank %d: %zu of %zu tasks, %zu waves, sent %zu "
		    "values (%zu bytes), received %zu (%zu bytes), %zu "
		    "cross-rank edges, %.3f s on %u threads\n",
		    rank, st.tasks, st.nodes, st.waves, st.msgs_sent,
		    st.bytes_sent, st.msgs_recv, st.bytes_recv, st.cross_edges,
		    st.seconds, weft_pool_threads(weft_mpi_pool(m)));
	}
	if (rc != WEFT_OK) {
		err("%s", weft_mpi_graph_error(weft_mpi_spec_graph(s)));
		code = rc == WEFT_ETASK ? EXIT_RUN : EXIT_USAGE;
		goto out;
	}
	code = EXIT_OK;
	if (rank0) {
		if (print_results(s, res, o.text) != WEFT_OK) {
			err("cannot write the results");
			code = EXIT_RUN;
		} else if (o.check) {
			int c = check(m, s, res);
			if (c)
				code = c < 0 ? EXIT_RUN : EXIT_MISMATCH;
		}
	}
	/* Every rank leaves with rank 0's verdict. */
	MPI_Bcast(&code, 1, MPI_INT, 0, MPI_COMM_WORLD);
out:
	if (res)
		for (size_t i = 0; i < weft_mpi_spec_ntargets(s); i++)
			weft_value_release(&res[i]);
	free(res);
	weft_mpi_spec_free(s);
	weft_mpi_finalize(m);
	weft_registry_free(reg);
	free((void *)o.targets);
	free((void *)o.plugins);
	MPI_Finalize();
	watchdog_stop();
	return code;
}
