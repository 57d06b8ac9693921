/*
 * policy.c - what every socket must have, from built-in defaults and a file.
 *
 * Four layers, later ones win: built-in values per socket type, [defaults],
 * [type.<socket type>], [socket.<name>]. A value that removes a bound (HWM 0,
 * an infinite timeout or linger, no MAXMSGSIZE, no handshake limit) or
 * security is refused unless its own section says `unbounded = yes` or
 * `insecure = yes` and gives a rationale: nothing is unbounded by accident.
 * Every problem is reported with file, line and key; parsing goes on after an
 * error so that one run shows them all.
 */
#include "zg_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define POLICY_VERSION 1
#define POLICY_FILE_MAX (1 << 20) /* a policy is text a person reads */

typedef struct entry {
    bool set;
    int64_t value;
    char *str; /* key files, resolved against the policy's directory */
    unsigned line;
    char *rationale;
    unsigned rationale_line;
} entry_t;

typedef struct section {
    zg_layer_t layer;
    char *header;   /* "type.push", for messages */
    char *socket;   /* socket sections: the name */
    unsigned line;
    int type;       /* type and socket sections; -1 until known */
    unsigned type_line;
    bool unbounded, insecure;
    unsigned unbounded_line, insecure_line;
    char *rationale;
    unsigned rationale_line;
    entry_t e[ZG_FIELD_COUNT];
} section_t;

/* [auth], [metrics] and [gate]: context-wide, a few keys each, no layers. */
typedef enum plain_kind { PLAIN_AUTH, PLAIN_METRICS, PLAIN_GATE, PLAINS } plain_kind_t;
#define PLAIN_KEYS_MAX 4
enum { AUTH_ALLOW, AUTH_REVOKED, AUTH_ALLOW_IP, AUTH_DENY_IP };
enum { GATE_PATTERN, GATE_FRONTEND, GATE_BACKEND };

typedef struct plain {
    unsigned line; /* of the section; 0 when absent */
    char *value[PLAIN_KEYS_MAX];
    unsigned value_line[PLAIN_KEYS_MAX];
    char *rationale;
    unsigned rationale_line;
} plain_t;

/* Top-level keys after version: the libzmq version gate. */
enum { TOP_MIN_LIBZMQ, TOP_ON_ADVISORY, TOP_KEYS };
static const char *const top_keys[TOP_KEYS] = {"min_libzmq", "on_advisory"};

struct zg_policy {
    atomic_int refs;
    char *file;
    char *dir; /* where relative key files are */
    char *top[TOP_KEYS];
    unsigned top_line[TOP_KEYS];
    plain_t plain[PLAINS];
    section_t defaults;
    section_t types[ZG_TYPE_COUNT];
    section_t *sockets;
    size_t nsockets, cap;
};

static const char *const type_names[ZG_TYPE_COUNT] = {
    [ZMQ_PAIR] = "pair",     [ZMQ_PUB] = "pub",       [ZMQ_SUB] = "sub",
    [ZMQ_REQ] = "req",       [ZMQ_REP] = "rep",       [ZMQ_DEALER] = "dealer",
    [ZMQ_ROUTER] = "router", [ZMQ_PULL] = "pull",     [ZMQ_PUSH] = "push",
    [ZMQ_XPUB] = "xpub",     [ZMQ_XSUB] = "xsub",     [ZMQ_STREAM] = "stream"};

const char *zg_type_name(int type)
{
    return type >= 0 && type < ZG_TYPE_COUNT ? type_names[type] : NULL;
}

int zg_type_from_name(const char *name)
{
    for (int t = 0; t < ZG_TYPE_COUNT; t++)
        if (name && strcmp(type_names[t], name) == 0)
            return t;
    return -1;
}

const char *zg_layer_name(zg_layer_t layer)
{
    static const char *const names[] = {"built-in", "defaults", "type",
                                        "socket"};
    return (unsigned)layer < 4 ? names[layer] : "?";
}

bool zg_field_applies(zg_field_t field, int type)
{
    return field != ZG_FIELD_ROUTER_MANDATORY || type == ZMQ_ROUTER;
}

/* ---- built-in values ------------------------------------------------------ */

static bool is_reqrep(int t) { return t == ZMQ_REQ || t == ZMQ_REP; }

