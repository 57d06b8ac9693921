/*
 * gate.c - a CURVE-terminating gateway in front of a service that cannot
 * change yet: a public frontend with the whole policy, a plaintext backend
 * on this machine, and the loop between them.
 *
 * The loop never waits on one peer. A message for the backend is read only
 * while the backend can take it: when a send finds it mute (the service is
 * behind), that one frame is held, the frontend is no longer read, and the
 * senders meet back-pressure through their own HWM and TCP; the rest of a
 * multipart message stays queued in the frontend socket meanwhile, which
 * libzmq delivers whole. A message for a client that is gone or not
 * reading (ROUTER_MANDATORY: EHOSTUNREACH or EAGAIN) is dropped and
 * counted: one slow client must not stall the others.
 *
 * Stopping is a write to a pipe the loop polls, so a signal handler may do
 * it. The loop then stops reading the frontend and, within the backend's
 * LINGER, delivers the frame it holds and (reqrep) the replies still due;
 * closing spends what is left of that bound flushing libzmq's queues.
 *
 * Reloading (zg_gate_reload, SIGHUP in zguard gate) is a byte on the same
 * pipe; the loop does it between two messages, on its own thread, since
 * the sockets are that thread's. The allowlist and revocation list reload
 * as they do on a change of their files (auth.c). A new key pair of the
 * gate gets a listener of its own on the frontend's port (listen.c says
 * why and how), so open sessions keep the old key and every new handshake
 * uses the new one. The frontend's listening socket is therefore the
 * gate's own when it can be (tcp:// with a numeric address), or systemd's
 * (socket activation), handed to libzmq with ZMQ_USE_FD.
 *
 * Two modes share the loop and the socket types. Ingress (the default):
 * CURVE clients at the frontend, the unchanged service behind a local
 * plaintext backend. Client mode mirrors it: unchanged clients at a local
 * plaintext frontend, the backend a CURVE client connecting to a remote
 * ingress gate or CURVE service. The types need no mirroring: requests and
 * pushes still enter at the frontend, replies and publications still come
 * back through the backend (an XSUB that subscribes remotely for the local
 * subscribers of the XPUB frontend).
 */
#include "zg_abi.h"
#include "zg_ctx.h"
#include "zg_curve.h"
#include "zg_error.h"
#include "zg_gate.h"
#include "zg_keys.h"
#include "zg_listen.h"
#include "zg_policy.h"
#include "zg_registry.h"
#include "zg_sock.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <stdatomic.h>
#include <stdbool.h>

#define GATE_BURST 512          /* messages per direction per wakeup */
#define GATE_LOG_EVERY_MS 1000  /* at most one drop or mute line a second */
#define WAKE_STOP 'S'           /* the bytes on the wake pipe */
#define WAKE_RELOAD 'R'

typedef enum dir { TO_BACKEND, TO_FRONTEND } dir_t;

/* Counters written by the loop's thread only, read by any. */
typedef struct gate_counts {
    _Atomic uint64_t to_backend, to_frontend, dropped, backend_mute,
        outstanding;
} gate_counts_t;

/* A rate-limited warning: how many since the last line. */
typedef struct gate_note {
    uint64_t count;
    int64_t last_ms;
} gate_note_t;

struct zg_gate {
    zg_ctx_t *ctx;
    zg_gate_pattern_t pattern;
    bool client;          /* client mode: the backend is the CURVE side */
    const char *back_list; /* the policy's backend endpoints */
    char front_ep[ZG_ENDPOINT_MAX]; /* as bound, for /status */
    bool back_inproc;     /* libzmq reports no inproc peers: unknown */
    int64_t grace_ms, started_ms;
    void *front, *back;
    int wake[2];          /* zg_gate_stop writes, the loop polls */
    zmq_msg_t held;       /* first frame of a message the backend refused */
    bool holding, held_more;
    zmq_msg_t next;       /* reqrep: the frame after a routing id, read early */
    bool has_next;
    int64_t linger_ms;    /* the backend's: bounds stopping */
    int64_t close_by_ms;  /* when the sockets must be closed; 0: not run */
    gate_counts_t n;
    gate_note_t drop_note, mute_note;
    int listen_fd;        /* the frontend's newest listening socket, or -1
                             when libzmq made it (libzmq closes it) */
    unsigned listeners;   /* on the frontend's port, old keys' included */
    _Atomic uint64_t reloads_ok, reloads_failed;
};

