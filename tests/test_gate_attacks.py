#!/usr/bin/env python3
"""Attacks on zguard gate, each by an independent pyzmq (or raw TCP) peer;
each must fail, with its reason visible in the gate's metrics (read with
the real Prometheus parser) and its log, while an authorized client keeps
being served.

usage: test_gate_attacks.py PATH/TO/zguard
"""
import os
import subprocess
import json
import re
import socket
import time

import zmq

import test_gate_lib as lib
from test_gate_lib import GateTest, recv_within, drain, wait_until

HS_FAILED = "zguard_handshake_failures_total"


class Refused(GateTest):
    """Peers that must not get in at all."""

    def setUp(self):
        super().setUp()
        self.g = self.gate("reqrep", allowed=("alice",))
        self.svc = self.start_service(zmq.REP)

    def assert_alice_served(self):
        c = self.client(zmq.REQ, self.g, "alice")
        c.send(b"legit")
        self.assertEqual(recv_within(c, 5), [b"re:legit"])

    def assert_nothing_delivered(self, attacker):
        self.assertEqual(drain(attacker, 0.1), [])
        self.assertEqual(self.svc.messages(), [])

    def test_unknown_key(self):
        c = self.client(zmq.DEALER, self.g, "mallory")
        c.send_multipart([b"", b"let me in"])
        self.g.wait_metric(HS_FAILED, 1, 5, reason="auth", socket="frontend")
        self.assertGreaterEqual(self.g.metric("zguard_auth_decisions_total",
                                              result="deny", reason="unknown_key"), 1)
        with open(self.keys.public("mallory")) as f:
            key = [l for l in f if "public-key" in l][0].split('"')[1]
        self.g.wait_log(r"auth: deny user=- key=%s address=127\.0\.0\.1 "
                        r"reason=unknown key" % re.escape(key), 2)
        self.assert_nothing_delivered(c)
        self.assert_alice_served()
        self.assertEqual(self.g.metric(HS_FAILED, reason="auth"), 1)

    def test_plaintext_client(self):
        """A NULL-mechanism client (a downgrade attempt): refused as a
        mechanism mismatch (REFERENCE.md 4; docs/metrics.md: one that hangs
        up before naming its mechanism could only show as timeout)."""
        c = self.socket(zmq.DEALER, connect=self.g.frontend)
        c.send_multipart([b"", b"plaintext"])
        # Both ends see the mismatch in the greetings: when the client hangs
        # up first, the gate's write fails (EPIPE) before it has read the
        # client's mechanism, and libzmq reports no detail. Either way the
        # handshake failed, before any authentication.
        wait_until(lambda: self.g.metric(HS_FAILED, reason="mechanism", socket="frontend")
                   + self.g.metric(HS_FAILED, reason="timeout", socket="frontend") >= 1,
                   5, "a failed handshake")
        # with the draft API libzmq also names the peer: "... from tcp://IP:PORT"
        self.g.wait_log(r"handshake failed on tcp://127\.0\.0\.1:\d+(?: from \S+)?: (mechanism "
                        r"mismatch: a plaintext or downgrade attempt|no detail)", 2)
        self.assertEqual(self.g.metric("zguard_auth_decisions_total"), 0)
        self.assertEqual(self.g.metric(HS_FAILED, reason="auth")
                         + self.g.metric(HS_FAILED, reason="crypto"), 0)
        self.assert_nothing_delivered(c)
        self.assert_alice_served()

    def test_wrong_server_key(self):
        """alice's own key is allowed, but she pins another server key (a
        man in the middle would hold that one): the gate sees a crypto
        failure and nothing gets through."""
        c = self.client(zmq.DEALER, self.g, "alice", server=self.keys.public("other"))
        c.send_multipart([b"", b"to the wrong server"])
        self.g.wait_metric(HS_FAILED, 1, 5, reason="crypto", socket="frontend")
        self.g.wait_log(r"handshake failed .*: CURVE failed", 2)
        self.assertEqual(self.g.metric("zguard_auth_decisions_total", result="allow"), 0)
        self.assert_nothing_delivered(c)
        self.assert_alice_served()

    def test_slow_handshake(self):
        """20 raw TCP connections that send nothing are closed after the
        policy's handshake_ivl (1 s); meanwhile alice's requests are
        answered promptly."""
        host, port = self.g.frontend[len("tcp://"):].rsplit(":", 1)
        raws = []
        try:
            t0 = time.monotonic()
            for _ in range(20):
                s = socket.create_connection((host, int(port)), timeout=5)
                s.setblocking(False)
                raws.append(s)
            c = self.client(zmq.REQ, self.g, "alice")
            closed_at = {}
            n = 0
            while len(closed_at) < len(raws):
                self.assertLess(time.monotonic() - t0, 5 * lib.SLACK,
                                "raw connections still open: %d of %d closed"
                                % (len(closed_at), len(raws)))
                t = time.monotonic()
                c.send(b"req %d" % n)
                self.assertEqual(recv_within(c, 1), [b"re:req %d" % n])
                self.assertLess(time.monotonic() - t, 0.5 * lib.SLACK,
                                "alice waited while raw peers stalled the gate")
                n += 1
                for i, s in enumerate(raws):
                    if i in closed_at:
                        continue
                    try:
                        while True:
                            data = s.recv(4096)  # the gate's greeting, then EOF
                            if not data:
                                closed_at[i] = time.monotonic() - t0
                                break
                    except BlockingIOError:
                        pass
                    except ConnectionResetError:
                        closed_at[i] = time.monotonic() - t0
                time.sleep(0.02)  # pacing inside a bounded loop
            first, last = min(closed_at.values()), max(closed_at.values())
            self.assertGreaterEqual(first, 0.9, "closed before handshake_ivl")
            self.assertLess(last, 2.5 * lib.SLACK, "closed long after handshake_ivl")
            self.assertGreater(n, 10)
        finally:
            for s in raws:
                s.close()
        self.g.wait_metric(HS_FAILED, 20, 5, reason="timeout", socket="frontend")
        self.assertEqual(self.svc.count(), n)


