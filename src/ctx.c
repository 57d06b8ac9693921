/*
 * ctx.c - a zguard context: a libzmq context, its policy, its log and alert
 * sinks, and the sockets zguard hardened in it.
 *
 * Everything zguard does for a socket needs the same libzmq context (the ZAP
 * handler must live in it), so the zguard context either owns one or wraps
 * the application's own.
 */
#include "zg_abi.h"
#include "zg_advisory.h"
#include "zg_auth.h"
#include "zg_ctx.h"
#include "zg_error.h"
#include "zg_metrics.h"
#include "zg_monitor.h"
#include "zg_registry.h"
#include "zg_sock.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <stdbool.h>

static void ctx_free(zg_ctx_t *ctx)
{
    zg_policy_destroy(&ctx->policy);
    zg_log_forget(ctx);
    pthread_mutex_destroy(&ctx->lock);
    pthread_mutex_destroy(&ctx->auth_lock);
    pthread_mutex_destroy(&ctx->cert_lock);
    pthread_mutex_destroy(&ctx->monitor_lock);
    pthread_mutex_destroy(&ctx->metrics_lock);
    free(ctx);
}

static zg_ctx_t *ctx_make(void *zmq, bool owns, zg_policy_t *policy,
                          bool metrics)
{
    zg_init();
    zg_ctx_t *ctx = calloc(1, sizeof *ctx);
    if (!ctx) {
        zg_error_set("out of memory");
        return NULL;
    }
    ctx->zmq = zmq;
    ctx->owns_zmq = owns;
    ctx->policy = policy ? zg_policy_ref(policy) : zg_policy_builtin();
    ctx->log_level = ZG_LOG_WARNING;
    pthread_mutex_init(&ctx->lock, NULL);
    pthread_mutex_init(&ctx->auth_lock, NULL);
    pthread_mutex_init(&ctx->cert_lock, NULL);
    pthread_mutex_init(&ctx->monitor_lock, NULL);
    pthread_mutex_init(&ctx->metrics_lock, NULL);
    if (!ctx->policy) {
        ctx_free(ctx);
        zg_error_set("out of memory");
        return NULL;
    }
    /* the policy's min_libzmq and on_advisory against the loaded libzmq */
    if (zg_libzmq_gate(ctx) != 0) {
        ctx_free(ctx);
        return NULL;
    }
    const char *listen = zg_policy_metrics(ctx->policy, "listen", NULL);
    if (metrics && listen && zg_ctx_metrics_listen(ctx, listen) < 0) {
        ctx_free(ctx);
        return NULL;
    }
    return ctx;
}

/* A context that owns its libzmq one; metrics: start the policy's
 * endpoint. */
static zg_ctx_t *ctx_new_owning(zg_policy_t *policy, bool metrics)
{
    void *zmq = zmq_ctx_new();
    if (!zmq) {
        zg_error_set("zmq_ctx_new: %s", zmq_strerror(errno));
        return NULL;
    }
    /* A monitored socket is three libzmq sockets (itself, its monitor, the
     * reader): keep libzmq's 1023 for the application's own. */
    zmq_ctx_set(zmq, ZMQ_MAX_SOCKETS,
                ZMQ_MAX_SOCKETS_DFLT * ZG_SOCKETS_PER_SOCKET);
    zg_ctx_t *ctx = ctx_make(zmq, true, policy, metrics);
    if (!ctx)
        zmq_ctx_term(zmq);
    return ctx;
}

zg_ctx_t *zg_ctx_new(zg_policy_t *policy)
{
    return ctx_new_owning(policy, true);
}

zg_ctx_t *zg_ctx_new_quiet(zg_policy_t *policy)
{
    return ctx_new_owning(policy, false);
}

zg_ctx_t *zg_ctx_wrap(void *zmq_ctx, zg_policy_t *policy)
{
    if (!zmq_ctx) {
        errno = EINVAL;
        zg_error_set("zg_ctx_wrap: no libzmq context");
        return NULL;
    }
    return ctx_make(zmq_ctx, false, policy, true);
}

