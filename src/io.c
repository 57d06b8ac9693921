/*
 * io.c - send and receive with the policy's timeouts, failures classified.
 *
 * A send is first tried without blocking. Only when that finds the socket
 * mute does zguard count it, take the time, and make the blocking call that
 * libzmq bounds by SNDTIMEO, so the cost of knowing "how often did we hit
 * the HWM, and for how long" is paid only when it happened. A receive is one
 * blocking call bounded by RCVTIMEO. Sizes come from libzmq's return values:
 * every call across the library boundary shows in a 64-byte benchmark
 * (`zguard bench instr`).
 *
 * The hot path, per call: the socket's state from the thread's registry
 * cache (zg_registry.h; the table on a miss), libzmq's call, two relaxed
 * counter updates (a receive also asks libzmq whether more frames
 * follow), and two flags tested once each, both false for most sockets:
 * "a CURVE server, whose peers' keys can lose access" and "exact mode,
 * sample the pipes". Everything else (errors, the mute path, the lost-key
 * check, sampling) is out of line.
 */
#include "zg_auth.h"
#include "zg_ctx.h"
#include "zg_error.h"
#include "zg_monitor.h"
#include "zg_registry.h"
#include "zg_sock.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <stdbool.h>

const char *zg_status_str(zg_status_t status)
{
    switch (status) {
    case ZG_OK: return "ok";
    case ZG_EMUTE: return "socket is mute (HWM reached or no peer): would block";
    case ZG_ESNDTIMEO:
        return "send timed out while mute (HWM reached or no peer)";
    case ZG_EEMPTY: return "no message waiting";
    case ZG_ERCVTIMEO: return "receive timed out waiting for a message";
    case ZG_EINTR: return "interrupted by a signal";
    case ZG_ECLOSED: return "socket closed or context terminated";
    case ZG_ENOROUTE: return "no route: no peer with that routing id";
    case ZG_EFSM: return "operation not valid in the socket's state";
    case ZG_ETRUNCATED: return "message truncated: buffer too small";
    case ZG_ENOPOLICY: return "socket not hardened by zguard";
    case ZG_EUNREACHABLE: return "peer unreachable: no reply after retries";
    case ZG_EDENIED:
        return "message dropped: the peer's key lost access; connection closed";
    case ZG_EINVAL: return "invalid argument";
    case ZG_EOTHER: return "libzmq error (see errno)";
    }
    return "unknown status";
}

#define ZG_COLD __attribute__((noinline, cold))
#define ZG_UNLIKELY(x) __builtin_expect(!!(x), 0)
#define ZG_LIKELY(x) __builtin_expect(!!(x), 1)

ZG_COLD static zg_status_t not_hardened(void)
{
    errno = ENOTSOCK;
    zg_error_set("socket was not created or hardened by zguard");
    return ZG_ENOPOLICY;
}

static zg_status_t classify(zg_sock_t *s, int err)
{
    switch (err) {
    case EINTR: zg_stat_add(&s->stats.interrupted, 1); return ZG_EINTR;
    case ETERM:
    case ENOTSOCK: return ZG_ECLOSED;
    case EHOSTUNREACH: zg_stat_add(&s->stats.no_route, 1); return ZG_ENOROUTE;
    case EFSM: return ZG_EFSM;
    default: return ZG_EOTHER;
    }
}

static zg_status_t fail(zg_sock_t *s, int err, zg_status_t st)
{
    char label[ZG_NAME_MAX + 32];
    zg_error_set("%s: %s", zg_sock_label(s, label, sizeof label),
                 zg_status_str(st));
    errno = err;
    return st;
}

/* Exact mode: every ZG_SAMPLE_EVERY operations, and whenever the socket
 * was found mute, the owning thread asks libzmq for its pipe depths. */
ZG_COLD static void sample_slow(zg_sock_t *s)
{
    if ((++s->ops & (ZG_SAMPLE_EVERY - 1)) == 0)
        zg_monitor_sample(s);
}

static inline void sample(zg_sock_t *s)
{
    if (ZG_UNLIKELY(s->sample_pipes))
        sample_slow(s);
}

/* A frame went out; a message when it was the last (no SNDMORE). */
static inline void sent(zg_sock_t *s, size_t len, int flags)
{
    zg_stat_add(&s->stats.bytes_sent, len);
    zg_stat_add(&s->stats.msgs_sent, !(flags & ZMQ_SNDMORE));
    sample(s);
}

static zg_status_t send_timed_out(zg_sock_t *s)
{
    char label[ZG_NAME_MAX + 32];
    zg_stat_add(&s->stats.send_timeouts, 1);
    zg_log(s->ctx, ZG_LOG_WARNING,
           "%s: send timed out after %lldms while mute (SNDHWM %lld reached "
           "or no peer): the peer is not reading",
           zg_sock_label(s, label, sizeof label),
           (long long)s->policy.value[ZG_FIELD_SNDTIMEO],
           (long long)s->policy.value[ZG_FIELD_SNDHWM]);
    return fail(s, EAGAIN, ZG_ESNDTIMEO);
}

