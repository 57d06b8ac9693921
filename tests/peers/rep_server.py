#!/usr/bin/env python3
"""A request/reply server that misbehaves on purpose, as an independent
(pyzmq) peer for zguard's tests.

usage: rep_server.py ENDPOINT MODE
  ENDPOINT  tcp://127.0.0.1:PORT (or :* for any port)
  MODE      normal            reply "re:" + request to every request
            drop:N            ignore the first N requests
            delay:N:MS        answer the first N requests MS late
            crash-after:N     answer N requests, then exit on the next one
                              without answering (a server crash)

Prints "ready ENDPOINT" once bound. Uses ROUTER so that it may leave a
request unanswered and go on serving.
"""
import sys
import time

import zmq


def main():
    endpoint, mode = sys.argv[1], sys.argv[2]
    parts = mode.split(":")
    kind = parts[0]
    count = int(parts[1]) if len(parts) > 1 else 0
    delay_ms = int(parts[2]) if len(parts) > 2 else 0

    ctx = zmq.Context()
    sock = ctx.socket(zmq.ROUTER)
    sock.linger = 0
    sock.bind(endpoint)
    print("ready", sock.getsockopt_string(zmq.LAST_ENDPOINT), flush=True)

    seen = 0
    pending = []  # (due time, frames)
    while True:
        timeout = None
        if pending:
            timeout = max(0, (pending[0][0] - time.monotonic()) * 1000)
        if sock.poll(timeout):
            frames = sock.recv_multipart()
            ident, body = frames[0], frames[-1]
            seen += 1
            reply = [ident, b"", b"re:" + body]
            if kind == "drop" and seen <= count:
                continue
            if kind == "crash-after" and seen > count:
                sys.exit(0)
            if kind == "delay" and seen <= count:
                pending.append((time.monotonic() + delay_ms / 1000, reply))
                continue
            sock.send_multipart(reply)
        while pending and pending[0][0] <= time.monotonic():
            sock.send_multipart(pending.pop(0)[1])


if __name__ == "__main__":
    main()