zg_ctx_t *zg_ctx_wrap_quiet(void *zmq_ctx, zg_policy_t *policy)
{
    return ctx_make(zmq_ctx, false, policy, false);
}

void *zg_ctx_zmq(zg_ctx_t *ctx)
{
    return ctx->zmq;
}

const zg_policy_t *zg_ctx_policy(const zg_ctx_t *ctx)
{
    return ctx->policy;
}

void zg_ctx_attach(zg_ctx_t *ctx, zg_sock_t *sock)
{
    pthread_mutex_lock(&ctx->lock);
    sock->id = ++ctx->next_id;
    sock->prev = NULL;
    sock->next = ctx->socks;
    if (ctx->socks)
        ctx->socks->prev = sock;
    ctx->socks = sock;
    pthread_mutex_unlock(&ctx->lock);
}

void zg_ctx_detach(zg_ctx_t *ctx, zg_sock_t *sock)
{
    pthread_mutex_lock(&ctx->lock);
    if (sock->prev)
        sock->prev->next = sock->next;
    else
        ctx->socks = sock->next;
    if (sock->next)
        sock->next->prev = sock->prev;
    sock->prev = sock->next = NULL;
    pthread_mutex_unlock(&ctx->lock);
}

/* ---- key files: read once per context --------------------------------------
 * Decrypting a secret costs Argon2id (a quarter to a whole second, on
 * purpose), so a context reads each key file once and keeps it. */

typedef struct zg_cert_cache {
    char *path;
    bool secret;
    zg_cert_t *cert;
    struct zg_cert_cache *next;
} cert_cache_t;

static const zg_passphrase_t *passphrase(zg_ctx_t *ctx)
{
    if (!ctx->pass)
        ctx->pass = zg_passphrase_from_env(); /* NULL: plaintext secrets only */
    return ctx->pass;
}

const zg_cert_t *zg_ctx_cert(zg_ctx_t *ctx, const char *path, bool secret)
{
    pthread_mutex_lock(&ctx->cert_lock);
    cert_cache_t *c = ctx->certs;
    while (c && (c->secret != secret || strcmp(c->path, path) != 0))
        c = c->next;
    if (!c) {
        zg_cert_t *cert = secret ? zg_cert_load_pair(path, passphrase(ctx))
                                 : zg_cert_load(path);
        c = cert ? calloc(1, sizeof *c) : NULL;
        if (c && (c->path = strdup(path))) {
            c->secret = secret;
            c->cert = cert;
            c->next = ctx->certs;
            ctx->certs = c;
        } else {
            if (cert)
                zg_error_set("out of memory");
            zg_cert_destroy(&cert);
            free(c);
            c = NULL;
        }
    }
    pthread_mutex_unlock(&ctx->cert_lock);
    return c ? c->cert : NULL;
}

static void cache_free(cert_cache_t **list)
{
    while (*list) {
        cert_cache_t *c = *list;
        *list = c->next;
        zg_cert_destroy(&c->cert);
        free(c->path);
        free(c);
    }
}

static void certs_free(zg_ctx_t *ctx)
{
    cache_free(&ctx->certs);
    cache_free(&ctx->retired);
}

const zg_cert_t *zg_ctx_cert_replace(zg_ctx_t *ctx, const char *path,
                                     zg_cert_t **fresh)
{
    cert_cache_t *old = calloc(1, sizeof *old);
    if (!old) {
        zg_error_set("out of memory");
        return NULL;
    }
    pthread_mutex_lock(&ctx->cert_lock);
    cert_cache_t *c = ctx->certs;
    while (c && (!c->secret || strcmp(c->path, path) != 0))
        c = c->next;
    if (c) {
        old->cert = c->cert;
        old->next = ctx->retired;
        ctx->retired = old;
        c->cert = *fresh;
        *fresh = NULL;
    }
    pthread_mutex_unlock(&ctx->cert_lock);
    if (!c) {
        free(old);
        zg_error_set("%s: not a key pair this context has read", path);
        return NULL;
    }
    return c->cert;
}

