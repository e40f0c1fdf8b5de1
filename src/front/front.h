/*
 * The front-end layer: what every command-line front end of weft shares
 * (`weft`, `weft-mpi`, `weft worker`, `weft serve`). It stands on the
 * public API only (weft.h), like any program would, and it may print: the
 * library never does.
 *
 * - errors: "PROG: MESSAGE" on stderr (weft_front_error);
 * - options: "--name VALUE", "--name=VALUE", aliases, strict decimal
 *   numbers ("-j 2.5" is refused everywhere);
 * - pool options (-j/--threads, --bind, --topology) into a weft_pool_opts;
 * - the registry: built-ins, analytics, --plugin LIB.so (a bare name is
 *   searched next to the program and in the prefix's plugin directory);
 * - the options of `weft run`, parsed once for every program that runs
 *   graph files (weft run, weft-mpi run), with a hook for a program's own;
 * - output: one bounded writer (weft_front_out) that checks every write,
 *   stops at the first error or past --max-bytes, and prints results, keys
 *   and values, as JSON or text.
 *
 * Every function that can fail reports why through weft_front_error()
 * before it returns -1, so callers only choose the exit status.
 *
 * A program that runs graph files, in short (weft-mpi adds --check and
 * --timeout through `extra`; see cli/cmd_run.c for the whole of it):
 *
 *	weft_front_run_opts o;
 *	weft_front_set_prog("weft-mpi");
 *	rc = weft_front_run_parse(argc, argv, 2, "run", WEFT_FRONT_RUN_ALL,
 *	    extra, &mine, &o);             // 1: print your --help
 *	reg = weft_front_run_registry(&o); // built-ins, analytics, plugins
 *	... weft_spec_load_file(o.file, reg, &o.spec, &s, &err) ...
 *	    (on failure: weft_front_load_error(&err))
 *	pool = weft_front_pool_new(&o.pool);
 *	... compute ...
 *	weft_front_out_init(&out, stdout, o.max_bytes);
 *	weft_front_print_results(&out, s, res, o.text);
 *	if (weft_front_out_end(&out, "the results")) exit status 1
 *	weft_front_run_opts_free(&o);
 *	return weft_front_exit(code);      // from main()
 * Not thread-safe: a front end parses and prints from its main thread.
 */
#ifndef WEFT_FRONT_H
#define WEFT_FRONT_H

#include <stdint.h>
#include <stdio.h>

#include "weft.h"

/* Exit statuses of every front end: success, a task failed at run time (or
 * the results could not be written), bad input or usage. */
enum {
	WEFT_FRONT_EXIT_OK = 0,
	WEFT_FRONT_EXIT_RUN = 1,
	WEFT_FRONT_EXIT_USAGE = 2,
};

/* -- errors ---------------------------------------------------------------- */

/* The name errors start with ("weft" unless set; static storage), and
 * whether they are printed at all (0 on the MPI ranks that keep quiet). */
void weft_front_set_prog(const char *prog);
const char *weft_front_prog(void);
void weft_front_set_verbose(int verbose);
/* Prints "PROG: MESSAGE\n" on stderr. */
void weft_front_error(const char *fmt, ...) WEFT_PRINTF(1, 2);

/* -- options --------------------------------------------------------------- */

/* True when `a` is -h or --help. */
int weft_front_is_help(const char *a);
/* For argv[*i] == name (or alias, may be NULL), takes the value from the
 * next argument (and advances *i); for "name=value", from after '='.
 * Returns 1 when it matched (*val set), 0 when not, -1 when the value is
 * missing (reported). */
int weft_front_opt(int argc, char **argv, int *i, const char *name,
    const char *alias, const char **val);
/* A decimal unsigned in [min, max]: digits only, no sign, no point, no
 * 0x. 0, or -1 (reported as "OPT: 'S' is not a number ..."). */
int weft_front_parse_size(const char *opt, const char *s, size_t min,
    size_t max, size_t *out);
/* The same for 64-bit sizes (--max-bytes). */
int weft_front_parse_u64(const char *opt, const char *s, uint64_t min,
    uint64_t max, uint64_t *out);
