#!/bin/sh
# test_audit_helpers.sh ZGUARD PYTHON - what lets a team adopt `zguard audit`
# on a large codebase:
#   - --baseline: a tree audited, then changed (lines inserted above every
#     old finding, one socket added) reports exactly the new socket's
#     findings, and --fail-on judges only them;
#   - fingerprints (JSON and SARIF partialFingerprints) the same across a
#     line shift, different for different findings, even for two identical
#     lines in one function;
#   - --exclude globs and .zguard-audit-ignore leave out what they match
#     and nothing else; bad globs and baselines are refused with the file
#     and line.
set -u
zguard=$1 python=$2
. "$(dirname "$0")/cli_lib.sh"

# ---- a tree, its baseline, the tree changed ----------------------------------------
mkdir -p "$tmp/v1" "$tmp/v2"
cat >"$tmp/v1/server.c" <<'EOF'
#include <zmq.h>

void serve(void *ctx)
{
    void *s = zmq_socket(ctx, ZMQ_PULL);
    zmq_bind(s, "tcp://*:5555");
    char buf[64];
    zmq_recv(s, buf, sizeof buf, 0);
    zmq_recv(s, buf, sizeof buf, 0);
}
EOF
cat >"$tmp/v1/worker.py" <<'EOF'
import zmq


class Worker:
    def run(self, ctx):
        self.sock = ctx.socket(zmq.DEALER)
        self.sock.connect("tcp://broker:5556")
        return self.sock.recv()
EOF
# v2: three lines above every old finding, and one socket more
{
    printf '/* moved down */\n#include <stdio.h>\n\n'
    cat "$tmp/v1/server.c"
    cat <<'EOF'

void publish(void *ctx)
{
    void *fresh = zmq_socket(ctx, ZMQ_PUSH);
    zmq_connect(fresh, "tcp://sink:5557");
    zmq_send(fresh, "x", 1, 0);
}
EOF
} >"$tmp/v2/server.c"
{
    printf '"""A worker."""\nimport os\n\n'
    cat "$tmp/v1/worker.py"
} >"$tmp/v2/worker.py"

(cd "$tmp/v1" && "$zguard" audit --format json .) >"$tmp/base.json"
(cd "$tmp/v1" && "$zguard" audit --format sarif .) >"$tmp/v1.sarif"
(cd "$tmp/v2" && "$zguard" audit --format json .) >"$tmp/full.json"
(cd "$tmp/v2" && "$zguard" audit --format sarif .) >"$tmp/v2.sarif"
cp "$tmp/base.json" "$tmp/v2-base.json"
(cd "$tmp/v2" && "$zguard" audit --format json --baseline ../v2-base.json .) >"$tmp/new.json"
echo $? >"$tmp/new.rc"
"$python" - "$tmp" <<'PY' || fail "baseline or fingerprints are wrong"
import json, sys
d = sys.argv[1]
base = json.load(open(d + "/base.json"))
full = json.load(open(d + "/full.json"))
new = json.load(open(d + "/new.json"))
assert base["findings"] and all(len(f["fingerprint"]) == 32 for f in base["findings"])
# an old finding with a high severity (tcp bind on every interface): the
# unchanged tree fails, the new findings alone do not
assert base["exit"] == 2 and full["exit"] == 2, (base["exit"], full["exit"])
fresh = [i for i, s in enumerate(full["sockets"]) if s["variable"] == "fresh"]
assert len(fresh) == 1, full["sockets"]
want = [f for f in full["findings"] if f["socket"] == fresh[0]]
assert want, "the new socket has no findings"
got = new["findings"]
key = lambda f: (f["rule"], f["line"], f["column"], f["message"])
assert sorted(map(key, got)) == sorted(map(key, want)), (got, want)
assert new["summary"]["baselined"] == len(base["findings"]), new["summary"]
assert len(full["findings"]) == len(base["findings"]) + len(want)
assert new["baseline"] == "../v2-base.json"
assert max(f["severity"] in ("critical", "high") for f in got) is False
assert new["exit"] == 1 and open(d + "/new.rc").read().strip() == "1", new["exit"]
# every old finding moved down 3 lines, and kept its fingerprint
old = {f["fingerprint"]: f for f in base["findings"]}
moved = [f for f in full["findings"] if f["fingerprint"] in old]
assert len(moved) == len(old)
for f in moved:
    assert f["line"] == old[f["fingerprint"]]["line"] + 3, (f, old[f["fingerprint"]])
    assert f["rule"] == old[f["fingerprint"]]["rule"]

