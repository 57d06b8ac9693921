/*
 * bench_scen_latency.c - round-trip latency, REQ -> REP echo, for raw
 * libzmq, zguard and CZMQ on one transport, security and message size, and
 * for raw libzmq and zguard through their zero-copy zmq_msg_t calls (raw
 * msg, zguard msg: the like for like of CZMQ's frames).
 *
 * A round: fresh sockets (identical options, read back), the REP echoing
 * in its own thread, the REQ in this one. One untimed round trip proves
 * the connection (and handshake); then K round trips, each timed alone
 * (send, receive the echo, checked), give K samples. The round reports
 * their p50, p99 and max (nearest rank: each is a measured sample). K is
 * what takes raw libzmq about the round length; all contestants run K.
 *
 * Across rounds the table shows the median of the rounds' p50 and p99 and
 * the largest max. The ratios compare p50, oriented so that >= 1 means
 * "as fast or faster": raw's p50 / zguard's p50.
 */
#include "bench.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

typedef struct lat_round lat_round_t;
typedef int(lat_fn)(lat_round_t *r, long n);

struct lat_round {
    bench_sock_t rep, req;
    size_t size;
    long count; /* timed round trips */
    unsigned char *payload, *cbuf, *sbuf;
    double *samples; /* microseconds */
    lat_fn *client, *server;
    atomic_bool failed;
    char err[256];
};

static int lat_fail(lat_round_t *r, const char *call, long i)
{
    const char *why =
        strncmp(call, "zg_", 3) == 0 ? zg_last_error() : zmq_strerror(errno);
    if (!atomic_exchange(&r->failed, true))
        snprintf(r->err, sizeof r->err, "%s failed at round trip %ld: %s", call,
                 i, why);
    return -1;
}

/* Client loops: n round trips; samples[i - 1] for i >= 1 (0 is untimed). */
static int lat_client_raw(lat_round_t *r, long n)
{
    for (long i = 0; i < n; i++) {
        double t0 = cli_now();
        if (zmq_send(r->req.zmq, r->payload, r->size, 0) != (int)r->size)
            return lat_fail(r, "zmq_send", i);
        if (zmq_recv(r->req.zmq, r->cbuf, r->size, 0) != (int)r->size ||
            r->cbuf[0] != BENCH_MARK)
            return lat_fail(r, "zmq_recv", i);
        if (i)
            r->samples[i - 1] = (cli_now() - t0) * 1e6;
    }
    return 0;
}

static int lat_client_zguard(lat_round_t *r, long n)
{
    size_t len;
    for (long i = 0; i < n; i++) {
        double t0 = cli_now();
        if (zg_send(r->req.zmq, r->payload, r->size, 0) != ZG_OK)
            return lat_fail(r, "zg_send", i);
        if (zg_recv(r->req.zmq, r->cbuf, r->size, &len, 0) != ZG_OK ||
            len != r->size || r->cbuf[0] != BENCH_MARK)
            return lat_fail(r, "zg_recv", i);
        if (i)
            r->samples[i - 1] = (cli_now() - t0) * 1e6;
    }
    return 0;
}

static int lat_client_czmq(lat_round_t *r, long n)
{
    for (long i = 0; i < n; i++) {
        double t0 = cli_now();
        zframe_t *f = zframe_new(r->payload, r->size);
        if (zframe_send(&f, r->req.zs, 0) != 0) {
            zframe_destroy(&f);
            return lat_fail(r, "zframe_send", i);
        }
        f = zframe_recv(r->req.zs);
        bool ok =
            f && zframe_size(f) == r->size && zframe_data(f)[0] == BENCH_MARK;
        zframe_destroy(&f);
        if (!ok)
            return lat_fail(r, "zframe_recv", i);
        if (i)
            r->samples[i - 1] = (cli_now() - t0) * 1e6;
    }
    return 0;
}

/* The zmq_msg_t way, as CZMQ's zframe_new does it: a message per request,
 * the payload copied in (zmq_msg_init_size + memcpy); the reply received
 * into a message of its own, closed after use. */
