"""An ordinary pyzmq program that knows nothing of zguard, for `zguard run`
tests (tests/test_run.py): the same modes as plain_app.c, printing its own
socket options as it reads them back.

    python3 plain_app.py rep|req|pub|sub ENDPOINT [N]
    python3 plain_app.py zerocopy ENDPOINT   PUSH and PULL in this process:
        one 100 KiB zero-copy send, tracked until libzmq lets go of it
        (pyzmq's garbage-collector thread and its inproc sockets at work)
"""
import sys

import zmq


def print_options(s):
    print("options sndhwm=%d rcvhwm=%d sndtimeo=%d rcvtimeo=%d linger=%d "
          "maxmsgsize=%d mechanism=%d" % (
              s.getsockopt(zmq.SNDHWM), s.getsockopt(zmq.RCVHWM),
              s.getsockopt(zmq.SNDTIMEO), s.getsockopt(zmq.RCVTIMEO),
              s.getsockopt(zmq.LINGER), s.getsockopt(zmq.MAXMSGSIZE),
              s.getsockopt(zmq.MECHANISM)), flush=True)


def zerocopy(ctx, ep):
    pull = ctx.socket(zmq.PULL)
    push = ctx.socket(zmq.PUSH)
    try:
        pull.bind(ep)
        push.connect(ep)
        print_options(push)
        data = b"z" * (100 * 1024)
        tracker = push.send(data, copy=False, track=True)
        got = pull.recv()
        tracker.wait(10)  # zmq.NotDone if the garbage collector is stuck
        print("tracked %d" % len(got), flush=True)
    finally:
        push.close()
        pull.close()
    return 0


def main():
    mode, ep = sys.argv[1], sys.argv[2]
    n = int(sys.argv[3]) if len(sys.argv) > 3 else 1
    ctx = zmq.Context()
    if mode == "zerocopy":
        try:
            return zerocopy(ctx, ep)
        finally:
            ctx.term()
    kind = {"rep": zmq.REP, "req": zmq.REQ, "pub": zmq.PUB, "sub": zmq.SUB}[mode]
    s = ctx.socket(kind)
    try:
        if mode in ("rep", "pub"):
            s.bind(ep)
        else:
            if mode == "sub":
                s.setsockopt(zmq.SUBSCRIBE, b"tick")
            s.connect(ep)
        print_options(s)
        if mode == "rep":
            for _ in range(n):
                msg = s.recv()
                s.send(b"world " + msg[6:])
        elif mode == "req":
            for k in range(n):
                s.send(b"hello %d" % k)
                print("reply %s" % s.recv().decode(), flush=True)
        elif mode == "sub":
            for _ in range(n):
                s.recv()
            print("received %d" % n, flush=True)
        else:
            k = 0
            while True:
                s.send(b"tick %d" % k)
                k += 1
                zmq.select([], [], [], 0.01)  # the program's own pace
    except zmq.ZMQError as e:
        print("failed %s: %s" % (mode, e), flush=True)
        return 3
    finally:
        s.close()
        ctx.term()
    return 0


if __name__ == "__main__":
    sys.exit(main())
