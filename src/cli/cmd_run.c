/*
 * weft run / weft check: load a graph file, then run it or describe it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

static const char format_text[] =
    "The file format (Dask's graph spec, in JSON):\n"
    "  {\"graph\": {KEY: COMPUTATION, ...}, \"targets\": [KEY, ...]}\n"
    "  \"targets\" is optional: by default, every key no other key uses.\n"
    "\n"
    "  A COMPUTATION is\n"
    "    1, 2.5, true, false, null   a literal\n"
    "    \"x\"                         a reference if x is a key, else a "
    "string\n"
    "    [\"add\", \"x\", 1]              a task: add(x, 1); the first "
    "item names a\n"
    "                                function (see 'weft funcs'); "
    "arguments may\n"
    "                                be tasks too, run inside this key's "
    "task\n"
    "    [\"x\", 2, [\"inc\", 1]]         any other array: a list of "
    "computations\n"
    "  and, to say exactly what you mean:\n"
    "    {\"lit\": V}   V as a value   {\"ref\": \"x\"}            the "
    "key x\n"
    "    {\"list\": [...]}  a list     {\"fn\": \"add\", \"args\": "
    "[...]}  a task\n"
    "\n"
    "  An array headed by a string that is neither a function nor a key "
    "is an\n"
    "  error (a misspelt function, most likely): write a list of strings "
    "as\n"
    "  {\"list\": [...]} or {\"lit\": [...]}.\n"
    "\n"
    "example:\n"
    "  {\"graph\": {\"x\": 1, \"y\": [\"inc\", \"x\"],\n"
    "             \"z\": [\"add\", \"y\", [\"mul\", \"x\", 10]]},\n"
    "   \"targets\": [\"z\"]}\n"
    "  $ weft run example.json\n"
    "  {\"z\": 12}\n";

static const char run_usage[] =
    "usage: weft run FILE [options]\n"
    "\n"
    "Runs a graph file (FILE '-' reads standard input) and prints the "
    "targets'\n"
    "values as one JSON object {\"key\": value, ...} on standard output.\n"
    "\n"
    "options:\n";

static const char run_usage_end[] =
    "  --mpi                run across the ranks of an MPI job: 'mpirun -n "
    "3\n"
    "                       weft run --mpi FILE [options]' hands the run "
    "to\n"
    "                       weft-mpi, which takes every option above "
    "(where\n"
    "                       weft-mpi is built; see 'weft-mpi --help')\n"
    "  -h, --help           show this help\n"
    "\n"
    "exit status: 0 success; 1 a task failed (stderr names the key, the\n"
    "function and the message), or the results could not be written; 2 "
    "bad\n"
    "input or usage (nothing ran)\n"
    "\n";

static const char check_usage[] =
    "usage: weft check FILE [options]\n"
    "\n"
    "Checks a graph file as 'weft run' would, runs nothing, and prints a\n"
    "summary: keys, targets, tasks after the cull, edges, the longest "
    "chain,\n"
    "and the functions called.\n"
    "\n"
    "options:\n"
    "  -t, --target KEY     as for run (the cull depends on the targets)\n"
    "  --plugin LIB.so      load more functions from a plugin\n"
    "  --strict             a string argument that is not a key is an "
    "error\n"
    "  --dot OUT            write the graph as for run (not coloured)\n"
    "  --max-nodes N, --max-depth N   as for run\n"
    "  -h, --help           show this help\n"
    "\n"
    "exit status: 0 the file is good; 1 the summary could not be written; 2\n"
    "the file is not good (or bad usage)\n";

/* What run and check are asked to do. */
struct opts {
	weft_front_run_opts r;
	weft_registry *reg;
	const char *dot_format;
};

static void
opts_free(struct opts *o)
{
	weft_front_run_opts_free(&o->r);
	weft_registry_free(o->reg);
	o->reg = NULL;
}

/* Parses the options of run (every one) or check (those of the reader,
 * and --dot). Returns -1 on a usage error (reported), 1 after --help, 0
 * otherwise. */
static int
parse(int argc, char **argv, int is_run, struct opts *o)
{
	unsigned which = is_run ? WEFT_FRONT_RUN_ALL : WEFT_FRONT_RUN_DOT;
	int rc;

	memset(o, 0, sizeof(*o));
	rc = weft_front_run_parse(
	    argc, argv, 2, argv[1], which, NULL, NULL, &o->r);
	if (rc > 0) {
		if (is_run) {
			fputs(run_usage, stdout);
			fputs(weft_front_run_options_help, stdout);
			fputs(run_usage_end, stdout);
			fputs(format_text, stdout);
		} else
			fputs(check_usage, stdout);
		return 1;
	}
	if (rc < 0)
		return -1;
	if (o->r.dot && cli_dot_check(o->r.dot, &o->dot_format))
		return -1;
	o->reg = weft_front_run_registry(&o->r);
	return o->reg ? 0 : -1;
}

