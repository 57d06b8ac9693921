/*
 * preload.c - libzguard-preload.so: the policy on a program that was never
 * written for zguard (`zguard run`, docs/run.md).
 *
 * Loaded with LD_PRELOAD, it defines the libzmq calls programs make (C,
 * CZMQ and pyzmq alike: found with nm -D, not guessed) and passes them on to
 * libzmq with the policy in between:
 *   - every context gets a zguard context (zg_ctx_wrap): log, monitors,
 *     authenticator, metrics (the first context serves [metrics] listen);
 *   - a socket is hardened at its first bind or connect, the moment its
 *     endpoint tells which [socket.NAME] it is (bind = / connect = globs),
 *     before the real bind/connect; unmatched sockets get their type's
 *     values, and an unmatched socket whose first endpoint is inproc:// is
 *     left as the program made it (it never leaves the process, and
 *     libraries' internal pipes - CZMQ actors, pyzmq's garbage collector -
 *     rely on blocking forever);
 *   - a setsockopt that would weaken the policy fails (EINVAL, or EACCES
 *     for security) with one log line, unless the section says
 *     app_overrides = allow; tighter bounds the program sets are kept;
 *   - sends and receives on hardened sockets go through zg_send/zg_recv
 *     (counters, timeouts classified, messages of revoked keys dropped);
 *   - zmq_ctx_term first ends zguard's own part of the context, so that it
 *     returns when the program has closed its sockets.
 * Observe mode (ZGUARD_REPORT set, `zguard run --observe`) changes none of
 * this program's calls: every one goes to observe.c, which passes it to
 * libzmq and records what it did.
 * libzguard's own code in this library calls libzmq directly (real.h), so
 * nothing of zguard is ever wrapped. No lock is held across a libzmq call.
 */
#include "preload.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define ENV_POLICY "ZGUARD_POLICY"
#define ZG_EXPORTED __attribute__((visibility("default")))

/* The library's one-time state: the policy, and the contexts and sockets
 * seen, under one lock held only for list operations. */
static pthread_once_t once = PTHREAD_ONCE_INIT;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static zg_policy_t *policy; /* NULL: it did not load; fail closed */
static app_ctx_t *ctxs;
static app_sock_t *socks;
static bool metrics_served;
static bool observing; /* zguard run --observe: observe.c records, no more */

