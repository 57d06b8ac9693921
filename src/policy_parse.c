/*
 * policy_parse.c - the policy file format: sections, keys, values and their
 * rationales, each problem reported as FILE:LINE: key: message. Parsing
 * goes on after an error so that one run shows them all; what a finished
 * section and the layers together must satisfy is policy_check.c's.
 */
#include "policy_impl.h"
#include "zg_cidr.h"
#include "zg_endpoint.h"
#include "zg_error.h"
#include "zg_file.h"
#include "zg_gate.h"
#include "zg_ini.h"
#include "zg_value.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <stdbool.h>

/* ---- parsing -------------------------------------------------------------- */


static bool socket_name_ok(const char *n)
{
    size_t len = strlen(n);
    if (len == 0 || len >= ZG_NAME_MAX)
        return false;
    for (; *n; n++) {
        char c = *n;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.'))
            return false;
    }
    return true;
}

/* A value quoted in a message is cut after SHOWN_MAX bytes (at a UTF-8
 * character boundary) and marked "...", so that a long one cannot push
 * what is wrong with it out of the message: "'%.*s%s'", SHOWN(v). */
#define SHOWN_MAX 64
#define SHOWN(v) shown_len(v), (v), strlen(v) > SHOWN_MAX ? "..." : ""

static int shown_len(const char *v)
{
    size_t n = strlen(v);
    if (n <= SHOWN_MAX)
        return (int)n;
    n = SHOWN_MAX;
    while (n > 0 && ((unsigned char)v[n] & 0xC0) == 0x80)
        n--;
    return (int)n;
}

static const char *type_list(void)
{
    return "pair, pub, sub, req, rep, dealer, router, pull, push, xpub, xsub "
           "or stream";
}

static section_t *add_socket_section(parser_t *ps, const char *name)
{
    zg_policy_t *p = ps->p;
    if (p->nsockets == p->cap) {
        size_t cap = p->cap ? p->cap * 2 : 4;
        section_t *s = realloc(p->sockets, cap * sizeof *s);
        if (!s)
            return NULL;
        p->sockets = s;
        p->cap = cap;
    }
    section_t *s = &p->sockets[p->nsockets];
    zg_policy_section_init(s, ZG_LAYER_SOCKET, -1);
    s->socket = strdup(name);
    if (!s->socket)
        return NULL;
    p->nsockets++;
    return s;
}

static void use_ignored(parser_t *ps, zg_layer_t layer)
{
    zg_policy_section_free(&ps->ignored);
    zg_policy_section_init(&ps->ignored, layer, -1);
    ps->cur = &ps->ignored;
}


static section_t *open_type_section(parser_t *ps, const char *header,
                                    const char *tname, unsigned line)
{
    int t = zg_type_from_name(tname);
    if (t < 0) {
        PERR(ps, line, header, "unknown socket type '%.*s%s' (use %s)",
             SHOWN(tname), type_list());
        return NULL;
    }
    if (ps->type_line[t]) {
        PERR(ps, line, header, "duplicate section (first at line %u)",
             ps->type_line[t]);
        return NULL;
    }
    ps->type_line[t] = line;
    return &ps->p->types[t];
}

static section_t *open_socket_section(parser_t *ps, const char *header,
                                      const char *name, unsigned line)
{
    if (!socket_name_ok(name)) {
        PERR(ps, line, header,
             "socket names are 1 to %d letters, digits, '_', '-' or '.'",
             ZG_NAME_MAX - 1);
        return NULL;
    }
    const section_t *old = zg_policy_find_socket(ps->p, name);
    if (old) {
        PERR(ps, line, header, "duplicate section (first at line %u)",
             old->line);
        return NULL;
    }
    section_t *s = add_socket_section(ps, name);
    if (!s)
        PERR(ps, line, header, "out of memory");
    return s;
}

/* ---- [auth] and [metrics] ----------------------------------------------------
 * Each key has a check that also produces the stored text. */

typedef bool(plain_check_fn)(parser_t *ps, const zg_ini_item_t *it,
                             char **out);
