/*
 * events.c - the few shapes every recogniser records: a socket made, an
 * option set, a bind or connect, a send or receive. Each API family only
 * says where in its calls these are; reading the variable, the value and
 * the endpoint is the same everywhere, and lives here.
 */
#include "audit.h"

#include <string.h>

int au_assigned_var(const au_file_t *f, TSNode call, char *buf, size_t cap)
{
    TSNode n = call, p = ts_node_parent(call);
    for (int i = 0; i < 6 && !ts_node_is_null(p); i++) {
        if (au_is(p, "parenthesized_expression") || au_is(p, "cast_expression") ||
            au_is(p, "await") || au_is(p, "pointer_expression")) {
            n = p;
            p = ts_node_parent(p);
            continue;
        }
        /* std::unique_ptr<zmq::socket_t> s(new zmq::socket_t(...)) */
        if (au_is(p, "argument_list") && au_is(ts_node_parent(p), "init_declarator")) {
            n = p;
            p = ts_node_parent(p);
        }
        if (au_is(p, "init_declarator")) {
            TSNode name = au_declarator_name(ts_node_child_by_field_name(p, "declarator", 10));
            if (ts_node_is_null(name))
                return 0;
            au_text(f, name, buf, cap);
            return 1;
        }
        if (au_is(p, "assignment_expression") || au_is(p, "assignment")) {
            TSNode l = ts_node_child_by_field_name(p, "left", 4);
            return !ts_node_eq(l, n) && au_var(f, l, buf, cap);
        }
        if (au_is(p, "as_pattern")) { /* with ctx.socket(zmq.REQ) as s: */
            TSNode alias = ts_node_child_by_field_name(p, "alias", 5);
            return !ts_node_is_null(alias) && ts_node_named_child_count(alias) > 0 &&
                   au_var(f, ts_node_named_child(alias, 0), buf, cap);
        }
        return 0;
    }
    return 0;
}

au_event_t *au_ev_socket(au_file_t *f, au_api_t api, const au_call_t *c, int type)
{
    au_event_t *e = au_emit(f, AU_EV_SOCKET, api, c->node);
    if (!e)
        return NULL;
    e->type = type;
    snprintf(e->call, sizeof e->call, "%s", c->name);
    au_assigned_var(f, c->node, e->var, sizeof e->var);
    return e;
}

au_event_t *au_ev_option(au_file_t *f, au_api_t api, TSNode at, TSNode var,
                         const char *opt, size_t optlen, TSNode value)
{
    char v[AU_NAME_MAX];
    if (!au_var(f, var, v, sizeof v))
        return NULL;
    au_event_t *e = au_emit(f, AU_EV_OPTION, api, at);
    if (!e)
        return NULL;
    snprintf(e->var, sizeof e->var, "%s", v);
    snprintf(e->call, sizeof e->call, "%.*s", (int)optlen, opt);
    au_opt_lookup(opt, optlen, &e->opt);
    if (!ts_node_is_null(value))
        au_eval_value(f, value, &e->val);
    return e;
}

/* An option constant is written in capitals (ZMQ_SNDHWM, zmq.SNDHWM) or as
 * cppzmq's zmq::sockopt::x; anything else (`opt`, `info->zmq_option`) is a
 * variable, and the socket may then get any option. */
static int option_is_variable(const au_file_t *f, TSNode optnode, const char *name)
{
    char text[AU_TEXT_MAX];
    au_text(f, optnode, text, sizeof text);
    if (strstr(text, "sockopt"))
        return 0;
    for (const char *p = name; *p; p++)
        if (*p >= 'a' && *p <= 'z')
            return 1;
    return name[0] == '\0';
}

au_event_t *au_ev_option_name(au_file_t *f, au_api_t api, TSNode at, TSNode var,
                              TSNode optnode, TSNode value)
{
    char name[AU_NAME_MAX];
    au_last_name(f, optnode, name, sizeof name);
    au_event_t *e = au_ev_option(f, api, at, var, name, strlen(name), value);
    if (e && e->opt.kind == AU_OK_OTHER)
        e->opt_variable = option_is_variable(f, optnode, name);
    return e;
}

/* An event of a call on the socket named by var; NULL when var names none. */
static au_event_t *call_on(au_file_t *f, au_ev_kind_t kind, au_api_t api,
                           TSNode at, TSNode var, const char *call)
{
    char v[AU_NAME_MAX];
    if (!au_var(f, var, v, sizeof v))
        return NULL;
    au_event_t *e = au_emit(f, kind, api, at);
    if (!e)
        return NULL;
    snprintf(e->var, sizeof e->var, "%s", v);
    snprintf(e->call, sizeof e->call, "%s", call);
    return e;
}

