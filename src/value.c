/*
 * value.c - the policy's fields and the syntax of their values.
 *
 * One table says everything zguard knows about a field: its key, how its
 * value is written (durations with units, sizes in KiB/MiB), its range, which
 * value is "unbounded", and which libzmq option carries it. The parser, the
 * socket code and `zguard policy doc` all read this table, so a field is
 * added in one place.
 */
#include "zg_value.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdbool.h>

#define MS_S 1000LL
#define MS_M (60 * MS_S)
#define MS_H (60 * MS_M)
#define KIB 1024LL
#define MIB (1024 * KIB)
#define GIB (1024 * MIB)

#define DURATION_HELP "a duration with a unit: 250ms, 5s, 2m or 1h"
#define COUNT_HELP "a whole number"
#define BOOL_HELP "yes or no"

static const zg_field_info_t fields[ZG_FIELD_COUNT] = {
    [ZG_FIELD_SNDHWM] = {"sndhwm", ZG_KIND_COUNT, 0, INT_MAX, 1, NULL, true, 0,
                         ZMQ_SNDHWM, false, 1, false,
                         "a number of messages, e.g. 1000"},
    [ZG_FIELD_RCVHWM] = {"rcvhwm", ZG_KIND_COUNT, 0, INT_MAX, 1, NULL, true, 0,
                         ZMQ_RCVHWM, false, 1, false,
                         "a number of messages, e.g. 1000"},
    [ZG_FIELD_SNDTIMEO] = {"sndtimeo", ZG_KIND_DURATION, 0, INT_MAX, 1,
                           "infinite", true, -1, ZMQ_SNDTIMEO, false, 1, false,
                           DURATION_HELP},
    [ZG_FIELD_RCVTIMEO] = {"rcvtimeo", ZG_KIND_DURATION, 0, INT_MAX, 1,
                           "infinite", true, -1, ZMQ_RCVTIMEO, false, 1, false,
                           DURATION_HELP},
    [ZG_FIELD_MAXMSGSIZE] = {"maxmsgsize", ZG_KIND_SIZE, 0, INT64_MAX, 1,
                             "unlimited", true, -1, ZMQ_MAXMSGSIZE, true, 1,
                             false, "a size: 65536, 64KiB or 1MiB"},
    [ZG_FIELD_LINGER] = {"linger", ZG_KIND_DURATION, 0, INT_MAX, 1, "infinite",
                         true, -1, ZMQ_LINGER, false, 1, false, DURATION_HELP},
    [ZG_FIELD_HANDSHAKE_IVL] = {"handshake_ivl", ZG_KIND_DURATION, 0, INT_MAX,
                                1, NULL, true, 0, ZMQ_HANDSHAKE_IVL, false, 1,
                                false, DURATION_HELP},
    [ZG_FIELD_HEARTBEAT_IVL] = {"heartbeat_ivl", ZG_KIND_DURATION, 0, INT_MAX,
                                1, NULL, false, 0, ZMQ_HEARTBEAT_IVL, false, 1,
                                false, DURATION_HELP},
    /* libzmq sends the TTL in deciseconds in a 16-bit field */
    [ZG_FIELD_HEARTBEAT_TTL] = {"heartbeat_ttl", ZG_KIND_DURATION, 0, 6553500,
                                100, NULL, false, 0, ZMQ_HEARTBEAT_TTL, false,
                                1, false, DURATION_HELP},
    [ZG_FIELD_HEARTBEAT_TIMEOUT] = {"heartbeat_timeout", ZG_KIND_DURATION, 1,
                                    INT_MAX, 1, NULL, false, 0,
                                    ZMQ_HEARTBEAT_TIMEOUT, false, 1, false,
                                    DURATION_HELP},
    [ZG_FIELD_IMMEDIATE] = {"immediate", ZG_KIND_BOOL, 0, 1, 1, NULL, false, 0,
                            ZMQ_IMMEDIATE, false, 1, false, BOOL_HELP},
    [ZG_FIELD_RECONNECT_IVL] = {"reconnect_ivl", ZG_KIND_DURATION, 0, INT_MAX,
                                1, NULL, false, 0, ZMQ_RECONNECT_IVL, false, 1,
                                false, DURATION_HELP},
    [ZG_FIELD_RECONNECT_IVL_MAX] = {"reconnect_ivl_max", ZG_KIND_DURATION, 0,
                                    INT_MAX, 1, NULL, false, 0,
                                    ZMQ_RECONNECT_IVL_MAX, false, 1, false,
                                    DURATION_HELP},
    [ZG_FIELD_TCP_KEEPALIVE] = {"tcp_keepalive", ZG_KIND_BOOL, 0, 1, 1,
                                "default", false, 0, ZMQ_TCP_KEEPALIVE, false,
                                1, false, "yes, no or default"},
    /* libzmq takes these two in whole seconds */
    [ZG_FIELD_TCP_KEEPALIVE_IDLE] = {"tcp_keepalive_idle", ZG_KIND_DURATION,
                                     1000, INT_MAX / 1000 * 1000, 1000,
                                     "default", false, 0,
                                     ZMQ_TCP_KEEPALIVE_IDLE, false, 1000,
                                     false, DURATION_HELP " (whole seconds)"},
    [ZG_FIELD_TCP_KEEPALIVE_INTVL] = {"tcp_keepalive_intvl", ZG_KIND_DURATION,
                                      1000, INT_MAX / 1000 * 1000, 1000,
                                      "default", false, 0,
                                      ZMQ_TCP_KEEPALIVE_INTVL, false, 1000,
                                      false, DURATION_HELP " (whole seconds)"},
    [ZG_FIELD_TCP_KEEPALIVE_CNT] = {"tcp_keepalive_cnt", ZG_KIND_COUNT, 1,
                                    INT_MAX, 1, "default", false, 0,
                                    ZMQ_TCP_KEEPALIVE_CNT, false, 1, false,
                                    "a number of probes, or default"},
    [ZG_FIELD_ROUTER_MANDATORY] = {"router_mandatory", ZG_KIND_BOOL, 0, 1, 1,
                                   NULL, false, 0, ZMQ_ROUTER_MANDATORY, false,
                                   1, true, BOOL_HELP},
    [ZG_FIELD_SECURITY] = {"security", ZG_KIND_SECURITY, 0, 1, 1, NULL, false,
                           0, 0, false, 1, false, "curve or none"},
    [ZG_FIELD_CURVE_KEYS] = {"curve_keys", ZG_KIND_PATH, 0, 1, 1, NULL, false,
                             0, 0, false, 1, false,
                             "this socket's key pair: NAME.key or "
                             "NAME.key_secret"},
    [ZG_FIELD_CURVE_SERVER_KEY] = {"curve_server_key", ZG_KIND_PATHS, 0,
                                   ZG_SERVER_KEYS_MAX, 1, NULL, false, 0, 0,
                                   false, 1, false,
                                   "the server's public certificate, or an "
                                   "ordered list for rotation: new.key, "
                                   "old.key"},
    [ZG_FIELD_ALERT_MUTE] = {"alert_mute", ZG_KIND_PERCENT, 0, 100, 1, NULL,
                             false, 0, 0, false, 1, false,
                             "a percentage, e.g. 50% (0% turns it off)"},
    [ZG_FIELD_ALERT_HWM] = {"alert_hwm", ZG_KIND_PERCENT, 0, 100, 1, NULL,
                            false, 0, 0, false, 1, false,
                            "a percentage, e.g. 80% (0% turns it off)"},
    [ZG_FIELD_ALERT_WINDOW] = {"alert_window", ZG_KIND_DURATION, 1000, 3600000,
                               1, NULL, false, 0, 0, false, 1, false,
                               DURATION_HELP " (1s to 1h)"},
    [ZG_FIELD_ALERT_TIMEOUTS] = {"alert_timeouts", ZG_KIND_COUNT, 0, 1000000,
                                 1, NULL, false, 0, 0, false, 1, false,
                                 "timeouts per minute (0 turns it off)"},
    [ZG_FIELD_ALERT_AUTH_FAILURES] = {"alert_auth_failures", ZG_KIND_COUNT, 0,
                                      1000000, 1, NULL, false, 0, 0, false, 1,
                                      false,
                                      "failed handshakes per minute (0 turns "
                                      "it off)"},
    [ZG_FIELD_ALERT_NO_PEERS] = {"alert_no_peers", ZG_KIND_BOOL, 0, 1, 1, NULL,
                                 false, 0, 0, false, 1, false, BOOL_HELP},
    [ZG_FIELD_MAX_PEERS] = {"max_peers", ZG_KIND_COUNT, 0, INT_MAX, 1, NULL,
                            true, 0, 0, false, 1, false,
                            "a number of connections, e.g. 1000"},
    [ZG_FIELD_MAX_PEERS_PER_IP] = {"max_peers_per_ip", ZG_KIND_COUNT, 0,
                                   INT_MAX, 1, NULL, false, 0, 0, false, 1,
                                   false,
                                   "a number of connections from one address "
                                   "(0 turns it off)"},
    [ZG_FIELD_RETRIES] = {"retries", ZG_KIND_COUNT, 0, 100, 1, NULL, false, 0,
                          0, false, 1, false, "a number from 0 to 100"},
};

