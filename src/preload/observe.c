/*
 * observe.c - `zguard run --observe`: every libzmq call of the program goes
 * through to libzmq unchanged, and what it did is recorded for a report
 * (observe_report.c): contexts, sockets, endpoints, the options the program
 * set and libzmq's defaults of the others, messages and bytes each way, the
 * longest time one send or receive blocked, the mechanism in use.
 *
 * Cheap on the data path: a thread remembers the last socket it used (no
 * lock), counters are relaxed atomic loads and stores (one writer each),
 * and a send or receive is timed only when it would block: it is first
 * tried with ZMQ_DONTWAIT (which libzmq treats exactly as the call would
 * have, minus the wait) and only on EAGAIN clocked around the real,
 * blocking call.
 *
 * Reports are written at exit, when the program terminates its last
 * context, and on SIGUSR1. The SIGUSR1 handler is installed only where the
 * signal's disposition is the default (which would kill the program): a
 * program or interpreter that handles or ignores SIGUSR1 keeps it, and
 * then reports come at exit and zmq_ctx_term only. The handler writes one
 * byte to a pipe; a thread of ours with every signal blocked writes the
 * report. The signal may land on any of the program's threads and
 * interrupt a blocking call there: a send or receive interrupted by our
 * signal is restarted here, unseen; zmq_poll is not wrapped, and returns
 * EINTR as it does for any signal (programs must handle that anyway).
 * A forked child writes FILE.<pid> with its own contexts and sockets.
 */
#include "observe.h"

#include "zg_file.h"
#include "zg_thread.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define ENV_REPORT "ZGUARD_REPORT"
#define ENV_REPORT_PID "ZGUARD_REPORT_PID"
#define REPORT_PATH_MAX 4096

typedef struct observer {
    pthread_mutex_t lock;        /* the lists, a record's non-counters */
    pthread_mutex_t write_lock;  /* one report written at a time */
    const zg_policy_t *policy;
    const char *policy_file;
    char report[REPORT_PATH_MAX];
    pid_t report_pid; /* this pid writes FILE, others FILE.<pid> */
    obs_ctx_t *ctxs;
    obs_sock_t *socks;
    int nsocks, untracked, next_ctx, next_sock;
    int pipe[2];
    pid_t reporter_pid; /* the process whose reporter thread runs */
    const char *sigusr1;
} observer_t;

static observer_t obs = {.lock = PTHREAD_MUTEX_INITIALIZER,
                         .write_lock = PTHREAD_MUTEX_INITIALIZER,
                         .pipe = {-1, -1}};
static atomic_uint signals_seen;
static __thread obs_sock_t *last_sock; /* this thread's last socket */

static void obs_after_fork(void)
{
    pthread_mutex_init(&obs.lock, NULL);
    pthread_mutex_init(&obs.write_lock, NULL);
}

bool zg_obs_start(const zg_policy_t *policy, const char *policy_file)
{
    const char *path = getenv(ENV_REPORT);
    if (!path || !*path)
        return false;
    snprintf(obs.report, sizeof obs.report, "%s", path);
    const char *pid = getenv(ENV_REPORT_PID);
    obs.report_pid = pid ? (pid_t)atol(pid) : getpid();
    obs.policy = policy;
    obs.policy_file = policy_file;
    obs.sigusr1 = "not installed (no context yet)";
    pthread_atfork(NULL, NULL, obs_after_fork);
    return true;
}

/* ---- the report --------------------------------------------------------- */

static char *render(const obs_state_t *st, bool md, size_t *len)
{
    char *buf = NULL;
    FILE *f = open_memstream(&buf, len);
    if (!f)
        return NULL;
    if (md)
        zg_obs_render_md(st, f);
    else
        zg_obs_render_json(st, f);
    if (fclose(f) != 0) {
        free(buf);
        return NULL;
    }
    return buf;
}

