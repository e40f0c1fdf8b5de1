/*
 * weft-mpi: runs a graph file across the ranks of an MPI job.
 *
 *   mpirun -n 3 weft-mpi run graph.json [options of weft run]
 *
 * Rank 0 reads the file and prints the results, exactly as weft run does;
 * every rank runs the keys it owns. The options, the registry (built-ins,
 * analytics, plugins) and the printing are the front layer's (src/front),
 * shared with weft run, so `weft run --mpi` takes what `weft run` takes
 * and prints what it prints.
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "front.h"
#include "weft.h"
#include "weft/mpi.h"

enum {
	EXIT_OK = WEFT_FRONT_EXIT_OK,
	EXIT_RUN = WEFT_FRONT_EXIT_RUN,
	EXIT_USAGE = WEFT_FRONT_EXIT_USAGE,
	EXIT_MISMATCH = 3,
	EXIT_TIMEOUT = WEFT_MPI_EXIT_TIMEOUT,
};

static const char usage[] =
    "usage: mpirun -n N weft-mpi run FILE [options]\n"
    "       mpirun -n N weft run --mpi FILE [options]\n"
    "\n"
    "Runs a graph file as 'weft run' does, across the ranks of an MPI job:\n"
    "each key runs on one rank, values cross ranks only where a key uses "
    "one\n"
    "from another rank, and rank 0 prints what 'weft run' would print. "
    "Rank 0\n"
    "reads FILE ('-' is standard input) and sends it to the others. A "
    "key's\n"
    "owner is chosen by a default policy (chains stay on one rank, chains "
    "are\n"
    "shared out evenly), or given in the explicit form:\n"
    "  \"k\": {\"fn\": \"sum\", \"args\": [\"a\", \"b\"], \"rank\": 1}\n"
    "\n"
    "options (those of 'weft run'; -j is per rank, default: the cores MPI "
    "gave\n"
    "the rank, shared among the ranks that got the same ones):\n";

static const char usage_end[] =
    "  --check              rank 0 also runs the graph in one process and\n"
    "                       compares the results bit for bit (exit 3 if "
    "they\n"
    "                       differ)\n"
    "  --timeout SECONDS    abort the whole job when the run takes longer "
    "(a\n"
    "                       hung or lost rank), with exit status 4\n"
    "  -h, --help           show this help\n"
    "\n"
    "--stats prints one line per rank (tasks, waves, messages and bytes "
    "sent\n"
    "and received, seconds); --progress is accepted and shows nothing; "
    "--dot\n"
    "writes DOT text (.dot, .gv) from rank 0, uncoloured; --trace is not "
    "yet\n"
    "available across ranks.\n"
    "\n"
    "Every rank must be given the same options: they are compared before "
    "the\n"
    "run, and a job whose ranks disagree ends with status 2.\n"
    "\n"
    "exit status: 0 success; 1 a task failed (stderr names the key, the "
    "rank\n"
    "and the message), or the results could not be written; 2 bad input "
    "or\n"
    "usage, or ranks that disagree; 3 --check found a difference; 4 "
    "--timeout\n"
    "passed (the job was aborted); 5 a fatal MPI error\n";

struct opts {
	weft_front_run_opts r;
	int check;
	double timeout;
};

/* weft-mpi's own options, tried before weft run's. */
static int
own_opt(void *ud, int argc, char **argv, int *i)
{
	struct opts *o = ud;
	const char *v;
	int m;

	if (strcmp(argv[*i], "--check") == 0) {
		o->check = 1;
		return 1;
	}
	m = weft_front_opt(argc, argv, i, "--timeout", NULL, &v);
	if (m <= 0)
		return m;
	return weft_front_parse_seconds("--timeout", v, 0, 1e9, &o->timeout)
	    ? -1
	    : 1;
}

/* -1 usage error (reported when verbose), 1 help, 0 run. */
static int
parse(int argc, char **argv, struct opts *o)
{
	int rc;

	memset(o, 0, sizeof(*o));
	if (argc < 2) {
		weft_front_error("no command (see 'weft-mpi --help')");
		return -1;
	}
	if (weft_front_is_help(argv[1]))
		return 1;
	if (strcmp(argv[1], "run") != 0) {
		weft_front_error("unknown command '%s' (the command is 'run'; "
				 "see 'weft-mpi --help')",
		    argv[1]);
		return -1;
	}
	rc = weft_front_run_parse(argc, argv, 2, "run", WEFT_FRONT_RUN_ALL,
	    own_opt, o, &o->r);
	if (rc != 0)
		return rc;
	if (o->r.trace) {
		weft_front_error("--trace: not available with MPI yet (each "
				 "rank runs its part as several local runs)");
		return -1;
	}
	if (o->r.dot) {
		const char *ext = strrchr(o->r.dot, '.');
		if (!ext || (strcmp(ext, ".dot") && strcmp(ext, ".gv"))) {
			weft_front_error("--dot: with MPI, '%s' should end in "
					 ".dot or .gv (DOT text)",
			    o->r.dot);
			return -1;
		}
	}
	return 0;
}

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
};