# SARIF: the same fingerprints across the shift, each result its own
def fps(path):
    run = json.load(open(path))["runs"][0]
    out = []
    for res in run["results"]:
        fp = res["partialFingerprints"]["zguardAuditFinding/v1"]
        out.append((fp, res["ruleId"], res["locations"][0]["physicalLocation"]["region"]["startLine"]))
    return out
v1, v2 = fps(d + "/v1.sarif"), fps(d + "/v2.sarif")
assert len({fp for fp, _, _ in v1}) == len(v1), "two results share a fingerprint"
assert len({fp for fp, _, _ in v2}) == len(v2), "two results share a fingerprint"
v2_by_fp = {fp: (rule, line) for fp, rule, line in v2}
for fp, rule, line in v1:
    assert v2_by_fp.get(fp) == (rule, line + 3), (fp, rule, line, v2_by_fp.get(fp))
# the two identical zmq_recv lines: two findings, two fingerprints
recv = [f for f in base["findings"] if f["rule"] == "blocking-without-timeout"
        and f["file"].endswith("server.c")]
assert len(recv) == 2 and recv[0]["fingerprint"] != recv[1]["fingerprint"], recv
# and the SARIF and JSON fingerprints are the same
assert {f["fingerprint"] for f in base["findings"]} == {fp for fp, _, _ in v1}
PY
checks=$((checks + 1))

# the unchanged tree against its own baseline: nothing new, said so
expect 0 sh -c "cd '$tmp/v1' && '$zguard' audit --baseline ../base.json ."
contains "$tmp/out" "0 critical, 0 high, 0 medium, 0 low"
contains "$tmp/out" "findings already in the baseline ../base.json not reported"
expect 0 sh -c "cd '$tmp/v1' && '$zguard' audit --format markdown --baseline ../base.json ."
contains "$tmp/out" "findings already in the baseline \`../base.json\` not listed"
# the new socket's findings in the one-line form, nothing else
expect 1 sh -c "cd '$tmp/v2' && '$zguard' audit --format lines --baseline ../base.json ."
grep -v ': socket ' "$tmp/out" | grep -v "'fresh'" && fail "an old finding is reported as new"
contains "$tmp/out" "^./server.c:19:5: medium blocking-without-timeout: zmq_send on PUSH socket 'fresh'"

# findings made once the run is read (sockets a helper made, options a
# helper set, a C++ member bound to a caller's socket) keep their
# fingerprints when lines are inserted above them
for t in factory_c setters_c members_cpp; do
    cp -r "$(dirname "$0")/audit/trees/$t" "$tmp/x-$t"
    (cd "$tmp/x-$t" && "$zguard" audit --format json .) >"$tmp/x-$t.json"
    for f in "$tmp/x-$t"/*; do
        { printf '/* moved */\n\n'; cat "$f"; } >"$f.new" && mv "$f.new" "$f"
    done
    (cd "$tmp/x-$t" && "$zguard" audit --format lines --baseline "../x-$t.json" .) >"$tmp/out"
    grep -q ': \(low\|medium\|high\|critical\) ' "$tmp/out" &&
        fail "trees/$t: fingerprints moved with the lines: $(cat "$tmp/out")"
    "$python" - "$tmp/x-$t.json" <<'PY' || fail "trees/$t: fingerprints not one per finding"
import json, sys
fps = [x["fingerprint"] for x in json.load(open(sys.argv[1]))["findings"]]
assert fps and len(set(fps)) == len(fps), fps
PY
    checks=$((checks + 1))
done