/* [auth]'s per-address limits: context-wide, read by the authenticator,
 * with the same syntax and range checks as a socket's fields. */
static const zg_field_info_t auth_limits[ZG_AUTH_LIMITS] = {
    [ZG_AUTH_RATE] = {"handshake_rate_per_ip", ZG_KIND_COUNT, 0, 1000000, 1,
                      NULL, false, 0, 0, false, 1, false,
                      "handshakes per second from one address (0 turns it "
                      "off)"},
    [ZG_AUTH_BURST] = {"handshake_burst_per_ip", ZG_KIND_COUNT, 1, 1000000, 1,
                       NULL, false, 0, 0, false, 1, false,
                       "handshakes one address may make at once"},
    [ZG_AUTH_FAILURES] = {"auth_failures_per_ip", ZG_KIND_COUNT, 0, 1000000,
                          1, NULL, false, 0, 0, false, 1, false,
                          "failed handshakes from one address before it is "
                          "locked out (0 turns it off)"},
    [ZG_AUTH_WINDOW] = {"auth_failure_window", ZG_KIND_DURATION, 1000,
                        86400000, 1, NULL, false, 0, 0, false, 1, false,
                        DURATION_HELP " (1s to 24h)"},
    [ZG_AUTH_LOCKOUT] = {"lockout", ZG_KIND_DURATION, 1000, 86400000, 1,
                         NULL, false, 0, 0, false, 1, false,
                         DURATION_HELP " (1s to 24h)"},
};

