/*
 * rec_czmq.c - CZMQ: zsock_new* (and the *_checked functions its macros
 * expand to), the older zsocket_new, zsock_set_* / zsocket_set_*, the
 * process defaults zsys_set_* and ZSYS_* environment variables, bind,
 * connect and attach, the zstr/zframe/zmsg/zsock send and receive calls,
 * the zauth actor, and certificates made from literals.
 *
 * Facts about CZMQ this relies on (CZMQ 4.x): every zsock gets zsys's
 * SNDHWM, RCVHWM (1000 unless zsys_set_* or ZSYS_* say otherwise) and
 * LINGER (0) when it is made; zsock_new_TYPE(endpoints) binds or connects
 * at once, "@" meaning bind and ">" connect, and without a prefix each type
 * has its own default (PUB, REP, ROUTER, PULL, XPUB, SERVER bind).
 */
#include "audit.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Process defaults CZMQ applies to every new zsock. */
static const char *const proc_options[] = {"sndhwm", "rcvhwm", "linger"};

static const struct {
    const char *name;
    int send;
    int sock_arg;
    int nonblocking;
} io_calls[] = {
    {"zstr_send", 1, 0, 0},      {"zstr_sendm", 1, 0, 0},
    {"zstr_sendf", 1, 0, 0},     {"zstr_sendfm", 1, 0, 0},
    {"zstr_sendx", 1, 0, 0},     {"zstr_recv", 0, 0, 0},
    {"zstr_recvx", 0, 0, 0},     {"zstr_recv_nowait", 0, 0, 1},
    {"zframe_send", 1, 1, 0},    {"zframe_recv", 0, 0, 0},
    {"zframe_recv_nowait", 0, 0, 1}, {"zmsg_send", 1, 1, 0},
    {"zmsg_sendm", 1, 1, 0},     {"zmsg_recv", 0, 0, 0},
    {"zsock_send", 1, 0, 0},     {"zsock_recv", 0, 0, 0},
    {"zsock_bsend", 1, 0, 0},    {"zsock_brecv", 0, 0, 0},
    {"zsock_wait", 0, 0, 0},     {"zsock_signal", 1, 0, 0},
};

static int type_binds(int type)
{
    static const char *const binders[] = {"PUB", "REP", "ROUTER", "PULL", "XPUB",
                                          "SERVER", "GATHER", "DISH"};
    for (size_t i = 0; i < sizeof binders / sizeof binders[0]; i++)
        if (strcmp(au_type_name(type), binders[i]) == 0)
            return 1;
    return 0;
}

/* "@tcp://host:5555,>inproc://x": one attach event per endpoint. */
static void endpoint_list(au_file_t *f, TSNode at, const char *var, TSNode list,
                          int default_bind, const char *call)
{
    char all[AU_TEXT_MAX];
    int partial = 0;
    if (ts_node_is_null(list) || au_is(list, "null"))
        return;
    if (!au_eval_str(f, list, all, sizeof all, &partial)) {
        au_event_t *e = au_emit(f, AU_EV_ATTACH, AU_API_CZMQ, at);
        if (e) {
            snprintf(e->var, sizeof e->var, "%s", var);
            snprintf(e->call, sizeof e->call, "%s", call);
            e->bind = default_bind;
            au_text(f, list, e->endpoint, sizeof e->endpoint);
        }
        return;
    }
    for (char *save = NULL, *ep = strtok_r(all, ",", &save); ep;
         ep = strtok_r(NULL, ",", &save)) {
        au_event_t *e = au_emit(f, AU_EV_ATTACH, AU_API_CZMQ, at);
        if (!e)
            return;
        snprintf(e->var, sizeof e->var, "%s", var);
        snprintf(e->call, sizeof e->call, "%s", call);
        e->bind = *ep == '@' ? 1 : *ep == '>' ? 0 : default_bind;
        snprintf(e->endpoint, sizeof e->endpoint, "%s",
                 *ep == '@' || *ep == '>' ? ep + 1 : ep);
        e->endpoint_known = 1;
        e->endpoint_partial = partial && (!save || !*save); /* the cut is in the last */
    }
}

