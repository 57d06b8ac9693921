/*
 * orders.c - a small order service hardened by examples/orders.policy.
 *
 * It shows what an application does with zguard, and proves each step with a
 * measurement printed as a table (this is what `make demo` runs):
 *
 *   1. load the policy: every socket's bounds and timeouts, written down;
 *   2. make sockets with zg_socket(): the policy is applied and read back;
 *   3. bind/connect with zg_bind()/zg_connect(): refused without CURVE on
 *      tcp, refused if an option was changed behind zguard's back;
 *   4. send and receive with zg_send()/zg_recv(): a consumer that stops
 *      reading makes the producer fail after SNDTIMEO, never hang;
 *   5. ask a flaky service with zg_client_request(): retried, then answered.
 *
 * The CURVE keys here are throwaway keys made in memory for the example.
 *
 * usage: orders_example [POLICY]   (default: the policy beside this file)
 */
#include <pthread.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <zguard.h>

#ifndef ORDERS_POLICY
#define ORDERS_POLICY "examples/orders.policy"
#endif

static int failures;

static void row(const char *mitigation, int pass, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void row(const char *mitigation, int pass, const char *fmt, ...)
{
    char what[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    printf("  %-18s %-66s %s\n", mitigation, what, pass ? "PASS" : "FAIL");
    failures += !pass;
}

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

typedef struct keys {
    unsigned char server_pk[32], server_sk[32], client_pk[32], client_sk[32];
} keys_t;

static void curve_server(void *s, const keys_t *k)
{
    int on = 1;
    zmq_setsockopt(s, ZMQ_CURVE_SERVER, &on, sizeof on);
    zmq_setsockopt(s, ZMQ_CURVE_SECRETKEY, k->server_sk, 32);
}

static void curve_client(void *s, const keys_t *k)
{
    zmq_setsockopt(s, ZMQ_CURVE_SERVERKEY, k->server_pk, 32);
    zmq_setsockopt(s, ZMQ_CURVE_PUBLICKEY, k->client_pk, 32);
    zmq_setsockopt(s, ZMQ_CURVE_SECRETKEY, k->client_sk, 32);
}

static void show_policy(zg_policy_t *policy)
{
    size_t n = zg_policy_socket_count(policy), explained = 0, total = 0;
    for (size_t i = 0; i < n; i++) {
        const char *name = zg_policy_socket_name(policy, i);
        zg_setting_t set[ZG_FIELD_COUNT];
        zg_policy_settings(policy, zg_policy_socket_type(policy, name), name,
                           set);
        for (int f = 0; f < ZG_FIELD_COUNT; f++) {
            total += set[f].applies;
            explained += set[f].applies && set[f].rationale;
        }
    }
    row("written policy", n == 4 && explained == total,
        "%zu named sockets, %zu of %zu values with a rationale", n, explained,
        total);
}

/* Steps 2 and 3: CURVE required on tcp, options verified at bind. */
static void *open_orders_in(zg_ctx_t *ctx, const keys_t *k, char *ep,
                            size_t cap)
{
    void *in = zg_socket(ctx, ZMQ_PULL, "orders-in");
    int refused = zg_bind(in, "tcp://127.0.0.1:*") != 0;
    curve_server(in, k);
    int bound = zg_bind(in, "tcp://127.0.0.1:*") == 0;
    zmq_getsockopt(in, ZMQ_LAST_ENDPOINT, ep, &cap);
    row("CurveZMQ", refused && bound,
        "plaintext tcp bind refused; CURVE bind on %s", ep);

    void *tampered = zg_socket(ctx, ZMQ_PULL, "orders-in");
    int unbounded = 0;
    zmq_setsockopt(tampered, ZMQ_RCVHWM, &unbounded, sizeof unbounded);
    int caught = zg_bind(tampered, "inproc://tampered") != 0;
    row("verified options", caught, "RCVHWM set to 0 after hardening: bind "
                                    "refused");
    zg_close(&tampered);
    return in;
}

/* Step 4: the consumer stops reading; the producer must not hang. */
static void slow_consumer(void *out, void *in)
{
    static char order[1024];
    int accepted = 0;
    zg_status_t st = ZG_OK;
    long long t0 = 0;
    while (st == ZG_OK && accepted < 1000000) {
        t0 = now_ms();
        st = zg_send(out, order, sizeof order, 0);
        accepted += st == ZG_OK;
    }
    long long waited = now_ms() - t0;
    zg_counters_t c;
    zg_socket_counters(out, &c);
    row("bounded queues", st == ZG_ESNDTIMEO && accepted < 1000000,
        "stalled consumer: %d orders queued, then the producer stopped",
        accepted);
    row("send timeout", st == ZG_ESNDTIMEO && waited >= 450 && waited < 5000,
        "send gave up after %lldms (SNDTIMEO 500ms); timeouts counted: %llu",
        waited, (unsigned long long)c.send_timeouts);
    /* the consumer resumes: everything queued arrives */
    char buf[1024];
    size_t len;
    int drained = 0;
    while (drained < accepted && zg_recv(in, buf, sizeof buf, &len, 0) == ZG_OK)
        drained++;
    row("no loss", drained == accepted, "consumer resumed: %d of %d orders "
                                        "received",
        drained, accepted);
}

/* Step 5: a pricing service that loses the first request it sees. */
static void *pricing_service(void *arg)
{
    void *svc = arg;
    int seen = 0;
    for (;;) {
        zmq_msg_t id, empty, body;
        zmq_msg_init(&id);
        zmq_msg_init(&empty);
        zmq_msg_init(&body);
        if (zg_msg_recv(svc, &id, 0) != ZG_OK ||
            zg_msg_recv(svc, &empty, 0) != ZG_OK ||
            zg_msg_recv(svc, &body, 0) != ZG_OK)
            continue; /* idle: RCVTIMEO passed */
        int bye = zmq_msg_size(&body) == 3 &&
                  memcmp(zmq_msg_data(&body), "bye", 3) == 0;
        if (++seen > 1 || bye) {
            zg_msg_send(svc, &id, ZMQ_SNDMORE);
            zg_msg_send(svc, &empty, ZMQ_SNDMORE);
            zg_send(svc, "42.00", 5, 0);
        }
        zmq_msg_close(&id);
        zmq_msg_close(&empty);
        zmq_msg_close(&body);
        if (bye)
            return NULL;
    }
}

static void flaky_pricing(zg_ctx_t *ctx)
{
    void *svc = zg_socket(ctx, ZMQ_ROUTER, NULL);
    zg_bind(svc, "inproc://pricing");
    pthread_t t;
    pthread_create(&t, NULL, pricing_service, svc);
    zg_client_t *c = zg_client_new(ctx, "pricing", "inproc://pricing");
    zmq_msg_t reply;
    zmq_msg_init(&reply);
    zg_status_t st = zg_client_request(c, "price?", 6, &reply);
    int attempts = zg_client_attempts(c);
    row("retry on timeout", st == ZG_OK && attempts == 2,
        "first request lost; answered on attempt %d of 3 (%zu bytes)",
        attempts, zmq_msg_size(&reply));
    zg_client_request(c, "bye", 3, &reply);
    zmq_msg_close(&reply);
    pthread_join(t, NULL);
    zg_client_destroy(&c);
    zg_close(&svc);
}

int main(int argc, char **argv)
{
    const char *path = argc > 1 ? argv[1] : ORDERS_POLICY;
    if (sodium_init() < 0)
        return 2;
    zg_diag_t *diag = zg_diag_new();
    zg_policy_t *policy = zg_policy_load(path, diag);
    zg_diag_print(diag, stderr);
    zg_diag_destroy(&diag);
    if (!policy)
        return 2;
    zg_ctx_t *ctx = zg_ctx_new(policy);
    printf("zguard %s example: the order service under %s\n\n",
           zg_version_string(), path);
    show_policy(policy);
    zg_policy_destroy(&policy);

    keys_t k;
    crypto_box_keypair(k.server_pk, k.server_sk);
    crypto_box_keypair(k.client_pk, k.client_sk);
    char ep[256];
    void *in = open_orders_in(ctx, &k, ep, sizeof ep);
    void *out = zg_socket(ctx, ZMQ_PUSH, "orders-out");
    curve_client(out, &k);
    sodium_memzero(&k, sizeof k);
    if (zg_connect(out, ep) != 0)
        fprintf(stderr, "%s\n", zg_last_error());
    slow_consumer(out, in);
    flaky_pricing(ctx);

    zg_close(&out);
    zg_close(&in);
    zg_ctx_destroy(&ctx);
    printf("\n%s\n", failures ? "some mitigations FAILED" : "all mitigations held");
    return failures ? 1 : 0;
}
