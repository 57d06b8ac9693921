#!/bin/sh
# test_cli.sh ZGUARD SRCDIR PYTHON - the zguard command as a user meets it:
# --help everywhere, exit codes, version lines, policy doc in both formats.
set -u
zguard=$1 src=$2 python=$3
. "$(dirname "$0")/cli_lib.sh"

expect 0 "$zguard" --help
contains "$tmp/out" "usage: zguard <command>"
expect 2 "$zguard"
expect 2 "$zguard" frobnicate
contains "$tmp/err" "no command 'frobnicate'"
for cmd in version policy; do
    expect 0 "$zguard" "$cmd" --help
    contains "$tmp/out" "usage: zguard $cmd"
    expect 0 "$zguard" help "$cmd"
    contains "$tmp/out" "usage: zguard $cmd"
done
expect 0 "$zguard" policy check --help
expect 0 "$zguard" policy doc --help

expect 0 "$zguard" version
contains "$tmp/out" "^zguard 0\."
runtime=$("$python" -c 'import zmq; print(zmq.zmq_version())')
contains "$tmp/out" "^libzmq $runtime (compiled against"
contains "$tmp/out" "^libsodium 1\."
expect 2 "$zguard" version extra

# check: 0 valid, 1 warnings, 2 invalid; problems on stderr
expect 0 "$zguard" policy check "$src/examples/orders.policy"
contains "$tmp/out" "orders.policy: valid, 4 named sockets"
[ -s "$tmp/err" ] && fail "a valid policy printed problems: $(cat "$tmp/err")"
printf 'version = 1\n[defaults]\nheartbeat_ivl = 0\n' >"$tmp/warn.policy"
expect 1 "$zguard" policy check "$tmp/warn.policy"
contains "$tmp/err" "warn.policy:3: heartbeat_ivl: warning:"
printf 'version = 1\n[defaults]\nsndhwm = 0\n' >"$tmp/bad.policy"
expect 2 "$zguard" policy check "$tmp/bad.policy"
contains "$tmp/err" "bad.policy:3: sndhwm: '0' is unbounded"
contains "$tmp/out" "bad.policy: invalid: 1 error, 0 warnings"
expect 2 "$zguard" policy check -q "$tmp/bad.policy"
[ -s "$tmp/out" ] && fail "-q printed a summary"
expect 2 "$zguard" policy check "$src/examples/orders.policy" "$tmp/bad.policy"
expect 2 "$zguard" policy check "$tmp/missing.policy"
contains "$tmp/err" "missing.policy: file: cannot read: No such file"
expect 2 "$zguard" policy check
expect 2 "$zguard" policy lint x

# doc: markdown and json, every named socket and every type
expect 0 "$zguard" policy doc "$src/examples/orders.policy"
contains "$tmp/out" "^# Socket policy: "
contains "$tmp/out" "^### \`orders-in\` (PULL)"
contains "$tmp/out" "^### ROUTER"
contains "$tmp/out" "| router_mandatory | yes | built-in |"
contains "$tmp/out" "\[socket.orders-in\] line"
expect 0 "$zguard" policy doc --format json "$src/examples/orders.policy"
"$python" - "$tmp/out" <<'PY' || fail "policy doc json is wrong"
import json, sys
doc = json.load(open(sys.argv[1]))
types = [t["type"] for t in doc["types"]]
assert types == ["pair", "pub", "sub", "req", "rep", "dealer", "router",
                 "pull", "push", "xpub", "xsub", "stream"], types
names = [s["name"] for s in doc["sockets"]]
assert names == ["orders-in", "orders-out", "audit", "pricing"], names
for item in doc["sockets"] + doc["types"]:
    keys = [s["key"] for s in item["settings"]]
    assert "sndhwm" in keys and "rcvtimeo" in keys and "security" in keys
    assert ("router_mandatory" in keys) == (item["type"] == "router"), item
    for s in item["settings"]:
        assert s["layer"] in ("built-in", "defaults", "type", "socket"), s
        assert (s["section"] is None) == (s["layer"] == "built-in"), s
        assert (s["line"] == 0) == (s["layer"] == "built-in"), s
        assert isinstance(s["value"], int) and s["text"], s
        assert s["rationale"], s  # every value in the example is explained
PY
expect 0 "$zguard" policy doc "$src/examples/orders.policy" --format json
"$python" -c 'import json,sys; json.load(open(sys.argv[1]))' "$tmp/out" ||
    fail "options after the file are not taken"
expect 2 "$zguard" policy doc --format yaml "$src/examples/orders.policy"
contains "$tmp/err" "unknown format 'yaml'"
expect 2 "$zguard" policy doc "$tmp/bad.policy"

# `zguard policy suggest --help` is suggest's own text, not policy's
expect 0 "$zguard" policy suggest --help
contains "$tmp/out" "^usage: zguard policy suggest --from REPORT.json"
contains "$tmp/out" "--out FILE"

[ "$failures" -eq 0 ] && echo "cli: all checks passed"
exit $((failures > 0))
