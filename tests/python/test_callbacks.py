"""Dask's callbacks with scheduler=weft.get: tuples, Callback objects,
ProgressBar and Profiler."""
import io

import dask
import pytest
from dask.callbacks import Callback
from dask.diagnostics import ProgressBar, Profiler

import weft


def inc(x):
    return x + 1


DSK = {"a": 1, "b": (inc, "a"), "c": (inc, "b"), "d": (sum, ["b", "c"])}


def test_tuple_callbacks_see_every_task():
    log = []
    cb = (lambda dsk: log.append(("start", len(dsk))),
          lambda dsk, state: log.append(("start_state", sorted(state["waiting"]))),
          lambda key, dsk, state: log.append(("pre", key)),
          lambda key, res, dsk, state, worker: log.append(("post", key, res)),
          lambda dsk, state, errored: log.append(("finish", errored, sorted(state["finished"]))))
    assert weft.get(DSK, "d", callbacks=[cb]) == 5
    assert log[0] == ("start", 4)
    assert log[1] == ("start_state", ["b", "c", "d"])
    assert sorted(e[1] for e in log if e[0] == "pre") == ["b", "c", "d"]
    assert sorted(e[1:] for e in log if e[0] == "post") == [("b", 2), ("c", 3), ("d", 5)]
    assert log[-1] == ("finish", False, ["b", "c", "d"])


def test_finish_reports_errors():
    seen = []
    cb = (None, None, None, None, lambda dsk, state, errored: seen.append(errored))
    with pytest.raises(ZeroDivisionError):
        weft.get({"x": (divmod, 1, 0)}, "x", callbacks=[cb])
    assert seen == [True]


def test_active_callback_object():
    keys = []

    class Rec(Callback):
        def _posttask(self, key, result, dsk, state, worker_id):
            keys.append(key)

    def active_inside():
        return len(Callback.active)

    with Rec():
        assert weft.get(DSK, ["d", "a"]) == (5, 1)
        # during a compute the active callbacks belong to it (a nested
        # compute does not call them again); afterwards they are back
        assert weft.get({"n": (active_inside,)}, "n") == 0
        assert len(Callback.active) == 1
    assert sorted(keys) == ["b", "c", "d", "n"]
    assert Callback.active == set()


def test_progressbar():
    out = io.StringIO()
    x = dask.delayed(sum)([dask.delayed(inc)(i) for i in range(50)])
    with ProgressBar(minimum=0, out=out, dt=0.001):
        assert x.compute(scheduler=weft.get) == sum(range(1, 51))
    assert "100% Completed" in out.getvalue()


def test_profiler():
    with Profiler() as prof:
        weft.get(DSK, "d", num_workers=2)
    assert sorted(r.key for r in prof.results) == ["b", "c", "d"]
    assert all(r.end_time >= r.start_time for r in prof.results)
