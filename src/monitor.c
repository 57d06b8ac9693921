/*
 * monitor.c - every socket's monitor, read by one thread per context.
 *
 * libzmq reports connections, disconnections and handshake outcomes only to
 * a socket's monitor (zmq_socket_monitor), as messages on an inproc PAIR.
 * zguard gives every socket it hardens such a monitor before its first
 * bind/connect, and one background thread per context reads them all: it
 * counts connections and peers, classifies failed handshakes (the
 * authenticator said no, a wrong key, a plaintext client, a malformed
 * peer, a timeout), logs security events, and evaluates the alerts.
 *
 * libzmq sockets are not thread-safe, so this thread never touches an
 * application socket: only the monitor streams, which libzmq writes from
 * its own threads. Where the linked libzmq has the draft API (found at run
 * time, no build-time dependency), the monitor is the versioned one and the
 * owning thread asks for per-pipe depths now and then (zg_monitor_sample):
 * exact queue depth. Otherwise depth is unknown and only "mute" is seen.
 */
#include "zg_alert.h"
#include "zg_ctx.h"
#include "zg_error.h"
#include "zg_loglimit.h"
#include "zg_monitor.h"
#include "zg_sock.h"
#include "zg_thread.h"

#include <arpa/inet.h>
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <pthread.h>
#include <time.h>
#include <stdatomic.h>
#include <stdbool.h>

#define TICK_MS 250          /* alerts are checked this often */
#define EVENT_PIPES_STATS 0x10000
#define EVENTS_V1 0xFFFF

typedef int(monitor_v2_fn)(void *, const char *, uint64_t, int, int);
typedef int(pipes_stats_fn)(void *);

/* Resolved once: the draft functions of the libzmq actually loaded. */
static struct {
    pthread_once_t once;
    monitor_v2_fn *monitor_v2;
    pipes_stats_fn *pipes_stats;
} draft = {.once = PTHREAD_ONCE_INIT};

static void find_draft(void)
{
    /* the symbols are only there when libzmq was built with the drafts */
    draft.monitor_v2 = (monitor_v2_fn *)dlsym(RTLD_DEFAULT,
                                              "zmq_socket_monitor_versioned");
    draft.pipes_stats = (pipes_stats_fn *)dlsym(
        RTLD_DEFAULT, "zmq_socket_monitor_pipes_stats");
    if (!draft.monitor_v2 || !draft.pipes_stats)
        draft.monitor_v2 = NULL, draft.pipes_stats = NULL;
}

bool zg_monitor_exact(void)
{
    pthread_once(&draft.once, find_draft);
    return draft.pipes_stats != NULL;
}

/* A connection's address as max_peers_per_ip compares them: IPv4 as
 * v4-mapped IPv6; known = false for ipc and what getpeername cannot tell. */
typedef struct peer_ip {
    uint8_t b[16];
    bool known;
} peer_ip_t;

typedef struct peer {
    int fd;
    bool up;       /* handshake done */
    bool accepted; /* an incoming connection: counts toward max_peers */
    peer_ip_t ip;
} peer_t;

typedef struct watch {
    zg_sock_t *sock;
    void *reader;
    peer_t *peers;
    size_t npeers, cap;
    zg_alerts_t *alerts;
    int64_t batch_out, batch_in; /* fullest pipes since the last tick */
    bool batch;
    zg_loglimit_t logged; /* security lines: one per peer and reason a minute */
} watch_t;

struct zg_monitor {
    zg_ctx_t *ctx;
    pthread_t thread;
    void *pipe, *pipe_peer; /* pipe: any application thread, under lock */
    pthread_mutex_t pipe_lock;
    /* The socket a command is about. Passed under its own lock rather than
     * inside the command, so that everything written to the socket's state
     * before the command visibly happens before the thread reads it. */
    pthread_mutex_t handoff_lock;
    zg_sock_t *handoff;
    char pipe_endpoint[64];
    bool v2;
    watch_t **watches; /* the thread's */
    size_t nwatches, cap;
};

const char *zg_fail_reason_name(zg_fail_reason_t reason)
{
    static const char *const names[] = {"auth", "crypto", "mechanism",
                                        "protocol", "timeout"};
    return (unsigned)reason < ZG_FAIL_REASONS ? names[reason] : "?";
}

