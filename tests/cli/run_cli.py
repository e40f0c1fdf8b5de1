#!/usr/bin/python3
"""End-to-end tests of the `weft` command.

usage: run_cli.py WEFT TESTS_DIR PLUGIN [SOURCE_ROOT]

1. Every specs/NAME.expect: one or more cases separated by '---' lines:
     args: run specs/NAME.json --target z   ({plugin} = the test plugin)
     stdin: specs/NAME.json                 (fed on standard input)
     exit: 2
     stdout: ...     (the exact standard output, one line per 'stdout:')
     stderr: ...     (must appear in standard error; repeatable)
   Commands run in TESTS_DIR, so messages name "specs/NAME.json".
2. The cases below: usage, help, plugins, info, examples, a 100,000-task
   graph, and mutated files that must never crash or hang the command.

Every run must end within its time limit, with exit status 0, 1 or 2 and
no sanitizer report. Standard library only.
"""
import json
import os
import pty
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time

WEFT, TESTS, PLUGIN = sys.argv[1], sys.argv[2], sys.argv[3]
ROOT = sys.argv[4] if len(sys.argv) > 4 else os.path.join(TESTS, "..", "..")
passed = failed = 0


def weft(args, stdin=None, timeout=60, env=None):
    """Runs weft; returns (exit status, stdout, stderr)."""
    t = time.monotonic()
    try:
        p = subprocess.run([WEFT] + args, input=stdin, cwd=TESTS,
                           capture_output=True, timeout=timeout, env=env)
    except subprocess.TimeoutExpired:
        return None, "", "TIMEOUT after %ds" % timeout
    out = p.stdout.decode("utf-8", "replace")
    err = p.stderr.decode("utf-8", "replace")
    if time.monotonic() - t > timeout:
        return None, out, err
    return p.returncode, out, err


def check(name, ok, detail=""):
    global passed, failed
    if ok:
        passed += 1
    else:
        failed += 1
        print("FAIL %s\n%s" % (name, detail))


def sane(name, code, err):
    """No crash, no sanitizer report, a documented exit status."""
    bad = code not in (0, 1, 2) or "Sanitizer" in err or \
        "runtime error" in err
    check(name + " (sane exit)", not bad,
          "exit %s, stderr:\n%s" % (code, err[-3000:]))
    return not bad


def expect(name, args, code=0, stdout=None, stderr=(), stdin=None,
           not_stderr=(), env=None):
    c, out, err = weft(args, stdin, env=env)
    if not sane(name, c, err):
        return c, out, err
    detail = "args %s\nexit %s (want %s)\nstdout:\n%s\nstderr:\n%s" % (
        args, c, code, out, err)
    check(name + " exit", c == code, detail)
    if stdout is not None:
        check(name + " stdout", out.rstrip("\n") == stdout.rstrip("\n"),
              "want:\n%s\n%s" % (stdout, detail))
    for s in stderr:
        check(name + " stderr", s in err, "want %r in stderr\n%s" %
              (s, detail))
    for s in not_stderr:
        check(name + " no stderr", s not in err, "unwanted %r\n%s" %
              (s, detail))
    return c, out, err


def run_expect_files():
    specs = os.path.join(TESTS, "specs")
    for fn in sorted(os.listdir(specs)):
        if not fn.endswith(".expect"):
            continue
        with open(os.path.join(specs, fn), encoding="utf-8") as f:
            blocks = f.read().split("\n---\n")
        for i, block in enumerate(blocks):
            case = {"args": None, "exit": 0, "stdout": None, "stderr": [],
                    "stdin": None}
            for line in block.splitlines():
                if line.startswith("#") or not line.strip():
                    continue
                key, _, val = line.partition(":")
                val = val[1:] if val.startswith(" ") else val
                if key == "stdout":
                    case["stdout"] = val if case["stdout"] is None \
                        else case["stdout"] + "\n" + val
                elif key == "stderr":
                    case["stderr"].append(val)
                elif key == "args":
                    case["args"] = val.replace("{plugin}", PLUGIN).split()
                elif key == "exit":
                    case["exit"] = int(val)
                elif key == "stdin":
                    with open(os.path.join(TESTS, val), "rb") as f:
                        case["stdin"] = f.read()
                else:
                    check("%s#%d" % (fn, i), False, "bad line %r" % line)
            expect("%s#%d" % (fn, i), case["args"], case["exit"],
                   case["stdout"], case["stderr"], case["stdin"])


