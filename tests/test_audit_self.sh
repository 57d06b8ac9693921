#!/bin/sh
# test_audit_self.sh ZGUARD SRCDIR DIR KNOWN - `zguard audit DIR` on this
# project's own code (run from SRCDIR). Every finding that is not
# suppressed in the code must be listed in KNOWN, with a comment saying why
# it stands; a finding missing from KNOWN, or listed but gone, fails. KNOWN
# holds "FILE: SEVERITY RULE: MESSAGE" lines without line numbers, so that
# edits elsewhere in a file do not break the test; # lines are comments.
set -u
zguard=$1 src=$2 dir=$3 known=$4
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$src" || exit 2
"$zguard" audit --format lines --fail-on critical "$dir" >"$tmp/out" 2>"$tmp/err"
rc=$?
if [ "$rc" -gt 1 ] || [ -s "$tmp/err" ]; then
    echo "FAIL: zguard audit $dir exited $rc: $(cat "$tmp/err")"
    echo "0 passed, 1 failed"
    exit 1
fi
grep -v '^[^:]*:[0-9]*:[0-9]*: socket ' "$tmp/out" | grep -v ': suppressed ' |
    sed 's/^\([^:]*\):[0-9]*:[0-9]*:/\1:/' | sort >"$tmp/got"
grep -v '^#' "$known" | grep -v '^$' | sort >"$tmp/want"
if diff -u "$tmp/want" "$tmp/got" >"$tmp/diff"; then
    echo "1 passed, 0 failed ($(wc -l <"$tmp/got") known findings in $dir)"
    exit 0
fi
echo "FAIL: findings in $dir differ from $known (- listed but gone, + new):"
sed -n '3,$p' "$tmp/diff" | grep '^[-+]'
echo "0 passed, 1 failed"
exit 1
