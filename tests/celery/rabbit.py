"""A private RabbitMQ for tests and benchmarks: its own node name, ports,
port mapper (epmd), data and logs, all in a temporary directory, stopped by
process group. Nothing outside the directory is touched, so several can run
at once and none disturbs a system broker.

    with Rabbit() as r:
        r.url        # amqp://guest:guest@127.0.0.1:PORT//
        r.restart()  # stop and start again on the same data and port

Needs rabbitmq-server (Debian). As root, the broker runs as the rabbitmq user
(as Debian's wrapper does) with its Erlang cookie; as anyone else, as that
user, with a cookie of its own in the directory. missing() says what is
missing, if anything.
"""
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time

SERVER = "/usr/lib/rabbitmq/bin/rabbitmq-server"


def missing():
    """Why a broker cannot be started here, or None."""
    if not os.path.exists(SERVER):
        return "rabbitmq-server is not installed (apt-get install rabbitmq-server)"
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("rabbitmq")
        except KeyError:
            return "there is no rabbitmq user (reinstall rabbitmq-server)"
    return None


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_open(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


class Rabbit:
    def __init__(self, start_timeout=90):
        self.dir = tempfile.mkdtemp(prefix="weft-rabbit-")
        self.port = free_port()
        self.dist_port = free_port()
        self.epmd_port = free_port()
        self.node = "weft%d@localhost" % self.port
        self.timeout = start_timeout
        self.proc = None
        self.root = os.geteuid() == 0
        if self.root:
            user = pwd.getpwnam("rabbitmq")
            self.uid, self.gid = user.pw_uid, user.pw_gid
        else:
            self.uid, self.gid = os.geteuid(), os.getegid()
        for sub in ("mnesia", "log"):
            os.makedirs(os.path.join(self.dir, sub))
        with open(os.path.join(self.dir, "enabled_plugins"), "w") as f:
            f.write("[].\n")
        for root, dirs, files in os.walk(self.dir):
            for n in [root] + [os.path.join(root, x) for x in files]:
                os.chown(n, self.uid, self.gid)
        self.env = dict(
            os.environ,
            # The Erlang cookie: the system's, or a new one of our own.
            HOME="/var/lib/rabbitmq" if self.root else self.dir,
            RABBITMQ_NODENAME=self.node,
            RABBITMQ_NODE_IP_ADDRESS="127.0.0.1",
            RABBITMQ_NODE_PORT=str(self.port),
            RABBITMQ_DIST_PORT=str(self.dist_port),
            ERL_EPMD_PORT=str(self.epmd_port),
            ERL_EPMD_ADDRESS="127.0.0.1",
            RABBITMQ_MNESIA_BASE=os.path.join(self.dir, "mnesia"),
            RABBITMQ_LOG_BASE=os.path.join(self.dir, "log"),
            RABBITMQ_PID_FILE=os.path.join(self.dir, "rabbit.pid"),
            RABBITMQ_ENABLED_PLUGINS_FILE=os.path.join(self.dir, "enabled_plugins"),
            RABBITMQ_CONFIG_FILES=os.path.join(self.dir, "none.d"),
        )
        self.url = "amqp://guest:guest@127.0.0.1:%d//" % self.port

    def _as_rabbitmq(self):
        if self.root:
            os.setgid(self.gid)
            os.setuid(self.uid)

    def start(self):
        out = open(os.path.join(self.dir, "server.out"), "ab")
        # A session of its own: stop() kills the whole group (the shell
        # script, beam and its helpers), never anything by name.
        self.proc = subprocess.Popen(
            [SERVER], env=self.env, cwd=self.dir, stdout=out,
            stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            preexec_fn=self._as_rabbitmq, start_new_session=True)
        out.close()
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("rabbitmq-server exited (%s); see %s"
                                   % (self.proc.returncode, self.log_tail()))
            if port_open(self.port) and self._amqp_ok():
                return self
            time.sleep(0.2)
        self.stop()
        raise RuntimeError("rabbitmq-server did not start in %ds: %s"
                           % (self.timeout, self.log_tail()))

    def _amqp_ok(self):
        import amqp
        try:
            c = amqp.Connection("127.0.0.1:%d" % self.port, connect_timeout=2)
            c.connect()
            c.close()
            return True
        except Exception:
            return False

    def log_tail(self):
        try:
            with open(os.path.join(self.dir, "server.out"), "rb") as f:
                return f.read()[-2000:].decode(errors="replace")
        except OSError:
            return "(no log)"

    def stop(self):
        """Stops the broker cleanly (SIGTERM to its group), then for sure."""
        if self.proc is None:
            return
        pgid = self.proc.pid
        try:
            os.killpg(pgid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            pass
        # beam may outlive the shell script that started it.
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                os.killpg(pgid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.2)
        else:
            try:
                os.killpg(pgid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.proc = None

    def restart(self):
        self.stop()
        return self.start()

    def close(self):
        self.stop()
        # Our own port mapper (ERL_EPMD_PORT), started by the broker.
        subprocess.run(["epmd", "-port", str(self.epmd_port), "-kill"],
                       env=self.env, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, timeout=10)
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.close()


if __name__ == "__main__":
    why = missing()
    if why:
        raise SystemExit(why)
    t = time.monotonic()
    with Rabbit() as r:
        print("up at", r.url, "in %.1fs" % (time.monotonic() - t))
