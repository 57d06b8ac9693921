/*
 * metrics.c - the Prometheus endpoint: /metrics and /metrics.json, and a
 * gate's /status.
 *
 * /status answers 200 while the gate can forward and 503 when it cannot:
 * what load balancers and readiness probes ask (src/gate.c says which).
 *
 * libmicrohttpd serves them from its own thread. Each request walks the
 * context's sockets under the context lock and reads their counters (all
 * atomics written by their owners or the monitor thread), so a scrape never
 * touches a libzmq socket. Names and labels are part of zguard's interface
 * (docs/metrics.md); the text is the Prometheus exposition format 0.0.4.
 */
#include "zg_ctx.h"
#include "zg_error.h"
#include "zg_gate.h"
#include "zg_metrics.h"
#include "zg_monitor.h"
#include "zg_sock.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <pthread.h>
#include <sys/socket.h>
#include <stdatomic.h>
#include <stdbool.h>

#define CONNECTIONS_MAX 16
#define CONNECTION_TIMEOUT_S 5
#define LISTEN_BACKLOG 64
#define IDLE_REQUEST_MAX 2048   /* bytes of a request the supervisor reads */
#define IDLE_READ_MS 1000       /* and how long it waits for them */

struct zg_metrics {
    zg_ctx_t *ctx;
    struct MHD_Daemon *daemon;
    int port;
};

/* ---- a growing text buffer ------------------------------------------------ */

typedef struct buf {
    char *data;
    size_t len, cap;
    bool failed;
} buf_t;

ZG_PRINTF(2, 3) static void put(buf_t *b, const char *fmt, ...)
{
    for (;;) {
        if (b->failed)
            return;
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(b->data + b->len, b->cap - b->len, fmt, ap);
        va_end(ap);
        if (n >= 0 && (size_t)n < b->cap - b->len) {
            b->len += (size_t)n;
            return;
        }
        size_t cap = b->cap * 2 + (n > 0 ? (size_t)n : 0) + 4096;
        char *grown = realloc(b->data, cap);
        if (!grown || n < 0) {
            b->failed = true;
            return;
        }
        b->data = grown;
        b->cap = cap;
    }
}

/* A label value: backslash, quote and newline escaped. */
static void put_label(buf_t *b, const char *v)
{
    for (; *v; v++) {
        if (*v == '\\' || *v == '"')
            put(b, "\\%c", *v);
        else if (*v == '\n')
            put(b, "\\n");
        else
            put(b, "%c", *v);
    }
}

/* ---- what a socket is called in labels ------------------------------------ */

static void socket_label(const zg_sock_t *s, char *out, size_t cap)
{
    if (s->name[0])
        snprintf(out, cap, "%s", s->name);
    else
        snprintf(out, cap, "unnamed-%u", s->id);
}

static void put_socket(buf_t *b, const zg_sock_t *s)
{
    char name[ZG_NAME_MAX + 16];
    socket_label(s, name, sizeof name);
    put(b, "socket=\"");
    put_label(b, name);
    put(b, "\",type=\"%s\"", zg_type_name(s->type));
}

static uint64_t load(const _Atomic uint64_t *v)
{
    return atomic_load_explicit(v, memory_order_relaxed);
}

/* ---- the text exposition ----------------------------------------------------- */

