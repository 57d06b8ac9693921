"""zguard gate: reload on SIGHUP and systemd socket activation.

First the libzmq fact the reload is built on, on real pyzmq sockets: a
CURVE key set on a socket after it bound never reaches a new handshake on
that endpoint (the listener copied the socket's options when it bound),
and unbinding ends the sessions it accepted. Then the gate: a rotated
gate key taken on SIGHUP while an established session goes on, a new client
pinning the new key gets in, one pinning the old key does not; failed
reloads (an unreadable revocation list, a wrong passphrase) keep the old
state, name the file and count as failed. Socket activation: the test binds
and listens itself and execs the gate with the socket as fd 3 and
LISTEN_PID/LISTEN_FDS set (LISTEN_PID in a preexec_fn, which runs in the
child: its pid is the gate's); and the refusals (LISTEN_FDS 2, another
address).
"""
import glob
import os
import signal
import socket
import subprocess
import sys

import zmq
import zmq.auth
from zmq.utils.monitor import recv_monitor_message

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import test_gate_lib as lib  # noqa: E402
from test_gate_lib import GateTest, Gate, echo_once, recv_within, wait_until  # noqa: E402

REPLY_S = 3      # a reply through a working path comes within this
REFUSED_S = 1.5  # a path that does not work: nothing within this
NEW_CLIENTS = 12  # all on the new listener: 1 in 4096 by chance if split


def rotate(test, key, *extra):
    """`zguard key rotate KEY`: the archived (old) public file."""
    r = subprocess.run([lib.ZGUARD, "key", "rotate", key] + list(extra),
                       capture_output=True, text=True, timeout=60)
    test.assertEqual(r.returncode, 0, r.stdout + r.stderr)
    return [p for p in glob.glob(key[:-len(".key")] + ".*.key") if p != key][0]


def ask(sock, service, body):
    """One request through the gate, answered by service: the reply."""
    sock.send_multipart([body])
    if echo_once(service, REPLY_S) is None:
        return None
    return recv_within(sock, REPLY_S)


class LibzmqKeys(GateTest):
    """What libzmq 4.3 does with CURVE keys and bound endpoints."""

    def server(self, public, secret):
        s = self.socket(zmq.ROUTER)
        s.curve_server = True
        s.curve_publickey, s.curve_secretkey = public, secret
        port = s.bind_to_random_port("tcp://127.0.0.1")
        return s, "tcp://127.0.0.1:%d" % port

    def client_of(self, endpoint, server_public):
        c = self.socket(zmq.DEALER)
        c.curve_publickey, c.curve_secretkey = zmq.curve_keypair()
        c.curve_serverkey = server_public
        c.connect(endpoint)
        return c

    def echo(self, server, client):
        client.send(b"ping")
        msg = recv_within(server, REFUSED_S)
        if msg is None:
            return False
        server.send_multipart(msg)
        return recv_within(client, REPLY_S) == [b"ping"]

    def test_key_set_after_bind_reaches_no_new_handshake(self):
        old, new = zmq.curve_keypair(), zmq.curve_keypair()
        server, ep = self.server(*old)
        server.curve_publickey, server.curve_secretkey = new
        self.assertFalse(self.echo(server, self.client_of(ep, new[0])),
                         "a client pinning the key set after bind got in")
        self.assertTrue(self.echo(server, self.client_of(ep, old[0])),
                        "the key the socket was bound with no longer works")

    def test_unbind_ends_the_sessions_it_accepted(self):
        pair = zmq.curve_keypair()
        server, ep = self.server(*pair)
        client = self.client_of(ep, pair[0])
        self.assertTrue(self.echo(server, client))
        server.unbind(server.last_endpoint)
        # the established client still sends; nothing reaches the server
        self.assertFalse(self.echo(server, client),
                         "a session outlived the unbind of its endpoint")


