/*
 * bench_scen_handshake.c - CURVE handshakes per second that a server takes,
 * with no authenticator, with zguard's, and with CZMQ's zauth, at 1, 1,000
 * and 10,000 authorized keys.
 *
 * A handshake here is what a short-lived client costs a server: connect,
 * CURVE handshake (and a ZAP request, when there is a handler), one round
 * trip, close. Four client threads do that in a loop against a ROUTER that
 * echoes; the round's rate is completed round trips / seconds. The echo
 * loop is the same raw libzmq code for every server, so only the
 * authenticator differs:
 *
 *   no ZAP        CURVE with no authenticator (the ceiling, and no client
 *                 authentication at all)
 *   zguard N      zg_socket from a policy: [auth] allow = a directory of N
 *                 public certificates, the client's among them
 *   zauth N       zactor_new(zauth) + "CURVE" on the same directory, a
 *                 zsock ROUTER with zsock_set_curve_server
 *   zguard 1000 + limits
 *                 zguard 1000 with every per-address limit on (handshake
 *                 rate, lockout, max_peers_per_ip), set high enough that
 *                 nothing is refused: what checking them costs
 *
 * Every server has its own context, made and torn down each round
 * (untimed, the allowlist loaded before the clock starts); the clients
 * share one context of their own, as they would be another process. All
 * use the same server key pair. A round trip that fails (refused, timed
 * out) counts as failed, never as done.
 */
#include "bench.h"

#include <errno.h>
#include <pthread.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define HS_CLIENTS 4
#define HS_SIZES 3

static const int hs_keys[HS_SIZES] = {1, 1000, 10000};

typedef enum hs_kind {
    HS_NO_ZAP,
    HS_ZGUARD,
    HS_ZAUTH,
    HS_ZGUARD_LIMITS
} hs_kind_t;

#define HS_LIMITS_SIZE 1 /* index into hs_keys: 1,000 keys */

typedef struct hs_setup {
    const bench_env_t *env;
    char dir[HS_SIZES][160]; /* allowlists of hs_keys[i] keys */
    void *client_ctx;
    double seconds;
} hs_setup_t;

typedef struct hs_server {
    void *sock;
    char endpoint[128];
    atomic_bool stop;
    pthread_t thread;
} hs_server_t;

/* ---- allowlists ---------------------------------------------------------- */

static void write_public(const char *path, const char *name, const uint8_t *pk)
{
    char z85[41];
    zmq_z85_encode(z85, pk, 32);
    FILE *f = fopen(path, "w");
    if (!f)
        bench_die("%s: %s", path, strerror(errno));
    fprintf(f,
            "#   public certificate\n\nmetadata\n    name = \"%s\"\n"
            "curve\n    public-key = \"%s\"\n",
            name, z85);
    if (fclose(f) != 0)
        bench_die("%s: %s", path, strerror(errno));
}

/* A directory of `keys` certificates: the client's and keys - 1 others. */
static void make_allowlist(hs_setup_t *s, int i)
{
    snprintf(s->dir[i], sizeof s->dir[i], "%s/allow-%d", s->env->dir,
             hs_keys[i]);
    if (mkdir(s->dir[i], 0700) != 0)
        bench_die("mkdir %s: %s", s->dir[i], strerror(errno));
    char path[256];
    snprintf(path, sizeof path, "%s/client.key", s->dir[i]);
    write_public(path, "client", s->env->client_pk);
    for (int k = 1; k < hs_keys[i]; k++) {
        uint8_t pk[32], sk[32];
        crypto_box_keypair(pk, sk);
        snprintf(path, sizeof path, "%s/other-%05d.key", s->dir[i], k);
        write_public(path, "other", pk);
    }
}

/* ---- the server ---------------------------------------------------------- */