static void report_write(const char *trigger)
{
    pthread_mutex_lock(&obs.write_lock);
    char *json = NULL, *md = NULL;
    size_t jlen = 0, mlen = 0;
    pthread_mutex_lock(&obs.lock);
    obs_state_t st = {obs.ctxs, obs.socks, obs.untracked, obs.policy_file,
                      trigger, obs.sigusr1};
    json = render(&st, false, &jlen);
    md = render(&st, true, &mlen);
    pthread_mutex_unlock(&obs.lock);
    char path[REPORT_PATH_MAX + 16], mdpath[REPORT_PATH_MAX + 24];
    if (getpid() == obs.report_pid)
        snprintf(path, sizeof path, "%s", obs.report);
    else
        snprintf(path, sizeof path, "%s.%d", obs.report, (int)getpid());
    snprintf(mdpath, sizeof mdpath, "%s.md", path);
    zg_write_t files[2] = {{path, json, jlen, 0600}, {mdpath, md, mlen, 0600}};
    if (!json || !md || zg_files_write(files, 2, ZG_WRITE_REPLACE) != 0) {
        fprintf(stderr, "zguard: error: observe: cannot write the report "
                "%s: %s\n", path, json && md ? zg_last_error()
                                              : "out of memory");
    }
    free(json);
    free(md);
    pthread_mutex_unlock(&obs.write_lock);
}

/* Only a process that made contexts of its own reports (a forked child
 * that never used libzmq writes nothing). */
static bool has_own_contexts(void)
{
    pthread_mutex_lock(&obs.lock);
    bool own = false;
    for (const obs_ctx_t *c = obs.ctxs; c && !own; c = c->next)
        own = c->pid == getpid();
    pthread_mutex_unlock(&obs.lock);
    return own;
}

__attribute__((destructor)) static void report_at_exit(void)
{
    if (obs.report[0] && has_own_contexts())
        report_write("exit");
}

/* ---- SIGUSR1: a byte in a pipe, a thread of ours writes the report ------ */

static void on_sigusr1(int sig)
{
    (void)sig;
    int saved = errno;
    atomic_fetch_add(&signals_seen, 1);
    char b = 1;
    ssize_t n = write(obs.pipe[1], &b, 1);
    (void)n; /* full: a report is coming anyway */
    errno = saved;
}

static void *reporter(void *arg)
{
    (void)arg;
    char b[64];
    for (;;) {
        ssize_t n = read(obs.pipe[0], b, sizeof b);
        if (n > 0)
            report_write("SIGUSR1");
        else if (n == 0 || errno != EINTR)
            return NULL;
    }
}

static void sigusr1_says(const char *how)
{
    pthread_mutex_lock(&obs.lock);
    obs.sigusr1 = how;
    pthread_mutex_unlock(&obs.lock);
}

/* At the first context of a process (a forked child starts its own). */
static void trigger_start(void)
{
    pthread_mutex_lock(&obs.lock);
    bool start = obs.reporter_pid != getpid();
    obs.reporter_pid = getpid();
    pthread_mutex_unlock(&obs.lock);
    if (!start)
        return;
    struct sigaction old;
    bool ours = sigaction(SIGUSR1, NULL, &old) == 0 &&
                !(old.sa_flags & SA_SIGINFO) &&
                old.sa_handler == on_sigusr1; /* a forked child's */
    if (!ours && (old.sa_handler != SIG_DFL || (old.sa_flags & SA_SIGINFO))) {
        sigusr1_says("the program handles or ignores SIGUSR1 itself: "
                     "reports at exit and zmq_ctx_term only");
        return;
    }
    if (obs.pipe[0] >= 0) { /* the parent's, inherited */
        close(obs.pipe[0]);
        close(obs.pipe[1]);
    }
    if (pipe2(obs.pipe, O_CLOEXEC | O_NONBLOCK) != 0 ||
        fcntl(obs.pipe[0], F_SETFL, 0) != 0) /* the reader blocks */
        return;
    pthread_t t;
    if (zg_thread_start(&t, reporter, NULL) != 0)
        return;
    pthread_detach(t);
    struct sigaction sa = {.sa_handler = on_sigusr1, .sa_flags = SA_RESTART};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGUSR1, &sa, NULL);
    sigusr1_says("kill -USR1 PID writes a report");
}

