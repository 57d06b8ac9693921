/*
 * test_rotation.c - docs/key-rotation.md, done under load: a client sends
 * requests in a steady loop while the server's key and then the client's
 * key are rotated, and not one request may fail.
 *
 * Server key: the old key serves on port A; the client learns the new key
 * first (list "B, A" with keys "new, old") and falls back to A while B is
 * not up; the new key comes up on B; A retires and the client moves to B.
 * Client key: the new key is authorized beside the old one (same name, so
 * the same User-Id), the client switches, the old one is removed.
 */
#include "testutil.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct server {
    zg_ctx_t *ctx;
    void *sock;
    pthread_t thread;
    atomic_bool stop;
    char endpoint[128];
    atomic_ulong served;
} server_t;

typedef struct traffic {
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t progress;
    zg_client_t *client, *next; /* next: handed over by the test */
    unsigned long ok, failed;
    char last_user[64], last_error[ZG_ERROR_MAX];
    bool stop;
} traffic_t;

static char dir[64];

static void path(char *buf, size_t cap, const char *rel)
{
    snprintf(buf, cap, "%s/%s", dir, rel);
}

static void *serve(void *arg)
{
    server_t *s = arg;
    while (!atomic_load(&s->stop)) {
        zmq_msg_t id, empty, body;
        zmq_msg_init(&id);
        zmq_msg_init(&empty);
        zmq_msg_init(&body);
        if (zg_msg_recv(s->sock, &id, 0) == ZG_OK &&
            zg_msg_recv(s->sock, &empty, 0) == ZG_OK &&
            zg_msg_recv(s->sock, &body, 0) == ZG_OK) {
            /* reply with the User-Id the authenticator gave the client */
            const char *user = zmq_msg_gets(&body, "User-Id");
            user = user ? user : "";
            zg_msg_send(s->sock, &id, ZMQ_SNDMORE);
            zg_msg_send(s->sock, &empty, ZMQ_SNDMORE);
            zg_send(s->sock, user, strlen(user), 0);
            atomic_fetch_add(&s->served, 1);
        }
        zmq_msg_close(&id);
        zmq_msg_close(&empty);
        zmq_msg_close(&body);
    }
    return NULL;
}

static zg_ctx_t *ctx_with(const char *sockets)
{
    char text[4096];
    snprintf(text, sizeof text,
             "version = 1\n"
             "[auth]\n"
             "allow = %1$s/authorized\n"
             "[defaults]\n"
             "rcvtimeo = 250ms\n"
             "sndtimeo = 250ms\n"
             "reconnect_ivl = 20ms\n"
             "retries = 6\n"
             "%2$s",
             dir, sockets);
    return tu_ctx(text);
}

static void server_start(server_t *s, const char *pair, const char *endpoint)
{
    char sockets[512];
    snprintf(sockets, sizeof sockets,
             "[socket.gate]\ntype = router\ncurve_keys = %s/%s\n", dir, pair);
    s->ctx = ctx_with(sockets);
    s->sock = zg_socket(s->ctx, ZMQ_ROUTER, "gate");
    assert_non_null(s->sock);
    assert_int_equal(zg_bind(s->sock, endpoint), 0);
    size_t len = sizeof s->endpoint;
    zmq_getsockopt(s->sock, ZMQ_LAST_ENDPOINT, s->endpoint, &len);
    atomic_store(&s->stop, false);
    pthread_create(&s->thread, NULL, serve, s);
}

static void server_stop(server_t *s)
{
    atomic_store(&s->stop, true);
    pthread_join(s->thread, NULL);
    zg_close(&s->sock);
    zg_ctx_destroy(&s->ctx);
}

/* A client context and request helper for the given keys and endpoints. */
static zg_client_t *client_for(const char *own, const char *servers,
                               const char *endpoints, zg_ctx_t **ctx)
{
    char sockets[1024];
    snprintf(sockets, sizeof sockets,
             "[socket.upstream]\ntype = req\ncurve_keys = %s/%s\n"
             "curve_server_key = %s\n",
             dir, own, servers);
    *ctx = ctx_with(sockets);
    zg_client_t *c = zg_client_new(*ctx, "upstream", endpoints);
    if (!c)
        fprintf(stderr, "%s\n", zg_last_error());
    assert_non_null(c);
    return c;
}

static void *send_requests(void *arg)
{
    traffic_t *t = arg;
    for (;;) {
        pthread_mutex_lock(&t->lock);
        bool stop = t->stop;
        if (t->next) { /* a configuration change: the client restarts */
            zg_client_destroy(&t->client);
            t->client = t->next;
            t->next = NULL;
        }
        zg_client_t *c = t->client;
        pthread_mutex_unlock(&t->lock);
        if (stop)
            break;
        zmq_msg_t reply;
        zmq_msg_init(&reply);
        zg_status_t st = zg_client_request(c, "price?", 6, &reply);
        pthread_mutex_lock(&t->lock);
        if (st == ZG_OK) {
            t->ok++;
            snprintf(t->last_user, sizeof t->last_user, "%.*s",
                     (int)zmq_msg_size(&reply), (char *)zmq_msg_data(&reply));
        } else {
            t->failed++;
            snprintf(t->last_error, sizeof t->last_error, "%s",
                     zg_last_error());
        }
        pthread_cond_broadcast(&t->progress);
        pthread_mutex_unlock(&t->lock);
        zmq_msg_close(&reply);
    }
    zg_client_destroy(&t->client);
    return NULL;
}

/* Hands the traffic thread a new client and waits for `count` more good
 * requests after it took it over. */