static bool env_has_source(void)
{
    const char *file = getenv("ZGUARD_PASSPHRASE_FILE");
    const char *dir = getenv("CREDENTIALS_DIRECTORY");
    return (file && *file) || (dir && *dir);
}

zg_passphrase_t *zg_ctx_passphrase_again(zg_ctx_t *ctx,
                                         const zg_passphrase_t **held)
{
    char file[PATH_MAX] = "";
    *held = NULL;
    pthread_mutex_lock(&ctx->cert_lock);
    if (ctx->pass_file)
        snprintf(file, sizeof file, "%s", ctx->pass_file);
    pthread_mutex_unlock(&ctx->cert_lock);
    if (file[0])
        return zg_passphrase_from_file(file);
    if (env_has_source())
        return zg_passphrase_from_env();
    zg_error_clear();
    pthread_mutex_lock(&ctx->cert_lock);
    *held = ctx->pass;
    pthread_mutex_unlock(&ctx->cert_lock);
    return NULL;
}

int zg_ctx_set_passphrase_file(zg_ctx_t *ctx, const char *path)
{
    char *copy = path ? strdup(path) : NULL;
    if (path && !copy) {
        zg_error_set("out of memory");
        return -1;
    }
    pthread_mutex_lock(&ctx->cert_lock);
    free(ctx->pass_file);
    ctx->pass_file = copy;
    pthread_mutex_unlock(&ctx->cert_lock);
    return 0;
}

void zg_ctx_set_passphrase(zg_ctx_t *ctx, zg_passphrase_t **pass)
{
    pthread_mutex_lock(&ctx->cert_lock);
    zg_passphrase_destroy(&ctx->pass);
    ctx->pass = *pass;
    *pass = NULL;
    pthread_mutex_unlock(&ctx->cert_lock);
}

/* ---- the authenticator ----------------------------------------------------- */

/* Started once, under auth_lock (starting logs, and takes long); read
 * without it, so that a log sink called while it starts may still ask for
 * the authenticator's numbers. It stops only in zg_ctx_destroy. */
zg_auth_t *zg_ctx_auth(zg_ctx_t *ctx)
{
    zg_auth_t *a = atomic_load(&ctx->auth);
    if (a)
        return a;
    pthread_mutex_lock(&ctx->auth_lock);
    a = atomic_load(&ctx->auth);
    if (!a) {
        a = zg_auth_start(ctx);
        atomic_store(&ctx->auth, a);
    }
    pthread_mutex_unlock(&ctx->auth_lock);
    return a;
}

static zg_auth_t *running_auth(zg_ctx_t *ctx)
{
    zg_auth_t *a = atomic_load(&ctx->auth);
    if (!a) {
        errno = ENOENT;
        zg_error_set("no authenticator runs in this context: it starts with "
                     "the first CURVE server socket");
    }
    return a;
}

int zg_ctx_auth_stats(zg_ctx_t *ctx, zg_auth_stats_t *out, size_t size)
{
    zg_auth_t *a = running_auth(ctx);
    if (!a)
        return -1;
    zg_auth_stats_t full;
    zg_auth_stats(a, &full);
    return zg_abi_copy(out, size, &full, sizeof full, "zg_ctx_auth_stats");
}

int zg_ctx_auth_reload(zg_ctx_t *ctx)
{
    zg_auth_t *a = running_auth(ctx);
    return a ? zg_auth_reload(a) : -1;
}

/* The metrics endpoint on addr, or on fd (bound elsewhere) when >= 0. */
static int metrics_start(zg_ctx_t *ctx, const char *addr, int fd)
{
    pthread_mutex_lock(&ctx->metrics_lock);
    int port = -1;
    if (ctx->metrics) {
        errno = EALREADY;
        zg_error_set("metrics: this context serves them already");
    } else {
        port = fd >= 0 ? zg_metrics_start_fd(ctx, fd, &ctx->metrics)
                       : zg_metrics_start(ctx, addr, &ctx->metrics);
        ctx->metrics_port = port > 0 ? port : 0;
    }
    pthread_mutex_unlock(&ctx->metrics_lock);
    if (port < 0)
        zg_log(ctx, ZG_LOG_ERROR, "%s", zg_last_error());
    return port;
}