static char *resolve_paths(const char *dir, const char *list);
static void set_text(parser_t *ps, const zg_ini_item_t *it, char **text,
                     unsigned *line);

static bool check_path(parser_t *ps, const zg_ini_item_t *it, char **out)
{
    *out = resolve_paths(ps->p->dir, it->value);
    return true;
}

static bool check_cidr(parser_t *ps, const zg_ini_item_t *it, char **out)
{
    zg_cidr_t *rules;
    size_t n;
    const char *why;
    if (zg_cidr_list_parse(it->value, &rules, &n, &why) != 0) {
        PERR(ps, it->line, it->key, "'%.*s%s' %s", SHOWN(it->value), why);
        return false;
    }
    free(rules);
    *out = strdup(it->value);
    return true;
}

/* "127.0.0.1:9464", "[::1]:9464", "0.0.0.0:9464"; port 0 for any free one
 * (zg_ctx_metrics_port and the gate's ready line tell which) */
static bool check_listen(parser_t *ps, const zg_ini_item_t *it, char **out)
{
    const char *colon = strrchr(it->value, ':');
    char *end = NULL;
    long port = colon ? strtol(colon + 1, &end, 10) : 0;
    if (!colon || colon == it->value || !end || *end || colon[1] < '0' ||
        colon[1] > '9' || port < 0 || port > 65535) {
        PERR(ps, it->line, it->key,
             "'%.*s%s' is not an address and port like 127.0.0.1:9464",
             SHOWN(it->value));
        return false;
    }
    *out = strdup(it->value);
    return true;
}

static bool check_yes_no(parser_t *ps, const zg_ini_item_t *it, char **out)
{
    int64_t v;
    const char *why;
    if (zg_value_parse(zg_field_info(ZG_FIELD_IMMEDIATE), it->value, &v,
                       &why) != 0) {
        PERR(ps, it->line, it->key, "'%.*s%s' %s", SHOWN(it->value), why);
        return false;
    }
    *out = strdup(v ? "yes" : "no");
    return true;
}

static bool check_pattern(parser_t *ps, const zg_ini_item_t *it, char **out)
{
    if (zg_gate_pattern_from_name(it->value) < 0) {
        PERR(ps, it->line, it->key,
             "'%.*s%s' is not a gate pattern: reqrep, pubsub or pipeline",
             SHOWN(it->value));
        return false;
    }
    *out = strdup(it->value);
    return true;
}

static bool check_endpoint(parser_t *ps, const zg_ini_item_t *it, char **out)
{
    const char *why = zg_endpoint_problem(it->value);
    if (why) {
        PERR(ps, it->line, it->key, "'%.*s%s' %s", SHOWN(it->value), why);
        return false;
    }
    *out = strdup(it->value);
    return true;
}

/* The backend: one endpoint, or several separated by commas (a DEALER or
 * PUSH spreads its messages over them, an XSUB hears all). */
static bool check_endpoints(parser_t *ps, const zg_ini_item_t *it, char **out)
{
    char ep[ZG_ENDPOINT_MAX];
    const char *list = it->value, *why;
    int n = 0;
    for (; zg_endpoint_next(&list, ep); n++) {
        if (!*ep) {
            PERR(ps, it->line, it->key,
                 "'%.*s%s' has an empty or over-long endpoint in its list",
                 SHOWN(it->value));
            return false;
        }
        if ((why = zg_endpoint_problem(ep))) {
            PERR(ps, it->line, it->key, "'%s' %s", ep, why);
            return false;
        }
    }
    if (!n) {
        PERR(ps, it->line, it->key, "names no endpoint");
        return false;
    }
    *out = strdup(it->value);
    return true;
}

static bool check_mode(parser_t *ps, const zg_ini_item_t *it, char **out)
{
    if (strcmp(it->value, "ingress") != 0 && strcmp(it->value, "client") != 0) {
        PERR(ps, it->line, it->key,
             "'%.*s%s' is not a gate mode: ingress (CURVE clients in, "
             "plaintext service behind) or client (plaintext clients here, "
             "CURVE out to a server)",
             SHOWN(it->value));
        return false;
    }
    *out = strdup(it->value);
    return true;
}