/* ---- the numbers ----------------------------------------------------------- */

/* The stats slot of an endpoint, made on first sight; the last is "other". */
static zg_endpoint_stats_t *endpoint_stats(zg_sock_t *s, const char *ep)
{
    zg_monstats_t *m = &s->mon;
    int n = atomic_load_explicit(&m->nendpoints, memory_order_relaxed);
    for (int i = 0; i < n; i++)
        if (strcmp(m->endpoints[i].endpoint, ep) == 0)
            return &m->endpoints[i];
    if (n == ZG_ENDPOINTS_MAX)
        return &m->endpoints[ZG_ENDPOINTS_MAX];
    snprintf(m->endpoints[n].endpoint, ZG_ENDPOINT_TEXT_MAX, "%s", ep);
    atomic_store_explicit(&m->nendpoints, n + 1, memory_order_release);
    return &m->endpoints[n];
}

static peer_t *peer_of(watch_t *w, int fd, bool add)
{
    for (size_t i = 0; i < w->npeers; i++)
        if (w->peers[i].fd == fd)
            return &w->peers[i];
    if (!add)
        return NULL;
    if (w->npeers == w->cap) {
        size_t cap = w->cap ? w->cap * 2 : 8;
        peer_t *grown = realloc(w->peers, cap * sizeof *grown);
        if (!grown)
            return NULL;
        w->peers = grown;
        w->cap = cap;
    }
    w->peers[w->npeers] = (peer_t){.fd = fd};
    return &w->peers[w->npeers++];
}

static void peer_gone(watch_t *w, int fd)
{
    peer_t *p = peer_of(w, fd, false);
    if (!p)
        return;
    if (p->up) {
        /* this thread alone changes peers; the time goes first, so a
         * reader that sees 0 peers sees when (gate.c's /status) */
        if (atomic_load(&w->sock->mon.peers) == 1)
            atomic_store(&w->sock->mon.peers_zero_ms, zg_now_ms());
        atomic_fetch_sub(&w->sock->mon.peers, 1);
    }
    *p = w->peers[--w->npeers];
}

static zg_fail_reason_t classify(uint64_t event, uint64_t value)
{
    if (event == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH)
        return ZG_FAIL_AUTH;
    if (event == ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL)
        return ZG_FAIL_TIMEOUT;
    if (value == ZMQ_PROTOCOL_ERROR_ZMTP_CRYPTOGRAPHIC)
        return ZG_FAIL_CRYPTO;
    if (value == ZMQ_PROTOCOL_ERROR_ZMTP_MECHANISM_MISMATCH)
        return ZG_FAIL_MECHANISM;
    return ZG_FAIL_PROTOCOL;
}

static const char *fail_text(zg_fail_reason_t r)
{
    static const char *const t[] = {
        "the authenticator refused the client's key",
        "CURVE failed (a client pinning another server key?)",
        "mechanism mismatch: a plaintext or downgrade attempt",
        "malformed ZMTP or ZAP", "no detail (handshake timeout or reset)"};
    return t[r];
}

/* getpeername on the event's descriptor: best effort, the connection may
 * already be gone (and the number reused) by the time this thread looks.
 * text gets "host:port" ("?" when unknown, "local" for ipc), host the
 * address alone, ip the address to compare. */
static void peer_address(int fd, char *text, size_t cap, char *host,
                         size_t host_cap, peer_ip_t *ip)
{
    struct sockaddr_storage a;
    socklen_t len = sizeof a;
    memset(ip, 0, sizeof *ip);
    snprintf(text, cap, "?");
    snprintf(host, host_cap, "?");
    if (getpeername(fd, (struct sockaddr *)&a, &len) != 0)
        return;
    if (a.ss_family == AF_INET) {
        struct sockaddr_in *in = (struct sockaddr_in *)&a;
        inet_ntop(AF_INET, &in->sin_addr, host, (socklen_t)host_cap);
        snprintf(text, cap, "%s:%u", host, ntohs(in->sin_port));
        ip->b[10] = ip->b[11] = 0xff; /* v4-mapped */
        memcpy(ip->b + 12, &in->sin_addr, 4);
        ip->known = true;
    } else if (a.ss_family == AF_INET6) {
        struct sockaddr_in6 *in = (struct sockaddr_in6 *)&a;
        inet_ntop(AF_INET6, &in->sin6_addr, host, (socklen_t)host_cap);
        snprintf(text, cap, "[%s]:%u", host, ntohs(in->sin6_port));
        memcpy(ip->b, &in->sin6_addr, 16);
        ip->known = true;
    } else {
        snprintf(text, cap, "local");
        snprintf(host, host_cap, "local");
    }
}

