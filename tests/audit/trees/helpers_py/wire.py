"""Helpers that receive on the socket they are given (server.py calls them)."""


def recv_frames(sock):
    return sock.recv_multipart()


class Channel:
    def __init__(self, name):
        self.name = name

    def read(self, sock):
        # a chain: a method that calls a helper
        return recv_frames(sock)


def poll_recv(sock):
    if sock.poll(100):
        return sock.recv()
    return None
