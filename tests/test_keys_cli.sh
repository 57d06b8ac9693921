#!/bin/sh
# test_keys_cli.sh ZGUARD PYTHON - `zguard keygen` and `zguard key ...` as a
# user meets them: --help, success and failure of each command with its exit
# code and message, passphrases from a file, the environment and a terminal,
# never from argv, and `key show --json` read by Python's json.
set -u
zguard=$1 python=$2
. "$(dirname "$0")/cli_lib.sh"
cli_detach=1 # no terminal: a passphrase comes from a file or the environment
unset ZGUARD_PASSPHRASE_FILE CREDENTIALS_DIRECTORY

mode() { stat -c %a "$1"; }
sum() { sha256sum "$1" | cut -c1-64; }

k=$tmp/keys
mkdir "$k"
printf 'first passphrase\n' >"$tmp/pass1"
printf 'second passphrase\n' >"$tmp/pass2"
chmod 600 "$tmp/pass1" "$tmp/pass2"
fast="--cost interactive"

# ---- help
for c in "keygen" "key" "key show" "key export-secret" "key passwd"; do
    # shellcheck disable=SC2086
    expect 0 "$zguard" $c --help
    contains "$tmp/out" "usage: zguard $(echo "$c" | cut -d' ' -f1)"
done
expect 0 "$zguard" help keygen
contains "$tmp/out" "never taken from the command line"
expect 0 "$zguard" --help
contains "$tmp/out" "keygen"
expect 2 "$zguard" key
expect 2 "$zguard" key frob x
contains "$tmp/err" "no subcommand 'frob'"

# ---- keygen
# shellcheck disable=SC2086
expect 0 "$zguard" keygen alice --dir "$k" --passphrase-file "$tmp/pass1" $fast \
    --meta role=server --meta expires=2027-01-31T00:00:00Z
contains "$tmp/out" "^public key   .\{40\}$"
contains "$tmp/out" "^fingerprint  [0-9a-f]\{4\}:[0-9a-f]\{4\}:[0-9a-f]\{4\}:[0-9a-f]\{4\}$"
contains "$tmp/out" "^public       $k/alice.key$"
contains "$tmp/out" "^secret       $k/alice.key_secret (encrypted)$"
[ "$(mode "$k/alice.key")" = 644 ] || fail "public mode $(mode "$k/alice.key")"
[ "$(mode "$k/alice.key_secret")" = 600 ] || fail "secret mode"
contains "$k/alice.key_secret" 'format = "zguard-secret-1"'
contains "$k/alice.key" '    name = "alice"'
contains "$k/alice.key" '    expires = "2027-01-31T00:00:00Z"'
pub=$(sed -n 's/^public key   //p' "$tmp/out")
before=$(sum "$k/alice.key_secret")
# shellcheck disable=SC2086
expect 2 "$zguard" keygen alice --dir "$k" --passphrase-file "$tmp/pass1" $fast
contains "$tmp/err" "alice.key already exists: not overwritten (--force"
one_line "$tmp/err"
[ "$(sum "$k/alice.key_secret")" = "$before" ] || fail "keygen overwrote"
cp "$k/alice.key" "$k/alice.key_secret" "$tmp/"
# shellcheck disable=SC2086
expect 0 "$zguard" keygen alice --dir "$k" --passphrase-file "$tmp/pass1" $fast --force
[ "$(sum "$k/alice.key_secret")" != "$before" ] || fail "--force kept the old key"
cp "$tmp/alice.key" "$tmp/alice.key_secret" "$k/"   # the pair of $pub again

expect 0 "$zguard" keygen bob --dir "$k" --no-passphrase
contains "$tmp/out" "(NOT encrypted)"
contains "$k/bob.key_secret" "    secret-key = \""
[ "$(mode "$k/bob.key_secret")" = 600 ] || fail "plaintext secret mode"

# passphrase from the environment, and from a systemd credential
# shellcheck disable=SC2086
ZGUARD_PASSPHRASE_FILE=$tmp/pass2 expect 0 "$zguard" keygen carol --dir "$k" $fast
contains "$tmp/out" "(encrypted)"
mkdir "$tmp/creds" && cp "$tmp/pass2" "$tmp/creds/zguard-passphrase"
# shellcheck disable=SC2086
CREDENTIALS_DIRECTORY=$tmp/creds expect 0 "$zguard" keygen dave --dir "$k" $fast