/* "1.2.3.4:5678" -> "1.2.3.4", "[::1]:5678" -> "[::1]": a peer reconnects
 * from a new port each time, and it is the same peer. */
static void without_port(const char *remote, char *out, size_t cap)
{
    snprintf(out, cap, "%s", remote);
    char *colon = strrchr(out, ':');
    if (colon && (!strchr(out, '[') || colon[-1] == ']'))
        *colon = '\0';
}

static void on_failure(zg_monitor_t *m, watch_t *w, zg_endpoint_stats_t *e,
                       uint64_t event, uint64_t value, const char *remote)
{
    zg_fail_reason_t r = classify(event, value);
    atomic_fetch_add(&e->failed[r], 1);
    char peer[80], label[ZG_NAME_MAX + 32], more[64] = "";
    without_port(remote, peer, sizeof peer);
    uint64_t held;
    if (!zg_loglimit_pass(&w->logged, zg_fail_reason_name(r), peer,
                          zg_now_ms(), &held))
        return; /* counted above; said once a minute per peer and reason */
    if (held)
        snprintf(more, sizeof more, " (and %llu more in the last minute)",
                 (unsigned long long)held);
    zg_log(m->ctx, r == ZG_FAIL_TIMEOUT ? ZG_LOG_INFO : ZG_LOG_WARNING,
           "%s: handshake failed on %s%s%s: %s (%s 0x%llx)%s",
           zg_sock_label(w->sock, label, sizeof label), e->endpoint,
           remote[0] ? " from " : "", remote, fail_text(r),
           zg_fail_reason_name(r), (unsigned long long)value, more);
}

/* ---- connection limits ------------------------------------------------------ */

typedef enum refusal { REFUSE_NONE, REFUSE_MAX_PEERS, REFUSE_PER_IP } refusal_t;

/* Over max_peers, or over max_peers_per_ip from this address? Only
 * accepted connections count; an unknown address is never "the same". */
static refusal_t admit(const watch_t *w, const peer_ip_t *ip)
{
    int64_t max = w->sock->policy.value[ZG_FIELD_MAX_PEERS];
    int64_t per_ip = w->sock->policy.value[ZG_FIELD_MAX_PEERS_PER_IP];
    int64_t all = 0, same = 0;
    for (size_t i = 0; i < w->npeers; i++) {
        const peer_t *p = &w->peers[i];
        if (!p->accepted)
            continue;
        all++;
        same += ip->known && p->ip.known && memcmp(p->ip.b, ip->b, 16) == 0;
    }
    if (max > 0 && all >= max)
        return REFUSE_MAX_PEERS;
    if (per_ip > 0 && ip->known && same >= per_ip)
        return REFUSE_PER_IP;
    return REFUSE_NONE;
}

/* Closed before anything is read from it: libzmq sees the end of the
 * connection and cleans up, as for a revoked key's (io.c). Counted and
 * logged first, so that whoever sees it closed sees it counted and said. */
