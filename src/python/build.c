/*
 * build.c: a Dask graph (a dict of keys to computations) into a weft graph,
 * in C, in one walk from the keys asked for.
 *
 * The rules are Dask's (dask.core): a task is a tuple whose first item is
 * callable; its arguments are tasks (run nested), lists (each item is an
 * argument), keys of the graph (their results), or literals. A graph value
 * that is a key is an alias; a list holding tasks or keys builds a list;
 * anything else is data. Only what the keys need is built, so only that
 * runs, each task once.
 *
 * Keys are found through an open-addressing table over the dict's entries
 * (one hash per key, pointer equality first), and the walk is iterative, so
 * a chain of a million tasks needs no deep C stack.
 */
#include "pyweft.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

enum { E_NEW, E_OPEN, E_NODE, E_LIT };

typedef struct ent {
	PyObject *key, *val; /* borrowed from the dict */
	PyObject *lit;	     /* E_LIT: the data (borrowed) */
	Py_hash_t hash;
	weft_node node; /* E_NODE */
	int state;
} ent;

#define FN_CACHE 16

typedef struct builder {
	ent *e;
	size_t n;
	uint32_t *slot; /* entry index + 1; 0 = empty */
	size_t mask;
	size_t *stack; /* the walk */
	size_t sp, scap;
	weft_arg *arg; /* arguments being assembled, a stack of frames */
	size_t top, acap;
	weft_graph *g;
	pw_run *run;
	weft_value runv; /* the run as a literal, retained per task */
	struct {
		PyObject *fn;
		weft_value v;
	} fns[FN_CACHE]; /* callables as literals: one wrap per function */
	PyObject *task_keys;
	unsigned kinds; /* the kinds of the graph's keys (key_kind) */
	int missing; /* an input of the entry being built is not built yet */
} builder;

/* Kinds of objects that can only equal objects of the same kind: a lookup
 * of an int in a graph without number keys needs no hashing or probing.
 * Anything else is K_ANY: it may compare equal to anything. */
enum { K_STR = 1, K_TUPLE = 2, K_NUM = 4, K_NONE = 8, K_ANY = 16 };

static unsigned
key_kind(PyObject *x)
{
	if (PyUnicode_CheckExact(x))
		return K_STR;
	if (PyTuple_CheckExact(x))
		return K_TUPLE;
	if (PyLong_CheckExact(x) || PyFloat_CheckExact(x) || PyBool_Check(x))
		return K_NUM;
	if (x == Py_None)
		return K_NONE;
	return K_ANY;
}

/* -- the key table ---------------------------------------------------------- */

static int
table_init(builder *b, PyObject *dsk)
{
	Py_ssize_t n = PyDict_GET_SIZE(dsk), pos = 0;
	size_t cap = 16;
	while (cap < (size_t)n * 2)
		cap *= 2;
	if ((size_t)n >= UINT32_MAX / 2) {
		PyErr_SetString(PyExc_ValueError, "weft.get: graph too large");
		return -1;
	}
	b->e = PyMem_Calloc((size_t)n + 1, sizeof *b->e);
	b->slot = PyMem_Calloc(cap, sizeof *b->slot);
	if (b->e == NULL || b->slot == NULL) {
		PyErr_NoMemory();
		return -1;
	}
	b->mask = cap - 1;
	PyObject *k, *v;
	while (PyDict_Next(dsk, &pos, &k, &v)) {
		Py_hash_t h = PyObject_Hash(k); /* cached for str keys */
		if (h == -1)
			return -1;
		size_t i = (size_t)h & b->mask;
		while (b->slot[i] != 0)
			i = (i + 1) & b->mask;
		ent *x = &b->e[b->n];
		x->key = k;
		x->val = v;
		x->hash = h;
		b->slot[i] = (uint32_t)++b->n;
		b->kinds |= key_kind(k);
	}
	return 0;
}

/* The entry of key `x`: its index, -1 when `x` is not a key (unhashable
 * objects are not keys, as in dask.core.ishashable), -2 on an error. */
