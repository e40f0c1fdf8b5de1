/*
 * weft: run Dask-style JSON graph files on all cores.
 *
 * Exit codes: 0 success; 1 a task failed at run time (or the run could not
 * start); 2 bad input or usage. Every error goes to stderr, results alone
 * to stdout.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "weft/csv.h"

static const char usage_text[] =
    "usage: weft [--version] [--help] COMMAND [ARGS]\n"
    "\n"
    "Run lazy task graphs written as JSON files (Dask's graph spec) on\n"
    "all cores.\n"
    "\n"
    "commands:\n"
    "  run FILE     run a graph file; print the targets' values as JSON\n"
    "  check FILE   check a graph file and print a summary; run nothing\n"
    "  funcs        list the functions a graph file can call\n"
    "  info         show the machine and where workers would run\n"
    "  serve --pyro serve the functions to Pyro4 clients over the network\n"
    "  worker       serve Celery clients through RabbitMQ (a Celery "
    "worker)\n"
    "  help [CMD]   show this help, or a command's\n"
    "\n"
    "'weft COMMAND --help' tells more; 'weft run --help' describes the\n"
    "file format.\n"
    "\n"
    "exit status: 0 success, 1 a task failed, 2 bad input or usage\n";

void
cli_error(const char *fmt, ...)
{
	va_list ap;

	fputs("weft: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int
cli_is_help(const char *a)
{
	return strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0;
}

int
cli_opt(int argc, char **argv, int *i, const char *name, const char *alias,
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
		cli_error("option '%s' needs a value (see --help)", a);
		return -1;
	}
	*val = argv[++*i];
	return 1;
}

int
cli_parse_size(
    const char *opt, const char *s, size_t min, size_t max, size_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	if (!s || *s < '0' || *s > '9') {
		cli_error("%s: '%s' is not a number", opt, s ? s : "");
		return -1;
	}
	v = strtoull(s, &end, 10);
	if (*end || errno == ERANGE || v < min || v > max) {
		cli_error("%s: '%s' is not a number from %zu to %zu", opt, s,
		    min, max);
		return -1;
	}
	*out = (size_t)v;
	return 0;
}

int
cli_load_plugin(weft_registry *reg, const char *path)
{
	char err[512], *p = NULL;
	struct stat st;
	int rc;

	/* dlopen searches the library path for a bare name; a file of that
	 * name here is what the user means. */
	if (!strchr(path, '/') && stat(path, &st) == 0) {
		p = malloc(strlen(path) + 3);
		if (!p) {
			cli_error("out of memory");
			return -1;
		}
		strcpy(p, "./");
		strcat(p, path);
	}
	rc = weft_registry_load_plugin(reg, p ? p : path, err, sizeof(err));
	free(p);
	if (rc != WEFT_OK) {
		cli_error("%s", err);
		return -1;
	}
	return 0;
}

weft_registry *
cli_registry(void)
{
	weft_registry *r = weft_registry_new();

	if (!r || weft_registry_add_builtins(r) != WEFT_OK ||
	    weft_registry_add_analytics(r) != WEFT_OK) {
		cli_error("cannot set up the function registry: out of memory");
		weft_registry_free(r);
		return NULL;
	}
	return r;
}

static int
dispatch(const char *cmd, int argc, char **argv)
{
	if (strcmp(cmd, "run") == 0) {
		if (cli_take_mpi_flag(&argc, argv))
			return cli_exec_mpi(argc, argv);
		return cmd_run(argc, argv);
	}
	if (strcmp(cmd, "check") == 0)
		return cmd_check(argc, argv);
	if (strcmp(cmd, "funcs") == 0)
		return cmd_funcs(argc, argv);
	if (strcmp(cmd, "info") == 0)
		return cmd_info(argc, argv);
	if (strcmp(cmd, "serve") == 0)
		return cmd_serve(argc, argv);
	if (strcmp(cmd, "worker") == 0)
		return cmd_worker(argc, argv);
	cli_error("unknown command '%s' (commands: run, check, funcs, info, "
		  "serve, worker; "
		  "see 'weft --help')",
	    cmd);
	return EXIT_USAGE;
}

int
main(int argc, char **argv)
{
	const char *cmd;

	if (argc < 2) {
		fputs(usage_text, stderr);
		return EXIT_USAGE;
	}
	cmd = argv[1];
	if (cli_is_help(cmd)) {
		fputs(usage_text, stdout);
		return EXIT_OK;
	}
	if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "-V") == 0 ||
	    strcmp(cmd, "version") == 0) {
		printf("weft %s\n", weft_version_string());
		return EXIT_OK;
	}
	if (strcmp(cmd, "help") == 0) {
		/* 'weft help run' is 'weft run --help'. */
		char help[] = "--help";
		char *sub[4] = { argv[0], argc > 2 ? argv[2] : NULL, help,
			NULL };
		if (argc < 3) {
			fputs(usage_text, stdout);
			return EXIT_OK;
		}
		return dispatch(sub[1], 3, sub);
	}
	return dispatch(cmd, argc, argv);
}