static void refuse(zg_monitor_t *m, watch_t *w, int fd, refusal_t why,
                   const char *host, const char *local)
{
    zg_monstats_t *st = &w->sock->mon;
    atomic_fetch_add(why == REFUSE_MAX_PEERS ? &st->refused_max_peers
                                             : &st->refused_per_ip,
                     1);
    const char *reason = why == REFUSE_MAX_PEERS ? "max_peers" : "per_ip_limit";
    uint64_t held;
    if (zg_loglimit_pass(&w->logged, reason, host, zg_now_ms(), &held)) {
        char label[ZG_NAME_MAX + 32], more[64] = "";
        if (held)
            snprintf(more, sizeof more, " (and %llu more in the last minute)",
                     (unsigned long long)held);
        int64_t limit = w->sock->policy.value[why == REFUSE_MAX_PEERS
                                                  ? ZG_FIELD_MAX_PEERS
                                                  : ZG_FIELD_MAX_PEERS_PER_IP];
        zg_log(m->ctx, ZG_LOG_WARNING,
               "%s: refused a connection from %s on %s: %s %lld reached%s",
               zg_sock_label(w->sock, label, sizeof label), host, local,
               why == REFUSE_MAX_PEERS ? "max_peers" : "max_peers_per_ip",
               (long long)limit, more);
    }
    shutdown(fd, SHUT_RDWR);
}

static void on_accepted(zg_monitor_t *m, watch_t *w, int fd,
                        const char *local)
{
    char addr[80], host[INET6_ADDRSTRLEN];
    peer_ip_t ip;
    peer_address(fd, addr, sizeof addr, host, sizeof host, &ip);
    refusal_t why = admit(w, &ip);
    if (why != REFUSE_NONE) {
        refuse(m, w, fd, why, host, local);
        return;
    }
    peer_t *p = peer_of(w, fd, true);
    if (p) {
        p->accepted = true;
        p->ip = ip;
    }
    zg_log(m->ctx, ZG_LOG_DEBUG, "accepted %s on %s", addr, local);
}

static void on_accept_failed(zg_monitor_t *m, watch_t *w, uint64_t err)
{
    atomic_fetch_add(&w->sock->mon.accept_failed, 1);
    char label[ZG_NAME_MAX + 32];
    if (err == EMFILE || err == ENFILE)
        atomic_fetch_add(&w->sock->mon.accept_emfile, 1);
    zg_log(m->ctx, ZG_LOG_WARNING, "%s: accept failed: %s%s",
           zg_sock_label(w->sock, label, sizeof label), strerror((int)err),
           err == EMFILE || err == ENFILE
               ? " (file descriptors exhausted: a connection flood?)"
               : "");
}

/* Per-pipe depths: one event per peer; the fullest pipe since the last
 * tick is what the tick publishes. */
static void on_pipe_stats(watch_t *w, const uint64_t *values, size_t n)
{
    if (n < 2)
        return;
    int64_t out = (int64_t)values[0], in = (int64_t)values[1];
    if (!w->batch || out > w->batch_out)
        w->batch_out = out;
    if (!w->batch || in > w->batch_in)
        w->batch_in = in;
    w->batch = true;
}

static void publish_depth(watch_t *w)
{
    if (!w->batch)
        return;
    atomic_store(&w->sock->mon.queue_out, w->batch_out);
    atomic_store(&w->sock->mon.queue_in, w->batch_in);
    w->batch = false;
}

static void on_event(zg_monitor_t *m, watch_t *w, uint64_t event,
                     const uint64_t *values, size_t nvalues, const char *local,
                     const char *remote)
{
    uint64_t value = nvalues ? values[0] : 0;
    zg_endpoint_stats_t *e = endpoint_stats(w->sock, local);
    switch (event) {
    case ZMQ_EVENT_ACCEPTED:
        atomic_fetch_add(&e->accepted, 1);
        on_accepted(m, w, (int)value, local);
        break;
    case ZMQ_EVENT_CONNECTED:
        atomic_fetch_add(&e->connected, 1);
        peer_of(w, (int)value, true);
        break;
    case ZMQ_EVENT_DISCONNECTED:
        atomic_fetch_add(&e->disconnected, 1);
        peer_gone(w, (int)value);
        break;
    case ZMQ_EVENT_HANDSHAKE_SUCCEEDED: {
        atomic_fetch_add(&e->handshakes_ok, 1);
        /* the event names no descriptor: the oldest one not yet up is it */
        for (size_t i = 0; i < w->npeers; i++)
            if (!w->peers[i].up) {
                w->peers[i].up = true;
                atomic_fetch_add(&w->sock->mon.peers, 1);
                break;
            }
        break;
    }
    case ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL:
    case ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL:
    case ZMQ_EVENT_HANDSHAKE_FAILED_AUTH:
        on_failure(m, w, e, event, value, remote);
        break;
    case ZMQ_EVENT_ACCEPT_FAILED: on_accept_failed(m, w, value); break;
    case ZMQ_EVENT_BIND_FAILED:
        atomic_store(&w->sock->mon.bind_errno, (int)value);
        atomic_fetch_add(&w->sock->mon.bind_failures, 1);
        break;
    case EVENT_PIPES_STATS: on_pipe_stats(w, values, nvalues); break;
    default: break;
    }
}

