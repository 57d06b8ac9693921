/*
 * bench_handshake.c - CURVE handshakes per second, with and without an
 * authenticator, side by side in one run.
 *
 * A handshake here is what a short-lived client costs a server: connect,
 * CURVE handshake (and ZAP, when there is a handler), one round trip, close.
 * Several client threads do that in a loop against a ROUTER that echoes.
 * Contestants, interleaved round by round (A B C ... A B C ...):
 *
 *   no ZAP          the ceiling: CURVE with no authenticator at all (which
 *                   also means no client authentication)
 *   zguard 1        zguard's authenticator, allowlist of 1 key
 *   zguard 10000    the same with 10,000 more keys in the directory
 *   zauth 1/10000   CZMQ's zauth actor on the same directories (built when
 *                   libczmq is found)
 *
 * Reported: median handshakes/s over the rounds, the ratio to no ZAP, and
 * zguard against zauth at the same size.
 *
 * usage: bench_handshake [--rounds N] [--seconds S] [--clients N]
 *                        [--keys N] [--quick]
 */
#include <errno.h>
#include <pthread.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zguard.h>
#ifdef ZG_BENCH_CZMQ
#include <czmq.h>
#endif

#define MAX_ROUNDS 31
#define MAX_CLIENTS 16

typedef enum kind { NO_ZAP, ZGUARD, ZAUTH } kind_t;

typedef struct contestant {
    const char *name;
    kind_t kind;
    int big; /* the 10,000-key directory */
    double rate[MAX_ROUNDS];
    unsigned long failed;
} contestant_t;

typedef struct setup {
    char dir[64];
    char small[128], big[128]; /* allowlist directories */
    uint8_t server_pk[32], server_sk[32], client_pk[32], client_sk[32];
    uint8_t zguard_pk[32]; /* zguard's server reads its pair from a file */
    void *client_ctx;
    int clients, keys;
    double seconds;
} setup_t;

typedef struct server {
    void *sock;
    char endpoint[128];
    atomic_bool stop;
    pthread_t thread;
} server_t;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what)
{
    fprintf(stderr, "bench_handshake: %s: %s\n", what,
            errno ? strerror(errno) : zg_last_error());
    exit(2);
}

/* ---- key material ---------------------------------------------------------- */

static void write_public(const char *path, const char *name, const uint8_t *pk)
{
    char z85[41];
    zmq_z85_encode(z85, pk, 32);
    FILE *f = fopen(path, "w");
    if (!f)
        die(path);
    fprintf(f, "#   public certificate\n\nmetadata\n    name = \"%s\"\n"
               "curve\n    public-key = \"%s\"\n",
            name, z85);
    fclose(f);
}

static void make_dir(setup_t *s, char *out, size_t cap, const char *name,
                     int extra)
{
    snprintf(out, cap, "%s/%s", s->dir, name);
    if (mkdir(out, 0755) != 0)
        die(out);
    char path[256];
    snprintf(path, sizeof path, "%s/client.key", out);
    write_public(path, "client", s->client_pk);
    for (int i = 0; i < extra; i++) {
        uint8_t pk[32], sk[32];
        crypto_box_keypair(pk, sk);
        snprintf(path, sizeof path, "%s/other-%05d.key", out, i);
        write_public(path, "other", pk);
    }
}

static void prepare(setup_t *s)
{
    snprintf(s->dir, sizeof s->dir, "/tmp/zguard-bench-XXXXXX");
    if (!mkdtemp(s->dir))
        die("mkdtemp");
    crypto_box_keypair(s->server_pk, s->server_sk);
    crypto_box_keypair(s->client_pk, s->client_sk);
    make_dir(s, s->small, sizeof s->small, "one", 0);
    make_dir(s, s->big, sizeof s->big, "many", s->keys);
    /* the server's pair, for zguard's policy (plaintext secret, 0600) */
    zg_cert_t *c = zg_cert_new();
    char path[256];
    snprintf(path, sizeof path, "%s/server.key", s->dir);
    if (!c || zg_cert_save_pair(c, path, NULL, ZG_KDF_INTERACTIVE) != 0)
        die("server key");
    memcpy(s->zguard_pk, zg_cert_public_key(c), 32);
    zg_cert_destroy(&c);
    s->client_ctx = zmq_ctx_new();
}

/* ---- the server ------------------------------------------------------------ */

static void *echo(void *arg)
{
    server_t *sv = arg;
    zmq_msg_t m;
    zmq_msg_init(&m);
    while (!atomic_load(&sv->stop))
        if (zmq_msg_recv(&m, sv->sock, 0) >= 0)
            zmq_msg_send(&m, sv->sock, zmq_msg_more(&m) ? ZMQ_SNDMORE : 0);
    zmq_msg_close(&m);
    return NULL;
}

static void serve(server_t *sv, void *sock)
{
    int timeout = 100;
    zmq_setsockopt(sock, ZMQ_RCVTIMEO, &timeout, sizeof timeout);
    sv->sock = sock;
    size_t len = sizeof sv->endpoint;
    zmq_getsockopt(sock, ZMQ_LAST_ENDPOINT, sv->endpoint, &len);
    atomic_store(&sv->stop, false);
    pthread_create(&sv->thread, NULL, echo, sv);
}

