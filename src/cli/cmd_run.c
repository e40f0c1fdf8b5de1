/*
 * weft run / weft check: load a graph file, then run it or describe it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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
    "options:\n"
    "  -t, --target KEY     compute KEY (repeatable; default: the file's\n"
    "                       \"targets\", else every key no other key "
    "uses)\n"
    "  -j, --threads N      worker threads (default 0: one per core)\n"
    "  --bind cores|pus|none  where workers run (default cores)\n"
    "  --plugin LIB.so      load more functions from a plugin "
    "(repeatable)\n"
    "  -o, --output json|text  json (default), or one 'key: value' line "
    "per\n"
    "                       target (strings unquoted)\n"
    "  --strict             a string argument that is not a key is an "
    "error\n"
    "  --stats              print read, build and run times on stderr\n"
    "  --progress, --no-progress  a progress bar on stderr (default: on "
    "when\n"
    "                       stderr is a terminal)\n"
    "  --trace OUT.json     write a Chrome trace of the run (a row per "
    "worker;\n"
    "                       open it in Perfetto or chrome://tracing)\n"
    "  --dot OUT            write the graph the targets need: .dot/.gv as "
    "DOT,\n"
    "                       .svg/.png/.pdf drawn by Graphviz's dot; boxes "
    "are\n"
    "                       coloured by the worker that ran them\n"
    "  --max-nodes N        refuse files with more keys (default "
    "4194304)\n"
    "  --max-depth N        refuse deeper nesting in one key (default 64)\n"
    "  -h, --help           show this help\n"
    "\n"
    "exit status: 0 success; 1 a task failed (stderr names the key, the\n"
    "function and the message); 2 bad input or usage (nothing ran)\n"
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
    "exit status: 0 the file is good, 2 it is not (or bad usage)\n";

struct opts {
	const char *file;
	const char **targets;
	size_t ntargets;
	weft_registry *reg;
	weft_spec_opts so;
	size_t threads;
	weft_bind bind;
	int text;
	int stats;
	int progress; /* -1 unset: on when stderr is a terminal */
	const char *trace;
	const char *dot, *dot_format;
};

static void
opts_free(struct opts *o)
{
	free(o->targets);
	weft_registry_free(o->reg);
}

/* Parses the options run and check share (check refuses the rest).
 * Returns -1 on a usage error (reported), 1 after --help, 0 otherwise. */
