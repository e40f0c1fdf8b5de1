/*
 * The `weft` command. It uses the public API only (weft.h), like any other
 * program would, through the front-end layer every front end shares
 * (src/front/front.h: options, registry, output), plus hwloc for `weft
 * info`'s machine summary.
 */
#ifndef WEFT_CLI_H
#define WEFT_CLI_H

#include <stdatomic.h>
#include <stddef.h>

#include "front.h"
#include "weft.h"

/* Exit codes: success, a task failed at run time, bad input or usage. */
enum {
	EXIT_OK = WEFT_FRONT_EXIT_OK,
	EXIT_RUN = WEFT_FRONT_EXIT_RUN,
	EXIT_USAGE = WEFT_FRONT_EXIT_USAGE
};

/* Seconds on the monotonic clock. */
double cli_now(void);

/* The progress bar: compute callbacks count tasks; the main thread draws
 * while it waits for the compute (at most ~10 times a second). */
struct cli_progress {
	_Atomic size_t done, total;
	double t0;
	int tty;
};
void cli_progress_init(struct cli_progress *p, weft_callbacks *cb);
/* Redraws the bar on stderr; `final` ends the line. */
void cli_progress_draw(struct cli_progress *p, int final);

/* --dot PATH: checks the extension, and that Graphviz is there when an
 * image is asked for, before anything runs. *format is NULL for DOT text,
 * else "svg", "png" or "pdf". 0, or -1 (reported). */
int cli_dot_check(const char *path, const char **format);
/* Writes (or draws) the spec's graph; `t` may be NULL. 0, or -1. */
int cli_dot_write(const weft_spec *s, const weft_trace *t, const char *path,
    const char *format);

int cmd_run(int argc, char **argv);
int cmd_check(int argc, char **argv);
int cmd_funcs(int argc, char **argv);
int cmd_info(int argc, char **argv);

/* weft run --mpi: hand the run to weft-mpi (mpi_delegate.c). */
int cli_take_mpi_flag(int *argc, char **argv);
int cli_exec_mpi(int argc, char **argv);

#endif
