/*
 * test_io.c - send and receive at the limits: a PUSH at its HWM times out as
 * "mute" after SNDTIMEO, a PUB drops, a ROUTER_MANDATORY send reports no
 * route, a receive times out after RCVTIMEO, and each is counted; a socket
 * forgotten and hardened again reaches only its new state.
 */
#include "testutil.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/time.h>

static const char small_queues[] =
    "version = 1\n"
    "[defaults]\n"
    "security = none\n"
    "insecure = yes\n"
    "rationale = loopback test traffic only\n"
    "sndtimeo = 200ms\n"
    "rcvtimeo = 150ms\n"
    "[type.push]\n"
    "sndhwm = 2\n"
    "[type.pull]\n"
    "rcvhwm = 2\n"
    "[type.pub]\n"
    "sndhwm = 5\n"
    "[type.sub]\n"
    "rcvhwm = 5\n";

static zg_counters_t counters(void *s)
{
    zg_counters_t c;
    assert_int_equal(zg_socket_counters(s, &c, sizeof c), 0);
    return c;
}

static void pair_up(void *a, void *b, const char *endpoint)
{
    assert_int_equal(zg_bind(a, endpoint), 0);
    if (strncmp(endpoint, "tcp://127.0.0.1:*", 17) == 0) {
        char ep[256];
        size_t len = sizeof ep;
        zmq_getsockopt(a, ZMQ_LAST_ENDPOINT, ep, &len);
        assert_int_equal(zg_connect(b, ep), 0);
    } else {
        assert_int_equal(zg_connect(b, endpoint), 0);
    }
}

/* Fills the pipe until the send fails; returns how many went through. */
static int fill_until_mute(void *push, zg_status_t *last, uint64_t *waited)
{
    char payload[1024] = {0};
    for (int n = 0; n < 200000; n++) {
        uint64_t t0 = tu_now_ms();
        zg_status_t st = zg_send(push, payload, sizeof payload, 0);
        if (st != ZG_OK) {
            *last = st;
            *waited = tu_now_ms() - t0;
            return n;
        }
    }
    fail_msg("the PUSH never became mute");
    return -1;
}

static void check_mute_timeout(const char *endpoint)
{
    zg_ctx_t *ctx = tu_ctx(small_queues);
    void *push = zg_socket(ctx, ZMQ_PUSH, NULL);
    void *pull = zg_socket(ctx, ZMQ_PULL, NULL);
    pair_up(push, pull, endpoint);
    zg_status_t st;
    uint64_t waited;
    int sent = fill_until_mute(push, &st, &waited);
    assert_int_equal(st, ZG_ESNDTIMEO);
    assert_true(waited >= 190); /* it did wait SNDTIMEO before giving up */
    assert_contains(zg_last_error(), "send timed out while mute");
    if (strncmp(endpoint, "inproc", 6) == 0)
        assert_int_equal(sent, 4); /* inproc: exactly SNDHWM + RCVHWM */
    zg_counters_t c = counters(push);
    assert_int_equal(c.send_timeouts, 1);
    assert_true(c.hwm_reached >= 1);
    assert_int_equal(c.msgs_sent, (uint64_t)sent);
    assert_int_equal(c.bytes_sent, (uint64_t)sent * 1024);
    assert_true(c.send_blocked_ns >= 190000000ULL);

    /* without waiting: mute right away, counted, nothing blocked */
    assert_int_equal(zg_send(push, "x", 1, ZMQ_DONTWAIT), ZG_EMUTE);
    assert_int_equal(counters(push).send_timeouts, 1);
    assert_int_equal(counters(push).hwm_reached, c.hwm_reached + 1);

    /* the consumer reads everything: the producer can send again (the
     * writer learns of reads in batches, at the pipe's low-water mark) */
    char buf[1024];
    size_t len;
    for (int i = 0; i < sent; i++) {
        assert_int_equal(zg_recv(pull, buf, sizeof buf, &len, 0), ZG_OK);
        assert_int_equal(len, 1024);
    }
    assert_int_equal(zg_send(push, "y", 1, 0), ZG_OK);
    zg_close(&push);
    zg_close(&pull);
    zg_ctx_destroy(&ctx);
}

static void test_push_mute_timeout_inproc(void **state)
{
    (void)state;
    check_mute_timeout("inproc://mute");
}

static void test_push_mute_timeout_tcp(void **state)
{
    (void)state;
    check_mute_timeout("tcp://127.0.0.1:*");
}

