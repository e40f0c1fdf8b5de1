"""Dask's own contract for foreign `get` functions."""
from dask.utils_test import GetFunctionTestMixin

import weft


class TestWeftGet(GetFunctionTestMixin):
    get = staticmethod(weft.get)