/* [gate] backend_grace: how long the backend may have no peer before the
 * gate says it cannot forward (/status answers 503). */
static const zg_field_info_t backend_grace = {
    "backend_grace", ZG_KIND_DURATION, 0, 86400000, 1, NULL, false, 0, 0,
    false, 1, false, DURATION_HELP " (0 to 24h)"};

const zg_field_info_t *zg_gate_grace_info(void)
{
    return &backend_grace;
}

const zg_field_info_t *zg_auth_limit_info(zg_auth_limit_t which)
{
    return (unsigned)which < ZG_AUTH_LIMITS ? &auth_limits[which] : NULL;
}

const zg_field_info_t *zg_field_info(zg_field_t field)
{
    return (unsigned)field < ZG_FIELD_COUNT ? &fields[field] : NULL;
}

int zg_field_from_key(const char *key)
{
    for (int f = 0; f < ZG_FIELD_COUNT; f++)
        if (strcmp(fields[f].key, key) == 0)
            return f;
    return -1;
}

/* Digits only, no sign, no spaces; *rest points past them. */
static int parse_digits(const char *text, int64_t *out, const char **rest)
{
    if (!isdigit((unsigned char)text[0]))
        return -1;
    errno = 0;
    char *end;
    long long v = strtoll(text, &end, 10);
    if (errno == ERANGE)
        return -2;
    *out = v;
    *rest = end;
    return 0;
}

static int parse_count(const char *text, int64_t *out, const char **why)
{
    const char *rest;
    int rc = parse_digits(text, out, &rest);
    if (rc == 0 && *rest == '\0')
        return 0;
    *why = rc == -2 ? "is too large" : "is not a whole number";
    return -1;
}

typedef struct unit {
    const char *name;
    int64_t factor;
} unit_t;

static const unit_t duration_units[] = {
    {"ms", 1}, {"s", MS_S}, {"m", MS_M}, {"h", MS_H}, {NULL, 0}};
static const unit_t size_units[] = {
    {"", 1}, {"B", 1}, {"KiB", KIB}, {"MiB", MIB}, {"GiB", GIB}, {NULL, 0}};