static void family(buf_t *b, const char *name, const char *type,
                   const char *help)
{
    put(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

typedef uint64_t(counter_fn)(const zg_sock_t *s);

#define COUNTER(field)                                                         \
    static uint64_t get_##field(const zg_sock_t *s)                            \
    {                                                                          \
        return load(&s->stats.field);                                          \
    }
COUNTER(msgs_sent)
COUNTER(msgs_received)
COUNTER(bytes_sent)
COUNTER(bytes_received)
COUNTER(hwm_reached)
COUNTER(no_route)
#undef COUNTER

static void per_socket(buf_t *b, const zg_ctx_t *ctx, const char *name,
                       const char *help, counter_fn *get)
{
    family(b, name, "counter", help);
    for (const zg_sock_t *s = ctx->socks; s; s = s->next) {
        put(b, "%s{", name);
        put_socket(b, s);
        put(b, "} %llu\n", (unsigned long long)get(s));
    }
}

static void socket_counters(buf_t *b, const zg_ctx_t *ctx)
{
    per_socket(b, ctx, "zguard_messages_sent_total",
               "Messages sent (complete, multipart counts once).",
               get_msgs_sent);
    per_socket(b, ctx, "zguard_messages_received_total",
               "Messages received (complete).", get_msgs_received);
    per_socket(b, ctx, "zguard_bytes_sent_total",
               "Payload bytes sent, every frame.", get_bytes_sent);
    per_socket(b, ctx, "zguard_bytes_received_total",
               "Payload bytes received, every frame.", get_bytes_received);
    per_socket(b, ctx, "zguard_hwm_reached_total",
               "Sends that found the socket mute (HWM reached, or no peer).",
               get_hwm_reached);
    per_socket(b, ctx, "zguard_no_route_total",
               "ROUTER_MANDATORY sends to an unknown peer.", get_no_route);
}

static void timeouts_and_mute(buf_t *b, const zg_ctx_t *ctx)
{
    family(b, "zguard_timeouts_total", "counter",
           "Sends and receives that gave up after SNDTIMEO/RCVTIMEO.");
    for (const zg_sock_t *s = ctx->socks; s; s = s->next)
        for (int d = 0; d < 2; d++) {
            put(b, "zguard_timeouts_total{");
            put_socket(b, s);
            put(b, ",direction=\"%s\"} %llu\n", d ? "recv" : "send",
                (unsigned long long)load(d ? &s->stats.recv_timeouts
                                           : &s->stats.send_timeouts));
        }
    family(b, "zguard_send_blocked_seconds_total", "counter",
           "Time sends spent waiting because the socket was mute.");
    for (const zg_sock_t *s = ctx->socks; s; s = s->next) {
        put(b, "zguard_send_blocked_seconds_total{");
        put_socket(b, s);
        put(b, "} %.6f\n", (double)load(&s->stats.send_blocked_ns) / 1e9);
    }
    family(b, "zguard_mute_ratio", "gauge",
           "Share of the alert window the socket spent mute (0 to 1).");
    for (const zg_sock_t *s = ctx->socks; s; s = s->next) {
        put(b, "zguard_mute_ratio{");
        put_socket(b, s);
        put(b, "} %.3f\n", (double)load(&s->mon.mute_permille) / 1000);
    }
}

static void peers_and_alerts(buf_t *b, const zg_ctx_t *ctx)
{
    family(b, "zguard_peers", "gauge",
           "Connections whose handshake succeeded (tcp and ipc; inproc "
           "peers are not reported by libzmq).");
    for (const zg_sock_t *s = ctx->socks; s; s = s->next) {
        put(b, "zguard_peers{");
        put_socket(b, s);
        put(b, "} %lld\n", (long long)atomic_load(&s->mon.peers));
    }
    family(b, "zguard_alert_active", "gauge",
           "1 while an alert of the policy is raised.");
    for (const zg_sock_t *s = ctx->socks; s; s = s->next)
        for (int k = 0; k < ZG_ALERTS; k++) {
            put(b, "zguard_alert_active{");
            put_socket(b, s);
            put(b, ",alert=\"%s\"} %d\n", zg_alert_kind_name(k),
                (atomic_load(&s->mon.alerts) >> k) & 1);
        }
    family(b, "zguard_accept_failures_total", "counter",
           "Connections libzmq could not accept (emfile: descriptors "
           "exhausted).");
    for (const zg_sock_t *s = ctx->socks; s; s = s->next) {
        uint64_t all = load(&s->mon.accept_failed),
                 emfile = load(&s->mon.accept_emfile);
        put(b, "zguard_accept_failures_total{");
        put_socket(b, s);
        put(b, ",reason=\"emfile\"} %llu\nzguard_accept_failures_total{",
            (unsigned long long)emfile);
        put_socket(b, s);
        put(b, ",reason=\"other\"} %llu\n",
            (unsigned long long)(all - emfile));
    }
}

static void queue_depth(buf_t *b, const zg_ctx_t *ctx)
{
    if (!zg_monitor_exact())
        return; /* only libzmq's draft API can tell; absent, not zero */
    family(b, "zguard_queue_depth", "gauge",
           "Messages queued in the fullest peer pipe (exact: draft API).");
    for (const zg_sock_t *s = ctx->socks; s; s = s->next)
        for (int d = 0; d < 2; d++) {
            int64_t v = atomic_load(d ? &s->mon.queue_in : &s->mon.queue_out);
            if (v < 0)
                continue;
            put(b, "zguard_queue_depth{");
            put_socket(b, s);
            put(b, ",direction=\"%s\"} %lld\n", d ? "in" : "out",
                (long long)v);
        }
}

/* One sample per endpoint and label value; which: the value's index. */
typedef uint64_t(endpoint_value_fn)(zg_endpoint_stats_t *e, int which);

static void per_endpoint(buf_t *b, const zg_ctx_t *ctx, const char *name,
                         const char *label, const char *const *values,
                         int nvalues, endpoint_value_fn *value)
{
    for (const zg_sock_t *s = ctx->socks; s; s = s->next) {
        zg_monstats_t *m = (zg_monstats_t *)&s->mon;
        int n = atomic_load_explicit(&m->nendpoints, memory_order_acquire);
        for (int i = 0; i <= ZG_ENDPOINTS_MAX; i++) {
            if (i >= n && i != ZG_ENDPOINTS_MAX)
                continue;
            zg_endpoint_stats_t *e = &m->endpoints[i];
            for (int v = 0; v < nvalues; v++) {
                uint64_t x = value(e, v);
                if (i == ZG_ENDPOINTS_MAX && !x)
                    continue; /* "other" only when used */
                put(b, "%s{", name);
                put_socket(b, s);
                put(b, ",endpoint=\"");
                put_label(b, i == ZG_ENDPOINTS_MAX ? "other" : e->endpoint);
                put(b, "\",%s=\"%s\"} %llu\n", label, values[v],
                    (unsigned long long)x);
            }
        }
    }
}

static uint64_t connection_value(zg_endpoint_stats_t *e, int which)
{
    return load(which == 0   ? &e->accepted
                : which == 1 ? &e->connected
                             : &e->disconnected);
}

static uint64_t failure_value(zg_endpoint_stats_t *e, int which)
{
    return load(&e->failed[which]);
}

static uint64_t handshake_value(zg_endpoint_stats_t *e, int which)
{
    if (which == 0)
        return load(&e->handshakes_ok);
    uint64_t n = 0;
    for (int r = 0; r < ZG_FAIL_REASONS; r++)
        n += failure_value(e, r);
    return n;
}

static void connections(buf_t *b, const zg_ctx_t *ctx)
{
    static const char *const events[] = {"accepted", "connected",
                                         "disconnected"};
    static const char *const results[] = {"ok", "failed"};
    static const char *const reasons[] = {"auth", "crypto", "mechanism",
                                          "protocol", "timeout"};
    family(b, "zguard_connections_total", "counter",
           "Connections accepted, made and lost, per endpoint.");
    per_endpoint(b, ctx, "zguard_connections_total", "event", events, 3,
                 connection_value);
    family(b, "zguard_handshakes_total", "counter",
           "ZMTP handshakes (CURVE and ZAP included), per endpoint.");
    per_endpoint(b, ctx, "zguard_handshakes_total", "result", results, 2,
                 handshake_value);
    family(b, "zguard_handshake_failures_total", "counter",
           "Failed handshakes by reason: auth (refused by the "
           "authenticator), crypto (wrong key), mechanism (plaintext or "
           "downgrade), protocol (malformed), timeout (no detail).");
    per_endpoint(b, ctx, "zguard_handshake_failures_total", "reason",
                 reasons, ZG_FAIL_REASONS, failure_value);
}

/* Connections the monitor closed as soon as they were accepted (max_peers,
 * max_peers_per_ip), per socket and summed for the decisions family. */
static void refusals(buf_t *b, const zg_ctx_t *ctx, uint64_t sum[2])
{
    family(b, "zguard_connections_refused_total", "counter",
           "Connections closed as soon as accepted: max_peers reached, or "
           "max_peers_per_ip from one address.");
    sum[0] = sum[1] = 0;
    for (const zg_sock_t *s = ctx->socks; s; s = s->next) {
        uint64_t n[2] = {load(&s->mon.refused_max_peers),
                         load(&s->mon.refused_per_ip)};
        for (int i = 0; i < 2; i++) {
            put(b, "zguard_connections_refused_total{");
            put_socket(b, s);
            put(b, ",reason=\"%s\"} %llu\n", i ? "per_ip_limit" : "max_peers",
                (unsigned long long)n[i]);
            sum[i] += n[i];
        }
    }
}

static void auth(buf_t *b, zg_ctx_t *ctx, const uint64_t refused[2])
{
    zg_auth_stats_t st;
    bool running = zg_ctx_auth_stats(ctx, &st, sizeof st) == 0;
    if (!running)
        memset(&st, 0, sizeof st);
    struct {
        const char *result, *reason;
        uint64_t n;
    } d[] = {{"allow", "ok", st.allowed},
             {"deny", "unknown_key", st.denied_unknown},
             {"deny", "revoked", st.denied_revoked},
             {"deny", "expired", st.denied_expired},
             {"deny", "address", st.denied_address},
             {"deny", "mechanism", st.denied_mechanism},
             {"deny", "malformed", st.denied_malformed},
             {"deny", "rate", st.denied_rate},
             {"deny", "lockout", st.denied_lockout},
             {"deny", "max_peers", refused[0]},
             {"deny", "per_ip_limit", refused[1]}};
    family(b, "zguard_auth_decisions_total", "counter",
           "Who may connect: the ZAP authenticator's decisions, and the "
           "connections the connection limits refused.");
    for (size_t i = 0; i < sizeof d / sizeof d[0]; i++)
        put(b,
            "zguard_auth_decisions_total{result=\"%s\",reason=\"%s\"} %llu\n",
            d[i].result, d[i].reason, (unsigned long long)d[i].n);
    if (!running)
        return;
    family(b, "zguard_auth_keys", "gauge", "Keys in the allowlist.");
    put(b, "zguard_auth_keys %llu\n", (unsigned long long)st.keys);
    family(b, "zguard_auth_dropped_messages_total", "counter",
           "Messages dropped because their key lost access.");
    put(b, "zguard_auth_dropped_messages_total %llu\n",
        (unsigned long long)st.dropped);
}

/* A gate's reloads (SIGHUP): the family only where a gate runs. */
static void gate_reloads(buf_t *b, zg_ctx_t *ctx)
{
    zg_gate_status_t st;
    if (zg_gate_status(ctx, &st) != 0)
        return;
    family(b, "zguard_reloads_total", "counter",
           "Reloads of the gate (SIGHUP): allowlist, revocation list and "
           "its key pair; failed ones kept what was in use.");
    put(b, "zguard_reloads_total{result=\"ok\"} %llu\n",
        (unsigned long long)st.reloads_ok);
    put(b, "zguard_reloads_total{result=\"failed\"} %llu\n",
        (unsigned long long)st.reloads_failed);
}

static void build_info(buf_t *b)
{
    int major, minor, patch;
    zmq_version(&major, &minor, &patch);
    family(b, "zguard_build_info", "gauge",
           "zguard's version and the libzmq it runs on.");
    put(b, "zguard_build_info{version=\"%s\",libzmq=\"%d.%d.%d\"} 1\n",
        zg_version_string(), major, minor, patch);
}

/* The gate's own families: restarts of its forwarding process (counted
 * by the supervisor, src/../tools/gate_super.c) and whether one forwards. */
static void gate_families(buf_t *b, const zg_gate_status_t *st)
{
    family(b, "zguard_gate_restarts_total", "counter",
           "Forwarding processes the gate's supervisor restarted after an "
           "abnormal end (a signal such as SIGABRT or SIGSEGV, or exit 1).");
    put(b, "zguard_gate_restarts_total %llu\n", (unsigned long long)st->restarts);
    family(b, "zguard_gate_forwarding", "gauge",
           "1 while a forwarding process runs, 0 while the supervisor "
           "restarts one.");
    put(b, "zguard_gate_forwarding %d\n", st->forwarding ? 1 : 0);
}

static void render_text(zg_ctx_t *ctx, buf_t *b)
{
    build_info(b);
    zg_gate_status_t st;
    if (zg_gate_status(ctx, &st) == 0)
        gate_families(b, &st);
    pthread_mutex_lock(&ctx->lock);
    socket_counters(b, ctx);
    timeouts_and_mute(b, ctx);
    peers_and_alerts(b, ctx);
    queue_depth(b, ctx);
    connections(b, ctx);
    uint64_t refused[2];
    refusals(b, ctx, refused);
    pthread_mutex_unlock(&ctx->lock);
    auth(b, ctx, refused);
    gate_reloads(b, ctx);
}

/* ---- the JSON snapshot --------------------------------------------------------- */

static void json_socket(buf_t *b, const zg_sock_t *s)
{
    char name[ZG_NAME_MAX + 16];
    socket_label(s, name, sizeof name);
    put(b, "{\"socket\": \"");
    put_label(b, name);
    put(b, "\", \"type\": \"%s\", \"messages_sent\": %llu, "
           "\"messages_received\": %llu, \"bytes_sent\": %llu, "
           "\"bytes_received\": %llu, \"hwm_reached\": %llu, "
           "\"mute_ratio\": %.3f, \"timeouts\": {\"send\": %llu, "
           "\"recv\": %llu}, \"peers\": %lld, \"alerts\": [",
        zg_type_name(s->type), (unsigned long long)load(&s->stats.msgs_sent),
        (unsigned long long)load(&s->stats.msgs_received),
        (unsigned long long)load(&s->stats.bytes_sent),
        (unsigned long long)load(&s->stats.bytes_received),
        (unsigned long long)load(&s->stats.hwm_reached),
        (double)load(&s->mon.mute_permille) / 1000,
        (unsigned long long)load(&s->stats.send_timeouts),
        (unsigned long long)load(&s->stats.recv_timeouts),
        (long long)atomic_load(&s->mon.peers));
    uint32_t alerts = atomic_load(&s->mon.alerts);
    for (int k = 0, n = 0; k < ZG_ALERTS; k++)
        if (alerts & (1u << k))
            put(b, "%s\"%s\"", n++ ? ", " : "", zg_alert_kind_name(k));
    int64_t out = atomic_load(&s->mon.queue_out),
            in = atomic_load(&s->mon.queue_in);
    if (out >= 0 && in >= 0)
        put(b, "], \"queue_depth\": {\"out\": %lld, \"in\": %lld}}",
            (long long)out, (long long)in);
    else
        put(b, "], \"queue_depth\": null}");
}

static void render_json(zg_ctx_t *ctx, buf_t *b)
{
    int major, minor, patch;
    zmq_version(&major, &minor, &patch);
    put(b, "{\"zguard\": \"%s\", \"libzmq\": \"%d.%d.%d\", \"exact\": %s, "
           "\"sockets\": [",
        zg_version_string(), major, minor, patch,
        zg_monitor_exact() ? "true" : "false");
    pthread_mutex_lock(&ctx->lock);
    for (const zg_sock_t *s = ctx->socks; s; s = s->next) {
        put(b, "%s\n  ", s == ctx->socks ? "" : ",");
        json_socket(b, s);
    }
    pthread_mutex_unlock(&ctx->lock);
    zg_auth_stats_t st;
    if (zg_ctx_auth_stats(ctx, &st, sizeof st) == 0)
        put(b, "\n], \"auth\": {\"allowed\": %llu, \"denied\": %llu, "
               "\"keys\": %llu, \"dropped\": %llu}}\n",
            (unsigned long long)st.allowed,
            (unsigned long long)(st.denied_unknown + st.denied_revoked +
                                 st.denied_expired + st.denied_address +
                                 st.denied_mechanism + st.denied_malformed),
            (unsigned long long)st.keys, (unsigned long long)st.dropped);
    else
        put(b, "\n], \"auth\": null}\n");
}

/* A number, or null when unknown (-1). */
static void put_count(buf_t *b, const char *key, int64_t v)
{
    if (v < 0)
        put(b, "\"%s\": null", key);
    else
        put(b, "\"%s\": %lld", key, (long long)v);
}

static void status_json(buf_t *b, const zg_gate_status_t *st)
{
    put(b, "{\"status\": \"%s\", \"forwarding\": %s, \"mode\": \"%s\", "
           "\"pattern\": \"%s\", \"frontend\": \"",
        !st->forwarding ? "not forwarding"
        : st->ready     ? "ok"
                        : "backend unreachable",
        st->forwarding ? "true" : "false", st->client ? "client" : "ingress",
        zg_gate_pattern_name(st->pattern));
    put_label(b, st->frontend);
    put(b, "\", \"backend\": \"");
    put_label(b, st->backend);
    put(b, "\", ");
    put_count(b, "allowlist_keys", st->allowlist_keys);
    put(b, ", \"peers\": {");
    put_count(b, "frontend", st->peers_frontend);
    put(b, ", ");
    put_count(b, "backend", st->peers_backend);
    put(b, "}, \"backend_reachable\": %s, \"backend_down_ms\": %lld, "
           "\"backend_grace_ms\": %lld, \"restarts\": %llu, "
           "\"uptime_s\": %.3f}\n",
        st->peers_backend < 0 ? "null" : st->peers_backend > 0 ? "true" : "false",
        (long long)st->backend_down_ms, (long long)st->grace_ms,
        (unsigned long long)st->restarts, (double)st->uptime_ms / 1000);
}

/* The gate's /status as JSON; false when the context runs no gate. */
static bool render_status(zg_ctx_t *ctx, buf_t *b, bool *ready)
{
    zg_gate_status_t st;
    if (zg_gate_status(ctx, &st) != 0)
        return false;
    *ready = st.ready;
    status_json(b, &st);
    return true;
}

/* ---- HTTP --------------------------------------------------------------------------- */

static enum MHD_Result answer(struct MHD_Connection *c, unsigned status,
                              const char *type, buf_t *b)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(
        b->len, b->data, MHD_RESPMEM_MUST_FREE);
    if (!r) {
        free(b->data);
        return MHD_NO;
    }
    MHD_add_response_header(r, "Content-Type", type);
    enum MHD_Result rc = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return rc;
}

static enum MHD_Result handle(void *arg, struct MHD_Connection *c,
                              const char *url, const char *method,
                              const char *version, const char *upload,
                              size_t *upload_size, void **state)
{
    (void)version, (void)upload, (void)upload_size, (void)state;
    zg_metrics_t *m = arg;
    buf_t b = {0};
    bool ready = false;
    if (strcmp(method, "GET") != 0) {
        put(&b, "only GET\n");
        return answer(c, MHD_HTTP_METHOD_NOT_ALLOWED, "text/plain", &b);
    }
    if (strcmp(url, "/metrics") == 0) {
        render_text(m->ctx, &b);
        if (!b.failed)
            return answer(c, MHD_HTTP_OK, "text/plain; version=0.0.4", &b);
    } else if (strcmp(url, "/metrics.json") == 0) {
        render_json(m->ctx, &b);
        if (!b.failed)
            return answer(c, MHD_HTTP_OK, "application/json", &b);
    } else if (strcmp(url, "/status") == 0 && render_status(m->ctx, &b, &ready)) {
        if (!b.failed)
            return answer(c, ready ? MHD_HTTP_OK : MHD_HTTP_SERVICE_UNAVAILABLE,
                          "application/json", &b);
    } else {
        put(&b, "zguard serves /metrics, /metrics.json and (a gate) "
                "/status\n");
        return answer(c, MHD_HTTP_NOT_FOUND, "text/plain", &b);
    }
    free(b.data);
    return MHD_NO;
}

/* "127.0.0.1:9464", "[::1]:9464" */
static int parse_listen(const char *text, struct sockaddr_storage *a,
                        bool *v6)
{
    char host[INET6_ADDRSTRLEN + 2];
    const char *colon = strrchr(text, ':');
    if (!colon || (size_t)(colon - text) >= sizeof host)
        return -1;
    snprintf(host, sizeof host, "%.*s", (int)(colon - text), text);
    long port = strtol(colon + 1, NULL, 10);
    if (port < 0 || port > 65535)
        return -1;
    memset(a, 0, sizeof *a);
    size_t n = strlen(host);
    if (n > 2 && host[0] == '[' && host[n - 1] == ']') {
        host[n - 1] = '\0';
        struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)a;
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons((uint16_t)port);
        *v6 = true;
        return inet_pton(AF_INET6, host + 1, &in6->sin6_addr) == 1 ? 0 : -1;
    }
    struct sockaddr_in *in = (struct sockaddr_in *)a;
    in->sin_family = AF_INET;
    in->sin_port = htons((uint16_t)port);
    *v6 = false;
    return inet_pton(AF_INET, host, &in->sin_addr) == 1 ? 0 : -1;
}

