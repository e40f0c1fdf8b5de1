/*
 * The options of `weft run`, parsed in one place for every program that
 * runs graph files: `weft run`, `weft run --mpi` / `weft-mpi run`, so that
 * each accepts what the other does, with the same meaning and messages.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "front.h"

const char weft_front_run_options_help[] =
    "  -t, --target KEY     compute KEY (repeatable; default: the file's\n"
    "                       \"targets\", else every key no other key "
    "uses)\n"
    "  -j, --threads N      worker threads (default 0: one per core)\n"
    "  --bind cores|pus|none  where workers run (default cores)\n"
    "  --topology T         plan for a synthetic hwloc machine, e.g.\n"
    "                       \"package:2 core:4 pu:2\" (binding is then "
    "refused)\n"
    "  --plugin LIB.so      load more functions from a plugin "
    "(repeatable; a\n"
    "                       bare name is looked for here, next to the "
    "program,\n"
    "                       and in the plugin directory)\n"
    "  -o, --output json|text  json (default), or one 'key: value' line "
    "per\n"
    "                       target (strings unquoted)\n"
    "  --max-bytes N        write at most N bytes of results (default "
    "1073741824,\n"
    "                       1 GiB; 0: no limit); a bigger output is an "
    "error\n"
    "                       and nothing is written\n"
    "  --strict             a string argument that is not a key is an "
    "error\n"
    "  --stats              print read, build and run times on stderr\n"
    "  --progress, --no-progress  a progress bar on stderr (default: on "
    "when\n"
    "                       stderr is a terminal and the run takes over "
    "0.5 s)\n"
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
    "  --max-depth N        refuse deeper nesting in one key (default 64)\n";

void
weft_front_run_opts_free(weft_front_run_opts *o)
{
	free((void *)o->targets);
	free((void *)o->plugins);
	o->targets = o->plugins = NULL;
	o->ntargets = o->nplugins = 0;
}

/* Parses one option every reader of graph files takes. 1, 0, -1. */
static int
reader_opt(int argc, char **argv, int *i, weft_front_run_opts *o)
{
	const char *a = argv[*i], *v;
	size_t n;
	int m;

	if ((m = weft_front_opt(argc, argv, i, "--target", "-t", &v))) {
		if (m > 0)
			o->targets[o->ntargets++] = v;
		return m;
	}
	if ((m = weft_front_opt(argc, argv, i, "--plugin", NULL, &v))) {
		if (m > 0)
			o->plugins[o->nplugins++] = v;
		return m;
	}
	if (strcmp(a, "--strict") == 0) {
		o->spec.flags |= WEFT_SPEC_STRICT;
		return 1;
	}
	if ((m = weft_front_opt(argc, argv, i, "--max-nodes", NULL, &v))) {
		if (m < 0 || weft_front_parse_size(a, v, 1, WEFT_MAX_NODES, &n))
			return -1;
		o->spec.max_keys = n;
		return 1;
	}
	if ((m = weft_front_opt(argc, argv, i, "--max-depth", NULL, &v))) {
		if (m < 0 ||
		    weft_front_parse_size(
			a, v, 1, WEFT_SPEC_MAX_DEPTH_LIMIT, &n))
			return -1;
		o->spec.max_depth = (unsigned)n;
		return 1;
	}
	return 0;
}

/* The output options: -o json|text, --max-bytes N. 1, 0, -1. */
static int
output_opt(int argc, char **argv, int *i, weft_front_run_opts *o)
{
	const char *a = argv[*i], *v;
	int m;

	if ((m = weft_front_opt(argc, argv, i, "--output", "-o", &v))) {
		if (m < 0)
			return -1;
		if (strcmp(v, "json") == 0)
			o->text = 0;
		else if (strcmp(v, "text") == 0)
			o->text = 1;
		else {
			weft_front_error(
			    "--output: '%s' is not json or text", v);
			return -1;
		}
		return 1;
	}
	if ((m = weft_front_opt(argc, argv, i, "--max-bytes", NULL, &v))) {
		if (m < 0 ||
		    weft_front_parse_u64(a, v, 0, UINT64_MAX, &o->max_bytes))
			return -1;
		return 1;
	}
	return 0;
}

/* --stats, --progress, --no-progress, --trace. 1, 0, -1. */
static int
show_opt(int argc, char **argv, int *i, weft_front_run_opts *o)
{
	const char *a = argv[*i];

	if (strcmp(a, "--stats") == 0)
		o->stats = 1;
	else if (strcmp(a, "--progress") == 0)
		o->progress = 1;
	else if (strcmp(a, "--no-progress") == 0)
		o->progress = 0;
	else
		return weft_front_opt(argc, argv, i, "--trace", NULL, &o->trace);
	return 1;
}

int
weft_front_run_parse(int argc, char **argv, int first, const char *cmd,
    unsigned which, weft_front_opt_fn extra, void *ud,
    weft_front_run_opts *o)
{
	int only_files = 0;

	memset(o, 0, sizeof(*o));
	o->progress = -1;
	o->max_bytes = WEFT_FRONT_MAX_BYTES_DEFAULT;
	/* At most one target or plugin per argument. */
	o->targets = calloc((size_t)argc + 1, sizeof(*o->targets));
	o->plugins = calloc((size_t)argc + 1, sizeof(*o->plugins));
	if (!o->targets || !o->plugins) {
		weft_front_error("out of memory");
		return -1;
	}
	for (int i = first; i < argc; i++) {
		const char *a = argv[i];
		int m = 0;

		if (only_files || a[0] != '-' || strcmp(a, "-") == 0) {
			if (o->file) {
				weft_front_error("one FILE only: '%s' and '%s'",
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
		if (weft_front_is_help(a))
			return 1;
		if (extra)
			m = extra(ud, argc, argv, &i);
		if (m == 0)
			m = reader_opt(argc, argv, &i, o);
		if (m == 0 && (which & WEFT_FRONT_RUN_POOL))
			m = weft_front_pool_opt(
			    argc, argv, &i, WEFT_FRONT_POOL_ALL, &o->pool);
		if (m == 0 && (which & WEFT_FRONT_RUN_OUTPUT))
			m = output_opt(argc, argv, &i, o);
		if (m == 0 && (which & WEFT_FRONT_RUN_SHOW))
			m = show_opt(argc, argv, &i, o);
		if (m == 0 && (which & WEFT_FRONT_RUN_DOT))
			m = weft_front_opt(argc, argv, &i, "--dot", NULL, &o->dot);
		if (m < 0)
			return -1;
		if (m == 0) {
			weft_front_error("unknown option '%s' for '%s' (see "
					 "'%s %s --help')",
			    a, cmd, weft_front_prog(), cmd);
			return -1;
		}
	}
	if (!o->file) {
		weft_front_error("no FILE given (see '%s %s --help')",
		    weft_front_prog(), cmd);
		return -1;
	}
	if (o->ntargets) {
		o->spec.targets = o->targets;
		o->spec.ntargets = o->ntargets;
	}
	return 0;
}

weft_registry *
weft_front_run_registry(const weft_front_run_opts *o)
{
	weft_registry *r = weft_front_registry();

	for (size_t i = 0; r && i < o->nplugins; i++)
		if (weft_front_load_plugin(r, o->plugins[i])) {
			weft_registry_free(r);
			return NULL;
		}
	return r;
}
