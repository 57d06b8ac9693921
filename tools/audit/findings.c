/*
 * findings.c - the rules: what is missing or wrong on each socket, and the
 * findings that stand wherever they occur (a hard-coded secret key, an HWM
 * of 0), whether or not the audit could tell which socket they reach.
 *
 * A socket under a zguard policy is judged by the policy's values: a
 * weakening the policy allows was justified there (unbounded = yes with a
 * rationale), so it is not reported again here.
 */
#include "audit.h"

#include <stdlib.h>
#include <string.h>

static const char *label(const au_socket_t *s, char *buf, size_t cap)
{
    if (s->var[0])
        snprintf(buf, cap, "%s socket '%s'", au_type_name(s->type), s->var);
    else
        snprintf(buf, cap, "%s socket (not assigned to a variable)", au_type_name(s->type));
    return buf;
}

static int missing(const au_mstate_t *m)
{
    return m->status == AU_ST_NOT_SET || m->status == AU_ST_WEAK;
}

/* "SNDHWM and RCVHWM" from the two states that qualify. */
static int pair_names(const au_mstate_t *a, const au_mstate_t *b, const char *na,
                      const char *nb, int (*pred)(const au_mstate_t *), char *buf,
                      size_t cap)
{
    int x = pred(a), y = pred(b);
    snprintf(buf, cap, "%s%s%s", x ? na : "", x && y ? " and " : "", y ? nb : "");
    return x || y;
}

static int not_set(const au_mstate_t *m)
{
    return m->status == AU_ST_NOT_SET;
}

static void hwm_rule(au_result_t *r, long si, const au_socket_t *s)
{
    char names[64], l[AU_TEXT_MAX];
    if (!pair_names(&s->m[AU_M_SNDHWM], &s->m[AU_M_RCVHWM], "SNDHWM", "RCVHWM",
                    not_set, names, sizeof names))
        return;
    au_finding_add(r, AU_R_HWM_NOT_SET, s->file, s->line, s->col, si,
                   "%s: %s not set (%s's default of 1000 messages applies)",
                   label(s, l, sizeof l), names,
                   s->api == AU_API_CZMQ ? "CZMQ" : "libzmq");
}

static void timeout_rule(au_result_t *r, long si, const au_socket_t *s)
{
    char names[64], l[AU_TEXT_MAX];
    if (!pair_names(&s->m[AU_M_SNDTIMEO], &s->m[AU_M_RCVTIMEO], "SNDTIMEO",
                    "RCVTIMEO", missing, names, sizeof names))
        return;
    au_finding_add(r, AU_R_TIMEOUT_NOT_SET, s->file, s->line, s->col, si,
                   "%s: %s not set or infinite: %s can wait forever",
                   label(s, l, sizeof l), names,
                   missing(&s->m[AU_M_SNDTIMEO]) && missing(&s->m[AU_M_RCVTIMEO])
                       ? "sends and receives"
                       : missing(&s->m[AU_M_SNDTIMEO]) ? "sends" : "receives");
}

static void single_rule(au_result_t *r, long si, const au_socket_t *s, au_mit_t m,
                        au_rule_t rule, const char *what)
{
    char l[AU_TEXT_MAX];
    if (!missing(&s->m[m]))
        return;
    au_finding_add(r, rule, s->file, s->line, s->col, si, "%s: %s %s", label(s, l, sizeof l),
                   what, s->m[m].status == AU_ST_WEAK ? "set to -1 (no limit)" : "not set");
}

static void blocking_one(au_result_t *r, long si, const au_socket_t *s, const au_io_t *io)
{
    char l[AU_TEXT_MAX], via[AU_NAME_MAX + 32] = "";
    const au_mstate_t *t = &s->m[io->send ? AU_M_SNDTIMEO : AU_M_RCVTIMEO];
    if (io->via[0])
        snprintf(via, sizeof via, " (a helper that calls %s)", io->via);
    au_finding_add(r, AU_R_BLOCKING_NO_TIMEOUT, s->file, io->line, io->col, si,
                   "%s%s on %s can wait forever: %s %s and no DONTWAIT", io->call, via,
                   label(s, l, sizeof l), io->send ? "SNDTIMEO" : "RCVTIMEO",
                   t->status == AU_ST_WEAK ? "is -1" : "is not set");
}

