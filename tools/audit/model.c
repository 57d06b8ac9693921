/*
 * model.c - from one file's events to its sockets: which socket each
 * option, bind, connect, send and receive belongs to, and for each
 * mitigation of the analysis whether it is set, to what, where, and
 * whether it takes effect.
 *
 * Resolution is by name, nearest first: the same variable in the same
 * function, then a file-level one, then a member (`self.sock`, `a->zap`,
 * a C++ member initialised in a constructor) from any function. A plain
 * local name never reaches into another function. An event that names no
 * socket of its file is kept for the run (r->pending): once every file is
 * read, helpers.c resolves it to a socket a helper made, and a socket
 * passed as a parameter is followed through the helpers it is given to.
 */
#include "audit.h"

#include <stdlib.h>
#include <string.h>

/* CZMQ gives every zsock LINGER 0 (zsys_set_linger's default). */
#define CZMQ_DEFAULT_LINGER 0

static int member_like(const char *v)
{
    return strchr(v, '.') != NULL || strstr(v, "->") != NULL;
}

static const char *member_key(const char *v)
{
    const char *k = v;
    for (const char *p = v; *p; p++) {
        if (*p == '.')
            k = p + 1;
        else if (p[0] == '-' && p[1] == '>')
            k = p + 2;
    }
    return k;
}

static int match_rank(const au_socket_t *s, const au_event_t *e)
{
    if (!s->var[0] || !e->var[0])
        return 0;
    int same = strcmp(s->var, e->var) == 0;
    if (same && s->scope == e->scope)
        return 3;
    if (same && s->scope == 0)
        return 2;
    if (member_like(e->var) && member_like(s->var) &&
        strcmp(member_key(s->var), member_key(e->var)) == 0)
        return 1;
    if (!member_like(e->var) && s->member && same)
        return 1;
    return 0;
}

/* Among the sockets [first, end) of file fi (any file when fi is -1). */
static long resolve(const au_result_t *r, size_t first, size_t end, long fi,
                    const au_event_t *e)
{
    long best = -1;
    int best_rank = 0;
    for (size_t i = first; i < end && i < r->nsockets; i++) {
        const au_socket_t *s = &r->sockets[i];
        if (fi >= 0 && s->file != (size_t)fi)
            continue;
        int rank = match_rank(s, e);
        if (rank == 0 || rank < best_rank)
            continue;
        /* the same name made twice: the one made last before the use */
        if (rank == best_rank && rank == 3 && s->pos > e->pos)
            continue;
        best = (long)i;
        best_rank = rank;
    }
    return best;
}

/* ---- sockets --------------------------------------------------------------------- */

static void socket_from(au_socket_t *s, size_t fi, const au_file_t *f,
                        const au_event_t *e)
{
    memset(s, 0, sizeof *s);
    s->file = fi;
    s->line = e->line;
    s->col = e->col;
    s->pos = e->pos;
    s->scope = e->scope;
    s->lang = f->lang;
    s->api = e->api;
    s->type = e->type;
    s->member = e->member;
    snprintf(s->var, sizeof s->var, "%s", e->var);
    if (e->api == AU_API_ZGUARD) {
        s->managed = 1;
        s->zname_known = e->zname_known;
        snprintf(s->zname, sizeof s->zname, "%s", e->zname);
    }
}

static int add_socket(au_result_t *r, size_t fi, const au_file_t *f,
                      const au_event_t *e)
{
    if (r->nsockets == r->cap_sockets) {
        size_t nc = r->cap_sockets ? r->cap_sockets * 2 : 16;
        au_socket_t *s = realloc(r->sockets, nc * sizeof *s);
        if (!s)
            return -1;
        r->sockets = s;
        r->cap_sockets = nc;
    }
    socket_from(&r->sockets[r->nsockets++], fi, f, e);
    return 0;
}

static void *push(void *arr, size_t n, size_t elem)
{
    /* grows by powers of two: n is the count before this push */
    if (n && (n & (n - 1)))
        return arr;
    return realloc(arr, (n ? n * 2 : 1) * elem);
}

