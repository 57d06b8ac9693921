#!/bin/sh
# run.sh ZGUARD CZMQ_CERT ZG_CERT PYTHON - certificates across implementations.
#
# zguard -> CZMQ and pyzmq: a public certificate and an exported plaintext
# secret load in CZMQ's zcert_load and pyzmq's zmq.auth.load_certificate
# with the same keys and metadata; pyzmq reads the public key of an
# encrypted secret file too.
# CZMQ and pyzmq -> zguard: their certificates load with zg_cert_load, their
# plaintext secrets with zg_cert_load_pair once chmod 600; the 0644 secret
# pyzmq writes is refused with the permissions message.
set -u
zguard=$1 czmq=$2 zgc=$3 python=$4
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
field() { sed -n "s/^$1 //p" "$2"; }
same() { [ "$2" = "$3" ] || fail "$1: '$2' != '$3'"; }

printf 'interop passphrase\n' >"$tmp/pass"
chmod 600 "$tmp/pass"
"$zguard" keygen alice --dir "$tmp" --passphrase-file "$tmp/pass" \
    --cost interactive --meta role=server >"$tmp/gen" || fail "keygen"
pub=$(field "public key  " "$tmp/gen")
"$zguard" key export-secret "$tmp/alice.key" --out "$tmp/alice-plain.key_secret" \
    --passphrase-file "$tmp/pass" 2>/dev/null || fail "export-secret"
ZGUARD_PASSPHRASE_FILE=$tmp/pass "$zgc" pair "$tmp/alice.key" >"$tmp/zg" ||
    fail "zguard cannot load its own pair"
sec=$(field secret "$tmp/zg")
[ ${#pub} -eq 40 ] && [ ${#sec} -eq 40 ] || fail "no keys from zguard"

# ---- CZMQ reads zguard's files
"$czmq" load "$tmp/alice.key" >"$tmp/cz" || fail "zcert_load alice.key"
same "CZMQ public of alice.key" "$(field public "$tmp/cz")" "$pub"
grep -q '^meta name=alice$' "$tmp/cz" || fail "CZMQ lost metadata name"
grep -q '^meta role=server$' "$tmp/cz" || fail "CZMQ lost metadata role"
"$czmq" load "$tmp/alice-plain.key_secret" >"$tmp/cz" ||
    fail "zcert_load exported secret"
same "CZMQ public of the export" "$(field public "$tmp/cz")" "$pub"
same "CZMQ secret of the export" "$(field secret "$tmp/cz")" "$sec"

# ---- pyzmq reads zguard's files
"$python" - "$tmp" "$pub" "$sec" <<'PY' || fail "pyzmq cannot read zguard's files"
import sys, zmq.auth
d, pub, sec = sys.argv[1], sys.argv[2].encode(), sys.argv[3].encode()
p, s = zmq.auth.load_certificate(d + "/alice.key")
assert (p, s) == (pub, None), (p, s)
p, s = zmq.auth.load_certificate(d + "/alice-plain.key_secret")
assert (p, s) == (pub, sec), (p, s)
# the encrypted file: its public key, and no secret
p, s = zmq.auth.load_certificate(d + "/alice.key_secret")
assert (p, s) == (pub, None), (p, s)
assert zmq.auth.load_certificates(d) == {pub: True}
PY

# ---- zguard reads CZMQ's files (zcert_save writes FILE and FILE_secret)
"$czmq" new "$tmp/cz.key" >"$tmp/czn" || fail "zcert_new/zcert_save"
"$zgc" public "$tmp/cz.key" >"$tmp/zg" || fail "zg_cert_load of CZMQ's file"
same "zguard public of CZMQ's file" "$(field public "$tmp/zg")" \
    "$(field public "$tmp/czn")"
grep -q '^meta name=made-by-czmq$' "$tmp/zg" || fail "CZMQ metadata lost"
chmod 600 "$tmp/cz.key_secret"
"$zgc" pair "$tmp/cz.key" >"$tmp/zg" || fail "zg_cert_load_pair of CZMQ's pair"
same "zguard secret of CZMQ's pair" "$(field secret "$tmp/zg")" \
    "$(field secret "$tmp/czn")"

# ---- zguard reads pyzmq's files
"$python" - "$tmp" >"$tmp/pyn" <<'PY' || fail "pyzmq create_certificates"
import sys, zmq.auth
pub, sec = zmq.auth.create_certificates(sys.argv[1], "py", {"role": "client"})
p, s = zmq.auth.load_certificate(sec)
print("public " + p.decode())
print("secret " + s.decode())
PY
"$zgc" public "$tmp/py.key" >"$tmp/zg" || fail "zg_cert_load of pyzmq's file"
same "zguard public of pyzmq's file" "$(field public "$tmp/zg")" \
    "$(field public "$tmp/pyn")"
# pyzmq writes the secret world-readable: refused, with the fix
"$zgc" pair "$tmp/py.key" >"$tmp/zg" 2>"$tmp/err" && fail "0644 secret loaded"
grep -q "py.key_secret: permissions 0644 are too open.*(chmod 600 " "$tmp/err" ||
    fail "no permissions message: $(cat "$tmp/err")"
chmod 600 "$tmp/py.key_secret"
"$zgc" pair "$tmp/py.key" >"$tmp/zg" || fail "zg_cert_load_pair of pyzmq's pair"
same "zguard secret of pyzmq's pair" "$(field secret "$tmp/zg")" \
    "$(field secret "$tmp/pyn")"
grep -q '^meta role=client$' "$tmp/zg" || fail "pyzmq's unquoted metadata lost"

[ "$failures" -eq 0 ] && echo "interop: all passed"
[ "$failures" -eq 0 ]