static void *echo(void *arg)
{
    hs_server_t *sv = arg;
    zmq_msg_t m;
    zmq_msg_init(&m);
    while (!atomic_load(&sv->stop))
        if (zmq_msg_recv(&m, sv->sock, 0) >= 0)
            zmq_msg_send(&m, sv->sock, zmq_msg_more(&m) ? ZMQ_SNDMORE : 0);
    zmq_msg_close(&m);
    return NULL;
}

static void serve(hs_server_t *sv, void *sock)
{
    int timeout = 100; /* the echo loop looks at `stop` this often */
    zmq_setsockopt(sock, ZMQ_RCVTIMEO, &timeout, sizeof timeout);
    sv->sock = sock;
    size_t len = sizeof sv->endpoint;
    zmq_getsockopt(sock, ZMQ_LAST_ENDPOINT, sv->endpoint, &len);
    atomic_store(&sv->stop, false);
    if (pthread_create(&sv->thread, NULL, echo, sv) != 0)
        bench_die("cannot start the echo thread");
}

static void unserve(hs_server_t *sv)
{
    atomic_store(&sv->stop, true);
    pthread_join(sv->thread, NULL);
}

/* ---- the clients --------------------------------------------------------- */

typedef struct hs_client {
    const hs_setup_t *s;
    const char *endpoint;
    double deadline;
    unsigned long done, failed;
} hs_client_t;

static bool one_handshake(const hs_client_t *c)
{
    const bench_env_t *e = c->s->env;
    void *sock = zmq_socket(c->s->client_ctx, ZMQ_DEALER);
    if (!sock)
        return false;
    int zero = 0, timeout = 2000;
    zmq_setsockopt(sock, ZMQ_LINGER, &zero, sizeof zero);
    zmq_setsockopt(sock, ZMQ_RCVTIMEO, &timeout, sizeof timeout);
    zmq_setsockopt(sock, ZMQ_CURVE_SERVERKEY, e->server_pk, 32);
    zmq_setsockopt(sock, ZMQ_CURVE_PUBLICKEY, e->client_pk, 32);
    zmq_setsockopt(sock, ZMQ_CURVE_SECRETKEY, e->client_sk, 32);
    char buf[8];
    bool ok = zmq_connect(sock, c->endpoint) == 0 &&
              zmq_send(sock, "x", 1, 0) == 1 &&
              zmq_recv(sock, buf, sizeof buf, 0) == 1;
    zmq_close(sock);
    return ok;
}

static void *client_main(void *arg)
{
    hs_client_t *c = arg;
    while (cli_now() < c->deadline) {
        if (one_handshake(c))
            c->done++;
        else
            c->failed++;
    }
    return NULL;
}

static double drive(const hs_setup_t *s, const char *endpoint,
                    unsigned long *failed)
{
    pthread_t t[HS_CLIENTS];
    hs_client_t c[HS_CLIENTS];
    double t0 = cli_now();
    for (int i = 0; i < HS_CLIENTS; i++) {
        c[i] = (hs_client_t){s, endpoint, t0 + s->seconds, 0, 0};
        if (pthread_create(&t[i], NULL, client_main, &c[i]) != 0)
            bench_die("cannot start a client thread");
    }
    unsigned long done = 0;
    for (int i = 0; i < HS_CLIENTS; i++) {
        pthread_join(t[i], NULL);
        done += c[i].done;
        *failed += c[i].failed;
    }
    return (double)done / (cli_now() - t0);
}

/* ---- one round of one contestant ----------------------------------------- */

static double round_no_zap(const hs_setup_t *s, unsigned long *failed)
{
    void *ctx = zmq_ctx_new(), *sock = ctx ? zmq_socket(ctx, ZMQ_ROUTER) : NULL;
    int on = 1, zero = 0;
    if (!sock || zmq_setsockopt(sock, ZMQ_CURVE_SERVER, &on, sizeof on) ||
        zmq_setsockopt(sock, ZMQ_CURVE_SECRETKEY, s->env->server_sk, 32) ||
        zmq_setsockopt(sock, ZMQ_LINGER, &zero, sizeof zero) ||
        zmq_bind(sock, "tcp://127.0.0.1:*") != 0)
        bench_die("no-ZAP server: %s", zmq_strerror(errno));
    hs_server_t sv;
    serve(&sv, sock);
    double rate = drive(s, sv.endpoint, failed);
    unserve(&sv);
    zmq_close(sock);
    zmq_ctx_term(ctx);
    return rate;
}