class Reload(GateTest):
    def own_pair(self, name="gate", passphrase_file=None):
        d = os.path.join(self.dir, "own")
        os.makedirs(d, exist_ok=True)
        return lib.keygen(d, name, passphrase_file)

    def reload(self, gate, result, count=1):
        gate.signal(signal.SIGHUP)
        gate.wait_log("gate: reload %s" % ("done" if result == "ok" else "failed"),
                      5, count=count)
        gate.wait_metric("zguard_reloads_total", count, 5, result=result)

    def test_rotated_key_keeps_sessions_and_takes_new_clients(self):
        public, _ = self.own_pair()
        gate = self.gate("reqrep", allowed=("alice", "bob", "carol"),
                         server_key=public)
        svc = self.service(zmq.REP)
        before = self.client(zmq.REQ, gate, "alice", server=public)
        self.assertEqual(ask(before, svc, b"one"), [b"re:one"])

        archived = rotate(self, public, "--no-passphrase")
        self.reload(gate, "ok")
        gate.wait_log("gate: reload: new key pair %s" % public, 1)
        self.assertEqual(gate.metric("zguard_reloads_total", result="failed"), 0)

        # the established session goes on, with the old key
        for i in range(5):
            body = b"again-%d" % i
            self.assertEqual(ask(before, svc, body), [b"re:" + body])
        # every new client pinning the new key gets in: new connections go
        # to the new listener, not to either of the two at random
        for i in range(NEW_CLIENTS):
            fresh = self.client(zmq.REQ, gate, "bob", server=public)
            body = b"new-%d" % i
            self.assertEqual(ask(fresh, svc, body), [b"re:" + body])
        # a new client pinning the old key: its HELLO is for a key the
        # listener no longer has. The gate counts a crypto failure; the
        # client sees HANDSHAKE_FAILED_NO_DETAIL, then DISCONNECTED, and
        # retries at its reconnect interval, failing the same way; nothing
        # passes
        stale = self.client(zmq.REQ, gate, "carol", server=archived)
        events = stale.get_monitor_socket()
        self.socks.append(events)
        stale.send(b"old")
        self.assertIsNone(recv_within(svc, REFUSED_S))
        self.assertIsNone(recv_within(stale, 0.1))
        seen = set()
        while events.poll(0):
            seen.add(recv_monitor_message(events)["event"])
        self.assertIn(zmq.EVENT_HANDSHAKE_FAILED_NO_DETAIL, seen)
        self.assertIn(zmq.EVENT_DISCONNECTED, seen)
        self.assertNotIn(zmq.EVENT_HANDSHAKE_SUCCEEDED, seen)
        self.assertGreaterEqual(gate.metric("zguard_handshake_failures_total",
                                            socket="frontend", reason="crypto"), 1)
        # and the old session is still there after all that
        self.assertEqual(ask(before, svc, b"last"), [b"re:last"])

        # a second rotation: the third listener takes every new connection
        os.unlink(archived)  # rotate names the old pair by the second:
        os.unlink(archived + "_secret")  # the next may come within it
        rotate(self, public, "--no-passphrase")
        self.reload(gate, "ok", count=2)
        for i in range(NEW_CLIENTS):
            newest = self.client(zmq.REQ, gate, "bob", server=public)
            body = b"newest-%d" % i
            self.assertEqual(ask(newest, svc, body), [b"re:" + body])
        self.assertEqual(ask(before, svc, b"first"), [b"re:first"])
        self.assertEqual(ask(fresh, svc, b"second"), [b"re:second"])

    def test_second_gate_on_the_port_is_refused(self):
        # the frontend's socket may take a second listener of this gate's
        # (SO_REUSEPORT), never a second gate: a port in use is refused
        first = self.gate("reqrep")
        second = Gate(["--pattern", "reqrep", "--frontend", first.frontend,
                       "--backend", self.backend,
                       "--server-key", self.keys.public("gate"),
                       "--allow", self.allow_dir], metrics=False)
        self.gates.append(second)
        second._spawn([lib.ZGUARD, "gate"] + second.args)
        self.assertEqual(second.wait_exit(10), 2, second.text())
        self.assertIn("bind %s: Address already in use" % first.frontend,
                      second.text())

    def test_unreadable_revocation_list_fails_and_keeps_the_allowlist(self):
        revoked = os.path.join(self.dir, "revoked.txt")
        lib.write_file(revoked, "# none yet\n")
        gate = self.gate("reqrep", extra=["--revoked", revoked])
        svc = self.service(zmq.REP)
        c = self.client(zmq.REQ, gate)
        self.assertEqual(ask(c, svc, b"a"), [b"re:a"])
        gate.wait_log("auth: allowlist", 5)
        os.unlink(revoked)
        self.reload(gate, "failed")
        gate.wait_log(r"%s: cannot read the revocation list.*keeping the "
                      r"previous allowlist" % revoked, 1)
        self.assertEqual(ask(c, svc, b"b"), [b"re:b"])
        late = self.client(zmq.REQ, gate)  # alice, still allowed
        self.assertEqual(ask(late, svc, b"c"), [b"re:c"])

    def test_wrong_passphrase_fails_and_keeps_the_key(self):
        pass_file = os.path.join(self.dir, "gate.pass")
        lib.write_file(pass_file, "the first passphrase\n", 0o600)
        public, _ = self.own_pair(passphrase_file=pass_file)
        gate = self.gate("reqrep", server_key=public,
                         extra=["--passphrase-file", pass_file])
        svc = self.service(zmq.REP)
        rotate(self, public, "--passphrase-file", pass_file)
        lib.write_file(pass_file, "not the passphrase\n", 0o600)
        self.reload(gate, "failed")
        gate.wait_log(r"gate: reload: .*%s.*keeping the key pair in use"
                      % os.path.basename(public), 1)
        # the old key still takes new clients: nothing changed
        archived = [p for p in glob.glob(public[:-4] + ".*.key")][0]
        c = self.client(zmq.REQ, gate, server=archived)
        self.assertEqual(ask(c, svc, b"x"), [b"re:x"])
        # the right passphrase again: the reload goes through
        lib.write_file(pass_file, "the first passphrase\n", 0o600)
        self.reload(gate, "ok")
        c2 = self.client(zmq.REQ, gate, server=public)
        self.assertEqual(ask(c2, svc, b"y"), [b"re:y"])

    def test_credential_is_read_again(self):
        # under systemd the passphrase is the credential zguard-passphrase:
        # a reload reads it again, and fails, naming it, when it is gone
        creds = os.path.join(self.dir, "credentials")
        os.mkdir(creds)
        cred = os.path.join(creds, "zguard-passphrase")
        lib.write_file(cred, "a credential passphrase\n", 0o600)
        public, _ = self.own_pair(passphrase_file=cred)
        env = dict(os.environ, CREDENTIALS_DIRECTORY=creds)
        env.pop("ZGUARD_PASSPHRASE_FILE", None)
        gate = self.gate("reqrep", server_key=public, env=env)
        svc = self.service(zmq.REP)
        rotate(self, public, "--passphrase-file", cred)
        os.unlink(cred)
        self.reload(gate, "failed")
        gate.wait_log(r"gate: reload: the passphrase for %s: .*%s: .*keeping "
                      r"the key pair in use" % (public, cred), 1)
        lib.write_file(cred, "a credential passphrase\n", 0o600)
        self.reload(gate, "ok")
        c = self.client(zmq.REQ, gate, server=public)
        self.assertEqual(ask(c, svc, b"z"), [b"re:z"])


