/*
 * auth.c - the ZAP authenticator: who may talk to a CURVE server.
 *
 * One per zguard context, in its own thread, bound at inproc://zeromq.zap.01
 * of the context's libzmq context before the first CURVE server binds. Every
 * CURVE server socket carries ZAP_DOMAIN "zguard" and ZAP_ENFORCE_DOMAIN, so
 * a handshake fails (closed) if this thread is not there to say yes.
 *
 * It says yes (200, User-Id = the certificate's name) only to a CURVE client
 * whose key is in the allowlist, not revoked, not expired, from an address
 * the IP rules allow; anything else gets 400 and a reason. Every decision is
 * logged and counted. The allowlist is reloaded when its directory or the
 * revocation list changes (inotify; the new content is compared with the
 * old, not timestamps). A key that is removed, revoked or expires joins the
 * "lost" set: the ZAP reply tags each connection with its key (property
 * X-Zguard-Key), and zg_recv drops messages of a lost key and closes their
 * connection, so an open session does not outlive its key.
 */
#include "zg_addrs.h"
#include "zg_allowlist.h"
#include "zg_auth.h"
#include "zg_cidr.h"
#include "zg_ctx.h"
#include "zg_error.h"
#include "zg_loglimit.h"
#include "zg_sock.h"
#include "zg_thread.h"
#include "zg_value.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <time.h>
#include <unistd.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

#define ZAP_ENDPOINT "inproc://zeromq.zap.01"
#define ZAP_FRAMES_MAX 8
#define RELOAD_SETTLE_MS 50 /* let a burst of file events finish */
#define TICK_MS 200         /* expiry checks: lost within 1 s */
#define WATCH_MASK                                                             \
    (IN_CLOSE_WRITE | IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO |   \
     IN_ATTRIB | IN_DELETE_SELF | IN_MOVE_SELF)

typedef enum reason {
    R_ALLOW,
    R_UNKNOWN,
    R_REVOKED,
    R_EXPIRED,
    R_ADDRESS,
    R_MECHANISM,
    R_MALFORMED,
    R_RATE,    /* over handshake_rate_per_ip: not looked at */
    R_LOCKOUT, /* locked out after auth_failures_per_ip: not looked at */
    R_COUNT
} reason_t;

struct zg_auth {
    zg_ctx_t *ctx;
    pthread_t thread;
    void *zap, *pipe, *pipe_peer; /* zap, pipe_peer: the thread's */
    char pipe_endpoint[64];
    int inotify;
    char *dir, *revoked;
    zg_cidr_t *allow_ip, *deny_ip;
    size_t nallow_ip, ndeny_ip;
    zg_allowlist_t *list; /* the thread's */
    zg_addrs_t *addrs;    /* the thread's: per-address rate and lockout */
    zg_loglimit_t logged; /* the thread's: denials, once per address a minute */
    int64_t reload_due;   /* ms, 0 = none */
    int64_t lockout_ms, lockout_failures; /* for the log line */
    pthread_mutex_t pipe_lock; /* pipe: any thread may ask for a reload */
    pthread_mutex_t lock;      /* guards lost */
    char **lost;
    size_t nlost, caplost;
    _Atomic uint64_t generation; /* bumped whenever a user is lost */
    _Atomic uint64_t decisions[R_COUNT], reloads, keys, dropped;
};

/* ---- the lost set, shared with receivers ---------------------------------- */

static bool lost_find(zg_auth_t *a, const char *key, size_t *at)
{
    for (size_t i = 0; i < a->nlost; i++)
        if (strcmp(a->lost[i], key) == 0) {
            if (at)
                *at = i;
            return true;
        }
    return false;
}

