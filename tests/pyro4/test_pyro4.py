"""weft serve --pyro against the real Pyro4 client (python3-pyro4 4.82).

Each test starts its own `weft serve --pyro` on a free loopback port with
the example plugin (process_data), talks to it with unmodified Pyro4
proxies, and stops it with SIGTERM by process id: it must exit 0 and
report what it served.
"""
import os
import random
import select
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
import warnings

import Pyro4
import Pyro4.errors
import pytest

WEFT = os.environ.get("WEFT_EXE", "weft")
PLUGIN = os.environ.get("WEFT_PYRO4_PLUGIN", "")
ROOT = os.environ.get("WEFT_SOURCE_ROOT", ".")
PYTHON = "/usr/bin/python3"

Pyro4.config.COMMTIMEOUT = 60.0  # no test may hang on a socket


class Server:
    """A `weft serve --pyro` process and its URI."""

    def __init__(self, *extra):
        self.proc = subprocess.Popen(
            [WEFT, "serve", "--pyro", "--plugin", PLUGIN, "-j", "2"] + list(extra),
            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        line = b""
        deadline = time.monotonic() + 30
        while not line.endswith(b"\n"):
            left = deadline - time.monotonic()
            r, _, _ = select.select([self.proc.stdout], [], [], max(left, 0))
            if not r:
                self.proc.kill()
                raise AssertionError("weft serve printed no URI in 30 s")
            c = os.read(self.proc.stdout.fileno(), 1)
            if not c:
                err = self.proc.stderr.read().decode()
                raise AssertionError("weft serve exited: " + err)
            line += c
        text = line.decode().strip()
        assert text.startswith("URI: PYRO:"), text
        self.uri = text[len("URI: "):]
        self.host, port = self.uri.split("@")[1].rsplit(":", 1)
        self.port = int(port)
        self.stderr = ""

    def proxy(self, serializer=None, hmac=None):
        p = Pyro4.Proxy(self.uri)
        if serializer:
            p._pyroSerializer = serializer
        if hmac is not None:
            p._pyroHmacKey = hmac
        return p

    def stop(self):
        """SIGTERM; the server must exit 0 within 30 s."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError("weft serve did not stop on SIGTERM")
        self.stderr = self.proc.stderr.read().decode()
        self.proc.stdout.close()
        self.proc.stderr.close()
        assert rc == 0, "weft serve exited %d: %s" % (rc, self.stderr)
        return self.stderr


@pytest.fixture
def server():
    s = Server()
    yield s
    s.stop()


def test_seed_client(server):
    """The seed's client, unchanged, prints the seed's line."""
    out = subprocess.run(
        [PYTHON, os.path.join(ROOT, "examples", "pyro4", "client.py"), server.uri],
        capture_output=True, timeout=60, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout == "Processed data: Input Data\n"


def test_builtins_and_types(server):
    p = server.proxy()
    assert p.add(1, 2) == 3
    assert p.add("ab", "cd") == "abcd"
    assert p.div(1, 4) == 0.25
    assert p.identity(None) is None
    assert p.identity(True) is True
    assert p.identity(-2**63) == -2**63
    assert p.identity(1e300) == 1e300
    assert p.identity(float("inf")) == float("inf")
    nan = p.identity(float("nan"))
    assert nan != nan
    assert p.identity([1, [2.5, "x"], (3,)]) == [1, [2.5, "x"], [3]]
    assert p.identity("quotes ' \" \\ \n\t\x01 and ünïcødé ✓ 🙂") == \
        "quotes ' \" \\ \n\t\x01 and ünïcødé ✓ 🙂"
    # bytes travel as serpent's base64 dict, both ways
    import serpent
    assert serpent.tobytes(p.identity(b"\x00\xffbytes")) == b"\x00\xffbytes"
    assert p.len({1, 2, 3}) == 3
    assert p.range(5) == [0, 1, 2, 3, 4]


def test_threads(server):
    """8 client threads x 300 calls, each result checked."""
    errors = []

    def client(t):
        try:
            p = server.proxy()
            for i in range(300):
                arg = "t%d-%d-%s" % (t, i, "x" * random.randrange(50))
                got = p.process_data(arg)
                if got != "Processed data: " + arg:
                    errors.append((arg, got))
                if i % 50 == 0:
                    assert p.add(t, i) == t + i
        except Exception as e:  # reported below, not lost in the thread
            errors.append(repr(e))

    threads = [threading.Thread(target=client, args=(t,)) for t in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
        assert not t.is_alive(), "a client thread hangs"
    assert errors == []


def test_remote_errors(server):
    p = server.proxy()
    with pytest.raises(RuntimeError, match="process_data wants a str, got a int"):
        p.process_data(5)
    with pytest.raises(RuntimeError, match="boom here"):
        p.fail("boom here")
    with pytest.raises(RuntimeError, match="div"):
        p.div(1, 0)
    with pytest.raises(TypeError, match="process_data.. takes 1 arguments .2 given"):
        p.process_data("a", "b")
    with pytest.raises(TypeError, match="positional arguments only"):
        p.process_data(data="x")
    with pytest.raises(TypeError, match="no mapping type"):
        p.identity({"a": 1})
    with pytest.raises(Pyro4.errors.SerializeError, match="int64"):
        p.identity(2**70)
    # the connection stays usable after each error
    assert p.process_data("ok") == "Processed data: ok"


def test_unknown_methods(server):
    p = server.proxy()
    # the proxy knows the methods from the metadata: it raises locally
    with pytest.raises(AttributeError):
        p.no_such_method(1)
    # without metadata the call reaches weft, which answers AttributeError
    Pyro4.config.METADATA = False
    try:
        q = server.proxy()
        with pytest.raises(AttributeError, match="no_such_method"):
            q.no_such_method(1)
        assert q.process_data("x") == "Processed data: x"
    finally:
        Pyro4.config.METADATA = True
    with pytest.raises(Pyro4.errors.CommunicationError, match="unknown object"):
        Pyro4.Proxy("PYRO:nobody@%s:%d" % (server.host, server.port)).add(1, 2)
    d = Pyro4.Proxy("PYRO:Pyro.Daemon@%s:%d" % (server.host, server.port))
    assert d.ping() is None
    assert "process_data" in d.get_metadata("weft")["methods"]


def _header(msg_type, flags, seq, data_size, ser, ann=0, magic=b"PYRO", version=48):
    checksum = (msg_type + version + data_size + ann + ser + flags + seq + 0x34E9) & 0xFFFF
    return struct.pack("!4sHHHHiHHHH", magic, version, msg_type, flags, seq,
                       data_size, ser, ann, 0, checksum)


def _closed_by_server(sock, timeout=20):
    sock.settimeout(timeout)
    try:
        return sock.recv(100) == b""
    except ConnectionResetError:
        return True


def test_junk_closes_that_connection_only(server):
    p = server.proxy()
    assert p.add(1, 1) == 2
    cases = [
        b"GET / HTTP/1.1\r\nHost: x\r\n\r\n",
        bytes(random.Random(7).randrange(256) for _ in range(300)),
        _header(4, 0, 1, 10, 1, magic=b"PYRX"),
        _header(4, 0, 1, 10, 1, version=47),
        _header(4, 0, 1, 10, 1)[:-2] + b"\x00\x00",          # bad checksum
        _header(4, 0, 1, 0x7FFFFFFF, 1),                      # over the size limit
        _header(4, 0, 1, 5, 1) + b"hello",                    # invoke before connect
        _header(9, 0, 1, 0, 1),                               # no such message type
    ]
    for junk in cases:
        s = socket.create_connection((server.host, server.port), timeout=30)
        s.sendall(junk)
        assert _closed_by_server(s), junk[:40]
        s.close()
    # a half-sent header, then the client leaves
    s = socket.create_connection((server.host, server.port), timeout=30)
    s.sendall(_header(1, 0, 0, 100, 1)[:10])
    s.close()
    # a half-sent message that stays: other clients are still served
    stuck = socket.create_connection((server.host, server.port), timeout=30)
    stuck.sendall(_header(1, 0, 0, 100, 1) + b"# serpent")
    q = server.proxy()
    assert q.process_data("still") == "Processed data: still"
    assert p.add(2, 2) == 4
    stuck.close()
    # serpent the parser refuses: an error reply, the connection stays
    for payload in [b"(", b"('weft', 'add', (1, 2), {}) trailing", b"__import__('os')",
                    b"('weft', 'add', (1, 2j), {})", b"[" * 1000]:
        conn = socket.create_connection((server.host, server.port), timeout=30)
        hs = b"{'handshake': 'hello', 'object': 'weft'}"
        conn.sendall(_header(1, 16, 0, len(hs), 1) + hs)
        reply = _recv_msg(conn)
        assert reply[0] == 2, reply  # CONNECTOK
        conn.sendall(_header(4, 0, 1, len(payload), 1) + payload)
        typ, flags, seq, data = _recv_msg(conn)
        assert typ == 5 and flags & 1 and seq == 1, (typ, flags, data)
        assert b"SerializeError" in data, data
        conn.close()


def _recv_exact(sock, n):
    buf = b""
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        assert chunk, "connection closed"
        buf += chunk
    return buf


def _recv_msg(sock):
    h = _recv_exact(sock, 24)
    _, _, typ, flags, seq, size, _, ann, _, _ = struct.unpack("!4sHHHHiHHHH", h)
    _recv_exact(sock, ann)
    return typ, flags, seq, _recv_exact(sock, size)


def test_json_serializer(server):
    p = server.proxy(serializer="json")
    assert p.process_data("json") == "Processed data: json"
    assert p.add(1.5, 2) == 3.5
    assert p.identity([1, None, True, "ü"]) == [1, None, True, "ü"]
    with pytest.raises(RuntimeError, match="boom"):
        p.fail("boom")
    assert p.compute({"x": 2, "y": ["mul", "x", 21]}, "y") == 42
    Pyro4.config.SERIALIZER = "json"
    try:
        q = server.proxy()
        assert q.process_data("global json") == "Processed data: global json"
    finally:
        Pyro4.config.SERIALIZER = "serpent"


def test_oneway():
    s = Server("--oneway", "sleep_ms")
    try:
        p = s.proxy()
        p._pyroBind()
        assert "sleep_ms" in p._pyroOneway  # from weft's metadata
        for _ in range(20):
            assert p.sleep_ms(1) is None  # oneway: no answer
        q = s.proxy()
        q._pyroBind()
        q._pyroOneway.add("process_data")  # oneway chosen by the client
        for i in range(10):
            assert q.process_data("x%d" % i) is None
        assert q.add(1, 2) == 3
    finally:
        err = s.stop()
    assert "(30 oneway)" in err, err


def test_client_killed_mid_call(server):
    code = ("import Pyro4,sys; p=Pyro4.Proxy(sys.argv[1]); p._pyroBind(); "
            "print('calling', flush=True); p.sleep_ms(3000)")
    c = subprocess.Popen([PYTHON, "-c", code, server.uri], stdout=subprocess.PIPE)
    assert c.stdout.readline() == b"calling\n"
    time.sleep(0.3)  # let the call reach the server (not asserted on)
    c.kill()
    c.wait()
    c.stdout.close()
    p = server.proxy()
    assert p.process_data("after") == "Processed data: after"
    # a client that leaves while its call runs does not stop SIGTERM


def test_call_timeout():
    s = Server("--call-timeout", "0.3")
    try:
        p = s.proxy()
        with pytest.raises(TimeoutError, match="longer than 0.3 s"):
            p.sleep_ms(2000)
        assert p.add(2, 3) == 5  # the connection still serves
    finally:
        s.stop()


def test_graph_method(server):
    p = server.proxy()
    graph = '{"graph": {"x": 1, "y": ["add", "x", 2], "z": ["mul", "y", "y"]}, "targets": ["z"]}'
    assert p.compute(graph) == {"z": 9}
    assert p.compute(graph, ["y", "z"]) == [3, 9]
    assert p.compute(graph, "y") == 3
    assert p.compute(graph_json=graph, targets="z") == 9
    assert p.compute({"a": ("range", 4), "b": ("sum", "a")}, "b") == 6
    # many independent keys, compared with a sequential reference
    rnd = random.Random(11)
    dsk = {}
    ref = {}
    for i in range(200):
        if i < 10 or rnd.random() < 0.3:
            v = rnd.randrange(100)
            dsk["k%d" % i] = v
            ref["k%d" % i] = v
        else:
            a, b = rnd.sample(range(i), 2)
            dsk["k%d" % i] = ("add", "k%d" % a, "k%d" % b)
            ref["k%d" % i] = ref["k%d" % a] + ref["k%d" % b]
    keys = sorted(dsk)
    assert p.compute(dsk, keys) == [ref[k] for k in keys]
    with pytest.raises(ValueError, match="frobnicate"):
        p.compute('{"graph": {"x": ["frobnicate", 1]}}', "x")
    with pytest.raises(ValueError):
        p.compute("{not json", "x")
    with pytest.raises(RuntimeError, match="task 'y' failed"):
        p.compute({"x": 0, "y": ("div", 1, "x")}, "y")


def test_hmac(tmp_path):
    keyfile = tmp_path / "key"
    keyfile.write_bytes(b"sesame\n")
    try:
        s = Server("--hmac-key-file", str(keyfile))
    except AssertionError as e:
        if "libcrypto" in str(e):  # built without libssl-dev
            pytest.skip(str(e))
        raise
    try:
        assert s.proxy(hmac=b"sesame").process_data("signed") == "Processed data: signed"
        with pytest.raises(Pyro4.errors.PyroError):
            s.proxy(hmac=b"wrong").process_data("x")
        with pytest.raises(Pyro4.errors.PyroError):
            s.proxy().process_data("x")
        p = s.proxy(hmac=b"sesame", serializer="json")
        assert p.process_data("signed json") == "Processed data: signed json"
    finally:
        s.stop()
    # a key on the client only is refused too
    s = Server()
    try:
        with pytest.raises(Pyro4.errors.PyroError):
            s.proxy(hmac=b"sesame").process_data("x")
        assert s.proxy().process_data("plain") == "Processed data: plain"
    finally:
        s.stop()


def test_usage_errors():
    def run(*args):
        return subprocess.run([WEFT, "serve"] + list(args), capture_output=True,
                              text=True, timeout=60)
    r = run()
    assert r.returncode == 2 and "--pyro" in r.stderr
    r = run("--pyro", "--port", "70000")
    assert r.returncode == 2 and "--port" in r.stderr
    r = run("--pyro", "--oneway", "nope")
    assert r.returncode == 2 and "nope" in r.stderr
    r = run("--pyro", "--hmac-key-file", "/nonexistent/key")
    assert r.returncode == 2 and "/nonexistent/key" in r.stderr
    r = run("--help")
    assert r.returncode == 0 and "URI: PYRO:" in r.stdout
    # a port in use: a clear error, exit 1
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        r = run("--pyro", "--port", str(taken.getsockname()[1]))
        assert r.returncode == 1 and "cannot listen" in r.stderr


def _as_weft(v):
    """What a Python literal becomes after a round trip through weft."""
    if isinstance(v, (list, tuple, set, frozenset)):
        return [_as_weft(x) for x in v]
    return v


def test_serpent_parser_agrees_with_python(server):
    """Literal texts sent raw as identity()'s argument come back as
    Python's ast.literal_eval reads them."""
    import ast
    import serpent
    texts = [
        "0x1F", "0o17", "0b101", "1_000_000", ".5", "5.", "1e10", "-0.0", "+3",
        "- 7", "9223372036854775807", "-9223372036854775808", "1e30000",
        "r'raw\\n'", "u'uni'", "'a' 'b' \"c\"", "'''tri\nple'''",
        "\"\\u00e9\\U0001F642\\101\\x41\\0\\n\\t\\\\\\'\"", "'\\q'",
        "'line\\\njoin'", "[1, (2,), {3}, (), [], {}]".replace("{}", "()"),
        "(1, 2,)", "[1, 2,]", "((((1))))", "# c\n[ 1 , # c\n 2 ]",
        "'ünï ✓ 🙂'", "True", "None", "[False, -1.5e-300]",
    ]
    conn = socket.create_connection((server.host, server.port), timeout=30)
    hs = b"{'handshake': 'hello', 'object': 'weft'}"
    conn.sendall(_header(1, 16, 0, len(hs), 1) + hs)
    assert _recv_msg(conn)[0] == 2
    for seq, text in enumerate(texts, 1):
        data = ("('weft', 'identity', (%s,), {})" % text).encode()
        conn.sendall(_header(4, 0, seq, len(data), 1) + data)
        typ, flags, rseq, reply = _recv_msg(conn)
        assert (typ, flags, rseq) == (5, 0, seq), (text, reply)
        got = serpent.loads(reply)
        with warnings.catch_warnings():  # '\\q' is deprecated, still valid
            warnings.simplefilter("ignore", DeprecationWarning)
            want = _as_weft(ast.literal_eval(text))
        assert got == want or (got != got and want != want), (text, got, want)
    conn.close()


def test_limits():
    """--max-calls 1: calls wait their turn, unread, and all complete;
    --max-connections 3: a fourth connection is closed at once."""
    s = Server("--max-calls", "1", "--max-connections", "3")
    try:
        proxies = [s.proxy() for _ in range(3)]
        results = {}

        def client(i):
            results[i] = [proxies[i].sleep_ms(50, "%d-%d" % (i, k)) for k in range(3)]

        threads = [threading.Thread(target=client, args=(i,)) for i in range(3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
            assert not t.is_alive()
        assert results == {i: ["%d-%d" % (i, k) for k in range(3)] for i in range(3)}
        with pytest.raises(Pyro4.errors.CommunicationError):
            s.proxy().add(1, 2)
        assert proxies[1].add(2, 3) == 5
    finally:
        s.stop()


def test_idle_timeout():
    """A half-sent message left there loses its connection (without
    --idle-timeout the server would wait 30 s, past the socket timeout)."""
    s = Server("--idle-timeout", "0.5")
    try:
        stuck = socket.create_connection((s.host, s.port), timeout=20)
        stuck.sendall(_header(1, 0, 0, 100, 1)[:7])
        assert _closed_by_server(stuck)
        stuck.close()
        assert s.proxy().add(2, 3) == 5
    finally:
        s.stop()


def test_compressed_requests(server):
    """Pyro4's COMPRESSION: requests over 200 bytes come zlib-compressed."""
    Pyro4.config.COMPRESSION = True
    try:
        for ser in ("serpent", "json"):
            p = server.proxy(serializer=ser)
            big = "compress me " * 200
            assert p.process_data(big) == "Processed data: " + big
            dsk = {"k%d" % i: ("add", i, 1) for i in range(100)}
            assert p.compute(dsk, ["k7", "k99"]) == [8, 100]
            assert p.add(1, 2) == 3  # a small one, sent plain
    finally:
        Pyro4.config.COMPRESSION = False
    # data that is not zlib, flagged compressed: an error answer
    conn = socket.create_connection((server.host, server.port), timeout=30)
    hs = b"{'handshake': 'hello', 'object': 'weft'}"
    conn.sendall(_header(1, 16, 0, len(hs), 1) + hs)
    assert _recv_msg(conn)[0] == 2
    junk = b"not zlib at all"
    conn.sendall(_header(4, 2, 1, len(junk), 1) + junk)
    typ, flags, seq, data = _recv_msg(conn)
    assert typ == 5 and flags & 1 and seq == 1 and b"compressed" in data, data
    conn.close()