class SocketActivation(GateTest):
    def test_inherited_socket_carries_clients_to_the_service(self):
        sock = self.listening()
        ep = "tcp://127.0.0.1:%d" % sock.getsockname()[1]
        gate = self.activated(sock, ep).start()
        self.assertEqual(gate.frontend, ep)
        svc = self.service(zmq.REP)
        c = self.client(zmq.REQ, gate)
        self.assertEqual(ask(c, svc, b"hello"), [b"re:hello"])
        # the gate really uses this socket: no socket of its own could bind
        # the port this one holds without SO_REUSEPORT
        self.assertEqual(gate.count_log("Address already in use"), 0)

    def test_inherited_ipc_socket(self):
        path = os.path.join(self.dir, "front.sock")
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.bind(path)
        sock.listen(16)
        self.addCleanup(sock.close)
        public, _ = lib.keygen(self.dir, "own")
        gate = self.activated(sock, "ipc://" + path, server_key=public).start()
        svc = self.service(zmq.REP)
        c = self.client(zmq.REQ, gate, server=public)
        self.assertEqual(ask(c, svc, b"over ipc"), [b"re:over ipc"])
        # a new key cannot get a listener of its own on a path: the reload
        # fails and says why; the gate goes on with the old key
        archived = rotate(self, public, "--no-passphrase")
        gate.signal(signal.SIGHUP)
        gate.wait_log("gate: reload failed", 5)
        gate.wait_log(r"cannot take a second listener on its port \(an "
                      r"ipc:// path takes one listener\): restart the gate", 1)
        self.assertEqual(ask(c, svc, b"still"), [b"re:still"])
        late = self.client(zmq.REQ, gate, server=archived)
        self.assertEqual(ask(late, svc, b"old key"), [b"re:old key"])

    def rotated_gate(self, reuseport):
        sock = self.listening(reuseport)
        ep = "tcp://127.0.0.1:%d" % sock.getsockname()[1]
        public, _ = lib.keygen(self.dir, "own")
        gate = self.activated(sock, ep, server_key=public).start()
        rotate(self, public, "--no-passphrase")
        gate.signal(signal.SIGHUP)
        return gate, public

    def test_rotation_needs_reuseport_on_the_inherited_socket(self):
        gate, public = self.rotated_gate(reuseport=False)
        gate.wait_log("gate: reload failed", 5)
        gate.wait_log(r"%s: the frontend .* cannot take a second listener on "
                      r"its port \(the inherited socket has no SO_REUSEPORT: "
                      r"ReusePort=yes in the .socket unit\)" % public, 1)
        self.assertEqual(gate.metric("zguard_reloads_total", result="failed"), 1)

    def test_rotation_with_reuseport_on_the_inherited_socket(self):
        gate, public = self.rotated_gate(reuseport=True)
        gate.wait_log("gate: reload done", 5)
        svc = self.service(zmq.REP)
        for i in range(NEW_CLIENTS):
            c = self.client(zmq.REQ, gate, server=public)
            self.assertEqual(ask(c, svc, b"%d" % i), [b"re:%d" % i])

    def refused(self, gate):
        gate._spawn([lib.ZGUARD, "gate"] + gate.args)
        rc = gate.wait_exit(10)
        self.assertEqual(rc, 2, gate.text())
        return gate.text()

    def test_two_sockets_refused(self):
        sock = self.listening()
        ep = "tcp://127.0.0.1:%d" % sock.getsockname()[1]
        text = self.refused(self.activated(sock, ep, nfds="2"))
        self.assertIn("socket activation: LISTEN_FDS is 2", text)

    def test_other_address_refused(self):
        sock = self.listening()
        other = "tcp://127.0.0.1:%d" % lib.free_port()
        text = self.refused(self.activated(sock, other))
        self.assertIn("the inherited socket listens on tcp://127.0.0.1:%d, "
                      "the frontend is %s" % (sock.getsockname()[1], other),
                      text)


if __name__ == "__main__":
    lib.main()