/* A value checked as a field is (info NULL: not one of the key's kind),
 * stored as its number and unit for the reader's strtoll. */
static bool store_number(parser_t *ps, const zg_ini_item_t *it,
                         const zg_field_info_t *info, const char *unit,
                         char **out)
{
    int64_t v;
    const char *why;
    if (!info || zg_value_parse(info, it->value, &v, &why) != 0) {
        PERR(ps, it->line, it->key, "'%.*s%s' %s", SHOWN(it->value),
             info ? why : "is not a limit");
        return false;
    }
    char text[32];
    snprintf(text, sizeof text, "%lld%s", (long long)v, unit);
    *out = strdup(text);
    return true;
}

/* A per-address limit: stored as the number (milliseconds for durations)
 * for the authenticator to read. */
static bool check_auth_limit(parser_t *ps, const zg_ini_item_t *it,
                             char **out)
{
    const zg_field_info_t *info = NULL;
    for (int l = 0; l < ZG_AUTH_LIMITS && !info; l++)
        if (strcmp(zg_auth_limit_info(l)->key, it->key) == 0)
            info = zg_auth_limit_info(l);
    return store_number(ps, it, info, "", out);
}

/* backend_grace: stored as "<milliseconds>ms" (`zguard policy doc` shows
 * the unit; the gate reads the number). */
static bool check_grace(parser_t *ps, const zg_ini_item_t *it, char **out)
{
    return store_number(ps, it, zg_gate_grace_info(), "ms", out);
}

static const struct plain_info {
    const char *name;
    const char *keys[PLAIN_KEYS_MAX];
    plain_check_fn *check[PLAIN_KEYS_MAX];
} plains[PLAINS] = {
    [PLAIN_AUTH] = {"auth",
                    {"allow", "revoked", "allow_ip", "deny_ip",
                     "handshake_rate_per_ip", "handshake_burst_per_ip",
                     "auth_failures_per_ip", "auth_failure_window",
                     "lockout"},
                    {check_path, check_path, check_cidr, check_cidr,
                     check_auth_limit, check_auth_limit, check_auth_limit,
                     check_auth_limit, check_auth_limit}},
    [PLAIN_METRICS] = {"metrics",
                       {"listen", "monitor", "pipe_stats", NULL},
                       {check_listen, check_yes_no, check_yes_no, NULL}},
    [PLAIN_GATE] = {"gate",
                    {"pattern", "frontend", "backend", "mode",
                     "backend_grace", NULL},
                    {check_pattern, check_endpoint, check_endpoints,
                     check_mode, check_grace, NULL}},
};

const char *zg_policy_plain_get(const zg_policy_t *policy, plain_kind_t kind,
                                const char *key, unsigned *line)
{
    const struct plain_info *info = &plains[kind];
    for (int k = 0; k < PLAIN_KEYS_MAX && info->keys[k]; k++)
        if (strcmp(info->keys[k], key) == 0) {
            if (line)
                *line = policy->plain[kind].value_line[k];
            return policy->plain[kind].value[k];
        }
    if (line)
        *line = 0;
    return NULL;
}

static void open_plain(parser_t *ps, plain_kind_t kind, const char *bracketed,
                       unsigned line)
{
    plain_t *p = &ps->p->plain[kind];
    if (p->line) {
        PERR(ps, line, bracketed, "duplicate section (first at line %u)",
             p->line);
        zg_policy_plain_free(&ps->scratch);
        memset(&ps->scratch, 0, sizeof ps->scratch);
        ps->plain = &ps->scratch;
    } else {
        p->line = line;
        ps->plain = p;
    }
    ps->in_plain = (int)kind;
    use_ignored(ps, ZG_LAYER_DEFAULTS); /* nothing of a socket's */
}