static ssize_t
lookup(builder *b, PyObject *x)
{
	/* Fast answers first: an unhashable object (no exception to make and
	 * clear), or one of a kind no key has. */
	if (Py_TYPE(x)->tp_hash == PyObject_HashNotImplemented)
		return -1;
	unsigned k = key_kind(x);
	if (!(b->kinds & (k | K_ANY)) && k != K_ANY)
		return -1;
	Py_hash_t h = PyObject_Hash(x);
	if (h == -1) {
		PyErr_Clear();
		return -1;
	}
	for (size_t i = (size_t)h & b->mask;; i = (i + 1) & b->mask) {
		uint32_t s = b->slot[i];
		if (s == 0)
			return -1;
		ent *y = &b->e[s - 1];
		if (y->key == x)
			return (ssize_t)s - 1;
		if (y->hash == h) {
			int eq = PyObject_RichCompareBool(y->key, x, Py_EQ);
			if (eq > 0)
				return (ssize_t)s - 1;
			if (eq < 0)
				return -2;
		}
	}
}

static int
istask(PyObject *x)
{
	return PyTuple_CheckExact(x) && PyTuple_GET_SIZE(x) > 0 &&
	    PyCallable_Check(PyTuple_GET_ITEM(x, 0));
}

/* dask.core.has_tasks: a task, a key, or a list holding one. */
static int
has_tasks(builder *b, PyObject *x)
{
	if (istask(x))
		return 1;
	ssize_t i = lookup(b, x);
	if (i != -1)
		return i >= 0 ? 1 : -1;
	if (!PyList_Check(x))
		return 0;
	if (Py_EnterRecursiveCall(" in weft.get"))
		return -1;
	int r = 0;
	for (Py_ssize_t j = 0; r == 0 && j < PyList_GET_SIZE(x); j++)
		r = has_tasks(b, PyList_GET_ITEM(x, j));
	Py_LeaveRecursiveCall();
	return r;
}

/* -- the walk --------------------------------------------------------------- */

/* Grows the array at *p (of *cap items of `size` bytes) to hold `need`
 * items, doubling from `first`. 0, or -1 with MemoryError. */
static int
grow(void **p, size_t *cap, size_t need, size_t size, size_t first)
{
	if (need <= *cap)
		return 0;
	size_t c = *cap ? *cap : first;
	while (c < need)
		c *= 2;
	void *n = PyMem_Realloc(*p, c * size);
	if (n == NULL) {
		PyErr_NoMemory();
		return -1;
	}
	*p = n;
	*cap = c;
	return 0;
}

static int
push(builder *b, size_t i)
{
	if (grow((void **)&b->stack, &b->scap, b->sp + 1, sizeof *b->stack, 256) < 0)
		return -1;
	b->stack[b->sp++] = i;
	return 0;
}

/* Pushes the keys `x` refers to that are not built yet. */
static int
scan(builder *b, PyObject *x)
{
	int rc = 0;
	if (istask(x) || PyList_Check(x)) {
		if (Py_EnterRecursiveCall(" in weft.get"))
			return -1;
		Py_ssize_t j = istask(x) ? 1 : 0;
		Py_ssize_t n = PySequence_Fast_GET_SIZE(x);
		PyObject **items = PySequence_Fast_ITEMS(x);
		for (; rc == 0 && j < n; j++)
			rc = scan(b, items[j]);
		Py_LeaveRecursiveCall();
		return rc;
	}
	ssize_t i = lookup(b, x);
	if (i == -2)
		return -1;
	if (i < 0)
		return 0;
	if (b->e[i].state == E_OPEN) {
		PyErr_Format(PyExc_RuntimeError,
		    "weft.get: the graph has a cycle through key %R",
		    b->e[i].key);
		return -1;
	}
	return b->e[i].state == E_NEW ? push(b, (size_t)i) : 0;
}

/* -- making nodes ----------------------------------------------------------- */

/* Reserves `n` argument slots on the frame stack; their index, or -1. */
static ssize_t
args_reserve(builder *b, size_t n)
{
	if (grow((void **)&b->arg, &b->acap, b->top + n, sizeof *b->arg, 64) < 0)
		return -1;
	size_t base = b->top;
	b->top += n;
	return (ssize_t)base;
}

