#!/bin/sh
# run_cases.sh ZGUARD POLICY_DIR - checks every policy of the corpus with
# `ZGUARD policy check` as a user would run it:
#
#   bad/NN-name.policy   must be refused (exit 2), and standard error must be
#                        exactly bad/NN-name.expect, where the file's path is
#                        written as the word FILE;
#   warn/NN-name.policy  must be valid with warnings (exit 1), standard error
#                        exactly warn/NN-name.expect;
#   good/NN-name.policy  must be valid (exit 0) with nothing on standard error.
#
# Every .policy in bad/ and warn/ needs its .expect and every .expect its
# .policy. Prints one line per case and a count; exits 1 on any failure.
set -u

if [ $# -ne 2 ]; then
    echo "usage: $0 ZGUARD_BINARY POLICY_DIR" >&2
    exit 2
fi
zguard=$1 dir=$2
if [ ! -x "$zguard" ]; then
    echo "$0: $zguard is not an executable" >&2
    exit 2
fi
if [ ! -d "$dir/bad" ] || [ ! -d "$dir/good" ] || [ ! -d "$dir/warn" ]; then
    echo "$0: $dir has no bad/, good/ and warn/ directories" >&2
    exit 2
fi

tmp=$(mktemp -d) || exit 2
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' HUP INT TERM

passed=0 failed=0

pass() {
    echo "ok $1"
    passed=$((passed + 1))
}

# fail LABEL REASON: REASON may be several lines
fail() {
    echo "FAIL $1"
    printf '%s\n' "$2" | sed '/^    /!s/^/    /'
    failed=$((failed + 1))
}

# normalise PATH: standard error with "PATH:" at the start of a line written
# as "FILE:" (a plain string comparison: the path is not a pattern)
normalise() {
    P=$1 awk '
        BEGIN { p = ENVIRON["P"] ":"; n = length(p) }
        substr($0, 1, n) == p { $0 = "FILE:" substr($0, n + 1) }
        { print }' "$tmp/err" >"$tmp/err.norm"
}

# run_case KIND NAME WANT_EXIT SUMMARY: checks one policy; SUMMARY is what
# the summary line on standard output says after "PATH: ". One "ok" or
# "FAIL" line per case, the reasons for a failure indented below it.
run_case() {
    kind=$1 name=$2 want=$3 summary=$4
    label=$kind/$name
    policy=$dir/$kind/$name.policy
    "$zguard" policy check "$policy" >"$tmp/out" 2>"$tmp/err"
    rc=$?
    normalise "$policy"
    : >"$tmp/why"
    if [ "$rc" -ne "$want" ]; then
        echo "    exit status $rc, want $want" >>"$tmp/why"
    fi
    if [ "$kind" = good ]; then
        if [ -s "$tmp/err" ]; then
            echo "    standard error is not empty:" >>"$tmp/why"
            sed 's/^/    /' "$tmp/err.norm" >>"$tmp/why"
        fi
    elif ! cmp -s "$dir/$kind/$name.expect" "$tmp/err.norm"; then
        echo "    standard error differs from $name.expect:" >>"$tmp/why"
        diff -u "$dir/$kind/$name.expect" "$tmp/err.norm" |
            sed -e "1s|.*|--- $label.expect|" -e "2s|.*|+++ actual|" \
                -e 's/^/    /' >>"$tmp/why"
    fi
    out=$(cat "$tmp/out")
    case $out in
    "$policy: $summary"*) ;;
    *) echo "    summary line is '$out', want '$policy: $summary...'" \
        >>"$tmp/why" ;;
    esac
    if [ -s "$tmp/why" ]; then
        fail "$label" "$(cat "$tmp/why")"
    else
        pass "$label"
    fi
}

# Pairs: a .policy without its .expect, or the reverse, is a broken case.
for kind in bad warn; do
    for f in "$dir/$kind"/*.policy; do
        [ -e "$f" ] || continue
        name=$(basename "$f" .policy)
        [ -f "$dir/$kind/$name.expect" ] ||
            fail "$kind/$name" "has no $name.expect"
    done
    for f in "$dir/$kind"/*.expect; do
        [ -e "$f" ] || continue
        name=$(basename "$f" .expect)
        [ -f "$dir/$kind/$name.policy" ] ||
            fail "$kind/$name" "has an .expect but no $name.policy"
    done
done
for f in "$dir/good"/*.expect; do
    [ -e "$f" ] || continue
    fail "good/$(basename "$f" .expect)" "good cases print nothing: remove its .expect"
done

for kind in bad warn good; do
    found=0
    for f in "$dir/$kind"/*.policy; do
        [ -e "$f" ] || continue
        found=1
        name=$(basename "$f" .policy)
        case $kind in
        bad | warn)
            # without its .expect it has failed above already
            [ -f "$dir/$kind/$name.expect" ] || continue
            if [ "$kind" = bad ]; then
                run_case bad "$name" 2 "invalid: "
            else
                run_case warn "$name" 1 "valid with "
            fi
            ;;
        good) run_case good "$name" 0 "valid, " ;;
        esac
    done
    [ "$found" -eq 1 ] || fail "$kind/" "no cases"
done

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
