/* Its sockets come from the helpers of sockets.c. */
#include <zmq.h>

void *make_rep(void *ctx);
void *make_socket(void *ctx, int type);
int recv_some(void *s, char *buf, size_t cap);
void *make_server(void *ctx);
void *make_pair(void *ctx);

int main(void)
{
    void *ctx = zmq_ctx_new();
    void *rep = make_rep(ctx);
    int linger = 0;
    int64_t max = 4096;
    zmq_setsockopt(rep, ZMQ_MAXMSGSIZE, &max, sizeof max);
    zmq_setsockopt(rep, ZMQ_LINGER, &linger, sizeof linger);
    zmq_bind(rep, "tcp://127.0.0.1:5555");
    char buf[64];
    zmq_recv(rep, buf, sizeof buf, 0);  /* RCVTIMEO set in make_rep */
    zmq_send(rep, "ok", 2, 0);          /* REP: a send never waits */

    void *pull = make_socket(ctx, ZMQ_PULL);
    zmq_connect(pull, "tcp://127.0.0.1:5556");
    zmq_recv(pull, buf, sizeof buf, 0); /* waits forever */
    recv_some(pull, buf, sizeof buf);   /* the same, through a helper */
    recv_some(rep, buf, sizeof buf);    /* bounded by make_rep's RCVTIMEO */
    zmq_close(pull);

    void *router = make_server(ctx);    /* ROUTER, LINGER 0, bound in make_server */
    zmq_recv(router, buf, sizeof buf, 0);
    zmq_close(router);
    void *pair = make_pair(ctx);
    zmq_connect(pair, "inproc://pipe");
    zmq_close(pair);
    zmq_close(rep);
    return zmq_ctx_term(ctx);
}

/* one variable, two sockets: each use is the one made last before it */
void relay(void *ctx)
{
    void *s = make_socket(ctx, ZMQ_PUSH);
    zmq_connect(s, "inproc://relay");
    zmq_close(s);
    s = make_rep(ctx);
    zmq_bind(s, "tcp://127.0.0.1:5559");
    zmq_close(s);
}