static void lose(zg_auth_t *a, const zg_allow_entry_t *e, const char *why)
{
    pthread_mutex_lock(&a->lock);
    bool added = false;
    if (!lost_find(a, e->key_text, NULL)) {
        if (a->nlost == a->caplost) {
            size_t cap = a->caplost ? a->caplost * 2 : 8;
            char **grown = realloc(a->lost, cap * sizeof *grown);
            if (grown) {
                a->lost = grown;
                a->caplost = cap;
            }
        }
        char *copy = a->nlost < a->caplost ? strdup(e->key_text) : NULL;
        if (copy) {
            a->lost[a->nlost++] = copy;
            added = true;
        }
    }
    pthread_mutex_unlock(&a->lock);
    if (added) {
        atomic_fetch_add(&a->generation, 1);
        zg_log(a->ctx, ZG_LOG_WARNING,
               "auth: user %s lost access (%s, key %s, file %s): its open "
               "sessions are closed at their next message",
               e->user, why, e->key_text, e->file);
    }
}

static void regain(zg_auth_t *a, const zg_allow_entry_t *e)
{
    pthread_mutex_lock(&a->lock);
    size_t at;
    if (lost_find(a, e->key_text, &at)) {
        free(a->lost[at]);
        a->lost[at] = a->lost[--a->nlost];
    }
    pthread_mutex_unlock(&a->lock);
}

bool zg_auth_is_lost(zg_auth_t *a, const char *key_text)
{
    pthread_mutex_lock(&a->lock);
    bool lost = lost_find(a, key_text, NULL);
    pthread_mutex_unlock(&a->lock);
    return lost;
}

uint64_t zg_auth_generation(zg_auth_t *a)
{
    return atomic_load_explicit(&a->generation, memory_order_acquire);
}

void zg_auth_count_dropped(zg_auth_t *a)
{
    atomic_fetch_add(&a->dropped, 1);
}

/* ---- loading and reloading ------------------------------------------------ */

static void report(void *arg, const char *file, zg_cert_state_t st,
                   const char *detail, const zg_cert_t *cert)
{
    zg_auth_t *a = arg;
    (void)cert;
    if (st == ZG_CERT_MALFORMED || st == ZG_CERT_DUPLICATE)
        zg_log(a->ctx, ZG_LOG_WARNING, "auth: %s/%s: %s: %s", a->dir, file,
               zg_cert_state_name(st), detail);
    else if (st != ZG_CERT_VALID)
        zg_log(a->ctx, ZG_LOG_INFO, "auth: %s/%s: %s %s", a->dir, file,
               zg_cert_state_name(st), detail);
}

static bool usable(const zg_allowlist_t *l, const zg_allow_entry_t *e,
                   int64_t now)
{
    return !zg_allowlist_revoked(l, e->key) && !(e->expires && e->expires <= now);
}

/* Who could come in before and cannot now, and the other way round. */
static void compare(zg_auth_t *a, const zg_allowlist_t *old,
                    const zg_allowlist_t *fresh, int64_t now)
{
    size_t cur = 0;
    const zg_allow_entry_t *e;
    while (old && (e = zg_allowlist_entry(old, &cur))) {
        if (!usable(old, e, now))
            continue;
        const zg_allow_entry_t *n = zg_allowlist_find(fresh, e->key);
        if (!n)
            lose(a, e, "its certificate was removed");
        else if (zg_allowlist_revoked(fresh, e->key))
            lose(a, e, "revoked");
        else if (!usable(fresh, n, now))
            lose(a, e, "its new certificate has expired");
    }
    cur = 0;
    zg_allow_entry_t *f;
    while ((f = zg_allowlist_entry(fresh, &cur))) {
        if (usable(fresh, f, now))
            regain(a, f); /* re-added or renewed: new sessions only */
        /* expired already: handled above; the tick watches the rest */
        f->expiry_acted = f->expires && f->expires <= now;
    }
}