/* Loading on another thread, so that a big file shows its progress. */
struct load_job {
	struct opts *o;
	weft_spec *s;
	weft_spec_error err;
	int rc;
};

static void
load_job_run(void *v)
{
	struct load_job *j = v;

	j->rc = weft_spec_load_file(
	    j->o->r.file, j->o->reg, &j->o->r.spec, &j->s, &j->err);
}

/* Reads and builds the file; p (may be NULL) shows the phase. */
static weft_spec *
load(struct opts *o, struct cli_progress *p)
{
	struct load_job j = { o, NULL, { 0 }, 0 };
	char what[160];
	struct stat st;

	if (p) {
		if (strcmp(o->r.file, "-") != 0 && stat(o->r.file, &st) == 0 &&
		    S_ISREG(st.st_mode))
			snprintf(what, sizeof(what),
			    "reading and building %.100s, %.1f MB", o->r.file,
			    (double)st.st_size / 1e6);
		else
			snprintf(what, sizeof(what),
			    "reading and building the graph");
		cli_progress_wait(p, what, load_job_run, &j);
		cli_progress_clear(p);
	} else
		load_job_run(&j);
	if (j.rc != WEFT_OK) {
		weft_front_load_error(&j.err);
		return NULL;
	}
	for (size_t i = 0; i < weft_spec_nwarnings(j.s); i++)
		fprintf(stderr, "%s\n", weft_spec_warning(j.s, i));
	return j.s;
}

static void
report_failure(const weft_spec *s, int rc)
{
	const char *key, *fn, *msg;

	if (rc == WEFT_ETASK &&
	    weft_spec_failure(s, &key, &fn, &msg) == WEFT_OK && key) {
		if (fn)
			weft_front_error("task '%s' failed in function '%s': %s",
			    key, fn, msg);
		else
			weft_front_error("task '%s' failed: %s", key, msg);
		return;
	}
	weft_front_error("run failed: %s",
	    *weft_graph_error(weft_spec_graph(s))
		? weft_graph_error(weft_spec_graph(s))
		: weft_strerror(rc));
}

/* Runs the targets; with a progress line, asynchronously, drawing while
 * waiting. Returns the compute's code. */
static int
compute(weft_spec *s, weft_opts *wo, weft_value *res, struct cli_progress *p)
{
	weft_graph *g = weft_spec_graph(s);
	size_t n = weft_spec_ntargets(s);
	weft_callbacks cb;
	weft_future *f;
	int rc;

	if (p->mode == CLI_PROGRESS_OFF)
		return weft_compute(g, n, weft_spec_targets(s), res, wo);
	cli_progress_callbacks(p, &cb);
	wo->callbacks = &cb;
	f = weft_compute_async(g, n, weft_spec_targets(s), wo);
	if (!f) {
		rc = weft_graph_errcode(g);
		return rc != WEFT_OK ? rc : WEFT_ENOMEM;
	}
	while (weft_future_wait(f, 0.1) == WEFT_ETIMEDOUT)
		cli_progress_draw(p, 0);
	cli_progress_draw(p, 1);
	rc = weft_future_results(f, res);
	weft_future_free(f);
	wo->callbacks = NULL;
	return rc;
}

/* Graphviz takes minutes over a graph of many thousand boxes: refuse to
 * draw one that big (the DOT text is fine). 0, or -1 (reported). */
static int
dot_size_check(const struct opts *o, const weft_spec *s)
{
	weft_spec_stats st;

	if (!o->r.dot || !o->dot_format ||
	    weft_spec_stats_get(s, &st) != WEFT_OK ||
	    st.tasks <= CLI_DOT_MAX_DRAWN)
		return 0;
	weft_front_error("--dot: not drawing '%s': the graph has %zu nodes, "
			 "and Graphviz takes minutes past %d; write a .dot "
			 "file instead, or compute fewer targets (-t KEY)",
	    o->r.dot, st.tasks, CLI_DOT_MAX_DRAWN);
	return -1;
}

