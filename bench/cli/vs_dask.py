#!/usr/bin/python3
"""The `weft` command against Dask's dask.get on the same graph file.

Writes a graph of 100,000 tasks (a 50,000-task chain and a 50,000-task
fan-in) as JSON, then, alternately for REPS rounds:
  - `weft run --stats FILE` (read, build and run reported apart);
  - Debian's python3-dask: json.load + conversion to a Dask graph, then
    dask.get (the synchronous scheduler) and dask.threaded.get.
Prints the medians and the ratios. Usage: vs_dask.py WEFT_BINARY [REPS]
"""
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

N = 50000


def make_graph(path):
    g = {"c0": 1}
    for i in range(1, N):
        g[f"c{i}"] = ["inc", f"c{i-1}"]
    for i in range(N):
        g[f"f{i}"] = ["inc", i]
    g["total"] = ["sum", {"list": [f"f{i}" for i in range(N)]}]
    with open(path, "w") as f:
        json.dump({"graph": g, "targets": [f"c{N-1}", "total"]}, f)


def inc(x):
    return x + 1


def to_dask(spec):
    """The same graph in Dask's own format (tuples are tasks)."""
    dsk = {}
    for k, v in spec["graph"].items():
        if isinstance(v, list) and v[0] == "inc":
            dsk[k] = (inc, v[1])
        elif isinstance(v, list) and v[0] == "sum":
            dsk[k] = (sum, v[1]["list"])
        else:
            dsk[k] = v
    return dsk


def run_weft(weft, path):
    t0 = time.perf_counter()
    p = subprocess.run([weft, "run", "--stats", path], capture_output=True,
                       text=True, check=True)
    wall = time.perf_counter() - t0
    m = re.search(r"read ([\d.]+) s, build ([\d.]+) s .* run ([\d.]+) s",
                  p.stderr)
    out = json.loads(p.stdout)
    assert out == {f"c{N-1}": N, "total": sum(range(1, N + 1))}, out
    return wall, float(m.group(1)), float(m.group(2)), float(m.group(3))


def run_dask(path, scheduler):
    t0 = time.perf_counter()
    with open(path) as f:
        spec = json.load(f)
    dsk = to_dask(spec)
    t1 = time.perf_counter()
    res = scheduler(dsk, spec["targets"])
    t2 = time.perf_counter()
    assert list(res) == [N, sum(range(1, N + 1))], res
    return t2 - t0, t1 - t0, t2 - t1


def main():
    weft = sys.argv[1]
    reps = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    import dask
    import dask.threaded
    path = os.path.join(tempfile.mkdtemp(), "g100k.json")
    make_graph(path)
    w, ds, dt = [], [], []
    for _ in range(reps):
        w.append(run_weft(weft, path))
        ds.append(run_dask(path, dask.get))
        dt.append(run_dask(path, dask.threaded.get))
    med = lambda xs, i: statistics.median(x[i] for x in xs)
    print(f"graph: {2 * N} tasks (chain {N} + fan-in {N}), {reps} rounds, "
          f"{os.cpu_count()} cores, medians")
    print(f"weft run:          total {med(w,0):.3f} s = read {med(w,1):.3f}"
          f" + build {med(w,2):.3f} + run {med(w,3):.4f} (+ process start)")
    print(f"dask.get:          total {med(ds,0):.3f} s = load {med(ds,1):.3f}"
          f" + run {med(ds,2):.3f}")
    print(f"dask.threaded.get: total {med(dt,0):.3f} s = load {med(dt,1):.3f}"
          f" + run {med(dt,2):.3f}")
    print(f"ratio weft/dask.get: run {med(w,3)/med(ds,2):.4f}, "
          f"end to end {med(w,0)/med(ds,0):.3f}")


if __name__ == "__main__":
    main()
