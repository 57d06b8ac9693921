/*
 * cmd_gate.c - `zguard gate`: a CURVE-terminating gateway in front of a
 * service that cannot change yet, or (--mode client) behind clients that
 * cannot (src/gate.c does the forwarding).
 *
 * The whole gate is a zguard policy: [gate] names the pattern and the two
 * endpoints, [socket.frontend] and [socket.backend] the sockets, [auth] who
 * may connect, [metrics] where counters are served. `--config FILE` reads
 * such a file; the flag form writes the same sections from its flags (key
 * paths made absolute), after the [defaults] and [type.*] of `--policy FILE`
 * when one is given, and parses the result like any policy. Every refusal
 * names the flag, or the file and line, at fault.
 */
#include "cli.h"
#include "gate_super.h"
#include "zguard_tools.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <stdatomic.h>

#define GATE_TEXT_MAX (64 << 10) /* the generated sections */
#define POLICY_TEXT_MAX (1 << 20)

static const char usage[] =
    "usage: zguard gate --pattern P --frontend EP --backend EP\n"
    "                   --server-key KEY --allow DIR [--revoked FILE]\n"
    "                   [--policy FILE] [--metrics ADDR:PORT]\n"
    "                   [--backend-grace T] [--passphrase-file F]\n"
    "                   [--log-level L] [--no-supervise]\n"
    "       zguard gate --mode client --pattern P --frontend EP --backend EP\n"
    "                   --client-key KEY --server-public KEY [--policy FILE]\n"
    "                   [--metrics ADDR:PORT] [--backend-grace T]\n"
    "                   [--passphrase-file F] [--log-level L] [--no-supervise]\n"
    "       zguard gate --config FILE [--passphrase-file F] [--log-level L]\n"
    "                   [--no-supervise]\n"
    "\n"
    "Puts CURVE and the whole policy in front of a ZeroMQ service that speaks\n"
    "plaintext and cannot change yet. Clients connect to the FRONTEND with\n"
    "CURVE, pinning the gate's public key; only keys in the allowlist get in;\n"
    "every socket option of the policy applies (HWM, timeouts, MAXMSGSIZE,\n"
    "handshake limit, heartbeats). Messages go on to the service at the\n"
    "BACKEND, which must stay on this machine: ipc://, or tcp:// to a\n"
    "loopback address.\n"
    "\n"
    "With --mode client the gate is the other half, for clients that cannot\n"
    "change: they connect in plaintext to the FRONTEND, which must stay on\n"
    "this machine (ipc://, inproc://, or tcp:// to a loopback address), and\n"
    "the gate connects to the BACKEND with CURVE, with its own key pair,\n"
    "pinning the server's public key: an ingress gate (two unchanged programs\n"
    "then talk over CURVE) or any CURVE service. Same patterns and sockets.\n"
    "\n"
    "patterns (frontend <- clients, backend -> the service):\n"
    "  reqrep    ROUTER/DEALER: clients send requests (REQ or DEALER), the\n"
    "            service answers (REP or ROUTER)\n"
    "  pubsub    XPUB/XSUB: the service publishes (PUB), clients subscribe\n"
    "            (SUB); subscriptions are forwarded to the service\n"
    "  pipeline  PULL/PUSH: clients push, the service pulls\n"
    "\n"
    "options:\n"
    "  --mode M              ingress (the default: CURVE clients in, the\n"
    "                        service behind) or client (local plaintext\n"
    "                        clients, CURVE out to the server)\n"
    "  --pattern P           reqrep, pubsub or pipeline\n"
    "  --frontend EP         where clients connect: tcp://0.0.0.0:5555\n"
    "                        (tcp://127.0.0.1:* picks a free port); in\n"
    "                        client mode ipc://, inproc:// or loopback only\n"
    "  --backend EP[,EP...]  the service: ipc:///run/app.sock,\n"
    "                        tcp://127.0.0.1:6000; in client mode the\n"
    "                        server(s): tcp://gate.example.net:5555\n"
    "  --server-key KEY      the gate's key pair (zguard keygen NAME): KEY is\n"
    "                        NAME.key, its secret beside it\n"
    "  --allow DIR           public certificates of the clients allowed in;\n"
    "                        changes apply within a second, open sessions\n"
    "                        included\n"
    "  --revoked FILE        keys never allowed, one Z85 key per line\n"
    "  --client-key KEY      client mode: the gate's own key pair (NAME.key,\n"
    "                        its secret beside it); the server allows it\n"
    "  --server-public KEY   client mode: the server's public key file (the\n"
    "                        ingress gate's NAME.key), pinned\n"
    "  --policy FILE         [defaults] and [type.*] values for the gate's\n"
    "                        sockets (docs/policy.md)\n"
    "  --metrics ADDR:PORT   serve Prometheus metrics (127.0.0.1:9464);\n"
    "                        read them with `zguard stats ADDR:PORT`; also\n"
    "                        /status: 200 while the gate can forward, 503\n"
    "                        when it cannot (for load balancers and probes)\n"
    "  --backend-grace T     how long the backend may have no peer before\n"
    "                        /status says 503 (default 5s; 0 to 24h)\n"
    "  --config FILE         the whole gate in one policy file, with a\n"
    "                        [gate] section (docs/gate.md)\n"
    "  --passphrase-file F   the passphrase of an encrypted secret key; else\n"
    "                        $ZGUARD_PASSPHRASE_FILE, the systemd credential\n"
    "                        zguard-passphrase, or the terminal\n"
    "  --log-level L         error, warning, notice, info (default: every\n"
    "                        allow and deny) or debug\n"
    "  --no-supervise        forward in this process, with no supervisor to\n"
    "                        restart it (under a supervisor of your own,\n"
    "                        e.g. systemd's Restart=)\n"
    "\n"
    "The forwarding runs in a child process that the gate restarts when it\n"
    "dies abnormally (a signal such as SIGABRT or SIGSEGV: a libzmq assertion\n"
    "any authorized client can trigger, libzmq #4841; or exit 1): 100ms\n"
    "later, doubling to 5s, back to 100ms after a minute of forwarding. It\n"
    "logs the signal and counts zguard_gate_restarts_total; /status answers\n"
    "503 until the new process forwards. A child that could not start (exit\n"
    "2) is not restarted: the gate exits 2.\n"
    "\n"
    "It logs one line per security decision (allowed and refused keys, failed\n"
    "handshakes with their reason) to standard error, stops on SIGTERM or\n"
    "SIGINT after delivering what it accepted (within the backend's LINGER),\n"
    "and refuses to start, naming what is wrong, on a missing key, a wrong\n"
    "passphrase, an unreadable allowlist or a busy port.\n"
    "\n"
    "On SIGHUP it reloads: the allowlist and revocation list, and its own\n"
    "key pair after `zguard key rotate` (the passphrase read again from its\n"
    "file or credential). A new key takes every new connection; open\n"
    "sessions keep the old one. A reload that fails keeps what was in use\n"
    "and logs why (zguard_reloads_total{result=\"failed\"}).\n"
    "\n"
    "Started by systemd with a socket (LISTEN_PID, LISTEN_FDS=1: the\n"
    "contrib/zguard-gate@.socket unit), the frontend uses that socket, which\n"
    "must listen on the --frontend address, instead of binding one.\n"
    "\n"
    "example, from an empty directory: the gate's key pair, a client's\n"
    "(made on the client, which sends you its public NAME.key), the\n"
    "allowlist, the gate. gate.pass stands for your secret store:\n"
    "  (umask 077; echo 'a long passphrase' >gate.pass)\n"
    "  zguard keygen gate --dir keys --passphrase-file gate.pass\n"
    "  zguard keygen alice --dir client --passphrase-file gate.pass\n"
    "  mkdir -m 700 keys/authorized\n"
    "  cp client/alice.key keys/authorized/\n"
    "  zguard gate --pattern reqrep --frontend tcp://0.0.0.0:5555 \\\n"
    "      --backend ipc:///run/app.sock --server-key keys/gate.key \\\n"
    "      --allow keys/authorized --passphrase-file gate.pass \\\n"
    "      --metrics 127.0.0.1:9464\n"
    "  # on alice's machine, for an unchanged REQ client (its plaintext\n"
    "  # requests leave as alice, over CURVE; keys/gate.key copied there):\n"
    "  zguard gate --mode client --pattern reqrep \\\n"
    "      --frontend ipc:///run/app-client.sock \\\n"
    "      --backend tcp://gate.example.net:5555 --client-key client/alice.key \\\n"
    "      --server-public keys/gate.key --passphrase-file gate.pass\n"
    "\n"
    "Exit 0 after a clean stop, 1 if forwarding failed, 2 if it could not "
    "start.\nSupervised, a forwarding process that failed is restarted "
    "instead: 1 then\nmeans the supervisor itself failed (fork, poll).\n";