/* The non-blocking attempt found the socket mute: count it, then wait as
 * long as the policy allows, timing the wait. msg is NULL for a byte-buffer
 * send. */
ZG_COLD static zg_status_t send_slow(zg_sock_t *s, zmq_msg_t *msg,
                                     const void *buf, size_t len, int flags)
{
    int err = errno;
    if (err != EAGAIN)
        return fail(s, err, classify(s, err));
    zg_stat_add(&s->stats.hwm_reached, 1);
    if (s->sample_pipes)
        zg_monitor_sample(s);
    if (flags & ZMQ_DONTWAIT)
        return fail(s, EAGAIN, ZG_EMUTE);
    uint64_t t0 = zg_now_ns();
    int rc = msg ? zmq_msg_send(msg, s->zsock, flags)
                 : zmq_send(s->zsock, buf, len, flags);
    err = errno;
    zg_stat_add(&s->stats.send_blocked_ns, zg_now_ns() - t0);
    if (rc >= 0) {
        sent(s, len, flags);
        return ZG_OK;
    }
    if (err == EAGAIN)
        return send_timed_out(s);
    return fail(s, err, classify(s, err));
}

/* The calls' bodies, once the state is found: inline in the public calls
 * (which look it up) and in zg_app_* (zguard run's preload, which has
 * looked it up already to decide whether the socket is zguard's). */
static inline __attribute__((always_inline)) zg_status_t
sock_send(zg_sock_t *s, const void *buf, size_t len, int flags)
{
    if (ZG_LIKELY(zmq_send(s->zsock, buf, len, flags | ZMQ_DONTWAIT) >= 0)) {
        sent(s, len, flags);
        return ZG_OK;
    }
    return send_slow(s, NULL, buf, len, flags);
}

static inline __attribute__((always_inline)) zg_status_t
sock_msg_send(zg_sock_t *s, zmq_msg_t *msg, int flags)
{
    int n = zmq_msg_send(msg, s->zsock, flags | ZMQ_DONTWAIT);
    if (ZG_LIKELY(n >= 0)) {
        sent(s, (size_t)n, flags);
        return ZG_OK;
    }
    return send_slow(s, msg, NULL, zmq_msg_size(msg), flags);
}

zg_status_t zg_send(void *zsock, const void *buf, size_t len, int flags)
{
    zg_sock_t *s = zg_registry_find(zsock);
    if (ZG_UNLIKELY(!s))
        return not_hardened();
    return sock_send(s, buf, len, flags);
}

zg_status_t zg_msg_send(void *zsock, zmq_msg_t *msg, int flags)
{
    zg_sock_t *s = zg_registry_find(zsock);
    if (ZG_UNLIKELY(!s))
        return not_hardened();
    return sock_msg_send(s, msg, flags);
}

ZG_COLD static zg_status_t recv_failed(zg_sock_t *s, int flags)
{
    int err = errno;
    if (err != EAGAIN)
        return fail(s, err, classify(s, err));
    if (flags & ZMQ_DONTWAIT) { /* a poller's normal "nothing more" */
        zg_error_set_const("no message waiting (receive with ZMQ_DONTWAIT)");
        errno = EAGAIN;
        return ZG_EEMPTY;
    }
    zg_stat_add(&s->stats.recv_timeouts, 1);
    /* Idle receivers time out by design: debug, not warning. */
    char label[ZG_NAME_MAX + 32];
    zg_log(s->ctx, ZG_LOG_DEBUG, "%s: no message within %lldms",
           zg_sock_label(s, label, sizeof label),
           (long long)s->policy.value[ZG_FIELD_RCVTIMEO]);
    return fail(s, EAGAIN, ZG_ERCVTIMEO);
}

/* The authenticator says this peer lost access (its key was removed,
 * revoked or expired): drop the whole message and close the connection, so
 * an open session does not outlive its key. */
ZG_COLD static zg_status_t drop_lost_peer(zg_sock_t *s, zmq_msg_t *msg)
{
    int fd = zmq_msg_get(msg, ZMQ_SRCFD);
    if (fd >= 0)
        shutdown(fd, SHUT_RDWR); /* libzmq sees the end and cleans up */
    char label[ZG_NAME_MAX + 32], who[ZG_NAME_MAX];
    const char *user = zmq_msg_gets(msg, "User-Id");
    snprintf(who, sizeof who, "%s", user ? user : "?");
    while (zmq_msg_more(msg) && zmq_msg_recv(msg, s->zsock, ZMQ_DONTWAIT) >= 0)
        ;
    zg_auth_count_dropped(s->auth);
    zg_log(s->ctx, ZG_LOG_WARNING,
           "%s: dropped a message from %s, whose key lost access; its "
           "connection is closed",
           zg_sock_label(s, label, sizeof label), who);
    zg_error_set("%s: message from %s dropped: its key lost access (removed, "
                 "revoked or expired) and its connection was closed",
                 label, who);
    errno = EACCES;
    return ZG_EDENIED;
}

/* Only after some user lost access is there anything to check; then each
 * connection is looked up once per change (metadata is per connection). */
