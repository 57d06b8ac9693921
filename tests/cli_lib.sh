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
