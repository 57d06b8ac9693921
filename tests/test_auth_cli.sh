#!/bin/sh
# test_auth_cli.sh ZGUARD PYTHON - `zguard auth check` on every state a
# certificate can be in, and `zguard key rotate` doing the file work of
# docs/key-rotation.md.
set -u
zguard=$1 python=$2
. "$(dirname "$0")/cli_lib.sh"
cd "$tmp" || exit 2 # expect writes out and err here

expect 0 "$zguard" auth --help
contains out "usage: zguard auth check DIR"
expect 2 "$zguard" auth check
expect 2 "$zguard" auth check "$tmp/nowhere"
contains err "cannot read the allowlist directory"

mkdir authorized
for n in alice bob carol; do
    expect 0 "$zguard" keygen "$n" --dir keys --no-passphrase
done
expect 0 "$zguard" keygen eve --dir keys --no-passphrase \
    --meta expires=2020-01-01T00:00:00Z
cp keys/alice.key keys/bob.key keys/eve.key authorized/
expect 1 "$zguard" auth check authorized   # eve has expired
contains out "^valid      alice"
contains out "^expired    eve"

cp keys/alice.key authorized/alice-again.key          # duplicate
printf 'not a certificate\n' >authorized/junk.key     # malformed
cp keys/alice.key_secret authorized/                   # secrets: ignored
"$python" -c "import sys; print(open('keys/bob.key').read().split('public-key = \"')[1][:40], ' # bob')" >revoked.txt
expect 1 "$zguard" auth check authorized --revoked revoked.txt
contains out "^duplicate  alice .*alice.key: same key as alice-again.key"
contains out "^malformed  - .*junk.key"
contains out "^revoked    bob"
grep -q "key_secret" out && fail "a secret file was looked at"
contains err "3 keys loaded, 1 valid; 4 files with problems"
expect 1 "$zguard" auth check --json authorized --revoked revoked.txt
"$python" - out <<'PY' || fail "auth check --json"
import json, sys
doc = json.load(open(sys.argv[1]))
states = {c["file"]: c["state"] for c in doc["certificates"]}
assert states["alice-again.key"] == "valid", states
assert states["alice.key"] == "duplicate", states
assert states["bob.key"] == "revoked", states
assert states["eve.key"] == "expired", states
assert states["junk.key"] == "malformed", states
assert doc["keys_loaded"] == 3 and doc["valid"] == 1, doc
PY

# rotate: old pair kept under a dated name, new pair in place, authorized
old_fp=$("$zguard" key show --json keys/carol.key | "$python" -c 'import json,sys; print(json.load(sys.stdin)["fingerprint"])')
cp keys/carol.key authorized/
expect 0 "$zguard" key rotate keys/carol.key --no-passphrase --allowlist authorized
contains out "^new  keys/carol.key"
archived=$(sed -n 's/^old  \([^ ]*\) .*/\1/p' out)
[ -f "$archived" ] && [ -f "${archived}_secret" ] || fail "old pair not kept: $archived"
[ "$(stat -c %a "${archived}_secret")" = 600 ] || fail "archived secret not 0600"
"$zguard" key show --json "$archived" | grep -q "$old_fp" || fail "archive is not the old key"
"$zguard" key show --json keys/carol.key >show.json
grep -q "$old_fp" show.json && grep -q "rotated-from" show.json || fail "new key lacks rotated-from"
grep -q "\"fingerprint\": \"$old_fp\"" show.json && fail "the key did not change"
contains show.json '"name": "carol"'
expect 1 "$zguard" auth check authorized --revoked revoked.txt
[ "$(grep -c '^valid      carol' out)" -eq 2 ] || fail "old and new carol not both valid: $(cat out)"
expect 2 "$zguard" key rotate keys/nobody.key --no-passphrase
contains err "nobody.key"
expect 2 "$zguard" key rotate --passphrase hunter2 keys/carol.key
grep -q hunter2 err && fail "a passphrase given on the command line was echoed"

[ "$failures" -eq 0 ] && echo "auth cli: all checks passed"
exit $((failures > 0))