static int reload(zg_auth_t *a)
{
    int64_t now = (int64_t)time(NULL);
    zg_allowlist_t *fresh =
        zg_allowlist_load(a->dir, a->revoked, now, report, a);
    if (!fresh) {
        zg_log(a->ctx, ZG_LOG_ERROR, "auth: %s; keeping the previous allowlist",
               zg_last_error());
        return -1;
    }
    compare(a, a->list, fresh, now);
    zg_allowlist_destroy(&a->list);
    a->list = fresh;
    atomic_store(&a->keys, zg_allowlist_count(fresh));
    atomic_fetch_add(&a->reloads, 1);
    zg_log(a->ctx, ZG_LOG_NOTICE, "auth: allowlist %s: %zu keys", a->dir,
           zg_allowlist_count(fresh));
    if (zg_allowlist_count(fresh) == 0) /* fail-closed, and easy to miss */
        zg_log(a->ctx, ZG_LOG_WARNING,
               "auth: allowlist %s has no valid key: every client will be "
               "refused; allow one by copying its public certificate there "
               "(cp CLIENT.key %s/, made by zguard keygen CLIENT), and check "
               "with: zguard auth check %s",
               a->dir, a->dir, a->dir);
    return 0;
}

static void check_expiry(zg_auth_t *a)
{
    int64_t now = (int64_t)time(NULL);
    size_t cur = 0;
    zg_allow_entry_t *e;
    while ((e = zg_allowlist_entry(a->list, &cur)))
        if (e->expires && e->expires <= now && !e->expiry_acted) {
            e->expiry_acted = true;
            if (!zg_allowlist_revoked(a->list, e->key))
                lose(a, e, "its certificate expired");
        }
}

static void watch(zg_auth_t *a)
{
    a->inotify = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (a->inotify < 0 || inotify_add_watch(a->inotify, a->dir, WATCH_MASK) < 0)
        zg_log(a->ctx, ZG_LOG_WARNING,
               "auth: cannot watch %s (%s): changes apply only on reload",
               a->dir, strerror(errno));
    if (a->inotify >= 0 && a->revoked) {
        /* the directory, so a file replaced by rename is seen too */
        char dir[PATH_MAX];
        snprintf(dir, sizeof dir, "%s", a->revoked);
        char *slash = strrchr(dir, '/');
        if (slash)
            *slash = '\0';
        inotify_add_watch(a->inotify, slash ? dir : ".", WATCH_MASK);
    }
}

/* ---- one ZAP request ------------------------------------------------------ */

static const char *reason_text(reason_t r)
{
    static const char *const t[] = {"allowed",       "unknown key",
                                    "revoked key",   "expired key",
                                    "address denied", "mechanism not CURVE",
                                    "malformed request",
                                    "too many handshakes from this address",
                                    "address locked out"};
    return t[r];
}

static reason_t decide(zg_auth_t *a, const char *address, const char *mech,
                       const zmq_msg_t *cred, const zg_allow_entry_t **who)
{
    *who = NULL;
    /* before anything else: a locked-out or too eager address costs no
     * key lookup */
    zg_addr_verdict_t v = zg_addrs_admit(a->addrs, address, zg_now_ms());
    if (v != ZG_ADDR_OK)
        return v == ZG_ADDR_RATE ? R_RATE : R_LOCKOUT;
    if (strcmp(mech, "CURVE") != 0)
        return R_MECHANISM;
    if (!cred || zmq_msg_size(cred) != ZG_KEY_BYTES)
        return R_MALFORMED;
    for (size_t i = 0; i < a->ndeny_ip; i++)
        if (zg_cidr_match(&a->deny_ip[i], address))
            return R_ADDRESS;
    bool ip_ok = a->nallow_ip == 0 || address[0] == ':'; /* ipc: no IP */
    for (size_t i = 0; !ip_ok && i < a->nallow_ip; i++)
        ip_ok = zg_cidr_match(&a->allow_ip[i], address);
    if (!ip_ok)
        return R_ADDRESS;
    const uint8_t *key = zmq_msg_data((zmq_msg_t *)cred);
    if (zg_allowlist_revoked(a->list, key))
        return R_REVOKED;
    const zg_allow_entry_t *e = zg_allowlist_find(a->list, key);
    if (!e)
        return R_UNKNOWN;
    *who = e;
    if (e->expires && e->expires <= (int64_t)time(NULL))
        return R_EXPIRED;
    return R_ALLOW;
}