/*
 * The first collective of the program, reached by every rank whatever its
 * parse gave: each rank contributes its verdict and a hash of its command
 * line, and every rank takes the same decision from them. Before it, no
 * rank may leave (a rank that went to MPI_Finalize alone used to leave
 * the others spinning in their first collective for ever). Returns -1 to
 * run, or the exit status; the rank that knows why says it (parsing was
 * quiet: the rank that failed parses again, aloud).
 */
static int
agree(int status, uint64_t hash, int rank, int nranks, int argc, char **argv)
{
	struct vote mine, *all = calloc((size_t)nranks, sizeof(*all));
	int bad = -1, nbad = 0, diff = -1, code = -1;

	memset(&mine, 0, sizeof(mine));
	mine.status = status;
	mine.hash = hash;
	if (!all) {
		fprintf(stderr, "weft-mpi: out of memory\n");
		MPI_Abort(MPI_COMM_WORLD, EXIT_USAGE);
	}
	MPI_Allgather(&mine, (int)sizeof(mine), MPI_BYTE, all,
	    (int)sizeof(mine), MPI_BYTE, MPI_COMM_WORLD);
	for (int r = 0; r < nranks; r++) {
		if (all[r].status < 0 && nbad++ == 0)
			bad = r;
		if (diff < 0 && (all[r].hash != all[0].hash ||
				    all[r].status != all[0].status))
			diff = r;
	}
	free(all);
	weft_front_set_verbose(rank == 0);
	if (bad >= 0) {
		/* The same mistake everywhere reads as one message, from
		 * rank 0; else the first rank that failed says where. */
		if (nbad == nranks && diff < 0 ? rank == 0 : rank == bad) {
			static char prog[64];
			struct opts o;
			if (nbad != nranks || diff >= 0) {
				snprintf(prog, sizeof(prog),
				    "weft-mpi: rank %d", rank);
				weft_front_set_prog(prog);
			}
			weft_front_set_verbose(1);
			parse(argc, argv, &o);
			weft_front_run_opts_free(&o.r);
		}
		code = EXIT_USAGE;
	} else if (diff >= 0) {
		if (rank == 0)
			weft_front_error(
			    "the ranks were given different options: rank %d's "
			    "command line differs from rank 0's (every rank "
			    "must run the same 'weft-mpi run' command)",
			    diff);
		code = EXIT_USAGE;
	} else if (status == 1) {
		if (rank == 0) {
			fputs(usage, stdout);
			fputs(weft_front_run_options_help, stdout);
			fputs(usage_end, stdout);
		}
		code = EXIT_OK;
	}
	/* Messages before anyone finalizes: a launcher may drop the output
	 * of ranks that are gone. */
	fflush(stderr);
	MPI_Barrier(MPI_COMM_WORLD);
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
		 * makes the launcher end the job. And should MPI_Abort itself
		 * hang (the main thread inside MPI_Finalize, a peer gone),
		 * SIGALRM's default action ends this process anyway. */
		alarm(10);
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
	/* Rank 0 aborts first, the others a second later if still needed:
	 * Open MPI 4.1's launcher may crash when every rank aborts at once. */
	end = (double)now.tv_nsec * 1e-9 + seconds + (rank ? 1.0 : 0.0);
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
		weft_front_error("--check: the single-process run failed: %s",
		    weft_graph_error(weft_spec_graph(ws)));
		bad = 1;
	}
	for (size_t i = 0; i < n; i++) {
		if (rc == WEFT_OK && !weft_value_equal(one[i], res[i])) {
			weft_front_error("--check: target '%s' differs from the "
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

/* Rank 0: --dot, the graph as DOT text. 0 or -1 (reported). */
static int
write_dot(const weft_mpi_spec *s, const char *path)
{
	FILE *f = fopen(path, "w");
	int en = f ? 0 : errno;
	int rc = f ? weft_spec_write_dot(weft_mpi_spec_local(s), f, NULL)
		   : WEFT_EIO;

	if (f && fclose(f) != 0 && rc == WEFT_OK)
		rc = WEFT_EIO;
	if (rc != WEFT_OK)
		weft_front_error("--dot: cannot write '%s': %s", path,
		    en ? strerror(en) : weft_strerror(rc));
	return rc == WEFT_OK ? 0 : -1;
}

/* Each rank sets up its functions and its pool; all agree on the outcome
 * (a plugin may be missing on one node only). 0, or -1 everywhere. */
static int
setup(const struct opts *o, int rank, weft_registry **reg, weft_pool **pool)
{
	static char prog[64];
	int bad = 0, anybad = 0;

	/* Each rank may fail on its own: it says so, naming itself. */
	snprintf(prog, sizeof(prog), "weft-mpi: rank %d", rank);
	weft_front_set_prog(prog);
	weft_front_set_verbose(1);
	*reg = weft_front_run_registry(&o->r);
	bad = !*reg;
	/* A pool of our own only when asked how to place it; otherwise
	 * weft_mpi_init shares the cores MPI gave out among the ranks. */
	if (!bad && (o->r.pool.bind != WEFT_BIND_DEFAULT || o->r.pool.topology))
		bad = !(*pool = weft_front_pool_new(&o->r.pool));
	weft_front_set_prog("weft-mpi");
	weft_front_set_verbose(rank == 0);
	MPI_Allreduce(&bad, &anybad, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
	if (anybad && !bad)
		weft_front_error("another rank could not set up its functions "
				 "or its pool");
	return anybad ? -1 : 0;
}

int
main(int argc, char **argv)
{
	weft_mpi_opts mo = { 0 };
	weft_mpi_compute_opts co = { 0 };
	weft_spec_error se;
	struct opts o;
	weft_front_out out;
	int provided, rank = 0, nranks = 1, rc, code = EXIT_USAGE;
	weft_registry *reg = NULL;
	weft_mpi *m = NULL;
	weft_mpi_spec *s = NULL;
	weft_pool *pool = NULL;
	weft_value *res = NULL;

	if (MPI_Init_thread(&argc, &argv, MPI_THREAD_MULTIPLE, &provided) !=
	    MPI_SUCCESS) {
		fprintf(stderr, "weft-mpi: MPI could not start\n");
		return EXIT_USAGE;
	}
	MPI_Comm_rank(MPI_COMM_WORLD, &rank);
	MPI_Comm_size(MPI_COMM_WORLD, &nranks);
	weft_front_set_prog("weft-mpi");
	/* Every rank parses its own arguments, quietly, then all agree on
	 * them before anything else. */
	weft_front_set_verbose(0);
	rc = parse(argc, argv, &o);
	if (rc == 0)
		watchdog_start(o.timeout, rank, provided);
	code = agree(rc, argv_hash(argc, argv), rank, nranks, argc, argv);
	weft_front_set_verbose(rank == 0);
	if (code >= 0)
		goto out;
	code = EXIT_USAGE;
	if (setup(&o, rank, &reg, &pool))
		goto out;
	mo.registry = reg;
	mo.pool = pool;
	mo.threads = o.r.pool.threads;
	rc = weft_mpi_init(&argc, &argv, &mo, &m);
	if (rc != WEFT_OK) {
		weft_front_error("%s", m ? weft_mpi_error(m) : weft_strerror(rc));
		goto out;
	}
	rc = weft_mpi_spec_load_file(m, o.r.file, &o.r.spec, &s, &se);
	if (rc != WEFT_OK) {
		/* The message names the file and position. */
		if (rank == 0)
			fprintf(stderr, "%s\n", se.message);
		goto out;
	}
	for (size_t i = 0; rank == 0 && i < weft_mpi_spec_nwarnings(s); i++)
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
	if (o.r.stats) {
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
	if (rank == 0 && o.r.dot && write_dot(s, o.r.dot))
		rc = rc == WEFT_OK ? WEFT_EIO : rc;
	if (rc != WEFT_OK) {
		if (*weft_mpi_graph_error(weft_mpi_spec_graph(s)))
			weft_front_error("%s",
			    weft_mpi_graph_error(weft_mpi_spec_graph(s)));
		code = rc == WEFT_ETASK || rc == WEFT_EIO ? EXIT_RUN : EXIT_USAGE;
		goto out;
	}
	code = EXIT_OK;
	if (rank == 0) {
		weft_front_out_init(&out, stdout, o.r.max_bytes);
		weft_front_print_results(&out, weft_mpi_spec_local(s), res,
		    o.r.text);
		if (weft_front_out_end(&out, "the results")) {
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
	weft_pool_free(pool);
	weft_registry_free(reg);
	weft_front_run_opts_free(&o.r);
	MPI_Finalize();
	watchdog_stop();
	return code;
}
