#!/usr/bin/env python3
"""Reads a zguard metrics endpoint with the real Prometheus parser
(python3-prometheus-client) and checks the names, types and labels that are
zguard's interface (docs/metrics.md), and a few values the caller expects.

usage: check_metrics.py URL [NAME{label="v",...}=VALUE ...]
Prints "ready ok" and exits 0 when everything holds; prints the problem and
exits 1 otherwise.
"""
import json
import sys
import urllib.request

from prometheus_client.parser import text_string_to_metric_families

EXPECTED = {  # family name as the parser reports it -> (type, labels)
    "zguard_build_info": ("gauge", {"version", "libzmq"}),
    "zguard_messages_sent": ("counter", {"socket", "type"}),
    "zguard_messages_received": ("counter", {"socket", "type"}),
    "zguard_bytes_sent": ("counter", {"socket", "type"}),
    "zguard_bytes_received": ("counter", {"socket", "type"}),
    "zguard_hwm_reached": ("counter", {"socket", "type"}),
    "zguard_mute_ratio": ("gauge", {"socket", "type"}),
    "zguard_timeouts": ("counter", {"socket", "type", "direction"}),
    "zguard_peers": ("gauge", {"socket", "type"}),
    "zguard_connections": ("counter", {"socket", "type", "endpoint", "event"}),
    "zguard_handshakes": ("counter", {"socket", "type", "endpoint", "result"}),
    "zguard_handshake_failures": ("counter",
                                  {"socket", "type", "endpoint", "reason"}),
    "zguard_alert_active": ("gauge", {"socket", "type", "alert"}),
    "zguard_auth_decisions": ("counter", {"result", "reason"}),
}


def fail(why):
    print(why, flush=True)
    sys.exit(1)


def main():
    url = sys.argv[1]
    with urllib.request.urlopen(url + "/metrics", timeout=5) as r:
        if not r.headers.get("Content-Type", "").startswith("text/plain"):
            fail("content type " + r.headers.get("Content-Type", ""))
        text = r.read().decode()
    families = {f.name: f for f in text_string_to_metric_families(text)}
    for name, (kind, labels) in EXPECTED.items():
        f = families.get(name)
        if f is None:
            fail("missing family " + name)
        if f.type != kind:
            fail(f"{name} is a {f.type}, not a {kind}")
        for s in f.samples:
            if set(s.labels) != labels:
                fail(f"{s.name} has labels {sorted(s.labels)}")
    values = {}
    for f in families.values():
        for s in f.samples:
            key = s.name + "{" + ",".join(
                f'{k}="{v}"' for k, v in sorted(s.labels.items())) + "}"
            values[key] = s.value
    for want in sys.argv[2:]:
        key, value = want.rsplit("=", 1)
        if key not in values:
            fail("no sample " + key)
        if values[key] != float(value):
            fail(f"{key} is {values[key]}, not {value}")
    with urllib.request.urlopen(url + "/metrics.json", timeout=5) as r:
        doc = json.loads(r.read().decode())
    if not doc["sockets"] or "zguard" not in doc:
        fail("metrics.json has no sockets")
    print("ready ok", flush=True)


if __name__ == "__main__":
    main()