static int
parse(int argc, char **argv, int is_run, struct opts *o)
{
	int only_files = 0;

	memset(o, 0, sizeof(*o));
	o->progress = -1;
	o->reg = cli_registry();
	if (!o->reg)
		return -1;
	o->targets = calloc((size_t)argc, sizeof(*o->targets));
	if (!o->targets) {
		cli_error("out of memory");
		return -1;
	}
	for (int i = 2; i < argc; i++) {
		const char *a = argv[i], *v = NULL;
		size_t n;
		int m;
		if (only_files || a[0] != '-' || strcmp(a, "-") == 0) {
			if (o->file) {
				cli_error("one FILE only: '%s' and '%s'",
				    o->file, a);
				return -1;
			}
			o->file = a;
			continue;
		}
		if (strcmp(a, "--") == 0) {
			only_files = 1;
			continue;
		}
		if (cli_is_help(a)) {
			fputs(is_run ? run_usage : check_usage, stdout);
			if (is_run)
				fputs(format_text, stdout);
			return 1;
		}
		if ((m = cli_opt(argc, argv, &i, "--target", "-t", &v))) {
			if (m < 0)
				return -1;
			o->targets[o->ntargets++] = v;
		} else if ((m = cli_opt(argc, argv, &i, "--plugin", NULL,
				&v))) {
			if (m < 0 || cli_load_plugin(o->reg, v))
				return -1;
		} else if (strcmp(a, "--strict") == 0) {
			o->so.flags |= WEFT_SPEC_STRICT;
		} else if ((m = cli_opt(argc, argv, &i, "--max-nodes", NULL,
				&v))) {
			if (m < 0 ||
			    cli_parse_size(a, v, 1, WEFT_MAX_NODES, &n))
				return -1;
			o->so.max_keys = n;
		} else if ((m = cli_opt(argc, argv, &i, "--max-depth", NULL,
				&v))) {
			if (m < 0 ||
			    cli_parse_size(
				a, v, 1, WEFT_SPEC_MAX_DEPTH_LIMIT, &n))
				return -1;
			o->so.max_depth = (unsigned)n;
		} else if (is_run &&
		    (m = cli_opt(argc, argv, &i, "--threads", "-j", &v))) {
			if (m < 0 || cli_parse_size(a, v, 0, 4096, &n))
				return -1;
			o->threads = n;
		} else if (is_run &&
		    (m = cli_opt(argc, argv, &i, "--bind", NULL, &v))) {
			if (m < 0)
				return -1;
			if (strcmp(v, "cores") == 0)
				o->bind = WEFT_BIND_CORES;
			else if (strcmp(v, "pus") == 0)
				o->bind = WEFT_BIND_PUS;
			else if (strcmp(v, "none") == 0)
				o->bind = WEFT_BIND_NONE;
			else {
				cli_error("--bind: '%s' is not cores, pus or "
					  "none",
				    v);
				return -1;
			}
		} else if (is_run &&
		    (m = cli_opt(argc, argv, &i, "--output", "-o", &v))) {
			if (m < 0)
				return -1;
			if (strcmp(v, "json") == 0)
				o->text = 0;
			else if (strcmp(v, "text") == 0)
				o->text = 1;
			else {
				cli_error("--output: '%s' is not json or text",
				    v);
				return -1;
			}
		} else if (is_run && strcmp(a, "--stats") == 0) {
			o->stats = 1;
		} else if (is_run && strcmp(a, "--progress") == 0) {
			o->progress = 1;
		} else if (is_run && strcmp(a, "--no-progress") == 0) {
			o->progress = 0;
		} else if (is_run &&
		    (m = cli_opt(argc, argv, &i, "--trace", NULL, &v))) {
			if (m < 0)
				return -1;
			o->trace = v;
		} else if ((m = cli_opt(argc, argv, &i, "--dot", NULL, &v))) {
			if (m < 0 || cli_dot_check(v, &o->dot_format))
				return -1;
			o->dot = v;
		} else {
			cli_error("unknown option '%s' for '%s' (see 'weft %s "
				  "--help')",
			    a, argv[1], argv[1]);
			return -1;
		}
	}
	if (!o->file) {
		cli_error("no FILE given (see 'weft %s --help')", argv[1]);
		return -1;
	}
	if (o->ntargets) {
		o->so.targets = o->targets;
		o->so.ntargets = o->ntargets;
	}
	return 0;
}

static weft_spec *
load(struct opts *o)
{
	weft_spec *s = NULL;
	weft_spec_error err;
	int rc = weft_spec_load_file(o->file, o->reg, &o->so, &s, &err);

	if (rc != WEFT_OK) {
		/* The message already names the file and position. */
		fprintf(stderr, "%s\n", err.message);
		return NULL;
	}
	for (size_t i = 0; i < weft_spec_nwarnings(s); i++)
		fprintf(stderr, "%s\n", weft_spec_warning(s, i));
	return s;
}

/* Writes a key as a JSON string. */
static int
write_key(const char *key, int text)
{
	weft_value k;
	int rc;

	if (text)
		return fputs(key, stdout) < 0 ? WEFT_EIO : WEFT_OK;
	k = weft_str(key);
	if (weft_is_nil(k))
		return WEFT_ENOMEM;
	rc = weft_value_write(stdout, k, 0);
	weft_value_release(&k);
	return rc;
}