static void add_endpoint(au_socket_t *s, const au_event_t *e)
{
    au_endpoint_t *ep = push(s->ep, s->nep, sizeof *ep);
    if (!ep)
        return;
    s->ep = ep;
    ep[s->nep++] = (au_endpoint_t){.line = e->line, .col = e->col, .pos = e->pos,
                                    .scope = e->scope,
                                    .bind = e->bind, .known = e->endpoint_known,
                                    .partial = e->endpoint_partial};
    snprintf(ep[s->nep - 1].text, sizeof ep->text, "%s", e->endpoint);
}

static void add_io(au_io_t **arr, size_t *n, const au_event_t *e, const char *call)
{
    au_io_t *io = push(*arr, *n, sizeof *io);
    if (!io)
        return;
    *arr = io;
    io[*n] = (au_io_t){.line = e->line, .col = e->col, .send = e->send,
                       .nowait = e->nonblocking, .blocking = !e->nonblocking,
                       .pickle = e->pickle};
    snprintf(io[*n].call, sizeof io->call, "%s", call);
    (*n)++;
}

au_io_t *au_socket_new_io(au_socket_t *s)
{
    au_io_t *io = push(s->io, s->nio, sizeof *io);
    if (!io)
        return NULL;
    s->io = io;
    memset(&io[s->nio], 0, sizeof *io);
    return &io[s->nio++];
}

/* Bound or connected before this event, as far as order can tell: only
 * within one function does position mean time. */
static int attached_before(const au_socket_t *s, const au_event_t *e)
{
    for (size_t i = 0; i < s->nep; i++)
        if (s->ep[i].scope == e->scope && s->ep[i].pos <= e->pos)
            return 1;
    return 0;
}

/* ---- options ----------------------------------------------------------------------- */

static void state_from_value(au_mstate_t *m, au_mit_t which, const au_value_t *v)
{
    /* the value, not its spelling: &hwm reads as 1000 */
    if (v->known)
        snprintf(m->text, sizeof m->text, "%lld", (long long)v->value);
    else
        snprintf(m->text, sizeof m->text, "%s", v->text);
    m->known = v->known;
    m->value = v->value;
    if (!v->known) {
        m->status = AU_ST_UNKNOWN;
        return;
    }
    int hwm = which == AU_M_SNDHWM || which == AU_M_RCVHWM;
    int weak = hwm ? v->value == 0 : v->value < 0;
    m->status = weak ? AU_ST_WEAK : AU_ST_SET;
}

static void set_where(au_mstate_t *m, const au_event_t *e)
{
    m->line = e->line;
    snprintf(m->set_by, sizeof m->set_by, "%s", e->setter);
    m->set_file = e->setter_file;
    m->set_line = e->setter_line;
}

static void set_state(au_socket_t *s, au_mit_t which, const au_event_t *e,
                      au_source_t src, int effective)
{
    au_mstate_t *m = &s->m[which];
    if (!effective) {
        if (m->status == AU_ST_NOT_SET) {
            m->status = AU_ST_INEFFECTIVE;
            set_where(m, e);
            m->source = src;
            m->known = e->val.known; /* what the code meant: a policy can apply it */
            m->value = e->val.value;
            if (e->val.known)
                snprintf(m->text, sizeof m->text, "%lld", (long long)e->val.value);
            else
                snprintf(m->text, sizeof m->text, "%s", e->val.text);
        }
        return;
    }
    state_from_value(m, which, &e->val);
    m->source = src;
    set_where(m, e);
}

static void curve_option(au_socket_t *s, const au_event_t *e, int effective)
{
    au_mstate_t *m = &s->m[AU_M_CURVE];
    const char *role = NULL;
    if (e->opt.kind == AU_OK_CURVE_SERVER && !(e->val.known && e->val.value == 0))
        role = "server";
    else if (e->opt.kind == AU_OK_CURVE_SERVERKEY)
        role = "client";
    if (!role)
        return;
    if (!effective) {
        if (m->status == AU_ST_NOT_SET)
            *m = (au_mstate_t){.status = AU_ST_INEFFECTIVE, .source = AU_SRC_SOCKET,
                               .line = e->line};
        if (m->status == AU_ST_INEFFECTIVE)
            snprintf(m->text, sizeof m->text, "%s", role);
        return;
    }
    *m = (au_mstate_t){.status = AU_ST_SET, .source = AU_SRC_SOCKET, .line = e->line};
    snprintf(m->text, sizeof m->text, "%s", role);
    if (role[0] == 's')
        s->curve_server = 1;
    else
        s->curve_client = 1;
}