# failures: nothing written, one line, exit 2
# shellcheck disable=SC2086
expect 2 "$zguard" keygen erin --dir "$k" $fast
contains "$tmp/err" "no new passphrase: give --passphrase-file FILE, set ZGUARD_PASSPHRASE_FILE"
contains "$tmp/err" "--no-passphrase"
one_line "$tmp/err"
[ -e "$k/erin.key" ] || [ -e "$k/erin.key_secret" ] && fail "erin written"
for bad in "--passphrase hunter2" "--passphrase=hunter2"; do
    # shellcheck disable=SC2086
    expect 2 "$zguard" keygen erin --dir "$k" $bad
    contains "$tmp/err" "a passphrase is never taken from the command line"
    lacks "$tmp/err" hunter2
done
expect 2 "$zguard" keygen erin --dir "$k" --pass hunter2
lacks "$tmp/err" hunter2
expect 2 "$zguard" keygen erin hunter2 --dir "$k"
lacks "$tmp/err" hunter2
expect 2 "$zguard" keygen erin --dir "$k" --no-passphrase --meta Bad=1
contains "$tmp/err" "metadata Bad: a metadata name is"
expect 2 "$zguard" keygen erin --dir "$k" --no-passphrase --meta expires=2027-02-30
contains "$tmp/err" 'UTC like "2027-01-31T00:00:00Z"'
expect 2 "$zguard" keygen erin --dir "$k" --no-passphrase --meta novalue
contains "$tmp/err" "NAME=VALUE"
expect 2 "$zguard" keygen erin --dir "$k" --no-passphrase --cost huge
contains "$tmp/err" "interactive, moderate or sensitive"
expect 2 "$zguard" keygen ../erin --dir "$k" --no-passphrase
expect 2 "$zguard" keygen erin --dir "$k" --no-passphrase --passphrase-file "$tmp/pass1"
expect 2 "$zguard" keygen
expect 0 "$zguard" keygen erin --dir "$tmp/new/keys" --no-passphrase
[ "$(stat -c %a "$tmp/new/keys")" = 700 ] || fail "a new key directory is not 0700"
touch "$tmp/afile"
expect 2 "$zguard" keygen erin --dir "$tmp/afile/keys" --no-passphrase
contains "$tmp/err" "cannot create $tmp/afile/keys"
chmod 644 "$tmp/pass2"
# shellcheck disable=SC2086
expect 2 "$zguard" keygen erin --dir "$k" --passphrase-file "$tmp/pass2" $fast
contains "$tmp/err" "passphrase file $tmp/pass2: permissions 0644 are too open"
chmod 600 "$tmp/pass2"
expect 2 "$zguard" keygen erin --dir "$k" --passphrase-file "$tmp/none"
contains "$tmp/err" "passphrase file $tmp/none: cannot read"
ls "$k" | grep -q erin && fail "a failed keygen wrote files"

# ---- key show
expect 0 "$zguard" key show "$k/alice.key"
has "$tmp/out" "public key   $pub"
contains "$tmp/out" "^secret       $k/alice.key_secret (encrypted)$"
contains "$tmp/out" "^    role = server$"
expect 0 "$zguard" key show "$k/alice.key_secret" --json
"$python" - "$tmp/out" "$pub" "$k" <<'PY' || fail "key show --json is wrong"
import json, sys
doc = json.load(open(sys.argv[1]))
assert doc["public_key"] == sys.argv[2], doc
assert len(doc["fingerprint"]) == 19 and doc["fingerprint"].count(":") == 3
assert doc["public_file"] == sys.argv[3] + "/alice.key"
assert doc["secret_file"] == sys.argv[3] + "/alice.key_secret"
assert doc["secret_exists"] is True and doc["secret_encrypted"] is True
assert doc["metadata"]["name"] == "alice" and doc["metadata"]["role"] == "server"
assert "secret_key" not in json.dumps(doc)
PY
expect 0 "$zguard" key show "$k/bob.key" --json
"$python" -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["secret_exists"] and not d["secret_encrypted"]' "$tmp/out" ||
    fail "bob is not plaintext in --json"