def run_usage():
    c, out, err = expect("no args", [], 2, stderr=["usage: weft"])
    expect("--help", ["--help"], 0, stderr=[])
    c, out, _ = weft(["--help"])
    check("--help text", "commands:" in out and "run FILE" in out, out)
    c, out, _ = weft(["--version"])
    check("--version", c == 0 and out.startswith("weft 0."), out)
    for cmd in ("run", "check", "funcs", "info"):
        c, out, err = expect(cmd + " --help", [cmd, "--help"], 0)
        check(cmd + " --help text", out.startswith("usage: weft " + cmd),
              out)
        c2, out2, _ = weft(["help", cmd])
        check("help " + cmd, c2 == 0 and out2 == out, out2)
    c, out, _ = weft(["run", "--help"])
    check("run --help has the format", '{"lit": V}' in out and
          "exit status" in out, out)
    expect("unknown command", ["frob"], 2, stderr=["unknown command 'frob'"])
    expect("unknown option", ["run", "specs/basic.json", "--fast"], 2,
           stderr=["unknown option '--fast'"])
    expect("no file", ["run"], 2, stderr=["no FILE given"])
    expect("two files", ["run", "specs/basic.json", "x.json"], 2,
           stderr=["one FILE only"])
    expect("missing file", ["run", "specs/none.json"], 2,
           stderr=["specs/none.json: error: cannot open: No such file"])
    expect("directory", ["run", "specs"], 2,
           stderr=["specs: error: cannot read"])
    expect("missing value", ["run", "specs/basic.json", "--threads"], 2,
           stderr=["option '--threads' needs a value"])
    expect("bad threads", ["run", "specs/basic.json", "-j", "lots"], 2,
           stderr=["-j: 'lots' is not a number"])
    expect("too many threads", ["run", "specs/basic.json", "-j", "5000"], 2,
           stderr=["not a number from 0 to 4096"])
    expect("bad bind", ["run", "specs/basic.json", "--bind", "sockets"], 2,
           stderr=["--bind: 'sockets' is not cores, pus or none"])
    expect("bad output", ["run", "specs/basic.json", "-o", "xml"], 2,
           stderr=["--output: 'xml' is not json or text"])
    expect("check refuses run options",
           ["check", "specs/basic.json", "--threads", "2"], 2,
           stderr=["unknown option '--threads' for 'check'"])
    expect("-- ends options", ["run", "--", "specs/basic.json"], 0,
           stdout='{"z": 12}')
    expect("empty stdin", ["run", "-"], 2, stdin=b"",
           stderr=["<stdin>:1:1: error: invalid JSON"])
    expect("stats", ["run", "specs/basic.json", "--stats", "-j", "2"], 0,
           stdout='{"z": 12}', stderr=["weft: read ", " build ", " run ",
                                       "on 2 threads"])


def run_funcs_plugins():
    c, out, err = expect("funcs", ["funcs"], 0)
    lines = out.splitlines()
    check("funcs header", lines and lines[0].endswith(
        "functions (name, arity, what it does):"), out)
    names = [l.split()[0] for l in lines[1:]]
    for must in ("inc", "add", "sub", "mul", "div", "neg", "sum", "max",
                 "min", "len", "mean", "identity", "range", "concat",
                 "getitem", "sleep_ms", "spin_us"):
        check("funcs lists " + must, must in names, out)
    check("funcs sorted", names == sorted(names), out)
    expect("funcs NAME", ["funcs", "div", "range"], 0,
           stdout="  div        2      a / b, true division: always a "
           "float; b = 0 fails\n  range      1..3   range([start,] stop[, "
           "step]): a list of ints, as in Python")
    expect("funcs unknown", ["funcs", "summ"], 2,
           stderr=["unknown function 'summ' (did you mean 'sum'?)"])
    c, out, err = expect("funcs plugin", ["funcs", "--plugin", PLUGIN,
                                          "square"], 0)
    check("funcs plugin origin", "square" in out and PLUGIN in out, out)
    expect("bad plugin", ["run", "specs/basic.json", "--plugin",
                          "/nonexistent.so"], 2,
           stderr=["plugin '/nonexistent.so': cannot load"])
    expect("not a plugin", ["funcs", "--plugin", "libm.so.6"], 2,
           stderr=["no 'weft_plugin_init' function: not a weft plugin"])