class Revoked(GateTest):
    """A key that loses access while connected: its session is cut at its
    next message, which never reaches the service; others go on."""

    def test_removed_from_allowlist_pipeline(self):
        g = self.gate("pipeline", allowed=("alice", "bob"))
        svc = self.start_service(zmq.PULL)
        alice = self.client(zmq.PUSH, g, "alice", sndtimeo=2000)
        bob = self.client(zmq.PUSH, g, "bob", sndtimeo=2000)
        alice.send_multipart([b"alice", b"before"])
        bob.send_multipart([b"bob", b"before"])
        self.assertEqual(svc.wait_count(2, 5), 2)
        os.unlink(os.path.join(self.allow_dir, "alice.key"))
        g.wait_log(r"auth: user alice lost access \(its certificate was removed", 2)
        alice.send_multipart([b"alice", b"after"])
        g.wait_log(r"dropped a message from alice, whose key lost access; its "
                   r"connection is closed", 5)
        g.wait_metric("zguard_auth_dropped_messages_total", 1, 2)
        # alice reconnects with her (now unknown) key and is refused
        alice.send_multipart([b"alice", b"again"])
        g.wait_metric("zguard_auth_decisions_total", 1, 5, result="deny",
                      reason="unknown_key")
        for i in range(5):
            bob.send_multipart([b"bob", b"%d" % i])
        self.assertEqual(svc.wait_count(7, 5), 7)
        got = svc.messages()
        self.assertEqual([m for m in got if m[0] == b"alice"], [[b"alice", b"before"]])
        self.assertEqual(len([m for m in got if m[0] == b"bob"]), 6)
        self.assertTrue(g.running())

    def test_revoked_file_pipeline(self):
        """The same through --revoked FILE: the key stays in the allowlist
        directory but is listed as revoked."""
        revoked = os.path.join(self.dir, "revoked.txt")
        lib.write_file(revoked, "# none yet\n")
        g = self.gate("pipeline", allowed=("alice", "bob"), extra=["--revoked", revoked])
        svc = self.start_service(zmq.PULL)
        alice = self.client(zmq.PUSH, g, "alice", sndtimeo=2000)
        alice.send(b"alice before")
        self.assertEqual(svc.wait_count(1, 5), 1)
        with open(self.keys.public("alice")) as f:
            key = [l for l in f if "public-key" in l][0].split('"')[1]
        lib.write_file(revoked, "# revoked in a test\n%s\n" % key)
        g.wait_log(r"auth: user alice lost access \(revoked", 2)
        alice.send(b"alice after")
        g.wait_metric("zguard_auth_dropped_messages_total", 1, 5)
        bob = self.client(zmq.PUSH, g, "bob", sndtimeo=2000)
        bob.send(b"bob")
        self.assertEqual(svc.wait_count(2, 5), 2)
        self.assertEqual(svc.messages(), [[b"alice before"], [b"bob"]])


    def test_removed_from_allowlist_reqrep(self):
        """The same through the ROUTER frontend, whose first frame (the
        routing id) carries no connection metadata: alice's multipart
        request after her key is gone is dropped whole, the gate keeps
        running and bob is answered. (It once stopped the gate: the denial
        surfaced on the second frame, after the routing id had been sent.)"""
        g = self.gate("reqrep", allowed=("alice", "bob"))
        svc = self.start_service(zmq.ROUTER)
        alice = self.client(zmq.DEALER, g, "alice", sndtimeo=2000)
        bob = self.client(zmq.DEALER, g, "bob", sndtimeo=2000)
        alice.send_multipart([b"", b"alice before"])
        self.assertEqual(recv_within(alice, 5), [b"", b"re:alice before"])
        os.unlink(os.path.join(self.allow_dir, "alice.key"))
        g.wait_log(r"auth: user alice lost access", 2)
        alice.send_multipart([b"", b"alice after", b"and", b"more frames"])
        g.wait_metric("zguard_auth_dropped_messages_total", 1, 5)
        for i in range(5):
            bob.send_multipart([b"", b"bob %d" % i])
            self.assertEqual(recv_within(bob, 5), [b"", b"re:bob %d" % i])
        self.assertTrue(g.running())
        self.assertEqual(svc.messages(),
                         [[b"alice before"]] + [[b"bob %d" % i] for i in range(5)])


