#!/usr/bin/env python3
"""zguard gate's supervisor (tools/gate_super.c): the forwarding runs in a
child process, restarted after an abnormal death. An honest DEALER client
sends requests in a loop through a reqrep gate while the test kills the
forwarding process with SIGABRT, then SIGSEGV (what libzmq #4841's
assertion and a crash do); the client recovers through libzmq's reconnect,
its own timeout standing in for a reply that died with the process. The
loss and the time to the first answer after each kill are measured and
printed, and bounded; the restarts are counted in /metrics and /status,
and /status says 503 while no process forwards. And: SIGTERM to the gate
stops both processes without a restart, the child follows a killed
supervisor, and a child that cannot start is not restarted.

usage: test_gate_supervise.py PATH/TO/zguard
"""
import os
import signal
import socket
import subprocess
import sys
import threading
import time

import zmq

import test_gate_lib as lib
from test_gate_lib import GateTest

STARTED = r"gate: supervisor: forwarding process (\d+) started"
REQUEST_TIMEOUT = 0.5  # s: the client's own bound on one request
LOSS_MAX = 3           # requests a kill may cost the client
RESUME_MAX = 3.0       # s from a kill to the client's next answer


def gone(pid):
    """The process has exited (reaped, or a zombie nobody reaps)."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] == "Z"
    except FileNotFoundError:
        return True


class Client(threading.Thread):
    """A DEALER sending numbered requests one at a time, each given
    REQUEST_TIMEOUT to be answered before the next goes (replies to an
    earlier one are ignored). Records (sent at, answered at or None)."""

    def __init__(self, test, gate):
        super().__init__(daemon=True)
        self.sock = test.client(zmq.DEALER, gate)
        self.log = []
        self.lock = threading.Lock()
        self.done = threading.Event()

    def run(self):
        seq = 0
        while not self.done.is_set():
            body = b"req %d" % seq
            sent = time.monotonic()
            self.sock.send_multipart([b"", body])
            answered = None
            deadline = sent + REQUEST_TIMEOUT
            while answered is None and time.monotonic() < deadline:
                if self.sock.poll(max(1, int((deadline - time.monotonic()) * 1000))):
                    if self.sock.recv_multipart() == [b"", b"re:" + body]:
                        answered = time.monotonic()
            with self.lock:
                self.log.append((sent, answered))
            seq += 1

    def answered_after(self, t):
        with self.lock:
            return [a for s, a in self.log if a is not None and s >= t]

    def since(self, t):
        """(requests sent since t, of them unanswered)"""
        with self.lock:
            mine = [a for s, a in self.log if s >= t]
        return len(mine), sum(1 for a in mine if a is None)

    def stop(self):
        self.done.set()
        self.join(10)


class Supervise(GateTest):
    def child_pid(self, gate, count=1):
        return int(gate.wait_log(STARTED, 10, count=count).group(1))

    def kill_and_recover(self, gate, client, sig, n):
        """Kills forwarding process n with sig; waits for the n+1th and for
        the client's answers to resume. Returns (lost, seconds to resume)."""
        pid = self.child_pid(gate, n)
        lib.wait_until(lambda: len(client.answered_after(time.monotonic() - 1)) >= 5,
                       5, "the client answered before the kill")
        t_kill = time.monotonic()
        os.kill(pid, sig)
        gate.wait_log(r"forwarding process %d killed by %s(?: \(core dumped\))?; "
                      r"restart %d in \d+ms" % (pid, sig.name, n), 5)
        self.child_pid(gate, n + 1)
        first = lib.wait_until(lambda: client.answered_after(t_kill), RESUME_MAX,
                               "the client's answers resumed after %s" % sig.name)
        resume = first[0] - t_kill
        # what the kill cost: requests sent from 1 s before it to 1 s after
        # the client resumed, unanswered
        lib.wait_until(lambda: time.monotonic() > first[0] + 1, 3, "a second")
        sent, lost = client.since(t_kill - 1)
        print("\n%s: %d of %d requests lost, answers resumed %.0f ms after the "
              "kill" % (sig.name, lost, sent, resume * 1000), file=sys.stderr)
        self.assertLessEqual(lost, LOSS_MAX, gate.text())
        self.assertLess(resume, RESUME_MAX * lib.SLACK)
        return lost, resume

    def test_abort_and_segfault(self):
        gate = self.gate("reqrep")
        self.start_service(zmq.REP)
        st = gate.wait_status(200, 10)
        self.assertEqual((st["restarts"], st["forwarding"]), (0, True))
        self.assertEqual(gate.metric("zguard_gate_restarts_total"), 0)
        client = Client(self, gate)
        client.start()
        self.addCleanup(client.stop)

        self.kill_and_recover(gate, client, signal.SIGABRT, 1)
        self.kill_and_recover(gate, client, signal.SIGSEGV, 2)
        self.assertEqual(gate.wait_status(200, 5)["restarts"], 2)
        self.assertEqual(gate.metric("zguard_gate_restarts_total"), 2)
        self.assertEqual(gate.metric("zguard_gate_forwarding"), 1)
        # the frontend's port stayed the one the first process got for '*'
        self.assertEqual(gate.count_log(r"gate: ready: reqrep, frontend %s "
                                        % gate.frontend), 3)

        # the third restart waits 400 ms: /status says so meanwhile
        pid = self.child_pid(gate, 3)
        os.kill(pid, signal.SIGKILL)
        gate.wait_log(r"forwarding process %d killed by SIGKILL; restart 3 in "
                      r"400ms" % pid, 5)
        code, st = gate.status()
        self.assertEqual((code, st["status"], st["forwarding"], st["restarts"]),
                         (503, "not forwarding", False, 3), st)
        self.assertEqual(st["frontend"], gate.frontend)
        self.assertEqual(gate.metric("zguard_gate_forwarding"), 0)
        self.assertEqual(gate.metric("zguard_gate_restarts_total"), 3)
        self.assertEqual(gate.wait_status(200, 5)["restarts"], 3)
        client.stop()
        self.assertTrue(client.answered_after(time.monotonic() - 1))

        # SIGTERM to the supervisor: both stop, nothing restarts
        pid = self.child_pid(gate, 4)
        rc, took = gate.stop()
        self.assertEqual(rc, 0, gate.text())
        self.assertTrue(gone(pid))
        self.assertEqual(gate.count_log(STARTED), 4)
        gate.wait_log(r"gate: stopped: \d+ messages to the backend", 1)

    def test_sigint_stops_without_restart(self):
        gate = self.gate("pipeline")
        pid = self.child_pid(gate)
        gate.signal(signal.SIGINT)
        self.assertEqual(gate.wait_exit(5 * lib.SLACK), 0, gate.text())
        self.assertTrue(gone(pid))
        self.assertEqual(gate.count_log(r"restart"), 0, gate.text())

    def test_child_follows_a_killed_supervisor(self):
        gate = self.gate("pipeline")
        pid = self.child_pid(gate)
        gate.proc.kill()
        gate.wait_exit(5)
        lib.wait_until(lambda: gone(pid), 5, "the forwarding process gone")

    def test_could_not_start_is_not_restarted(self):
        """A busy frontend port: the child exits 2, the gate with it."""
        busy = socket.socket()
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        self.addCleanup(busy.close)
        lib.allow(self.allow_dir, self.keys.public("alice"))
        r = subprocess.run([lib.ZGUARD, "gate", "--pattern", "reqrep",
                            "--frontend", "tcp://127.0.0.1:%d" % busy.getsockname()[1],
                            "--backend", self.backend,
                            "--server-key", self.keys.public("gate"),
                            "--allow", self.allow_dir],
                           capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertEqual(r.stderr.count("forwarding process"), 2, r.stderr)
        self.assertIn("could not start (exit 2, why is above): not restarting",
                      r.stderr)
        self.assertIn("Address already in use", r.stderr)

    def test_config_error_exits_at_once(self):
        """A policy error is found before any process is started."""
        r = subprocess.run([lib.ZGUARD, "gate", "--pattern", "reqrep",
                            "--frontend", "tcp://127.0.0.1:*",
                            "--backend", "tcp://192.0.2.1:6000",
                            "--server-key", self.keys.public("gate"),
                            "--allow", self.allow_dir],
                           capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertNotIn("forwarding process", r.stderr)

    def test_no_supervise(self):
        """--no-supervise forwards in the process itself: an abort ends it."""
        gate = self.gate("pipeline", extra=["--no-supervise"])
        self.assertEqual(gate.count_log(r"supervisor"), 0)
        gate.signal(signal.SIGABRT)
        self.assertEqual(gate.wait_exit(5), -signal.SIGABRT)


if __name__ == "__main__":
    lib.main()