static void frame_text(const zmq_msg_t *m, char *buf, size_t cap)
{
    size_t n = zmq_msg_size((zmq_msg_t *)m);
    n = n < cap - 1 ? n : cap - 1;
    memcpy(buf, zmq_msg_data((zmq_msg_t *)m), n);
    buf[n] = '\0';
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)buf[i] < 0x20 || (unsigned char)buf[i] > 0x7e)
            buf[i] = '?';
}

/* ZMTP property list: name length (1 byte), name, value length (4 bytes,
 * network order), value. One property: the peer's key. */
static size_t key_property(const zg_allow_entry_t *e, uint8_t *out)
{
    size_t n = 0, name = sizeof ZG_KEY_PROPERTY - 1, value = 40;
    out[n++] = (uint8_t)name;
    memcpy(out + n, ZG_KEY_PROPERTY, name);
    n += name;
    out[n++] = 0;
    out[n++] = 0;
    out[n++] = 0;
    out[n++] = (uint8_t)value;
    memcpy(out + n, e->key_text, value);
    return n + value;
}

static void reply(zg_auth_t *a, const zmq_msg_t *request_id, reason_t r,
                  const zg_allow_entry_t *who)
{
    zmq_msg_t id;
    zmq_msg_init(&id);
    zmq_msg_copy(&id, (zmq_msg_t *)request_id);
    zmq_send(a->zap, "1.0", 3, ZMQ_SNDMORE);
    zmq_msg_send(&id, a->zap, ZMQ_SNDMORE);
    zmq_send(a->zap, r == R_ALLOW ? "200" : "400", 3, ZMQ_SNDMORE);
    const char *text = reason_text(r);
    zmq_send(a->zap, text, strlen(text), ZMQ_SNDMORE);
    uint8_t md[64];
    size_t mdlen = r == R_ALLOW ? key_property(who, md) : 0;
    const char *user = r == R_ALLOW ? who->user : "";
    zmq_send(a->zap, user, strlen(user), ZMQ_SNDMORE);
    zmq_send(a->zap, md, mdlen, 0);
    zmq_msg_close(&id);
}

/* Allowed: every time (INFO). Denied: once per address and reason a
 * minute, with how many were held back: a storm must not flood the log. */
static void log_decision(zg_auth_t *a, reason_t r, const char *user,
                         const char *address, const zmq_msg_t *cred)
{
    uint64_t held = 0;
    if (r != R_ALLOW && !zg_loglimit_pass(&a->logged, reason_text(r), address,
                                          zg_now_ms(), &held))
        return;
    char key[ZG_KEY_TEXT_MAX] = "-", more[64] = "";
    if (cred && zmq_msg_size((zmq_msg_t *)cred) == ZG_KEY_BYTES)
        zmq_z85_encode(key, zmq_msg_data((zmq_msg_t *)cred), ZG_KEY_BYTES);
    if (held)
        snprintf(more, sizeof more, " (and %llu more in the last minute)",
                 (unsigned long long)held);
    zg_log(a->ctx, r == R_ALLOW ? ZG_LOG_INFO : ZG_LOG_WARNING,
           "auth: %s user=%s key=%s address=%s%s%s%s",
           r == R_ALLOW ? "allow" : "deny", user[0] ? user : "-", key, address,
           r == R_ALLOW ? "" : " reason=", r == R_ALLOW ? "" : reason_text(r),
           more);
}

/* A refusal for the key or the mechanism counts toward the address's
 * lockout; rate and lockout refusals do not (they looked at nothing). */
static void count_failure(zg_auth_t *a, reason_t r, const char *address)
{
    if (r == R_ALLOW || r == R_RATE || r == R_LOCKOUT)
        return;
    if (zg_addrs_failed(a->addrs, address, zg_now_ms()))
        zg_log(a->ctx, ZG_LOG_WARNING,
               "auth: address %s locked out for %llds after %lld failed "
               "handshakes",
               address, (long long)(a->lockout_ms / 1000),
               (long long)a->lockout_failures);
}

