/*
 * graph.c: computing a built Dask graph: weft._weft.get and the Graph type
 * (the same in steps, so the Python layer can call the Dask callbacks).
 * The caller waits with the GIL released and checks for signals between
 * short waits: Ctrl-C cancels the compute.
 */
#include "pyweft.h"

#include <time.h>

PyObject *PwTaskError;

static double
now_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* A Ctrl-C: stop the Python tasks that are running (they get the
 * KeyboardInterrupt at their next bytecode) and start nothing new. */
static void
interrupt_run(weft_future *f, pw_run *run)
{
	weft_future_cancel(f);
	for (int i = 0; run != NULL && i < PW_BUSY; i++)
		if (run->busy[i] != 0)
			PyThreadState_SetAsyncExc(run->busy[i], PyExc_KeyboardInterrupt);
}

int
pw_future_wait(weft_future *f, double timeout, pw_run *run)
{
	/* Short enough for a prompt Ctrl-C, long enough to cost nothing. */
	const double slice = 0.02;
	double end = timeout >= 0 ? now_s() + timeout : 0;
	for (;;) {
		double w = slice;
		if (timeout >= 0) {
			double left = end - now_s();
			w = left < 0 ? 0 : left < slice ? left : slice;
		}
		int rc;
		Py_BEGIN_ALLOW_THREADS rc = weft_future_wait(f, w);
		Py_END_ALLOW_THREADS if (rc != WEFT_ETIMEDOUT) return rc;
		pw_graveyard_drain();
		if (PyErr_CheckSignals() < 0) {
			interrupt_run(f, run);
			Py_BEGIN_ALLOW_THREADS weft_future_wait(f, -1);
			Py_END_ALLOW_THREADS return -1;
		}
		if (timeout >= 0 && now_s() >= end)
			return WEFT_ETIMEDOUT;
	}
}

void
pw_raise_failure(pw_run *run, int rc, const char *msg)
{
	if (rc == WEFT_ETASK && run != NULL && run->exc != NULL) {
		/* The task's own exception, with its own traceback: the
		 * caller's frames are added as it propagates (Dask's reraise). */
		PyObject *exc = run->exc;
		PyObject *tb = PyException_GetTraceback(exc);
		PyErr_Restore(Py_NewRef((PyObject *)Py_TYPE(exc)), Py_NewRef(exc), tb);
		return;
	}
	if (rc == WEFT_ECANCELED) {
		PyErr_SetString(PyExc_KeyboardInterrupt, "weft: compute canceled");
		return;
	}
	PyErr_Format(rc == WEFT_ETASK ? PwTaskError : PyExc_RuntimeError,
	    "weft: %s", msg && *msg ? msg : weft_strerror(rc));
}

weft_node *
pw_targets(const pw_built *b, size_t *m)
{
	weft_node *t = PyMem_Calloc(b->n + 1, sizeof *t);
	*m = 0;
	if (t == NULL) {
		PyErr_NoMemory();
		return NULL;
	}
	for (size_t i = 0; i < b->n; i++)
		if (weft_node_ok(b->nodes[i]))
			t[(*m)++] = b->nodes[i];
	return t;
}

PyObject *
pw_results(const pw_built *b, const weft_value *vals)
{
	PyObject *out = PyList_New((Py_ssize_t)b->n);
	for (size_t i = 0, j = 0; out != NULL && i < b->n; i++) {
		PyObject *x = weft_node_ok(b->nodes[i]) ? pw_to_py(vals[j++])
							: Py_NewRef(b->lits[i]);
		if (x == NULL)
			Py_CLEAR(out);
		else
			PyList_SET_ITEM(out, (Py_ssize_t)i, x);
	}
	return out;
}

/* Computes the nodes of `b` and returns the results, a list in the order of
 * the keys asked for. */
static PyObject *
compute_built(pw_built *b, PyObject *pool_obj, long num_workers)
{
	size_t m = 0;
	weft_node *targets = pw_targets(b, &m);
	weft_value *vals = PyMem_Calloc(m + 1, sizeof *vals);
	PyObject *out = NULL;
	if (targets == NULL || vals == NULL) {
		PyErr_NoMemory();
		goto end;
	}
	if (m > 0) {
		weft_opts o = { 0 };
		o.pool = pw_pool_for(pool_obj, num_workers);
		if (o.pool == NULL)
			goto end;
		int rc;
		if (pw_in_task()) {
			/* Called from a task on a weft worker: the blocking
			 * compute lets this worker run other tasks meanwhile. */
			Py_BEGIN_ALLOW_THREADS rc = weft_compute(
			    b->g, m, targets, vals, &o);
			Py_END_ALLOW_THREADS if (rc != WEFT_OK)
			{
				pw_raise_failure(b->run, rc, weft_graph_error(b->g));
				goto end;
			}
		} else {
			weft_future *f = weft_compute_async(b->g, m, targets, &o);
			if (f == NULL) {
				PyErr_Format(PyExc_RuntimeError, "weft: %s",
				    weft_graph_error(b->g));
				goto end;
			}
			rc = pw_future_wait(f, -1, b->run);
			if (rc == WEFT_OK)
				rc = weft_future_results(f, vals);
			if (rc != WEFT_OK && rc != -1)
				pw_raise_failure(b->run, rc, weft_future_error(f));
			weft_future_free(f);
			if (rc != WEFT_OK)
				goto end;
		}
	}
	out = pw_results(b, vals);
end:
	for (size_t j = 0; vals != NULL && j < m; j++)
		weft_value_release(&vals[j]);
	PyMem_Free(vals);
	PyMem_Free(targets);
	return out;
}

