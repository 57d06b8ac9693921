/*
 * enforce.c - which option calls of an unmodified program zguard run lets
 * through, and which it refuses.
 *
 * A call that removes a bound the policy sets (HWM 0, an infinite timeout,
 * linger or MAXMSGSIZE, no handshake limit) fails with EINVAL; one that
 * turns on PLAIN or GSSAPI, or changes CURVE keys the policy gives the
 * socket, fails with EACCES. After hardening, a value may only tighten
 * what zguard holds the socket to. Before its first bind/connect a socket's
 * section is not known yet: it is judged by its type's values, unless some
 * section of its type says app_overrides = allow, when the judgement waits
 * for the match.
 */
#include "preload.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

/* The socket's value of a field now: hardened, what zguard holds it to;
 * before, its type's value. */
static int64_t policy_value(const zg_policy_t *p, const app_sock_t *a,
                            zg_field_t f)
{
    zg_sock_t *s = a->hardened ? zg_registry_get(a->zsock) : NULL;
    if (s)
        return s->policy.value[f];
    zg_resolved_t r;
    return zg_policy_resolve(p, a->type, NULL, &r) == 0 ? r.value[f] : 0;
}

static const char *section_name(const app_sock_t *a)
{
    const char *name = a->hardened ? zg_socket_name(a->zsock) : NULL;
    return name && name[0] ? name : NULL;
}

static bool overrides(const zg_policy_t *p, const app_sock_t *a)
{
    if (a->hardened)
        return section_name(a) && zg_policy_overrides(p, a->type, section_name(a));
    return zg_policy_overrides(p, a->type, NULL);
}

static void label(const app_sock_t *a, char *buf, size_t cap)
{
    zg_sock_t *s = a->hardened ? zg_registry_get(a->zsock) : NULL;
    char who[ZG_NAME_MAX + 32];
    if (s)
        zg_sock_label(s, who, sizeof who);
    else
        snprintf(who, sizeof who, "%s socket", zg_type_name(a->type));
    if (a->attached)
        snprintf(buf, cap, "%s at %s", who, a->endpoint);
    else
        snprintf(buf, cap, "%s (not bound or connected yet)", who);
}

static int refuse(const zg_policy_t *p, const app_sock_t *a, int err,
                  const char *option, const char *why)
{
    char who[ZG_NAME_MAX + ZG_ENDPOINT_TEXT_MAX + 64], line[ZG_ERROR_MAX];
    label(a, who, sizeof who);
    snprintf(line, sizeof line,
             "%s: refusing %s: %s (policy %s; 'app_overrides = allow' in "
             "the socket's [socket.NAME] section would permit it)",
             who, option, why, zg_policy_file(p));
    zg_log_stderr(NULL, ZG_LOG_ERROR, line);
    return err;
}

/* "ZMQ_SNDHWM = 0" */
static void option_text(const zg_field_info_t *info, int64_t v, char *buf,
                        size_t cap)
{
    char text[ZG_VALUE_TEXT_MAX];
    zg_value_format(info, v, text, sizeof text);
    int n = snprintf(buf, cap, "ZMQ_%s", info->key);
    for (int i = 4; i < n && (size_t)i < cap; i++)
        buf[i] = (char)(buf[i] >= 'a' && buf[i] <= 'z' ? buf[i] - 32 : buf[i]);
    snprintf(buf + strlen(buf), cap - strlen(buf), " = %s", text);
}

/* The value in policy units, or false when len does not fit the option
 * (libzmq then refuses it itself). */
bool zg_run_field_value(const zg_field_info_t *info, const void *value,
                        size_t len, int64_t *out)
{
    int64_t v;
    if (info->zmq_int64 && len == sizeof(int64_t))
        memcpy(&v, value, sizeof v);
    else if (!info->zmq_int64 && len == sizeof(int)) {
        int i;
        memcpy(&i, value, sizeof i);
        v = i;
    } else
        return false;
    *out = v == -1 ? -1 : v * info->zmq_scale;
    return true;
}

/* A field's value against what the socket is held to. */
static int judge_field(const zg_policy_t *p, app_sock_t *a, zg_field_t f,
                       int64_t v)
{
    const zg_field_info_t *info = zg_field_info(f);
    int64_t want = policy_value(p, a, f);
    char opt[64], why[160], w[ZG_VALUE_TEXT_MAX];
    option_text(info, v, opt, sizeof opt);
    zg_value_format(info, want, w, sizeof w);
    if (zg_value_unbounded(f, v) && !zg_value_unbounded(f, want)) {
        snprintf(why, sizeof why, "it removes the bound %s = %s", info->key,
                 w);
        return refuse(p, a, EINVAL, opt, why);
    }
    if (a->hardened && v != want && !zg_value_tighter(f, v, want)) {
        snprintf(why, sizeof why, "the socket is held to %s = %s%s",
                 info->key, w,
                 zg_value_tighter(f, want, v) ? " and may only tighten it"
                                              : "");
        return refuse(p, a, EINVAL, opt, why);
    }
    return 0;
}

