#!/usr/bin/env python3
"""zguard gate's /status on its metrics server: 200 while the gate can
forward, 503 once the backend has had no peer for longer than
backend_grace, 200 again when the service returns; the JSON says why. Every
wait is on the status itself, bounded.

usage: test_gate_status.py PATH/TO/zguard
"""
import subprocess

import zmq
import zmq.auth

import test_gate_lib as lib
from test_gate_lib import GateTest, Gate, echo_once, recv_within


class Status(GateTest):
    def ask(self, req, svc, body):
        req.send(body)
        self.assertEqual(echo_once(svc), [body])
        self.assertEqual(recv_within(req, 5), [b"re:" + body])

    def reachable(self, gate):
        """Waits for a backend peer (within the grace /status is 200
        before); returns the 200 status that says so."""
        def up():
            code, st = gate.status()
            return st if code == 200 and st["backend_reachable"] else None
        return lib.wait_until(up, 5, "the backend reachable in /status")

    def test_service_down_and_back(self):
        gate = self.gate("reqrep", extra=["--backend-grace", "1s"])
        svc = self.service(zmq.REP)
        st = self.reachable(gate)
        self.assertEqual(st["status"], "ok")
        self.assertEqual(st["mode"], "ingress")
        self.assertEqual(st["pattern"], "reqrep")
        self.assertEqual(st["frontend"], gate.frontend)
        self.assertEqual(st["backend"], self.backend)
        self.assertEqual(st["allowlist_keys"], 1)
        self.assertEqual(st["peers"], {"frontend": 0, "backend": 1})
        self.assertEqual(st["backend_down_ms"], 0)
        self.assertEqual(st["backend_grace_ms"], 1000)
        self.assertEqual(st["restarts"], 0)
        self.assertGreater(st["uptime_s"], 0)
        req = self.client(zmq.REQ, gate)
        self.ask(req, svc, b"one")
        self.assertEqual(gate.status()[1]["peers"]["frontend"], 1)

        self.socks.remove(svc)
        svc.close(linger=0)  # the service stops
        st = gate.wait_status(503, 10)
        self.assertEqual(st["status"], "backend unreachable")
        self.assertFalse(st["backend_reachable"])
        self.assertEqual(st["peers"]["backend"], 0)
        self.assertGreater(st["backend_down_ms"], 1000)

        svc = self.service(zmq.REP)  # it comes back; libzmq reconnects
        st = gate.wait_status(200, 10)
        self.assertTrue(st["backend_reachable"])
        self.ask(req, svc, b"two")

    def test_no_grace_no_service(self):
        """backend_grace = 0 in a --config file: 503 as long as the service
        never came, 200 once it has."""
        port = lib.free_port()
        config = self.policy_file(
            lib.FAST_POLICY +
            "[gate]\npattern = pipeline\nfrontend = tcp://127.0.0.1:*\n"
            "backend = %s\nbackend_grace = 0s\n"
            "[socket.frontend]\ntype = pull\ncurve_keys = %s\n"
            "[socket.backend]\ntype = push\nsecurity = none\ninsecure = yes\n"
            "rationale = local\n[auth]\nallow = %s\n"
            "[metrics]\nlisten = 127.0.0.1:%d\n"
            % (self.backend, self.keys.public("gate"), self.allow_dir, port),
            name="gate.conf")
        g = Gate(["--config", config], metrics=False)
        g.metrics_port = port
        self.gates.append(g)
        g.start()
        st = g.wait_status(503, 5)
        self.assertEqual(st["backend_grace_ms"], 0)
        self.assertFalse(st["backend_reachable"])
        self.assertEqual(st["pattern"], "pipeline")
        self.service(zmq.PULL)
        self.assertTrue(g.wait_status(200, 10)["backend_reachable"])

    def test_client_mode(self):
        """A client-mode gate's status: its CURVE server is its backend."""
        public, secret = zmq.auth.load_certificate(self.keys.secret("gate"))
        server = self.socket(zmq.REP)
        server.curve_server = True
        server.curve_publickey, server.curve_secretkey = public, secret
        port = server.bind_to_random_port("tcp://127.0.0.1")
        g = Gate(["--mode", "client", "--pattern", "reqrep",
                  "--frontend", "ipc://%s/edge.sock" % self.dir,
                  "--backend", "tcp://127.0.0.1:%d" % port,
                  "--client-key", self.keys.public("edge"),
                  "--server-public", self.keys.public("gate"),
                  "--backend-grace", "200ms",
                  "--policy", self.policy_file()])
        self.gates.append(g)
        g.start()
        st = self.reachable(g)
        self.assertEqual(st["mode"], "client")
        self.assertIsNone(st["allowlist_keys"])
        self.assertEqual(st["peers"]["backend"], 1)
        self.socks.remove(server)
        server.close(linger=0)
        self.assertFalse(g.wait_status(503, 10)["backend_reachable"])

    def test_bad_grace_refused(self):
        r = subprocess.run([lib.ZGUARD, "gate", "--pattern", "reqrep",
                            "--frontend", "tcp://127.0.0.1:*",
                            "--backend", self.backend,
                            "--server-key", self.keys.public("gate"),
                            "--allow", self.allow_dir,
                            "--backend-grace", "5 parsecs"],
                           capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn("zguard gate: --backend-grace: '5 parsecs'", r.stderr)


if __name__ == "__main__":
    lib.main()