/* Drops a frame; its literals when the frame never reached weft. */
static void
args_pop(builder *b, size_t base, size_t filled, int release)
{
	for (size_t i = base; release && i < base + filled; i++)
		if (b->arg[i].kind == 2)
			weft_value_release(&b->arg[i].lit);
	b->top = base;
}

static weft_node make_task(builder *b, PyObject *t, PyObject *key);
static weft_node make_list(builder *b, PyObject *l, int deep);

static weft_arg
lit_of(PyObject *x, int deep, int *err)
{
	weft_value v;
	if (pw_from_py(x, deep, &v) < 0) {
		*err = 1;
		return weft_lit(weft_nil());
	}
	return weft_lit(v);
}

/* One argument of a task or list: a node of its own for a nested task or a
 * list holding keys, a reference for a key, a literal otherwise. */
static weft_arg
make_arg(builder *b, PyObject *x, int deep, int *err)
{
	weft_node n;
	if (istask(x)) {
		n = make_task(b, x, NULL);
	} else if (PyList_Check(x)) {
		int t = has_tasks(b, x);
		if (t <= 0) {
			if (t < 0)
				*err = 1;
			return lit_of(x, deep, err);
		}
		n = make_list(b, x, deep);
	} else {
		ssize_t i = lookup(b, x);
		if (i == -2) {
			*err = 1;
			return weft_lit(weft_nil());
		}
		if (i < 0)
			return lit_of(x, deep, err);
		if (b->e[i].state == E_LIT)
			return lit_of(b->e[i].lit, deep, err);
		if (b->e[i].state != E_NODE) { /* on a first try (see walk) */
			b->missing = 1;
			*err = 1;
			return weft_lit(weft_nil());
		}
		n = b->e[i].node;
	}
	if (!weft_node_ok(n))
		*err = 1;
	return weft_ref(n);
}

static weft_value
fn_value(builder *b, PyObject *fn)
{
	size_t h = ((uintptr_t)fn >> 4) % FN_CACHE;
	if (b->fns[h].fn != fn) {
		weft_value v = pw_wrap(fn);
		if (weft_is_nil(v))
			return v;
		weft_value_release(&b->fns[h].v);
		b->fns[h].fn = fn;
		b->fns[h].v = v;
	}
	return weft_value_retain(b->fns[h].v);
}

static weft_node
delayed_or_raise(builder *b, weft_fn fn, size_t base, size_t n)
{
	weft_node node = weft_delayed(b->g, fn, n, b->arg + base);
	args_pop(b, base, n, 0); /* weft owns the literals now */
	if (!weft_node_ok(node))
		PyErr_Format(PyExc_RuntimeError, "weft.get: %s",
		    weft_graph_error(b->g));
	return node;
}

/* Ends a frame begun with args_reserve (and Py_EnterRecursiveCall): adds
 * the arguments made of the items of `seq` (a tuple or list) from `first`
 * on, leaves the recursion guard, and hands the frame to weft as a call of
 * `fn`; on an error drops it (and its literals) instead. */
static weft_node
frame_finish(builder *b, ssize_t base, size_t filled, PyObject *seq,
    Py_ssize_t first, int deep, int err, weft_fn fn)
{
	/* The frame holds the items there were; the size is read again each
	 * time, as a key's __eq__ could shorten a list meanwhile. */
	Py_ssize_t end = PySequence_Fast_GET_SIZE(seq);
	for (Py_ssize_t i = first;
	     !err && i < end && i < PySequence_Fast_GET_SIZE(seq); i++) {
		/* make_arg may grow b->arg: store after the call */
		weft_arg a = make_arg(b, PySequence_Fast_GET_ITEM(seq, i), deep, &err);
		b->arg[base + (ssize_t)filled++] = a;
	}
	Py_LeaveRecursiveCall();
	if (err) {
		if (base >= 0)
			args_pop(b, (size_t)base, filled, 1);
		return WEFT_NODE_NONE;
	}
	return delayed_or_raise(b, fn, (size_t)base, filled);
}

