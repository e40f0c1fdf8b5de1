/*
 * module.c: the module weft._weft: weft's C functions as Python callables
 * (weft.fn), pools (weft.Pool), and the module's functions.
 */
#include "pyweft.h"

#include <string.h>

/* -- the registry: the built-in functions, and plugins ------------------- */

/* One registry for the process, made on first use; plugins add to it. Its
 * functions live as long as the process (graphs may hold them). */
static weft_registry *registry;

static weft_registry *
get_registry(void)
{
	if (registry == NULL) {
		registry = weft_registry_new();
		if (registry == NULL || weft_registry_add_builtins(registry) != WEFT_OK) {
			weft_registry_free(registry);
			registry = NULL;
			PyErr_NoMemory();
		}
	}
	return registry;
}

static PyObject *
function_new(const weft_func_info *fi)
{
	PwFunction *f = PyObject_New(PwFunction, &PwFunction_Type);
	if (f != NULL)
		f->info = fi;
	return (PyObject *)f;
}

static PyObject *
mod_fn(PyObject *self, PyObject *arg)
{
	(void)self;
	const char *name = PyUnicode_AsUTF8(arg);
	if (name == NULL)
		return NULL;
	weft_registry *r = get_registry();
	if (r == NULL)
		return NULL;
	const weft_func_info *fi = weft_registry_find(r, name);
	if (fi == NULL) {
		const char *s = weft_registry_suggest(r, name);
		PyErr_Format(PyExc_KeyError, "weft: no function named '%s'%s%s%s",
		    name, s ? " (did you mean '" : "", s ? s : "", s ? "'?)" : "");
		return NULL;
	}
	return function_new(fi);
}

static PyObject *
mod_functions(PyObject *self, PyObject *unused)
{
	(void)self, (void)unused;
	weft_registry *r = get_registry();
	if (r == NULL)
		return NULL;
	size_t n = weft_registry_count(r);
	PyObject *l = PyList_New((Py_ssize_t)n);
	for (size_t i = 0; l != NULL && i < n; i++) {
		PyObject *s = PyUnicode_FromString(weft_registry_at(r, i)->name);
		if (s == NULL)
			Py_CLEAR(l);
		else
			PyList_SET_ITEM(l, (Py_ssize_t)i, s);
	}
	return l;
}

static PyObject *
mod_load_plugin(PyObject *self, PyObject *arg)
{
	(void)self;
	PyObject *bytes;
	if (!PyUnicode_FSConverter(arg, &bytes))
		return NULL;
	weft_registry *r = get_registry();
	char err[512];
	int rc = r ? weft_registry_load_plugin(r, PyBytes_AS_STRING(bytes), err,
			 sizeof err)
		   : WEFT_ENOMEM;
	Py_DECREF(bytes);
	if (r == NULL)
		return NULL;
	if (rc != WEFT_OK) {
		PyErr_Format(PyExc_OSError, "weft: %s", err);
		return NULL;
	}
	Py_RETURN_NONE;
}

/* Calling weft.fn("add")(1, 2) outside a graph: a graph of one node. */
static PyObject *
function_call(PyObject *self, PyObject *args, PyObject *kw)
{
	const weft_func_info *fi = ((PwFunction *)self)->info;
	if (kw != NULL && PyDict_GET_SIZE(kw) > 0) {
		PyErr_Format(PyExc_TypeError,
		    "weft function '%s' takes no keyword arguments", fi->name);
		return NULL;
	}
	PyObject *dsk = PyDict_New(), *keys = NULL, *out = NULL, *key = NULL;
	PyObject *task = PyTuple_New(PyTuple_GET_SIZE(args) + 1);
	if (dsk == NULL || task == NULL)
		goto end;
	PyTuple_SET_ITEM(task, 0, Py_NewRef(self));
	for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(args); i++)
		PyTuple_SET_ITEM(task, i + 1, Py_NewRef(PyTuple_GET_ITEM(args, i)));
	key = PyUnicode_FromString(fi->name);
	keys = key ? PyList_New(1) : NULL;
	if (keys == NULL)
		goto end;
	PyList_SET_ITEM(keys, 0, Py_NewRef(key));
	if (PyDict_SetItem(dsk, key, task) < 0)
		goto end;
	PyObject *call = Py_BuildValue("(OO)", dsk, keys);
	if (call == NULL)
		goto end;
	PyObject *l = pw_get(NULL, call);
	Py_DECREF(call);
	if (l != NULL) {
		out = Py_NewRef(PyList_GET_ITEM(l, 0));
		Py_DECREF(l);
	}
