/*
 * bench_scen_throughput.c - messages per second, PUSH -> PULL, for raw
 * libzmq, zguard and CZMQ on one transport, security and message size, and
 * for raw libzmq and zguard through their zero-copy zmq_msg_t calls (raw
 * msg, zguard msg: CZMQ's frames are zmq_msg_t too, so these are the like
 * for like of CZMQ).
 *
 * Each round uses fresh sockets (bench_pair_sockets: identical options,
 * read back), a sender thread and a receiver thread. One untimed message
 * proves the connection (and CURVE handshake); then the sender sends M and
 * the receiver times from the first of them to the last, like libzmq's
 * perf tools: rate = (M - 1) / time. M is what takes the first contestant
 * (raw libzmq) about the round length; every contestant sends the same M.
 * Every message is checked (size and first byte), and zguard's counters
 * must agree with what was sent; anything else stops the run.
 *
 * The send and receive loops are one function per contestant, so a timed
 * loop carries no dispatch and a profiler can compare them by name:
 *   valgrind --tool=callgrind zguard-bench --only throughput-inproc-64B \
 *       --rounds 1 --messages 100000
 *   callgrind_annotate --inclusive=yes callgrind.out.* | grep tput_
 */
#include "bench.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

typedef struct tput_round tput_round_t;
typedef int(tput_loop)(tput_round_t *r, long n);

struct tput_round {
    bench_sock_t rx, tx;
    size_t size;
    long count;
    unsigned char *payload, *buf;
    tput_loop *send, *recv;
    pthread_barrier_t ready; /* both passed the untimed first message */
    atomic_bool failed;
    double seconds; /* receiver: first to last timed message */
    double cpu_tx, cpu_rx;
    char err[256];
};

/* The first failure of either thread is the one reported. */
static int loop_fail(tput_round_t *r, const char *call, long i)
{
    const char *why =
        strncmp(call, "zg_", 3) == 0 ? zg_last_error() : zmq_strerror(errno);
    if (!atomic_exchange(&r->failed, true))
        snprintf(r->err, sizeof r->err, "%s failed at message %ld: %s", call, i,
                 why);
    return -1;
}

static int tput_send_raw(tput_round_t *r, long n)
{
    for (long i = 0; i < n; i++)
        if (zmq_send(r->tx.zmq, r->payload, r->size, 0) != (int)r->size)
            return loop_fail(r, "zmq_send", i);
    return 0;
}

static int tput_recv_raw(tput_round_t *r, long n)
{
    for (long i = 0; i < n; i++)
        if (zmq_recv(r->rx.zmq, r->buf, r->size, 0) != (int)r->size ||
            r->buf[0] != BENCH_MARK)
            return loop_fail(r, "zmq_recv", i);
    return 0;
}

static int tput_send_zguard(tput_round_t *r, long n)
{
    for (long i = 0; i < n; i++)
        if (zg_send(r->tx.zmq, r->payload, r->size, 0) != ZG_OK)
            return loop_fail(r, "zg_send", i);
    return 0;
}

static int tput_recv_zguard(tput_round_t *r, long n)
{
    size_t len;
    for (long i = 0; i < n; i++)
        if (zg_recv(r->rx.zmq, r->buf, r->size, &len, 0) != ZG_OK ||
            len != r->size || r->buf[0] != BENCH_MARK)
            return loop_fail(r, "zg_recv", i);
    return 0;
}

/* The CZMQ way: a frame per message, sent (and so destroyed) by
 * zframe_send; received as a new frame, destroyed after use. */
static int tput_send_czmq(tput_round_t *r, long n)
{
    for (long i = 0; i < n; i++) {
        zframe_t *f = zframe_new(r->payload, r->size);
        if (zframe_send(&f, r->tx.zs, 0) != 0) {
            zframe_destroy(&f);
            return loop_fail(r, "zframe_send", i);
        }
    }
    return 0;
}