static void say(zg_log_level_t level, const char *fmt, ...) ZG_PRINTF(2, 3);
static void say(zg_log_level_t level, const char *fmt, ...)
{
    char line[ZG_ERROR_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    zg_log_stderr(NULL, level, line);
}

/* A child of fork() may still call in (to close what it inherited): the
 * lock may have been held by a thread that does not exist there. */
static void after_fork(void)
{
    pthread_mutex_init(&lock, NULL);
}

static void init(void)
{
    if (!zg_real_ready())
        return;
    const char *path = getenv(ENV_POLICY);
    zg_diag_t *diag = zg_diag_new();
    policy = path && *path ? zg_policy_load(path, diag) : zg_policy_builtin();
    observing = zg_obs_start(path && *path ? policy : NULL, path);
    if (!policy && !observing) {
        say(ZG_LOG_ERROR, "policy %s does not load (%s): every zmq_ctx_new "
            "fails", path, zg_last_error());
        zg_diag_print(diag, stderr);
    }
    zg_diag_destroy(&diag);
    pthread_atfork(NULL, NULL, after_fork);
}

static bool ready(void)
{
    pthread_once(&once, init);
    if (observing)
        return true;
    if (!policy)
        errno = zg_real_ready() ? EINVAL : EFAULT;
    return policy != NULL;
}

/* ---- contexts ---------------------------------------------------------- */

/* A context made in this process: one inherited through fork() has no
 * zguard threads here (and libzmq forbids using it): it is passed through. */
static app_ctx_t *ctx_find(void *zmq)
{
    pthread_mutex_lock(&lock);
    app_ctx_t *c = ctxs;
    while (c && c->zmq != zmq)
        c = c->next;
    pthread_mutex_unlock(&lock);
    return c && c->pid == getpid() ? c : NULL;
}

static void *ctx_wrap(void *zmq)
{
    if (!zmq)
        return NULL;
    pthread_mutex_lock(&lock);
    bool serve = !metrics_served;
    metrics_served = true;
    pthread_mutex_unlock(&lock);
    /* A monitored socket is three libzmq sockets: keep 1023 for its own. */
    zmq_ctx_set(zmq, ZMQ_MAX_SOCKETS,
                ZMQ_MAX_SOCKETS_DFLT * ZG_SOCKETS_PER_SOCKET);
    app_ctx_t *c = calloc(1, sizeof *c);
    zg_ctx_t *zg = c && serve ? zg_ctx_wrap(zmq, policy) : NULL;
    if (c && !zg) {
        /* metrics are for people: a second process of the program (its
         * children inherit the preload) cannot have the same port, and
         * runs protected without them */
        if (serve)
            say(ZG_LOG_WARNING, "%s: this process (%d) serves no metrics",
                zg_last_error(), (int)getpid());
        zg = zg_ctx_wrap_quiet(zmq, policy);
    }
    if (!zg) {
        say(ZG_LOG_ERROR, "zmq_ctx_new: refused: %s",
            c ? zg_last_error() : "out of memory");
        free(c);
        zg_real_zmq_ctx_term(zmq);
        errno = c ? EINVAL : ENOMEM;
        return NULL;
    }
    zg_ctx_set_log(zg, ZG_LOG_WARNING, zg_log_stderr, NULL);
    c->pid = getpid();
    c->zmq = zmq;
    c->zg = zg;
    pthread_mutex_lock(&lock);
    c->next = ctxs;
    ctxs = c;
    pthread_mutex_unlock(&lock);
    return zmq;
}

ZG_EXPORTED void *zmq_ctx_new(void)
{
    if (ready() && observing)
        return zg_obs_ctx_new(zg_real_zmq_ctx_new());
    return ready() ? ctx_wrap(zg_real_zmq_ctx_new()) : NULL;
}

/* As libzmq's own zmq_init, which calls zmq_ctx_new through its exported
 * symbol: here, that would wrap the context twice. */
ZG_EXPORTED void *zmq_init(int io_threads)
{
    if (io_threads < 0) {
        errno = EINVAL;
        return NULL;
    }
    void *zmq = ready() ? zg_real_zmq_ctx_new() : NULL;
    if (zmq && zmq_ctx_set(zmq, ZMQ_IO_THREADS, io_threads) != 0) {
        zg_real_zmq_ctx_term(zmq);
        return NULL;
    }
    return observing ? zg_obs_ctx_new(zmq) : ctx_wrap(zmq);
}

/* zguard's threads and sockets leave the context before libzmq waits for
 * the program's sockets. */
static app_ctx_t *ctx_release(void *zmq)
{
    app_ctx_t *c = ctx_find(zmq);
    if (!c)
        return NULL;
    pthread_mutex_lock(&lock);
    bool first = !c->released;
    c->released = true;
    pthread_mutex_unlock(&lock);
    if (first)
        zg_ctx_release(c->zg);
    return c;
}

typedef int(ctx_end_fn)(void *);

static int ctx_end(void *zmq, ctx_end_fn *end)
{
    if (observing)
        return zg_obs_ctx_term(zmq, end);
    app_ctx_t *c = ctx_release(zmq);
    int rc = end(zmq);
    if (rc != 0 || !c)
        return rc;
    pthread_mutex_lock(&lock);
    app_ctx_t **p = &ctxs;
    while (*p && *p != c)
        p = &(*p)->next;
    if (*p)
        *p = c->next;
    pthread_mutex_unlock(&lock);
    zg_ctx_destroy(&c->zg); /* every socket is closed: term returned */
    free(c);
    return 0;
}

ZG_EXPORTED int zmq_ctx_term(void *zmq)
{
    return ctx_end(zmq, zg_real_zmq_ctx_term);
}

/* libzmq's zmq_ctx_destroy and zmq_term are zmq_ctx_term (and call it
 * through its exported symbol: calling them would end the context twice). */
ZG_EXPORTED int zmq_ctx_destroy(void *zmq)
{
    return ctx_end(zmq, zg_real_zmq_ctx_term);
}

ZG_EXPORTED int zmq_term(void *zmq)
{
    return ctx_end(zmq, zg_real_zmq_ctx_term);
}

ZG_EXPORTED int zmq_ctx_shutdown(void *zmq)
{
    if (observing)
        return zg_real_zmq_ctx_shutdown(zmq);
    ctx_release(zmq);
    return zg_real_zmq_ctx_shutdown(zmq);
}

/* ---- sockets ------------------------------------------------------------ */

static app_sock_t *sock_find(void *zsock)
{
    pthread_mutex_lock(&lock);
    app_sock_t *a = socks;
    while (a && a->zsock != zsock)
        a = a->next;
    pthread_mutex_unlock(&lock);
    return a && a->ctx->pid == getpid() ? a : NULL;
}

static app_sock_t *sock_take(void *zsock)
{
    pthread_mutex_lock(&lock);
    app_sock_t **p = &socks;
    while (*p && (*p)->zsock != zsock)
        p = &(*p)->next;
    app_sock_t *a = *p;
    if (a)
        *p = a->next;
    pthread_mutex_unlock(&lock);
    if (a && a->ctx->pid != getpid())
        a->hardened = false; /* the parent's: forget it, nothing more */
    return a;
}

ZG_EXPORTED void *zmq_socket(void *zmq, int type)
{
    if (observing)
        return zg_obs_socket(zmq, type);
    void *zsock = zg_real_zmq_socket(zmq, type);
    app_ctx_t *c = zsock ? ctx_find(zmq) : NULL;
    if (!c)
        return zsock;
    app_sock_t *a = calloc(1, sizeof *a);
    if (!a) {
        zg_real_zmq_close(zsock);
        say(ZG_LOG_ERROR, "zmq_socket: out of memory");
        errno = ENOMEM;
        return NULL;
    }
    a->zsock = zsock;
    a->ctx = c;
    a->type = type;
    pthread_mutex_lock(&lock);
    a->next = socks;
    socks = a;
    pthread_mutex_unlock(&lock);
    return zsock;
}

ZG_EXPORTED int zmq_close(void *zsock)
{
    if (observing)
        return zg_obs_close(zsock);
    app_sock_t *a = sock_take(zsock);
    if (a && a->hardened)
        zg_forget(zsock);
    free(a);
    return zg_real_zmq_close(zsock);
}

ZG_EXPORTED int zmq_setsockopt(void *zsock, int option, const void *value,
                               size_t len)
{
    if (observing)
        return zg_obs_setsockopt(zsock, option, value, len);
    app_sock_t *a = sock_find(zsock);
    if (!a || (a->attached && !a->hardened))
        return zg_real_zmq_setsockopt(zsock, option, value, len);
    int err = zg_run_judge(policy, a, option, value, len);
    if (err) {
        errno = err;
        return -1;
    }
    int rc = zg_real_zmq_setsockopt(zsock, option, value, len);
    if (rc == 0)
        zg_run_note(a, option, value, len);
    return rc;
}

/* The first bind/connect names the socket: harden it then, or leave an
 * unmatched inproc socket as the program made it. 0, or -1 with errno. */
static int first_attach(app_sock_t *a, const char *endpoint, bool bind)
{
    const char *name = zg_policy_match(policy, a->type, endpoint, bind);
    snprintf(a->endpoint, sizeof a->endpoint, "%s", endpoint);
    a->attached = true;
    if (!name && strncmp(endpoint, "inproc://", 9) == 0)
        return 0;
    int err = zg_run_judge_pending(policy, a, name);
    a->app.overrides = name && zg_policy_overrides(policy, a->type, name);
    if (err == 0 && zg_harden_app(a->ctx->zg, a->zsock, name, &a->app) != 0)
        err = errno && errno != EPROTO ? errno : EINVAL;
    if (err) {
        a->attached = false; /* the next attempt is judged again */
        errno = err;
        return -1;
    }
    a->hardened = true;
    return 0;
}

static int attach(void *zsock, const char *endpoint, bool bind)
{
    if (observing)
        return zg_obs_attach(zsock, endpoint, bind);
    app_sock_t *a = endpoint ? sock_find(zsock) : NULL;
    /* a socket left alone for its inproc endpoint that now reaches out of
     * the process is hardened now: options apply to later endpoints */
    if (a && a->attached && !a->hardened &&
        strncmp(endpoint, "inproc://", 9) != 0)
        a->attached = false;
    if (a && !a->attached && first_attach(a, endpoint, bind) != 0)
        return -1;
    if (!a || !a->hardened)
        return bind ? zg_real_zmq_bind(zsock, endpoint)
                    : zg_real_zmq_connect(zsock, endpoint);
    if ((bind ? zg_bind(zsock, endpoint) : zg_connect(zsock, endpoint)) == 0)
        return 0;
    if (errno == EPERM) /* no CURVE where the policy requires it */
        errno = EACCES;
    return -1;
}

ZG_EXPORTED int zmq_bind(void *zsock, const char *endpoint)
{
    return attach(zsock, endpoint, true);
}

ZG_EXPORTED int zmq_connect(void *zsock, const char *endpoint)
{
    return attach(zsock, endpoint, false);
}

/* ---- send and receive: hardened sockets through zguard's paths ---------- */

/* Every send and receive of the program comes here. The common case, a
 * hardened socket this thread used lately, is the thread's registry cache
 * (no call, no lock, no table) and a tail call to zguard's path (io.c's
 * zg_app_*: counted, the policy's timeouts, messages of revoked keys
 * dropped). Everything else is out of line, so the common case saves no
 * registers for it: observe mode (which hardens nothing, so its sockets
 * are never in the cache), the registry's table, and sockets zguard does
 * not know (left alone, or of a context made before a fork), which go to
 * libzmq as they are. */

/* OP's wrapper, zmq_OP, and its out-of-line rest, OP_other. PARAMS name
 * the socket zsock; APP_ARGS are ARGS with zguard's state s for it. */
#define WRAP(op, params, args, app_args)                                      \
    __attribute__((noinline)) static int op##_other params                   \
    {                                                                         \
        if (observing)                                                        \
            return zg_obs_##op args;                                          \
        zg_sock_t *s = zg_registry_miss(zsock);                               \
        return s ? zg_app_##op app_args : zg_real_zmq_##op args;              \
    }                                                                         \
    ZG_EXPORTED int zmq_##op params                                           \
    {                                                                         \
        zg_sock_t *s = zg_registry_cached(zsock);                             \
        return s ? zg_app_##op app_args : op##_other args;                    \
    }

WRAP(send, (void *zsock, const void *buf, size_t len, int flags),
     (zsock, buf, len, flags), (s, buf, len, flags))
WRAP(msg_send, (zmq_msg_t * msg, void *zsock, int flags), (msg, zsock, flags),
     (s, msg, flags))
WRAP(recv, (void *zsock, void *buf, size_t len, int flags),
     (zsock, buf, len, flags), (s, buf, len, flags))
WRAP(msg_recv, (zmq_msg_t * msg, void *zsock, int flags), (msg, zsock, flags),
     (s, msg, flags))

/* libzmq's older names, which its own definitions pass on through the
 * exported symbols (so they would reach the wrappers anyway) */
ZG_EXPORTED int zmq_sendmsg(void *zsock, zmq_msg_t *msg, int flags)
{
    return zmq_msg_send(msg, zsock, flags);
}

ZG_EXPORTED int zmq_recvmsg(void *zsock, zmq_msg_t *msg, int flags)
{
    return zmq_msg_recv(msg, zsock, flags);
}