static int
print_results(const weft_spec *s, const weft_value *res, int text)
{
	size_t n = weft_spec_ntargets(s);
	int rc = WEFT_OK;

	if (!text)
		fputs("{", stdout);
	for (size_t i = 0; i < n && rc == WEFT_OK; i++) {
		if (!text && i)
			fputs(", ", stdout);
		rc = write_key(weft_spec_target_key(s, i), text);
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

static void
report_failure(const weft_spec *s, int rc)
{
	const char *key, *fn, *msg;

	if (rc == WEFT_ETASK &&
	    weft_spec_failure(s, &key, &fn, &msg) == WEFT_OK && key) {
		if (fn)
			cli_error("task '%s' failed in function '%s': %s", key,
			    fn, msg);
		else
			cli_error("task '%s' failed: %s", key, msg);
		return;
	}
	cli_error("run failed: %s",
	    *weft_graph_error(weft_spec_graph(s))
		? weft_graph_error(weft_spec_graph(s))
		: weft_strerror(rc));
}

/* Runs the targets; with a progress bar, asynchronously, drawing while
 * waiting. Returns the compute's code. */
static int
compute(struct opts *o, weft_spec *s, weft_opts *wo, weft_value *res)
{
	weft_graph *g = weft_spec_graph(s);
	size_t n = weft_spec_ntargets(s);
	struct cli_progress p;
	weft_callbacks cb;
	weft_future *f;
	int rc;

	if (!o->progress)
		return weft_compute(g, n, weft_spec_targets(s), res, wo);
	cli_progress_init(&p, &cb);
	wo->callbacks = &cb;
	f = weft_compute_async(g, n, weft_spec_targets(s), wo);
	if (!f) {
		rc = weft_graph_errcode(g);
		return rc != WEFT_OK ? rc : WEFT_ENOMEM;
	}
	while (weft_future_wait(f, 0.1) == WEFT_ETIMEDOUT)
		cli_progress_draw(&p, 0);
	cli_progress_draw(&p, 1);
	rc = weft_future_results(f, res);
	weft_future_free(f);
	wo->callbacks = NULL;
	return rc;
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
	size_t n;
	double t0;
	int rc, perr = 0, code = EXIT_USAGE;

	rc = parse(argc, argv, 1, &o);
	if (rc != 0) {
		opts_free(&o);
		return rc > 0 ? EXIT_OK : EXIT_USAGE;
	}
	if (o.progress < 0)
		o.progress = isatty(STDERR_FILENO);
	s = load(&o);
	if (!s)
		goto out;
	/* Open the trace now: a bad path is bad usage, found before the
	 * run rather than after it. */
	if (o.trace) {
		trace_f = fopen(o.trace, "w");
		if (!trace_f) {
			cli_error("--trace: cannot write '%s': %s", o.trace,
			    strerror(errno));
			goto out;
		}
	}
	code = EXIT_RUN;
	if (o.trace || o.dot) {
		trace = weft_trace_new();
		if (!trace) {
			cli_error("out of memory");
			goto out;
		}
	}
	{
		weft_pool_opts po = { 0 };
		po.threads = (unsigned)o.threads;
		po.bind = o.bind;
		pool = weft_pool_new2(&po, &perr);
	}
	if (!pool) {
		cli_error("cannot start %zu worker threads: %s", o.threads,
		    weft_strerror(perr));
		goto out;
	}
	n = weft_spec_ntargets(s);
	res = calloc(n ? n : 1, sizeof(*res));
	if (!res) {
		cli_error("out of memory");
		goto out;
	}
	t0 = cli_now();
	{
		weft_opts wo = { 0 };
		wo.pool = pool;
		wo.trace = trace;
		rc = compute(&o, s, &wo, res);
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
			cli_error("--trace: cannot write '%s': %s", o.trace,
			    weft_strerror(wrc));
			goto out;
		}
	}
	if (o.dot && cli_dot_write(s, trace, o.dot, o.dot_format))
		goto out;
	if (o.stats && weft_spec_stats_get(s, &st) == WEFT_OK)
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
	rc = print_results(s, res, o.text);
	if (rc != WEFT_OK) {
		cli_error("cannot write the results: %s", weft_strerror(rc));
		goto out;
	}
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
	int rc = parse(argc, argv, 0, &o);

	if (rc != 0) {
		opts_free(&o);
		return rc > 0 ? EXIT_OK : EXIT_USAGE;
	}
	s = load(&o);
	if (!s) {
		opts_free(&o);
		return EXIT_USAGE;
	}
	weft_spec_stats_get(s, &st);
	printf("file: %s\n", strcmp(o.file, "-") == 0 ? "<stdin>" : o.file);
	printf("keys: %zu\n", st.keys);
	printf("targets:");
	for (size_t i = 0; i < weft_spec_ntargets(s); i++)
		printf(" %s", weft_spec_target_key(s, i));
	printf("\ntasks: %zu (after cull)\n", st.tasks);
	printf("edges: %zu\n", st.edges);
	printf("depth: %zu\n", st.depth);
	printf("calls: %zu (%zu nested)\n", st.calls, st.nested);
	printf("functions:");
	for (size_t i = 0; i < st.funcs; i++) {
		size_t count;
		const weft_func_info *f = weft_spec_func_used(s, i, &count);
		printf("%s %s x%zu", i ? "," : "", f->name, count);
	}
	printf("\nok\n");
	if (o.dot && cli_dot_write(s, NULL, o.dot, o.dot_format)) {
		weft_spec_free(s);
		opts_free(&o);
		return EXIT_USAGE;
	}
	weft_spec_free(s);
	opts_free(&o);
	return EXIT_OK;
}