static int parse_scaled(const char *text, const unit_t *units, int64_t *out,
                        const char **why)
{
    int64_t n;
    const char *rest;
    int rc = parse_digits(text, &n, &rest);
    if (rc == -2) {
        *why = "is too large";
        return -1;
    }
    if (rc != 0) {
        *why = units == duration_units
                   ? "is not a duration: write 250ms, 5s, 2m or 1h"
                   : "is not a size: write 65536, 64KiB or 1MiB";
        return -1;
    }
    if (*rest == '.') {
        *why = "must be a whole number: write 1500ms rather than 1.5s, or "
               "1536KiB rather than 1.5MiB";
        return -1;
    }
    if (units == duration_units && *rest == '\0') {
        if (n == 0) { /* zero needs no unit */
            *out = 0;
            return 0;
        }
        *why = "needs a unit: write 250ms, 5s, 2m or 1h";
        return -1;
    }
    for (const unit_t *u = units; u->name; u++) {
        if (strcmp(rest, u->name) != 0)
            continue;
        if (n > INT64_MAX / u->factor) {
            *why = "is too large";
            return -1;
        }
        *out = n * u->factor;
        return 0;
    }
    if (*rest == ' ' || *rest == '\t')
        *why = units == duration_units
                   ? "has an unknown unit: write the unit right after the "
                     "number, no space: 250ms, 5s, 2m or 1h"
                   : "has an unknown unit: write the unit right after the "
                     "number, no space: 64KiB or 1MiB";
    else if (units == duration_units)
        *why = "has an unknown unit: use ms, s, m or h";
    else if (strchr("kKmMgG", rest[0]) && rest[0] != '\0')
        *why = "has an ambiguous unit: use KiB, MiB or GiB (powers of 1024)";
    else
        *why = "has an unknown unit: use B, KiB, MiB or GiB";
    return -1;
}

static int parse_word(const char *text, const char *const *words,
                      const int64_t *values, int64_t *out)
{
    for (size_t i = 0; words[i]; i++)
        if (strcmp(text, words[i]) == 0) {
            *out = values[i];
            return 0;
        }
    return -1;
}

static int parse_bool(const char *text, int64_t *out, const char **why)
{
    static const char *const words[] = {"yes", "no",  "true", "false", "on",
                                        "off", "1",   "0",    NULL};
    static const int64_t values[] = {1, 0, 1, 0, 1, 0, 1, 0};
    if (parse_word(text, words, values, out) == 0)
        return 0;
    *why = "is not yes or no";
    return -1;
}

static int parse_percent(const char *text, int64_t *out, const char **why)
{
    const char *rest;
    if (parse_digits(text, out, &rest) == 0 && strcmp(rest, "%") == 0)
        return 0;
    *why = "is not a percentage like 80%";
    return -1;
}

static int parse_security(const char *text, int64_t *out, const char **why)
{
    static const char *const words[] = {"curve", "none", NULL};
    static const int64_t values[] = {ZG_SECURITY_CURVE, ZG_SECURITY_NONE};
    if (parse_word(text, words, values, out) == 0)
        return 0;
    if (strcmp(text, "plain") == 0 || strcmp(text, "gssapi") == 0)
        *why = "is refused: PLAIN sends passwords in clear and GSSAPI ignores "
               "ZAP denials in libzmq 4.3; use curve";
    else
        *why = "is not a security mechanism: use curve or none";
    return -1;
}

/* Key file names: counted here, kept as text by the policy. Commas
 * separate a list, so a name cannot hold one. */
static int parse_paths(const zg_field_info_t *info, const char *text,
                       int64_t *out, const char **why)
{
    int64_t n = 0;
    for (const char *p = text;; p++) {
        size_t len = strcspn(p, ",");
        size_t lead = strspn(p, " \t");
        if (lead == len) {
            *why = "has an empty file name";
            return -1;
        }
        n++;
        p += len;
        if (*p == '\0')
            break;
    }
    if (info->kind == ZG_KIND_PATH && n > 1) {
        *why = "names more than one file (a socket has one key pair)";
        return -1;
    }
    if (n > info->max) {
        *why = "lists more than 4 keys (an overlap needs two or three)";
        return -1;
    }
    *out = n;
    return 0;
}

static int check_range(const zg_field_info_t *info, int64_t v,
                       const char **why)
{
    static _Thread_local char msg[96];
    if (v < info->min || v > info->max) {
        char lo[ZG_VALUE_TEXT_MAX], hi[ZG_VALUE_TEXT_MAX];
        zg_value_format(info, info->min, lo, sizeof lo);
        zg_value_format(info, info->max, hi, sizeof hi);
        snprintf(msg, sizeof msg, "is out of range (%s to %s)", lo, hi);
        *why = msg;
        return -1;
    }
    if (v % info->granularity != 0) {
        *why = info->granularity == 1000
                   ? "must be whole seconds (libzmq counts seconds here)"
                   : "must be a multiple of 100ms (libzmq counts tenths of a "
                     "second here)";
        return -1;
    }
    return 0;
}

