"""An ordinary pyzmq program that knows nothing of zguard, for `zguard run`
tests (tests/test_run.py): the same modes as plain_app.c, printing its own
socket options as it reads them back.

    python3 plain_app.py rep|req|pub|sub ENDPOINT [N]
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


def main():
    mode, ep = sys.argv[1], sys.argv[2]
    n = int(sys.argv[3]) if len(sys.argv) > 3 else 1
    ctx = zmq.Context()
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