static void blocking_rule(au_result_t *r, long si, const au_socket_t *s)
{
    for (size_t i = 0; i < s->nio; i++)
        if (s->io[i].blocking)
            blocking_one(r, si, s, &s->io[i]);
}

void au_blocking_finding(au_result_t *r, long si, const au_io_t *io,
                         const unsigned char ctx[AU_FP_BYTES])
{
    size_t n = r->nfindings;
    blocking_one(r, si, &r->sockets[si], io);
    if (r->nfindings == n)
        return;
    au_fp_base(r, &r->findings[n], ctx);
    au_supp_apply_late(r, &r->findings[n]);
}

static unsigned first_attach_line(const au_socket_t *s)
{
    return s->nep ? s->ep[0].line : 0;
}

static void late_rule(au_result_t *r, long si, const au_socket_t *s)
{
    char l[AU_TEXT_MAX];
    for (size_t i = 0; i < s->nlate; i++)
        au_finding_add(r, AU_R_OPTION_AFTER_ATTACH, s->file, s->late[i].line,
                       s->late[i].col, si,
                       "%s set on %s after bind/connect (line %u): connections "
                       "already made do not get it", s->late[i].call,
                       label(s, l, sizeof l), first_attach_line(s));
    if (s->late_harden)
        au_finding_add(r, AU_R_OPTION_AFTER_ATTACH, s->file, s->harden_line, 1, si,
                       "zg_harden on %s after bind/connect (line %u): the policy "
                       "does not reach connections already made",
                       label(s, l, sizeof l), first_attach_line(s));
}

/* A tcp bind on the wildcard host: *, 0.0.0.0, [::], or none at all. */
static int all_interfaces(const au_endpoint_t *ep)
{
    if (!ep->known || !ep->bind || strncmp(ep->text, "tcp://", 6) != 0)
        return 0;
    const char *host = ep->text + 6;
    const char *colon = strrchr(host, ':');
    size_t len = colon ? (size_t)(colon - host) : strlen(host);
    static const char *const any[] = {"*", "0.0.0.0", "[::]", "::", "[*]", ""};
    for (size_t i = 0; i < sizeof any / sizeof any[0]; i++)
        if (strlen(any[i]) == len && strncmp(host, any[i], len) == 0)
            return 1;
    return 0;
}

static int external(const au_endpoint_t *ep)
{
    return !ep->known || strncmp(ep->text, "inproc://", 9) != 0;
}

static void curve_rule(au_result_t *r, long si, const au_socket_t *s)
{
    const au_mstate_t *c = &s->m[AU_M_CURVE];
    char l[AU_TEXT_MAX];
    /* a zguard socket's security = none was justified in its policy */
    if (s->managed || !s->exposed || c->status == AU_ST_SET || c->status == AU_ST_UNKNOWN ||
        c->status == AU_ST_NOT_NEEDED)
        return;
    int reported = 0;
    for (size_t i = 0; i < s->nep; i++)
        if (all_interfaces(&s->ep[i])) {
            au_finding_add(r, AU_R_TCP_BIND_ALL, s->file, s->ep[i].line, s->ep[i].col, si,
                           "%s binds %s on every interface without CURVE",
                           label(s, l, sizeof l), s->ep[i].text);
            reported = 1;
        }
    for (size_t i = 0; i < s->nep && !reported; i++)
        if (external(&s->ep[i])) {
            au_finding_add(r, AU_R_CURVE_MISSING, s->file, s->ep[i].line, s->ep[i].col, si,
                           "%s %s %s%s without CURVE%s", label(s, l, sizeof l),
                           s->ep[i].bind ? "binds" : "connects to", s->ep[i].text,
                           s->ep[i].known ? "" : " (not a literal)",
                           c->status == AU_ST_INEFFECTIVE ? " (CURVE is set only after it)" : "");
            reported = 1;
        }
}

