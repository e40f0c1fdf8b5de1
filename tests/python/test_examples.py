"""The programs of examples/python run and print what their comments say."""
import os
import runpy

import pytest

EXAMPLES = os.path.join(os.path.dirname(__file__), "..", "..", "examples", "python")


@pytest.mark.parametrize("name, expected", [
    ("square_dask.py", "(1, 4, 9, 16, 25)\n"),
    ("native.py", "(1, 4, 9, 16, 25)\n55\n1267650600228229401496703205376\n285.5\n"),
])
def test_example(name, expected, capsys):
    runpy.run_path(os.path.join(EXAMPLES, name), run_name="__main__")
    assert capsys.readouterr().out == expected
