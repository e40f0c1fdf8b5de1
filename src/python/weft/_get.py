"""weft.get: Dask's scheduler `get` contract, on weft's pool.

The graph is translated to a weft graph and run in C (weft._weft); this file
only deals with the parts of the contract that are Python: nested keys,
Dask's callbacks (ProgressBar, Profiler, ...), and the options.
"""
import sys

from . import _weft


def _flatten(keys, out):
    for k in keys:
        if isinstance(k, list):
            _flatten(k, out)
        else:
            out.append(k)
    return out


def _nest(keys, it):
    # Dask's nested_get: lists of keys give tuples of results.
    return tuple(_nest(k, it) if isinstance(k, list) else next(it) for k in keys)


def _normalize_callback(cb):
    cb = getattr(cb, "_callback", cb)
    if not isinstance(cb, tuple):
        raise TypeError("weft.get: callbacks must be dask Callbacks or tuples")
    return tuple(cb) + (None,) * (5 - len(cb))


class _Callbacks:
    """dask.callbacks.local_callbacks: the callbacks passed in, or else the
    active ones (which nested computes then do not see again)."""

    def __init__(self, callbacks):
        self.mod = sys.modules.get("dask.callbacks")  # none active if unloaded
        self.taken = callbacks is None and self.mod is not None
        if callbacks is None:
            callbacks = self.mod.Callback.active if self.mod else ()
        if self.taken:
            self.mod.Callback.active = set()
        self.active = callbacks
        self.cbs = [_normalize_callback(c) for c in callbacks]

    def restore(self):
        if self.taken:
            self.mod.Callback.active = self.active


def _pool_args(pool, num_workers):
    if pool is not None and not isinstance(pool, _weft.Pool):
        # A concurrent.futures or multiprocessing pool meant for Dask's
        # threaded scheduler: take its size, run on weft's workers.
        num_workers = (getattr(pool, "_max_workers", None)
                       or len(getattr(pool, "_pool", ()) or ()) or num_workers)
        pool = None
    if num_workers is None:
        config = sys.modules.get("dask.config")
        num_workers = config.get("num_workers", None) if config else None
    return pool, int(num_workers or 0)


def get(dsk, keys, num_workers=None, pool=None, callbacks=None,
        raise_exception=None, cache=None, **kwargs):
    """Computes `keys` of the Dask graph `dsk` on weft's pool.

    dsk: a mapping from keys (str, or tuples such as dask.array's) to
    computations: tasks `(callable, *args)` (arguments may be keys, nested
    tasks, lists of those, or literals), aliases (another key), or data.
    keys: a key, or nested lists of keys; the results come in the same
    nesting (lists become tuples, as in Dask).

    Only what `keys` need runs, each task once, and an intermediate result is
    released as soon as its last consumer has run. A task's exception is
    raised here with its own traceback; Ctrl-C cancels the compute.

    num_workers: run on a pool of that many weft workers (kept for the next
    call); pool: a weft.Pool (another pool only gives its size); default:
    one worker per core. callbacks: Dask callbacks (tuples or Callback
    objects) besides the active ones (`with ProgressBar(): ...`).
    cache: a dict of known results (used as data; not filled in).
    raise_exception(exc, tb): called instead of re-raising a task's error.
    Other keyword arguments of Dask schedulers (chunksize, ...) are ignored.
    """
    if type(dsk) is not dict:
        dsk = dict(dsk)  # HighLevelGraph and other mappings
    if cache:
        dsk = {**dsk, **cache}
    flat = _flatten(keys, []) if isinstance(keys, list) else [keys]
    pool, num_workers = _pool_args(pool, num_workers)
    cbs = _Callbacks(callbacks)
    try:
        if not cbs.cbs and raise_exception is None:
            res = _weft.get(dsk, flat, pool, num_workers)
        else:
            res = _get_hooked(dsk, flat, pool, num_workers, cbs.cbs, raise_exception)
    finally:
        cbs.restore()
    if isinstance(keys, list):
        return _nest(keys, iter(res))
    return res[0]


def _get_hooked(dsk, flat, pool, num_workers, cbs, raise_exception):
    """get() with Dask's callbacks: start(dsk), start_state(dsk, state),
    pretask(key, dsk, state), posttask(key, result, dsk, state, worker),
    finish(dsk, state, errored). The state dict has Dask's fields; weft
    keeps "waiting", "running" and "finished" current (what ProgressBar
    reads); the dependency fields are left empty."""
    started = []
    state = {}
    ok = False
    try:
        for cb in cbs:
            if cb[0]:
                cb[0](dsk)
            started.append(cb)
        pres = [cb[2] for cb in cbs if cb[2]]
        posts = [cb[3] for cb in cbs if cb[3]]
        waiting, running, finished = {}, set(), set()
        state = {"dependencies": {}, "dependents": {}, "waiting": waiting,
                 "waiting_data": {}, "cache": {}, "ready": [],
                 "running": running, "finished": finished, "released": set()}

        def pre(key):
            waiting.pop(key, None)
            running.add(key)
            for f in pres:
                f(key, dsk, state)

        def post(key, result, worker):
            running.discard(key)
            finished.add(key)
            for f in posts:
                f(key, result, dsk, state, worker)

        graph = _weft.Graph(dsk, flat, pre, post)
        try:
            for k in graph.task_keys:
                waiting[k] = set()
            for cb in cbs:
                if cb[1]:
                    cb[1](dsk, state)
            try:
                res = graph.compute(pool, num_workers)
            except Exception as e:
                if raise_exception is None:
                    raise
                raise_exception(e, e.__traceback__)
                raise
        finally:
            graph.close()
        ok = True
        return res
    finally:
        for cb in started:
            if cb[4]:
                cb[4](dsk, state, not ok)