static const struct {
    const char *name;
    int front, back;
} patterns[] = {
    [ZG_GATE_REQREP] = {"reqrep", ZMQ_ROUTER, ZMQ_DEALER},
    [ZG_GATE_PUBSUB] = {"pubsub", ZMQ_XPUB, ZMQ_XSUB},
    [ZG_GATE_PIPELINE] = {"pipeline", ZMQ_PULL, ZMQ_PUSH},
};

const char *zg_gate_pattern_name(zg_gate_pattern_t pattern)
{
    if (pattern < ZG_GATE_REQREP || pattern > ZG_GATE_PIPELINE)
        return NULL;
    return patterns[pattern].name;
}

int zg_gate_pattern_from_name(const char *name)
{
    for (int p = ZG_GATE_REQREP; p <= ZG_GATE_PIPELINE; p++)
        if (name && strcmp(name, patterns[p].name) == 0)
            return p;
    return -1;
}

void zg_gate_types(zg_gate_pattern_t pattern, int *frontend, int *backend)
{
    *frontend = patterns[pattern].front;
    *backend = patterns[pattern].back;
}

static void count(_Atomic uint64_t *c, int64_t delta)
{
    uint64_t v = atomic_load_explicit(c, memory_order_relaxed);
    atomic_store_explicit(c, delta < 0 && v == 0 ? 0 : v + (uint64_t)delta,
                          memory_order_relaxed);
}

/* ---- making it ------------------------------------------------------------ */

static void describe(void *sock, char *buf, size_t cap)
{
    size_t len = cap;
    if (zmq_getsockopt(sock, ZMQ_LAST_ENDPOINT, buf, &len) != 0)
        snprintf(buf, cap, "?");
}

static const char *mechanism(void *sock)
{
    int m = 0;
    size_t len = sizeof m;
    zmq_getsockopt(sock, ZMQ_MECHANISM, &m, &len);
    return m == ZMQ_CURVE ? "CURVE" : "plaintext";
}

/* ", metrics http://127.0.0.1:9464/metrics" with the port actually
 * listened on (the policy may say port 0), or "". */
static void describe_metrics(zg_ctx_t *ctx, char *out, size_t cap)
{
    const char *listen = zg_policy_metrics(zg_ctx_policy(ctx), "listen", NULL);
    int port = zg_ctx_metrics_port(ctx);
    out[0] = '\0';
    if (!listen || port <= 0)
        return;
    const char *colon = strrchr(listen, ':');
    int host = colon ? (int)(colon - listen) : (int)strlen(listen);
    snprintf(out, cap, ", metrics http://%.*s:%d/metrics", host, listen, port);
}

static void log_ready(zg_gate_t *g)
{
    char front[256], metrics[300], keys[64] = "";
    describe(g->front, front, sizeof front);
    describe_metrics(g->ctx, metrics, sizeof metrics);
    zg_auth_stats_t a;
    if (zg_ctx_auth_stats(g->ctx, &a, sizeof a) == 0)
        snprintf(keys, sizeof keys, ", %llu keys allowed",
                 (unsigned long long)a.keys);
    zg_log(g->ctx, ZG_LOG_NOTICE,
           "gate: ready: %s%s, frontend %s (%s%s) -> backend %s (%s)%s",
           patterns[g->pattern].name, g->client ? " client mode" : "", front,
           mechanism(g->front), keys, g->back_list, mechanism(g->back),
           metrics);
}

/* [gate] as the policy has it (the parser checked every value). */
static int read_section(zg_gate_t *g, const zg_policy_t *p, const char **front)
{
    const char *name = zg_policy_gate(p, "pattern", NULL);
    const char *mode = zg_policy_gate(p, "mode", NULL);
    const char *grace = zg_policy_gate(p, "backend_grace", NULL);
    *front = zg_policy_gate(p, "frontend", NULL);
    g->back_list = zg_policy_gate(p, "backend", NULL);
    if (!name || !*front || !g->back_list) {
        zg_error_set("%s: no [gate] section with pattern, frontend and "
                     "backend (docs/gate.md)",
                     zg_policy_file(p));
        return -1;
    }
    g->pattern = (zg_gate_pattern_t)zg_gate_pattern_from_name(name);
    g->client = mode && strcmp(mode, "client") == 0;
    g->grace_ms = grace ? strtoll(grace, NULL, 10) : ZG_GATE_GRACE_MS;
    return 0;
}

