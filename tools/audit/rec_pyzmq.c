/*
 * rec_pyzmq.c - pyzmq, sync and asyncio alike: contexts (zmq.Context(),
 * Context.instance(), zmq.asyncio.Context()), sockets (ctx.socket(zmq.X),
 * zmq.Socket(ctx, zmq.X), `with ctx.socket(...) as s`), options in every
 * spelling (setsockopt, set, setsockopt_string, set_hwm, `s.sndhwm = n`,
 * `s.hwm = n`, `s.curve_server = True`), context defaults (the same on a
 * context: pyzmq copies them into each socket it makes afterwards), bind,
 * connect, bind_to_random_port, every send_* and recv_*, and the
 * authenticators of zmq.auth.
 *
 * Python sockets are untyped variables: an option or a send on a name is
 * recorded, and kept only when the name resolves to a socket (model.c).
 */
#include "audit.h"

#include <stdbool.h>
#include <string.h>

static const char *const io_names[] = {
    "send", "send_string", "send_json", "send_pyobj", "send_multipart",
    "send_serialized", "recv", "recv_string", "recv_json", "recv_pyobj",
    "recv_multipart", "recv_serialized", "recv_into",
};

static const char *const authenticators[] = {
    "ThreadAuthenticator", "AsyncioAuthenticator", "GreenThreadAuthenticator",
    "Authenticator",
};

static int in_list(const char *name, const char *const *list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(name, list[i]) == 0)
            return 1;
    return 0;
}

static int known_context(const au_file_t *f, const char *var)
{
    for (size_t i = 0; i < f->nev; i++)
        if (f->ev[i].kind == AU_EV_CONTEXT && strcmp(f->ev[i].var, var) == 0)
            return 1;
    return 0;
}

/* zmq.Context(), zmq.asyncio.Context.instance(), Context() */
static int context_call(au_file_t *f, const au_call_t *c)
{
    size_t q = strlen(c->qual);
    int ctx = strcmp(c->name, "Context") == 0 ||
              (strcmp(c->name, "instance") == 0 && q >= 7 &&
               strcmp(c->qual + q - 7, "Context") == 0);
    if (!ctx)
        return 0;
    au_event_t *e = au_emit(f, AU_EV_CONTEXT, AU_API_PYZMQ, c->node);
    if (e)
        au_assigned_var(f, c->node, e->var, sizeof e->var);
    return 1;
}

static void socket_call(au_file_t *f, const au_call_t *c, TSNode type_arg,
                        const char *ctx)
{
    char tname[AU_NAME_MAX], text[AU_TEXT_MAX];
    au_last_name(f, type_arg, tname, sizeof tname);
    au_text(f, type_arg, text, sizeof text);
    int type = au_type_from_name(tname, strlen(tname));
    /* socket.socket(AF_INET) is not ZeroMQ: a type must be readable, or
     * the factory a context this file made, or a helper's context and type
     * parameters (`def make(ctx, kind): return ctx.socket(kind)`) */
    if (type < 0 && strncmp(text, "zmq.", 4) != 0 && !known_context(f, ctx) &&
        !(strcmp(ctx, "socket") != 0 && au_helpers_is_param(f, type_arg)))
        return;
    au_event_t *e = au_ev_socket(f, AU_API_PYZMQ, c, type);
    if (e)
        snprintf(e->ctx, sizeof e->ctx, "%s", ctx);
}

/* auth.start(): where the authenticator starts (pyzmq waits there until
 * its ZAP handler is bound); auth.allow(...), auth.deny(...): its rules */
static int authenticator_call(au_file_t *f, const au_call_t *c)
{
    char v[AU_NAME_MAX];
    int start = strcmp(c->name, "start") == 0;
    int rule = strcmp(c->name, "allow") == 0 || strcmp(c->name, "deny") == 0;
    if (!(start || rule) || !au_var(f, c->object, v, sizeof v))
        return 0;
    au_event_t *a = au_auth_named(f, v);
    if (!a)
        return 0;
    if (rule) {
        au_ev_auth_rule(f, AU_API_PYZMQ, c->node, v, c->name);
        return 1;
    }
    TSPoint p = ts_node_start_point(c->node);
    a->line = p.row + 1;
    a->col = p.column + 1;
    a->pos = ts_node_start_byte(c->node);
    a->scope = f->scope;
    return 1;
}

static void option_call(au_file_t *f, const au_call_t *c)
{
    const char *n = c->name;
    if (strcmp(n, "set_hwm") == 0 && c->nargs >= 1)
        au_ev_option(f, AU_API_PYZMQ, c->node, c->object, "HWM", 3, c->args[0]);
    else if (c->nargs >= 2)
        au_ev_option_name(f, AU_API_PYZMQ, c->node, c->object, c->args[0], c->args[1]);
}