typedef struct gate_args {
    const char *pattern, *frontend, *backend, *server_key, *allow, *revoked;
    const char *policy, *metrics, *config, *pass_file;
    const char *mode, *client_key, *server_public, *grace;
    zg_log_level_t level;
    bool no_supervise;
} gate_args_t;

/* ---- the command line ------------------------------------------------------ */

/* The flags that name one setting each, then --log-level and
 * --no-supervise. */
enum { O_PATTERN, O_FRONTEND, O_BACKEND, O_SERVER_KEY, O_ALLOW, O_REVOKED,
       O_POLICY, O_METRICS, O_CONFIG, O_PASS_FILE, O_MODE, O_CLIENT_KEY,
       O_SERVER_PUBLIC, O_GRACE, O_LOG_LEVEL, O_NO_SUPERVISE };

static const cli_opt_t options[] = {
    {"pattern", 0, "P", O_PATTERN},
    {"frontend", 0, "EP", O_FRONTEND},
    {"backend", 0, "EP", O_BACKEND},
    {"server-key", 0, "KEY", O_SERVER_KEY},
    {"allow", 0, "DIR", O_ALLOW},
    {"revoked", 0, "FILE", O_REVOKED},
    {"policy", 0, "FILE", O_POLICY},
    {"metrics", 0, "ADDR:PORT", O_METRICS},
    {"config", 0, "FILE", O_CONFIG},
    {"passphrase-file", 0, "F", O_PASS_FILE},
    {"mode", 0, "M", O_MODE},
    {"client-key", 0, "KEY", O_CLIENT_KEY},
    {"server-public", 0, "KEY", O_SERVER_PUBLIC},
    {"backend-grace", 0, "T", O_GRACE},
    {"log-level", 0, "L", O_LOG_LEVEL},
    {"no-supervise", 0, NULL, O_NO_SUPERVISE},
    {NULL, 0, NULL, 0},
};