static void switch_client(traffic_t *t, zg_client_t *next, unsigned long count)
{
    pthread_mutex_lock(&t->lock);
    t->next = next;
    while (t->next)
        pthread_cond_wait(&t->progress, &t->lock);
    unsigned long target = t->ok + count;
    while (t->ok < target && t->failed == 0)
        pthread_cond_wait(&t->progress, &t->lock);
    pthread_mutex_unlock(&t->lock);
}

static void wait_requests(traffic_t *t, unsigned long count)
{
    pthread_mutex_lock(&t->lock);
    unsigned long target = t->ok + count;
    while (t->ok < target && t->failed == 0)
        pthread_cond_wait(&t->progress, &t->lock);
    pthread_mutex_unlock(&t->lock);
}

static void save_pair(const char *name, bool authorize)
{
    zg_cert_t *c = zg_cert_new();
    assert_int_equal(zg_cert_set_meta(c, "name", name), 0);
    char p[256];
    snprintf(p, sizeof p, "%s/keys/%s.key", dir, name);
    assert_int_equal(zg_cert_save_pair(c, p, NULL, ZG_KDF_INTERACTIVE), 0);
    if (authorize) {
        snprintf(p, sizeof p, "%s/authorized/%s.key", dir, name);
        assert_int_equal(zg_cert_save_public(c, p), 0);
    }
    zg_cert_destroy(&c);
}

static void test_rotation_under_load(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/zguard-rotation-XXXXXX");
    assert_non_null(mkdtemp(dir));
    char p[256], q[256], old_gate[256], old_alice[256], spare[64];
    path(p, sizeof p, "keys");
    mkdir(p, 0700);
    path(p, sizeof p, "authorized");
    mkdir(p, 0755);
    save_pair("gate", false);
    save_pair("alice", true);

    /* the old gate key serves on A; alice pins it */
    server_t a = {0}, b = {0};
    server_start(&a, "keys/gate.key", "tcp://127.0.0.1:*");
    zg_ctx_t *cctx[3];
    char servers[512];
    snprintf(servers, sizeof servers, "%s/keys/gate.key", dir);
    traffic_t t = {0};
    pthread_mutex_init(&t.lock, NULL);
    pthread_cond_init(&t.progress, NULL);
    t.client = client_for("keys/alice.key", servers, a.endpoint, &cctx[0]);
    pthread_create(&t.thread, NULL, send_requests, &t);
    wait_requests(&t, 20);

    /* 1. the gate's key rotates; the old pair stays under a dated name */
    path(p, sizeof p, "keys/gate.key");
    assert_int_equal(zg_cert_rotate(p, NULL, ZG_KDF_INTERACTIVE, old_gate,
                                    sizeof old_gate),
                     0);
    /* 2. the client learns the new key first, B before A; B is not up yet,
     *    so every request falls back to A */
    tu_free_endpoint(spare, sizeof spare);
    snprintf(servers, sizeof servers, "%s/keys/gate.key, %s", dir, old_gate);
    snprintf(q, sizeof q, "%s, %s", spare, a.endpoint);
    switch_client(&t, client_for("keys/alice.key", servers, q, &cctx[1]), 20);
    /* 3. the new key comes up on B (the spare port) */
    server_start(&b, "keys/gate.key", spare);
    wait_requests(&t, 20);
    /* 4. A retires: the client falls over to B and stays there */
    unsigned long a_served = atomic_load(&a.served);
    server_stop(&a);
    wait_requests(&t, 30);
    assert_true(atomic_load(&b.served) >= 30);
    assert_true(a_served >= 40);

    /* 5. alice's key rotates; the new key is authorized beside the old */
    path(p, sizeof p, "keys/alice.key");
    assert_int_equal(zg_cert_rotate(p, NULL, ZG_KDF_INTERACTIVE, old_alice,
                                    sizeof old_alice),
                     0);
    zg_cert_t *fresh = zg_cert_load(p);
    path(q, sizeof q, "authorized/alice.next.key");
    assert_int_equal(zg_cert_save_public(fresh, q), 0);
    zg_cert_destroy(&fresh);
    zg_auth_stats_t st;
    assert_int_equal(zg_ctx_auth_reload(b.ctx), 0); /* or wait for inotify */
    assert_int_equal(zg_ctx_auth_stats(b.ctx, &st, sizeof st), 0);
    assert_int_equal(st.keys, 2);
    /* 6. alice switches to the new key */
    snprintf(servers, sizeof servers, "%s/keys/gate.key", dir);
    switch_client(&t, client_for("keys/alice.key", servers, b.endpoint,
                                 &cctx[2]),
                  20);
    /* 7. the old key retires */
    path(p, sizeof p, "authorized/alice.key");
    assert_int_equal(unlink(p), 0);
    assert_int_equal(zg_ctx_auth_reload(b.ctx), 0);
    wait_requests(&t, 30);

    pthread_mutex_lock(&t.lock);
    t.stop = true;
    pthread_mutex_unlock(&t.lock);
    pthread_join(t.thread, NULL);
    if (t.failed)
        fprintf(stderr, "a request failed: %s\n", t.last_error);
    assert_int_equal(t.failed, 0);
    assert_true(t.ok >= 140);
    assert_string_equal(t.last_user, "alice"); /* same identity, new key */
    assert_int_equal(zg_ctx_auth_stats(b.ctx, &st, sizeof st), 0);
    assert_int_equal(st.keys, 1);
    server_stop(&b);
    for (int i = 0; i < 3; i++)
        zg_ctx_destroy(&cctx[i]);
    pthread_mutex_destroy(&t.lock);
    pthread_cond_destroy(&t.progress);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rotation_under_load),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