static bool msg_ok(zmq_msg_t *m, size_t size)
{
    return zmq_msg_size(m) == size &&
           ((const unsigned char *)zmq_msg_data(m))[0] == BENCH_MARK;
}

static int lat_client_raw_msg(lat_round_t *r, long n)
{
    for (long i = 0; i < n; i++) {
        double t0 = cli_now();
        zmq_msg_t m;
        if (zmq_msg_init_size(&m, r->size) != 0)
            return lat_fail(r, "zmq_msg_init_size", i);
        memcpy(zmq_msg_data(&m), r->payload, r->size);
        if (zmq_msg_send(&m, r->req.zmq, 0) != (int)r->size) {
            int rc = lat_fail(r, "zmq_msg_send", i);
            zmq_msg_close(&m);
            return rc;
        }
        zmq_msg_init(&m);
        bool ok = zmq_msg_recv(&m, r->req.zmq, 0) == (int)r->size &&
                  msg_ok(&m, r->size);
        int rc = ok ? 0 : lat_fail(r, "zmq_msg_recv", i);
        zmq_msg_close(&m);
        if (rc)
            return rc;
        if (i)
            r->samples[i - 1] = (cli_now() - t0) * 1e6;
    }
    return 0;
}

static int lat_client_zguard_msg(lat_round_t *r, long n)
{
    for (long i = 0; i < n; i++) {
        double t0 = cli_now();
        zmq_msg_t m;
        if (zmq_msg_init_size(&m, r->size) != 0)
            return lat_fail(r, "zmq_msg_init_size", i);
        memcpy(zmq_msg_data(&m), r->payload, r->size);
        if (zg_msg_send(r->req.zmq, &m, 0) != ZG_OK) {
            int rc = lat_fail(r, "zg_msg_send", i);
            zmq_msg_close(&m);
            return rc;
        }
        zmq_msg_init(&m);
        bool ok =
            zg_msg_recv(r->req.zmq, &m, 0) == ZG_OK && msg_ok(&m, r->size);
        int rc = ok ? 0 : lat_fail(r, "zg_msg_recv", i);
        zmq_msg_close(&m);
        if (rc)
            return rc;
        if (i)
            r->samples[i - 1] = (cli_now() - t0) * 1e6;
    }
    return 0;
}

/* Server loops: echo n requests. */
static int lat_server_raw(lat_round_t *r, long n)
{
    for (long i = 0; i < n; i++) {
        int got = zmq_recv(r->rep.zmq, r->sbuf, r->size, 0);
        if (got != (int)r->size ||
            zmq_send(r->rep.zmq, r->sbuf, r->size, 0) != got)
            return lat_fail(r, "zmq_recv/zmq_send (echo)", i);
    }
    return 0;
}

static int lat_server_zguard(lat_round_t *r, long n)
{
    size_t len;
    for (long i = 0; i < n; i++)
        if (zg_recv(r->rep.zmq, r->sbuf, r->size, &len, 0) != ZG_OK ||
            zg_send(r->rep.zmq, r->sbuf, len, 0) != ZG_OK)
            return lat_fail(r, "zg_recv/zg_send (echo)", i);
    return 0;
}

static int lat_server_czmq(lat_round_t *r, long n)
{
    for (long i = 0; i < n; i++) {
        zframe_t *f = zframe_recv(r->rep.zs);
        if (!f || zframe_send(&f, r->rep.zs, 0) != 0) {
            zframe_destroy(&f);
            return lat_fail(r, "zframe_recv/zframe_send (echo)", i);
        }
    }
    return 0;
}

/* The msg servers echo the message they received, as CZMQ's does its
 * frame: no copy. */