typedef struct flag {
    size_t offset;   /* of the const char * in gate_args_t */
    const char *key; /* the policy key it becomes, for error messages */
} flag_t;

static const flag_t flags[O_LOG_LEVEL] = {
    [O_PATTERN] = {offsetof(gate_args_t, pattern), "pattern"},
    [O_FRONTEND] = {offsetof(gate_args_t, frontend), "frontend"},
    [O_BACKEND] = {offsetof(gate_args_t, backend), "backend"},
    [O_SERVER_KEY] = {offsetof(gate_args_t, server_key), "curve_keys"},
    [O_ALLOW] = {offsetof(gate_args_t, allow), "allow"},
    [O_REVOKED] = {offsetof(gate_args_t, revoked), "revoked"},
    [O_POLICY] = {offsetof(gate_args_t, policy), NULL},
    [O_METRICS] = {offsetof(gate_args_t, metrics), "listen"},
    [O_CONFIG] = {offsetof(gate_args_t, config), NULL},
    [O_PASS_FILE] = {offsetof(gate_args_t, pass_file), NULL},
    [O_MODE] = {offsetof(gate_args_t, mode), "mode"},
    [O_CLIENT_KEY] = {offsetof(gate_args_t, client_key), "curve_keys"},
    [O_SERVER_PUBLIC] = {offsetof(gate_args_t, server_public),
                         "curve_server_key"},
    [O_GRACE] = {offsetof(gate_args_t, grace), "backend_grace"},
};

static const char **field(gate_args_t *a, int id)
{
    return (const char **)((char *)a + flags[id].offset);
}

static const char *value_of(const gate_args_t *a, int id)
{
    return *(const char *const *)((const char *)a + flags[id].offset);
}

static int parse_level(const char *text, zg_log_level_t *out)
{
    for (int l = ZG_LOG_ERROR; l <= ZG_LOG_DEBUG; l++)
        if (strcmp(text, zg_log_level_name((zg_log_level_t)l)) == 0) {
            *out = (zg_log_level_t)l;
            return EXIT_OK;
        }
    return cli_usage_error("zguard gate",
                           "--log-level is error, warning, notice, info or "
                           "debug, not '%s'",
                           text);
}