au_event_t *au_ev_attach(au_file_t *f, au_api_t api, TSNode at, TSNode var,
                         const char *call, int bind, TSNode endpoint)
{
    au_event_t *e = call_on(f, AU_EV_ATTACH, api, at, var, call);
    if (!e)
        return NULL;
    e->bind = bind;
    int partial = 0;
    if (!ts_node_is_null(endpoint) &&
        au_eval_str(f, endpoint, e->endpoint, sizeof e->endpoint, &partial)) {
        e->endpoint_known = 1;
        e->endpoint_partial = partial;
    }
    else if (!ts_node_is_null(endpoint))
        au_text(f, endpoint, e->endpoint, sizeof e->endpoint);
    return e;
}

au_event_t *au_ev_io(au_file_t *f, au_api_t api, TSNode at, TSNode var,
                     const char *call, int send, int nonblocking)
{
    au_event_t *e = call_on(f, AU_EV_IO, api, at, var, call);
    if (!e)
        return NULL;
    e->send = send;
    e->nonblocking = nonblocking || f->guarded;
    return e;
}

/* ---- authenticators and the threads or tasks that may start them ---------- */

au_event_t *au_ev_authenticator(au_file_t *f, au_api_t api, const au_call_t *c,
                                const char *what)
{
    au_event_t *e = au_emit(f, AU_EV_AUTHENTICATOR, api, c->node);
    if (!e)
        return NULL;
    snprintf(e->call, sizeof e->call, "%s", what);
    au_assigned_var(f, c->node, e->var, sizeof e->var);
    return e;
}

au_event_t *au_auth_named(au_file_t *f, const char *var)
{
    if (!var[0])
        return NULL;
    for (size_t i = f->nev; i-- > 0;)
        if (f->ev[i].kind == AU_EV_AUTHENTICATOR && strcmp(f->ev[i].var, var) == 0)
            return &f->ev[i];
    return NULL;
}

void au_ev_auth_rule(au_file_t *f, au_api_t api, TSNode at, const char *var,
                     const char *rule)
{
    au_event_t *e = au_emit(f, AU_EV_AUTH_RULE, api, at);
    if (e) {
        snprintf(e->var, sizeof e->var, "%s", var);
        snprintf(e->call, sizeof e->call, "%s", rule);
    }
}

/* Calls that run a function in another thread or task, and which argument
 * names it (-1: Python's target=). Not zactor_new: it returns only once the
 * actor has signalled, so what the actor does first is done by then. */
static const struct {
    const char *name;
    int arg;
} task_calls[] = {
    {"pthread_create", 2}, {"thrd_create", 1},      {"zmq_threadstart", 0},
    {"zthread_new", 0},    {"zthread_fork", 1},
    {"start_new_thread", 0}, {"create_task", 0},    {"ensure_future", 0},
    {"run_in_executor", 1}, {"Thread", -1},         {"Process", -1},
};

static TSNode target_kwarg(const au_file_t *f, const au_call_t *c)
{
    for (int i = 0; i < c->nkwargs; i++) {
        char name[16];
        au_text(f, ts_node_child_by_field_name(c->kwargs[i], "name", 4), name, sizeof name);
        if (strcmp(name, "target") == 0)
            return ts_node_child_by_field_name(c->kwargs[i], "value", 5);
    }
    return (TSNode){0};
}

void au_rec_task(au_file_t *f, const au_call_t *c)
{
    for (size_t i = 0; i < sizeof task_calls / sizeof task_calls[0]; i++) {
        if (strcmp(c->name, task_calls[i].name) != 0)
            continue;
        int k = task_calls[i].arg;
        TSNode fn = k < 0 ? target_kwarg(f, c) : k < c->nargs ? c->args[k] : (TSNode){0};
        /* create_task(serve(ctx)): the coroutine's function */
        if (au_is(fn, "call"))
            fn = ts_node_child_by_field_name(fn, "function", 8);
        if (ts_node_is_null(fn))
            return;
        au_event_t *e = au_emit(f, AU_EV_TASK, AU_API_LIBZMQ, c->node);
        if (e) {
            au_last_name(f, fn, e->var, sizeof e->var);
            snprintf(e->call, sizeof e->call, "%s", c->name);
        }
        return;
    }
}
