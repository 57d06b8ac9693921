"""Receives only through the helpers of wire.py."""
import zmq

from wire import Channel, poll_recv, recv_frames


def main():
    ctx = zmq.Context()
    s = ctx.socket(zmq.PULL)
    s.rcvhwm = 100
    s.maxmsgsize = 4096
    s.linger = 0
    s.bind("ipc:///tmp/helpers-py")
    frames = recv_frames(s)
    ch = Channel("in")
    more = ch.read(s)
    maybe = poll_recv(s)
    t = ctx.socket(zmq.PULL)
    t.rcvhwm = 100
    t.rcvtimeo = 100
    t.linger = 0
    t.connect("inproc://other")
    bounded = recv_frames(t)
    return frames, more, maybe, bounded