static int parse_args(int argc, char **argv, gate_args_t *a)
{
    cli_opts_t p = {.cmd = "zguard gate", .table = options, .argc = argc,
                    .argv = argv};
    a->level = ZG_LOG_INFO;
    for (int id; (id = cli_opt_next(&p)) != CLI_OPT_END;) {
        if (id == CLI_OPT_ERROR)
            return EXIT_FAIL;
        if (id == O_LOG_LEVEL) {
            if (parse_level(p.value, &a->level) != EXIT_OK)
                return EXIT_FAIL;
        } else if (id == O_NO_SUPERVISE) {
            a->no_supervise = true;
        } else if (*field(a, id)) {
            return cli_usage_error("zguard gate", "--%s given twice",
                                   p.opt->name);
        } else {
            *field(a, id) = p.value;
        }
    }
    if (p.nargs)
        return cli_usage_error("zguard gate", "unexpected argument '%s'",
                               cli_opt_args(&p)[0]);
    return EXIT_OK;
}

static bool client_mode(const gate_args_t *a)
{
    return a->mode && strcmp(a->mode, "client") == 0;
}

/* What each mode needs (ingress: the first five) and what belongs to the
 * other mode. */
#define REQUIRED_PER_MODE 5
static const int required[2][REQUIRED_PER_MODE] = {
    {O_PATTERN, O_FRONTEND, O_BACKEND, O_SERVER_KEY, O_ALLOW},
    {O_PATTERN, O_FRONTEND, O_BACKEND, O_CLIENT_KEY, O_SERVER_PUBLIC},
};

static int check_mode_flags(const gate_args_t *a)
{
    static const int ingress_only[] = {O_SERVER_KEY, O_ALLOW, O_REVOKED};
    static const int client_only[] = {O_CLIENT_KEY, O_SERVER_PUBLIC};
    bool client = client_mode(a);
    if (a->mode && !client && strcmp(a->mode, "ingress") != 0)
        return cli_usage_error("zguard gate",
                               "--mode is ingress or client, not '%s'", a->mode);
    for (size_t i = 0; client && i < 3; i++)
        if (value_of(a, ingress_only[i]))
            return cli_usage_error("zguard gate",
                                   "--%s is for an ingress gate; a client-mode "
                                   "gate has --client-key and --server-public",
                                   options[ingress_only[i]].name);
    for (size_t i = 0; !client && i < 2; i++)
        if (value_of(a, client_only[i]))
            return cli_usage_error("zguard gate",
                                   "--%s is for --mode client",
                                   options[client_only[i]].name);
    return EXIT_OK;
}

/* --config excludes the flags that write sections, and the flag form needs
 * all of its mode's required ones. */
static int check_args(gate_args_t *a)
{
    if (!a->config && check_mode_flags(a) != EXIT_OK)
        return EXIT_FAIL;
    const int *need = required[client_mode(a)];
    for (int id = 0; id < O_LOG_LEVEL; id++) {
        bool set = *field(a, id) != NULL;
        if (a->config && set && flags[id].key)
            return cli_usage_error("zguard gate",
                                   "--%s and --config: the config file says "
                                   "it (one place for each setting)",
                                   options[id].name);
        if (a->config && set && id == O_POLICY)
            return cli_usage_error("zguard gate",
                                   "--policy and --config: put the values in "
                                   "the config file");
        for (size_t k = 0; !a->config && k < REQUIRED_PER_MODE; k++)
            if (!set && id == need[k])
                return cli_usage_error("zguard gate", "missing --%s (or --config FILE)",
                                       options[id].name);
    }
    return EXIT_OK;
}

/* ---- the policy the flags describe ----------------------------------------- */

typedef struct text {
    char *buf;
    size_t len, cap;
    bool overflow;
} text_t;

static void add(text_t *t, const char *fmt, ...) ZG_PRINTF(2, 3);
static void add(text_t *t, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(t->buf + t->len, t->cap - t->len, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= t->cap - t->len)
        t->overflow = true;
    else
        t->len += (size_t)n;
}

/* A path as an absolute one: generated sections have no directory of
 * their own for relative names to be found in. */
static int absolute(const char *flag, const char *path, char *out)
{
    if (realpath(path, out))
        return EXIT_OK;
    fprintf(stderr, "zguard gate: %s %s: %s\n", flag, path, strerror(errno));
    return EXIT_FAIL;
}

