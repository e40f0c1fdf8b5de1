/*
 * `weft run ... --mpi`: hands the run to the weft-mpi program, which takes
 * the same options and prints the same output, across the ranks of the MPI
 * job this process belongs to. weft itself does not link MPI; weft-mpi is
 * built only where an MPI is found.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

/* Whether argv asks for --mpi; removes it if so. */
int
cli_take_mpi_flag(int *argc, char **argv)
{
	int found = 0, j = 0;
	for (int i = 0; i < *argc; i++) {
		if (strcmp(argv[i], "--") == 0) { /* keep the rest as is */
			while (i < *argc)
				argv[j++] = argv[i++];
			break;
		}
		if (strcmp(argv[i], "--mpi") == 0) {
			found = 1;
			continue;
		}
		argv[j++] = argv[i];
	}
	argv[j] = NULL;
	*argc = j;
	return found;
}

/* Runs weft-mpi: next to this program (installed), in the build tree's
 * src/mpi/ (weft is src/cli/weft there), then from PATH. Returns only on
 * failure. */
int
cli_exec_mpi(int argc, char **argv)
{
	char self[PATH_MAX], cand[PATH_MAX + 32];
	char **nargv = calloc((size_t)argc + 2, sizeof *nargv);
	if (!nargv) {
		weft_front_error("out of memory");
		return EXIT_USAGE;
	}
	/* argv is "weft" "run" ARGS...: weft-mpi takes "run" ARGS... */
	nargv[0] = "weft-mpi";
	for (int i = 1; i < argc; i++)
		nargv[i] = argv[i];
	nargv[argc] = NULL;
	ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
	if (n > 0) {
		self[n] = '\0';
		char *slash = strrchr(self, '/');
		if (slash) {
			*slash = '\0';
			const char *rel[] = { "/weft-mpi", "/../mpi/weft-mpi" };
			for (size_t k = 0; k < 2; k++) {
				snprintf(cand, sizeof cand, "%s%s", self, rel[k]);
				if (access(cand, X_OK) == 0) {
					nargv[0] = cand;
					execv(cand, nargv);
				}
			}
		}
	}
	execvp("weft-mpi", nargv);
	weft_front_error("run --mpi: cannot start weft-mpi (%s); it is built only "
		  "where meson finds an MPI (e.g. apt-get install "
		  "libopenmpi-dev openmpi-bin)",
	    strerror(errno));
	free(nargv);
	return EXIT_USAGE;
}