/* The backend connects to every endpoint of its list. */
static int connect_backend(zg_gate_t *g)
{
    char ep[ZG_ENDPOINT_MAX], why[ZG_ERROR_MAX];
    const char *list = g->back_list;
    g->back_inproc = false;
    while (zg_endpoint_next(&list, ep)) {
        if (zg_connect(g->back, ep) != 0) {
            snprintf(why, sizeof why, "%s", zg_last_error());
            zg_error_set("gate: backend %s: %s", ep, why);
            return -1;
        }
        g->back_inproc |= strncmp(ep, "inproc://", 9) == 0;
    }
    return 0;
}

/* zg_bind through a listening socket the gate holds: libzmq takes fd over
 * (and closes it with the listener); on a failure it is closed here. */
static int bind_fd(zg_gate_t *g, const char *ep, int fd)
{
    int none = -1;
    int rc = zmq_setsockopt(g->front, ZMQ_USE_FD, &fd, sizeof fd);
    if (rc == 0)
        rc = zg_bind(g->front, ep);
    else
        zg_error_set("libzmq refused ZMQ_USE_FD: %s", zmq_strerror(errno));
    zmq_setsockopt(g->front, ZMQ_USE_FD, &none, sizeof none);
    if (rc != 0) {
        close(fd);
        return -1;
    }
    g->listen_fd = fd;
    g->listeners++;
    return 0;
}

/* systemd's socket, else (an ingress gate, whose key may change) one of
 * the gate's own, else libzmq's. */
static int bind_frontend(zg_gate_t *g, const char *ep)
{
    int fd, rc = zg_listen_inherited(ep, &fd);
    if (rc < 0)
        return -1;
    if (rc == 1)
        return bind_fd(g, ep, fd);
    if (!g->client && (rc = zg_listen_tcp(ep, &fd)) <= 0)
        return rc < 0 ? -1 : bind_fd(g, ep, fd);
    if (zg_bind(g->front, ep) != 0)
        return -1;
    g->listeners = 1;
    return 0;
}

static int open_sockets(zg_gate_t *g, const char *front_ep)
{
    int ft, bt;
    zg_gate_types(g->pattern, &ft, &bt);
    char why[ZG_ERROR_MAX];
    if (!(g->back = zg_socket(g->ctx, bt, "backend")) ||
        !(g->front = zg_socket(g->ctx, ft, "frontend")))
        return -1;
    if (connect_backend(g) != 0)
        return -1;
    if (bind_frontend(g, front_ep) != 0) {
        snprintf(why, sizeof why, "%s", zg_last_error());
        zg_error_set("gate: frontend %s: %s", front_ep, why);
        return -1;
    }
    describe(g->front, g->front_ep, sizeof g->front_ep);
    zg_resolved_t r;
    zg_policy_resolve(zg_ctx_policy(g->ctx), bt, "backend", &r);
    g->linger_ms = r.value[ZG_FIELD_LINGER] < 0 ? 0 : r.value[ZG_FIELD_LINGER];
    return 0;
}

zg_gate_t *zg_gate_new(zg_ctx_t *ctx)
{
    return zg_gate_new_at(ctx, NULL);
}

zg_gate_t *zg_gate_new_at(zg_ctx_t *ctx, const char *frontend)
{
    zg_error_clear();
    const char *front_ep;
    zg_gate_t *g = calloc(1, sizeof *g);
    if (!g) {
        zg_error_set("gate: out of memory");
        return NULL;
    }
    if (read_section(g, zg_ctx_policy(ctx), &front_ep) != 0) {
        free(g);
        return NULL;
    }
    if (frontend)
        front_ep = frontend;
    g->ctx = ctx;
    g->started_ms = zg_now_ms();
    g->wake[0] = g->wake[1] = -1;
    g->listen_fd = -1;
    zmq_msg_init(&g->held);
    zmq_msg_init(&g->next);
    if (pipe2(g->wake, O_NONBLOCK | O_CLOEXEC) != 0) {
        zg_error_set("gate: pipe: %s", strerror(errno));
        zg_gate_destroy(&g);
        return NULL;
    }
    if (open_sockets(g, front_ep) != 0) {
        char why[ZG_ERROR_MAX];
        snprintf(why, sizeof why, "%s", zg_last_error());
        zg_gate_destroy(&g);
        zg_error_set("%s", why);
        return NULL;
    }
    pthread_mutex_lock(&ctx->lock);
    if (!ctx->gate)
        ctx->gate = g;
    pthread_mutex_unlock(&ctx->lock);
    log_ready(g);
    return g;
}

