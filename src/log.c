/*
 * log.c - where zguard's messages and alerts go: nowhere unless asked.
 *
 * A library must not print behind its user's back, so a context starts with
 * no sink; the application picks stderr, syslog or its own function. Sinks
 * are called outside the context's lock, so a sink may call zguard. A few
 * warnings from before a sink was set are kept for it: zg_ctx_new checks the
 * libzmq version before the application could have set one.
 */
#include "zg_ctx.h"
#include "zg_error.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <pthread.h>
#include <stdbool.h>

const char *zg_log_level_name(zg_log_level_t level)
{
    switch (level) {
    case ZG_LOG_ERROR: return "error";
    case ZG_LOG_WARNING: return "warning";
    case ZG_LOG_NOTICE: return "notice";
    case ZG_LOG_INFO: return "info";
    case ZG_LOG_DEBUG: return "debug";
    default: return "log";
    }
}

void zg_log_stderr(void *arg, zg_log_level_t level, const char *line)
{
    (void)arg;
    fprintf(stderr, "zguard: %s: %s\n", zg_log_level_name(level), line);
}

void zg_log_syslog(void *arg, zg_log_level_t level, const char *line)
{
    (void)arg;
    syslog((int)level, "%s", line);
}

void zg_log_forget(zg_ctx_t *ctx)
{
    for (int i = 0; i < ctx->nearly; i++)
        free(ctx->early[i]);
    ctx->nearly = 0;
}

void zg_ctx_set_log(zg_ctx_t *ctx, zg_log_level_t level, zg_log_fn *fn,
                    void *arg)
{
    pthread_mutex_lock(&ctx->lock);
    ctx->log_level = level;
    ctx->log_fn = fn;
    ctx->log_arg = arg;
    int n = fn ? ctx->nearly : 0;
    char *early[ZG_EARLY_LOG_MAX];
    zg_log_level_t levels[ZG_EARLY_LOG_MAX];
    memcpy(early, ctx->early, sizeof early);
    memcpy(levels, ctx->early_level, sizeof levels);
    if (fn)
        ctx->nearly = 0;
    pthread_mutex_unlock(&ctx->lock);
    for (int i = 0; i < n; i++) {
        if (levels[i] <= level)
            fn(arg, levels[i], early[i]);
        free(early[i]);
    }
}

/* No sink yet: keep a few warnings for the first one. */
static void keep_early(zg_ctx_t *ctx, zg_log_level_t level, const char *line)
{
    if (level > ZG_LOG_WARNING || ctx->nearly == ZG_EARLY_LOG_MAX)
        return;
    char *copy = strdup(line);
    if (copy) {
        ctx->early_level[ctx->nearly] = level;
        ctx->early[ctx->nearly++] = copy;
    }
}

void zg_ctx_set_alert(zg_ctx_t *ctx, zg_alert_fn *fn, void *arg)
{
    pthread_mutex_lock(&ctx->lock);
    ctx->alert_fn = fn;
    ctx->alert_arg = arg;
    pthread_mutex_unlock(&ctx->lock);
}

ZG_PRINTF(3, 0)
static void vlog(zg_ctx_t *ctx, zg_log_level_t level, const char *fmt,
                 va_list ap)
{
    pthread_mutex_lock(&ctx->lock);
    zg_log_fn *fn = level <= ctx->log_level ? ctx->log_fn : NULL;
    void *arg = ctx->log_arg;
    bool keep = !ctx->log_fn && level <= ZG_LOG_WARNING;
    pthread_mutex_unlock(&ctx->lock);
    if (!fn && !keep)
        return;
    char line[ZG_ERROR_MAX];
    vsnprintf(line, sizeof line, fmt, ap);
    if (keep) {
        pthread_mutex_lock(&ctx->lock);
        keep_early(ctx, level, line);
        pthread_mutex_unlock(&ctx->lock);
    }
    if (fn)
        fn(arg, level, line);
}

void zg_log(zg_ctx_t *ctx, zg_log_level_t level, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vlog(ctx, level, fmt, ap);
    va_end(ap);
}

void zg_alert(zg_ctx_t *ctx, const char *name, const char *socket, int active,
              const char *fmt, ...)
{
    char message[ZG_ERROR_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(message, sizeof message, fmt, ap);
    va_end(ap);
    zg_log(ctx, active ? ZG_LOG_WARNING : ZG_LOG_NOTICE,
           "alert %s %s: socket=%s %s", name, active ? "raised" : "cleared",
           socket, message);
    pthread_mutex_lock(&ctx->lock);
    zg_alert_fn *fn = ctx->alert_fn;
    void *arg = ctx->alert_arg;
    pthread_mutex_unlock(&ctx->lock);
    if (fn) {
        zg_alert_t alert = {name, socket, active, message};
        fn(arg, &alert);
    }
}
