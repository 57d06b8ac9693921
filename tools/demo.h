/*
 * demo.h - what the files of `zguard demo` share: child processes whose
 * output is read line by line, the demo's setup (keys, policies, the
 * service, the gate, the legitimate client), and one row per threat.
 *
 *   cmd_demo.c    the command: options, running the rows, the table, JSON
 *   demo_proc.c   child processes: start, read lines, signal, wait, RSS
 *   demo_setup.c  the temporary directory, keys, policies, long-lived peers
 *   demo_rows.c   one function per threat of the analysis
 *   demo_peer.c   zguard-demo-peer: the clients and attackers (own program)
 */
#ifndef ZG_DEMO_H
#define ZG_DEMO_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "cli_clock.h"
#include "cli_proc.h"

#define DEMO_LINE_MAX 1024
#define DEMO_PATH_MAX 512
#define DEMO_TEXT_MAX 512
#define DEMO_VALUES_MAX 12

/* ---- demo_proc.c ---------------------------------------------------------- */

/* A child whose standard output and error arrive here as lines; every line
 * is also appended to its log file (DIR/NAME.log). */
typedef struct demo_proc {
    char name[32];
    pid_t pid;    /* 0 once reaped */
    int out;      /* read end of its stdout+stderr, -1 at end of file */
    int pidfd;    /* readable when it has exited */
    int status;   /* wait status, once reaped */
    char buf[8192];
    size_t len;   /* bytes of an incomplete line in buf */
    int log;      /* the log file, or -1 */
} demo_proc_t;

/* Starts argv[0] (a path) with argv; its log goes to logdir/NAME.log
 * (logdir NULL: no log). */
int proc_start(demo_proc_t *p, const char *name, char *const argv[],
               const char *logdir);
/* The next line within timeout_ms: 1, 0 on timeout, -1 at end of output. */
int proc_line(demo_proc_t *p, int timeout_ms, char *line, size_t cap);
/* Lines until one contains `want` (within timeout_ms in all): 1 with that
 * line in `line`, 0 on timeout, -1 if the output ended first. */
int proc_wait_for(demo_proc_t *p, const char *want, int timeout_ms,
                  char *line, size_t cap);
/* Sends sig; waits up to timeout_ms for the exit, then SIGKILLs. Returns
 * the exit code, 128+signal when killed by one, -1 if it had to be
 * killed. Closes everything; safe to call twice. */
int proc_stop(demo_proc_t *p, int sig, int timeout_ms);
/* Waits up to timeout_ms for the exit: the exit code as above, or -2 on
 * timeout (the process keeps running). */
int proc_wait(demo_proc_t *p, int timeout_ms);
/* From /proc/PID/status: "VmRSS" now, "VmHWM" the peak; KiB, -1 if gone. */
/* Resets the peak (VmHWM) to the current RSS; 0 or -1. */
int proc_reset_peak(pid_t pid);

/* ---- the demo's state ------------------------------------------------------ */

typedef struct demo_value {
    const char *name; /* JSON key: "gate_rss_growth_mib" */
    double value;
} demo_value_t;

typedef struct demo_row {
    const char *threat;
    const char *mitigation;
    char measured[DEMO_TEXT_MAX]; /* what this run measured, for people */
    bool pass;
    bool ran; /* false: left out by --only */
    demo_value_t values[DEMO_VALUES_MAX]; /* the same, for machines */
    int nvalues;
} demo_row_t;

typedef struct demo {
    char dir[DEMO_PATH_MAX];     /* the temporary directory */
    char zguard[DEMO_PATH_MAX];  /* this program */
    char peer[DEMO_PATH_MAX];    /* zguard-demo-peer */
    char zmtp_peer[DEMO_PATH_MAX]; /* zguard-zmtp-peer: speaks ZMTP itself */
    char service_bin[DEMO_PATH_MAX];
    char client_bin[DEMO_PATH_MAX]; /* zguard-example-client: plaintext REQ */
    char gate_policy[DEMO_PATH_MAX];
    char frontend[128];          /* tcp://127.0.0.1:PORT of the gate */
    int frontend_port;
    char metrics[128];           /* http://127.0.0.1:PORT */
    demo_proc_t service, gate, alice;
    /* the legitimate client's results, accumulated by demo_alice_window */
    long alice_ok, alice_lost;
    bool verbose;
} demo_t;

