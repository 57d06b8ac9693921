/*
 * client.c - a request that survives a lost, late or restarted server.
 *
 * A REQ socket that timed out waiting for a reply refuses the next send
 * (EFSM) until a reply comes, which may be never. The zguide's Lazy Pirate
 * answer: after RCVTIMEO, close the socket with LINGER 0 (dropping the stale
 * request and any late reply), open a fresh hardened one and resend, a
 * bounded number of times; then give up clearly and raise an alert.
 */
#include "zg_ctx.h"
#include "zg_error.h"
#include "zg_policy.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdbool.h>

#define ALERT_UNRESPONSIVE "peer_unresponsive"

struct zg_client {
    zg_ctx_t *ctx;
    char name[ZG_NAME_MAX]; /* "" for the REQ defaults */
    char *endpoint;         /* for messages: the whole list */
    char *endpoints[ZG_SERVER_KEYS_MAX];
    int nendpoints, nkeys;
    int current; /* which endpoint and server key the next socket uses */
    void *sock;
    int retries;
    int64_t timeout_ms;
    zg_client_setup_fn *setup;
    void *setup_arg;
    int attempts;
    bool alert_active;
};

/* "tcp://a:1, tcp://b:2": one endpoint per pinned server key, in the same
 * order, during a server key rotation; usually just one. */
static int split_endpoints(zg_client_t *c)
{
    for (const char *p = c->endpoint; *p;) {
        p += strspn(p, " \t");
        size_t n = strcspn(p, ", \t");
        if (n == 0 || c->nendpoints == ZG_SERVER_KEYS_MAX) {
            errno = EINVAL;
            zg_error_set("zg_client_new: '%s' is not 1 to %d endpoints "
                         "separated by commas",
                         c->endpoint, ZG_SERVER_KEYS_MAX);
            return -1;
        }
        if (!(c->endpoints[c->nendpoints++] = strndup(p, n))) {
            zg_error_set("out of memory");
            return -1;
        }
        p += n;
        p += strspn(p, " \t");
        p += *p == ',';
    }
    return 0;
}

static int count_keys(const char *list)
{
    int n = list ? 1 : 0;
    for (; list && *list; list++)
        n += *list == ',';
    return n;
}

zg_client_t *zg_client_new(zg_ctx_t *ctx, const char *name,
                           const char *endpoint)
{
    zg_error_clear();
    zg_resolved_t r;
    if (!endpoint) {
        errno = EINVAL;
        zg_error_set("zg_client_new: no endpoint");
        return NULL;
    }
    if (zg_policy_resolve(ctx->policy, ZMQ_REQ, name, &r) != 0)
        return NULL;
    zg_client_t *c = calloc(1, sizeof *c);
    if (!c || !(c->endpoint = strdup(endpoint))) {
        free(c);
        zg_error_set("out of memory");
        return NULL;
    }
    c->ctx = ctx;
    snprintf(c->name, sizeof c->name, "%s", name ? name : "");
    c->retries = (int)r.value[ZG_FIELD_RETRIES];
    c->timeout_ms = r.value[ZG_FIELD_RCVTIMEO];
    c->nkeys = count_keys(r.str[ZG_FIELD_CURVE_SERVER_KEY]);
    if (split_endpoints(c) != 0) {
        zg_client_destroy(&c);
        return NULL;
    }
    if (c->nendpoints > 1 && c->nendpoints != c->nkeys) {
        errno = EINVAL;
        zg_error_set("zg_client_new: %d endpoints for %d pinned server keys: "
                     "give one endpoint, or one per key in the same order",
                     c->nendpoints, c->nkeys);
        zg_client_destroy(&c);
    }
    return c;
}

/* LINGER 0: the request we give up on must not be delivered later. */
static void drop_socket(zg_client_t *c)
{
    if (!c->sock)
        return;
    int zero = 0;
    zmq_setsockopt(c->sock, ZMQ_LINGER, &zero, sizeof zero);
    zg_close(&c->sock);
}

void zg_client_destroy(zg_client_t **client)
{
    if (!client || !*client)
        return;
    zg_client_t *c = *client;
    drop_socket(c);
    for (int i = 0; i < c->nendpoints; i++)
        free(c->endpoints[i]);
    free(c->endpoint);
    free(c);
    *client = NULL;
}