def run_info():
    c, out, err = expect("info", ["info"], 0)
    check("info text", "machine:" in out and "workers:" in out and
          "worker 0:" in out, out)
    c, out, err = expect("info synthetic", ["info", "--topology",
                                            "package:2 core:2 pu:2",
                                            "--threads", "6",
                                            "--bind", "pus"], 0)
    check("info synthetic text", "machine: 2 packages, 4 cores, 8 PUs" in out
          and "workers: 6" in out and "worker 5:" in out, out)
    expect("info bad topology", ["info", "--topology", "nonsense:7"], 2,
           stderr=["cannot start a pool"])
    # Issue 11.6: huge counts are refused before hwloc builds them (it
    # spun for minutes before the 4096-thread check).
    expect("info huge topology", ["info", "--topology",
                                  "core:100000 pu:100000"], 2,
           stderr=["--topology: 'core:100000 pu:100000' has more than 4096 "
                   "PUs"])
    expect("run huge topology", ["run", "specs/basic.json", "--topology",
                                 "package:65536 pu:65536"], 2,
           stderr=["has more than 4096 PUs"])
    expect("info bad option", ["info", "--frob"], 2,
           stderr=["unknown argument '--frob'"])


def run_examples():
    d = os.path.join(ROOT, "examples", "specs")
    if not os.path.isdir(d):
        return
    for fn in sorted(os.listdir(d)):
        if fn.endswith(".json"):
            expect("example " + fn, ["run", os.path.join(d, fn)], 0)
            expect("example check " + fn, ["check", os.path.join(d, fn)], 0,
                   stderr=[])


def run_outputs(tmp):
    """--trace, --dot and --progress."""
    tr = os.path.join(tmp, "trace.json")
    dot = os.path.join(tmp, "graph.dot")
    expect("trace+dot", ["run", "specs/basic.json", "--trace", tr,
                         "--dot", dot], 0, stdout='{"z": 12}')
    with open(tr) as f:
        events = json.load(f)["traceEvents"]
    names = sorted(e["name"] for e in events if e.get("ph") == "X")
    check("trace events", names == ["x", "y", "z"], repr(events))
    with open(dot) as f:
        text = f.read()
    check("dot labels", text.startswith("digraph weft {") and
          'label="z\\nadd(y, mul(x, 10))"' in text and
          "n1 -> n2;" in text and "fillcolor=" in text, text)
    expect("check --dot", ["check", "specs/basic.json", "--dot", dot], 0)
    with open(dot) as f:
        check("check dot", "tooltip" not in f.read() and True)
    # The trace is written when a task fails too: it tells why.
    expect("trace on failure", ["run", "specs/fail_div.json", "--trace",
                                tr], 1, stderr=["division by zero"])
    with open(tr) as f:
        check("trace on failure", '"traceEvents"' in f.read())
    expect("trace bad path", ["run", "specs/basic.json", "--trace",
                              "/nonexistent/t.json"], 2,
           stderr=["--trace: cannot write '/nonexistent/t.json'"])
    expect("dot bad ext", ["run", "specs/basic.json", "--dot", "g.txt"], 2,
           stderr=["--dot: 'g.txt' should end in .dot or .gv"])
    expect("dot without graphviz", ["run", "specs/basic.json", "--dot",
                                    os.path.join(tmp, "g.svg")], 2,
           stderr=["needs Graphviz's 'dot', which is not on PATH"],
           env=dict(os.environ, PATH="/nonexistent"))
    if shutil.which("dot"):
        svg = os.path.join(tmp, "g.svg")
        expect("dot svg", ["run", "specs/basic.json", "--dot", svg], 0)
        with open(svg) as f:
            check("dot svg file", "<svg" in f.read())
    expect("progress", ["run", "specs/basic.json", "--progress"], 0,
           stdout='{"z": 12}', stderr=["] 100% ", " tasks/s | "])
    expect("no progress", ["run", "specs/basic.json", "--no-progress"], 0,
           not_stderr=["tasks/s"])


