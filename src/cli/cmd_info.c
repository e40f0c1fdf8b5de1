/*
 * weft funcs / weft info: what a graph file can call, and the machine.
 */
#include <hwloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char funcs_usage[] =
    "usage: weft funcs [NAME...] [--plugin LIB.so]...\n"
    "\n"
    "Lists the functions a graph file can call, with their arity (how "
    "many\n"
    "arguments: 2, 1..3, or 1+ for one or more) and what they do. With "
    "NAMEs,\n"
    "only those (an unknown name is an error).\n"
    "\n"
    "options:\n"
    "  --plugin LIB.so   load a plugin's functions too (repeatable)\n"
    "  -h, --help        show this help\n";

static const char info_usage[] =
    "usage: weft info [--threads N] [--bind cores|pus|none] [--topology "
    "T]\n"
    "\n"
    "Shows the machine as weft sees it (hwloc: packages, cores, PUs the\n"
    "process may use), then starts a pool as 'weft run' would and shows "
    "where\n"
    "each worker went and whether binding took effect.\n"
    "\n"
    "options:\n"
    "  -j, --threads N   workers (default 0: one per core)\n"
    "  --bind cores|pus|none  placement (default cores)\n"
    "  --topology T      plan for a synthetic hwloc machine instead,\n"
    "                    e.g. \"package:2 core:4 pu:2\" (binding is then "
    "refused)\n"
    "  -h, --help        show this help\n";

/* The width of the name column: the longest name, so that long plugin
 * names ("stats.rolling_median") do not push their row out of line. */
static int
name_width(const weft_registry *reg, int argc, char **argv)
{
	size_t w = 10;

	if (argc < 0) {
		for (size_t i = 0; i < weft_registry_count(reg); i++) {
			size_t n = strlen(weft_registry_at(reg, i)->name);
			w = n > w ? n : w;
		}
	} else {
		for (int i = 0; i < argc; i++) {
			const weft_func_info *f =
			    weft_registry_find(reg, argv[i]);
			size_t n = f ? strlen(f->name) : 0;
			w = n > w ? n : w;
		}
	}
	return (int)(w > WEFT_FUNC_NAME_MAX ? WEFT_FUNC_NAME_MAX : w);
}

static void
print_func(weft_front_out *out, const weft_func_info *f, int width)
{
	char a[32];

	weft_front_out_printf(out, "  %-*s %-6s %s", width, f->name,
	    weft_func_arity(f, a, sizeof(a)), f->help);
	if (strcmp(f->origin, "builtin") != 0 && *f->origin)
		weft_front_out_printf(out, " [%s]", f->origin);
	weft_front_out_puts(out, "\n");
}

int
cmd_funcs(int argc, char **argv)
{
	weft_registry *reg = weft_front_registry();
	int code = EXIT_OK, nnames = 0, width;
	char **names, hint[160];
	weft_front_out out;

	if (!reg)
		return EXIT_RUN;
	names = calloc((size_t)argc, sizeof(*names));
	if (!names) {
		weft_front_error("out of memory");
		weft_registry_free(reg);
		return EXIT_RUN;
	}
	/* Plugins first, so NAMEs may be theirs. */
	for (int i = 2; i < argc; i++) {
		const char *v;
		int m;
		if (weft_front_is_help(argv[i])) {
			fputs(funcs_usage, stdout);
			printf("\nplugin directory: %s\n",
			    weft_front_plugin_dir());
			code = EXIT_OK;
			goto out;
		}
		m = weft_front_opt(argc, argv, &i, "--plugin", NULL, &v);
		if (m < 0 || (m > 0 && weft_front_load_plugin(reg, v))) {
			code = EXIT_USAGE;
			goto out;
		}
		if (m == 0 && argv[i][0] == '-') {
			weft_front_error("unknown option '%s' for 'funcs' "
					 "(see 'weft funcs --help')",
			    argv[i]);
			code = EXIT_USAGE;
			goto out;
		}
		if (m == 0)
			names[nnames++] = argv[i];
	}
	weft_front_out_init(&out, stdout, 0);
	if (nnames) {
		width = name_width(reg, nnames, names);
		for (int i = 0; i < nnames; i++) {
			const weft_func_info *f =
			    weft_registry_find(reg, names[i]);
			if (f) {
				print_func(&out, f, width);
				continue;
			}
			weft_front_error("unknown function '%s'%s", names[i],
			    weft_front_unknown_hint(
				reg, names[i], hint, sizeof(hint)));
			code = EXIT_USAGE;
		}
	} else {
		width = name_width(reg, -1, NULL);
		weft_front_out_printf(&out,
		    "%zu functions (name, arity, what it does):\n",
		    weft_registry_count(reg));
		for (size_t i = 0; i < weft_registry_count(reg); i++)
			print_func(&out, weft_registry_at(reg, i), width);
	}
	if (weft_front_out_end(&out, "the list") && code == EXIT_OK)
		code = EXIT_RUN;
out:
	free(names);
	weft_registry_free(reg);
	return code;
}

