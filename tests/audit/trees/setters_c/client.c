/* Its sockets get their options from the setters of opts.c. */
#include <zmq.h>

void set_limits(void *sock);
void harden_all(void *sock);

int main(void)
{
    void *ctx = zmq_ctx_new();
    char buf[64];
    void *dealer = zmq_socket(ctx, ZMQ_DEALER);
    harden_all(dealer);                  /* every mitigation but CURVE */
    zmq_connect(dealer, "ipc:///tmp/setters-c");
    zmq_send(dealer, "hi", 2, 0);        /* bounded by SNDTIMEO */
    zmq_recv(dealer, buf, sizeof buf, 0); /* bounded by RCVTIMEO */

    void *sub = zmq_socket(ctx, ZMQ_SUB);
    zmq_connect(sub, "inproc://events");
    set_limits(sub);                     /* after connect: RCVHWM comes too late */
    zmq_recv(sub, buf, sizeof buf, 0);   /* RCVTIMEO applies at once */
    zmq_close(sub);
    zmq_close(dealer);
    return zmq_ctx_term(ctx);
}
