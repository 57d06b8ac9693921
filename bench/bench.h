/*
 * bench.h - what the files of zguard-bench share: the run configuration,
 * the result tables every scenario fills, the scenario table's entries, and
 * the sockets of the contestants (raw libzmq, zguard, CZMQ; raw libzmq and
 * zguard also through their zero-copy zmq_msg_t calls) made with identical
 * options.
 *
 * zguard_bench.c      main, options, the scenario table
 * bench_report.c      tables as text and as JSON
 * bench_setup.c       temp directory, keys, policies, contestants' sockets
 * bench_stats.c       medians, percentiles, ratios, paired verdicts
 * bench_scen_*.c      one family of scenarios each
 * bench_instr.c       instructions per message (zguard bench instr)
 */
#ifndef ZG_BENCH_H
#define ZG_BENCH_H

#include <czmq.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <zguard.h>

#include "bench_stats.h"
#include "cli_clock.h"
#include "cli_proc.h"

#define BENCH_MAX_ROUNDS 31
#define BENCH_MAX_ROWS 8
#define BENCH_MAX_METRICS 4
#define BENCH_MAX_CMPS 8
#define BENCH_MARK 0x5a /* every payload byte; receivers check the first */

/* ---- failures ------------------------------------------------------------ */

/* The name in messages: "zguard bench" when run by the zguard command. */
void bench_set_prog(const char *argv0);
const char *bench_prog(void);
/* One line on stderr, the hook (if any), then exit 2: a benchmark that
 * cannot check what it measured gives no numbers. _exit, not exit: other
 * threads may still be inside libzmq, where CZMQ's atexit handler would
 * hang terminating its context. */
_Noreturn void bench_die(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));
void bench_on_die(void (*hook)(void *arg), void *arg);
double bench_thread_cpu(void); /* this thread's CPU time, seconds */

/* ---- the run ------------------------------------------------------------- */

typedef struct bench_env bench_env_t;

typedef struct bench_cfg {
    bool quick, json, verbose;
    int rounds;     /* interleaved rounds per contestant */
    double round_s; /* target length of one timed round */
    long messages;  /* per round, instead of calibrating (0: calibrate) */
    bench_env_t *env;
} bench_cfg_t;

/* What a throughput or latency scenario runs over. */
typedef enum bench_transport {
    BENCH_TCP,
    BENCH_IPC,
    BENCH_INPROC
} bench_transport_t;

typedef struct bench_net {
    bench_transport_t transport;
    bool curve; /* CURVE on every contestant's sockets; else NULL */
    size_t size;
} bench_net_t;

const char *bench_transport_name(bench_transport_t t); /* "tcp", ... */
/* "64B", "1KiB", "64KiB" */
const char *bench_size_label(size_t size, char *buf, size_t cap);

/* ---- results: one table per scenario ------------------------------------- */

typedef enum bench_agg {
    BENCH_AGG_MEDIAN = 0, /* the median of the rounds */
    BENCH_AGG_MAX         /* the largest of any round (a latency max) */
} bench_agg_t;

typedef struct bench_metric {
    const char *id;   /* JSON key: "msgs_per_s" */
    const char *head; /* column head: "msg/s" */
    int decimals;     /* -1: whole number with thousands separators */
    bench_agg_t agg;
} bench_metric_t;

typedef struct bench_row {
    char id[24];     /* "raw", "zguard", "zauth-10000" */
    char name[32];   /* in the table */
    char detail[96]; /* what it calls, for the legend and JSON */
    double v[BENCH_MAX_METRICS][BENCH_MAX_ROUNDS]; /* [metric][round] */
    unsigned long failed; /* handshakes that failed (shown if show_failed) */
} bench_row_t;

/* row a against row b on metric 0; target 0: no target, the verdict says
 * whether a is better than b at all. */
typedef struct bench_cmp {
    int a, b;
    double target;
} bench_cmp_t;

typedef struct bench_table {
    char id[48];
    char title[160];
    char note[256];           /* one line under the title: counts, HWMs */
    char options[640];        /* the socket options every contestant had */
    double per_round;         /* how much one round of a contestant is ... */
    const char *per_round_of; /* ... of what: "messages", "seconds" */
    bench_better_t better;    /* of metric 0, which ratios compare */
    const char *better_word, *worse_word; /* "faster", "slower" */
    bool show_failed;
    int rounds;
    int nmetrics, nrows, ncmps;
    bench_metric_t metric[BENCH_MAX_METRICS];
    bench_row_t row[BENCH_MAX_ROWS];
    bench_cmp_t cmp[BENCH_MAX_CMPS];
} bench_table_t;