/* ---- reading the two event formats ------------------------------------------ */

static size_t frame_text(zmq_msg_t *m, char *buf, size_t cap)
{
    size_t n = zmq_msg_size(m);
    n = n < cap - 1 ? n : cap - 1;
    memcpy(buf, zmq_msg_data(m), n);
    buf[n] = '\0';
    return n;
}

/* v1: [u16 event, u32 value][endpoint] */
static int read_v1(void *reader, uint64_t *event, uint64_t *value,
                   char *local, size_t cap)
{
    zmq_msg_t m;
    zmq_msg_init(&m);
    if (zmq_msg_recv(&m, reader, ZMQ_DONTWAIT) < 0)
        return -1;
    uint16_t e = 0;
    uint32_t v = 0;
    if (zmq_msg_size(&m) >= 6) {
        memcpy(&e, zmq_msg_data(&m), 2);
        memcpy(&v, (char *)zmq_msg_data(&m) + 2, 4);
    }
    int more = zmq_msg_more(&m);
    local[0] = '\0';
    if (more && zmq_msg_recv(&m, reader, 0) >= 0)
        frame_text(&m, local, cap);
    zmq_msg_close(&m);
    *event = e;
    *value = v;
    return 0;
}

/* v2: [u64 event][u64 n][n x u64 value][local endpoint][remote endpoint] */
static int read_v2(void *reader, uint64_t *event, uint64_t *values,
                   size_t *nvalues, char *local, char *remote, size_t cap)
{
    zmq_msg_t m;
    zmq_msg_init(&m);
    if (zmq_msg_recv(&m, reader, ZMQ_DONTWAIT) < 0)
        return -1;
    uint64_t n = 0;
    *event = 0;
    if (zmq_msg_size(&m) == 8)
        memcpy(event, zmq_msg_data(&m), 8);
    if (zmq_msg_recv(&m, reader, 0) >= 0 && zmq_msg_size(&m) == 8)
        memcpy(&n, zmq_msg_data(&m), 8);
    *nvalues = 0;
    for (uint64_t i = 0; i < n && zmq_msg_recv(&m, reader, 0) >= 0; i++)
        if (*nvalues < 4 && zmq_msg_size(&m) == 8)
            memcpy(&values[(*nvalues)++], zmq_msg_data(&m), 8);
    local[0] = remote[0] = '\0';
    if (zmq_msg_recv(&m, reader, 0) >= 0)
        frame_text(&m, local, cap);
    if (zmq_msg_more(&m) && zmq_msg_recv(&m, reader, 0) >= 0)
        frame_text(&m, remote, cap);
    while (zmq_msg_more(&m) && zmq_msg_recv(&m, reader, 0) >= 0)
        ;
    zmq_msg_close(&m);
    return 0;
}

static void drain(zg_monitor_t *m, watch_t *w)
{
    char local[ZG_ENDPOINT_TEXT_MAX], remote[ZG_ENDPOINT_TEXT_MAX];
    uint64_t event, values[4];
    size_t n;
    for (;;) {
        if (m->v2) {
            /* zguard-audit: ignore blocking-without-timeout -- the first frame is read with DONTWAIT; the rest of a multipart event arrives with it (libzmq delivers messages whole) */
            if (read_v2(w->reader, &event, values, &n, local, remote,
                        sizeof local) != 0)
                return;
        } else {
            remote[0] = '\0';
            n = 1;
            /* zguard-audit: ignore blocking-without-timeout -- as read_v2: only the first frame could wait, and it is read with DONTWAIT */
            if (read_v1(w->reader, &event, values, local, sizeof local) != 0)
                return;
        }
        on_event(m, w, event, values, n, local, remote);
    }
}

