/*
 * future.c: weft.submit(fn, *args) and its Future (result with a timeout,
 * cancel, done), and wait_any for as_completed: Celery's delay()/get()
 * pattern, in-process, on weft's pool.
 */
#include "pyweft.h"

#include <pthread.h>
#include <string.h>
#include <time.h>

/* Tasks of submitted futures bump the generation when they end, so that
 * wait_any sleeps until something ended instead of polling each future.
 * Lock order: this lock is taken alone (never with the GIL's own). */
static pthread_mutex_t done_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t done_cond = PTHREAD_COND_INITIALIZER;
static unsigned long done_gen;

void
pw_notify_done(pw_run *run)
{
	run->done = 1;
	pthread_mutex_lock(&done_lock);
	done_gen++;
	pthread_cond_broadcast(&done_cond);
	pthread_mutex_unlock(&done_lock);
}

typedef struct {
	PyObject_HEAD pw_built b;
	weft_node *targets; /* the nodes among b's keys */
	size_t m;
	weft_future *f;	 /* NULL when there was nothing to run */
	PyObject *value; /* the results (a list), once taken */
	int rc;		 /* 1 while not known, else the compute's code */
	int single;	 /* result() gives the one result, not a list */
} PwFuture;

static PyObject *cancelled_error; /* concurrent.futures.CancelledError */

PyObject *
pw_compute_async(PyObject *self, PyObject *args, PyObject *kw)
{
	(void)self;
	static char *names[] = { "dsk", "keys", "pool", "num_workers", "single",
		NULL };
	PyObject *dsk, *keys, *pool = Py_None;
	long nw = 0;
	int single = 0;
	if (!PyArg_ParseTupleAndKeywords(args, kw, "O!O!|Olp", names,
		&PyDict_Type, &dsk, &PyList_Type, &keys, &pool, &nw, &single))
		return NULL;
	weft_pool *wp = pw_pool_for(pool, nw);
	if (wp == NULL)
		return NULL;
	PwFuture *fu = PyObject_New(PwFuture, &PwFuture_Type);
	if (fu == NULL)
		return NULL;
	memset(&fu->b, 0, sizeof fu->b);
	fu->targets = NULL;
	fu->m = 0;
	fu->f = NULL;
	fu->value = NULL;
	fu->rc = 1;
	fu->single = single && PyList_GET_SIZE(keys) == 1;
	pw_run *run = pw_run_new(NULL, NULL);
	if (run == NULL || pw_build(dsk, keys, run, &fu->b) < 0) {
		Py_XDECREF(run);
		fu->rc = WEFT_EINVAL;
		Py_DECREF(fu);
		return NULL;
	}
	Py_DECREF(run);
	/* One task: it tells wait_any when it ends (see pw_notify_done). */
	run->notify = weft_graph_size(fu->b.g) == 1;
	fu->targets = pw_targets(&fu->b, &fu->m);
	if (fu->targets == NULL) {
		Py_DECREF(fu);
		return NULL;
	}
	if (fu->m == 0) { /* only data: nothing to run */
		fu->rc = WEFT_OK;
		fu->value = pw_results(&fu->b, NULL);
		if (fu->value == NULL) {
			Py_DECREF(fu);
			return NULL;
		}
		return (PyObject *)fu;
	}
	weft_opts o = { 0 };
	o.pool = wp;
	fu->f = weft_compute_async(fu->b.g, fu->m, fu->targets, &o);
	if (fu->f == NULL) {
		PyErr_Format(PyExc_RuntimeError, "weft: %s", weft_graph_error(fu->b.g));
		Py_DECREF(fu);
		return NULL;
	}
	return (PyObject *)fu;
}

/* Waits up to `timeout` (< 0 forever) and records the outcome; 0 when it
 * has ended, 1 when still running, -1 on an error (a signal). */
