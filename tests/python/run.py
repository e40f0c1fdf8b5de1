"""Runs the weft Python tests with Debian's pytest (meson test, suite
'python').

Usage: run.py PACKAGE_DIR TEST_DIR SANITIZE RUNTIMES [pytest args...]

RUNTIMES: ':'-separated sanitizer runtime libraries (meson finds them in
ASan/UBSan builds). /usr/bin/python3 is not instrumented, so an
instrumented libweft only loads when the runtime is the first library of
the process: it is preloaded, and leak detection is off (CPython keeps
objects alive at exit on purpose; the leak tests here use tracemalloc and
reference counts instead).

Exit 77 (meson's "skipped") with the reason when the tests cannot run here:
pytest or dask missing (`apt-get install python3-pytest python3-dask
python3-numpy python3-pandas`); a TSan build (ThreadSanitizer needs every
thread's memory accesses instrumented, and CPython's are not: it reports
races inside the interpreter); a sanitizer build whose runtime was not
found (a compiler other than gcc).
"""
import importlib.util
import os
import subprocess
import sys


def main(argv):
    pkg, tests, sanitize, runtimes = argv[1], argv[2], argv[3], argv[4]
    env = dict(os.environ)
    if sanitize not in ("", "none"):
        if "thread" in sanitize:
            print(f"SKIP: b_sanitize={sanitize}: ThreadSanitizer cannot check a process "
                  "whose interpreter is not instrumented (see tests/python/run.py)")
            return 77
        libs = [p for p in runtimes.split(":") if p]
        if not libs or not all(os.path.isabs(p) and os.path.exists(p) for p in libs):
            print(f"SKIP: b_sanitize={sanitize}: sanitizer runtime to preload not found "
                  f"({runtimes!r}; gcc's libasan/libubsan are needed)")
            return 77
        env["LD_PRELOAD"] = ":".join(libs + [env["LD_PRELOAD"]] if env.get("LD_PRELOAD") else libs)
        env["ASAN_OPTIONS"] = "detect_leaks=0:" + env.get("ASAN_OPTIONS", "")
        env["UBSAN_OPTIONS"] = "halt_on_error=1:print_stacktrace=1:" + env.get("UBSAN_OPTIONS", "")
    for mod in ("pytest", "dask"):
        if importlib.util.find_spec(mod) is None:
            print(f"SKIP: {mod} is not installed (apt-get install python3-{mod})")
            return 77
    env["PYTHONPATH"] = pkg + os.pathsep + env.get("PYTHONPATH", "")
    env.setdefault("PYTHONFAULTHANDLER", "1")
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
           tests] + argv[5:]
    return subprocess.call(cmd, env=env, cwd=tests)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