static void test_pub_drops_at_hwm(void **state)
{
    (void)state;
    zg_ctx_t *ctx = tu_ctx(small_queues);
    void *pub = zg_socket(ctx, ZMQ_PUB, NULL);
    void *sub = zg_socket(ctx, ZMQ_SUB, NULL);
    zmq_setsockopt(sub, ZMQ_SUBSCRIBE, "", 0);
    pair_up(pub, sub, "inproc://drops");
    /* wait for the subscription to arrive: publish until one gets through */
    zmq_pollitem_t item = {sub, 0, ZMQ_POLLIN, 0};
    int synced = 0;
    for (int i = 0; i < 1000 && !synced; i++) {
        assert_int_equal(zg_send(pub, "sync", 4, 0), ZG_OK);
        synced = zmq_poll(&item, 1, 10) == 1;
    }
    assert_true(synced);
    char buf[16];
    size_t len;
    while (zg_recv(sub, buf, sizeof buf, &len, ZMQ_DONTWAIT) == ZG_OK)
        ;
    /* 100 messages into a pipe of 5 + 5: every send succeeds at once */
    for (int i = 0; i < 100; i++)
        assert_int_equal(zg_send(pub, "data", 4, 0), ZG_OK);
    /* a PUB is never mute: it never blocked, it dropped */
    assert_int_equal(counters(pub).hwm_reached, 0);
    assert_int_equal(counters(pub).send_blocked_ns, 0);
    int got = 0;
    while (zg_recv(sub, buf, sizeof buf, &len, ZMQ_DONTWAIT) == ZG_OK)
        got++;
    assert_true(got > 0);
    assert_true(got <= 10); /* the other 90+ were dropped */
    assert_int_equal(counters(pub).send_timeouts, 0);
    zg_close(&pub);
    zg_close(&sub);
    zg_ctx_destroy(&ctx);
}

static void test_router_no_route(void **state)
{
    (void)state;
    zg_ctx_t *ctx = tu_ctx(NULL);
    void *r = zg_socket(ctx, ZMQ_ROUTER, "" /* rejected below */);
    assert_null(r); /* an empty name is not a name the policy knows */
    r = zg_socket(ctx, ZMQ_ROUTER, NULL);
    assert_int_equal(zg_bind(r, "inproc://router"), 0);
    assert_int_equal(zg_send(r, "nobody", 6, ZMQ_SNDMORE), ZG_ENOROUTE);
    assert_int_equal(errno, EHOSTUNREACH);
    assert_contains(zg_last_error(), "no route");
    zg_counters_t c = counters(r);
    assert_int_equal(c.no_route, 1);
    assert_int_equal(c.msgs_sent, 0);
    zg_close(&r);
    zg_ctx_destroy(&ctx);
}

static void test_recv_timeout(void **state)
{
    (void)state;
    zg_ctx_t *ctx = tu_ctx(small_queues);
    void *pull = zg_socket(ctx, ZMQ_PULL, NULL);
    assert_int_equal(zg_bind(pull, "inproc://quiet"), 0);
    char buf[8];
    size_t len;
    assert_int_equal(zg_recv(pull, buf, sizeof buf, &len, ZMQ_DONTWAIT),
                     ZG_EEMPTY);
    uint64_t t0 = tu_now_ms();
    assert_int_equal(zg_recv(pull, buf, sizeof buf, &len, 0), ZG_ERCVTIMEO);
    assert_true(tu_now_ms() - t0 >= 140);
    assert_contains(zg_last_error(), "receive timed out");
    zg_counters_t c = counters(pull);
    assert_int_equal(c.recv_timeouts, 1);
    zg_close(&pull);
    zg_ctx_destroy(&ctx);
}

static int freed;

static void free_cb(void *data, void *hint)
{
    (void)data;
    (void)hint;
    freed++;
}