def weft_tty(args, timeout=60):
    """Runs weft with stderr on a terminal (a pty); returns (exit status,
    stdout, stderr as text, seconds)."""
    master, slave = pty.openpty()
    chunks = []

    def drain():  # the pty's buffer is small: read as weft writes
        try:
            while True:
                d = os.read(master, 65536)
                if not d:
                    break
                chunks.append(d)
        except OSError:
            pass
    t = threading.Thread(target=drain)
    t.start()
    start = time.monotonic()
    try:
        p = subprocess.run([WEFT] + args, cwd=TESTS, stdout=subprocess.PIPE,
                           stderr=slave, timeout=timeout)
        code, out = p.returncode, p.stdout.decode("utf-8", "replace")
    except subprocess.TimeoutExpired:
        code, out = None, ""
    took = time.monotonic() - start
    os.close(slave)
    t.join()
    os.close(master)
    return code, out, b"".join(chunks).decode("utf-8", "replace"), took


def run_progress(tmp):
    """Issue 16: on a terminal, the bar shows once a run passes 0.5 s, and
    never on a quick one."""
    c, out, err, took = weft_tty(["run", "specs/basic.json"])
    check("tty quick run", c == 0 and out == '{"z": 12}\n', out)
    # Only a run that was really quick must be silent (a loaded machine
    # may take longer than the delay even here).
    if took < 0.4:
        check("tty quick run: no progress", err == "", repr(err))
    slow = os.path.join(tmp, "slow.json")
    with open(slow, "w") as f:
        json.dump({"graph": {"a": ["sleep_ms", 700], "b": ["sleep_ms", 700],
                             "c": ["add", "a", "b"]}}, f)
    # The sleeps alone take 0.7 s at least: the bar must have shown.
    c, out, err, took = weft_tty(["run", slow])
    check("tty slow run", c == 0 and out == '{"c": 1400}\n', out)
    check("tty slow run: progress", "] 100% 3/3 tasks" in err and
          err.endswith("\n"), repr(err))
    c, out, err, took = weft_tty(["run", slow, "--no-progress"])
    check("tty --no-progress", c == 0 and err == "", repr(err))


