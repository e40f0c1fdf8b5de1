/*
 * pyweft.h: what the files of the CPython extension `weft._weft` share.
 *
 * The extension is a front end: it uses weft's public C API only (weft.h),
 * like the `weft` command. Python objects travel through weft as WEFT_PTR
 * values whose pointer is the PyObject with bit 0 set (so a PTR made by C
 * code, always aligned, is never taken for one); small ints, floats, bools
 * and None travel as native weft values, which C functions understand and
 * which cost no allocation.
 *
 * GIL rules: weft's workers never hold the GIL while they schedule. A task
 * that calls Python takes it (pw_gil_enter) for the call and gives it back
 * before it returns. Dropping the last reference of a Python object may
 * happen on any thread, GIL or not: without the GIL the object goes to the
 * "graveyard", a list emptied by the next thread that holds the GIL.
 */
#ifndef PYWEFT_H
#define PYWEFT_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <weft.h>

/* -- values (value.c) ---------------------------------------------------- */

/* A PTR value owning a new reference to `o`. NIL on no memory (the
 * reference is then dropped). */
weft_value pw_wrap(PyObject *o);
/* `v` as a Python-owned object when it is one of ours, else NULL
 * (borrowed). */
PyObject *pw_unwrap(weft_value v);
/* An owned weft value for `o`: native for exact int (64-bit), float, bool
 * and None; a PTR otherwise. `deep` also makes str, bytes, list and tuple
 * native (for C functions). NIL with a Python error set on failure. */
int pw_from_py(PyObject *o, int deep, weft_value *out);
/* A new reference for `v`, or NULL with an error set. */
PyObject *pw_to_py(weft_value v);
/* Drops the references that threads without the GIL left behind. GIL held. */
void pw_graveyard_drain(void);

/* -- the GIL on weft's workers (value.c) --------------------------------- */

/* Takes the GIL on this thread (any thread); returns what pw_gil_leave
 * needs. A weft worker keeps one Python thread state for its whole life, so
 * a task does not create and destroy one each time. */
int pw_gil_enter(void);
void pw_gil_leave(int token);
/* 1 while this thread runs a Python task of ours (nested computes then use
 * the blocking weft_compute, which lets the worker run other work). */
int pw_in_task(void);
void pw_set_in_task(int on);

/* -- the registry of weft C functions (module.c) ------------------------- */

extern PyTypeObject PwFunction_Type; /* weft.fn("add") objects */
typedef struct {
	PyObject_HEAD const weft_func_info *info;
} PwFunction;

/* The pool for `num_workers` (0: the default pool), kept for reuse. NULL
 * with an error set. */
weft_pool *pw_pool_for(PyObject *pool_obj, long num_workers);
extern PyTypeObject PwPool_Type;

/* -- one run's shared state (task.c) ------------------------------------- */

/* Shared by every task of one graph (a literal argument of each), so a task
 * can report its exception and call the Dask callbacks. A Python object, so
 * its last reference may go on any thread (through the graveyard). Its
 * fields are read and written with the GIL held. */
typedef struct pw_run {
	PyObject_HEAD PyObject *exc; /* the first task exception (with tb) */
	PyObject *pre;		     /* callable(key) or NULL: Dask pretask */
	PyObject *post; /* callable(key, result, worker) or NULL: posttask */
	int with_keys;	/* tasks carry their Dask key (for callbacks) */
	int done;	/* the task of a submitted future has ended */
	int notify;	/* call pw_notify_done when a task ends */
	/* Per worker (the first PW_BUSY): the thread id of a Python task of
	 * this run that is running, 0 when none; a KeyboardInterrupt in the
	 * caller is sent to them so that long Python tasks stop early. */
	unsigned long busy[64];
} pw_run;
#define PW_BUSY 64

extern PyTypeObject PwRun_Type;
/* A new run, or NULL with an error set. */
pw_run *pw_run_new(PyObject *pre, PyObject *post);

/* The task functions. Args of pw_task_call: [run, callable, (key when
 * run->with_keys; NIL for a nested task), arg...]; of pw_task_list: [run,
 * item...]. */
int pw_task_call(weft_ctx *ctx, size_t n, const weft_value *a, weft_value *o);
int pw_task_list(weft_ctx *ctx, size_t n, const weft_value *a, weft_value *o);
/* Called (GIL held) when a task of a run whose `done` matters has ended. */
void pw_notify_done(pw_run *run);

/* -- translating a Dask graph (build.c) ---------------------------------- */

/* A Dask graph built into a weft graph: the nodes (or literal values) of
 * the flat list of keys asked for. */
typedef struct pw_built {
	weft_graph *g;
	pw_run *run;	     /* owned */
	size_t n;	     /* keys asked for */
	weft_node *nodes;    /* per key: its node, or WEFT_NODE_NONE ... */
	PyObject **lits;     /* ... and then its literal value (owned) */
	PyObject *task_keys; /* list of the Dask keys of the tasks built,
				when run->with_keys; else NULL */
} pw_built;

/* Builds what `keys` (a list of keys) need of `dsk` (a dict). Raises
 * KeyError for a missing key, RuntimeError for a cycle. 0 or -1. */
int pw_build(PyObject *dsk, PyObject *keys, pw_run *run, pw_built *out);
/* Frees the weft graph (dropping its literals) and the rest. GIL held. */
void pw_built_clear(pw_built *b);

/* The nodes among the keys of `b` (PyMem_Free it), their number in *m. */
weft_node *pw_targets(const pw_built *b, size_t *m);
/* The results in key order: vals[] holds the nodes' values in order. */
PyObject *pw_results(const pw_built *b, const weft_value *vals);

/* weft._weft.get(dsk, keys, pool, num_workers): build, compute, results as
 * a list in the order of `keys`. */
PyObject *pw_get(PyObject *self, PyObject *args);
/* weft._weft.Graph: the same in steps, for the Dask callbacks. */
extern PyTypeObject PwGraph_Type;

/* -- futures (future.c) -------------------------------------------------- */

extern PyTypeObject PwFuture_Type;
PyObject *pw_compute_async(PyObject *self, PyObject *args, PyObject *kwargs);
PyObject *pw_wait_any(PyObject *self, PyObject *args);
int pw_future_init_types(void);

/* Waits for `f` with the GIL released, checking for signals every few ms;
 * on a signal (KeyboardInterrupt) cancels the compute, waits for its end
 * and returns -1 with the error set. `timeout` < 0: forever. Returns the
 * compute's code (WEFT_ETIMEDOUT when the timeout passed). */
int pw_future_wait(weft_future *f, double timeout, pw_run *run);

/* Raises the stored exception of `run`, or weft.TaskError for `rc`. */
void pw_raise_failure(pw_run *run, int rc, const char *msg);
extern PyObject *PwTaskError; /* weft.TaskError: a weft C task failed */

#endif
