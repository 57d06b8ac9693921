"""Option setters applied to the socket their caller passes (app.py)."""
import zmq


def bound_queues(sock, hwm=1000):
    sock.setsockopt(zmq.SNDHWM, 1000)
    sock.setsockopt(zmq.RCVHWM, 1000)


def no_waiting(sock):
    sock.rcvtimeo = 2000
    sock.sndtimeo = 2000


def production(sock):
    """A chain: the others, and LINGER and MAXMSGSIZE here."""
    bound_queues(sock)
    no_waiting(sock)
    sock.linger = 0
    sock.maxmsgsize = 1 << 20