end:
	Py_XDECREF(dsk);
	Py_XDECREF(task);
	Py_XDECREF(keys);
	Py_XDECREF(key);
	return out;
}

static PyObject *
function_repr(PyObject *self)
{
	const weft_func_info *fi = ((PwFunction *)self)->info;
	return PyUnicode_FromFormat("weft.fn('%s')", fi->name);
}

static PyObject *
function_get(PyObject *self, void *what)
{
	const weft_func_info *fi = ((PwFunction *)self)->info;
	if (what == (void *)1)
		return PyUnicode_FromString(fi->help);
	if (what == (void *)2)
		return PyLong_FromLong(fi->min_args);
	if (what == (void *)3) {
		if (fi->max_args == WEFT_ARGS_ANY)
			Py_RETURN_NONE;
		return PyLong_FromLong(fi->max_args);
	}
	return PyUnicode_FromString(fi->name);
}

static PyGetSetDef function_getset[] = {
	{ "name", function_get, NULL, "its registered name", (void *)0 },
	{ "help", function_get, NULL, "what it does, in one line", (void *)1 },
	{ "min_args", function_get, NULL, "least arguments", (void *)2 },
	{ "max_args", function_get, NULL, "most arguments (None: any)", (void *)3 },
	{ NULL, NULL, NULL, NULL, NULL },
};

PyTypeObject PwFunction_Type = {
	PyVarObject_HEAD_INIT(NULL, 0).tp_name = "weft._weft.Function",
	.tp_basicsize = sizeof(PwFunction),
	.tp_flags = Py_TPFLAGS_DEFAULT,
	.tp_doc = "A weft C function (weft.fn(name)). In a graph it runs "
		  "without the GIL; its arguments are made native weft values.",
	.tp_call = function_call,
	.tp_repr = function_repr,
	.tp_getset = function_getset,
};

/* -- pools ----------------------------------------------------------------- */

typedef struct {
	PyObject_HEAD weft_pool *pool;
} PwPool;

static int
pool_init(PyObject *self, PyObject *args, PyObject *kw)
{
	static char *names[] = { "num_workers", "bind", NULL };
	PwPool *p = (PwPool *)self;
	int nw = 0;
	const char *bind = "cores";
	if (!PyArg_ParseTupleAndKeywords(args, kw, "|is", names, &nw, &bind))
		return -1;
	weft_pool_opts o = { 0 };
	if (nw < 0) {
		PyErr_SetString(PyExc_ValueError, "weft.Pool: num_workers < 0");
		return -1;
	}
	o.threads = (unsigned)nw;
	if (strcmp(bind, "cores") == 0)
		o.bind = WEFT_BIND_CORES;
	else if (strcmp(bind, "pus") == 0)
		o.bind = WEFT_BIND_PUS;
	else if (strcmp(bind, "none") == 0)
		o.bind = WEFT_BIND_NONE;
	else {
		PyErr_Format(PyExc_ValueError,
		    "weft.Pool: bind must be 'cores', 'pus' or 'none', not '%s'", bind);
		return -1;
	}
	if (p->pool != NULL)
		return 0;
	int err = 0;
	p->pool = weft_pool_new2(&o, &err);
	if (p->pool == NULL) {
		PyErr_Format(PyExc_RuntimeError, "weft.Pool: %s", weft_strerror(err));
		return -1;
	}
	return 0;
}

