"""Helpers that make sockets for their callers (worker.py)."""
import zmq


def make_pull(ctx):
    """A PULL socket with a bounded queue and a receive timeout."""
    s = ctx.socket(zmq.PULL)
    s.setsockopt(zmq.RCVHWM, 100)
    s.rcvtimeo = 1500
    return s


def make_socket(ctx, kind):
    """The type is the caller's; nothing set."""
    return ctx.socket(kind)


def make_sink(ctx):
    """A chain: what make_socket makes, with a send timeout."""
    s = make_socket(ctx, zmq.PUSH)
    s.sndtimeo = 100
    s.connect("ipc:///tmp/sink")
    return s


def read_frames(sock):
    return sock.recv_multipart()