static int empty_string(const char *text)
{
    static const char *const empty[] = {"", "\"\"", "''", "b\"\"", "b''"};
    for (size_t i = 0; i < sizeof empty / sizeof empty[0]; i++)
        if (strcmp(text, empty[i]) == 0)
            return 1;
    return 0;
}

static void apply_option(au_socket_t *s, const au_event_t *e, au_source_t src,
                         int effective)
{
    switch (e->opt.kind) {
    case AU_OK_SNDHWM: set_state(s, AU_M_SNDHWM, e, src, effective); break;
    case AU_OK_RCVHWM: set_state(s, AU_M_RCVHWM, e, src, effective); break;
    case AU_OK_HWM:
    case AU_OK_UNBOUNDED: {
        au_event_t x = *e;
        if (e->opt.kind == AU_OK_UNBOUNDED)
            x.val = (au_value_t){.known = 1, .value = 0, .text = "0 (unbounded)"};
        set_state(s, AU_M_SNDHWM, &x, src, effective);
        set_state(s, AU_M_RCVHWM, &x, src, effective);
        break;
    }
    case AU_OK_SNDTIMEO: set_state(s, AU_M_SNDTIMEO, e, src, effective); break;
    case AU_OK_RCVTIMEO: set_state(s, AU_M_RCVTIMEO, e, src, effective); break;
    case AU_OK_MAXMSGSIZE: set_state(s, AU_M_MAXMSGSIZE, e, src, effective); break;
    case AU_OK_LINGER: set_state(s, AU_M_LINGER, e, src, effective); break;
    case AU_OK_CURVE_SERVER:
    case AU_OK_CURVE_SERVERKEY:
        curve_option(s, e, effective);
        s->mechanism |= !(e->opt.kind == AU_OK_CURVE_SERVER && e->val.known && e->val.value == 0);
        break;
    case AU_OK_CURVE_PUBLICKEY:
    case AU_OK_CURVE_SECRETKEY:
    case AU_OK_PLAIN:
        s->mechanism = 1; /* libzmq: setting the key or credential sets the mechanism */
        break;
    case AU_OK_ZAP_DOMAIN:
        /* an empty domain is none: libzmq then skips ZAP for NULL */
        s->zap_domain |= !empty_string(e->val.text);
        break;
    case AU_OK_ROUTER_MANDATORY:
        s->mandatory = !(e->val.known && e->val.value == 0);
        break;
    case AU_OK_OTHER:
        s->dynamic |= e->opt_variable;
        break;
    default:
        break;
    }
}

static void socket_option(au_socket_t *s, const au_event_t *e)
{
    int effective = e->opt.immediate || !attached_before(s, e);
    if (!effective && e->opt.kind != AU_OK_OTHER)
        add_io(&s->late, &s->nlate, e, e->call);
    apply_option(s, e, AU_SRC_SOCKET, effective);
}

/* ---- defaults: context, process, library, policy ------------------------------------ */

static int before(const au_event_t *e, const au_socket_t *s)
{
    return e->scope != s->scope || e->pos < s->pos;
}

/* pyzmq copies a context's socket options into each socket it makes. */
static void context_defaults(au_socket_t *s, const au_file_t *f, const char *ctx)
{
    if (!ctx[0])
        return;
    au_socket_t d;
    memset(&d, 0, sizeof d);
    for (size_t i = 0; i < f->nev; i++) {
        const au_event_t *e = &f->ev[i];
        /* the same context: same function, file level, or a member */
        int same = e->scope == s->scope || e->scope == 0 || member_like(ctx);
        if (e->kind == AU_EV_OPTION && same && strcmp(e->var, ctx) == 0 && before(e, s))
            apply_option(&d, e, AU_SRC_CONTEXT, 1);
    }
    for (int m = 0; m < AU_M_CURVE; m++)
        if (s->m[m].status == AU_ST_NOT_SET && d.m[m].status != AU_ST_NOT_SET)
            s->m[m] = d.m[m];
}

