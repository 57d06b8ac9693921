#!/usr/bin/env python3
"""`zguard gate` on its command line: every refusal to start exits 2 with
one clear message naming the flag, or the file and line, at fault
(tools/cmd_gate.c: "Exit 0 after a clean stop, 1 if forwarding failed, 2
if it could not start"); --help exits 0 and documents every flag, and so
does docs/gate.md; a whole gate in one --config file serves.

Each refused gate runs in a new session (no terminal to ask a passphrase
on) with a bound on its run time: one that started by mistake is killed
and the test fails.

usage: test_gate_cli.py PATH/TO/zguard
"""
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess

import zmq

import test_gate_lib as lib
from test_gate_lib import GateTest, echo_once, recv_within

SOURCE = os.path.dirname(lib.HERE)
NOT_LOCAL = "192.0.2.7"  # TEST-NET-1: never this machine


def flags_of_source():
    """The flags tools/cmd_gate.c parses: its table of options
    (cli_opt_t options[], one {"name", letter, "VALUE", id} each)."""
    with open(os.path.join(SOURCE, "tools", "cmd_gate.c")) as f:
        text = f.read()
    table = re.search(r"cli_opt_t options\[\] = \{(.*?)\n\};", text, re.S)
    assert table, "no options table in tools/cmd_gate.c"
    flags = ["--" + n for n in re.findall(r'\{"([a-z-]+)", ', table.group(1))]
    assert len(flags) >= 11 and "--log-level" in flags, flags
    return flags