static void auth_rules(au_result_t *r, long si, const au_socket_t *s)
{
    const au_mstate_t *a = &s->m[AU_M_AUTH];
    char l[AU_TEXT_MAX];
    if (s->curve_server && a->status == AU_ST_NOT_SET)
        au_finding_add(r, AU_R_CURVE_NO_AUTH, s->file, s->m[AU_M_CURVE].line
                       ? s->m[AU_M_CURVE].line : s->line, 1, si,
                       "%s is a CURVE server and none of the audited files starts an "
                       "authenticator (ZAP handler): any client that knows the server key "
                       "gets in",
                       label(s, l, sizeof l));
    int authenticated = a->status == AU_ST_SET || a->status == AU_ST_NOT_NEEDED ||
                        a->status == AU_ST_UNKNOWN;
    for (size_t i = 0; i < s->nio && !authenticated; i++)
        if (s->io[i].pickle)
            au_finding_add(r, AU_R_PICKLE_UNAUTH, s->file, s->io[i].line, s->io[i].col, si,
                           "recv_pyobj on %s unpickles data from unauthenticated peers",
                           label(s, l, sizeof l));
}

static void socket_rules(au_result_t *r, long si)
{
    const au_socket_t *s = &r->sockets[si];
    blocking_rule(r, si, s);
    late_rule(r, si, s);
    if (s->alias)
        return; /* the caller's socket: judged where it is made */
    hwm_rule(r, si, s);
    if (!s->managed) {
        timeout_rule(r, si, s);
        single_rule(r, si, s, AU_M_MAXMSGSIZE, AU_R_MAXMSGSIZE_NOT_SET, "MAXMSGSIZE");
        single_rule(r, si, s, AU_M_LINGER, AU_R_LINGER_NOT_SET, "LINGER");
    }
    curve_rule(r, si, s);
    auth_rules(r, si, s);
}

/* The rules socket_rules runs: what changes when a helper changes the socket. */
static int socket_rule(au_rule_t rule)
{
    switch (rule) {
    case AU_R_HWM_NOT_SET: case AU_R_TIMEOUT_NOT_SET: case AU_R_MAXMSGSIZE_NOT_SET:
    case AU_R_LINGER_NOT_SET: case AU_R_BLOCKING_NO_TIMEOUT: case AU_R_OPTION_AFTER_ATTACH:
    case AU_R_TCP_BIND_ALL: case AU_R_CURVE_MISSING: case AU_R_CURVE_NO_AUTH:
    case AU_R_PICKLE_UNAUTH:
        return 1;
    default:
        return 0;
    }
}

void au_findings_again(au_result_t *r, const unsigned char *redo)
{
    size_t old = r->nfindings;
    for (size_t si = 0; si < r->nsockets; si++) {
        if (!redo[si] || r->sockets[si].hidden)
            continue;
        au_model_judge(&r->sockets[si]);
        size_t n = r->nfindings;
        socket_rules(r, (long)si);
        for (size_t i = n; i < r->nfindings; i++) {
            unsigned char ctx[AU_FP_BYTES];
            au_fp_line_ctx(r, old, r->findings[i].file, r->findings[i].line, ctx);
            au_fp_base(r, &r->findings[i], ctx);
            au_supp_apply_late(r, &r->findings[i]);
        }
    }
    size_t k = 0;
    for (size_t i = 0; i < r->nfindings; i++) {
        au_finding_t *x = &r->findings[i];
        const au_socket_t *s = x->socket >= 0 ? &r->sockets[x->socket] : NULL;
        if (s && (s->hidden || (i < old && redo[x->socket] && socket_rule(x->rule)))) {
            free(x->message);
            free(x->justification);
            continue;
        }
        r->findings[k++] = *x;
    }
    r->nfindings = k;
}

/* ---- findings wherever they occur ------------------------------------------------------- */