/* zsys_set_* and ZSYS_*: what CZMQ gives every zsock it makes. */
static void process_defaults(au_socket_t *s, const au_file_t *f)
{
    au_socket_t d;
    memset(&d, 0, sizeof d);
    for (size_t i = 0; i < f->nev; i++)
        if (f->ev[i].kind == AU_EV_PROC_OPTION && before(&f->ev[i], s))
            apply_option(&d, &f->ev[i], AU_SRC_PROCESS, 1);
    for (int m = 0; m < AU_M_CURVE; m++)
        if (s->m[m].status == AU_ST_NOT_SET && d.m[m].status != AU_ST_NOT_SET)
            s->m[m] = d.m[m];
    au_mstate_t *l = &s->m[AU_M_LINGER];
    if (l->status == AU_ST_NOT_SET)
        *l = (au_mstate_t){.status = AU_ST_SET, .source = AU_SRC_LIBRARY, .known = 1,
                           .value = CZMQ_DEFAULT_LINGER, .text = "0 (CZMQ default)"};
}

static const struct {
    zg_field_t field;
    au_mit_t mit;
} policy_fields[] = {
    {ZG_FIELD_SNDHWM, AU_M_SNDHWM},         {ZG_FIELD_RCVHWM, AU_M_RCVHWM},
    {ZG_FIELD_SNDTIMEO, AU_M_SNDTIMEO},     {ZG_FIELD_RCVTIMEO, AU_M_RCVTIMEO},
    {ZG_FIELD_MAXMSGSIZE, AU_M_MAXMSGSIZE}, {ZG_FIELD_LINGER, AU_M_LINGER},
};

static void policy_unknown(au_socket_t *s)
{
    for (int m = 0; m < AU_M_COUNT; m++)
        if (s->m[m].status == AU_ST_NOT_SET)
            s->m[m] = (au_mstate_t){.status = AU_ST_UNKNOWN, .source = AU_SRC_POLICY,
                                    .text = "zguard policy"};
}

static void policy_curve(au_socket_t *s, const zg_setting_t *set)
{
    au_mstate_t *c = &s->m[AU_M_CURVE], *a = &s->m[AU_M_AUTH];
    if (set[ZG_FIELD_SECURITY].value != ZG_SECURITY_CURVE) {
        *c = (au_mstate_t){.status = AU_ST_NOT_SET, .source = AU_SRC_POLICY,
                           .text = "security = none"};
        return;
    }
    int keys = set[ZG_FIELD_CURVE_KEYS].value > 0;
    int client = keys && set[ZG_FIELD_CURVE_SERVER_KEY].value > 0;
    *c = (au_mstate_t){.status = AU_ST_SET, .source = AU_SRC_POLICY};
    snprintf(c->text, sizeof c->text, "%s", !keys ? "required (keys from the application)"
                                            : client ? "client" : "server");
    s->curve_server = keys && !client;
    s->curve_client = client;
    *a = (au_mstate_t){.status = keys ? AU_ST_SET : AU_ST_UNKNOWN, .source = AU_SRC_POLICY};
    snprintf(a->text, sizeof a->text, "%s", !keys ? "as the application sets it"
                                            : client ? "server key pinned"
                                            : "zguard authenticator ([auth])");
}

