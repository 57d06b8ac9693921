#!/usr/bin/env python3
"""zguard gate --mode client: two unchanged programs (plain pyzmq, no CURVE
in their code) talk over CURVE through a client-mode gate and an ingress
gate back to back, in the three patterns:

    plaintext client -> client gate ==CURVE==> relay ==> ingress gate -> plaintext service

The relay between the gates is a TCP relay of this test that keeps every
byte it forwards: it must see traffic and none of the plaintext. A
client-mode gate whose key is not in the ingress gate's allowlist gets
nothing through, and a client-mode gate refuses a frontend that is not on
this machine.

usage: test_gate_client.py PATH/TO/zguard
"""
import re
import subprocess

import zmq
import zmq.auth

import test_gate_lib as lib
from test_gate_lib import GateTest, Gate, recv_within, drain


class ClientMode(GateTest):
    def pair(self, pattern, edge="edge", allowed=("edge",)):
        """An ingress gate in front of self.backend allowing `allowed`, a
        relay to its frontend, and a client-mode gate with `edge`'s key
        connecting through the relay. Returns (client gate, ingress gate,
        relay)."""
        ingress = self.gate(pattern, allowed=allowed)
        port = int(ingress.frontend.rsplit(":", 1)[1])
        relay = lib.Relay(port)
        self.addCleanup(relay.close)
        client = self.client_gate(pattern, "tcp://127.0.0.1:%d" % relay.port, edge)
        return client, ingress, relay

    def client_gate(self, pattern, backend, edge="edge", frontend=None,
                    start=True):
        args = ["--mode", "client", "--pattern", pattern,
                "--frontend", frontend or "ipc://%s/edge.sock" % self.dir,
                "--backend", backend,
                "--client-key", self.keys.public(edge),
                "--server-public", self.keys.public("gate"),
                "--policy", self.policy_file(name="edge.policy")]
        g = Gate(args)
        self.gates.append(g)
        if start:
            g.start()
        return g

    def local(self, kind, gate, **opts):
        """An unchanged plaintext program connected to the client gate."""
        return self.socket(kind, connect=gate.frontend, **opts)

    def assert_no_plaintext(self, relay, *secrets):
        self.assertTrue(relay.wait_bytes(1, 5 * lib.SLACK))
        with relay.lock:
            seen = bytes(relay.seen)
        for s in secrets:
            self.assertNotIn(s, seen)

    def test_reqrep_both_ways(self):
        """REQ and DEALER clients, a REP service: requests arrive whole,
        each client gets its own replies; the relay sees only CURVE."""
        client, ingress, relay = self.pair("reqrep")
        svc = self.service(zmq.REP)
        self.assertEqual(svc.mechanism, zmq.NULL)
        req = self.local(zmq.REQ, client)
        dealer = self.local(zmq.DEALER, client)
        self.assertEqual(req.mechanism, zmq.NULL)
        for i in range(5):
            req.send_multipart([b"secret-req-%d" % i, b"part two"])
            dealer.send_multipart([b"", b"secret-dealer-%d" % i])
            got = {lib.echo_once(svc)[0][:10], lib.echo_once(svc)[0][:10]}
            self.assertEqual(got, {b"secret-req", b"secret-dea"})
            self.assertEqual(recv_within(req, 5),
                             [b"re:secret-req-%d" % i, b"re:part two"])
            self.assertEqual(recv_within(dealer, 5),
                             [b"", b"re:secret-dealer-%d" % i])
        self.assertEqual(drain(req, 0.05) + drain(dealer, 0.05), [])
        self.assert_no_plaintext(relay, b"secret-req", b"secret-dealer",
                                 b"re:secret", b"part two")
        # the client gate's backend spoke CURVE, the ingress gate allowed it
        ingress.wait_log(r"auth: allow user=\S+ key=%s" % re.escape(self.z85("edge")), 5)
        self.assertEqual(client.stop()[0], 0)
        self.assertEqual(client.stopped_counts(), (10, 10, 0, 0))
        self.assertEqual(ingress.stop()[0], 0)
        self.assertEqual(ingress.stopped_counts(), (10, 10, 0, 0))

    def test_pubsub_both_ways(self):
        """A local SUB subscribes through both gates (the subscription
        reaches the service's XPUB); the service's publications come back,
        filtered, to the subscriber."""
        client, ingress, relay = self.pair("pubsub")
        svc = self.service(zmq.XPUB)
        sub = self.local(zmq.SUB, client)
        sub.setsockopt(zmq.SUBSCRIBE, b"secret-news")
        self.assertEqual(recv_within(svc, 10), [b"\x01secret-news"])
        for i in range(5):
            svc.send_multipart([b"other-topic", b"%d" % i])
            svc.send_multipart([b"secret-news", b"item %d" % i])
        for i in range(5):
            self.assertEqual(recv_within(sub, 5), [b"secret-news", b"item %d" % i])
        self.assertEqual(drain(sub, 0.05), [])
        self.assert_no_plaintext(relay, b"secret-news", b"item 0")
        sub.setsockopt(zmq.UNSUBSCRIBE, b"secret-news")
        self.assertEqual(recv_within(svc, 10), [b"\x00secret-news"])

    def test_pipeline(self):
        """PUSH clients here, a PULL service there: every message arrives,
        whole and in order from each client."""
        client, ingress, relay = self.pair("pipeline")
        svc = self.start_service(zmq.PULL)
        pushers = [self.local(zmq.PUSH, client) for _ in range(2)]
        for i in range(50):
            for n, p in enumerate(pushers):
                p.send_multipart([b"secret-%d" % n, b"%d" % i])
        self.assertEqual(svc.wait_count(100, 10), 100)
        for n in range(2):
            mine = [m[1] for m in svc.messages() if m[0] == b"secret-%d" % n]
            self.assertEqual(mine, [b"%d" % i for i in range(50)])
        self.assert_no_plaintext(relay, b"secret-0", b"secret-1")

    def test_key_outside_the_allowlist_gets_nothing(self):
        """The ingress gate allows alice only: the client gate's key is
        refused at the handshake, nothing reaches the service, nothing
        comes back."""
        client, ingress, relay = self.pair("reqrep", edge="mallory",
                                           allowed=("alice",))
        svc = self.service(zmq.REP)
        req = self.local(zmq.REQ, client)
        req.send(b"let me in")
        ingress.wait_log(r"auth: deny user=- key=%s .*reason=unknown key"
                         % re.escape(self.z85("mallory")), 5)
        self.assertIsNone(recv_within(svc, 0.5))
        self.assertIsNone(recv_within(req, 0.2))
        self.assertEqual(ingress.metric("zguard_messages_received_total",
                                        socket="frontend"), 0)
        self.assertEqual(client.stop()[0], 0)
        self.assertEqual(client.stopped_counts()[1], 0)

    def test_curve_service_directly(self):
        """The backend may be any CURVE service, and several endpoints:
        the client gate spreads requests over both REP servers."""
        secret = self.keys.secret("gate")
        public, sec = zmq.auth.load_certificate(secret)
        servers = []
        for _ in range(2):
            s = self.socket(zmq.REP)
            s.curve_server = True
            s.curve_publickey, s.curve_secretkey = public, sec
            port = s.bind_to_random_port("tcp://127.0.0.1")
            servers.append((s, port))
        backend = ",".join("tcp://127.0.0.1:%d" % p for _, p in servers)
        client = self.client_gate("reqrep", backend)
        dealer = self.local(zmq.DEALER, client)
        for i in range(4):
            dealer.send_multipart([b"", b"q%d" % i])
        seen, answered = set(), 0
        while answered < 4:
            poller = zmq.Poller()
            for s, _ in servers:
                poller.register(s, zmq.POLLIN)
            ready = dict(poller.poll(5000 * lib.SLACK))
            self.assertTrue(ready, "no request reached a CURVE server; "
                            "log:\n" + client.text())
            for s, _ in servers:
                if s in ready:
                    self.assertEqual(s.mechanism, zmq.CURVE)
                    lib.echo_once(s)
                    seen.add(s)
                    answered += 1
        self.assertEqual(len(seen), 2)  # both endpoints were connected
        replies = [recv_within(dealer, 5) for _ in range(4)]
        self.assertEqual(sorted(r[1] for r in replies),
                         [b"re:q%d" % i for i in range(4)])

    # -- refusals --

    def run_gate(self, *args):
        return subprocess.run([lib.ZGUARD, "gate"] + list(args),
                              capture_output=True, text=True, timeout=30)

    def test_non_local_frontend_refused(self):
        """A plaintext frontend that could be reached from the network is
        refused, from flags and from a config file (naming file and line)."""
        for ep in ("tcp://0.0.0.0:5555", "tcp://192.0.2.1:5555",
                   "tcp://eth0:5555"):
            r = self.run_gate("--mode", "client", "--pattern", "reqrep",
                              "--frontend", ep, "--backend", "tcp://192.0.2.9:1",
                              "--client-key", self.keys.public("edge"),
                              "--server-public", self.keys.public("gate"))
            self.assertEqual(r.returncode, 2, r.stderr)
            self.assertIn("zguard gate: --frontend: '%s' leaves this machine "
                          "in plaintext" % ep, r.stderr)
        config = self.policy_file(
            "version = 1\n[gate]\npattern = pipeline\nmode = client\n"
            "frontend = tcp://0.0.0.0:5555\nbackend = tcp://192.0.2.9:1\n"
            "[socket.frontend]\ntype = pull\nsecurity = none\ninsecure = yes\n"
            "rationale = local clients\n"
            "[socket.backend]\ntype = push\ncurve_keys = %s\n"
            "curve_server_key = %s\n" % (self.keys.public("edge"),
                                         self.keys.public("gate")),
            name="edge.conf")
        r = self.run_gate("--config", config)
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn("%s:5: frontend: 'tcp://0.0.0.0:5555' leaves this "
                      "machine in plaintext" % config, r.stderr)

    def test_client_mode_needs_curve_backend(self):
        config = self.policy_file(
            "version = 1\n[gate]\npattern = pipeline\nmode = client\n"
            "frontend = ipc://%s/x.sock\nbackend = tcp://192.0.2.9:1\n"
            "[socket.frontend]\ntype = pull\nsecurity = none\ninsecure = yes\n"
            "rationale = local clients\n"
            "[socket.backend]\ntype = push\nsecurity = none\ninsecure = yes\n"
            "rationale = wrong\n" % self.dir, name="edge.conf")
        r = self.run_gate("--config", config)
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn("%s:4: mode: a client-mode gate connects its backend "
                      "with CURVE" % config, r.stderr)

    def test_flags_of_the_other_mode_refused(self):
        r = self.run_gate("--mode", "client", "--pattern", "reqrep",
                          "--frontend", "ipc:///tmp/x", "--backend", "tcp://h:1",
                          "--client-key", self.keys.public("edge"),
                          "--server-public", self.keys.public("gate"),
                          "--allow", self.allow_dir)
        self.assertEqual(r.returncode, 2)
        self.assertIn("--allow is for an ingress gate", r.stderr)
        r = self.run_gate("--pattern", "reqrep", "--frontend", "tcp://127.0.0.1:*",
                          "--backend", "ipc:///tmp/x",
                          "--server-key", self.keys.public("gate"),
                          "--allow", self.allow_dir,
                          "--server-public", self.keys.public("gate"))
        self.assertEqual(r.returncode, 2)
        self.assertIn("--server-public is for --mode client", r.stderr)
        r = self.run_gate("--mode", "egress", "--pattern", "reqrep")
        self.assertEqual(r.returncode, 2)
        self.assertIn("--mode is ingress or client, not 'egress'", r.stderr)

    def z85(self, name):
        public, _ = zmq.auth.load_certificate(self.keys.public(name))
        return public.decode()


if __name__ == "__main__":
    lib.main()
