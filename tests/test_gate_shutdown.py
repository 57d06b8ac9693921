#!/usr/bin/env python3
"""Stopping zguard gate under load: on SIGTERM or SIGINT it stops reading
its frontend and delivers what it had already taken (the frame it held for
a mute backend, its backend queue, and for reqrep the replies still due)
within the backend's LINGER, then logs
    gate: stopped: N messages to the backend, M to the frontend, D dropped,
    U unanswered
and exits 0. Each test checks that line against what independent pyzmq
peers actually received: for reqrep exactly N requests and M replies, each
once, in order; for pipeline the first N, less at most libzmq's last
output batch (see pipeline_under_load); for pubsub exactly M. Also: the
bound (LINGER), a second signal during the stop, and a signal that comes
while the gate starts.

usage: test_gate_shutdown.py PATH/TO/zguard
"""
import os
import signal
import subprocess
import threading
import time

import zmq

import test_gate_lib as lib
from test_gate_lib import GateTest, echo_once, recv_within

LINGER = 3.0  # seconds: the backend's LINGER, the bound on a stop
PAYLOAD = b"p" * 8192  # large enough that kernel buffers hold few messages


def policy(linger="3s", front=None, back=None, replies=100):
    """FAST_POLICY with another LINGER and, for the gate's two socket types,
    queues of 100 so that a slow service pushes back at once. replies: the
    frontend's SNDHWM, its queue of replies to each client."""
    text = lib.FAST_POLICY.replace("linger = 1s", "linger = %s" % linger)
    if front:
        text += "[type.%s]\nsndhwm = %d\nrcvhwm = 100\n" % (front, replies)
    if back:
        text += "[type.%s]\nsndhwm = 100\nrcvhwm = 100\n" % back
    return text


def fill(sock, frames, limit):
    """Sends frames(i) without waiting until the socket pushes back or
    limit messages went; returns how many went."""
    for i in range(limit):
        try:
            sock.send_multipart(frames(i), flags=zmq.DONTWAIT)
        except zmq.Again:
            return i
    return limit


