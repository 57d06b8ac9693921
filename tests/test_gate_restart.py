#!/usr/bin/env python3
"""zguard gate's supervisor (tools/gate_super.c) with what a forwarding
process takes from outside itself: a socket systemd passed, and the
passphrase of a rotated key.

Socket activation: the test binds and listens itself, starts the gate with
the socket as fd 3 (GateTest.activated), kills the forwarding process with
SIGABRT while a DEALER client sends through it, and the restarted process
answers the client on the very same socket: the only listener on the port
is still the test's (by its inode in /proc/net/tcp), and the supervisor
holds no listening socket but that one and the metrics one.

The passphrase: a gate key sealed under one passphrase (--passphrase-file),
rotated to a key sealed under a new one and the new passphrase written into
the file, SIGHUP: a process restarted after an abort comes up with the new
key, reading the file again. When the file does not open the rotated key
(it still holds the old passphrase: the reload failed and kept the old
key), the restarted process cannot start (exit 2, naming the secret key
file) and, as docs/gate.md "Supervision" says of exit 2, the gate exits 2.

usage: test_gate_restart.py PATH/TO/zguard
"""
import os
import re
import signal
import sys
import time

import zmq

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import test_gate_lib as lib  # noqa: E402
from test_gate_lib import GateTest  # noqa: E402
from test_gate_reload import REFUSED_S, ask, rotate  # noqa: E402
from test_gate_supervise import STARTED, Client  # noqa: E402

FIRST = "the first passphrase\n"
SECOND = "the second passphrase\n"


def socket_inodes(pid):
    """The inodes of the sockets process pid has open."""
    found = set()
    d = "/proc/%d/fd" % pid
    for fd in os.listdir(d):
        try:
            m = re.fullmatch(r"socket:\[(\d+)\]", os.readlink(os.path.join(d, fd)))
        except FileNotFoundError:
            continue  # closed meanwhile
        if m:
            found.add(int(m.group(1)))
    return found


def tcp_listeners():
    """{inode: port} of every listening TCP socket on this machine."""
    found = {}
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as f:
            next(f)
            for row in f:
                col = row.split()
                if col[3] == "0A":  # TCP_LISTEN
                    found[int(col[9])] = int(col[1].rsplit(":", 1)[1], 16)
    return found


