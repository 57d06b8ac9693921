/* Authenticators started after the CURVE server they guard has bound: zauth
 * later in the same function, and a raw ZAP handler bound in a thread that
 * the binding function starts (it may run after the bind). */
#include <czmq.h>
#include <pthread.h>

static zsock_t *bind_then_auth(zcert_t *cert, zactor_t **auth)
{
    zsock_t *srv = zsock_new(ZMQ_ROUTER);
    zsock_set_sndhwm(srv, 1000);
    zsock_set_rcvhwm(srv, 1000);
    zsock_set_sndtimeo(srv, 1000);
    zsock_set_rcvtimeo(srv, 1000);
    zsock_set_maxmsgsize(srv, 65536);
    zcert_apply(cert, srv);
    zsock_set_curve_server(srv, 1);
    zsock_bind(srv, "tcp://127.0.0.1:9005");
    *auth = zactor_new(zauth, NULL);
    return srv;
}

static void *zap_thread(void *ctx)
{
    void *zap = zmq_socket(ctx, ZMQ_REP);
    int linger = 0;
    zmq_setsockopt(zap, ZMQ_LINGER, &linger, sizeof linger);
    zmq_bind(zap, "inproc://zeromq.zap.01");
    /* ... answer ZAP requests ... */
    zmq_close(zap);
    return NULL;
}

static void *zap_in_thread(void *ctx, const char *public_key, const char *secret_key)
{
    pthread_t t;
    pthread_create(&t, NULL, zap_thread, ctx);
    void *srv = zmq_socket(ctx, ZMQ_PULL);
    int one = 1, hwm = 1000, timeout = 1000, linger = 0;
    int64_t max = 65536;
    zmq_setsockopt(srv, ZMQ_RCVHWM, &hwm, sizeof hwm);
    zmq_setsockopt(srv, ZMQ_RCVTIMEO, &timeout, sizeof timeout);
    zmq_setsockopt(srv, ZMQ_MAXMSGSIZE, &max, sizeof max);
    zmq_setsockopt(srv, ZMQ_LINGER, &linger, sizeof linger);
    zmq_setsockopt(srv, ZMQ_CURVE_PUBLICKEY, public_key, 40);
    zmq_setsockopt(srv, ZMQ_CURVE_SECRETKEY, secret_key, 40);
    zmq_setsockopt(srv, ZMQ_CURVE_SERVER, &one, sizeof one);
    zmq_bind(srv, "tcp://127.0.0.1:9006");
    return srv;
}
