/*
 * demo_setup.c - the stage `zguard demo` plays on: a private temporary
 * directory (0700) with fresh key pairs, the gate's limits as a policy file,
 * the plaintext example service, the gate in front of it, and alice, the
 * legitimate client who keeps sending requests for the whole run so that
 * every row can say whether honest traffic was hurt.
 *
 * Everything runs on loopback and ipc; nothing outlives the demo unless
 * --keep asks for the directory (with every process's log in it).
 */
#include "cli.h"
#include "demo.h"

#include <errno.h>
#include <ftw.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#define ALICE_INTERVAL "50"
#define RTT_SAMPLES_MAX 8192
#define PEER_ARGS_MAX 32

/* Key pairs: the gate's, an impostor server's, the example service's
 * under `zguard run`, and clients. Only alice, mallory, bob and edge (a
 * client-mode gate) are in the allowlist (the gate's and the service's). */
static const char *const key_names[] = {"gate", "impostor", "alice",
                                        "mallory", "bob", "stranger",
                                        "producer", "edge", "service"};
static const char *const allowed[] = {"alice", "mallory", "bob", "edge"};

static const char limits_policy[] =
    "# The gate `zguard demo` attacks: the built-in policy with shorter\n"
    "# times, so that every attack plays out in seconds.\n"
    "version = 1\n"
    "\n"
    "[defaults]\n"
    "sndhwm = 100\n"
    "rcvhwm = 100\n"
    "maxmsgsize = 64KiB\n"
    "# a TCP connection that has not finished its handshake in 2 s is closed\n"
    "handshake_ivl = 2s\n"
    "# a peer that does not answer a PING within 1.5 s is dead\n"
    "heartbeat_ivl = 500ms\n"
    "heartbeat_timeout = 1500ms\n"
    "heartbeat_ttl = 2s\n"
    "linger = 1s\n";

void demo_path(const demo_t *d, const char *name, char *out, size_t cap)
{
    int n = snprintf(out, cap, "%s/%s", d->dir, name);
    if (n < 0 || (size_t)n >= cap) /* setup keeps dir short: never here */
        out[0] = '\0';
}

static int make_keys(demo_t *d)
{
    char path[DEMO_PATH_MAX];
    demo_path(d, "keys", path, sizeof path);
    if (mkdir(path, 0700) != 0)
        return -1;
    demo_path(d, "allow", path, sizeof path);
    if (mkdir(path, 0700) != 0)
        return -1;
    for (size_t i = 0; i < sizeof key_names / sizeof *key_names; i++) {
        zg_cert_t *c = zg_cert_new();
        char file[DEMO_PATH_MAX + 64];
        snprintf(file, sizeof file, "%s/keys/%s.key", d->dir, key_names[i]);
        int rc = c ? zg_cert_set_meta(c, "name", key_names[i]) : -1;
        /* plaintext secrets (0600, in a 0700 directory that is deleted at
         * the end): the demo must run unattended */
        rc = rc == 0 ? zg_cert_save_pair(c, file, NULL, ZG_KDF_INTERACTIVE) : -1;
        for (size_t a = 0; rc == 0 && a < sizeof allowed / sizeof *allowed; a++)
            if (strcmp(allowed[a], key_names[i]) == 0) {
                snprintf(file, sizeof file, "%s/allow/%s.key", d->dir,
                         key_names[i]);
                rc = zg_cert_save_public(c, file);
            }
        zg_cert_destroy(&c);
        if (rc != 0) {
            fprintf(stderr, "zguard demo: key %s: %s\n", key_names[i],
                    zg_last_error());
            return -1;
        }
    }
    return 0;
}

static int write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    int rc = fputs(text, f) < 0 ? -1 : 0;
    return fclose(f) != 0 ? -1 : rc;
}

/* The words of `head` (NULL-terminated, the program's path first), then
 * the NULL-terminated args of ap, as a child of the demo. */
static int start_program(demo_t *d, demo_proc_t *p, const char *name,
                         const char *const head[], va_list ap)
{
    char *argv[PEER_ARGS_MAX];
    int n = 0;
    while (n < PEER_ARGS_MAX - 1 && head[n]) {
        argv[n] = (char *)head[n];
        n++;
    }
    for (char *a; n < PEER_ARGS_MAX - 1 && (a = va_arg(ap, char *));)
        argv[n++] = a;
    argv[n] = NULL;
    if (proc_start(p, name, argv, d->dir) != 0) {
        fprintf(stderr, "zguard demo: cannot start %s: %s\n", head[0],
                strerror(errno));
        return -1;
    }
    return 0;
}

