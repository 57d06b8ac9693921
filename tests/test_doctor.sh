#!/bin/sh
# test_doctor.sh ZGUARD SRCDIR PYTHON VERSION DRAFT [PREFIX] - `zguard doctor`
# on this machine: its JSON validated field by field with Python's json
# module, its exit codes for --fail-on, and --policy with a good policy, a
# weak one and a broken one.
#
# VERSION is the libzmq this build was made against (pkg-config), DRAFT
# "yes" when that libzmq has the draft API, PREFIX the staged libzmq's
# prefix (empty for the system's): doctor must see exactly that libzmq.
set -u
zguard=$1 src=$2 python=$3 version=$4 draft=$5 prefix=${6:-}
. "$(dirname "$0")/cli_lib.sh"

# The real database, reviewed "today" so that its age does not make this
# test depend on the date it runs; test_advisory checks the file itself.
mkdir "$tmp/data"
sed "s/^reviewed = .*/reviewed = $(date -u +%F)/" \
    "$src/data/libzmq-advisories.ini" >"$tmp/data/libzmq-advisories.ini"
ZGUARD_DATADIR=$tmp/data
export ZGUARD_DATADIR

expect 0 "$zguard" doctor --help
contains "$tmp/out" "usage: zguard doctor"
contains "$tmp/out" "false positive"
expect 0 "$zguard" help doctor
expect 2 "$zguard" doctor --frobnicate
contains "$tmp/err" "unknown option"
expect 2 "$zguard" doctor --fail-on severe
contains "$tmp/err" "not low, medium, high or critical"
expect 2 "$zguard" doctor extra

# ---- the libzmq of this build -------------------------------------------------
# Behind the latest stable (4.3.5) is a warning, nothing else is; a newer
# libzmq (a staged master) is only told so (info).
if [ "$version" = 4.3.5 ]; then
    rel=latest
elif [ "$(printf '%s\n4.3.5\n' "$version" | sort -V | head -n 1)" = 4.3.5 ]; then
    rel=newer
else
    rel=older
fi
if [ "$rel" = older ]; then base=1; else base=0; fi
expect $base "$zguard" doctor --json
cp "$tmp/out" "$tmp/plain.json"
doctor_json "$tmp/plain.json" "
assert d['doctor_format'] == 1
assert d['libzmq']['runtime'] == '$version', d['libzmq']
assert d['libzmq']['compiled'] == '$version' and d['libzmq']['mismatch'] is False
assert d['libsodium']['version'].startswith('1.')
assert d['curve']['backend'] == 'libsodium', d['curve']
assert 'DT_NEEDED' in d['curve']['method']
assert d['draft_api']['available'] is ('$draft' == 'yes'), d['draft_api']
assert d['draft_api']['zmq_socket_monitor_pipes_stats'] is ('$draft' == 'yes')
caps = d['capabilities']
assert sorted(caps) == sorted(['curve', 'gssapi', 'ipc', 'tipc', 'pgm', 'norm', 'ws', 'wss', 'vmci', 'draft'])
assert caps['curve'] and caps['ipc']
# Debian's libzmq has GSSAPI; libzmq's CMake (scripts/build-libzmq --source)
# cannot build it
assert caps['gssapi'] or '$prefix', caps
assert caps['draft'] is ('$draft' == 'yes')
assert d['mechanisms']['gssapi'] == {'compiled': caps['gssapi'], 'allowed_by_zguard': False}
assert d['mechanisms']['plain']['allowed_by_zguard'] is False
assert d['advisories'] == [], d['advisories']
issues = [i['id'] for i in d['unfixed_issues']]
assert all(i['fixed'] is None and i['mitigation'] and i['master'] and i['kind'] == 'issue' for i in d['unfixed_issues'])
if '$rel' == 'newer':
    # master has every fix but #4841's (its pull request was closed)
    assert issues == ['libzmq-4841'], issues
else:
    assert 'libzmq-4912' in issues, issues
    m4912 = [i for i in d['unfixed_issues'] if i['id'] == 'libzmq-4912'][0]
    assert 'ba63f037' in m4912['master'], m4912