static void unknown_plain_key(parser_t *ps, const zg_ini_item_t *it,
                              const struct plain_info *info)
{
    const char *keys[PLAIN_KEYS_MAX + 1];
    char list[PLAIN_KEYS_MAX * PLAIN_KEY_NAME_MAX] = "";
    size_t n = 0;
    for (; n < PLAIN_KEYS_MAX && info->keys[n]; n++) {
        keys[n] = info->keys[n];
        snprintf(list + strlen(list), sizeof list - strlen(list), "%s, ",
                 info->keys[n]);
    }
    keys[n++] = "rationale";
    const char *hint = zg_key_suggest(it->key, keys, n);
    if (hint)
        PERR(ps, it->line, it->key, "unknown key in [%s] (did you mean '%s'?)",
             info->name, hint);
    else
        PERR(ps, it->line, it->key, "unknown key in [%s] (%srationale)",
             info->name, list);
}

static void on_plain_pair(parser_t *ps, const zg_ini_item_t *it)
{
    const struct plain_info *info = &plains[ps->in_plain];
    plain_t *a = ps->plain;
    if (strcmp(it->key, "rationale") == 0) {
        set_text(ps, it, &a->rationale, &a->rationale_line);
        return;
    }
    int k = 0;
    while (k < PLAIN_KEYS_MAX && info->keys[k] &&
           strcmp(info->keys[k], it->key) != 0)
        k++;
    if (k == PLAIN_KEYS_MAX || !info->keys[k]) {
        unknown_plain_key(ps, it, info);
        return;
    }
    if (a->value_line[k]) {
        PERR(ps, it->line, it->key, "duplicate key (first at line %u)",
             a->value_line[k]);
        return;
    }
    if (info->check[k](ps, it, &a->value[k]))
        a->value_line[k] = it->line;
}

static void unknown_section(parser_t *ps, const char *header,
                            const char *bracketed, unsigned line)
{
    static const char *const kinds[] = {"defaults", "type", "socket", "auth",
                                        "metrics", "gate"};
    char kind[32];
    size_t n = strcspn(header, ".");
    snprintf(kind, sizeof kind, "%.*s", (int)(n < sizeof kind ? n : 0), header);
    const char *hint = zg_key_suggest(kind, kinds, 6);
    bool plain = hint && strcmp(hint, "type") != 0 &&
                 strcmp(hint, "socket") != 0;
    if (hint && plain == (header[n] == '\0'))
        PERR(ps, line, bracketed, "unknown section (did you mean [%s%.*s%s]?)",
             hint, SHOWN(header + n));
    else
        PERR(ps, line, bracketed,
             "unknown section (use [defaults], [type.<socket type>], "
             "[socket.<name>], [auth], [metrics] or [gate])");
}

static void on_section(parser_t *ps, const char *header, unsigned line)
{
    if (ps->cur)
        zg_policy_check_section(ps, ps->cur);
    section_t *s = NULL;
    zg_layer_t layer = ZG_LAYER_DEFAULTS;
    char bracketed[ZG_INI_LINE_MAX + 3];
    snprintf(bracketed, sizeof bracketed, "[%s]", header);
    ps->in_plain = -1;
    for (int k = 0; k < PLAINS; k++)
        if (strcmp(header, plains[k].name) == 0) {
            open_plain(ps, (plain_kind_t)k, bracketed, line);
            return;
        }
    if (strcmp(header, "defaults") == 0) {
        if (ps->seen_defaults)
            PERR(ps, line, bracketed, "duplicate section (first at line %u)",
                 ps->defaults_line);
        else
            s = &ps->p->defaults;
        ps->seen_defaults = true;
        ps->defaults_line = ps->defaults_line ? ps->defaults_line : line;
    } else if (strncmp(header, "type.", 5) == 0) {
        layer = ZG_LAYER_TYPE;
        s = open_type_section(ps, bracketed, header + 5, line);
    } else if (strncmp(header, "socket.", 7) == 0) {
        layer = ZG_LAYER_SOCKET;
        s = open_socket_section(ps, bracketed, header + 7, line);
    } else {
        unknown_section(ps, header, bracketed, line);
        /* its keys are still checked, but whichever kind was meant, a
         * 'type' key in it is no second error */
        layer = ZG_LAYER_SOCKET;
    }
    if (!s) {
        use_ignored(ps, layer);
        return;
    }
    s->line = line;
    s->header = strdup(header);
    ps->cur = s;
}

