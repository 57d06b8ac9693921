#!/usr/bin/env python3
"""The man pages (man/*.scd) against the code they document:

  - each command `zguard --help` lists has its page, zguard-CMD.1, and
    zguard(1) names it;
  - every flag a command's --help prints (and its subcommands': bench hwm,
    gate, instr; policy suggest) is in that command's page, and so is every option of its
    tables in the source (cli_opt_t {"name", 'l', ...} in tools/cmd_CMD.c,
    bench/ for bench): the tables are what the parser accepts;
  - every policy key zguard knows is a term of zguard.policy(5), in the
    section it belongs to: the socket keys from `zguard policy doc --format
    json` on a policy of built-in values (and each built-in value is in its
    key's entry), the [auth], [metrics] and [gate] keys from the list the
    parser prints for an unknown key there, the top-level keys from its
    message for a key before any section, the section keys from the
    parser's own list (src/policy_parse.c);
  - scdoc renders every page without a message.

usage: test_man.py ZGUARD SRCDIR SCDOC
"""
import glob
import json
import os
import re
import subprocess
import sys
import tempfile

ZGUARD, SRC, SCDOC = sys.argv[1:4]
MAN = os.path.join(SRC, "man")
failures = []


def fail(msg):
    failures.append(msg)
    print("FAIL:", msg, file=sys.stderr)


def run(*args, ok=(0,)):
    r = subprocess.run([ZGUARD] + list(args), capture_output=True, text=True,
                       stdin=subprocess.DEVNULL, timeout=60)
    if r.returncode not in ok:
        raise SystemExit("zguard %s exited %d: %s" % (" ".join(args), r.returncode, r.stderr))
    return r


def page(name):
    path = os.path.join(MAN, name + ".scd")
    if not os.path.exists(path):
        fail("no page %s (man/%s.scd)" % (name, name))
        return ""
    with open(path) as f:
        return f.read()


def has_flag(text, flag):
    return re.search(r"(?<![\w-])%s(?![\w-])" % re.escape(flag), text) is not None


# --name, or -x alone (not the -U of "kill -USR1")
FLAG = re.compile(r"(?<![\w-])(--[a-z][a-z0-9-]*|-[a-zA-Z](?!\w))")


def help_flags(*args):
    return set(FLAG.findall(run(*args, "--help").stdout))


def table_options(path):
    """(--name, -l or None) of every cli_opt_t entry in a source file."""
    with open(path) as f:
        text = f.read()
    out = []
    for name, letter in re.findall(
            r'\{"([a-z][a-z0-9-]*)",\s*(?:0|\'(.)\'),\s*(?:"[^"]*"|NULL),', text):
        out.append(("--" + name, "-" + letter if letter else None))
    return out


# ---- commands, their pages and flags ---------------------------------------
top = run("--help").stdout
commands = re.findall(r"^  ([a-z]+) {2,}\S", top[top.index("commands:"):], re.M)
assert len(commands) >= 11 and "gate" in commands, commands
zguard1 = page("zguard.1")
checked = 0
for cmd in commands:
    text = page("zguard-%s.1" % cmd)
    if not text:
        continue
    if not re.search(r"\*zguard-%s\*\(1\)" % cmd, zguard1):
        fail("zguard(1) does not point to zguard-%s(1)" % cmd)
    flags = help_flags(cmd)
    for sub in {"bench": ("hwm", "gate", "instr"), "policy": ("suggest",)}.get(cmd, ()):
        flags |= help_flags(cmd, sub)
    for flag in sorted(flags):
        checked += 1
        if not has_flag(text, flag):
            fail("zguard %s --help prints %s; zguard-%s(1) lacks it" % (cmd, flag, cmd))

# The option tables: cmd_CMD.c for CMD (cmd_key.c holds keygen's too,
# cmd_suggest.c is `zguard policy suggest`), bench/'s programs behind
# `zguard bench`. bench_audit is a benchmark of its own
# (build/bench/bench_audit), not a zguard command.
OWNERS = {"key": ["key", "keygen"], "suggest": ["policy"]}
sources = {}
for path in glob.glob(os.path.join(SRC, "tools", "cmd_*.c")):
    cmd = os.path.basename(path)[4:-2]
    sources[path] = OWNERS.get(cmd, [cmd])
for name in ("zguard_bench", "bench_hwm", "bench_gate", "bench_instr"):
    sources[os.path.join(SRC, "bench", name + ".c")] = ["bench"]
for path, cmds in sorted(sources.items()):
    for cmd in cmds:
        if cmd not in commands:
            fail("%s: no command '%s' in zguard --help" % (path, cmd))
    text = "".join(page("zguard-%s.1" % c) for c in cmds)
    for name, letter in table_options(path):
        checked += 1
        for flag in (name, letter):
            if flag and not has_flag(text, flag):
                fail("%s accepts %s; %s lacks it" % (
                    os.path.relpath(path, SRC), flag,
                    " / ".join("zguard-%s(1)" % c for c in cmds)))
