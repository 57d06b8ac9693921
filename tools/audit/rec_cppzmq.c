/*
 * rec_cppzmq.c - cppzmq (zmq.hpp): zmq::socket_t made by declaration
 * (`zmq::socket_t s(ctx, ZMQ_PUSH)`, brace init, `= zmq::socket_t{...}`),
 * by new or make_unique/make_shared, or in a constructor's member
 * initialisers; the type as ZMQ_X or zmq::socket_type::x. Options through
 * s.set(zmq::sockopt::x, v) and the older s.setsockopt(ZMQ_X, ...); bind,
 * connect, send, recv and zmq::send_multipart/recv_multipart.
 *
 * Method calls are recorded for any object; only those whose object turns
 * out to be a socket of this file are kept (model.c), so `queue.send()` on
 * something else costs nothing.
 */
#include "audit.h"

#include <string.h>

static int is_socket_type_text(const char *t)
{
    return strstr(t, "socket_t") != NULL && strstr(t, "socket_type") == NULL;
}

/* (ctx, type) or {ctx, type}: the type is the second element. */
static int type_of_args(const au_file_t *f, TSNode args, int *type)
{
    if (ts_node_is_null(args) || ts_node_named_child_count(args) < 2)
        return 0;
    char name[AU_NAME_MAX];
    au_last_name(f, ts_node_named_child(args, 1), name, sizeof name);
    *type = au_type_from_name(name, strlen(name));
    return 1;
}

static void socket_at(au_file_t *f, TSNode at, TSNode args, const char *var,
                      const char *how)
{
    int type = -1;
    if (!type_of_args(f, args, &type))
        return;
    au_event_t *e = au_emit(f, AU_EV_SOCKET, AU_API_CPPZMQ, at);
    if (!e)
        return;
    e->type = type;
    snprintf(e->var, sizeof e->var, "%s", var);
    snprintf(e->call, sizeof e->call, "%s", how);
}

/* True when n's "type" field names zmq::socket_t. */
static int has_socket_type(au_file_t *f, TSNode n)
{
    char type[AU_TEXT_MAX];
    TSNode t = ts_node_child_by_field_name(n, "type", 4);
    if (ts_node_is_null(t))
        return 0;
    au_text(f, t, type, sizeof type);
    return is_socket_type_text(type);
}

/* zmq::socket_t a(ctx, ZMQ_PUSH), b{ctx, zmq::socket_type::pull}; */
static void declaration(au_file_t *f, TSNode n)
{
    if (!has_socket_type(f, n))
        return;
    uint32_t k = ts_node_named_child_count(n);
    for (uint32_t i = 0; i < k; i++) {
        TSNode d = ts_node_named_child(n, i);
        if (!au_is(d, "init_declarator") && !au_is(d, "function_declarator"))
            continue;
        char var[AU_NAME_MAX];
        if (au_is(d, "function_declarator")) {
            /* `zmq::socket_t a(ctx, ZMQ_REQ);` parses as a function
             * declaration whose "parameter types" are the arguments */
            TSNode name = ts_node_child_by_field_name(d, "declarator", 10);
            TSNode params = ts_node_child_by_field_name(d, "parameters", 10);
            if (au_is(name, "identifier") && !ts_node_is_null(params)) {
                au_text(f, name, var, sizeof var);
                socket_at(f, d, params, var, "zmq::socket_t");
            }
            continue;
        }
        TSNode name = ts_node_child_by_field_name(d, "declarator", 10);
        TSNode value = ts_node_child_by_field_name(d, "value", 5);
        if (!au_is(name, "identifier") || ts_node_is_null(value))
            continue;
        au_text(f, name, var, sizeof var);
        /* `= zmq::socket_t(...)` is a call, recorded as such */
        if (au_is(value, "argument_list") || au_is(value, "initializer_list"))
            socket_at(f, d, value, var, "zmq::socket_t");
    }
}

void au_rec_cppzmq_decl(au_file_t *f, TSNode n)
{
    char var[AU_NAME_MAX] = "";
    if (au_is(n, "declaration")) {
        declaration(f, n);
    } else if (au_is(n, "field_initializer")) {
        /* Orders(zmq::context_t &c) : sock_(c, zmq::socket_type::push) */
        TSNode args = ts_node_named_child(n, ts_node_named_child_count(n) - 1);
        int type = -1;
        if (ts_node_named_child_count(n) < 2 || !type_of_args(f, args, &type) || type < 0)
            return;
        au_var(f, ts_node_named_child(n, 0), var, sizeof var);
        socket_at(f, n, args, var, "zmq::socket_t");
        if (f->nev > 0 && f->ev[f->nev - 1].kind == AU_EV_SOCKET)
            f->ev[f->nev - 1].member = 1;
    } else if (au_is(n, "new_expression") || au_is(n, "compound_literal_expression")) {
        if (!has_socket_type(f, n))
            return;
        TSNode args = ts_node_child_by_field_name(n, au_is(n, "new_expression")
                                                  ? "arguments" : "value",
                                                  au_is(n, "new_expression") ? 9 : 5);
        au_assigned_var(f, n, var, sizeof var);
        socket_at(f, n, args, var, "zmq::socket_t");
    }
}

static void method(au_file_t *f, const au_call_t *c)
{
    const char *n = c->name;
    if (strcmp(n, "set") == 0 && c->nargs >= 2)
        au_ev_option_name(f, AU_API_CPPZMQ, c->node, c->object, c->args[0], c->args[1]);
    else if (strcmp(n, "setsockopt") == 0 && c->nargs >= 2)
        au_ev_option_name(f, AU_API_CPPZMQ, c->node, c->object, c->args[0], c->args[1]);
    else if (strcmp(n, "bind") == 0 && c->nargs >= 1)
        au_ev_attach(f, AU_API_CPPZMQ, c->node, c->object, n, 1, c->args[0]);
    else if (strcmp(n, "connect") == 0 && c->nargs >= 1)
        au_ev_attach(f, AU_API_CPPZMQ, c->node, c->object, n, 0, c->args[0]);
    else if (strcmp(n, "send") == 0 || strcmp(n, "recv") == 0)
        au_ev_io(f, AU_API_CPPZMQ, c->node, c->object, n, n[0] == 's',
                 au_flags_nonblocking(f, c, 1));
}

static void function(au_file_t *f, const au_call_t *c)
{
    const char *n = c->name;
    char fn[AU_TEXT_MAX];
    au_text(f, ts_node_child_by_field_name(c->node, "function", 8), fn, sizeof fn);
    if (strcmp(n, "socket_t") == 0 ||
        ((strcmp(n, "make_unique") == 0 || strcmp(n, "make_shared") == 0) &&
         is_socket_type_text(fn))) {
        char var[AU_NAME_MAX] = "";
        au_assigned_var(f, c->node, var, sizeof var);
        socket_at(f, c->node, ts_node_child_by_field_name(c->node, "arguments", 9),
                  var, n);
    } else if ((strcmp(n, "send_multipart") == 0 || strcmp(n, "recv_multipart") == 0 ||
                strcmp(n, "recv_multipart_n") == 0) && c->nargs >= 1) {
        au_ev_io(f, AU_API_CPPZMQ, c->node, c->args[0], n, n[0] == 's',
                 au_flags_nonblocking(f, c, 2));
    }
}

void au_rec_cppzmq_call(au_file_t *f, const au_call_t *c)
{
    if (c->method)
        method(f, c);
    else
        function(f, c);
}