class Cli(GateTest):
    def setUp(self):
        super().setUp()
        lib.allow(self.allow_dir, self.keys.public("alice"))
        self.env = {k: v for k, v in os.environ.items()
                    if k not in ("ZGUARD_PASSPHRASE_FILE", "CREDENTIALS_DIRECTORY")}

    def args(self, **over):
        """The flag form of a gate, with some flags replaced (value) or
        left out (None)."""
        a = {"--pattern": "reqrep", "--frontend": "tcp://127.0.0.1:*",
             "--backend": self.backend, "--server-key": self.keys.public("gate"),
             "--allow": self.allow_dir}
        for k, v in over.items():
            a["--" + k.replace("_", "-")] = v
        out = []
        for k, v in a.items():
            if v is not None:
                out += [k, v]
        return out

    def run_gate(self, args, env=None, zguard=None, **kw):
        """zguard gate ARGS to its end: (exit status, stdout, stderr)."""
        try:
            r = subprocess.run([zguard or lib.ZGUARD, "gate"] + args, capture_output=True,
                               text=True, timeout=15 * lib.SLACK,
                               stdin=subprocess.DEVNULL, start_new_session=True,
                               env=env or self.env, **kw)
        except subprocess.TimeoutExpired as e:
            self.fail("the gate did not refuse to start: %s" % (e.stderr or ""))
        return r.returncode, r.stdout, r.stderr

    def refused(self, args, *substrings, env=None, **kw):
        """The gate exits 2, prints nothing on stdout, and its message holds
        every substring; returns the message."""
        rc, out, err = self.run_gate(args, env=env, **kw)
        self.assertEqual(rc, 2, "exit %d, stderr:\n%s" % (rc, err))
        self.assertEqual(out, "")
        for s in substrings:
            self.assertIn(s, err)
        self.assertNotIn("gate: ready", err)
        return err

    # -- help -------------------------------------------------------------------

    def test_help_documents_every_flag(self):
        for form in (["--help"], ["-h"], ["--pattern", "reqrep", "--help"]):
            rc, out, err = self.run_gate(form)
            self.assertEqual((rc, err), (0, ""), form)
            options = out[out.index("\noptions:\n"):]
            for flag in flags_of_source():
                self.assertRegex(options, r"\n  %s " % re.escape(flag),
                                 "%s is not documented by --help" % flag)
            for pattern in ("reqrep", "pubsub", "pipeline"):
                self.assertIn("\n  %s " % pattern, out)
            self.assertIn("Exit 0 after a clean stop, 1 if forwarding failed, 2 if "
                          "it could not start.", out)

    def test_docs_gate_md_documents_every_flag(self):
        with open(os.path.join(SOURCE, "docs", "gate.md")) as f:
            doc = f.read()
        for flag in flags_of_source():
            self.assertIn("`%s" % flag, doc, "docs/gate.md does not document %s" % flag)

    # -- the command line itself ---------------------------------------------------

    def test_missing_required_flags(self):
        for flag in ("pattern", "frontend", "backend", "server_key", "allow"):
            with self.subTest(flag=flag):
                self.refused(self.args(**{flag: None}),
                             "missing --%s (or --config FILE)" % flag.replace("_", "-"))
        self.refused([], "missing --pattern")

    def test_malformed_command_lines(self):
        self.refused(self.args() + ["--bogus", "x"], "unknown option '--bogus'")
        self.refused(self.args() + ["--pattern", "pubsub"], "--pattern given twice")
        self.refused(self.args() + ["--revoked"], "--revoked needs a value")
        self.refused(self.args() + ["--log-level", "loud"],
                     "--log-level is error, warning, notice, info or debug, not 'loud'")
        for form in (["--passphrase", "s3cret"], ["--passphrase=s3cret"]):
            err = self.refused(self.args() + form, "a passphrase is never taken "
                               "from the command line: use --passphrase-file")
            self.assertNotIn("s3cret", err)

    def test_unknown_pattern(self):
        self.refused(self.args(pattern="fanout"),
                     "--pattern is reqrep, pubsub or pipeline, not 'fanout'")

    def test_bad_endpoints(self):
        self.refused(self.args(frontend="udp://0.0.0.0:5555"),
                     "--frontend: 'udp://0.0.0.0:5555' is not a tcp://, ipc:// or "
                     "inproc:// endpoint")
        self.refused(self.args(frontend="tcp://127.0.0.1"),
                     "--frontend: 'tcp://127.0.0.1' needs an address and a port")
        self.refused(self.args(backend="tcp://127.0.0.1:port"),
                     "--backend: 'tcp://127.0.0.1:port' has no port number")
        self.refused(self.args(backend="ipc://"), "--backend: 'ipc://' has no name")

    def test_plaintext_backend_not_on_this_machine(self):
        for ep in ("tcp://%s:6000" % NOT_LOCAL, "tcp://0.0.0.0:6000",
                   "tcp://app.example.com:6000"):
            with self.subTest(backend=ep):
                self.refused(self.args(backend=ep),
                             "--backend: '%s' leaves this machine in plaintext: use "
                             "ipc://, a loopback address" % ep)

    # -- files ------------------------------------------------------------------------

    def test_missing_server_key(self):
        missing = os.path.join(self.dir, "nokey.key")
        self.refused(self.args(server_key=missing),
                     "--server-key %s: No such file or directory" % missing)

    def encrypted_key(self):
        pfile = os.path.join(self.dir, "pass")
        lib.write_file(pfile, "the right one\n", 0o600)
        public, _ = lib.keygen(self.dir, "sealed", passphrase_file=pfile)
        return public, pfile

    def test_wrong_passphrase(self):
        public, _ = self.encrypted_key()
        wrong = os.path.join(self.dir, "wrong")
        lib.write_file(wrong, "not it\n", 0o600)
        self.refused(self.args(server_key=public) + ["--passphrase-file", wrong],
                     "%s_secret: wrong passphrase" % public)
        # the same through the environment
        env = dict(self.env, ZGUARD_PASSPHRASE_FILE=wrong)
        self.refused(self.args(server_key=public), "wrong passphrase", env=env)

    def test_no_passphrase(self):
        public, _ = self.encrypted_key()
        self.refused(self.args(server_key=public),
                     "no passphrase: give --passphrase-file FILE, set "
                     "ZGUARD_PASSPHRASE_FILE, provide the systemd credential "
                     "zguard-passphrase")
        missing = os.path.join(self.dir, "nopass")
        self.refused(self.args(server_key=public) + ["--passphrase-file", missing],
                     "passphrase file %s: cannot read" % missing)

    def test_passphrase_from_systemd_credential(self):
        """contrib/zguard-gate@.service hands the passphrase over as the
        credential zguard-passphrase ($CREDENTIALS_DIRECTORY)."""
        public, pfile = self.encrypted_key()
        creds = os.path.join(self.dir, "credentials")
        os.mkdir(creds, 0o700)
        shutil.copy(pfile, os.path.join(creds, "zguard-passphrase"))
        env = dict(self.env, CREDENTIALS_DIRECTORY=creds)
        g = lib.Gate(self.args(server_key=public), metrics=False, env=env)
        self.gates.append(g)
        g.start()
        svc = self.service(zmq.REP)
        c = self.client(zmq.REQ, g, server=public)
        c.send(b"via the credential")
        self.assertEqual(echo_once(svc), [b"via the credential"])
        self.assertEqual(recv_within(c, 5), [b"re:via the credential"])
        self.assertEqual(g.stop()[0], 0)

    def test_missing_allowlist(self):
        missing = os.path.join(self.dir, "nodir")
        self.refused(self.args(allow=missing),
                     "--allow %s: No such file or directory" % missing)

    def test_allowlist_not_a_directory(self):
        path = os.path.join(self.dir, "afile")
        lib.write_file(path, "not a directory\n")
        self.refused(self.args(allow=path),
                     "%s: cannot read the allowlist directory: Not a directory" % path)

    def test_unreadable_allowlist(self):
        """A directory the gate may not read. As root, the gate runs as
        nobody (root reads any directory), with its key made nobody's."""
        keys = os.path.join(self.dir, "own")
        os.mkdir(keys)
        public, secret = lib.keygen(keys, "gate")
        unreadable = os.path.join(self.dir, "unreadable")
        os.mkdir(unreadable)
        os.chmod(unreadable, 0)
        self.addCleanup(os.chmod, unreadable, 0o700)  # so that it can be removed
        kw = {}
        if os.geteuid() == 0:
            nobody = 65534
            for d in (self.class_dir, self.dir, keys):
                os.chmod(d, 0o755)
            os.chown(secret, nobody, nobody)

            def drop():
                os.setgid(nobody)
                os.setuid(nobody)
            kw["preexec_fn"] = drop
            kw["zguard"] = self.copy_for_nobody(drop)
        self.refused(self.args(allow=unreadable, server_key=public),
                     "%s: cannot read the allowlist directory: Permission denied"
                     % unreadable, **kw)

    def copy_for_nobody(self, drop):
        """The built zguard where nobody may run it: a clone in root's home
        (0700) or under any unreadable parent is out of nobody's reach.
        Skipped, with the reason printed, where even the copy cannot run
        (a noexec temporary directory)."""
        copy = os.path.join(self.dir, "zguard")
        shutil.copy2(lib.ZGUARD, copy)
        os.chmod(copy, 0o755)
        try:
            r = subprocess.run([copy, "version"], capture_output=True, text=True,
                               timeout=15 * lib.SLACK, preexec_fn=drop)
        except PermissionError as e:
            self.skipTest("nobody cannot run a copy of zguard in %s: %s"
                          % (self.dir, e))
        self.assertEqual(r.returncode, 0, r.stderr)
        return copy

    def test_busy_ports(self):
        s = socket.socket()
        self.addCleanup(s.close)
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        self.refused(self.args(frontend="tcp://127.0.0.1:%d" % port),
                     "frontend tcp://127.0.0.1:%d" % port, "Address already in use")
        self.refused(self.args() + ["--metrics", "127.0.0.1:%d" % port],
                     "metrics: cannot listen on 127.0.0.1:%d: Address already in use"
                     % port)

    # -- --policy and --config -----------------------------------------------------------

    def test_policy_file_refused(self):
        bad = self.policy_file("version = 1\n[defaults]\nlinger = 2s\nsndhwm = 0\n",
                               "bad.policy")
        self.refused(self.args(policy=bad), "%s:4: sndhwm: '0' is unbounded" % bad)
        clash = self.policy_file("version = 1\n[defaults]\nlinger = 2s\n\n"
                                 "[socket.frontend]\ntype = router\n", "clash.policy")
        self.refused(self.args(policy=clash),
                     "zguard gate: %s: has [socket.frontend] (--server-key), which "
                     "the flags write" % clash)
        metrics = self.policy_file("version = 1\n[metrics]\nlisten = 127.0.0.1:9\n",
                                   "metrics.policy")
        self.refused(self.args(policy=metrics) + ["--metrics", "127.0.0.1:0"],
                     "zguard gate: %s:3: has [metrics] listen (--metrics)" % metrics)
        limits = self.policy_file("version = 1\n[auth]\nlockout = 1m\n",
                                  "limits.policy")
        self.refused(self.args(policy=limits),
                     "zguard gate: %s:3: has [auth] (--allow writes that section: "
                     "put per-address limits and the rest of [auth] in a --config "
                     "file)" % limits)

    def config(self, backend=None, extra="", name="gate.policy"):
        """A whole reqrep gate in one file; key and allowlist paths relative
        to it."""
        keys = os.path.join(self.dir, "keys")
        if not os.path.isdir(keys):
            os.mkdir(keys)
            for f in (self.keys.public("gate"), self.keys.secret("gate")):
                shutil.copy(f, keys)
        # line 9 is the backend, line 14 the first of extra
        text = ("version = 1\n"
                "[defaults]\nlinger = 1s\nhandshake_ivl = 1s\n"
                "\n[gate]\npattern = reqrep\n"
                "frontend = tcp://127.0.0.1:*\n"
                "backend = %s\n"
                "\n[socket.frontend]\ntype = router\n"
                "curve_keys = keys/gate.key\n%s"
                "\n[socket.backend]\ntype = dealer\nsecurity = none\n"
                "insecure = yes\nrationale = the service speaks plaintext\n"
                "\n[auth]\nallow = allow\n" % (backend or self.backend, extra))
        return self.policy_file(text, name)

    def test_config_with_errors(self):
        bad = self.config(extra="sndhwm = lots\n")
        self.refused(["--config", bad], "%s:14: sndhwm: 'lots' is not a whole number" % bad)
        far = self.config(backend="tcp://%s:6000" % NOT_LOCAL, name="far.policy")
        self.refused(["--config", far],
                     "%s:9: backend: 'tcp://%s:6000' leaves this machine in plaintext"
                     % (far, NOT_LOCAL))
        nogate = self.policy_file("version = 1\n[defaults]\nlinger = 1s\n", "nogate.policy")
        self.refused(["--config", nogate],
                     "zguard gate: %s: no [gate] section" % nogate)
        missing = os.path.join(self.dir, "none.policy")
        self.refused(["--config", missing], missing, "No such file or directory")

    def test_config_excludes_the_flags_it_replaces(self):
        good = self.config()
        for flag, value in (("--pattern", "reqrep"), ("--backend", self.backend),
                            ("--server-key", self.keys.public("gate")),
                            ("--allow", self.allow_dir), ("--metrics", "127.0.0.1:0")):
            with self.subTest(flag=flag):
                self.refused(["--config", good, flag, value],
                             "%s and --config: the config file says it" % flag)
        self.refused(["--config", good, "--policy", good], "--policy and --config")

    # -- the first hour ---------------------------------------------------------

    def help_example(self):
        """The shell commands of --help's example, one string each: a line
        indented by 2, its continuations (after a backslash) by 6; comment
        lines left out."""
        rc, out, _ = self.run_gate(["--help"])
        self.assertEqual(rc, 0)
        block = out[out.index("\nexample"):out.index("\nExit 0 after")]
        commands = []
        for line in block.split("\n"):
            if line.startswith("      ") and commands:
                commands[-1] = commands[-1].rstrip("\\ ") + " " + line.strip()
            elif line.startswith("  ") and not line.strip().startswith("#"):
                commands.append(line.strip())
        return commands

    def test_help_example_works_as_written(self):
        """Run in an empty directory with zguard on PATH, the example's
        commands make what its gates need: the gate starts with alice
        allowed, and the client-mode gate, with alice's pair and the gate's
        public key, is let in as alice (endpoints: free ports and this
        test's directory instead of 5555, 9464, /run and gate.example.net)."""
        commands = self.help_example()
        gates = [c for c in commands if c.startswith("zguard gate ")]
        self.assertEqual(len(gates), 2, commands)
        steps = commands[:commands.index(gates[0])]
        work = os.path.join(self.dir, "example")
        os.mkdir(work)
        bindir = os.path.join(self.dir, "bin")
        os.mkdir(bindir)
        os.symlink(os.path.abspath(lib.ZGUARD), os.path.join(bindir, "zguard"))
        env = dict(self.env, PATH=bindir + ":" + os.environ.get("PATH", ""))
        for step in steps:
            r = subprocess.run(["sh", "-ec", step], cwd=work, env=env,
                               stdin=subprocess.DEVNULL, start_new_session=True,
                               capture_output=True, text=True, timeout=60 * lib.SLACK)
            self.assertEqual(r.returncode, 0, "%s:\n%s" % (step, r.stderr))

        def start(command, **endpoints):
            args = shlex.split(command)[2:]
            for flag, value in endpoints.items():
                args[args.index("--" + flag) + 1] = value
            g = lib.Gate(args, metrics=False, env=env,
                         preexec_fn=lambda: (os.chdir(work), os.setsid()))
            self.gates.append(g)
            return g.start()

        server = start(gates[0], frontend="tcp://127.0.0.1:*", backend=self.backend,
                       metrics="127.0.0.1:%d" % lib.free_port())
        self.assertIn("1 keys allowed", server.text())
        self.assertNotIn("every client will be refused", server.text())
        start(gates[1], frontend="ipc://%s/app-client.sock" % self.dir,
              backend=server.frontend)
        server.wait_log(re.compile(r"auth: allow user=alice "), 10)

    def test_no_allowed_key_is_a_warning(self):
        """A gate whose allowlist is empty starts (keys may be added while
        it runs) and says every client will be refused and how to add one."""
        empty = os.path.join(self.dir, "empty")
        os.mkdir(empty)
        g = lib.Gate(self.args(allow=empty), metrics=False, env=self.env)
        self.gates.append(g)
        g.start()
        g.wait_log(re.compile(
            r"auth: allowlist %s has no valid key: every client will be refused; "
            r"allow one by copying its public certificate there \(cp CLIENT.key %s/"
            % (re.escape(empty), re.escape(empty))), 5)

    def test_config_serves(self):
        """The whole gate from one file, its relative paths found beside
        it: it serves alice, and SIGINT stops it with exit 0."""
        g = lib.Gate(["--config", self.config()], metrics=False)
        self.gates.append(g)
        g.start()
        svc = self.service(zmq.REP)
        c = self.client(zmq.REQ, g, "alice")
        c.send(b"from a config")
        self.assertEqual(echo_once(svc), [b"from a config"])
        self.assertEqual(recv_within(c, 5), [b"re:from a config"])
        g.signal(signal.SIGINT)
        self.assertEqual(g.wait_exit(5), 0)
        self.assertEqual(g.stopped_counts(), (1, 1, 0, 0))


if __name__ == "__main__":
    lib.main()