/* ---- the thread --------------------------------------------------------------- */

static void watch_free(watch_t *w)
{
    if (w->reader)
        zmq_close(w->reader);
    zg_alerts_destroy(&w->alerts);
    free(w->peers);
    free(w);
}

/* Named by context and socket id, which never repeat: libzmq unbinds a
 * monitor's endpoint in its own time, so a name built from a reused
 * address could still be taken. */
static void monitor_endpoint(const zg_sock_t *s, char *buf, size_t cap)
{
    snprintf(buf, cap, "inproc://zguard-monitor-%p-%u", (const void *)s->ctx,
             s->id);
}

/* ADD: connect a reader to the socket's monitor stream. */
static int add_watch(zg_monitor_t *m, zg_sock_t *s)
{
    watch_t *w = calloc(1, sizeof *w);
    char ep[64];
    monitor_endpoint(s, ep, sizeof ep);
    int zero = 0;
    if (!w || !(w->alerts = zg_alerts_new(zg_now_ms())) ||
        /* zguard-audit: ignore hwm-not-set, timeout-not-set, maxmsgsize-not-set -- reads libzmq's own monitor events (inproc, fixed size) only after zmq_poll; libzmq drops events at the HWM, it never blocks on them */
        !(w->reader = zmq_socket(m->ctx->zmq, ZMQ_PAIR)) ||
        zmq_setsockopt(w->reader, ZMQ_LINGER, &zero, sizeof zero) != 0 ||
        /* zguard-audit: ignore curve-missing -- ep is the inproc:// endpoint monitor_endpoint() builds; inproc never leaves the process */
        zmq_connect(w->reader, ep) != 0) {
        if (w)
            watch_free(w);
        return -1;
    }
    w->sock = s;
    if (m->nwatches == m->cap) {
        size_t cap = m->cap ? m->cap * 2 : 16;
        watch_t **grown = realloc(m->watches, cap * sizeof *grown);
        if (!grown) {
            watch_free(w);
            return -1;
        }
        m->watches = grown;
        m->cap = cap;
    }
    m->watches[m->nwatches++] = w;
    return 0;
}

static void remove_watch(zg_monitor_t *m, zg_sock_t *s)
{
    for (size_t i = 0; i < m->nwatches; i++)
        if (m->watches[i]->sock == s) {
            drain(m, m->watches[i]); /* the last events still count */
            watch_free(m->watches[i]);
            m->watches[i] = m->watches[--m->nwatches];
            return;
        }
}

/* Commands: ADD, DEL (the socket is m->handoff), STOP. Returns false on
 * STOP. */
static bool handle_command(zg_monitor_t *m)
{
    char cmd[4];
    /* zguard-audit: ignore blocking-without-timeout -- read only after zmq_poll said the pipe is readable */
    int n = zmq_recv(m->pipe_peer, cmd, sizeof cmd, 0);
    if (n < 4 || memcmp(cmd, "STOP", 4) == 0)
        return false;
    pthread_mutex_lock(&m->handoff_lock);
    zg_sock_t *s = m->handoff;
    pthread_mutex_unlock(&m->handoff_lock);
    int rc = 0;
    if (memcmp(cmd, "ADD ", 4) == 0)
        rc = add_watch(m, s);
    else
        remove_watch(m, s);
    pthread_mutex_lock(&m->handoff_lock); /* pairs with command()'s */
    pthread_mutex_unlock(&m->handoff_lock);
    /* zguard-audit: ignore blocking-without-timeout -- the one answer to the one command the caller waits for under pipe_lock: the queue is empty */
    zmq_send(m->pipe_peer, rc == 0 ? "OK" : "NO", 2, 0);
    return true;
}

static void tick(zg_monitor_t *m, int64_t now)
{
    for (size_t i = 0; i < m->nwatches; i++) {
        publish_depth(m->watches[i]);
        zg_alerts_check(m->watches[i]->alerts, m->watches[i]->sock, now);
    }
}