/* ---- moving messages -------------------------------------------------------- */

static void note(zg_gate_t *g, gate_note_t *n, const char *what)
{
    n->count++;
    int64_t t = zg_now_ms();
    if (t - n->last_ms < GATE_LOG_EVERY_MS)
        return;
    zg_log(g->ctx, ZG_LOG_WARNING, "gate: %s (%llu since the last such line)",
           what, (unsigned long long)n->count);
    n->count = 0;
    n->last_ms = t;
}

/* A ROUTER's routing-id frame carries no connection metadata, so whether
 * its peer lost access (src/io.c drops such messages) shows only on the
 * frame after it. That frame is read before the routing id goes anywhere:
 * a message cut after its first frame would leave the backend inside a
 * half-sent message. 1 when the message goes on (the frame is in
 * g->next), 0 when zguard dropped it, -1 on a libzmq failure. */
static int read_envelope(zg_gate_t *g, void *src, const zmq_msg_t *first)
{
    if (src != g->front || g->pattern != ZG_GATE_REQREP || !zmq_msg_more(first))
        return 1;
    zg_status_t st = zg_msg_recv(src, &g->next, ZMQ_DONTWAIT);
    g->has_next = st == ZG_OK;
    return st == ZG_OK ? 1 : st == ZG_EDENIED ? 0 : -1;
}

/* The frame read early by read_envelope, if any, into m; whether more
 * frames follow it (or `more` when there was none). */
static bool take_next(zg_gate_t *g, zmq_msg_t *m, bool more)
{
    if (!g->has_next)
        return more;
    g->has_next = false;
    zmq_msg_move(m, &g->next);
    return zmq_msg_more(m);
}

/* The rest of a message whose first frame was read from src (more: it
 * said more frames follow; a sent frame no longer says). */
static void discard_rest(zg_gate_t *g, void *src, zmq_msg_t *m, bool more)
{
    more = take_next(g, m, more);
    while (more && zg_msg_recv(src, m, ZMQ_DONTWAIT) == ZG_OK)
        more = zmq_msg_more(m);
}

static void dropped(zg_gate_t *g, void *src, zmq_msg_t *m, bool more,
                    zg_status_t st)
{
    discard_rest(g, src, m, more);
    count(&g->n.dropped, 1);
    note(g, &g->drop_note,
         st == ZG_ENOROUTE
             ? "dropped a message for a client that is gone"
             : "dropped a message for a client that is not reading (its "
               "queue is at SNDHWM)");
}

/* Frames after the first: libzmq checks the HWM on a message's first frame
 * only, so these are taken at once. */
static int send_rest(zg_gate_t *g, void *src, void *dst, zmq_msg_t *m,
                     bool more)
{
    if (g->has_next) {
        more = take_next(g, m, more);
        if (zg_msg_send(dst, m, (more ? ZMQ_SNDMORE : 0) | ZMQ_DONTWAIT) != ZG_OK)
            return -1;
    }
    while (more) {
        if (zg_msg_recv(src, m, ZMQ_DONTWAIT) != ZG_OK)
            return -1;
        more = zmq_msg_more(m);
        if (zg_msg_send(dst, m, (more ? ZMQ_SNDMORE : 0) | ZMQ_DONTWAIT) !=
            ZG_OK)
            return -1;
    }
    return 0;
}

static void forwarded(zg_gate_t *g, dir_t d)
{
    if (d == TO_BACKEND) {
        count(&g->n.to_backend, 1);
        if (g->pattern == ZG_GATE_REQREP)
            count(&g->n.outstanding, 1);
    } else {
        count(&g->n.to_frontend, 1);
    }
}

/* m holds a first frame read from src: send the message on to dst. 1 when
 * it went (or was dropped), 0 when the backend is mute and the frame is now
 * held, -1 on a libzmq failure. */
