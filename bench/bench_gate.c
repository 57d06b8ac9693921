/*
 * bench_gate.c - what `zguard gate` costs a request/reply service, next to
 * no hop at all and next to a bare zmq_proxy hop, side by side in one run;
 * and what a client-mode gate adds in front of it.
 *
 * Contestants (the client and the service are the same code in all four):
 *
 *   direct  client -> service; the service's ROUTER is itself the CURVE
 *           server (the gate's key pair, no ZAP handler)
 *   proxy   client -> zmq_proxy_steerable: CURVE ROUTER frontend (the same
 *           key pair, no ZAP handler: any client key gets in), DEALER
 *           backend -> ipc -> plaintext service; the gate's HWMs, libzmq's
 *           defaults otherwise
 *   gate    client -> zg_gate_run with the policy `zguard gate --pattern
 *           reqrep` writes from its flags: CURVE server key from key files,
 *           ZAP allowlist holding the client's key, the built-in timeouts,
 *           MAXMSGSIZE, handshake limit and heartbeats, socket monitors,
 *           metrics served on 127.0.0.1 (a free port) -> ipc -> plaintext
 *           service
 *   two_gates  an unchanged (plaintext) client -> ipc -> a client-mode
 *           gate (`zguard gate --mode client`'s policy: the client's key
 *           pair, the server key pinned) -> CURVE over tcp loopback -> the
 *           gate above -> ipc -> plaintext service: two programs that do
 *           not speak CURVE talking over it
 *
 * Every socket of every contestant has the same HWMs, 10000 by default
 * (--hwm; see gate_policy() for why not the built-in 1000). Every
 * contestant pays for CURVE once, on the client's connection. The
 * client is a raw libzmq CURVE DEALER over tcp loopback in the main thread,
 * with its own libzmq context; the service a raw libzmq ROUTER that echoes
 * every frame, with its own context and thread; the proxy and the gate
 * each have their own context and thread: three processes' worth of
 * threads, in one (four for two_gates).
 *
 * Rows: synchronous requests (1 in flight), pipelined with 100 and with
 * 1000 in flight (a new request for each reply), and the round-trip
 * latency of the synchronous requests. Every request carries a sequence
 * number that its reply must echo, in order.
 *
 * Method. Each round sets all three contestants up on fresh sockets and
 * threads (untimed, with a warm-up that proves every connection), then runs
 * each row for each contestant back to back, for a fixed time each, the
 * order of the contestants rotating from row to row and round to round;
 * then tears them down. Throughput is replies / time from the first request
 * to the last reply. Reported: the median of the rounds and their min-max;
 * ratios of the medians; and per round the gate/proxy ratio of two runs a
 * moment apart, whose median gets a distribution-free (sign test) interval
 * that says whether this run shows the target (gate >= 0.95 of the proxy)
 * met, missed, or cannot tell on this machine. Latency p50/p99 are pooled
 * over every synchronous request of every round; the gate/proxy latency
 * interval comes from the per-round p50s and p99s.
 *
 * Exit status: 0 after a complete run, 2 on a usage error or when anything
 * failed (a socket, a lost or wrong reply, the gate dropping a reply).
 */
#include "bench.h"
#include "cli_json.h"
#include "cli_opt.h"

#include <zguard.h>

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define BG_EXIT_USAGE 2 /* like every zguard command: usage errors exit 2 */
#define BG_EXIT_FAILED 2

#define BG_MAX_ROUNDS 31
#define BG_TARGET 0.95        /* gate / proxy, on every row */
#define BG_TIMEOUT_MS 5000    /* a reply later than this is a failure */
#define BG_HWM 10000          /* every socket's SNDHWM and RCVHWM: see
                                 gate_policy() */
#define BG_MARK 0x5a

/* ---- options, and the one entry point -------------------------------------- */

typedef struct bench_gate_opts {
    int rounds;     /* interleaved rounds */
    double seconds; /* timed part of one row of one contestant */
    size_t size;    /* request and reply payload, bytes */
    int hwm;        /* SNDHWM and RCVHWM of every socket */
    bool json;      /* machine-readable results instead of the tables */
    bool verbose;   /* every round's figures on stderr */
    const char *only; /* rows whose id contains this (NULL: all) */
} bench_gate_opts_t;

/* Runs the benchmark and prints the results to out. 0, or BG_EXIT_FAILED
 * with the reason on stderr. The only entry point (a bench framework can
 * call it with its own options). */
int bench_gate(const bench_gate_opts_t *opts, FILE *out);

/* ---- contestants, rows ----------------------------------------------------- */

enum { C_DIRECT, C_PROXY, C_GATE, C_TWO, NCONT };
enum { ROW_SYNC, ROW_P100, ROW_P1000, NROWS };

static const char *const cont_name[NCONT] = {"direct", "proxy", "gate",
                                             "two_gates"};
static const struct {
    const char *name, *id;
    int window; /* requests in flight */
} rows[NROWS] = {
    {"sync, 1 in flight", "sync", 1},
    {"pipelined, 100", "pipelined_100", 100},
    {"pipelined, 1000", "pipelined_1000", 1000},
};

/* ---- the run: key material, results, the first error --------------------- */

typedef struct samples {
    double *us; /* round trips of synchronous requests, microseconds */
    size_t n, cap;
} samples_t;

typedef struct bg {
    const bench_gate_opts_t *o;
    char dir[64];                /* mkdtemp: keys, allowlist, ipc sockets */
    char server_key[128], allow[128], client_key[128];
    uint8_t server_pk[32], server_sk[32], client_pk[32], client_sk[32];
    void *client_ctx;            /* the client's libzmq context, every round */
    int mid_hwm[4];              /* front snd, front rcv, back snd, back rcv */
    char front_opts[1024], back_opts[512]; /* the gate's, as the policy says */
    uint64_t gate_mute, gate_forwarded; /* summed over the rounds */
    uint64_t seq;                /* the next request's sequence number */
    unsigned char *req, *rep;    /* payload buffers */
    /* results */
    double rate[NCONT][NROWS][BG_MAX_ROUNDS];
    double edge_cpu_ns[NROWS][BG_MAX_ROUNDS]; /* two_gates: the client-mode
                                                 gate's thread alone */
    double cpu_ns[NCONT][NROWS][BG_MAX_ROUNDS]; /* the proxy's or the gate's
                                                  thread, per request */
    double p50[NCONT][BG_MAX_ROUNDS], p99[NCONT][BG_MAX_ROUNDS];
    samples_t lat[NCONT];        /* pooled over the rounds */
    samples_t round_lat;         /* one contestant's, this round */
    char err[768];               /* the first failure */
} bg_t;

static bool selected(const bg_t *b, int row)
{
    return !b->o->only || strstr(rows[row].id, b->o->only);
}

static int fail(bg_t *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static int fail(bg_t *b, const char *fmt, ...)
{
    if (!b->err[0]) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(b->err, sizeof b->err, fmt, ap);
        va_end(ap);
    }
    return -1;
}


static int samples_add(samples_t *s, double v)
{
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 4096;
        double *p = realloc(s->us, cap * sizeof *p);
        if (!p)
            return -1;
        s->us = p;
        s->cap = cap;
    }
    s->us[s->n++] = v;
    return 0;
}

/* ---- key material ---------------------------------------------------------- */

/* The 32 secret bytes of a plaintext NAME.key_secret (the CZMQ/pyzmq layout
 * zg_cert_save_pair writes without a passphrase), for the raw sockets. */