int demo_peer_start(demo_t *d, demo_proc_t *p, const char *name,
                    const char *role, ...)
{
    const char *head[] = {d->peer, role, NULL};
    va_list ap;
    va_start(ap, role);
    int rc = start_program(d, p, name, head, ap);
    va_end(ap);
    return rc;
}

int demo_zmtp_start(demo_t *d, demo_proc_t *p, const char *name,
                    const char *mode, ...)
{
    const char *head[] = {d->zmtp_peer, mode, NULL};
    va_list ap;
    va_start(ap, mode);
    int rc = start_program(d, p, name, head, ap);
    va_end(ap);
    return rc;
}

int demo_run_start(demo_t *d, demo_proc_t *p, const char *name,
                   const char *policy, const char *program, ...)
{
    const char *plain[] = {program, NULL};
    const char *run[] = {d->zguard, "run", "--policy", policy, "--", program,
                         NULL};
    va_list ap;
    va_start(ap, program);
    int rc = start_program(d, p, name, policy ? run : plain, ap);
    va_end(ap);
    return rc;
}

static int start_service(demo_t *d)
{
    char bind[DEMO_PATH_MAX + 32], journal[DEMO_PATH_MAX], work[16], line[DEMO_LINE_MAX];
    snprintf(bind, sizeof bind, "ipc://%s/service.sock", d->dir);
    demo_path(d, "service.journal", journal, sizeof journal);
    snprintf(work, sizeof work, "%d", DEMO_SERVICE_WORK_US);
    char *argv[] = {d->service_bin, "--bind", bind, "--work-us", work,
                    "--journal", journal, NULL};
    if (proc_start(&d->service, "service", argv, d->dir) != 0 ||
        proc_wait_for(&d->service, "ready", 5000, line, sizeof line) != 1) {
        fprintf(stderr, "zguard demo: the example service did not start "
                        "(see %s/service.log)\n", d->dir);
        return -1;
    }
    return 0;
}

/* What `zguard run` gives the unchanged example programs: the service's
 * REP its key pair, ZAP and the allowlist; a client's REQ its key pair,
 * the service's pinned public key and a receive timeout. */
static const char run_server_policy[] =
    "\n[auth]\nallow = %s/allow\n\n[metrics]\nlisten = 127.0.0.1:%d\n\n"
    "[socket.echo]\ntype = rep\nbind = tcp://127.0.0.1:*\n"
    "curve_keys = %s/keys/service.key\nrcvtimeo = 1h\n"
    "rcvtimeo.rationale = the service waits for requests as long as nobody "
    "sends one\n";
static const char run_client_policy[] =
    "\n[socket.echo-client]\ntype = req\nconnect = tcp://127.0.0.1:*\n"
    "curve_keys = %s/keys/%s.key\ncurve_server_key = %s/keys/service.key\n"
    "rcvtimeo = %dms\n"
    "rcvtimeo.rationale = the echo service answers at once; a client it "
    "refuses gives up\n";

int demo_run_policy(demo_t *d, const char *client, int metrics_port,
                    char *path, size_t cap)
{
    char name[64], body[2048], text[4096];
    snprintf(name, sizeof name, "run-%s.policy", client ? client : "service");
    demo_path(d, name, path, cap);
    int n = client ? snprintf(body, sizeof body, run_client_policy, d->dir,
                              client, d->dir, DEMO_RUN_RCVTIMEO_MS)
                   : snprintf(body, sizeof body, run_server_policy, d->dir,
                              metrics_port, d->dir);
    if (n < 0 || (size_t)n >= sizeof body)
        return -1;
    n = snprintf(text, sizeof text, "%s%s", limits_policy, body);
    if (n < 0 || (size_t)n >= sizeof text || !path[0])
        return -1;
    return write_text(path, text);
}

/* "... frontend tcp://127.0.0.1:PORT (... metrics http://H:P/metrics" */
static int parse_ready(demo_t *d, const char *line)
{
    const char *f = strstr(line, "frontend tcp://");
    const char *m = strstr(line, "metrics http://");
    if (!f || !m)
        return -1;
    sscanf(f + 9, "%127[^ ]", d->frontend);
    sscanf(m + strlen("metrics http://"), "%120[^/ ]", d->metrics + 7);
    memcpy(d->metrics, "http://", 7);
    const char *colon = strrchr(d->frontend, ':');
    d->frontend_port = colon ? atoi(colon + 1) : 0;
    return d->frontend_port > 0 ? 0 : -1;
}

/* The gate's whole configuration, one file (--config): the limits above,
 * the two sockets, who may connect and the per-address limits, metrics on
 * any free port. */
