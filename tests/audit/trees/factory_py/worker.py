"""Its sockets come from the helpers of sockets.py."""
import zmq

import sockets


def main():
    ctx = zmq.Context()
    jobs = sockets.make_pull(ctx)
    jobs.setsockopt(zmq.MAXMSGSIZE, 65536)
    jobs.linger = 0
    jobs.connect("tcp://broker:5557")
    jobs.recv()                       # RCVTIMEO set in make_pull
    sockets.read_frames(jobs)         # the same through a helper

    out = sockets.make_socket(ctx, zmq.PUSH)
    out.bind("tcp://*:5558")
    out.send(b"done")                 # waits forever: no SNDTIMEO
    sockets.read_frames(out)          # PUSH cannot receive: fails, never waits

    sink = sockets.make_sink(ctx)
    sink.send(b"x")                   # bounded by make_sink's SNDTIMEO