/* ---- contexts ----------------------------------------------------------- */

void *zg_obs_ctx_new(void *zmq)
{
    if (!zmq)
        return NULL;
    obs_ctx_t *c = calloc(1, sizeof *c);
    if (c) {
        c->zmq = zmq;
        c->pid = getpid();
        pthread_mutex_lock(&obs.lock);
        c->id = ++obs.next_ctx;
        c->next = obs.ctxs;
        obs.ctxs = c;
        pthread_mutex_unlock(&obs.lock);
    }
    trigger_start();
    return zmq;
}

static obs_ctx_t *ctx_find_locked(void *zmq)
{
    obs_ctx_t *c = obs.ctxs;
    while (c && !(c->zmq == zmq && c->pid == getpid() && !c->terminated))
        c = c->next;
    return c;
}

int zg_obs_ctx_term(void *zmq, int (*end)(void *))
{
    int rc = end(zmq);
    if (rc != 0)
        return rc;
    int saved = errno;
    pthread_mutex_lock(&obs.lock);
    obs_ctx_t *c = ctx_find_locked(zmq);
    if (c)
        c->terminated = true;
    bool last = c != NULL;
    for (const obs_ctx_t *o = obs.ctxs; o && last; o = o->next)
        last = o->pid != getpid() || o->terminated;
    pthread_mutex_unlock(&obs.lock);
    if (last)
        report_write("zmq_ctx_term");
    errno = saved;
    return rc;
}

/* ---- sockets ------------------------------------------------------------ */

static obs_sock_t *sock_find(void *zsock)
{
    obs_sock_t *o = last_sock;
    if (o && o->zsock == zsock && !atomic_load_explicit(&o->closed,
                                                        memory_order_relaxed))
        return o;
    pthread_mutex_lock(&obs.lock);
    for (o = obs.socks; o; o = o->next)
        if (o->zsock == zsock && o->pid == getpid() && !o->closed)
            break;
    pthread_mutex_unlock(&obs.lock);
    if (o)
        last_sock = o;
    return o;
}

void *zg_obs_socket(void *zmq, int type)
{
    void *zsock = zg_real_zmq_socket(zmq, type);
    if (!zsock)
        return NULL;
    int saved = errno;
    obs_sock_t *o = calloc(1, sizeof *o);
    pthread_mutex_lock(&obs.lock);
    obs_ctx_t *c = ctx_find_locked(zmq);
    if (o && c && obs.nsocks < OBS_SOCKETS_MAX) {
        o->zsock = zsock;
        o->id = ++obs.next_sock;
        o->ctx_id = c->id;
        o->type = type;
        o->pid = getpid();
        o->next = obs.socks;
        obs.socks = o;
        obs.nsocks++;
        o = NULL;
    } else if (c) {
        obs.untracked++;
    }
    pthread_mutex_unlock(&obs.lock);
    free(o); /* not kept */
    errno = saved;
    return zsock;
}

int zg_obs_close(void *zsock)
{
    obs_sock_t *o = sock_find(zsock);
    if (o)
        atomic_store(&o->closed, true);
    return zg_real_zmq_close(zsock);
}

static bool is_secret(int option)
{
    return option == ZMQ_CURVE_SECRETKEY || option == ZMQ_PLAIN_PASSWORD;
}