static int
future_settle(PwFuture *fu, double timeout)
{
	if (fu->rc != 1)
		return 0;
	int rc = pw_future_wait(fu->f, timeout, fu->b.run);
	if (rc == -1)
		return -1;
	if (rc == WEFT_ETIMEDOUT)
		return 1;
	weft_value *vals = PyMem_Calloc(fu->m, sizeof *vals);
	if (vals == NULL) {
		PyErr_NoMemory();
		return -1;
	}
	if (rc == WEFT_OK)
		rc = weft_future_results(fu->f, vals);
	if (rc == WEFT_OK)
		fu->value = pw_results(&fu->b, vals);
	for (size_t i = 0; i < fu->m; i++)
		weft_value_release(&vals[i]);
	PyMem_Free(vals);
	if (rc == WEFT_OK && fu->value == NULL)
		return -1;
	fu->rc = rc;
	return 0;
}

static PyObject *
future_result(PyObject *self, PyObject *args, PyObject *kw)
{
	static char *names[] = { "timeout", NULL };
	PwFuture *fu = (PwFuture *)self;
	PyObject *t = Py_None;
	if (!PyArg_ParseTupleAndKeywords(args, kw, "|O", names, &t))
		return NULL;
	double timeout = t == Py_None ? -1 : PyFloat_AsDouble(t);
	if (timeout == -1 && PyErr_Occurred())
		return NULL;
	if (timeout < 0 && t != Py_None)
		timeout = 0;
	int s = future_settle(fu, timeout);
	if (s < 0)
		return NULL;
	if (s > 0) {
		PyErr_SetString(PyExc_TimeoutError, "weft: the future is not done");
		return NULL;
	}
	if (fu->rc == WEFT_OK)
		return Py_NewRef(fu->single ? PyList_GET_ITEM(fu->value, 0)
					    : fu->value);
	if (fu->rc == WEFT_ECANCELED) {
		PyErr_SetString(cancelled_error, "weft: the future was canceled");
		return NULL;
	}
	pw_raise_failure(fu->b.run, fu->rc, weft_future_error(fu->f));
	return NULL;
}

static PyObject *
future_cancel(PyObject *self, PyObject *unused)
{
	(void)unused;
	PwFuture *fu = (PwFuture *)self;
	if (fu->rc != 1 || weft_future_wait(fu->f, 0) != WEFT_ETIMEDOUT)
		Py_RETURN_FALSE;
	weft_future_cancel(fu->f);
	pw_notify_done(fu->b.run);
	Py_RETURN_TRUE;
}

static PyObject *
future_done(PyObject *self, PyObject *unused)
{
	(void)unused;
	PwFuture *fu = (PwFuture *)self;
	return PyBool_FromLong(
	    fu->rc != 1 || weft_future_wait(fu->f, 0) != WEFT_ETIMEDOUT);
}

static PyObject *
future_cancelled(PyObject *self, PyObject *unused)
{
	(void)unused;
	PwFuture *fu = (PwFuture *)self;
	if (fu->rc == 1 && weft_future_wait(fu->f, 0) != WEFT_ETIMEDOUT &&
	    future_settle(fu, 0) < 0)
		return NULL;
	return PyBool_FromLong(fu->rc == WEFT_ECANCELED);
}

/* The weft_future's address, for tests that wait on it through ctypes
 * while holding the GIL (proof that a compute does not need it). */
static PyObject *
future_address(PyObject *self, void *unused)
{
	(void)unused;
	return PyLong_FromVoidPtr(((PwFuture *)self)->f);
}

static void
future_dealloc(PyObject *self)
{
	PwFuture *fu = (PwFuture *)self;
	/* A running task needs the GIL to finish: wait without it. */
	weft_future *f = fu->f;
	Py_BEGIN_ALLOW_THREADS weft_future_free(f);
	Py_END_ALLOW_THREADS PyMem_Free(fu->targets);
	if (fu->b.g != NULL)
		pw_built_clear(&fu->b);
	Py_XDECREF(fu->value);
	Py_TYPE(self)->tp_free(self);
}

static PyMethodDef future_methods[] = {
	{ "result", (PyCFunction)(void (*)(void))future_result,
	    METH_VARARGS | METH_KEYWORDS,
	    "result(timeout=None): the value; raises the task's exception, "
	    "TimeoutError, or CancelledError." },
	{ "cancel", future_cancel, METH_NOARGS,
	    "Asks the compute to stop; False when it had already ended." },
	{ "done", future_done, METH_NOARGS, "True once it has ended." },
	{ "cancelled", future_cancelled, METH_NOARGS,
	    "True when it ended canceled." },
	{ NULL, NULL, 0, NULL },
};