static int pass_on(zg_gate_t *g, dir_t d, void *src, void *dst, zmq_msg_t *m)
{
    bool more = zmq_msg_more(m);
    zg_status_t st = zg_msg_send(dst, m, (more ? ZMQ_SNDMORE : 0) | ZMQ_DONTWAIT);
    if (st == ZG_OK) {
        if (send_rest(g, src, dst, m, more) != 0)
            return -1;
        forwarded(g, d);
        return 1;
    }
    if (st == ZG_EMUTE && d == TO_BACKEND) {
        zmq_msg_move(&g->held, m);
        g->holding = true;
        g->held_more = more;
        count(&g->n.backend_mute, 1);
        note(g, &g->mute_note,
             "the service is not keeping up: backend mute at its SNDHWM, "
             "frontend reads paused");
        return 0;
    }
    if (st == ZG_EMUTE || st == ZG_ENOROUTE) {
        dropped(g, src, m, more, st);
        return 1;
    }
    return -1;
}

/* Up to GATE_BURST messages from src to dst. -1 on a libzmq failure. */
static int burst(zg_gate_t *g, dir_t d)
{
    void *src = d == TO_BACKEND ? g->front : g->back;
    void *dst = d == TO_BACKEND ? g->back : g->front;
    zmq_msg_t m;
    zmq_msg_init(&m);
    int rc = 0;
    for (int i = 0; i < GATE_BURST && !g->holding; i++) {
        zg_status_t st = zg_msg_recv(src, &m, ZMQ_DONTWAIT);
        if (st == ZG_EEMPTY)
            break;
        if (st == ZG_EDENIED) /* a peer who lost access: zguard dropped it */
            continue;
        int go = st == ZG_OK ? read_envelope(g, src, &m) : -1;
        if (go == 0)
            continue; /* dropped at its second frame, the same way */
        if (go < 0 || (rc = pass_on(g, d, src, dst, &m)) < 0) {
            rc = -1;
            break;
        }
        if (d == TO_FRONTEND && g->pattern == ZG_GATE_REQREP)
            count(&g->n.outstanding, -1);
    }
    zmq_msg_close(&m);
    return rc < 0 ? -1 : 0;
}

/* The backend can take messages again: the held frame first. */
static int release_held(zg_gate_t *g)
{
    zg_status_t st = zg_msg_send(
        g->back, &g->held, (g->held_more ? ZMQ_SNDMORE : 0) | ZMQ_DONTWAIT);
    if (st == ZG_EMUTE)
        return 0; /* another sender took the room: wait again */
    if (st != ZG_OK)
        return -1;
    g->holding = false;
    if (send_rest(g, g->front, g->back, &g->held, g->held_more) != 0)
        return -1;
    forwarded(g, TO_BACKEND);
    return 0;
}

/* ---- the loop --------------------------------------------------------------- */

/* ---- reloading ---------------------------------------------------------------- */

/* The key pair read again with the passphrase from where it came from;
 * NULL (logged) when either fails. */
static zg_cert_t *read_pair(zg_gate_t *g, const char *path)
{
    const zg_passphrase_t *held;
    zg_passphrase_t *again = zg_ctx_passphrase_again(g->ctx, &held);
    if (!again && !held && zg_last_error()[0]) {
        zg_log(g->ctx, ZG_LOG_ERROR,
               "gate: reload: the passphrase for %s: %s; keeping the key "
               "pair in use",
               path, zg_last_error());
        return NULL;
    }
    zg_cert_t *pair = zg_cert_load_pair(path, again ? again : held);
    zg_passphrase_destroy(&again);
    if (!pair)
        zg_log(g->ctx, ZG_LOG_ERROR,
               "gate: reload: %s; keeping the key pair in use", zg_last_error());
    return pair;
}

/* The frontend's new listener, with pair: 0, or -1 with the old pair and
 * listener still in use (zg_last_error says why). */
static int listen_with(zg_gate_t *g, zg_sock_t *s, const char *path,
                       zg_cert_t **pair)
{
    const zg_cert_t *old = s->own;
    const char *unshared = zg_listen_unshared(g->listen_fd);
    int fd;
    if (unshared) {
        zg_error_set("the frontend %s cannot take a second listener on its "
                     "port (%s): restart the gate to use the new key",
                     g->front_ep, unshared);
        return -1;
    }
    if (zg_listen_again(g->listen_fd, g->listeners, &fd) != 0)
        return -1;
    if (zg_curve_set_pair(s, *pair) != 0) {
        close(fd);
        return -1;
    }
    if (bind_fd(g, g->front_ep, fd) != 0) {
        char why[ZG_ERROR_MAX];
        snprintf(why, sizeof why, "%s", zg_last_error());
        zg_curve_set_pair(s, old);
        zg_error_set("%s", why);
        return -1;
    }
    s->own = zg_ctx_cert_replace(g->ctx, path, pair);
    return s->own ? 0 : -1;
}

