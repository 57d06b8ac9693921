# Corpus for zguard audit: pyzmq keys loaded by tuple assignment, as
# zmq.auth.load_certificate returns them (public, secret). Expected:
# pyzmq_tuple.py.expect (no curve-missing on client or server).
import zmq
import zmq.auth
from zmq.auth.thread import ThreadAuthenticator


def client(ctx):
    s = ctx.socket(zmq.REQ)
    s.curve_publickey, s.curve_secretkey = zmq.auth.load_certificate("client.key_secret")
    s.curve_serverkey, _ = zmq.auth.load_certificate("server.key")
    s.sndhwm, s.rcvhwm = 100, 100
    s.sndtimeo = s.rcvtimeo = 2000
    s.maxmsgsize = 65536
    s.linger = 0
    s.connect("tcp://server:5555")
    s.send(b"ping")
    return s.recv()


def server(ctx):
    auth = ThreadAuthenticator(ctx)
    auth.start()
    srv = ctx.socket(zmq.REP)
    (srv.curve_publickey, srv.curve_secretkey) = zmq.auth.load_certificate("server.key_secret")
    srv.curve_server = True
    srv.setsockopt(zmq.SNDHWM, 100)
    srv.setsockopt(zmq.RCVHWM, 100)
    srv.sndtimeo, srv.rcvtimeo = 2000, 2000
    srv.maxmsgsize = 65536
    srv.linger = 0
    srv.bind("tcp://10.0.0.7:5555")
    srv.send(srv.recv())


def unkeyed(ctx):
    # a tuple that sets no key: still no CURVE
    d = ctx.socket(zmq.DEALER)
    d.sndhwm, d.rcvhwm = 100, 0
    d.sndtimeo, d.rcvtimeo = 2000, 2000
    d.maxmsgsize = 65536
    d.linger = 0
    d.connect("tcp://server:5556")
    d.send(b"x")
