/* Helpers in the style of the zguide's zhelpers.h: they receive and send on
 * the socket their caller passes (server.c calls them). */
#include <string.h>
#include <zmq.h>

static char *s_recv(void *socket)
{
    static char buffer[256];
    int size = zmq_recv(socket, buffer, 255, 0);
    if (size < 0)
        return NULL;
    buffer[size < 255 ? size : 255] = '\0';
    return buffer;
}

static int s_send(void *socket, const char *string)
{
    return zmq_send(socket, string, strlen(string), 0);
}

/* a chain: a helper that calls a helper */
static char *s_recv_logged(void *socket)
{
    return s_recv(socket);
}

/* never waits: DONTWAIT */
static char *s_try_recv(void *socket)
{
    static char buffer[256];
    int size = zmq_recv(socket, buffer, 255, ZMQ_DONTWAIT);
    return size < 0 ? NULL : buffer;
}