static int tput_recv_czmq(tput_round_t *r, long n)
{
    for (long i = 0; i < n; i++) {
        zframe_t *f = zframe_recv(r->rx.zs);
        bool ok =
            f && zframe_size(f) == r->size && zframe_data(f)[0] == BENCH_MARK;
        zframe_destroy(&f);
        if (!ok)
            return loop_fail(r, "zframe_recv", i);
    }
    return 0;
}

/* The zmq_msg_t way, as CZMQ's zframe_new does it: a message per send,
 * the payload copied in (zmq_msg_init_size + memcpy), handed to libzmq by
 * the send; each received into a message of its own, closed after use. */
static int tput_send_raw_msg(tput_round_t *r, long n)
{
    for (long i = 0; i < n; i++) {
        zmq_msg_t m;
        if (zmq_msg_init_size(&m, r->size) != 0)
            return loop_fail(r, "zmq_msg_init_size", i);
        memcpy(zmq_msg_data(&m), r->payload, r->size);
        if (zmq_msg_send(&m, r->tx.zmq, 0) != (int)r->size) {
            int rc = loop_fail(r, "zmq_msg_send", i);
            zmq_msg_close(&m);
            return rc;
        }
    }
    return 0;
}

/* size and first byte of a received message */
static bool msg_ok(zmq_msg_t *m, size_t size)
{
    return zmq_msg_size(m) == size &&
           ((const unsigned char *)zmq_msg_data(m))[0] == BENCH_MARK;
}

static int tput_recv_raw_msg(tput_round_t *r, long n)
{
    for (long i = 0; i < n; i++) {
        zmq_msg_t m;
        zmq_msg_init(&m);
        bool ok = zmq_msg_recv(&m, r->rx.zmq, 0) == (int)r->size &&
                  msg_ok(&m, r->size);
        int rc = ok ? 0 : loop_fail(r, "zmq_msg_recv", i);
        zmq_msg_close(&m);
        if (rc)
            return rc;
    }
    return 0;
}

static int tput_send_zguard_msg(tput_round_t *r, long n)
{
    for (long i = 0; i < n; i++) {
        zmq_msg_t m;
        if (zmq_msg_init_size(&m, r->size) != 0)
            return loop_fail(r, "zmq_msg_init_size", i);
        memcpy(zmq_msg_data(&m), r->payload, r->size);
        if (zg_msg_send(r->tx.zmq, &m, 0) != ZG_OK) {
            int rc = loop_fail(r, "zg_msg_send", i);
            zmq_msg_close(&m);
            return rc;
        }
    }
    return 0;
}

static int tput_recv_zguard_msg(tput_round_t *r, long n)
{
    for (long i = 0; i < n; i++) {
        zmq_msg_t m;
        zmq_msg_init(&m);
        bool ok = zg_msg_recv(r->rx.zmq, &m, 0) == ZG_OK && msg_ok(&m, r->size);
        int rc = ok ? 0 : loop_fail(r, "zg_msg_recv", i);
        zmq_msg_close(&m);
        if (rc)
            return rc;
    }
    return 0;
}

static void *sender_main(void *arg)
{
    tput_round_t *r = arg;
    int rc = r->send(r, 1); /* proves the connection; not timed */
    pthread_barrier_wait(&r->ready);
    if (rc == 0 && !atomic_load(&r->failed)) {
        double c0 = bench_thread_cpu();
        r->send(r, r->count);
        r->cpu_tx = bench_thread_cpu() - c0;
    }
    return NULL;
}

static void *receiver_main(void *arg)
{
    tput_round_t *r = arg;
    int rc = r->recv(r, 1);
    pthread_barrier_wait(&r->ready);
    /* like libzmq's perf tools: the clock starts at the first message */
    if (rc == 0 && !atomic_load(&r->failed) && r->recv(r, 1) == 0) {
        double c0 = bench_thread_cpu(), t0 = cli_now();
        if (r->recv(r, r->count - 1) == 0) {
            r->seconds = cli_now() - t0;
            r->cpu_rx = bench_thread_cpu() - c0;
        }
    }
    return NULL;
}

