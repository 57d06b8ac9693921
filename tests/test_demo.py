"""`zguard demo`, what `make demo` runs: every row passes on this machine,
the JSON says the same as the table, every row carries its measurements,
and bad arguments are refused.

    python3 tests/test_demo.py PATH/TO/zguard
"""
import json
import os
import subprocess
import sys
import tempfile
import unittest

import test_gate_lib as lib

ZGUARD = None

ROWS = ["flood", "slow-consumer", "eavesdrop", "two-gates", "zguard-run",
        "tamper",
        "unknown-key",
        "plaintext", "wrong-server-key", "oversized", "slow-handshake",
        "connection-flood", "handshake-storm", "dead-peer", "libzmq",
        "bystander", "crash"]


def run(*args, timeout=120, env=None):
    # Under ASan (make test SANITIZE=1) freed memory waits in a quarantine
    # of up to 256 MiB before reuse, so RSS stops measuring what a process
    # holds: the flood row would fail on ASan's memory, not zguard's.
    env = dict(env or os.environ)
    env["ASAN_OPTIONS"] = (env.get("ASAN_OPTIONS", "") +
                           ":quarantine_size_mb=0:thread_local_quarantine_size_kb=0")
    # the zguard-run row's programs get libzguard-preload.so: the runtime
    # goes first (zguard run keeps it there)
    asan = lib.sanitizer_runtime(ZGUARD)
    if asan:
        env["LD_PRELOAD"] = asan
    return subprocess.run([ZGUARD, "demo", *args], capture_output=True,
                          text=True, timeout=timeout, env=env)


class Demo(unittest.TestCase):
    def test_every_row_passes(self):
        tmp = tempfile.mkdtemp(prefix="zguard-demo-test.")
        env = dict(os.environ, TMPDIR=tmp)
        r = run("--json", env=env)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        out = json.loads(r.stdout)
        self.assertEqual([row["id"] for row in out["rows"]], ROWS)
        failed = [row for row in out["rows"] if row["result"] != "PASS"]
        self.assertEqual(failed, [])
        self.assertEqual((out["passed"], out["failed"]), (len(ROWS), 0))
        self.assertLess(out["seconds"], 60)
        by_id = {row["id"]: row for row in out["rows"]}
        for row in out["rows"]:
            self.assertTrue(row["values"], row["id"])
            self.assertTrue(row["threat"] and row["mitigation"] and row["measured"])
        # the figures the rows pass on, as the machine-readable form has them
        v = by_id["eavesdrop"]["values"]
        self.assertEqual(v["plaintext_found"], 0)
        self.assertGreaterEqual(v["control_plaintext_found"], 20)
        v = by_id["two-gates"]["values"]
        self.assertEqual((v["answered"], v["plaintext_found"]), (20, 0))
        self.assertGreater(v["captured_bytes"], 0)
        v = by_id["zguard-run"]["values"]
        self.assertEqual((v["answered"], v["plaintext_found"]), (20, 0))
        self.assertGreater(v["captured_bytes"], 0)
        self.assertEqual((v["stranger_answers"], v["stranger_refused"]), (0, 1))
        self.assertEqual((v["plaintext_client_answers"], v["plaintext_client_refused"]),
                         (0, 1))
        self.assertEqual(v["control_answered"], 20)
        self.assertGreaterEqual(v["control_plaintext_found"], 20)
        v = by_id["tamper"]["values"]
        self.assertEqual((v["altered_delivered"], v["tampered_delivered"]), (0, 0))
        self.assertGreaterEqual(v["crypto_failures"], 1)
        v = by_id["slow-consumer"]["values"]
        self.assertLessEqual(v["longest_send_ms"], v["sndtimeo_ms"] + 100)
        self.assertEqual(v["send_timeouts"], v["send_timeouts_counted"])
        v = by_id["connection-flood"]["values"]
        self.assertEqual(v["refused"], v["connections"] - v["max_peers_per_ip"])
        v = by_id["handshake-storm"]["values"]
        self.assertEqual(v["keys_looked_at"], 10)
        self.assertEqual(v["locked_out"], v["handshakes"] - 10)
        v = by_id["dead-peer"]["values"]
        self.assertLessEqual(v["detected_s"], v["bound_s"] + 0.1)
        self.assertEqual(by_id["bystander"]["values"]["lost"], 0)
        v = by_id["crash"]["values"]
        self.assertEqual(v["restarts"], 1)
        self.assertLessEqual(v["alice_lost"], 1)
        self.assertLessEqual(v["alice_resumed_s"], 3.5)
        # nothing left behind: the temporary directory is removed
        self.assertEqual(os.listdir(tmp), [])
        os.rmdir(tmp)

    def test_only_and_keep(self):
        tmp = tempfile.mkdtemp(prefix="zguard-demo-test.")
        env = dict(os.environ, TMPDIR=tmp)
        r = run("--only", "eavesdrop,libzmq", "--keep", env=env)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("2 of 2 rows PASS", r.stdout)
        self.assertIn("PASS  eavesdropping on the network", r.stdout)
        self.assertNotIn("flood", r.stdout)
        kept = os.listdir(tmp)
        self.assertEqual(len(kept), 1)
        d = os.path.join(tmp, kept[0])
        self.assertEqual(os.stat(d).st_mode & 0o777, 0o700)
        for name in ("gate.log", "service.log", "alice.log", "capture-curve.bin",
                     "capture-plaintext.bin", "gate.policy"):
            self.assertTrue(os.path.exists(os.path.join(d, name)), name)
        for f in os.listdir(os.path.join(d, "keys")):
            if f.endswith("_secret"):
                mode = os.stat(os.path.join(d, "keys", f)).st_mode & 0o777
                self.assertEqual(mode, 0o600, f)
        subprocess.run(["rm", "-rf", tmp], check=True)

    def test_arguments(self):
        r = run("--help")
        self.assertEqual(r.returncode, 0)
        for word in ("--json", "--only", "--keep", "--list", "zguard-example-service"):
            self.assertIn(word, r.stdout)
        r = run("--list")
        self.assertEqual(r.returncode, 0)
        self.assertEqual([line.split()[0] for line in r.stdout.splitlines()], ROWS)
        r = run("--only", "flood,nosuchrow")
        self.assertEqual(r.returncode, 2)
        self.assertIn("no row 'nosuchrow'", r.stderr)
        r = run("--bogus")
        self.assertEqual(r.returncode, 2)
        self.assertIn("'--bogus'", r.stderr)


if __name__ == "__main__":
    ZGUARD = sys.argv.pop(1)
    unittest.main(verbosity=2)
