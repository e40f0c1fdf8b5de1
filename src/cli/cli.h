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

/* The progress line (progress.c): the phase while a file is read and
 * built, then a bar of tasks done, drawn on stderr by the main thread while
 * it waits (about 10 times a second). */
enum {
	CLI_PROGRESS_OFF = 0,
	CLI_PROGRESS_ON = 1,    /* --progress: always, from the start */
	CLI_PROGRESS_AUTO = -1, /* on a terminal, once past 0.5 s */
};
struct cli_progress {
	_Atomic size_t done, total;
	double t0;    /* the command's start */
	double t_run; /* the compute's start */
	int tty, mode, shown;
};
void cli_progress_init(struct cli_progress *p, int mode);
/* Compute callbacks that count the tasks (cb->ud = p). */
void cli_progress_callbacks(struct cli_progress *p, weft_callbacks *cb);
/* Draws "[what] 0:03 elapsed" when the line is due. */
void cli_progress_phase(struct cli_progress *p, const char *what);
/* Draws the bar when due; `final` ends the line (only if one was drawn,
 * or with --progress). */
void cli_progress_draw(struct cli_progress *p, int final);
/* Ends a phase line that was drawn (before an error message, say). */
void cli_progress_clear(struct cli_progress *p);
/* Runs fn(arg) on another thread, drawing the phase `what` meanwhile when
 * the line is due; just calls fn(arg) when the line is off. */
int cli_progress_wait(struct cli_progress *p, const char *what,
    void (*fn)(void *), void *arg);

/* --dot (dot_file.c). The most nodes Graphviz is asked to draw: past a
 * few thousand, `dot` takes minutes. */
#define CLI_DOT_MAX_DRAWN 5000
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