/* limits: every per-address limit on, too high to refuse anything */
static double round_zguard(const hs_setup_t *s, int size, bool limits,
                           unsigned long *failed)
{
    char text[1024];
    snprintf(text, sizeof text,
             "version = 1\n[auth]\nallow = %s\n%s[defaults]\nlinger = 0\n"
             "[socket.server]\ntype = router\ncurve_keys = %s/server.key\n"
             "sndhwm = 10000\nrcvhwm = 10000\n%srationale = benchmark: many "
             "short-lived clients\n",
             s->dir[size],
             limits ? "handshake_rate_per_ip = 1000000\n"
                      "handshake_burst_per_ip = 1000000\n"
                      "auth_failures_per_ip = 1000\nlockout = 1m\n"
                    : "",
             s->env->dir, limits ? "max_peers_per_ip = 1000\n" : "");
    zg_policy_t *p = zg_policy_parse(text, strlen(text), "(handshake)", NULL);
    zg_ctx_t *ctx = p ? zg_ctx_new(p) : NULL;
    zg_policy_destroy(&p);
    void *sock = ctx ? zg_socket(ctx, ZMQ_ROUTER, "server") : NULL;
    if (!sock || zg_bind(sock, "tcp://127.0.0.1:*") != 0)
        bench_die("zguard server: %s", zg_last_error());
    hs_server_t sv;
    serve(&sv, sock);
    double rate = drive(s, sv.endpoint, failed);
    unserve(&sv);
    zg_close(&sock);
    zg_ctx_destroy(&ctx);
    return rate;
}

static double round_zauth(const hs_setup_t *s, int size, unsigned long *failed)
{
    zactor_t *auth = zactor_new(zauth, NULL);
    if (!auth)
        bench_die("zactor_new(zauth) failed");
    zstr_sendx(auth, "CURVE", s->dir[size], NULL);
    zsock_wait(auth); /* the certificates are loaded */
    zsock_t *sock = zsock_new(ZMQ_ROUTER);
    if (!sock)
        bench_die("zsock_new failed");
    zsock_set_linger(sock, 0);
    zsock_set_curve_server(sock, 1);
    zsock_set_curve_secretkey_bin(sock, s->env->server_sk);
    if (zsock_bind(sock, "tcp://127.0.0.1:*") < 0)
        bench_die("zauth server: %s", zmq_strerror(errno));
    hs_server_t sv;
    serve(&sv, zsock_resolve(sock));
    double rate = drive(s, sv.endpoint, failed);
    unserve(&sv);
    zsock_destroy(&sock);
    zactor_destroy(&auth);
    return rate;
}

/* ---- the scenario -------------------------------------------------------- */

typedef struct hs_contestant {
    hs_kind_t kind;
    int size; /* index into hs_keys */
} hs_contestant_t;

static double hs_round(const hs_setup_t *s, hs_contestant_t c,
                       unsigned long *failed)
{
    switch (c.kind) {
    case HS_ZGUARD: return round_zguard(s, c.size, false, failed);
    case HS_ZGUARD_LIMITS: return round_zguard(s, c.size, true, failed);
    case HS_ZAUTH: return round_zauth(s, c.size, failed);
    default: return round_no_zap(s, failed);
    }
}

