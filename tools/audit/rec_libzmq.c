/*
 * rec_libzmq.c - libzmq's C API, in C and C++ files: zmq_socket,
 * zmq_setsockopt, zmq_bind/zmq_connect, and every send and receive call.
 *
 * A bind to inproc://zeromq.zap.01 is a ZAP handler: libzmq sends every
 * handshake of a socket with a security mechanism there, so a file that
 * binds it authenticates its CURVE servers.
 */
#include "audit.h"

#include <string.h>

#define ZAP_ENDPOINT "inproc://zeromq.zap.01"

/* Send and receive calls: where the socket and the flags are. */
static const struct {
    const char *name;
    int send;
    int sock_arg;
    int flags_arg;
} io_calls[] = {
    {"zmq_send", 1, 0, 3},      {"zmq_send_const", 1, 0, 3},
    {"zmq_recv", 0, 0, 3},      {"zmq_sendmsg", 1, 0, 2},
    {"zmq_recvmsg", 0, 0, 2},   {"zmq_sendiov", 1, 0, 3},
    {"zmq_recviov", 0, 0, 3},   {"zmq_msg_send", 1, 1, 2},
    {"zmq_msg_recv", 0, 1, 2},
};

static void socket_call(au_file_t *f, const au_call_t *c)
{
    if (c->nargs < 2)
        return;
    char tname[AU_NAME_MAX];
    au_last_name(f, c->args[1], tname, sizeof tname);
    au_ev_socket(f, AU_API_LIBZMQ, c, au_type_from_name(tname, strlen(tname)));
}

static void attach_call(au_file_t *f, const au_call_t *c, int bind)
{
    if (c->nargs < 2)
        return;
    au_event_t *e = au_ev_attach(f, AU_API_LIBZMQ, c->node, c->args[0], c->name,
                                 bind, c->args[1]);
    if (e && bind && e->endpoint_known && strcmp(e->endpoint, ZAP_ENDPOINT) == 0) {
        au_event_t *a = au_emit(f, AU_EV_AUTHENTICATOR, AU_API_LIBZMQ, c->node);
        if (a)
            snprintf(a->call, sizeof a->call, "ZAP handler");
    }
}

static void io_call(au_file_t *f, const au_call_t *c)
{
    for (size_t i = 0; i < sizeof io_calls / sizeof io_calls[0]; i++) {
        if (strcmp(c->name, io_calls[i].name) != 0)
            continue;
        if (c->nargs <= io_calls[i].sock_arg)
            return;
        au_ev_io(f, AU_API_LIBZMQ, c->node, c->args[io_calls[i].sock_arg], c->name,
                 io_calls[i].send, au_flags_nonblocking(f, c, io_calls[i].flags_arg));
        return;
    }
}

void au_rec_libzmq(au_file_t *f, const au_call_t *c)
{
    if (strcmp(c->name, "zmq_socket") == 0)
        socket_call(f, c);
    else if (strcmp(c->name, "zmq_setsockopt") == 0 && c->nargs >= 3)
        au_ev_option_name(f, AU_API_LIBZMQ, c->node, c->args[0], c->args[1],
                          c->args[2]);
    else if (strcmp(c->name, "zmq_bind") == 0)
        attach_call(f, c, 1);
    else if (strcmp(c->name, "zmq_connect") == 0)
        attach_call(f, c, 0);
    else
        io_call(f, c);
}
