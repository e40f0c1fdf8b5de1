#!/usr/bin/python3
"""CSV group-by: weft against dask.dataframe and pandas, in one run.

    /usr/bin/python3 bench/analytics/csv_bench.py --build-dir build [options]

The workload (issue 8): a CSV of 10 million rows "id,key,x,y" (100 keys,
about 307 MB, written by examples/analytics/csv_gen, deterministic), and
the mean of x per key, from the file in the page cache. Peers:

  cat       `cat FILE > /dev/null`: the raw read speed of the file
  weft      examples/analytics/csv_groupby --threads T (one process per
            thread count; the compute is timed, --repeat times)
  dask      dd.read_csv(FILE).groupby("key").x.mean().compute(
            scheduler="threads", num_workers=T), read_csv included
  dask-uc   the same with usecols=["key", "x"] (Dask's best case)
  pandas    pd.read_csv(FILE).groupby("key").x.mean(), one thread
  duckdb    SELECT key, avg(x) FROM read_csv(FILE) GROUP BY key, with
            threads=T, through DuckDB's Node.js API (optional: Debian has
            no DuckDB; see --duckdb); timed in the node process like weft's
            compute, --repeat 3 per round

Runs are interleaved round by round (cat, weft 1, weft 2, dask 1, ...) so
that a noisy neighbour hits every peer alike; each figure is the median of
the rounds. Throughput is file bytes (and rows) over the median time; the
ratio is weft's throughput over Dask's at the same thread count; "of cat"
is the fraction of the raw read speed. The group means of weft and Dask
are compared: the line "means:" says how many are bit-identical and the
largest relative difference.

Prints a Markdown table and writes the figures as JSON (--out).
Needs Debian's python3-dask and python3-pandas for the dask and pandas
rows; without them those rows are skipped with a note.

DuckDB runs when `node` is on the PATH and --duckdb DIR (or the
environment variable WEFT_DUCKDB_DIR) names a folder where the npm package
is installed, outside the repository and never committed:

    mkdir -p /tmp/duckdb-peer && cd /tmp/duckdb-peer &&
        npm install @duckdb/node-api
    /usr/bin/python3 bench/analytics/csv_bench.py --duckdb /tmp/duckdb-peer
"""
import argparse
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import time


def children_cpu():
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def sh_time(cmd):
    t0, c0 = time.perf_counter(), children_cpu()
    subprocess.run(cmd, shell=True, check=True)
    return time.perf_counter() - t0, children_cpu() - c0


def weft_times(exe, path, threads, repeat, chunk_mb):
    """Median compute time of `repeat` runs in one process, and the means."""
    cmd = [exe, path, "--threads", str(threads), "--repeat", str(repeat),
           "--chunk-mb", str(chunk_mb)]
    r = subprocess.run(cmd, capture_output=True, text=True, check=True)
    times = []
    for line in r.stderr.splitlines():
        if line.startswith("time_s="):
            f = dict(w.split("=") for w in line.split())
            times.append((float(f["time_s"]), float(f["cpu_s"])))
    means = {}
    for line in r.stdout.splitlines()[1:]:
        k, v = line.split(",")
        means[int(k)] = float(v)
    return times, means


# One node process per (round, thread count): opens an in-memory DuckDB with
# that many threads and runs the group-by `repeat` times; prints one JSON
# line per run (seconds) and the means of the last one.
DUCKDB_JS = r"""
const { DuckDBInstance } = require('@duckdb/node-api');
const [path, threads, repeat] = process.argv.slice(1);
(async () => {
  const inst = await DuckDBInstance.create(':memory:', { threads: threads });
  const con = await inst.connect();
  const q = "SELECT key, avg(x) FROM read_csv('" + path.replace(/'/g, "''") +
      "') GROUP BY key ORDER BY key";
  let rows;
  for (let i = 0; i < Number(repeat); i++) {
    const c0 = process.cpuUsage(), t0 = performance.now();
    rows = (await con.runAndReadAll(q)).getRows();
    const c = process.cpuUsage(c0);
    console.log(JSON.stringify({ time_s: (performance.now() - t0) / 1000,
                                 cpu_s: (c.user + c.system) / 1e6 }));
  }
  console.log(JSON.stringify({ means: rows.map(r => [Number(r[0]), r[1]]) }));
})().catch(e => { console.error(String(e)); process.exit(1); });
"""