static void unserve(server_t *sv)
{
    atomic_store(&sv->stop, true);
    pthread_join(sv->thread, NULL);
}

static void curve_server(void *sock, const setup_t *s)
{
    int on = 1;
    zmq_setsockopt(sock, ZMQ_CURVE_SERVER, &on, sizeof on);
    zmq_setsockopt(sock, ZMQ_CURVE_SECRETKEY, s->server_sk, 32);
}

/* ---- the clients ----------------------------------------------------------- */

typedef struct client_run {
    const setup_t *s;
    const uint8_t *server_pk;
    const char *endpoint;
    double deadline;
    unsigned long done, failed;
} client_run_t;

static void *client_loop(void *arg)
{
    client_run_t *r = arg;
    int zero = 0, timeout = 2000;
    while (now_s() < r->deadline) {
        void *c = zmq_socket(r->s->client_ctx, ZMQ_DEALER);
        zmq_setsockopt(c, ZMQ_LINGER, &zero, sizeof zero);
        zmq_setsockopt(c, ZMQ_RCVTIMEO, &timeout, sizeof timeout);
        zmq_setsockopt(c, ZMQ_CURVE_SERVERKEY, r->server_pk, 32);
        zmq_setsockopt(c, ZMQ_CURVE_PUBLICKEY, r->s->client_pk, 32);
        zmq_setsockopt(c, ZMQ_CURVE_SECRETKEY, r->s->client_sk, 32);
        char buf[8];
        if (zmq_connect(c, r->endpoint) == 0 && zmq_send(c, "x", 1, 0) == 1 &&
            zmq_recv(c, buf, sizeof buf, 0) == 1)
            r->done++;
        else
            r->failed++;
        zmq_close(c);
    }
    return NULL;
}

static double drive(const setup_t *s, const uint8_t *server_pk,
                    const char *endpoint, unsigned long *failed)
{
    pthread_t t[MAX_CLIENTS];
    client_run_t r[MAX_CLIENTS];
    double t0 = now_s();
    for (int i = 0; i < s->clients; i++) {
        r[i] = (client_run_t){s, server_pk, endpoint, t0 + s->seconds, 0, 0};
        pthread_create(&t[i], NULL, client_loop, &r[i]);
    }
    unsigned long done = 0;
    for (int i = 0; i < s->clients; i++) {
        pthread_join(t[i], NULL);
        done += r[i].done;
        *failed += r[i].failed;
    }
    return (double)done / (now_s() - t0);
}

/* ---- one round of one contestant --------------------------------------------- */

static double round_no_zap(const setup_t *s, contestant_t *c)
{
    void *ctx = zmq_ctx_new(), *sock = zmq_socket(ctx, ZMQ_ROUTER);
    curve_server(sock, s);
    if (zmq_bind(sock, "tcp://127.0.0.1:*") != 0)
        die("bind");
    server_t sv;
    serve(&sv, sock);
    double rate = drive(s, s->server_pk, sv.endpoint, &c->failed);
    unserve(&sv);
    int zero = 0;
    zmq_setsockopt(sock, ZMQ_LINGER, &zero, sizeof zero);
    zmq_close(sock);
    zmq_ctx_term(ctx);
    return rate;
}

static double round_zguard(const setup_t *s, contestant_t *c)
{
    char text[1024];
    snprintf(text, sizeof text,
             "version = 1\n[auth]\nallow = %s\n[defaults]\nlinger = 0\n"
             "[socket.server]\ntype = router\ncurve_keys = %s/server.key\n"
             "sndhwm = 10000\nrcvhwm = 10000\nrationale = benchmark\n",
             c->big ? s->big : s->small, s->dir);
    zg_policy_t *p = zg_policy_parse(text, strlen(text), "bench", NULL);
    zg_ctx_t *ctx = p ? zg_ctx_new(p) : NULL;
    zg_policy_destroy(&p);
    void *sock = ctx ? zg_socket(ctx, ZMQ_ROUTER, "server") : NULL;
    if (!sock || zg_bind(sock, "tcp://127.0.0.1:*") != 0)
        die("zguard server");
    server_t sv;
    serve(&sv, sock);
    double rate = drive(s, s->zguard_pk, sv.endpoint, &c->failed);
    unserve(&sv);
    zg_close(&sock);
    zg_ctx_destroy(&ctx);
    return rate;
}

#ifdef ZG_BENCH_CZMQ
static double round_zauth(const setup_t *s, contestant_t *c)
{
    zactor_t *auth = zactor_new(zauth, NULL);
    zstr_sendx(auth, "CURVE", c->big ? s->big : s->small, NULL);
    zsock_wait(auth);
    zsock_t *sock = zsock_new(ZMQ_ROUTER);
    zsock_set_curve_server(sock, 1);
    zsock_set_curve_secretkey_bin(sock, s->server_sk);
    if (zsock_bind(sock, "tcp://127.0.0.1:*") < 0)
        die("zauth server");
    server_t sv;
    serve(&sv, zsock_resolve(sock));
    double rate = drive(s, s->server_pk, sv.endpoint, &c->failed);
    unserve(&sv);
    zsock_destroy(&sock);
    zactor_destroy(&auth);
    return rate;
}
#endif

