/*
 * policy_check.c - what a policy must satisfy beyond its syntax: a value
 * that removes a bound or security needs `unbounded = yes` / `insecure =
 * yes` and a rationale in its own section; key files, a CURVE server's
 * allowlist, a [gate] whose sockets exist and whose plaintext side stays on
 * this machine. Checked once per finished section, then over the layers
 * together (one line can be the effective value of many sockets: said
 * once).
 */
#include "policy_impl.h"
#include "zg_endpoint.h"
#include "zg_gate.h"
#include "zg_policy.h"
#include "zg_value.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <stdbool.h>

/* ---- validation of one finished section ----------------------------------- */

static const char *section_label(const section_t *s)
{
    return s->header ? s->header : "section";
}

static bool has_rationale(const section_t *s, int f)
{
    return s->rationale || s->e[f].rationale;
}

static void check_weakening(parser_t *ps, section_t *s, int f,
                            bool *any_unbounded, bool *any_insecure)
{
    const zg_field_info_t *info = zg_field_info((zg_field_t)f);
    const entry_t *e = &s->e[f];
    char text[ZG_VALUE_TEXT_MAX];
    zg_value_format(info, e->value, text, sizeof text);
    if (f == ZG_FIELD_SECURITY && e->value == ZG_SECURITY_NONE) {
        *any_insecure = true;
        if (!s->insecure)
            PERR(ps, e->line, info->key,
                 "'none' sends tcp and ipc traffic in clear: add "
                 "'insecure = yes' and a rationale to [%s], or use curve",
                 section_label(s));
        else if (!has_rationale(s, f))
            PERR(ps, e->line, info->key,
                 "'none' needs a rationale: add 'rationale = ...' or "
                 "'security.rationale = ...' to [%s]",
                 section_label(s));
        return;
    }
    if (!info->has_unbounded || e->value != info->unbounded_value)
        return;
    *any_unbounded = true;
    if (!s->unbounded)
        PERR(ps, e->line, info->key,
             "'%s' is unbounded: add 'unbounded = yes' and a rationale to "
             "[%s], or set a bound",
             text, section_label(s));
    else if (!has_rationale(s, f))
        PERR(ps, e->line, info->key,
             "'%s' is unbounded and needs a rationale: add 'rationale = ...' "
             "or '%s.rationale = ...' to [%s]",
             text, info->key, section_label(s));
}

static void check_field(parser_t *ps, section_t *s, int f, bool *any_unbounded,
                        bool *any_insecure)
{
    const zg_field_info_t *info = zg_field_info((zg_field_t)f);
    entry_t *e = &s->e[f];
    if (e->rationale && !e->set && !e->line) {
        char key[64];
        snprintf(key, sizeof key, "%s.rationale", info->key);
        PERR(ps, e->rationale_line, key,
             "a rationale for a value that [%s] does not set",
             section_label(s));
    }
    if (!e->set)
        return;
    /* a socket whose type is missing or unknown already has its error */
    bool type_unknown = s->layer == ZG_LAYER_SOCKET && s->type < 0;
    if (f == ZG_FIELD_ROUTER_MANDATORY && s->type != ZMQ_ROUTER &&
        !type_unknown)
        PERR(ps, e->line, info->key,
             "applies to ROUTER sockets only: set it in [type.router] or a "
             "router socket's section");
    check_weakening(ps, s, f, any_unbounded, any_insecure);
    if (f == ZG_FIELD_HEARTBEAT_IVL && e->value == 0)
        PWARN(ps, e->line, info->key,
              "heartbeats are off: a dead peer is found only when TCP "
              "notices, which can take hours");
    if (f == ZG_FIELD_RECONNECT_IVL_MAX && e->value == 0)
        PWARN(ps, e->line, info->key,
              "no reconnect backoff: a dead peer is retried every "
              "reconnect_ivl forever");
}

void zg_policy_check_section(parser_t *ps, section_t *s)
{
    if (s == &ps->ignored)
        return;
    if (s->layer == ZG_LAYER_SOCKET && !s->type_line)
        PERR(ps, s->line, "type",
             "missing: [%s] must say its socket type, e.g. 'type = push'",
             section_label(s));
    bool any_unbounded = false, any_insecure = false;
    for (int f = 0; f < ZG_FIELD_COUNT; f++)
        check_field(ps, s, f, &any_unbounded, &any_insecure);
    if (s->unbounded && !any_unbounded)
        PWARN(ps, s->unbounded_line, "unbounded",
              "nothing in [%s] is unbounded", section_label(s));
    if (s->overrides && !s->rationale)
        PERR(ps, s->overrides_line, "app_overrides",
             "'allow' lets the program weaken [%s] (HWM 0, infinite "
             "timeouts, its own keys): add 'rationale = ...' saying why",
             section_label(s));
    if (s->insecure && !any_insecure)
        PWARN(ps, s->insecure_line, "insecure",
              "nothing in [%s] is insecure", section_label(s));
}

/* ---- what only the layers together decide --------------------------------- */

typedef struct reported {
    unsigned lines[64];
    size_t n;
} reported_t;

