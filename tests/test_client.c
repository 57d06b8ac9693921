/*
 * test_client.c - the reliable request helper against a real, independent
 * server (pyzmq, tests/peers/rep_server.py) that drops replies, delays them,
 * crashes and restarts, or is not there at all.
 */
#include "testutil.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

static const char policy[] =
    "version = 1\n"
    "[defaults]\n"
    "security = none\n"
    "insecure = yes\n"
    "rationale = loopback test traffic only\n"
    "[socket.pricing]\n"
    "type = req\n"
    "rcvtimeo = 300ms\n"
    "retries = 3\n"
    "[socket.patient]\n"
    "type = req\n"
    "rcvtimeo = 500ms\n"
    "retries = 8\n"
    "[socket.brief]\n"
    "type = req\n"
    "rcvtimeo = 200ms\n"
    "retries = 2\n"
    "[socket.feed]\n"
    "type = pull\n";

typedef struct record {
    pthread_mutex_t lock;
    int alerts, active;
    char alert_socket[ZG_NAME_MAX];
    char log[4096];
} record_t;

static void on_alert(void *arg, const zg_alert_t *a)
{
    record_t *r = arg;
    pthread_mutex_lock(&r->lock);
    r->alerts++;
    r->active = a->active;
    snprintf(r->alert_socket, sizeof r->alert_socket, "%s", a->socket);
    pthread_mutex_unlock(&r->lock);
}

static void on_log(void *arg, zg_log_level_t level, const char *line)
{
    record_t *r = arg;
    (void)level;
    pthread_mutex_lock(&r->lock);
    size_t n = strlen(r->log);
    snprintf(r->log + n, sizeof r->log - n, "%s\n", line);
    pthread_mutex_unlock(&r->lock);
}

typedef struct fixture {
    zg_ctx_t *ctx;
    record_t rec;
    tu_peer_t server;
    char endpoint[128];
} fixture_t;

static int setup(void **state)
{
    fixture_t *f = calloc(1, sizeof *f);
    pthread_mutex_init(&f->rec.lock, NULL);
    f->ctx = tu_ctx(policy);
    zg_ctx_set_alert(f->ctx, on_alert, &f->rec);
    zg_ctx_set_log(f->ctx, ZG_LOG_WARNING, on_log, &f->rec);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    tu_peer_kill(&f->server);
    zg_ctx_destroy(&f->ctx);
    pthread_mutex_destroy(&f->rec.lock);
    free(f);
    return 0;
}

static void start_server(fixture_t *f, const char *endpoint, const char *mode)
{
    const char *args[] = {endpoint, mode, NULL};
    tu_peer_start(&f->server, "rep_server.py", args, f->endpoint,
                  sizeof f->endpoint);
}

static void expect_reply(zg_client_t *c, const char *req, const char *want)
{
    zmq_msg_t reply;
    zmq_msg_init(&reply);
    zg_status_t st = zg_client_request(c, req, strlen(req), &reply);
    if (st != ZG_OK)
        fprintf(stderr, "request failed: %s\n", zg_last_error());
    assert_int_equal(st, ZG_OK);
    assert_int_equal(zmq_msg_size(&reply), strlen(want));
    assert_memory_equal(zmq_msg_data(&reply), want, strlen(want));
    zmq_msg_close(&reply);
}

static void test_normal_server(void **state)
{
    fixture_t *f = *state;
    start_server(f, "tcp://127.0.0.1:*", "normal");
    zg_client_t *c = zg_client_new(f->ctx, "pricing", f->endpoint);
    assert_non_null(c);
    expect_reply(c, "hello", "re:hello");
    assert_int_equal(zg_client_attempts(c), 1);
    expect_reply(c, "again", "re:again");
    zg_client_destroy(&c);
    assert_null(c);
}

