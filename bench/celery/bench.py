"""Celery workers compared through one private RabbitMQ: `weft worker` and
Celery's own worker (threads pool, prefork pool) on the same queue.

Throughput: the queue is filled with N `add` tasks first, then a worker is
started, and the time is taken from its first reply to its last one (the
reply queue is watched, not consumed), so neither the Python client's
publishing speed nor a worker's start-up sets the figure.
Latency: one `add.delay(1, 2).get()` round trip with the worker idle.

    /usr/bin/python3 bench/celery/bench.py --weft build/src/cli/weft \
        [--tasks 10000] [--rounds 3] [--concurrency 2] [--json out.json]
"""
import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tests", "celery"))
sys.path.insert(0, HERE)
from rabbit import Rabbit  # noqa: E402

QUEUE = "bench"
REPLIES = "bench-replies"


def count(conn, name):
    import kombu
    q = kombu.Queue(name, kombu.Exchange(name), routing_key=name,
                    channel=conn.default_channel)
    return q.queue_declare(passive=True).message_count


def declare(conn):
    import kombu
    for name in (QUEUE, REPLIES):
        q = kombu.Queue(name, kombu.Exchange(name), routing_key=name,
                        channel=conn.default_channel)
        q.declare()
        q.purge()


def fill(app, n):
    with app.producer_or_acquire() as producer:
        for i in range(n):
            app.send_task("app.add", args=[i, i], queue=QUEUE,
                          reply_to=REPLIES, producer=producer)


def worker_cmd(kind, args, url):
    if kind == "weft":
        return [args.weft, "worker", "--broker", url, "-Q", QUEUE,
                "-j", str(args.concurrency)] + args.weft_args.split()
    return ["/usr/bin/python3", "-m", "celery", "-A", "app", "worker",
            "-Q", QUEUE, "--pool", kind, "-c", str(args.concurrency),
            "-l", "warning"]  # defaults otherwise: without broker
    # heartbeats, the threads pool stalls for seconds at a time


def start(kind, args, url):
    env = dict(os.environ, CELERY_BROKER_URL=url)
    return subprocess.Popen(worker_cmd(kind, args, url), cwd=HERE, env=env,
                            stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL,
                            start_new_session=True)


def stop(p):
    try:
        os.killpg(p.pid, signal.SIGTERM)
        p.wait(timeout=60)
    except (subprocess.TimeoutExpired, ProcessLookupError):
        os.killpg(p.pid, signal.SIGKILL)
        p.wait()


def throughput(kind, args, rabbit, app, conn):
    declare(conn)
    fill(app, args.tasks)
    deadline = time.monotonic() + 60
    while count(conn, QUEUE) < args.tasks:  # the broker may lag a little
        if time.monotonic() > deadline:
            raise RuntimeError("the queue was not filled")
        time.sleep(0.05)
    p = start(kind, args, rabbit.url)
    t0 = t1 = None
    deadline = time.monotonic() + 600
    try:
        while time.monotonic() < deadline:
            n = count(conn, REPLIES)
            now = time.monotonic()
            if n and t0 is None:
                t0, n0 = now, n
            if n >= args.tasks:
                t1 = now
                break
            time.sleep(0.005)
    finally:
        stop(p)
    if t1 is None:
        raise RuntimeError("%s: replies did not all arrive" % kind)
    return (args.tasks - n0) / (t1 - t0)


def latency(kind, args, rabbit, app, conn, calls=200):
    declare(conn)
    p = start(kind, args, rabbit.url)
    try:
        app.send_task("app.add", args=[1, 2], queue=QUEUE).get(timeout=120)
        times = []
        for i in range(calls):
            t = time.perf_counter()
            r = app.send_task("app.add", args=[i, 1], queue=QUEUE)
            assert r.get(timeout=60) == i + 1
            times.append(time.perf_counter() - t)
    finally:
        stop(p)
    return statistics.median(times)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--weft", required=True)
    ap.add_argument("--tasks", type=int, default=10000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--concurrency", type=int, default=2)
    ap.add_argument("--kinds", default="weft,threads,prefork")
    ap.add_argument("--weft-args", default="",
                    help="more options for weft worker, e.g. --prefetch 64")
    ap.add_argument("--json")
    args = ap.parse_args()
    args.weft = os.path.abspath(args.weft)
    import kombu
    from celery import Celery
    results = {}
    with Rabbit() as rabbit:
        os.environ["CELERY_BROKER_URL"] = rabbit.url
        app = Celery("client", broker=rabbit.url, backend="rpc://")
        with kombu.Connection(rabbit.url) as conn:
            for kind in args.kinds.split(","):
                rates = [throughput(kind, args, rabbit, app, conn)
                         for _ in range(args.rounds)]
                lat = latency(kind, args, rabbit, app, conn)
                results[kind] = {"tasks_per_s": statistics.median(rates),
                                 "rounds": rates, "latency_ms": lat * 1e3}
                print("%-8s %8.0f tasks/s (median of %d: %s)  latency %.2f ms"
                      % (kind, results[kind]["tasks_per_s"], args.rounds,
                         ", ".join("%.0f" % r for r in rates), lat * 1e3),
                      flush=True)
        app.close()
    base = results.get("weft", {}).get("tasks_per_s")
    for kind, r in results.items():
        if base and kind != "weft":
            print("weft / %s: %.1fx" % (kind, base / r["tasks_per_s"]))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"tasks": args.tasks, "concurrency": args.concurrency,
                       "results": results}, f, indent=1)


if __name__ == "__main__":
    main()
