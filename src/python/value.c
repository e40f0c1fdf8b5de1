/*
 * value.c: Python objects as weft values, and back; the graveyard of
 * references dropped without the GIL; the GIL on weft's worker threads.
 */
#include "pyweft.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>

/* -- the graveyard ------------------------------------------------------- */

/* weft releases a task's result on the worker that ran its last consumer,
 * after that task returned and gave back the GIL. Taking the GIL again just
 * to drop a reference would double the GIL traffic of a compute, and a
 * worker waiting for the GIL cannot run other tasks. So a reference dropped
 * without the GIL is parked here and dropped by the next task (or caller)
 * that holds the GIL anyway. The lock is held for a push or a swap only. */
static pthread_mutex_t gy_lock = PTHREAD_MUTEX_INITIALIZER;
static PyObject **gy_items;
static size_t gy_len, gy_cap;
static atomic_size_t gy_pending; /* a hint: skip the lock when 0 */

static void
pw_decref_anywhere(PyObject *o)
{
	if (PyGILState_Check()) {
		Py_DECREF(o);
		return;
	}
	pthread_mutex_lock(&gy_lock);
	if (gy_len == gy_cap) {
		size_t cap = gy_cap ? gy_cap * 2 : 1024;
		PyObject **n = realloc(gy_items, cap * sizeof *n);
		if (n == NULL) {
			/* No memory for the list: pay for the GIL instead. */
			pthread_mutex_unlock(&gy_lock);
			PyGILState_STATE s = PyGILState_Ensure();
			Py_DECREF(o);
			PyGILState_Release(s);
			return;
		}
		gy_items = n;
		gy_cap = cap;
	}
	gy_items[gy_len++] = o;
	atomic_store_explicit(&gy_pending, gy_len, memory_order_release);
	pthread_mutex_unlock(&gy_lock);
}

void
pw_graveyard_drain(void)
{
	if (atomic_load_explicit(&gy_pending, memory_order_acquire) == 0)
		return;
	PyObject *local[256];
	for (;;) {
		size_t n = 0;
		pthread_mutex_lock(&gy_lock);
		while (gy_len > 0 && n < 256)
			local[n++] = gy_items[--gy_len];
		atomic_store_explicit(&gy_pending, gy_len, memory_order_release);
		pthread_mutex_unlock(&gy_lock);
		if (n == 0)
			return;
		/* A destructor may release more weft values (and so park
		 * more objects): the loop takes those too. */
		for (size_t i = 0; i < n; i++)
			Py_DECREF(local[i]);
	}
}

/* -- Python objects inside weft values ------------------------------------ */

static void
pw_ptr_free(void *p)
{
	pw_decref_anywhere((PyObject *)((uintptr_t)p & ~(uintptr_t)1));
}

weft_value
pw_wrap(PyObject *o)
{
	Py_INCREF(o);
	/* PyObjects are at least 8-byte aligned: bit 0 marks them ours. */
	return weft_ptr((void *)((uintptr_t)o | 1), pw_ptr_free);
}

PyObject *
pw_unwrap(weft_value v)
{
	uintptr_t p = (uintptr_t)weft_ptr_get(v);
	if ((p & 1) == 0)
		return NULL;
	return (PyObject *)(p & ~(uintptr_t)1);
}

static int
from_py_deep(PyObject *o, weft_value *out, int depth)
{
	if (depth > 100) {
		PyErr_SetString(PyExc_RecursionError,
		    "weft: a list nested more than 100 deep cannot be passed "
		    "to a weft C function");
		return -1;
	}
	if (PyUnicode_Check(o)) {
		Py_ssize_t n;
		const char *s = PyUnicode_AsUTF8AndSize(o, &n);
		if (s == NULL)
			return -1;
		*out = weft_str_n(s, (size_t)n);
	} else if (PyBytes_Check(o)) {
		*out = weft_bytes(PyBytes_AS_STRING(o), (size_t)PyBytes_GET_SIZE(o));
	} else if (PyList_Check(o) || PyTuple_Check(o)) {
		Py_ssize_t n = PySequence_Fast_GET_SIZE(o);
		PyObject **items = PySequence_Fast_ITEMS(o);
		if (weft_list_new((size_t)n, out) != WEFT_OK) {
			PyErr_NoMemory();
			return -1;
		}
		for (Py_ssize_t i = 0; i < n; i++) {
			weft_value item;
			if (from_py_deep(items[i], &item, depth + 1) < 0) {
				weft_value_release(out);
				return -1;
			}
			weft_list_set(out, (size_t)i, item);
		}
		return 0;
	} else {
		return pw_from_py(o, 0, out);
	}
	if (weft_is_nil(*out)) {
		PyErr_NoMemory();
		return -1;
	}
	return 0;
}