static void option_text(int option, const void *value, size_t len,
                        char *buf, size_t cap)
{
    const unsigned char *v = value;
    bool text = len > 0;
    for (size_t i = 0; i < len && text; i++)
        text = v[i] >= 0x20 && v[i] < 0x7f && v[i] != '"' && v[i] != '\\';
    if (is_secret(option))
        snprintf(buf, cap, "(secret: not recorded)");
    else if (len == sizeof(int) && !text) {
        int i;
        memcpy(&i, value, sizeof i);
        snprintf(buf, cap, "%d", i);
    } else if (len == sizeof(int64_t) && !text) {
        int64_t i;
        memcpy(&i, value, sizeof i);
        snprintf(buf, cap, "%lld", (long long)i);
    } else if (text && len < cap)
        snprintf(buf, cap, "%.*s", (int)len, (const char *)value);
    else
        snprintf(buf, cap, "(%zu bytes)", len);
}

static void note_option(obs_sock_t *o, int option, const void *value,
                        size_t len)
{
    int i = 0;
    while (i < o->nset && o->set[i].option != option)
        i++;
    if (i == o->nset) {
        if (o->nset == OBS_OPTIONS_MAX) {
            o->dropped_options++;
            return;
        }
        o->nset++;
    }
    o->set[i].option = option;
    option_text(option, value, len, o->set[i].value, sizeof o->set[i].value);
    int f = zg_field_from_option(option, o->type);
    if (f < 0)
        return;
    int64_t v;
    if (!zg_run_field_value(zg_field_info((zg_field_t)f), value, len, &v))
        return;
    o->value[f] = v;
    o->source[f] = OBS_PROGRAM;
}

int zg_obs_setsockopt(void *zsock, int option, const void *value, size_t len)
{
    int rc = zg_real_zmq_setsockopt(zsock, option, value, len);
    obs_sock_t *o = rc == 0 ? sock_find(zsock) : NULL;
    if (o) {
        pthread_mutex_lock(&obs.lock);
        note_option(o, option, value, len);
        pthread_mutex_unlock(&obs.lock);
    }
    return rc;
}

/* libzmq's values of what the program did not set, read at the first
 * bind/connect (the owning thread, outside the lock). */
static void read_defaults(obs_sock_t *o, int64_t *value, bool *have)
{
    for (int f = 0; f < ZG_FIELD_COUNT; f++) {
        const zg_field_info_t *info = zg_field_info((zg_field_t)f);
        have[f] = false;
        if (!info->zmq_option || info->write_only ||
            !zg_field_applies((zg_field_t)f, o->type))
            continue;
        int64_t v = 0;
        int n = 0;
        size_t len = info->zmq_int64 ? sizeof v : sizeof n;
        if (zmq_getsockopt(o->zsock, info->zmq_option,
                           info->zmq_int64 ? (void *)&v : (void *)&n,
                           &len) != 0)
            continue;
        if (!info->zmq_int64)
            v = n;
        value[f] = v == -1 ? -1 : v * info->zmq_scale;
        have[f] = true;
    }
}

int zg_obs_attach(void *zsock, const char *endpoint, bool bind)
{
    int rc = bind ? zg_real_zmq_bind(zsock, endpoint)
                  : zg_real_zmq_connect(zsock, endpoint);
    obs_sock_t *o = rc == 0 && endpoint ? sock_find(zsock) : NULL;
    if (!o)
        return rc;
    int saved = errno;
    int64_t value[ZG_FIELD_COUNT];
    bool have[ZG_FIELD_COUNT];
    if (!o->attached)
        read_defaults(o, value, have);
    int mech = 0;
    size_t mlen = sizeof mech;
    zmq_getsockopt(zsock, ZMQ_MECHANISM, &mech, &mlen);
    const char *name = !o->attached && obs.policy
                           ? zg_policy_match(obs.policy, o->type, endpoint,
                                             bind)
                           : NULL;
    pthread_mutex_lock(&obs.lock);
    if (!o->attached) {
        for (int f = 0; f < ZG_FIELD_COUNT; f++)
            if (have[f] && o->source[f] != OBS_PROGRAM) {
                o->value[f] = value[f];
                o->source[f] = OBS_DEFAULT;
            }
        snprintf(o->match, sizeof o->match, "%s", name ? name : "");
        o->attached = true;
    }
    o->mechanism = mech;
    int *n = bind ? &o->nbind : &o->nconnect;
    char(*list)[ZG_ENDPOINT_TEXT_MAX] = bind ? o->bind : o->connect;
    if (*n < OBS_ENDPOINTS_MAX)
        snprintf(list[(*n)++], ZG_ENDPOINT_TEXT_MAX, "%s", endpoint);
    else
        o->dropped_endpoints++;
    pthread_mutex_unlock(&obs.lock);
    errno = saved;
    return rc;
}

