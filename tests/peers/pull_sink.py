#!/usr/bin/env python3
"""A plain libzmq PULL (pyzmq) that receives for ever: the victim whose
memory the endless-multipart attack grows, in a process of its own so that
its RSS is its own.

usage: pull_sink.py RCVHWM [MAXMSGSIZE]
Binds tcp://127.0.0.1:*, prints "port N", then receives whole messages and
throws them away until its standard input closes (the test ended).
"""
import sys
import threading

import zmq


def main():
    ctx = zmq.Context()
    s = ctx.socket(zmq.PULL)
    s.rcvhwm = int(sys.argv[1])
    if len(sys.argv) > 2:
        s.maxmsgsize = int(sys.argv[2])
    s.linger = 0
    port = s.bind_to_random_port("tcp://127.0.0.1")
    print("port", port, flush=True)
    done = threading.Event()
    threading.Thread(target=lambda: (sys.stdin.read(), done.set()),
                     daemon=True).start()
    s.rcvtimeo = 100
    while not done.is_set():
        try:
            s.recv_multipart()
        except zmq.Again:
            pass
    s.close()
    ctx.term()


if __name__ == "__main__":
    main()