def duckdb_dir(arg):
    """The folder holding node_modules/@duckdb/node-api, or None (and why)."""
    d = arg or os.environ.get("WEFT_DUCKDB_DIR")
    if not d:
        return None, "skipped: no --duckdb DIR (see the file comment)"
    if not shutil.which("node"):
        return None, "skipped: node is not installed"
    mod = os.path.join(d, "node_modules", "@duckdb", "node-api")
    if not os.path.isdir(mod):
        return None, "skipped: %s has no @duckdb/node-api" % d
    with open(os.path.join(mod, "package.json")) as f:
        version = json.load(f).get("version", "?")
    return d, "duckdb %s (@duckdb/node-api)" % version


def duckdb_times(d, path, threads, repeat):
    env = dict(os.environ, NODE_PATH=os.path.join(d, "node_modules"))
    r = subprocess.run(["node", "-e", DUCKDB_JS, path, str(threads),
                        str(repeat)], capture_output=True, text=True,
                       check=True, env=env)
    times, means = [], {}
    for line in r.stdout.splitlines():
        o = json.loads(line)
        if "time_s" in o:
            times.append((o["time_s"], o["cpu_s"]))
        else:
            means = {int(k): float(v) for k, v in o["means"]}
    return times, means


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build-dir", default="build")
    ap.add_argument("--data", default="/tmp/weft-bench/groupby-10M.csv")
    ap.add_argument("--rows", type=int, default=10_000_000)
    ap.add_argument("--keys", type=int, default=100)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--chunk-mb", type=float, default=16)
    ap.add_argument("--no-pandas", action="store_true")
    ap.add_argument("--duckdb", metavar="DIR",
                    help="folder where npm installed @duckdb/node-api "
                    "(default: $WEFT_DUCKDB_DIR); DuckDB is skipped without")
    ap.add_argument("--out", default="bench/analytics/results/latest.json")
    a = ap.parse_args()

    ex = os.path.join(a.build_dir, "examples", "analytics")
    gen, groupby = os.path.join(ex, "csv_gen"), os.path.join(ex, "csv_groupby")
    for p in (gen, groupby):
        if not os.access(p, os.X_OK):
            sys.exit("csv_bench: %s not built (meson compile -C %s)"
                     % (p, a.build_dir))
    if not os.path.exists(a.data):
        os.makedirs(os.path.dirname(a.data), exist_ok=True)
        print("generating %s (%d rows)..." % (a.data, a.rows), flush=True)
        subprocess.run([gen, a.data, str(a.rows), str(a.keys)], check=True)
    size = os.path.getsize(a.data)
    with open(a.data, "rb") as f:
        rows = sum(buf.count(b"\n") for buf in iter(lambda: f.read(1 << 24), b"")) - 1
    threads = [int(t) for t in a.threads.split(",")]

    try:
        import dask
        import dask.dataframe as dd
        import pandas as pd
        dask_note = "dask %s, pandas %s" % (dask.__version__, pd.__version__)
    except ImportError as e:
        dd = pd = None
        dask_note = "skipped: %s (apt-get install python3-dask python3-pandas)" % e

    ddir, duck_note = duckdb_dir(a.duckdb)

    times = {}
    cpus = {}
    means = {}

    def add(name, tc):
        times.setdefault(name, []).append(tc[0])
        cpus.setdefault(name, []).append(tc[1])

    def timed(fn):
        t0, c0 = time.perf_counter(), time.process_time()
        out = fn()
        return (time.perf_counter() - t0, time.process_time() - c0), out

    load0 = "%.2f %.2f %.2f" % os.getloadavg()
    sh_time("cat '%s' > /dev/null" % a.data)  # into the page cache
    for r in range(a.rounds):
        add("cat", sh_time("cat '%s' > /dev/null" % a.data))
        for t in threads:
            ts, m = weft_times(groupby, a.data, t, 3, a.chunk_mb)
            add("weft/%d" % t, sorted(ts)[len(ts) // 2])
            means["weft"] = m
        if ddir:
            for t in threads:
                ts, m = duckdb_times(ddir, a.data, t, 3)
                add("duckdb/%d" % t, sorted(ts)[len(ts) // 2])
                means["duckdb"] = m
        if dd is not None:
            for t in threads:
                tc, s = timed(lambda: dd.read_csv(a.data).groupby(
                    "key").x.mean().compute(scheduler="threads",
                                            num_workers=t))
                add("dask/%d" % t, tc)
                means["dask"] = s
            t = max(threads)
            tc, _ = timed(lambda: dd.read_csv(
                a.data, usecols=["key", "x"]).groupby("key").x.mean().compute(
                    scheduler="threads", num_workers=t))
            add("dask-uc/%d" % t, tc)
            if not a.no_pandas and r < 3:
                tc, _ = timed(lambda: pd.read_csv(a.data).groupby(
                    "key").x.mean())
                add("pandas/1", tc)
        print("round %d/%d done" % (r + 1, a.rounds), file=sys.stderr,
              flush=True)

    med = {k: statistics.median(v) for k, v in times.items()}
    medc = {k: statistics.median(v) for k, v in cpus.items()}
    cat_bps = size / med["cat"]
    res = {"file": a.data, "bytes": size, "rows": rows,
           "machine": "%s, %d CPUs" % (platform.processor() or
                                       platform.machine(), os.cpu_count()),
           "peers": dask_note, "rounds": a.rounds, "median_s": med,
           "median_cpu_s": medc, "all_s": times, "all_cpu_s": cpus}
    lines = ["| runtime | threads | median s | MB/s | M rows/s | vs dask "
             "| vs duckdb | of cat | CPU s | MB per CPU s |",
             "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: "
             "| ---: |"]
    for k in sorted(med, key=lambda k: (k.split("/")[0] != "cat",
                                        k.split("/")[0] != "weft", k)):
        name, _, th = k.partition("/")
        bps = size / med[k]
        vs = ["", ""]
        for i, peer in enumerate(("dask/", "duckdb/")):
            if name == "weft" and (peer + th) in med:
                vs[i] = "%.1fx" % (med[peer + th] / med[k])
        lines.append("| %s | %s | %.3f | %.0f | %.1f | %s | %s | %.0f%% "
                     "| %.2f | %.0f |" % (
                         name, th or "-", med[k], bps / 1e6,
                         rows / med[k] / 1e6, vs[0], vs[1],
                         100 * bps / cat_bps, medc[k],
                         size / 1e6 / max(medc[k], 1e-9)))
    w = means["weft"]
    for peer, label in (("dask", "Dask's"), ("duckdb", "DuckDB's")):
        if peer not in means:
            continue
        d = {int(k): float(v) for k, v in dict(means[peer]).items()}
        ok = set(w) == set(d)
        same = sum(1 for k in w if k in d and d[k] == w[k])
        worst = max((abs(d[k] - w[k]) / abs(d[k]) for k in w if k in d),
                    default=float("nan"))
        res.setdefault("means", {})[peer] = {
            "groups": len(w), "bit_identical": same, "max_rel_diff": worst,
            "same_keys": ok}
        lines.append("")
        lines.append("means: %d groups, same keys as %s: %s, %d "
                     "bit-identical, largest relative difference %.2g" % (
                         len(w), label, "yes" if ok else "NO", same, worst))
    lines.append("")
    res["duckdb"] = duck_note
    lines.append("%s; %s; %s; file %.0f MB, %d rows; median of %d rounds "
                 "(weft and duckdb: median of 3 computes per round); CPU s: "
                 "process CPU time, all threads; load average before the run "
                 "%s" % (res["machine"], dask_note, duck_note, size / 1e6,
                         rows, a.rounds, load0))
    table = "\n".join(lines)
    print(table)
    res["table"] = table
    if a.out:
        os.makedirs(os.path.dirname(a.out) or ".", exist_ok=True)
        with open(a.out, "w") as f:
            json.dump(res, f, indent=1, default=str)


if __name__ == "__main__":
    main()