class Shutdown(GateTest):
    def stop(self, gate, sig, linger=LINGER):
        """Sends sig; the gate must exit 0 within the backend's LINGER plus
        slack. Returns the seconds it took."""
        t0 = time.monotonic()
        gate.signal(sig)
        rc = gate.wait_exit(linger + 1.5 * lib.SLACK)
        took = time.monotonic() - t0
        self.assertIsNotNone(rc, "the gate still runs %.1fs after %s:\n%s"
                             % (took, sig.name, gate.text()))
        self.assertEqual(rc, 0, gate.text())
        self.assertLess(took, linger + 1.5 * lib.SLACK)
        gate.wait_log(r"gate: stopping: frontend no longer read; delivering what "
                      r"was taken within %dms" % (linger * 1000), 1)
        self.assertEqual(gate.count_log(r"was lost"), 0, gate.text())
        return took

    # -- pipeline --------------------------------------------------------------

    def pipeline_under_load(self, sig):
        """A PUSH client has queued far more than the gate can pass on to a
        slow PULL service (0.5 ms a message); the signal comes while the
        backend is at its HWM. The gate stops reading the client and hands
        what it took to libzmq, which writes it out within LINGER.

        What the service gets is the first k messages the client sent, in
        order, each once, and k is the N of the gate's last line, less at
        most libzmq's last output batch: libzmq 4.3 ends a connection as
        soon as the socket's queue is empty, dropping the bytes it had
        encoded but the kernel had no room for yet (libzmq issue #1922;
        docs/gate.md). A batch is 8 KiB, so with these 8 KiB messages that
        is at most 2 (one whole, one cut)."""
        g = self.gate("pipeline", policy=policy(front="pull", back="push"))
        svc = self.start_service(zmq.PULL, delay=0.0005, rcvhwm=100)
        c = self.client(zmq.PUSH, g, "alice", sndhwm=1000)
        sent = fill(c, lambda i: [b"%d" % i, PAYLOAD], 5000)
        self.assertGreater(sent, 500)
        svc.wait_count(200, 10)
        g.wait_metric("zguard_hwm_reached_total", 1, 5, socket="backend")
        self.stop(g, sig)
        n, to_front, dropped, unanswered = g.stopped_counts()
        self.assertEqual((to_front, dropped, unanswered), (0, 0, 0))
        self.assertGreaterEqual(n, 200)
        # what the frontend had queued but the gate had not taken is not
        # delivered: the stop was under load
        self.assertLess(n, sent)
        svc.wait_count(n - 2, 10)
        k = svc.wait_count(n + 1, 0.3)  # the rest, if any, and nothing more
        self.assertLessEqual(k, n, "the service got more than the gate counted")
        self.assertLessEqual(n - k, 2, "lost more than libzmq's last batch")
        self.assertEqual(svc.messages(), [[b"%d" % i, PAYLOAD] for i in range(k)])

    def test_pipeline_sigterm_under_load(self):
        self.pipeline_under_load(signal.SIGTERM)

    def test_pipeline_sigint_under_load(self):
        self.pipeline_under_load(signal.SIGINT)

    # -- reqrep ----------------------------------------------------------------

    def reqrep_under_load(self, sig):
        """Two DEALER clients have queued far more requests than a slow
        ROUTER service (0.5 ms a request) answers; the signal comes while
        the backend is at its HWM. The gate passes on every reply still due
        before it exits: N requests to the service, N replies back, none
        unanswered, each client's requests and replies the first ones it
        sent, in order."""
        # Replies come back in bursts when the service catches up: the
        # frontend's SNDHWM must hold every request a client can have in
        # flight (here about 300), or the gate drops replies for a client
        # that is reading (docs/gate.md).
        g = self.gate("reqrep", allowed=("alice", "bob"),
                      policy=policy(front="router", back="dealer", replies=1000))
        svc = self.start_service(zmq.ROUTER, delay=0.0005, rcvhwm=100)
        names = (b"alice", b"bob")
        clients = {n: self.client(zmq.DEALER, g, n.decode(), sndhwm=1000, rcvhwm=0)
                   for n in names}
        sent = {n: fill(c, lambda i, n=n: [b"", n, b"%d" % i, PAYLOAD], 3000)
                for n, c in clients.items()}
        svc.wait_count(200, 10)
        g.wait_metric("zguard_hwm_reached_total", 1, 5, socket="backend")
        self.stop(g, sig)
        n, to_front, dropped, unanswered = g.stopped_counts()
        self.assertEqual((to_front, dropped, unanswered), (n, 0, 0), g.text())
        self.assertGreaterEqual(n, 200)
        self.assertLess(n, sum(sent.values()))
        self.assertEqual(svc.wait_count(n + 1, 0.3), n, "more than the gate counted")
        got = svc.messages()
        self.assertEqual(len(got), n)
        for name, c in clients.items():
            mine = [m for m in got if m[0] == name]
            k = len(mine)
            self.assertEqual(mine, [[name, b"%d" % i, PAYLOAD] for i in range(k)])
            replies = [recv_within(c, 5) for _ in range(k)]
            self.assertEqual(replies, [[b"", b"re:" + name, b"re:%d" % i, b"re:" + PAYLOAD]
                                       for i in range(k)])
            self.assertIsNone(recv_within(c, 0.2))

    def test_reqrep_sigterm_under_load(self):
        self.reqrep_under_load(signal.SIGTERM)

    def test_reqrep_sigint_under_load(self):
        self.reqrep_under_load(signal.SIGINT)

    def stuck_service(self, g, n):
        """A ROUTER service (a socket of this thread: it reads only when
        told) that answers alice's first request, then stops reading, and n
        more requests that the gate has passed on to it (its backend
        counted them)."""
        svc = self.service(zmq.ROUTER)
        c = self.client(zmq.DEALER, g, "alice")
        c.send_multipart([b"", b"first"])
        self.assertEqual(echo_once(svc), [b"first"])
        self.assertEqual(recv_within(c, 5), [b"", b"re:first"])
        for i in range(n):
            c.send_multipart([b"", b"%d" % i])
        g.wait_metric("zguard_messages_sent_total", n + 1, 5, socket="backend")
        return svc, c

    def test_second_signal_during_drain(self):
        """The service is stuck with 5 requests when SIGTERM comes: the gate
        waits for their replies. A second SIGTERM and a SIGINT during that
        wait are noted in the log, and neither kills the gate nor cuts the
        wait short (it is bounded by LINGER anyway); once the service
        answers, every reply reaches the client and the gate exits 0."""
        g = self.gate("reqrep", policy=policy())
        svc, c = self.stuck_service(g, 5)
        t0 = time.monotonic()
        g.signal(signal.SIGTERM)
        g.wait_log(r"gate: stopping:", 5)
        g.signal(signal.SIGTERM)
        g.wait_log(r"gate: asked again to stop: still delivering what was taken, "
                   r"at most \d+ms more", 5)
        g.signal(signal.SIGINT)
        g.wait_log(r"gate: asked again to stop", 5, count=2)
        self.assertTrue(g.running())
        self.assertEqual([echo_once(svc) for _ in range(5)],
                         [[b"%d" % i] for i in range(5)])
        rc = g.wait_exit(LINGER + 1.5 * lib.SLACK)
        self.assertEqual(rc, 0, g.text())
        self.assertLess(time.monotonic() - t0, LINGER + 1.5 * lib.SLACK)
        self.assertEqual(g.stopped_counts(), (6, 6, 0, 0))
        self.assertEqual([recv_within(c, 5) for _ in range(5)],
                         [[b"", b"re:%d" % i] for i in range(5)])
        self.assertIsNone(recv_within(svc, 0.2))

    def test_unanswered_bounded_by_linger(self):
        """A service that never answers again: the gate waits for the
        replies for the backend's LINGER (1 s here), not less and not
        forever, exits 0 and counts them unanswered."""
        g = self.gate("reqrep", policy=policy(linger="1s"))
        self.stuck_service(g, 5)
        t0 = time.monotonic()
        g.signal(signal.SIGTERM)
        rc = g.wait_exit(1 + 1.5 * lib.SLACK)
        took = time.monotonic() - t0
        self.assertEqual(rc, 0, g.text())
        self.assertGreaterEqual(took, 0.95, "gave up before LINGER")
        self.assertLess(took, 1 + 1.5 * lib.SLACK)
        self.assertEqual(g.stopped_counts(), (6, 1, 0, 5))

    # -- pubsub ----------------------------------------------------------------

    def test_pubsub_stop_drops_what_comes_after(self):
        """pubsub has nothing to answer: on SIGTERM the gate stops reading
        the service at once. What it had passed to a subscriber that keeps
        up still arrives (M messages, exactly); what the service publishes
        after the stop is dropped, by design."""
        g = self.gate("pubsub", policy=policy())
        sub = self.client(zmq.SUB, g, "alice", rcvhwm=0)
        sub.subscribe(b"")
        ready, go, done = threading.Event(), threading.Event(), threading.Event()
        window = threading.Condition()
        state = {"published": 0, "received": 0, "error": None}

        def publish():
            # The service: warm-up messages until the subscription is known
            # to have arrived, then numbered ones, at most 2000 ahead of the
            # subscriber (far below every HWM: nothing is dropped by a full
            # queue, only by the stop).
            try:
                pub = self.ctx.socket(zmq.PUB)
                pub.linger = 0
                pub.sndhwm = 100000
                pub.bind(self.backend)
            except zmq.ZMQError as e:
                state["error"] = e
                ready.set()
                return
            ready.set()
            try:
                while not go.wait(0.005):
                    pub.send_multipart([b"w", b"warm-up"])
                i = 0
                while not done.is_set():
                    with window:
                        while i - state["received"] >= 2000 and not done.is_set():
                            window.wait(0.1)
                    pub.send_multipart([b"s", b"%d" % i])
                    i += 1
                    state["published"] = i
            finally:
                pub.close(linger=0)

        t = threading.Thread(target=publish, daemon=True)
        t.start()
        self.addCleanup(t.join, 5)
        self.addCleanup(done.set)
        self.assertTrue(ready.wait(5))
        self.assertIsNone(state["error"])
        warm, seq = 0, []
        t0 = None
        while True:
            msg = recv_within(sub, 0.3 if t0 else 5)
            if msg is None:
                self.assertIsNotNone(t0, "nothing reached the subscriber")
                if not g.running():
                    break  # the gate is gone and nothing more arrives
                self.assertLess(time.monotonic() - t0, LINGER + 1.5 * lib.SLACK,
                                "the gate did not stop:\n" + g.text())
                continue
            go.set()
            if msg[0] == b"w":
                warm += 1
            else:
                seq.append(msg[1])
                with window:
                    state["received"] = len(seq)
                    window.notify_all()
            if len(seq) == 1000 and t0 is None:
                t0 = time.monotonic()
                g.signal(signal.SIGTERM)
        self.assertEqual(g.wait_exit(5), 0, g.text())
        done.set()
        t.join(5)
        n_back, to_front, dropped, unanswered = g.stopped_counts()
        self.assertEqual((dropped, unanswered), (0, 0))
        self.assertEqual(n_back, 1)  # the subscription, to the service
        self.assertEqual(warm + len(seq), to_front)
        self.assertEqual(seq, [b"%d" % i for i in range(len(seq))])
        self.assertGreater(state["published"], len(seq), "nothing was published after the stop")

    # -- a signal while starting ---------------------------------------------------

    def test_signal_while_starting_is_not_lost(self):
        """A SIGTERM that arrives after the gate installed its handlers but
        before it runs (here: while it is blocked writing its startup log
        lines to a full pipe) still stops it, with exit 0."""
        for name in ("alice",):
            lib.allow(self.allow_dir, self.keys.public(name))
        r, w = os.pipe()
        os.set_blocking(w, False)
        for chunk in (4096, 1):
            try:
                while True:
                    os.write(w, b"x" * chunk)
            except BlockingIOError:
                pass
        os.set_blocking(w, True)
        args = [lib.ZGUARD, "gate", "--pattern", "pipeline",
                "--frontend", "tcp://127.0.0.1:*", "--backend", self.backend,
                "--server-key", self.keys.public("gate"), "--allow", self.allow_dir,
                "--policy", self.policy_file(), "--log-level", "notice"]
        reader = os.fdopen(r, "rb")
        self.addCleanup(reader.close)
        proc = subprocess.Popen(args, stdin=subprocess.DEVNULL,
                                stdout=subprocess.DEVNULL, stderr=w)
        os.close(w)
        # first at cleanup: killed, it closes the pipe and the reader ends
        self.addCleanup(lambda: proc.poll() is None and proc.kill() or proc.wait(10))

        def blocked_in_window():
            # the SIGTERM handler is installed (SigCgt bit 15) and a thread
            # waits in write(2, ...) on the full pipe
            with open("/proc/%d/status" % proc.pid) as f:
                caught = [l for l in f if l.startswith("SigCgt:")]
            if not caught or not int(caught[0].split()[1], 16) & (1 << (signal.SIGTERM - 1)):
                return False
            for task in os.listdir("/proc/%d/task" % proc.pid):
                try:
                    with open("/proc/%d/task/%s/syscall" % (proc.pid, task)) as f:
                        if f.read().startswith("1 0x2 "):
                            return True
                except OSError:
                    pass
            return False

        lib.wait_until(lambda: proc.poll() is not None or blocked_in_window(), 10,
                       "the gate blocked writing its log with its handlers set")
        self.assertIsNone(proc.poll(), "the gate exited early")
        proc.send_signal(signal.SIGTERM)
        out = []
        t = threading.Thread(target=lambda: out.append(reader.read()), daemon=True)
        t.start()
        try:
            rc = proc.wait(5 * lib.SLACK)
        except subprocess.TimeoutExpired:
            rc = None
        t.join(5)
        text = out[0].decode(errors="replace").lstrip("x") if out else ""
        self.assertEqual(rc, 0, "the SIGTERM was lost (exit %s):\n%s" % (rc, text))
        self.assertIn("gate: stopped: 0 messages to the backend", text)


if __name__ == "__main__":
    lib.main()
