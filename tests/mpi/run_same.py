#!/usr/bin/env python3
"""run_same.py MPIEXEC WEFT CLI_TESTS_DIR EXAMPLES [PLUGIN]

`weft run --mpi` on 3 ranks must do what `weft run` does: the same exit
status and, byte for byte, the same standard output, with the same options
(issue 12). Compared on
- every `run` case of the weft command's expected-output files
  (CLI_TESTS_DIR/specs/*.expect, with their options and standard input);
- every example file (EXAMPLES/*.json) under several sets of options.
Standard error is not compared: ranks name themselves in messages.
With WEFT_TEST_SCALE below 1 (the sanitizer builds, where each MPI job
costs seconds), every (1/scale)-th case runs, a different slice each time
the case list changes, so every case is still run by the plain build.
"""
import glob
import os
import shlex
import subprocess
import sys

mpiexec, weft, clidir, examples = map(os.path.abspath, sys.argv[1:5])
plugin = os.path.abspath(sys.argv[5]) if len(sys.argv) > 5 else None
failures = cases = seen = 0
scale = float(os.environ.get("WEFT_TEST_SCALE", "1") or 1)
step = max(1, round(1 / scale)) if 0 < scale < 1 else 1


def run(args, stdin=None, timeout=120):
    try:
        p = subprocess.run(args, input=stdin, cwd=clidir,
                           capture_output=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return None, "", "TIMEOUT"
    return (p.returncode, p.stdout.decode("utf-8", "replace"),
            p.stderr.decode("utf-8", "replace"))


def compare(what, args, stdin=None):
    global failures, cases, seen
    seen += 1
    if seen % step:
        return
    cases += 1
    one = run([weft, *args, "--no-progress"], stdin)
    many = run([mpiexec, "-n", "3", weft, *args, "--mpi"], stdin)
    if one[0] == many[0] and one[1] == many[1]:
        print("ok", what)
        return
    failures += 1
    print("FAIL", what)
    print("  weft run:       exit %s, stdout %r" % (one[0], one[1][:500]))
    print("  weft run --mpi: exit %s, stdout %r" % (many[0], many[1][:500]))
    print("  stderr --mpi:", many[2][:1500])


def expect_cases(path):
    """(args, stdin file) of each `run` case of an .expect file."""
    text = open(path).read()
    for case in text.split("\n---\n"):
        args = stdin = None
        for line in case.splitlines():
            if line.startswith("args: "):
                args = shlex.split(line[6:])
            elif line.startswith("stdin: "):
                stdin = line[7:].strip()
        if not args or args[0] != "run":
            continue
        if any("{plugin}" in a for a in args):
            if not plugin:
                continue
            args = [a.replace("{plugin}", plugin) for a in args]
        # Options that write files or draw are not about the results.
        if "--trace" in args or "--dot" in args:
            continue
        yield args, stdin


for exp in sorted(glob.glob(os.path.join(clidir, "specs", "*.expect"))):
    for n, (args, stdin) in enumerate(expect_cases(exp)):
        data = open(os.path.join(clidir, stdin), "rb").read() \
            if stdin else None
        compare("%s case %d: weft %s" % (os.path.basename(exp), n + 1,
                                          " ".join(args)), args, data)

option_sets = [[], ["-o", "text"], ["--bind", "cores"],
               ["-j", "1", "--bind", "none", "--strict"],
               ["--max-bytes", "8"], ["--stats", "--max-nodes", "2"]]
for f in sorted(glob.glob(os.path.join(examples, "*.json"))):
    for opts in option_sets:
        compare("example %s %s" % (os.path.basename(f), " ".join(opts)),
                ["run", f, *opts])

print("%d case(s) of %d, %d failure(s)" % (cases, seen, failures))
sys.exit(1 if failures or cases == 0 else 0)