static void test_dropped_reply_retried(void **state)
{
    fixture_t *f = *state;
    start_server(f, "tcp://127.0.0.1:*", "drop:1");
    zg_client_t *c = zg_client_new(f->ctx, "pricing", f->endpoint);
    expect_reply(c, "quote", "re:quote");
    assert_int_equal(zg_client_attempts(c), 2);
    assert_contains(f->rec.log, "no reply from");
    assert_contains(f->rec.log, "within 300ms (attempt 1 of 4)");
    /* and the next request is not wedged in EFSM */
    expect_reply(c, "next", "re:next");
    assert_int_equal(zg_client_attempts(c), 1);
    assert_int_equal(f->rec.alerts, 0);
    zg_client_destroy(&c);
}

static void test_late_reply_never_mixed_in(void **state)
{
    fixture_t *f = *state;
    start_server(f, "tcp://127.0.0.1:*", "delay:1:700");
    zg_client_t *c = zg_client_new(f->ctx, "pricing", f->endpoint);
    expect_reply(c, "first", "re:first");
    assert_int_equal(zg_client_attempts(c), 2);
    /* the late "re:first" reaches a closed socket, never this request */
    for (int i = 0; i < 4; i++)
        expect_reply(c, "second", "re:second");
    zg_client_destroy(&c);
}

typedef struct restart {
    fixture_t *f;
    char endpoint[128];
} restart_t;

/* Waits for the crashed server to exit, then starts a new one in its
 * place: a server restart while a request is outstanding. */
static void *restart_server(void *arg)
{
    restart_t *r = arg;
    tu_peer_wait(&r->f->server);
    start_server(r->f, r->endpoint, "normal");
    return NULL;
}

/* The setup hook runs on every socket the helper opens, before it
 * connects: once per attempt, so a retry gets it too; a hook that refuses
 * the socket ends the request with its reason. */
typedef struct hook {
    int calls;
    int refuse;      /* refuse from this call on (0: never) */
    void *last_sock;
    int verified;    /* the hook was handed a hardened, unconnected socket */
} hook_t;

static int count_setup(void *arg, void *sock)
{
    hook_t *h = arg;
    h->calls++;
    h->last_sock = sock;
    if (zg_verify(sock) == 0)
        h->verified++;
    return h->refuse && h->calls >= h->refuse ? -1 : 0;
}

static void test_setup_hook(void **state)
{
    fixture_t *f = *state;
    start_server(f, "tcp://127.0.0.1:*", "drop:1");
    zg_client_t *c = zg_client_new(f->ctx, "pricing", f->endpoint);
    hook_t h = {0};
    zg_client_set_setup(c, count_setup, &h);
    expect_reply(c, "quote", "re:quote"); /* dropped once: two sockets */
    assert_int_equal(zg_client_attempts(c), 2);
    assert_int_equal(h.calls, 2);
    assert_int_equal(h.verified, 2);
    h.refuse = 3; /* the next socket the helper opens */
    expect_reply(c, "same socket", "re:same socket");
    assert_int_equal(h.calls, 2);
    zg_client_destroy(&c);

    c = zg_client_new(f->ctx, "pricing", f->endpoint);
    hook_t no = {.refuse = 1};
    zg_client_set_setup(c, count_setup, &no);
    zmq_msg_t reply;
    zmq_msg_init(&reply);
    assert_int_not_equal(zg_client_request(c, "x", 1, &reply), ZG_OK);
    assert_int_equal(no.calls, 1);
    assert_contains(zg_last_error(), "setup function refused the socket");
    zmq_msg_close(&reply);
    zg_client_destroy(&c);
}

static void test_server_restart(void **state)
{
    fixture_t *f = *state;
    start_server(f, "tcp://127.0.0.1:*", "crash-after:1");
    zg_client_t *c = zg_client_new(f->ctx, "patient", f->endpoint);
    expect_reply(c, "before", "re:before");
    restart_t r = {f, ""};
    snprintf(r.endpoint, sizeof r.endpoint, "%s", f->endpoint);
    pthread_t t;
    pthread_create(&t, NULL, restart_server, &r);
    expect_reply(c, "during", "re:during"); /* crashes the first server */
    pthread_join(t, NULL);
    assert_true(zg_client_attempts(c) >= 2);
    expect_reply(c, "after", "re:after");
    zg_client_destroy(&c);
}

