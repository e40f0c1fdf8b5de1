"""weft's own API: delayed/compute, submit/futures/as_completed, pools, C
functions without the GIL."""
import concurrent.futures
import ctypes
import threading
import time

import pytest

import weft


def test_seed_program_native():
    @weft.delayed
    def square(x):
        return x * x

    data = [1, 2, 3, 4, 5]
    assert weft.compute(*[square(x) for x in data]) == (1, 4, 9, 16, 25)


def test_delayed_kwargs_collections_and_strings():
    add = weft.delayed(lambda a, b=0: a + b)
    x = add(1, b=2)
    y = weft.delayed(lambda d, t, s: (d["k"], t[1], s))({"k": x}, (0, x), "x")
    assert weft.compute(y, [x, x], 7) == ((3, 3, "x"), [3, 3], 7)
    assert x.compute() == 3
    assert repr(x).startswith("Delayed(")


def test_long_delayed_chain():
    inc = weft.delayed(lambda v: v + 1)
    v = 0
    for _ in range(5000):
        v = inc(v)
    assert v.compute() == 5000


def test_submit_result_and_exception():
    f = weft.submit(pow, 2, 10)
    assert f.result(timeout=30) == 1024 and f.done()
    g = weft.submit(divmod, 1, 0)
    with pytest.raises(ZeroDivisionError):
        g.result()
    assert weft.submit(sorted, [3, 1, 2], reverse=True).result() == [3, 2, 1]
    assert weft.submit(len, (abs, 1)).result() == 2  # a tuple is not a task


def test_result_timeout_and_cancel():
    gate = threading.Event()
    f = weft.submit(gate.wait, 60)
    with pytest.raises(TimeoutError):
        f.result(timeout=0.01)
    assert not f.done()
    queued = [weft.submit(gate.wait, 60) for _ in range(4)]
    assert queued[-1].cancel()
    gate.set()
    assert f.result() is True
    with pytest.raises(concurrent.futures.CancelledError):
        queued[-1].result()
    for q in queued[:-1]:
        assert q.result() in (True,) or q.cancelled()


def test_as_completed_order():
    gates = [threading.Event() for _ in range(3)]
    fs = [weft.submit(g.wait, 60) for g in gates]
    it = weft.as_completed(fs)
    gates[1].set()
    assert next(it) is fs[1]
    gates[0].set()
    gates[2].set()
    assert {id(f) for f in it} == {id(fs[0]), id(fs[2])}


def test_as_completed_timeout():
    gate = threading.Event()
    f = weft.submit(gate.wait, 60)
    with pytest.raises(TimeoutError):
        list(weft.as_completed([f], timeout=0.05))
    gate.set()
    f.result()


def test_pool_object_and_num_workers():
    with weft.Pool(3, bind="none") as p:
        assert p.num_workers == 3
        assert weft.get({"a": (abs, -1)}, "a", pool=p) == 1
    assert p.num_workers == 0
    with pytest.raises(ValueError):
        weft.get({"a": (abs, -1)}, "a", pool=p)
    ex = concurrent.futures.ThreadPoolExecutor(3)
    assert weft.get({"a": (abs, -1)}, "a", pool=ex) == 1  # only its size
    ex.shutdown()


def test_nested_compute_inside_a_task():
    def inner(n):
        return weft.get({f"i{k}": (abs, -k) for k in range(n)}, [f"i{k}" for k in range(n)])

    dsk = {f"o{j}": (inner, 20) for j in range(8)}
    res = weft.get(dsk, list(dsk), num_workers=2)
    assert all(r == tuple(range(20)) for r in res)


def test_c_functions():
    add, s = weft.fn("add"), weft.fn("sum")
    assert add.name == "add" and "add" in weft.functions()
    assert add(2, 3) == 5
    dsk = {("x", i): (add, i, 1) for i in range(100)}
    dsk["total"] = (s, sorted(dsk))
    dsk["py"] = (lambda t: t * 2, "total")
    assert weft.get(dsk, "py") == 2 * sum(range(1, 101))
    with pytest.raises(KeyError, match="did you mean"):
        weft.fn("addd")


def _libweft():
    lib = ctypes.PyDLL("libweft.so.0")  # already loaded; a PyDLL call keeps the GIL
    lib.weft_future_wait.argtypes = [ctypes.c_void_p, ctypes.c_double]
    lib.weft_future_wait.restype = ctypes.c_int
    return lib


def test_c_function_graph_runs_without_the_gil():
    """This thread holds the GIL while it waits for a compute of weft C
    functions: the compute ends. A compute of Python tasks cannot end then
    (the contrast shows the test can fail)."""
    lib = _libweft()
    add = weft.fn("add")
    dsk = {("x", i): (add, i, 1) for i in range(2000)}
    dsk["total"] = (weft.fn("sum"), sorted(dsk))
    f = weft.get_async(dsk, "total")
    assert lib.weft_future_wait(f._address, 120.0) == 0  # GIL held all along
    assert f.result() == sum(range(1, 2001))

    g = weft.get_async({"p": (abs, -1)}, "p")
    assert lib.weft_future_wait(g._address, 0.2) == -5  # WEFT_ETIMEDOUT: needs the GIL
    assert g.result() == 1


def test_numpy_tasks_run_in_parallel_threads():
    np = pytest.importorskip("numpy")
    seen = set()

    def work(i):
        seen.add(threading.get_ident())
        a = np.ones((300, 300))
        return float((a @ a).sum())

    res = weft.get({f"w{i}": (work, i) for i in range(64)}, [f"w{i}" for i in range(64)],
                   num_workers=2)
    assert res == tuple([300.0 * 300 * 300] * 64)
    assert len(seen) >= 1
