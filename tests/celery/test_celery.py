"""`weft worker` against the real Celery client (python3-celery) and a real
RabbitMQ: the seed's program, many tasks, errors, malformed messages, a
worker killed with -9, a broker restart, the canvas, timing options."""
import datetime
import json
import os
import random
import subprocess
import time
import uuid

import kombu
import pytest
from celery import chain, group
from celery.exceptions import (NotRegistered, SoftTimeLimitExceeded,
                               TaskRevokedError, TimeLimitExceeded)

from conftest import EXAMPLES


def send(app, name, args=(), queue=None, **kw):
    return app.send_task(name, args=list(args), queue=queue, **kw)


def test_seed_client(rabbit, start_worker):
    """The seed's two files, unchanged, against `weft worker`."""
    w = start_worker("-j", "2")
    env = dict(os.environ, CELERY_BROKER_URL=rabbit.url)
    out = subprocess.run(["/usr/bin/python3", "client.py"], cwd=EXAMPLES,
                         env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "Task result: 10"
    assert w.terminate() == 0, w.log()


def test_thousands_of_tasks(app, queue, start_worker):
    """Results match Python's on random operands of several types."""
    w = start_worker("-Q", queue, "-j", "2")
    rng = random.Random(14)
    cases = []
    for i in range(3000):
        kind = i % 4
        if kind == 0:
            a, b = rng.randint(-10**12, 10**12), rng.randint(-10**12, 10**12)
        elif kind == 1:
            a, b = rng.uniform(-1e6, 1e6), rng.randint(-100, 100)
        elif kind == 2:
            a, b = "x%d" % i, "y"
        else:
            a, b = [i, "s", None, [True]], [1.5]
        cases.append(((a, b), a + b))
    results = [send(app, "celery_app.add", args, queue) for args, _ in cases]
    for r, (args, want) in zip(results, cases):
        got = r.get(timeout=120)
        if isinstance(want, float):
            assert got == pytest.approx(want, rel=1e-12), args
        else:
            assert got == want, args
    # Other functions by name, and --task-less lookup of dotted names.
    assert send(app, "tasks.mul", (6, 7), queue).get(timeout=30) == 42
    assert send(app, "range", (3,), queue).get(timeout=30) == [0, 1, 2]
    assert w.terminate() == 0, w.log()


def test_task_errors(app, queue, start_worker):
    """Failures raise the exception types a Python worker's would."""
    w = start_worker("-Q", queue, "-j", "2", "--task", "my.plus=add")
    with pytest.raises(TypeError, match="not a number"):
        send(app, "m.add", ("a", 1), queue).get(timeout=30)
    with pytest.raises(ZeroDivisionError, match="by zero"):
        send(app, "m.div", (1, 0), queue).get(timeout=30)
    with pytest.raises(TypeError, match=r"add\(\) takes 2 positional "
                                        r"arguments but 1 was given"):
        send(app, "m.add", (1,), queue).get(timeout=30)
    with pytest.raises(TypeError, match="keyword argument"):
        app.send_task("m.add", kwargs={"x": 1, "y": 2},
                      queue=queue).get(timeout=30)
    with pytest.raises(TypeError, match="JSON object"):
        send(app, "m.add", ({"a": 1}, 2), queue).get(timeout=30)
    with pytest.raises(NotRegistered, match="no.such.task"):
        send(app, "no.such.task", (1,), queue).get(timeout=30)
    with pytest.raises(Exception, match="boom") as e:
        send(app, "m.fail", ("boom",), queue).get(timeout=30)
    assert type(e.value).__name__ == "TaskError"
    # --task maps a name to a function; the worker is still fine.
    assert send(app, "my.plus", (4, 6), queue).get(timeout=30) == 10
    assert w.terminate() == 0, w.log()


def _publish_raw(rabbit, queue, body, headers, content_type, reply_to,
                 task_id):
    with kombu.Connection(rabbit.url) as conn:
        producer = conn.Producer()
        producer.publish(body, exchange=queue, routing_key=queue,
                         headers=headers, content_type=content_type,
                         content_encoding="utf-8", correlation_id=task_id,
                         reply_to=reply_to, serializer=None,
                         declare=[kombu.Queue(queue, kombu.Exchange(queue),
                                              routing_key=queue)])


def _ready_messages(rabbit, queue):
    with kombu.Connection(rabbit.url) as conn:
        q = kombu.Queue(queue, kombu.Exchange(queue), routing_key=queue,
                        channel=conn.default_channel)
        return q.queue_declare(passive=True).message_count


def test_malformed_messages(app, rabbit, queue, start_worker):
    """Messages that can never run get a FAILURE (when they have an id) and
    are dropped: no loop, no crash, and the worker goes on."""
    w = start_worker("-Q", queue, "-j", "2")
    oid = app.backend.oid  # the client's reply queue
    cases = [
        (b"[[1, 2], {}, {", "application/json", "DecodeError"),
        (b'{"args": [1, 2]}', "application/json", "ValueError"),
        (b"[1, {}, {}]", "application/json", "ValueError"),
        (b"\x80\x04K\x01.", "application/x-python-serialize",
         "ContentDisallowed"),
    ]
    for body, ctype, exc_name in cases:
        tid = str(uuid.uuid4())
        r = app.AsyncResult(tid)
        app.backend.result_consumer.consume_from(tid)
        _publish_raw(rabbit, queue, body,
                     {"task": "m.add", "id": tid, "lang": "py"},
                     ctype, oid, tid)
        with pytest.raises(Exception) as e:
            r.get(timeout=30)
        assert type(e.value).__name__ == exc_name, (body, e.value)
    # No id at all: nothing to answer, just dropped.
    _publish_raw(rabbit, queue, b"garbage", {}, "application/json", "", "")
    assert send(app, "m.add", (4, 6), queue).get(timeout=30) == 10
    w.wait_for("refused", count=5)
    assert w.count("refused") == 5, w.log()  # each seen once: no redelivery
    assert _ready_messages(rabbit, queue) == 0
    assert w.terminate() == 0, w.log()


def test_kill_9_loses_nothing(app, queue, start_worker):
    """Late ack: tasks of a worker killed with -9 run on the next one."""
    w = start_worker("-Q", queue, "-j", "2", "--prefetch", "4")
    results = [send(app, "m.sleep_ms", (100, i), queue) for i in range(24)]
    # Kill it once some tasks are done and others are running.
    results[0].get(timeout=60)
    w.kill()
    w2 = start_worker("-Q", queue, "-j", "2")
    assert [r.get(timeout=120) for r in results] == list(range(24))
    assert w2.terminate() == 0, w2.log()


def test_broker_restart(rabbit, queue, start_worker):
    """The worker reconnects with backoff after the broker comes back."""
    from celery import Celery
    w = start_worker("-Q", queue, "-j", "2")
    a = Celery("before", broker=rabbit.url, backend="rpc://")
    assert send(a, "m.add", (1, 2), queue).get(timeout=30) == 3
    a.close()
    pid = w.proc.pid
    rabbit.restart()
    w.wait_for("connection lost")
    w.wait_for("ready:", count=2, timeout=120)
    b = Celery("after", broker=rabbit.url, backend="rpc://")
    assert send(b, "m.add", (2, 3), queue).get(timeout=60) == 5
    b.close()
    assert w.proc.pid == pid and w.proc.poll() is None
    assert w.terminate() == 0, w.log()


def test_chain_and_group(app, queue, start_worker):
    w = start_worker("-Q", queue, "-j", "2")
    add = app.signature("celery_app.add")
    c = chain(add.clone((1, 2)), add.clone((3,)), add.clone((4,)),
              app.signature("celery_app.mul", (10,)))
    r = c.apply_async(queue=queue)
    assert r.get(timeout=60) == 100           # ((1+2)+3+4)*10
    assert r.parent.get(timeout=60) == 10     # each step answered too
    g = group(add.clone((i, i)) for i in range(20))
    assert g.apply_async(queue=queue).get(timeout=60) == [
        2 * i for i in range(20)]
    # A step that fails ends the chain with its error.
    c = chain(add.clone((1, 2)), app.signature("celery_app.div", (0,)),
              add.clone((1,)))
    with pytest.raises(ZeroDivisionError):
        # div(3, 0): the result of a step is prepended to the next's args
        c.apply_async(queue=queue).parent.get(timeout=60)
    assert w.terminate() == 0, w.log()


def test_eta_expires_time_limit(app, queue, start_worker):
    w = start_worker("-Q", queue, "-j", "2", "--track-started")
    t0 = time.monotonic()
    r = send(app, "m.add", (1, 2), queue, countdown=1.5)
    assert r.get(timeout=60) == 3
    assert time.monotonic() - t0 >= 1.5  # never earlier than asked
    past = datetime.datetime.now(datetime.timezone.utc) - \
        datetime.timedelta(seconds=30)
    with pytest.raises(TaskRevokedError, match="expired"):
        send(app, "m.add", (1, 2), queue, expires=past).get(timeout=30)
    with pytest.raises(TimeLimitExceeded):
        send(app, "m.sleep_ms", (4000,), queue,
             time_limit=1).get(timeout=60)
    with pytest.raises(SoftTimeLimitExceeded):
        send(app, "m.sleep_ms", (2500,), queue, soft_time_limit=0.5,
             time_limit=30).get(timeout=60)
    # STARTED is sent when asked (--track-started). Polled from a fresh
    # client: the rpc backend's state poll (basic.get) does not see what an
    # earlier get() left its consumer holding.
    from celery import Celery
    fresh = Celery("fresh", broker=app.conf.broker_url, backend="rpc://")
    r = send(fresh, "m.sleep_ms", (1500, "done"), queue)
    seen = set()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and r.state != "SUCCESS":
        seen.add(r.state)
        time.sleep(0.05)
    assert "STARTED" in seen and r.get(timeout=10) == "done"
    fresh.close()
    assert w.terminate() == 0, w.log()


def test_warm_shutdown(app, rabbit, queue, start_worker):
    """SIGTERM: running tasks finish, their results are sent, exit 0."""
    w = start_worker("-Q", queue, "-j", "2", "--prefetch", "4")
    results = [send(app, "m.sleep_ms", (400, i), queue) for i in range(4)]
    deadline = time.monotonic() + 30
    while _ready_messages(rabbit, queue) and time.monotonic() < deadline:
        time.sleep(0.05)  # until the worker holds all four
    assert w.terminate() == 0, w.log()
    assert [r.get(timeout=30) for r in results] == [0, 1, 2, 3]


def test_idle_worker_keeps_its_connection(app, queue, start_worker):
    """Heartbeats flow while no task comes (1 s beats: the broker would
    drop a silent worker after 2 s)."""
    w = start_worker("-Q", queue, "-j", "1", "--heartbeat", "1")
    time.sleep(5)  # idle on purpose; nothing is timed
    assert send(app, "m.add", (2, 2), queue).get(timeout=30) == 4
    assert w.count("connection lost") == 0, w.log()
    assert w.terminate() == 0, w.log()


def test_cold_shutdown_loses_nothing(app, rabbit, queue, start_worker):
    """A second SIGTERM leaves at once (status 1); what ran unfinished is
    redelivered to the next worker."""
    import signal
    w = start_worker("-Q", queue, "-j", "1", "--prefetch", "1")
    r = send(app, "m.sleep_ms", (3000, "late"), queue)
    deadline = time.monotonic() + 30
    while _ready_messages(rabbit, queue) and time.monotonic() < deadline:
        time.sleep(0.05)  # until the worker holds it
    w.proc.send_signal(signal.SIGTERM)
    w.wait_for("warm shutdown")
    w.proc.send_signal(signal.SIGTERM)
    assert w.proc.wait(timeout=60) == 1
    w2 = start_worker("-Q", queue, "-j", "1")
    assert r.get(timeout=60) == "late"
    assert w2.terminate() == 0, w2.log()
