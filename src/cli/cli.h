/*
 * The `weft` command. It uses the public API only (weft.h), like any other
 * program would, plus hwloc for `weft info`'s machine summary.
 */
#ifndef WEFT_CLI_H
#define WEFT_CLI_H

#include <stdatomic.h>
#include <stddef.h>

#include "weft.h"

/* Exit codes: success, a task failed at run time, bad input or usage. */
enum { EXIT_OK = 0, EXIT_RUN = 1, EXIT_USAGE = 2 };

/* Prints "weft: MESSAGE" on stderr. */
void cli_error(const char *fmt, ...) WEFT_PRINTF(1, 2);

/* Option parsing. For argv[*i] == `name`, takes the value from the next
 * argument; for "name=value", from after '='. Returns 1 when it matched
 * (and *val is set), 0 when not, -1 when the value is missing (reported). */
int cli_opt(int argc, char **argv, int *i, const char *name,
    const char *alias, const char **val);
/* True when argv[i] is -h or --help. */
int cli_is_help(const char *a);
/* Parses a decimal unsigned in [min, max]; reports and returns -1 if not. */
int cli_parse_size(const char *opt, const char *s, size_t min, size_t max,
    size_t *out);
/* Loads a plugin into reg; reports failures. 0 or -1. */
int cli_load_plugin(weft_registry *reg, const char *path);
/* A registry with the built-ins; NULL (reported) when out of memory. */
weft_registry *cli_registry(void);

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
int cmd_serve(int argc, char **argv);
int cmd_worker(int argc, char **argv); /* cmd_worker.c */

/* weft run --mpi: hand the run to weft-mpi (mpi_delegate.c). */
int cli_take_mpi_flag(int *argc, char **argv);
int cli_exec_mpi(int argc, char **argv);

#endif
