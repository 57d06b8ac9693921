"""What the `zguard gate` integration tests share (tests/test_gate_*.py):
keys made by `zguard keygen`, the gate as a real child process whose log
lines and metrics the tests wait on, and pyzmq peers (the services behind
the gate and the clients in front of it).

Not a test itself: each tests/test_gate_*.py is run by CTest as
    python3 tests/test_gate_X.py PATH/TO/zguard [unittest arguments]

Rules every test here follows:
- every wait is for an event, with a bounded timeout: a log line of the gate
  (wait_log), a metric reaching a value (wait_metric), a socket becoming
  readable (recv_within), a process exiting; a short sleep appears only
  inside such a bounded polling loop;
- every child process is killed on every path (Gate.close, ChildPeer.close,
  run from tearDown / addCleanup);
- ports come from the kernel: the gate binds tcp://127.0.0.1:* and its
  "gate: ready:" line gives the port; a metrics port is one the kernel just
  handed out (retried once if someone else took it meanwhile).
"""
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.error
import urllib.request

import zmq
import zmq.auth
from prometheus_client.parser import text_string_to_metric_families

HERE = os.path.dirname(os.path.abspath(__file__))
PEERS = os.path.join(HERE, "peers")
PYTHON = sys.executable  # CTest runs these files with ${ZG_PYTHON}

ZGUARD = None  # set by main() from the command line

# Short policy values so that the whole set runs in seconds: a handshake
# must finish in 1 s, a dead peer is found in 1 s, a stop lingers 1 s.
FAST_POLICY = """version = 1
[defaults]
handshake_ivl = 1s
heartbeat_ivl = 200ms
heartbeat_ttl = 1s
heartbeat_timeout = 1s
linger = 1s
reconnect_ivl = 20ms
reconnect_ivl_max = 200ms
"""

# Slow machines (sanitizers, a busy core) get more time for every bound
# that is not the thing under test.
SLACK = float(os.environ.get("ZG_TEST_SLACK", "1"))


def main():
    """Entry point of a test file: argv[1] is the zguard binary."""
    global ZGUARD
    if len(sys.argv) < 2 or not os.access(sys.argv[1], os.X_OK):
        print("usage: %s PATH/TO/zguard [unittest args]" % sys.argv[0])
        sys.exit(2)
    ZGUARD = os.path.abspath(sys.argv[1])
    unittest.main(argv=[sys.argv[0]] + sys.argv[2:], verbosity=2)


# ---- keys ------------------------------------------------------------------


def keygen(directory, name, passphrase_file=None, meta=()):
    """`zguard keygen NAME`: returns (public file, secret file)."""
    args = [ZGUARD, "keygen", name, "--dir", directory]
    if passphrase_file:
        args += ["--passphrase-file", passphrase_file, "--cost", "interactive"]
    else:
        args += ["--no-passphrase"]
    for m in meta:
        args += ["--meta", m]
    r = subprocess.run(args, capture_output=True, text=True, timeout=30)
    if r.returncode != 0:
        raise RuntimeError("keygen %s: %s%s" % (name, r.stdout, r.stderr))
    public = os.path.join(directory, name + ".key")
    return public, public + "_secret"


def write_file(path, text, mode=0o644):
    """Written whole, then renamed into place: a watcher never sees half."""
    tmp = os.path.join(os.path.dirname(path), "." + os.path.basename(path) + ".tmp")
    with open(tmp, "w") as f:
        f.write(text)
    os.chmod(tmp, mode)
    os.rename(tmp, path)


def allow(allow_dir, public_file):
    """Puts a public certificate in the allowlist (hidden name, then rename:
    the authenticator ignores hidden files)."""
    with open(public_file) as f:
        write_file(os.path.join(allow_dir, os.path.basename(public_file)), f.read())