/* Whether the policy gives this socket CURVE keys (before the match: its
 * type's values, or any section of its type). */
static bool policy_keys(const zg_policy_t *p, const app_sock_t *a)
{
    zg_sock_t *s = a->hardened ? zg_registry_get(a->zsock) : NULL;
    if (s)
        return s->curve != ZG_CURVE_NONE;
    if (a->hardened)
        return false;
    zg_resolved_t r;
    if (zg_policy_resolve(p, a->type, NULL, &r) == 0 &&
        r.str[ZG_FIELD_CURVE_KEYS])
        return true;
    for (size_t i = 0; i < zg_policy_socket_count(p); i++) {
        const char *name = zg_policy_socket_name(p, i);
        if (zg_policy_socket_type(p, name) == a->type &&
            zg_policy_resolve(p, a->type, name, &r) == 0 &&
            r.str[ZG_FIELD_CURVE_KEYS])
            return true;
    }
    return false;
}

static bool turns_on(const void *value, size_t len)
{
    int on = 0;
    if (len == sizeof on)
        memcpy(&on, value, sizeof on);
    return len != sizeof on || on != 0;
}

/* PLAIN and GSSAPI never; CURVE keys only where the policy gives none. */
static int judge_security(const zg_policy_t *p, app_sock_t *a, int option,
                          const void *value, size_t len)
{
    switch (option) {
    case ZMQ_PLAIN_SERVER:
        return turns_on(value, len)
                   ? refuse(p, a, EACCES, "ZMQ_PLAIN_SERVER",
                            "PLAIN sends passwords in clear")
                   : 0;
    case ZMQ_PLAIN_USERNAME:
    case ZMQ_PLAIN_PASSWORD:
        return len ? refuse(p, a, EACCES, "ZMQ_PLAIN_USERNAME/PASSWORD",
                            "PLAIN sends passwords in clear")
                   : 0;
    case ZMQ_GSSAPI_SERVER:
    case ZMQ_GSSAPI_PRINCIPAL:
    case ZMQ_GSSAPI_SERVICE_PRINCIPAL:
    case ZMQ_GSSAPI_PLAINTEXT:
        return refuse(p, a, EACCES, "a ZMQ_GSSAPI_* option",
                      "GSSAPI ignores ZAP denials in libzmq 4.3");
    case ZMQ_CURVE_SERVER:
    case ZMQ_CURVE_PUBLICKEY:
    case ZMQ_CURVE_SECRETKEY:
    case ZMQ_CURVE_SERVERKEY:
        return policy_keys(p, a)
                   ? refuse(p, a, EACCES, "a ZMQ_CURVE_* option",
                            "the policy gives this socket its CURVE keys")
                   : 0;
    default: return -1; /* not a security option */
    }
}

int zg_run_judge(const zg_policy_t *p, app_sock_t *a, int option,
                 const void *value, size_t len)
{
    if (overrides(p, a))
        return 0;
    int rc = judge_security(p, a, option, value, len);
    if (rc >= 0)
        return rc;
    int f = zg_field_from_option(option, a->type);
    int64_t v;
    if (f < 0 ||
        !zg_run_field_value(zg_field_info((zg_field_t)f), value, len, &v))
        return 0;
    return judge_field(p, a, (zg_field_t)f, v);
}

void zg_run_note(app_sock_t *a, int option, const void *value, size_t len)
{
    int f = zg_field_from_option(option, a->type);
    int64_t v;
    if (f < 0 ||
        !zg_run_field_value(zg_field_info((zg_field_t)f), value, len, &v))
        return;
    a->app.set[f] = true;
    a->app.value[f] = v;
    zg_sock_t *s = a->hardened ? zg_registry_get(a->zsock) : NULL;
    if (s) /* what zg_bind's read-back will compare with */
        s->policy.value[f] = v;
}

int zg_run_judge_pending(const zg_policy_t *p, app_sock_t *a,
                         const char *name)
{
    if (name && zg_policy_overrides(p, a->type, name))
        return 0;
    zg_resolved_t r;
    if (zg_policy_resolve(p, a->type, name, &r) != 0)
        return 0; /* the hardening says why */
    for (int f = 0; f < ZG_FIELD_COUNT; f++) {
        if (!a->app.set[f] || !zg_value_unbounded((zg_field_t)f, a->app.value[f]) ||
            zg_value_unbounded((zg_field_t)f, r.value[f]))
            continue;
        const zg_field_info_t *info = zg_field_info((zg_field_t)f);
        char opt[64], why[160], w[ZG_VALUE_TEXT_MAX];
        option_text(info, a->app.value[f], opt, sizeof opt);
        zg_value_format(info, r.value[f], w, sizeof w);
        snprintf(why, sizeof why, "it removes the bound %s = %s", info->key,
                 w);
        return refuse(p, a, EINVAL, opt, why);
    }
    return 0;
}