static int write_gate_config(demo_t *d, const char *path)
{
    char backend[DEMO_PATH_MAX + 32], key[DEMO_PATH_MAX], allow[DEMO_PATH_MAX];
    snprintf(backend, sizeof backend, "ipc://%s/service.sock", d->dir);
    demo_path(d, "keys/gate.key", key, sizeof key);
    demo_path(d, "allow", allow, sizeof allow);
    char text[4096];
    int n = snprintf(
        text, sizeof text,
        "%s\n[gate]\npattern = reqrep\nfrontend = tcp://127.0.0.1:*\n"
        "backend = %s\n\n"
        "[socket.frontend]\ntype = router\ncurve_keys = %s\n"
        "# one address holds at most %d connections (a connection flood "
        "from one\n# address is cut; everyone here is 127.0.0.1 but the "
        "attackers)\nmax_peers_per_ip = %d\n\n"
        "[socket.backend]\ntype = dealer\nsecurity = none\ninsecure = yes\n"
        "rationale = the unchanged service speaks plaintext, over ipc\n\n"
        "[auth]\nallow = %s\n"
        "# %d refused keys from one address in a minute lock it out for %ds:\n"
        "# a storm of handshakes costs a table lookup, not a key lookup\n"
        "auth_failures_per_ip = %d\nauth_failure_window = 1m\nlockout = %ds\n\n"
        "[metrics]\nlisten = 127.0.0.1:0\n",
        limits_policy, backend, key, DEMO_PEERS_PER_IP, DEMO_PEERS_PER_IP,
        allow, DEMO_AUTH_FAILURES, DEMO_LOCKOUT_S, DEMO_AUTH_FAILURES,
        DEMO_LOCKOUT_S);
    if (n < 0 || (size_t)n >= sizeof text)
        return -1;
    return write_text(path, text);
}

static int start_gate(demo_t *d)
{
    char line[DEMO_LINE_MAX];
    demo_path(d, "gate.policy", d->gate_policy, sizeof d->gate_policy);
    if (write_gate_config(d, d->gate_policy) != 0)
        return -1;
    char *argv[] = {d->zguard, "gate", "--config", d->gate_policy,
                    "--log-level", "info", NULL};
    if (proc_start(&d->gate, "gate", argv, d->dir) != 0 ||
        proc_wait_for(&d->gate, "gate: ready:", 10000, line, sizeof line) != 1 ||
        parse_ready(d, line) != 0) {
        fprintf(stderr, "zguard demo: the gate did not start (see %s/gate.log)\n",
                d->dir);
        return -1;
    }
    return 0;
}

static int start_alice(demo_t *d)
{
    char key[DEMO_PATH_MAX], server[DEMO_PATH_MAX], line[DEMO_LINE_MAX];
    demo_path(d, "keys/alice.key", key, sizeof key);
    demo_path(d, "keys/gate.key", server, sizeof server);
    if (demo_peer_start(d, &d->alice, "alice", "client", "--endpoint",
                        d->frontend, "--key", key, "--server-key", server,
                        "--count", "0", "--interval-ms", ALICE_INTERVAL,
                        "--timeout-ms", "2000", "--text", "alice", NULL) != 0)
        return -1;
    if (proc_wait_for(&d->alice, "ok 0 ", 10000, line, sizeof line) != 1) {
        fprintf(stderr, "zguard demo: alice's first request through the gate "
                        "got no answer (see %s/alice.log, gate.log)\n", d->dir);
        return -1;
    }
    d->alice_ok = 1;
    return 0;
}

static int find_programs(demo_t *d)
{
    if (cli_self_exe(d->zguard, sizeof d->zguard) != 0)
        return -1;
    return cli_find_program("zguard demo", "zguard-demo-peer", d->peer,
                            sizeof d->peer) == 0 &&
                   cli_find_program("zguard demo", "zguard-zmtp-peer",
                                    d->zmtp_peer, sizeof d->zmtp_peer) == 0 &&
                   cli_find_program("zguard demo", "zguard-example-service",
                                    d->service_bin, sizeof d->service_bin) == 0 &&
                   cli_find_program("zguard demo", "zguard-example-client",
                                    d->client_bin, sizeof d->client_bin) == 0
               ? 0
               : -1;
}