static void pick_loops(tput_round_t *r, bench_api_t api)
{
    switch (api) {
    case BENCH_RAW:
        r->send = tput_send_raw;
        r->recv = tput_recv_raw;
        break;
    case BENCH_CZMQ:
        r->send = tput_send_czmq;
        r->recv = tput_recv_czmq;
        break;
    case BENCH_RAW_MSG:
        r->send = tput_send_raw_msg;
        r->recv = tput_recv_raw_msg;
        break;
    case BENCH_ZG_MSG:
        r->send = tput_send_zguard_msg;
        r->recv = tput_recv_zguard_msg;
        break;
    default:
        r->send = tput_send_zguard;
        r->recv = tput_recv_zguard;
        break;
    }
}

/* zguard counts every message; the untimed first one too. */
static void check_counters(const tput_round_t *r, bench_api_t api)
{
    if (!bench_api_zguard(api))
        return;
    zg_counters_t tc, rc;
    if (zg_socket_counters(r->tx.zmq, &tc, sizeof tc) != 0 ||
        zg_socket_counters(r->rx.zmq, &rc, sizeof rc) != 0)
        bench_die("zg_socket_counters: %s", zg_last_error());
    if (tc.msgs_sent != (uint64_t)r->count + 1 ||
        rc.msgs_received != (uint64_t)r->count + 1)
        bench_die("zguard counted %llu sent, %llu received; %ld were",
                  (unsigned long long)tc.msgs_sent,
                  (unsigned long long)rc.msgs_received, r->count + 1);
}

typedef struct tput_result {
    double rate, cpu_ns; /* messages/s; sender + receiver CPU per message */
} tput_result_t;

static void run_threads(tput_round_t *r)
{
    pthread_t tx, rx;
    if (pthread_barrier_init(&r->ready, NULL, 2) != 0 ||
        pthread_create(&rx, NULL, receiver_main, r) != 0 ||
        pthread_create(&tx, NULL, sender_main, r) != 0)
        bench_die("cannot start the round's threads");
    pthread_join(tx, NULL);
    pthread_join(rx, NULL);
    pthread_barrier_destroy(&r->ready);
}

/* One round on fresh sockets. */
static tput_result_t tput_round(bench_pair_t *p, bench_api_t api, long count,
                                unsigned char *payload, unsigned char *buf)
{
    tput_round_t *r = calloc(1, sizeof *r);
    if (!r)
        bench_die("out of memory");
    r->size = p->net.size;
    r->count = count;
    r->payload = payload;
    r->buf = buf;
    pick_loops(r, api);
    atomic_init(&r->failed, false);
    bench_pair_sockets(p, api, &r->rx, &r->tx);
    run_threads(r);
    if (atomic_load(&r->failed) || r->seconds <= 0)
        bench_die("%s, %s: %s", bench_apis[api].name,
                  bench_transport_name(p->net.transport),
                  r->err[0] ? r->err : "no time measured");
    check_counters(r, api);
    bench_sock_close(&r->tx);
    bench_sock_close(&r->rx);
    tput_result_t res = {(double)(count - 1) / r->seconds,
                         (r->cpu_tx + r->cpu_rx) * 1e9 / (double)count};
    free(r);
    return res;
}

typedef struct tput_run {
    const bench_cfg_t *cfg;
    bench_pair_t pair;
    unsigned char *payload, *buf;
} tput_run_t;

/* Messages per round: what takes `api` about the round length. Doubles as
 * its warm-up. */
static long calibrate(tput_run_t *t, bench_api_t api)
{
    long n = t->cfg->quick ? 2000 : 10000;
    double rate;
    for (;;) {
        rate = tput_round(&t->pair, api, n, t->payload, t->buf).rate;
        if ((double)n / rate >= t->cfg->round_s / 4 || n >= 50000000L)
            break;
        n *= 4;
    }
    long m = (long)(rate * t->cfg->round_s);
    return m < 1000 ? 1000 : m;
}

