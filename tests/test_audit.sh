#!/bin/sh
# test_audit.sh ZGUARD SRCDIR PYTHON - `zguard audit` as CI meets it:
#   - every file of tests/audit/ audited in the one-line form and compared
#     exactly with FILE.expect (no missing, no extra line; FILE.policy, when
#     there is one, is passed with --policy);
#   - exit codes and --fail-on, usage errors, --help;
#   - json (the documented fields), sarif (SARIF 2.1.0's required
#     properties) and markdown (the analysis' headings) on the corpus;
#   - colours only when asked for or on a terminal;
#   - a large generated tree (known socket count) and this project's tree.
set -u
zguard=$1 src=$2 python=$3
corpus=$src/tests/audit
. "$(dirname "$0")/cli_lib.sh"

# ---- the corpus, exactly ---------------------------------------------------------
n=0
for f in "$corpus"/*.c "$corpus"/*.cpp "$corpus"/*.py; do
    [ -f "$f" ] || continue
    name=$(basename "$f")
    [ -f "$f.expect" ] || { fail "$name has no $name.expect"; continue; }
    set -- --format lines
    [ -f "$f.policy" ] && set -- "$@" --policy "$name.policy"
    (cd "$corpus" && "$zguard" audit "$@" "$name") >"$tmp/got" 2>"$tmp/err"
    rc=$?
    if [ "$rc" -gt 2 ] || [ -s "$tmp/err" ]; then
        fail "$name: exit $rc: $(cat "$tmp/err")"
    fi
    if ! diff -u "$f.expect" "$tmp/got" >"$tmp/diff"; then
        fail "$name: findings differ from $name.expect (- missing, + extra):"
        sed -n '3,$p' "$tmp/diff" | grep '^[-+]'
    fi
    n=$((n + 1))
    checks=$((checks + 1))
done
[ "$n" -ge 5 ] || fail "only $n corpus files"
# trees audited whole (helpers in one file, their callers in another):
# tests/audit/trees/NAME/ against tests/audit/trees/NAME.expect
t=0
for d in "$corpus"/trees/*/; do
    name=$(basename "$d")
    (cd "$d" && "$zguard" audit --format lines .) >"$tmp/got" 2>"$tmp/err"
    [ -s "$tmp/err" ] && fail "trees/$name: $(cat "$tmp/err")"
    if ! diff -u "$corpus/trees/$name.expect" "$tmp/got" >"$tmp/diff"; then
        fail "trees/$name: findings differ from trees/$name.expect (- missing, + extra):"
        sed -n '3,$p' "$tmp/diff" | grep '^[-+]'
    fi
    t=$((t + 1))
    checks=$((checks + 1))
done
[ "$t" -ge 10 ] || fail "only $t corpus trees"
# the caller alone: a helper of a file not audited is not followed
(cd "$corpus/trees/helpers_py" && "$zguard" audit --format lines server.py) >"$tmp/got"
grep -q blocking-without-timeout "$tmp/got" && fail "a helper of a file not audited was followed"
# ... nor a socket it makes, nor the options it sets, nor a constructor
(cd "$corpus/trees/factory_c" && "$zguard" audit --format lines server.c) >"$tmp/got"
grep -q "socket" "$tmp/got" && fail "a socket made by a helper not audited: $(cat "$tmp/got")"
(cd "$corpus/trees/setters_py" && "$zguard" audit --format lines app.py) >"$tmp/got"
grep -q "rcvtimeo=-" "$tmp/got" || fail "options set by a helper not audited: $(cat "$tmp/got")"
(cd "$corpus/trees/members_cpp" && "$zguard" audit --format lines worker.hpp) >"$tmp/got"
grep -q "socket" "$tmp/got" && fail "a member bound by a call not audited: $(cat "$tmp/got")"
# the helper alone: its socket is reported where it is made
(cd "$corpus/trees/factory_py" && "$zguard" audit --format lines sockets.py) >"$tmp/got"
grep -q "^sockets.py:7:9: socket PULL 's'" "$tmp/got" ||
    fail "a helper's socket with no caller audited: $(cat "$tmp/got")"
# the helper that made a socket, in json and text
(cd "$corpus/trees/factory_c" && "$zguard" audit --format json .) >"$tmp/f.json"
"$python" - "$tmp/f.json" <<'PY' || fail "trees/factory_c: made_by is wrong"
import json, sys
made = {s["variable"]: s["made_by"] for s in json.load(open(sys.argv[1]))["sockets"]}
assert made["rep"] == "make_rep" and made["pull"] == "make_socket", made
assert made["router"] == "make_server", made
PY
(cd "$corpus/trees/factory_c" && "$zguard" audit .) >"$tmp/f.txt"
grep -q "^./server.c:13: REP socket 'rep' (c, libzmq, made by make_rep())\$" "$tmp/f.txt" ||
    fail "trees/factory_c: the text report does not say who made 'rep'"
