"""An IP allowlist in front of NULL-mechanism sockets: libzmq never asks
the authenticator about them (no ZAP domain, no CURVE or PLAIN)."""
import zmq
from zmq.auth.thread import ThreadAuthenticator


def serve():
    ctx = zmq.Context.instance()
    auth = ThreadAuthenticator(ctx)
    auth.start()
    auth.allow("127.0.0.1")
    s = ctx.socket(zmq.PULL)
    s.rcvhwm = 1000
    s.rcvtimeo = 1000
    s.maxmsgsize = 65536
    s.linger = 0
    s.bind("tcp://127.0.0.1:9000")
    return s.recv()