def run_cli_items(tmp):
    """Issue 16: funcs columns, plugins by bare name, hints, --help."""
    c, out, err = expect("funcs long name", ["funcs", "--plugin", PLUGIN], 0)
    cols = set()
    for line in out.splitlines()[1:]:
        name, arity = line.split()[:2]
        cols.add(line.index(" " + arity + " ", len(name) + 2))
    check("funcs columns aligned", len(cols) == 1, out)
    check("funcs long name listed",
          "greet_with_a_name_longer_than_the_column" in out, out)
    # A bare name: here (with or without .so), next to the program, and
    # in ../lib/weft from it.
    base = os.path.basename(PLUGIN)
    stem = base[:-3] if base.endswith(".so") else base
    here = os.path.join(tmp, "here")
    os.makedirs(here)
    shutil.copy(PLUGIN, os.path.join(here, base))
    p = subprocess.run([WEFT, "funcs", "--plugin", stem, "square"], cwd=here,
                       capture_output=True)
    check("plugin bare name here", p.returncode == 0 and
          b"square" in p.stdout, repr(p))
    for sub in ("bin", os.path.join("lib", "weft")):
        prefix = os.path.join(tmp, "prefix-" + sub.replace("/", "-"))
        os.makedirs(os.path.join(prefix, "bin"))
        os.makedirs(os.path.join(prefix, sub), exist_ok=True)
        exe = os.path.join(prefix, "bin", "weft")
        shutil.copy(WEFT, exe)
        shutil.copy(PLUGIN, os.path.join(prefix, sub, base))
        p = subprocess.run([exe, "funcs", "--plugin", stem, "square"],
                           cwd=TESTS, capture_output=True)
        check("plugin bare name in " + sub, p.returncode == 0 and
              b"square" in p.stdout, repr(p))
    expect("plugin bare name missing", ["funcs", "--plugin", "no_such_xyz"],
           2, stderr=["no_such_xyz", "looked in ., next to weft, and in "])
    # The unknown function's hint (bad_unknown_fn.expect has the run).
    expect("check unknown fn hint", ["check", "specs/bad_unknown_fn.json"],
           2, stderr=["a plugin may provide it (--plugin LIB.so)"])
    expect("typo: no plugin hint", ["run", "specs/bad_typo_fn.json"], 2,
           stderr=["did you mean 'sum'"], not_stderr=["--plugin"])
    c, out, _ = weft(["run", "--help"])
    check("run --help mentions --mpi", "--mpi" in out and "weft-mpi" in out,
          out)
    # weft run --mpi hands every option to weft-mpi (here a stand-in next
    # to a copy of weft that prints what it was given).
    bindir = os.path.join(tmp, "mpi-bin")
    os.makedirs(bindir)
    exe = os.path.join(bindir, "weft")
    shutil.copy(WEFT, exe)
    with open(os.path.join(bindir, "weft-mpi"), "w") as f:
        f.write("#!/bin/sh\nfor a in \"$@\"; do echo \"[$a]\"; done\n")
    os.chmod(os.path.join(bindir, "weft-mpi"), 0o755)
    opts = ["specs/basic.json", "-t", "z", "-j", "2", "--bind", "none",
            "--topology", "pu:2", "--plugin", "p.so", "-o", "text",
            "--max-bytes", "100", "--strict", "--stats", "--progress",
            "--trace", "t.json", "--dot", "g.dot", "--max-nodes", "9",
            "--max-depth=3", "--check", "--timeout", "5"]
    p = subprocess.run([exe, "run", "--mpi"] + opts, cwd=TESTS,
                       capture_output=True)
    got = p.stdout.decode().split("\n")[:-1]
    check("run --mpi passes every option", p.returncode == 0 and
          got == ["[run]"] + ["[%s]" % a for a in opts], repr(p))
    # Strict numbers everywhere.
    for args in (["run", "specs/basic.json", "-j", "2.5"],
                 ["info", "-j", "0x10"],
                 ["run", "specs/basic.json", "--max-nodes", "1e3"]):
        expect("strict number %s" % args[-1], args, 2,
               stderr=["is not a number"])
    # Graphviz is not asked to draw a huge graph.
    if shutil.which("dot"):
        g = {"k%d" % i: i for i in range(6000)}
        big = os.path.join(tmp, "wide.json")
        with open(big, "w") as f:
            json.dump({"graph": g}, f)
        svg = os.path.join(tmp, "wide.svg")
        expect("dot too big", ["run", big, "--dot", svg], 2,
               stderr=["--dot: not drawing", "6000 nodes"])
        check("dot too big: nothing drawn", not os.path.exists(svg))
        expect("dot too big, as DOT", ["run", big, "--dot",
                                       os.path.join(tmp, "wide.dot")], 0)