class Granted(GateTest):
    """A key added to the allowlist while the gate runs: refused before,
    served after, without a restart."""

    def test_key_added_live(self):
        g = self.gate("reqrep", allowed=("alice",))
        svc = self.start_service(zmq.REP)
        pid = g.pid
        g.wait_log(r"auth: allowlist %s: 1 keys" % re.escape(self.allow_dir), 2)
        carol = self.client(zmq.DEALER, g, "carol")
        carol.send_multipart([b"", b"carol before"])
        g.wait_metric("zguard_auth_decisions_total", 1, 5, result="deny",
                      reason="unknown_key")
        g.wait_log(r"auth: deny user=- key=\S+ address=127\.0\.0\.1 reason=unknown key", 2)
        # her socket (and the request it still holds) goes; the key arrives
        carol.close(linger=0)
        lib.allow(self.allow_dir, self.keys.public("carol"))
        g.wait_log(r"auth: allowlist %s: 2 keys" % re.escape(self.allow_dir), 2)
        self.assertEqual(g.metric("zguard_auth_keys"), 2)
        carol = self.client(zmq.DEALER, g, "carol")
        carol.send_multipart([b"", b"carol after"])
        self.assertEqual(recv_within(carol, 5), [b"", b"re:carol after"])
        g.wait_log(r"auth: allow user=carol key=\S+ address=127\.0\.0\.1", 2)
        alice = self.client(zmq.REQ, g, "alice")
        alice.send(b"alice")
        self.assertEqual(recv_within(alice, 5), [b"re:alice"])
        self.assertEqual(svc.messages(), [[b"carol after"], [b"alice"]])
        self.assertEqual((g.pid, g.running(), g.count_log(r"gate: ready")),
                         (pid, True, 1))


class Oversized(GateTest):
    def test_maxmsgsize_disconnects(self):
        """A frame over the frontend's MAXMSGSIZE (64 KiB here): the sender
        is disconnected and nothing of it reaches the service; its next
        (small) request on a new connection is served."""
        policy = lib.FAST_POLICY + "[type.router]\nmaxmsgsize = 64KiB\n"
        g = self.gate("reqrep", policy=policy)
        svc = self.start_service(zmq.ROUTER)
        c = self.client(zmq.DEALER, g, "alice")
        c.send_multipart([b"", b"small"])
        self.assertEqual(recv_within(c, 5), [b"", b"re:small"])
        c.send_multipart([b"", b"big", b"x" * (64 * 1024 + 1)])
        g.wait_metric("zguard_connections_total", 1, 5, socket="frontend",
                      event="disconnected")
        c.send_multipart([b"", b"after"])
        self.assertEqual(recv_within(c, 5), [b"", b"re:after"])
        self.assertEqual(svc.messages(), [[b"small"], [b"after"]])
        # Under CURVE libzmq applies MAXMSGSIZE to the encrypted frame,
        # which is 33 bytes longer than the plaintext (MESSAGE command
        # name 8, nonce 8, MAC 16, flags 1): the largest frame that passes
        # is the limit minus 33, and one byte more is cut.
        largest = 64 * 1024 - 33
        c.send_multipart([b"", b"y" * largest])
        self.assertEqual(recv_within(c, 5), [b"", b"re:" + b"y" * largest])
        c.send_multipart([b"", b"z" * (largest + 1)])
        g.wait_metric("zguard_connections_total", 2, 5, socket="frontend",
                      event="disconnected")
        c.send_multipart([b"", b"last"])
        self.assertEqual(recv_within(c, 5), [b"", b"re:last"])
        self.assertEqual(svc.messages(),
                         [[b"small"], [b"after"], [b"y" * largest], [b"last"]])


