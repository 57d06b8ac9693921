#!/bin/sh
# test_doctor_compare.sh ZGUARD SRCDIR PYTHON PREFIX - `zguard doctor
# --compare PREFIX` against a real libzmq staged by scripts/build-libzmq
# (registered only when one is given: tests/CMakeLists.txt). What the
# staged library is comes from the probe in a child process, and must match
# what the staging script recorded and what its own probe saw; the verdict
# of the staged suite is read back; the advisories the upgrade fixes are
# those of the running version minus those of the staged one. Then copies
# of the prefix with a failed, a stale and no verdict, and a prefix with no
# libzmq at all.
set -u
zguard=$1 src=$2 python=$3 prefix=$4
. "$(dirname "$0")/cli_lib.sh"

[ -f "$prefix/.zguard-libzmq-complete" ] || {
    echo "FAIL: $prefix holds no libzmq staged by scripts/build-libzmq"
    exit 1
}
mkdir "$tmp/data"
sed "s/^reviewed = .*/reviewed = $(date -u +%F)/" \
    "$src/data/libzmq-advisories.ini" >"$tmp/data/libzmq-advisories.ini"
ZGUARD_DATADIR=$tmp/data
export ZGUARD_DATADIR
staged=$(sed -n 's/^version=//p' "$prefix/.zguard-libzmq-complete")
running=$("$zguard" version | sed -n 's/^libzmq \([0-9.]*\).*/\1/p')
echo "doctor_compare: zguard on libzmq $running, staged $staged in $prefix"

# ---- the real staged prefix, with the verdict its suite run wrote ---------------
[ -f "$prefix/.zguard-suite-verdict" ] ||
    fail "$prefix has no .zguard-suite-verdict: run make test LIBZMQ_PREFIX=$prefix first"
"$zguard" doctor --json --compare "$prefix" >"$tmp/real.json" 2>"$tmp/err"
rc=$?
"$zguard" doctor --json >"$tmp/plain.json" 2>/dev/null
plain=$?
doctor_json "$tmp/real.json" "
import subprocess
assert c['prefix'] == '$prefix'
s = c['staged']
assert s['version'] == '$staged', s
assert s['path'] == '$prefix/lib/libzmq.so.5'
assert s['curve_backend'] == 'libsodium' and s['capabilities']['curve'], s
assert s['draft_api'] is True and s['zmq_socket_monitor_pipes_stats'] is True, s
assert c['built_from']['sha256'] and c['built_from']['source'], c['built_from']
v = c['suite']
assert v['libzmq'] == '$staged' and v['failed'] == 0 and v['passed'] == v['total'] > 10, v
# the running libzmq is still described as without --compare
assert d['libzmq']['runtime'] == '$running'
# fixed + remaining = what applies to the running one (by the database)
now = sorted(a['id'] for k in ('advisories', 'unfixed_issues', 'behaviours') for a in d[k])
assert sorted(ids('fixed_by_upgrade') + ids('remaining')) == now, (now, c)
assert 'libzmq-4912' in ids('remaining')
if '$running' == '4.3.4' and '$staged' != '4.3.4':
    assert ids('fixed_by_upgrade') == ['libzmq-74529d97'], c['fixed_by_upgrade']
    assert c['fixed_by_upgrade'][0]['kind'] == 'behaviour'
assert not f('staged', 'failure') and not f('staged-suite'), d['findings']
assert d['exit'] == $plain
"
[ "$rc" -eq "$plain" ] || fail "--compare exited $rc, without it $plain: $(cat "$tmp/err")"
expect "$plain" "$zguard" doctor --compare "$prefix"
contains "$tmp/out" "compared with the staged libzmq in $prefix"
contains "$tmp/out" "version              $running  *$staged"
contains "$tmp/out" "draft API            .*yes"
contains "$tmp/out" "suite on staged      passed: "
contains "$tmp/out" "still there          .*libzmq-4912 (issue)"

# ---- copies of it: failed, stale and missing verdicts ---------------------------
mkdir -p "$tmp/p/lib"
for f in "$prefix"/lib/libzmq.so*; do ln -s "$f" "$tmp/p/lib/"; done
cp "$prefix/.zguard-libzmq-complete" "$tmp/p/"
sed -e 's/^passed=.*/passed=40/' -e 's/^failed=.*/failed=2/' \
    -e 's/^total=.*/total=42/' -e 's/^failed_tests=.*/failed_tests=demo doctor/' \
    "$prefix/.zguard-suite-verdict" >"$tmp/p/.zguard-suite-verdict"
expect 2 "$zguard" doctor --json --compare "$tmp/p"
doctor_json "$tmp/out" "
assert c['suite']['failed'] == 2 and c['suite']['failed_tests'] == 'demo doctor'
m = f('staged-suite', 'failure')[0]['message']
assert '2 of 42 tests failed (demo doctor)' in m and 'do not upgrade' in m, m
assert d['exit'] == 2"
expect 2 "$zguard" doctor --compare "$tmp/p"
contains "$tmp/out" "suite on staged      FAILED: 40 of 42 tests passed; failed: demo doctor"

sed -i 's/^libzmq=.*/libzmq=4.3.1/' "$tmp/p/.zguard-suite-verdict"
sed -i -e 's/^failed=.*/failed=0/' -e 's/^passed=.*/passed=42/' "$tmp/p/.zguard-suite-verdict"
"$zguard" doctor --json --compare "$tmp/p" >"$tmp/out" 2>/dev/null
doctor_json "$tmp/out" "assert 'the suite verdict is for libzmq 4.3.1' in f('staged-suite', 'warning')[0]['message'] and d['exit'] >= 1"

rm "$tmp/p/.zguard-suite-verdict"
"$zguard" doctor --json --compare "$tmp/p" >"$tmp/out" 2>/dev/null
doctor_json "$tmp/out" "
assert c['suite'] is None and c['staged']['version'] == '$staged'
assert 'no suite verdict' in f('staged-suite', 'warning')[0]['message'] and d['exit'] >= 1"

# ---- nothing staged there --------------------------------------------------------
mkdir "$tmp/empty"
expect 2 "$zguard" doctor --json --compare "$tmp/empty"
doctor_json "$tmp/out" "
assert c['staged'] is None and 'libzmq.so.5' in c['error'], c
m = f('staged', 'failure')[0]['message']
assert 'no staged libzmq to compare with' in m and 'scripts/build-libzmq' in m, m"
expect 2 "$zguard" doctor --compare "$tmp/empty"
contains "$tmp/out" "no staged libzmq to compare with"

[ "$failures" -eq 0 ] || { echo "$failures failure(s)"; exit 1; }
echo "doctor_compare: all checks passed (running $running, staged $staged)"