/* "4.3.5": three numbers, as zmq_version() reports them. */
static bool version_ok(const char *v)
{
    int parts = 0;
    for (const char *p = v; *p; parts++) {
        size_t n = strspn(p, "0123456789");
        if (n == 0 || n > 4)
            return false;
        p += n;
        if (*p == '.' && parts < 2)
            p++;
        else if (*p)
            return false;
    }
    return parts == 3;
}

static void on_libzmq_key(parser_t *ps, const zg_ini_item_t *it, int k)
{
    if (ps->p->top_line[k]) {
        PERR(ps, it->line, it->key, "duplicate key (first at line %u)",
             ps->p->top_line[k]);
        return;
    }
    if (k == TOP_MIN_LIBZMQ && !version_ok(it->value)) {
        PERR(ps, it->line, it->key,
             "'%.*s%s' is not a libzmq version like 4.3.5", SHOWN(it->value));
        return;
    }
    if (k == TOP_ON_ADVISORY && strcmp(it->value, "fail") != 0 &&
        strcmp(it->value, "warn") != 0) {
        PERR(ps, it->line, it->key, "'%.*s%s' is not fail or warn",
             SHOWN(it->value));
        return;
    }
    ps->p->top[k] = strdup(it->value);
    ps->p->top_line[k] = it->line;
}

static void on_top_level(parser_t *ps, const zg_ini_item_t *it)
{
    for (int k = 0; k < TOP_KEYS; k++)
        if (strcmp(it->key, zg_policy_top_keys[k]) == 0) {
            on_libzmq_key(ps, it, k);
            return;
        }
    if (strcmp(it->key, "version") != 0) {
        PERR(ps, it->line, it->key,
             "must be inside a section ([defaults], [type.<socket type>], "
             "[socket.<name>], [auth], [metrics] or [gate]); only version, "
             "min_libzmq and on_advisory come before them");
        return;
    }
    if (ps->version_line) {
        PERR(ps, it->line, "version", "duplicate key (first at line %u)",
             ps->version_line);
        return;
    }
    ps->version_line = it->line;
    if (strcmp(it->value, "1") != 0)
        PERR(ps, it->line, "version",
             "unsupported policy version '%.*s%s' (this zguard reads "
             "version 1)",
             SHOWN(it->value));
}

/* Sets a flag key once; false (and an error) when repeated or not yes/no. */
static bool set_flag(parser_t *ps, const zg_ini_item_t *it, bool *flag,
                     unsigned *line)
{
    if (*line) {
        PERR(ps, it->line, it->key, "duplicate key (first at line %u)", *line);
        return false;
    }
    int64_t v;
    const char *why;
    if (zg_value_parse(zg_field_info(ZG_FIELD_IMMEDIATE), it->value, &v,
                       &why) != 0) {
        PERR(ps, it->line, it->key, "'%.*s%s' %s", SHOWN(it->value), why);
        return false;
    }
    *flag = v;
    *line = it->line;
    return true;
}

static void set_text(parser_t *ps, const zg_ini_item_t *it, char **text,
                     unsigned *line)
{
    if (*line) {
        PERR(ps, it->line, it->key, "duplicate key (first at line %u)", *line);
        return;
    }
    *text = strdup(it->value);
    *line = it->line;
}

static void on_type_key(parser_t *ps, section_t *s, const zg_ini_item_t *it)
{
    if (s->layer != ZG_LAYER_SOCKET) {
        PERR(ps, it->line, "type",
             "only [socket.<name>] sections declare a type");
        return;
    }
    if (s->type_line) {
        PERR(ps, it->line, "type", "duplicate key (first at line %u)",
             s->type_line);
        return;
    }
    s->type_line = it->line;
    s->type = zg_type_from_name(it->value);
    if (s->type < 0)
        PERR(ps, it->line, "type", "unknown socket type '%.*s%s' (use %s)",
             SHOWN(it->value), type_list());
}