int demo_setup(demo_t *d)
{
    const char *tmp = getenv("TMPDIR");
    snprintf(d->dir, sizeof d->dir, "%s/zguard-demo.XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (find_programs(d) != 0)
        return -1;
    if (strlen(d->dir) > DEMO_PATH_MAX / 2) {
        fprintf(stderr, "zguard demo: TMPDIR is too long a path\n");
        d->dir[0] = '\0';
        return -1;
    }
    if (!mkdtemp(d->dir)) {
        fprintf(stderr, "zguard demo: cannot make %s: %s\n", d->dir,
                strerror(errno));
        d->dir[0] = '\0';
        return -1;
    }
    if (make_keys(d) != 0) {
        fprintf(stderr, "zguard demo: cannot write keys in %s: %s\n", d->dir,
                strerror(errno));
        return -1;
    }
    return start_service(d) == 0 && start_gate(d) == 0 && start_alice(d) == 0
               ? 0
               : -1;
}

static int remove_one(const char *path, const struct stat *st, int flag,
                      struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

/* Only what the demo made lives there: keys, logs, policy, sockets. */
static void remove_tree(const char *dir)
{
    nftw(dir, remove_one, 16, FTW_DEPTH | FTW_PHYS);
}

void demo_teardown(demo_t *d, bool keep)
{
    proc_stop(&d->alice, SIGTERM, 3000);
    proc_stop(&d->gate, SIGTERM, 5000);
    proc_stop(&d->service, SIGTERM, 3000);
    if (d->dir[0] && !keep)
        remove_tree(d->dir);
}

/* ---- metrics: the gate's, or a program's under zguard run ---------------------------- */

int demo_free_port(void)
{
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int port = fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof a) == 0 &&
                       getsockname(fd, (struct sockaddr *)&a, &len) == 0
                   ? ntohs(a.sin_port)
                   : -1;
    if (fd >= 0)
        close(fd);
    return port;
}

static double metric_va(const char *url, const char *name, va_list ap)
{
    const char *labels[8];
    int n = 0;
    for (const char *l; n < 7 && (l = va_arg(ap, const char *));)
        labels[n++] = l;
    labels[n] = NULL;
    char err[256];
    char *text = cli_http_get(url, "/metrics", err, sizeof err);
    if (!text)
        return -1;
    double v = cli_metric_sum(text, name, labels);
    free(text);
    return v;
}

double demo_metric(demo_t *d, const char *name, ...)
{
    va_list ap;
    va_start(ap, name);
    double v = metric_va(d->metrics, name, ap);
    va_end(ap);
    return v;
}

double demo_metric_at(const char *url, const char *name, ...)
{
    va_list ap;
    va_start(ap, name);
    double v = metric_va(url, name, ap);
    va_end(ap);
    return v;
}

static double metric_wait_va(const char *url, double target, int timeout_ms,
                             double *secs, const char *name, va_list ap)
{
    double t0 = cli_now(), v;
    for (;;) {
        va_list each;
        va_copy(each, ap);
        v = metric_va(url, name, each);
        va_end(each);
        double at = cli_now();
        if (v >= target || (at - t0) * 1000 >= timeout_ms) {
            if (secs)
                *secs = at - t0;
            return v;
        }
        /* metrics are counters, not events: read them at 50 Hz */
        struct timespec gap = {0, 20 * 1000000};
        nanosleep(&gap, NULL);
    }
}

double demo_metric_wait(demo_t *d, double target, int timeout_ms,
                        double *secs, const char *name, ...)
{
    va_list ap;
    va_start(ap, name);
    double v = metric_wait_va(d->metrics, target, timeout_ms, secs, name, ap);
    va_end(ap);
    return v;
}

double demo_metric_wait_at(const char *url, double target, int timeout_ms,
                           double *secs, const char *name, ...)
{
    va_list ap;
    va_start(ap, name);
    double v = metric_wait_va(url, target, timeout_ms, secs, name, ap);
    va_end(ap);
    return v;
}

/* ---- alice ------------------------------------------------------------------------ */

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

void demo_alice_window(demo_t *d, demo_window_t *w)
{
    static double rtt[RTT_SAMPLES_MAX];
    char line[DEMO_LINE_MAX];
    long seq;
    double us;
    size_t n = 0;
    memset(w, 0, sizeof *w);
    while (proc_line(&d->alice, 0, line, sizeof line) == 1) {
        if (sscanf(line, "ok %ld %lf", &seq, &us) == 2) {
            w->ok++;
            if (n < RTT_SAMPLES_MAX)
                rtt[n++] = us / 1000;
        } else if (sscanf(line, "lost %ld", &seq) == 1) {
            w->lost++;
        }
    }
    d->alice_ok += w->ok;
    d->alice_lost += w->lost;
    if (n) {
        qsort(rtt, n, sizeof *rtt, cmp_double);
        w->p50_ms = rtt[(n - 1) / 2];
        w->max_ms = rtt[n - 1];
    }
}
