# cli_lib.sh - what the shell tests of the zguard command share (sourced):
# a temporary directory removed at exit, a failure count, and
#   fail MESSAGE          count a failure and say why
#   expect CODE CMD...    run CMD, output in $tmp/out and $tmp/err; fail
#                         unless it exits CODE (showing its stderr and the
#                         start of its stdout)
#   contains FILE TEXT    fail unless FILE holds TEXT (grep pattern)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0

fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
expect() {
    want=$1; shift
    "$@" >"$tmp/out" 2>"$tmp/err"
    got=$?
    [ "$got" -eq "$want" ] || fail "'$*' exited $got, want $want: $(cat "$tmp/err") $(head -c 2000 "$tmp/out")"
}
contains() { grep -q -- "$2" "$1" || fail "$1 lacks '$2': $(cat "$1")"; }