class Pressure(GateTest):
    def test_client_not_reading_replies(self):
        """reqrep: a client that sends requests and never reads: once its
        queue at the gate is full (SNDHWM 10 here) its replies are dropped
        and counted, and bob, reading, is answered throughout."""
        policy = lib.FAST_POLICY + "[type.router]\nsndhwm = 10\n"
        g = self.gate("reqrep", allowed=("alice", "bob"), policy=policy)
        self.start_service(zmq.ROUTER, reply_size=32 * 1024)
        lazy = self.client(zmq.DEALER, g, "alice", rcvhwm=1, rcvbuf=4096, sndtimeo=2000)
        bob = self.client(zmq.DEALER, g, "bob")
        n = 1000  # 32 MB of replies: more than HWM and socket buffers hold
        for i in range(n):
            lazy.send_multipart([b"", b"%d" % i])
            if i % 100 == 0:
                bob.send_multipart([b"", b"bob %d" % i])
                self.assertEqual(len(recv_within(bob, 5)[1]), 32 * 1024)
        g.wait_log(r"gate: dropped a message for a client that is not reading", 5)
        g.wait_metric("zguard_hwm_reached_total", 1, 5, socket="frontend")
        for i in range(5):
            bob.send_multipart([b"", b"bob again %d" % i])
            self.assertEqual(len(recv_within(bob, 5)[1]), 32 * 1024)
        rc, _ = g.stop()
        self.assertEqual(rc, 0)
        to_backend, to_frontend, dropped, unanswered = g.stopped_counts()
        self.assertEqual(to_backend, n + 15)
        self.assertGreater(dropped, 0)
        self.assertEqual(to_frontend + dropped + unanswered, to_backend)

    def flood(self, pattern, service_kind, client_kind, frames):
        """The service stops reading; an authorized client floods 64 KiB
        messages. Back-pressure: its send times out (SNDTIMEO) long before
        it sent what the flood would hold, and the gate's RSS stays within
        what its HWMs imply. Once the service reads again, every message
        the flooder was able to send reaches it: none is lost."""
        policy = lib.FAST_POLICY + ("[type.%s]\nrcvhwm = 100\n[type.%s]\nsndhwm = 100\n"
                                    % (("router", "dealer") if pattern == "reqrep"
                                       else ("pull", "push")))
        g = self.gate(pattern, policy=policy)
        svc = self.start_service(service_kind)
        c = self.client(client_kind, g, "alice", sndhwm=100, sndtimeo=300)
        c.send_multipart(frames(-1))
        self.assertEqual(svc.wait_count(1, 5), 1)  # flowing; now the service stops
        svc.pause()
        rss0 = g.rss_kb()
        size = 64 * 1024
        attempt = 3000  # 192 MiB if nothing pushed back
        sent = 0
        for i in range(attempt):
            try:
                c.send_multipart(frames(i) + [b"f" * size])
            except zmq.Again:
                break
            sent += 1
        self.assertLess(sent, attempt, "the flooder was never pushed back")
        rss1 = g.rss_kb()
        grown_mib = (rss1 - rss0) / 1024
        # bound: frontend RCVHWM + backend SNDHWM messages (200 x 64 KiB =
        # 12.5 MiB) plus libzmq's batches and socket buffers
        self.assertLess(grown_mib, 48, "the gate grew %.1f MiB under the flood" % grown_mib)
        g.wait_log(r"the service is not keeping up: backend mute", 5)
        g.wait_metric("zguard_hwm_reached_total", 1, 5, socket="backend")
        svc.resume()
        self.assertEqual(svc.wait_count(sent + 1, 20), sent + 1)
        got = svc.messages()[1:]
        self.assertEqual([m[-2] for m in got], [b"%d" % i for i in range(sent)])
        self.assertTrue(all(len(m[-1]) == size for m in got))
        return sent, grown_mib

    def test_flood_slow_service_pipeline(self):
        self.flood("pipeline", zmq.PULL, zmq.PUSH, lambda i: [b"%d" % i])

    def test_flood_slow_service_reqrep(self):
        self.flood("reqrep", zmq.ROUTER, zmq.DEALER, lambda i: [b"", b"%d" % i])