static void *run(void *arg)
{
    zg_monitor_t *m = arg;
    zmq_pollitem_t *items = NULL;
    size_t cap = 0;
    int64_t next_tick = zg_now_ms() + TICK_MS;
    for (;;) {
        if (cap < m->nwatches + 1) {
            cap = (m->nwatches + 1) * 2;
            zmq_pollitem_t *grown = realloc(items, cap * sizeof *items);
            if (!grown)
                break;
            items = grown;
        }
        items[0] = (zmq_pollitem_t){m->pipe_peer, 0, ZMQ_POLLIN, 0};
        for (size_t i = 0; i < m->nwatches; i++)
            items[i + 1] =
                (zmq_pollitem_t){m->watches[i]->reader, 0, ZMQ_POLLIN, 0};
        size_t n = m->nwatches;
        int64_t now = zg_now_ms();
        if (zmq_poll(items, (int)n + 1,
                     next_tick > now ? (long)(next_tick - now) : 0) < 0 &&
            errno != EINTR)
            break;
        for (size_t i = 0; i < n; i++)
            if (items[i + 1].revents & ZMQ_POLLIN)
                drain(m, m->watches[i]);
        if ((items[0].revents & ZMQ_POLLIN) && !handle_command(m))
            break;
        now = zg_now_ms();
        if (now >= next_tick) {
            tick(m, now);
            next_tick = now + TICK_MS;
        }
    }
    free(items);
    return NULL;
}

/* ---- life cycle ----------------------------------------------------------------- */

static void monitor_free(zg_monitor_t *m)
{
    for (size_t i = 0; i < m->nwatches; i++)
        watch_free(m->watches[i]);
    free(m->watches);
    if (m->pipe)
        zmq_close(m->pipe);
    if (m->pipe_peer)
        zmq_close(m->pipe_peer);
    pthread_mutex_destroy(&m->pipe_lock);
    pthread_mutex_destroy(&m->handoff_lock);
    free(m);
}

static zg_monitor_t *monitor_start(zg_ctx_t *ctx)
{
    zg_monitor_t *m = calloc(1, sizeof *m);
    if (!m)
        return NULL;
    m->ctx = ctx;
    m->v2 = zg_monitor_exact();
    pthread_mutex_init(&m->pipe_lock, NULL);
    pthread_mutex_init(&m->handoff_lock, NULL);
    snprintf(m->pipe_endpoint, sizeof m->pipe_endpoint,
             "inproc://zguard-monitor-pipe-%p", (void *)m);
    int zero = 0;
    /* zguard-audit: ignore hwm-not-set, timeout-not-set, maxmsgsize-not-set -- command pipe (inproc) to this library's own thread: one command at a time under pipe_lock, always answered */
    m->pipe = zmq_socket(ctx->zmq, ZMQ_PAIR);
    /* zguard-audit: ignore hwm-not-set, timeout-not-set, maxmsgsize-not-set -- the thread's end of the command pipe */
    m->pipe_peer = zmq_socket(ctx->zmq, ZMQ_PAIR);
    if (!m->pipe || !m->pipe_peer ||
        zmq_setsockopt(m->pipe, ZMQ_LINGER, &zero, sizeof zero) != 0 ||
        zmq_setsockopt(m->pipe_peer, ZMQ_LINGER, &zero, sizeof zero) != 0 ||
        zg_bind_through_signals(m->pipe_peer, m->pipe_endpoint) != 0 ||
        zg_connect_through_signals(m->pipe, m->pipe_endpoint) != 0 ||
        zg_thread_start(&m->thread, run, m) != 0) {
        zg_error_set("monitor: cannot start: %s", zmq_strerror(errno));
        monitor_free(m);
        return NULL;
    }
    return m;
}

void zg_monitor_stop(zg_monitor_t **monitor)
{
    if (!monitor || !*monitor)
        return;
    zg_monitor_t *m = *monitor;
    *monitor = NULL;
    pthread_mutex_lock(&m->pipe_lock);
    zg_thread_tell(m->pipe, "STOP", 4); /* the pipe is empty under pipe_lock */
    pthread_mutex_unlock(&m->pipe_lock);
    pthread_join(m->thread, NULL);
    monitor_free(m);
}