/* bind = / connect = in a socket section: a glob over the endpoints an
 * unmodified program uses (zguard run), e.g. tcp://ANY:5555 with * for ANY */
static void on_pattern_key(parser_t *ps, section_t *s, const zg_ini_item_t *it,
                           char **pattern, unsigned *line)
{
    if (s->layer != ZG_LAYER_SOCKET) {
        PERR(ps, it->line, it->key,
             "only [socket.<name>] sections match endpoints");
        return;
    }
    if (*line) {
        PERR(ps, it->line, it->key, "duplicate key (first at line %u)", *line);
        return;
    }
    static const char *const transports[] = {"tcp://", "ipc://", "inproc://"};
    bool ok = false;
    for (size_t i = 0; i < sizeof transports / sizeof *transports; i++) {
        size_t n = strlen(transports[i]);
        ok |= strncmp(it->value, transports[i], n) == 0 && it->value[n];
    }
    if (!ok) {
        PERR(ps, it->line, it->key,
             "'%.*s%s' is not an endpoint pattern: tcp://, ipc:// or "
             "inproc:// and an address, '*' matching any text "
             "(tcp://*:5555, tcp://127.0.0.1:*)",
             SHOWN(it->value));
        return;
    }
    *pattern = strdup(it->value);
    *line = it->line;
    if (!*pattern)
        PERR(ps, it->line, it->key, "out of memory");
}

static void on_overrides_key(parser_t *ps, section_t *s,
                             const zg_ini_item_t *it)
{
    if (s->layer != ZG_LAYER_SOCKET) {
        PERR(ps, it->line, it->key,
             "only [socket.<name>] sections let the application override "
             "the policy");
        return;
    }
    if (s->overrides_line) {
        PERR(ps, it->line, it->key, "duplicate key (first at line %u)",
             s->overrides_line);
        return;
    }
    if (strcmp(it->value, "allow") != 0 && strcmp(it->value, "deny") != 0) {
        PERR(ps, it->line, it->key,
             "'%.*s%s' is not allow or deny (deny: the default)",
             SHOWN(it->value));
        return;
    }
    s->overrides = strcmp(it->value, "allow") == 0;
    s->overrides_line = it->line;
}

static void unknown_key(parser_t *ps, const zg_ini_item_t *it)
{
    const char *keys[ZG_FIELD_COUNT + 7];
    size_t n = 0;
    for (int f = 0; f < ZG_FIELD_COUNT; f++)
        keys[n++] = zg_field_info(f)->key;
    const char *base = it->key;
    char stem[64];
    const char *dot = strchr(it->key, '.');
    if (dot) {
        /* the only dotted keys are FIELD.rationale: suggest one of those,
         * whether the field or the suffix was mistyped */
        if ((size_t)(dot - it->key) >= sizeof stem) {
            PERR(ps, it->line, it->key, "unknown key");
            return;
        }
        memcpy(stem, it->key, (size_t)(dot - it->key));
        stem[dot - it->key] = '\0';
        base = stem;
    } else {
        keys[n++] = "rationale";
        keys[n++] = "unbounded";
        keys[n++] = "insecure";
        keys[n++] = "type";
        keys[n++] = "bind";
        keys[n++] = "connect";
        keys[n++] = "app_overrides";
    }
    const char *hint = zg_key_suggest(base, keys, n);
    if (hint && dot)
        PERR(ps, it->line, it->key,
             "unknown key (did you mean '%s.rationale'?)", hint);
    else if (hint && strcmp(hint, base) != 0)
        PERR(ps, it->line, it->key, "unknown key (did you mean '%s'?)", hint);
    else
        PERR(ps, it->line, it->key, "unknown key");
}

/* "a.key, /etc/b.key" -> "DIR/a.key,/etc/b.key": a relative key file is
 * found beside the policy, wherever the program runs. */
