/*
 * policy.c - `zguard audit --policy FILE`: the values the code sets,
 * checked against the bounds the policy gives the same socket type, and
 * zguard sockets whose names the policy does not declare.
 *
 * Only the public API is used (zg_policy_settings, zg_policy_socket_type),
 * so the audit judges by exactly the values zg_socket would apply.
 */
#include "audit.h"

#include <string.h>

static const struct {
    zg_field_t field;
    au_mit_t mit;
    const char *name;
} fields[] = {
    {ZG_FIELD_SNDHWM, AU_M_SNDHWM, "SNDHWM"},
    {ZG_FIELD_RCVHWM, AU_M_RCVHWM, "RCVHWM"},
    {ZG_FIELD_SNDTIMEO, AU_M_SNDTIMEO, "SNDTIMEO"},
    {ZG_FIELD_RCVTIMEO, AU_M_RCVTIMEO, "RCVTIMEO"},
    {ZG_FIELD_MAXMSGSIZE, AU_M_MAXMSGSIZE, "MAXMSGSIZE"},
    {ZG_FIELD_LINGER, AU_M_LINGER, "LINGER"},
};

/* HWMs: 0 is unbounded. The others: -1 is infinite or unlimited. */
static int weaker(au_mit_t m, int64_t code, int64_t policy)
{
    if (m == AU_M_SNDHWM || m == AU_M_RCVHWM)
        return policy > 0 && (code == 0 || code > policy);
    return policy >= 0 && (code < 0 || code > policy);
}

static void check_values(au_result_t *r, long si, const zg_policy_t *p)
{
    const au_socket_t *s = &r->sockets[si];
    zg_setting_t set[ZG_FIELD_COUNT];
    if (!zg_type_name(s->type) || zg_policy_settings(p, s->type, NULL, set, ZG_FIELD_COUNT, sizeof set[0]) != 0)
        return;
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        const au_mstate_t *m = &s->m[fields[i].mit];
        const zg_setting_t *st = &set[fields[i].field];
        if (!st->applies || !m->known || m->source == AU_SRC_POLICY ||
            (m->status != AU_ST_SET && m->status != AU_ST_WEAK) ||
            !weaker(fields[i].mit, m->value, st->value))
            continue;
        char where[32] = ", built-in value";
        if (st->line)
            snprintf(where, sizeof where, ":%u", st->line);
        au_finding_add(r, AU_R_POLICY_VIOLATION, s->file, m->line ? m->line : s->line, 1, si,
                       "%s socket '%s': %s %s is weaker than the policy's %s for %s "
                       "sockets (%s%s)", au_type_name(s->type), s->var, fields[i].name,
                       m->text, st->text, au_type_name(s->type), zg_policy_file(p), where);
    }
}

static void check_name(au_result_t *r, long si, const zg_policy_t *p)
{
    const au_socket_t *s = &r->sockets[si];
    if (!s->zname_known || !s->zname[0])
        return;
    unsigned line = s->harden_line ? s->harden_line : s->line;
    unsigned col = s->harden_line ? 1 : s->col;
    int declared = zg_policy_socket_type(p, s->zname);
    if (declared < 0)
        au_finding_add(r, AU_R_POLICY_UNKNOWN_SOCKET, s->file, line, col, si,
                       "socket name '%s' is not declared in %s: zguard refuses it",
                       s->zname, zg_policy_file(p));
    else if (s->type >= 0 && declared != s->type)
        au_finding_add(r, AU_R_POLICY_UNKNOWN_SOCKET, s->file, line, col, si,
                       "socket '%s' is declared as %s in %s, made here as %s: zguard "
                       "refuses it", s->zname, au_type_name(declared), zg_policy_file(p),
                       au_type_name(s->type));
}

void au_policy_check(au_result_t *r, size_t fi, size_t first, const zg_policy_t *p)
{
    (void)fi;
    for (size_t i = first; i < r->nsockets; i++) {
        if (r->sockets[i].managed)
            check_name(r, (long)i, p);
        else
            check_values(r, (long)i, p);
    }
}
