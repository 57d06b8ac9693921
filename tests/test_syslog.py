#!/usr/bin/env python3
"""zg_log_syslog against a real syslog reader: what a program logs through
it arrives at /dev/log as syslog datagrams, one per line, with the
application's ident and facility and zguard's level as the severity, and
the text unchanged.

The reader must own /dev/log, so the test runs in a private mount
namespace (root, `unshare -m`) with a tmpfs over /dev holding its socket
and the device nodes a program needs; the machine's /dev is untouched
(also from a chroot, where / is not a mount point).
Where that cannot be had (not root, no namespaces), it says so and exits
77, which CTest reports as skipped.

usage: test_syslog.py PATH/TO/syslog_writer
"""
import os
import re
import socket
import subprocess
import sys

LOG_DAEMON = 3 << 3
WANT = [(3, "error line"), (4, "warning line"), (5, "notice line"),
        (6, "info line"), (7, "debug line"), (4, "100% literal %s %n %x")]


def inside(writer):
    """In the namespace: /dev/log is ours; run the writer and read."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind("/dev/log")
    sock.settimeout(10)
    proc = subprocess.run([writer], capture_output=True, text=True, timeout=30)
    if proc.returncode != 0:
        print("writer failed: %s" % proc.stderr)
        return 1
    got = []
    for _ in WANT:
        data = sock.recv(4096).decode()
        m = re.match(r"<(\d+)>.*?zguard-test\[(\d+)\]: (.*)$", data, re.S)
        if not m:
            print("not a syslog datagram from zguard-test: %r" % data)
            return 1
        got.append((int(m.group(1)) - LOG_DAEMON, m.group(3).rstrip("\n")))
    if got != WANT:
        print("got  %r\nwant %r" % (got, WANT))
        return 1
    print("%d lines arrived with their priorities: ok" % len(got))
    return 0


SETUP = r"""
set -e
# Nothing done here may reach the machine's mounts. Where / is a mount
# point, make it all private; in a chroot it is not, so /dev, the one
# mount changed here, is made private instead.
mount --make-rprivate / 2>/dev/null || mount --make-rprivate /dev
mount -t tmpfs -o mode=755 zguard-test-dev /dev
mknod -m 666 /dev/null c 1 3
mknod -m 666 /dev/zero c 1 5
mknod -m 666 /dev/random c 1 8
mknod -m 666 /dev/urandom c 1 9
exec "$0" "$@"
"""


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "--inside":
        return inside(sys.argv[2])
    writer = os.path.abspath(sys.argv[1])
    if os.geteuid() != 0:
        print("SKIP: a reader at /dev/log needs root for a mount namespace")
        return 77
    unshare = ["unshare", "-m", "--propagation", "unchanged"]  # SETUP's job
    probe = subprocess.run(unshare + ["true"], capture_output=True)
    if probe.returncode != 0:
        print("SKIP: no mount namespace here (unshare -m: %s)"
              % probe.stderr.decode().strip())
        return 77
    return subprocess.run(unshare + ["sh", "-c", SETUP, sys.executable,
                           os.path.abspath(__file__), "--inside", writer],
                          timeout=60).returncode


if __name__ == "__main__":
    sys.exit(main())
