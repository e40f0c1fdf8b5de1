"""Calls per second and latency of one Pyro4 method, served by
`weft serve --pyro` and by Python's own Pyro4 daemon, in one run.

    /usr/bin/python3 bench/pyro4/bench_pyro4.py WEFT_EXE PLUGIN.so \
        [--load PYRO_LOAD] [--seconds S] [--clients 1,8] [--threads N] \
        [--json OUT]

Both servers expose process_data(data) -> "Processed data: " + data (the
seed's object: examples/pyro4/server.py for Python, the example plugin for
weft). For each server and each client count, the clients call it for S
seconds: as threads of one Python process (Pyro4 proxies, what the issue
asks; Python's GIL then caps the clients), as that many Python processes,
and, with --load, as threads of pyro_load (bench/pyro4/pyro_load.c, a C
Pyro4 client: the servers' own limit shows). Each call is timed on the
client; the table gives calls/s over all clients, the median and 99th
percentile latency, the weft/Python throughput ratio, and the CPU time
the server process spent per call (all its threads, from /proc): on a
shared machine the throughput follows the CPU share the scheduler gives
each server's threads, the CPU per call does not. The clients' own CPU
(in cores: 1.0 is one core busy all the time) shows when the clients, not
the server, set the pace: Python threads of one process share one GIL and
so never use much more than one core.
"""
import argparse
import json
import multiprocessing
import os
import resource
import select
import signal
import statistics
import subprocess
import sys
import threading
import time

import Pyro4

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
ARG = "Input Data"


def start(cmd):
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    line = b""
    deadline = time.monotonic() + 30
    while not line.endswith(b"\n"):
        r, _, _ = select.select([proc.stdout], [], [], max(deadline - time.monotonic(), 0))
        if not r:
            proc.kill()
            sys.exit("no URI from " + " ".join(cmd))
        c = os.read(proc.stdout.fileno(), 1)
        if not c:
            sys.exit("server exited: " + " ".join(cmd))
        line += c
    return proc, line.decode().split("URI:")[1].strip()


def cpu_seconds(pid):
    """User + system CPU time of a process, all its threads."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def stop(proc):
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def client_loop(uri, seconds, out):
    """Calls until the time is up; appends each call's latency (s)."""
    p = Pyro4.Proxy(uri)
    want = "Processed data: " + ARG
    assert p.process_data(ARG) == want  # connect and warm up
    end = time.perf_counter() + seconds
    lat = []
    while True:
        t0 = time.perf_counter()
        if t0 >= end:
            break
        r = p.process_data(ARG)
        lat.append(time.perf_counter() - t0)
        if r != want:
            raise AssertionError(r)
    p._pyroRelease()
    out.extend(lat)


def proc_main(uri, seconds, q):
    lat = []
    client_loop(uri, seconds, lat)
    q.put(lat)


def run_c_load(load, uri, nclients, seconds):
    obj, hostport = uri[len("PYRO:"):].split("@")
    host, port = hostport.rsplit(":", 1)
    out = subprocess.run([load, host, port, obj, str(nclients), str(seconds)],
                         capture_output=True, text=True, timeout=seconds + 120)
    if out.returncode != 0:
        sys.exit("pyro_load failed: " + out.stderr + out.stdout)
    r = json.loads(out.stdout)
    r["mean_us"] = 1e6 * nclients / r["calls_per_s"] if r["calls_per_s"] else 0
    r["wall_s"] = seconds
    return r


def clients_cpu():
    """CPU seconds of this process (its client threads) and of its waited-for
    children (client processes, pyro_load); the servers are waited for only
    after their run, so they are not in it."""
    s = resource.getrusage(resource.RUSAGE_SELF)
    c = resource.getrusage(resource.RUSAGE_CHILDREN)
    return s.ru_utime + s.ru_stime + c.ru_utime + c.ru_stime


def run_load(uri, nclients, seconds, kind, load=None):
    cpu0 = clients_cpu()
    r = run_clients(uri, nclients, seconds, kind, load)
    r["client_cores"] = (clients_cpu() - cpu0) / r["wall_s"]
    return r