for lang in c++ python; do
    grep -q "($lang, " "$corpus"/*.expect || fail "no $lang socket in the corpus"
done
for api in libzmq czmq cppzmq pyzmq zguard; do
    grep -q ", $api[,)]" "$corpus"/*.expect || fail "no $api socket in the corpus"
done

# ---- authenticators, judged over the files audited together ---------------------------
(cd "$corpus" && "$zguard" audit --format lines auth_nothing.py auth_nothing.c) >"$tmp/t1"
[ "$(grep -c ' high authenticator-guards-nothing: ' "$tmp/t1")" -eq 2 ] ||
    fail "two files, no socket asks ZAP: $(cat "$tmp/t1")"
# a CURVE server in another file: the allowlist guards it, and the
# authenticator guards cppzmq.cpp's CURVE servers, which have none of their own
(cd "$corpus" && "$zguard" audit --format lines auth_nothing.py cppzmq.cpp) >"$tmp/t2"
grep -q 'authenticator-guards-nothing\|curve-server-without-authentication' "$tmp/t2" &&
    fail "tree-wide: $(cat "$tmp/t2")"
grep -q "^cppzmq.cpp:12:11: socket PULL 'in_' .* auth=ZAP_handler_at_auth_nothing.py:10\$" "$tmp/t2" ||
    fail "tree-wide: cppzmq.cpp's server not guarded: $(cat "$tmp/t2")"
checks=$((checks + 1))

# ---- exit codes ---------------------------------------------------------------------
expect 2 "$zguard" audit "$corpus/libzmq.c"                  # critical >= high
expect 1 "$zguard" audit --fail-on critical "$corpus/zguard.c" --policy "$corpus/zguard.c.policy"
expect 2 "$zguard" audit --fail-on medium --policy "$corpus/zguard.c.policy" "$corpus/zguard.c"
expect 2 "$zguard" audit --fail-on low "$corpus/zguard.c"
printf 'int main(void) { return 0; }\n' >"$tmp/clean.c"
expect 0 "$zguard" audit "$tmp/clean.c"
contains "$tmp/out" "0 sockets in 1 file"
expect 2 "$zguard" audit "$tmp/missing.c"
contains "$tmp/err" "missing.c: cannot read"
printf 'x\n' >"$tmp/notes.txt"
expect 2 "$zguard" audit "$tmp/notes.txt"
contains "$tmp/err" "not C, C++ or Python"
expect 2 "$zguard" audit --format xml "$tmp/clean.c"
contains "$tmp/err" "see 'zguard audit --help'"
expect 2 "$zguard" audit --fail-on severe "$tmp/clean.c"
expect 2 "$zguard" audit --color sometimes "$tmp/clean.c"
expect 2 "$zguard" audit --bogus
printf 'version = 1\n[defaults]\nsndhwm = 0\n' >"$tmp/bad.policy"
expect 2 "$zguard" audit --policy "$tmp/bad.policy" "$tmp/clean.c"
contains "$tmp/err" "bad.policy:3: sndhwm"
expect 0 "$zguard" audit --help
contains "$tmp/out" "usage: zguard audit"
contains "$tmp/out" "curve-secret-hardcoded"
expect 0 "$zguard" help audit
# options after operands (no '+' in getopt_long)
expect 0 "$zguard" audit "$tmp/clean.c" --format json --stats
contains "$tmp/err" "lines/s"

# ---- colours ---------------------------------------------------------------------------
esc=$(printf '\033')
expect 2 "$zguard" audit "$corpus/libzmq.c"
grep -q "$esc" "$tmp/out" && fail "colours on a pipe"
expect 2 "$zguard" audit --color always "$corpus/libzmq.c"
grep -q "$esc\[1;31mcritical" "$tmp/out" || fail "--color always: no colour"
expect 2 "$zguard" audit --format lines --color never "$corpus/libzmq.c"
grep -q "$esc" "$tmp/out" && fail "--color never: colours"
if command -v script >/dev/null 2>&1; then
    script -qec "NO_COLOR= \"$zguard\" audit \"$corpus/libzmq.c\"" /dev/null >"$tmp/tty" 2>&1
    grep -q "$esc\[" "$tmp/tty" || fail "no colours on a terminal"
    script -qec "NO_COLOR=1 \"$zguard\" audit \"$corpus/libzmq.c\"" /dev/null >"$tmp/tty" 2>&1
    grep -q "$esc\[3" "$tmp/tty" && fail "colours despite NO_COLOR"
fi

# ---- json, sarif, markdown --------------------------------------------------------------
(cd "$corpus" && "$zguard" audit --format json --policy zguard.c.policy libzmq.c czmq.c \
    cppzmq.cpp pyzmq.py zguard.c) >"$tmp/a.json"
(cd "$corpus" && "$zguard" audit --format sarif libzmq.c czmq.c cppzmq.cpp pyzmq.py \
    zguard.c) >"$tmp/a.sarif"
"$python" - "$tmp/a.json" "$tmp/a.sarif" <<'PY' || fail "json or sarif is wrong"
import json, sys
doc = json.load(open(sys.argv[1]))
assert doc["audit_format"] == 1 and doc["policy"] == "zguard.c.policy", doc["policy"]
assert doc["paths"][0] == "libzmq.c" and doc["fail_on"] == "high"
s = doc["summary"]
assert s["files"] == 5 and s["sockets"] == len(doc["sockets"]) and s["lines"] > 300, s
assert s["files_by_language"] == {"c": 3, "c++": 1, "python": 1}, s
assert sum(s["findings"].values()) + s["suppressed"] == len(doc["findings"])
keys = ["sndhwm", "rcvhwm", "sndtimeo", "rcvtimeo", "maxmsgsize", "linger", "curve",
        "authentication"]
for sock in doc["sockets"]:
    assert list(sock["mitigations"]) == keys, sock
    assert sock["language"] in ("c", "c++", "python")
    assert sock["api"] in ("libzmq", "czmq", "cppzmq", "pyzmq", "zguard")
    for m in sock["mitigations"].values():
        assert m["status"] in ("not_set", "set", "weak", "ineffective", "unknown",
                               "not_needed"), m
        assert m["source"] in ("none", "socket", "context", "process", "library", "policy")
    for ep in sock["endpoints"]:
        assert ep["kind"] in ("bind", "connect")
rules = set()
for f in doc["findings"]:
    assert f["severity"] in ("critical", "high", "medium", "low")
    assert f["suppressed"] == (f["justification"] is not None)
    if f["socket"] is not None:
        assert doc["sockets"][f["socket"]]["file"] == f["file"], f
    rules.add(f["rule"])
for want in ["curve-secret-hardcoded", "hwm-unbounded", "tcp-bind-all-interfaces",
             "pickle-unauthenticated", "blocking-without-timeout", "curve-missing",
             "option-after-bind",
             "policy-violation", "policy-unknown-socket", "hwm-not-set",
             "timeout-not-set", "maxmsgsize-not-set", "linger-not-set",
             "suppression-without-reason", "suppression-unknown-rule",
             "suppression-unused"]:
    assert want in rules, want
assert doc["exit"] == 2 and doc["errors"] == []
# audited together, cppzmq.cpp's CURVE servers (no authenticator in their
# file) are guarded by libzmq.c's ZAP handler: no finding about them
servers = [s for s in doc["sockets"] if s["file"] == "cppzmq.cpp"
           and s["mitigations"]["curve"]["text"] == "server"]
assert len(servers) == 2, servers
for s in servers:
    a = s["mitigations"]["authentication"]
    assert a["status"] == "set" and a["text"] == "ZAP handler at libzmq.c:61", a
assert "curve-server-without-authentication" not in rules

# SARIF 2.1.0: the properties the schema requires, and the ones code
# scanning reads
sarif = json.load(open(sys.argv[2]))
assert sarif["version"] == "2.1.0" and "sarif-2.1.0" in sarif["$schema"]
assert isinstance(sarif["runs"], list) and len(sarif["runs"]) == 1
run = sarif["runs"][0]
driver = run["tool"]["driver"]
assert driver["name"]
ids = [r["id"] for r in driver["rules"]]
assert len(ids) == len(set(ids)) == 19, ids
for r in driver["rules"]:
    assert r["shortDescription"]["text"] and r["fullDescription"]["text"]
    assert r["defaultConfiguration"]["level"] in ("error", "warning", "note")
    float(r["properties"]["security-severity"])
for inv in run["invocations"]:
    assert inv["executionSuccessful"] is True
assert run["results"], "no results"
for res in run["results"]:
    assert res["message"]["text"]
    assert ids[res["ruleIndex"]] == res["ruleId"]
    assert res["level"] in ("error", "warning", "note")
    loc = res["locations"][0]["physicalLocation"]
    assert loc["artifactLocation"]["uri"] in ("libzmq.c", "czmq.c", "cppzmq.cpp",
                                              "pyzmq.py", "zguard.c"), loc
    assert loc["region"]["startLine"] >= 1 and loc["region"]["startColumn"] >= 1
    for sup in res.get("suppressions", []):
        assert sup["kind"] == "inSource" and sup["justification"]
assert any("suppressions" in r for r in run["results"])
PY
checks=$((checks + 1))
(cd "$corpus" && "$zguard" audit --format markdown libzmq.c pyzmq.py) >"$tmp/a.md"
for h in "^# ZeroMQ socket audit" \
    "^## Mitigation Strategy: Configure ZMQ_SNDHWM and ZMQ_RCVHWM on all sockets\." \
    "^## Mitigation Strategy: Employ ZMQ_SNDTIMEO and ZMQ_RCVTIMEO on all sockets\." \
    "^## Mitigation Strategy: Implement CurveZMQ for all communication\." \
    "^\* \*\*Currently Implemented:\*\*" "^\* \*\*Missing Implementation:\*\*" \
    "Socket \`pull\` (PULL, libzmq, \`libzmq.c:29\`) needs HWM configuration: SNDHWM not needed; RCVHWM not set\." \
    "Socket \`s\` (PUSH, libzmq, \`libzmq.c:15\`): SNDHWM 2000 (line 17)" \
    "^## Suppressed findings" "the peer always reads"; do
    contains "$tmp/a.md" "$h"
done

# ---- a large generated tree, and this project's tree -----------------------------------
"$python" - "$tmp/big" <<'PY'
import os, sys
root = sys.argv[1]
c = """#include <zmq.h>
void f{i}(void *ctx)
{{
    void *s = zmq_socket(ctx, ZMQ_PUSH);
    int hwm = 1000;
    zmq_setsockopt(s, ZMQ_SNDHWM, &hwm, sizeof hwm);
    zmq_connect(s, "tcp://server:{i}");
    zmq_send(s, "x", 1, 0);
    for (int k = 0; k < 10; k++) {{
        hwm += k * 2;
        if (hwm > 100) hwm -= 3;
    }}
}}
"""
py = """import zmq
def f{i}(ctx):
    s = ctx.socket(zmq.PULL)
    s.rcvtimeo = 100
    s.connect("inproc://x{i}")
    for k in range(10):
        total = k * 2
    return s.recv()
"""
for d in range(20):
    os.makedirs(f"{root}/d{d}", exist_ok=True)
    with open(f"{root}/d{d}/gen.c", "w") as out:
        for i in range(100):
            out.write(c.format(i=d * 1000 + i))
    with open(f"{root}/d{d}/gen.py", "w") as out:
        for i in range(100):
            out.write(py.format(i=d * 1000 + i))
os.makedirs(f"{root}/.git/x")
open(f"{root}/.git/x/skip.c", "w").write("void *s = zmq_socket(c, ZMQ_PUSH);\n")
PY
expect 1 "$zguard" audit --format json "$tmp/big"
"$python" - "$tmp/out" <<'PY' || fail "large tree: wrong counts"
import json, sys
doc = json.load(open(sys.argv[1]))
s = doc["summary"]
assert s["files"] == 40 and s["sockets"] == 4000, s
assert s["lines"] == 20 * 100 * (13 + 8), s["lines"]
rules = {}
for f in doc["findings"]:
    rules[f["rule"]] = rules.get(f["rule"], 0) + 1
# C: no SNDTIMEO or LINGER, a blocking send, tcp without CURVE;
# Python: no RCVHWM or LINGER (inproc: no CURVE or MAXMSGSIZE needed)
assert rules == {"timeout-not-set": 2000, "blocking-without-timeout": 2000,
                 "linger-not-set": 4000, "curve-missing": 2000,
                 "hwm-not-set": 2000}, rules
PY
checks=$((checks + 1))
"$zguard" audit --format lines "$src" >"$tmp/self" 2>"$tmp/err"
rc=$?
[ "$rc" -le 2 ] || fail "audit of the project's tree exited $rc"
[ -s "$tmp/err" ] && fail "audit of the project's tree: $(head -c 600 "$tmp/err")"
grep -q "/tests/audit/libzmq.c:" "$tmp/self" || fail "the project's tree: corpus not audited"
grep -q "/node_modules/\|/build-audit/" "$tmp/self" && fail "build trees were audited"
checks=$((checks + 1))

echo "$((checks - failures)) passed, $failures failed"
[ "$failures" -eq 0 ]