/* Seconds: a decimal number with an optional fraction ("2", "0.5") in
 * [min, max]; no exponent, no inf/nan. 0 or -1 (reported). */
int weft_front_parse_seconds(const char *opt, const char *s, double min,
    double max, double *out);

/* -- pool options ---------------------------------------------------------- */

/* The most worker threads any front end starts. */
#define WEFT_FRONT_MAX_THREADS 4096

/* What weft_front_pool_opt() accepts. */
enum {
	WEFT_FRONT_POOL_THREADS = 1u << 0,  /* -j N, --threads N */
	WEFT_FRONT_POOL_BIND = 1u << 1,     /* --bind cores|pus|none */
	WEFT_FRONT_POOL_TOPOLOGY = 1u << 2, /* --topology "package:2 ..." */
	WEFT_FRONT_POOL_ALL = 7u,
};
/* Parses a pool option at argv[*i] into *po (threads, bind, topology; the
 * topology string is argv's). `which` is an or of the flags above. Returns
 * 1 matched, 0 not a pool option, -1 a bad value (reported). A --topology
 * whose counts multiply past WEFT_FRONT_MAX_THREADS PUs is refused here,
 * before hwloc would spend minutes building it. */
int weft_front_pool_opt(int argc, char **argv, int *i, unsigned which,
    weft_pool_opts *po);
/* "cores", "pus" or "none". */
const char *weft_front_bind_name(weft_bind b);
/* A pool from *po; NULL (reported, naming the threads) on failure. */
weft_pool *weft_front_pool_new(const weft_pool_opts *po);

/* -- the registry ---------------------------------------------------------- */

/* A registry with the built-ins and the analytics functions; NULL
 * (reported) when out of memory. Free it with weft_registry_free(). */
weft_registry *weft_front_registry(void);
/* Loads a plugin into reg. A name with a '/' is loaded as given; a bare
 * name (with or without ".so") is looked for in the current directory,
 * next to the program, then in the prefix's plugin directory (WEFT_PLUGIN_DIR,
 * printed by `weft funcs --help`), then as dlopen() would. 0, or -1
 * (reported). */
int weft_front_load_plugin(weft_registry *reg, const char *name);
/* The plugin directory of the installation. */
const char *weft_front_plugin_dir(void);
/* Explains an unknown function for a message: " (did you mean 'sum'?)",
 * or, when no built-in is close, " (a plugin may provide it: --plugin
 * LIB.so; see 'weft funcs')". Writes into buf and returns it. */
const char *weft_front_unknown_hint(const weft_registry *reg,
    const char *name, char *buf, size_t size);

/* Prints why a graph file did not load (the message names the file and
 * position) and, for a function no registry entry has and none is close
 * to, a hint that a plugin may provide it (--plugin). */
void weft_front_load_error(const weft_spec_error *err);

/* What main() returns: `code`, unless it is success and standard output
 * cannot be flushed (or a write to it failed): then that is reported
 * ("PROG: writing to standard output: No space left on device") and the
 * exit status is WEFT_FRONT_EXIT_RUN. */
int weft_front_exit(int code);

/* -- output ---------------------------------------------------------------- */

/* The default --max-bytes: 1 GiB of output. */
#define WEFT_FRONT_MAX_BYTES_DEFAULT ((uint64_t)1 << 30)

/* A bounded writer over a FILE: every write is checked as it goes; the
 * first failure (or passing the limit) is kept, and every later write is
 * refused, so a huge value stops being walked at once. */
typedef struct weft_front_out {
	FILE *f;
	uint64_t max_bytes; /* 0: no limit */
	uint64_t written;   /* bytes accepted so far */
	int rc;             /* WEFT_OK, or the first failure's code */
	int err;            /* errno of a failed write, 0 when none */
	uint64_t wanted;    /* past the limit: the size that was refused */
} weft_front_out;

/* Starts writing to f (stdout, mostly) with a limit (0: none). */
void weft_front_out_init(weft_front_out *o, FILE *f, uint64_t max_bytes);
/* A weft_write_fn (weft/write.h) whose ud is a weft_front_out. */
int weft_front_out_sink(void *ud, const char *s, size_t n);
/* Writes n bytes / a string / printf text / a value (WEFT_WRITE_TEXT or
 * 0). Each returns o->rc: WEFT_OK, or the first failure (sticky). */