class Limits(GateTest):
    """Per-address limits at the gate's frontend, against zguard-zmtp-peer
    (a ZMTP client written without libzmq: many connections from one
    source address, handshakes in a loop) while alice, from another
    address, is served throughout."""

    def config(self, frontend_extra="", auth_extra=""):
        lib.allow(self.allow_dir, self.keys.public("alice"))
        port = lib.free_port()
        text = ("version = 1\n[defaults]\nhandshake_ivl = 2s\nlinger = 1s\n"
                "[gate]\npattern = reqrep\nfrontend = tcp://127.0.0.1:*\n"
                "backend = %s\n"
                "[socket.frontend]\ntype = router\ncurve_keys = %s\n%s"
                "[socket.backend]\ntype = dealer\nsecurity = none\n"
                "insecure = yes\nrationale = the test's plaintext service\n"
                "[auth]\nallow = %s\n%s"
                "[metrics]\nlisten = 127.0.0.1:%d\n"
                % (self.backend, self.keys.secret("gate"), frontend_extra,
                   self.allow_dir, auth_extra, port))
        g = lib.Gate(["--config", self.policy_file(text, "gate.policy")],
                     metrics=False)
        g.metrics_port = port  # the config file's, for g.metric()
        self.gates.append(g)
        g.start()
        return g

    def attacker(self, g, mode, *args):
        peer = os.path.join(os.path.dirname(lib.ZGUARD), "zguard-zmtp-peer")
        r = subprocess.run([peer, mode, "--endpoint", g.frontend] + list(args),
                           capture_output=True, text=True, timeout=30 * lib.SLACK)
        self.assertEqual(r.returncode, 0, r.stderr)
        return json.loads(r.stdout.strip().splitlines()[-1])

    def alice_served(self, g, what):
        c = self.client(zmq.DEALER, g, "alice")
        c.send_multipart([b"", what])
        self.assertEqual(recv_within(c, 5), [b"", b"re:" + what])

    def test_connection_flood_from_one_address(self):
        g = self.config("max_peers_per_ip = 3\n")
        self.start_service(zmq.ROUTER)
        self.alice_served(g, b"before")
        r = self.attacker(g, "connections", "--count", "10", "--handshake", "no",
                          "--source", "127.0.0.7", "--hold", "0.5")
        # three connections from 127.0.0.7 stay; the other seven are closed
        # at once; alice (127.0.0.1) is another address
        refused = g.wait_metric("zguard_connections_refused_total", 7, 5,
                                socket="frontend", reason="per_ip_limit")
        self.assertEqual(refused, 7, r)
        self.assertEqual(g.metric("zguard_auth_decisions_total", result="deny",
                                  reason="per_ip_limit"), 7)
        self.alice_served(g, b"after")
        pattern = r"refused a connection from 127\.0\.0\.7"
        g.wait_log(pattern, 5)  # its stderr is read by another thread
        self.assertEqual(g.count_log(pattern), 1)  # once a minute, not 7 times

    def test_handshake_storm_locked_out(self):
        g = self.config(auth_extra="auth_failures_per_ip = 5\n"
                                   "auth_failure_window = 1m\nlockout = 1m\n")
        self.start_service(zmq.ROUTER)
        r = self.attacker(g, "handshakes", "--count", "40", "--source", "127.0.0.8",
                          "--server-key", self.keys.public("gate"))
        # the attacker may see its last refusal before the authenticator
        # has counted it: wait for the count, then it must be exact
        locked = g.wait_metric("zguard_auth_decisions_total", 35, 5,
                               result="deny", reason="lockout")
        unknown = g.metric("zguard_auth_decisions_total", result="deny",
                           reason="unknown_key")
        # five keys looked at, then refused without a look: bounded work
        self.assertEqual(unknown, 5, r)
        self.assertEqual(locked, 35, r)
        for pattern in (r"locked out for 60s after 5 failed",
                        r"reason=address locked out"):
            g.wait_log(pattern, 5)  # its stderr is read by another thread
            self.assertEqual(g.count_log(pattern), 1)  # once, not 35 times
        self.alice_served(g, b"bystander")


if __name__ == "__main__":
    lib.main()
