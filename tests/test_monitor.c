/*
 * test_monitor.c - the queues seen: with real traffic, a consumer that stops
 * reading makes its producer mute and raises the alert within 2 s of its
 * window, which clears after the consumer resumes; refused handshakes are
 * counted by reason; timeouts per direction; peers dropping to zero; exact
 * queue depth where libzmq has the draft API; and the exposition read by
 * the real Prometheus parser.
 */
#include "testutil.h"

#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

typedef struct event {
    char name[32], socket[64];
    int active;
    uint64_t at;
} event_t;

typedef struct fixture {
    char dir[64];
    zg_ctx_t *ctx;
    pthread_mutex_t lock;
    pthread_cond_t changed;
    event_t events[64];
    int nevents;
    char log[16384];
    int port;
} fixture_t;

static void on_alert(void *arg, const zg_alert_t *a)
{
    fixture_t *f = arg;
    pthread_mutex_lock(&f->lock);
    if (f->nevents < 64) {
        event_t *e = &f->events[f->nevents++];
        snprintf(e->name, sizeof e->name, "%s", a->name);
        snprintf(e->socket, sizeof e->socket, "%s", a->socket);
        e->active = a->active;
        e->at = tu_now_ms();
    }
    pthread_cond_broadcast(&f->changed);
    pthread_mutex_unlock(&f->lock);
}

static void on_log(void *arg, zg_log_level_t level, const char *line)
{
    fixture_t *f = arg;
    (void)level;
    pthread_mutex_lock(&f->lock);
    size_t n = strlen(f->log);
    snprintf(f->log + n, sizeof f->log - n, "%s\n", line);
    pthread_cond_broadcast(&f->changed);
    pthread_mutex_unlock(&f->lock);
}

/* When the alert reached `active` (ms), or 0 if not within timeout_ms. */
static uint64_t wait_alert(fixture_t *f, const char *name, const char *socket,
                           int active, uint64_t timeout_ms)
{
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    uint64_t ns = (uint64_t)deadline.tv_nsec + (timeout_ms % 1000) * 1000000;
    deadline.tv_sec += (time_t)(timeout_ms / 1000 + ns / 1000000000);
    deadline.tv_nsec = (long)(ns % 1000000000);
    uint64_t until = tu_now_ms() + timeout_ms;
    pthread_mutex_lock(&f->lock);
    for (;;) {
        for (int i = 0; i < f->nevents; i++) {
            event_t *e = &f->events[i];
            if (strcmp(e->name, name) == 0 && strcmp(e->socket, socket) == 0 &&
                e->active == active) {
                uint64_t at = e->at;
                e->name[0] = '\0'; /* consumed */
                pthread_mutex_unlock(&f->lock);
                return at;
            }
        }
        if (tu_now_ms() >= until ||
            pthread_cond_timedwait(&f->changed, &f->lock, &deadline) != 0)
            break;
    }
    pthread_mutex_unlock(&f->lock);
    return 0;
}

static int occurrences(const char *text, const char *needle)
{
    int n = 0;
    for (const char *p = text; (p = strstr(p, needle)); p++)
        n++;
    return n;
}

static int log_count(fixture_t *f, const char *needle)
{
    pthread_mutex_lock(&f->lock);
    int n = occurrences(f->log, needle);
    pthread_mutex_unlock(&f->lock);
    return n;
}

/* Waits (up to 5 s) until the log holds `needle` `count` times. */
static void wait_log(fixture_t *f, const char *needle, int count)
{
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += 5;
    pthread_mutex_lock(&f->lock);
    while (occurrences(f->log, needle) < count &&
           pthread_cond_timedwait(&f->changed, &f->lock, &deadline) == 0)
        ;
    int seen = occurrences(f->log, needle);
    pthread_mutex_unlock(&f->lock);
    if (seen < count)
        fprintf(stderr, "the log has \"%s\" %d times, not %d\n", needle,
                seen, count);
    assert_true(seen >= count);
}