static void method(au_file_t *f, const au_call_t *c)
{
    const char *n = c->name;
    if (strcmp(n, "socket") == 0 && c->nargs >= 1) {
        socket_call(f, c, c->args[0], c->qual);
    } else if (strcmp(n, "setsockopt") == 0 || strcmp(n, "set") == 0 ||
               strcmp(n, "setsockopt_string") == 0 || strcmp(n, "set_string") == 0 ||
               strcmp(n, "setsockopt_unicode") == 0 || strcmp(n, "set_hwm") == 0) {
        option_call(f, c);
    } else if ((strcmp(n, "bind") == 0 || strcmp(n, "connect") == 0 ||
                strcmp(n, "bind_to_random_port") == 0) && c->nargs >= 1) {
        au_event_t *e = au_ev_attach(f, AU_API_PYZMQ, c->node, c->object, n, n[0] == 'b',
                                     c->args[0]);
        if (e && strcmp(n, "bind_to_random_port") == 0)
            e->endpoint_partial = 1; /* the port is pyzmq's choice */
    } else if (in_list(n, io_names, sizeof io_names / sizeof io_names[0])) {
        au_event_t *e = au_ev_io(f, AU_API_PYZMQ, c->node, c->object, n, n[0] == 's',
                                 au_flags_nonblocking(f, c, 0));
        if (e)
            e->pickle = strcmp(n, "recv_pyobj") == 0;
    }
}

void au_rec_pyzmq_call(au_file_t *f, const au_call_t *c)
{
    if (context_call(f, c))
        return;
    if (strcmp(c->name, "Socket") == 0 && c->nargs >= 2) {
        char ctx[AU_NAME_MAX] = "";
        au_var(f, c->args[0], ctx, sizeof ctx);
        socket_call(f, c, c->args[1], ctx);
    } else if (in_list(c->name, authenticators,
                       sizeof authenticators / sizeof authenticators[0])) {
        au_ev_authenticator(f, AU_API_PYZMQ, c, c->name);
    } else if (c->method && authenticator_call(f, c)) {
        return;
    } else if (c->method) {
        method(f, c);
    }
}

/* One target of an assignment: s.sndhwm = 1000, s.hwm = 1000,
 * s.curve_server = True, ctx.linger = 0 */
static void assign_one(au_file_t *f, TSNode n, TSNode l, TSNode r)
{
    if (!au_is(l, "attribute") || ts_node_is_null(r))
        return;
    char name[AU_NAME_MAX];
    au_text(f, ts_node_child_by_field_name(l, "attribute", 9), name, sizeof name);
    au_opt_info_t info;
    au_opt_lookup(name, strlen(name), &info);
    if (info.kind == AU_OK_OTHER || info.kind == AU_OK_UNBOUNDED)
        return;
    au_ev_option(f, AU_API_PYZMQ, n, ts_node_child_by_field_name(l, "object", 6),
                 name, strlen(name), r);
}

/* Assignments, tuple ones included, as pyzmq code loads its keys:
 *   s.curve_publickey, s.curve_secretkey = zmq.auth.load_certificate(p)
 *   s.curve_serverkey, _ = zmq.auth.load_certificate(p)
 * Each attribute on the left is set: to its element of a tuple written on
 * the right, else to the right side as a whole (a value the audit cannot
 * read, such as a call's). Before this, a pyzmq client keyed this way was
 * reported as curve-missing. */
void au_rec_pyzmq_assign(au_file_t *f, TSNode n)
{
    if (!au_is(n, "assignment"))
        return;
    TSNode l = ts_node_child_by_field_name(n, "left", 4);
    TSNode r = ts_node_child_by_field_name(n, "right", 5);
    /* s.sndtimeo = s.rcvtimeo = 2000: the value is the last right side (the
     * inner assignment is visited on its own) */
    while (au_is(r, "assignment"))
        r = ts_node_child_by_field_name(r, "right", 5);
    if (!au_is(l, "pattern_list") && !au_is(l, "tuple_pattern")) {
        assign_one(f, n, l, r);
        return;
    }
    uint32_t targets = ts_node_named_child_count(l);
    bool paired = !ts_node_is_null(r) &&
                  (au_is(r, "expression_list") || au_is(r, "tuple")) &&
                  ts_node_named_child_count(r) == targets;
    for (uint32_t i = 0; i < targets; i++)
        assign_one(f, n, ts_node_named_child(l, i),
                   paired ? ts_node_named_child(r, i) : r);
}
