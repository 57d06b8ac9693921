"""A pyzmq service for `zguard policy suggest --from AUDIT.json`
(tests/test_suggest_audit.py): each socket shows one way the code gives a
value or an endpoint, and the policy suggested from the audit says so."""
import zmq

from tuning import bounded

FRONTEND = "tcp://127.0.0.1:7100"
QUEUE = 2000


def serve(ctx, port, sink):
    router = ctx.socket(zmq.ROUTER)
    router.sndhwm = QUEUE                    # an attribute, a constant
    router.setsockopt(zmq.RCVTIMEO, 500)     # setsockopt, a literal
    bounded(router)                          # tuning.py: linger, maxmsgsize
    router.bind(FRONTEND)

    pub = ctx.socket(zmq.PUB)
    pub.bind(f"tcp://*:{port}")              # only a prefix is literal
    pub.sndhwm = 0                           # unbounded, after bind

    push = ctx.socket(zmq.PUSH)
    push.connect(sink)                       # not a literal at all

    pair = ctx.socket(zmq.PAIR)
    pair.bind("inproc://control")            # never leaves the process

    while True:
        frames = router.recv_multipart()
        pub.send(frames[-1])
        push.send(frames[-1])
        pair.send(b"seen")