/* Settings of the gate's policy that rows measure against. */
#define DEMO_HWM 100
#define DEMO_MAXMSGSIZE (64 * 1024)
#define DEMO_HANDSHAKE_MS 2000
#define DEMO_HEARTBEAT_IVL_MS 500
#define DEMO_HEARTBEAT_TIMEOUT_MS 1500
#define DEMO_SERVICE_WORK_US 200
#define DEMO_SERVICE_HWM 1000 /* libzmq's default: the service is unchanged */
#define DEMO_PEERS_PER_IP 30  /* max_peers_per_ip: above what any row opens
                                 from 127.0.0.1 (slow-handshake: 20) */
#define DEMO_AUTH_FAILURES 10 /* auth_failures_per_ip within a minute ... */
#define DEMO_LOCKOUT_S 60     /* ... lock an address out this long */
#define DEMO_RUN_RCVTIMEO_MS 2000 /* the example client's, under zguard run */

/* ---- demo_setup.c ------------------------------------------------------------ */

/* Makes the directory, keys and policies, starts the service, the gate and
 * alice. 0, or -1 with a message on standard error. */
int demo_setup(demo_t *d);
void demo_teardown(demo_t *d, bool keep);
/* DIR/NAME */
void demo_path(const demo_t *d, const char *name, char *out, size_t cap);
/* Starts zguard-demo-peer with ROLE and args (NULL-terminated). */
int demo_peer_start(demo_t *d, demo_proc_t *p, const char *name,
                    const char *role, ...);
/* Starts zguard-zmtp-peer with MODE and args (NULL-terminated). */
int demo_zmtp_start(demo_t *d, demo_proc_t *p, const char *name,
                    const char *mode, ...);
/* The policy `zguard run` gives the example service (client NULL) or an
 * example client using key pair CLIENT, written as DIR/run-NAME.policy
 * into path. 0, or -1. */
int demo_run_policy(demo_t *d, const char *client, int metrics_port,
                    char *path, size_t cap);
/* A loopback TCP port free a moment ago (for a program's [metrics]
 * listen, which it reports nowhere else), or -1. */
int demo_free_port(void);
/* Starts an unchanged program with args (NULL-terminated) under `zguard
 * run --policy POLICY`, or as it is when policy is NULL. */
int demo_run_start(demo_t *d, demo_proc_t *p, const char *name,
                   const char *policy, const char *program, ...);
/* A gate metric now, summed over samples with every label given
 * ("socket=\"frontend\"", ..., NULL); -1 when the endpoint cannot be read. */
double demo_metric(demo_t *d, const char *name, ...);
/* Polls the metric (every 20 ms) until it reaches at least target or
 * timeout_ms passes: the value last read; the time it took in *secs. */
double demo_metric_wait(demo_t *d, double target, int timeout_ms,
                        double *secs, const char *name, ...);
/* The same two from the metrics endpoint at url (http://H:P). */
double demo_metric_at(const char *url, const char *name, ...);
double demo_metric_wait_at(const char *url, double target, int timeout_ms,
                           double *secs, const char *name, ...);

/* The legitimate client's lines since the last call: counts and round-trip
 * times (ms) of what it got answered. */
typedef struct demo_window {
    long ok, lost;
    double p50_ms, max_ms;
} demo_window_t;
void demo_alice_window(demo_t *d, demo_window_t *w);

/* ---- demo_rows.c ---------------------------------------------------------------- */

typedef void(demo_row_fn)(demo_t *d, demo_row_t *row);
typedef struct demo_threat {
    const char *id; /* "flood" */
    const char *threat, *mitigation;
    demo_row_fn *run;
} demo_threat_t;

extern const demo_threat_t demo_threats[];
extern const size_t demo_threat_count;

void row_set(demo_row_t *row, bool pass, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void row_value(demo_row_t *row, const char *name, double value);

#endif