/* A node for task `t`; `key` is its Dask key (NULL when nested). */
static weft_node
make_task(builder *b, PyObject *t, PyObject *key)
{
	PyObject *fn = PyTuple_GET_ITEM(t, 0);
	size_t nargs = (size_t)PyTuple_GET_SIZE(t) - 1;
	int deep = PyObject_TypeCheck(fn, &PwFunction_Type);
	size_t head = 0;
	if (deep) {
		const weft_func_info *fi = ((PwFunction *)fn)->info;
		if ((int)nargs < fi->min_args ||
		    (fi->max_args != WEFT_ARGS_ANY && (int)nargs > fi->max_args)) {
			char ar[32];
			PyErr_Format(PyExc_TypeError,
			    "weft function '%s' takes %s arguments, got %zu",
			    fi->name, weft_func_arity(fi, ar, sizeof ar), nargs);
			return WEFT_NODE_NONE;
		}
	} else {
		head = 2 + (size_t)b->run->with_keys;
	}
	if (Py_EnterRecursiveCall(" in weft.get"))
		return WEFT_NODE_NONE;
	ssize_t base = args_reserve(b, head + nargs);
	size_t filled = 0;
	int err = base < 0;
	if (!err && !deep) {
		weft_value fv = fn_value(b, fn);
		b->arg[base] = weft_lit(weft_value_retain(b->runv));
		b->arg[base + 1] = weft_lit(fv);
		filled = 2;
		if (b->run->with_keys) {
			weft_value kv = key ? pw_wrap(key) : weft_nil();
			b->arg[base + 2] = weft_lit(kv);
			filled = 3;
			if (key && weft_is_nil(kv))
				err = 1;
		}
		if (weft_is_nil(fv))
			err = 1;
	}
	weft_node node = frame_finish(b, base, filled, t, 1, deep, err,
	    deep ? ((PwFunction *)fn)->info->fn : pw_task_call);
	if (key && b->run->with_keys && weft_node_ok(node) &&
	    PyList_Append(b->task_keys, key) < 0)
		return WEFT_NODE_NONE;
	return node;
}

/* A weft C task: the list of its arguments, as a native weft list (the
 * argument of a C function that holds keys). No GIL. */
static int
native_list(weft_ctx *ctx, size_t n, const weft_value *a, weft_value *out)
{
	(void)ctx;
	*out = weft_list(n, a);
	return weft_is_nil(*out) && n > 0 ? WEFT_ENOMEM : WEFT_OK;
}

/* A node that makes a list of the items of `l` (tasks, keys...): a Python
 * list, or for a C function (`deep`) a native weft list. */
static weft_node
make_list(builder *b, PyObject *l, int deep)
{
	size_t n = (size_t)PyList_GET_SIZE(l), head = deep ? 0 : 1;
	if (Py_EnterRecursiveCall(" in weft.get"))
		return WEFT_NODE_NONE;
	ssize_t base = args_reserve(b, head + n);
	size_t filled = 0;
	int err = base < 0;
	if (!err && !deep)
		b->arg[base + filled++] = weft_lit(weft_value_retain(b->runv));
	return frame_finish(
	    b, base, filled, l, 0, deep, err, deep ? native_list : pw_task_list);
}

/* Builds entry `i`, whose dependencies are all built. */
static int
build_entry(builder *b, size_t i)
{
	ent *x = &b->e[i];
	PyObject *v = x->val;
	if (istask(v)) {
		x->node = make_task(b, v, x->key);
	} else if (PyList_Check(v) && has_tasks(b, v) > 0) {
		x->node = make_list(b, v, 0);
	} else {
		if (PyErr_Occurred())
			return -1;
		ssize_t j = lookup(b, v);
		if (j == -2)
			return -1;
		if (j >= 0 && (size_t)j != i) { /* an alias */
			if (b->e[j].state != E_NODE && b->e[j].state != E_LIT) {
				b->missing = 1; /* on a first try (see walk) */
				return -1;
			}
			x->state = b->e[j].state;
			x->node = b->e[j].node;
			x->lit = b->e[j].lit;
		} else {
			x->state = E_LIT;
			x->lit = v;
		}
		return 0;
	}
	if (!weft_node_ok(x->node))
		return -1;
	x->state = E_NODE;
	return 0;
}