class Keys:
    """A directory of key pairs: the gate's, and clients' by name."""

    def __init__(self, directory):
        self.dir = directory
        os.makedirs(directory, exist_ok=True)
        self.pairs = {}

    def get(self, name):
        if name not in self.pairs:
            self.pairs[name] = keygen(self.dir, name)
        return self.pairs[name]

    def public(self, name):
        return self.get(name)[0]

    def secret(self, name):
        return self.get(name)[1]


# ---- the gate ------------------------------------------------------------------


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Gate:
    """`zguard gate ARGS` as a child process. Its standard error is read by
    a thread into self.lines, so tests wait for lines with a deadline."""

    READY = re.compile(r"gate: ready: (\w+)(?: client mode)?, frontend (\S+) \(")
    STOPPED = re.compile(r"gate: stopped: (\d+) messages to the backend, (\d+) "
                         r"to the frontend, (\d+) dropped, (\d+) unanswered")

    def __init__(self, args, metrics=True, env=None, preexec_fn=None,
                 close_fds=True):
        self.args = list(args)
        self.metrics_port = None
        self.proc = None
        self.lines = []
        self.cond = threading.Condition()
        self.reader = None
        self.frontend = None
        self.env = env
        self.preexec_fn = preexec_fn
        self.close_fds = close_fds  # False: fds set up by preexec_fn stay
        self.want_metrics = metrics
        self.exit_code = None

    # -- starting and stopping --

    def start(self, ready_timeout=10):
        for attempt in range(3):
            args = [ZGUARD, "gate"] + self.args
            if self.want_metrics:
                self.metrics_port = free_port()
                args += ["--metrics", "127.0.0.1:%d" % self.metrics_port]
            self._spawn(args)
            m = self.wait_log(self.READY, ready_timeout, fail=False)
            if m:
                self.frontend = m.group(2)
                if self.want_metrics:
                    self._wait_metrics_up(ready_timeout)
                return self
            rc = self.wait_exit(ready_timeout)
            text = self.text()
            if (rc is not None and "metrics: cannot listen" in text
                    and "Address already in use" in text and attempt < 2):
                continue  # another process took the port we were handed
            raise AssertionError("the gate did not start (exit %s):\n%s" % (rc, text))
        raise AssertionError("unreachable")

    def _spawn(self, args):
        self.lines = []
        self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE, env=self.env,
                                     preexec_fn=self.preexec_fn,
                                     close_fds=self.close_fds)
        self.exit_code = None
        self.reader = threading.Thread(target=self._read, args=(self.proc,),
                                       daemon=True)
        self.reader.start()

    def _read(self, proc):
        for raw in proc.stderr:
            line = raw.decode(errors="replace").rstrip("\n")
            with self.cond:
                self.lines.append(line)
                self.cond.notify_all()
        with self.cond:
            self.lines.append(None)  # end of output
            self.cond.notify_all()

    def _wait_metrics_up(self, timeout):
        deadline = time.monotonic() + timeout
        while True:
            try:
                self.metrics_text()
                return
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.02)

    @property
    def pid(self):
        return self.proc.pid

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def signal(self, sig):
        self.proc.send_signal(sig)

    def wait_exit(self, timeout):
        """The exit status, or None if still running after timeout."""
        try:
            self.exit_code = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None
        if self.reader:
            self.reader.join(timeout=5)
        return self.exit_code

    def stop(self, timeout=10):
        """SIGTERM; returns (exit status, seconds it took)."""
        t0 = time.monotonic()
        self.signal(signal.SIGTERM)
        rc = self.wait_exit(timeout)
        return rc, time.monotonic() - t0

    def close(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)
        if self.reader:
            self.reader.join(timeout=5)
        if self.proc and self.proc.stderr:
            self.proc.stderr.close()

    # -- its log --

    def text(self):
        with self.cond:
            return "\n".join(line for line in self.lines if line is not None)

    def count_log(self, pattern):
        rx = re.compile(pattern) if isinstance(pattern, str) else pattern
        with self.cond:
            return sum(1 for line in self.lines if line is not None and rx.search(line))

    def wait_log(self, pattern, timeout, count=1, fail=True):
        """The count-th line matching pattern (a regex), within timeout."""
        rx = re.compile(pattern) if isinstance(pattern, str) else pattern
        deadline = time.monotonic() + timeout * SLACK
        with self.cond:
            while True:
                seen = 0
                for line in self.lines:
                    if line is None:
                        continue
                    m = rx.search(line)
                    if m:
                        seen += 1
                        if seen >= count:
                            return m
                left = deadline - time.monotonic()
                ended = self.lines and self.lines[-1] is None
                if left <= 0 or ended:
                    break
                self.cond.wait(left)
        if fail:
            raise AssertionError("no %d line(s) matching /%s/ in the gate's log "
                                 "within %.1fs:\n%s" % (count, rx.pattern, timeout,
                                                         self.text()))
        return None

    def stopped_counts(self):
        """The final line: (to backend, to frontend, dropped, unanswered)."""
        m = self.wait_log(self.STOPPED, 5)
        return tuple(int(x) for x in m.groups())

    # -- its metrics --

    def metrics_text(self):
        url = "http://127.0.0.1:%d/metrics" % self.metrics_port
        with urllib.request.urlopen(url, timeout=5) as r:
            return r.read().decode()

    def metrics(self):
        """{(sample name, frozenset of labels): value}, by the real
        Prometheus parser."""
        out = {}
        for fam in text_string_to_metric_families(self.metrics_text()):
            for s in fam.samples:
                out[(s.name, frozenset(s.labels.items()))] = s.value
        return out

    def status(self):
        """/status: (HTTP code, the JSON it answered)."""
        url = "http://127.0.0.1:%d/status" % self.metrics_port
        try:
            with urllib.request.urlopen(url, timeout=5) as r:
                return r.status, json.loads(r.read())
        except urllib.error.HTTPError as e:
            with e:
                return e.code, json.loads(e.read())

    def wait_status(self, code, timeout):
        """Polls /status until it answers code; returns its JSON."""
        deadline = time.monotonic() + timeout * SLACK
        while True:
            got, body = self.status()
            if got == code:
                return body
            if time.monotonic() > deadline:
                raise AssertionError("/status answered %d, not %d, for %.1fs: "
                                     "%r; log:\n%s" % (got, code, timeout, body,
                                                       self.text()))
            time.sleep(0.02)

    def metric(self, name, **labels):
        """The sum of every sample of name whose labels include these."""
        want = set(labels.items())
        return sum(v for (n, lab), v in self.metrics().items()
                   if n == name and want <= lab)

    def wait_metric(self, name, at_least, timeout, **labels):
        deadline = time.monotonic() + timeout * SLACK
        while True:
            v = self.metric(name, **labels)
            if v >= at_least:
                return v
            if time.monotonic() > deadline:
                raise AssertionError("%s%s is %s, not >= %s within %.1fs; log:\n%s"
                                     % (name, labels, v, at_least, timeout,
                                        self.text()))
            time.sleep(0.02)

    # -- its process --

    def forwarder_pid(self):
        """The process that forwards: the supervisor's child, or the gate
        itself with --no-supervise."""
        with open("/proc/%d/task/%d/children" % (self.pid, self.pid)) as f:
            children = f.read().split()
        return int(children[0]) if children else self.pid

    def rss_kb(self):
        """Of the forwarding process, where the queues are."""
        with open("/proc/%d/status" % self.forwarder_pid()) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        raise AssertionError("no VmRSS for the gate")