static void test_unreachable_then_back(void **state)
{
    fixture_t *f = *state;
    char endpoint[64];
    tu_free_endpoint(endpoint, sizeof endpoint);
    zg_client_t *c = zg_client_new(f->ctx, "brief", endpoint);
    zmq_msg_t reply;
    zmq_msg_init(&reply);
    uint64_t t0 = tu_now_ms();
    assert_int_equal(zg_client_request(c, "x", 1, &reply), ZG_EUNREACHABLE);
    assert_true(tu_now_ms() - t0 >= 3 * 190); /* three attempts of 200ms */
    assert_int_equal(zg_client_attempts(c), 3);
    assert_int_equal(errno, EHOSTUNREACH);
    assert_contains(zg_last_error(), "after 3 attempts of 200ms");
    assert_contains(zg_last_error(), endpoint);
    assert_int_equal(f->rec.alerts, 1);
    assert_int_equal(f->rec.active, 1);
    assert_string_equal(f->rec.alert_socket, "brief");
    assert_contains(f->rec.log, "alert peer_unresponsive raised");
    /* still down: the alert stays raised, it does not fire again */
    assert_int_equal(zg_client_request(c, "x", 1, &reply), ZG_EUNREACHABLE);
    assert_int_equal(f->rec.alerts, 1);
    zmq_msg_close(&reply);
    /* the server comes up: the next request works and the alert clears */
    start_server(f, endpoint, "normal");
    expect_reply(c, "up?", "re:up?");
    assert_int_equal(f->rec.alerts, 2);
    assert_int_equal(f->rec.active, 0);
    zg_client_destroy(&c);
}

static void test_plain_req_would_wedge(void **state)
{
    /* Why the helper exists: a bare REQ that timed out refuses to send. */
    fixture_t *f = *state;
    start_server(f, "tcp://127.0.0.1:*", "drop:1");
    void *req = zg_socket(f->ctx, ZMQ_REQ, "brief");
    assert_int_equal(zg_connect(req, f->endpoint), 0);
    char buf[16];
    size_t len;
    assert_int_equal(zg_send(req, "a", 1, 0), ZG_OK);
    assert_int_equal(zg_recv(req, buf, sizeof buf, &len, 0), ZG_ERCVTIMEO);
    assert_int_equal(zg_send(req, "b", 1, 0), ZG_EFSM);
    zg_close(&req);
}

static void test_bad_arguments(void **state)
{
    fixture_t *f = *state;
    assert_null(zg_client_new(f->ctx, "feed", "tcp://127.0.0.1:1"));
    assert_contains(zg_last_error(), "'type = pull', not req");
    assert_null(zg_client_new(f->ctx, "nosuch", "tcp://127.0.0.1:1"));
    assert_null(zg_client_new(f->ctx, "pricing", NULL));
    /* the built-in policy requires CURVE on tcp: the helper says so */
    zg_ctx_t *strict = tu_ctx(NULL);
    zg_client_t *c = zg_client_new(strict, NULL, "tcp://127.0.0.1:1");
    assert_non_null(c);
    zmq_msg_t reply;
    zmq_msg_init(&reply);
    assert_int_equal(zg_client_request(c, "x", 1, &reply), ZG_EOTHER);
    assert_contains(zg_last_error(), "requires CURVE");
    zmq_msg_close(&reply);
    zg_client_destroy(&c);
    zg_ctx_destroy(&strict);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_normal_server, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dropped_reply_retried, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_late_reply_never_mixed_in, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_setup_hook, setup, teardown),
        cmocka_unit_test_setup_teardown(test_server_restart, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unreachable_then_back, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_plain_req_would_wedge, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_bad_arguments, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