static void policy_values(au_socket_t *s, const zg_policy_t *p)
{
    const char *name = s->zname_known && s->zname[0] ? s->zname : NULL;
    int type = s->type;
    if (type < 0 && name)
        type = zg_policy_socket_type(p, name);
    zg_setting_t set[ZG_FIELD_COUNT];
    if (type < 0 || (zg_policy_settings(p, type, name, set, ZG_FIELD_COUNT, sizeof set[0]) != 0 &&
                     zg_policy_settings(p, type, NULL, set, ZG_FIELD_COUNT, sizeof set[0]) != 0)) {
        policy_unknown(s);
        return;
    }
    s->type = type;
    for (size_t i = 0; i < sizeof policy_fields / sizeof policy_fields[0]; i++) {
        au_mstate_t *m = &s->m[policy_fields[i].mit];
        const zg_setting_t *st = &set[policy_fields[i].field];
        au_value_t v = {.known = 1, .value = st->value};
        snprintf(v.text, sizeof v.text, "%s", st->text);
        state_from_value(m, policy_fields[i].mit, &v);
        snprintf(m->text, sizeof m->text, "%s", st->text); /* "5s", as the policy says */
        m->source = AU_SRC_POLICY;
        m->line = 0;
        m->set_line = 0;
    }
    s->mandatory = type == ZMQ_ROUTER && set[ZG_FIELD_ROUTER_MANDATORY].value;
    policy_curve(s, set);
}

/* ---- what each socket needs ------------------------------------------------------------- */

static int is_inproc(const au_endpoint_t *ep)
{
    return ep->known && strncmp(ep->text, "inproc://", 9) == 0;
}

static void needs(au_socket_t *s)
{
    int all_inproc = s->nep > 0;
    for (size_t i = 0; i < s->nep; i++)
        all_inproc &= is_inproc(&s->ep[i]);
    s->exposed = s->nep > 0 && !all_inproc;
    static const au_mit_t sends[] = {AU_M_SNDHWM, AU_M_SNDTIMEO};
    static const au_mit_t recvs[] = {AU_M_RCVHWM, AU_M_RCVTIMEO, AU_M_MAXMSGSIZE};
    for (int i = 0; i < 2; i++)
        if (!au_type_can_send(s->type) && s->m[sends[i]].status == AU_ST_NOT_SET)
            s->m[sends[i]].status = AU_ST_NOT_NEEDED;
    for (int i = 0; i < 3; i++)
        if (!au_type_can_recv(s->type) && s->m[recvs[i]].status == AU_ST_NOT_SET)
            s->m[recvs[i]].status = AU_ST_NOT_NEEDED;
    /* inproc never leaves the process: no size limit or CURVE needed */
    static const au_mit_t outside[] = {AU_M_MAXMSGSIZE, AU_M_CURVE, AU_M_AUTH};
    for (int i = 0; i < 3; i++)
        if (all_inproc && s->m[outside[i]].status == AU_ST_NOT_SET)
            s->m[outside[i]].status = AU_ST_NOT_NEEDED;
}

static void authentication(au_socket_t *s, const au_file_t *f)
{
    au_mstate_t *a = &s->m[AU_M_AUTH];
    if (s->managed || a->status == AU_ST_NOT_NEEDED)
        return;
    if (s->curve_client) {
        *a = (au_mstate_t){.status = AU_ST_SET, .source = AU_SRC_SOCKET,
                           .line = s->m[AU_M_CURVE].line, .text = "server key pinned"};
        return;
    }
    if (!s->curve_server)
        return;
    /* the file's authenticator: the one in the socket's function, if any */
    const au_event_t *auth = NULL;
    for (size_t i = 0; i < f->nev; i++)
        if (f->ev[i].kind == AU_EV_AUTHENTICATOR &&
            (!auth || (auth->scope != s->scope && f->ev[i].scope == s->scope)))
            auth = &f->ev[i];
    if (auth)
        *a = (au_mstate_t){.status = AU_ST_SET, .source = AU_SRC_CONTEXT,
                           .line = auth->line, .text = "ZAP handler"};
}

int au_io_can_block(const au_socket_t *s, int send)
{
    const au_mstate_t *t = &s->m[send ? AU_M_SNDTIMEO : AU_M_RCVTIMEO];
    int bounded = t->status == AU_ST_SET || t->status == AU_ST_UNKNOWN;
    int drops = send && au_type_send_drops(s->type) && !(s->mandatory && s->type == ZMQ_ROUTER);
    return !bounded && !drops;
}

