/*
 * test_gate.c - the gate through its C API (include/zguard.h), as a program
 * embedding it would use it: the pattern names, the sockets it made for each
 * pattern (frontend and backend, of the types docs/gate.md lists), messages
 * forwarded both ways, and a stop from another thread. The gate's attacks
 * and command line are tested with real peers by the gate_* tests.
 */
#include "testutil.h"

#include <pthread.h>
#include <string.h>

static void test_pattern_names(void **state)
{
    (void)state;
    assert_string_equal(zg_gate_pattern_name(ZG_GATE_REQREP), "reqrep");
    assert_string_equal(zg_gate_pattern_name(ZG_GATE_PUBSUB), "pubsub");
    assert_string_equal(zg_gate_pattern_name(ZG_GATE_PIPELINE), "pipeline");
    assert_null(zg_gate_pattern_name((zg_gate_pattern_t)0));
    assert_null(zg_gate_pattern_name((zg_gate_pattern_t)4));
}

static int type_of(void *sock)
{
    int type = -1;
    size_t len = sizeof type;
    assert_int_equal(zmq_getsockopt(sock, ZMQ_TYPE, &type, &len), 0);
    return type;
}

/* A policy whose [gate] joins two inproc endpoints (inproc needs no
 * CURVE), and a gate made from it. */
static zg_gate_t *gate_for(zg_ctx_t **ctx, const char *pattern,
                           const char *front_type, const char *back_type)
{
    char text[512];
    snprintf(text, sizeof text,
             "version = 1\n"
             "[gate]\npattern = %s\n"
             "frontend = inproc://gate-front\nbackend = inproc://gate-back\n"
             "[socket.frontend]\ntype = %s\n"
             "[socket.backend]\ntype = %s\n",
             pattern, front_type, back_type);
    *ctx = tu_ctx(text);
    assert_non_null(*ctx);
    zg_gate_t *gate = zg_gate_new(*ctx);
    if (!gate)
        fprintf(stderr, "zg_gate_new: %s\n", zg_last_error());
    assert_non_null(gate);
    return gate;
}

static void test_sockets_per_pattern(void **state)
{
    (void)state;
    static const struct {
        const char *pattern, *front, *back;
        int front_type, back_type;
    } cases[] = {
        {"reqrep", "router", "dealer", ZMQ_ROUTER, ZMQ_DEALER},
        {"pubsub", "xpub", "xsub", ZMQ_XPUB, ZMQ_XSUB},
        {"pipeline", "pull", "push", ZMQ_PULL, ZMQ_PUSH},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        zg_ctx_t *ctx;
        zg_gate_t *gate =
            gate_for(&ctx, cases[i].pattern, cases[i].front, cases[i].back);
        assert_int_equal(type_of(zg_gate_frontend(gate)), cases[i].front_type);
        assert_int_equal(type_of(zg_gate_backend(gate)), cases[i].back_type);
        assert_int_equal(zg_verify(zg_gate_frontend(gate)), 0);
        assert_int_equal(zg_verify(zg_gate_backend(gate)), 0);
        zg_gate_destroy(&gate);
        assert_null(gate);
        zg_ctx_destroy(&ctx);
    }
}

static void *run_gate(void *arg)
{
    return (void *)(intptr_t)zg_gate_run(arg);
}

/* reqrep: a request in through the frontend reaches the service behind
 * the backend, and its reply comes back out; then a stop from this thread
 * ends zg_gate_run. */
static void test_forwards_and_stops(void **state)
{
    (void)state;
    zg_ctx_t *ctx;
    zg_gate_t *gate = gate_for(&ctx, "reqrep", "router", "dealer");
    void *zctx = zg_ctx_zmq(ctx);
    void *service = zmq_socket(zctx, ZMQ_REP);
    assert_int_equal(zmq_bind(service, "inproc://gate-back"), 0);
    void *client = zmq_socket(zctx, ZMQ_REQ);
    int ms = 5000;
    zmq_setsockopt(client, ZMQ_RCVTIMEO, &ms, sizeof ms);
    zmq_setsockopt(service, ZMQ_RCVTIMEO, &ms, sizeof ms);
    assert_int_equal(zmq_connect(client, "inproc://gate-front"), 0);
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, run_gate, gate), 0);

    char buf[32];
    assert_int_equal(zmq_send(client, "ping", 4, 0), 4);
    assert_int_equal(zmq_recv(service, buf, sizeof buf, 0), 4);
    assert_memory_equal(buf, "ping", 4);
    assert_int_equal(zmq_send(service, "pong", 4, 0), 4);
    assert_int_equal(zmq_recv(client, buf, sizeof buf, 0), 4);
    assert_memory_equal(buf, "pong", 4);

    zg_gate_stop(gate);
    void *rc;
    assert_int_equal(pthread_join(t, &rc), 0);
    assert_int_equal((intptr_t)rc, 0);
    /* counted by the gate's thread after each send: final once it ended */
    zg_gate_stats_t st;
    assert_int_equal(zg_gate_stats(gate, &st, sizeof st), 0);
    assert_int_equal(st.to_backend, 1);
    assert_int_equal(st.to_frontend, 1);
    assert_int_equal(st.outstanding, 0);
    int linger = 0;
    zmq_setsockopt(client, ZMQ_LINGER, &linger, sizeof linger);
    zmq_setsockopt(service, ZMQ_LINGER, &linger, sizeof linger);
    zmq_close(client);
    zmq_close(service);
    zg_gate_destroy(&gate);
    zg_ctx_destroy(&ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pattern_names),
        cmocka_unit_test(test_sockets_per_pattern),
        cmocka_unit_test(test_forwards_and_stops),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
