#!/usr/bin/python3
"""Dask's threaded scheduler on the suite's shapes.

Run with Debian's /usr/bin/python3 (python3-dask). The graph is a raw Dask
task graph (a dict of key -> (function, args...)), the form dask.delayed
produces and the threaded scheduler runs; building it is the "build" phase,
dask.threaded.get() the "run" phase. The task bodies are the suite's C
bodies (body.c), loaded with ctypes: every runtime runs the same code, and
ctypes releases the GIL during each call. The random DAG comes from the
same C generator (dag.h). Prints the same JSON line as the C programs.

Dask costs tens of microseconds per task, so bench/run gives it smaller
sizes (--scale); the figures are per task.

fib is missing: the threaded scheduler has no dynamic tasks.
"""
import argparse
import ctypes
import json
import math
import os
import resource
import sys
import time

MASK = (1 << 64) - 1
SHAPES = ["indep", "chain", "tree", "wave", "random", "coarse", "idle",
          "wake"]
COARSE_ITERS = 90000
LCG_A = 6364136223846793005
LCG_C = 1442695040888963407
DAG_SEED = 0x5745465442454E43
MAX_FANIN = 4


def now_ms():
    return time.perf_counter() * 1e3


def cpu_ms():
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return (ru.ru_utime + ru.ru_stime) * 1e3


def status_kb(field):
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return -1


def reset_peak_rss():
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


class Bodies:
    """The C task bodies of body.c, through ctypes."""

    def __init__(self, path):
        lib = ctypes.CDLL(path)
        u64, sz = ctypes.c_uint64, ctypes.c_size_t
        for name, args in (("bench_leaf", [u64]), ("bench_step", [u64]),
                           ("bench_join", [u64, u64]),
                           ("bench_coarse", [u64]),
                           ("bench_rnode", [u64, sz,
                                            ctypes.POINTER(u64)])):
            fn = getattr(lib, name)
            fn.restype, fn.argtypes = u64, args
        lib.bench_dag.restype = sz
        lib.bench_dag.argtypes = [sz, u64, ctypes.POINTER(ctypes.c_uint32),
                                  ctypes.POINTER(ctypes.c_uint32)]
        self.lib = lib
        self.leaf = lib.bench_leaf
        self.step = lib.bench_step
        self.join = lib.bench_join
        self.coarse = lib.bench_coarse
        c_rnode = lib.bench_rnode

        def rnode(i, *vals):
            return c_rnode(i, len(vals), (u64 * len(vals))(*vals))
        self.rnode = rnode

    def dag(self, n):
        off = (ctypes.c_uint32 * (n + 1))()
        pred = (ctypes.c_uint32 * (n * MAX_FANIN))()
        e = self.lib.bench_dag(n, DAG_SEED, off, pred)
        return list(off), list(pred[:e])


class Problem:
    """The same instance as bench_problem_init() in common.c."""

    def __init__(self, shape, n, bodies):
        self.shape, self.n = shape, max(1, n)
        n = self.n
        self.edges = 0
        if shape in ("indep", "coarse"):
            self.tasks = n
        elif shape == "chain":
            self.tasks, self.edges = n, n - 1
        elif shape == "tree":
            self.tasks, self.edges = 2 * n - 1, 2 * n - 2
        elif shape == "wave":
            self.tasks, self.edges = n * n, 2 * n * (n - 1)
        elif shape == "random":
            self.off, self.pred = bodies.dag(n)
            self.tasks, self.edges = n, len(self.pred)
            used = bytearray(n)
            for p in self.pred:
                used[p] = 1
            self.sinks = [i for i in range(n) if not used[i]]
        else:
            raise ValueError(shape)

    @staticmethod
    def size(shape, scale):
        r = lambda x: max(1, int(math.floor(x + 0.5)))
        if shape in ("indep", "chain", "random"):
            return r(1e6 * scale)
        if shape == "coarse":
            return r(1e4 * scale)
        if shape == "tree":
            return 1 << max(0, int(math.floor(20 + math.log2(scale) + 0.5)))
        if shape == "wave":
            return r(1024 * math.sqrt(scale))
        return 1