# the no-CURVE default of 4.3.5 is reported only for a libzmq without CURVE
assert 'libzmq-4765' not in [i['id'] for i in d['unfixed_issues']]
# 74529d97: a 4.3.4 behaviour, fixed in 4.3.5, never an advisory
beh = [b['id'] for b in d['behaviours']]
assert beh == (['libzmq-74529d97'] if '$version' == '4.3.4' else []), d['behaviours']
assert bool(f('behaviour', 'info')) is ('$version' == '4.3.4')
assert d['advisory_db']['format'] == 1 and d['advisory_db']['advisories'] == 11
assert d['advisory_db']['unfixed_issues'] == 6 and d['advisory_db']['behaviours'] == 1
assert d['advisory_db']['path'] == '$tmp/data/libzmq-advisories.ini'
ls = d['latest_stable']
assert ls['version'] == '4.3.5' and ls['date'] == '2023-10-09', ls
import datetime
age = (datetime.datetime.now(datetime.timezone.utc).date() - datetime.date(2023, 10, 9)).days
assert abs(ls['days_since_release'] - age) <= 1, (ls, age)
assert ls['is_latest'] is ('$rel' == 'latest')
assert ls['releases_behind'] == {'older': 1, 'latest': 0, 'newer': -1}['$rel'] and ls['releases_behind_exact']
assert ('$rel' == 'older') == bool(f('libzmq-behind', 'warning'))
assert ('$rel' == 'newer') == bool(f('libzmq-newer', 'info'))
assert len(f('mechanism')) == (2 if caps['gssapi'] else 1)
assert caps['gssapi'] is ('GSSAPI' in f('mechanism')[0]['message'])
assert not f('advisory') and not f('curve') and not f('advisory-db')
assert d['policy'] is None and d['fail_on'] == 'high'
assert 'backport' in d['version_match_note']
assert d['exit'] == $base
"
if [ -n "$prefix" ]; then
    doctor_json "$tmp/plain.json" "assert d['libzmq']['path'].startswith('$prefix/lib/'), d['libzmq']"
    # found through the RPATH, not only through the LD_LIBRARY_PATH the
    # suite may run with
    expect $base env -u LD_LIBRARY_PATH "$zguard" doctor --json
    doctor_json "$tmp/out" "assert d['libzmq']['runtime'] == '$version' and d['libzmq']['path'].startswith('$prefix/lib/'), d['libzmq']"
    expect 0 env -u LD_LIBRARY_PATH "$zguard" version
    contains "$tmp/out" "^libzmq $version "
else
    doctor_json "$tmp/plain.json" "assert d['libzmq']['path'] and 'libzmq.so' in d['libzmq']['path']"
fi

# The table says the same for people.
expect $base "$zguard" doctor
contains "$tmp/out" "libzmq (run time)    $version"
contains "$tmp/out" "CURVE on             libsodium"
if [ "$rel" = newer ]; then
    contains "$tmp/out" "latest stable        4.3.5 (this libzmq is newer)"
else
    contains "$tmp/out" "latest stable        4.3.5 (released 2023-10-09"
fi
contains "$tmp/out" "none of 11 known applies to $version"
if [ -z "$prefix" ]; then
    contains "$tmp/out" "GSSAPI               compiled in; refused by zguard"
fi
contains "$tmp/out" "false positive"
if [ "$draft" = yes ]; then
    contains "$tmp/out" "draft API            yes"
else
    contains "$tmp/out" "draft API            no"
fi