static int listen_on(int fd)
{
    return listen(fd, LISTEN_BACKLOG);
}

/* MHD on addr, or on fd (a listening socket bound elsewhere) when >= 0. */
static int start_daemon(zg_ctx_t *ctx, const char *what,
                        const struct sockaddr_storage *addr, bool v6, int fd,
                        zg_metrics_t **out)
{
    zg_metrics_t *m = calloc(1, sizeof *m);
    if (!m) {
        zg_error_set("out of memory");
        return -1;
    }
    m->ctx = ctx;
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | (v6 ? MHD_USE_IPv6 : 0);
    if (fd >= 0)
        m->daemon = MHD_start_daemon(
            flags, 0, NULL, NULL, handle, m, MHD_OPTION_LISTEN_SOCKET,
            (MHD_socket)fd, MHD_OPTION_CONNECTION_LIMIT,
            (unsigned)CONNECTIONS_MAX, MHD_OPTION_CONNECTION_TIMEOUT,
            (unsigned)CONNECTION_TIMEOUT_S, MHD_OPTION_END);
    else
        m->daemon = MHD_start_daemon(
            flags, 0, NULL, NULL, handle, m, MHD_OPTION_SOCK_ADDR,
            (const struct sockaddr *)addr, MHD_OPTION_CONNECTION_LIMIT,
            (unsigned)CONNECTIONS_MAX, MHD_OPTION_CONNECTION_TIMEOUT,
            (unsigned)CONNECTION_TIMEOUT_S, MHD_OPTION_END);
    if (!m->daemon) {
        zg_error_set("metrics: cannot listen on %s: %s", what,
                     strerror(errno ? errno : EADDRINUSE));
        free(m);
        return -1;
    }
    const union MHD_DaemonInfo *info =
        MHD_get_daemon_info(m->daemon, MHD_DAEMON_INFO_BIND_PORT);
    m->port = info ? info->port : 0;
    *out = m;
    return m->port;
}

