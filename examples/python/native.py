"""weft without Dask: delayed calls, a background future, and a graph of
weft's C functions that runs without the GIL.

Run: PYTHONPATH=build/python /usr/bin/python3 examples/python/native.py
"""
import weft


@weft.delayed
def square(x):
    return x * x


@weft.delayed
def total(xs):
    return sum(xs)


squares = [square(x) for x in [1, 2, 3, 4, 5]]
print(weft.compute(*squares))                  # (1, 4, 9, 16, 25)
print(total(squares).compute())                # 55

# One call in the background, Celery's delay()/get() in-process.
f = weft.submit(pow, 2, 100)
print(f.result(timeout=10))                    # 1267650600228229401496703205376

# A Dask-style graph of weft C functions: no Python, no GIL, in the tasks.
add, mul = weft.fn("add"), weft.fn("mul")
dsk = {("x", i): (mul, i, i) for i in range(10)}
dsk["sum"] = (weft.fn("sum"), sorted(dsk))
dsk["answer"] = (add, "sum", 0.5)
print(weft.get(dsk, "answer"))                 # 285.5