# ---- --fail-on: a database where a medium advisory covers every version -------
sed -e '/^\[issue\./,$d' "$tmp/data/libzmq-advisories.ini" >"$tmp/fake.ini"
cat >>"$tmp/fake.ini" <<'EOF'
[advisory.TEST-0001]
affected = <= 99.0.0
fixed = 99.0.1
aliases = GHSA-2345-6789-cfgh, OTHER-1
severity = medium
summary = a test advisory that applies to every libzmq
url = https://example.invalid/TEST-0001
EOF
expect 1 "$zguard" doctor --json --advisories "$tmp/fake.ini"
doctor_json "$tmp/out" "
assert [a['id'] for a in d['advisories']] == ['TEST-0001'] and d['unfixed_issues'] == []
assert d['advisories'][0]['aliases'] == ['GHSA-2345-6789-cfgh', 'OTHER-1'], d['advisories'][0]
assert d['advisories'][0]['kind'] == 'advisory'
assert 'TEST-0001 (also GHSA-2345-6789-cfgh, OTHER-1) applies' in f('advisory')[0]['message']
assert f('advisory')[0]['level'] == 'warning' and f('advisory')[0]['subject'] == 'TEST-0001'
assert d['exit'] == 1 and d['fail_on'] == 'high'"
expect 1 "$zguard" doctor --advisories "$tmp/fake.ini" --fail-on critical
expect 2 "$zguard" doctor --advisories "$tmp/fake.ini" --fail-on medium
contains "$tmp/out" "failure  advisory         medium TEST-0001 (also GHSA-2345-6789-cfgh, OTHER-1) applies"
expect 2 "$zguard" doctor --json --advisories "$tmp/fake.ini" --fail-on low
doctor_json "$tmp/out" "assert f('advisory')[0]['level'] == 'failure' and d['exit'] == 2 and d['fail_on'] == 'low'"
# no database at all is a failure, not a silent pass
expect 2 "$zguard" doctor --json --advisories "$tmp/missing.ini"
doctor_json "$tmp/out" "
assert d['advisory_db'] is None and d['latest_stable'] is None
assert 'missing.ini: file: cannot read' in f('advisory-db', 'failure')[0]['message']"
printf 'format = 1\nreviewed = 2026-11-28\n' >"$tmp/broken.ini"
expect 2 "$zguard" doctor --advisories "$tmp/broken.ini"
contains "$tmp/out" "broken.ini:1: latest_stable: missing"

# ---- --policy -------------------------------------------------------------------
# Good: the example policy with its key files in place and private.
mkdir -p "$tmp/good/keys" "$tmp/good/authorized"
cp "$src/examples/orders.policy" "$tmp/good/"
for k in orders-in orders-out; do
    echo "public" >"$tmp/good/keys/$k.key"
    echo "secret" >"$tmp/good/keys/$k.key_secret"
    chmod 600 "$tmp/good/keys/$k.key_secret"
done
expect $base "$zguard" doctor --json --policy "$tmp/good/orders.policy"
doctor_json "$tmp/out" "
assert d['policy'] == {'file': '$tmp/good/orders.policy', 'valid': True}
bad = [x for x in d['findings'] if x['check'].startswith(('policy', 'key-file'))]
assert bad == [], bad"

# Weak: every kind of weak value, a world-readable secret, a missing key file,
# a missing allowlist directory.
cp -r "$tmp/good" "$tmp/weak"
cat >"$tmp/weak/weak.policy" <<'EOF'
version = 1
[auth]
allow = nowhere
[defaults]
linger = infinite
unbounded = yes
rationale = we wait for every message at shutdown
[type.pub]
security = none
insecure = yes
rationale = market data is public
[socket.feed-in]
type = pull
rcvhwm = 200000
rcvtimeo = 2m
curve_keys = keys/orders-in.key
[socket.feed-out]
type = push
curve_keys = keys/gone.key
curve_server_key = keys/orders-in.key
EOF
chmod 644 "$tmp/weak/keys/orders-in.key_secret"
expect 2 "$zguard" doctor --json --policy "$tmp/weak/weak.policy"
doctor_json "$tmp/out" "
assert d['policy']['valid'] is True
weak = ' | '.join(x['message'] for x in f('policy-weak', 'warning'))
for s in ['weak.policy:5: linger = infinite', 'infinite linger', 'rationale: we wait',
          'weak.policy:9: security = none', 'plaintext',
          'weak.policy:14: rcvhwm = 200000', 'over 100000',
          'weak.policy:15: rcvtimeo = 2m', 'over 60s']:
    assert s in weak, (s, weak)
# the [defaults] line is reported once, not once per socket and type
assert sum('linger = infinite' in x['message'] for x in f('policy-weak')) == 1
keys = ' | '.join(x['message'] for x in f('key-file', 'failure'))
assert 'orders-in.key_secret has mode 0644' in keys, keys
assert 'gone.key: No such file' in keys and 'gone.key_secret: No such file' in keys, keys
assert 'allow directory $tmp/weak/nowhere: No such file' in keys, keys
assert not [x for x in f('key-file') if 'orders-out' in x['message']]
assert d['exit'] == 2"
# the table lists them too
expect 2 "$zguard" doctor --policy "$tmp/weak/weak.policy"
contains "$tmp/out" "policy               $tmp/weak/weak.policy: valid"
contains "$tmp/out" "has mode 0644"

