"""Fixtures of the Celery suite: one private RabbitMQ for the whole run (it
takes seconds to start), and `weft worker` processes started per test, each
on a queue of its own so tests cannot see each other's messages."""
import os
import signal
import subprocess
import sys
import threading
import time
import uuid

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from rabbit import Rabbit  # noqa: E402

WEFT = os.environ.get("WEFT", "weft")
EXAMPLES = os.environ.get("WEFT_CELERY_EXAMPLES",
                          os.path.join(HERE, "..", "..", "examples", "celery"))


class Worker:
    """A `weft worker` process; its stderr is collected line by line."""

    def __init__(self, url, *args, env=None):
        self.lines = []
        self.cond = threading.Condition()
        self.proc = subprocess.Popen(
            [WEFT, "worker", "--broker", url] + list(args),
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL, env=env, text=True)
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for line in self.proc.stderr:
            with self.cond:
                self.lines.append(line.rstrip("\n"))
                self.cond.notify_all()
        with self.cond:
            self.cond.notify_all()

    def wait_for(self, text, timeout=60, count=1):
        """Waits until `count` lines contain `text`; fails on timeout."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while sum(text in l for l in self.lines) < count:
                left = deadline - time.monotonic()
                if left <= 0 or (self.proc.poll() is not None and
                                 not self.reader.is_alive()):
                    raise AssertionError("worker never said %r; it said:\n%s"
                                         % (text, self.log()))
                self.cond.wait(min(left, 0.5))

    def log(self):
        with self.cond:
            return "\n".join(self.lines)

    def count(self, text):
        with self.cond:
            return sum(text in l for l in self.lines)

    def terminate(self, timeout=60):
        """Warm shutdown; returns the exit code."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        rc = self.proc.wait(timeout=timeout)
        self.reader.join(timeout=10)
        return rc

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(timeout=30)
        self.reader.join(timeout=10)


@pytest.fixture(scope="session")
def rabbit():
    r = Rabbit()
    r.start()
    yield r
    r.close()


@pytest.fixture
def queue():
    return "weft-test-" + uuid.uuid4().hex[:8]


@pytest.fixture
def start_worker(rabbit):
    started = []

    def start(*args, ready=True):
        w = Worker(rabbit.url, *args)
        started.append(w)
        if ready:
            w.wait_for("ready:")
        return w

    yield start
    for w in started:
        w.kill()


@pytest.fixture
def app(rabbit):
    from celery import Celery
    a = Celery("weft_test", broker=rabbit.url, backend="rpc://")
    a.conf.broker_connection_retry = True
    yield a
    a.close()
