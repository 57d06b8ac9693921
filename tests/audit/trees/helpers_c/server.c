/* Receives and sends only through the helpers of zhelpers.h. */
#include "zhelpers.h"

int main(void)
{
    void *ctx = zmq_ctx_new();
    void *rep = zmq_socket(ctx, ZMQ_REP);
    int hwm = 100, linger = 0;
    int64_t max = 4096;
    zmq_setsockopt(rep, ZMQ_SNDHWM, &hwm, sizeof hwm);
    zmq_setsockopt(rep, ZMQ_RCVHWM, &hwm, sizeof hwm);
    zmq_setsockopt(rep, ZMQ_MAXMSGSIZE, &max, sizeof max);
    zmq_setsockopt(rep, ZMQ_LINGER, &linger, sizeof linger);
    zmq_bind(rep, "ipc:///tmp/helpers-c");
    s_recv(rep);               /* waits forever: no RCVTIMEO */
    s_send(rep, "ok");         /* REP: a send never waits */
    s_recv_logged(rep);        /* the same, one helper further */
    s_try_recv(rep);           /* DONTWAIT */

    void *push = zmq_socket(ctx, ZMQ_PUSH);
    int timeout = 1000;
    zmq_setsockopt(push, ZMQ_SNDHWM, &hwm, sizeof hwm);
    zmq_setsockopt(push, ZMQ_SNDTIMEO, &timeout, sizeof timeout);
    zmq_setsockopt(push, ZMQ_LINGER, &linger, sizeof linger);
    zmq_connect(push, "inproc://sink");
    s_send(push, "x");         /* bounded by SNDTIMEO */
    zmq_close(push);
    zmq_close(rep);
    return zmq_ctx_term(ctx);
}
