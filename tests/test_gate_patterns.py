#!/usr/bin/env python3
"""zguard gate in its three patterns, driven by independent pyzmq peers:
authorized traffic flows both ways where the pattern has two ways,
multipart messages arrive whole, the service sees plaintext while the
clients speak CURVE pinning the gate's public key (read from zguard's key
files by pyzmq's zmq.auth).

usage: test_gate_patterns.py PATH/TO/zguard
"""
import os
import time

import zmq

import test_gate_lib as lib
from test_gate_lib import GateTest, echo_once, recv_within, drain


class ReqRep(GateTest):
    def test_req_and_dealer_clients_rep_service(self):
        """REQ and DEALER clients, a REP service: each client gets the
        answers to its own requests, multipart both ways."""
        gate = self.gate("reqrep", allowed=("alice", "bob"))
        svc = self.service(zmq.REP)
        self.assertEqual(svc.mechanism, zmq.NULL)  # the service: plaintext
        req = self.client(zmq.REQ, gate, "alice")
        dealer = self.client(zmq.DEALER, gate, "bob")
        for i in range(5):
            req.send_multipart([b"req-%d" % i, b"part two", b"\x00\xff" * 100])
            dealer.send_multipart([b"", b"dealer-%d" % i, b"x" * 70000])
            got = {echo_once(svc)[0][:3], echo_once(svc)[0][:3]}
            self.assertEqual(got, {b"req", b"dea"})
            self.assertEqual(recv_within(req, 5),
                             [b"re:req-%d" % i, b"re:part two", b"re:" + b"\x00\xff" * 100])
            self.assertEqual(recv_within(dealer, 5),
                             [b"", b"re:dealer-%d" % i, b"re:" + b"x" * 70000])
        self.assertEqual(drain(req, 0.05) + drain(dealer, 0.05), [])
        self.assertEqual(gate.stop()[0], 0)
        self.assertEqual(gate.stopped_counts(), (10, 10, 0, 0))

    def test_router_service_many_in_flight(self):
        """A ROUTER service sees [gate's routing id, client's routing id,
        '', body...]; 50 requests in flight from two DEALERs come back to
        the right client, each reply whole."""
        gate = self.gate("reqrep", allowed=("alice", "bob"))
        svc = self.service(zmq.ROUTER)
        a = self.client(zmq.DEALER, gate, "alice")
        b = self.client(zmq.DEALER, gate, "bob")
        for i in range(50):
            a.send_multipart([b"", b"a", b"%d" % i])
            b.send_multipart([b"", b"b", b"%d" % i])
        seen = []
        for _ in range(100):
            msg = recv_within(svc, 5)
            self.assertIsNotNone(msg, "the service got %d of 100" % len(seen))
            # gate's DEALER id, the client's id at the gate's ROUTER, delimiter
            self.assertEqual(len(msg), 5, msg)
            self.assertEqual(msg[2], b"")
            seen.append((msg[3], msg[4]))
            svc.send_multipart(msg[:3] + [b"re:" + msg[3], msg[4]])
        self.assertEqual(sorted(seen), sorted([(c, b"%d" % i) for c in (b"a", b"b")
                                               for i in range(50)]))
        for sock, name in ((a, b"re:a"), (b, b"re:b")):
            got = [recv_within(sock, 5) for _ in range(50)]
            self.assertEqual(got, [[b"", name, b"%d" % i] for i in range(50)])
        self.assertEqual(drain(a, 0.05) + drain(b, 0.05), [])

    def test_encrypted_server_key_with_passphrase_file(self):
        """The gate's secret key encrypted (Argon2id), its passphrase from
        --passphrase-file: the gate decrypts it and serves."""
        pdir = os.path.join(self.dir, "sealed")
        os.mkdir(pdir)
        pfile = os.path.join(pdir, "pass")
        lib.write_file(pfile, "correct horse battery staple\n", 0o600)
        public, _ = lib.keygen(pdir, "sealedgate", passphrase_file=pfile)
        gate = self.gate("reqrep", server_key=public,
                         extra=["--passphrase-file", pfile])
        svc = self.service(zmq.REP)
        req = self.client(zmq.REQ, gate, server=public)
        req.send(b"sealed")
        self.assertEqual(echo_once(svc), [b"sealed"])
        self.assertEqual(recv_within(req, 5), [b"re:sealed"])