def run_big(tmp):
    """100,000 chained keys and a 100,000-way fan-in, timed with --stats."""
    n = 100000
    g = {"c0": 0}
    for i in range(1, n):
        g["c%d" % i] = ["inc", "c%d" % (i - 1)]
    g["total"] = ["sum", ["c%d" % i for i in range(n)]]
    path = os.path.join(tmp, "big.json")
    with open(path, "w") as f:
        json.dump({"graph": g, "targets": ["total", "c%d" % (n - 1)]}, f)
    c, out, err = expect("100k graph", ["run", path, "--stats"], 0,
                         stdout='{"total": %d, "c%d": %d}' %
                         (n * (n - 1) // 2, n - 1, n - 1),
                         stderr=["100001 keys, 100001 tasks"])
    print("100k graph: " + err.strip())
    # The same keys as one long cycle: found, reported, shortened.
    g["c0"] = ["inc", "c%d" % (n - 1)]
    with open(path, "w") as f:
        json.dump({"graph": g}, f)
    expect("100k cycle", ["check", path], 2,
           stderr=["error: cycle: c0 -> c99999 -> c99998", "more) ->"])


def shared_lists(path, levels=40):
    """A 2 KB file whose value prints as terabytes: each key is a list of
    the one before, twice (lists share their items, so memory stays small
    while the text doubles with each level)."""
    g = {"a0": ["inc", 0]}
    for i in range(1, levels + 1):
        g["a%d" % i] = ["a%d" % (i - 1), "a%d" % (i - 1)]
    with open(path, "w") as f:
        json.dump({"graph": g, "targets": ["a%d" % levels]}, f)


def weft_to(args, stdout, timeout=30, sigpipe_ignored=False):
    """Runs weft with stdout going to an open file object; returns (exit,
    stderr). With sigpipe_ignored, weft starts with SIGPIPE ignored, as
    under a shell that ignores it or a Python parent (restore_signals
    off)."""
    t = time.monotonic()
    try:
        p = subprocess.run([WEFT] + args, cwd=TESTS, stdout=stdout,
                           stderr=subprocess.PIPE, timeout=timeout,
                           restore_signals=not sigpipe_ignored)
    except subprocess.TimeoutExpired:
        return None, "TIMEOUT after %ds" % timeout
    err = p.stderr.decode("utf-8", "replace")
    if time.monotonic() - t > timeout:
        return None, err
    return p.returncode, err


def closed_pipe():
    """A pipe whose read end is already closed: the write end (returned)
    gets EPIPE (SIGPIPE when not ignored)."""
    r, w = os.pipe()
    os.close(r)
    return w


def run_output_bounds(tmp):
    """Issue 11.5: output is checked as it is written, and bounded."""
    hostile = os.path.join(tmp, "shared.json")
    shared_lists(hostile)
    check("hostile file is small", os.path.getsize(hostile) < 2048)
    # Nothing over the limit reaches stdout: an error, all or nothing.
    c, out, err = expect("max-bytes default", ["run", hostile], 1,
                         stderr=["weft: writing the results: nothing "
                                 "written: it would be 5497558138886 "
                                 "bytes, more than --max-bytes "
                                 "1073741824"])
    check("max-bytes default: no output", out == "", out[:200])
    c, out, err = expect("max-bytes small", ["run", hostile, "--max-bytes",
                                             "1000"], 1,
                         stderr=["more than --max-bytes 1000 "])
    check("max-bytes small: no output", out == "", out[:200])
    expect("max-bytes enough", ["run", "specs/basic.json", "--max-bytes",
                                "10"], 0, stdout='{"z": 12}')
    expect("max-bytes one short", ["run", "specs/basic.json",
                                   "--max-bytes", "9"], 1,
           stderr=["it would be 10 bytes, more than --max-bytes 9 "])
    expect("max-bytes text", ["run", "specs/basic.json", "-o", "text",
                              "--max-bytes", "6"], 0, stdout="z: 12")
    expect("max-bytes bad", ["run", "specs/basic.json", "--max-bytes",
                             "1e9"], 2,
           stderr=["--max-bytes: '1e9' is not a number"])
    # A full disk: stop at the first failed write (no limit, so only the
    # write error can stop the terabytes), say why, exit 1.
    if os.path.exists("/dev/full"):
        with open("/dev/full", "wb") as full:
            for args in (["run", "specs/basic.json"],
                         ["run", hostile, "--max-bytes", "0"]):
                c, err = weft_to(args, full)
                check("/dev/full %s" % args[1], c == 1 and
                      "weft: writing the results: No space left on device"
                      in err, "exit %s\n%s" % (c, err))
            for args, what in ((["check", "specs/basic.json"], "the summary"),
                               (["funcs"], "the list"),
                               (["info"], "the machine summary"),
                               (["--version"], "to standard output"),
                               (["run", "--help"], "to standard output")):
                c, err = weft_to(args, full)
                check("/dev/full %s" % args[0], c == 1 and
                      ("writing %s: No space left on device" % what)
                      in err, "exit %s\n%s" % (c, err))
    # A closed pipe with SIGPIPE ignored: EPIPE, told as such, at once.
    for args in (["run", "specs/basic.json"],
                 ["run", hostile, "--max-bytes", "0"]):
        w = closed_pipe()
        try:
            c, err = weft_to(args, w, sigpipe_ignored=True)
        finally:
            os.close(w)
        check("closed pipe %s" % args[1], c == 1 and
              "weft: writing the results: Broken pipe" in err,
              "exit %s\n%s" % (c, err))
    # SIGPIPE as usual: killed by it, as any Unix filter would be.
    w = closed_pipe()
    try:
        c, err = weft_to(["run", hostile, "--max-bytes", "0"], w)
    finally:
        os.close(w)
    check("closed pipe, SIGPIPE", c == -13, "exit %s\n%s" % (c, err))


def run_deep(tmp):
    path = os.path.join(tmp, "deep.json")
    with open(path, "w") as f:
        f.write('{"graph": {"a": ' + "[" * 5000 + "]" * 5000 + "}}")
    expect("jansson depth", ["run", path], 2,
           stderr=["error: invalid JSON: maximum parsing depth reached"])
    with open(path, "w") as f:
        f.write('{"graph": {"a": ' + '["inc", ' * 100 + "1" + "]" * 100 +
                "}}")
    expect("depth 100", ["run", path], 2,
           stderr=["key 'a' nests deeper than 64 levels"])
    expect("depth 100 allowed", ["run", path, "--max-depth", "200"], 0,
           stdout='{"a": 101}')


def run_fuzz(tmp):
    """Mutated files: any exit in 0..2 and no sanitizer report is fine;
    a crash or a hang is not."""
    rnd = random.Random(4242)
    seeds = []
    for d in (os.path.join(TESTS, "specs"),
              os.path.join(ROOT, "examples", "specs")):
        if os.path.isdir(d):
            for fn in sorted(os.listdir(d)):
                if fn.endswith(".json"):
                    with open(os.path.join(d, fn), "rb") as f:
                        text = f.read()
                    # A mutated duration could sleep for an hour.
                    if b"sleep_ms" not in text and b"spin_us" not in text:
                        seeds.append(text)
    junk = [b"[", b"]", b"{", b"}", b'"', b",", b":", b"\\", b"\x00",
            b"\xff", b"1e999", b"-", b"null", b'"x"', b'["inc"]',
            b'{"ref": "a"}', b'{"lit": {}}', b"[[[[", b"\n"]
    n = 300
    for i in range(n):
        b = bytearray(rnd.choice(seeds))
        for _ in range(rnd.randint(1, 4)):
            op = rnd.randrange(4)
            pos = rnd.randrange(len(b) + 1)
            if op == 0 and b:
                del b[pos:pos + rnd.randint(1, 8)]
            elif op == 1:
                b[pos:pos] = rnd.choice(junk)
            elif op == 2 and b:
                b[min(pos, len(b) - 1)] = rnd.randrange(256)
            else:
                b = b[:pos]
        c, out, err = weft(["run", "-", "-j", "2"], stdin=bytes(b),
                           timeout=30)
        if not sane("fuzz #%d" % i, c, err):
            print("input was: %r" % bytes(b)[:500])


def main():
    run_expect_files()
    run_usage()
    run_funcs_plugins()
    run_info()
    run_examples()
    with tempfile.TemporaryDirectory() as tmp:
        run_outputs(tmp)
        run_output_bounds(tmp)
        run_progress(tmp)
        run_cli_items(tmp)
        run_deep(tmp)
        run_big(tmp)
        run_fuzz(tmp)
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