static const char policy[] =
    "version = 1\n"
    "[auth]\n"
    "allow = %1$s/authorized\n"
    "[defaults]\n"
    "security = none\n"
    "insecure = yes\n"
    "rationale = loopback test traffic only\n"
    "reconnect_ivl = 20ms\n"
    "[socket.producer]\n"
    "type = push\n"
    "sndhwm = 10\n"
    "sndtimeo = 100ms\n"
    "alert_window = 1s\n"
    "alert_mute = 50%%\n"
    "[socket.consumer]\n"
    "type = pull\n"
    "rcvhwm = 10\n"
    "rcvtimeo = 100ms\n"
    "[socket.lonely]\n"
    "type = pull\n"
    "alert_no_peers = yes\n"
    "[socket.visitor]\n"
    "type = push\n"
    "[socket.server]\n"
    "type = router\n"
    "security = curve\n"
    "curve_keys = %1$s/keys/server.key\n"
    "alert_auth_failures = 1\n"
    "[socket.stranger]\n"
    "type = dealer\n"
    "security = curve\n"
    "curve_keys = %1$s/keys/stranger.key\n"
    "curve_server_key = %1$s/keys/server.key\n"
    "[socket.confused]\n"
    "type = dealer\n"
    "security = curve\n"
    "curve_keys = %1$s/keys/stranger.key\n"
    "curve_server_key = %1$s/keys/other.key\n"
    "[socket.plain]\n"
    "type = dealer\n";

static void make_pair(fixture_t *f, const char *name)
{
    zg_cert_t *c = zg_cert_new();
    char p[256];
    snprintf(p, sizeof p, "%s/keys/%s.key", f->dir, name);
    assert_int_equal(zg_cert_save_pair(c, p, NULL, ZG_KDF_INTERACTIVE), 0);
    zg_cert_destroy(&c);
}

