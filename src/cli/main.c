/*
 * weft: run Dask-style JSON graph files on all cores.
 *
 * Exit codes: 0 success; 1 a task failed at run time (or the run could not
 * start); 2 bad input or usage. Every error goes to stderr, results alone
 * to stdout.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

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
    "  help [CMD]   show this help, or a command's\n"
    "\n"
    "'weft COMMAND --help' tells more; 'weft run --help' describes the\n"
    "file format.\n"
    "\n"
    "exit status: 0 success, 1 a task failed, 2 bad input or usage\n";

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
	weft_front_error("unknown command '%s' (commands: run, check, funcs, info; "
		  "see 'weft --help')",
	    cmd);
	return EXIT_USAGE;
}

static int
command(int argc, char **argv)
{
	const char *cmd;

	if (argc < 2) {
		fputs(usage_text, stderr);
		return EXIT_USAGE;
	}
	cmd = argv[1];
	if (weft_front_is_help(cmd)) {
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

int
main(int argc, char **argv)
{
	/* Help and version texts too: a failed write is an error. */
	return weft_front_exit(command(argc, argv));
}
