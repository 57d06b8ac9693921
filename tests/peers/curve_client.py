#!/usr/bin/env python3
"""A CURVE client written with pyzmq, as an independent peer for zguard's
tests: it loads its keys from certificate files with zmq.auth (so it also
proves pyzmq reads zguard's files), talks to a server once, and reports.

usage: curve_client.py ENDPOINT CLIENT_SECRET_FILE SERVER_PUBLIC_FILE

Prints "ready" once connected, then "reply <text>" for the server's answer
and exits 0; exits 1 if no answer comes within 5 seconds.
"""
import sys

import zmq
import zmq.auth


def main():
    endpoint, client_secret, server_public = sys.argv[1:4]
    public, secret = zmq.auth.load_certificate(client_secret)
    server, _ = zmq.auth.load_certificate(server_public)
    ctx = zmq.Context()
    sock = ctx.socket(zmq.DEALER)
    sock.linger = 0
    sock.curve_publickey = public
    sock.curve_secretkey = secret
    sock.curve_serverkey = server
    sock.connect(endpoint)
    print("ready", flush=True)
    sock.send(b"hello from pyzmq")
    if not sock.poll(5000):
        print("no reply", flush=True)
        sys.exit(1)
    print("reply", sock.recv().decode(), flush=True)
    sys.exit(0)


if __name__ == "__main__":
    main()