/* Rows: no ZAP, zguard at each size, zauth at each size. */
static int hs_rows(bench_table_t *t, hs_contestant_t *cs)
{
    int n = 0;
    bench_table_row(t, "no-zap", "no ZAP", "CURVE server, no authenticator");
    cs[n++] = (hs_contestant_t){HS_NO_ZAP, 0};
    for (int k = 0; k < 2; k++)
        for (int i = 0; i < HS_SIZES; i++) {
            char id[24], name[32], detail[96];
            const char *who = k ? "zauth" : "zguard";
            snprintf(id, sizeof id, "%s-%d", who, hs_keys[i]);
            snprintf(name, sizeof name, "%s %d", who, hs_keys[i]);
            snprintf(detail, sizeof detail,
                     k ? "CZMQ zauth actor, CURVE, %d certificates"
                       : "zguard's authenticator, [auth] allow, %d "
                         "certificates",
                     hs_keys[i]);
            bench_table_row(t, id, name, detail);
            cs[n++] = (hs_contestant_t){k ? HS_ZAUTH : HS_ZGUARD, i};
        }
    bench_table_row(t, "zguard-1000-limits", "zguard 1000 + limits",
                    "zguard 1000 with handshake rate, lockout and "
                    "max_peers_per_ip on (nothing refused)");
    cs[n++] = (hs_contestant_t){HS_ZGUARD_LIMITS, HS_LIMITS_SIZE};
    return n;
}

static void hs_cmps(bench_table_t *t)
{
    int zg = 1, za = 1 + HS_SIZES, big = HS_SIZES - 1;
    for (int i = 0; i < HS_SIZES; i++) /* the target is at 10,000 keys */
        bench_table_cmp(t, zg + i, 0, i == big ? 0.9 : 0);
    for (int i = 0; i < HS_SIZES; i++)
        bench_table_cmp(t, zg + i, za + i, 1.0);
    bench_table_cmp(t, za + big, 0, 0);
    /* the limits cost at most a tenth of the handshake rate */
    bench_table_cmp(t, za + HS_SIZES, zg + HS_LIMITS_SIZE, 0.9);
}

static void hs_table(bench_table_t *t, const bench_cfg_t *cfg)
{
    snprintf(t->title, sizeof t->title,
             "CURVE handshakes/s: connect + handshake + ZAP + 1 round trip "
             "+ close, %d client threads",
             HS_CLIENTS);
    t->rounds = cfg->rounds;
    t->better = BENCH_HIGHER_BETTER;
    t->better_word = "faster";
    t->worse_word = "slower";
    t->show_failed = true;
    t->nmetrics = 1;
    t->metric[0] = (bench_metric_t){"handshakes_per_s", "handshakes/s", -1,
                                    BENCH_AGG_MEDIAN};
}

void bench_scen_handshake(const bench_cfg_t *cfg, const bench_scenario_t *sc,
                          bench_table_t *t)
{
    (void)sc;
    hs_setup_t s = {.env = cfg->env, .seconds = cfg->quick ? 0.2 : 0.5};
    for (int i = 0; i < HS_SIZES; i++)
        make_allowlist(&s, i);
    if (!(s.client_ctx = zmq_ctx_new()))
        bench_die("zmq_ctx_new: %s", zmq_strerror(errno));
    hs_table(t, cfg);
    hs_contestant_t cs[BENCH_MAX_ROWS];
    int n = hs_rows(t, cs);
    hs_cmps(t);
    for (int r = 0; r < t->rounds; r++)
        for (int i = 0; i < n; i++) {
            int k = bench_order(r, n, i);
            t->row[k].v[0][r] = hs_round(&s, cs[k], &t->row[k].failed);
            if (cfg->verbose)
                fprintf(stderr, "  handshake round %d %-14s %8.0f/s\n", r + 1,
                        t->row[k].name, t->row[k].v[0][r]);
        }
    snprintf(t->note, sizeof t->note,
             "%.1f s per contestant and round, rounds: %d; the same server "
             "key pair for all",
             s.seconds, t->rounds);
    t->per_round = s.seconds;
    t->per_round_of = "seconds";
    snprintf(t->options, sizeof t->options,
             "servers: LINGER 0, RCVTIMEO 100ms (the echo loop); clients: "
             "DEALER, LINGER 0, RCVTIMEO 2s");
    zmq_ctx_term(s.client_ctx);
}