/* Adds a row; returns its index. */
int bench_table_row(bench_table_t *t, const char *id, const char *name,
                    const char *detail);
void bench_table_cmp(bench_table_t *t, int a, int b, double target);

typedef struct bench_report {
    FILE *out;
    bool json;
    int tables;
    double min_coverage; /* of the intervals printed, for the legend */
} bench_report_t;

void bench_report_begin(bench_report_t *r, const bench_cfg_t *cfg);
void bench_report_table(bench_report_t *r, const bench_table_t *t);
void bench_report_end(bench_report_t *r);
/* v whole, its thousands grouped: 2510000.4 -> "2,510,000" (in buf). */
const char *bench_grouped(double v, char *buf, size_t cap);

/* ---- scenarios ----------------------------------------------------------- */

/* "PUSH -> PULL over tcp loopback, CURVE, 64B messages" into t->title. */
void bench_net_title(bench_table_t *t, const bench_net_t *net,
                     const char *pattern);
/* The columns of a throughput table (bench_scen_throughput.c). */
void bench_tput_table(bench_table_t *t, const bench_cfg_t *cfg);

typedef struct bench_scenario bench_scenario_t;
/* Runs one scenario and fills t (zeroed by the caller); dies on failure. */
typedef void(bench_run_fn)(const bench_cfg_t *cfg, const bench_scenario_t *sc,
                           bench_table_t *t);

struct bench_scenario {
    char id[48]; /* "throughput-tcp-null-64B": what --only matches */
    char summary[112];
    bench_run_fn *run;
    bool quick;      /* in the --quick set */
    bench_net_t net; /* families that run over one */
};

bench_run_fn bench_scen_throughput; /* bench_scen_throughput.c */
bench_run_fn bench_scen_latency;    /* bench_scen_latency.c */
bench_run_fn bench_scen_monitor;    /* bench_scen_monitor.c */
bench_run_fn bench_scen_handshake;  /* bench_scen_handshake.c */
bench_run_fn bench_scen_memory;     /* bench_scen_memory.c */
bench_run_fn bench_scen_preload;    /* bench_scen_preload.c */
/* The preload scenario's programs, beside zguard-bench (a build tree):
 * zguard, zguard-bench-app (an unmodified libzmq program: ENDPOINT N SIZE,
 * prints its rate), libzguard-preload.so, and a policy in env's directory
 * that hardens both of the app's sockets (NULL mechanism, inproc and tcp).
 * Dies when one is missing. Shared with `zguard bench instr`. */
typedef struct bench_preload {
    char zguard[4096], app[4096], preload[4096], policy[4096];
} bench_preload_t;
void bench_preload_find(bench_preload_t *pl, const bench_env_t *env);
#define BENCH_PRELOAD_SIZE "64"
/* The memory scenario's receiver, run as `zguard-bench --flood-receiver
 * HWM` in a process of its own. */
int bench_memory_child(const char *hwm);
#define BENCH_FLOOD_ROLE "--flood-receiver"

/* ---- the environment: temp directory, keys, raw libzmq context ----------- */

struct bench_env {
    char dir[128]; /* mkdtemp in $TMPDIR or /tmp; bench_env_destroy
                      removes it */
    uint8_t server_pk[32], server_sk[32], client_pk[32], client_sk[32];
    zcert_t *server_cert, *client_cert; /* the same pairs, for CZMQ */
    void *raw_ctx;                      /* the raw contestant's context */
    unsigned seq;                       /* ipc and inproc endpoint names */
};

bench_env_t *bench_env_new(void);
void bench_env_destroy(bench_env_t **env);
/* Removes the temporary directory only (a failed run's last act). */
void bench_env_remove_dir(bench_env_t *env);
/* rm -r DIR (nothing when DIR is empty): temporary directories. */
void bench_remove_tree(const char *dir);

/* A zguard policy for the benchmarks: the bench's common values, NULL
 * (insecure = yes) or CURVE with the env's keys ([type.<server>] the
 * server pair, [type.<client>] the client pair and the server's public key,
 * [auth] an allowlist of the client), HWM hwm (0: unbounded = yes), socket
 * monitors on or off. Dies if it does not parse. */
typedef struct bench_policy_spec {
    bool curve, monitor;
    int hwm;
    int server_type, client_type;
    const char *keydir; /* CURVE only: where server.key, client.key are */
} bench_policy_spec_t;

