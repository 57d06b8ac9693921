/*
 * policy.c - what every socket must have, from built-in defaults and a file.
 *
 * Four layers, later ones win: built-in values per socket type, [defaults],
 * [type.<socket type>], [socket.<name>]. This file holds the model: the
 * built-in values and their rationales, the sections, the getters, and the
 * resolution of a socket's effective values through the layers. Reading a
 * file is policy_parse.c's; what a policy must satisfy (nothing unbounded
 * or insecure by accident) is policy_check.c's.
 */
#include "policy_impl.h"
#include "zg_abi.h"
#include "zg_error.h"
#include "zg_policy.h"
#include "zg_value.h"

#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <stdatomic.h>
#include <stdbool.h>

const char *const zg_policy_top_keys[TOP_KEYS] = {"min_libzmq",
                                                  "on_advisory"};

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
    case ZG_FIELD_MAX_PEERS: return 1000;
    case ZG_FIELD_MAX_PEERS_PER_IP: return 0;
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
    case ZG_FIELD_MAX_PEERS:
        return "a bound socket accepts at most 1000 connections: a flood of "
               "connections is cut before it takes every file descriptor "
               "(Debian's default limit is 1024) from the process";
    case ZG_FIELD_MAX_PEERS_PER_IP:
        return "off: clients behind one NAT or on this machine share an "
               "address; set it where each client has its own, so that one "
               "address cannot take max_peers alone";
    case ZG_FIELD_CURVE_KEYS:
    case ZG_FIELD_CURVE_SERVER_KEY:
        return "no keys by default: under security = curve, endpoints outside "
               "the process are refused until keys are set";
    default: return NULL;
    }
}

/* ---- the model ------------------------------------------------------------ */

void zg_policy_section_init(section_t *s, zg_layer_t layer, int type)
{
    memset(s, 0, sizeof *s);
    s->layer = layer;
    s->type = type;
}

void zg_policy_section_free(section_t *s)
{
    free(s->header);
    free(s->socket);
    free(s->rationale);
    free(s->bind);
    free(s->connect);
    for (int f = 0; f < ZG_FIELD_COUNT; f++) {
        free(s->e[f].rationale);
        free(s->e[f].str);
    }
}

void zg_policy_plain_free(plain_t *a)
{
    for (int k = 0; k < PLAIN_KEYS_MAX; k++)
        free(a->value[k]);
    free(a->rationale);
}

zg_policy_t *zg_policy_new(const char *file)
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
    zg_policy_section_init(&p->defaults, ZG_LAYER_DEFAULTS, -1);
    for (int t = 0; t < ZG_TYPE_COUNT; t++)
        zg_policy_section_init(&p->types[t], ZG_LAYER_TYPE, t);
    return p;
}

zg_policy_t *zg_policy_builtin(void)
{
    return zg_policy_new("(built-in)");
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
    zg_policy_section_free(&p->defaults);
    for (int t = 0; t < ZG_TYPE_COUNT; t++)
        zg_policy_section_free(&p->types[t]);
    for (size_t i = 0; i < p->nsockets; i++)
        zg_policy_section_free(&p->sockets[i]);
    free(p->sockets);
    for (int i = 0; i < PLAINS; i++)
        zg_policy_plain_free(&p->plain[i]);
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
        if (strcmp(zg_policy_top_keys[k], key) == 0) {
            if (line)
                *line = policy->top_line[k];
            return policy->top[k];
        }
    if (line)
        *line = 0;
    return NULL;
}

const char *zg_policy_auth(const zg_policy_t *policy, const char *key,
                           unsigned *line)
{
    return zg_policy_plain_get(policy, PLAIN_AUTH, key, line);
}

const char *zg_policy_metrics(const zg_policy_t *policy, const char *key,
                              unsigned *line)
{
    return zg_policy_plain_get(policy, PLAIN_METRICS, key, line);
}

const char *zg_policy_gate(const zg_policy_t *policy, const char *key,
                           unsigned *line)
{
    return zg_policy_plain_get(policy, PLAIN_GATE, key, line);
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

const section_t *zg_policy_find_socket(const zg_policy_t *p, const char *name)
{
    for (size_t i = 0; i < p->nsockets; i++)
        if (strcmp(p->sockets[i].socket, name) == 0)
            return &p->sockets[i];
    return NULL;
}

int zg_policy_socket_type(const zg_policy_t *policy, const char *name)
{
    const section_t *s = name ? zg_policy_find_socket(policy, name) : NULL;
    return s ? s->type : -1;
}

/* ---- matching the sockets of an unmodified program ----------------------- */

const char *zg_policy_match(const zg_policy_t *p, int type,
                            const char *endpoint, bool bind)
{
    for (size_t i = 0; endpoint && i < p->nsockets; i++) {
        const section_t *s = &p->sockets[i];
        const char *pattern = bind ? s->bind : s->connect;
        if (s->type == type && pattern &&
            fnmatch(pattern, endpoint, FNM_NOESCAPE) == 0)
            return s->socket;
    }
    return NULL;
}

const char *zg_policy_socket_pattern(const zg_policy_t *p, const char *name,
                                     int bind, unsigned *line)
{
    const section_t *s = name ? zg_policy_find_socket(p, name) : NULL;
    if (line)
        *line = s ? (bind ? s->bind_line : s->connect_line) : 0;
    return s ? (bind ? s->bind : s->connect) : NULL;
}

bool zg_policy_overrides(const zg_policy_t *p, int type, const char *name)
{
    if (name) {
        const section_t *s = zg_policy_find_socket(p, name);
        return s && s->overrides;
    }
    /* not matched yet: any section it may still turn out to be */
    for (size_t i = 0; i < p->nsockets; i++)
        if (p->sockets[i].type == type && p->sockets[i].overrides)
            return true;
    return false;
}

/* ---- resolution ----------------------------------------------------------- */

static const section_t *lookup_socket(const zg_policy_t *p, int type,
                                      const char *name)
{
    const section_t *s = zg_policy_find_socket(p, name);
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
                       zg_setting_t *out, size_t count, size_t size)
{
    zg_setting_t all[ZG_FIELD_COUNT];
    if (zg_policy_settings_all(policy, type, name, all) != 0)
        return -1;
    if (count > ZG_FIELD_COUNT)
        count = ZG_FIELD_COUNT;
    for (size_t f = 0; f < count; f++)
        if (zg_abi_copy((char *)out + f * size, size, &all[f], sizeof all[f],
                        "zg_policy_settings") != 0)
            return -1;
    return 0;
}

int zg_policy_settings_all(const zg_policy_t *policy, int type,
                           const char *name, zg_setting_t out[ZG_FIELD_COUNT])
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
    if (zg_policy_settings_all(policy, type, name, s) != 0)
        return -1;
    for (int f = 0; f < ZG_FIELD_COUNT; f++) {
        out->value[f] = s[f].value;
        out->str[f] = s[f].str;
    }
    return 0;
}