int
pw_from_py(PyObject *o, int deep, weft_value *out)
{
	if (o == Py_None) {
		*out = weft_nil();
		return 0;
	}
	if (PyBool_Check(o)) {
		*out = weft_bool(o == Py_True);
		return 0;
	}
	if (PyLong_CheckExact(o)) {
		int overflow = 0;
		long long x = PyLong_AsLongLongAndOverflow(o, &overflow);
		if (!overflow && !(x == -1 && PyErr_Occurred())) {
			*out = weft_int(x);
			return 0;
		}
		PyErr_Clear(); /* too big: travels as the object */
	} else if (PyFloat_CheckExact(o)) {
		*out = weft_float(PyFloat_AS_DOUBLE(o));
		return 0;
	} else if (deep) {
		return from_py_deep(o, out, 0);
	}
	*out = pw_wrap(o);
	if (weft_is_nil(*out)) {
		PyErr_NoMemory();
		return -1;
	}
	return 0;
}

/* A weft value made by C code that Python cannot read as an object (a
 * foreign PTR): kept alive in a capsule. */
static void
capsule_free(PyObject *cap)
{
	weft_value *v = PyCapsule_GetPointer(cap, "weft.value");
	if (v != NULL) {
		weft_value_release(v);
		free(v);
	}
}

PyObject *
pw_to_py(weft_value v)
{
	switch (weft_type_of(v)) {
	case WEFT_NIL:
		Py_RETURN_NONE;
	case WEFT_BOOL:
		return PyBool_FromLong(weft_as_bool(v));
	case WEFT_INT:
		return PyLong_FromLongLong(weft_as_int(v));
	case WEFT_FLOAT:
		return PyFloat_FromDouble(weft_as_float(v));
	case WEFT_STR:
		return PyUnicode_DecodeUTF8(weft_as_str(v),
		    (Py_ssize_t)weft_len(v), "surrogateescape");
	case WEFT_BYTES:
		return PyBytes_FromStringAndSize(
		    weft_bytes_data(v), (Py_ssize_t)weft_len(v));
	case WEFT_LIST: {
		size_t n = weft_len(v);
		PyObject *l = PyList_New((Py_ssize_t)n);
		for (size_t i = 0; l != NULL && i < n; i++) {
			PyObject *x = pw_to_py(weft_list_get(v, i));
			if (x == NULL)
				Py_CLEAR(l);
			else
				PyList_SET_ITEM(l, (Py_ssize_t)i, x);
		}
		return l;
	}
	case WEFT_F64S: {
		size_t n = weft_len(v);
		const double *d = weft_f64s_data(v);
		PyObject *l = PyList_New((Py_ssize_t)n);
		for (size_t i = 0; l != NULL && i < n; i++) {
			PyObject *x = PyFloat_FromDouble(d[i]);
			if (x == NULL)
				Py_CLEAR(l);
			else
				PyList_SET_ITEM(l, (Py_ssize_t)i, x);
		}
		return l;
	}
	case WEFT_PTR: {
		PyObject *o = pw_unwrap(v);
		if (o != NULL)
			return Py_NewRef(o);
		weft_value *keep = malloc(sizeof *keep);
		if (keep == NULL)
			return PyErr_NoMemory();
		*keep = weft_value_retain(v);
		PyObject *cap = PyCapsule_New(keep, "weft.value", capsule_free);
		if (cap == NULL) {
			weft_value_release(keep);
			free(keep);
		}
		return cap;
	}
	}
	PyErr_SetString(PyExc_TypeError, "weft: a value of unknown type");
	return NULL;
}

/* -- the GIL on weft's workers --------------------------------------------- */

/* The Python thread state of this thread, while it does not hold the GIL.
 * Made once per worker thread (PyGILState_Ensure) and never destroyed:
 * creating and deleting one per task would cost more than the task. */
static _Thread_local PyThreadState *tls_state;
static _Thread_local int tls_in_task;

int
pw_gil_enter(void)
{
	if (PyGILState_Check())
		return 0; /* a nested call on a thread that holds it */
	if (tls_state != NULL) {
		PyEval_RestoreThread(tls_state);
		tls_state = NULL;
		return 1;
	}
	(void)PyGILState_Ensure(); /* kept: the counter stays above 0 */
	return 1;
}

void
pw_gil_leave(int token)
{
	if (token)
		tls_state = PyEval_SaveThread();
}

int
pw_in_task(void)
{
	return tls_in_task;
}

void
pw_set_in_task(int on)
{
	tls_in_task = on;
}