int zg_ctx_metrics_listen(zg_ctx_t *ctx, const char *addr)
{
    return metrics_start(ctx, addr, -1);
}

int zg_ctx_metrics_adopt(zg_ctx_t *ctx, int fd)
{
    return metrics_start(ctx, NULL, fd);
}

int zg_ctx_metrics_port(zg_ctx_t *ctx)
{
    pthread_mutex_lock(&ctx->metrics_lock);
    int port = ctx->metrics ? ctx->metrics_port : -1;
    pthread_mutex_unlock(&ctx->metrics_lock);
    return port;
}

/* zmq_ctx_term returns only when every socket of the context is closed,
 * zguard's own (the authenticator's, the monitor readers) included: they go
 * first, while the application's sockets stay registered until it closes
 * them (and its threads may still be using them). */
void zg_ctx_release(zg_ctx_t *ctx)
{
    pthread_mutex_lock(&ctx->metrics_lock);
    zg_metrics_stop(&ctx->metrics);
    pthread_mutex_unlock(&ctx->metrics_lock);
    pthread_mutex_lock(&ctx->auth_lock);
    zg_auth_t *auth = ctx->auth;
    ctx->auth = NULL;
    pthread_mutex_unlock(&ctx->auth_lock);
    zg_auth_stop(&auth);
    /* stopped under the lock (its thread never takes it): a thread that
     * then finds no monitor (zg_monitor_remove, before freeing a socket)
     * knows the thread is gone, not still reading that socket's events */
    pthread_mutex_lock(&ctx->monitor_lock);
    zg_monitor_stop(&ctx->monitor);
    pthread_mutex_unlock(&ctx->monitor_lock);
}

static zg_sock_t *first_sock(zg_ctx_t *ctx)
{
    pthread_mutex_lock(&ctx->lock);
    zg_sock_t *s = ctx->socks;
    pthread_mutex_unlock(&ctx->lock);
    return s;
}

void zg_ctx_destroy(zg_ctx_t **ctxp)
{
    if (!ctxp || !*ctxp)
        return;
    zg_ctx_t *ctx = *ctxp;
    *ctxp = NULL;
    zg_metrics_stop(&ctx->metrics); /* no scrape during the teardown */
    /* zmq_ctx_term would wait forever for a socket nobody closes. The list
     * is read under its lock: a thread that closed its socket before this
     * (zguard run: zmq_ctx_term returned once it had) detached it there. */
    for (zg_sock_t *s; (s = first_sock(ctx));) {
        char label[ZG_NAME_MAX + 32];
        zg_sock_label(s, label, sizeof label);
        if (s->owned) {
            zg_log(ctx, ZG_LOG_WARNING,
                   "%s was still open at zg_ctx_destroy: closing it", label);
            void *z = s->zsock;
            zg_close(&z);
        } else {
            zg_forget(s->zsock);
        }
    }
    zg_auth_t *auth = atomic_exchange(&ctx->auth, NULL);
    zg_auth_stop(&auth);
    zg_monitor_stop(&ctx->monitor);
    if (ctx->owns_zmq)
        while (zmq_ctx_term(ctx->zmq) != 0 && errno == EINTR)
            ;
    certs_free(ctx);
    zg_passphrase_destroy(&ctx->pass);
    free(ctx->pass_file);
    ctx_free(ctx);
}

const char *zg_version_string(void)
{
#define ZG_STR2(x) #x
#define ZG_STR(x) ZG_STR2(x)
    return ZG_STR(ZG_VERSION_MAJOR) "." ZG_STR(ZG_VERSION_MINOR) "." ZG_STR(
        ZG_VERSION_PATCH);
}