void zg_client_set_setup(zg_client_t *client, zg_client_setup_fn *fn,
                         void *arg)
{
    client->setup = fn;
    client->setup_arg = arg;
}

int zg_client_attempts(const zg_client_t *client)
{
    return client->attempts;
}

static int open_socket(zg_client_t *c)
{
    c->sock = zg_socket(c->ctx, ZMQ_REQ, c->name[0] ? c->name : NULL);
    if (!c->sock)
        return -1;
    if (c->setup && c->setup(c->setup_arg, c->sock) != 0) {
        if (!zg_last_error()[0])
            zg_error_set("client setup function refused the socket");
        drop_socket(c);
        return -1;
    }
    if (c->nkeys > 1 &&
        zg_socket_use_server_key(c->sock, c->current % c->nkeys) != 0) {
        drop_socket(c);
        return -1;
    }
    if (zg_connect(c->sock, c->endpoints[c->current % c->nendpoints]) != 0) {
        drop_socket(c);
        return -1;
    }
    return 0;
}

/* One frame of reply is the contract; say so when a server sends more. */
static void drain_extra_frames(zg_client_t *c, zmq_msg_t *reply)
{
    if (!zmq_msg_more(reply))
        return;
    zmq_msg_t extra;
    zmq_msg_init(&extra);
    size_t dropped = 0;
    while (zmq_msg_more(dropped ? &extra : reply) &&
           zg_msg_recv(c->sock, &extra, 0) == ZG_OK)
        dropped++;
    zmq_msg_close(&extra);
    zg_log(c->ctx, ZG_LOG_WARNING,
           "request to %s: reply had %zu extra frames; only the first is "
           "returned",
           c->endpoint, dropped);
}

static zg_status_t attempt(zg_client_t *c, const void *req, size_t len,
                           zmq_msg_t *reply)
{
    if (!c->sock && open_socket(c) != 0)
        return ZG_EOTHER;
    zg_status_t st = zg_send(c->sock, req, len, 0);
    if (st == ZG_OK)
        st = zg_msg_recv(c->sock, reply, 0);
    if (st == ZG_OK)
        drain_extra_frames(c, reply);
    return st;
}

static bool worth_retrying(zg_status_t st)
{
    return st == ZG_ERCVTIMEO || st == ZG_ESNDTIMEO || st == ZG_EFSM;
}

zg_status_t zg_client_request(zg_client_t *c, const void *req, size_t len,
                              zmq_msg_t *reply)
{
    zg_error_clear();
    const char *label = c->name[0] ? c->name : "(unnamed)";
    int tries = 1 + c->retries;
    for (c->attempts = 1; c->attempts <= tries; c->attempts++) {
        zg_status_t st = attempt(c, req, len, reply);
        if (st == ZG_OK) {
            if (c->alert_active) {
                c->alert_active = false;
                zg_alert(c->ctx, ALERT_UNRESPONSIVE, label, 0,
                         "%s replied again", c->endpoint);
            }
            return ZG_OK;
        }
        drop_socket(c);
        if (!worth_retrying(st))
            return st;
        /* a server key rotation: try the next endpoint and key */
        int pairs = c->nkeys > c->nendpoints ? c->nkeys : c->nendpoints;
        c->current = (c->current + 1) % pairs;
        zg_log(c->ctx, ZG_LOG_WARNING,
               "socket '%s': no reply from %s within %lldms (attempt %d of "
               "%d)%s",
               label, c->endpoint, (long long)c->timeout_ms, c->attempts,
               tries, c->attempts < tries ? "; retrying on a new socket" : "");
    }
    c->attempts = tries;
    errno = EHOSTUNREACH;
    zg_error_set("socket '%s': no reply from %s after %d attempts of %lldms",
                 label, c->endpoint, tries, (long long)c->timeout_ms);
    if (!c->alert_active) {
        c->alert_active = true;
        zg_alert(c->ctx, ALERT_UNRESPONSIVE, label, 1, "%s", zg_last_error());
    }
    return ZG_EUNREACHABLE;
}