static int64_t builtin_value(zg_field_t f, int type)
{
    switch (f) {
    case ZG_FIELD_SNDHWM:
        return is_reqrep(type) ? 100
               : (type == ZMQ_PUB || type == ZMQ_XPUB) ? 10000
                                                       : 1000;
    case ZG_FIELD_RCVHWM:
        return is_reqrep(type) ? 100
               : (type == ZMQ_SUB || type == ZMQ_XSUB) ? 10000
                                                       : 1000;
    case ZG_FIELD_SNDTIMEO: return 2000;
    case ZG_FIELD_RCVTIMEO: return 5000;
    case ZG_FIELD_MAXMSGSIZE: return 1024 * 1024;
    case ZG_FIELD_LINGER: return 1000;
    case ZG_FIELD_HANDSHAKE_IVL: return 5000;
    case ZG_FIELD_HEARTBEAT_IVL: return 5000;
    case ZG_FIELD_HEARTBEAT_TTL: return 15000;
    case ZG_FIELD_HEARTBEAT_TIMEOUT: return 15000;
    case ZG_FIELD_IMMEDIATE: return 0;
    case ZG_FIELD_RECONNECT_IVL: return 100;
    case ZG_FIELD_RECONNECT_IVL_MAX: return 30000;
    case ZG_FIELD_TCP_KEEPALIVE: return 1;
    case ZG_FIELD_TCP_KEEPALIVE_IDLE: return 60000;
    case ZG_FIELD_TCP_KEEPALIVE_INTVL: return 10000;
    case ZG_FIELD_TCP_KEEPALIVE_CNT: return 5;
    case ZG_FIELD_ROUTER_MANDATORY: return type == ZMQ_ROUTER;
    case ZG_FIELD_SECURITY: return ZG_SECURITY_CURVE;
    case ZG_FIELD_RETRIES: return 3;
    case ZG_FIELD_ALERT_MUTE: return 50;
    case ZG_FIELD_ALERT_HWM: return 80;
    case ZG_FIELD_ALERT_WINDOW: return 10000;
    case ZG_FIELD_ALERT_TIMEOUTS: return 10;
    case ZG_FIELD_ALERT_AUTH_FAILURES: return 10;
    case ZG_FIELD_ALERT_NO_PEERS: return 0;
    default: return 0; /* key files: none */
    }
}

static const char *builtin_rationale(zg_field_t f)
{
    switch (f) {
    case ZG_FIELD_SNDHWM:
    case ZG_FIELD_RCVHWM:
        return "bounded queues: 100 for REQ/REP (one request in flight), "
               "10000 for PUB/SUB fan-out, 1000 otherwise; raise only when a "
               "load test shows the need";
    case ZG_FIELD_SNDTIMEO:
        return "a peer that does not read for 2s is stuck: fail the send "
               "instead of blocking the thread";
    case ZG_FIELD_RCVTIMEO:
        return "no thread waits forever for a message that may never come";
    case ZG_FIELD_MAXMSGSIZE:
        return "a peer sending a frame over 1MiB is disconnected before it "
               "is buffered";
    case ZG_FIELD_LINGER:
        return "shutdown waits at most 1s for unsent messages";
    case ZG_FIELD_HANDSHAKE_IVL:
        return "a connection that does not finish its handshake in 5s is "
               "closed (slow-handshake attacks hold a connection for free)";
    case ZG_FIELD_HEARTBEAT_IVL:
    case ZG_FIELD_HEARTBEAT_TTL:
    case ZG_FIELD_HEARTBEAT_TIMEOUT:
        return "ZMTP pings every 5s; a peer silent for 15s is dead";
    case ZG_FIELD_IMMEDIATE:
        return "libzmq's default: queue to peers that are still connecting";
    case ZG_FIELD_RECONNECT_IVL:
    case ZG_FIELD_RECONNECT_IVL_MAX:
        return "reconnect after 100ms, backing off to 30s so a dead peer is "
               "not hammered";
    case ZG_FIELD_TCP_KEEPALIVE:
    case ZG_FIELD_TCP_KEEPALIVE_IDLE:
    case ZG_FIELD_TCP_KEEPALIVE_INTVL:
    case ZG_FIELD_TCP_KEEPALIVE_CNT:
        return "the kernel probes idle connections after 60s, every 10s, 5 "
               "times, so half-open connections are found";
    case ZG_FIELD_ROUTER_MANDATORY:
        return "a ROUTER reports an unknown or full peer instead of dropping "
               "the message silently";
    case ZG_FIELD_SECURITY:
        return "CURVE on every tcp and ipc endpoint (inproc is exempt): no "
               "eavesdropping, tampering or unknown peers";
    case ZG_FIELD_RETRIES:
        return "the request helper tries 1 + 3 times before it reports the "
               "peer unreachable";
    case ZG_FIELD_ALERT_MUTE:
    case ZG_FIELD_ALERT_HWM:
    case ZG_FIELD_ALERT_WINDOW:
        return "alert when a socket is mute half of a 10s window, or its "
               "queues are 80% full (exact mode): the consumer is falling "
               "behind before anything is lost";
    case ZG_FIELD_ALERT_TIMEOUTS:
        return "more than 10 timeouts a minute is a peer in trouble, not "
               "noise";
    case ZG_FIELD_ALERT_AUTH_FAILURES:
        return "more than 10 failed handshakes a minute is a misconfigured "
               "client or an attack";
    case ZG_FIELD_ALERT_NO_PEERS:
        return "off: many sockets legitimately have no peer for a while";
    case ZG_FIELD_CURVE_KEYS:
    case ZG_FIELD_CURVE_SERVER_KEY:
        return "no keys by default: under security = curve, endpoints outside "
               "the process are refused until keys are set";
    default: return NULL;
    }
}

