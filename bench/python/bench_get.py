"""ns per task of weft.get against Dask's schedulers, in one run.

Graphs of trivial Python functions (chain, independent, tree) at sizes from
20,000 to 1,000,000 tasks: weft.get, dask.local.get_sync and
dask.threaded.get (the Dask schedulers at fewer sizes: they take ~50 us a
task). Then numpy-heavy dask.array work, (x + x.T).sum() on a 10,000^2 array
in 500^2 chunks, weft.get vs dask.threaded.get at 2 threads.

All-in: the time of the get call, graph translation included; the Python
graph dict is built before the clock starts. Each figure is the median of
--rounds runs (one run for 1,000,000 tasks).

Run (after meson compile -C build):
    PYTHONPATH=build/python /usr/bin/python3 bench/python/bench_get.py
    ... --quick          (20,000 and 100,000 only; a smaller array)
    ... --json out.json  (the figures, for the README table)
This is a benchmark, not a test: it asserts only that the results agree.
"""
import argparse
import json
import os
import platform
import statistics
import sys
import time

import dask
import dask.array as da
import dask.local
import dask.threaded

import weft


def inc(x):
    return x + 1


def add(x, y):
    return x + y


def chain(n):
    dsk = {"c0": 0}
    for i in range(1, n):
        dsk[f"c{i}"] = (inc, f"c{i-1}")
    return dsk, f"c{n-1}", n - 1, n - 1


def independent(n):
    dsk = {("i", i): (inc, i) for i in range(n)}
    return dsk, list(dsk), n, None