static int read_secret(bg_t *b, const char *key, uint8_t out[32])
{
    char path[160], text[4096];
    snprintf(path, sizeof path, "%s_secret", key);
    FILE *f = fopen(path, "r");
    if (!f)
        return fail(b, "%s: %s", path, strerror(errno));
    size_t n = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[n] = '\0';
    const char *p = strstr(text, "secret-key = \"");
    char z85[41];
    if (!p || sscanf(p + 14, "%40[^\"]", z85) != 1 || strlen(z85) != 40 ||
        !zmq_z85_decode(out, z85))
        return fail(b, "%s: no plaintext secret-key", path);
    return 0;
}

/* A key pair made and saved by zguard (unencrypted secret, mode 0600). */
static int make_pair(bg_t *b, const char *name, char *key, size_t cap,
                     uint8_t pk[32], uint8_t sk[32])
{
    snprintf(key, cap, "%s/%s.key", b->dir, name);
    zg_cert_t *c = zg_cert_new();
    if (!c || zg_cert_set_meta(c, "name", name) != 0 ||
        zg_cert_save_pair(c, key, NULL, ZG_KDF_INTERACTIVE) != 0) {
        zg_cert_destroy(&c);
        return fail(b, "key pair %s: %s", key, zg_last_error());
    }
    memcpy(pk, zg_cert_public_key(c), 32);
    zg_cert_destroy(&c);
    return read_secret(b, key, sk);
}

static int prepare_keys(bg_t *b)
{
    snprintf(b->dir, sizeof b->dir, "/tmp/zguard-bench-gate-XXXXXX");
    if (!mkdtemp(b->dir)) {
        b->dir[0] = '\0';
        return fail(b, "mkdtemp: %s", strerror(errno));
    }
    if (make_pair(b, "server", b->server_key, sizeof b->server_key,
                  b->server_pk, b->server_sk) != 0 ||
        make_pair(b, "client", b->client_key, sizeof b->client_key,
                  b->client_pk, b->client_sk) != 0)
        return -1;
    /* the allowlist: the client's public certificate only */
    snprintf(b->allow, sizeof b->allow, "%s/allow", b->dir);
    char pub[160];
    snprintf(pub, sizeof pub, "%s/client.key", b->allow);
    zg_cert_t *c = zg_cert_load(b->client_key);
    int rc = c && mkdir(b->allow, 0755) == 0 ? zg_cert_save_public(c, pub) : -1;
    zg_cert_destroy(&c);
    return rc == 0 ? 0 : fail(b, "allowlist %s: %s", b->allow, zg_last_error());
}

/* ---- the gate's policy ------------------------------------------------------ */

/* What `zguard gate --pattern reqrep --frontend tcp://127.0.0.1:*
 * --backend ipc://... --server-key DIR/server.key --allow DIR/allow
 * --metrics 127.0.0.1:0 --policy TUNING` writes (tools/cmd_gate.c), where
 * TUNING raises the HWMs. At the built-in 1000, 1000 requests in flight
 * from one client make a ROUTER drop replies now and then: a writer learns
 * what its reader took only every HWM/2 messages, so it may see a pipe of
 * 1000 as full with far fewer in it (the proxy drops them silently, the
 * gate counts them). Every socket of every contestant gets the same. */
static zg_policy_t *parse_policy(bg_t *b, const char *text, const char *label)
{
    zg_diag_t *diag = zg_diag_new();
    zg_policy_t *p = zg_policy_parse(text, strlen(text), label, diag);
    if (!p) {
        zg_diag_print(diag, stderr);
        fail(b, "%s does not parse: %s", label, zg_last_error());
    }
    zg_diag_destroy(&diag);
    return p;
}

static zg_policy_t *gate_policy(bg_t *b, const char *backend)
{
    char text[2048];
    snprintf(text, sizeof text,
             "version = 1\n"
             "\n[defaults]\nsndhwm = %d\nrcvhwm = %d\n"
             "rationale = benchmark: 1000 requests in flight from one client\n"
             "\n[gate]\npattern = reqrep\nfrontend = tcp://127.0.0.1:*\n"
             "backend = %s\n"
             "\n[socket.frontend]\ntype = router\ncurve_keys = %s\n"
             "\n[socket.backend]\ntype = dealer\nsecurity = none\n"
             "insecure = yes\nrationale = the service behind the gate speaks "
             "plaintext; the gate refuses a backend endpoint that leaves this "
             "machine\n"
             "\n[auth]\nallow = %s\n"
             "\n[metrics]\nlisten = 127.0.0.1:0\n",
             b->o->hwm, b->o->hwm, backend, b->server_key, b->allow);
    return parse_policy(b, text, "(bench gate policy)");
}

/* What `zguard gate --mode client --pattern reqrep --frontend ipc://...
 * --backend tcp://127.0.0.1:PORT --client-key DIR/client.key
 * --server-public DIR/server.key --metrics 127.0.0.1:0 --policy TUNING`
 * writes, TUNING the same HWMs. */
static zg_policy_t *edge_policy(bg_t *b, const char *frontend,
                                const char *server)
{
    char text[2048];
    snprintf(text, sizeof text,
             "version = 1\n"
             "\n[defaults]\nsndhwm = %d\nrcvhwm = %d\n"
             "rationale = benchmark: 1000 requests in flight from one client\n"
             "\n[gate]\nmode = client\npattern = reqrep\nfrontend = %s\n"
             "backend = %s\n"
             "\n[socket.frontend]\ntype = router\nsecurity = none\n"
             "insecure = yes\nrationale = the unchanged clients of a "
             "client-mode gate speak plaintext; the gate refuses a frontend "
             "endpoint that leaves this machine\n"
             "\n[socket.backend]\ntype = dealer\ncurve_keys = %s\n"
             "curve_server_key = %s\n"
             "\n[metrics]\nlisten = 127.0.0.1:0\n",
             b->o->hwm, b->o->hwm, frontend, server, b->client_key,
             b->server_key);
    return parse_policy(b, text, "(bench client-mode gate policy)");
}

/* "sndhwm=1000 rcvhwm=1000 ..." of a gate socket; the HWMs for the proxy. */
static int describe_socket(bg_t *b, const zg_policy_t *p, int type,
                           const char *name, char *out, size_t cap, int *hwm)
{
    zg_setting_t s[ZG_FIELD_COUNT];
    if (zg_policy_settings(p, type, name, s, ZG_FIELD_COUNT, sizeof s[0]) != 0)
        return fail(b, "zg_policy_settings(%s): %s", name, zg_last_error());
    size_t used = 0;
    out[0] = '\0';
    for (int f = 0; f < ZG_FIELD_COUNT; f++) {
        if (!s[f].applies || (!s[f].option && f != ZG_FIELD_SECURITY))
            continue;
        const char *v = s[f].text;
        if (f == ZG_FIELD_SECURITY)
            v = s[f].value == ZG_SECURITY_CURVE ? "curve" : "none";
        int w = snprintf(out + used, cap - used, "%s%s=%s", used ? " " : "",
                         s[f].key, v);
        if (w > 0 && (size_t)w < cap - used)
            used += (size_t)w;
    }
    hwm[0] = (int)s[ZG_FIELD_SNDHWM].value;
    hwm[1] = (int)s[ZG_FIELD_RCVHWM].value;
    return 0;
}

/* ---- the service: a raw libzmq ROUTER that echoes every frame --------------- */

typedef struct service {
    void *ctx, *sock;
    pthread_t thread;
    bool running;
    char endpoint[256];
} service_t;