/* Layers make one line the effective value of many sockets: say it once. */
static bool first_report(reported_t *r, unsigned line)
{
    for (size_t i = 0; i < r->n; i++)
        if (r->lines[i] == line)
            return false;
    if (r->n < sizeof r->lines / sizeof r->lines[0])
        r->lines[r->n++] = line;
    return true;
}

static void check_keys(parser_t *ps, const zg_setting_t *set, reported_t *r)
{
    const zg_setting_t *keys = &set[ZG_FIELD_CURVE_KEYS],
                       *server = &set[ZG_FIELD_CURVE_SERVER_KEY];
    if (server->str && !keys->str && first_report(r, server->line))
        PERR(ps, server->line, server->key,
             "a CURVE client needs its own key pair too: set curve_keys");
    bool is_server = keys->str && !server->str &&
                     set[ZG_FIELD_SECURITY].value == ZG_SECURITY_CURVE;
    if (is_server && !ps->p->plain[PLAIN_AUTH].value[AUTH_ALLOW] &&
        first_report(r, keys->line))
        PERR(ps, keys->line, keys->key,
             "a CURVE server without an allowlist would accept any client "
             "that knows its public key: add [auth] with 'allow = DIR'");
}

/* [gate]: its sockets exist with the pattern's types, and a plaintext
 * backend stays on this machine. */
static void check_gate_socket(parser_t *ps, const char *name, int want,
                              unsigned line)
{
    int type = zg_policy_socket_type(ps->p, name);
    if (type < 0)
        PERR(ps, line, "[gate]",
             "the gate needs [socket.%s] with type = %s", name,
             zg_type_name(want));
    else if (type != want)
        PERR(ps, zg_policy_find_socket(ps->p, name)->type_line, "type",
             "[socket.%s] is a %s socket; the gate's pattern needs %s", name,
             zg_type_name(type), zg_type_name(want));
}

/* A plaintext hop must not leave this machine: each endpoint of the list
 * (key: "frontend" or "backend"). */
static void check_local(parser_t *ps, const plain_t *g, int k,
                        const char *key, const char *fix)
{
    char ep[ZG_ENDPOINT_MAX];
    const char *list = g->value[k];
    while (list && zg_endpoint_next(&list, ep))
        if (!zg_endpoint_is_local(ep)) {
            PERR(ps, g->value_line[k], key,
                 "'%s' leaves this machine in plaintext: use ipc://, a "
                 "loopback address (127.0.0.1, [::1], localhost)%s",
                 ep, fix);
            return;
        }
}

/* Ingress (the default): CURVE clients in at the frontend, the service
 * behind the backend, plaintext only if local. Client mode: the mirror,
 * unchanged clients at a local plaintext frontend, the backend a CURVE
 * client pinning the server's key. */
static void check_gate(parser_t *ps)
{
    const plain_t *g = &ps->p->plain[PLAIN_GATE];
    static const char *const need[] = {"pattern", "frontend", "backend"};
    for (int k = GATE_PATTERN; k <= GATE_BACKEND; k++)
        if (!g->value[k])
            PERR(ps, g->line, "[gate]", "missing '%s'", need[k]);
    if (!g->value[GATE_PATTERN])
        return;
    int front, back;
    zg_gate_types((zg_gate_pattern_t)zg_gate_pattern_from_name(
                      g->value[GATE_PATTERN]),
                  &front, &back);
    check_gate_socket(ps, "frontend", front, g->line);
    check_gate_socket(ps, "backend", back, g->line);
    bool client = g->value[GATE_MODE] && strcmp(g->value[GATE_MODE], "client") == 0;
    zg_setting_t set[ZG_FIELD_COUNT];
    if (zg_policy_socket_type(ps->p, "backend") != back ||
        zg_policy_settings_all(ps->p, back, "backend", set) != 0)
        return;
    if (client) {
        check_local(ps, g, GATE_FRONTEND, "frontend",
                    "; a client-mode gate's frontend speaks plaintext to "
                    "the programs on this machine");
        if (!set[ZG_FIELD_CURVE_SERVER_KEY].str)
            PERR(ps, g->value_line[GATE_MODE], "mode",
                 "a client-mode gate connects its backend with CURVE: give "
                 "[socket.backend] curve_keys (the gate's own pair) and "
                 "curve_server_key (the server's public key)");
    } else if (set[ZG_FIELD_SECURITY].value != ZG_SECURITY_CURVE) {
        check_local(ps, g, GATE_BACKEND, "backend",
                    ", or give [socket.backend] CURVE keys");
    }
}

void zg_policy_check_layers(parser_t *ps)
{
    reported_t r = {.n = 0};
    if (ps->p->plain[PLAIN_GATE].line)
        check_gate(ps);
    zg_setting_t set[ZG_FIELD_COUNT];
    for (size_t i = 0; i < ps->p->nsockets; i++) {
        const section_t *sock = &ps->p->sockets[i];
        if (zg_policy_settings_all(ps->p, sock->type, sock->socket, set) == 0)
            check_keys(ps, set, &r);
    }
    for (int t = 0; t < ZG_TYPE_COUNT; t++)
        if (zg_policy_settings_all(ps->p, t, NULL, set) == 0)
            check_keys(ps, set, &r);
}