static char *resolve_paths(const char *dir, const char *list)
{
    size_t cap = strlen(list) + 1, used = 0, dlen = strlen(dir);
    for (const char *c = list; *c; c++)
        cap += *c == ',' ? dlen + 1 : 0;
    char *out = malloc(cap + dlen);
    if (!out)
        return NULL;
    for (const char *p = list; *p;) {
        p += strspn(p, " \t");
        size_t n = strcspn(p, ",");
        while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
            n--;
        if (used)
            out[used++] = ',';
        if (p[0] != '/') {
            memcpy(out + used, dir, dlen);
            used += dlen;
        }
        memcpy(out + used, p, n);
        used += n;
        p += strcspn(p, ",");
        p += *p == ',';
    }
    out[used] = '\0';
    return out;
}

static void on_field(parser_t *ps, section_t *s, int f,
                     const zg_ini_item_t *it)
{
    entry_t *e = &s->e[f];
    if (e->set) {
        PERR(ps, it->line, it->key, "duplicate key (first at line %u)",
             e->line);
        return;
    }
    const zg_field_info_t *info = zg_field_info((zg_field_t)f);
    const char *why;
    if (zg_value_parse(info, it->value, &e->value, &why) != 0) {
        PERR(ps, it->line, it->key, "'%.*s%s' %s", SHOWN(it->value), why);
        e->line = it->line; /* written, if wrongly: its rationale has a value */
        return;
    }
    if (info->kind == ZG_KIND_PATH || info->kind == ZG_KIND_PATHS) {
        e->str = resolve_paths(ps->p->dir, it->value);
        if (!e->str) {
            PERR(ps, it->line, it->key, "out of memory");
            return;
        }
    }
    e->set = true;
    e->line = it->line;
}

static void on_field_rationale(parser_t *ps, section_t *s, int f,
                               const zg_ini_item_t *it)
{
    entry_t *e = &s->e[f];
    set_text(ps, it, &e->rationale, &e->rationale_line);
}

static void on_pair(parser_t *ps, const zg_ini_item_t *it)
{
    section_t *s = ps->cur;
    if (ps->in_plain >= 0) {
        on_plain_pair(ps, it);
        return;
    }
    if (!s) {
        on_top_level(ps, it);
        return;
    }
    const char *k = it->key;
    if (strcmp(k, "rationale") == 0) {
        set_text(ps, it, &s->rationale, &s->rationale_line);
    } else if (strcmp(k, "unbounded") == 0) {
        set_flag(ps, it, &s->unbounded, &s->unbounded_line);
    } else if (strcmp(k, "insecure") == 0) {
        set_flag(ps, it, &s->insecure, &s->insecure_line);
    } else if (strcmp(k, "type") == 0) {
        on_type_key(ps, s, it);
    } else if (strcmp(k, "bind") == 0) {
        on_pattern_key(ps, s, it, &s->bind, &s->bind_line);
    } else if (strcmp(k, "connect") == 0) {
        on_pattern_key(ps, s, it, &s->connect, &s->connect_line);
    } else if (strcmp(k, "app_overrides") == 0) {
        on_overrides_key(ps, s, it);
    } else if (strcmp(k, "version") == 0) {
        PERR(ps, it->line, k, "must come before the first section");
        if (!ps->version_line)
            ps->version_line = it->line; /* misplaced, not missing */
    } else {
        size_t n = strlen(k);
        static const char suffix[] = ".rationale";
        size_t sn = sizeof suffix - 1;
        if (n > sn && strcmp(k + n - sn, suffix) == 0) {
            char field[64];
            int f = -1;
            if (n - sn < sizeof field) {
                memcpy(field, k, n - sn);
                field[n - sn] = '\0';
                f = zg_field_from_key(field);
            }
            if (f >= 0)
                on_field_rationale(ps, s, f, it);
            else
                unknown_key(ps, it);
            return;
        }
        int f = zg_field_from_key(k);
        if (f >= 0)
            on_field(ps, s, f, it);
        else
            unknown_key(ps, it);
    }
}