static PyGetSetDef future_getset[] = {
	{ "_address", future_address, NULL, "the weft_future (tests)", NULL },
	{ NULL, NULL, NULL, NULL, NULL },
};

PyTypeObject PwFuture_Type = {
	PyVarObject_HEAD_INIT(NULL, 0).tp_name = "weft.Future",
	.tp_basicsize = sizeof(PwFuture),
	.tp_dealloc = future_dealloc,
	.tp_flags = Py_TPFLAGS_DEFAULT,
	.tp_doc = "A compute that runs in the background (weft.submit, "
		  "weft.get_async).",
	.tp_methods = future_methods,
	.tp_getset = future_getset,
};

static int
future_ended(PwFuture *fu)
{
	return fu->rc != 1 || fu->b.run->done ||
	    weft_future_wait(fu->f, 0) != WEFT_ETIMEDOUT;
}

PyObject *
pw_wait_any(PyObject *self, PyObject *args)
{
	(void)self;
	PyObject *futs;
	double timeout;
	if (!PyArg_ParseTuple(args, "O!d", &PyList_Type, &futs, &timeout))
		return NULL;
	Py_ssize_t n = PyList_GET_SIZE(futs);
	for (Py_ssize_t i = 0; i < n; i++)
		if (!PyObject_TypeCheck(PyList_GET_ITEM(futs, i), &PwFuture_Type)) {
			PyErr_SetString(PyExc_TypeError, "weft: not a weft.Future");
			return NULL;
		}
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		pthread_mutex_lock(&done_lock);
		unsigned long gen = done_gen;
		pthread_mutex_unlock(&done_lock);
		PyObject *out = PyList_New(0);
		if (out == NULL)
			return NULL;
		for (Py_ssize_t i = 0; i < n; i++) {
			PwFuture *fu = (PwFuture *)PyList_GET_ITEM(futs, i);
			if (!future_ended(fu))
				continue;
			PyObject *ix = PyLong_FromSsize_t(i);
			/* its task has ended: the compute ends at once */
			if (ix == NULL || PyList_Append(out, ix) < 0 ||
			    future_settle(fu, -1) < 0) {
				Py_XDECREF(ix);
				Py_DECREF(out);
				return NULL;
			}
			Py_DECREF(ix);
		}
		if (PyList_GET_SIZE(out) > 0 || n == 0)
			return out;
		Py_DECREF(out);
		struct timespec now, until;
		clock_gettime(CLOCK_MONOTONIC, &now);
		double el = (double)(now.tv_sec - t0.tv_sec) +
		    (double)(now.tv_nsec - t0.tv_nsec) * 1e-9;
		if (timeout >= 0 && el >= timeout)
			return PyList_New(0);
		/* Sleep until a task ends, at most 20 ms (signals, and C
		 * tasks, which do not notify). */
		double w = timeout >= 0 && timeout - el < 0.02 ? timeout - el : 0.02;
		clock_gettime(CLOCK_REALTIME, &until);
		long ns = until.tv_nsec + (long)(w * 1e9);
		until.tv_sec += ns / 1000000000L;
		until.tv_nsec = ns % 1000000000L;
		Py_BEGIN_ALLOW_THREADS pthread_mutex_lock(&done_lock);
		while (done_gen == gen &&
		    pthread_cond_timedwait(&done_cond, &done_lock, &until) == 0)
			;
		pthread_mutex_unlock(&done_lock);
		Py_END_ALLOW_THREADS if (PyErr_CheckSignals() < 0) return NULL;
	}
}

int
pw_future_init_types(void)
{
	PyObject *cf = PyImport_ImportModule("concurrent.futures");
	if (cf == NULL)
		return -1;
	cancelled_error = PyObject_GetAttrString(cf, "CancelledError");
	Py_DECREF(cf);
	return cancelled_error ? 0 : -1;
}