class Restart(GateTest):
    def child_pid(self, gate, count=1):
        return int(gate.wait_log(STARTED, 10, count=count).group(1))

    def abort_child(self, gate, n=1):
        """SIGABRT to forwarding process n; returns once process n+1 runs
        and /status says it forwards."""
        pid = self.child_pid(gate, n)
        os.kill(pid, signal.SIGABRT)
        gate.wait_log(r"forwarding process %d killed by SIGABRT(?: \(core "
                      r"dumped\))?; restart %d in \d+ms" % (pid, n), 5)
        new = self.child_pid(gate, n + 1)
        gate.wait_log(r"gate: ready:", 10, count=n + 1)
        self.assertEqual(gate.wait_status(200, 10)["restarts"], n)
        return new

    def listeners_of(self, pid):
        """{inode: port} of the listening TCP sockets pid holds."""
        mine = socket_inodes(pid)
        return {i: p for i, p in tcp_listeners().items() if i in mine}

    def test_restart_on_the_inherited_socket(self):
        sock = self.listening()
        port = sock.getsockname()[1]
        ino = os.fstat(sock.fileno()).st_ino
        ep = "tcp://127.0.0.1:%d" % port
        gate = self.activated(sock, ep).start()
        self.assertEqual(gate.frontend, ep)
        self.start_service(zmq.REP)
        client = Client(self, gate)
        client.start()
        self.addCleanup(client.stop)
        t0 = time.monotonic()
        lib.wait_until(lambda: len(client.answered_after(t0)) >= 5, 5,
                       "the client answered through the inherited socket")

        on_port = {i for i, p in tcp_listeners().items() if p == port}
        self.assertEqual(on_port, {ino}, "the port has a listener not the test's")
        held = self.listeners_of(gate.pid)
        self.assertEqual(sorted(held.values()), sorted([port, gate.metrics_port]),
                         held)
        self.assertIn(ino, self.listeners_of(self.child_pid(gate)))

        t_kill = time.monotonic()
        child = self.abort_child(gate)
        lib.wait_until(lambda: client.answered_after(t_kill), 3,
                       "the client's answers resumed after the restart")
        client.stop()
        late = self.client(zmq.REQ, gate)
        late.send(b"late")
        self.assertEqual(lib.recv_within(late, 3 * lib.SLACK), [b"re:late"],
                         "a new client got no answer after the restart")

        # the same socket, nothing new bound, by either process
        self.assertEqual(gate.count_log(r"gate: ready: reqrep, frontend %s " % ep), 2)
        on_port = {i for i, p in tcp_listeners().items() if p == port}
        self.assertEqual(on_port, {ino}, "the port has a listener not the test's")
        self.assertEqual(self.listeners_of(gate.pid), held)
        self.assertIn(ino, self.listeners_of(child))
        self.assertEqual(gate.metric("zguard_gate_restarts_total"), 1)
        self.assertEqual(gate.count_log("Address already in use"), 0)

    def sealed_gate(self):
        """A gate whose key is sealed under FIRST, in --passphrase-file;
        returns (gate, service, public key file, passphrase file)."""
        pass_file = os.path.join(self.dir, "gate.pass")
        lib.write_file(pass_file, FIRST, 0o600)
        own = os.path.join(self.dir, "own")
        os.makedirs(own)
        public, _ = lib.keygen(own, "gate", pass_file)
        gate = self.gate("reqrep", server_key=public,
                         extra=["--passphrase-file", pass_file])
        svc = self.service(zmq.REP)
        c = self.client(zmq.REQ, gate, server=public)
        self.assertEqual(ask(c, svc, b"first key"), [b"re:first key"])
        return gate, svc, public, pass_file

    def rotate_to_second(self, public):
        """The key rotated to a new pair sealed under SECOND: the old pair."""
        new_pass = os.path.join(self.dir, "new.pass")
        lib.write_file(new_pass, SECOND, 0o600)
        return rotate(self, public, "--passphrase-file", new_pass,
                      "--cost", "interactive")

    def reload(self, gate, result):
        gate.signal(signal.SIGHUP)
        gate.wait_log("gate: reload %s" % ("done" if result == "ok" else "failed"), 5)
        gate.wait_metric("zguard_reloads_total", 1, 5, result=result)

    def test_restarted_process_reads_the_new_passphrase(self):
        gate, svc, public, pass_file = self.sealed_gate()
        archived = self.rotate_to_second(public)
        lib.write_file(pass_file, SECOND, 0o600)
        self.reload(gate, "ok")
        c = self.client(zmq.REQ, gate, server=public)
        self.assertEqual(ask(c, svc, b"reloaded"), [b"re:reloaded"])

        self.abort_child(gate)
        self.assertEqual(gate.metric("zguard_gate_restarts_total"), 1)
        fresh = self.client(zmq.REQ, gate, server=public)
        self.assertEqual(ask(fresh, svc, b"restarted"), [b"re:restarted"])
        # the old pair is gone with the process that held it: the restarted
        # one bound with what the files hold now
        stale = self.client(zmq.REQ, gate, server=archived)
        stale.send(b"old key")
        self.assertIsNone(lib.recv_within(svc, REFUSED_S))
        self.assertGreaterEqual(gate.metric("zguard_handshake_failures_total",
                                            socket="frontend", reason="crypto"), 1)
        self.assertEqual(ask(fresh, svc, b"again"), [b"re:again"])

    def test_restart_with_a_passphrase_that_no_longer_opens_the_key(self):
        # rotated under SECOND, the file still says FIRST: the reload fails
        # and keeps the old pair, the gate forwards on
        gate, svc, public, pass_file = self.sealed_gate()
        archived = self.rotate_to_second(public)
        self.reload(gate, "failed")
        c = self.client(zmq.REQ, gate, server=archived)
        self.assertEqual(ask(c, svc, b"old pair"), [b"re:old pair"])

        # a restart reads the files as they are: it cannot start, and an
        # exit 2 is never restarted
        pid = self.child_pid(gate)
        os.kill(pid, signal.SIGABRT)
        self.assertEqual(gate.wait_exit(10 * lib.SLACK), 2, gate.text())
        text = gate.text()
        self.assertIn("forwarding process %d killed by SIGABRT" % pid, text)
        self.assertEqual(gate.count_log(STARTED), 2, text)
        self.assertIn("%s_secret: wrong passphrase" % public, text)
        self.assertIn("could not start (exit 2, why is above): not restarting",
                      text)
        self.assertEqual(gate.count_log(r"gate: ready:"), 1, text)

    def test_restart_with_the_passphrase_file_gone(self):
        # nothing rotated: the passphrase the gate read at start still opens
        # the key, and the restarted process uses it, saying why
        gate, svc, public, pass_file = self.sealed_gate()
        os.unlink(pass_file)
        self.abort_child(gate)
        gate.wait_log(r"warning: gate: passphrase file %s: cannot read: .*; "
                      r"using the passphrase read at start" % pass_file, 1)
        c = self.client(zmq.REQ, gate, server=public)
        self.assertEqual(ask(c, svc, b"held"), [b"re:held"])


if __name__ == "__main__":
    lib.main()