static void record(bench_table_t *t, int row, int round, size_t size,
                   tput_result_t res)
{
    t->row[row].v[0][round] = res.rate;
    t->row[row].v[1][round] = res.rate * (double)size / 1e6;
    t->row[row].v[2][round] = res.cpu_ns;
}

/* Runs the rounds of t's rows, contestant apis[i] in row i, interleaved. */
void bench_tput_rounds(const bench_cfg_t *cfg, const bench_net_t *net,
                       const bench_api_t *apis, bench_table_t *t)
{
    tput_run_t run = {.cfg = cfg};
    int hwm = bench_hwm_for(net->size);
    bench_pair_open(&run.pair, cfg->env, net, ZMQ_PULL, ZMQ_PUSH, hwm);
    run.payload = malloc(net->size);
    run.buf = malloc(net->size);
    if (!run.payload || !run.buf)
        bench_die("out of memory");
    memset(run.payload, BENCH_MARK, net->size);
    long m = cfg->messages ? cfg->messages : calibrate(&run, apis[0]);
    for (int i = cfg->messages ? 0 : 1; i < t->nrows; i++) /* warm-up */
        tput_round(&run.pair, apis[i], m / 10 + 2, run.payload, run.buf);
    for (int r = 0; r < t->rounds; r++)
        for (int i = 0; i < t->nrows; i++) {
            int k = bench_order(r, t->nrows, i);
            tput_result_t res =
                tput_round(&run.pair, apis[k], m, run.payload, run.buf);
            record(t, k, r, net->size, res);
            if (cfg->verbose)
                fprintf(stderr,
                        "  %s round %d %-14s %12.0f msg/s %7.0f ns/msg\n",
                        t->id, r + 1, t->row[k].name, res.rate, res.cpu_ns);
        }
    bench_pair_options(&run.pair, t->options, sizeof t->options);
    snprintf(t->note, sizeof t->note,
             "%ld messages per round, rounds: %d; sndhwm = rcvhwm = %d", m,
             t->rounds, hwm);
    t->per_round = (double)m;
    t->per_round_of = "messages";
    bench_pair_close(&run.pair);
    free(run.payload);
    free(run.buf);
}

void bench_tput_table(bench_table_t *t, const bench_cfg_t *cfg)
{
    t->rounds = cfg->rounds;
    t->better = BENCH_HIGHER_BETTER;
    t->better_word = "faster";
    t->worse_word = "slower";
    t->nmetrics = 3;
    t->metric[0] =
        (bench_metric_t){"msgs_per_s", "msg/s", -1, BENCH_AGG_MEDIAN};
    t->metric[1] = (bench_metric_t){"mb_per_s", "MB/s", 1, BENCH_AGG_MEDIAN};
    t->metric[2] =
        (bench_metric_t){"cpu_ns_per_msg", "cpu ns/msg", 0, BENCH_AGG_MEDIAN};
}

void bench_scen_throughput(const bench_cfg_t *cfg, const bench_scenario_t *sc,
                           bench_table_t *t)
{
    static const bench_api_t apis[] = {BENCH_RAW, BENCH_ZG, BENCH_CZMQ,
                                       BENCH_RAW_MSG, BENCH_ZG_MSG};
    int n = (int)(sizeof apis / sizeof apis[0]);
    bench_tput_table(t, cfg);
    bench_net_title(t, &sc->net, "PUSH -> PULL");
    for (int i = 0; i < n; i++)
        bench_table_row(t, bench_apis[apis[i]].id, bench_apis[apis[i]].name,
                        bench_apis[apis[i]].calls);
    /* the target applies to 64 B and 1 KiB; 64 KiB is shown */
    double vs_raw = sc->net.size <= 1024 ? 0.97 : 0;
    bench_table_cmp(t, 1, 0, vs_raw);
    bench_table_cmp(t, 1, 2, 1.0);
    bench_table_cmp(t, 4, 3, vs_raw); /* zguard msg / raw msg */
    bench_table_cmp(t, 4, 2, 1.0);    /* zguard msg / CZMQ: like for like */
    bench_tput_rounds(cfg, &sc->net, apis, t);
}
