/*
 * curve.c - a socket's CURVE keys: set from the policy, read back, enforced.
 *
 * A socket whose policy names curve_keys and no curve_server_key is a CURVE
 * server: it gets its key pair, ZAP_DOMAIN "zguard" and ZAP_ENFORCE_DOMAIN,
 * and the context's authenticator is running before it can bind, so no
 * client is accepted without the allowlist's say-so (fail closed: with
 * enforcement on, a missing authenticator fails every handshake). A socket
 * with curve_server_key is a client: its own pair and the pinned server key,
 * one of an ordered list while a server key rotates.
 */
#include "zg_auth.h"
#include "zg_ctx.h"
#include "zg_curve.h"
#include "zg_error.h"
#include "zg_keys.h"
#include "zg_registry.h"
#include "zg_sock.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include <stdbool.h>

static const char *label(const zg_sock_t *s, char *buf, size_t cap)
{
    return zg_sock_label(s, buf, cap);
}

/* zg_last_error() of a failed key load, prefixed with who needed it. */
static int key_error(const zg_sock_t *s, const char *field, const char *path)
{
    char why[ZG_ERROR_MAX], who[ZG_NAME_MAX + 32];
    snprintf(why, sizeof why, "%s", zg_last_error());
    zg_error_set("%s: %s %s: %s", label(s, who, sizeof who), field, path, why);
    return -1;
}

static int set(zg_sock_t *s, int option, const void *value, size_t len,
               const char *what)
{
    if (zmq_setsockopt(s->zsock, option, value, len) == 0)
        return 0;
    char who[ZG_NAME_MAX + 32];
    zg_error_set("%s: libzmq refused %s: %s", label(s, who, sizeof who), what,
                 zmq_strerror(errno));
    return -1;
}

static int set_int(zg_sock_t *s, int option, int value, const char *what)
{
    return set(s, option, &value, sizeof value, what);
}

static int set_own_pair(zg_sock_t *s)
{
    return set(s, ZMQ_CURVE_PUBLICKEY, zg_cert_public_key(s->own),
               ZG_KEY_BYTES, "ZMQ_CURVE_PUBLICKEY") ||
           set(s, ZMQ_CURVE_SECRETKEY, zg_cert_secret_key(s->own),
               ZG_KEY_BYTES, "ZMQ_CURVE_SECRETKEY");
}

/* ZAP on: the domain zguard's authenticator answers, enforced. */
static int set_zap(zg_sock_t *s)
{
    return set(s, ZMQ_ZAP_DOMAIN, ZG_ZAP_DOMAIN, strlen(ZG_ZAP_DOMAIN),
               "ZMQ_ZAP_DOMAIN") ||
           set_int(s, ZG_OPT_ZAP_ENFORCE_DOMAIN, 1, "ZMQ_ZAP_ENFORCE_DOMAIN");
}

static int make_server(zg_sock_t *s)
{
    s->auth = zg_ctx_auth(s->ctx);
    if (!s->auth)
        return key_error(s, "curve_keys", s->policy.str[ZG_FIELD_CURVE_KEYS]);
    s->curve = ZG_CURVE_SERVER;
    return set_int(s, ZMQ_CURVE_SERVER, 1, "ZMQ_CURVE_SERVER") ||
           set_own_pair(s) || set_zap(s);
}

static int load_server_keys(zg_sock_t *s, const char *list)
{
    char path[4096];
    for (const char *p = list; *p && s->nserver_keys < ZG_SERVER_KEYS_MAX;) {
        size_t n = strcspn(p, ",");
        snprintf(path, sizeof path, "%.*s", (int)n, p);
        const zg_cert_t *c = zg_ctx_cert(s->ctx, path, false);
        if (!c)
            return key_error(s, "curve_server_key", path);
        memcpy(s->server_keys[s->nserver_keys++], zg_cert_public_key(c),
               ZG_KEY_BYTES);
        p += n + (p[n] == ',');
    }
    return 0;
}

static int make_client(zg_sock_t *s, const char *servers)
{
    if (load_server_keys(s, servers) != 0)
        return -1;
    s->curve = ZG_CURVE_CLIENT;
    return set(s, ZMQ_CURVE_SERVERKEY, s->server_keys[0], ZG_KEY_BYTES,
               "ZMQ_CURVE_SERVERKEY") ||
           set_own_pair(s);
}

int zg_curve_apply(zg_sock_t *s)
{
    const char *pair = s->policy.str[ZG_FIELD_CURVE_KEYS];
    if (!pair)
        return 0;
    s->own = zg_ctx_cert(s->ctx, pair, true);
    if (!s->own)
        return key_error(s, "curve_keys", pair);
    const char *servers = s->policy.str[ZG_FIELD_CURVE_SERVER_KEY];
    return servers ? make_client(s, servers) : make_server(s);
}

int zg_curve_set_pair(zg_sock_t *s, const zg_cert_t *pair)
{
    const zg_cert_t *old = s->own;
    s->own = pair;
    if (set_own_pair(s) == 0)
        return 0;
    char why[ZG_ERROR_MAX];
    snprintf(why, sizeof why, "%s", zg_last_error());
    s->own = old;
    if (old)
        set_own_pair(s);
    zg_error_set("%s", why);
    return -1;
}