static PyObject *
pool_close(PyObject *self, PyObject *unused)
{
	(void)unused;
	PwPool *p = (PwPool *)self;
	weft_pool *wp = p->pool;
	p->pool = NULL;
	/* Tasks still running on it may need the GIL to finish. */
	Py_BEGIN_ALLOW_THREADS weft_pool_free(wp);
	Py_END_ALLOW_THREADS pw_graveyard_drain();
	Py_RETURN_NONE;
}

static void
pool_dealloc(PyObject *self)
{
	PyObject *r = pool_close(self, NULL);
	Py_XDECREF(r);
	Py_TYPE(self)->tp_free(self);
}

static PyObject *
pool_enter(PyObject *self, PyObject *unused)
{
	(void)unused;
	return Py_NewRef(self);
}

static PyObject *
pool_exit(PyObject *self, PyObject *args)
{
	(void)args;
	return pool_close(self, NULL);
}

static PyObject *
pool_num_workers(PyObject *self, void *unused)
{
	(void)unused;
	PwPool *p = (PwPool *)self;
	return PyLong_FromUnsignedLong(p->pool ? weft_pool_threads(p->pool) : 0);
}

static PyMethodDef pool_methods[] = {
	{ "close", pool_close, METH_NOARGS,
	    "Stops the workers (waits for running tasks)." },
	{ "__enter__", pool_enter, METH_NOARGS, NULL },
	{ "__exit__", pool_exit, METH_VARARGS, NULL },
	{ NULL, NULL, 0, NULL },
};

static PyGetSetDef pool_getset[] = {
	{ "num_workers", pool_num_workers, NULL, "worker threads (0 once closed)",
	    NULL },
	{ NULL, NULL, NULL, NULL, NULL },
};

PyTypeObject PwPool_Type = {
	PyVarObject_HEAD_INIT(NULL, 0).tp_name = "weft.Pool",
	.tp_basicsize = sizeof(PwPool),
	.tp_dealloc = pool_dealloc,
	.tp_flags = Py_TPFLAGS_DEFAULT,
	.tp_doc = "Pool(num_workers=0, bind='cores'): weft worker threads, "
		  "one per core by default, pinned with hwloc ('cores', 'pus' or "
		  "'none'). Pass it as get(..., pool=p).",
	.tp_methods = pool_methods,
	.tp_getset = pool_getset,
	.tp_init = pool_init,
	.tp_new = PyType_GenericNew,
};

/* Pools made for get(..., num_workers=n), kept for the next call (as Dask's
 * threaded scheduler keeps its thread pools). */
static PyObject *pool_cache;

weft_pool *
pw_pool_for(PyObject *pool_obj, long num_workers)
{
	if (pool_obj != NULL && pool_obj != Py_None) {
		if (!PyObject_TypeCheck(pool_obj, &PwPool_Type)) {
			PyErr_SetString(PyExc_TypeError,
			    "weft: pool must be a weft.Pool");
			return NULL;
		}
		if (((PwPool *)pool_obj)->pool == NULL)
			PyErr_SetString(PyExc_ValueError, "weft: the pool is closed");
		return ((PwPool *)pool_obj)->pool;
	}
	if (num_workers <= 0) {
		weft_pool *p = weft_default_pool();
		if (p == NULL)
			PyErr_SetString(PyExc_RuntimeError,
			    "weft: cannot start the default pool");
		return p;
	}
	if (pool_cache == NULL && (pool_cache = PyDict_New()) == NULL)
		return NULL;
	PyObject *k = PyLong_FromLong(num_workers);
	if (k == NULL)
		return NULL;
	PyObject *p = PyDict_GetItemWithError(pool_cache, k);
	if (p == NULL && !PyErr_Occurred()) {
		p = PyObject_CallFunction((PyObject *)&PwPool_Type, "l", num_workers);
		if (p != NULL && PyDict_SetItem(pool_cache, k, p) < 0)
			Py_CLEAR(p);
		Py_XDECREF(p); /* the cache keeps it */
	}
	Py_DECREF(k);
	return p ? ((PwPool *)p)->pool : NULL;
}

