#!/usr/bin/env python3
"""run_spec.py MPIEXEC WEFT_MPI SPECDIR EXAMPLES [WEFT]

Runs graph files with `mpiexec -n 3 weft-mpi run FILE --check` and checks
the exit status, the output and the messages. With WEFT (the weft
command), the output must also be byte for byte that of `weft run FILE`.
"""
import glob
import os
import subprocess
import sys

mpiexec, weft_mpi, specdir, examples = sys.argv[1:5]
weft = sys.argv[5] if len(sys.argv) > 5 else None
failures = 0


def run(args, timeout=120):
    p = subprocess.run(args, capture_output=True, text=True, timeout=timeout)
    return p.returncode, p.stdout, p.stderr


def mpi(*args):
    return run([mpiexec, "-n", "3", weft_mpi, "run", *args])


def check(ok, what, out="", err=""):
    global failures
    if ok:
        print("ok", what)
        return
    failures += 1
    print("FAIL", what)
    print("  stdout:", out[:2000])
    print("  stderr:", err[:2000])


# Every example file: identical to one process (--check), and to weft run.
for f in sorted(glob.glob(os.path.join(examples, "*.json"))):
    rc, out, err = mpi(f, "--check")
    check(rc == 0 and "identical to the single-process run" in err,
          "example %s on 3 ranks" % os.path.basename(f), out, err)
    if weft and rc == 0:
        wrc, wout, werr = run([weft, "run", f, "--no-progress"])
        check(wrc == 0 and wout == out,
              "example %s prints what weft run prints" % os.path.basename(f),
              out + "\n---\n" + wout, werr)

# Owners given per key with "rank", nested calls, aliases, lists.
rc, out, err = mpi(os.path.join(specdir, "ranks.json"), "--check", "--stats")
check(rc == 0 and out.startswith('{"s": 45, "m": 4.5, "nested": 100, '
                                 '"alias": 100,')
      and '"bigsum": 149985000}' in out
      and "identical to the single-process run" in err
      and err.count("of 11 tasks") == 3,
      "rank fields, nested tasks, aliases and lists", out, err)

rc, out, err = mpi(os.path.join(specdir, "chain.json"), "--check",
                   "-t", "ratio", "-o", "text")
check(rc == 0 and out == "ratio: 0.7972624798711755\n",
      "--target and --output text", out, err)

# A failing task: exit 1, one message naming key, rank and cause.
rc, out, err = mpi(os.path.join(specdir, "fail.json"))
check(rc != 0 and err.count("weft-mpi: task 'b' failed on rank 1: "
                            "division by zero") == 1 and out == "",
      "a failing task is reported once, with key and rank", out, err)

# Bad input: the spec reader's message, once; exit status 2.
rc, out, err = mpi(os.path.join(specdir, "badfunc.json"))
check(rc != 0 and err.count("badfunc.json:2:18: error: unknown function "
                            "'incr' in key 'b' (did you mean 'inc'?)") == 1,
      "an unknown function: file, line, column, once", out, err)
rc, out, err = mpi(os.path.join(specdir, "badrank.json"))
check(rc != 0 and "key 'a' asks for rank 7, but there are 3 ranks" in err,
      "a rank out of range", out, err)
rc, out, err = mpi(os.path.join(specdir, "no-such-file.json"))
check(rc != 0 and "no-such-file.json" in err and err.count("cannot") == 1,
      "a missing file", out, err)
rc, out, err = mpi(os.path.join(specdir, "chain.json"), "--bogus")
check(rc != 0 and err.count("unknown option '--bogus'") == 1,
      "a bad option, reported once", out, err)

print("%d failure(s)" % failures)
sys.exit(1 if failures else 0)