/* ---- read back ------------------------------------------------------------ */

static int mismatch(const zg_sock_t *s, const char *what)
{
    char who[ZG_NAME_MAX + 32];
    errno = EPROTO;
    zg_error_set("%s: %s is not what policy %s gave it", label(s, who,
                 sizeof who), what, zg_policy_file(s->ctx->policy));
    return -1;
}

static bool key_is(void *zsock, int option, const uint8_t *want)
{
    uint8_t got[ZG_KEY_BYTES];
    size_t len = sizeof got;
    return zmq_getsockopt(zsock, option, got, &len) == 0 &&
           len == ZG_KEY_BYTES && sodium_memcmp(got, want, ZG_KEY_BYTES) == 0;
}

static int int_option(void *zsock, int option)
{
    int v = -1;
    size_t len = sizeof v;
    return zmq_getsockopt(zsock, option, &v, &len) == 0 ? v : -1;
}

static bool zap_is_ours(void *zsock)
{
    char domain[64];
    size_t len = sizeof domain;
    return zmq_getsockopt(zsock, ZMQ_ZAP_DOMAIN, domain, &len) == 0 &&
           len == sizeof ZG_ZAP_DOMAIN &&
           memcmp(domain, ZG_ZAP_DOMAIN, len) == 0 &&
           int_option(zsock, ZG_OPT_ZAP_ENFORCE_DOMAIN) == 1;
}

int zg_curve_verify(zg_sock_t *s)
{
    if (s->curve == ZG_CURVE_NONE)
        return 0;
    if (int_option(s->zsock, ZMQ_MECHANISM) != ZMQ_CURVE)
        return mismatch(s, "ZMQ_MECHANISM");
    if (int_option(s->zsock, ZMQ_CURVE_SERVER) != (s->curve == ZG_CURVE_SERVER))
        return mismatch(s, "ZMQ_CURVE_SERVER");
    if (s->own &&
        !key_is(s->zsock, ZMQ_CURVE_PUBLICKEY, zg_cert_public_key(s->own)))
        return mismatch(s, "ZMQ_CURVE_PUBLICKEY");
    if (s->curve == ZG_CURVE_SERVER && !zap_is_ours(s->zsock))
        return mismatch(s, "ZMQ_ZAP_DOMAIN or ZMQ_ZAP_ENFORCE_DOMAIN");
    if (s->curve == ZG_CURVE_CLIENT && s->nserver_keys &&
        !key_is(s->zsock, ZMQ_CURVE_SERVERKEY, s->server_keys[s->server_key]))
        return mismatch(s, "ZMQ_CURVE_SERVERKEY");
    return 0;
}

/* A CURVE server the application keyed itself (zg_harden on a keyed
 * socket, or keys set after zg_socket): bring it under the authenticator
 * before its first bind, or refuse it. */
int zg_curve_check_server(zg_sock_t *s, const char *endpoint)
{
    if (s->curve == ZG_CURVE_SERVER ||
        int_option(s->zsock, ZMQ_CURVE_SERVER) != 1)
        return 0;
    char domain[64];
    size_t len = sizeof domain;
    char who[ZG_NAME_MAX + 32];
    if (zmq_getsockopt(s->zsock, ZMQ_ZAP_DOMAIN, domain, &len) == 0 &&
        len > 1 && !zap_is_ours(s->zsock)) {
        errno = EPERM;
        zg_error_set("%s: refusing %s: its ZAP domain is not \"%s\", so "
                     "zguard's authenticator would not be asked",
                     label(s, who, sizeof who), endpoint, ZG_ZAP_DOMAIN);
        return -1;
    }
    s->auth = zg_ctx_auth(s->ctx);
    if (!s->auth) {
        char why[ZG_ERROR_MAX];
        snprintf(why, sizeof why, "%s", zg_last_error());
        zg_error_set("%s: refusing %s: %s", label(s, who, sizeof who),
                     endpoint, why);
        return -1;
    }
    s->curve = ZG_CURVE_SERVER;
    return set_zap(s);
}

/* ---- failover between pinned server keys ----------------------------------- */

static zg_sock_t *client(void *zsock)
{
    zg_sock_t *s = zg_registry_get(zsock);
    if (!s || s->curve != ZG_CURVE_CLIENT || s->nserver_keys == 0) {
        errno = EINVAL;
        zg_error_set("not a CURVE client socket with policy server keys");
        return NULL;
    }
    return s;
}

int zg_socket_server_key_count(void *zsock)
{
    zg_sock_t *s = client(zsock);
    return s ? s->nserver_keys : -1;
}

int zg_socket_use_server_key(void *zsock, int index)
{
    zg_sock_t *s = client(zsock);
    if (!s)
        return -1;
    if (index < 0 || index >= s->nserver_keys) {
        errno = EINVAL;
        zg_error_set("server key %d of %d", index, s->nserver_keys);
        return -1;
    }
    s->server_key = index;
    return set(s, ZMQ_CURVE_SERVERKEY, s->server_keys[index], ZG_KEY_BYTES,
               "ZMQ_CURVE_SERVERKEY");
}
