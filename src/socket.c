/*
 * socket.c - hardened sockets: the policy applied, read back, and enforced.
 *
 * A socket is hardened before it is bound or connected (libzmq applies most
 * options only to later bind/connect calls), every option is read back with
 * zmq_getsockopt and compared, and zg_bind/zg_connect check again, so a
 * socket whose options changed since, or that zguard never saw, is refused
 * rather than exposed.
 */
#include "zg_abi.h"
#include "zg_ctx.h"
#include "zg_curve.h"
#include "zg_error.h"
#include "zg_monitor.h"
#include "zg_policy.h"
#include "zg_registry.h"
#include "zg_sock.h"
#include "zg_thread.h"
#include "zg_value.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <stdatomic.h>
#include <stdbool.h>

/* A routing id no peer can have: libzmq reserves ids that start with 0. */
static const char router_probe_id[] = "\0zguard-probe";

uint64_t zg_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

int64_t zg_now_ms(void)
{
    return (int64_t)(zg_now_ns() / 1000000);
}

const char *zg_sock_label(const zg_sock_t *sock, char *buf, size_t cap)
{
    char type[16];
    const char *t = zg_type_name(sock->type);
    size_t i = 0;
    for (; t && t[i] && i < sizeof type - 1; i++)
        type[i] = (char)toupper((unsigned char)t[i]);
    type[i] = '\0';
    if (sock->name[0])
        snprintf(buf, cap, "socket '%s' (%s)", sock->name, type);
    else
        snprintf(buf, cap, "unnamed %s socket", type);
    return buf;
}

/* "ZMQ_SNDHWM" from "sndhwm": the policy keys are libzmq's option names. */
static const char *option_name(const zg_field_info_t *info, char *buf,
                               size_t cap)
{
    size_t n = (size_t)snprintf(buf, cap, "ZMQ_%s", info->key);
    for (size_t i = 4; i < n && i < cap; i++)
        buf[i] = (char)toupper((unsigned char)buf[i]);
    return buf;
}

static int set_option(void *zsock, const zg_field_info_t *info, int64_t value)
{
    int64_t v = value == -1 ? -1 : value / info->zmq_scale;
    if (info->zmq_int64)
        return zmq_setsockopt(zsock, info->zmq_option, &v, sizeof v);
    int i = (int)v;
    return zmq_setsockopt(zsock, info->zmq_option, &i, sizeof i);
}

static int get_option(void *zsock, const zg_field_info_t *info, int64_t *out)
{
    int64_t v = 0;
    int i = 0;
    size_t len = info->zmq_int64 ? sizeof v : sizeof i;
    if (zmq_getsockopt(zsock, info->zmq_option, info->zmq_int64 ? (void *)&v
                                                                : (void *)&i,
                       &len) != 0)
        return -1;
    if (!info->zmq_int64)
        v = i;
    *out = v == -1 ? -1 : v * info->zmq_scale;
    return 0;
}

/* ROUTER_MANDATORY cannot be read back: verify it by its effect. Sending to
 * an unknown peer fails with EHOSTUNREACH only when it is on. */