static int lat_server_raw_msg(lat_round_t *r, long n)
{
    for (long i = 0; i < n; i++) {
        zmq_msg_t m;
        zmq_msg_init(&m);
        bool ok = zmq_msg_recv(&m, r->rep.zmq, 0) == (int)r->size &&
                  zmq_msg_send(&m, r->rep.zmq, 0) == (int)r->size;
        int rc = ok ? 0 : lat_fail(r, "zmq_msg_recv/zmq_msg_send (echo)", i);
        zmq_msg_close(&m); /* empty after a send; else what was received */
        if (rc)
            return rc;
    }
    return 0;
}

static int lat_server_zguard_msg(lat_round_t *r, long n)
{
    for (long i = 0; i < n; i++) {
        zmq_msg_t m;
        zmq_msg_init(&m);
        bool ok = zg_msg_recv(r->rep.zmq, &m, 0) == ZG_OK &&
                  zmq_msg_size(&m) == r->size &&
                  zg_msg_send(r->rep.zmq, &m, 0) == ZG_OK;
        int rc = ok ? 0 : lat_fail(r, "zg_msg_recv/zg_msg_send (echo)", i);
        zmq_msg_close(&m);
        if (rc)
            return rc;
    }
    return 0;
}

static void pick(lat_round_t *r, bench_api_t api)
{
    switch (api) {
    case BENCH_RAW:
        r->client = lat_client_raw;
        r->server = lat_server_raw;
        break;
    case BENCH_CZMQ:
        r->client = lat_client_czmq;
        r->server = lat_server_czmq;
        break;
    case BENCH_RAW_MSG:
        r->client = lat_client_raw_msg;
        r->server = lat_server_raw_msg;
        break;
    case BENCH_ZG_MSG:
        r->client = lat_client_zguard_msg;
        r->server = lat_server_zguard_msg;
        break;
    default:
        r->client = lat_client_zguard;
        r->server = lat_server_zguard;
        break;
    }
}

static void *server_main(void *arg)
{
    lat_round_t *r = arg;
    r->server(r, r->count + 1);
    return NULL;
}

typedef struct lat_result {
    double p50, p99, max, mean; /* microseconds */
} lat_result_t;

static lat_result_t summarize(double *samples, long n)
{
    bench_sort(samples, (size_t)n);
    double sum = 0;
    for (long i = 0; i < n; i++)
        sum += samples[i];
    return (lat_result_t){bench_percentile_sorted(samples, (size_t)n, 50),
                          bench_percentile_sorted(samples, (size_t)n, 99),
                          samples[n - 1], sum / (double)n};
}

typedef struct lat_run {
    bench_pair_t pair;
    unsigned char *payload, *cbuf, *sbuf;
    double *samples;
    long cap; /* samples */
} lat_run_t;

static lat_result_t lat_round(lat_run_t *run, bench_api_t api, long count)
{
    lat_round_t r = {.size = run->pair.net.size,
                     .count = count,
                     .payload = run->payload,
                     .cbuf = run->cbuf,
                     .sbuf = run->sbuf,
                     .samples = run->samples};
    pick(&r, api);
    atomic_init(&r.failed, false);
    bench_pair_sockets(&run->pair, api, &r.rep, &r.req);
    pthread_t server;
    if (pthread_create(&server, NULL, server_main, &r) != 0)
        bench_die("cannot start the echo thread");
    r.client(&r, count + 1);
    pthread_join(server, NULL);
    if (atomic_load(&r.failed))
        bench_die("%s, %s: %s", bench_apis[api].name,
                  bench_transport_name(run->pair.net.transport), r.err);
    bench_sock_close(&r.req);
    bench_sock_close(&r.rep);
    return summarize(run->samples, count);
}

#define LAT_MAX_SAMPLES 1000000L

static void lat_alloc(lat_run_t *run, size_t size)
{
    run->cap = LAT_MAX_SAMPLES;
    run->payload = malloc(size);
    run->cbuf = malloc(size);
    run->sbuf = malloc(size);
    run->samples = malloc((size_t)run->cap * sizeof *run->samples);
    if (!run->payload || !run->cbuf || !run->sbuf || !run->samples)
        bench_die("out of memory");
    memset(run->payload, BENCH_MARK, size);
}

