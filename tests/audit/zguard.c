/* Corpus for zguard audit: zguard's own API, audited with --policy
 * zguard.c.policy (tests/test_audit.sh passes it). Expected: zguard.c.expect */
#include <zguard.h>

static void managed(zg_ctx_t *ctx)
{
    void *in = zg_socket(ctx, ZMQ_PULL, "orders-in");
    zg_bind(in, "tcp://*:9000");
    char buf[64];
    size_t len;
    zg_recv(in, buf, sizeof buf, &len, 0);
    void *unnamed = zg_socket(ctx, ZMQ_PUSH, NULL);
    zg_connect(unnamed, "inproc://x");
    zg_send(unnamed, "x", 1, 0);
    void *typo = zg_socket(ctx, ZMQ_PULL, "orders-inn");
    void *wrong = zg_socket(ctx, ZMQ_PUSH, "orders-in");
    void *feed = zg_socket(ctx, ZMQ_SUB, "feed");
    zg_connect(feed, "tcp://feed:9001");
    zg_close(&typo);
    zg_close(&wrong);
}

/* existing code hardened in place, before and after bind */
static void hardened(zg_ctx_t *ctx)
{
    void *s = zmq_socket(zg_ctx_zmq(ctx), ZMQ_DEALER);
    zg_harden(ctx, s, "backend");
    zg_connect(s, "tcp://backend:9002");
    void *late = zmq_socket(zg_ctx_zmq(ctx), ZMQ_DEALER);
    zmq_connect(late, "tcp://backend:9003");
    zg_harden(ctx, late, "backend");
}

/* raw sockets checked against the policy's bounds */
static void raw(void *zctx)
{
    void *p = zmq_socket(zctx, ZMQ_PUSH);
    int hwm = 50000, timeout = -1, linger = 10000;
    zmq_setsockopt(p, ZMQ_SNDHWM, &hwm, sizeof hwm);
    zmq_setsockopt(p, ZMQ_SNDTIMEO, &timeout, sizeof timeout);
    zmq_setsockopt(p, ZMQ_LINGER, &linger, sizeof linger);
    zmq_connect(p, "inproc://raw");
}

int main(void)
{
    zg_ctx_t *ctx = zg_ctx_new(NULL);
    managed(ctx);
    hardened(ctx);
    raw(zg_ctx_zmq(ctx));
    return 0;
}