static void *service_main(void *arg)
{
    service_t *sv = arg;
    zmq_msg_t m;
    zmq_msg_init(&m);
    for (;;) {
        if (zmq_msg_recv(&m, sv->sock, 0) < 0) {
            if (errno == EINTR || errno == EAGAIN)
                continue;
            break; /* ETERM: zmq_ctx_shutdown */
        }
        int more = zmq_msg_more(&m);
        if (zmq_msg_send(&m, sv->sock, more ? ZMQ_SNDMORE : 0) < 0 &&
            errno == ETERM)
            break;
    }
    zmq_msg_close(&m);
    zmq_close(sv->sock);
    return NULL;
}

static int set_int(bg_t *b, void *sock, int option, int value, const char *what)
{
    if (zmq_setsockopt(sock, option, &value, sizeof value) != 0)
        return fail(b, "%s: zmq_setsockopt(%d): %s", what, option,
                    zmq_strerror(errno));
    return 0;
}

static int edge_options(bg_t *b, void *sock, const char *what)
{
    return set_int(b, sock, ZMQ_LINGER, 0, what) ||
                   set_int(b, sock, ZMQ_SNDHWM, b->o->hwm, what) ||
                   set_int(b, sock, ZMQ_RCVHWM, b->o->hwm, what)
               ? -1
               : 0;
}

/* curve: the service is the CURVE server itself (direct); else plaintext,
 * bound to ipc for a proxy or a gate in front of it. */
static int service_start(bg_t *b, service_t *sv, bool curve, const char *ep)
{
    memset(sv, 0, sizeof *sv);
    if (!(sv->ctx = zmq_ctx_new()) ||
        !(sv->sock = zmq_socket(sv->ctx, ZMQ_ROUTER)))
        return fail(b, "service socket: %s", zmq_strerror(errno));
    if (edge_options(b, sv->sock, "service") != 0)
        return -1;
    if (curve && (set_int(b, sv->sock, ZMQ_CURVE_SERVER, 1, "service") ||
                  zmq_setsockopt(sv->sock, ZMQ_CURVE_SECRETKEY, b->server_sk,
                                 32) != 0))
        return fail(b, "service: CURVE server: %s", zmq_strerror(errno));
    size_t len = sizeof sv->endpoint;
    if (zmq_bind(sv->sock, ep) != 0 ||
        zmq_getsockopt(sv->sock, ZMQ_LAST_ENDPOINT, sv->endpoint, &len) != 0)
        return fail(b, "service: bind %s: %s", ep, zmq_strerror(errno));
    if (pthread_create(&sv->thread, NULL, service_main, sv) != 0)
        return fail(b, "service: pthread_create failed");
    pthread_setname_np(sv->thread, "bg-service"); /* for perf, top -H */
    sv->running = true;
    return 0;
}

static void service_stop(service_t *sv)
{
    if (!sv->ctx)
        return;
    zmq_ctx_shutdown(sv->ctx);
    if (sv->running)
        pthread_join(sv->thread, NULL);
    else if (sv->sock)
        zmq_close(sv->sock);
    zmq_ctx_term(sv->ctx);
    sv->ctx = NULL;
}

/* ---- the middle: zmq_proxy or zguard's gate ---------------------------------- */

typedef struct middle {
    int kind; /* C_PROXY or C_GATE */
    /* proxy */
    void *ctx, *front, *back, *ctl_main, *ctl_proxy;
    /* gate */
    zg_ctx_t *zctx;
    zg_gate_t *gate;
    pthread_t thread;
    bool running;
    int rc;
    char endpoint[256]; /* where clients connect */
} middle_t;

static void *proxy_main(void *arg)
{
    middle_t *m = arg;
    m->rc = zmq_proxy_steerable(m->front, m->back, NULL, m->ctl_proxy);
    return NULL;
}

static void *gate_main(void *arg)
{
    middle_t *m = arg;
    m->rc = zg_gate_run(m->gate);
    return NULL;
}

static void log_to_stderr(void *arg, zg_log_level_t level, const char *line)
{
    (void)arg;
    fprintf(stderr, "zguard bench gate: zguard %s: %s\n", zg_log_level_name(level),
            line);
}

static int proxy_start(bg_t *b, middle_t *m, const char *service)
{
    memset(m, 0, sizeof *m);
    m->kind = C_PROXY;
    char ctl[64];
    snprintf(ctl, sizeof ctl, "inproc://bench-gate-proxy-control");
    if (!(m->ctx = zmq_ctx_new()) ||
        !(m->front = zmq_socket(m->ctx, ZMQ_ROUTER)) ||
        !(m->back = zmq_socket(m->ctx, ZMQ_DEALER)) ||
        !(m->ctl_main = zmq_socket(m->ctx, ZMQ_PAIR)) ||
        !(m->ctl_proxy = zmq_socket(m->ctx, ZMQ_PAIR)))
        return fail(b, "proxy sockets: %s", zmq_strerror(errno));
    /* the gate's HWMs, so queues are the same size; nothing else */
    if (set_int(b, m->front, ZMQ_SNDHWM, b->mid_hwm[0], "proxy") ||
        set_int(b, m->front, ZMQ_RCVHWM, b->mid_hwm[1], "proxy") ||
        set_int(b, m->back, ZMQ_SNDHWM, b->mid_hwm[2], "proxy") ||
        set_int(b, m->back, ZMQ_RCVHWM, b->mid_hwm[3], "proxy") ||
        set_int(b, m->front, ZMQ_LINGER, 0, "proxy") ||
        set_int(b, m->back, ZMQ_LINGER, 0, "proxy") ||
        set_int(b, m->ctl_main, ZMQ_LINGER, 0, "proxy") ||
        set_int(b, m->ctl_proxy, ZMQ_LINGER, 0, "proxy") ||
        set_int(b, m->front, ZMQ_CURVE_SERVER, 1, "proxy"))
        return -1;
    if (zmq_setsockopt(m->front, ZMQ_CURVE_SECRETKEY, b->server_sk, 32) != 0)
        return fail(b, "proxy: CURVE secret key: %s", zmq_strerror(errno));
    size_t len = sizeof m->endpoint;
    if (zmq_bind(m->ctl_main, ctl) != 0 || zmq_connect(m->ctl_proxy, ctl) != 0 ||
        zmq_connect(m->back, service) != 0 ||
        zmq_bind(m->front, "tcp://127.0.0.1:*") != 0 ||
        zmq_getsockopt(m->front, ZMQ_LAST_ENDPOINT, m->endpoint, &len) != 0)
        return fail(b, "proxy: bind/connect: %s", zmq_strerror(errno));
    if (pthread_create(&m->thread, NULL, proxy_main, m) != 0)
        return fail(b, "proxy: pthread_create failed");
    pthread_setname_np(m->thread, "bg-proxy");
    m->running = true;
    return 0;
}

/* A gate of policy p (taken) in a thread of its own. */
static int gate_run_start(bg_t *b, middle_t *m, zg_policy_t *p,
                          const char *thread_name)
{
    memset(m, 0, sizeof *m);
    m->kind = C_GATE;
    if (!p)
        return -1;
    m->zctx = zg_ctx_new(p);
    zg_policy_destroy(&p);
    if (!m->zctx)
        return fail(b, "gate: zg_ctx_new: %s", zg_last_error());
    zg_ctx_set_log(m->zctx, ZG_LOG_WARNING, log_to_stderr, NULL);
    if (!(m->gate = zg_gate_new(m->zctx)))
        return fail(b, "gate: zg_gate_new: %s", zg_last_error());
    size_t len = sizeof m->endpoint;
    if (zmq_getsockopt(zg_gate_frontend(m->gate), ZMQ_LAST_ENDPOINT,
                       m->endpoint, &len) != 0)
        return fail(b, "gate: frontend endpoint: %s", zmq_strerror(errno));
    if (zg_ctx_metrics_port(m->zctx) <= 0)
        return fail(b, "gate: no metrics endpoint");
    /* the gate was made here and is handed to its thread */
    if (pthread_create(&m->thread, NULL, gate_main, m) != 0)
        return fail(b, "gate: pthread_create failed");
    pthread_setname_np(m->thread, thread_name);
    m->running = true;
    return 0;
}

