#!/usr/bin/env python3
"""run_agree.py MPIEXEC WEFT_MPI SPECDIR

Issue 11, item 1: ranks that disagree, or a rank that cannot take part,
must end the whole job with an error, soon, on every rank: never a hang.
Each case starts a job of 3 ranks in MPMD form (`A : B`), so that the
ranks get different command lines, and must end within 60 s with the
expected exit status and one message.

Before the fix every disagreement case hung (the failing ranks went to
MPI_Finalize while rank 0 waited in a collective): here that shows as a
subprocess timeout, which fails the test.
"""
import os
import subprocess
import sys
import time

mpiexec, weft_mpi, specdir = sys.argv[1:4]
chain = os.path.join(specdir, "chain.json")
sleepy = os.path.join(specdir, "sleepy.json")
failures = 0

EXIT_USAGE = 2
EXIT_TIMEOUT = 4  # weft/mpi.h WEFT_MPI_EXIT_TIMEOUT


def mpmd(first, rest, n_first=1, n_rest=2, limit=int(os.environ.get("AGREE_LIMIT", "60"))):
    """Rank(s) 0..n_first-1 run `first`, the others `rest`."""
    cmd = [mpiexec, "-n", str(n_first), weft_mpi, "run", *first,
           ":", "-n", str(n_rest), weft_mpi, "run", *rest]
    t0 = time.monotonic()
    try:
        p = subprocess.run(cmd, capture_output=True, text=True,
                           timeout=limit)
        return p.returncode, p.stdout, p.stderr, time.monotonic() - t0
    except subprocess.TimeoutExpired as e:
        out = e.stdout.decode() if isinstance(e.stdout, bytes) else e.stdout
        err = e.stderr.decode() if isinstance(e.stderr, bytes) else e.stderr
        return None, out or "", (err or "") + "\n(hung: killed after %d s)" \
            % limit, limit


def check(ok, what, rc, out, err, took):
    global failures
    if ok:
        print("ok %s (exit %s, %.1f s)" % (what, rc, took))
        return
    failures += 1
    print("FAIL %s (exit %s, %.1f s)" % (what, rc, took))
    print("  stdout:", out[:2000])
    print("  stderr:", err[:2000])


def disagree(what, first, rest, needle, n_first=1, n_rest=2):
    rc, out, err, took = mpmd(first, rest, n_first, n_rest)
    check(rc == EXIT_USAGE and out == "" and err.count(needle) == 1,
          what, rc, out, err, took)


# The issue's own command line: --max-nodes on two ranks of three.
disagree("--max-nodes on ranks 1 and 2 only",
         [chain, "--timeout", "3"],
         [chain, "--max-nodes", "1", "--timeout", "3"],
         "ranks were given different options")
# The same without any --timeout: the agreement alone must end it.
disagree("--max-nodes on ranks 1 and 2 only, no --timeout",
         [chain], [chain, "--max-nodes", "1"],
         "ranks were given different options")
disagree("--strict on rank 0 only",
         [chain, "--strict"], [chain],
         "ranks were given different options")
disagree("--strict on ranks 1 and 2 only",
         [chain], [chain, "--strict"],
         "ranks were given different options")
# A bad option on one rank: that rank's own message, from rank 0.
disagree("a bad option on rank 2 only",
         [chain], [chain, "--bogus"],
         "rank 2: unknown option '--bogus'", n_first=2, n_rest=1)
disagree("a bad value on rank 1 only",
         [chain], [chain, "--timeout", "soon"],
         "rank 1: --timeout: 'soon' is not a number")
disagree("another file on ranks 1 and 2",
         [chain], [os.path.join(specdir, "ranks.json")],
         "ranks were given different options")
disagree("--help on rank 0 only", ["--help"], [chain],
         "ranks were given different options")

# A compute that runs past --timeout: every rank ends, with the timeout's
# own exit status (not 3, which --check uses for a difference).
rc, out, err, took = mpmd([sleepy, "--timeout", "2"],
                          [sleepy, "--timeout", "2"])
check(rc == EXIT_TIMEOUT and "timeout of 2 s" in err and took < 30,
      "--timeout ends a compute that runs too long, exit 4",
      rc, out, err, took)

# Every rank the same: still runs (the agreement lets it through).
rc, out, err, took = mpmd([chain, "-t", "ratio", "--timeout", "30"],
                          [chain, "-t", "ratio", "--timeout", "30"])
check(rc == 0 and out == '{"ratio": 0.7972624798711755}\n',
      "the same options everywhere still run", rc, out, err, took)

print("%d failure(s)" % failures)
sys.exit(1 if failures else 0)
