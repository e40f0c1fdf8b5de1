"""Runs the weft Python tests with Debian's pytest (meson test, suite
'python').

Usage: run.py PACKAGE_DIR TEST_DIR SANITIZE [pytest args...]

Exit 77 (meson's "skipped") with the reason when the tests cannot run here:
- pytest or dask is not installed (`apt-get install python3-pytest
  python3-dask python3-numpy python3-pandas`);
- a sanitizer build: the extension links an ASan/TSan-instrumented libweft,
  and the sanitizer runtime must then be the first library of the process;
  /usr/bin/python3 is not instrumented, so loading the extension aborts
  ("ASan runtime does not come first") unless the runtime is LD_PRELOADed,
  which then reports CPython's own allocations as leaks. The weft core is
  checked under the sanitizers by its C suites.
"""
import importlib.util
import os
import subprocess
import sys


def main(argv):
    pkg, tests, sanitize = argv[1], argv[2], argv[3]
    if sanitize not in ("", "none"):
        print(f"SKIP: sanitizer build (b_sanitize={sanitize}): the Python "
              "module needs an uninstrumented libweft (see tests/python/run.py)")
        return 77
    for mod in ("pytest", "dask"):
        if importlib.util.find_spec(mod) is None:
            print(f"SKIP: {mod} is not installed (apt-get install python3-{mod})")
            return 77
    env = dict(os.environ)
    env["PYTHONPATH"] = pkg + os.pathsep + env.get("PYTHONPATH", "")
    env.setdefault("PYTHONFAULTHANDLER", "1")
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
           tests] + argv[4:]
    return subprocess.call(cmd, env=env, cwd=tests)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