zg_policy_t *bench_policy(const bench_policy_spec_t *spec);

/* ---- contestants and their sockets --------------------------------------- */

typedef enum bench_api {
    BENCH_RAW = 0,  /* zmq_socket + zmq_setsockopt, zmq_send / zmq_recv */
    BENCH_ZG,       /* zg_socket, zg_send / zg_recv: the default policy */
    BENCH_ZG_NOMON, /* the same with [metrics] monitor = no */
    BENCH_CZMQ,     /* zsock_new + zsock_set_*, zframe_send / zframe_recv */
    BENCH_RAW_MSG,  /* raw's sockets; zmq_msg_send / zmq_msg_recv */
    BENCH_ZG_MSG,   /* zguard's sockets; zg_msg_send / zg_msg_recv */
    BENCH_API_COUNT
} bench_api_t;

/* Whose sockets a contestant uses: raw libzmq's (zmq_socket on the run's
 * raw context) or zguard's (zg_socket from the scenario's policy). */
static inline bool bench_api_raw(bench_api_t api)
{
    return api == BENCH_RAW || api == BENCH_RAW_MSG;
}

static inline bool bench_api_zguard(bench_api_t api)
{
    return api == BENCH_ZG || api == BENCH_ZG_NOMON || api == BENCH_ZG_MSG;
}

typedef struct bench_api_info {
    const char *id, *name, *calls;
} bench_api_info_t;

extern const bench_api_info_t bench_apis[BENCH_API_COUNT];

/* The options of one socket type, as libzmq options, ready to set on raw
 * and CZMQ sockets and to compare on every socket. */
typedef struct bench_opt {
    const struct bench_zopt *z;
    int64_t value; /* in libzmq's unit */
} bench_opt_t;

typedef struct bench_optset {
    size_t n;
    bench_opt_t item[ZG_FIELD_COUNT];
    int mechanism; /* ZMQ_NULL or ZMQ_CURVE */
    char summary[512];
} bench_optset_t;

/* Everything the sockets of one scenario share. */
typedef struct bench_pair {
    bench_env_t *env;
    bench_net_t net;
    int server_type, client_type; /* the server binds, the client connects */
    zg_ctx_t *zg, *zg_nomon;
    bench_optset_t server_opts, client_opts;
} bench_pair_t;

typedef struct bench_sock {
    bench_api_t api;
    void *zmq;   /* the libzmq socket (CZMQ's, resolved) */
    zsock_t *zs; /* CZMQ only */
} bench_sock_t;

void bench_pair_open(bench_pair_t *p, bench_env_t *env, const bench_net_t *net,
                     int server_type, int client_type, int hwm);
void bench_pair_close(bench_pair_t *p);
/* Fresh sockets for `api`, options read back and compared with the
 * policy's, the server bound and the client connected. */
void bench_pair_sockets(bench_pair_t *p, bench_api_t api, bench_sock_t *server,
                        bench_sock_t *client);
void bench_sock_close(bench_sock_t *s);
/* "sndhwm=10000 ... (push); ... (pull)" */
void bench_pair_options(const bench_pair_t *p, char *buf, size_t cap);
/* sndhwm/rcvhwm for messages of `size`: deep queues for small messages,
 * 1000 for 64 KiB so a full queue stays under 64 MiB. */
int bench_hwm_for(size_t size);

/* The interleaved throughput rounds of apis[i] into row i of t (set up by
 * bench_tput_table, rows and comparisons added): bench_scen_throughput.c. */
void bench_tput_rounds(const bench_cfg_t *cfg, const bench_net_t *net,
                       const bench_api_t *apis, bench_table_t *t);

/* ---- zguard bench hwm: the HWM advisor (bench_hwm.c) --------------------- */

/* `zguard-bench hwm ARGS...` (argv[0] is "hwm"). */
int bench_hwm_main(int argc, char **argv);
/* One flow at one HWM, in a process of its own: `zguard-bench
 * --hwm-child PATTERN TRANSPORT SIZE HWM SECONDS WORK_US`. */
int bench_hwm_child(int argc, char **argv);
#define BENCH_HWM_CHILD_ROLE "--hwm-child"

/* `zguard-bench gate ARGS...`: the gate vs a bare zmq_proxy hop vs direct
 * (bench_gate.c). */
int bench_gate_main(int argc, char **argv);

/* `zguard-bench instr ARGS...`: instructions per message under callgrind
 * (bench_instr.c); runs itself as `zguard-bench instr --instr-child N`. */
int bench_instr_main(int argc, char **argv);

#endif