static void test_multipart_zero_copy_counted(void **state)
{
    (void)state;
    zg_ctx_t *ctx = tu_ctx(small_queues);
    void *push = zg_socket(ctx, ZMQ_PUSH, NULL);
    void *pull = zg_socket(ctx, ZMQ_PULL, NULL);
    pair_up(push, pull, "inproc://multi");
    static char big[4096];
    zmq_msg_t m;
    zmq_msg_init_data(&m, big, sizeof big, free_cb, NULL);
    assert_int_equal(zg_send(push, "head", 4, ZMQ_SNDMORE), ZG_OK);
    assert_int_equal(zg_msg_send(push, &m, ZMQ_SNDMORE), ZG_OK);
    assert_int_equal(zmq_msg_size(&m), 0); /* handed over */
    assert_int_equal(zg_send(push, "tail", 4, 0), ZG_OK);
    zg_counters_t c = counters(push);
    assert_int_equal(c.msgs_sent, 1);
    assert_int_equal(c.bytes_sent, 4 + 4096 + 4);

    zmq_msg_t r;
    zmq_msg_init(&r);
    assert_int_equal(zg_msg_recv(pull, &r, 0), ZG_OK);
    assert_true(zmq_msg_more(&r));
    assert_int_equal(zg_msg_recv(pull, &r, 0), ZG_OK);
    assert_int_equal(zmq_msg_size(&r), 4096);
    assert_ptr_equal(zmq_msg_data(&r), big); /* inproc: same buffer */
    assert_int_equal(zg_msg_recv(pull, &r, 0), ZG_OK);
    assert_false(zmq_msg_more(&r));
    zmq_msg_close(&r);
    assert_int_equal(freed, 1);
    c = counters(pull);
    assert_int_equal(c.msgs_received, 1);
    assert_int_equal(c.bytes_received, 4 + 4096 + 4);
    zg_close(&push);
    zg_close(&pull);
    zg_ctx_destroy(&ctx);
}

static void test_truncation_reported(void **state)
{
    (void)state;
    zg_ctx_t *ctx = tu_ctx(small_queues);
    void *push = zg_socket(ctx, ZMQ_PUSH, NULL);
    void *pull = zg_socket(ctx, ZMQ_PULL, NULL);
    pair_up(push, pull, "inproc://trunc");
    assert_int_equal(zg_send(push, "0123456789", 10, 0), ZG_OK);
    char buf[4];
    size_t len = 0;
    assert_int_equal(zg_recv(pull, buf, sizeof buf, &len, 0), ZG_ETRUNCATED);
    assert_int_equal(len, 10);
    assert_memory_equal(buf, "0123", 4);
    zg_close(&push);
    zg_close(&pull);
    zg_ctx_destroy(&ctx);
}

static void on_alarm(int sig)
{
    (void)sig;
}

static void test_interrupted(void **state)
{
    (void)state;
    zg_ctx_t *ctx = tu_ctx("version = 1\n[defaults]\nrcvtimeo = 5s\n");
    void *pull = zg_socket(ctx, ZMQ_PULL, NULL);
    assert_int_equal(zg_bind(pull, "inproc://intr"), 0);
    struct sigaction sa = {.sa_handler = on_alarm}; /* no SA_RESTART */
    sigaction(SIGALRM, &sa, NULL);
    struct itimerval t = {.it_value = {0, 50000}};
    setitimer(ITIMER_REAL, &t, NULL);
    char buf[8];
    size_t len;
    uint64_t t0 = tu_now_ms();
    assert_int_equal(zg_recv(pull, buf, sizeof buf, &len, 0), ZG_EINTR);
    assert_true(tu_now_ms() - t0 < 4000); /* the signal, not the timeout */
    assert_int_equal(counters(pull).interrupted, 1);
    signal(SIGALRM, SIG_DFL);
    zg_close(&pull);
    zg_ctx_destroy(&ctx);
}

static void test_closed_and_unknown(void **state)
{
    (void)state;
    zg_ctx_t *ctx = tu_ctx(small_queues);
    void *pull = zg_socket(ctx, ZMQ_PULL, NULL);
    assert_int_equal(zg_bind(pull, "inproc://closed"), 0);
    zmq_ctx_shutdown(zg_ctx_zmq(ctx));
    char buf[8];
    size_t len;
    assert_int_equal(zg_recv(pull, buf, sizeof buf, &len, 0), ZG_ECLOSED);
    assert_int_equal(zg_send(pull, "x", 1, 0), ZG_ECLOSED);
    zg_close(&pull);
    zg_ctx_destroy(&ctx);

    void *zctx = zmq_ctx_new();
    void *raw = zmq_socket(zctx, ZMQ_PUSH);
    assert_int_equal(zg_send(raw, "x", 1, 0), ZG_ENOPOLICY);
    assert_int_equal(zg_recv(raw, buf, sizeof buf, &len, 0), ZG_ENOPOLICY);
    assert_int_equal(errno, ENOTSOCK);
    zmq_close(raw);
    zmq_ctx_term(zctx);
}

/* The hot path finds a socket's state through a per-thread cache
 * (src/registry.h). A socket zguard forgets, and hardens again under the
 * same pointer, must never reach the old state from any thread's cache: a
 * send after zg_forget is refused, and after zg_harden it counts on the new
 * state (with the old one, freed, ASan would report it; without ASan the
 * old counter would move instead). */
typedef struct cache_thread {
    void *push;
    pthread_barrier_t step;
    zg_status_t before, after;
} cache_thread_t;

