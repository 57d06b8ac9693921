/*
 * ctx.c - a zguard context: a libzmq context, its policy, its log and alert
 * sinks, and the sockets zguard hardened in it.
 *
 * Everything zguard does for a socket needs the same libzmq context (the ZAP
 * handler must live in it), so the zguard context either owns one or wraps
 * the application's own.
 */
#include "zg_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static zg_ctx_t *ctx_make(void *zmq, bool owns, zg_policy_t *policy)
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
    if (!ctx->policy) {
        pthread_mutex_destroy(&ctx->lock);
        free(ctx);
        zg_error_set("out of memory");
        return NULL;
    }
    return ctx;
}

zg_ctx_t *zg_ctx_new(zg_policy_t *policy)
{
    void *zmq = zmq_ctx_new();
    if (!zmq) {
        zg_error_set("zmq_ctx_new: %s", zmq_strerror(errno));
        return NULL;
    }
    zg_ctx_t *ctx = ctx_make(zmq, true, policy);
    if (!ctx)
        zmq_ctx_term(zmq);
    return ctx;
}

zg_ctx_t *zg_ctx_wrap(void *zmq_ctx, zg_policy_t *policy)
{
    if (!zmq_ctx) {
        errno = EINVAL;
        zg_error_set("zg_ctx_wrap: no libzmq context");
        return NULL;
    }
    return ctx_make(zmq_ctx, false, policy);
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

void zg_ctx_destroy(zg_ctx_t **ctxp)
{
    if (!ctxp || !*ctxp)
        return;
    zg_ctx_t *ctx = *ctxp;
    *ctxp = NULL;
    /* zmq_ctx_term would wait forever for a socket nobody closes. */
    while (ctx->socks) {
        zg_sock_t *s = ctx->socks;
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
    if (ctx->owns_zmq)
        while (zmq_ctx_term(ctx->zmq) != 0 && errno == EINTR)
            ;
    zg_policy_destroy(&ctx->policy);
    pthread_mutex_destroy(&ctx->lock);
    free(ctx);
}

const char *zg_version_string(void)
{
#define ZG_STR2(x) #x
#define ZG_STR(x) ZG_STR2(x)
    return ZG_STR(ZG_VERSION_MAJOR) "." ZG_STR(ZG_VERSION_MINOR) "." ZG_STR(
        ZG_VERSION_PATCH);
}
