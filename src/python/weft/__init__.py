"""weft: lazy task graphs on a work-stealing, hwloc-pinned C thread pool.

A Dask scheduler in one line::

    import dask, weft
    dask.compute(*objs, scheduler=weft.get)      # or dask.config.set(scheduler=weft.get)

and a small API of its own for programs without Dask::

    @weft.delayed
    def square(x):
        return x * x

    weft.compute(*[square(x) for x in range(5)])   # (0, 1, 4, 9, 16)
    f = weft.submit(pow, 2, 10); f.result()        # 1024

Scheduling never holds the GIL: a task takes it only while it calls Python,
so numpy code that releases it runs in parallel, and a graph of weft's own C
functions (weft.fn("add"), plugins) runs without it at all.
"""
import atexit as _atexit

from . import _weft
from ._weft import Function, Future, Pool, TaskError, fn, functions, load_plugin
from ._get import get
from ._delayed import Delayed, compute, delayed
from ._futures import as_completed, get_async, submit

__version__ = _weft.weft_version

__all__ = [
    "Delayed", "Function", "Future", "Pool", "TaskError", "as_completed",
    "compute", "delayed", "fn", "functions", "get", "get_async", "load_plugin",
    "submit",
]

# Stop the worker threads before the interpreter goes away.
_atexit.register(_weft.shutdown)