static const char *
bound_name(weft_bound b)
{
	switch (b) {
	case WEFT_BOUND_PU:
		return "bound to its PU";
	case WEFT_BOUND_CORE:
		return "bound to its core";
	default:
		return "unbound";
	}
}

/* The hwloc view: how many of each object the process may use. */
static void
print_machine(weft_front_out *out, const char *synthetic)
{
	hwloc_topology_t t;
	int pk, co, pu;

	if (hwloc_topology_init(&t) != 0) {
		weft_front_out_puts(out,
		    "machine: unknown (hwloc could not start)\n");
		return;
	}
	if ((synthetic && hwloc_topology_set_synthetic(t, synthetic) != 0) ||
	    hwloc_topology_load(t) != 0) {
		weft_front_out_printf(out,
		    "machine: unknown (hwloc could not read the %s)\n",
		    synthetic ? "synthetic topology" : "topology");
		hwloc_topology_destroy(t);
		return;
	}
	pk = hwloc_get_nbobjs_by_type(t, HWLOC_OBJ_PACKAGE);
	co = hwloc_get_nbobjs_by_type(t, HWLOC_OBJ_CORE);
	pu = hwloc_get_nbobjs_by_type(t, HWLOC_OBJ_PU);
	weft_front_out_printf(out, "machine: %d package%s, %d core%s, %d PU%s%s\n",
	    pk, pk == 1 ? "" : "s", co, co == 1 ? "" : "s", pu,
	    pu == 1 ? "" : "s", synthetic ? " (synthetic)" : "");
	hwloc_topology_destroy(t);
}

static void
print_pool(weft_front_out *out, weft_pool *p)
{
	weft_pool_info pi;

	if (weft_pool_info_get(p, &pi) == WEFT_OK) {
		weft_front_out_printf(
		    out, "usable: %u cores, %u PUs\n", pi.cores, pi.pus);
		weft_front_out_printf(out,
		    "workers: %u, bind: %s, bound: %u of %u%s%s\n",
		    pi.threads, weft_front_bind_name(pi.bind), pi.bound,
		    pi.threads, pi.binding_refused ? ", binding refused" : "",
		    pi.oversubscribed ? ", oversubscribed (more workers "
					"than PUs)"
				      : "");
		if (pi.note[0])
			weft_front_out_printf(out, "note: %s\n", pi.note);
	}
	for (unsigned i = 0; i < weft_pool_threads(p); i++) {
		weft_worker_info wi;
		if (weft_pool_worker_info(p, i, &wi) != WEFT_OK)
			continue;
		weft_front_out_printf(out, "  worker %u: ", wi.index);
		if (wi.core >= 0)
			weft_front_out_printf(
			    out, "core %d, PU %d, ", wi.core, wi.pu);
		else
			weft_front_out_puts(out, "no placement, ");
		weft_front_out_puts(out, bound_name(wi.bound));
		if (wi.bind_errno)
			weft_front_out_printf(out, " (binding refused: %s)",
			    strerror(wi.bind_errno));
		weft_front_out_puts(out, "\n");
	}
}

int
cmd_info(int argc, char **argv)
{
	weft_pool_opts po = { 0 };
	weft_front_out out;
	weft_pool *p;
	int err = 0, code = EXIT_OK;

	for (int i = 2; i < argc; i++) {
		int m;
		if (weft_front_is_help(argv[i])) {
			fputs(info_usage, stdout);
			return EXIT_OK;
		}
		m = weft_front_pool_opt(
		    argc, argv, &i, WEFT_FRONT_POOL_ALL, &po);
		if (m < 0)
			return EXIT_USAGE;
		if (m == 0) {
			weft_front_error("unknown argument '%s' for 'info' "
					 "(see 'weft info --help')",
			    argv[i]);
			return EXIT_USAGE;
		}
	}
	weft_front_out_init(&out, stdout, 0);
	weft_front_out_printf(&out, "weft %s\n", weft_version_string());
	print_machine(&out, po.topology);
	p = weft_pool_new2(&po, &err);
	if (!p) {
		weft_front_out_flush(&out);
		weft_front_error("cannot start a pool: %s%s",
		    weft_strerror(err),
		    po.topology ? " (is the --topology valid?)" : "");
		return po.topology && err == WEFT_EINVAL ? EXIT_USAGE
							 : EXIT_RUN;
	}
	print_pool(&out, p);
	weft_pool_free(p);
	if (weft_front_out_end(&out, "the machine summary"))
		code = EXIT_RUN;
	return code;
}
