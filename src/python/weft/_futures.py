"""weft.submit and weft.as_completed: one call at a time on weft's pool,
Celery's delay()/get() pattern in-process."""
import functools
import time

from . import _weft


def submit(fn, *args, pool=None, **kwargs):
    """Starts fn(*args, **kwargs) on weft's pool (or `pool`, a weft.Pool)
    and returns a weft.Future: result(timeout=None), cancel(), done()."""
    if kwargs:
        fn = functools.partial(fn, **kwargs)
    return _weft.submit(fn, args, pool)


def as_completed(futures, timeout=None):
    """Yields the futures as they end (any order they end in). Raises
    TimeoutError when `timeout` seconds pass first."""
    pending = list(futures)
    end = None if timeout is None else time.monotonic() + timeout
    while pending:
        left = -1.0 if end is None else max(0.0, end - time.monotonic())
        done = _weft.wait_any(pending, left)
        if not done:
            raise TimeoutError(f"weft.as_completed: {len(pending)} futures not done")
        finished = set(done)
        for i in done:
            yield pending[i]
        pending = [f for i, f in enumerate(pending) if i not in finished]
