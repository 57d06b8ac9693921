#!/bin/sh
# test_bench_cli.sh ZGUARD PYTHON - `zguard bench` as a user meets it: the
# help, usage errors naming the argument (exit 2), --list, and one cheap
# scenario run with --quick --json whose output must be valid JSON of the
# documented shape, and `zguard bench instr` (help, a usage error, a short
# run). A smoke test: nothing about speed is asserted.
set -u
zguard=$1 python=$2
. "$(dirname "$0")/cli_lib.sh"

expect 0 "$zguard" bench --help
contains "$tmp/out" "usage: zguard bench"
contains "$tmp/out" "How to read the results"
expect 0 "$zguard" help bench
contains "$tmp/out" "usage: zguard bench"
expect 0 "$zguard" --help
contains "$tmp/out" "bench "

expect 2 "$zguard" bench --frobnicate
contains "$tmp/err" "unknown option '--frobnicate'"
expect 2 "$zguard" bench --rounds 0
contains "$tmp/err" "\-\-rounds needs a number from 1 to 31, not '0'"
expect 2 "$zguard" bench --rounds
contains "$tmp/err" "\-\-rounds"
expect 2 "$zguard" bench --only nosuch
contains "$tmp/err" "no scenario 'nosuch'"
expect 2 "$zguard" bench --only throughput,nosuch2
contains "$tmp/err" "no scenario 'nosuch2'"
expect 2 "$zguard" bench --only
contains "$tmp/err" "\-\-only needs"

expect 0 "$zguard" bench --list
for id in throughput-tcp-null-64B throughput-ipc-curve-64KiB \
    throughput-inproc-1KiB latency-tcp-curve-1KiB monitor-tcp-64B \
    handshake memory; do
    contains "$tmp/out" "^$id "
done

# one cheap scenario, JSON; its temporary directory is removed afterwards
mkdir "$tmp/t"
expect 0 env TMPDIR="$tmp/t" "$zguard" bench --quick --only throughput-inproc-64B --json
"$python" -m json.tool "$tmp/out" >/dev/null 2>"$tmp/json-err" ||
    fail "--json output is not JSON: $(cat "$tmp/json-err")"
"$python" - "$tmp/out" <<'PY' || fail "--json output lacks what docs promise"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["benchmark"] == "zguard-bench" and d["quick"] is True, d
(s,) = d["scenarios"]
assert s["id"] == "throughput-inproc-64B", s["id"]
ids = [c["id"] for c in s["contestants"]]
assert ids == ["raw", "zguard", "czmq", "raw-msg", "zguard-msg"], ids
for c in s["contestants"]:
    m = c["metrics"]["msgs_per_s"]
    assert len(m["rounds"]) == d["rounds"] and m["value"] > 0, c
pairs = [(c["a"], c["b"]) for c in s["comparisons"]]
assert pairs == [("zguard", "raw"), ("zguard", "czmq"),
                 ("zguard-msg", "raw-msg"), ("zguard-msg", "czmq")], pairs
targets = [c["target"] for c in s["comparisons"]]
assert targets == [0.97, 1, 0.97, 1], targets
for c in s["comparisons"]:
    assert c["verdict"] in ("meets", "below", "unclear"), c
PY
[ -z "$(ls -A "$tmp/t")" ] || fail "left behind in TMPDIR: $(ls "$tmp/t")"

# the same as tables
expect 0 "$zguard" bench --quick --only throughput-inproc-64B --rounds 1
contains "$tmp/out" "^throughput-inproc-64B: PUSH -> PULL over inproc"
contains "$tmp/out" "zguard / raw libzmq"
contains "$tmp/out" "zguard msg / raw msg"
contains "$tmp/out" "zguard msg / CZMQ"

# the HWM advisor: its arguments, and a two-value sweep whose answer is one
# of the values tried, as policy lines `zguard policy check` accepts
expect 0 "$zguard" bench hwm --help
contains "$tmp/out" "smallest HWM"
expect 2 "$zguard" bench hwm --pattern reqrep
contains "$tmp/err" "\-\-pattern: 'reqrep' is not pushpull or pubsub"
expect 2 "$zguard" bench hwm --values 10,x
contains "$tmp/err" "\-\-values: '10,x'"
expect 2 "$zguard" bench hwm --rounds 99
contains "$tmp/err" "\-\-rounds: '99'"
expect 0 "$zguard" bench hwm --values 1,100 --seconds 0.1 --rounds 1 --json
"$python" - "$tmp/out" "$tmp/hwm.policy" <<'PY' || fail "bench hwm --json lacks what docs promise"
import json, sys
d = json.load(open(sys.argv[1]))
assert [r["hwm"] for r in d["results"]] == [1, 100], d
assert all(r["msgs_per_s"] > 0 and r["peak_rss_mib"] > 0 for r in d["results"]), d
assert d["recommended"] in (1, 100) and d["best"] in (1, 100), d
open(sys.argv[2], "w").write("version = 1\n" + d["policy"])
PY
expect 0 "$zguard" policy check "$tmp/hwm.policy"

# the gate benchmark: its help and a usage error (a run is in bench_gate's
# own smoke below)
expect 0 "$zguard" bench gate --help
contains "$tmp/out" "zmq_proxy"
expect 2 "$zguard" bench gate --frobnicate
contains "$tmp/err" "'--frobnicate'"
expect 0 "$zguard" bench gate --quick --only sync --rounds 1 --seconds 0.05 --json
"$python" -m json.tool "$tmp/out" >/dev/null 2>"$tmp/json-err" ||
    fail "bench gate --json output is not JSON: $(cat "$tmp/json-err")"

# instructions per message under callgrind: the usage and one short run
# with all four counts and both ratios (no figure is asserted); its
# temporary directory is removed afterwards
expect 0 "$zguard" bench instr --help
contains "$tmp/out" "callgrind"
expect 2 "$zguard" bench instr --messages 5
contains "$tmp/err" "zguard bench instr: \-\-messages: '5' is not a number from 1000 to 1000000"
expect 2 "$zguard" bench instr --frobnicate
contains "$tmp/err" "unknown option '\-\-frobnicate'"
mkdir "$tmp/i"
expect 0 env TMPDIR="$tmp/i" "$zguard" bench instr --messages 1000
for row in "raw  *zmq_send / zmq_recv  *[0-9.]*$" \
    "zguard  *zg_send / zg_recv  *[0-9.]*$" \
    "raw msg  *zmq_msg_send / zmq_msg_recv  *[0-9.]*$" \
    "zguard msg  *zg_msg_send / zg_msg_recv  *[0-9.]*$" \
    "zguard / raw  *[0-9]\.[0-9]* .*>= 0.97: \(meets\|below\)" \
    "zguard msg / raw msg  *[0-9]\.[0-9]* .*>= 0.97: \(meets\|below\)"; do
    contains "$tmp/out" "^  $row"
done
[ -z "$(ls -A "$tmp/i")" ] || fail "bench instr left $(ls -A "$tmp/i")"

[ "$failures" -eq 0 ] || { echo "$failures failure(s)"; exit 1; }
echo "bench cli: all good"