/* parse_listen, saying why not. */
static int listen_address(const char *listen, struct sockaddr_storage *addr,
                          bool *v6)
{
    if (parse_listen(listen, addr, v6) == 0)
        return 0;
    errno = EINVAL;
    zg_error_set("metrics: '%s' is not an address and port like "
                 "127.0.0.1:9464",
                 listen);
    return -1;
}

int zg_metrics_start(zg_ctx_t *ctx, const char *listen, zg_metrics_t **out)
{
    struct sockaddr_storage addr;
    bool v6;
    if (listen_address(listen, &addr, &v6) != 0)
        return -1;
    return start_daemon(ctx, listen, &addr, v6, -1, out);
}

int zg_metrics_start_fd(zg_ctx_t *ctx, int fd, zg_metrics_t **out)
{
    struct sockaddr_storage addr;
    socklen_t len = sizeof addr;
    if (getsockname(fd, (struct sockaddr *)&addr, &len) != 0) {
        zg_error_set("metrics: inherited socket %d: %s", fd, strerror(errno));
        return -1;
    }
    return start_daemon(ctx, "an inherited socket", &addr,
                        addr.ss_family == AF_INET6, fd, out);
}

int zg_metrics_bind(const char *listen, int *port)
{
    struct sockaddr_storage addr;
    bool v6;
    if (listen_address(listen, &addr, &v6) != 0)
        return -1;
    int one = 1, fd = socket(v6 ? AF_INET6 : AF_INET,
                             SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    socklen_t len = v6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) ||
        bind(fd, (struct sockaddr *)&addr, len) != 0 ||
        listen_on(fd) != 0 ||
        getsockname(fd, (struct sockaddr *)&addr, &len) != 0) {
        zg_error_set("metrics: cannot listen on %s: %s", listen, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    *port = ntohs(v6 ? ((struct sockaddr_in6 *)&addr)->sin6_port
                     : ((struct sockaddr_in *)&addr)->sin_port);
    return fd;
}

void zg_metrics_stop(zg_metrics_t **metrics)
{
    if (!metrics || !*metrics)
        return;
    MHD_stop_daemon((*metrics)->daemon);
    free(*metrics);
    *metrics = NULL;
}

/* ---- a supervisor's answers between two forwarding processes ------------------ */

/* The request line's path, once the request head is in: reads for at most
 * IDLE_READ_MS. Empty when the peer sent none in time. */
static void read_path(int conn, char *path, size_t cap)
{
    char req[IDLE_REQUEST_MAX + 1];
    size_t len = 0;
    path[0] = '\0';
    struct pollfd p = {.fd = conn, .events = POLLIN};
    while (len < IDLE_REQUEST_MAX && !memmem(req, len, "\r\n\r\n", 4) &&
           poll(&p, 1, IDLE_READ_MS) == 1) {
        ssize_t n = recv(conn, req + len, IDLE_REQUEST_MAX - len, 0);
        if (n <= 0)
            return;
        len += (size_t)n;
    }
    req[len] = '\0';
    char *sp = strchr(req, ' ');
    if (!sp || strncmp(req, "GET ", 4) != 0)
        return;
    size_t n = strcspn(sp + 1, " ?\r\n");
    snprintf(path, cap, "%.*s", (int)n, sp + 1);
}

static void answer_idle(int conn, const zg_gate_status_t *st)
{
    char path[64];
    read_path(conn, path, sizeof path);
    buf_t b = {0};
    int code = 503;
    const char *type = "application/json";
    if (strcmp(path, "/metrics") == 0) {
        build_info(&b);
        gate_families(&b, st);
        code = 200;
        type = "text/plain; version=0.0.4";
    } else if (strcmp(path, "/status") == 0) {
        status_json(&b, st);
    } else {
        put(&b, "no forwarding process runs: /status and /metrics answer "
                "until one does\n");
        type = "text/plain";
    }
    char head[256];
    int n = snprintf(head, sizeof head,
                     "HTTP/1.1 %d %s\r\nContent-Type: %s\r\n"
                     "Content-Length: %zu\r\nConnection: close\r\n\r\n",
                     code, code == 200 ? "OK" : "Service Unavailable", type,
                     b.failed ? 0 : b.len);
    if (n > 0 && send(conn, head, (size_t)n, MSG_NOSIGNAL) == n && !b.failed)
        (void)!send(conn, b.data, b.len, MSG_NOSIGNAL);
    free(b.data);
}

void zg_metrics_answer_idle(int fd, const zg_gate_status_t *st)
{
    int conn;
    /* at most CONNECTIONS_MAX a call: the supervisor has more to do */
    for (int i = 0; i < CONNECTIONS_MAX &&
                    (conn = accept4(fd, NULL, NULL, SOCK_CLOEXEC)) >= 0;
         i++) {
        /* the listening socket is non-blocking; the connection need not be */
        int flags = fcntl(conn, F_GETFL);
        if (flags >= 0)
            fcntl(conn, F_SETFL, flags & ~O_NONBLOCK);
        answer_idle(conn, st);
        close(conn);
    }
}