/* A refused value: say what people most often got wrong with it. */
static const char *explain(const zg_field_info_t *info, const char *text,
                           const char *why)
{
    static _Thread_local char msg[160];
    const char *c = strpbrk(text, "#;");
    if (c && c > text && (c[-1] == ' ' || c[-1] == '\t'))
        return "has a comment after it: a comment goes on a line of its own";
    if (!info->minus_one || !isalpha((unsigned char)text[0]))
        return why;
    if (info->kind == ZG_KIND_BOOL)
        snprintf(msg, sizeof msg, "is not yes, no or %s", info->minus_one);
    else
        snprintf(msg, sizeof msg, "%s, or '%s'", why, info->minus_one);
    return msg;
}

int zg_value_parse(const zg_field_info_t *info, const char *text, int64_t *out,
                   const char **why)
{
    if (info->minus_one && (strcmp(text, info->minus_one) == 0 ||
                            strcmp(text, "-1") == 0)) {
        *out = -1;
        return 0;
    }
    if (text[0] == '-') {
        *why = info->minus_one ? "is negative (the only negative value is -1)"
                               : "is negative";
        return -1;
    }
    int rc;
    switch (info->kind) {
    case ZG_KIND_COUNT: rc = parse_count(text, out, why); break;
    case ZG_KIND_DURATION:
        rc = parse_scaled(text, duration_units, out, why);
        break;
    case ZG_KIND_SIZE: rc = parse_scaled(text, size_units, out, why); break;
    case ZG_KIND_BOOL: rc = parse_bool(text, out, why); break;
    case ZG_KIND_SECURITY: rc = parse_security(text, out, why); break;
    case ZG_KIND_PERCENT: rc = parse_percent(text, out, why); break;
    case ZG_KIND_PATH:
    case ZG_KIND_PATHS: rc = parse_paths(info, text, out, why); break;
    default: *why = "has no syntax"; return -1;
    }
    if (rc != 0)
        *why = explain(info, text, *why);
    return rc == 0 ? check_range(info, *out, why) : -1;
}

static void format_scaled(int64_t v, const unit_t *units, size_t nunits,
                          char *buf, size_t cap)
{
    for (size_t i = nunits; i-- > 0;) {
        if (v % units[i].factor == 0) {
            snprintf(buf, cap, "%lld%s", (long long)(v / units[i].factor),
                     units[i].name);
            return;
        }
    }
    snprintf(buf, cap, "%lld", (long long)v);
}

void zg_value_format(const zg_field_info_t *info, int64_t value, char *buf,
                     size_t cap)
{
    if (value == -1 && info->minus_one) {
        snprintf(buf, cap, "%s", info->minus_one);
        return;
    }
    switch (info->kind) {
    case ZG_KIND_DURATION:
        if (value == 0)
            snprintf(buf, cap, "0");
        else
            format_scaled(value, duration_units, 4, buf, cap);
        break;
    case ZG_KIND_SIZE:
        /* skip "" and "B": plain bytes print as a number */
        format_scaled(value, size_units + 1, 4, buf, cap);
        if (strcmp(buf + strspn(buf, "0123456789"), "B") == 0)
            buf[strlen(buf) - 1] = '\0';
        break;
    case ZG_KIND_BOOL: snprintf(buf, cap, "%s", value ? "yes" : "no"); break;
    case ZG_KIND_PERCENT: snprintf(buf, cap, "%lld%%", (long long)value); break;
    case ZG_KIND_PATH:
    case ZG_KIND_PATHS:
        if (value == 0)
            snprintf(buf, cap, "none");
        else
            snprintf(buf, cap, "%lld file%s", (long long)value,
                     value == 1 ? "" : "s");
        break;
    case ZG_KIND_SECURITY:
        snprintf(buf, cap, "%s", value == ZG_SECURITY_CURVE ? "curve" : "none");
        break;
    default: snprintf(buf, cap, "%lld", (long long)value); break;
    }
}

/* Edit distance, capped: we only care whether it is small. */
static size_t distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 40 || lb > 40)
        return 99;
    size_t row[41];
    for (size_t j = 0; j <= lb; j++)
        row[j] = j;
    for (size_t i = 1; i <= la; i++) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t up = row[j];
            size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
            size_t best = diag + cost;
            if (up + 1 < best)
                best = up + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            row[j] = best;
            diag = up;
        }
    }
    return row[lb];
}

const char *zg_key_suggest(const char *key, const char *const *keys,
                           size_t nkeys)
{
    const char *best = NULL;
    /* farther than two edits is not a typo, or three in a long key
     * ("rcvtimout" is three from "rcvtimeo") */
    size_t best_d = strlen(key) >= 8 ? 4 : 3;
    for (size_t i = 0; i < nkeys; i++) {
        size_t d = distance(key, keys[i]);
        if (d < best_d) {
            best_d = d;
            best = keys[i];
        }
    }
    return best;
}
