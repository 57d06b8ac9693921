/* The options server.c's REP gets through a helper in another file. */
#include <stdint.h>
#include <zmq.h>

#include "limits.h"

void set_limits(void *sock)
{
    int linger = 0;
    int64_t max = 2 * 1024 * 1024;
    zmq_setsockopt(sock, ZMQ_LINGER, &linger, sizeof linger);
    zmq_setsockopt(sock, ZMQ_MAXMSGSIZE, &max, sizeof max);
}