/* Up to ZAP_FRAMES_MAX frames into f; any beyond are read and dropped. */
static int read_request(zg_auth_t *a, zmq_msg_t *f)
{
    int n = 0, more = 1;
    while (more) {
        zmq_msg_t extra, *m = n < ZAP_FRAMES_MAX ? &f[n] : &extra;
        zmq_msg_init(m);
        /* zguard-audit: ignore blocking-without-timeout -- read only after zmq_poll said the ZAP socket is readable; frames of a message arrive together */
        if (zmq_msg_recv(m, a->zap, 0) < 0) {
            zmq_msg_close(m);
            break;
        }
        more = zmq_msg_more(m);
        if (m == &extra)
            zmq_msg_close(m);
        else
            n++;
    }
    return n;
}

static void handle_request(zg_auth_t *a)
{
    zmq_msg_t f[ZAP_FRAMES_MAX];
    int n = read_request(a, f);
    /* version, request id, domain, address, identity, mechanism, credentials */
    char version[8] = "", address[64] = "", mech[16] = "";
    if (n >= 6) {
        frame_text(&f[0], version, sizeof version);
        frame_text(&f[3], address, sizeof address);
        frame_text(&f[5], mech, sizeof mech);
    }
    const zg_allow_entry_t *who = NULL;
    reason_t r = n >= 6 && strcmp(version, "1.0") == 0
                     ? decide(a, address, mech, n >= 7 ? &f[6] : NULL, &who)
                     : R_MALFORMED;
    atomic_fetch_add(&a->decisions[r], 1);
    log_decision(a, r, who ? who->user : "", address, n >= 7 ? &f[6] : NULL);
    count_failure(a, r, address);
    if (n >= 2)
        reply(a, &f[1], r, who);
    for (int i = 0; i < n; i++)
        zmq_msg_close(&f[i]);
}

/* ---- the thread ----------------------------------------------------------- */

static void drain_inotify(zg_auth_t *a)
{
    char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
    while (read(a->inotify, buf, sizeof buf) > 0)
        ;
    if (!a->reload_due)
        a->reload_due = zg_now_ms() + RELOAD_SETTLE_MS;
}

/* Returns false when told to stop. */
static bool handle_command(zg_auth_t *a)
{
    char cmd[16];
    /* zguard-audit: ignore blocking-without-timeout -- read only after zmq_poll said the pipe is readable */
    int n = zmq_recv(a->pipe_peer, cmd, sizeof cmd - 1, 0);
    if (n < 0 || (n == 4 && memcmp(cmd, "STOP", 4) == 0))
        return false;
    int rc = reload(a);
    /* zguard-audit: ignore blocking-without-timeout -- the one answer to the one command the caller waits for under pipe_lock: the queue is empty */
    zmq_send(a->pipe_peer, rc == 0 ? "OK" : "FAILED", rc == 0 ? 2 : 6, 0);
    return true;
}

static void *run(void *arg)
{
    zg_auth_t *a = arg;
    zmq_pollitem_t items[3] = {{a->zap, 0, ZMQ_POLLIN, 0},
                               {a->pipe_peer, 0, ZMQ_POLLIN, 0},
                               {NULL, a->inotify, ZMQ_POLLIN, 0}};
    int nitems = a->inotify >= 0 ? 3 : 2;
    int64_t next_tick = zg_now_ms() + TICK_MS;
    for (;;) {
        int64_t now = zg_now_ms(), due = next_tick;
        if (a->reload_due && a->reload_due < due)
            due = a->reload_due;
        if (zmq_poll(items, nitems, due > now ? (long)(due - now) : 0) < 0 &&
            errno != EINTR)
            break;
        if (items[0].revents & ZMQ_POLLIN)
            handle_request(a);
        if ((items[1].revents & ZMQ_POLLIN) && !handle_command(a))
            break;
        if (nitems == 3 && (items[2].revents & ZMQ_POLLIN))
            drain_inotify(a);
        now = zg_now_ms();
        if (a->reload_due && now >= a->reload_due) {
            a->reload_due = 0;
            reload(a);
        }
        if (now >= next_tick) {
            check_expiry(a);
            next_tick = now + TICK_MS;
        }
    }
    return NULL;
}

