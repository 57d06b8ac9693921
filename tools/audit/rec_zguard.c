/*
 * rec_zguard.c - zguard's own API: zg_socket(ctx, type, name) and
 * zg_harden(ctx, sock, name) put a socket under the policy, zg_bind and
 * zg_connect attach it, zg_send/zg_recv and the zero-copy forms wait at
 * most the policy's timeouts. The model gives such sockets the policy's
 * values (the file given with --policy, else zguard's built-in ones).
 */
#include "audit.h"

#include <string.h>

static void socket_name(au_file_t *f, TSNode n, au_event_t *e)
{
    int partial = 0;
    if (au_is(n, "null") || au_is(n, "nullptr")) {
        e->zname_known = 1; /* unnamed: the type's values */
        return;
    }
    e->zname_known = au_eval_str(f, n, e->zname, sizeof e->zname, &partial) && !partial;
    if (!e->zname_known)
        au_text(f, n, e->zname, sizeof e->zname);
}

static void zg_socket_call(au_file_t *f, const au_call_t *c)
{
    if (c->nargs < 3)
        return;
    char tname[AU_NAME_MAX];
    au_last_name(f, c->args[1], tname, sizeof tname);
    au_event_t *e = au_ev_socket(f, AU_API_ZGUARD, c, au_type_from_name(tname, strlen(tname)));
    if (e)
        socket_name(f, c->args[2], e);
}

static void zg_harden_call(au_file_t *f, const au_call_t *c)
{
    char v[AU_NAME_MAX];
    if (c->nargs < 3 || !au_var(f, c->args[1], v, sizeof v))
        return;
    au_event_t *e = au_emit(f, AU_EV_HARDEN, AU_API_ZGUARD, c->node);
    if (!e)
        return;
    snprintf(e->var, sizeof e->var, "%s", v);
    snprintf(e->call, sizeof e->call, "%s", c->name);
    socket_name(f, c->args[2], e);
}

void au_rec_zguard(au_file_t *f, const au_call_t *c)
{
    const char *n = c->name;
    if (strcmp(n, "zg_socket") == 0)
        zg_socket_call(f, c);
    else if (strcmp(n, "zg_harden") == 0)
        zg_harden_call(f, c);
    else if ((strcmp(n, "zg_bind") == 0 || strcmp(n, "zg_connect") == 0) && c->nargs >= 2)
        au_ev_attach(f, AU_API_ZGUARD, c->node, c->args[0], n, n[3] == 'b', c->args[1]);
    else if ((strcmp(n, "zg_send") == 0 || strcmp(n, "zg_recv") == 0) && c->nargs >= 1)
        au_ev_io(f, AU_API_ZGUARD, c->node, c->args[0], n, n[3] == 's',
                 au_flags_nonblocking(f, c, 1));
    else if ((strcmp(n, "zg_msg_send") == 0 || strcmp(n, "zg_msg_recv") == 0) && c->nargs >= 1)
        au_ev_io(f, AU_API_ZGUARD, c->node, c->args[0], n, n[7] == 's',
                 au_flags_nonblocking(f, c, 2));
}
