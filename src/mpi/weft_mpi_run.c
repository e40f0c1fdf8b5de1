/*
 * weft-mpi: runs a graph file across the ranks of an MPI job.
 *
 *   mpirun -n 3 weft-mpi run graph.json
 *
 * Rank 0 reads the file and prints the results, in weft run's format;
 * every rank runs the keys it owns. Uses the public API only.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "weft.h"
#include "weft/mpi.h"

enum { EXIT_OK = 0, EXIT_RUN = 1, EXIT_USAGE = 2, EXIT_MISMATCH = 3 };

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
    "exit status: 0 success; 1 a task failed (stderr names the key, the "
    "rank\n"
    "and the message); 2 bad input or usage; 3 --check found a "
    "difference\n";

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

static void
err(const char *fmt, ...) WEFT_PRINTF(1, 2);

static void
err(const char *fmt, ...)
{
	va_list ap;

	if (!rank0)
		return;
	va_start(ap, fmt);
	fputs("weft-mpi: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
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
	if (argc < 2 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "--help") == 0) {
		if (rank0)
			fputs(usage, argc < 2 ? stderr : stdout);
		return argc < 2 ? -1 : 1;
	}
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
		if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			if (rank0)
				fputs(usage, stdout);
			return 1;
		}
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
	int provided, rank = 0, rc, code = EXIT_USAGE, bad, anybad;

	if (MPI_Init_thread(&argc, &argv, MPI_THREAD_MULTIPLE, &provided) !=
	    MPI_SUCCESS) {
		fprintf(stderr, "weft-mpi: MPI could not start\n");
		return EXIT_USAGE;
	}
	MPI_Comm_rank(MPI_COMM_WORLD, &rank);
	rank0 = rank == 0;
	/* Every rank parses the same arguments; only rank 0 speaks. */
	rc = parse(argc, argv, &o);
	if (rc != 0) {
		code = rc > 0 ? EXIT_OK : EXIT_USAGE;
		goto out;
	}
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
		err("out of memory");
		goto out;
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
	return code;
}
