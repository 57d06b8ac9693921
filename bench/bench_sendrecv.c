/*
 * bench_sendrecv.c - throughput of zguard's send/recv next to raw libzmq.
 *
 * Contestants, all PUSH -> PULL with the same socket options:
 *   raw libzmq      zmq_send / zmq_recv            baseline of zguard
 *   zguard          zg_send / zg_recv
 *   raw libzmq msg  zmq_msg_send / zmq_msg_recv    baseline of zguard msg
 *   zguard msg      zg_msg_send / zg_msg_recv      (both zero-copy)
 * in four scenarios: tcp loopback and inproc, 64 B and 1 KiB messages.
 *
 * Method. The options come from one zguard policy: zguard sockets get them
 * from zg_socket(); raw sockets get the very values zg_policy_settings()
 * reports, set with zmq_setsockopt; every round reads them back from all
 * four sockets and stops if any differs. All sockets live in one libzmq
 * context (one I/O thread). For each scenario the contestants run
 * interleaved for N rounds, the first of them rotating from round to round,
 * each round on fresh sockets with the sender and the receiver in their own
 * threads. A round sends one untimed message and waits until it arrived
 * (the connection is up), then sends M; the receiver times from the first
 * of them to the last, as libzmq's perf tools do, so the round's rate is
 * (M - 1) / that time. M is what takes the baseline about 0.4 s.
 *
 * Reported per contestant: the median rate and the spread of the rounds;
 * per zguard contestant: the ratio of its median to its baseline's, and a
 * confidence interval for the median of the per-round ratios, which says
 * whether the run shows the target (ratio >= 0.97) met, missed, or cannot
 * tell on this machine.
 *
 * Exit status: 0 after a complete run, 1 on a usage error, 2 when anything
 * failed (a send or receive, a socket, an option that differs).
 */
#include <zguard.h>

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#define EXIT_USAGE 1
#define EXIT_FAILED 2

#define MAX_ROUNDS 99
#define TARGET_RATIO 0.97
#define MARK 0x5a /* every payload byte; the receiver checks the first */

/* ---- the policy: both contestants run with exactly these values --------- */

static const char bench_policy[] =
    "version = 1\n"
    "\n"
    "[defaults]\n"
    "rationale = throughput benchmark of zguard's send/recv wrappers against "
    "raw libzmq with identical options, in one process\n"
    "security = none\n"
    "insecure = yes\n"
    "security.rationale = tcp loopback (127.0.0.1) inside one process; this "
    "measures the wrappers, not encryption; CURVE benchmarks come later\n"
    "sndhwm = 10000\n"
    "sndhwm.rationale = a throughput test: deep queues keep sender and "
    "receiver busy instead of ping-ponging at the HWM; still bounded\n"
    "rcvhwm = 10000\n"
    "rcvhwm.rationale = as sndhwm\n"
    "sndtimeo = 5s\n"
    "rcvtimeo = 5s\n"
    "maxmsgsize = 64KiB\n"
    "linger = 1s\n"
    "handshake_ivl = 5s\n"
    "heartbeat_ivl = 5s\n"
    "heartbeat_ttl = 15s\n"
    "heartbeat_timeout = 15s\n"
    "immediate = no\n"
    "reconnect_ivl = 100ms\n"
    "reconnect_ivl_max = 30s\n"
    "tcp_keepalive = yes\n"
    "tcp_keepalive_idle = 60s\n"
    "tcp_keepalive_intvl = 10s\n"
    "tcp_keepalive_cnt = 5\n"
    "retries = 3\n";

/* ---- the libzmq option behind each policy key --------------------------- */

typedef struct zopt {
    const char *key; /* policy key, as zg_setting_t.key says it */
    int option;      /* ZMQ_* */
    bool int64;      /* the option takes an int64_t */
    int64_t scale;   /* option value = policy value / scale (-1 stays -1) */
    bool readable;   /* zmq_getsockopt can read it back */
} zopt_t;

static const zopt_t zopts[] = {
    {"sndhwm", ZMQ_SNDHWM, false, 1, true},
    {"rcvhwm", ZMQ_RCVHWM, false, 1, true},
    {"sndtimeo", ZMQ_SNDTIMEO, false, 1, true},
    {"rcvtimeo", ZMQ_RCVTIMEO, false, 1, true},
    {"maxmsgsize", ZMQ_MAXMSGSIZE, true, 1, true},
    {"linger", ZMQ_LINGER, false, 1, true},
    {"handshake_ivl", ZMQ_HANDSHAKE_IVL, false, 1, true},
    {"heartbeat_ivl", ZMQ_HEARTBEAT_IVL, false, 1, true},
    {"heartbeat_ttl", ZMQ_HEARTBEAT_TTL, false, 1, true},
    {"heartbeat_timeout", ZMQ_HEARTBEAT_TIMEOUT, false, 1, true},
    {"immediate", ZMQ_IMMEDIATE, false, 1, true},
    {"reconnect_ivl", ZMQ_RECONNECT_IVL, false, 1, true},
    {"reconnect_ivl_max", ZMQ_RECONNECT_IVL_MAX, false, 1, true},
    {"tcp_keepalive", ZMQ_TCP_KEEPALIVE, false, 1, true},
    /* the policy says milliseconds, libzmq whole seconds */
    {"tcp_keepalive_idle", ZMQ_TCP_KEEPALIVE_IDLE, false, 1000, true},
    {"tcp_keepalive_intvl", ZMQ_TCP_KEEPALIVE_INTVL, false, 1000, true},
    {"tcp_keepalive_cnt", ZMQ_TCP_KEEPALIVE_CNT, false, 1, true},
    {"router_mandatory", ZMQ_ROUTER_MANDATORY, false, 1, false},
};

/* Policy keys that are no socket option. security is checked separately:
 * the benchmark needs 'none', which is libzmq's default NULL mechanism. */