int
cmd_run(int argc, char **argv)
{
	struct opts o;
	weft_spec *s = NULL;
	weft_pool *pool = NULL;
	weft_value *res = NULL;
	weft_trace *trace = NULL;
	FILE *trace_f = NULL;
	weft_spec_stats st;
	weft_front_out out;
	struct cli_progress prog;
	size_t n;
	double t0;
	int rc, code = EXIT_USAGE;

	rc = parse(argc, argv, 1, &o);
	if (rc != 0) {
		opts_free(&o);
		return rc > 0 ? EXIT_OK : EXIT_USAGE;
	}
	cli_progress_init(&prog, o.r.progress > 0 ? CLI_PROGRESS_ON
	    : o.r.progress == 0 || !isatty(STDERR_FILENO)
		? CLI_PROGRESS_OFF
		: CLI_PROGRESS_AUTO);
	s = load(&o, &prog);
	if (!s || dot_size_check(&o, s))
		goto out;
	/* Open the trace now: a bad path is bad usage, found before the
	 * run rather than after it. */
	if (o.r.trace) {
		trace_f = fopen(o.r.trace, "w");
		if (!trace_f) {
			weft_front_error("--trace: cannot write '%s': %s",
			    o.r.trace, strerror(errno));
			goto out;
		}
	}
	code = EXIT_RUN;
	if (o.r.trace || o.r.dot) {
		trace = weft_trace_new();
		if (!trace) {
			weft_front_error("out of memory");
			goto out;
		}
	}
	pool = weft_front_pool_new(&o.r.pool);
	if (!pool)
		goto out;
	n = weft_spec_ntargets(s);
	res = calloc(n ? n : 1, sizeof(*res));
	if (!res) {
		weft_front_error("out of memory");
		goto out;
	}
	t0 = cli_now();
	{
		weft_opts wo = { 0 };
		wo.pool = pool;
		wo.trace = trace;
		rc = compute(s, &wo, res, &prog);
	}
	t0 = cli_now() - t0;
	/* The trace and the graph are written whether the run failed or
	 * not: they are how one finds out why. */
	if (trace_f) {
		int wrc = weft_trace_write_json(trace, weft_spec_graph(s),
		    trace_f);
		if (fclose(trace_f) != 0 && wrc == WEFT_OK)
			wrc = WEFT_EIO;
		trace_f = NULL;
		if (wrc != WEFT_OK) {
			weft_front_error("--trace: cannot write '%s': %s",
			    o.r.trace, weft_strerror(wrc));
			goto out;
		}
	}
	if (o.r.dot && cli_dot_write(s, trace, o.r.dot, o.dot_format))
		goto out;
	if (o.r.stats && weft_spec_stats_get(s, &st) == WEFT_OK)
		fprintf(stderr,
		    "weft: read %.3f s, build %.3f s (%zu keys, %zu tasks), "
		    "run %.3f s on %u threads (%.0f tasks/s)\n",
		    st.read_s, st.build_s, st.keys, st.tasks, t0,
		    weft_pool_threads(pool),
		    t0 > 0 ? (double)st.tasks / t0 : 0.0);
	if (rc != WEFT_OK) {
		report_failure(s, rc);
		goto out;
	}
	weft_front_out_init(&out, stdout, o.r.max_bytes);
	weft_front_print_results(&out, s, res, o.r.text);
	if (weft_front_out_end(&out, "the results"))
		goto out;
	code = EXIT_OK;
out:
	if (res)
		for (size_t i = 0; i < weft_spec_ntargets(s); i++)
			weft_value_release(&res[i]);
	free(res);
	if (trace_f)
		fclose(trace_f);
	weft_trace_free(trace);
	weft_spec_free(s);
	weft_pool_free(pool);
	opts_free(&o);
	return code;
}

int
cmd_check(int argc, char **argv)
{
	struct opts o;
	weft_spec *s;
	weft_spec_stats st;
	weft_front_out out;
	int rc = parse(argc, argv, 0, &o), code = EXIT_OK;

	if (rc != 0) {
		opts_free(&o);
		return rc > 0 ? EXIT_OK : EXIT_USAGE;
	}
	s = load(&o, NULL);
	if (!s || dot_size_check(&o, s)) {
		weft_spec_free(s);
		opts_free(&o);
		return EXIT_USAGE;
	}
	weft_spec_stats_get(s, &st);
	weft_front_out_init(&out, stdout, 0);
	weft_front_out_printf(&out, "file: %s\n",
	    strcmp(o.r.file, "-") == 0 ? "<stdin>" : o.r.file);
	weft_front_out_printf(&out, "keys: %zu\n", st.keys);
	weft_front_out_puts(&out, "targets:");
	for (size_t i = 0; i < weft_spec_ntargets(s); i++)
		weft_front_out_printf(&out, " %s", weft_spec_target_key(s, i));
	weft_front_out_printf(&out, "\ntasks: %zu (after cull)\n", st.tasks);
	weft_front_out_printf(&out, "edges: %zu\n", st.edges);
	weft_front_out_printf(&out, "depth: %zu\n", st.depth);
	weft_front_out_printf(
	    &out, "calls: %zu (%zu nested)\n", st.calls, st.nested);
	weft_front_out_puts(&out, "functions:");
	for (size_t i = 0; i < st.funcs; i++) {
		size_t count;
		const weft_func_info *f = weft_spec_func_used(s, i, &count);
		weft_front_out_printf(
		    &out, "%s %s x%zu", i ? "," : "", f->name, count);
	}
	weft_front_out_puts(&out, "\nok\n");
	if (weft_front_out_end(&out, "the summary"))
		code = EXIT_RUN;
	else if (o.r.dot && cli_dot_write(s, NULL, o.r.dot, o.dot_format))
		code = EXIT_USAGE;
	weft_spec_free(s);
	opts_free(&o);
	return code;
}