/* Builds entry `root` and what it needs. An entry is first built on the
 * hope that its inputs are built (dicts list most graphs in an order where
 * they are): one lookup per reference. When one is not, its inputs are
 * pushed (a cycle is found then) and it is built again after them. */
static int
walk(builder *b, size_t root)
{
	if (push(b, root) < 0)
		return -1;
	while (b->sp > 0) {
		size_t i = b->stack[b->sp - 1];
		switch (b->e[i].state) {
		case E_NEW:
			b->missing = 0;
			if (build_entry(b, i) == 0) {
				b->sp--;
				break;
			}
			if (!b->missing || PyErr_Occurred())
				return -1;
			b->e[i].state = E_OPEN;
			if (scan(b, b->e[i].val) < 0)
				return -1;
			break; /* its inputs first, then it again */
		case E_OPEN:
			if (build_entry(b, i) < 0)
				return -1;
			b->sp--;
			break;
		default:
			b->sp--;
		}
	}
	return 0;
}

int
pw_build(PyObject *dsk, PyObject *keys, pw_run *run, pw_built *out)
{
	memset(out, 0, sizeof *out);
	if (!PyDict_Check(dsk) || !PyList_Check(keys)) {
		PyErr_SetString(PyExc_TypeError,
		    "weft: build(dsk, keys) takes a dict and a list");
		return -1;
	}
	builder b = { 0 };
	size_t nk = (size_t)PyList_GET_SIZE(keys);
	int rc = -1;
	out->run = (pw_run *)Py_NewRef(run);
	out->n = nk;
	out->nodes = PyMem_Calloc(nk + 1, sizeof *out->nodes);
	out->lits = PyMem_Calloc(nk + 1, sizeof *out->lits);
	out->g = weft_graph_new();
	b.run = run;
	b.runv = pw_wrap((PyObject *)run);
	if (run->with_keys)
		b.task_keys = out->task_keys = PyList_New(0);
	if (out->nodes == NULL || out->lits == NULL || out->g == NULL ||
	    weft_is_nil(b.runv) || (run->with_keys && b.task_keys == NULL)) {
		PyErr_NoMemory();
		goto end;
	}
	b.g = out->g;
	if (table_init(&b, dsk) < 0)
		goto end;
	/* The whole graph, in the dict's order, as Dask's local schedulers
	 * read it all; the compute culls what the keys do not need. */
	for (size_t i = 0; i < b.n; i++)
		if (b.e[i].state == E_NEW && walk(&b, i) < 0)
			goto end;
	for (size_t k = 0; k < nk; k++) {
		PyObject *key = PyList_GET_ITEM(keys, k);
		ssize_t i = lookup(&b, key);
		if (i == -2)
			goto end;
		if (i < 0) {
			PyErr_SetObject(PyExc_KeyError, key);
			goto end;
		}
		if (b.e[i].state != E_NODE && b.e[i].state != E_LIT &&
		    walk(&b, (size_t)i) < 0)
			goto end;
		if (b.e[i].state == E_NODE)
			out->nodes[k] = b.e[i].node;
		else
			out->lits[k] = Py_NewRef(b.e[i].lit);
	}
	rc = 0;
end:
	for (int i = 0; i < FN_CACHE; i++)
		weft_value_release(&b.fns[i].v);
	weft_value_release(&b.runv);
	PyMem_Free(b.e);
	PyMem_Free(b.slot);
	PyMem_Free(b.stack);
	PyMem_Free(b.arg);
	if (rc < 0) {
		if (!PyErr_Occurred()) /* a failed wrap: no memory */
			PyErr_NoMemory();
		pw_built_clear(out);
	}
	return rc;
}

void
pw_built_clear(pw_built *b)
{
	weft_graph_free(b->g); /* drops the literals (graveyard-safe) */
	for (size_t i = 0; b->lits != NULL && i < b->n; i++)
		Py_XDECREF(b->lits[i]);
	PyMem_Free(b->lits);
	PyMem_Free(b->nodes);
	Py_XDECREF(b->task_keys);
	Py_XDECREF((PyObject *)b->run);
	memset(b, 0, sizeof *b);
	pw_graveyard_drain();
}