/* ---- send and receive --------------------------------------------------- */

static uint64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

typedef int(io_fn)(void *zsock, void *a, size_t len, int flags);

static int io_send(void *s, void *a, size_t len, int flags)
{
    return zg_real_zmq_send(s, a, len, flags);
}
static int io_recv(void *s, void *a, size_t len, int flags)
{
    return zg_real_zmq_recv(s, a, len, flags);
}
static int io_msg_send(void *s, void *a, size_t len, int flags)
{
    (void)len;
    return zg_real_zmq_msg_send(a, s, flags);
}
static int io_msg_recv(void *s, void *a, size_t len, int flags)
{
    (void)len;
    return zg_real_zmq_msg_recv(a, s, flags);
}

/* A flow has one writer, its socket's thread (libzmq sockets are not
 * thread-safe): plain relaxed loads and stores, no locked instruction on
 * the data path; a report on another thread reads whole values. */
static void flow_add(_Atomic uint64_t *at, uint64_t v)
{
    uint64_t was = atomic_load_explicit(at, memory_order_relaxed);
    atomic_store_explicit(at, was + v, memory_order_relaxed);
}

static void flow_max(_Atomic uint64_t *at, uint64_t v)
{
    if (v > atomic_load_explicit(at, memory_order_relaxed))
        atomic_store_explicit(at, v, memory_order_relaxed);
}

/* rc as the program gets it; a message (one frame) counted when it went. */
static int io_counted(obs_sock_t *o, int rc, bool out)
{
    if (rc >= 0) {
        obs_flow_t *fl = out ? &o->out : &o->in;
        flow_add(&fl->messages, 1);
        flow_add(&fl->bytes, (uint64_t)rc);
        flow_max(&fl->largest, (uint64_t)rc);
    }
    return rc;
}

/* The call as the program made it; timed only when it has to wait. */
static int io(void *zsock, io_fn *call, void *a, size_t len, int flags,
              bool out)
{
    obs_sock_t *o = sock_find(zsock);
    if (!o)
        return call(zsock, a, len, flags);
    if (flags & ZMQ_DONTWAIT)
        return io_counted(o, call(zsock, a, len, flags), out);
    int rc = call(zsock, a, len, flags | ZMQ_DONTWAIT);
    if (rc >= 0 || errno != EAGAIN)
        return io_counted(o, rc, out);
    uint64_t t0 = now_us();
    unsigned seen;
    do {
        seen = atomic_load(&signals_seen);
        rc = call(zsock, a, len, flags);
    } while (rc < 0 && errno == EINTR && atomic_load(&signals_seen) != seen);
    uint64_t took = now_us() - t0;
    obs_flow_t *fl = out ? &o->out : &o->in;
    int saved = errno;
    flow_add(&fl->blocked, 1);
    flow_max(&fl->longest_block_us, took);
    errno = saved;
    return io_counted(o, rc, out);
}

int zg_obs_send(void *zsock, const void *buf, size_t len, int flags)
{
    return io(zsock, io_send, (void *)buf, len, flags, true);
}

int zg_obs_recv(void *zsock, void *buf, size_t len, int flags)
{
    return io(zsock, io_recv, buf, len, flags, false);
}

int zg_obs_msg_send(zmq_msg_t *msg, void *zsock, int flags)
{
    return io(zsock, io_msg_send, msg, 0, flags, true);
}

int zg_obs_msg_recv(zmq_msg_t *msg, void *zsock, int flags)
{
    return io(zsock, io_msg_recv, msg, 0, flags, false);
}