# ---- peers --------------------------------------------------------------------


def curve_client(ctx, kind, endpoint, client_secret, server_public, **opts):
    """A pyzmq socket speaking CURVE to endpoint, pinning server_public; keys
    read from certificate files with zmq.auth (pyzmq's own reader)."""
    public, secret = zmq.auth.load_certificate(client_secret)
    server, _ = zmq.auth.load_certificate(server_public)
    s = ctx.socket(kind)
    s.linger = 0
    s.curve_publickey = public
    s.curve_secretkey = secret
    s.curve_serverkey = server
    for k, v in opts.items():
        setattr(s, k, v)
    s.connect(endpoint)
    return s


def plain_socket(ctx, kind, bind=None, connect=None, **opts):
    s = ctx.socket(kind)
    s.linger = 0
    for k, v in opts.items():
        setattr(s, k, v)
    if bind:
        s.bind(bind)
    if connect:
        s.connect(connect)
    return s


def recv_within(sock, timeout):
    """One whole message (list of frames) or None if none within timeout."""
    if sock.poll(int(timeout * 1000 * SLACK)):
        return sock.recv_multipart()
    return None


def drain(sock, quiet=0.1):
    """Every message that arrives until none has for `quiet` seconds."""
    got = []
    while sock.poll(int(quiet * 1000)):
        got.append(sock.recv_multipart())
    return got