static int gate_start(bg_t *b, middle_t *m, const char *service)
{
    return gate_run_start(b, m, gate_policy(b, service), "bg-gate");
}

/* A client-mode gate bound at frontend, connecting to the ingress gate at
 * server. */
static int edge_start(bg_t *b, middle_t *m, const char *frontend,
                      const char *server)
{
    return gate_run_start(b, m, edge_policy(b, frontend, server), "bg-edge");
}

/* Stops the middle; for the gate, checks that it forwarded everything. */
static int middle_stop(bg_t *b, middle_t *m)
{
    int rc = 0;
    if (m->kind == C_PROXY && m->ctx) {
        if (m->running) {
            zmq_send(m->ctl_main, "TERMINATE", 9, 0);
            pthread_join(m->thread, NULL);
        }
        void **socks[] = {&m->front, &m->back, &m->ctl_main, &m->ctl_proxy};
        for (size_t i = 0; i < 4; i++)
            if (*socks[i])
                zmq_close(*socks[i]);
        zmq_ctx_term(m->ctx);
        m->ctx = NULL;
    } else if (m->kind == C_GATE && m->zctx) {
        if (m->running) {
            zg_gate_stop(m->gate);
            pthread_join(m->thread, NULL);
            if (m->rc != 0)
                rc = fail(b, "gate: zg_gate_run failed: %s", zg_last_error());
        }
        zg_gate_stats_t s;
        if (m->gate && zg_gate_stats(m->gate, &s, sizeof s) == 0) {
            b->gate_mute += s.backend_mute;
            b->gate_forwarded += s.to_frontend;
            if (s.dropped || s.to_backend != s.to_frontend)
                rc = fail(b,
                          "gate: %llu requests forwarded, %llu replies, %llu "
                          "dropped: the benchmark expects every reply",
                          (unsigned long long)s.to_backend,
                          (unsigned long long)s.to_frontend,
                          (unsigned long long)s.dropped);
        }
        zg_gate_destroy(&m->gate);
        zg_ctx_destroy(&m->zctx);
    }
    return rc;
}

/* ---- the client: a raw libzmq CURVE DEALER ------------------------------------ */

/* curve: pins the server key with the client's pair; else plaintext, an
 * unchanged client of a client-mode gate. */
static void *client_open(bg_t *b, const char *endpoint, bool curve)
{
    void *c = zmq_socket(b->client_ctx, ZMQ_DEALER);
    if (!c) {
        fail(b, "client socket: %s", zmq_strerror(errno));
        return NULL;
    }
    if (edge_options(b, c, "client") ||
        set_int(b, c, ZMQ_SNDTIMEO, BG_TIMEOUT_MS, "client") ||
        set_int(b, c, ZMQ_RCVTIMEO, BG_TIMEOUT_MS, "client") ||
        (curve &&
         (zmq_setsockopt(c, ZMQ_CURVE_SERVERKEY, b->server_pk, 32) != 0 ||
          zmq_setsockopt(c, ZMQ_CURVE_PUBLICKEY, b->client_pk, 32) != 0 ||
          zmq_setsockopt(c, ZMQ_CURVE_SECRETKEY, b->client_sk, 32) != 0)) ||
        zmq_connect(c, endpoint) != 0) {
        fail(b, "client: %s: %s", endpoint, zmq_strerror(errno));
        zmq_close(c);
        return NULL;
    }
    return c;
}

static int send_request(bg_t *b, void *c, const char *who)
{
    size_t size = b->o->size;
    uint64_t seq = b->seq++;
    memcpy(b->req, &seq, size < sizeof seq ? size : sizeof seq);
    if (zmq_send(c, b->req, size, 0) != (int)size)
        return fail(b, "%s: request %llu: send: %s", who,
                    (unsigned long long)seq, zmq_strerror(errno));
    return 0;
}

/* The reply to request `seq`: the same size and sequence number. */
static int recv_reply(bg_t *b, void *c, uint64_t seq, const char *who)
{
    size_t size = b->o->size, n = size < sizeof seq ? size : sizeof seq;
    int got = zmq_recv(c, b->rep, size + 1, 0);
    if (got < 0)
        return fail(b, "%s: no reply to request %llu within %dms: %s", who,
                    (unsigned long long)seq, BG_TIMEOUT_MS,
                    zmq_strerror(errno));
    uint64_t echoed = 0;
    memcpy(&echoed, b->rep, n);
    if ((size_t)got != size || memcmp(b->rep, &seq, n) != 0)
        return fail(b, "%s: reply of %d bytes with sequence number %llu, "
                       "where request %llu had %zu bytes: lost or out of "
                       "order",
                    who, got, (unsigned long long)echoed,
                    (unsigned long long)seq, size);
    return 0;
}

/* One request at a time for `seconds` (at least one); every round trip
 * to b->round_lat. */
static int run_sync(bg_t *b, void *c, double seconds, const char *who,
                    double *rate)
{
    b->round_lat.n = 0;
    double t0 = cli_now(), deadline = t0 + seconds, t = t0;
    do {
        uint64_t seq = b->seq;
        double t1 = t;
        if (send_request(b, c, who) || recv_reply(b, c, seq, who))
            return -1;
        t = cli_now();
        if (samples_add(&b->round_lat, (t - t1) * 1e6) != 0)
            return fail(b, "out of memory");
    } while (t < deadline);
    *rate = (double)b->round_lat.n / (t - t0);
    return 0;
}

/* `window` requests in flight: one more for each reply, until `seconds`
 * have passed; then the ones in flight are collected. */
static int run_window(bg_t *b, void *c, int window, double seconds,
                      const char *who, double *rate)
{
    uint64_t first = b->seq, next_reply = first;
    double t0 = cli_now(), deadline = t0 + seconds, t = t0;
    for (int i = 0; i < window; i++)
        if (send_request(b, c, who) != 0)
            return -1;
    while (next_reply < b->seq) {
        if (recv_reply(b, c, next_reply++, who) != 0)
            return -1;
        t = cli_now();
        if (t < deadline && send_request(b, c, who) != 0)
            return -1;
    }
    *rate = (double)(next_reply - first) / (t - t0);
    return 0;
}

/* ---- one round -------------------------------------------------------------- */

typedef struct stage {
    service_t service;
    middle_t middle;
    middle_t edge; /* two_gates: the client-mode gate */
    void *client;
} stage_t;