# baselines that are not one
expect 2 "$zguard" audit --baseline "$tmp/none.json" "$tmp/v1"
contains "$tmp/err" "none.json: cannot read"
printf '{"audit_format": 1, "findings": [{"rule": "x",}]}\n' >"$tmp/bad.json"
expect 2 "$zguard" audit --baseline "$tmp/bad.json" "$tmp/v1"
contains "$tmp/err" "bad.json: not a JSON report of zguard audit: .* at byte"
printf '{"audit_format": 1, "findings": [{"rule": "x"}]}\n' >"$tmp/old.json"
expect 2 "$zguard" audit --baseline "$tmp/old.json" "$tmp/v1"
contains "$tmp/err" "old.json: 1 of its findings have no fingerprint"
printf '[1, 2]\n' >"$tmp/arr.json"
expect 2 "$zguard" audit --baseline "$tmp/arr.json" "$tmp/v1"
contains "$tmp/err" "arr.json: not a .zguard audit --format json. report of this version"
"$python" -c 'print("[" * 100000)' >"$tmp/deep.json"
expect 2 "$zguard" audit --baseline "$tmp/deep.json" "$tmp/v1"
contains "$tmp/err" "deep.json: not a JSON report of zguard audit"
expect 2 "$zguard" audit --baseline a.json --baseline b.json "$tmp/v1"
contains "$tmp/err" "--baseline is given twice"

# ---- --exclude and .zguard-audit-ignore --------------------------------------------------
t=$tmp/tree
mkdir -p "$t/vendor/zmq" "$t/src/gen" "$t/deep/a/gen" "$t/deep/gen2" "$t/tests"
sock() { printf 'import zmq\ns = zmq.Context().socket(zmq.PUSH)\n' >"$1"; }
for f in src/main.py src/gen/out.py vendor/zmq/lib.py vendor_ok.py deep/a/gen/x.py \
    deep/gen2/y.py tests/unit_test.py tests/helper.py; do
    sock "$t/$f"
done
audited() { # the files whose sockets the JSON report lists, sorted
    "$python" -c 'import json,sys; [print(f) for f in sorted({s["file"] for s in json.load(open(sys.argv[1]))["sockets"]})]' "$tmp/out"
}
expect 1 sh -c "cd '$t' && '$zguard' audit --format json ."
[ "$(audited | wc -l)" -eq 8 ] || fail "without globs: $(audited)"
expect 1 sh -c "cd '$t' && '$zguard' audit --format json --exclude vendor/ --exclude '*_test.py' --exclude 'deep/**/gen' ."
audited >"$tmp/got"
printf '%s\n' ./deep/gen2/y.py ./src/gen/out.py ./src/main.py ./tests/helper.py \
    ./vendor_ok.py >"$tmp/want"
diff "$tmp/want" "$tmp/got" >/dev/null || fail "--exclude: got $(cat "$tmp/got")"
# relative to the PATH given, whichever it is
expect 0 "$zguard" audit --format json --exclude 'zmq/*.py' "$t/vendor"
[ "$(audited | wc -l)" -eq 0 ] || fail "--exclude relative to PATH: $(audited)"
expect 1 "$zguard" audit --format json --exclude 'vendor/zmq/lib.py' "$t"
audited | grep -q 'vendor/zmq/lib.py' && fail "--exclude a file by its path"
audited | grep -q 'vendor_ok.py' || fail "--exclude left out a neighbour"
# a file named on the command line is audited whatever the globs say
expect 1 "$zguard" audit --format json --exclude '*.py' "$t/src/main.py"
[ "$(audited | wc -l)" -eq 1 ] || fail "a named file was excluded"
# the ignore file at the audited root: comments, blank lines, spaces
printf '# generated code\n\n  gen/  \n/tests/*_test.py\n' >"$t/.zguard-audit-ignore"
expect 1 sh -c "cd '$t' && '$zguard' audit --format json ."
audited >"$tmp/got"
printf '%s\n' ./deep/gen2/y.py ./src/main.py ./tests/helper.py ./vendor/zmq/lib.py \
    ./vendor_ok.py >"$tmp/want"
diff "$tmp/want" "$tmp/got" >/dev/null || fail ".zguard-audit-ignore: got $(cat "$tmp/got")"
# ... only at the root audited: src/ audited alone keeps src/gen
expect 1 "$zguard" audit --format json "$t/src"
[ "$(audited | wc -l)" -eq 2 ] || fail "the ignore file applied outside its root: $(audited)"
printf 'ok/\nbad[\n' >"$t/.zguard-audit-ignore"
expect 2 "$zguard" audit "$t"
contains "$tmp/err" "$t/.zguard-audit-ignore:2: 'bad\[' is not a glob: a '\[' without its '\]'"
rm "$t/.zguard-audit-ignore"
expect 2 "$zguard" audit --exclude 'src/[a-' "$t"
contains "$tmp/err" "zguard audit: --exclude 'src/\[a-' is not a glob"

echo "$((checks - failures)) passed, $failures failed"
[ "$failures" -eq 0 ]
