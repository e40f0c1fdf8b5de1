"""weft.delayed and weft.compute: lazy calls for programs without Dask.

Calling a delayed function records the call; compute() builds one Dask-style
graph of everything asked for and runs it with weft.get (or another Dask
`get`). The graph is collected at compute time, so a chain of n calls costs
O(n), not O(n^2).
"""
import itertools

_counter = itertools.count()


class _Literal:
    """A task with no arguments that returns a value which would otherwise
    be read as a task or a list of keys (Dask's quote)."""

    __slots__ = ("value",)

    def __init__(self, value):
        self.value = value

    def __call__(self):
        return self.value


def _apply(fn, args, kwargs):
    return fn(*args, **kwargs)


def _ident(x):
    return x


class Delayed:
    """A value to come: the result of a delayed call. Attributes: key."""

    __slots__ = ("key", "_task", "_deps")

    def __init__(self, key, task, deps):
        self.key = key
        self._task = task
        self._deps = deps

    def compute(self, **kwargs):
        """The value (weft.compute(self, **kwargs)[0])."""
        return compute(self, **kwargs)[0]

    @property
    def dask(self):
        """The graph of this value: a dict (Dask's format)."""
        return _graph([self])

    def __repr__(self):
        return f"Delayed({self.key!r})"


def _unpack(x, deps):
    """`x` as an argument of a task: Delayed values become their keys,
    collections holding them become tasks that rebuild them."""
    if isinstance(x, Delayed):
        deps.append(x)
        return x.key
    typ = type(x)
    if typ in (list, tuple, set, frozenset):
        n = len(deps)
        items = [_unpack(i, deps) for i in x]
        if typ is list:
            return items
        if len(deps) > n or (typ is tuple and x and callable(x[0])):
            return (typ, items)
        return x
    if typ is dict:
        n = len(deps)
        items = [[_unpack(k, deps), _unpack(v, deps)] for k, v in x.items()]
        return (dict, items) if len(deps) > n else x
    if typ is str:
        return (_Literal(x),)  # a string could name a key of the graph
    return x


def delayed(obj=None, *, name=None, nout=None):
    """Wraps a function so that calling it records the call (a Delayed), or
    wraps a value. Usable as a decorator: `@weft.delayed`."""
    if obj is None:
        return lambda f: delayed(f, name=name, nout=nout)
    if isinstance(obj, Delayed):
        return obj
    if callable(obj):
        prefix = name or getattr(obj, "__name__", type(obj).__name__)

        def call(*args, **kwargs):
            deps = []
            uargs = [_unpack(a, deps) for a in args]
            if kwargs:
                task = (_apply, obj, uargs, _unpack(kwargs, deps))
            else:
                task = (obj, *uargs)
            return Delayed(f"{prefix}-{next(_counter)}", task, deps)

        call.__name__ = prefix
        call.__doc__ = getattr(obj, "__doc__", None)
        call.__wrapped__ = obj
        return call
    deps = []
    task = (_ident, _unpack(obj, deps))
    return Delayed(f"{name or type(obj).__name__}-{next(_counter)}", task, deps)


def _graph(roots):
    dsk = {}
    todo = list(roots)
    while todo:
        d = todo.pop()
        if d.key not in dsk:
            dsk[d.key] = d._task
            todo.extend(d._deps)
    return dsk


def compute(*objs, scheduler=None, **kwargs):
    """Computes Delayed values (and lists, tuples, dicts holding them) in one
    graph and returns their values as a tuple; other objects come back as
    they are. scheduler: a Dask-style get (default weft.get); other keyword
    arguments go to it (num_workers, pool, callbacks)."""
    if scheduler is None:
        from ._get import get as scheduler
    roots, keys, plain = [], [], {}
    for i, o in enumerate(objs):
        if not isinstance(o, Delayed):
            deps = []
            task = _unpack(o, deps)
            if not deps:
                plain[i] = o
                continue
            o = Delayed(f"compute-{next(_counter)}", (_ident, task), deps)
        roots.append(o)
        keys.append(o.key)
    results = iter(scheduler(_graph(roots), keys, **kwargs) if keys else ())
    return tuple(plain[i] if i in plain else next(results) for i in range(len(objs)))