PyObject *
pw_get(PyObject *self, PyObject *args)
{
	(void)self;
	PyObject *dsk, *keys, *pool = Py_None;
	long nw = 0;
	if (!PyArg_ParseTuple(args, "O!O!|Ol", &PyDict_Type, &dsk, &PyList_Type,
		&keys, &pool, &nw))
		return NULL;
	pw_run *run = pw_run_new(NULL, NULL);
	if (run == NULL)
		return NULL;
	pw_built b;
	PyObject *out = NULL;
	if (pw_build(dsk, keys, run, &b) == 0) {
		out = compute_built(&b, pool, nw);
		pw_built_clear(&b);
	}
	Py_DECREF(run);
	return out;
}

/* -- weft._weft.Graph ------------------------------------------------------- */

typedef struct {
	PyObject_HEAD pw_built b;
	int built;
} PwGraph;

static int
graph_init(PyObject *self, PyObject *args, PyObject *kw)
{
	static char *names[] = { "dsk", "keys", "pre", "post", NULL };
	PwGraph *g = (PwGraph *)self;
	PyObject *dsk, *keys, *pre = Py_None, *post = Py_None;
	if (!PyArg_ParseTupleAndKeywords(args, kw, "O!O!|OO", names, &PyDict_Type,
		&dsk, &PyList_Type, &keys, &pre, &post))
		return -1;
	if (g->built) {
		pw_built_clear(&g->b);
		g->built = 0;
	}
	pw_run *run = pw_run_new(pre == Py_None ? NULL : pre,
	    post == Py_None ? NULL : post);
	if (run == NULL)
		return -1;
	int rc = pw_build(dsk, keys, run, &g->b);
	Py_DECREF(run);
	g->built = rc == 0;
	return rc;
}

static PyObject *
graph_compute(PyObject *self, PyObject *args, PyObject *kw)
{
	static char *names[] = { "pool", "num_workers", NULL };
	PwGraph *g = (PwGraph *)self;
	PyObject *pool = Py_None;
	long nw = 0;
	if (!PyArg_ParseTupleAndKeywords(args, kw, "|Ol", names, &pool, &nw))
		return NULL;
	if (!g->built) {
		PyErr_SetString(PyExc_ValueError, "weft: the graph is closed");
		return NULL;
	}
	return compute_built(&g->b, pool, nw);
}

static PyObject *
graph_close(PyObject *self, PyObject *unused)
{
	(void)unused;
	PwGraph *g = (PwGraph *)self;
	if (g->built)
		pw_built_clear(&g->b);
	g->built = 0;
	Py_RETURN_NONE;
}

static PyObject *
graph_task_keys(PyObject *self, void *unused)
{
	(void)unused;
	PwGraph *g = (PwGraph *)self;
	if (g->built && g->b.task_keys != NULL)
		return Py_NewRef(g->b.task_keys);
	return PyList_New(0);
}

static void
graph_dealloc(PyObject *self)
{
	graph_close(self, NULL);
	Py_TYPE(self)->tp_free(self);
}

static PyMethodDef graph_methods[] = {
	{ "compute", (PyCFunction)(void (*)(void))graph_compute,
	    METH_VARARGS | METH_KEYWORDS,
	    "compute(pool=None, num_workers=0): the results, in key order" },
	{ "close", graph_close, METH_NOARGS, "Frees the weft graph." },
	{ NULL, NULL, 0, NULL },
};

static PyGetSetDef graph_getset[] = {
	{ "task_keys", graph_task_keys, NULL,
	    "The Dask keys of the tasks that will run (with callbacks).",
	    NULL },
	{ NULL, NULL, NULL, NULL, NULL },
};

PyTypeObject PwGraph_Type = {
	PyVarObject_HEAD_INIT(NULL, 0).tp_name = "weft._weft.Graph",
	.tp_basicsize = sizeof(PwGraph),
	.tp_dealloc = graph_dealloc,
	.tp_flags = Py_TPFLAGS_DEFAULT,
	.tp_doc = "Graph(dsk, keys, pre=None, post=None): a Dask graph built "
		  "into a weft graph (what `keys` need of it).",
	.tp_methods = graph_methods,
	.tp_getset = graph_getset,
	.tp_init = graph_init,
	.tp_new = PyType_GenericNew,
};
