"""Runs an example of examples/python and checks that its output holds a
text. Usage: run_example.py PACKAGE_DIR EXAMPLE TEXT. Exit 77 without dask
(the Dask example needs it)."""
import importlib.util
import os
import subprocess
import sys


def main(argv):
    pkg, example, want = argv[1:4]
    if importlib.util.find_spec("dask") is None:
        print("SKIP: dask is not installed (apt-get install python3-dask)")
        return 77
    env = dict(os.environ, PYTHONPATH=pkg)
    out = subprocess.run([sys.executable, example], env=env, capture_output=True,
                         text=True, timeout=100)
    sys.stdout.write(out.stdout + out.stderr)
    if out.returncode != 0 or want not in out.stdout:
        print(f"FAIL: exit {out.returncode}, expected {want!r} in the output")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