static bool has_value_chars(const char *v)
{
    return !strchr(v, '\n') && !strchr(v, '\r');
}

/* Ingress: the frontend a CURVE server with the allowlist, the backend
 * plaintext (the policy check keeps it on this machine). */
static int write_ingress(const gate_args_t *a, text_t *t, int ft, int bt)
{
    char key[PATH_MAX], allow[PATH_MAX], revoked[PATH_MAX];
    if (absolute("--server-key", a->server_key, key) ||
        absolute("--allow", a->allow, allow) ||
        (a->revoked && absolute("--revoked", a->revoked, revoked)))
        return EXIT_FAIL;
    add(t, "\n[socket.frontend]\ntype = %s\ncurve_keys = %s\n", zg_type_name(ft),
        key);
    add(t, "\n[socket.backend]\ntype = %s\nsecurity = none\ninsecure = yes\n"
           "rationale = the service behind the gate speaks plaintext; the gate "
           "refuses a backend endpoint that leaves this machine\n",
        zg_type_name(bt));
    add(t, "\n[auth]\nallow = %s\n", allow);
    if (a->revoked)
        add(t, "revoked = %s\n", revoked);
    return EXIT_OK;
}

/* Client mode: the mirror, the frontend plaintext for local clients (the
 * policy check keeps it on this machine), the backend a CURVE client. */
static int write_client(const gate_args_t *a, text_t *t, int ft, int bt)
{
    char key[PATH_MAX], server[PATH_MAX];
    if (absolute("--client-key", a->client_key, key) ||
        absolute("--server-public", a->server_public, server))
        return EXIT_FAIL;
    add(t, "\n[socket.frontend]\ntype = %s\nsecurity = none\ninsecure = yes\n"
           "rationale = the unchanged clients of a client-mode gate speak "
           "plaintext; the gate refuses a frontend endpoint that leaves this "
           "machine\n",
        zg_type_name(ft));
    add(t, "\n[socket.backend]\ntype = %s\ncurve_keys = %s\n"
           "curve_server_key = %s\n",
        zg_type_name(bt), key, server);
    return EXIT_OK;
}

static int write_sections(const gate_args_t *a, text_t *t)
{
    int pattern = zg_gate_pattern_from_name(a->pattern);
    if (pattern < 0)
        return cli_usage_error("zguard gate",
                               "--pattern is reqrep, pubsub or pipeline, not '%s'",
                               a->pattern);
    int ft, bt;
    zg_gate_types((zg_gate_pattern_t)pattern, &ft, &bt);
    add(t, "\n[gate]\npattern = %s\nfrontend = %s\nbackend = %s\n", a->pattern,
        a->frontend, a->backend);
    if (a->mode)
        add(t, "mode = %s\n", a->mode);
    if (a->grace)
        add(t, "backend_grace = %s\n", a->grace);
    if ((client_mode(a) ? write_client : write_ingress)(a, t, ft, bt) != EXIT_OK)
        return EXIT_FAIL;
    if (a->metrics)
        add(t, "\n[metrics]\nlisten = %s\n", a->metrics);
    if (t->overflow)
        return cli_usage_error("zguard gate", "arguments too long");
    return EXIT_OK;
}