/* The gate's own key pair, read again: unchanged, or the new one for
 * every new connection. 0, or -1 (logged) keeping the old one. */
static int reload_pair(zg_gate_t *g)
{
    zg_sock_t *s = zg_registry_get(g->client ? g->back : g->front);
    const char *path = s ? s->policy.str[ZG_FIELD_CURVE_KEYS] : NULL;
    if (!path || !s->own)
        return 0;
    zg_cert_t *pair = read_pair(g, path);
    if (!pair)
        return -1;
    if (memcmp(zg_cert_public_key(pair), zg_cert_public_key(s->own),
               ZG_KEY_BYTES) == 0) {
        zg_cert_destroy(&pair);
        zg_log(g->ctx, ZG_LOG_INFO, "gate: reload: key pair %s unchanged", path);
        return 0;
    }
    if (g->client) {
        zg_cert_destroy(&pair);
        zg_log(g->ctx, ZG_LOG_ERROR,
               "gate: reload: %s holds a new key pair: a client-mode gate "
               "reads its own key pair at start only (its connections would "
               "keep the old one); restart it; keeping the key pair in use",
               path);
        return -1;
    }
    char fp[ZG_KEY_TEXT_MAX];
    snprintf(fp, sizeof fp, "%s", zg_cert_public_text(pair));
    if (listen_with(g, s, path, &pair) != 0) {
        zg_cert_destroy(&pair);
        zg_log(g->ctx, ZG_LOG_ERROR,
               "gate: reload: %s: %s; keeping the key pair in use", path,
               zg_last_error());
        return -1;
    }
    zg_log(g->ctx, ZG_LOG_NOTICE,
           "gate: reload: new key pair %s (public key %s) for every new "
           "connection to %s; open sessions keep the old key",
           path, fp, g->front_ep);
    return 0;
}

static void reload(zg_gate_t *g)
{
    zg_log(g->ctx, ZG_LOG_NOTICE, "gate: reloading%s",
           g->client ? " the key pair" : " the allowlist and the key pair");
    /* the authenticator logs why it failed, naming the file */
    bool ok = g->client || zg_ctx_auth_reload(g->ctx) == 0;
    ok &= reload_pair(g) == 0;
    atomic_fetch_add(ok ? &g->reloads_ok : &g->reloads_failed, 1);
    zg_log(g->ctx, ok ? ZG_LOG_NOTICE : ZG_LOG_ERROR, "gate: reload %s",
           ok ? "done" : "failed: what could not be read is kept as it was");
}

/* What the wake pipe asks: stop, reload (done here), or nothing. */
static bool stop_asked(zg_gate_t *g)
{
    char buf[16];
    bool stop = false, again = false;
    ssize_t n;
    while ((n = read(g->wake[0], buf, sizeof buf)) > 0)
        for (ssize_t i = 0; i < n; i++) {
            stop |= buf[i] == WAKE_STOP;
            again |= buf[i] == WAKE_RELOAD;
        }
    if (again)
        reload(g);
    return stop;
}

/* One wait and what it woke for. reading: whether the frontend is read.
 * timeout in ms, -1 for none. 1 when stopped, 0, or -1 on failure. */
static int step(zg_gate_t *g, bool reading, long timeout)
{
    zmq_pollitem_t it[3] = {
        {g->front, 0, reading && !g->holding ? ZMQ_POLLIN : 0, 0},
        {g->back, 0, ZMQ_POLLIN | (g->holding ? ZMQ_POLLOUT : 0), 0},
        {NULL, g->wake[0], ZMQ_POLLIN, 0},
    };
    if (zmq_poll(it, 3, timeout) < 0)
        return errno == EINTR ? 0 : -1;
    if ((it[2].revents & ZMQ_POLLIN) && stop_asked(g)) {
        if (reading)
            return 1;
        /* already stopping: the bound stays the backend's LINGER */
        int64_t left = g->close_by_ms - zg_now_ms();
        zg_log(g->ctx, ZG_LOG_NOTICE,
               "gate: asked again to stop: still delivering what was taken, "
               "at most %lldms more",
               (long long)(left > 0 ? left : 0));
    }
    if ((it[1].revents & ZMQ_POLLOUT) && g->holding && release_held(g) != 0)
        return -1;
    if ((it[1].revents & ZMQ_POLLIN) && burst(g, TO_FRONTEND) != 0)
        return -1;
    if ((it[0].revents & ZMQ_POLLIN) && burst(g, TO_BACKEND) != 0)
        return -1;
    return 0;
}