/* zsock_new_push(endpoints), zsock_new_push_checked(endpoints, file, line) */
static int typed_new(au_file_t *f, const au_call_t *c)
{
    const char *t = c->name + strlen("zsock_new_");
    size_t len = strlen(t);
    if (len > 8 && strcmp(t + len - 8, "_checked") == 0)
        len -= 8;
    int type = au_type_from_name(t, len);
    if (type < 0)
        return 0;
    au_event_t *e = au_ev_socket(f, AU_API_CZMQ, c, type);
    if (!e || c->nargs < 1)
        return 1;
    /* endpoint_list adds events: e may move, so its name is copied first */
    char var[AU_NAME_MAX];
    snprintf(var, sizeof var, "%s", e->var);
    endpoint_list(f, c->node, var, c->args[0], type_binds(type), c->name);
    return 1;
}

static void new_socket(au_file_t *f, const au_call_t *c, int type_arg)
{
    if (c->nargs <= type_arg)
        return;
    char tname[AU_NAME_MAX];
    au_last_name(f, c->args[type_arg], tname, sizeof tname);
    au_ev_socket(f, AU_API_CZMQ, c, au_type_from_name(tname, strlen(tname)));
}

/* zsock_set_sndhwm(s, n), zsocket_set_curve_secretkey_bin(s, key) */
static void set_option(au_file_t *f, const au_call_t *c, const char *opt)
{
    size_t len = strlen(opt);
    if (len > 4 && strcmp(opt + len - 4, "_bin") == 0)
        len -= 4;
    if (c->nargs < 1)
        return;
    au_ev_option(f, AU_API_CZMQ, c->node, c->args[0], opt, len,
                 c->nargs >= 2 ? c->args[1] : (TSNode){0});
}

static void proc_option(au_file_t *f, const au_call_t *c, const char *opt,
                        size_t len, TSNode value, const char *text, const char *shown)
{
    int known = 0;
    for (size_t i = 0; i < sizeof proc_options / sizeof proc_options[0]; i++)
        known |= strlen(proc_options[i]) == len && strncasecmp(proc_options[i], opt, len) == 0;
    if (!known)
        return;
    au_event_t *e = au_emit(f, AU_EV_PROC_OPTION, AU_API_CZMQ, c->node);
    if (!e)
        return;
    snprintf(e->call, sizeof e->call, "%s", shown);
    au_opt_lookup(opt, len, &e->opt);
    if (!ts_node_is_null(value)) {
        au_eval_value(f, value, &e->val);
    } else if (text) {
        char *end;
        snprintf(e->val.text, sizeof e->val.text, "%s", text);
        e->val.value = strtoll(text, &end, 10);
        e->val.known = end != text && *end == '\0';
    }
}

/* setenv("ZSYS_SNDHWM", "500", 1) and putenv("ZSYS_SNDHWM=500") */
static void environment(au_file_t *f, const au_call_t *c)
{
    char name[AU_TEXT_MAX], value[AU_TEXT_MAX];
    int partial = 0;
    if (c->nargs < 1 || !au_eval_str(f, c->args[0], name, sizeof name, &partial) ||
        strncmp(name, "ZSYS_", 5) != 0)
        return;
    const char *opt = name + 5;
    char *eq = strchr(name, '=');
    if (c->name[0] == 'p') {
        if (!eq)
            return;
        *eq = '\0';
        proc_option(f, c, opt, strlen(opt), (TSNode){0}, eq + 1, name);
    } else if (c->nargs >= 2 && au_eval_str(f, c->args[1], value, sizeof value, &partial)) {
        proc_option(f, c, opt, strlen(opt), (TSNode){0}, value, name);
    }
}

static int io_call(au_file_t *f, const au_call_t *c)
{
    for (size_t i = 0; i < sizeof io_calls / sizeof io_calls[0]; i++) {
        if (strcmp(c->name, io_calls[i].name) != 0)
            continue;
        if (c->nargs > io_calls[i].sock_arg)
            au_ev_io(f, AU_API_CZMQ, c->node, c->args[io_calls[i].sock_arg], c->name,
                     io_calls[i].send,
                     io_calls[i].nonblocking || au_flags_nonblocking(f, c, 0));
        return 1;
    }
    return 0;
}

static void attach(au_file_t *f, const au_call_t *c, int bind)
{
    char v[AU_NAME_MAX];
    if (c->nargs < 2 || !au_var(f, c->args[0], v, sizeof v))
        return;
    if (bind < 0) { /* zsock_attach(s, endpoints, serverish) */
        int64_t serverish = 0;
        au_eval_int(f, c->nargs >= 3 ? c->args[2] : (TSNode){0}, &serverish);
        endpoint_list(f, c->node, v, c->args[1], serverish != 0, c->name);
        return;
    }
    au_event_t *e = au_ev_attach(f, AU_API_CZMQ, c->node, c->args[0], c->name, bind,
                                 c->args[1]);
    /* zsock_bind(s, "tcp://host:%d", port): a format, the literal is its prefix */
    if (e && e->endpoint_known && c->nargs > 2 && strchr(e->endpoint, '%'))
        e->endpoint_partial = 1;
}