static int stage_start(bg_t *b, stage_t *s, int c, int round)
{
    char ep[160];
    memset(s, 0, sizeof *s);
    s->middle.kind = c;
    if (c == C_DIRECT) {
        if (service_start(b, &s->service, true, "tcp://127.0.0.1:*") != 0)
            return -1;
        s->client = client_open(b, s->service.endpoint, true);
    } else {
        snprintf(ep, sizeof ep, "ipc://%s/%s-%d.sock", b->dir, cont_name[c],
                 round);
        if (service_start(b, &s->service, false, ep) != 0 ||
            (c == C_PROXY ? proxy_start(b, &s->middle, s->service.endpoint)
                          : gate_start(b, &s->middle, s->service.endpoint)) != 0)
            return -1;
        if (c == C_TWO) {
            snprintf(ep, sizeof ep, "ipc://%s/edge-%d.sock", b->dir, round);
            if (edge_start(b, &s->edge, ep, s->middle.endpoint) != 0)
                return -1;
        }
        s->client = c == C_TWO ? client_open(b, s->edge.endpoint, false)
                               : client_open(b, s->middle.endpoint, true);
    }
    if (!s->client)
        return -1;
    /* untimed: proves the whole path (handshake, ZAP), warms it up */
    double ignored;
    return run_sync(b, s->client, 0, cont_name[c], &ignored) ||
                   run_sync(b, s->client, 0.02, cont_name[c], &ignored) ||
                   run_window(b, s->client, rows[NROWS - 1].window, 0,
                              cont_name[c], &ignored)
               ? -1
               : 0;
}

/* Client first (its requests are all answered), then the middle, then the
 * service. */
static int stage_stop(bg_t *b, stage_t *s)
{
    if (s->client)
        zmq_close(s->client);
    s->client = NULL;
    int rc = middle_stop(b, &s->edge);
    if (middle_stop(b, &s->middle) != 0)
        rc = -1;
    service_stop(&s->service);
    return rc;
}