/* Any [auth] key in the tuning file: --allow writes that section. */
static bool auth_section_line(const zg_policy_t *p, unsigned *line)
{
    static const char *const keys[] = {"allow_ip", "deny_ip"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        if (zg_policy_auth(p, keys[i], line))
            return true;
    for (int l = 0; l < ZG_AUTH_LIMITS; l++)
        if (zg_policy_auth(p, zg_auth_limit_info(l)->key, line))
            return true;
    return false;
}

/* --policy FILE gives tuning only: what the flags write must not be in it. */
static int check_tuning(const char *file, const gate_args_t *a)
{
    zg_diag_t *diag = zg_diag_new();
    zg_policy_t *p = diag ? zg_policy_load(file, diag) : NULL;
    if (!p) {
        zg_diag_print(diag, stderr);
        if (!zg_diag_errors(diag))
            fprintf(stderr, "zguard gate: %s\n", zg_last_error());
        zg_diag_destroy(&diag);
        return EXIT_FAIL;
    }
    zg_diag_destroy(&diag);
    unsigned line = 0;
    const char *clash = NULL;
    if (zg_policy_gate(p, "pattern", &line) || zg_policy_gate(p, "frontend", &line) ||
        zg_policy_gate(p, "backend", &line) || zg_policy_gate(p, "mode", &line) ||
        zg_policy_gate(p, "backend_grace", &line))
        clash = "[gate] (--pattern, --frontend, --backend, --mode, "
                "--backend-grace)";
    else if (zg_policy_socket_type(p, "frontend") >= 0)
        clash = "[socket.frontend] (--server-key)";
    else if (zg_policy_socket_type(p, "backend") >= 0)
        clash = "[socket.backend] (--backend, --client-key, --server-public)";
    else if (zg_policy_auth(p, "allow", &line) || zg_policy_auth(p, "revoked", &line))
        clash = "[auth] (--allow, --revoked)";
    else if (auth_section_line(p, &line))
        clash = "[auth] (--allow writes that section: put per-address limits "
                "and the rest of [auth] in a --config file)";
    else if (a->metrics && zg_policy_metrics(p, "listen", &line))
        clash = "[metrics] listen (--metrics)";
    zg_policy_destroy(&p);
    if (!clash)
        return EXIT_OK;
    char where[PATH_MAX + 16]; /* FILE:LINE, or FILE when no line is known */
    if (line)
        snprintf(where, sizeof where, "%s:%u", file, line);
    else
        snprintf(where, sizeof where, "%s", file);
    fprintf(stderr,
            "zguard gate: %s: has %s, which the flags write: with "
            "--policy, a file gives [defaults] and [type.*] values; a whole "
            "gate in one file is --config FILE\n",
            where, clash);
    return EXIT_FAIL;
}

/* A problem in the generated part is about a flag: say which. */
static void print_problems(const gate_args_t *a, const zg_diag_t *diag,
                           const char *file, unsigned file_lines)
{
    const zg_problem_t *pr;
    for (size_t i = 0; (pr = zg_diag_get(diag, i)); i++) {
        if (strcmp(pr->file, file) != 0 || pr->line <= file_lines) {
            fprintf(stderr, "%s:%u: %s: %s%s\n", pr->file, pr->line, pr->key,
                    pr->severity == ZG_SEV_WARNING ? "warning: " : "",
                    pr->message);
            continue;
        }
        const char *flag = NULL;
        for (int id = 0; id < O_LOG_LEVEL; id++)
            if (flags[id].key && strcmp(flags[id].key, pr->key) == 0 &&
                value_of(a, id))
                flag = options[id].name;
        fprintf(stderr, "zguard gate: %s%s: %s%s\n", flag ? "--" : "",
                flag ? flag : "a flag",
                pr->severity == ZG_SEV_WARNING ? "warning: " : "", pr->message);
    }
}

static zg_policy_t *flags_policy(const gate_args_t *a)
{
    const char *values[] = {a->pattern, a->frontend, a->backend, a->metrics,
                            a->mode, a->grace};
    for (size_t i = 0; i < sizeof values / sizeof values[0]; i++)
        if (values[i] && !has_value_chars(values[i])) {
            cli_usage_error("zguard gate", "a value holds a line break");
            return NULL;
        }
    text_t t = {.cap = GATE_TEXT_MAX + POLICY_TEXT_MAX};
    size_t base = 0;
    char *tuning = NULL;
    if (a->policy && check_tuning(a->policy, a) != EXIT_OK)
        return NULL;
    if (a->policy && !(tuning = zg_file_read_text(a->policy, POLICY_TEXT_MAX, &base))) {
        fprintf(stderr, "zguard gate: %s: %s\n", a->policy, strerror(errno));
        return NULL;
    }
    if (!(t.buf = malloc(t.cap))) {
        free(tuning);
        return NULL;
    }
    if (tuning)
        add(&t, "%s%s", tuning, base && tuning[base - 1] != '\n' ? "\n" : "");
    else
        add(&t, "version = 1\n");
    unsigned file_lines = tuning ? (unsigned)cli_count_lines(tuning, base) : 0;
    free(tuning);
    zg_policy_t *p = NULL;
    const char *label = a->policy ? a->policy : "zguard gate";
    if (write_sections(a, &t) == EXIT_OK) {
        zg_diag_t *diag = zg_diag_new();
        p = diag ? zg_policy_parse(t.buf, t.len, label, diag) : NULL;
        if (diag && (!p || zg_diag_count(diag)))
            print_problems(a, diag, label, file_lines);
        zg_diag_destroy(&diag);
    }
    free(t.buf);
    return p;
}

static zg_policy_t *config_policy(const char *file)
{
    zg_diag_t *diag = zg_diag_new();
    zg_policy_t *p = diag ? zg_policy_load(file, diag) : NULL;
    if (diag && (!p || zg_diag_count(diag)))
        zg_diag_print(diag, stderr);
    if (!p && diag && !zg_diag_errors(diag))
        fprintf(stderr, "zguard gate: %s\n", zg_last_error());
    zg_diag_destroy(&diag);
    if (p && !zg_policy_gate(p, "pattern", NULL)) {
        fprintf(stderr,
                "zguard gate: %s: no [gate] section: a gate config names "
                "pattern, frontend and backend (docs/gate.md)\n",
                file);
        zg_policy_destroy(&p);
    }
    return p;
}

/* ---- running ----------------------------------------------------------------- */

/* An encrypted secret of the gate's sockets needs a passphrase up front:
 * asked once, here, rather than failing at the first socket. */
static int passphrase(const gate_args_t *a, const zg_policy_t *p,
                      zg_passphrase_t **out)
{
    *out = NULL;
    if (a->pass_file)
        return cli_get_passphrase("zguard gate", a->pass_file, false, NULL,
                                  false, out);
    static const char *const names[] = {"frontend", "backend"};
    for (int i = 0; i < 2; i++) {
        zg_setting_t set[ZG_FIELD_COUNT];
        int type = zg_policy_socket_type(p, names[i]);
        if (type < 0 || zg_policy_settings(p, type, names[i], set, ZG_FIELD_COUNT, sizeof set[0]) != 0 ||
            !set[ZG_FIELD_CURVE_KEYS].str)
            continue;
        const char *key = set[ZG_FIELD_CURVE_KEYS].str;
        if (zg_cert_secret_encrypted(key) != 1)
            continue;
        char prompt[PATH_MAX + 32];
        snprintf(prompt, sizeof prompt, "passphrase for %s: ", key);
        return cli_get_passphrase("zguard gate", NULL, true, prompt, false, out);
    }
    return EXIT_OK;
}

/* The signal handler's only way to the gate: a handler gets no argument.
 * Lock-free atomics are async-signal-safe. A signal that comes while the
 * gate is being made (handlers set, running_gate still NULL) is kept in
 * stop_asked, which serve() reads once the gate is published: the handler
 * writes the flag before it reads the pointer, serve() the pointer before
 * the flag, so one of the two sees the other. */
static _Atomic(zg_gate_t *) running_gate;
static atomic_bool stop_asked;

static void on_signal(int sig)
{
    (void)sig;
    atomic_store(&stop_asked, true);
    zg_gate_t *g = atomic_load(&running_gate);
    if (g)
        zg_gate_stop(g);
}

/* SIGHUP: the loop reloads (a HUP before the gate runs finds nothing to
 * reload: the gate is reading its files then). */
static void on_hangup(int sig)
{
    (void)sig;
    zg_gate_t *g = atomic_load(&running_gate);
    if (g)
        zg_gate_reload(g);
}

static void handle_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sa.sa_handler = on_hangup;
    sigaction(SIGHUP, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    /* a supervisor's child gets them blocked until now (gate_super.c) */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    sigprocmask(SIG_UNBLOCK, &set, NULL);
}

typedef struct serve_args {
    zg_policy_t *policy;
    zg_passphrase_t *pass;
    const char *pass_file;
    zg_log_level_t level;
} serve_args_t;

/* A restarted forwarding process reads the passphrase again where it can:
 * a key rotated (SIGHUP) since the gate started may have a new one. The
 * one asked at the start stays when there is nowhere to read it (the
 * terminal), and when its file cannot be read now: said, since a rotated
 * key then fails as "wrong passphrase", which names only the key. */
static void passphrase_again(serve_args_t *a)
{
    const char *env = getenv("ZGUARD_PASSPHRASE_FILE");
    const char *creds = getenv("CREDENTIALS_DIRECTORY");
    if (!a->pass_file && !(env && *env) && !(creds && *creds))
        return;
    zg_passphrase_t *fresh = a->pass_file ? zg_passphrase_from_file(a->pass_file)
                                          : zg_passphrase_from_env();
    if (!fresh) {
        char line[PATH_MAX + 128];
        snprintf(line, sizeof line, "gate: %s; using the passphrase read at start",
                 zg_last_error());
        if (a->level >= ZG_LOG_WARNING)
            zg_log_stderr(NULL, ZG_LOG_WARNING, line);
        return;
    }
    zg_passphrase_destroy(&a->pass);
    a->pass = fresh;
}

/* The context: under a supervisor, serving metrics on its socket. */
static zg_ctx_t *make_ctx(serve_args_t *a, const gate_run_t *run)
{
    if (run && run->restarts && a->pass)
        passphrase_again(a);
    bool adopt = run && run->metrics_fd >= 0;
    zg_ctx_t *ctx = adopt ? zg_ctx_new_quiet(a->policy) : zg_ctx_new(a->policy);
    if (!ctx) {
        fprintf(stderr, "zguard gate: %s\n", zg_last_error());
        return NULL;
    }
    zg_ctx_set_log(ctx, a->level, zg_log_stderr, NULL);
    if (run)
        zg_gate_supervised(ctx, run->restarts, run->started_ms);
    if (adopt && zg_ctx_metrics_adopt(ctx, run->metrics_fd) < 0) {
        zg_ctx_destroy(&ctx);
        return NULL;
    }
    if (a->pass)
        zg_ctx_set_passphrase(ctx, &a->pass);
    /* a reload reads it again: a rotated key may have a new one */
    if (a->pass_file && zg_ctx_set_passphrase_file(ctx, a->pass_file) != 0) {
        fprintf(stderr, "zguard gate: %s\n", zg_last_error());
        zg_ctx_destroy(&ctx);
        return NULL;
    }
    return ctx;
}

/* Tells the supervisor this process forwards, and where it bound. */
static void report_ready(zg_ctx_t *ctx, const gate_run_t *run)
{
    zg_gate_status_t st;
    char line[ZG_ENDPOINT_MAX + 2];
    int n = snprintf(line, sizeof line, "%s\n",
                     zg_gate_status(ctx, &st) == 0 ? st.frontend : "");
    if (n > 0 && write(run->ready_fd, line, (size_t)n) != n)
        fprintf(stderr, "zguard gate: cannot tell the supervisor that "
                        "forwarding runs: %s\n", strerror(errno));
    close(run->ready_fd);
}

/* One forwarding process (gate_serve_fn); run is NULL with --no-supervise. */
static int serve(void *arg, const gate_run_t *run)
{
    serve_args_t *a = arg;
    zg_ctx_t *ctx = make_ctx(a, run);
    if (!ctx)
        return EXIT_FAIL;
    handle_signals();
    zg_gate_t *gate = zg_gate_new_at(ctx, run ? run->frontend : NULL);
    if (!gate) {
        fprintf(stderr, "zguard gate: %s\n", zg_last_error());
        zg_ctx_destroy(&ctx);
        return EXIT_FAIL;
    }
    if (run)
        report_ready(ctx, run);
    atomic_store(&running_gate, gate);
    if (atomic_load(&stop_asked))
        zg_gate_stop(gate);
    int rc = zg_gate_run(gate);
    atomic_store(&running_gate, NULL);
    zg_gate_destroy(&gate);
    zg_ctx_destroy(&ctx);
    return rc == 0 ? EXIT_OK : EXIT_WARN;
}

int cmd_gate(int argc, char **argv)
{
    if (cli_wants_help(argc, argv)) {
        fputs(usage, stdout);
        return EXIT_OK;
    }
    gate_args_t a = {0};
    if (parse_args(argc, argv, &a) != EXIT_OK || check_args(&a) != EXIT_OK)
        return EXIT_FAIL;
    zg_policy_t *policy = a.config ? config_policy(a.config) : flags_policy(&a);
    if (!policy)
        return EXIT_FAIL;
    zg_passphrase_t *pass = NULL;
    if (passphrase(&a, policy, &pass) != EXIT_OK) {
        zg_policy_destroy(&policy);
        return EXIT_FAIL;
    }
    serve_args_t sa = {.policy = policy, .pass = pass,
                       .pass_file = a.pass_file, .level = a.level};
    int rc = a.no_supervise ? serve(&sa, NULL)
                            : gate_supervise(policy, a.level, serve, &sa);
    zg_passphrase_destroy(&sa.pass);
    zg_policy_destroy(&policy);
    return rc;
}