class ChildPeer:
    """A pyzmq peer of tests/peers/ as a separate process: its first line of
    output says it is ready; later lines are read on demand."""

    def __init__(self, script, *args):
        self.proc = subprocess.Popen([PYTHON, os.path.join(PEERS, script)] + list(args),
                                     stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True)
        self.lines = []
        self.cond = threading.Condition()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for line in self.proc.stdout:
            with self.cond:
                self.lines.append(line.rstrip("\n"))
                self.cond.notify_all()
        with self.cond:
            self.lines.append(None)
            self.cond.notify_all()

    def wait_line(self, prefix, timeout):
        deadline = time.monotonic() + timeout * SLACK
        with self.cond:
            while True:
                for line in self.lines:
                    if line is not None and line.startswith(prefix):
                        return line
                left = deadline - time.monotonic()
                if left <= 0 or (self.lines and self.lines[-1] is None):
                    raise AssertionError("peer %s: no line '%s...' within %.1fs; "
                                         "output %r, stderr follows\n%s"
                                         % (self.proc.args, prefix, timeout,
                                            self.lines, self._stderr()))
                self.cond.wait(left)

    def _stderr(self):
        if self.proc.poll() is None:
            return "(still running)"
        return self.proc.stderr.read()

    def signal(self, sig):
        self.proc.send_signal(sig)

    def close(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(timeout=10)
        self.reader.join(timeout=5)
        self.proc.stdout.close()
        self.proc.stderr.close()


class Relay:
    """A TCP relay that keeps every byte it forwards, both ways."""

    def __init__(self, upstream_port):
        self.upstream = upstream_port
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(8)
        self.port = self.listener.getsockname()[1]
        self.seen = bytearray()
        self.lock = threading.Lock()
        self.cond = threading.Condition(self.lock)
        self.socks = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                down, _ = self.listener.accept()
            except OSError:
                return
            up = socket.create_connection(("127.0.0.1", self.upstream))
            self.socks += [down, up]
            for a, b in ((down, up), (up, down)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    def _pump(self, src, dst):
        while True:
            try:
                data = src.recv(65536)
            except OSError:
                data = b""
            if not data:
                for s in (src, dst):
                    try:
                        s.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass
                return
            with self.cond:
                self.seen += data
                self.cond.notify_all()
            try:
                dst.sendall(data)
            except OSError:
                return

    def wait_bytes(self, n, timeout):
        with self.cond:
            return self.cond.wait_for(lambda: len(self.seen) >= n, timeout)

    def close(self):
        self.listener.close()
        for s in self.socks:
            s.close()


# ---- a test case with a temporary directory, keys and cleanup ------------------


class GateTest(unittest.TestCase):
    """Each test: a fresh directory (keys, allowlist, ipc endpoint), a pyzmq
    context, and every gate and peer it started killed at the end."""

    @classmethod
    def setUpClass(cls):
        # key pairs are made once per file: keygen is the slow part
        cls.class_dir = tempfile.mkdtemp(prefix="zg-gate-")
        cls.keys = Keys(os.path.join(cls.class_dir, "keys"))

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.class_dir, ignore_errors=True)

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="t-", dir=self.class_dir)
        self.allow_dir = os.path.join(self.dir, "allow")
        os.mkdir(self.allow_dir)
        self.backend = "ipc://%s/svc.sock" % self.dir
        self.ctx = zmq.Context()
        self.gates = []
        self.peers = []
        self.socks = []  # kept referenced: closed in _cleanup, not by the GC
        self.addCleanup(self._cleanup)
        self.t0 = time.monotonic()
        self.addCleanup(lambda: print("[%.2fs] " % (time.monotonic() - self.t0),
                                      end="", file=sys.stderr, flush=True))

    def _cleanup(self):
        for g in self.gates:
            g.close()
        for p in self.peers:
            p.close()
        for s in self.socks:
            s.close(linger=0)
        self.ctx.destroy(linger=0)

    def policy_file(self, text=FAST_POLICY, name="tuning.policy"):
        path = os.path.join(self.dir, name)
        write_file(path, text)
        return path

    def gate(self, pattern, allowed=("alice",), policy=FAST_POLICY, extra=(),
             server_key=None, start=True, **kw):
        """A gate in front of self.backend with the given clients allowed."""
        for name in allowed:
            allow(self.allow_dir, self.keys.public(name))
        args = ["--pattern", pattern, "--frontend", "tcp://127.0.0.1:*",
                "--backend", self.backend,
                "--server-key", server_key or self.keys.public("gate"),
                "--allow", self.allow_dir]
        if policy:
            args += ["--policy", self.policy_file(policy)]
        args += list(extra)
        g = Gate(args, **kw)
        self.gates.append(g)
        if start:
            g.start()
        return g

    def listening(self, reuseport=False):
        """A listening TCP socket of the test's, closed at the end."""
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if reuseport:  # a .socket unit's ReusePort=yes
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        s.bind(("127.0.0.1", 0))
        s.listen(16)
        self.addCleanup(s.close)
        return s

    def activated(self, sock, frontend, nfds="1", server_key=None):
        """The gate with sock as fd 3 and LISTEN_* for its own pid (systemd
        socket activation; LISTEN_PID set in the child: its pid is the gate's)."""
        def preexec():
            os.dup2(sock.fileno(), 3)
            os.set_inheritable(3, True)
            os.environ["LISTEN_PID"] = str(os.getpid())
            os.environ["LISTEN_FDS"] = nfds
            os.environ["LISTEN_FDNAMES"] = "frontend"
        allow(self.allow_dir, self.keys.public("alice"))
        g = Gate(["--pattern", "reqrep", "--frontend", frontend,
                  "--backend", self.backend,
                  "--server-key", server_key or self.keys.public("gate"),
                  "--allow", self.allow_dir,
                  "--policy", self.policy_file()],
                 preexec_fn=preexec, close_fds=False)
        self.gates.append(g)
        return g

    def client(self, kind, gate, name="alice", server=None, **opts):
        """A CURVE client of the gate, as the named key pair."""
        s = curve_client(self.ctx, kind, gate.frontend, self.keys.secret(name),
                         server or self.keys.public("gate"), **opts)
        self.socks.append(s)
        return s

    def service(self, kind, **opts):
        """The plaintext service behind the gate, bound at self.backend."""
        s = plain_socket(self.ctx, kind, bind=self.backend, **opts)
        self.socks.append(s)
        return s

    def socket(self, kind, **opts):
        """Any other pyzmq socket of this test (plain unless set up)."""
        s = plain_socket(self.ctx, kind, **opts)
        self.socks.append(s)
        return s

    def start_service(self, kind, **kw):
        """A Service thread bound at self.backend, stopped at the end."""
        svc = Service(self.ctx, kind, self.backend, **kw)
        svc.start()
        svc.ready.wait(5)
        if svc.error:
            raise svc.error
        self.addCleanup(svc.stop)
        return svc

    def peer(self, script, *args):
        p = ChildPeer(script, *args)
        self.peers.append(p)
        return p