/* ---- life cycle ----------------------------------------------------------- */

static void auth_free(zg_auth_t *a)
{
    if (a->zap)
        zmq_close(a->zap);
    if (a->pipe)
        zmq_close(a->pipe);
    if (a->pipe_peer)
        zmq_close(a->pipe_peer);
    if (a->inotify >= 0)
        close(a->inotify);
    zg_allowlist_destroy(&a->list);
    zg_addrs_destroy(&a->addrs);
    for (size_t i = 0; i < a->nlost; i++)
        free(a->lost[i]);
    free(a->lost);
    free(a->allow_ip);
    free(a->deny_ip);
    free(a->dir);
    free(a->revoked);
    pthread_mutex_destroy(&a->lock);
    pthread_mutex_destroy(&a->pipe_lock);
    free(a);
}

static int parse_rules(const zg_policy_t *p, const char *key, zg_cidr_t **out,
                       size_t *n)
{
    const char *v = zg_policy_auth(p, key, NULL);
    const char *why;
    if (!v)
        return 0;
    if (zg_cidr_list_parse(v, out, n, &why) == 0)
        return 0;
    zg_error_set("%s: [auth] %s '%s' %s", zg_policy_file(p), key, v, why);
    return -1;
}

static int open_sockets(zg_auth_t *a)
{
    int zero = 0;
    /* zguard-audit: ignore hwm-not-set, timeout-not-set, maxmsgsize-not-set -- libzmq's sessions queue ZAP requests, one per handshake in progress, and this thread answers each at once; a REP reply never blocks; inproc, so no network peer sends to it */
    a->zap = zmq_socket(a->ctx->zmq, ZMQ_REP);
    if (!a->zap || zmq_setsockopt(a->zap, ZMQ_LINGER, &zero, sizeof zero) ||
        zg_bind_through_signals(a->zap, ZAP_ENDPOINT) != 0) {
        zg_error_set("auth: cannot bind %s: %s%s", ZAP_ENDPOINT,
                     zmq_strerror(errno),
                     errno == EADDRINUSE
                         ? " (another ZAP handler runs in this context)"
                         : "");
        return -1;
    }
    snprintf(a->pipe_endpoint, sizeof a->pipe_endpoint,
             "inproc://zguard-auth-%p", (void *)a);
    /* zguard-audit: ignore hwm-not-set, timeout-not-set, maxmsgsize-not-set -- command pipe (inproc) to this library's own thread: one command at a time under pipe_lock, always answered */
    a->pipe = zmq_socket(a->ctx->zmq, ZMQ_PAIR);
    /* zguard-audit: ignore hwm-not-set, timeout-not-set, maxmsgsize-not-set -- the thread's end of the command pipe */
    a->pipe_peer = zmq_socket(a->ctx->zmq, ZMQ_PAIR);
    if (!a->pipe || !a->pipe_peer ||
        zmq_setsockopt(a->pipe, ZMQ_LINGER, &zero, sizeof zero) != 0 ||
        zmq_setsockopt(a->pipe_peer, ZMQ_LINGER, &zero, sizeof zero) != 0 ||
        zg_bind_through_signals(a->pipe_peer, a->pipe_endpoint) != 0 ||
        zg_connect_through_signals(a->pipe, a->pipe_endpoint) != 0) {
        zg_error_set("auth: cannot open its control pipe: %s",
                     zmq_strerror(errno));
        return -1;
    }
    return 0;
}

/* [auth]'s per-address limits, checked by the policy parser; unset:
 * off, a window of a minute, a lockout of five minutes, a burst of one
 * second's worth. */