/* ---- the model ------------------------------------------------------------ */

static void section_init(section_t *s, zg_layer_t layer, int type)
{
    memset(s, 0, sizeof *s);
    s->layer = layer;
    s->type = type;
}

static void section_free(section_t *s)
{
    free(s->header);
    free(s->socket);
    free(s->rationale);
    for (int f = 0; f < ZG_FIELD_COUNT; f++) {
        free(s->e[f].rationale);
        free(s->e[f].str);
    }
}

static void plain_free(plain_t *a)
{
    for (int k = 0; k < PLAIN_KEYS_MAX; k++)
        free(a->value[k]);
    free(a->rationale);
}

static zg_policy_t *policy_new(const char *file)
{
    zg_policy_t *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    atomic_init(&p->refs, 1);
    p->file = strdup(file);
    const char *slash = strrchr(file, '/');
    p->dir = slash ? strndup(file, (size_t)(slash - file) + 1) : strdup("");
    if (!p->file || !p->dir) {
        free(p->file);
        free(p->dir);
        free(p);
        return NULL;
    }
    section_init(&p->defaults, ZG_LAYER_DEFAULTS, -1);
    for (int t = 0; t < ZG_TYPE_COUNT; t++)
        section_init(&p->types[t], ZG_LAYER_TYPE, t);
    return p;
}

zg_policy_t *zg_policy_builtin(void)
{
    return policy_new("(built-in)");
}

zg_policy_t *zg_policy_ref(zg_policy_t *policy)
{
    if (policy)
        atomic_fetch_add(&policy->refs, 1);
    return policy;
}

void zg_policy_destroy(zg_policy_t **policy)
{
    if (!policy || !*policy)
        return;
    zg_policy_t *p = *policy;
    *policy = NULL;
    if (atomic_fetch_sub(&p->refs, 1) != 1)
        return;
    section_free(&p->defaults);
    for (int t = 0; t < ZG_TYPE_COUNT; t++)
        section_free(&p->types[t]);
    for (size_t i = 0; i < p->nsockets; i++)
        section_free(&p->sockets[i]);
    free(p->sockets);
    for (int i = 0; i < PLAINS; i++)
        plain_free(&p->plain[i]);
    for (int k = 0; k < TOP_KEYS; k++)
        free(p->top[k]);
    free(p->file);
    free(p->dir);
    free(p);
}

const char *zg_policy_libzmq(const zg_policy_t *policy, const char *key,
                             unsigned *line)
{
    for (int k = 0; k < TOP_KEYS; k++)
        if (strcmp(top_keys[k], key) == 0) {
            if (line)
                *line = policy->top_line[k];
            return policy->top[k];
        }
    if (line)
        *line = 0;
    return NULL;
}

static const char *plain_get(const zg_policy_t *policy, plain_kind_t kind,
                             const char *key, unsigned *line);

const char *zg_policy_auth(const zg_policy_t *policy, const char *key,
                           unsigned *line)
{
    return plain_get(policy, PLAIN_AUTH, key, line);
}

const char *zg_policy_metrics(const zg_policy_t *policy, const char *key,
                              unsigned *line)
{
    return plain_get(policy, PLAIN_METRICS, key, line);
}

const char *zg_policy_gate(const zg_policy_t *policy, const char *key,
                           unsigned *line)
{
    return plain_get(policy, PLAIN_GATE, key, line);
}

const char *zg_policy_file(const zg_policy_t *policy)
{
    return policy->file;
}

size_t zg_policy_socket_count(const zg_policy_t *policy)
{
    return policy->nsockets;
}

