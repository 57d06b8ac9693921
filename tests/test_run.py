"""`zguard run`: the policy on unmodified programs (tests/peers/plain_app.c
and plain_app.py, which know nothing of zguard and print the socket options
they read back themselves).

    python3 tests/test_run.py PATH/TO/zguard PATH/TO/plain-app \
        PATH/TO/static-app PATH/TO/czmq-app

- With a CURVE policy on both ends, a REQ/REP pair (libzmq C, CZMQ and
  pyzmq, each on either side) and a PUB/SUB pair talk through a TCP relay in this test that sees
  no plaintext; the same programs without `zguard run` talk in plaintext
  and the relay sees it.
- Every socket reads back the policy's HWM, timeouts, MAXMSGSIZE and
  LINGER from inside the program; `zguard stats` lists the server's socket.
- A client whose key is not in the allowlist gets nothing.
- Refusals: SNDHWM 0 (EINVAL and a log line), a tcp bind without CURVE
  (EACCES and a log line), a static program, a setuid one, a missing
  passphrase: the last three before the program starts.

Every wait is for an event with a deadline: a line the program prints, a
process exit, bytes reaching the relay.
"""
import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile
import threading
import unittest

import test_gate_lib as lib

ZGUARD = PLAIN_APP = STATIC_APP = CZMQ_APP = None
PY_APP = os.path.join(lib.PEERS, "plain_app.py")
PYTHON = sys.executable
# pyzmq under `zguard run`; in a sanitized build the C program instead:
# python3 with the ASan runtime preloaded and libmicrohttpd (a dependency
# of the preload) deadlocks in glibc's locale lock before it runs a line
# (Debian 12, with or without zguard's code), so ASan checks the preload
# through the C programs there.
PY_UNDER_RUN = None

# What every socket must read back (see POLICY): sndhwm, rcvhwm, sndtimeo,
# rcvtimeo (ms), linger (ms), maxmsgsize (bytes), mechanism 2 = CURVE.
EXPECTED = ("options sndhwm=77 rcvhwm=88 sndtimeo=3000 rcvtimeo=2000 "
            "linger=250 maxmsgsize=65536 mechanism=2")

POLICY_HEAD = """version = 1
[defaults]
sndhwm = 77
rcvhwm = 88
sndtimeo = 3s
rcvtimeo = 2s
linger = 250ms
maxmsgsize = 64KiB
handshake_ivl = 2s
"""

SERVER_POLICY = POLICY_HEAD + """
[auth]
allow = allow

[metrics]
listen = 127.0.0.1:{metrics}

[socket.service]
type = rep
bind = tcp://127.0.0.1:*
curve_keys = keys/server.key

[socket.ticker]
type = pub
bind = tcp://127.0.0.1:*
curve_keys = keys/server.key
"""

CLIENT_POLICY = POLICY_HEAD + """
[socket.service-client]
type = req
connect = tcp://127.0.0.1:*
curve_keys = keys/{me}.key
curve_server_key = keys/server.key

[socket.ticks]
type = sub
connect = tcp://127.0.0.1:*
curve_keys = keys/{me}.key
curve_server_key = keys/server.key
"""

DEADLINE = 20 * lib.SLACK




class Program:
    """A child process whose standard output lines a test waits for."""

    def __init__(self, args, env=None):
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True, env=env)
        self.lines = []
        self.err = []
        self.cond = threading.Condition()
        self.readers = [threading.Thread(target=self._read, args=a, daemon=True)
                        for a in ((self.proc.stdout, self.lines),
                                  (self.proc.stderr, self.err))]
        for t in self.readers:
            t.start()

    def _read(self, stream, into):
        for line in stream:
            with self.cond:
                into.append(line.rstrip("\n"))
                self.cond.notify_all()
        stream.close()

    def wait_line(self, prefix, timeout=DEADLINE):
        with self.cond:
            ok = self.cond.wait_for(
                lambda: any(l.startswith(prefix) for l in self.lines), timeout)
            if not ok:
                raise AssertionError("no line %r within %ss: stdout %r stderr %r"
                                     % (prefix, timeout, self.lines, self.err))
            return next(l for l in self.lines if l.startswith(prefix))

    def wait(self, timeout=DEADLINE):
        """The exit status, once every line the program wrote is read."""
        rc = self.proc.wait(timeout)
        for t in self.readers:
            t.join(timeout)
        return rc

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(DEADLINE)


def run_args(policy, *cmd, pass_file=None):
    args = [ZGUARD, "run"]
    if policy:
        args += ["--policy", policy]
    if pass_file:
        args += ["--passphrase-file", pass_file]
    return args + ["--"] + list(cmd)