static bool settled(zg_gate_t *g)
{
    return !g->holding &&
           (g->pattern != ZG_GATE_REQREP ||
            atomic_load_explicit(&g->n.outstanding, memory_order_relaxed) == 0);
}

/* Stopping: no more reading of the frontend; what was taken is delivered,
 * and replies still due are passed on, within the backend's LINGER. */
static int drain(zg_gate_t *g)
{
    int64_t t = zg_now_ms();
    g->close_by_ms = t + g->linger_ms;
    zg_log(g->ctx, ZG_LOG_NOTICE,
           "gate: stopping: frontend no longer read; delivering what was "
           "taken within %lldms",
           (long long)g->linger_ms);
    while (!settled(g) && (t = zg_now_ms()) < g->close_by_ms)
        if (step(g, false, (long)(g->close_by_ms - t)) < 0)
            return -1;
    return 0;
}

int zg_gate_run(zg_gate_t *g)
{
    int rc;
    while ((rc = step(g, true, -1)) == 0)
        ;
    if (rc < 0) {
        zg_error_set("gate: %s", zmq_strerror(errno));
        zg_log(g->ctx, ZG_LOG_ERROR, "%s", zg_last_error());
        g->close_by_ms = zg_now_ms();
        return -1;
    }
    return drain(g);
}

void zg_gate_stop(zg_gate_t *g)
{
    /* async-signal-safe: one write, whose failure (a full pipe) means a
     * stop is already pending */
    ssize_t n = write(g->wake[1], (char[]){WAKE_STOP}, 1);
    (void)n;
}

void zg_gate_reload(zg_gate_t *g)
{
    /* as zg_gate_stop: a full pipe has a reload pending already */
    ssize_t n = write(g->wake[1], (char[]){WAKE_RELOAD}, 1);
    (void)n;
}

int zg_gate_stats(zg_gate_t *g, zg_gate_stats_t *out, size_t size)
{
    if (!g) {
        errno = EINVAL;
        zg_error_set("zg_gate_stats: no gate");
        return -1;
    }
    zg_gate_stats_t full = {
        .to_backend = atomic_load(&g->n.to_backend),
        .to_frontend = atomic_load(&g->n.to_frontend),
        .dropped = atomic_load(&g->n.dropped),
        .backend_mute = atomic_load(&g->n.backend_mute),
        .outstanding = atomic_load(&g->n.outstanding),
    };
    return zg_abi_copy(out, size, &full, sizeof full, "zg_gate_stats");
}

void *zg_gate_frontend(zg_gate_t *g)
{
    return g->front;
}

void *zg_gate_backend(zg_gate_t *g)
{
    return g->back;
}

/* What is left of the stopping bound goes to libzmq's own flushing. */
static void close_within(void **sock, int64_t close_by_ms)
{
    if (!*sock)
        return;
    if (close_by_ms) {
        int64_t left = close_by_ms - zg_now_ms();
        int linger = left > 0 ? (int)left : 0;
        zmq_setsockopt(*sock, ZMQ_LINGER, &linger, sizeof linger);
    }
    zg_close(sock);
}