const char *zg_policy_socket_name(const zg_policy_t *policy, size_t index)
{
    return index < policy->nsockets ? policy->sockets[index].socket : NULL;
}

static const section_t *find_socket(const zg_policy_t *p, const char *name)
{
    for (size_t i = 0; i < p->nsockets; i++)
        if (strcmp(p->sockets[i].socket, name) == 0)
            return &p->sockets[i];
    return NULL;
}

int zg_policy_socket_type(const zg_policy_t *policy, const char *name)
{
    const section_t *s = name ? find_socket(policy, name) : NULL;
    return s ? s->type : -1;
}

/* ---- parsing -------------------------------------------------------------- */

typedef struct parser {
    zg_policy_t *p;
    zg_diag_t *diag;
    const char *file;
    section_t *cur;     /* NULL at top level */
    section_t ignored;  /* where a duplicate section's keys go to be checked */
    unsigned version_line;
    size_t errors_before; /* in diag, from other files */
    int in_plain;         /* the current section: a plain_kind_t, or -1 */
    plain_t *plain;       /* where its keys go: the policy's, or scratch for
                             a repeated section (checked, then dropped) */
    plain_t scratch;
    bool seen_defaults;
    unsigned defaults_line;
    unsigned type_line[ZG_TYPE_COUNT];
} parser_t;

#define PERR(ps, line, key, ...)                                               \
    zg_diag_add((ps)->diag, ZG_SEV_ERROR, (ps)->file, line, key, __VA_ARGS__)
#define PWARN(ps, line, key, ...)                                              \
    zg_diag_add((ps)->diag, ZG_SEV_WARNING, (ps)->file, line, key, __VA_ARGS__)

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
    section_init(s, ZG_LAYER_SOCKET, -1);
    s->socket = strdup(name);
    if (!s->socket)
        return NULL;
    p->nsockets++;
    return s;
}

static void use_ignored(parser_t *ps, zg_layer_t layer)
{
    section_free(&ps->ignored);
    section_init(&ps->ignored, layer, -1);
    ps->cur = &ps->ignored;
}

static void validate_section(parser_t *ps, section_t *s);

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
    const section_t *old = find_socket(ps->p, name);
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

static const struct plain_info {
    const char *name;
    const char *keys[PLAIN_KEYS_MAX];
    plain_check_fn *check[PLAIN_KEYS_MAX];
} plains[PLAINS] = {
    [PLAIN_AUTH] = {"auth",
                    {"allow", "revoked", "allow_ip", "deny_ip"},
                    {check_path, check_path, check_cidr, check_cidr}},
    [PLAIN_METRICS] = {"metrics",
                       {"listen", "monitor", "pipe_stats", NULL},
                       {check_listen, check_yes_no, check_yes_no, NULL}},
    [PLAIN_GATE] = {"gate",
                    {"pattern", "frontend", "backend", NULL},
                    {check_pattern, check_endpoint, check_endpoint, NULL}},
};

