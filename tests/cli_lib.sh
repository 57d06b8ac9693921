# cli_lib.sh - what the shell tests of the zguard command share (sourced):
# a temporary directory removed at exit, a failure count, a check count, and
#   fail MESSAGE          count a failure and say why
#   expect CODE CMD...    run CMD, output in $tmp/out and $tmp/err; fail
#                         unless it exits CODE (showing its stderr and the
#                         start of its stdout). With cli_detach=1 set, CMD
#                         runs in a new session with standard input from
#                         /dev/null: no terminal to ask a passphrase on.
#   contains FILE TEXT    fail unless FILE holds TEXT (grep pattern)
#   has FILE TEXT         fail unless FILE holds TEXT as it is (Z85 keys
#                         have regex characters)
#   lacks FILE TEXT       fail if FILE holds TEXT as it is
#   one_line FILE         fail unless FILE is one line
#   doctor_json FILE PY   run Python statements PY on zguard doctor's JSON
#                         in FILE (needs $python): d is the object, f(check,
#                         level) its findings of that check, c its "compare"
#                         member and ids(key) the ids in c[key]; fail on an
#                         AssertionError, showing the JSON
# Each expect counts one check in $checks.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0 checks=0

fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
expect() {
    want=$1; shift
    checks=$((checks + 1))
    if [ "${cli_detach:-0}" = 1 ]; then
        setsid "$@" >"$tmp/out" 2>"$tmp/err" </dev/null
    else
        "$@" >"$tmp/out" 2>"$tmp/err"
    fi
    got=$?
    [ "$got" -eq "$want" ] || fail "'$*' exited $got, want $want: $(head -c 2000 "$tmp/err") $(head -c 2000 "$tmp/out")"
}
contains() { grep -q -- "$2" "$1" || fail "$1 lacks '$2': $(head -c 2000 "$1")"; }
has() { grep -qF -- "$2" "$1" || fail "$1 lacks '$2': $(head -c 2000 "$1")"; }
lacks() { grep -qF -- "$2" "$1" && fail "$1 has '$2': $(head -c 2000 "$1")"; }
one_line() { [ "$(wc -l <"$1")" -eq 1 ] || fail "$1 is not one line: $(head -c 2000 "$1")"; }
doctor_json() {
    "$python" - "$1" "$2" <<'PY' || fail "$2 (on $1)"
import json, sys
d = json.load(open(sys.argv[1]))
c = d.get("compare")
def f(check, level=None):
    return [x for x in d["findings"] if x["check"] == check
            and (level is None or x["level"] == level)]
def ids(key):
    return [a["id"] for a in c[key]]
try:
    exec(sys.argv[2])
except AssertionError as e:
    print("assertion failed:", sys.argv[2], e, file=sys.stderr)
    print(json.dumps(d, indent=1)[:6000], file=sys.stderr)
    sys.exit(1)
PY
}