lacks "$tmp/out" "$(sed -n 's/.*secret-key = "\(.*\)"/\1/p' "$k/bob.key_secret")"
cp "$k/bob.key" "$tmp/lonely.key"
expect 0 "$zguard" key show "$tmp/lonely.key" --json
"$python" -c 'import json,sys; d=json.load(open(sys.argv[1])); assert not d["secret_exists"] and d["secret_file"] is None' "$tmp/out" ||
    fail "a public-only cert shows a secret"
expect 2 "$zguard" key show "$k/nobody.key"
contains "$tmp/err" "nobody.key: cannot read: No such file"
one_line "$tmp/err"
# a secret readable by others (pyzmq writes them 0644): show says so and
# still shows the public half; what reads the secret refuses it
chmod 644 "$k/bob.key_secret"
expect 0 "$zguard" key show "$k/bob.key"
has "$tmp/out" "public key   $(sed -n 's/.*public-key = "\(.*\)"/\1/p' "$k/bob.key")"
contains "$tmp/out" "^secret       $k/bob.key_secret (not read: see the warning)$"
contains "$tmp/err" "warning: $k/bob.key_secret: permissions 0644 are too open"
expect 0 "$zguard" key show "$k/bob.key" --json
"$python" -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["secret_exists"] and "0644 are too open" in d["secret_problem"], d' "$tmp/out" ||
    fail "key show --json hides the loose secret"
expect 2 "$zguard" key export-secret "$k/bob.key" --out "$tmp/bob.loose"
contains "$tmp/err" "permissions 0644 are too open"
[ -e "$tmp/bob.loose" ] && fail "a loose secret was exported"
chmod 600 "$k/bob.key_secret"

# ---- key --help: options are named as options, none looks positional
expect 0 "$zguard" key --help
has "$tmp/out" "zguard key export-secret KEY --out FILE [--passphrase-file F]"
lacks "$tmp/out" "[PASSPHRASE]"

# ---- key export-secret
expect 0 "$zguard" key export-secret "$k/alice.key" --out "$tmp/alice.plain" \
    --passphrase-file "$tmp/pass1"
contains "$tmp/err" "warning: $tmp/alice.plain holds the secret key UNENCRYPTED"
[ "$(mode "$tmp/alice.plain")" = 600 ] || fail "export mode"
contains "$tmp/alice.plain" "    secret-key = \""
has "$tmp/alice.plain" "    public-key = \"$pub\""
before=$(sum "$tmp/alice.plain")
expect 2 "$zguard" key export-secret "$k/alice.key" --out "$tmp/alice.plain" \
    --passphrase-file "$tmp/pass1"
contains "$tmp/err" "already exists: not overwritten"
[ "$(sum "$tmp/alice.plain")" = "$before" ] || fail "export overwrote"
ZGUARD_PASSPHRASE_FILE=$tmp/pass1 expect 0 "$zguard" key export-secret \
    "$k/alice.key_secret" --out "$tmp/alice2.plain"
expect 0 "$zguard" key export-secret "$k/bob.key" --out "$tmp/bob.plain"
expect 2 "$zguard" key export-secret "$k/alice.key" --out "$tmp/x.plain" \
    --passphrase-file "$tmp/pass2"
contains "$tmp/err" "alice.key_secret: wrong passphrase"
one_line "$tmp/err"
[ -e "$tmp/x.plain" ] && fail "wrong passphrase wrote a file"
expect 2 "$zguard" key export-secret "$k/alice.key" --out "$tmp/x.plain"
contains "$tmp/err" "no passphrase: give --passphrase-file FILE"
expect 2 "$zguard" key export-secret "$k/alice.key" --passphrase-file "$tmp/pass1"
contains "$tmp/err" "--out FILE is required"
expect 2 "$zguard" key export-secret "$k/alice.key" --out "$tmp/x.plain" --passphrase x
contains "$tmp/err" "never taken from the command line"
# a tampered and a truncated file
cp "$k/alice.key_secret" "$tmp/saved"
sed -i 's/name = "alice"/name = "alicf"/' "$k/alice.key_secret"
expect 2 "$zguard" key export-secret "$k/alice.key" --out "$tmp/x.plain" \
    --passphrase-file "$tmp/pass1"