static int probe_router_mandatory(void *zsock, int64_t *out)
{
    if (zmq_send(zsock, router_probe_id, sizeof router_probe_id - 1,
                 ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0) {
        if (errno != EHOSTUNREACH)
            return -1;
        *out = 1;
        return 0;
    }
    /* Off: finish the message; libzmq drops it for want of a peer. */
    zmq_send(zsock, "", 0, ZMQ_DONTWAIT);
    *out = 0;
    return 0;
}

static int check_field(zg_sock_t *s, zg_field_t f)
{
    const zg_field_info_t *info = zg_field_info(f);
    int64_t want = s->policy.value[f], got;
    char opt[40], label[ZG_NAME_MAX + 32];
    int rc = info->write_only ? probe_router_mandatory(s->zsock, &got)
                              : get_option(s->zsock, info, &got);
    if (rc != 0) {
        zg_error_set("%s: cannot read %s back: %s",
                     zg_sock_label(s, label, sizeof label),
                     option_name(info, opt, sizeof opt), zmq_strerror(errno));
        return -1;
    }
    if (got != want) {
        char w[ZG_VALUE_TEXT_MAX], g[ZG_VALUE_TEXT_MAX];
        zg_value_format(info, want, w, sizeof w);
        zg_value_format(info, got, g, sizeof g);
        zg_error_set("%s: %s is %s, policy %s says %s = %s",
                     zg_sock_label(s, label, sizeof label),
                     option_name(info, opt, sizeof opt), g,
                     zg_policy_file(s->ctx->policy), info->key, w);
        errno = EPROTO;
        return -1;
    }
    return 0;
}

static bool is_option(zg_field_t f, int type)
{
    return zg_field_info(f)->zmq_option != 0 && zg_field_applies(f, type);
}

static int apply_policy(zg_sock_t *s)
{
    for (int f = 0; f < ZG_FIELD_COUNT; f++) {
        if (!is_option((zg_field_t)f, s->type))
            continue;
        const zg_field_info_t *info = zg_field_info((zg_field_t)f);
        if (set_option(s->zsock, info, s->policy.value[f]) != 0) {
            char opt[40], label[ZG_NAME_MAX + 32];
            zg_error_set("%s: libzmq refused %s: %s",
                         zg_sock_label(s, label, sizeof label),
                         option_name(info, opt, sizeof opt),
                         zmq_strerror(errno));
            return -1;
        }
    }
    return 0;
}

static int verify_policy(zg_sock_t *s)
{
    int type;
    size_t len = sizeof type;
    if (zmq_getsockopt(s->zsock, ZMQ_TYPE, &type, &len) != 0 ||
        type != s->type) {
        char label[ZG_NAME_MAX + 32];
        zg_error_set("%s: the libzmq socket is not the one zguard hardened "
                     "(closed with zmq_close and reused?)",
                     zg_sock_label(s, label, sizeof label));
        errno = EPROTO;
        return -1;
    }
    for (int f = 0; f < ZG_FIELD_COUNT; f++)
        if (is_option((zg_field_t)f, s->type) && check_field(s, (zg_field_t)f))
            return -1;
    return zg_curve_verify(s);
}

static zg_sock_t *sock_new(zg_ctx_t *ctx, void *zsock, int type,
                           const char *name, bool owned)
{
    if (name && strlen(name) >= ZG_NAME_MAX) {
        errno = EINVAL;
        zg_error_set("socket name longer than %d bytes", ZG_NAME_MAX - 1);
        return NULL;
    }
    zg_sock_t *s = calloc(1, sizeof *s);
    if (!s) {
        zg_error_set("out of memory");
        return NULL;
    }
    s->ctx = ctx;
    s->zsock = zsock;
    s->type = type;
    s->owned = owned;
    snprintf(s->name, sizeof s->name, "%s", name ? name : "");
    if (zg_policy_resolve(ctx->policy, type, name, &s->policy) != 0) {
        free(s);
        return NULL;
    }
    return s;
}

/* Every socket gets a monitor unless the policy's [metrics] says
 * monitor = no. */
static bool monitoring_on(zg_ctx_t *ctx)
{
    const char *v = zg_policy_metrics(ctx->policy, "monitor", NULL);
    return !v || strcmp(v, "no") != 0;
}

static void forget(zg_sock_t *s);

/* Applies, verifies and registers; on failure frees s (not the socket). */
static int harden(zg_sock_t *s)
{
    if (apply_policy(s) != 0 || zg_curve_apply(s) != 0 ||
        verify_policy(s) != 0 || zg_registry_put(s->zsock, s) != 0) {
        if (!zg_last_error()[0])
            zg_error_set("out of memory");
        zg_log(s->ctx, ZG_LOG_ERROR, "%s", zg_last_error());
        free(s);
        return -1;
    }
    zg_ctx_attach(s->ctx, s);
    if (monitoring_on(s->ctx) && zg_monitor_add(s) != 0) {
        zg_log(s->ctx, ZG_LOG_ERROR, "%s", zg_last_error());
        forget(s);
        return -1;
    }
    char label[ZG_NAME_MAX + 32];
    zg_log(s->ctx, ZG_LOG_DEBUG, "%s: hardened from %s",
           zg_sock_label(s, label, sizeof label),
           zg_policy_file(s->ctx->policy));
    return 0;
}

void *zg_socket(zg_ctx_t *ctx, int type, const char *name)
{
    zg_error_clear();
    /* zguard-audit: ignore hwm-not-set, timeout-not-set, maxmsgsize-not-set, linger-not-set -- harden() below applies and verifies the policy before the socket is returned */
    void *zsock = zmq_socket(ctx->zmq, type);
    if (!zsock) {
        zg_error_set("zmq_socket(%s): %s",
                     zg_type_name(type) ? zg_type_name(type) : "?",
                     zmq_strerror(errno));
        return NULL;
    }
    zg_sock_t *s = sock_new(ctx, zsock, type, name, true);
    if (!s || harden(s) != 0) {
        int saved = errno;
        zmq_close(zsock);
        errno = saved;
        return NULL;
    }
    return zsock;
}

static bool has_endpoint(void *zsock)
{
    char ep[256];
    size_t len = sizeof ep;
    return zmq_getsockopt(zsock, ZMQ_LAST_ENDPOINT, ep, &len) == 0 &&
           len > 1;
}

int zg_harden(zg_ctx_t *ctx, void *zsock, const char *name)
{
    zg_error_clear();
    int type;
    size_t len = sizeof type;
    if (!zsock || zmq_getsockopt(zsock, ZMQ_TYPE, &type, &len) != 0) {
        errno = ENOTSOCK;
        zg_error_set("zg_harden: not a libzmq socket");
        return -1;
    }
    if (zg_registry_get(zsock)) {
        errno = EEXIST;
        zg_error_set("zg_harden: socket '%s' is already hardened",
                     zg_registry_get(zsock)->name);
        return -1;
    }
    if (has_endpoint(zsock)) {
        errno = EISCONN;
        zg_error_set("zg_harden: socket %s%s%s is already bound or connected; "
                     "options set now would not apply to it: harden before "
                     "zmq_bind/zmq_connect",
                     name ? "'" : "", name ? name : "", name ? "'" : "");
        return -1;
    }
    zg_sock_t *s = sock_new(ctx, zsock, type, name, false);
    return s ? harden(s) : -1;
}

/* Fields that bound something; the others (heartbeats, reconnects, ...) are
 * the policy's alone. */
static bool is_bound(zg_field_t f)
{
    switch (f) {
    case ZG_FIELD_SNDHWM:
    case ZG_FIELD_RCVHWM:
    case ZG_FIELD_SNDTIMEO:
    case ZG_FIELD_RCVTIMEO:
    case ZG_FIELD_MAXMSGSIZE:
    case ZG_FIELD_LINGER:
    case ZG_FIELD_HANDSHAKE_IVL: return true;
    default: return false;
    }
}

bool zg_value_unbounded(zg_field_t f, int64_t v)
{
    switch (f) {
    case ZG_FIELD_SNDHWM:
    case ZG_FIELD_RCVHWM:
    case ZG_FIELD_HANDSHAKE_IVL: return v == 0;
    case ZG_FIELD_SNDTIMEO:
    case ZG_FIELD_RCVTIMEO:
    case ZG_FIELD_MAXMSGSIZE:
    case ZG_FIELD_LINGER: return v < 0;
    default: return false;
    }
}

bool zg_value_tighter(zg_field_t f, int64_t a, int64_t b)
{
    if (!is_bound(f) || zg_value_unbounded(f, a))
        return false;
    return zg_value_unbounded(f, b) || a < b;
}

int zg_field_from_option(int option, int type)
{
    for (int f = 0; f < ZG_FIELD_COUNT; f++)
        if (zg_field_info((zg_field_t)f)->zmq_option == option &&
            zg_field_applies((zg_field_t)f, type))
            return f;
    return -1;
}

int zg_harden_app(zg_ctx_t *ctx, void *zsock, const char *name,
                  const zg_app_opts_t *app)
{
    zg_error_clear();
    int type;
    size_t len = sizeof type;
    if (zmq_getsockopt(zsock, ZMQ_TYPE, &type, &len) != 0) {
        errno = ENOTSOCK;
        zg_error_set("not a libzmq socket");
        return -1;
    }
    zg_sock_t *s = sock_new(ctx, zsock, type, name, false);
    if (!s)
        return -1;
    for (int f = 0; f < ZG_FIELD_COUNT; f++)
        if (app->set[f] &&
            (app->overrides ||
             zg_value_tighter((zg_field_t)f, app->value[f], s->policy.value[f])))
            s->policy.value[f] = app->value[f];
    return harden(s);
}

static zg_sock_t *known(void *zsock, const char *op)
{
    zg_sock_t *s = zg_registry_get(zsock);
    if (!s) {
        errno = ENOTSOCK;
        zg_error_set("%s: socket was not created or hardened by zguard "
                     "(use zg_socket or zg_harden first)",
                     op);
    }
    return s;
}

int zg_verify(void *zsock)
{
    zg_error_clear();
    zg_sock_t *s = known(zsock, "zg_verify");
    return s ? verify_policy(s) : -1;
}

static const char *mechanism_name(int m)
{
    switch (m) {
    case ZMQ_NULL: return "NULL (no security)";
    case ZMQ_PLAIN: return "PLAIN";
    case ZMQ_CURVE: return "CURVE";
    case ZMQ_GSSAPI: return "GSSAPI";
    default: return "unknown";
    }
}

/* inproc never leaves the process; every other transport does. */
static bool leaves_process(const char *endpoint)
{
    return strncmp(endpoint, "inproc://", 9) != 0;
}

static int check_security(zg_sock_t *s, const char *endpoint)
{
    int mech;
    size_t len = sizeof mech;
    char label[ZG_NAME_MAX + 32];
    zg_sock_label(s, label, sizeof label);
    if (zmq_getsockopt(s->zsock, ZMQ_MECHANISM, &mech, &len) != 0)
        return -1;
    if (mech == ZMQ_PLAIN || mech == ZMQ_GSSAPI) {
        zg_error_set("%s: refusing %s: mechanism %s is not allowed (PLAIN "
                     "sends passwords in clear; GSSAPI ignores ZAP denials "
                     "in libzmq 4.3)",
                     label, endpoint, mechanism_name(mech));
        errno = EPERM;
        return -1;
    }
    if (mech == ZMQ_CURVE)
        return zg_curve_check_server(s, endpoint);
    if (!leaves_process(endpoint) ||
        s->policy.value[ZG_FIELD_SECURITY] != ZG_SECURITY_CURVE)
        return 0;
    if (s->type == ZMQ_STREAM)
        zg_error_set("%s: refusing %s: STREAM sockets carry raw TCP and "
                     "cannot use CURVE; a policy must say 'security = none' "
                     "with 'insecure = yes' and a rationale",
                     label, endpoint);
    else
        zg_error_set("%s: refusing %s: policy %s requires CURVE on every "
                     "endpoint outside the process, and the socket's "
                     "mechanism is %s (set CURVE keys, or have the policy "
                     "say 'security = none' with 'insecure = yes' and a "
                     "rationale)",
                     label, endpoint, zg_policy_file(s->ctx->policy),
                     mechanism_name(mech));
    errno = EPERM;
    return -1;
}

static int attach(void *zsock, const char *endpoint, bool bind)
{
    const char *op = bind ? "zg_bind" : "zg_connect";
    zg_error_clear();
    zg_sock_t *s = known(zsock, op);
    if (!s)
        return -1;
    if (!endpoint) {
        errno = EINVAL;
        zg_error_set("%s: no endpoint", op);
        return -1;
    }
    if (verify_policy(s) != 0 || check_security(s, endpoint) != 0) {
        zg_log(s->ctx, ZG_LOG_ERROR, "%s", zg_last_error());
        return -1;
    }
    uint64_t bind_failures = atomic_load(&s->mon.bind_failures);
    if ((bind ? zg_bind_through_signals(zsock, endpoint)
              : zg_connect_through_signals(zsock, endpoint)) != 0) {
        int err = errno;
        if (bind)
            err = zg_monitor_bind_errno(s, bind_failures, err);
        char label[ZG_NAME_MAX + 32];
        zg_error_set("%s: %s %s: %s", zg_sock_label(s, label, sizeof label),
                     op + 3, endpoint, zmq_strerror(err));
        errno = err;
        return -1;
    }
    return 0;
}

int zg_bind(void *zsock, const char *endpoint)
{
    return attach(zsock, endpoint, true);
}

int zg_connect(void *zsock, const char *endpoint)
{
    return attach(zsock, endpoint, false);
}

static void forget(zg_sock_t *s)
{
    zg_monitor_remove(s);
    zg_registry_del(s->zsock);
    zg_ctx_detach(s->ctx, s);
    free(s);
}

int zg_forget(void *zsock)
{
    zg_sock_t *s = known(zsock, "zg_forget");
    if (!s)
        return -1;
    forget(s);
    return 0;
}

int zg_close(void **zsock)
{
    if (!zsock || !*zsock)
        return 0;
    zg_sock_t *s = zg_registry_get(*zsock);
    if (s)
        forget(s);
    int rc = zmq_close(*zsock);
    *zsock = NULL;
    return rc;
}

const char *zg_socket_name(void *zsock)
{
    zg_sock_t *s = zg_registry_get(zsock);
    return s ? s->name : NULL;
}

_Static_assert(ZG_FAIL_REASONS == 5, "zg_counters_t.handshakes_failed");
_Static_assert(ZG_ALERT_BIT_NO_PEERS == 1u << ZG_ALERT_NO_PEERS &&
                   ZG_ALERT_BIT_AUTH == 1u << ZG_ALERT_AUTH &&
                   ZG_ALERT_BIT_TIMEOUTS == 1u << ZG_ALERT_TIMEOUTS &&
                   ZG_ALERT_BIT_HWM == 1u << ZG_ALERT_HWM &&
                   ZG_ALERT_BIT_MUTE == 1u << ZG_ALERT_MUTE,
               "alert bits of zguard.h");

static void monitor_counters(const zg_monstats_t *m, zg_counters_t *out)
{
    int n = atomic_load_explicit(&m->nendpoints, memory_order_acquire);
    for (int i = 0; i <= ZG_ENDPOINTS_MAX; i++) {
        if (i >= n && i != ZG_ENDPOINTS_MAX)
            continue;
        out->handshakes_ok += atomic_load(&m->endpoints[i].handshakes_ok);
        for (int r = 0; r < ZG_FAIL_REASONS; r++)
            out->handshakes_failed[r] +=
                atomic_load(&m->endpoints[i].failed[r]);
    }
    out->peers = atomic_load(&m->peers);
    out->accept_failures = atomic_load(&m->accept_failed);
    out->mute_ratio = (double)atomic_load(&m->mute_permille) / 1000;
    out->queue_out = atomic_load(&m->queue_out);
    out->queue_in = atomic_load(&m->queue_in);
    out->alerts = atomic_load(&m->alerts);
    out->refused_max_peers = atomic_load(&m->refused_max_peers);
    out->refused_per_ip = atomic_load(&m->refused_per_ip);
}

int zg_socket_counters(void *zsock, zg_counters_t *caller, size_t size)
{
    zg_sock_t *s = known(zsock, "zg_socket_counters");
    if (!s)
        return -1;
    const zg_stats_t *st = &s->stats;
    zg_counters_t full, *out = &full;
    memset(out, 0, sizeof *out);
#define LOAD(f) out->f = atomic_load_explicit(&st->f, memory_order_relaxed)
    LOAD(msgs_sent);
    LOAD(msgs_received);
    LOAD(bytes_sent);
    LOAD(bytes_received);
    LOAD(hwm_reached);
    LOAD(send_timeouts);
    LOAD(recv_timeouts);
    LOAD(send_blocked_ns);
    LOAD(no_route);
    LOAD(interrupted);
#undef LOAD
    monitor_counters(&s->mon, out);
    return zg_abi_copy(caller, size, &full, sizeof full, "zg_socket_counters");
}

int zg_socket_sample(void *zsock)
{
    zg_sock_t *s = known(zsock, "zg_socket_sample");
    if (!s)
        return -1;
    if (!s->sample_pipes) {
        errno = ENOTSUP;
        zg_error_set("exact queue depth needs libzmq's draft API, a "
                     "monitored socket and [metrics] pipe_stats = yes");
        return -1;
    }
    zg_monitor_sample(s);
    return 0;
}