static PyObject *
mod_shutdown(PyObject *self, PyObject *unused)
{
	(void)self, (void)unused;
	Py_CLEAR(pool_cache);
	Py_BEGIN_ALLOW_THREADS weft_shutdown();
	Py_END_ALLOW_THREADS pw_graveyard_drain();
	Py_RETURN_NONE;
}

static PyObject *
mod_drain(PyObject *self, PyObject *unused)
{
	(void)self, (void)unused;
	pw_graveyard_drain();
	Py_RETURN_NONE;
}

static PyMethodDef mod_methods[] = {
	{ "get", pw_get, METH_VARARGS,
	    "get(dsk, keys, pool=None, num_workers=0): the results of the keys "
	    "(a list) of the Dask graph dsk (a dict), computed by weft." },
	{ "fn", mod_fn, METH_O, "fn(name): the weft C function of that name." },
	{ "functions", mod_functions, METH_NOARGS,
	    "The names of the registered weft C functions." },
	{ "load_plugin", mod_load_plugin, METH_O,
	    "load_plugin(path): adds the functions of a weft plugin." },
	{ "compute_async", (PyCFunction)(void (*)(void))pw_compute_async,
	    METH_VARARGS | METH_KEYWORDS,
	    "compute_async(dsk, keys, pool=None, num_workers=0, single=False): "
	    "starts get(dsk, keys) and returns a Future (its result: the list "
	    "of results, or the one result when single)." },
	{ "wait_any", pw_wait_any, METH_VARARGS,
	    "wait_any(futures, timeout): indexes of the futures that are done." },
	{ "shutdown", mod_shutdown, METH_NOARGS,
	    "Stops the default pool and the pools get() made." },
	{ "_drain", mod_drain, METH_NOARGS,
	    "Drops references parked by threads without the GIL (tests)." },
	{ NULL, NULL, 0, NULL },
};

static struct PyModuleDef moddef = {
	PyModuleDef_HEAD_INIT,
	.m_name = "weft._weft",
	.m_doc = "weft's C core: Dask graphs run on weft's work-stealing pool.",
	.m_size = -1,
	.m_methods = mod_methods,
};

PyMODINIT_FUNC
PyInit__weft(void)
{
	PyTypeObject *types[] = { &PwRun_Type, &PwFunction_Type, &PwPool_Type,
		&PwGraph_Type, &PwFuture_Type };
	for (size_t i = 0; i < sizeof types / sizeof *types; i++)
		if (PyType_Ready(types[i]) < 0)
			return NULL;
	if (pw_future_init_types() < 0)
		return NULL;
	PyObject *m = PyModule_Create(&moddef);
	if (m == NULL)
		return NULL;
	PwTaskError = PyErr_NewExceptionWithDoc("weft.TaskError",
	    "A weft C function failed in a compute (its message says which "
	    "and why).",
	    PyExc_RuntimeError, NULL);
	if (PwTaskError == NULL ||
	    PyModule_AddObjectRef(m, "TaskError", PwTaskError) < 0 ||
	    PyModule_AddObjectRef(m, "Pool", (PyObject *)&PwPool_Type) < 0 ||
	    PyModule_AddObjectRef(m, "Function", (PyObject *)&PwFunction_Type) < 0 ||
	    PyModule_AddObjectRef(m, "Graph", (PyObject *)&PwGraph_Type) < 0 ||
	    PyModule_AddObjectRef(m, "Future", (PyObject *)&PwFuture_Type) < 0 ||
	    PyModule_AddStringConstant(m, "weft_version", weft_version_string()) < 0) {
		Py_DECREF(m);
		return NULL;
	}
	return m;
}