static void blocking(au_socket_t *s)
{
    for (size_t i = 0; i < s->nio; i++)
        s->io[i].blocking = !s->io[i].nowait && au_io_can_block(s, s->io[i].send);
}

static void finish(au_socket_t *s, const au_file_t *f, const char *ctx,
                   const zg_policy_t *policy)
{
    if (s->managed)
        policy_values(s, policy);
    else if (s->api == AU_API_PYZMQ)
        context_defaults(s, f, ctx);
    else if (s->api == AU_API_CZMQ)
        process_defaults(s, f);
    if (s->dynamic)
        for (int m = 0; m <= AU_M_CURVE; m++)
            if (s->m[m].status == AU_ST_NOT_SET)
                s->m[m] = (au_mstate_t){.status = AU_ST_UNKNOWN, .source = AU_SRC_SOCKET,
                                        .text = "option set through a variable"};
    needs(s);
    authentication(s, f);
    blocking(s);
}

/* ---- the file ------------------------------------------------------------------------------- */

static void harden(au_socket_t *s, const au_event_t *e)
{
    s->managed = 1;
    s->harden_line = e->line;
    s->late_harden = attached_before(s, e);
    s->zname_known = e->zname_known;
    snprintf(s->zname, sizeof s->zname, "%s", e->zname);
}

void au_model_apply(au_socket_t *s, const au_event_t *e)
{
    switch (e->kind) {
    case AU_EV_OPTION: socket_option(s, e); break;
    case AU_EV_ATTACH: add_endpoint(s, e); break;
    case AU_EV_IO: add_io(&s->io, &s->nio, e, e->call); break;
    case AU_EV_HARDEN: harden(s, e); break;
    default: break;
    }
}

void au_model_judge(au_socket_t *s)
{
    needs(s);
    blocking(s);
}

/* Kept for the run: it may name a socket a helper of another file made. */
static void add_pending(au_result_t *r, size_t fi, const au_event_t *e)
{
    if (!e->var[0] || e->kind == AU_EV_SOCKET || e->kind > AU_EV_HARDEN ||
        e->kind == AU_EV_CONTEXT || e->kind == AU_EV_CTX_OPTION ||
        e->kind == AU_EV_PROC_OPTION)
        return;
    au_pending_t *p = au_grow(r->pending, &r->cap_pending, r->npending, sizeof *p);
    if (!p)
        return; /* out of memory: the event is not followed */
    r->pending = p;
    memset(&p[r->npending], 0, sizeof *p);
    p[r->npending].file = fi;
    p[r->npending].ev = *e;
    r->npending++;
}

static void apply_event(au_result_t *r, size_t fi, size_t first, const au_event_t *e)
{
    long i = resolve(r, first, r->nsockets, -1, e);
    if (i < 0)
        add_pending(r, fi, e);
    else
        au_model_apply(&r->sockets[i], e);
}

size_t au_model_build(au_result_t *r, size_t fi, const au_file_t *f,
                      const zg_policy_t *policy)
{
    size_t first = r->nsockets;
    for (size_t i = 0; i < f->nev; i++)
        if (f->ev[i].kind == AU_EV_SOCKET && add_socket(r, fi, f, &f->ev[i]) != 0)
            break;
    for (size_t i = 0; i < f->nev; i++)
        if (f->ev[i].kind != AU_EV_SOCKET)
            apply_event(r, fi, first, &f->ev[i]);
    size_t k = first;
    for (size_t i = 0; i < f->nev && k < r->nsockets; i++)
        if (f->ev[i].kind == AU_EV_SOCKET)
            finish(&r->sockets[k++], f, f->ev[i].ctx, policy);
    return first;
}

long au_model_resolve(const au_result_t *r, size_t first, const au_event_t *e)
{
    return resolve(r, first, r->nsockets, -1, e);
}

long au_model_resolve_in(const au_result_t *r, size_t first, size_t end,
                         const au_event_t *e)
{
    return resolve(r, first, end, -1, e);
}

long au_model_resolve_file(const au_result_t *r, size_t first, size_t fi,
                           const au_event_t *e)
{
    return resolve(r, first, r->nsockets, (long)fi, e);
}