/* The options of one socket type, ready to set and to compare. */
typedef struct optset {
    size_t n;
    struct {
        const zopt_t *z;
        int64_t value; /* in libzmq's unit */
    } item[ZG_FIELD_COUNT];
    char summary[1024]; /* "sndhwm=10000 rcvhwm=10000 ..." */
} optset_t;

static optset_t push_opts, pull_opts;

/* ---- failures ----------------------------------------------------------- */

static bool json_out;

static _Noreturn void die(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));
static _Noreturn void die(const char *fmt, ...)
{
    va_list ap;
    fputs("bench_sendrecv: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    exit(EXIT_FAILED);
}

static const zopt_t *zopt_for(const char *key)
{
    for (size_t i = 0; i < sizeof zopts / sizeof zopts[0]; i++)
        if (strcmp(zopts[i].key, key) == 0)
            return &zopts[i];
    return NULL;
}

/* Reads the effective settings for `type` back from the policy. A key this
 * program does not know stops it: better no numbers than unequal ones. */
static void optset_build(const zg_policy_t *policy, int type, optset_t *o)
{
    zg_setting_t s[ZG_FIELD_COUNT];
    if (zg_policy_settings(policy, type, NULL, s) != 0)
        die("zg_policy_settings(%s): %s", zg_type_name(type), zg_last_error());
    memset(o, 0, sizeof *o);
    size_t used = 0;
    for (int f = 0; f < ZG_FIELD_COUNT; f++) {
        if (!s[f].applies)
            continue;
        if (strcmp(s[f].key, "security") == 0 && s[f].value != ZG_SECURITY_NONE)
            die("the benchmark policy must say 'security = none'");
        if (!s[f].option) /* zguard's own: keys, alerts, retries */
            continue;
        const zopt_t *z = zopt_for(s[f].key);
        if (!z)
            die("policy key '%s' has no libzmq option in this benchmark: "
                "add it to zopts[] so raw sockets get it too",
                s[f].key);
        o->item[o->n].z = z;
        o->item[o->n].value = s[f].value == -1 ? -1 : s[f].value / z->scale;
        o->n++;
        int w = snprintf(o->summary + used, sizeof o->summary - used, "%s%s=%s",
                         used ? " " : "", s[f].key, s[f].text);
        if (w > 0 && (size_t)w < sizeof o->summary - used)
            used += (size_t)w;
    }
}

static void optset_apply(void *sock, const optset_t *o)
{
    for (size_t i = 0; i < o->n; i++) {
        const zopt_t *z = o->item[i].z;
        int64_t v64 = o->item[i].value;
        int v = (int)v64;
        int rc = z->int64 ? zmq_setsockopt(sock, z->option, &v64, sizeof v64)
                          : zmq_setsockopt(sock, z->option, &v, sizeof v);
        if (rc != 0)
            die("zmq_setsockopt(%s=%lld): %s", z->key, (long long)v64,
                zmq_strerror(errno));
    }
}

/* Every readable option of sock must be the policy's value. */
static void optset_check(void *sock, const optset_t *o, const char *who)
{
    for (size_t i = 0; i < o->n; i++) {
        const zopt_t *z = o->item[i].z;
        if (!z->readable)
            continue;
        int64_t v64 = 0;
        int v = 0;
        size_t len = z->int64 ? sizeof v64 : sizeof v;
        if (zmq_getsockopt(sock, z->option,
                           z->int64 ? (void *)&v64 : (void *)&v, &len) != 0)
            die("%s: zmq_getsockopt(%s): %s", who, z->key, zmq_strerror(errno));
        if (!z->int64)
            v64 = v;
        if (v64 != o->item[i].value)
            die("%s: %s is %lld, the policy says %lld: contestants would not "
                "run with identical options",
                who, z->key, (long long)v64, (long long)o->item[i].value);
    }
    int mech = -1;
    size_t len = sizeof mech;
    if (zmq_getsockopt(sock, ZMQ_MECHANISM, &mech, &len) != 0 ||
        mech != ZMQ_NULL)
        die("%s: security mechanism is not NULL", who);
}

/* ---- contestants and scenarios ------------------------------------------ */

typedef enum api {
    API_RAW,
    API_ZG,
    API_RAW_MSG,
    API_ZG_MSG,
    API_ZG_NOMON, /* zguard with the policy's [metrics] monitor = no */
    API_COUNT
} api_t;

static const struct {
    const char *name;  /* in the table */
    const char *id;    /* in JSON */
    const char *calls; /* in the legend */
    bool zguard;
    int baseline; /* the contestant the ratio divides by, -1 for none */
} apis[API_COUNT] = {
    [API_RAW] = {"raw libzmq", "raw", "zmq_send / zmq_recv", false, -1},
    [API_ZG] = {"zguard", "zguard", "zg_send / zg_recv", true, API_RAW},
    [API_RAW_MSG] = {"raw libzmq msg", "raw_msg",
                     "zmq_msg_send / zmq_msg_recv, zero-copy", false, -1},
    [API_ZG_MSG] = {"zguard msg", "zguard_msg",
                    "zg_msg_send / zg_msg_recv, zero-copy", true, API_RAW_MSG},
    [API_ZG_NOMON] = {"zguard no-mon", "zguard_nomon",
                      "zg_send / zg_recv, socket monitors off", true, API_RAW},
};

typedef struct totals { /* summed over a contestant's timed rounds */
    uint64_t hwm_reached, send_blocked_ns; /* zguard's */
    long tx_sleeps, rx_sleeps; /* voluntary context switches */
} totals_t;

typedef struct scenario {
    const char *transport; /* "tcp" or "inproc" */
    size_t size;
    char name[48];
    bool selected;
    long messages[API_COUNT]; /* per round; zguard runs its baseline's */
    double rate[API_COUNT][MAX_ROUNDS];
    double cpu_ns[API_COUNT][MAX_ROUNDS]; /* sender + receiver CPU per msg */
    totals_t totals[API_COUNT];
} scenario_t;

static scenario_t scenarios[] = {
    {.transport = "tcp", .size = 64},
    {.transport = "tcp", .size = 1024},
    {.transport = "inproc", .size = 64},
    {.transport = "inproc", .size = 1024},
};
#define NSCENARIOS (sizeof scenarios / sizeof scenarios[0])

/* ---- one round ---------------------------------------------------------- */

/* What one thread used: CPU time (exact, CLOCK_THREAD_CPUTIME_ID) and how
 * often it slept (voluntary context switches) or was preempted. */
typedef struct usage {
    double cpu_s;
    long sleeps, preempted;
} usage_t;

static void usage_now(usage_t *u)
{
    struct timespec ts;
    struct rusage ru;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    getrusage(RUSAGE_THREAD, &ru);
    u->cpu_s = (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
    u->sleeps = ru.ru_nvcsw;
    u->preempted = ru.ru_nivcsw;
}

static void usage_since(usage_t *u, const usage_t *start)
{
    usage_now(u);
    u->cpu_s -= start->cpu_s;
    u->sleeps -= start->sleeps;
    u->preempted -= start->preempted;
}

static void pin_self(int cpu)
{
    if (cpu < 0)
        return;
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    int rc = pthread_setaffinity_np(pthread_self(), sizeof set, &set);
    if (rc != 0)
        die("--pin: cannot run on CPU %d: %s", cpu, strerror(rc));
}

typedef struct run {
    api_t api;
    void *push, *pull;
    size_t size;
    long count;
    unsigned char *payload;  /* not const: zmq_msg_init_data takes void * */
    pthread_barrier_t ready; /* both passed the untimed first message */
    atomic_bool failed;
    double seconds;         /* receiver: first to last timed message */
    int cpu_tx, cpu_rx;     /* CPUs to pin the threads to, or -1 */
    usage_t tx_use, rx_use; /* each thread, over its timed part */
    char send_err[256], recv_err[256];
} run_t;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int raw_fail(char *err, const char *call, int got, size_t want,
                    long index)
{
    if (got < 0)
        snprintf(err, 256, "%s: %s (message %ld)", call, zmq_strerror(errno),
                 index);
    else
        snprintf(err, 256, "%s: %d bytes where %zu were sent (message %ld)",
                 call, got, want, index);
    return -1;
}

static int zg_fail(char *err, const char *call, zg_status_t st, long index)
{
    snprintf(err, 256, "%s: %s: %s (message %ld)", call, zg_status_str(st),
             zg_last_error(), index);
    return -1;
}

/* Sends n messages with the round's API. One loop per API, so the timed
 * loops carry no dispatch of their own. */
static int send_n(run_t *r, long n)
{
    void *s = r->push;
    unsigned char *p = r->payload;
    size_t size = r->size;
    zmq_msg_t m;
    zg_status_t st;
    int rc;
    switch (r->api) {
    case API_RAW:
        for (long i = 0; i < n; i++)
            if ((rc = zmq_send(s, p, size, 0)) != (int)size)
                return raw_fail(r->send_err, "zmq_send", rc, size, i);
        return 0;
    case API_ZG:
    case API_ZG_NOMON:
        for (long i = 0; i < n; i++)
            if ((st = zg_send(s, p, size, 0)) != ZG_OK)
                return zg_fail(r->send_err, "zg_send", st, i);
        return 0;
    case API_RAW_MSG:
        for (long i = 0; i < n; i++) {
            /* zero-copy: the payload outlives every message (no free fn) */
            zmq_msg_init_data(&m, p, size, NULL, NULL);
            if ((rc = zmq_msg_send(&m, s, 0)) != (int)size) {
                zmq_msg_close(&m);
                return raw_fail(r->send_err, "zmq_msg_send", rc, size, i);
            }
        }
        return 0;
    case API_ZG_MSG:
        for (long i = 0; i < n; i++) {
            zmq_msg_init_data(&m, p, size, NULL, NULL);
            if ((st = zg_msg_send(s, &m, 0)) != ZG_OK) {
                zmq_msg_close(&m);
                return zg_fail(r->send_err, "zg_msg_send", st, i);
            }
        }
        return 0;
    default: return -1;
    }
}

/* Receives n messages, each checked for its size and first byte. */
static int recv_n(run_t *r, long n, unsigned char *buf, zmq_msg_t *m)
{
    void *s = r->pull;
    size_t size = r->size, len;
    zg_status_t st;
    int rc;
    switch (r->api) {
    case API_RAW:
        for (long i = 0; i < n; i++)
            if ((rc = zmq_recv(s, buf, size, 0)) != (int)size || buf[0] != MARK)
                return raw_fail(r->recv_err, "zmq_recv", rc, size, i);
        return 0;
    case API_ZG:
    case API_ZG_NOMON:
        for (long i = 0; i < n; i++) {
            if ((st = zg_recv(s, buf, size, &len, 0)) != ZG_OK)
                return zg_fail(r->recv_err, "zg_recv", st, i);
            if (len != size || buf[0] != MARK)
                return raw_fail(r->recv_err, "zg_recv", (int)len, size, i);
        }
        return 0;
    case API_RAW_MSG:
        for (long i = 0; i < n; i++)
            if ((rc = zmq_msg_recv(m, s, 0)) != (int)size ||
                *(const unsigned char *)zmq_msg_data(m) != MARK)
                return raw_fail(r->recv_err, "zmq_msg_recv", rc, size, i);
        return 0;
    case API_ZG_MSG:
        for (long i = 0; i < n; i++) {
            if ((st = zg_msg_recv(s, m, 0)) != ZG_OK)
                return zg_fail(r->recv_err, "zg_msg_recv", st, i);
            if (zmq_msg_size(m) != size ||
                *(const unsigned char *)zmq_msg_data(m) != MARK)
                return raw_fail(r->recv_err, "zg_msg_recv",
                                (int)zmq_msg_size(m), size, i);
        }
        return 0;
    default: return -1;
    }
}

static void *sender_main(void *arg)
{
    run_t *r = arg;
    pin_self(r->cpu_tx);
    int rc = send_n(r, 1); /* proves the connection; not timed */
    if (rc != 0)
        atomic_store(&r->failed, true);
    pthread_barrier_wait(&r->ready);
    if (rc == 0 && !atomic_load(&r->failed)) {
        usage_t start;
        usage_now(&start);
        if (send_n(r, r->count) != 0)
            atomic_store(&r->failed, true);
        usage_since(&r->tx_use, &start);
    }
    return NULL;
}

static void *receiver_main(void *arg)
{
    run_t *r = arg;
    pin_self(r->cpu_rx);
    unsigned char *buf = malloc(r->size);
    zmq_msg_t m;
    zmq_msg_init(&m);
    int rc = buf ? recv_n(r, 1, buf, &m) : -1;
    if (!buf)
        snprintf(r->recv_err, sizeof r->recv_err, "out of memory");
    if (rc != 0)
        atomic_store(&r->failed, true);
    pthread_barrier_wait(&r->ready);
    if (rc == 0 && !atomic_load(&r->failed)) {
        /* like libzmq's perf tools: the clock starts at the first message */
        if (recv_n(r, 1, buf, &m) == 0) {
            usage_t start;
            usage_now(&start);
            double t0 = now_s();
            if (recv_n(r, r->count - 1, buf, &m) == 0) {
                r->seconds = now_s() - t0;
                usage_since(&r->rx_use, &start);
            } else
                atomic_store(&r->failed, true);
        } else {
            atomic_store(&r->failed, true);
        }
    }
    zmq_msg_close(&m);
    free(buf);
    return NULL;
}

static zg_ctx_t *ctx, *ctx_nomon; /* monitoring on, off */
static unsigned char *payload;
static bool verbose;

static void *make_socket(api_t api, int type)
{
    const optset_t *o = type == ZMQ_PUSH ? &push_opts : &pull_opts;
    void *s;
    if (apis[api].zguard) {
        s = zg_socket(api == API_ZG_NOMON ? ctx_nomon : ctx, type, NULL);
        if (!s)
            die("zg_socket(%s): %s", zg_type_name(type), zg_last_error());
    } else {
        s = zmq_socket(zg_ctx_zmq(ctx), type);
        if (!s)
            die("zmq_socket(%s): %s", zg_type_name(type), zmq_strerror(errno));
        optset_apply(s, o);
    }
    char who[64];
    snprintf(who, sizeof who, "%s %s socket", apis[api].name,
             zg_type_name(type));
    optset_check(s, o, who);
    return s;
}

static void attach(api_t api, void *s, bool bind, const char *ep)
{
    int rc = apis[api].zguard ? (bind ? zg_bind(s, ep) : zg_connect(s, ep))
                              : (bind ? zmq_bind(s, ep) : zmq_connect(s, ep));
    if (rc != 0)
        die("%s %s %s: %s", apis[api].name, bind ? "bind" : "connect", ep,
            apis[api].zguard ? zg_last_error() : zmq_strerror(errno));
}

static void close_socket(api_t api, void **s)
{
    if (apis[api].zguard)
        zg_close(s);
    else {
        zmq_close(*s);
        *s = NULL;
    }
}

static int pin_tx = -1, pin_rx = -1, pin_io = -1; /* --pin */

/* One round on fresh sockets: returns messages per second and sets *cpu_ns
 * (may be NULL) to the CPU time sender and receiver thread spent per
 * message; adds zguard's counters to *tot (may be NULL). */
static double run_round(const scenario_t *sc, api_t api, long count,
                        double *cpu_ns, totals_t *tot)
{
    static unsigned inproc_seq;
    run_t *r = calloc(1, sizeof *r);
    if (!r)
        die("out of memory");
    r->api = api;
    r->size = sc->size;
    r->count = count;
    r->payload = payload;
    r->cpu_tx = pin_tx;
    r->cpu_rx = pin_rx;
    r->pull = make_socket(api, ZMQ_PULL);
    r->push = make_socket(api, ZMQ_PUSH);

    char ep[256];
    if (strcmp(sc->transport, "tcp") == 0) {
        attach(api, r->pull, true, "tcp://127.0.0.1:*");
        size_t len = sizeof ep;
        if (zmq_getsockopt(r->pull, ZMQ_LAST_ENDPOINT, ep, &len) != 0)
            die("ZMQ_LAST_ENDPOINT: %s", zmq_strerror(errno));
    } else {
        snprintf(ep, sizeof ep, "inproc://bench-sendrecv-%u", inproc_seq++);
        attach(api, r->pull, true, ep);
    }
    attach(api, r->push, false, ep);

    if (pthread_barrier_init(&r->ready, NULL, 2) != 0)
        die("pthread_barrier_init failed");
    atomic_init(&r->failed, false);
    pthread_t tx, rx;
    if (pthread_create(&rx, NULL, receiver_main, r) != 0 ||
        pthread_create(&tx, NULL, sender_main, r) != 0)
        die("pthread_create failed");
    pthread_join(tx, NULL);
    pthread_join(rx, NULL);
    pthread_barrier_destroy(&r->ready);

    if (atomic_load(&r->failed) || r->seconds <= 0)
        die("%s %s %zuB, %s: %s%s%s", sc->transport, apis[api].name, sc->size,
            r->send_err[0] || r->recv_err[0] ? "failed" : "no time measured",
            r->send_err, r->send_err[0] && r->recv_err[0] ? "; " : "",
            r->recv_err);

    zg_counters_t tc = {0}, rc = {0};
    if (apis[api].zguard) {
        if (zg_socket_counters(r->push, &tc) != 0 ||
            zg_socket_counters(r->pull, &rc) != 0)
            die("zg_socket_counters: %s", zg_last_error());
        /* the untimed first message counts too */
        if (tc.msgs_sent != (uint64_t)count + 1 ||
            rc.msgs_received != (uint64_t)count + 1)
            die("%s: zguard counted %llu sent, %llu received; %ld were",
                apis[api].name, (unsigned long long)tc.msgs_sent,
                (unsigned long long)rc.msgs_received, count + 1);
        if (tot) {
            tot->hwm_reached += tc.hwm_reached;
            tot->send_blocked_ns += tc.send_blocked_ns;
        }
    }
    close_socket(api, &r->push);
    close_socket(api, &r->pull);
    double rate = (double)(count - 1) / r->seconds;
    double cpu = (r->tx_use.cpu_s + r->rx_use.cpu_s) * 1e9 / (double)count;
    if (cpu_ns)
        *cpu_ns = cpu;
    if (tot) {
        tot->tx_sleeps += r->tx_use.sleeps;
        tot->rx_sleeps += r->rx_use.sleeps;
    }
    if (verbose) {
        fprintf(stderr,
                "  %-21s %-14s %9.0f msg/s %6.3f s  cpu %5.0f ns/msg  "
                "sleeps tx %ld rx %ld  preempted tx %ld rx %ld",
                sc->name, apis[api].name, rate, r->seconds, cpu,
                r->tx_use.sleeps, r->rx_use.sleeps, r->tx_use.preempted,
                r->rx_use.preempted);
        if (apis[api].zguard)
            fprintf(stderr, "  hwm_reached %llu blocked tx %.0f ms",
                    (unsigned long long)tc.hwm_reached,
                    (double)tc.send_blocked_ns / 1e6);
        fputc('\n', stderr);
    }
    free(r);
    return rate;
}

/* Sets the messages per round of every contestant: `given`, or what takes
 * the baseline about target_s; a zguard contestant runs its baseline's
 * count (or calibrates itself when its baseline is not running).
 * Calibration doubles as warm-up; the others get a short warm-up round. */
static bool calibrates(const bool *use, int a)
{
    return apis[a].baseline < 0 || !use[apis[a].baseline];
}

static void size_rounds(scenario_t *sc, const bool *use, long given, bool quick)
{
    double target_s = quick ? 0.05 : 0.4;
    long floor = quick ? 5000 : 20000;
    for (int a = 0; a < API_COUNT; a++) {
        if (!use[a] || !calibrates(use, a))
            continue;
        long m = given;
        if (!m) {
            long n = quick ? 20000 : 100000;
            double rate;
            for (;;) {
                rate = run_round(sc, (api_t)a, n, NULL, NULL);
                if ((double)n / rate >= target_s / 4 || n >= 50000000L)
                    break;
                n *= 4;
            }
            m = (long)(rate * target_s / 1000) * 1000;
            if (m < floor)
                m = floor;
        } else {
            run_round(sc, (api_t)a, m / 10 > 2 ? m / 10 : 2, NULL, NULL);
        }
        sc->messages[a] = m;
    }
    for (int a = 0; a < API_COUNT; a++) {
        if (!use[a] || calibrates(use, a))
            continue;
        long m = sc->messages[apis[a].baseline];
        sc->messages[a] = m;
        run_round(sc, (api_t)a, m / 10 > 2 ? m / 10 : 2, NULL, NULL);
    }
}

/* ---- statistics and output ---------------------------------------------- */

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(const double *v, int n)
{
    double s[MAX_ROUNDS];
    memcpy(s, v, (size_t)n * sizeof *v);
    qsort(s, (size_t)n, sizeof *s, cmp_double);
    return n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

typedef struct summary {
    double median, min, max, spread; /* spread: the larger distance of min or
                                        max from the median, as a fraction */
} summary_t;

static summary_t summarize(const double *v, int n)
{
    summary_t s = {median(v, n), v[0], v[0], 0};
    for (int i = 1; i < n; i++) {
        if (v[i] < s.min)
            s.min = v[i];
        if (v[i] > s.max)
            s.max = v[i];
    }
    double lo = s.median - s.min, hi = s.max - s.median;
    s.spread = (lo > hi ? lo : hi) / s.median;
    return s;
}

/* zguard against its baseline. Each round ran the two back to back, so the
 * per-round ratios share most of the machine's drift; their median comes
 * with a distribution-free (sign test) confidence interval [q(k), q(n+1-k)]
 * of the sorted ratios q, which covers the true median with probability
 * 1 - 2 P(Binomial(n, 1/2) < k): the narrowest whose coverage is still
 * >= 95% (up to 8 rounds that is min..max; with 5 or fewer min..max covers
 * less, and the legend says how much). Conservative on purpose: on a noisy
 * machine a narrower interval flips its verdict from one run to the next. */
typedef struct versus {
    double ratio;        /* median of zguard / median of baseline */
    double paired;       /* median of the per-round ratios */
    double lo, hi;       /* confidence interval of `paired` */
    double coverage;     /* its probability */
    const char *verdict; /* "meets", "below" or "unclear" (the target) */
} versus_t;

static double binom_cdf_half(int n, int j) /* P(Binomial(n, 1/2) <= j) */
{
    double c = 1, sum = 0;
    for (int i = 0; i <= j; i++) {
        sum += c;
        c = c * (n - i) / (i + 1);
    }
    for (int i = 0; i < n; i++)
        sum /= 2;
    return sum;
}

static versus_t compare(const scenario_t *sc, api_t a, api_t b, int n)
{
    versus_t v;
    double q[MAX_ROUNDS];
    for (int i = 0; i < n; i++)
        q[i] = sc->rate[a][i] / sc->rate[b][i];
    qsort(q, (size_t)n, sizeof *q, cmp_double);
    v.ratio = median(sc->rate[a], n) / median(sc->rate[b], n);
    v.paired = median(q, n);
    int k = 1;
    while (k + 1 <= (n + 1) / 2 && 1 - 2 * binom_cdf_half(n, k) >= 0.95)
        k++;
    v.lo = q[k - 1];
    v.hi = q[n - k];
    v.coverage = 1 - 2 * binom_cdf_half(n, k - 1);
    v.verdict = v.lo >= TARGET_RATIO  ? "meets"
                : v.hi < TARGET_RATIO ? "below"
                                      : "unclear";
    return v;
}

/* 2510000.4 -> "2,510,000" */
static const char *grouped(double v, char *buf, size_t cap)
{
    char digits[32];
    snprintf(digits, sizeof digits, "%.0f", v);
    size_t n = strlen(digits), o = 0;
    for (size_t i = 0; i < n && o + 2 < cap; i++) {
        if (i && (n - i) % 3 == 0)
            buf[o++] = ',';
        buf[o++] = digits[i];
    }
    buf[o] = '\0';
    return buf;
}

static void print_table_header(void)
{
    printf("%-22s %-15s %13s %8s %7s %6s %11s  %s\n", "scenario", "contestant",
           "median msg/s", "MB/s", "spread", "ratio", "paired CI", "target");
}

static double ci_coverage; /* of the last printed interval, for the legend */

static void print_rows(const scenario_t *sc, const bool *use, int rounds)
{
    for (int a = 0; a < API_COUNT; a++) {
        if (!use[a])
            continue;
        summary_t s = summarize(sc->rate[a], rounds);
        char num[32], spread[16];
        snprintf(spread, sizeof spread, "\u00b1%.0f%%", s.spread * 100);
        /* "±" is two bytes and one column */
        printf("%-22s %-15s %13s %8.1f %8s", sc->name, apis[a].name,
               grouped(s.median, num, sizeof num),
               s.median * (double)sc->size / 1e6, spread);
        int b = apis[a].baseline;
        if (b >= 0 && use[b]) {
            versus_t v = compare(sc, (api_t)a, (api_t)b, rounds);
            char ci[32];
            snprintf(ci, sizeof ci, "%.2f-%.2f", v.lo, v.hi);
            printf(" %6.3f %11s  %s", v.ratio, ci, v.verdict);
            ci_coverage = v.coverage;
        }
        putchar('\n');
    }
    if (use[API_ZG] && use[API_ZG_NOMON]) {
        double on = summarize(sc->rate[API_ZG], rounds).median,
               off = summarize(sc->rate[API_ZG_NOMON], rounds).median;
        printf("%-22s monitoring on / off: %.3f (target >= 0.98)\n", sc->name,
               off > 0 ? on / off : 0);
    }
    fflush(stdout);
}

static void json_string(const char *s)
{
    putchar('"');
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            putchar('\\');
        if ((unsigned char)*s >= 0x20)
            putchar(*s);
    }
    putchar('"');
}

static void print_json(const bool *use, int rounds)
{
    printf("{\n  \"benchmark\": \"bench_sendrecv\",\n");
    printf("  \"zguard\": \"%s\",\n", zg_version_string());
    int maj, min, pat;
    zmq_version(&maj, &min, &pat);
    printf("  \"libzmq\": \"%d.%d.%d\",\n", maj, min, pat);
    printf("  \"pattern\": \"push/pull\",\n  \"rounds\": %d,\n", rounds);
    printf("  \"target_ratio\": %.2f,\n", TARGET_RATIO);
    printf("  \"options\": {\"push\": ");
    json_string(push_opts.summary);
    printf(", \"pull\": ");
    json_string(pull_opts.summary);
    printf("},\n  \"scenarios\": [");
    bool first_sc = true;
    for (size_t i = 0; i < NSCENARIOS; i++) {
        const scenario_t *sc = &scenarios[i];
        if (!sc->selected)
            continue;
        printf("%s\n    {\"name\": ", first_sc ? "" : ",");
        first_sc = false;
        json_string(sc->name);
        printf(", \"transport\": \"%s\", \"size\": %zu,\n     \"results\": [",
               sc->transport, sc->size);
        bool first = true;
        for (int a = 0; a < API_COUNT; a++) {
            if (!use[a])
                continue;
            summary_t s = summarize(sc->rate[a], rounds);
            printf("%s\n       {\"contestant\": \"%s\", \"name\": ",
                   first ? "" : ",", apis[a].id);
            first = false;
            json_string(apis[a].name);
            printf(", \"calls\": ");
            json_string(apis[a].calls);
            printf(", \"messages_per_round\": %ld", sc->messages[a]);
            printf(
                ",\n        \"median_msgs_per_s\": %.0f, \"mb_per_s\": %.2f, "
                "\"min_msgs_per_s\": %.0f, \"max_msgs_per_s\": %.0f, "
                "\"spread\": %.4f,\n        \"rounds_msgs_per_s\": [",
                s.median, s.median * (double)sc->size / 1e6, s.min, s.max,
                s.spread);
            for (int k = 0; k < rounds; k++)
                printf("%s%.0f", k ? ", " : "", sc->rate[a][k]);
            printf("],\n        \"median_cpu_ns_per_msg\": %.1f, "
                   "\"sleeps_per_round\": {\"sender\": %.0f, "
                   "\"receiver\": %.0f}",
                   median(sc->cpu_ns[a], rounds),
                   (double)sc->totals[a].tx_sleeps / rounds,
                   (double)sc->totals[a].rx_sleeps / rounds);
            int b = apis[a].baseline;
            if (b >= 0 && use[b]) {
                versus_t v = compare(sc, (api_t)a, (api_t)b, rounds);
                printf(",\n        \"baseline\": \"%s\", \"ratio\": %.4f, "
                       "\"paired_ratio\": %.4f, \"paired_ci\": [%.4f, %.4f], "
                       "\"ci_coverage\": %.3f, \"target\": \"%s\"",
                       apis[b].id, v.ratio, v.paired, v.lo, v.hi, v.coverage,
                       v.verdict);
            }
            if (apis[a].zguard) {
                const totals_t *t = &sc->totals[a];
                printf(",\n        \"zguard_counters\": {\"hwm_reached\": "
                       "%llu, \"send_blocked_ns\": %llu}",
                       (unsigned long long)t->hwm_reached,
                       (unsigned long long)t->send_blocked_ns);
            }
            putchar('}');
        }
        printf("]}");
    }
    printf("\n  ]\n}\n");
}

/* "  label: a b c ..." folded at 78 columns, continuation lines indented. */
static void print_wrapped(const char *label, const char *text)
{
    int col = printf("  %s", label);
    const char *p = text;
    while (*p) {
        size_t n = strcspn(p, " ");
        if (col + 1 + (int)n > 78) {
            col = printf("\n   ") - 1;
        }
        col += printf(" %.*s", (int)n, p);
        p += n;
        while (*p == ' ')
            p++;
    }
    putchar('\n');
}

/* ---- main --------------------------------------------------------------- */

static void usage(FILE *out)
{
    fputs("usage: bench_sendrecv [--rounds N] [--messages M] [--quick] "
          "[--json] [--verbose]\n"
          "                      [--only TEXT] [--contestants LIST] "
          "[--pin TX,RX[,IO]]\n"
          "\n"
          "Throughput of zguard's send/recv next to raw libzmq, PUSH/PULL "
          "over tcp\n"
          "loopback and inproc, 64 B and 1 KiB, with identical socket "
          "options.\n"
          "\n"
          "  --rounds N    interleaved rounds per contestant (default 7)\n"
          "  --messages M  messages per round (default: what takes the "
          "baseline ~0.4 s)\n"
          "  --quick       3 short rounds (~0.05 s), for a CI smoke run\n"
          "  --json        print the results as JSON\n"
          "  --verbose     every round on stderr: rate, CPU per message, "
          "sleeps, and\n"
          "                zguard's counters\n"
          "  --only TEXT   only the scenarios whose name contains TEXT, "
          "e.g. 'tcp 64B'\n"
          "  --contestants LIST  comma-separated, of raw, zguard, raw_msg, "
          "zguard_msg\n"
          "                (default: all four)\n"
          "  --pin TX,RX[,IO]  pin sender, receiver (and libzmq's I/O "
          "thread) to CPUs\n"
          "\n"
          "Exit status: 0 after a complete run, 1 on a usage error, 2 when "
          "anything\nfailed.\n",
          out);
}

static bool parse_contestants(const char *list, bool *use)
{
    for (int a = 0; a < API_COUNT; a++)
        use[a] = false;
    char buf[128];
    snprintf(buf, sizeof buf, "%s", list);
    char *save = NULL;
    bool any = false;
    for (char *t = strtok_r(buf, ",", &save); t;
         t = strtok_r(NULL, ",", &save)) {
        int a = 0;
        while (a < API_COUNT && strcmp(apis[a].id, t) != 0)
            a++;
        if (a == API_COUNT)
            return false;
        use[a] = any = true;
    }
    return any;
}

static long parse_long(const char *opt, const char *text, long lo, long hi)
{
    char *end;
    errno = 0;
    long v = text ? strtol(text, &end, 10) : 0;
    if (!text || errno || *end || end == text || v < lo || v > hi) {
        fprintf(stderr,
                "bench_sendrecv: %s needs a number from %ld to %ld "
                "(see --help)\n",
                opt, lo, hi);
        exit(EXIT_USAGE);
    }
    return v;
}

static void log_to_stderr(void *arg, zg_log_level_t level, const char *line)
{
    (void)arg;
    fprintf(stderr, "bench_sendrecv: zguard %s: %s\n", zg_log_level_name(level),
            line);
}

int main(int argc, char **argv)
{
    int rounds = 0; /* 0: not given */
    long messages = 0;
    bool quick = false;
    bool use[API_COUNT] = {true, true, true, true, true};
    const char *only = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--rounds") == 0)
            rounds = (int)parse_long(a, i + 1 < argc ? argv[++i] : NULL, 1,
                                     MAX_ROUNDS);
        else if (strcmp(a, "--messages") == 0)
            messages =
                parse_long(a, i + 1 < argc ? argv[++i] : NULL, 2, 1000000000L);
        else if (strcmp(a, "--quick") == 0)
            quick = true;
        else if (strcmp(a, "--json") == 0)
            json_out = true;
        else if (strcmp(a, "--only") == 0) {
            if (i + 1 >= argc) {
                fprintf(stderr, "bench_sendrecv: --only needs a text\n");
                return EXIT_USAGE;
            }
            only = argv[++i];
        } else if (strcmp(a, "--pin") == 0) {
            const char *v = i + 1 < argc ? argv[++i] : "";
            if (sscanf(v, "%d,%d,%d", &pin_tx, &pin_rx, &pin_io) < 2 ||
                pin_tx < 0 || pin_rx < 0 || pin_io < -1) {
                fprintf(stderr, "bench_sendrecv: --pin needs TX,RX[,IO] "
                                "CPU numbers, e.g. 0,1\n");
                return EXIT_USAGE;
            }
        } else if (strcmp(a, "--contestants") == 0) {
            if (!parse_contestants(i + 1 < argc ? argv[++i] : "", use)) {
                fprintf(stderr, "bench_sendrecv: --contestants takes a "
                                "comma-separated list of raw, zguard, "
                                "raw_msg and zguard_msg\n");
                return EXIT_USAGE;
            }
        } else if (strcmp(a, "--verbose") == 0 || strcmp(a, "-v") == 0)
            verbose = true;
        else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            return 0;
        } else {
            fprintf(stderr, "bench_sendrecv: unknown argument '%s'\n", a);
            usage(stderr);
            return EXIT_USAGE;
        }
    }
    if (!rounds)
        rounds = quick ? 3 : 7;
    int nsel = 0;
    for (size_t i = 0; i < NSCENARIOS; i++) {
        scenario_t *sc = &scenarios[i];
        if (sc->size % 1024 == 0)
            snprintf(sc->name, sizeof sc->name, "push/pull %s %zuKiB",
                     sc->transport, sc->size / 1024);
        else
            snprintf(sc->name, sizeof sc->name, "push/pull %s %zuB",
                     sc->transport, sc->size);
        sc->selected = !only || strstr(sc->name, only);
        nsel += sc->selected;
    }
    if (!nsel) {
        fprintf(stderr, "bench_sendrecv: no scenario matches '%s'\n", only);
        return EXIT_USAGE;
    }

    zg_diag_t *diag = zg_diag_new();
    zg_policy_t *policy = zg_policy_parse(bench_policy, strlen(bench_policy),
                                          "(bench policy)", diag);
    if (!policy) {
        zg_diag_print(diag, stderr);
        die("the benchmark policy does not parse: %s", zg_last_error());
    }
    zg_diag_destroy(&diag);
    optset_build(policy, ZMQ_PUSH, &push_opts);
    optset_build(policy, ZMQ_PULL, &pull_opts);
    /* One libzmq context for all contestants, so they share its I/O
     * thread; zguard wraps it and raw sockets are made in it directly. */
    void *zctx = zmq_ctx_new();
    if (!zctx)
        die("zmq_ctx_new: %s", zmq_strerror(errno));
    if (pin_io >= 0 &&
        zmq_ctx_set(zctx, ZMQ_THREAD_AFFINITY_CPU_ADD, pin_io) != 0)
        die("ZMQ_THREAD_AFFINITY_CPU_ADD %d: %s", pin_io, zmq_strerror(errno));
    ctx = zg_ctx_wrap(zctx, policy);
    if (!ctx)
        die("zg_ctx_wrap: %s", zg_last_error());
    zg_policy_destroy(&policy);
    /* the same policy with socket monitors off: the cost of monitoring */
    char nomon[sizeof bench_policy + 64];
    snprintf(nomon, sizeof nomon, "%s[metrics]\nmonitor = no\n", bench_policy);
    zg_policy_t *p2 = zg_policy_parse(nomon, strlen(nomon), "bench", NULL);
    ctx_nomon = p2 ? zg_ctx_wrap(zctx, p2) : NULL;
    zg_policy_destroy(&p2);
    if (!ctx_nomon)
        die("zg_ctx_wrap (monitoring off): %s", zg_last_error());
    zg_ctx_set_log(ctx, ZG_LOG_WARNING, log_to_stderr, NULL);

    unsigned char *buf = malloc(1024);
    if (!buf)
        die("out of memory");
    memset(buf, MARK, 1024);
    payload = buf;

    if (!json_out) {
        int maj, min, pat;
        zmq_version(&maj, &min, &pat);
        printf("bench_sendrecv: zguard %s vs libzmq %d.%d.%d, PUSH/PULL, "
               "%d interleaved rounds per contestant\n",
               zg_version_string(), maj, min, pat, rounds);
        printf(
            "socket options, the same for raw and zguard (from the "
            "zguard policy, read\nback from every socket of every round):\n");
        if (strcmp(push_opts.summary, pull_opts.summary) == 0) {
            print_wrapped("push, pull:", push_opts.summary);
        } else {
            print_wrapped("push:", push_opts.summary);
            print_wrapped("pull:", pull_opts.summary);
        }
        putchar('\n');
        print_table_header();
        fflush(stdout);
    }

    for (size_t i = 0; i < NSCENARIOS; i++) {
        scenario_t *sc = &scenarios[i];
        if (!sc->selected)
            continue;
        size_rounds(sc, use, messages, quick);

        /* Interleaved in groups: a zguard contestant and its baseline run
         * back to back. The order of the groups rotates from round to round
         * and the order inside a group flips, so no contestant always runs
         * first (after the previous round's sockets closed) or last. */
        int group[API_COUNT][API_COUNT], size[API_COUNT], ng = 0;
        for (int a = 0; a < API_COUNT; a++) {
            if (!use[a] || !calibrates(use, a))
                continue;
            group[ng][0] = a;
            size[ng] = 1;
            for (int z = 0; z < API_COUNT; z++)
                if (use[z] && !calibrates(use, z) && apis[z].baseline == a)
                    group[ng][size[ng]++] = z;
            ng++;
        }
        for (int r = 0; r < rounds; r++)
            for (int g = 0; g < ng; g++) {
                int gi = (g + r) % ng;
                for (int k = 0; k < size[gi]; k++) {
                    int a = group[gi][r % 2 ? size[gi] - 1 - k : k];
                    sc->rate[a][r] =
                        run_round(sc, (api_t)a, sc->messages[a],
                                  &sc->cpu_ns[a][r], &sc->totals[a]);
                }
            }
        if (!json_out)
            print_rows(sc, use, rounds);
    }

    if (json_out) {
        print_json(use, rounds);
    } else {
        printf("\n");
        for (int a = 0; a < API_COUNT; a++)
            if (use[a])
                printf("%-15s %s\n", apis[a].name, apis[a].calls);
        printf(
            "\nmsg/s   median over the rounds of (M-1) / time from the first "
            "to the last message\n        received (M per round: see "
            "--json); MB/s = msg/s x size / 10^6\n"
            "spread  distance of the farthest round from the median\n");
        if (ci_coverage > 0)
            printf(
                "ratio   zguard median / its raw baseline's median; the "
                "target is >= %.2f\n"
                "paired CI  %.0f%% confidence interval of the median of the "
                "per-round ratios\n        (each round ran both back to back)"
                "\ntarget  meets: the whole interval is >= %.2f; below: all "
                "of it is under;\n        unclear: the noise is larger than "
                "the margin (more --rounds narrow it)\n",
                TARGET_RATIO, ci_coverage * 100, TARGET_RATIO);
    }
    zg_ctx_destroy(&ctx_nomon);
    zg_ctx_destroy(&ctx);
    zmq_ctx_term(zctx);
    free(buf);
    return 0;
}