def run_clients(uri, nclients, seconds, kind, load):
    if kind == "c":
        return run_c_load(load, uri, nclients, seconds)
    lat = []
    t0 = time.perf_counter()
    if kind == "threads":
        parts = [[] for _ in range(nclients)]
        ts = [threading.Thread(target=client_loop, args=(uri, seconds, parts[i]))
              for i in range(nclients)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        for part in parts:
            lat.extend(part)
    else:
        ctx = multiprocessing.get_context("fork")
        q = ctx.Queue()
        ps = [ctx.Process(target=proc_main, args=(uri, seconds, q)) for _ in range(nclients)]
        for p in ps:
            p.start()
        for _ in ps:
            lat.extend(q.get(timeout=seconds + 60))
        for p in ps:
            p.join()
    wall = time.perf_counter() - t0
    lat.sort()
    return {
        "calls": len(lat),
        "calls_per_s": len(lat) / seconds,
        "p50_us": lat[len(lat) // 2] * 1e6 if lat else 0,
        "p99_us": lat[int(len(lat) * 0.99)] * 1e6 if lat else 0,
        "mean_us": statistics.fmean(lat) * 1e6 if lat else 0,
        "wall_s": wall,
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("weft")
    ap.add_argument("plugin")
    ap.add_argument("--load", help="pyro_load, the C client (build-dir/bench/pyro4/pyro_load)")
    ap.add_argument("--seconds", type=float, default=5.0)
    ap.add_argument("--clients", default="1,8")
    ap.add_argument("--threads", type=int, default=0, help="weft -j (0: its default, one per core but one)")
    ap.add_argument("--json", help="write the figures here too")
    a = ap.parse_args()
    counts = [int(x) for x in a.clients.split(",")]
    servers = {
        "weft": [a.weft, "serve", "--pyro", "--plugin", a.plugin, "-j", str(a.threads)] if a.threads else [a.weft, "serve", "--pyro", "--plugin", a.plugin],
        "python": ["/usr/bin/python3", os.path.join(ROOT, "examples", "pyro4", "server.py")],
    }
    kinds = ("threads", "procs") + (("c",) if a.load else ())
    names = {"threads": "Python threads", "procs": "Python processes", "c": "C threads (pyro_load)"}
    rows = []
    for kind in kinds:
        for n in counts:
            for name, cmd in servers.items():
                proc, uri = start(cmd)
                try:
                    cpu0 = cpu_seconds(proc.pid)
                    r = run_load(uri, n, a.seconds, kind, a.load)
                    cpu = cpu_seconds(proc.pid) - cpu0
                finally:
                    stop(proc)
                r["server_cpu_us_per_call"] = cpu / r["calls"] * 1e6 if r["calls"] else 0
                r.update(server=name, clients=n, kind=kind)
                rows.append(r)
                print("%-6s %2d client %-7s %8.0f calls/s  p50 %6.0f us  p99 %6.0f us  server CPU %5.1f us/call  clients %.2f cores" % (
                    name, n, kind, r["calls_per_s"], r["p50_us"], r["p99_us"],
                    r["server_cpu_us_per_call"], r["client_cores"]), flush=True)
    print()
    print("| clients | client | weft calls/s | Python calls/s | ratio | weft p50 / p99 (us) | Python p50 / p99 (us) | server CPU per call, weft / Python (us) | clients' CPU, weft / Python (cores) |")
    print("|---|---|---|---|---|---|---|---|---|")
    for kind in kinds:
        for n in counts:
            w = next(r for r in rows if r["server"] == "weft" and r["clients"] == n and r["kind"] == kind)
            p = next(r for r in rows if r["server"] == "python" and r["clients"] == n and r["kind"] == kind)
            print("| %d | %s | %.0f | %.0f | %.2fx | %.0f / %.0f | %.0f / %.0f | %.1f / %.1f | %.2f / %.2f |" % (
                n, names[kind], w["calls_per_s"], p["calls_per_s"],
                w["calls_per_s"] / p["calls_per_s"], w["p50_us"], w["p99_us"], p["p50_us"], p["p99_us"],
                w["server_cpu_us_per_call"], p["server_cpu_us_per_call"],
                w["client_cores"], p["client_cores"]))
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"cpus": os.cpu_count(), "seconds": a.seconds,
                       "load_before": os.getloadavg(), "rows": rows}, f, indent=1)


if __name__ == "__main__":
    main()