static double thread_cpu_s(const middle_t *m)
{
    clockid_t id;
    struct timespec ts;
    if (m->kind == C_DIRECT || !m->running ||
        pthread_getcpuclockid(m->thread, &id) != 0 ||
        clock_gettime(id, &ts) != 0)
        return 0;
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* CPU time of the proxy's or the gate's thread, two_gates' both (exact:
 * the kernel's per-thread clock); 0 for direct. */
static double middle_cpu_s(const stage_t *s)
{
    return thread_cpu_s(&s->middle) + thread_cpu_s(&s->edge);
}

static int run_round(bg_t *b, int r)
{
    stage_t st[NCONT];
    int rc = 0, started = 0;
    for (; started < NCONT && rc == 0; started++)
        rc = stage_start(b, &st[started], started, r);
    for (int row = 0; row < NROWS && rc == 0; row++)
        for (int k = 0; k < NCONT && rc == 0 && selected(b, row); k++) {
            int c = (r + row + k) % NCONT;
            double *rate = &b->rate[c][row][r];
            uint64_t seq0 = b->seq;
            double cpu0 = middle_cpu_s(&st[c]), edge0 = thread_cpu_s(&st[c].edge);
            if (rows[row].window == 1) {
                rc = run_sync(b, st[c].client, b->o->seconds, cont_name[c],
                              rate);
                samples_t *l = &b->round_lat;
                for (size_t i = 0; rc == 0 && i < l->n; i++)
                    if (samples_add(&b->lat[c], l->us[i]) != 0)
                        rc = fail(b, "out of memory");
                bench_sort(l->us, l->n);
                b->p50[c][r] = bench_percentile_sorted(l->us, l->n, 50);
                b->p99[c][r] = bench_percentile_sorted(l->us, l->n, 99);
            } else {
                rc = run_window(b, st[c].client, rows[row].window,
                                b->o->seconds, cont_name[c], rate);
            }
            double *cpu = &b->cpu_ns[c][row][r];
            *cpu = (middle_cpu_s(&st[c]) - cpu0) * 1e9 /
                   (double)(b->seq - seq0);
            if (c == C_TWO)
                b->edge_cpu_ns[row][r] = (thread_cpu_s(&st[c].edge) - edge0) *
                                         1e9 / (double)(b->seq - seq0);
            if (rc == 0 && b->o->verbose) {
                fprintf(stderr, "  round %d  %-17s %-6s %9.0f req/s", r + 1,
                        rows[row].name, cont_name[c], *rate);
                if (c != C_DIRECT)
                    fprintf(stderr, "  thread %5.0f ns/req", *cpu);
                if (rows[row].window == 1)
                    fprintf(stderr, "  p50 %6.1f us  p99 %6.1f us",
                            b->p50[c][r], b->p99[c][r]);
                fputc('\n', stderr);
            }
        }
    for (int c = 0; c < started; c++)
        if (stage_stop(b, &st[c]) != 0)
            rc = -1;
    return rc;
}

/* ---- statistics (bench/bench_stats.c) ---------------------------------------- */

static double median(const double *v, int n)
{
    return bench_median(v, (size_t)n);
}

static const char *verdict_word(bench_verdict_t v)
{
    return v == BENCH_ABOVE ? "meets" : v == BENCH_BELOW ? "below" : "unclear";
}

/* gate against proxy, round by round: the ratio of the medians, the paired
 * ratio with its sign-test interval, and the verdict on >= BG_TARGET. */
static bench_paired_t compare(const double *gate, const double *proxy, int n)
{
    return bench_compare(gate, proxy, n, BENCH_HIGHER_BETTER, BG_TARGET);
}

/* Latency against the target: proxy latency / gate latency >= 0.95, i.e.
 * the gate at most 1/0.95 (5.3%) slower per request. */
static bench_paired_t compare_latency(const double *gate, const double *proxy,
                                      int n)
{
    return bench_compare(gate, proxy, n, BENCH_LOWER_BETTER, BG_TARGET);
}

/* ---- output -------------------------------------------------------------------- */

static void pooled(bg_t *b, int c, double *p50, double *p99)
{
    samples_t *s = &b->lat[c];
    bench_sort(s->us, s->n);
    *p50 = bench_percentile_sorted(s->us, s->n, 50);
    *p99 = bench_percentile_sorted(s->us, s->n, 99);
}

static void print_latency(bg_t *b, FILE *out);
static void print_legend(bg_t *b, FILE *out, double coverage);

/* Per request, from the median rates: what the gate adds to a direct
 * connection, and what the client-mode gate adds to the gate. */
static void added_us(bg_t *b, int row, double *gate, double *client)
{
    int n = b->o->rounds;
    double d = median(b->rate[C_DIRECT][row], n),
           g = median(b->rate[C_GATE][row], n),
           t = median(b->rate[C_TWO][row], n);
    *gate = d > 0 && g > 0 ? 1e6 / g - 1e6 / d : 0;
    *client = g > 0 && t > 0 ? 1e6 / t - 1e6 / g : 0;
}

/* The client-mode rows: two programs that do not speak CURVE, over two
 * gates, against a direct CURVE connection. */
static void print_two_gates(bg_t *b, FILE *out)
{
    int n = b->o->rounds;
    fprintf(out,
            "\nclient-mode gate: unchanged client -> client-mode gate -> gate "
            "-> service, against a\ndirect CURVE connection; the time each "
            "gate adds per request, from the medians\n");
    fprintf(out, "%-18s %9s %11s %9s %7s %11s %9s %12s %12s\n", "row",
            "two/direct", "gate/direct", "two/gate", "paired", "interval",
            "gate us", "client us", "client/gate");
    for (int row = 0; row < NROWS; row++) {
        if (!selected(b, row))
            continue;
        double d = median(b->rate[C_DIRECT][row], n);
        double g = median(b->rate[C_GATE][row], n);
        double t = median(b->rate[C_TWO][row], n);
        bench_paired_t v = compare(b->rate[C_TWO][row], b->rate[C_GATE][row], n);
        double gate, client;
        added_us(b, row, &gate, &client);
        char ci[32];
        snprintf(ci, sizeof ci, "%.2f-%.2f", v.lo, v.hi);
        fprintf(out, "%-18s %9.3f %11.3f %9.3f %7.3f %11s %9.2f %12.2f %12.3f\n",
                rows[row].name, d > 0 ? t / d : 0, d > 0 ? g / d : 0, v.ratio,
                v.paired, ci, gate, client, gate > 0 ? client / gate : 0);
    }
}

static void print_text(bg_t *b, FILE *out)
{
    int n = b->o->rounds;
    char x[32], y[32], z[32];
    fprintf(out, "\nthroughput, requests/s: median of the %d rounds [min-max]\n",
            n);
    fprintf(out, "%-18s %-26s %-26s %-26s %s\n", "row", "direct", "proxy",
            "gate", "two gates");
    for (int row = 0; row < NROWS; row++) {
        if (!selected(b, row))
            continue;
        fprintf(out, "%-18s", rows[row].name);
        for (int c = 0; c < NCONT; c++) {
            double lo = bench_min(b->rate[c][row], (size_t)n),
                   hi = bench_max(b->rate[c][row], (size_t)n);
            char s[128];
            snprintf(s, sizeof s, "%s [%s-%s]",
                     bench_grouped(median(b->rate[c][row], n), x, sizeof x),
                     bench_grouped(lo, y, sizeof y), bench_grouped(hi, z, sizeof z));
            fprintf(out, c + 1 < NCONT ? " %-26s" : " %s", s);
        }
        fputc('\n', out);
    }

    bench_paired_t v = {0};
    fprintf(out,
            "\nratios of the medians; gate/proxy also per round (paired), "
            "with an interval for its median\n");
    fprintf(out, "%-18s %12s %11s %10s %7s %11s  %s\n", "row", "proxy/direct",
            "gate/direct", "gate/proxy", "paired", "interval",
            "target gate/proxy >= 0.95");
    for (int row = 0; row < NROWS; row++) {
        if (!selected(b, row))
            continue;
        double d = median(b->rate[C_DIRECT][row], n);
        double p = median(b->rate[C_PROXY][row], n);
        double g = median(b->rate[C_GATE][row], n);
        v = compare(b->rate[C_GATE][row], b->rate[C_PROXY][row], n);
        char ci[32];
        snprintf(ci, sizeof ci, "%.2f-%.2f", v.lo, v.hi);
        fprintf(out, "%-18s %12.3f %11.3f %10.3f %7.3f %11s  %s\n",
                rows[row].name, d > 0 ? p / d : 0, d > 0 ? g / d : 0, v.ratio,
                v.paired, ci, verdict_word(v.verdict));
    }

    print_two_gates(b, out);

    fprintf(out,
            "\nCPU time of the forwarding thread (zmq_proxy's, zg_gate_run's; "
            "two gates: both) per request, ns:\nmedian of the rounds "
            "[min-max] (the I/O threads, which do CURVE, not included)\n");
    fprintf(out, "%-18s %-20s %-20s %-20s %-11s %s\n", "row", "proxy", "gate",
            "two gates", "gate/proxy", "client-mode gate's thread");
    for (int row = 0; row < NROWS; row++) {
        if (!selected(b, row))
            continue;
        fprintf(out, "%-18s", rows[row].name);
        for (int c = C_PROXY; c < NCONT; c++) {
            double lo = bench_min(b->cpu_ns[c][row], (size_t)n),
                   hi = bench_max(b->cpu_ns[c][row], (size_t)n);
            char s[64];
            snprintf(s, sizeof s, "%.0f [%.0f-%.0f]",
                     median(b->cpu_ns[c][row], n), lo, hi);
            fprintf(out, " %-20s", s);
        }
        double p = median(b->cpu_ns[C_PROXY][row], n);
        fprintf(out, " %-11.3f %.0f\n",
                p > 0 ? median(b->cpu_ns[C_GATE][row], n) / p : 0,
                median(b->edge_cpu_ns[row], n));
    }

    if (selected(b, ROW_SYNC))
        print_latency(b, out);
    print_legend(b, out, v.coverage);
}

static void print_latency(bg_t *b, FILE *out)
{
    int n = b->o->rounds;
    fprintf(out,
            "\nround-trip latency of the synchronous requests, us: pooled "
            "over every request of every round\n");
    fprintf(out, "%-10s %9s %9s %9s %14s %14s\n", "contestant", "requests",
            "p50", "p99", "p50 vs direct", "p99 vs direct");
    double p50[NCONT], p99[NCONT];
    for (int c = 0; c < NCONT; c++)
        pooled(b, c, &p50[c], &p99[c]);
    for (int c = 0; c < NCONT; c++) {
        fprintf(out, "%-10s %9zu %9.1f %9.1f", cont_name[c], b->lat[c].n,
                p50[c], p99[c]);
        if (c != C_DIRECT)
            fprintf(out, " %+14.1f %+14.1f", p50[c] - p50[C_DIRECT],
                    p99[c] - p99[C_DIRECT]);
        fputc('\n', out);
    }
    double added_gate = p50[C_GATE] - p50[C_DIRECT],
           added_client = p50[C_TWO] - p50[C_GATE];
    fprintf(out,
            "two gates: at p50 the client-mode gate adds %.1f us to the gate, "
            "which adds %.1f us\nto a direct connection: client/gate %.3f\n",
            added_client, added_gate,
            added_gate > 0 ? added_client / added_gate : 0);
    fprintf(out, "%-10s %9s %9s %9s %14s %7s %11s  %s\n", "", "", "", "",
            "proxy/gate", "paired", "interval", "target proxy/gate >= 0.95");
    const char *which[2] = {"p50", "p99"};
    for (int i = 0; i < 2; i++) {
        double(*per)[BG_MAX_ROUNDS] = i ? b->p99 : b->p50;
        double *pool = i ? p99 : p50;
        bench_paired_t v = compare_latency(per[C_GATE], per[C_PROXY], n);
        char ci[32];
        snprintf(ci, sizeof ci, "%.2f-%.2f", v.lo, v.hi);
        fprintf(out, "%-10s %9s %9s %9s %14.3f %7.3f %11s  %s\n", which[i], "",
                "", "", pool[C_GATE] > 0 ? pool[C_PROXY] / pool[C_GATE] : 0,
                v.paired, ci, verdict_word(v.verdict));
    }
}

static void print_legend(bg_t *b, FILE *out, double coverage)
{
    int n = b->o->rounds;
    fprintf(out,
            "\nratio     a median over another; latency as proxy/gate, so that "
            ">= 0.95 means\n          the gate takes at most 1/0.95 = 1.053 "
            "times the proxy's time\n"
            "paired    median of the per-round ratios (each round ran both a "
            "moment apart)\n"
            "interval  %.0f%% distribution-free (sign test) interval of that "
            "median%s\n"
            "target    meets: the whole interval is >= 0.95; below: all of it "
            "is under;\n          unclear: the noise is wider than the margin "
            "(more --rounds narrow it)\n"
            "gate us   what the gate adds to a direct connection per request; "
            "client us:\n          what the client-mode gate adds to the "
            "gate; client/gate <= 1: it costs\n          no more\n"
            "gates     backend found mute %llu times over the run; %llu "
            "replies forwarded, none dropped\n",
            coverage * 100,
            n < 6 ? " (few rounds: a smoke signal, not a result)" : "",
            (unsigned long long)b->gate_mute,
            (unsigned long long)b->gate_forwarded);
}

static void json_array(FILE *out, const double *v, int n, int decimals)
{
    fputc('[', out);
    for (int i = 0; i < n; i++)
        fprintf(out, "%s%.*f", i ? ", " : "", decimals, v[i]);
    fputc(']', out);
}

static void json_versus(FILE *out, const char *name, bench_paired_t v)
{
    fprintf(out,
            "\"%s\": {\"ratio\": %.4f, \"paired\": %.4f, \"interval\": "
            "[%.4f, %.4f], \"coverage\": %.3f, \"target\": \"%s\"}",
            name, v.ratio, v.paired, v.lo, v.hi, v.coverage,
            verdict_word(v.verdict));
}

static void json_latency(bg_t *b, FILE *out);

static void print_json(bg_t *b, FILE *out)
{
    int n = b->o->rounds, maj, min, pat;
    zmq_version(&maj, &min, &pat);
    fprintf(out, "{\n  \"benchmark\": \"zguard-bench-gate\",\n  \"zguard\": ");
    cli_json_string(out, zg_version_string());
    fprintf(out, ",\n  \"libzmq\": \"%d.%d.%d\",\n", maj, min, pat);
    fprintf(out,
            "  \"pattern\": \"reqrep\",\n  \"size\": %zu,\n  \"rounds\": %d,\n"
            "  \"seconds_per_row\": %.3f,\n  \"target_gate_over_proxy\": "
            "%.2f,\n",
            b->o->size, n, b->o->seconds, BG_TARGET);
    fprintf(out, "  \"gate_options\": {\"frontend\": ");
    cli_json_string(out, b->front_opts);
    fprintf(out, ", \"backend\": ");
    cli_json_string(out, b->back_opts);
    fprintf(out, "},\n  \"proxy_zap\": false,\n  \"throughput\": [");
    bool first = true;
    for (int row = 0; row < NROWS; row++) {
        if (!selected(b, row))
            continue;
        fprintf(out, "%s\n    {\"row\": \"%s\", \"in_flight\": %d",
                first ? "" : ",", rows[row].id, rows[row].window);
        first = false;
        for (int c = 0; c < NCONT; c++) {
            double lo = bench_min(b->rate[c][row], (size_t)n),
                   hi = bench_max(b->rate[c][row], (size_t)n);
            fprintf(out,
                    ",\n     \"%s\": {\"median_req_per_s\": %.0f, \"min\": "
                    "%.0f, \"max\": %.0f, \"rounds\": ",
                    cont_name[c], median(b->rate[c][row], n), lo, hi);
            json_array(out, b->rate[c][row], n, 0);
            fputc('}', out);
        }
        for (int c = C_PROXY; c < NCONT; c++) {
            fprintf(out, ",\n     \"%s_thread_cpu_ns_per_req\": {\"median\": "
                         "%.0f, \"rounds\": ",
                    cont_name[c], median(b->cpu_ns[c][row], n));
            json_array(out, b->cpu_ns[c][row], n, 0);
            fputc('}', out);
        }
        double d = median(b->rate[C_DIRECT][row], n);
        double p = median(b->rate[C_PROXY][row], n);
        double g = median(b->rate[C_GATE][row], n);
        fprintf(out,
                ",\n     \"proxy_over_direct\": %.4f, \"gate_over_direct\": "
                "%.4f,\n     ",
                d > 0 ? p / d : 0, d > 0 ? g / d : 0);
        json_versus(out, "gate_over_proxy",
                    compare(b->rate[C_GATE][row], b->rate[C_PROXY][row], n));
        double t = median(b->rate[C_TWO][row], n), gate_us, client_us;
        added_us(b, row, &gate_us, &client_us);
        fprintf(out,
                ",\n     \"two_gates_over_direct\": %.4f, "
                "\"two_gates_over_gate\": %.4f,\n     \"added_us_per_request\": "
                "{\"gate\": %.3f, \"client_mode_gate\": %.3f},\n     "
                "\"client_mode_gate_thread_cpu_ns_per_req\": %.0f",
                d > 0 ? t / d : 0, g > 0 ? t / g : 0, gate_us, client_us,
                median(b->edge_cpu_ns[row], n));
        fputc('}', out);
    }
    fprintf(out, "\n  ],\n");
    if (selected(b, ROW_SYNC))
        json_latency(b, out);
    fprintf(out,
            "  \"gate_counters\": {\"backend_mute\": %llu, "
            "\"forwarded_replies\": %llu, \"dropped\": 0}\n}\n",
            (unsigned long long)b->gate_mute,
            (unsigned long long)b->gate_forwarded);
}

static void json_latency(bg_t *b, FILE *out)
{
    int n = b->o->rounds;
    fprintf(out, "  \"latency_us\": {\n    \"pooled\": \"every "
                 "synchronous request of every round\"");
    for (int c = 0; c < NCONT; c++) {
        double p50, p99;
        pooled(b, c, &p50, &p99);
        fprintf(out,
                ",\n    \"%s\": {\"requests\": %zu, \"p50\": %.2f, \"p99\": "
                "%.2f,\n      \"rounds_p50\": ",
                cont_name[c], b->lat[c].n, p50, p99);
        json_array(out, b->p50[c], n, 2);
        fprintf(out, ", \"rounds_p99\": ");
        json_array(out, b->p99[c], n, 2);
        fputc('}', out);
    }
    double p50[NCONT], p99[NCONT];
    for (int c = 0; c < NCONT; c++)
        pooled(b, c, &p50[c], &p99[c]);
    fprintf(out,
            ",\n    \"p50_added_us\": {\"gate\": %.2f, \"client_mode_gate\": "
            "%.2f}",
            p50[C_GATE] - p50[C_DIRECT], p50[C_TWO] - p50[C_GATE]);
    fprintf(out, ",\n    ");
    json_versus(out, "p50_proxy_over_gate",
                compare_latency(b->p50[C_GATE], b->p50[C_PROXY], n));
    fprintf(out, ",\n    ");
    json_versus(out, "p99_proxy_over_gate",
                compare_latency(b->p99[C_GATE], b->p99[C_PROXY], n));
    fprintf(out, "\n  },\n");
}

/* "  label a b c ..." folded at 78 columns. */
static void print_wrapped(FILE *out, const char *label, const char *text)
{
    int col = fprintf(out, "  %s", label);
    const char *p = text;
    while (*p) {
        size_t len = strcspn(p, " ");
        if (col + 1 + (int)len > 78)
            col = fprintf(out, "\n%*s", 9, "") - 1;
        col += fprintf(out, " %.*s", (int)len, p);
        p += len;
        while (*p == ' ')
            p++;
    }
    fputc('\n', out);
}

static void print_header(bg_t *b, FILE *out)
{
    int maj, min, pat;
    zmq_version(&maj, &min, &pat);
    fprintf(out,
            "zguard bench gate: zguard %s, libzmq %d.%d.%d; request/reply echo of "
            "%zu B, %d interleaved rounds, %.2f s per row and contestant\n",
            zg_version_string(), maj, min, pat, b->o->size, b->o->rounds,
            b->o->seconds);
    fprintf(out,
            "  direct   client -> service, whose ROUTER is the CURVE server "
            "(the same key pair, no ZAP)\n"
            "  proxy    client -> zmq_proxy_steerable: CURVE ROUTER frontend "
            "(the same key pair,\n"
            "           NO ZAP handler: any client key gets in), the gate's "
            "HWMs, libzmq defaults\n"
            "           otherwise -> DEALER -> ipc -> plaintext service\n"
            "  gate     client -> zg_gate_run, the policy of `zguard gate "
            "--pattern reqrep`: CURVE\n"
            "           key from key files, ZAP allowlist of the client's "
            "key, metrics on\n"
            "           http://127.0.0.1:<free port>/metrics, socket "
            "monitors -> ipc -> plaintext service\n");
    print_wrapped(out, "frontend", b->front_opts);
    print_wrapped(out, "backend ", b->back_opts);
    fprintf(out,
            "  client   raw libzmq CURVE DEALER, tcp://127.0.0.1, its own "
            "context; service: raw libzmq\n"
            "           ROUTER echoing every frame, its own context and "
            "thread; every socket's HWMs\n"
            "           are %d (--hwm)\n",
            b->o->hwm);
    fflush(out);
}

/* ---- the entry point ---------------------------------------------------------- */

int bench_gate(const bench_gate_opts_t *opts, FILE *out)
{
    bg_t *b = calloc(1, sizeof *b);
    if (!b) {
        fprintf(stderr, "bench_gate: out of memory\n");
        return BG_EXIT_FAILED;
    }
    b->o = opts;
    size_t cap = opts->size + 1;
    b->req = malloc(cap);
    b->rep = malloc(cap);
    b->client_ctx = zmq_ctx_new();
    int rc = 0;
    if (!b->req || !b->rep || !b->client_ctx)
        rc = fail(b, "out of memory");
    if (rc == 0) {
        memset(b->req, BG_MARK, cap);
        rc = prepare_keys(b);
    }
    if (rc == 0) {
        /* the gate's socket options, as its policy has them */
        char backend[192];
        snprintf(backend, sizeof backend, "ipc://%s/x.sock", b->dir);
        zg_policy_t *p = gate_policy(b, backend);
        rc = !p ||
                     describe_socket(b, p, ZMQ_ROUTER, "frontend", b->front_opts,
                                     sizeof b->front_opts, &b->mid_hwm[0]) ||
                     describe_socket(b, p, ZMQ_DEALER, "backend", b->back_opts,
                                     sizeof b->back_opts, &b->mid_hwm[2])
                 ? -1
                 : 0;
        zg_policy_destroy(&p);
    }
    if (rc == 0 && !opts->json)
        print_header(b, out);
    for (int r = 0; rc == 0 && r < opts->rounds; r++)
        rc = run_round(b, r);
    if (rc == 0) {
        if (opts->json)
            print_json(b, out);
        else
            print_text(b, out);
    } else {
        fprintf(stderr, "bench_gate: %s\n", b->err);
    }
    if (b->client_ctx)
        zmq_ctx_term(b->client_ctx);
    bench_remove_tree(b->dir);
    for (int c = 0; c < NCONT; c++)
        free(b->lat[c].us);
    free(b->round_lat.us);
    free(b->req);
    free(b->rep);
    free(b);
    return rc == 0 ? 0 : BG_EXIT_FAILED;
}

/* ---- main ------------------------------------------------------------------------ */

static void usage(FILE *out)
{
    fputs("usage: zguard bench gate [--rounds N] [--seconds S] [--size BYTES] "
          "[--hwm N]\n"
          "                         [--only TEXT] [--quick] [--json] [--verbose]\n"
          "\n"
          "Request/reply throughput (1, 100 and 1000 in flight) and latency "
          "through\n`zguard gate`, next to a bare zmq_proxy hop and to no "
          "hop at all.\n"
          "\n"
          "  --rounds N    interleaved rounds (default 7, at most 31)\n"
          "  --seconds S   timed part of each row of each contestant "
          "(default 0.5)\n"
          "  --size BYTES  request and reply payload (default 64, at most 256 KiB)\n"
          "  --hwm N       SNDHWM and RCVHWM of every socket (default 10000; "
          "at 1000,\n"
          "                1000 in flight make a ROUTER drop replies now and "
          "then)\n"
          "  --quick       3 short rounds (0.1 s per row), a smoke run of a "
          "few seconds\n"
          "  --only TEXT   only the rows whose name contains TEXT: sync, "
          "pipelined_100,\n"
          "                pipelined_1000, pipelined\n"
          "  --json        the results as JSON on stdout\n"
          "  --verbose     every round's figures on stderr\n"
          "\n"
          "Exit status: 0 after a complete run, 2 on a usage error or when "
          "anything\nfailed.\n",
          out);
}

static bool parse_number(const char *text, double lo, double hi, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(text, &end);
    if (errno || *end || end == text || v < lo || v > hi)
        return false;
    *out = v;
    return true;
}

/* The value of option p->opt, a number from lo to hi (whole: an integer),
 * in out; false after a usage error. */
static bool number_option(const cli_opts_t *p, double lo, double hi,
                          bool whole, double *out)
{
    if (parse_number(p->value, lo, hi, out) && (!whole || *out == (long)*out))
        return true;
    cli_usage_error(p->cmd, "--%s: '%s' is not a number from %g to %g",
                    p->opt->name, p->value, lo, hi);
    return false;
}

/* Option c of the table below, into o: 0 or BG_EXIT_USAGE. */
static int take_option(const cli_opts_t *p, int c, bench_gate_opts_t *o,
                       bool *quick)
{
    double x = 0;
    switch (c) {
    case 'q': *quick = true; return 0;
    case 'j': o->json = true; return 0;
    case 'v': o->verbose = true; return 0;
    case 'o': o->only = p->value; return 0;
    case 'r':
        if (!number_option(p, 1, BG_MAX_ROUNDS, true, &x))
            return BG_EXIT_USAGE;
        o->rounds = (int)x;
        return 0;
    case 's':
        if (!number_option(p, 0.01, 60, false, &x))
            return BG_EXIT_USAGE;
        o->seconds = x;
        return 0;
    case 'w':
        if (!number_option(p, 1, 1000000, true, &x))
            return BG_EXIT_USAGE;
        o->hwm = (int)x;
        return 0;
    case 'z':
        if (!number_option(p, 1, 256 << 10, true, &x))
            return BG_EXIT_USAGE;
        o->size = (size_t)x;
        return 0;
    default: return BG_EXIT_USAGE;
    }
}

/* `zguard-bench gate ARGS...`, `zguard bench gate`. */
int bench_gate_main(int argc, char **argv)
{
    static const cli_opt_t opts[] = {
        {"rounds", 0, "N", 'r'},  {"seconds", 0, "S", 's'},
        {"size", 0, "BYTES", 'z'}, {"hwm", 0, "N", 'w'},
        {"only", 0, "TEXT", 'o'}, {"quick", 0, NULL, 'q'},
        {"json", 0, NULL, 'j'},   {"verbose", 'v', NULL, 'v'},
        {NULL, 0, NULL, 0}};
    bench_gate_opts_t o = {.rounds = 0, .seconds = 0, .size = 64,
                           .hwm = BG_HWM};
    bool quick = false;
    if (cli_wants_help(argc, argv)) {
        usage(stdout);
        return 0;
    }
    char cmd[64];
    snprintf(cmd, sizeof cmd, "%s gate", bench_prog());
    cli_opts_t p = {.cmd = cmd, .table = opts, .argc = argc, .argv = argv};
    for (int c; (c = cli_opt_next(&p)) != CLI_OPT_END;)
        if (take_option(&p, c, &o, &quick) != 0)
            return BG_EXIT_USAGE;
    if (p.nargs) {
        cli_usage_error(cmd, "unexpected argument '%s'", cli_opt_args(&p)[0]);
        return BG_EXIT_USAGE;
    }
    int nsel = 0;
    for (int row = 0; row < NROWS; row++)
        nsel += !o.only || strstr(rows[row].id, o.only) != NULL;
    if (!nsel) {
        fprintf(stderr, "bench_gate: no row matches '%s'\n", o.only);
        return BG_EXIT_USAGE;
    }
    if (!o.rounds)
        o.rounds = quick ? 3 : 7;
    if (o.seconds <= 0)
        o.seconds = quick ? 0.1 : 0.5;
    return bench_gate(&o, stdout);
}
