"""contrib/prometheus/zguard-alerts.yml against the real thing: every zguard_*
name the file mentions, and every label a selector of it matches on, is in
the /metrics of a running gate; the gate's backend peers (what
ZguardBackendUnreachable watches) go to 0 when its service goes; the libzmq
version regex of ZguardLibzmqAdvisory agrees with data/libzmq-advisories.ini;
each alert's runbook is a heading of docs/metrics.md.

The alerts' logic itself is tested by promtool (zguard-alerts.test.yml).

    python3 tests/test_alert_rules.py PATH/TO/zguard
"""
import os
import re

import zmq

import test_gate_lib as lib
from test_gate_lib import GateTest, echo_once, recv_within, wait_until

ROOT = os.path.dirname(lib.HERE)
RULES = os.path.join(ROOT, "contrib", "prometheus", "zguard-alerts.yml")
ADVISORIES = os.path.join(ROOT, "data", "libzmq-advisories.ini")
METRICS_DOC = os.path.join(ROOT, "docs", "metrics.md")

# name{matchers}: the name alone where no braces follow
SELECTOR = re.compile(r"\b(zguard_[a-z0-9_]+)(?:\{([^}]*)\})?")
MATCHER = re.compile(r'(\w+)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)"')


def rules_text():
    with open(RULES) as f:
        return f.read()


def selectors(text):
    """[(name, [(label, op, value)])] for every zguard_* name in the file."""
    out = []
    for m in SELECTOR.finditer(text):
        out.append((m.group(1), MATCHER.findall(m.group(2) or "")))
    return out


class RulesAgainstGate(GateTest):
    def scrape_gate(self):
        """A gate with its service and one client that got an answer: every
        family a gate serves has its samples."""
        gate = self.gate("reqrep")
        svc = self.service(zmq.REP)
        req = self.client(zmq.REQ, gate)
        req.send(b"ping")
        self.assertEqual(echo_once(svc), [b"ping"])
        self.assertEqual(recv_within(req, 5), [b"re:ping"])
        gate.wait_metric("zguard_handshakes_total", 1, 5, result="ok")
        return gate, svc

    def test_every_name_and_label_is_exported(self):
        gate, _ = self.scrape_gate()
        samples = list(gate.metrics())
        found = selectors(rules_text())
        self.assertGreater(len({n for n, _ in found}), 10, "the rules name too few metrics")
        for name, matchers in found:
            labels = [dict(lab) for n, lab in samples if n == name]
            self.assertTrue(labels, "%s (in %s) is not in the gate's /metrics"
                            % (name, os.path.basename(RULES)))
            for label, op, value in matchers:
                self.assertTrue(any(label in lab for lab in labels),
                                "%s has no label %s" % (name, label))
                if op == "=":
                    self.assertIn(value, {lab.get(label) for lab in labels},
                                  '%s{%s="%s"}: no such sample' % (name, label, value))

    def test_backend_peers_fall_to_zero_without_the_service(self):
        """ZguardBackendUnreachable: zguard_peers{socket="backend"} is 1
        with the service connected and 0 once it is gone."""
        gate, svc = self.scrape_gate()
        self.assertEqual(gate.metric("zguard_peers", socket="backend"), 1)
        svc.close(linger=0)
        wait_until(lambda: gate.metric("zguard_peers", socket="backend") == 0, 5,
                   "the backend's peers at 0 after the service closed:\n" + gate.text())


# ---- ZguardLibzmqAdvisory's regex and the advisory database ------------------------


def version(text):
    return tuple(int(x) for x in text.strip().split("."))


def in_range(v, spec):
    """One RANGE of the file's `affected` (see its header)."""
    spec = spec.strip()
    for op, test in (("<=", lambda a, b: a <= b), (">=", lambda a, b: a >= b),
                     ("<", lambda a, b: a < b), (">", lambda a, b: a > b)):
        if spec.startswith(op):
            return test(v, version(spec[len(op):]))
    if "-" in spec:
        low, high = spec.split("-")
        return version(low) <= v <= version(high)
    return v == version(spec)


def advisory_ranges():
    """The `affected` ranges of every [advisory.*] (not [issue.*]: no
    release fixes those, and the alert is about upgrading)."""
    ranges, section = [], None
    with open(ADVISORIES) as f:
        for line in f:
            line = line.strip()
            if line.startswith("["):
                section = line
            elif section and section.startswith("[advisory.") and line.startswith("affected"):
                ranges += line.split("=", 1)[1].split(",")
    return ranges


class AdvisoryRegex(lib.unittest.TestCase):
    def test_regex_matches_the_advisory_database(self):
        m = re.search(r'zguard_build_info\{libzmq=~"((?:[^"\\]|\\.)*)"\}', rules_text())
        self.assertIsNotNone(m, "ZguardLibzmqAdvisory's selector not found")
        regex = re.compile(m.group(1).replace("\\\\", "\\"))  # PromQL string escapes
        ranges = advisory_ranges()
        self.assertGreater(len(ranges), 5)
        for major in range(2, 6):
            for minor in range(0, 6):
                for patch in range(0, 13):
                    v = (major, minor, patch)
                    text = "%d.%d.%d" % v
                    affected = any(in_range(v, r) for r in ranges)
                    self.assertEqual(bool(regex.fullmatch(text)), affected,
                                     "libzmq %s: the database says %s" %
                                     (text, "affected" if affected else "clean"))


class Runbooks(lib.unittest.TestCase):
    def test_each_alert_has_its_runbook_section(self):
        text = rules_text()
        alerts = re.findall(r"^\s*- alert: (\w+)$", text, re.M)
        runbooks = re.findall(r'runbook: "docs/metrics.md#([a-z0-9-]+)"', text)
        self.assertEqual(runbooks, [a.lower() for a in alerts])
        with open(METRICS_DOC) as f:
            headings = {line[4:].strip().lower() for line in f if line.startswith("### ")}
        for a in alerts:
            self.assertIn(a.lower(), headings, "docs/metrics.md has no '### %s'" % a)


if __name__ == "__main__":
    lib.main()
