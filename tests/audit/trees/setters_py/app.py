"""Its sockets get their options from the setters of tuning.py."""
import zmq

from tuning import bound_queues, no_waiting, production


def serve(ctx):
    rep = ctx.socket(zmq.REP)
    production(rep)                   # every mitigation but CURVE
    rep.bind("ipc:///tmp/setters-py")
    rep.recv()                        # bounded by RCVTIMEO

    req = ctx.socket(zmq.REQ)
    bound_queues(req)
    req.connect("tcp://peer:6000")
    no_waiting(req)                   # timeouts apply at once, even now
    req.send(b"ping")
    req.recv()


serve(zmq.Context())