static const char *plain_get(const zg_policy_t *policy, plain_kind_t kind,
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
        plain_free(&ps->scratch);
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
    char list[128] = "";
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
        validate_section(ps, ps->cur);
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
        if (strcmp(it->key, top_keys[k]) == 0) {
            on_libzmq_key(ps, it, k);
            return;
        }
    if (strcmp(it->key, "version") != 0) {
        PERR(ps, it->line, it->key,
             "must be inside a section ([defaults], [type.<socket type>], "
             "[socket.<name>], [auth] or [metrics]); only version, "
             "min_libzmq and "
             "on_advisory come before them");
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

static void unknown_key(parser_t *ps, const zg_ini_item_t *it)
{
    const char *keys[ZG_FIELD_COUNT + 4];
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

static void validate_section(parser_t *ps, section_t *s)
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
        PERR(ps, find_socket(ps->p, name)->type_line, "type",
             "[socket.%s] is a %s socket; the gate's pattern needs %s", name,
             zg_type_name(type), zg_type_name(want));
}

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
    zg_setting_t set[ZG_FIELD_COUNT];
    const char *ep = g->value[GATE_BACKEND];
    if (ep && zg_policy_socket_type(ps->p, "backend") == back &&
        zg_policy_settings(ps->p, back, "backend", set) == 0 &&
        set[ZG_FIELD_SECURITY].value != ZG_SECURITY_CURVE &&
        !zg_endpoint_is_local(ep))
        PERR(ps, g->value_line[GATE_BACKEND], "backend",
             "'%s' leaves this machine in plaintext: use ipc://, a loopback "
             "address (127.0.0.1, [::1], localhost), or give "
             "[socket.backend] CURVE keys",
             ep);
}

static void check_effective(parser_t *ps)
{
    reported_t r = {.n = 0};
    if (ps->p->plain[PLAIN_GATE].line)
        check_gate(ps);
    zg_setting_t set[ZG_FIELD_COUNT];
    for (size_t i = 0; i < ps->p->nsockets; i++) {
        const section_t *sock = &ps->p->sockets[i];
        if (zg_policy_settings(ps->p, sock->type, sock->socket, set) == 0)
            check_keys(ps, set, &r);
    }
    for (int t = 0; t < ZG_TYPE_COUNT; t++)
        if (zg_policy_settings(ps->p, t, NULL, set) == 0)
            check_keys(ps, set, &r);
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
                    validate_section(ps, ps->cur);
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
        validate_section(ps, ps->cur);
    if (!ps->version_line)
        PERR(ps, 1, "version",
             "missing: a policy starts with 'version = 1'");
    else if (zg_diag_errors(ps->diag) == ps->errors_before)
        check_effective(ps);
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
    section_init(&ps.ignored, ZG_LAYER_DEFAULTS, -1);
    size_t errors_before = zg_diag_errors(ps.diag);
    ps.errors_before = errors_before;
    ps.p = policy_new(file);
    if (!ps.p || !ps.diag) {
        zg_diag_destroy(&own);
        zg_policy_destroy(&ps.p);
        errno = ENOMEM;
        zg_error_set("%s: out of memory", file);
        return NULL;
    }
    parse_text(&ps, text, len);
    section_free(&ps.ignored);
    plain_free(&ps.scratch);
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
    char *text = zg_text_read(path, POLICY_FILE_MAX, &len);
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

/* ---- resolution ----------------------------------------------------------- */

static const section_t *lookup_socket(const zg_policy_t *p, int type,
                                      const char *name)
{
    const section_t *s = find_socket(p, name);
    if (!s) {
        zg_error_set("%s: no [socket.%s] section: name a socket the policy "
                     "knows, or pass no name for the %s defaults",
                     p->file, name, zg_type_name(type));
        errno = ENOENT;
        return NULL;
    }
    if (s->type != type) {
        zg_error_set("%s:%u: socket '%s' is declared 'type = %s', not %s",
                     p->file, s->type_line, name, zg_type_name(s->type),
                     zg_type_name(type));
        errno = EPROTOTYPE;
        return NULL;
    }
    return s;
}

int zg_policy_settings(const zg_policy_t *policy, int type, const char *name,
                       zg_setting_t out[ZG_FIELD_COUNT])
{
    if (!zg_type_name(type)) {
        zg_error_set("unknown socket type %d", type);
        errno = EINVAL;
        return -1;
    }
    const section_t *sock = name ? lookup_socket(policy, type, name) : NULL;
    if (name && !sock)
        return -1;
    const section_t *layers[] = {sock, &policy->types[type], &policy->defaults};
    for (int f = 0; f < ZG_FIELD_COUNT; f++) {
        zg_setting_t *o = &out[f];
        const zg_field_info_t *info = zg_field_info((zg_field_t)f);
        memset(o, 0, sizeof *o);
        o->field = (zg_field_t)f;
        o->key = info->key;
        o->layer = ZG_LAYER_BUILTIN;
        o->option = info->zmq_option;
        o->applies = zg_field_applies((zg_field_t)f, type);
        if (!o->applies) {
            zg_value_format(info, 0, o->text, sizeof o->text);
            continue;
        }
        o->value = builtin_value((zg_field_t)f, type);
        o->rationale = builtin_rationale((zg_field_t)f);
        for (size_t l = 0; l < 3; l++) {
            const section_t *s = layers[l];
            if (!s || !s->e[f].set)
                continue;
            o->value = s->e[f].value;
            o->str = s->e[f].str;
            o->layer = s->layer;
            o->line = s->e[f].line;
            o->rationale = s->e[f].rationale ? s->e[f].rationale
                                             : s->rationale;
            break;
        }
        zg_value_format(info, o->value, o->text, sizeof o->text);
    }
    return 0;
}

int zg_policy_resolve(const zg_policy_t *policy, int type, const char *name,
                      zg_resolved_t *out)
{
    zg_setting_t s[ZG_FIELD_COUNT];
    if (zg_policy_settings(policy, type, name, s) != 0)
        return -1;
    for (int f = 0; f < ZG_FIELD_COUNT; f++) {
        out->value[f] = s[f].value;
        out->str[f] = s[f].str;
    }
    return 0;
}
