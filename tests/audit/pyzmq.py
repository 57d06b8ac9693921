# Corpus for zguard audit: pyzmq, sync and asyncio. Expected: pyzmq.py.expect
import asyncio
import socket

import zmq
import zmq.asyncio
from zmq.auth.thread import ThreadAuthenticator

SECRET = b"JTKVSB%%)wK0E.X)V>+}o?pNmC{O&4W4b!Ni{Lh6"
PORT = 8000


def hardened():
    ctx = zmq.Context()
    # context defaults: copied into every socket made afterwards
    ctx.linger = 0
    ctx.setsockopt(zmq.RCVTIMEO, 2000)
    ctx.sndtimeo = 2000
    s = ctx.socket(zmq.PULL)
    s.rcvhwm = 1000
    s.setsockopt(zmq.MAXMSGSIZE, 1 << 20)
    s.connect("inproc://work")
    return s.recv()


def bare():
    ctx = zmq.Context.instance()
    s = zmq.Socket(ctx, zmq.REP)
    s.bind(f"tcp://*:{PORT}")
    request = s.recv_pyobj()
    s.send_pyobj(request)
    s.recv(zmq.NOBLOCK)
    s.recv_string(flags=zmq.DONTWAIT)
    raw = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    raw.send(b"not zeromq")


def options():
    ctx = zmq.Context()
    with ctx.socket(zmq.DEALER) as d:
        d.setsockopt(zmq.SNDHWM, 100)
        d.set(zmq.RCVHWM, 0)
        d.set_hwm(100)
        d.hwm = 100
        d.SNDTIMEO = 500
        d.rcvtimeo = -1
        d.setsockopt_string(zmq.IDENTITY, "me")
        d.connect("tcp://server:%d" % PORT)
        d.linger = 0
        d.maxmsgsize = 4096
        d.send_multipart([b"a", b"b"])
        if d.poll(1000):
            d.recv_multipart()


def curve_server():
    ctx = zmq.Context()
    auth = ThreadAuthenticator(ctx)
    auth.start()
    srv = ctx.socket(zmq.ROUTER)
    srv.curve_server = True
    srv.curve_secretkey = SECRET
    srv.setsockopt(zmq.RCVTIMEO, 100)
    srv.sndtimeo = 100
    srv.maxmsgsize = 65536
    srv.linger = 0
    srv.bind("tcp://*:8001")
    return srv.recv_pyobj()


class Worker:
    def __init__(self):
        self.ctx = zmq.asyncio.Context.instance()
        self.sock = self.ctx.socket(zmq.PUSH)

    def configure(self):
        self.sock.sndhwm = 10
        self.sock.connect("ipc:///run/worker")

    async def run(self):
        await self.sock.send(b"job")  # zguard-audit: ignore blocking-without-timeout -- asyncio task, cancelled on shutdown


async def main():
    ctx = zmq.asyncio.Context()
    pub = ctx.socket(zmq.PUB)
    pub.bind_to_random_port("tcp://*")
    await pub.send(b"tick")
    sub = zmq.asyncio.Socket(ctx, zmq.SUB)
    sub.connect("tcp://feed:8002")
    # zguard-audit: ignore pickle-unauthenticated
    await sub.recv_pyobj()


if __name__ == "__main__":
    asyncio.run(main())