static zg_addr_limits_t addr_limits(const zg_policy_t *p)
{
    int64_t v[ZG_AUTH_LIMITS] = {[ZG_AUTH_WINDOW] = 60000,
                                 [ZG_AUTH_LOCKOUT] = 300000};
    for (int l = 0; l < ZG_AUTH_LIMITS; l++) {
        const char *text = zg_policy_auth(p, zg_auth_limit_info(l)->key, NULL);
        if (text)
            v[l] = strtoll(text, NULL, 10);
    }
    if (!zg_policy_auth(p, "handshake_burst_per_ip", NULL))
        v[ZG_AUTH_BURST] = v[ZG_AUTH_RATE] > 0 ? v[ZG_AUTH_RATE] : 1;
    return (zg_addr_limits_t){v[ZG_AUTH_RATE], v[ZG_AUTH_BURST],
                              v[ZG_AUTH_FAILURES], v[ZG_AUTH_WINDOW],
                              v[ZG_AUTH_LOCKOUT]};
}

zg_auth_t *zg_auth_start(zg_ctx_t *ctx)
{
    const zg_policy_t *p = ctx->policy;
    const char *dir = zg_policy_auth(p, "allow", NULL);
    if (!dir) {
        errno = EPERM;
        zg_error_set("%s: no [auth] allow = DIR: a CURVE server without an "
                     "allowlist would accept any client that knows its key",
                     zg_policy_file(p));
        return NULL;
    }
    zg_auth_t *a = calloc(1, sizeof *a);
    if (!a) {
        zg_error_set("out of memory");
        return NULL;
    }
    a->ctx = ctx;
    a->inotify = -1;
    pthread_mutex_init(&a->lock, NULL);
    pthread_mutex_init(&a->pipe_lock, NULL);
    const char *revoked = zg_policy_auth(p, "revoked", NULL);
    zg_addr_limits_t limits = addr_limits(p);
    a->lockout_ms = limits.lockout_ms;
    a->lockout_failures = limits.failures;
    a->addrs = zg_addrs_new(ZG_ADDRS_CAPACITY, &limits);
    a->dir = strdup(dir);
    a->revoked = revoked ? strdup(revoked) : NULL;
    if (!a->dir || (revoked && !a->revoked) || !a->addrs ||
        parse_rules(p, "allow_ip", &a->allow_ip, &a->nallow_ip) != 0 ||
        parse_rules(p, "deny_ip", &a->deny_ip, &a->ndeny_ip) != 0 ||
        open_sockets(a) != 0)
        goto fail;
    watch(a);
    if (reload(a) != 0)
        goto fail;
    if (zg_thread_start(&a->thread, run, a) != 0) {
        zg_error_set("auth: cannot start its thread");
        goto fail;
    }
    return a;
fail:
    if (!zg_last_error()[0])
        zg_error_set("out of memory");
    zg_log(ctx, ZG_LOG_ERROR, "%s", zg_last_error());
    auth_free(a);
    return NULL;
}

void zg_auth_stop(zg_auth_t **auth)
{
    if (!auth || !*auth)
        return;
    zg_auth_t *a = *auth;
    *auth = NULL;
    pthread_mutex_lock(&a->pipe_lock);
    zg_thread_tell(a->pipe, "STOP", 4); /* the pipe is empty under pipe_lock */
    pthread_mutex_unlock(&a->pipe_lock);
    pthread_join(a->thread, NULL);
    auth_free(a);
}

int zg_auth_reload(zg_auth_t *a)
{
    char answer[8];
    pthread_mutex_lock(&a->pipe_lock);
    /* as long as reading the allowlist takes */
    int n = zg_thread_ask(a->pipe, "RELOAD", 6, answer, sizeof answer);
    pthread_mutex_unlock(&a->pipe_lock);
    return n == 2 ? 0 : -1;
}

void zg_auth_stats(zg_auth_t *a, zg_auth_stats_t *out)
{
#define D(r) atomic_load(&a->decisions[r])
    *out = (zg_auth_stats_t){D(R_ALLOW),   D(R_UNKNOWN),   D(R_REVOKED),
                             D(R_EXPIRED), D(R_ADDRESS),   D(R_MECHANISM),
                             D(R_MALFORMED), atomic_load(&a->dropped),
                             atomic_load(&a->reloads), atomic_load(&a->keys),
                             D(R_RATE),    D(R_LOCKOUT)};
#undef D
}
