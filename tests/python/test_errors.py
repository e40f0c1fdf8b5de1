"""A task's exception reaches the caller with its traceback; Ctrl-C cancels
the compute; failures leave weft usable."""
import os
import signal
import threading
import traceback

import pytest

import weft


class Boom(Exception):
    pass


def explode(x):
    raise Boom(f"bad {x}")


def test_task_exception_is_reraised_with_traceback(num_workers):
    dsk = {"a": 1, "b": (explode, "a"), "c": (abs, "b")}
    with pytest.raises(Boom, match="bad 1") as info:
        weft.get(dsk, "c", num_workers=num_workers)
    frames = [f.name for f in traceback.extract_tb(info.value.__traceback__)]
    assert "explode" in frames  # the task's own frame
    assert "get" in frames  # and the caller's


def test_same_exception_object():
    err = Boom("mine")

    def raiser():
        raise err

    with pytest.raises(Boom) as info:
        weft.get({"x": (raiser,)}, "x")
    assert info.value is err


def test_failure_stops_dependents(num_workers):
    ran = []

    def step(i, prev):
        ran.append(i)
        if i == 10:
            raise ValueError("ten")
        return i

    dsk = {"s0": 0}
    for i in range(1, 50):
        dsk[f"s{i}"] = (step, i, f"s{i-1}")
    with pytest.raises(ValueError):
        weft.get(dsk, "s49", num_workers=num_workers)
    assert max(ran) == 10
    assert weft.get(dsk, "s9") == 9  # the pool still works


def test_c_function_failure_is_a_task_error():
    with pytest.raises(weft.TaskError, match="division by zero|by zero"):
        weft.get({"a": (weft.fn("div"), 1, 0)}, "a")


def test_bad_arity_of_c_function():
    with pytest.raises(TypeError, match="takes"):
        weft.get({"a": (weft.fn("add"), 1)}, "a")


def test_missing_key():
    with pytest.raises(KeyError):
        weft.get({"a": 1}, ["a", ["nope"]])


def test_keyboard_interrupt_cancels_running_python_tasks():
    """A thread sends SIGINT to this process while a long pure-Python task
    runs: the compute is canceled, the running task is interrupted, and
    KeyboardInterrupt reaches the caller."""
    started = threading.Event()
    finished = []

    def long_loop(_):
        started.set()
        x = 0
        for _ in range(300_000_000):  # ~30 s unless interrupted
            x += 1
        finished.append(x)
        return x

    def interrupter():
        started.wait(60)
        os.kill(os.getpid(), signal.SIGINT)

    dsk = {f"t{i}": (long_loop, i) for i in range(8)}
    t = threading.Thread(target=interrupter)
    t.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            weft.get(dsk, list(dsk), num_workers=2)
    finally:
        t.join()
    assert finished == []  # no long task ran to its end
    assert weft.get({"a": (abs, -2)}, "a") == 2


def test_keyboard_interrupt_stops_starting_tasks():
    ran = []

    def tick(i):
        ran.append(i)
        if i == 0:
            os.kill(os.getpid(), signal.SIGINT)
        threading.Event().wait(0.002)  # releases the GIL, as I/O would
        return i

    dsk = {("tick", i): (tick, i) for i in range(5000)}
    with pytest.raises(KeyboardInterrupt):
        weft.get(dsk, sorted(dsk), num_workers=2)
    assert 0 < len(ran) < 5000