static bool peer_lost(zg_sock_t *s, const zmq_msg_t *msg)
{
    uint64_t gen = zg_auth_generation(s->auth);
    if (gen == 0)
        return false;
    const char *key = zmq_msg_gets(msg, ZG_KEY_PROPERTY);
    if (!key || (key == s->checked_user && gen == s->checked_gen))
        return false;
    if (zg_auth_is_lost(s->auth, key))
        return true;
    s->checked_user = key;
    s->checked_gen = gen;
    return false;
}

/* A frame of n bytes came in; a message when it was the last. zmq_msg_get
 * (ZMQ_MORE) is what zmq_msg_more calls, one call fewer. */
static inline void received(zg_sock_t *s, const zmq_msg_t *msg, int n)
{
    zg_stat_add(&s->stats.bytes_received, (uint64_t)n);
    zg_stat_add(&s->stats.msgs_received, !zmq_msg_get(msg, ZMQ_MORE));
    sample(s);
}

/* A CURVE server's frame: the lost-key check first. Out of line, so the
 * common path keeps nothing live across it. */
__attribute__((noinline)) static zg_status_t
received_checked(zg_sock_t *s, zmq_msg_t *msg, int n)
{
    if (peer_lost(s, msg))
        return drop_lost_peer(s, msg);
    received(s, msg, n);
    return ZG_OK;
}

/* A receive is one libzmq call, bounded by RCVTIMEO: unlike a send, waiting
 * for a message is no sign of pressure, so it is not probed or timed.
 * Inline in every receive call, so each is one frame on the stack. */
static inline __attribute__((always_inline)) zg_status_t
msg_recv(zg_sock_t *s, zmq_msg_t *msg, int flags, int *n)
{
    *n = zmq_msg_recv(msg, s->zsock, flags);
    if (ZG_UNLIKELY(*n < 0))
        return recv_failed(s, flags);
    if (ZG_UNLIKELY(s->auth != NULL))
        return received_checked(s, msg, *n);
    received(s, msg, *n);
    return ZG_OK;
}

zg_status_t zg_msg_recv(void *zsock, zmq_msg_t *msg, int flags)
{
    zg_sock_t *s = zg_registry_find(zsock);
    if (ZG_UNLIKELY(!s))
        return not_hardened();
    int n;
    return msg_recv(s, msg, flags, &n);
}

ZG_COLD static zg_status_t truncated(size_t size, size_t cap)
{
    zg_error_set("frame of %zu bytes cut to a %zu-byte buffer", size, cap);
    return ZG_ETRUNCATED;
}

static inline __attribute__((always_inline)) zg_status_t
sock_recv(zg_sock_t *s, void *buf, size_t cap, size_t *len, int flags)
{
    zmq_msg_t msg;
    zmq_msg_init(&msg);
    int n = 0;
    zg_status_t st = msg_recv(s, &msg, flags, &n);
    if (ZG_LIKELY(st == ZG_OK)) {
        size_t size = (size_t)n;
        if (size && cap)
            memcpy(buf, zmq_msg_data(&msg), size < cap ? size : cap);
        if (len)
            *len = size;
        if (ZG_UNLIKELY(size > cap))
            st = truncated(size, cap);
    }
    zmq_msg_close(&msg);
    return st;
}

zg_status_t zg_recv(void *zsock, void *buf, size_t cap, size_t *len, int flags)
{
    zg_sock_t *s = zg_registry_find(zsock);
    if (ZG_UNLIKELY(!s))
        return not_hardened();
    return sock_recv(s, buf, cap, len, flags);
}

/* ---- zguard run: libzmq's calls, on zguard's path --------------------------- */

/* What the preload's zmq_send, zmq_msg_send, zmq_recv and zmq_msg_recv
 * return, each the whole of its hardened path (the wrapper jumps here):
 * libzmq's results and errno, zguard's counting and timeouts in between.
 * A message from a peer whose key lost access is dropped (its connection
 * closed) and the receive waits for the next, as if it had not come. */

int zg_app_send(zg_sock_t *s, const void *buf, size_t len, int flags)
{
    return sock_send(s, buf, len, flags) == ZG_OK ? (int)len : -1;
}

int zg_app_msg_send(zg_sock_t *s, zmq_msg_t *msg, int flags)
{
    size_t len = zmq_msg_size(msg); /* the send empties msg */
    return sock_msg_send(s, msg, flags) == ZG_OK ? (int)len : -1;
}

int zg_app_recv(zg_sock_t *s, void *buf, size_t cap, int flags)
{
    size_t n = 0;
    zg_status_t st;
    while ((st = sock_recv(s, buf, cap, &n, flags)) == ZG_EDENIED)
        ;
    /* libzmq's zmq_recv: the frame's whole size, even when cut to cap */
    return st == ZG_OK || st == ZG_ETRUNCATED ? (int)n : -1;
}

int zg_app_msg_recv(zg_sock_t *s, zmq_msg_t *msg, int flags)
{
    int n;
    zg_status_t st;
    while ((st = msg_recv(s, msg, flags, &n)) == ZG_EDENIED)
        ;
    return st == ZG_OK ? n : -1;
}