static void *cache_thread_main(void *arg)
{
    cache_thread_t *t = arg;
    t->before = zg_send(t->push, "x", 1, ZMQ_DONTWAIT); /* fills its cache */
    pthread_barrier_wait(&t->step); /* the main thread forgets the socket */
    pthread_barrier_wait(&t->step);
    t->after = zg_send(t->push, "x", 1, ZMQ_DONTWAIT);
    return NULL;
}

static const char two_names[] = "version = 1\n"
                                "[defaults]\n"
                                "security = none\n"
                                "insecure = yes\n"
                                "rationale = in-process test traffic only\n"
                                "[socket.first]\n"
                                "type = push\n"
                                "[socket.second]\n"
                                "type = push\n";

static void test_state_follows_forget(void **state)
{
    (void)state;
    zg_ctx_t *ctx = tu_ctx(two_names);
    void *push = zmq_socket(zg_ctx_zmq(ctx), ZMQ_PUSH);
    assert_non_null(push);
    assert_int_equal(zg_harden(ctx, push, "first"), 0);
    /* no peer: mute, counted on the socket's state */
    assert_int_equal(zg_send(push, "x", 1, ZMQ_DONTWAIT), ZG_EMUTE);
    assert_int_equal(counters(push).hwm_reached, 1);

    cache_thread_t t = {.push = push};
    pthread_t th;
    assert_int_equal(pthread_barrier_init(&t.step, NULL, 2), 0);
    assert_int_equal(pthread_create(&th, NULL, cache_thread_main, &t), 0);
    pthread_barrier_wait(&t.step);
    assert_int_equal(zg_forget(push), 0);
    /* this thread's cache held it too */
    assert_int_equal(zg_send(push, "x", 1, ZMQ_DONTWAIT), ZG_ENOPOLICY);
    pthread_barrier_wait(&t.step);
    assert_int_equal(pthread_join(th, NULL), 0);
    pthread_barrier_destroy(&t.step);
    assert_int_equal(t.before, ZG_EMUTE);
    assert_int_equal(t.after, ZG_ENOPOLICY);

    /* hardened again: the same pointer, a new state */
    assert_int_equal(zg_harden(ctx, push, "second"), 0);
    assert_int_equal(zg_send(push, "x", 1, ZMQ_DONTWAIT), ZG_EMUTE);
    assert_contains(zg_last_error(), "'second'");
    assert_int_equal(counters(push).hwm_reached, 1);
    assert_string_equal(zg_socket_name(push), "second");
    zg_close(&push);

    /* closed: a socket libzmq makes next often gets the same memory; it
     * is not zguard's */
    void *raw = zmq_socket(zg_ctx_zmq(ctx), ZMQ_PUSH);
    assert_non_null(raw);
    assert_int_equal(zg_send(raw, "x", 1, ZMQ_DONTWAIT), ZG_ENOPOLICY);
    zmq_close(raw);
    zg_ctx_destroy(&ctx);
}

static void test_req_state_errors(void **state)
{
    (void)state;
    zg_ctx_t *ctx = tu_ctx(small_queues);
    void *req = zg_socket(ctx, ZMQ_REQ, NULL);
    assert_int_equal(zg_bind(req, "inproc://req"), 0);
    char buf[8];
    size_t len;
    assert_int_equal(zg_recv(req, buf, sizeof buf, &len, 0), ZG_EFSM);
    assert_contains(zg_status_str(ZG_EFSM), "state");
    zg_close(&req);
    zg_ctx_destroy(&ctx);
}

static void test_status_strings(void **state)
{
    (void)state;
    for (int st = ZG_OK; st <= ZG_EOTHER; st++) {
        const char *s = zg_status_str((zg_status_t)st);
        assert_non_null(s);
        assert_true(strcmp(s, "unknown status") != 0);
    }
    assert_string_equal(zg_status_str((zg_status_t)999), "unknown status");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_push_mute_timeout_inproc),
        cmocka_unit_test(test_push_mute_timeout_tcp),
        cmocka_unit_test(test_pub_drops_at_hwm),
        cmocka_unit_test(test_router_no_route),
        cmocka_unit_test(test_recv_timeout),
        cmocka_unit_test(test_multipart_zero_copy_counted),
        cmocka_unit_test(test_truncation_reported),
        cmocka_unit_test(test_interrupted),
        cmocka_unit_test(test_closed_and_unknown),
        cmocka_unit_test(test_state_follows_forget),
        cmocka_unit_test(test_req_state_errors),
        cmocka_unit_test(test_status_strings),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
