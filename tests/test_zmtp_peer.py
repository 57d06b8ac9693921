"""zguard-zmtp-peer (tools/zmtp_peer.c, tools/zmtp.c) against real libzmq
peers (pyzmq): the attacker of issue 14 must itself be right before a test
may believe what it shows. Each test checks what the libzmq side saw: the
message delivered intact, the key the ZAP handler was shown, the address a
connection came from, the memory of a receiver.

Run by CTest as
    python3 tests/test_zmtp_peer.py PATH/TO/zguard-zmtp-peer [unittest args]

Every wait is bounded and waits for an event (a message, a ZAP request, a
line of the peer's progress, a process's exit); the RSS check polls the
receiver's /proc status within a bound.
"""
import json
import os
import queue
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import unittest

import zmq
import zmq.auth
import zmq.utils.monitor
import zmq.utils.z85

HERE = os.path.dirname(os.path.abspath(__file__))
PEERS = os.path.join(HERE, "peers")
PYTHON = sys.executable
PEER = None  # set by main() from the command line
SLACK = float(os.environ.get("ZG_TEST_SLACK", "1"))
TIMEOUT = 30 * SLACK


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError(f"no VmRSS for {pid}")


def established_peers(port):
    """Remote IPv4 addresses of the ESTABLISHED sockets whose local port is
    port (the server side of its connections), from /proc/net/tcp."""
    peers = []
    with open("/proc/net/tcp") as f:
        next(f)
        for line in f:
            fields = line.split()
            local, remote, state = fields[1], fields[2], fields[3]
            if state != "01" or int(local.split(":")[1], 16) != port:
                continue
            ip = bytes.fromhex(remote.split(":")[0])[::-1]
            peers.append(".".join(str(b) for b in ip))
    return peers


class Peer:
    """zguard-zmtp-peer as a child process: its stderr lines are collected
    as they come, its JSON line read when it ends."""

    def __init__(self, *args):
        self.proc = subprocess.Popen([PEER, *args], stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True)
        self.lines = queue.Queue()
        self.stderr = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.proc.stderr:
            self.stderr.append(line)
            self.lines.put(line)

    def wait_line(self, text, timeout=TIMEOUT):
        end = time.monotonic() + timeout
        while True:
            try:
                line = self.lines.get(timeout=max(0.0, end - time.monotonic()))
            except queue.Empty:
                raise AssertionError(f"no '{text}' from the peer in {timeout} s: "
                                     f"{''.join(self.stderr)}")
            if text in line:
                return line

    def result(self, timeout=TIMEOUT):
        out, _ = self.proc.communicate(timeout=timeout)
        lines = out.splitlines()
        if len(lines) != 1:
            raise AssertionError(f"not one JSON line: {out!r} "
                                 f"(stderr: {''.join(self.stderr)})")
        return self.proc.returncode, json.loads(lines[0])

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.communicate()


def run_peer(*args, timeout=TIMEOUT):
    p = Peer(*args)
    try:
        return p.result(timeout)
    finally:
        p.kill()


class ZapHandler:
    """A ZAP handler (RFC 27) in the test's context: records each request's
    address, mechanism and key, and allows what `allow` says; a CURVE
    client's User-Id is its Z85 key."""

    def __init__(self, ctx, allow):
        self.sock = ctx.socket(zmq.REP)
        self.sock.linger = 0
        self.sock.bind("inproc://zeromq.zap.01")
        self.allow = allow
        self.requests = queue.Queue()
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        poller = zmq.Poller()
        poller.register(self.sock, zmq.POLLIN)
        while not self.stopping.is_set():
            if not poller.poll(50):
                continue
            frames = self.sock.recv_multipart()
            version, rid, _domain, address, _ident, mech = frames[:6]
            key = frames[6] if mech == b"CURVE" else b""
            self.requests.put((address.decode(), mech.decode(), key))
            ok = self.allow(key)
            user = zmq.utils.z85.encode(key) if key else b""
            self.sock.send_multipart([version, rid, b"200" if ok else b"400",
                                      b"OK" if ok else b"denied", user, b""])

    def take(self, n):
        got = []
        for _ in range(n):
            got.append(self.requests.get(timeout=TIMEOUT))
        return got

    def close(self):
        self.stopping.set()
        self.thread.join()
        self.sock.close()


class ZmtpPeerTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="zmtp-peer-")
        pub, sec = zmq.auth.create_certificates(cls.dir, "server")
        cls.server_pub, cls.server_sec = zmq.auth.load_certificate(sec)
        cls.server_key_file = pub
        pub, sec = zmq.auth.create_certificates(cls.dir, "client")
        os.chmod(sec, 0o600)  # pyzmq writes it world-readable; zguard refuses that
        cls.client_pub, _ = zmq.auth.load_certificate(pub)
        cls.client_key_file = sec
        cls.other_pub, _ = zmq.curve_keypair()

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.dir)

    def setUp(self):
        self.ctx = zmq.Context()
        self.zap = None
        self.sockets = []  # closed here, not by the garbage collector
        self.addCleanup(self._close)

    def _close(self):
        if self.zap:
            self.zap.close()
        for s in self.sockets:
            s.close(linger=0)
        self.ctx.term()

    def server(self, kind, curve=False, allow=None, **opts):
        """A libzmq socket bound on 127.0.0.1: its port. allow (a function
        of the client key) installs a ZAP handler that decides."""
        if allow is not None and not self.zap:
            self.zap = ZapHandler(self.ctx, allow)
        s = self.ctx.socket(kind)
        self.sockets.append(s)
        s.linger = 0
        s.rcvtimeo = int(TIMEOUT * 1000)
        if allow is not None:
            s.zap_domain = b"test"
        if curve:
            s.curve_secretkey = self.server_sec
            s.curve_publickey = self.server_pub
            s.curve_server = True
        for name, value in opts.items():
            setattr(s, name, value)
        port = s.bind_to_random_port("tcp://127.0.0.1")
        return s, f"tcp://127.0.0.1:{port}"

    # ---- the command line ------------------------------------------------

    def test_help_and_usage_errors(self):
        out = subprocess.run([PEER, "--help"], capture_output=True, text=True)
        self.assertEqual(out.returncode, 0)
        for word in ("stream", "connections", "handshakes", "send", "--source",
                     "--server-key", "MORE", "Exit status"):
            self.assertIn(word, out.stdout)
        for args, why in (
                (["flood", "--endpoint", "tcp://127.0.0.1:1"], "unknown mode 'flood'"),
                (["send", "--frame", "x"], "send needs --endpoint"),
                (["send", "--endpoint", "tcp://127.0.0.1:1", "--frames", "3"],
                 "--frames does not apply to send"),
                (["stream", "--endpoint", "tcp://127.0.0.1:1", "--size", "-1"],
                 "--size wants a whole number"),
                (["stream", "--endpoint", "udp://127.0.0.1:1"],
                 "not tcp://HOST:PORT or ipc://PATH"),
                (["connections", "--endpoint", "tcp://127.0.0.1:1",
                  "--source", "::1"], "not an IPv4 address"),
                (["send", "--endpoint", "tcp://127.0.0.1:1", "--frame", "x",
                  "--type", "PUSHY"], "not a ZMTP socket type")):
            out = subprocess.run([PEER, *args], capture_output=True, text=True)
            self.assertEqual(out.returncode, 2, args)
            self.assertIn(why, out.stderr, args)
            self.assertEqual(out.stdout, "", args)

    def test_local_failures_exit_1(self):
        missing = os.path.join(self.dir, "nobody.key_secret")
        out = subprocess.run([PEER, "send", "--endpoint", "tcp://127.0.0.1:1",
                              "--frame", "x", "--server-key", self.server_key_file,
                              "--key", missing], capture_output=True, text=True)
        self.assertEqual(out.returncode, 1)
        self.assertIn("nobody.key", out.stderr)
        # a port nobody listens on: nothing could be measured
        with socket_port() as port:
            rc, r = run_peer("send", "--endpoint", f"tcp://127.0.0.1:{port}",
                             "--frame", "x")
        self.assertEqual(rc, 1)
        self.assertEqual(r["handshake"], "connect_failed")
        self.assertFalse(r["sent"])

    # ---- send: the positive control --------------------------------------

    def test_null_send_multipart_intact(self):
        s, ep = self.server(zmq.PULL)
        rc, r = run_peer("send", "--endpoint", ep, "--frame", "hello",
                         "--frame-bytes", "70000", "--frame", "", "--frame", "world")
        self.assertEqual(rc, 0, r)
        self.assertEqual((r["handshake"], r["peer_socket_type"], r["sent"]),
                         ("ready", "PULL", True))
        long_frame = bytes(ord("a") + i % 26 for i in range(70000))
        self.assertEqual(s.recv_multipart(), [b"hello", long_frame, b"", b"world"])

    def test_null_send_over_ipc(self):
        s = self.ctx.socket(zmq.PULL)
        self.sockets.append(s)
        s.rcvtimeo = int(TIMEOUT * 1000)
        ep = "ipc://" + os.path.join(self.dir, "pull.ipc")
        s.bind(ep)
        rc, r = run_peer("send", "--endpoint", ep, "--frame", "over", "--frame", "ipc")
        self.assertEqual((rc, r["handshake"]), (0, "ready"), r)
        self.assertEqual(s.recv_multipart(), [b"over", b"ipc"])

    def test_null_dealer_identity_and_reply(self):
        s, ep = self.server(zmq.ROUTER)
        p = Peer("send", "--endpoint", ep, "--type", "DEALER", "--identity",
                 "peer-7", "--frame", "ping", "--reply")
        try:
            ident, body = s.recv_multipart()
            self.assertEqual((ident, body), (b"peer-7", b"ping"))
            s.send_multipart([ident, b"pong", b"x" * 300])
            rc, r = p.result()
        finally:
            p.kill()
        self.assertEqual(rc, 0)
        self.assertEqual(r["reply"], ["pong", "x" * 300])

    def test_curve_send_with_allowed_key(self):
        allowed = self.client_pub
        s, ep = self.server(zmq.PULL, curve=True,
                            allow=lambda key: zmq.utils.z85.encode(key) == allowed)
        rc, r = run_peer("send", "--endpoint", ep, "--server-key",
                         self.server_key_file, "--key", self.client_key_file,
                         "--frame", "one", "--frame-bytes", "1000", "--frame", "three")
        self.assertEqual(rc, 0, r)
        self.assertEqual((r["handshake"], r["client_key"]), ("ready", "given"))
        frames = s.recv_multipart(copy=False)
        self.assertEqual([f.bytes for f in frames],
                         [b"one", bytes(ord("a") + i % 26 for i in range(1000)),
                          b"three"])
        # the key the ZAP handler allowed is the one read from the file
        self.assertEqual(frames[0].get("User-Id"), allowed.decode())
        address, mech, _ = self.zap.take(1)[0]
        self.assertEqual((address, mech), ("127.0.0.1", "CURVE"))

    def test_curve_req_reply_and_finished_stream(self):
        # REQ/REP over CURVE: the server's MESSAGE boxes open here too
        s, ep = self.server(zmq.REP, curve=True)
        p = Peer("send", "--endpoint", ep, "--server-key",
                 self.server_pub.decode(), "--type", "REQ", "--frame", "a",
                 "--frame", "b", "--reply")
        try:
            self.assertEqual(s.recv_multipart(), [b"a", b"b"])
            s.send_multipart([b"re", b"a" * 5000])
            rc, r = p.result()
        finally:
            p.kill()
        self.assertEqual((rc, r["reply"]), (0, ["re", "a" * 5000]))
        # stream --finish: --frames N frames, the last without MORE
        s2, ep2 = self.server(zmq.PULL, curve=True)
        rc, r = run_peer("stream", "--endpoint", ep2, "--server-key",
                         self.server_key_file, "--frames", "5", "--size", "300",
                         "--finish")
        self.assertEqual((rc, r["ended"], r["frames_sent"]), (0, "frames", 5))
        self.assertEqual(s2.recv_multipart(), [b"z" * 300] * 5)

    def test_curve_wrong_server_key_fails_handshake(self):
        s, ep = self.server(zmq.PULL, curve=True)
        events = s.get_monitor_socket(zmq.EVENT_HANDSHAKE_FAILED_PROTOCOL)
        self.sockets.insert(0, events)
        rc, r = run_peer("send", "--endpoint", ep, "--server-key",
                         self.other_pub.decode(), "--frame", "x")
        self.assertEqual(rc, 0, r)  # a refusal is a result
        self.assertIn(r["handshake"], ("closed", "reset"))
        self.assertFalse(r["sent"])
        events.rcvtimeo = int(TIMEOUT * 1000)
        ev = zmq.utils.monitor.recv_monitor_message(events)
        self.assertEqual(ev["event"], zmq.EVENT_HANDSHAKE_FAILED_PROTOCOL)
        self.assertEqual(ev["value"], zmq.PROTOCOL_ERROR_ZMTP_CRYPTOGRAPHIC)
        s.rcvtimeo = 200
        self.assertRaises(zmq.Again, s.recv)

    # ---- handshakes ------------------------------------------------------

    def test_handshakes_with_fresh_keys_denied_then_allowed(self):
        verdict = {"allow": False}
        s, ep = self.server(zmq.PULL, curve=True,
                            allow=lambda key: verdict["allow"])
        rc, r = run_peer("handshakes", "--endpoint", ep, "--server-key",
                         self.server_key_file, "--count", "20")
        self.assertEqual(rc, 0, r)
        self.assertEqual(r["attempts"], 20)
        self.assertEqual(r["outcomes"]["error"], 20, r)
        self.assertEqual(r["reasons"], {"400": 20})
        self.assertEqual(r["outcomes"]["ready"], 0)
        keys = {key for _, _, key in self.zap.take(20)}
        self.assertEqual(len(keys), 20)  # a fresh client key every time
        verdict["allow"] = True
        rc, r = run_peer("handshakes", "--endpoint", ep, "--server-key",
                         self.server_key_file, "--count", "20", "--key",
                         self.client_key_file)
        self.assertEqual((rc, r["outcomes"]["ready"], r["client_key"]),
                         (0, 20, "given"), r)
        self.assertGreater(r["rate"], 0)
        keys = {key for _, _, key in self.zap.take(20)}
        self.assertEqual(keys, {zmq.utils.z85.decode(self.client_pub)})

    # ---- stream: the attack of issue 14 ----------------------------------

    def test_stream_grows_a_pull_with_rcvhwm_1(self):
        frames, size = 20000, 10240
        sink = subprocess.Popen([PYTHON, os.path.join(PEERS, "pull_sink.py"), "1"],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                text=True)
        self.addCleanup(lambda: (sink.kill(), sink.communicate()))
        port = int(sink.stdout.readline().split()[1])
        before = rss_kib(sink.pid)
        p = Peer("stream", "--endpoint", f"tcp://127.0.0.1:{port}",
                 "--frames", str(frames), "--size", str(size), "--hold", "60")
        self.addCleanup(p.kill)
        p.wait_line("holding the connection")
        # RCVHWM=1 lets one message queue; one frame is 10 KiB. The receiver
        # reads the whole unfinished message all the same: at least half of
        # what was streamed must show in its memory.
        want = before + frames * size // 2 // 1024
        end = time.monotonic() + TIMEOUT
        while rss_kib(sink.pid) < want and time.monotonic() < end:
            time.sleep(0.05)
        grown = rss_kib(sink.pid)
        self.assertGreaterEqual(grown, want,
                                f"receiver RSS {before} -> {grown} KiB")
        p.proc.send_signal(signal.SIGTERM)
        rc, r = p.result()
        self.assertEqual(rc, 0)
        self.assertEqual((r["ended"], r["frames_sent"]), ("frames", frames))
        self.assertGreater(r["bytes_sent"], frames * size)
        self.assertFalse(r["closed_during_hold"])
        sys.stderr.write(f"receiver RSS {before} -> {grown} KiB after "
                         f"{r['bytes_sent']} bytes in {r['seconds']:.2f} s\n")

    def test_stream_cut_by_the_peer_is_reported(self):
        # MAXMSGSIZE bounds a frame: libzmq drops the connection at the first
        s, ep = self.server(zmq.PULL, maxmsgsize=1000)
        rc, r = run_peer("stream", "--endpoint", ep, "--size", "10240",
                         "--seconds", str(20 * SLACK))
        self.assertEqual(rc, 0, r)
        self.assertIn(r["ended"], ("peer_closed", "peer_reset"), r)
        self.assertLess(r["seconds"], 10 * SLACK)
        self.assertGreater(r["bytes_sent"], 0)

    # ---- connections -----------------------------------------------------

    def test_connections_from_two_source_addresses(self):
        s, ep = self.server(zmq.PULL, allow=lambda key: True)
        port = int(ep.rsplit(":", 1)[1])
        a = Peer("connections", "--endpoint", ep, "--count", "3", "--source",
                 "127.0.0.2", "--hold", str(30 * SLACK))
        b = Peer("connections", "--endpoint", ep, "--count", "2", "--source",
                 "127.0.0.3", "--hold", str(30 * SLACK))
        self.addCleanup(a.kill)
        self.addCleanup(b.kill)
        a.wait_line("holding them")
        b.wait_line("holding them")
        # the authenticator (ZAP) saw the addresses, and so does the kernel
        seen = sorted(address for address, _, _ in self.zap.take(5))
        self.assertEqual(seen, ["127.0.0.2"] * 3 + ["127.0.0.3"] * 2)
        self.assertEqual(sorted(established_peers(port)),
                         ["127.0.0.2"] * 3 + ["127.0.0.3"] * 2)
        for peer, n, source in ((a, 3, "127.0.0.2"), (b, 2, "127.0.0.3")):
            peer.proc.send_signal(signal.SIGTERM)
            rc, r = peer.result()
            self.assertEqual(rc, 0)
            self.assertEqual((r["source"], r["connected"], r["outcomes"]["ready"],
                              r["open_at_end"], r["closed_during_hold"]),
                             (source, n, n, n, 0), r)

    def test_connections_held_through_heartbeats_closed_when_silent(self):
        # heartbeats: PINGs get PONGs, so the connections stay open ...
        for curve in (False, True):
            s, ep = self.server(zmq.PULL, curve=curve, heartbeat_ivl=100,
                                heartbeat_timeout=300, handshake_ivl=300)
            key = ["--server-key", self.server_key_file] if curve else []
            rc, r = run_peer("connections", "--endpoint", ep, "--count", "3",
                             "--hold", "1.5", *key)
            self.assertEqual(rc, 0)
            self.assertEqual((r["outcomes"]["ready"], r["open_at_end"],
                              r["closed_during_hold"]), (3, 3, 0), r)
            # ... while connections that never say a word are closed by the
            # server's handshake timeout, and counted
            rc, r = run_peer("connections", "--endpoint", ep, "--count", "3",
                             "--hold", "1.5", "--handshake", "no", *key)
            self.assertEqual(rc, 0)
            self.assertEqual((r["connected"], r["closed_during_hold"],
                              r["open_at_end"]), (3, 3, 0), r)


class socket_port:
    """A TCP port on 127.0.0.1 that nobody listens on while in use: bound,
    never listening."""

    def __enter__(self):
        import socket
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        return self.sock.getsockname()[1]

    def __exit__(self, *exc):
        self.sock.close()


def main():
    global PEER
    PEER = sys.argv.pop(1)
    unittest.main(verbosity=2)


if __name__ == "__main__":
    main()