def sanitizer_runtime():
    """The ASan runtime a sanitized build links (it must be preloaded first
    into programs that do not link it: python3), or None."""
    return lib.sanitizer_runtime(ZGUARD)


def clean_env():
    env = dict(os.environ)
    for k in ("ZGUARD_PASSPHRASE_FILE", "CREDENTIALS_DIRECTORY", "LD_PRELOAD"):
        env.pop(k, None)
    asan = sanitizer_runtime()
    if asan:  # zguard run keeps it in front of libzguard-preload.so
        env["LD_PRELOAD"] = asan
    return env


class RunTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="zguard-run-")
        self.addCleanup(shutil.rmtree, self.dir, True)
        keys = os.path.join(self.dir, "keys")
        os.makedirs(keys)
        self.pass_file = os.path.join(self.dir, "pass")
        with open(self.pass_file, "w") as f:
            f.write("correct horse battery staple\n")
        os.chmod(self.pass_file, 0o600)
        # the server's secret is encrypted: its passphrase must reach the
        # program through zguard run, never through argv
        lib.keygen(keys, "server", passphrase_file=self.pass_file)
        self.client_pub, _ = lib.keygen(keys, "client")
        lib.keygen(keys, "stranger")
        allow = os.path.join(self.dir, "allow")
        os.makedirs(allow)
        lib.allow(allow, self.client_pub)
        self.metrics = lib.free_port()
        self.server_policy = self._write("server.ini", SERVER_POLICY.format(
            metrics=self.metrics))
        self.client_policy = self._write("client.ini", CLIENT_POLICY.format(me="client"))
        self.stranger_policy = self._write("stranger.ini",
                                           CLIENT_POLICY.format(me="stranger"))
        self.programs = []

    def tearDown(self):
        for p in self.programs:
            p.stop()

    def _write(self, name, text):
        path = os.path.join(self.dir, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def start(self, args, env=None):
        env = env if env is not None else clean_env()
        if PYTHON in args and "LD_PRELOAD" in env:  # python3 leaks by design
            env["ASAN_OPTIONS"] = env.get("ASAN_OPTIONS", "") + ":detect_leaks=0"
        p = Program(args, env=env)
        self.programs.append(p)
        return p

    def server(self, app, mode, n, guarded=True):
        port = lib.free_port()
        cmd = list(app) + [mode, "tcp://127.0.0.1:%d" % port, str(n)]
        args = run_args(self.server_policy, *cmd, pass_file=self.pass_file) \
            if guarded else cmd
        p = self.start(args)
        options = p.wait_line("options")
        return p, port, options

    def client(self, app, mode, port, n, policy=None):
        cmd = list(app) + [mode, "tcp://127.0.0.1:%d" % port, str(n)]
        return self.start(run_args(policy, *cmd) if policy else cmd)

    # ---- CURVE on both ends: encrypted, bounded, visible -------------------

    def reqrep(self, server_app, client_app, server_expected=EXPECTED,
               client_expected=EXPECTED):
        server, port, options = self.server(server_app, "rep", 3)
        self.assertEqual(options, server_expected)
        stats = subprocess.run([ZGUARD, "stats", "127.0.0.1:%d" % self.metrics],
                               capture_output=True, text=True, timeout=DEADLINE)
        self.assertEqual(stats.returncode, 0, stats.stderr)
        self.assertIn("service", stats.stdout)
        relay = lib.Relay(port)
        self.addCleanup(relay.close)
        client = self.client(client_app, "req", relay.port, 3, self.client_policy)
        self.assertEqual(client.wait_line("options"), client_expected)
        self.assertEqual(client.wait(), 0, client.lines + client.err)
        self.assertEqual(server.wait(), 0, server.lines + server.err)
        self.assertIn("reply world 2", client.lines)
        self.assertGreater(len(relay.seen), 0)
        self.assertNotIn(b"hello", relay.seen)
        self.assertNotIn(b"world", relay.seen)

    def test_reqrep_c_server_pyzmq_client(self):
        self.reqrep([PLAIN_APP], PY_UNDER_RUN)

    def test_reqrep_pyzmq_server_c_client(self):
        self.reqrep(PY_UNDER_RUN, [PLAIN_APP])

    def test_reqrep_czmq_server_c_client(self):
        # CZMQ sets LINGER 0 on every socket: a tighter bound, kept
        self.reqrep([CZMQ_APP], [PLAIN_APP],
                    server_expected=EXPECTED.replace("linger=250", "linger=0"))

    def test_reqrep_pyzmq_server_czmq_client(self):
        self.reqrep(PY_UNDER_RUN, [CZMQ_APP],
                    client_expected=EXPECTED.replace("linger=250", "linger=0"))

    def test_pubsub_encrypted(self):
        pub, port, options = self.server([PLAIN_APP], "pub", 0)
        self.assertEqual(options, EXPECTED)
        relay = lib.Relay(port)
        self.addCleanup(relay.close)
        sub = self.client(PY_UNDER_RUN, "sub", relay.port, 5, self.client_policy)
        self.assertEqual(sub.wait_line("options"), EXPECTED)
        self.assertEqual(sub.wait(), 0, sub.lines + sub.err)
        self.assertIn("received 5", sub.lines)
        self.assertNotIn(b"tick", relay.seen)

    def test_without_zguard_run_plaintext(self):
        """The same programs, not under zguard run: the relay reads them."""
        server, port, options = self.server([PLAIN_APP], "rep", 1, guarded=False)
        self.assertIn("mechanism=0", options)
        relay = lib.Relay(port)
        self.addCleanup(relay.close)
        client = self.client([PYTHON, PY_APP], "req", relay.port, 1)
        self.assertEqual(client.wait(), 0, client.lines + client.err)
        self.assertIn(b"hello 0", relay.seen)
        self.assertIn(b"world 0", relay.seen)
        pub, port, _ = self.server([PYTHON, PY_APP], "pub", 0, guarded=False)
        relay = lib.Relay(port)
        self.addCleanup(relay.close)
        sub = self.client([PLAIN_APP], "sub", relay.port, 3)
        self.assertEqual(sub.wait(), 0, sub.lines + sub.err)
        self.assertIn(b"tick", relay.seen)

    def test_stranger_gets_nothing(self):
        server, port, _ = self.server([PLAIN_APP], "rep", 1)
        client = self.client([PLAIN_APP], "req", port, 1, self.stranger_policy)
        self.assertEqual(client.wait(), 3, client.lines + client.err)
        self.assertIn("failed recv: Resource temporarily unavailable", client.lines)
        self.assertFalse(any(l.startswith("reply") for l in client.lines))
        # the server got nothing within its own (policy) receive timeout,
        # and its authenticator said why
        self.assertEqual(server.wait(), 3, server.lines + server.err)
        self.assertIn("failed recv: Resource temporarily unavailable", server.lines)
        self.assertTrue(any("auth: deny" in l and "reason=unknown key" in l
                            for l in server.err), server.err)

    def test_pyzmq_zero_copy_and_its_garbage_collector(self):
        """pyzmq's own inproc sockets (the garbage collector of zero-copy
        sends) keep working: they are left as pyzmq made them."""
        if PY_UNDER_RUN != [PYTHON, PY_APP]:
            self.skipTest("pyzmq cannot start under the ASan runtime (see "
                          "PY_UNDER_RUN); the plain build runs this")
        plain = self._write("plain.ini", POLICY_HEAD.replace("64KiB", "1MiB") + """security = none
insecure = yes
rationale = one machine, one process: zero-copy sends are under test here
""")
        p = self.start(run_args(plain, PYTHON, PY_APP, "zerocopy",
                                "ipc://%s/zc" % self.dir))
        self.assertEqual(p.wait(), 0, p.lines + p.err)
        self.assertEqual(p.lines[0], EXPECTED.replace("mechanism=2", "mechanism=0")
                         .replace("maxmsgsize=65536", "maxmsgsize=1048576"))
        self.assertIn("tracked 102400", p.lines)

    def test_matching_rules(self):
        """The type must match, the first matching section wins, an
        unmatched socket gets its type's values; policy doc shows the
        patterns."""
        policy = self._write("match.ini", """version = 1
[defaults]
security = none
insecure = yes
rationale = one machine: the matching rule is under test, not CURVE

[type.rep]
sndhwm = 21

[socket.wrong-type]
type = req
bind = tcp://127.0.0.1:*
sndhwm = 31

[socket.first]
type = rep
bind = tcp://127.0.0.1:*
sndhwm = 41

[socket.second]
type = rep
bind = tcp://127.0.0.1:*
sndhwm = 51
""")
        got = {}
        for ep in ("tcp://127.0.0.1:%d" % lib.free_port(), "ipc://%s/m" % self.dir):
            p = self.start(run_args(policy, PLAIN_APP, "rep", ep, "0"))
            got[ep[:3]] = p.wait_line("options")
            self.assertEqual(p.wait(), 0, p.lines + p.err)
        self.assertIn("sndhwm=41 ", got["tcp"])
        self.assertIn("sndhwm=21 ", got["ipc"])
        doc = subprocess.run([ZGUARD, "policy", "doc", "--format", "json", policy],
                             capture_output=True, text=True, timeout=DEADLINE)
        self.assertEqual(doc.returncode, 0, doc.stderr)
        sockets = {s["name"]: s for s in json.loads(doc.stdout)["sockets"]}
        self.assertEqual(sockets["first"]["bind"],
                         {"pattern": "tcp://127.0.0.1:*", "line": 17})
        self.assertNotIn("connect", sockets["first"])

    def test_ctx_term_returns_with_a_thread_in_recv(self):
        """zmq_ctx_term ends zguard's part of the context first (monitor,
        authenticator: a CURVE server here), so the program's usual shutdown
        - a thread blocked in a receive gets ETERM and closes its socket -
        still returns."""
        policy = self._write("term.ini", SERVER_POLICY.format(
            metrics=lib.free_port()).replace("type = rep", "type = pull"))
        p = self.start(run_args(policy, PLAIN_APP, "term",
                                "tcp://127.0.0.1:%d" % lib.free_port(),
                                pass_file=self.pass_file))
        self.assertEqual(p.wait(), 0, p.lines + p.err)
        self.assertEqual(p.lines, [EXPECTED, "terminated"])

    # ---- refusals ------------------------------------------------------------

    def test_sndhwm_zero_refused(self):
        p = self.start(run_args(self.client_policy, PLAIN_APP, "sndhwm0",
                                "ipc://%s/x" % self.dir))
        self.assertEqual(p.wait(), 4)
        self.assertIn("setsockopt SNDHWM 0 refused: Invalid argument", p.lines)
        self.assertTrue(any("refusing ZMQ_SNDHWM = 0" in l and "sndhwm = 77" in l
                            for l in p.err), p.err)

    def test_tcp_bind_without_curve_refused(self):
        port = lib.free_port()
        p = self.start(run_args(self.client_policy, PLAIN_APP, "rep",
                                "tcp://127.0.0.1:%d" % port, "1"))
        self.assertEqual(p.wait(), 3)
        self.assertIn("failed bind: Permission denied", p.lines)
        self.assertTrue(any("requires CURVE" in l and "tcp://127.0.0.1:%d" % port in l
                            for l in p.err), p.err)

    def test_inproc_socket_that_reaches_out_is_hardened(self):
        """A socket left alone for its first (inproc) endpoint is hardened
        when it binds tcp: here refused, for want of CURVE."""
        port = lib.free_port()
        p = self.start(run_args(self.client_policy, PLAIN_APP, "twobind",
                                "tcp://127.0.0.1:%d" % port))
        self.assertEqual(p.wait(), 3)
        self.assertEqual(p.lines, ["failed bind: Permission denied"])
        self.assertTrue(any("requires CURVE" in l and "tcp://127.0.0.1:%d" % port in l
                            for l in p.err), p.err)

    def test_static_program_refused_before_start(self):
        p = self.start(run_args(None, STATIC_APP))
        self.assertEqual(p.wait(), 2)
        self.assertEqual(p.lines, [])  # it never ran
        self.assertTrue(any("linked statically" in l for l in p.err), p.err)

    def test_setuid_program_refused_before_start(self):
        copy = os.path.join(self.dir, "setuid-app")
        shutil.copy(PLAIN_APP, copy)
        os.chmod(copy, 0o755 | stat.S_ISUID)
        p = self.start(run_args(None, copy, "rep", "inproc://x", "0"))
        self.assertEqual(p.wait(), 2)
        self.assertEqual(p.lines, [])
        self.assertTrue(any("is setuid" in l for l in p.err), p.err)

    def test_missing_passphrase_refused_before_start(self):
        p = self.start(run_args(self.server_policy, PLAIN_APP, "rep",
                                "tcp://127.0.0.1:%d" % lib.free_port(), "1"))
        self.assertEqual(p.wait(), 2)
        self.assertEqual(p.lines, [])
        self.assertTrue(any("server.key" in l and "encrypted and no passphrase" in l
                            for l in p.err), p.err)

    def test_policy_that_does_not_load_refused(self):
        bad = self._write("bad.ini", "version = 1\n[defaults]\nsndhwm = lots\n")
        p = self.start(run_args(bad, PLAIN_APP, "rep", "inproc://x", "0"))
        self.assertEqual(p.wait(), 2)
        self.assertEqual(p.lines, [])
        self.assertTrue(any("bad.ini:3: sndhwm:" in l for l in p.err), p.err)


if __name__ == "__main__":
    if len(sys.argv) < 5:
        print("usage: %s PATH/TO/zguard PATH/TO/plain-app PATH/TO/static-app "
              "PATH/TO/czmq-app" % sys.argv[0])
        sys.exit(2)
    ZGUARD, PLAIN_APP, STATIC_APP, CZMQ_APP = (os.path.abspath(a) for a in sys.argv[1:5])
    lib.ZGUARD = ZGUARD
    PY_UNDER_RUN = [PLAIN_APP] if sanitizer_runtime() else [PYTHON, PY_APP]
    unittest.main(argv=[sys.argv[0]] + sys.argv[5:], verbosity=2)