contains "$tmp/err" "alice.key_secret: corrupted or modified: its checksum does not match"
head -c 300 "$tmp/saved" >"$k/alice.key_secret"
expect 2 "$zguard" key show "$k/alice.key"
contains "$tmp/err" "alice.key_secret: truncated or corrupted"
cp "$tmp/saved" "$k/alice.key_secret"
[ -e "$tmp/x.plain" ] && fail "a failed export wrote a file"

# ---- key passwd
expect 0 "$zguard" key passwd "$k/alice.key" --passphrase-file "$tmp/pass1" \
    --new-passphrase-file "$tmp/pass2" $fast
contains "$tmp/out" "encrypted under the new passphrase"
[ "$(mode "$k/alice.key_secret")" = 600 ] || fail "passwd mode"
expect 2 "$zguard" key export-secret "$k/alice.key" --out "$tmp/x.plain" \
    --passphrase-file "$tmp/pass1"
contains "$tmp/err" "wrong passphrase"
expect 0 "$zguard" key show "$k/alice.key"
has "$tmp/out" "public key   $pub"
before=$(sum "$k/alice.key_secret")
expect 2 "$zguard" key passwd "$k/alice.key" --passphrase-file "$tmp/pass2"
contains "$tmp/err" "no new passphrase"
[ "$(sum "$k/alice.key_secret")" = "$before" ] || fail "failed passwd wrote"
expect 2 "$zguard" key passwd "$k/alice.key" --passphrase-file "$tmp/pass1" \
    --no-passphrase
contains "$tmp/err" "wrong passphrase"
[ "$(sum "$k/alice.key_secret")" = "$before" ] || fail "failed passwd wrote"
expect 0 "$zguard" key passwd "$k/alice.key" --passphrase-file "$tmp/pass2" \
    --no-passphrase
contains "$k/alice.key_secret" "    secret-key = \""
expect 0 "$zguard" key passwd "$k/alice.key" --new-passphrase-file "$tmp/pass1" $fast
contains "$k/alice.key_secret" 'format = "zguard-secret-1"'
expect 2 "$zguard" key passwd "$k/alice.key" --no-passphrase \
    --new-passphrase-file "$tmp/pass1"
expect 0 "$zguard" key export-secret "$k/alice.key" --out "$tmp/alice3.plain" \
    --passphrase-file "$tmp/pass1"
[ "$(grep secret-key "$tmp/alice3.plain")" = "$(grep secret-key "$tmp/alice.plain")" ] ||
    fail "the secret changed through passwd"

# ---- the terminal: asked without echo, twice for a new passphrase
"$python" - "$zguard" "$k" <<'PY' || fail "passphrase on a terminal"
import os, pty, sys, time
zguard, k = sys.argv[1], sys.argv[2]
def run(args, answers):
    pid, fd = pty.fork()
    if pid == 0:
        os.execv(zguard, [zguard] + args)
    out = b""
    for a in answers:
        while b"assphrase" not in out.split(b"\n")[-1] and b"confirm" not in out.split(b"\n")[-1]:
            chunk = os.read(fd, 1024)
            if not chunk:
                break
            out += chunk
        os.write(fd, a + b"\n")
        out += b"\n"
    while True:
        try:
            chunk = os.read(fd, 1024)
        except OSError:
            break
        if not chunk:
            break
        out += chunk
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status), out
rc, out = run(["keygen", "tty", "--dir", k, "--cost", "interactive"],
              [b"typed secret", b"typed secret"])
assert rc == 0, out
assert b"typed secret" not in out, out          # no echo
assert b"(encrypted)" in out, out
rc, out = run(["keygen", "tty2", "--dir", k, "--cost", "interactive"],
              [b"one", b"two"])
assert rc == 2 and b"the two passphrases differ" in out, out
rc, out = run(["key", "export-secret", k + "/tty.key", "--out", k + "/tty.plain"],
              [b"typed secret"])
assert rc == 0, out
PY

[ "$failures" -eq 0 ] && echo "keys cli: all passed"
[ "$failures" -eq 0 ]