void zg_gate_destroy(zg_gate_t **gate)
{
    if (!gate || !*gate)
        return;
    zg_gate_t *g = *gate;
    *gate = NULL;
    if (g->ctx) {
        pthread_mutex_lock(&g->ctx->lock);
        if (g->ctx->gate == g)
            g->ctx->gate = NULL;
        pthread_mutex_unlock(&g->ctx->lock);
    }
    if (g->close_by_ms) {
        zg_gate_stats_t s;
        if (zg_gate_stats(g, &s, sizeof s) != 0)
            memset(&s, 0, sizeof s);
        zg_log(g->ctx, ZG_LOG_NOTICE,
               "gate: stopped: %llu messages to the backend, %llu to the "
               "frontend, %llu dropped, %llu unanswered%s",
               (unsigned long long)s.to_backend,
               (unsigned long long)s.to_frontend,
               (unsigned long long)s.dropped,
               (unsigned long long)s.outstanding,
               g->holding ? "; one message the service did not take in time "
                            "was lost"
                          : "");
    }
    zmq_msg_close(&g->held);
    zmq_msg_close(&g->next);
    close_within(&g->front, g->close_by_ms);
    close_within(&g->back, g->close_by_ms);
    for (int i = 0; i < 2; i++)
        if (g->wake[i] >= 0)
            close(g->wake[i]);
    free(g);
}

/* ---- /status ---------------------------------------------------------------- */

/* Peers now, and since when there were none (the monitor writes the time
 * before the count: read in the other order). -1 when unknown. */
static int64_t peers_of(void *zsock, int64_t *zero_since_ms)
{
    zg_sock_t *s = zg_registry_get(zsock);
    if (!s || !s->monitored)
        return -1;
    int64_t n = atomic_load(&s->mon.peers);
    *zero_since_ms = atomic_load(&s->mon.peers_zero_ms);
    return n;
}

void zg_gate_supervised(zg_ctx_t *ctx, uint64_t restarts, int64_t started_ms)
{
    pthread_mutex_lock(&ctx->lock);
    ctx->gate_supervised = true;
    ctx->gate_restarts = restarts;
    ctx->gate_started_ms = started_ms;
    pthread_mutex_unlock(&ctx->lock);
}

int zg_gate_status_idle(const zg_policy_t *p, const char *frontend,
                        uint64_t restarts, int64_t started_ms,
                        zg_gate_status_t *st)
{
    zg_gate_t g = {0};
    const char *front;
    memset(st, 0, sizeof *st);
    if (read_section(&g, p, &front) != 0)
        return -1;
    st->client = g.client;
    st->pattern = g.pattern;
    snprintf(st->frontend, sizeof st->frontend, "%s", frontend ? frontend : front);
    snprintf(st->backend, sizeof st->backend, "%s", g.back_list);
    st->allowlist_keys = st->peers_frontend = st->peers_backend = -1;
    st->grace_ms = g.grace_ms;
    st->restarts = restarts;
    st->uptime_ms = zg_now_ms() - started_ms;
    return 0;
}

static void status_of(zg_gate_t *g, zg_gate_status_t *st)
{
    int64_t now = zg_now_ms(), zero_since = now, unused;
    memset(st, 0, sizeof *st);
    st->forwarding = true;
    st->restarts = g->ctx->gate_restarts;
    st->client = g->client;
    st->pattern = g->pattern;
    snprintf(st->frontend, sizeof st->frontend, "%s", g->front_ep);
    snprintf(st->backend, sizeof st->backend, "%s", g->back_list);
    zg_auth_stats_t a;
    st->allowlist_keys = !g->client && zg_ctx_auth_stats(g->ctx, &a, sizeof a) == 0
                             ? (int64_t)a.keys
                             : -1;
    st->peers_frontend = peers_of(g->front, &unused);
    st->peers_backend = g->back_inproc ? -1 : peers_of(g->back, &zero_since);
    st->backend_down_ms = st->peers_backend == 0 ? now - zero_since : 0;
    st->grace_ms = g->grace_ms;
    st->uptime_ms =
        now - (g->ctx->gate_supervised ? g->ctx->gate_started_ms : g->started_ms);
    st->reloads_ok = atomic_load(&g->reloads_ok);
    st->reloads_failed = atomic_load(&g->reloads_failed);
    st->ready = st->backend_down_ms <= g->grace_ms;
}

int zg_gate_status(zg_ctx_t *ctx, zg_gate_status_t *out)
{
    pthread_mutex_lock(&ctx->lock);
    zg_gate_t *g = ctx->gate;
    int rc = 0;
    if (g)
        status_of(g, out);
    else if (ctx->gate_supervised) /* before its gate is made, or after */
        rc = zg_gate_status_idle(ctx->policy, NULL, ctx->gate_restarts,
                                 ctx->gate_started_ms, out);
    else
        rc = -1;
    pthread_mutex_unlock(&ctx->lock);
    return rc;
}