def build(p, b):
    """The Dask graph of problem p, and the keys to compute."""
    n, t = p.n, "t"
    if p.shape in ("indep", "coarse"):
        fn = b.leaf if p.shape == "indep" else b.coarse
        dsk = {(t, i): (fn, i) for i in range(n)}
        return dsk, list(dsk)
    if p.shape == "chain":
        dsk = {(t, 0): (b.leaf, 0)}
        for i in range(1, n):
            dsk[(t, i)] = (b.step, (t, i - 1))
        return dsk, [(t, n - 1)]
    if p.shape == "tree":
        dsk = {(t, n + k): (b.leaf, k) for k in range(n)}
        for i in range(n - 1, 0, -1):
            dsk[(t, i)] = (b.join, (t, 2 * i), (t, 2 * i + 1))
        return dsk, [(t, 1)]
    if p.shape == "wave":
        dsk = {}
        for i in range(n):
            for j in range(n):
                dsk[(t, i * n + j)] = (b.join,
                                       (t, (i - 1) * n + j) if i else 0,
                                       (t, i * n + j - 1) if j else 0)
        return dsk, [(t, n * n - 1)]
    if p.shape == "random":
        off, pred, dsk = p.off, p.pred, {}
        for i in range(n):
            dsk[(t, i)] = (b.rnode, i) + tuple(
                (t, q) for q in pred[off[i]:off[i + 1]])
        return dsk, [(t, s) for s in p.sinks]
    raise ValueError(p.shape)


def check_of(results):
    return sum(results) & MASK


def reference(p, b):
    n = p.n
    if p.shape == "indep":
        return sum(b.leaf(i) for i in range(n)) & MASK
    if p.shape == "coarse":  # closed form, as in common.c
        A, C, a, c, k = 1, 0, LCG_A, LCG_C, COARSE_ITERS
        while k:
            if k & 1:
                A, C = (a * A) & MASK, (a * C + c) & MASK
            a, c = (a * a) & MASK, (a * c + c) & MASK
            k >>= 1
        return sum(A * i + C for i in range(n)) & MASK
    if p.shape == "chain":
        s = b.leaf(0)
        for _ in range(1, n):
            s = b.step(s)
        return s
    if p.shape == "tree":
        v = [0] * (2 * n)
        for k in range(n):
            v[n + k] = b.leaf(k)
        for i in range(n - 1, 0, -1):
            v[i] = b.join(v[2 * i], v[2 * i + 1])
        return v[1]
    if p.shape == "wave":
        v = [0] * (n * n)
        for i in range(n):
            for j in range(n):
                v[i * n + j] = b.join(v[(i - 1) * n + j] if i else 0,
                                      v[i * n + j - 1] if j else 0)
        return v[n * n - 1]
    if p.shape == "random":
        v = [0] * n
        for i in range(n):
            v[i] = b.rnode(i, *(v[q] for q in p.pred[p.off[i]:p.off[i + 1]]))
        return sum(v[s] for s in p.sinks) & MASK
    raise ValueError(p.shape)


BUILT_KB = [-1]


def run_once(p, b, threads, get):
    t0 = now_ms()
    dsk, keys = build(p, b)
    t1 = now_ms()
    BUILT_KB[0] = status_kb("VmRSS")  # the graph's memory, as bench_built()
    t1r = now_ms()
    res = get(dsk, keys, num_workers=threads)
    t2 = now_ms()
    check = check_of(res)
    t3 = now_ms()
    del dsk, keys, res  # reference counting frees the graph here
    t4 = now_ms()
    return t1 - t0, t2 - t1r, t4 - t3, check


def head(args, shape, p, rep):
    return {"runtime": "dask", "shape": shape, "threads": args.threads,
            "scale": args.scale, "rep": rep,
            "tasks": p.tasks if p else 0, "edges": p.edges if p else 0}