static void event_rules(au_result_t *r, size_t fi, const au_event_t *e)
{
    int option = e->kind == AU_EV_OPTION || e->kind == AU_EV_PROC_OPTION;
    if ((option && e->opt.kind == AU_OK_CURVE_SECRETKEY && e->val.secret_literal) ||
        e->kind == AU_EV_SECRET)
    {
        if (e->kind == AU_EV_SECRET)
            au_finding_add(r, AU_R_SECRET_HARDCODED, fi, e->line, e->col, -1,
                           "%s is given a CURVE secret key written in the source", e->call);
        else
            au_finding_add(r, AU_R_SECRET_HARDCODED, fi, e->line, e->col, -1,
                           "%s on '%s' is a CURVE secret key written in the source",
                           e->call, e->var);
    }
    int hwm = e->opt.kind == AU_OK_SNDHWM || e->opt.kind == AU_OK_RCVHWM ||
              e->opt.kind == AU_OK_HWM;
    if (!option || !((hwm && e->val.known && e->val.value == 0) ||
                     e->opt.kind == AU_OK_UNBOUNDED))
        return;
    if (e->opt.kind == AU_OK_UNBOUNDED)
        au_finding_add(r, AU_R_HWM_UNBOUNDED, fi, e->line, e->col, -1,
                       "zsock_set_unbounded(%s): both of its queues are unbounded",
                       e->var);
    else if (e->kind == AU_EV_PROC_OPTION)
        au_finding_add(r, AU_R_HWM_UNBOUNDED, fi, e->line, e->col, -1,
                       "%s 0: every CZMQ socket made afterwards has an unbounded queue",
                       e->call);
    else
        au_finding_add(r, AU_R_HWM_UNBOUNDED, fi, e->line, e->col, -1,
                       "%s 0 on '%s': the queue is unbounded", e->call, e->var);
}

/* ---- authenticators ------------------------------------------------------------------ */

/* A socket libzmq asks the ZAP handler about: one with a ZAP domain or a
 * security mechanism; or one the audit cannot rule out (options through a
 * variable, a zguard socket whose policy decides). */
static int consults_zap(const au_socket_t *s)
{
    return s->zap_domain || s->mechanism || s->curve_server || s->curve_client ||
           s->dynamic || s->managed;
}

/* The first address rule given to authenticator a, or NULL. */
static const au_event_t *first_rule(const au_file_t *f, const au_event_t *a)
{
    for (size_t i = 0; i < f->nev; i++)
        if (f->ev[i].kind == AU_EV_AUTH_RULE && a->var[0] && strcmp(f->ev[i].var, a->var) == 0)
            return &f->ev[i];
    return NULL;
}

/* Judged here for the file; au_findings_tree removes the finding when a
 * socket of another file audited with it is consulted for. */
static void guards_nothing_rule(au_result_t *r, size_t fi, const au_file_t *f, size_t first)
{
    for (size_t i = first; i < r->nsockets; i++)
        if (consults_zap(&r->sockets[i]))
            return;
    for (size_t i = 0; i < f->nev; i++) {
        const au_event_t *a = &f->ev[i], *rule;
        if (a->kind != AU_EV_AUTHENTICATOR || !(rule = first_rule(f, a)))
            continue;
        au_finding_add(r, AU_R_AUTH_GUARDS_NOTHING, fi, rule->line, rule->col, -1,
                       "%s '%s' is given address rules (%s) but no audited socket "
                       "sets a ZAP domain or uses CURVE or PLAIN: the allowlist guards "
                       "nothing: libzmq consults an authenticator only for sockets with a "
                       "ZAP domain or a security mechanism", a->call, a->var, rule->call);
    }
}

/* The thread or task that runs the function of scope, or NULL. */
static const au_event_t *task_of(const au_file_t *f, uint32_t scope)
{
    const char *name = NULL;
    for (size_t i = 0; i < f->nspans && !name; i++)
        if (f->spans[i].scope == scope && scope)
            name = f->spans[i].name;
    if (!name)
        return NULL;
    /* "Worker::run", "Auth.run": the task names the last part */
    for (const char *p = name; *p; p++)
        if (*p == ':' || *p == '.')
            name = p + 1;
    for (size_t i = 0; i < f->nev; i++)
        if (f->ev[i].kind == AU_EV_TASK && strcmp(f->ev[i].var, name) == 0)
            return &f->ev[i];
    return NULL;
}

static const au_endpoint_t *first_bind(const au_socket_t *s)
{
    for (size_t i = 0; i < s->nep; i++)
        if (s->ep[i].bind)
            return &s->ep[i];
    return NULL;
}

/* Started after the bind: later in the same function, or in a thread or
 * task that the binding function starts (it may run after the bind
 * whatever the order of the lines). An authenticator in a function the
 * audit cannot place in time (called from elsewhere) is left alone. */
