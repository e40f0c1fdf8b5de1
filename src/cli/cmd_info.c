/*
 * weft funcs / weft info: what a graph file can call, and the machine.
 */
#include <hwloc.h>
#include <stdio.h>
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

static void
print_func(const weft_func_info *f)
{
	char a[32];

	printf("  %-10s %-6s %s", f->name, weft_func_arity(f, a, sizeof(a)),
	    f->help);
	if (strcmp(f->origin, "builtin") != 0 && *f->origin)
		printf(" [%s]", f->origin);
	printf("\n");
}

int
cmd_funcs(int argc, char **argv)
{
	weft_registry *reg = cli_registry();
	int code = EXIT_OK, named = 0;

	if (!reg)
		return EXIT_RUN;
	/* Plugins first, so NAMEs may be theirs. */
	for (int i = 2; i < argc; i++) {
		const char *v;
		int m;
		if (cli_is_help(argv[i])) {
			fputs(funcs_usage, stdout);
			weft_registry_free(reg);
			return EXIT_OK;
		}
		m = cli_opt(argc, argv, &i, "--plugin", NULL, &v);
		if (m < 0 || (m > 0 && cli_load_plugin(reg, v))) {
			weft_registry_free(reg);
			return EXIT_USAGE;
		}
		if (m == 0 && argv[i][0] == '-') {
			cli_error("unknown option '%s' for 'funcs' (see 'weft "
				  "funcs --help')",
			    argv[i]);
			weft_registry_free(reg);
			return EXIT_USAGE;
		}
	}
	for (int i = 2; i < argc; i++) {
		const weft_func_info *f;
		const char *sug;
		if (strcmp(argv[i], "--plugin") == 0) {
			i++;
			continue;
		}
		if (argv[i][0] == '-')
			continue;
		named = 1;
		f = weft_registry_find(reg, argv[i]);
		if (f) {
			print_func(f);
			continue;
		}
		sug = weft_registry_suggest(reg, argv[i]);
		if (sug)
			cli_error("unknown function '%s' (did you mean '%s'?)",
			    argv[i], sug);
		else
			cli_error("unknown function '%s'", argv[i]);
		code = EXIT_USAGE;
	}
	if (!named) {
		printf("%zu functions (name, arity, what it does):\n",
		    weft_registry_count(reg));
		for (size_t i = 0; i < weft_registry_count(reg); i++)
			print_func(weft_registry_at(reg, i));
	}
	weft_registry_free(reg);
	return code;
}

static const char *
bind_name(weft_bind b)
{
	switch (b) {
	case WEFT_BIND_PUS:
		return "pus";
	case WEFT_BIND_NONE:
		return "none";
	default:
		return "cores";
	}
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
print_machine(const char *synthetic)
{
	hwloc_topology_t t;
	int pk, co, pu;

	if (hwloc_topology_init(&t) != 0) {
		printf("machine: unknown (hwloc could not start)\n");
		return;
	}
	if ((synthetic && hwloc_topology_set_synthetic(t, synthetic) != 0) ||
	    hwloc_topology_load(t) != 0) {
		printf("machine: unknown (hwloc could not read the %s)\n",
		    synthetic ? "synthetic topology" : "topology");
		hwloc_topology_destroy(t);
		return;
	}
	pk = hwloc_get_nbobjs_by_type(t, HWLOC_OBJ_PACKAGE);
	co = hwloc_get_nbobjs_by_type(t, HWLOC_OBJ_CORE);
	pu = hwloc_get_nbobjs_by_type(t, HWLOC_OBJ_PU);
	printf("machine: %d package%s, %d core%s, %d PU%s%s\n", pk,
	    pk == 1 ? "" : "s", co, co == 1 ? "" : "s", pu, pu == 1 ? "" : "s",
	    synthetic ? " (synthetic)" : "");
	hwloc_topology_destroy(t);
}

int
cmd_info(int argc, char **argv)
{
	weft_pool_opts po = { 0 };
	weft_pool_info pi;
	weft_pool *p;
	int err = 0;

	for (int i = 2; i < argc; i++) {
		const char *a = argv[i], *v;
		size_t n;
		int m;
		if (cli_is_help(a)) {
			fputs(info_usage, stdout);
			return EXIT_OK;
		}
		if ((m = cli_opt(argc, argv, &i, "--threads", "-j", &v))) {
			if (m < 0 || cli_parse_size(a, v, 0, 4096, &n))
				return EXIT_USAGE;
			po.threads = (unsigned)n;
		} else if ((m = cli_opt(argc, argv, &i, "--bind", NULL, &v))) {
			if (m < 0)
				return EXIT_USAGE;
			if (strcmp(v, "cores") == 0)
				po.bind = WEFT_BIND_CORES;
			else if (strcmp(v, "pus") == 0)
				po.bind = WEFT_BIND_PUS;
			else if (strcmp(v, "none") == 0)
				po.bind = WEFT_BIND_NONE;
			else {
				cli_error("--bind: '%s' is not cores, pus or "
					  "none",
				    v);
				return EXIT_USAGE;
			}
		} else if ((m = cli_opt(argc, argv, &i, "--topology", NULL,
				&v))) {
			if (m < 0)
				return EXIT_USAGE;
			po.topology = v;
		} else {
			cli_error("unknown argument '%s' for 'info' (see 'weft "
				  "info --help')",
			    a);
			return EXIT_USAGE;
		}
	}
	printf("weft %s\n", weft_version_string());
	print_machine(po.topology);
	p = weft_pool_new2(&po, &err);
	if (!p) {
		cli_error("cannot start a pool: %s%s", weft_strerror(err),
		    po.topology ? " (is the --topology valid?)" : "");
		return po.topology && err == WEFT_EINVAL ? EXIT_USAGE
							 : EXIT_RUN;
	}
	if (weft_pool_info_get(p, &pi) == WEFT_OK) {
		printf("usable: %u cores, %u PUs\n", pi.cores, pi.pus);
		printf("workers: %u, bind: %s, bound: %u of %u%s%s\n",
		    pi.threads, bind_name(pi.bind), pi.bound, pi.threads,
		    pi.binding_refused ? ", binding refused" : "",
		    pi.oversubscribed ? ", oversubscribed (more workers "
					"than PUs)"
				      : "");
		if (pi.note[0])
			printf("note: %s\n", pi.note);
	}
	for (unsigned i = 0; i < weft_pool_threads(p); i++) {
		weft_worker_info wi;
		if (weft_pool_worker_info(p, i, &wi) != WEFT_OK)
			continue;
		printf("  worker %u: ", wi.index);
		if (wi.core >= 0)
			printf("core %d, PU %d, ", wi.core, wi.pu);
		else
			printf("no placement, ");
		printf("%s", bound_name(wi.bound));
		if (wi.bind_errno)
			printf(" (binding refused: %s)", strerror(wi.bind_errno));
		printf("\n");
	}
	weft_pool_free(p);
	return EXIT_OK;
}
