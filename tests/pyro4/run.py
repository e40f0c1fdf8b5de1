"""Runs the Pyro4 suite (test_pyro4.py) with pytest, or skips it.

usage: run.py WEFT_EXE PLUGIN.so SOURCE_ROOT

Exits 77 (meson's "skipped") when Debian's python3-pyro4, python3-serpent
or python3-pytest is missing, with a line saying which.
"""
import os
import sys


def main():
    if len(sys.argv) != 4:
        print(__doc__, file=sys.stderr)
        return 2
    missing = []
    for mod, pkg in (("Pyro4", "python3-pyro4"), ("serpent", "python3-serpent"),
                     ("pytest", "python3-pytest")):
        try:
            __import__(mod)
        except ImportError:
            missing.append(pkg)
    if missing:
        print("SKIP: the Pyro4 suite needs " + " ".join(missing) +
              " (apt-get install " + " ".join(missing) + ")")
        return 77
    import pytest

    os.environ["WEFT_EXE"] = os.path.abspath(sys.argv[1])
    os.environ["WEFT_PYRO4_PLUGIN"] = os.path.abspath(sys.argv[2])
    os.environ["WEFT_SOURCE_ROOT"] = os.path.abspath(sys.argv[3])
    here = os.path.dirname(os.path.abspath(__file__))
    return pytest.main(["-q", "-p", "no:cacheprovider", "-x",
                        os.path.join(here, "test_pyro4.py")])


if __name__ == "__main__":
    sys.exit(main())
