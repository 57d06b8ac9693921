/* Option setters applied to the socket their caller passes (client.c). */
#include <zmq.h>

/* bounded queues and timeouts */
void set_limits(void *sock)
{
    int hwm = 500, timeout = 1000;
    zmq_setsockopt(sock, ZMQ_SNDHWM, &hwm, sizeof hwm);
    zmq_setsockopt(sock, ZMQ_RCVHWM, &hwm, sizeof hwm);
    zmq_setsockopt(sock, ZMQ_SNDTIMEO, &timeout, sizeof timeout);
    zmq_setsockopt(sock, ZMQ_RCVTIMEO, &timeout, sizeof timeout);
}

/* a chain: LINGER here, the rest through set_limits */
void harden_all(void *sock)
{
    int linger = 0;
    int64_t max = 65536;
    zmq_setsockopt(sock, ZMQ_LINGER, &linger, sizeof linger);
    zmq_setsockopt(sock, ZMQ_MAXMSGSIZE, &max, sizeof max);
    set_limits(sock);
}