# Weak values alone are warnings; the gate's keys are checked against the
# loaded libzmq.
cat >"$tmp/weak/values.policy" <<'EOF'
version = 1
min_libzmq = 99.0.0
[socket.x]
type = dealer
sndhwm = 150000
EOF
expect 2 "$zguard" doctor --json --policy "$tmp/weak/values.policy"
doctor_json "$tmp/out" "
assert 'values.policy:2: min_libzmq = 99.0.0 but libzmq $version is loaded' in f('policy-gate', 'failure')[0]['message']
assert 'sndhwm = 150000' in f('policy-weak', 'warning')[0]['message']"
sed -i 's/^min_libzmq = .*/min_libzmq = 4.3.0/' "$tmp/weak/values.policy"
expect 1 "$zguard" doctor --json --policy "$tmp/weak/values.policy"
doctor_json "$tmp/out" "assert not f('policy-gate') and len(f('policy-weak')) == 1 and d['exit'] == 1"

# on_advisory = fail with an advisory that applies: zg_ctx_new would refuse.
printf 'version = 1\non_advisory = fail\n' >"$tmp/weak/gate.policy"
expect 2 "$zguard" doctor --json --policy "$tmp/weak/gate.policy" \
    --advisories "$tmp/fake.ini" --fail-on critical
doctor_json "$tmp/out" "assert 'on_advisory = fail and 1 advisory applies' in f('policy-gate', 'failure')[0]['message']"

# Broken: the parser's problems, with file and line.
printf 'version = 1\n[defaults]\nsndhwm = 0\n' >"$tmp/bad.policy"
expect 2 "$zguard" doctor --json --policy "$tmp/bad.policy"
doctor_json "$tmp/out" "
assert d['policy']['valid'] is False
assert \"bad.policy:3: sndhwm: '0' is unbounded\" in f('policy', 'failure')[0]['message']"
expect 2 "$zguard" doctor --json --policy "$tmp/none.policy"
doctor_json "$tmp/out" "assert 'none.policy: file: cannot read' in f('policy', 'failure')[0]['message']"

# examples/orders.policy as a stranger meets it: doctor names what makes each
# missing file, and the commands in the policy's own comments make them.
mkdir -p "$tmp/repo/examples" "$tmp/bin"
cp "$src/examples/orders.policy" "$tmp/repo/examples/"
ln -s "$zguard" "$tmp/bin/zguard"
cd "$tmp/repo" || exit 1
expect 2 "$zguard" doctor --json --policy examples/orders.policy
check "$tmp/out" "
m = [x['message'] for x in f('key-file', 'failure')]
assert any('public key file examples/keys/orders-in.key: No such file or directory; make the pair with: zguard keygen orders-in --dir examples/keys' in x for x in m), m
assert any('server public key file examples/keys/orders-in.key' in x and 'copy it here from the server' in x for x in m), m
assert any('[auth] allow directory examples/authorized: No such file or directory; make it with: mkdir -m 700 examples/authorized' in x for x in m), m"
sed -n 's/^#     //p' "$src/examples/orders.policy" >"$tmp/make-keys.sh"
grep -q "zguard keygen orders-in" "$tmp/make-keys.sh" ||
    fail "orders.policy's comments do not say how to make its keys"
PATH=$tmp/bin:$PATH sh -e "$tmp/make-keys.sh" >/dev/null 2>"$tmp/err" ||
    fail "the commands in orders.policy's comments fail: $(cat "$tmp/err")"
# exit 0 or 1: a libzmq behind the latest stable is a warning
"$zguard" doctor --json --policy examples/orders.policy >"$tmp/out" 2>"$tmp/err"
check "$tmp/out" "assert d['exit'] in (0, 1) and not f('key-file') and not f('policy', 'failure'), d['findings']"
cd - >/dev/null || exit 1

[ "$failures" -eq 0 ] || { echo "$failures failure(s)"; exit 1; }
echo "doctor: all checks passed (libzmq $version, draft $draft)"