def tree(n):
    """A binary reduction over n leaves: n leaves + n - 1 adds."""
    dsk = {("t", 0, i): (inc, i) for i in range(n)}
    level, width = 0, n
    while width > 1:
        for j in range(0, width - 1, 2):
            dsk[("t", level + 1, j // 2)] = (add, ("t", level, j), ("t", level, j + 1))
        if width % 2:
            dsk[("t", level + 1, width // 2)] = (inc, ("t", level, width - 1))
        level, width = level + 1, (width + 1) // 2
    return dsk, ("t", level, 0), len(dsk), None


GRAPHS = {"chain": chain, "independent": independent, "tree": tree}


def schedulers(threads):
    return {
        "weft.get": lambda d, k: weft.get(d, k, num_workers=threads),
        "dask get_sync": lambda d, k: dask.local.get_sync(d, k),
        "dask threaded": lambda d, k: dask.threaded.get(d, k, num_workers=threads),
    }


def timed(fn, dsk, keys, rounds):
    """Median wall time, and the median CPU time of the whole process (all
    threads): on a shared machine the CPU time shows the work done, the wall
    time also the waits for a CPU."""
    times, cpus, res = [], [], None
    for _ in range(rounds):
        c0, t0 = time.process_time(), time.perf_counter()
        res = fn(dsk, keys)
        times.append(time.perf_counter() - t0)
        cpus.append(time.process_time() - c0)
        del res
    return statistics.median(times), times, statistics.median(cpus)


def python_call_ns():
    n = 1_000_000
    t0 = time.perf_counter()
    for i in range(n):
        inc(i)
    return (time.perf_counter() - t0) / n * 1e9


def numpy_bench(side, chunk, threads, rounds):
    x = da.random.RandomState(42).random_sample((side, side), chunks=(chunk, chunk))
    expr = (x + x.T).sum()
    values, times, cpus = {}, {"weft.get": [], "dask threaded": []}, {}
    for _ in range(rounds):  # interleaved, so both see the same machine
        for name, sched in [("weft.get", weft.get), ("dask threaded", dask.threaded.get)]:
            c0, t0 = time.process_time(), time.perf_counter()
            values[name] = expr.compute(scheduler=sched, num_workers=threads)
            times[name].append(time.perf_counter() - t0)
            cpus.setdefault(name, []).append(time.process_time() - c0)
    out = {k: {"median_s": statistics.median(v), "times_s": v,
               "cpu_median_s": statistics.median(cpus[k])} for k, v in times.items()}
    a, b = values["weft.get"], values["dask threaded"]
    assert abs(a - b) <= 1e-9 * abs(b), (a, b)
    out["tasks"] = len(dict(expr.__dask_graph__()))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small sizes only")
    ap.add_argument("--threads", type=int, default=2, help="workers (default 2)")
    ap.add_argument("--rounds", type=int, default=3, help="runs per figure (default 3)")
    ap.add_argument("--json", help="write the figures to this file")
    ap.add_argument("--only", choices=["graphs", "numpy"], help="run one part only")
    args = ap.parse_args()

    sizes = {"weft.get": [20_000, 100_000, 1_000_000],
             "dask get_sync": [20_000, 100_000], "dask threaded": [20_000, 100_000]}
    if args.quick:
        sizes = {k: [s for s in v if s <= 100_000] for k, v in sizes.items()}
    rows = []
    call_ns = python_call_ns()
    print(f"# bare Python call inc(i): {call_ns:.0f} ns; {args.threads} threads; "
          f"{args.rounds} rounds (1 at 1,000,000); load average {os.getloadavg()[0]:.1f} "
          f"on {os.cpu_count()} CPUs", flush=True)
    for gname, make in GRAPHS.items() if args.only != "numpy" else ():
        for n in sorted({s for v in sizes.values() for s in v}):
            dsk, keys, ntasks, expect = make(n)
            ref = None
            for sname, fn in schedulers(args.threads).items():
                if n not in sizes[sname]:
                    continue
                rounds = 1 if n >= 1_000_000 else args.rounds
                med, times, cpu = timed(fn, dsk, keys, rounds)
                ns = med / ntasks * 1e9
                rows.append({"graph": gname, "n": n, "tasks": ntasks, "scheduler": sname,
                             "ns_per_task": ns, "cpu_ns_per_task": cpu / ntasks * 1e9,
                             "times_s": times})
                print(f"{gname:12s} {n:>9,d} {sname:14s} {ns:10.0f} ns/task "
                      f"(cpu {cpu / ntasks * 1e9:8.0f} ns/task)", flush=True)
                if expect is not None:
                    assert fn(dsk, keys) == expect
            del dsk
    side, chunk = (4000, 500) if args.quick else (10_000, 500)
    nb = None
    if args.only != "graphs":
        nb = numpy_bench(side, chunk, args.threads, args.rounds)
        print(f"numpy (x + x.T).sum() {side}^2 in {chunk}^2 chunks ({nb['tasks']} tasks), "
              f"{args.threads} threads: weft.get {nb['weft.get']['median_s']:.3f} s "
              f"(cpu {nb['weft.get']['cpu_median_s']:.3f} s), dask threaded "
              f"{nb['dask threaded']['median_s']:.3f} s "
              f"(cpu {nb['dask threaded']['cpu_median_s']:.3f} s)")

    # The summary table (Markdown), as in the README.
    print("\n| graph | tasks | weft.get | dask get_sync | dask threaded | threaded / weft "
          "| weft.get CPU |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    by = {(r["graph"], r["n"], r["scheduler"]): r for r in rows}
    for gname in GRAPHS:
        for n in sorted({r["n"] for r in rows}):
            w = by.get((gname, n, "weft.get"))
            if w is None:
                continue
            s = by.get((gname, n, "dask get_sync"))
            t = by.get((gname, n, "dask threaded"))
            fmt = lambda r: f"{r['ns_per_task'] / 1000:.2f} µs" if r else "—"  # noqa: E731
            ratio = f"{t['ns_per_task'] / w['ns_per_task']:.0f}×" if t else "—"
            print(f"| {gname} | {w['tasks']:,} | {fmt(w)} | {fmt(s)} | {fmt(t)} | {ratio} "
                  f"| {w['cpu_ns_per_task'] / 1000:.2f} µs |")
    if nb:
        w, t = nb["weft.get"], nb["dask threaded"]
        print(f"| numpy (x + x.T).sum(), {side:,}² in {chunk}² chunks | {nb['tasks']:,} | "
              f"{w['median_s']:.2f} s | — | {t['median_s']:.2f} s | "
              f"{t['median_s'] / w['median_s']:.2f}× | {w['cpu_median_s']:.2f} s "
              f"(threaded {t['cpu_median_s']:.2f} s) |")
    if args.json:
        meta = {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
                "command": " ".join([os.path.basename(sys.executable)] + sys.argv),
                "python": platform.python_version(), "dask": dask.__version__,
                "cpus": os.cpu_count(), "load": os.getloadavg(),
                "python_call_ns": call_ns, "threads": args.threads}
        with open(args.json, "w") as f:
            json.dump({"meta": meta, "rows": rows, "numpy": nb}, f, indent=1)


if __name__ == "__main__":
    main()