int weft_front_out_put(weft_front_out *o, const char *s, size_t n);
int weft_front_out_puts(weft_front_out *o, const char *s);
int weft_front_out_printf(weft_front_out *o, const char *fmt, ...)
    WEFT_PRINTF(2, 3);
int weft_front_out_value(weft_front_out *o, weft_value v, unsigned flags);
/* Flushes the FILE; returns o->rc (a failed flush sets it). */
int weft_front_out_flush(weft_front_out *o);
/* Flushes, and when anything failed reports "PROG: writing WHAT: Broken
 * pipe" (the system's reason, or "nothing written: it would be N bytes,
 * more than --max-bytes M") and returns -1; 0 when all is well. */
int weft_front_out_end(weft_front_out *o, const char *what);

/* Prints the results of a run of s: JSON, one object {"key": value, ...}
 * and a newline; text, one "key: value" line per target (strings
 * unquoted). res holds weft_spec_ntargets(s) values (borrowed). The whole
 * output is measured first (weft_value_write_size(), fast even for values
 * that would print as terabytes): past o->max_bytes nothing is written, so
 * the output is all or nothing. Returns o->rc (see weft_front_out_end()). */
int weft_front_print_results(weft_front_out *o, const weft_spec *s,
    const weft_value *res, int text);

/* -- the options of `weft run` --------------------------------------------- */

/* What a program that runs graph files is asked to do. */
typedef struct weft_front_run_opts {
	const char *file;     /* "-": standard input */
	const char **targets; /* -t KEY..., ntargets of them (argv's) */
	size_t ntargets;
	const char **plugins; /* --plugin LIB.so..., in order (argv's) */
	size_t nplugins;
	weft_spec_opts spec;  /* --strict, --max-nodes, --max-depth, targets */
	weft_pool_opts pool;  /* -j, --bind, --topology */
	int text;             /* -o text */
	int stats;            /* --stats */
	int progress;         /* --progress 1, --no-progress 0, -1 unset */
	const char *trace;    /* --trace OUT.json, or NULL */
	const char *dot;      /* --dot OUT, or NULL */
	uint64_t max_bytes;   /* --max-bytes N (default 1 GiB) */
} weft_front_run_opts;

/* A program's own options: return 1 when argv[*i] was one (advance *i
 * past its value), 0 when not, -1 on a bad value (reported). */
typedef int (*weft_front_opt_fn)(
    void *ud, int argc, char **argv, int *i);

/* What weft_front_run_parse() accepts besides the file, -t, --plugin,
 * --strict, --max-nodes and --max-depth (which every reader takes). */
enum {
	WEFT_FRONT_RUN_POOL = 1u << 0,   /* -j, --bind, --topology */
	WEFT_FRONT_RUN_OUTPUT = 1u << 1, /* -o, --max-bytes */
	WEFT_FRONT_RUN_SHOW = 1u << 2,   /* --stats, --progress, --trace */
	WEFT_FRONT_RUN_DOT = 1u << 3,    /* --dot */
	WEFT_FRONT_RUN_ALL = 15u,        /* everything `weft run` takes */
};

/* The options part of `weft run --help`, shared by every program that
 * takes them. */
extern const char weft_front_run_options_help[];

/* Parses argv[first..argc) into *o (zeroed first). `cmd` names the command
 * in messages ("run"); `extra` (may be NULL) is tried first on every
 * option. Plugins are collected, not loaded: see weft_front_run_registry().
 * Returns 0, 1 when -h/--help was seen (nothing printed: print your
 * usage), -1 on a usage error (reported). Free with
 * weft_front_run_opts_free() in every case. */
int weft_front_run_parse(int argc, char **argv, int first, const char *cmd,
    unsigned which, weft_front_opt_fn extra, void *ud,
    weft_front_run_opts *o);
void weft_front_run_opts_free(weft_front_run_opts *o);
/* weft_front_registry() plus o's plugins, in order; NULL (reported). */
weft_registry *weft_front_run_registry(const weft_front_run_opts *o);

#endif
