/*
 * zg_ctx.h - ctx.c and log.c: the context (struct zg_ctx: its sockets, its
 * authenticator, monitor and metrics, its key cache) and its log and
 * alert sinks.
 */
#ifndef ZG_CTX_H
#define ZG_CTX_H

#include "zguard.h"
#include "zg_auth.h"
#include "zg_error.h"
#include "zg_monitor.h"
#include "zg_sock.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

#define ZG_EARLY_LOG_MAX 8 /* warnings kept until a log sink is set */

struct zg_ctx {
    void *zmq;
    bool owns_zmq;
    zg_policy_t *policy;
    pthread_mutex_t lock; /* guards everything below */
    zg_log_level_t log_level;
    zg_log_fn *log_fn;
    void *log_arg;
    zg_alert_fn *alert_fn;
    void *alert_arg;
    zg_sock_t *socks; /* every socket zguard knows in this context */
    unsigned next_id; /* for unnamed sockets' metric labels */
    struct zg_gate *gate; /* the gate running in it, for /status */
    /* A supervised gate's forwarding process (zg_gate_supervised): /status
     * says "not forwarding" while ctx->gate is NULL, and these. */
    bool gate_supervised;
    uint64_t gate_restarts;
    int64_t gate_started_ms;
    pthread_mutex_t monitor_lock;
    zg_monitor_t *monitor; /* started with the first monitored socket */
    pthread_mutex_t metrics_lock;
    struct zg_metrics *metrics; /* the HTTP endpoint, when configured */
    int metrics_port;           /* its port (0 before it listens) */
    /* Warnings logged before any sink was set (zg_ctx_new's version gate
     * runs before the application can set one): delivered to the first. */
    char *early[ZG_EARLY_LOG_MAX];
    zg_log_level_t early_level[ZG_EARLY_LOG_MAX];
    int nearly;
    /* Not under lock: starting the authenticator and decrypting secrets
     * take long and log, so each has its own. */
    pthread_mutex_t auth_lock;
    _Atomic(zg_auth_t *) auth; /* started by the first CURVE server:
                                  zg_ctx_auth */
    pthread_mutex_t cert_lock;
    zg_passphrase_t *pass;
    char *pass_file;             /* where pass is read again: a reload */
    struct zg_cert_cache *certs; /* key files read, by path */
    struct zg_cert_cache *retired; /* replaced by a reload, still pointed to */
};

/* zg_ctx_wrap without the policy's metrics endpoint (zguard run serves it
 * from the program's first context only). */
zg_ctx_t *zg_ctx_wrap_quiet(void *zmq_ctx, zg_policy_t *policy);
/* Stops what zguard runs in the context (metrics, authenticator, monitor)
 * and closes its own sockets, so that the application's zmq_ctx_term can
 * return; the application's sockets stay known until it closes them. */
void zg_ctx_release(zg_ctx_t *ctx);
/* The cached secret pair of path from now on: *fresh is taken over. The
 * old pair stays allocated until the context goes (sockets point to it). */
const zg_cert_t *zg_ctx_cert_replace(zg_ctx_t *ctx, const char *path,
                                     zg_cert_t **fresh);
/* The passphrase again, for a key read again (a reload): from the file
 * zg_ctx_set_passphrase_file named, else from the environment's source
 * (ZGUARD_PASSPHRASE_FILE, the systemd credential) when it has one; NULL
 * with zg_last_error() naming the file when that fails. Else (one typed
 * at a terminal, or none) *held is set to the one the context holds. */
zg_passphrase_t *zg_ctx_passphrase_again(zg_ctx_t *ctx,
                                         const zg_passphrase_t **held);

/* The authenticator, started on first use; NULL and an error if the policy
 * has no allowlist. */
zg_auth_t *zg_ctx_auth(zg_ctx_t *ctx);
/* A key file through the context's cache: the pair (secret = true) or the
 * public certificate. The cert belongs to the context. */
const zg_cert_t *zg_ctx_cert(zg_ctx_t *ctx, const char *path, bool secret);

void zg_log(zg_ctx_t *ctx, zg_log_level_t level, const char *fmt, ...)
    ZG_PRINTF(3, 4);
void zg_log_forget(zg_ctx_t *ctx); /* frees undelivered early warnings */
void zg_alert(zg_ctx_t *ctx, const char *name, const char *socket, int active,
              const char *fmt, ...) ZG_PRINTF(5, 6);
void zg_ctx_attach(zg_ctx_t *ctx, zg_sock_t *sock);
void zg_ctx_detach(zg_ctx_t *ctx, zg_sock_t *sock);

#endif