def echo_once(service, timeout=5):
    """A REP or ROUTER service answers one request: 're:' + each body frame."""
    msg = recv_within(service, timeout)
    if msg is None:
        return None
    if service.type == zmq.ROUTER:
        i = msg.index(b"")
        service.send_multipart(msg[:i + 1] + [b"re:" + f for f in msg[i + 1:]])
        return msg[i + 1:]
    service.send_multipart([b"re:" + f for f in msg])
    return msg


def wait_until(fn, timeout, what, interval=0.01):
    deadline = time.monotonic() + timeout * SLACK
    while True:
        v = fn()
        if v:
            return v
        if time.monotonic() > deadline:
            raise AssertionError("not within %.1fs: %s" % (timeout, what))
        time.sleep(interval)


class Service(threading.Thread):
    """The plaintext service behind the gate, on a thread of the test
    process (its socket lives and dies on that thread). kind: REP or ROUTER
    (answers 're:' + each body frame, or a reply of reply_size bytes), or
    PULL (only counts). delay: seconds it spends on each message (a slow
    service), before answering it.

    Everything it receives is kept in self.got (body frames, without the
    routing envelope); pause() makes it stop reading (a stuck service),
    resume() starts it again."""

    def __init__(self, ctx, kind, endpoint, reply_size=None, delay=0.0, **opts):
        super().__init__(daemon=True)
        self.ctx, self.kind, self.endpoint = ctx, kind, endpoint
        self.reply_size, self.delay, self.opts = reply_size, delay, opts
        self.got = []
        self.lock = threading.Lock()
        self.changed = threading.Condition(self.lock)
        self.running = threading.Event()
        self.running.set()
        self.done = threading.Event()
        self.ready = threading.Event()
        self.error = None

    def run(self):
        try:
            sock = plain_socket(self.ctx, self.kind, bind=self.endpoint, **self.opts)
        except Exception as e:  # noqa: BLE001 - reported by start_service
            self.error = e
            self.ready.set()
            return
        self.ready.set()
        try:
            while not self.done.is_set():
                if not self.running.is_set():
                    self.running.wait(0.05)
                    continue
                if not sock.poll(20):
                    continue
                msg = sock.recv_multipart()
                env, body = [], msg
                if self.kind == zmq.ROUTER:
                    i = msg.index(b"")
                    env, body = msg[:i + 1], msg[i + 1:]
                with self.lock:
                    self.got.append(body)
                    self.changed.notify_all()
                if self.delay:
                    time.sleep(self.delay)  # the service's own pace, not sync
                if self.kind in (zmq.REP, zmq.ROUTER):
                    reply = ([b"x" * self.reply_size] if self.reply_size is not None
                             else [b"re:" + f for f in body])
                    sock.send_multipart(env + reply)
        finally:
            sock.close(linger=0)

    def pause(self):
        self.running.clear()

    def resume(self):
        self.running.set()

    def stop(self):
        self.done.set()
        self.running.set()
        self.join(timeout=5)

    def count(self):
        with self.lock:
            return len(self.got)

    def messages(self):
        with self.lock:
            return list(self.got)

    def wait_count(self, n, timeout):
        """Waits until n messages arrived; returns how many did."""
        deadline = time.monotonic() + timeout * SLACK
        with self.lock:
            while len(self.got) < n:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self.changed.wait(left)
            return len(self.got)


def sanitizer_runtime(program):
    """The ASan runtime a sanitized build of program links, or None. It
    must come first of all libraries: in a program that does not link it
    (python3), and before libzguard-preload.so under `zguard run`, which
    keeps a runtime already in LD_PRELOAD in front."""
    out = subprocess.run(["ldd", program], capture_output=True, text=True).stdout
    for line in out.splitlines():
        if "libasan.so" in line and "=>" in line:
            return line.split("=>")[1].split()[0]
    return None