print("flags: %d checked over %d commands" % (checked, len(commands)))

# ---- policy keys -------------------------------------------------------------
policy5 = page("zguard.policy.5")


def section(title):
    """The text of a section of zguard.policy(5), heading excluded."""
    m = re.search(r"^# %s\n(.*?)(?=^# |\Z)" % re.escape(title), policy5, re.M | re.S)
    if not m:
        fail("zguard.policy(5) has no section '%s'" % title)
        return ""
    return m.group(1)


def entry(text, key):
    """A term's entry: from its line (*key*, or *a*, *key*) to the next
    term; None when the key is not a term there."""
    m = re.search(r"^(?:\*[a-z_]+\*, )*\*%s\*(?:, \*[a-z_]+\*)*\n(.*?)(?=^\*|\Z)"
                  % re.escape(key), text, re.M | re.S)
    return m.group(1) if m else None


with tempfile.TemporaryDirectory() as tmp:
    builtin = os.path.join(tmp, "builtin.policy")
    with open(builtin, "w") as f:
        f.write("version = 1\n")
    doc = json.loads(run("policy", "doc", "--format", "json", builtin).stdout)
    probe = os.path.join(tmp, "probe.policy")
    with open(probe, "w") as f:
        f.write("version = 1\nzz_probe = 1\n[auth]\nzz_probe = 1\n[metrics]\n"
                "zz_probe = 1\n[gate]\nzz_probe = 1\n")
    errors = run("policy", "check", probe, ok=(2,)).stderr

socket_keys = {}
for t in doc["types"]:
    for s in t["settings"]:
        socket_keys.setdefault(s["key"], set()).add(s["text"])
assert len(socket_keys) >= 30 and "sndhwm" in socket_keys, socket_keys
text = section("SOCKET KEYS")
for key, values in sorted(socket_keys.items()):
    e = entry(text, key)
    if e is None:
        fail("policy key %s is not in zguard.policy(5)'s SOCKET KEYS" % key)
        continue
    for v in sorted(values):
        if not has_flag(e, v) and v not in e:
            fail("zguard.policy(5): %s's entry lacks its built-in value %s" % (key, v))

for name in ("auth", "metrics", "gate"):
    m = re.search(r"unknown key in \[%s\] \(([^)]*)\)" % name, errors)
    assert m, "no key list for [%s] in: %s" % (name, errors)
    keys = [k.strip() for k in m.group(1).split(",")]
    assert "rationale" in keys and len(keys) >= 2, keys
    text = section("[%s]" % name)
    for key in keys:
        if entry(text, key) is None:
            fail("[%s] key %s is not in zguard.policy(5)'s [%s]" % (name, key, name))

m = re.search(r"only ([a-z_, ]+?) come before them", errors)
assert m, "no top-level key list in: " + errors
top_keys = re.split(r", | and ", m.group(1))
assert "version" in top_keys and "on_advisory" in top_keys, top_keys
text = section("TOP-LEVEL KEYS")
for key in top_keys:
    if entry(text, key) is None:
        fail("top-level key %s is not in zguard.policy(5)'s TOP-LEVEL KEYS" % key)

with open(os.path.join(SRC, "src", "policy_parse.c")) as f:
    section_keys = re.findall(r'keys\[n\+\+\] = "([a-z_]+)";', f.read())
assert "app_overrides" in section_keys and "bind" in section_keys, section_keys
text = section("SECTION KEYS")
for key in sorted(set(section_keys)):
    if entry(text, key) is None:
        fail("section key %s is not in zguard.policy(5)'s SECTION KEYS" % key)
print("policy keys: %d socket, %d top-level, %d section keys; [auth], [metrics], [gate]"
      % (len(socket_keys), len(top_keys), len(set(section_keys))))

# ---- rendering -----------------------------------------------------------------
sources = sorted(glob.glob(os.path.join(MAN, "*.scd")))
for path in sources:
    with open(path, "rb") as f:
        r = subprocess.run([SCDOC], stdin=f, capture_output=True, timeout=30)
    name = os.path.basename(path)[:-4]
    if r.returncode != 0 or r.stderr:
        fail("scdoc %s: exit %d: %s" % (name, r.returncode, r.stderr.decode(errors="replace")))
    elif not re.search(rb'^\.TH "%s" "%s"' % tuple(re.escape(x).encode() for x in name.rsplit(".", 1)),
                       r.stdout, re.M):
        fail("scdoc %s: no .TH line for %s" % (name, name))
print("rendered: %d pages" % len(sources))

if failures:
    print("%d failure(s)" % len(failures))
    sys.exit(1)
print("man pages: all checks passed")