static double run_round(const setup_t *s, contestant_t *c)
{
    switch (c->kind) {
    case NO_ZAP: return round_no_zap(s, c);
    case ZGUARD: return round_zguard(s, c);
#ifdef ZG_BENCH_CZMQ
    case ZAUTH: return round_zauth(s, c);
#endif
    default: return 0;
    }
}

/* ---- report ---------------------------------------------------------------- */

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(const double *v, int n)
{
    double sorted[MAX_ROUNDS];
    memcpy(sorted, v, (size_t)n * sizeof *v);
    qsort(sorted, (size_t)n, sizeof *sorted, cmp);
    return n % 2 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
}

static void report(contestant_t *cs, int n, int rounds)
{
    double ceiling = median(cs[0].rate, rounds);
    printf("\n%-16s %14s %10s %14s %8s\n", "contestant", "handshakes/s",
           "vs no ZAP", "vs zauth", "failed");
    for (int i = 0; i < n; i++) {
        double m = median(cs[i].rate, rounds);
        printf("%-16s %14.0f %10.3f ", cs[i].name, m, m / ceiling);
        double zauth = 0;
        for (int j = 0; j < n; j++)
            if (cs[j].kind == ZAUTH && cs[j].big == cs[i].big)
                zauth = median(cs[j].rate, rounds);
        if (cs[i].kind == ZGUARD && zauth > 0)
            printf("%13.1fx ", m / zauth);
        else
            printf("%14s ", "");
        printf("%8lu\n", cs[i].failed);
    }
}

static void parse_args(int argc, char **argv, setup_t *s, int *rounds)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : "";
        if (strcmp(a, "--quick") == 0) {
            *rounds = 3;
            s->seconds = 0.3;
        } else if (strcmp(a, "--rounds") == 0 && (*rounds = atoi(v)) > 0 &&
                   *rounds <= MAX_ROUNDS)
            i++;
        else if (strcmp(a, "--seconds") == 0 && (s->seconds = atof(v)) > 0)
            i++;
        else if (strcmp(a, "--clients") == 0 && (s->clients = atoi(v)) > 0 &&
                 s->clients <= MAX_CLIENTS)
            i++;
        else if (strcmp(a, "--keys") == 0 && (s->keys = atoi(v)) >= 0)
            i++;
        else {
            fprintf(stderr, "usage: bench_handshake [--rounds N (1-%d)] "
                            "[--seconds S] [--clients N (1-%d)] [--keys N] "
                            "[--quick]\n",
                    MAX_ROUNDS, MAX_CLIENTS);
            exit(1);
        }
    }
}

int main(int argc, char **argv)
{
    setup_t s = {.clients = 4, .keys = 10000, .seconds = 1.0};
    int rounds = 5;
    parse_args(argc, argv, &s, &rounds);
    if (sodium_init() < 0)
        return 2;
    prepare(&s);
    char big_name[32];
    snprintf(big_name, sizeof big_name, "zguard %d", s.keys + 1);
    contestant_t cs[] = {{"no ZAP", NO_ZAP, 0, {0}, 0},
                         {"zguard 1", ZGUARD, 0, {0}, 0},
                         {"", ZGUARD, 1, {0}, 0},
#ifdef ZG_BENCH_CZMQ
                         {"zauth 1", ZAUTH, 0, {0}, 0},
                         {"", ZAUTH, 1, {0}, 0},
#endif
    };
    int n = (int)(sizeof cs / sizeof cs[0]);
    cs[2].name = big_name;
#ifdef ZG_BENCH_CZMQ
    char zauth_name[32];
    snprintf(zauth_name, sizeof zauth_name, "zauth %d", s.keys + 1);
    cs[4].name = zauth_name;
#endif
    printf("bench_handshake: zguard %s, libzmq %d.%d.%d; %d clients, %d "
           "rounds of %.1fs per contestant, interleaved; connect + CURVE "
           "handshake + 1 round trip + close\n",
           zg_version_string(), ZMQ_VERSION_MAJOR, ZMQ_VERSION_MINOR,
           ZMQ_VERSION_PATCH, s.clients, rounds, s.seconds);
    fflush(stdout);
    for (int r = 0; r < rounds; r++)
        for (int i = 0; i < n; i++) {
            int k = r % 2 ? n - 1 - i : i; /* alternate the order */
            cs[k].rate[r] = run_round(&s, &cs[k]);
            fprintf(stderr, "  round %d %-14s %8.0f/s\n", r + 1, cs[k].name,
                    cs[k].rate[r]);
        }
    report(cs, n, rounds);
    zmq_ctx_term(s.client_ctx);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", s.dir);
    return system(cmd) == 0 ? 0 : 2;
}