static void late_auth_rule(au_result_t *r, size_t fi, const au_file_t *f, long si)
{
    au_socket_t *s = &r->sockets[si];
    const au_endpoint_t *b = first_bind(s);
    int late = 0;
    char l[AU_TEXT_MAX];
    if (!s->curve_server || s->managed || !b)
        return;
    for (size_t i = 0; i < f->nev; i++) {
        const au_event_t *a = &f->ev[i];
        if (a->kind == AU_EV_AUTHENTICATOR && a->scope == b->scope && a->pos < b->pos)
            return; /* one started before the bind guards it */
    }
    for (size_t i = 0; i < f->nev; i++) {
        const au_event_t *a = &f->ev[i], *t;
        if (a->kind != AU_EV_AUTHENTICATOR)
            continue;
        if (a->scope == b->scope && a->pos > b->pos && ++late)
            au_finding_add(r, AU_R_AUTH_STARTED_LATE, fi, a->line, a->col, si,
                           "%s started after %s binds %s (line %u): clients that connect "
                           "before it starts are let in unchecked", a->call,
                           label(s, l, sizeof l), b->text, b->line);
        else if (a->scope != b->scope && (t = task_of(f, a->scope)) != NULL &&
                 t->scope == b->scope && ++late)
            au_finding_add(r, AU_R_AUTH_STARTED_LATE, fi, a->line, a->col, si,
                           "%s started in %s(), which %s runs (line %u) in another "
                           "thread or task that can run after %s binds %s (line %u): "
                           "clients that connect before it starts are let in unchecked",
                           a->call, t->var, t->call, t->line, label(s, l, sizeof l),
                           b->text, b->line);
    }
    /* set, but only after connections may have been let in */
    if (late && s->m[AU_M_AUTH].status == AU_ST_SET)
        s->m[AU_M_AUTH].status = AU_ST_INEFFECTIVE;
}

void au_findings_run(au_result_t *r, size_t fi, const au_file_t *f, size_t first)
{
    for (size_t i = first; i < r->nsockets; i++) {
        socket_rules(r, (long)i);
        late_auth_rule(r, fi, f, (long)i);
    }
    for (size_t i = 0; i < f->nev; i++) {
        event_rules(r, fi, &f->ev[i]);
        if (f->ev[i].kind == AU_EV_AUTHENTICATOR && !r->files[fi].auth_line)
            r->files[fi].auth_line = f->ev[i].line;
    }
    guards_nothing_rule(r, fi, f, first);
}

/* ---- over the whole tree ------------------------------------------------------------- */

/* The first authenticator of the audited files: "ZAP handler at b.py:12". */
static int tree_authenticator(const au_result_t *r, char *buf, size_t cap)
{
    for (size_t i = 0; i < r->nfiles; i++)
        if (r->files[i].auth_line) {
            snprintf(buf, cap, "ZAP handler at %s:%u", r->files[i].path, r->files[i].auth_line);
            return 1;
        }
    return 0;
}

static int contradicted(const au_result_t *r, const au_finding_t *x, int any_auth,
                        int any_consulted)
{
    if (x->rule == AU_R_AUTH_GUARDS_NOTHING)
        return any_consulted;
    if (x->rule == AU_R_CURVE_NO_AUTH || x->rule == AU_R_PICKLE_UNAUTH)
        return any_auth && x->socket >= 0 && r->sockets[x->socket].curve_server;
    return 0;
}

void au_findings_tree(au_result_t *r)
{
    char where[AU_TEXT_MAX];
    int any_auth = tree_authenticator(r, where, sizeof where), any_consulted = 0;
    for (size_t i = 0; i < r->nsockets && !any_consulted; i++)
        any_consulted = consults_zap(&r->sockets[i]);
    /* a CURVE server of a file without one is guarded by another's */
    for (size_t i = 0; i < r->nsockets && any_auth; i++) {
        au_socket_t *s = &r->sockets[i];
        au_mstate_t *a = &s->m[AU_M_AUTH];
        if (s->curve_server && !s->managed && a->status == AU_ST_NOT_SET) {
            *a = (au_mstate_t){.status = AU_ST_SET, .source = AU_SRC_CONTEXT};
            snprintf(a->text, sizeof a->text, "%s", where);
        }
    }
    size_t k = 0;
    for (size_t i = 0; i < r->nfindings; i++) {
        au_finding_t *x = &r->findings[i];
        if (contradicted(r, x, any_auth, any_consulted)) {
            free(x->message);
            free(x->justification);
            continue;
        }
        r->findings[k++] = *x;
    }
    r->nfindings = k;
}
