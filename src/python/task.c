/*
 * task.c: the weft task functions that call Python, and the per-run state
 * they share (the first exception, the Dask callbacks).
 */
#include "pyweft.h"

#include <string.h>


static void
run_dealloc(PyObject *self)
{
	pw_run *r = (pw_run *)self;
	Py_XDECREF(r->exc);
	Py_XDECREF(r->pre);
	Py_XDECREF(r->post);
	Py_TYPE(self)->tp_free(self);
}

PyTypeObject PwRun_Type = {
	PyVarObject_HEAD_INIT(NULL, 0).tp_name = "weft._weft.Run",
	.tp_basicsize = sizeof(pw_run),
	.tp_dealloc = run_dealloc,
	.tp_flags = Py_TPFLAGS_DEFAULT,
	.tp_doc = "The state one compute's Python tasks share (internal).",
};

pw_run *
pw_run_new(PyObject *pre, PyObject *post)
{
	pw_run *r = PyObject_New(pw_run, &PwRun_Type);
	if (r == NULL)
		return NULL;
	r->exc = NULL;
	r->pre = Py_XNewRef(pre);
	r->post = Py_XNewRef(post);
	r->with_keys = pre != NULL || post != NULL;
	r->done = 0;
	r->notify = 0;
	memset(r->busy, 0, sizeof r->busy);
	return r;
}

/* Keeps the running exception (the first of the run) with its traceback,
 * and turns it into a weft task failure, which stops the compute. */
static int
task_failed(weft_ctx *ctx, pw_run *run)
{
	PyObject *type, *value, *tb;
	PyErr_Fetch(&type, &value, &tb);
	PyErr_NormalizeException(&type, &value, &tb);
	if (value == NULL) { /* cannot happen after a failed call; be safe */
		value = Py_NewRef(PyExc_SystemError);
	} else if (tb != NULL) {
		PyException_SetTraceback(value, tb);
	}
	const char *name = type ? ((PyTypeObject *)type)->tp_name : "exception";
	int rc = weft_fail(ctx, "Python %s", name);
	if (run != NULL && run->exc == NULL)
		run->exc = value; /* the GIL orders writers */
	else
		Py_DECREF(value);
	Py_XDECREF(type);
	Py_XDECREF(tb);
	return rc;
}


#define SMALL_ARGS 8

int
pw_task_call(weft_ctx *ctx, size_t n, const weft_value *a, weft_value *out)
{
	int tok = pw_gil_enter();
	pw_graveyard_drain();
	pw_run *run = (pw_run *)pw_unwrap(a[0]);
	PyObject *fn = pw_unwrap(a[1]);
	size_t first = 2;
	PyObject *key = NULL;
	if (run->with_keys) {
		key = pw_unwrap(a[2]);
		first = 3;
	}
	int rc = WEFT_OK;
	PyObject *small[SMALL_ARGS], **stack = small;
	size_t nargs = n - first, made = 0;
	PyObject *res = NULL;

	if (key != NULL && run->pre != NULL) {
		PyObject *r = PyObject_CallOneArg(run->pre, key);
		if (r == NULL)
			goto fail;
		Py_DECREF(r);
	}
	if (nargs > SMALL_ARGS) {
		stack = PyMem_Malloc(nargs * sizeof *stack);
		if (stack == NULL) {
			PyErr_NoMemory();
			goto fail;
		}
	}
	for (; made < nargs; made++) {
		stack[made] = pw_to_py(a[first + made]);
		if (stack[made] == NULL)
			goto fail;
	}
	int outer = pw_in_task();
	int w = weft_ctx_worker(ctx);
	unsigned long *busy = w >= 0 && w < PW_BUSY ? &run->busy[w] : NULL;
	unsigned long was = busy ? *busy : 0;
	if (busy)
		*busy = PyThread_get_thread_ident();
	pw_set_in_task(1);
	res = PyObject_Vectorcall(fn, stack, nargs, NULL);
	pw_set_in_task(outer);
	if (busy)
		*busy = was;
	if (res == NULL)
		goto fail;
	if (key != NULL && run->post != NULL) {
		PyObject *w = PyLong_FromLong(weft_ctx_worker(ctx));
		PyObject *r = w ? PyObject_CallFunctionObjArgs(
				      run->post, key, res, w, NULL)
				: NULL;
		Py_XDECREF(w);
		if (r == NULL)
			goto fail;
		Py_DECREF(r);
	}
	if (pw_from_py(res, 0, out) < 0)
		goto fail;
	goto done;
fail:
	rc = task_failed(ctx, run);
done:
	Py_XDECREF(res);
	for (size_t i = 0; i < made; i++)
		Py_DECREF(stack[i]);
	if (stack != small)
		PyMem_Free(stack);
	if (run->notify)
		pw_notify_done(run);
	pw_gil_leave(tok);
	return rc;
}

int
pw_task_list(weft_ctx *ctx, size_t n, const weft_value *a, weft_value *out)
{
	int tok = pw_gil_enter();
	pw_run *run = (pw_run *)pw_unwrap(a[0]);
	int rc = WEFT_OK;
	PyObject *l = PyList_New((Py_ssize_t)(n - 1));
	for (size_t i = 1; l != NULL && i < n; i++) {
		PyObject *x = pw_to_py(a[i]);
		if (x == NULL)
			Py_CLEAR(l);
		else
			PyList_SET_ITEM(l, (Py_ssize_t)(i - 1), x);
	}
	if (l == NULL || pw_from_py(l, 0, out) < 0)
		rc = task_failed(ctx, run);
	Py_XDECREF(l);
	pw_gil_leave(tok);
	return rc;
}
