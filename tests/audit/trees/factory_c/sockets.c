/* Helpers that make sockets for their callers (server.c): what they set
 * here counts on the caller's socket, and the caller's findings are
 * reported where it calls them. */
#include <zmq.h>

/* a REP socket with bounded queues and a receive timeout */
void *make_rep(void *ctx)
{
    void *s = zmq_socket(ctx, ZMQ_REP);
    int hwm = 100, timeout = 2000;
    zmq_setsockopt(s, ZMQ_SNDHWM, &hwm, sizeof hwm);
    zmq_setsockopt(s, ZMQ_RCVHWM, &hwm, sizeof hwm);
    zmq_setsockopt(s, ZMQ_RCVTIMEO, &timeout, sizeof timeout);
    return s;
}

/* the type is the caller's: nothing set */
void *make_socket(void *ctx, int type)
{
    return zmq_socket(ctx, type);
}

/* receives on the socket it is given */
int recv_some(void *s, char *buf, size_t cap)
{
    return zmq_recv(s, buf, cap, 0);
}

/* a chain: a helper returning what a helper made for it, bound here */
void *make_server(void *ctx)
{
    void *s = make_socket(ctx, ZMQ_ROUTER);
    int linger = 0;
    zmq_setsockopt(s, ZMQ_LINGER, &linger, sizeof linger);
    zmq_bind(s, "tcp://*:5557");
    return s;
}

/* the same, returned at once */
void *make_pair(void *ctx)
{
    return make_socket(ctx, ZMQ_PAIR);
}
