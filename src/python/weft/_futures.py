"""weft.submit, weft.get_async and weft.as_completed: computes that run in
the background on weft's pool; Celery's delay()/get() pattern in-process."""
import functools
import time

from . import _weft
from ._delayed import _Literal


def _quote(x):
    # An argument is passed as it is: a tuple or list is not read as a task.
    return (_Literal(x),) if type(x) in (tuple, list) else x


def submit(fn, *args, pool=None, **kwargs):
    """Starts fn(*args, **kwargs) on weft's pool (or `pool`, a weft.Pool)
    and returns a weft.Future: result(timeout=None), cancel(), done()."""
    if kwargs:
        fn = functools.partial(fn, **kwargs)
    key = object()  # equal to no argument
    task = (fn,) + tuple(_quote(a) for a in args)
    return _weft.compute_async({key: task}, [key], pool, 0, True)


def get_async(dsk, keys, num_workers=None, pool=None):
    """Starts weft.get(dsk, keys) and returns a weft.Future whose result()
    is what get would return (no callbacks)."""
    from ._get import _flatten, _nest, _pool_args

    if type(dsk) is not dict:
        dsk = dict(dsk)
    pool, num_workers = _pool_args(pool, num_workers)
    if isinstance(keys, list):
        return _Nested(_weft.compute_async(dsk, _flatten(keys, []), pool, num_workers),
                       keys)
    return _weft.compute_async(dsk, [keys], pool, num_workers, True)


class _Nested:
    """A Future whose result comes in the nesting of its keys."""

    def __init__(self, fut, keys):
        self._fut, self._keys = fut, keys

    def result(self, timeout=None):
        from ._get import _nest

        return _nest(self._keys, iter(self._fut.result(timeout)))

    def __getattr__(self, name):
        return getattr(self._fut, name)


def as_completed(futures, timeout=None):
    """Yields the futures as they end, in the order they end. Raises
    TimeoutError when `timeout` seconds pass first."""
    pending = list(futures)
    end = None if timeout is None else time.monotonic() + timeout
    while pending:
        left = -1.0 if end is None else max(0.0, end - time.monotonic())
        done = _weft.wait_any([getattr(f, "_fut", f) for f in pending], left)
        if not done:
            raise TimeoutError(f"weft.as_completed: {len(pending)} futures not done")
        finished = set(done)
        ready = [pending[i] for i in done]
        pending = [f for i, f in enumerate(pending) if i not in finished]
        yield from ready