def emit(d, ok, note):
    d["peak_rss_kb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    d["ok"] = ok
    d["note"] = note
    print(json.dumps(d, separators=(",", ":")), flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shape", choices=SHAPES + ["fib"])
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--n", type=int, default=0)
    ap.add_argument("--reps", type=int, default=1)
    ap.add_argument("--no-warmup", action="store_true")
    ap.add_argument("--list", action="store_true")
    ap.add_argument("--lib", help="path of libweftbench-body.so")
    args = ap.parse_args()
    if args.list:
        print(" ".join(SHAPES))
        return 0
    if not args.shape:
        ap.error("--shape is required")
    if args.shape == "fib":
        print("dask: shape fib not supported: the threaded scheduler has "
              "no dynamic tasks", file=sys.stderr)
        return 77
    if not args.lib or not os.path.exists(args.lib):
        ap.error("--lib must name the built libweftbench-body.so")
    if args.threads <= 0:
        args.threads = os.cpu_count() or 1
    try:
        import dask
        import dask.threaded
    except ImportError as e:
        print("dask: cannot import dask (%s): install python3-dask" % e,
              file=sys.stderr)
        return 3
    note = "Dask %s threaded scheduler, raw task graph, C bodies via " \
           "ctypes" % dask.__version__
    get = dask.threaded.get
    b = Bodies(args.lib)
    shape = args.shape
    gshape = "indep" if shape in ("idle", "wake") else shape
    if not args.no_warmup:
        w = Problem(gshape, {"coarse": 4, "wave": 32, "tree": 512}.get(
            gshape, 1000), b)
        if run_once(w, b, args.threads, get)[3] != reference(w, b):
            print("dask: WRONG RESULT in the warm-up run", file=sys.stderr)
            return 1
    status = 0
    for rep in range(args.reps):
        if shape == "idle":
            w = Problem("indep", 1000, b)
            ok = run_once(w, b, args.threads, get)[3] == reference(w, b)
            c0 = cpu_ms()
            time.sleep(1.0)
            used = cpu_ms() - c0
            d = head(args, shape, None, rep)
            d.update(run_ms=1000.0, cpu_ms=used, idle_cpu_pct=used / 10.0)
            emit(d, ok, note)
            status = status or (0 if ok else 1)
            continue
        if shape == "wake":
            w = Problem("indep", 1, b)
            want, us, ok = reference(w, b), [], True
            for _ in range(21):
                time.sleep(0.05)
                bms, rms, _, check = run_once(w, b, args.threads, get)
                ok &= check == want
                us.append((bms + rms) * 1e3)
            us.sort()
            d = head(args, shape, w, rep)
            d.update(run_ms=us[10] / 1e3, wake_us=us[10], wake_us_min=us[0],
                     wake_us_max=us[-1])
            emit(d, ok, note)
            status = status or (0 if ok else 1)
            continue
        p = Problem(shape, args.n or Problem.size(shape, args.scale), b)
        peak_ok = reset_peak_rss()
        rss0 = status_kb("VmRSS")
        c0 = cpu_ms()
        bms, rms, tms, check = run_once(p, b, args.threads, get)
        used = cpu_ms() - c0
        hwm = status_kb("VmHWM")
        want = reference(p, b)
        total = bms + rms
        d = head(args, shape, p, rep)
        d.update(build_ms=bms, run_ms=rms, teardown_ms=tms, total_ms=total,
                 ns_per_task=total * 1e6 / p.tasks,
                 build_ns_per_task=bms * 1e6 / p.tasks,
                 run_ns_per_task=rms * 1e6 / p.tasks,
                 teardown_ns_per_task=tms * 1e6 / p.tasks, cpu_ms=used,
                 bytes_per_node=(hwm - rss0) * 1024.0 / p.tasks
                 if peak_ok and rss0 >= 0 and hwm >= 0 else None,
                 graph_bytes_per_node=(BUILT_KB[0] - rss0) * 1024.0 / p.tasks
                 if rss0 >= 0 and BUILT_KB[0] >= 0 else None,
                 fused=False, check="0x%016x" % check,
                 expected="0x%016x" % want)
        emit(d, check == want, note)
        if check != want:
            print("dask: WRONG RESULT for %s: got 0x%016x, expected 0x%016x"
                  % (shape, check, want), file=sys.stderr)
            status = 1
    return status


if __name__ == "__main__":
    sys.exit(main())
