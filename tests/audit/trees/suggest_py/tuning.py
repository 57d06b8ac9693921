"""Options app.py's sockets get through a helper in another file."""


def bounded(sock):
    sock.linger = 0
    sock.maxmsgsize = 64 * 1024