static void lat_free(lat_run_t *run)
{
    free(run->payload);
    free(run->cbuf);
    free(run->sbuf);
    free(run->samples);
}

/* Round trips per round: what takes `api` about the round length. */
static long calibrate(lat_run_t *run, bench_api_t api, double round_s)
{
    lat_result_t res = lat_round(run, api, 200);
    long k = (long)(round_s * 1e6 / res.mean);
    return k < 200 ? 200 : k > run->cap ? run->cap : k;
}

static void record(bench_table_t *t, int row, int round, lat_result_t res)
{
    t->row[row].v[0][round] = res.p50;
    t->row[row].v[1][round] = res.p99;
    t->row[row].v[2][round] = res.max;
}

static void lat_rounds(const bench_cfg_t *cfg, const bench_net_t *net,
                       const bench_api_t *apis, bench_table_t *t)
{
    lat_run_t run;
    bench_pair_open(&run.pair, cfg->env, net, ZMQ_REP, ZMQ_REQ,
                    bench_hwm_for(net->size));
    lat_alloc(&run, net->size);
    long k =
        cfg->messages ? cfg->messages : calibrate(&run, apis[0], cfg->round_s);
    if (k > run.cap)
        bench_die("--messages: at most %ld round trips per round", run.cap);
    for (int i = cfg->messages ? 0 : 1; i < t->nrows; i++) /* warm-up */
        lat_round(&run, apis[i], k / 10 + 10);
    for (int r = 0; r < t->rounds; r++)
        for (int i = 0; i < t->nrows; i++) {
            int a = bench_order(r, t->nrows, i);
            lat_result_t res = lat_round(&run, apis[a], k);
            record(t, a, r, res);
            if (cfg->verbose)
                fprintf(stderr,
                        "  %s round %d %-14s p50 %.1f p99 %.1f max %.1f us\n",
                        t->id, r + 1, t->row[a].name, res.p50, res.p99,
                        res.max);
        }
    bench_pair_options(&run.pair, t->options, sizeof t->options);
    snprintf(t->note, sizeof t->note,
             "%ld timed round trips per round, rounds: %d; 1 request in "
             "flight",
             k, t->rounds);
    t->per_round = (double)k;
    t->per_round_of = "timed round trips";
    bench_pair_close(&run.pair);
    lat_free(&run);
}

void bench_scen_latency(const bench_cfg_t *cfg, const bench_scenario_t *sc,
                        bench_table_t *t)
{
    static const bench_api_t apis[] = {BENCH_RAW, BENCH_ZG, BENCH_CZMQ,
                                       BENCH_RAW_MSG, BENCH_ZG_MSG};
    int n = (int)(sizeof apis / sizeof apis[0]);
    t->rounds = cfg->rounds;
    t->better = BENCH_LOWER_BETTER;
    t->better_word = "faster";
    t->worse_word = "slower";
    t->nmetrics = 3;
    t->metric[0] = (bench_metric_t){"p50_us", "p50 us", 1, BENCH_AGG_MEDIAN};
    t->metric[1] = (bench_metric_t){"p99_us", "p99 us", 1, BENCH_AGG_MEDIAN};
    t->metric[2] = (bench_metric_t){"max_us", "max us", 0, BENCH_AGG_MAX};
    bench_net_title(t, &sc->net, "REQ -> REP round trip");
    for (int i = 0; i < n; i++)
        bench_table_row(t, bench_apis[apis[i]].id, bench_apis[apis[i]].name,
                        bench_apis[apis[i]].calls);
    double vs_raw = sc->net.size <= 1024 ? 0.97 : 0;
    bench_table_cmp(t, 1, 0, vs_raw);
    bench_table_cmp(t, 1, 2, 1.0);
    bench_table_cmp(t, 4, 3, vs_raw); /* zguard msg / raw msg */
    bench_table_cmp(t, 4, 2, 1.0);    /* zguard msg / CZMQ: like for like */
    lat_rounds(cfg, &sc->net, apis, t);
}
