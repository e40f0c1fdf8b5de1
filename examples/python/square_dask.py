"""The seed program, with weft as Dask's scheduler: one changed argument.

Run: PYTHONPATH=build/python /usr/bin/python3 examples/python/square_dask.py
"""
import dask
from dask import delayed

import weft


@delayed
def square(x):
    return x * x


data = [1, 2, 3, 4, 5]
print(dask.compute(*[square(x) for x in data], scheduler=weft.get))  # (1, 4, 9, 16, 25)