/* zcert_new_from(public, secret), zcert_new_from_txt(public, secret) */
static void certificate(au_file_t *f, const au_call_t *c)
{
    au_value_t v;
    if (c->nargs < 2)
        return;
    au_eval_value(f, c->args[1], &v);
    if (!v.secret_literal)
        return;
    au_event_t *e = au_emit(f, AU_EV_SECRET, AU_API_CZMQ, c->node);
    if (e) {
        snprintf(e->call, sizeof e->call, "%s", c->name);
        e->val = v;
    }
}

/* zcert_apply(cert, sock): the certificate's key pair on the socket */
static void cert_apply(au_file_t *f, const au_call_t *c)
{
    if (c->nargs < 2)
        return;
    au_ev_option(f, AU_API_CZMQ, c->node, c->args[1], "CURVE_PUBLICKEY", 15, (TSNode){0});
    au_event_t *e = au_ev_option(f, AU_API_CZMQ, c->node, c->args[1],
                                 "CURVE_SECRETKEY", 15, (TSNode){0});
    if (e)
        snprintf(e->val.text, sizeof e->val.text, "zcert_apply");
}

/* zstr_sendx(auth, "ALLOW", "10.0.0.1", NULL), zsock_send(auth, "ss",
 * "DENY", addr): an address rule for the zauth actor auth. */
static int auth_command(au_file_t *f, const au_call_t *c)
{
    char v[AU_NAME_MAX];
    int sends = strncmp(c->name, "zstr_send", 9) == 0 || strcmp(c->name, "zsock_send") == 0;
    if (!sends || c->nargs < 2 || !au_var(f, c->args[0], v, sizeof v) || !au_auth_named(f, v))
        return 0;
    for (int i = 1; i < c->nargs && i < 3; i++) {
        char word[16];
        int partial = 0;
        if (au_eval_str(f, c->args[i], word, sizeof word, &partial) && !partial &&
            (strcmp(word, "ALLOW") == 0 || strcmp(word, "DENY") == 0)) {
            au_ev_auth_rule(f, AU_API_CZMQ, c->node, v, word);
            break;
        }
    }
    return 1;
}

static int starts(const char *s, const char *p)
{
    return strncmp(s, p, strlen(p)) == 0;
}

void au_rec_czmq(au_file_t *f, const au_call_t *c)
{
    const char *n = c->name;
    if (strcmp(n, "zsock_new") == 0 || strcmp(n, "zsock_new_checked") == 0)
        new_socket(f, c, 0);
    else if (strcmp(n, "zsocket_new") == 0)
        new_socket(f, c, 1);
    else if (starts(n, "zsock_new_"))
        typed_new(f, c);
    else if (starts(n, "zsock_set_"))
        set_option(f, c, n + strlen("zsock_set_"));
    else if (starts(n, "zsocket_set_"))
        set_option(f, c, n + strlen("zsocket_set_"));
    else if (starts(n, "zsys_set_") && c->nargs >= 1)
        proc_option(f, c, n + 9, strlen(n + 9), c->args[0], NULL, n);
    else if (strcmp(n, "setenv") == 0 || strcmp(n, "putenv") == 0)
        environment(f, c);
    else if (strcmp(n, "zsock_bind") == 0 || strcmp(n, "zsocket_bind") == 0)
        attach(f, c, 1);
    else if (strcmp(n, "zsock_connect") == 0 || strcmp(n, "zsocket_connect") == 0)
        attach(f, c, 0);
    else if (strcmp(n, "zsock_attach") == 0)
        attach(f, c, -1);
    else if (strcmp(n, "zcert_new_from") == 0 || strcmp(n, "zcert_new_from_txt") == 0)
        certificate(f, c);
    else if (strcmp(n, "zcert_apply") == 0)
        cert_apply(f, c);
    else if (strcmp(n, "zactor_new") == 0 && c->nargs >= 1) {
        char actor[AU_NAME_MAX];
        au_last_name(f, c->args[0], actor, sizeof actor);
        if (strcmp(actor, "zauth") == 0)
            au_ev_authenticator(f, AU_API_CZMQ, c, "zauth");
    } else if (!auth_command(f, c)) {
        io_call(f, c);
    }
}