static int setup(void **state)
{
    fixture_t *f = calloc(1, sizeof *f);
    pthread_mutex_init(&f->lock, NULL);
    pthread_cond_init(&f->changed, NULL);
    snprintf(f->dir, sizeof f->dir, "/tmp/zguard-monitor-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    char p[256], text[4096];
    snprintf(p, sizeof p, "%s/keys", f->dir);
    mkdir(p, 0700);
    snprintf(p, sizeof p, "%s/authorized", f->dir);
    mkdir(p, 0755);
    make_pair(f, "server");
    make_pair(f, "stranger");
    make_pair(f, "other");
    snprintf(text, sizeof text, policy, f->dir);
    f->ctx = tu_ctx(text);
    zg_ctx_set_alert(f->ctx, on_alert, f);
    zg_ctx_set_log(f->ctx, ZG_LOG_INFO, on_log, f);
    f->port = zg_ctx_metrics_listen(f->ctx, "127.0.0.1:0");
    assert_true(f->port > 0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    zg_ctx_destroy(&f->ctx);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
    assert_int_equal(system(cmd), 0);
    pthread_mutex_destroy(&f->lock);
    pthread_cond_destroy(&f->changed);
    free(f);
    return 0;
}

static void endpoint_of(void *s, char *ep, size_t cap)
{
    zmq_getsockopt(s, ZMQ_LAST_ENDPOINT, ep, &cap);
}

static zg_counters_t counters(void *s)
{
    zg_counters_t c;
    assert_int_equal(zg_socket_counters(s, &c, sizeof c), 0);
    return c;
}

/* The monitor thread counts peers from libzmq's events, in its own time,
 * and nothing announces it: poll the count, with a deadline. */
static int64_t wait_peers(void *s, int64_t want)
{
    uint64_t until = tu_now_ms() + 3000;
    int64_t peers = counters(s).peers;
    while (peers != want && tu_now_ms() < until) {
        struct timespec tick = {0, 10000000};
        nanosleep(&tick, NULL);
        peers = counters(s).peers;
    }
    return peers;
}

/* ---- HWM pressure --------------------------------------------------------- */

typedef struct producer {
    void *sock;
    atomic_bool stop, paced; /* paced: 200 orders a second, not flat out */
    atomic_ullong first_mute; /* ms; 0 until a send found the HWM */
} producer_t;

static void *produce(void *arg)
{
    producer_t *p = arg;
    static char order[1024];
    while (!atomic_load(&p->stop)) {
        uint64_t t0 = tu_now_ms();
        zg_status_t st = zg_send(p->sock, order, sizeof order, 0);
        if (st == ZG_ESNDTIMEO && !atomic_load(&p->first_mute))
            atomic_store(&p->first_mute, t0);
        assert_true(st == ZG_OK || st == ZG_ESNDTIMEO);
        if (atomic_load(&p->paced)) { /* a workload's rate, not a wait */
            struct timespec pace = {0, 5000000};
            nanosleep(&pace, NULL);
        }
    }
    return NULL;
}

typedef struct consumer {
    void *sock;
    atomic_bool stop;
    atomic_ulong received;
} consumer_t;

static void *consume(void *arg)
{
    consumer_t *c = arg;
    char buf[1024];
    size_t len;
    while (!atomic_load(&c->stop))
        if (zg_recv(c->sock, buf, sizeof buf, &len, 0) == ZG_OK)
            atomic_fetch_add(&c->received, 1);
    return NULL;
}

static void test_slow_consumer_alert(void **state)
{
    fixture_t *f = *state;
    char ep[128];
    void *in = zg_socket(f->ctx, ZMQ_PULL, "consumer");
    assert_int_equal(zg_bind(in, "tcp://127.0.0.1:*"), 0);
    endpoint_of(in, ep, sizeof ep);
    producer_t p = {.sock = zg_socket(f->ctx, ZMQ_PUSH, "producer")};
    assert_int_equal(zg_connect(p.sock, ep), 0);
    pthread_t t;
    pthread_create(&t, NULL, produce, &p);
    /* the consumer does not read: the producer goes mute */
    uint64_t raised = wait_alert(f, "hwm_mute", "producer", 1, 8000);
    assert_true(raised > 0);
    uint64_t mute = atomic_load(&p.first_mute);
    assert_true(mute > 0);
    /* within 2 s of its condition having held for its 1 s window */
    assert_true(raised - mute <= 1000 + 2000);
    /* the consumer resumes and keeps up (a producer flat out would keep
     * it mute: that is back-pressure, and the alert would rightly stay) */
    atomic_store(&p.paced, true);
    consumer_t c = {.sock = in};
    uint64_t resumed = tu_now_ms();
    pthread_t ct;
    pthread_create(&ct, NULL, consume, &c);
    uint64_t cleared = wait_alert(f, "hwm_mute", "producer", 0, 8000);
    assert_true(cleared > 0);
    assert_true(cleared - resumed <= 1000 + 2000);
    atomic_store(&p.stop, true);
    pthread_join(t, NULL);
    atomic_store(&c.stop, true);
    pthread_join(ct, NULL);
    assert_true(atomic_load(&c.received) > 0);
    zg_counters_t pc = counters(p.sock);
    assert_true(pc.hwm_reached > 0);
    assert_true(pc.send_timeouts > 0);
    assert_true(pc.mute_ratio < 0.5);
    assert_int_equal(wait_peers(p.sock, 1), 1);
    zg_close(&p.sock);
    zg_close(&in);
}

static void test_timeouts_per_direction(void **state)
{
    fixture_t *f = *state;
    void *in = zg_socket(f->ctx, ZMQ_PULL, "consumer");
    assert_int_equal(zg_bind(in, "inproc://quiet"), 0);
    char buf[8];
    size_t len;
    assert_int_equal(zg_recv(in, buf, sizeof buf, &len, 0), ZG_ERCVTIMEO);
    assert_int_equal(zg_recv(in, buf, sizeof buf, &len, 0), ZG_ERCVTIMEO);
    void *out = zg_socket(f->ctx, ZMQ_PUSH, "producer");
    assert_int_equal(zg_bind(out, "inproc://nobody"), 0); /* no peer: mute */
    assert_int_equal(zg_send(out, "x", 1, 0), ZG_ESNDTIMEO);
    zg_counters_t ci = counters(in), co = counters(out);
    assert_int_equal(ci.recv_timeouts, 2);
    assert_int_equal(ci.send_timeouts, 0);
    assert_int_equal(co.send_timeouts, 1);
    assert_int_equal(co.recv_timeouts, 0);
    /* and the same through the exposition, read by Prometheus's parser */
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d", f->port);
    const char *args[] = {
        url,
        "zguard_timeouts_total{direction=\"recv\",socket=\"consumer\","
        "type=\"pull\"}=2",
        "zguard_timeouts_total{direction=\"send\",socket=\"consumer\","
        "type=\"pull\"}=0",
        "zguard_timeouts_total{direction=\"send\",socket=\"producer\","
        "type=\"push\"}=1",
        NULL};
    /* the authenticator must run for its family to be there */
    void *server = zg_socket(f->ctx, ZMQ_ROUTER, "server");
    tu_peer_t py;
    tu_peer_start(&py, "check_metrics.py", args, NULL, 0);
    assert_int_equal(tu_peer_wait(&py), 0);
    /* `zguard stats` shows the same, once and refreshed */
    char cmd[512], text[4096] = "";
    snprintf(cmd, sizeof cmd,
             "'%s' stats %s; '%s' stats --watch --count 1 --interval 0.2 %s",
             ZG_TEST_ZGUARD, url, ZG_TEST_ZGUARD, url);
    FILE *p = popen(cmd, "r");
    size_t n = fread(text, 1, sizeof text - 1, p);
    text[n] = '\0';
    assert_int_equal(pclose(p), 0);
    assert_contains(text, "SOCKET ");
    assert_contains(text, "SENT/s"); /* the --watch table: rates */
    assert_contains(text, "consumer             pull");
    assert_contains(text, "authenticator: 0 allowed, 0 denied");
    snprintf(cmd, sizeof cmd, "'%s' stats 127.0.0.1:1 2>&1", ZG_TEST_ZGUARD);
    p = popen(cmd, "r");
    n = fread(text, 1, sizeof text - 1, p);
    text[n] = '\0';
    assert_int_equal(WEXITSTATUS(pclose(p)), 2);
    assert_contains(text, "cannot connect to 127.0.0.1:1");
    zg_close(&server);
    zg_close(&out);
    zg_close(&in);
}

/* ---- handshakes refused, by reason ------------------------------------------ */

static void test_failure_reasons(void **state)
{
    fixture_t *f = *state;
    char ep[128];
    void *server = zg_socket(f->ctx, ZMQ_ROUTER, "server");
    assert_int_equal(zg_bind(server, "tcp://127.0.0.1:*"), 0);
    endpoint_of(server, ep, sizeof ep);
    /* an unknown key: the authenticator refuses it */
    void *stranger = zg_socket(f->ctx, ZMQ_DEALER, "stranger");
    assert_int_equal(zg_connect(stranger, ep), 0);
    wait_log(f, "(auth 0x", 1);
    zg_counters_t c = counters(server);
    assert_int_equal(c.handshakes_failed[0], 1); /* auth */
    /* a key that is not the server's: CURVE itself fails */
    void *confused = zg_socket(f->ctx, ZMQ_DEALER, "confused");
    assert_int_equal(zg_connect(confused, ep), 0);
    wait_log(f, "(crypto 0x", 1);
    zg_close(&confused); /* it would retry */
    c = counters(server);
    assert_true(c.handshakes_failed[1] >= 1); /* crypto */
    /* two refusals in a minute > alert_auth_failures = 1 */
    assert_true(wait_alert(f, "auth_failures", "server", 1, 3000) > 0);
    /* a plaintext client: "mechanism", or "no detail" when the NULL client
     * hung up before naming its mechanism; either way it got nothing */
    int before = log_count(f, "socket 'server' (ROUTER): handshake");
    void *plain = zg_socket(f->ctx, ZMQ_DEALER, "plain");
    assert_int_equal(zg_connect(plain, ep), 0);
    wait_log(f, "socket 'server' (ROUTER): handshake", before + 1);
    zg_close(&plain);
    c = counters(server);
    assert_true(c.handshakes_failed[2] + c.handshakes_failed[4] >= 1);
    assert_int_equal(c.handshakes_ok, 0);
    assert_int_equal(c.peers, 0);
    zg_close(&stranger);
    zg_close(&server);
}

/* ---- peers ------------------------------------------------------------------------ */

static void test_no_peers_alert(void **state)
{
    fixture_t *f = *state;
    char ep[128];
    void *lonely = zg_socket(f->ctx, ZMQ_PULL, "lonely");
    assert_int_equal(zg_bind(lonely, "tcp://127.0.0.1:*"), 0);
    endpoint_of(lonely, ep, sizeof ep);
    void *v = zg_socket(f->ctx, ZMQ_PUSH, "visitor");
    assert_int_equal(zg_connect(v, ep), 0);
    assert_int_equal(zg_send(v, "hi", 2, 0), ZG_OK);
    char buf[4];
    size_t len;
    assert_int_equal(zg_recv(lonely, buf, sizeof buf, &len, 0), ZG_OK);
    assert_int_equal(wait_peers(lonely, 1), 1);
    zg_close(&v); /* the only peer goes */
    assert_true(wait_alert(f, "no_peers", "lonely", 1, 3000) > 0);
    assert_int_equal(wait_peers(lonely, 0), 0);
    v = zg_socket(f->ctx, ZMQ_PUSH, "visitor");
    assert_int_equal(zg_connect(v, ep), 0);
    assert_true(wait_alert(f, "no_peers", "lonely", 0, 3000) > 0);
    zg_close(&v);
    zg_close(&lonely);
}

/* ---- exact queue depth ----------------------------------------------------------- */

static void test_exact_queue_depth(void **state)
{
    fixture_t *f = *state;
    /* off unless the policy asks, on any libzmq: the draft call can crash
     * libzmq near a disconnect (src/monitor.c) */
    zg_ctx_t *plain = tu_ctx("version = 1\n");
    void *p = zg_socket(plain, ZMQ_PUSH, NULL);
    assert_int_equal(zg_socket_sample(p), -1);
    assert_int_equal(errno, ENOTSUP);
    assert_non_null(strstr(zg_last_error(), "pipe_stats = yes"));
    zg_close(&p);
    zg_ctx_destroy(&plain);

    zg_ctx_t *ctx = tu_ctx("version = 1\n[defaults]\nsndhwm = 1000\n"
                           "rcvhwm = 1000\n[metrics]\npipe_stats = yes\n");
    void *in = zg_socket(ctx, ZMQ_PULL, NULL), *out = zg_socket(ctx, ZMQ_PUSH,
                                                                NULL);
    assert_int_equal(zg_bind(in, "inproc://parked"), 0);
    assert_int_equal(zg_connect(out, "inproc://parked"), 0);
    for (int i = 0; i < 300; i++)
        assert_int_equal(zg_send(out, "x", 1, 0), ZG_OK);
    (void)f;
    if (zg_socket_sample(out) != 0) {
        /* stock libzmq: the depth is unknown, and said to be */
        assert_int_equal(errno, ENOTSUP);
        assert_int_equal(counters(out).queue_out, -1);
    } else {
        /* draft API: 300 messages parked, none read. (libzmq learns of
         * reads only at the pipe's low-water mark; with none, the count is
         * exact.) The depth is published by the monitor's quarter-second
         * tick, which nothing else announces: poll it. */
        uint64_t until = tu_now_ms() + 3000;
        int64_t depth = -1;
        while (depth < 0 && tu_now_ms() < until) {
            /* over inproc the question is answered by the peer socket, and
             * a socket handles such commands only when its owner calls into
             * it: ZMQ_EVENTS does, for both (over tcp libzmq's I/O thread
             * answers by itself) */
            int events;
            size_t len = sizeof events;
            zmq_getsockopt(in, ZMQ_EVENTS, &events, &len);
            zmq_getsockopt(out, ZMQ_EVENTS, &events, &len);
            struct timespec tick = {0, 20000000}; /* the monitor's publish */
            nanosleep(&tick, NULL);
            depth = counters(out).queue_out;
        }
        fprintf(stderr, "exact depth: %lld of 300 parked\n",
                (long long)depth);
        assert_int_equal(depth, 300);
    }
    zg_close(&out);
    zg_close(&in);
    zg_ctx_destroy(&ctx);
}

/* Signals are the application's. zguard's threads block them, so a signal
 * sent to the process is handled on an application thread (here: only
 * main leaves SIGUSR1 open), and zguard's work on an application thread
 * (each hardened socket's bind, its monitor added by a command to the
 * monitor thread) goes through while signals interrupt it. The handler
 * needs these globals. */
static pthread_t signal_main;
static atomic_int signals_on_main, signals_elsewhere;

static void on_usr1(int sig)
{
    (void)sig;
    atomic_fetch_add(pthread_equal(pthread_self(), signal_main)
                         ? &signals_on_main
                         : &signals_elsewhere,
                     1);

}

static void *signaller(void *arg)
{
    const atomic_bool *stop = arg;
    const struct timespec gap = {0, 100000};
    while (!atomic_load(stop)) {
        kill(getpid(), SIGUSR1);
        nanosleep(&gap, NULL); /* a signal rate, not a wait for an event */
    }
    return NULL;
}

/* How many of this process's threads leave sig unblocked (SigBlk in
 * /proc/self/task/TID/status). */
static int threads_taking(int sig)
{
    DIR *d = opendir("/proc/self/task");
    assert_non_null(d);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        char path[300], line[256];
        snprintf(path, sizeof path, "/proc/self/task/%s/status", e->d_name);
        FILE *f = fopen(path, "r");
        if (!f)
            continue; /* a thread that just ended */
        while (fgets(line, sizeof line, f))
            if (strncmp(line, "SigBlk:", 7) == 0 &&
                !((strtoull(line + 7, NULL, 16) >> (sig - 1)) & 1))
                n++;
        fclose(f);
    }
    closedir(d);
    return n;
}

static void test_signals_stay_with_the_application(void **state)
{
    (void)state;
    signal_main = pthread_self();
    struct sigaction sa = {.sa_handler = on_usr1}, was; /* no SA_RESTART */
    sigemptyset(&sa.sa_mask);
    sigaction(SIGUSR1, &sa, &was);
    zg_ctx_t *ctx = tu_ctx(NULL);
    /* libzmq's threads and zguard's monitor start with the first hardened
     * socket: before the signals (libzmq's block them only once running) */
    void *first = zg_socket(ctx, ZMQ_PULL, NULL);
    assert_int_equal(zg_bind(first, "inproc://signals-first"), 0);
    sigset_t usr1;
    sigemptyset(&usr1);
    sigaddset(&usr1, SIGUSR1);
    atomic_bool stop = false;
    pthread_t t;
    pthread_sigmask(SIG_BLOCK, &usr1, NULL); /* the signaller blocks it */
    assert_int_equal(pthread_create(&t, NULL, signaller, &stop), 0);
    pthread_sigmask(SIG_UNBLOCK, &usr1, NULL);
    for (int i = 0; i < 300; i++) {
        char ep[64];
        snprintf(ep, sizeof ep, "inproc://signals-%d", i);
        void *s = zg_socket(ctx, ZMQ_PULL, NULL);
        assert_non_null(s);
        if (zg_bind(s, ep) != 0)
            fail_msg("bind %d under signals: %s", i, zg_last_error());
        zg_close(&s);
    }
    atomic_store(&stop, true);
    pthread_join(t, NULL);
    /* and every thread but main, zguard's and libzmq's, blocks it */
    assert_int_equal(threads_taking(SIGUSR1), 1);
    zg_close(&first);
    zg_ctx_destroy(&ctx);
    sigaction(SIGUSR1, &was, NULL);
    assert_true(atomic_load(&signals_on_main) > 0);
    assert_int_equal(atomic_load(&signals_elsewhere), 0);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_slow_consumer_alert), T(test_timeouts_per_direction),
        T(test_failure_reasons),     T(test_no_peers_alert),
        T(test_exact_queue_depth),
        cmocka_unit_test(test_signals_stay_with_the_application),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