static void parse_text(parser_t *ps, const char *text, size_t len)
{
    zg_ini_t *ini = malloc(sizeof *ini);
    if (!ini) {
        PERR(ps, 0, "policy", "out of memory");
        return;
    }
    zg_ini_init(ini, text, len);
    zg_ini_item_t it;
    for (zg_ini_next(ini, &it); it.kind != ZG_INI_END; zg_ini_next(ini, &it)) {
        if (it.kind == ZG_INI_ERROR) {
            PERR(ps, it.line, it.key, "%s", it.error);
            /* a broken section header: the keys below it are checked, but
             * belong to no section rather than each being "outside" one */
            if (it.key[0] == '[') {
                if (ps->cur)
                    zg_policy_check_section(ps, ps->cur);
                use_ignored(ps, ZG_LAYER_SOCKET);
                ps->in_plain = -1;
            }
            /* 'version =' or 'version = "1': wrong, but not missing */
            if (!ps->cur && !ps->version_line &&
                strcmp(it.key, "version") == 0)
                ps->version_line = it.line;
        } else if (it.kind == ZG_INI_SECTION) {
            on_section(ps, it.key, it.line);
        } else {
            on_pair(ps, &it);
        }
    }
    if (ps->cur)
        zg_policy_check_section(ps, ps->cur);
    if (!ps->version_line)
        PERR(ps, 1, "version",
             "missing: a policy starts with 'version = 1'");
    else if (zg_diag_errors(ps->diag) == ps->errors_before)
        zg_policy_check_layers(ps);
    free(ini);
}

zg_policy_t *zg_policy_parse(const char *text, size_t len, const char *file,
                             zg_diag_t *diag)
{
    zg_error_clear();
    if (!file)
        file = "(policy)";
    zg_diag_t *own = diag ? NULL : zg_diag_new();
    parser_t ps = {.diag = diag ? diag : own, .file = file, .in_plain = -1};
    zg_policy_section_init(&ps.ignored, ZG_LAYER_DEFAULTS, -1);
    size_t errors_before = zg_diag_errors(ps.diag);
    ps.errors_before = errors_before;
    ps.p = zg_policy_new(file);
    if (!ps.p || !ps.diag) {
        zg_diag_destroy(&own);
        zg_policy_destroy(&ps.p);
        errno = ENOMEM;
        zg_error_set("%s: out of memory", file);
        return NULL;
    }
    parse_text(&ps, text, len);
    zg_policy_section_free(&ps.ignored);
    zg_policy_plain_free(&ps.scratch);
    size_t errors = zg_diag_errors(ps.diag) - errors_before;
    if (errors) {
        /* the diag is in line order and may hold other files' problems */
        const zg_problem_t *first = NULL, *pr;
        for (size_t i = 0; !first && (pr = zg_diag_get(ps.diag, i)); i++)
            if (pr->severity == ZG_SEV_ERROR && strcmp(pr->file, file) == 0)
                first = pr;
        if (first)
            zg_error_set("%s:%u: %s: %s%s", first->file, first->line,
                         first->key, first->message,
                         errors > 1 ? " (and more errors)" : "");
        else
            zg_error_set("%s: invalid policy", file);
        zg_policy_destroy(&ps.p);
        errno = EINVAL;
    }
    zg_diag_destroy(&own);
    return ps.p;
}

zg_policy_t *zg_policy_load(const char *path, zg_diag_t *diag)
{
    size_t len = 0;
    char *text = zg_file_read_text(path, POLICY_FILE_MAX, &len);
    if (!text) {
        const char *why = errno == EFBIG ? "larger than 1 MiB, not a policy"
                                         : strerror(errno);
        zg_diag_add(diag, ZG_SEV_ERROR, path, 0, "file", "cannot read: %s",
                    why);
        zg_error_set("%s: cannot read: %s", path, why);
        return NULL;
    }
    zg_policy_t *p = zg_policy_parse(text, len, path, diag);
    free(text);
    return p;
}

