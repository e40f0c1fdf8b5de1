"""Shared helpers of the weft Python tests."""
import dask
import pytest

import weft


@pytest.fixture(params=[1, 2, 4], ids=lambda n: f"{n}workers")
def num_workers(request):
    """Worker counts to run each compute with (4 oversubscribes 2 cores)."""
    return request.param


def threaded(obj_or_fn, *objs, **kw):
    return dask.compute(obj_or_fn, *objs, scheduler="threads", **kw)
