/* Corpus for zguard audit: libzmq's C API. Expected findings: libzmq.c.expect */
#include <zmq.h>

#define SERVER_HWM 2000
#define TIMEOUT_MS (5 * 1000)

static const char server_secret[] = "JTKVSB%%)wK0E.X)V>+}o?pNmC{O&4W4b!Ni{Lh6";
static const unsigned char raw_secret[32] = {
    1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
    17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32};

/* everything set, before bind: clean */
static void hardened(void *ctx)
{
    void *s = zmq_socket(ctx, ZMQ_PUSH);
    int hwm = SERVER_HWM, timeout = TIMEOUT_MS, linger = 0;
    zmq_setsockopt(s, ZMQ_SNDHWM, &hwm, sizeof hwm);
    zmq_setsockopt(s, ZMQ_SNDTIMEO, &timeout, sizeof timeout);
    zmq_setsockopt(s, ZMQ_LINGER, &linger, sizeof linger);
    zmq_setsockopt(s, ZMQ_CURVE_SERVERKEY, "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7", 40);
    zmq_connect(s, "tcp://10.0.0.1:5555");
    zmq_send(s, "x", 1, 0);
    zmq_close(s);
}

/* nothing set: every low finding, a blocking receive, tcp on all interfaces */
static void bare(void *ctx)
{
    void *pull = zmq_socket(ctx, ZMQ_PULL);
    zmq_bind(pull, "tcp://*:5556");
    char buf[64];
    zmq_recv(pull, buf, sizeof buf, 0);
    zmq_recv(pull, buf, sizeof buf, ZMQ_DONTWAIT);
    zmq_msg_t m;
    zmq_msg_init(&m);
    zmq_msg_recv(&m, pull, 0);
    zmq_recvmsg(pull, &m, ZMQ_NOBLOCK);
}

/* values that remove the bound; options after bind; a hard-coded secret */
static void weak(void *ctx)
{
    void *r = zmq_socket(ctx, ZMQ_ROUTER);
    zmq_setsockopt(r, ZMQ_RCVHWM, &(int){0}, sizeof(int));
    int inf = -1;
    zmq_setsockopt(r, ZMQ_RCVTIMEO, &inf, sizeof inf);
    zmq_setsockopt(r, ZMQ_SNDTIMEO, &inf, sizeof inf);
    zmq_setsockopt(r, ZMQ_CURVE_SERVER, &(int){1}, sizeof(int));
    zmq_setsockopt(r, ZMQ_CURVE_SECRETKEY, server_secret, 40);
    zmq_bind(r, "tcp://0.0.0.0:5557");
    zmq_setsockopt(r, ZMQ_SNDHWM, &(int){100}, sizeof(int));
    zmq_setsockopt(r, ZMQ_MAXMSGSIZE, &(long){1024}, sizeof(long));
    zmq_setsockopt(r, ZMQ_LINGER, &(int){0}, sizeof(int));
    zmq_send(r, "id", 2, ZMQ_SNDMORE);
}

/* a CURVE client with a raw 32-byte secret; a ZAP handler authenticates */
static void zap_and_client(void *ctx)
{
    void *zap = zmq_socket(ctx, ZMQ_REP);
    zmq_bind(zap, "inproc://zeromq.zap.01");
    void *c = zmq_socket(ctx, ZMQ_DEALER);
    zmq_setsockopt(c, ZMQ_CURVE_SECRETKEY, raw_secret, 32);
    zmq_setsockopt(c, ZMQ_CURVE_SERVER, &(int){1}, sizeof(int));
    zmq_connect(c, "ipc:///tmp/x.sock");
    char buf[8];
    zmq_pollitem_t items[1] = {{c, 0, ZMQ_POLLIN, 0}};
    zmq_poll(items, 1, 1000);
    if (items[0].revents & ZMQ_POLLIN)
        zmq_recv(c, buf, sizeof buf, 0);
}

/* a socket given as a parameter is not followed */
static void helper(void *sock)
{
    zmq_setsockopt(sock, ZMQ_SNDHWM, &(int){0}, sizeof(int));
    zmq_send(sock, "x", 1, 0);
}

/* suppressions: with a reason, without one, an unknown rule, an unused one */
static void suppressed(void *ctx)
{
    // zguard-audit: ignore hwm-not-set, timeout-not-set, linger-not-set -- inproc test pipe, lives for one call
    void *p = zmq_socket(ctx, ZMQ_PAIR);
    zmq_connect(p, "inproc://pipe");
    zmq_send(p, "x", 1, 0); /* zguard-audit: ignore blocking-without-timeout -- the peer always reads */
    zmq_recv(p, NULL, 0, 0); // zguard-audit: ignore blocking-without-timeout
    zmq_close(p); // zguard-audit: ignore no-such-rule -- typo
    zmq_close(p); // zguard-audit: ignore hwm-unbounded -- nothing here
}

int main(void)
{
    void *ctx = zmq_ctx_new();
    hardened(ctx);
    bare(ctx);
    weak(ctx);
    zap_and_client(ctx);
    helper(NULL);
    suppressed(ctx);
    return 0;
}
