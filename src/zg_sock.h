/*
 * zg_sock.h - socket.c: a hardened socket's state (struct zg_sock), its
 * counters and what its monitor saw.
 */
#ifndef ZG_SOCK_H
#define ZG_SOCK_H

#include "zguard.h"
#include "zg_auth.h"
#include "zg_policy.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>

typedef struct zg_sock zg_sock_t;


/* Single-writer counters: only the thread that owns the socket adds, any
 * thread may read. A relaxed load and store is enough and avoids a locked
 * instruction on the hot path. */
typedef struct zg_stats {
    _Atomic uint64_t msgs_sent, msgs_received, bytes_sent, bytes_received;
    _Atomic uint64_t hwm_reached, send_timeouts, recv_timeouts;
    _Atomic uint64_t send_blocked_ns, no_route, interrupted;
} zg_stats_t;

static inline void zg_stat_add(_Atomic uint64_t *counter, uint64_t n)
{
    atomic_store_explicit(
        counter, atomic_load_explicit(counter, memory_order_relaxed) + n,
        memory_order_relaxed);
}

/* What a socket's monitor saw (monitor.c writes, anyone reads). */
typedef enum zg_fail_reason {
    ZG_FAIL_AUTH,      /* the authenticator said no (HANDSHAKE_FAILED_AUTH) */
    ZG_FAIL_CRYPTO,    /* CURVE failed: e.g. a client with the wrong key */
    ZG_FAIL_MECHANISM, /* NULL against CURVE: plaintext or downgrade */
    ZG_FAIL_PROTOCOL,  /* malformed ZMTP or ZAP */
    ZG_FAIL_TIMEOUT,   /* no detail: handshake timeout, reset, ... */
    ZG_FAIL_REASONS
} zg_fail_reason_t;

typedef enum zg_alert_kind {
    ZG_ALERT_MUTE,     /* mute too much of the window */
    ZG_ALERT_HWM,      /* queues too full for the window (exact mode) */
    ZG_ALERT_TIMEOUTS, /* too many timeouts a minute */
    ZG_ALERT_AUTH,     /* too many failed handshakes a minute */
    ZG_ALERT_NO_PEERS, /* the last peer went */
    ZG_ALERTS
} zg_alert_kind_t;

#define ZG_ENDPOINTS_MAX 8 /* per socket, for metric labels; more: "other" */
#define ZG_ENDPOINT_TEXT_MAX 128

typedef struct zg_endpoint_stats {
    char endpoint[ZG_ENDPOINT_TEXT_MAX]; /* written once, before publishing */
    _Atomic uint64_t accepted, connected, disconnected, handshakes_ok;
    _Atomic uint64_t failed[ZG_FAIL_REASONS];
} zg_endpoint_stats_t;

typedef struct zg_monstats {
    zg_endpoint_stats_t endpoints[ZG_ENDPOINTS_MAX + 1]; /* last: "other" */
    _Atomic int nendpoints;
    _Atomic uint64_t accept_failed, accept_emfile;
    _Atomic uint64_t refused_max_peers, refused_per_ip; /* monitor.c */
    _Atomic int64_t peers;               /* handshaken connections now */
    _Atomic int64_t peers_zero_ms;       /* when peers last became 0 */
    _Atomic int64_t queue_out, queue_in; /* fullest peer pipe; -1: unknown */
    _Atomic uint64_t bind_failures;      /* BIND_FAILED events seen ... */
    _Atomic int bind_errno;              /* ... and the last one's errno */
    _Atomic uint64_t mute_permille;      /* share of the alert window mute */
    _Atomic uint32_t alerts;             /* bit per active zg_alert_kind_t */
} zg_monstats_t;

const char *zg_fail_reason_name(zg_fail_reason_t reason);
const char *zg_alert_kind_name(zg_alert_kind_t kind);

typedef enum zg_curve_role {
    ZG_CURVE_NONE = 0,
    ZG_CURVE_SERVER,
    ZG_CURVE_CLIENT
} zg_curve_role_t;

struct zg_sock {
    zg_ctx_t *ctx;
    void *zsock;
    int type;
    bool owned; /* created by zg_socket: zguard closes it */
    char name[ZG_NAME_MAX];
    zg_resolved_t policy;
    zg_stats_t stats;
    zg_curve_role_t curve;
    zg_auth_t *auth; /* CURVE servers: whose lost users to drop */
    const char *checked_user; /* the last peer key found still allowed ... */
    uint64_t checked_gen;     /* ... as of this auth generation */
    const zg_cert_t *own;     /* policy keys, owned by the context */
    uint8_t server_keys[ZG_SERVER_KEYS_MAX][ZG_KEY_BYTES];
    int nserver_keys, server_key;
    unsigned id;           /* per context, for unnamed sockets' labels */
    bool monitored;        /* a monitor stream reaches the context's thread */
    bool sample_pipes;     /* exact mode: ask libzmq for pipe depths ... */
    unsigned ops;          /* ... every ZG_SAMPLE_EVERY sends and receives */
    zg_monstats_t mon;
    zg_sock_t *prev, *next; /* ctx->socks, under ctx->lock */
};

/* zguard run: what the application set on a socket before its first
 * bind/connect. A bound it set tighter than the policy's is kept; with
 * overrides (app_overrides = allow) every value it set is kept. */
typedef struct zg_app_opts {
    bool set[ZG_FIELD_COUNT];
    int64_t value[ZG_FIELD_COUNT]; /* in policy units */
    bool overrides;
} zg_app_opts_t;

/* zg_harden with the application's own values folded in as above. */
int zg_harden_app(zg_ctx_t *ctx, void *zsock, const char *name,
                  const zg_app_opts_t *app);
/* A value that removes a bound: HWM 0, an infinite timeout, linger or
 * MAXMSGSIZE, no handshake limit. */
bool zg_value_unbounded(zg_field_t field, int64_t value);
/* Whether a is a tighter bound than b for a bounded field. */
bool zg_value_tighter(zg_field_t field, int64_t a, int64_t b);
/* A socket's field for a libzmq option, or -1. */
int zg_field_from_option(int option, int type);

/* zguard run: zmq_send, zmq_msg_send, zmq_recv and zmq_msg_recv through
 * zguard's paths, on a socket whose state the caller has found
 * (zg_registry_find, which the preload needs anyway to know whether the
 * socket is zguard's): libzmq's return values and errno; a message from a
 * peer whose key lost access is dropped and the receive goes on (io.c). */
int zg_app_send(zg_sock_t *s, const void *buf, size_t len, int flags);
int zg_app_msg_send(zg_sock_t *s, zmq_msg_t *msg, int flags);
int zg_app_recv(zg_sock_t *s, void *buf, size_t cap, int flags);
int zg_app_msg_recv(zg_sock_t *s, zmq_msg_t *msg, int flags);

/* "socket 'orders-in' (PULL)" or "unnamed PULL socket", for messages. */
const char *zg_sock_label(const zg_sock_t *sock, char *buf, size_t cap);
/* The monotonic clock (CLOCK_MONOTONIC), in ns and in ms. */
uint64_t zg_now_ns(void);
int64_t zg_now_ms(void);

#endif