class PubSub(GateTest):
    def publish_until(self, pub, topics, sub, want, timeout=5):
        """Publishes one message per topic each round (subscriptions take a
        moment to travel client -> gate -> service) until sub has a message
        starting with want; returns that message."""
        deadline = time.monotonic() + timeout * lib.SLACK
        n = 0
        while time.monotonic() < deadline:
            for t in topics:
                pub.send_multipart([t + b"%d" % n, b"body", b"tail"])
            n += 1
            msg = recv_within(sub, 0.02)
            while msg is not None:
                if msg[0].startswith(want):
                    return msg
                msg = recv_within(sub, 0.001)
        self.fail("no %r message reached the subscriber" % want)

    def test_subscriptions_forwarded_topics_kept_apart(self):
        gate = self.gate("pubsub", allowed=("alice", "bob"))
        pub = self.service(zmq.PUB)
        a = self.client(zmq.SUB, gate, "alice")
        b = self.client(zmq.SUB, gate, "bob")
        a.subscribe(b"a.")
        a.subscribe(b"z.")
        b.subscribe(b"b.")
        # The PUB service sends nothing nobody subscribed to: a message at a
        # client proves its subscription reached the service.
        self.assertEqual(self.publish_until(pub, [b"a.", b"b.", b"z.", b"c."], a, b"a.")[1:],
                         [b"body", b"tail"])
        self.publish_until(pub, [b"a.", b"b.", b"z.", b"c."], b, b"b.")
        drain(a, 0.05)
        drain(b, 0.05)
        # Both subscribed: a numbered round reaches each client with its
        # topics only, whole.
        for i in range(20):
            for t in (b"a.", b"b.", b"c.", b"z."):
                pub.send_multipart([t + b"r%d" % i, b"body", b"tail"])
        got_a = [recv_within(a, 5) for _ in range(40)]
        got_b = [recv_within(b, 5) for _ in range(20)]
        self.assertEqual(got_a, [[t + b"r%d" % i, b"body", b"tail"]
                                 for i in range(20) for t in (b"a.", b"z.")])
        self.assertEqual(got_b, [[b"b.r%d" % i, b"body", b"tail"] for i in range(20)])
        self.assertEqual(drain(a, 0.1) + drain(b, 0.1), [])

        # Unsubscribing works: once a round's z. message arrives with no a.
        # before it, the gate has applied it; from then on no a. message.
        a.unsubscribe(b"a.")
        deadline = time.monotonic() + 5 * lib.SLACK
        n = 0
        while True:
            self.assertLess(time.monotonic(), deadline, "the unsubscribe never applied")
            pub.send_multipart([b"a.u%d" % n, b"body", b"tail"])
            pub.send_multipart([b"z.u%d" % n, b"body", b"tail"])
            first = recv_within(a, 1)
            self.assertIsNotNone(first)
            if first[0].startswith(b"z."):
                break
            self.assertEqual(first[0], b"a.u%d" % n)
            self.assertEqual(recv_within(a, 1)[0], b"z.u%d" % n)
            n += 1
        for i in range(20):
            pub.send_multipart([b"a.after%d" % i, b"x"])
            pub.send_multipart([b"z.after%d" % i, b"x"])
        after = [recv_within(a, 5) for _ in range(20)]
        self.assertEqual([m[0] for m in after], [b"z.after%d" % i for i in range(20)])
        self.assertEqual(drain(a, 0.1), [])
        # bob is untouched by alice's unsubscribe
        pub.send_multipart([b"b.still", b"x"])
        self.assertEqual(recv_within(b, 5), [b"b.still", b"x"])


class Pipeline(GateTest):
    def test_push_clients_pull_service(self):
        """Two PUSH clients, one PULL service: every message arrives once,
        whole, in each client's order."""
        gate = self.gate("pipeline", allowed=("alice", "bob"))
        pull = self.service(zmq.PULL)
        a = self.client(zmq.PUSH, gate, "alice", sndtimeo=5000)
        b = self.client(zmq.PUSH, gate, "bob", sndtimeo=5000)
        n = 300
        for i in range(n):
            a.send_multipart([b"a", b"%d" % i, b"." * (i % 7) * 1000])
            b.send_multipart([b"b", b"%d" % i])
        got = {b"a": [], b"b": []}
        for _ in range(2 * n):
            msg = recv_within(pull, 5)
            self.assertIsNotNone(msg, "the service got %d of %d"
                                 % (len(got[b"a"]) + len(got[b"b"]), 2 * n))
            got[msg[0]].append(msg)
        self.assertEqual(got[b"a"], [[b"a", b"%d" % i, b"." * (i % 7) * 1000]
                                     for i in range(n)])
        self.assertEqual(got[b"b"], [[b"b", b"%d" % i] for i in range(n)])
        self.assertEqual(drain(pull, 0.1), [])
        self.assertEqual(gate.stop()[0], 0)
        self.assertEqual(gate.stopped_counts()[0], 2 * n)


if __name__ == "__main__":
    lib.main()
