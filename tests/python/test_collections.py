"""Dask collections give the same results with scheduler=weft.get as with
the threaded scheduler (tuple keys from dask.array included)."""
import operator
import random

import dask
import dask.array as da
import dask.bag as db
import dask.dataframe as dd
import numpy as np
import pandas as pd
import pytest
from dask import delayed

import weft


def both(*objs, **kw):
    ref = dask.compute(*objs, scheduler="threads")
    got = dask.compute(*objs, scheduler=weft.get, **kw)
    return ref, got


def test_seed_example():
    @delayed
    def square(x):
        return x * x

    data = [1, 2, 3, 4, 5]
    assert dask.compute(*[square(x) for x in data], scheduler=weft.get) == (1, 4, 9, 16, 25)


def test_config_set():
    with dask.config.set(scheduler=weft.get):
        assert delayed(operator.add)(1, 2).compute() == 3


def test_delayed_random_sums(num_workers):
    rng = random.Random(7)
    for _ in range(20):
        leaves = [delayed(operator.mul)(rng.randint(-9, 9), rng.randint(1, 5)) for _ in range(30)]
        layer = leaves
        while len(layer) > 1:
            nxt = [delayed(operator.add)(layer[i], layer[i + 1]) for i in range(0, len(layer) - 1, 2)]
            if len(layer) % 2:
                nxt.append(layer[-1])
            layer = nxt
        total = delayed(sum)(leaves)
        ref, got = both(layer[0], total, num_workers=num_workers)
        assert ref == got


def test_array_tuple_keys(num_workers):
    x = da.random.RandomState(0).random_sample((400, 300), chunks=(50, 70))
    exprs = [(x + x[:300, :].T.sum()).sum(axis=0), x.mean(axis=1), (x @ x.T)[:10, :10],
             da.concatenate([x, x], axis=0).std(), x[::3, 5:50].cumsum(axis=1)]
    ref, got = both(*exprs, num_workers=num_workers)
    for r, g in zip(ref, got):
        np.testing.assert_allclose(g, r, rtol=1e-10)
    keys = list(dict(exprs[0].__dask_graph__()))
    assert any(isinstance(k, tuple) for k in keys)


def test_array_big_reduction():
    x = da.ones((2000, 2000), chunks=(100, 100))
    assert (x + x.T).sum().compute(scheduler=weft.get) == 8_000_000


def test_bag(num_workers):
    b = db.from_sequence(range(1000), npartitions=17)
    exprs = [b.map(lambda v: v * v).filter(lambda v: v % 3).sum(),
             b.frequencies(sort=True), b.groupby(lambda v: v % 7).map(lambda kv: (kv[0], sum(kv[1]))),
             b.fold(operator.add), b.distinct().count()]
    ref, got = both(*exprs, num_workers=num_workers)
    assert ref[0] == got[0] and ref[3] == got[3] and ref[4] == got[4]
    assert sorted(ref[1]) == sorted(got[1])
    assert sorted(ref[2]) == sorted(got[2])


def test_dataframe(num_workers):
    rng = np.random.default_rng(3)
    pdf = pd.DataFrame({"k": rng.integers(0, 20, 5000), "v": rng.normal(size=5000),
                        "w": rng.integers(0, 100, 5000)})
    df = dd.from_pandas(pdf, npartitions=9)
    exprs = [df.groupby("k").v.mean(), df[df.w > 50].v.sum(), df.describe(),
             df.set_index("w").v.sum(), (df.v * df.w).cumsum()]
    ref, got = both(*exprs, num_workers=num_workers)
    for r, g in zip(ref, got):
        if isinstance(r, (pd.Series, pd.DataFrame)):
            pd.testing.assert_frame_equal(pd.DataFrame(r).sort_index(),
                                          pd.DataFrame(g).sort_index(), check_exact=False)
        else:
            assert np.isclose(r, g)


def test_highlevelgraph_and_persist():
    x = da.arange(100, chunks=10)
    y = (x * 2).persist(scheduler=weft.get)
    assert int(y.sum().compute(scheduler=weft.get)) == 9900
