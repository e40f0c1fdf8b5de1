"""Nothing leaks: references of literals, results, exceptions; memory over
many computes."""
import gc
import sys
import tracemalloc
import weakref

import pytest

import weft


class Thing:
    pass


def ident(x):
    return x


def pair(a, b):
    return [a, b]


def test_refcounts_of_literals_and_results():
    s = Thing()
    dsk = {"a": (ident, s), "b": (pair, "a", s), "c": (ident, "b"), "d": s}
    weft.get(dsk, ["c", "d"])
    weft._weft._drain()
    before = sys.getrefcount(s)
    for _ in range(300):
        res = weft.get(dsk, ["c", "d", ["a"]], num_workers=2)
        assert res[0][0] is s
        del res
    weft._weft._drain()
    assert sys.getrefcount(s) == before


def test_exception_objects_are_freed():
    refs = []

    class Err(ValueError):  # built-in exceptions take no weak references
        pass

    def fail():
        e = Err("x")
        refs.append(weakref.ref(e))
        raise e

    for _ in range(20):
        with pytest.raises(ValueError):
            weft.get({"f": (fail,), "g": (ident, "f")}, "g")
    weft._weft._drain()
    gc.collect()
    assert all(r() is None for r in refs)


def test_memory_is_flat_over_many_computes():
    dsk = {f"x{i}": (ident, f"x{i-1}") for i in range(1, 200)}
    dsk["x0"] = list(range(10))
    dsk["y"] = (pair, "x199", [("z", 1), "x5"])
    dsk[("z", 1)] = (ident, "x3")

    def run(n):
        for _ in range(n):
            weft.get(dsk, ["y", "x10"], num_workers=2)
            weft.submit(ident, 1).result()
        weft._weft._drain()
        gc.collect()

    run(50)
    tracemalloc.start()
    run(10)
    a = tracemalloc.take_snapshot()
    run(400)
    b = tracemalloc.take_snapshot()
    tracemalloc.stop()
    growth = sum(s.size_diff for s in b.compare_to(a, "filename"))
    assert growth < 64 * 1024, growth