static int command(zg_monitor_t *m, const char *verb, zg_sock_t *s)
{
    char answer[4];
    pthread_mutex_lock(&m->pipe_lock);
    pthread_mutex_lock(&m->handoff_lock);
    m->handoff = s;
    pthread_mutex_unlock(&m->handoff_lock);
    int n = zg_thread_ask(m->pipe, verb, 4, answer, sizeof answer);
    /* the answer's happens-before, for what the thread did with s */
    pthread_mutex_lock(&m->handoff_lock);
    m->handoff = NULL;
    pthread_mutex_unlock(&m->handoff_lock);
    pthread_mutex_unlock(&m->pipe_lock);
    return n == 2 && memcmp(answer, "OK", 2) == 0 ? 0 : -1;
}

static zg_monitor_t *context_monitor(zg_ctx_t *ctx)
{
    pthread_mutex_lock(&ctx->monitor_lock);
    if (!ctx->monitor)
        ctx->monitor = monitor_start(ctx);
    zg_monitor_t *m = ctx->monitor;
    pthread_mutex_unlock(&ctx->monitor_lock);
    return m;
}

/* Exact queue depths come from zmq_socket_monitor_pipes_stats, which can
 * crash libzmq's I/O thread when it reaches a pipe being torn down (a peer
 * disconnecting: libzmq #3446, #4524; fixed on master by pull request 4647,
 * in no release up to 4.3.5). `zguard demo` hit it on every other run with
 * a flooder disconnecting. So only when the policy asks: [metrics]
 * pipe_stats = yes. */
static bool pipe_stats_wanted(zg_ctx_t *ctx)
{
    const char *v = zg_policy_metrics(zg_ctx_policy(ctx), "pipe_stats", NULL);
    return v && strcmp(v, "yes") == 0;
}

int zg_monitor_add(zg_sock_t *s)
{
    atomic_init(&s->mon.queue_out, -1);
    atomic_init(&s->mon.queue_in, -1);
    zg_monitor_t *m = context_monitor(s->ctx);
    if (!m)
        return -1;
    char ep[64];
    monitor_endpoint(s, ep, sizeof ep);
    int rc;
    do /* its inproc bind can meet a signal first (zg_thread.h) */
        rc = m->v2 ? draft.monitor_v2(s->zsock, ep,
                                      EVENTS_V1 | EVENT_PIPES_STATS, 2,
                                      ZMQ_PAIR)
                   : zmq_socket_monitor(s->zsock, ep, ZMQ_EVENT_ALL);
    while (rc != 0 && errno == EINTR);
    if (rc != 0 || command(m, "ADD ", s) != 0) {
        char label[ZG_NAME_MAX + 32];
        zg_error_set("%s: cannot monitor it: %s",
                     zg_sock_label(s, label, sizeof label),
                     zmq_strerror(errno));
        zmq_socket_monitor(s->zsock, NULL, 0);
        return -1;
    }
    atomic_store(&s->mon.peers_zero_ms, zg_now_ms());
    s->monitored = true;
    s->sample_pipes = m->v2 && pipe_stats_wanted(s->ctx);
    return 0;
}

void zg_monitor_remove(zg_sock_t *s)
{
    if (!s->monitored)
        return;
    zmq_socket_monitor(s->zsock, NULL, 0); /* libzmq stops the stream */
    /* held across the command (the thread never takes it, and answers at
     * once) so that zg_ctx_release cannot stop the thread in between */
    pthread_mutex_lock(&s->ctx->monitor_lock);
    if (s->ctx->monitor) /* NULL: zg_ctx_release stopped it */
        command(s->ctx->monitor, "DEL ", s);
    pthread_mutex_unlock(&s->ctx->monitor_lock);
    s->monitored = false;
}

int zg_monitor_bind_errno(zg_sock_t *s, uint64_t before, int err)
{
    if (err != EAGAIN || !s->monitored)
        return err; /* a bind never fails with EAGAIN of its own */
    const struct timespec tick = {0, 1000000};
    for (int ms = 0; ms < ZG_BIND_EVENT_WAIT_MS; ms++) {
        if (atomic_load(&s->mon.bind_failures) != before)
            return atomic_load(&s->mon.bind_errno);
        nanosleep(&tick, NULL);
    }
    return err;
}

void zg_monitor_sample(zg_sock_t *s)
{
    draft.pipes_stats(s->zsock);
}
