/*
 * bench_hwm.c - `zguard bench hwm`: the analysis says to start with a low
 * HWM and raise it only when a test under realistic load shows the need.
 * This is that test. For one pattern, message size and transport it runs
 * the same flow at HWM values from 1 to 100,000 (log-spaced), measures
 * throughput and the peak memory of the process that holds the queues,
 * and recommends the smallest HWM that reaches 95 % of the best throughput,
 * as a policy line whose rationale cites the measurement.
 *
 * Each HWM value runs in a fresh process (`zguard-bench --hwm-child ...`,
 * both ends of the flow in it) so that its peak RSS (VmHWM) is its own; the
 * values are swept in interleaved rounds (the order rotates per round, as
 * everywhere in zguard-bench) and each is summarised by its median.
 *
 * The flow: PUSH -> PULL (every message arrives; the HWM bounds what waits)
 * or PUB -> SUB (a full queue drops; the table shows how much). The sender
 * sends as fast as it can for the round's time; an optional --work-us makes
 * the receiver slower than the sender, which is when queues fill.
 */
#include "bench.h"
#include "cli_opt.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#define HWM_VALUES_MAX 24
#define HWM_ROUNDS_MAX 15
#define HWM_TARGET 0.95

static const int default_values[] = {1, 3, 10, 30, 100, 300, 1000, 3000,
                                     10000, 30000, 100000};
static const int quick_values[] = {1, 10, 100, 1000, 10000};

typedef struct hwm_opts {
    const char *pattern;   /* "pushpull" or "pubsub" */
    const char *transport; /* "tcp", "ipc", "inproc" */
    size_t size;
    long work_us;          /* receiver's work per message */
    double seconds;        /* per run */
    int rounds;
    int values[HWM_VALUES_MAX];
    int nvalues;
    bool json;
} hwm_opts_t;

typedef struct hwm_result {
    double rate[HWM_ROUNDS_MAX];   /* messages/s received */
    double rss_mib[HWM_ROUNDS_MAX];
    double lost[HWM_ROUNDS_MAX];   /* pubsub: share dropped */
} hwm_result_t;

static const char usage[] =
    "usage: zguard bench hwm [--pattern pushpull|pubsub] [--size BYTES]\n"
    "                        [--transport tcp|ipc|inproc] [--work-us N]\n"
    "                        [--values N,N,...] [--seconds S] [--rounds N]\n"
    "                        [--quick] [--json]\n"
    "\n"
    "Finds the smallest HWM that gives (almost) the best throughput for one\n"
    "flow, so that queues stay as short as performance allows. For each\n"
    "HWM (default 1, 3, 10, ... 100000) it runs the flow in a fresh process\n"
    "for --seconds (default 1) and measures messages/s received and the\n"
    "process's peak RSS; --rounds (default 3) interleaved sweeps give each\n"
    "HWM a median. The recommended value is the smallest HWM whose median\n"
    "throughput reaches 95% of the best one, printed as policy lines with a\n"
    "rationale that cites this run.\n"
    "\n"
    "  --pattern P     pushpull (default: nothing is lost, the HWM bounds\n"
    "                  what waits) or pubsub (a full queue drops: the loss\n"
    "                  is shown)\n"
    "  --size BYTES    message size (default 1024)\n"
    "  --transport T   tcp (loopback, default), ipc or inproc\n"
    "  --work-us N     the receiver works N us per message: a consumer\n"
    "                  slower than its producer, where queues fill\n"
    "  --values LIST   the HWMs to try, comma-separated\n"
    "  --quick         HWM 1, 10, 100, 1000, 10000, one round of 0.3 s\n"
    "  --json          the results as JSON on standard output\n"
    "\n"
    "Both ends use the same HWM (SNDHWM on the sender, RCVHWM on the\n"
    "receiver), over NULL security: the HWM is libzmq's, whatever wraps it.\n";

/* ---- the child: one flow at one HWM ------------------------------------- */

typedef struct flow {
    void *ctx;
    const char *endpoint;
    int type, hwm;
    size_t size;
    _Atomic double until; /* the main thread moves it once the flow is up */
    long sent;
} flow_t;

static void *send_loop(void *arg)
{
    flow_t *f = arg;
    void *s = zmq_socket(f->ctx, f->type);
    int linger = 0, hwm = f->hwm, timeo = 100;
    zmq_setsockopt(s, ZMQ_SNDHWM, &hwm, sizeof hwm);
    zmq_setsockopt(s, ZMQ_LINGER, &linger, sizeof linger);
    zmq_setsockopt(s, ZMQ_SNDTIMEO, &timeo, sizeof timeo);
    if (zmq_connect(s, f->endpoint) != 0)
        bench_die("hwm: connect %s: %s", f->endpoint, zmq_strerror(errno));
    char *buf = malloc(f->size);
    memset(buf, BENCH_MARK, f->size);
    while (cli_now() < f->until)
        f->sent += zmq_send(s, buf, f->size, 0) >= 0;
    free(buf);
    zmq_close(s);
    return NULL;
}

static void work(long us)
{
    struct timespec t = {0, us * 1000};
    if (us > 0)
        nanosleep(&t, NULL); /* the simulated consumer's work */
}

/* zguard-bench --hwm-child PATTERN TRANSPORT SIZE HWM SECONDS WORK_US:
 * prints "received sent peak_rss_kib seconds". */
int bench_hwm_child(int argc, char **argv)
{
    if (argc != 8)
        bench_die("hwm child: bad arguments");
    bool pubsub = strcmp(argv[2], "pubsub") == 0;
    size_t size = (size_t)strtoul(argv[4], NULL, 10);
    int hwm = atoi(argv[5]);
    double seconds = atof(argv[6]);
    long work_us = atol(argv[7]);
    char endpoint[128];
    if (strcmp(argv[3], "inproc") == 0)
        snprintf(endpoint, sizeof endpoint, "inproc://hwm");
    else if (strcmp(argv[3], "ipc") == 0)
        snprintf(endpoint, sizeof endpoint, "ipc:///tmp/zguard-bench-hwm-%d", (int)getpid());
    else
        snprintf(endpoint, sizeof endpoint, "tcp://127.0.0.1:*");
    void *ctx = zmq_ctx_new();
    void *r = zmq_socket(ctx, pubsub ? ZMQ_SUB : ZMQ_PULL);
    int linger = 0, timeo = 200;
    zmq_setsockopt(r, ZMQ_RCVHWM, &hwm, sizeof hwm);
    zmq_setsockopt(r, ZMQ_LINGER, &linger, sizeof linger);
    zmq_setsockopt(r, ZMQ_RCVTIMEO, &timeo, sizeof timeo);
    if (pubsub)
        zmq_setsockopt(r, ZMQ_SUBSCRIBE, "", 0);
    size_t len = sizeof endpoint;
    if (zmq_bind(r, endpoint) != 0 ||
        zmq_getsockopt(r, ZMQ_LAST_ENDPOINT, endpoint, &len) != 0)
        bench_die("hwm: bind %s: %s", endpoint, zmq_strerror(errno));
    flow_t f = {ctx, endpoint, pubsub ? ZMQ_PUB : ZMQ_PUSH, hwm, size, 0, 0};
    char *buf = malloc(size + 1);
    /* PUB drops until the subscription arrives: start once one message is
     * through, then count from there. */
    f.until = cli_now() + seconds + 5;
    pthread_t t;
    pthread_create(&t, NULL, send_loop, &f);
    if (zmq_recv(r, buf, size + 1, 0) < 0)
        bench_die("hwm: no message within 200 ms of the start");
    double t0 = cli_now();
    long sent0 = f.sent;
    f.until = t0 + seconds;
    long got = 0;
    while (cli_now() < f.until + 0.05 && zmq_recv(r, buf, size + 1, 0) >= 0) {
        got++;
        work(work_us);
    }
    double secs = cli_now() - t0;
    pthread_join(t, NULL);
    printf("%ld %ld %ld %.6f\n", got, f.sent - sent0, cli_proc_status_kib(getpid(), "VmHWM"), secs);
    free(buf);
    zmq_close(r);
    zmq_ctx_term(ctx);
    return 0;
}

/* ---- the sweep ------------------------------------------------------------ */

extern char **environ;

static void run_child(const hwm_opts_t *o, int hwm, double *rate, double *rss,
                      double *lost)
{
    char self[4096], size[32], h[32], secs[32], work_s[32];
    if (cli_self_exe(self, sizeof self) != 0)
        bench_die("hwm: cannot find this program: %s", strerror(errno));
    snprintf(size, sizeof size, "%zu", o->size);
    snprintf(h, sizeof h, "%d", hwm);
    snprintf(secs, sizeof secs, "%.3f", o->seconds);
    snprintf(work_s, sizeof work_s, "%ld", o->work_us);
    char *argv[] = {self, BENCH_HWM_CHILD_ROLE, (char *)o->pattern,
                    (char *)o->transport, size, h, secs, work_s, NULL};
    int fds[2];
    if (pipe(fds) != 0)
        bench_die("hwm: pipe: %s", strerror(errno));
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, fds[1], STDOUT_FILENO);
    posix_spawn_file_actions_addclose(&fa, fds[0]);
    pid_t pid;
    int rc = posix_spawn(&pid, self, &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(fds[1]);
    if (rc != 0)
        bench_die("hwm: cannot start %s: %s", self, strerror(rc));
    FILE *out = fdopen(fds[0], "r");
    long got = 0, sent = 0, kib = 0;
    double s = 0;
    int fields = fscanf(out, "%ld %ld %ld %lf", &got, &sent, &kib, &s);
    fclose(out);
    int status;
    waitpid(pid, &status, 0);
    if (fields != 4 || !WIFEXITED(status) || WEXITSTATUS(status) != 0 || s <= 0)
        bench_die("hwm: the run at HWM %d failed", hwm);
    *rate = (double)got / s;
    *rss = (double)kib / 1024.0;
    *lost = sent > 0 && got < sent ? (double)(sent - got) / (double)sent : 0;
}

static int parse_values(const char *s, hwm_opts_t *o)
{
    o->nvalues = 0;
    while (*s && o->nvalues < HWM_VALUES_MAX) {
        char *end;
        long v = strtol(s, &end, 10);
        if (end == s || v < 1 || v > 10000000 || (*end && *end != ','))
            return -1;
        o->values[o->nvalues++] = (int)v;
        s = *end ? end + 1 : end;
    }
    return o->nvalues ? 0 : -1;
}

/* Option c of the table below, into o: 0, or 2 after a usage error. */
static int take_option(const cli_opts_t *p, int c, hwm_opts_t *o,
                        bool *values_given)
{
    const char *v = p->value;
    char *end = NULL;
    switch (c) {
    case 'p':
        if (strcmp(v, "pushpull") && strcmp(v, "pubsub"))
            return cli_usage_error(p->cmd, "--pattern: '%s' is not pushpull or pubsub", v);
        o->pattern = v;
        return 0;
    case 't':
        if (strcmp(v, "tcp") && strcmp(v, "ipc") && strcmp(v, "inproc"))
            return cli_usage_error(p->cmd, "--transport: '%s' is not tcp, ipc or inproc", v);
        o->transport = v;
        return 0;
    case 's':
        o->size = strtoul(v, &end, 10);
        if (*end || o->size < 1 || o->size > (64u << 20))
            return cli_usage_error(p->cmd, "--size: '%s' is not 1 to 67108864 bytes", v);
        return 0;
    case 'w':
        o->work_us = strtol(v, &end, 10);
        if (*end || o->work_us < 0 || o->work_us > 1000000)
            return cli_usage_error(p->cmd, "--work-us: '%s' is not 0 to 1000000", v);
        return 0;
    case 'v':
        if (parse_values(v, o) != 0)
            return cli_usage_error(p->cmd, "--values: '%s' is not a list of HWMs like 1,10,100", v);
        *values_given = true;
        return 0;
    case 'S':
        o->seconds = strtod(v, &end);
        if (*end || !(o->seconds >= 0.05 && o->seconds <= 60))
            return cli_usage_error(p->cmd, "--seconds: '%s' is not 0.05 to 60", v);
        return 0;
    case 'r':
        o->rounds = (int)strtol(v, &end, 10);
        if (*end || o->rounds < 1 || o->rounds > HWM_ROUNDS_MAX)
            return cli_usage_error(p->cmd, "--rounds: '%s' is not 1 to 15", v);
        return 0;
    case 'q':
        if (!*values_given) {
            o->nvalues = (int)(sizeof quick_values / sizeof *quick_values);
            memcpy(o->values, quick_values, sizeof quick_values);
        }
        o->seconds = 0.3;
        o->rounds = 1;
        return 0;
    case 'j':
        o->json = true;
        return 0;
    default:
        return CLI_EXIT_USAGE;
    }
}

/* The options, or exit: 0 after --help, 2 on a usage error. */
static void parse(int argc, char **argv, hwm_opts_t *o)
{
    static const cli_opt_t opts[] = {
        {"pattern", 0, "P", 'p'}, {"size", 0, "BYTES", 's'},
        {"transport", 0, "T", 't'}, {"work-us", 0, "US", 'w'},
        {"values", 0, "LIST", 'v'}, {"seconds", 0, "S", 'S'},
        {"rounds", 0, "N", 'r'}, {"quick", 0, NULL, 'q'},
        {"json", 0, NULL, 'j'}, {NULL, 0, NULL, 0}};
    *o = (hwm_opts_t){.pattern = "pushpull", .transport = "tcp", .size = 1024,
                      .seconds = 1.0, .rounds = 3};
    o->nvalues = (int)(sizeof default_values / sizeof *default_values);
    memcpy(o->values, default_values, sizeof default_values);
    if (cli_wants_help(argc, argv)) {
        fputs(usage, stdout);
        exit(0);
    }
    char cmd[64];
    snprintf(cmd, sizeof cmd, "%s hwm", bench_prog());
    cli_opts_t p = {.cmd = cmd, .table = opts, .argc = argc, .argv = argv};
    bool values_given = false;
    for (int c; (c = cli_opt_next(&p)) != CLI_OPT_END;)
        if (take_option(&p, c, o, &values_given) != 0)
            exit(CLI_EXIT_USAGE);
    if (p.nargs)
        exit(cli_usage_error(cmd, "unexpected argument '%s'", cli_opt_args(&p)[0]));
}

/* ---- the answer ----------------------------------------------------------- */

typedef struct hwm_summary {
    double rate[HWM_VALUES_MAX], rss[HWM_VALUES_MAX], lost[HWM_VALUES_MAX];
    int best, pick; /* indexes into the values */
} hwm_summary_t;

static void summarize(const hwm_opts_t *o, hwm_result_t *res, hwm_summary_t *s)
{
    s->best = 0;
    for (int i = 0; i < o->nvalues; i++) {
        s->rate[i] = bench_median(res[i].rate, (size_t)o->rounds);
        s->rss[i] = bench_median(res[i].rss_mib, (size_t)o->rounds);
        s->lost[i] = bench_median(res[i].lost, (size_t)o->rounds);
        if (s->rate[i] > s->rate[s->best])
            s->best = i;
    }
    /* the smallest HWM that reaches the target, not just the first value
     * tried that does */
    s->pick = s->best;
    for (int i = 0; i < o->nvalues; i++)
        if (s->rate[i] >= HWM_TARGET * s->rate[s->best] &&
            o->values[i] < o->values[s->pick])
            s->pick = i;
}

static void policy_lines(const hwm_opts_t *o, const hwm_summary_t *s, FILE *out,
                         const char *indent)
{
    bool pubsub = strcmp(o->pattern, "pubsub") == 0;
    char date[16];
    time_t now = time(NULL);
    strftime(date, sizeof date, "%Y-%m-%d", gmtime(&now));
    const char *types[2][2] = {{"push", "sndhwm"}, {"pull", "rcvhwm"}};
    const char *ptypes[2][2] = {{"pub", "sndhwm"}, {"sub", "rcvhwm"}};
    for (int k = 0; k < 2; k++) {
        const char *const *t = pubsub ? ptypes[k] : types[k];
        fprintf(out, "%s[type.%s]\n%s%s = %d\n", indent, t[0], indent, t[1],
                o->values[s->pick]);
        fprintf(out, "%s%s.rationale = zguard bench hwm %s: %s %zu B over %s%s, "
                "%.0f msg/s at %d, peak RSS %.1f MiB", indent, t[1], date,
                o->pattern, o->size, o->transport,
                o->work_us ? " (receiver working)" : "", s->rate[s->pick],
                o->values[s->pick], s->rss[s->pick]);
        if (s->pick != s->best)
            fprintf(out, "; %.0f%% of the best, %.0f msg/s at %d with %.1f MiB",
                    100 * s->rate[s->pick] / s->rate[s->best], s->rate[s->best],
                    o->values[s->best], s->rss[s->best]);
        else
            fprintf(out, "; the best throughput of the sweep");
        fputc('\n', out);
    }
}

static int largest(const hwm_opts_t *o)
{
    int m = o->values[0];
    for (int i = 1; i < o->nvalues; i++)
        m = o->values[i] > m ? o->values[i] : m;
    return m;
}

static void print_text(const hwm_opts_t *o, const hwm_summary_t *s)
{
    bool pubsub = strcmp(o->pattern, "pubsub") == 0;
    printf("HWM sweep: %s, %zu B messages over %s%s; %d round(s) of %.1f s, "
           "medians\n\n",
           pubsub ? "PUB -> SUB" : "PUSH -> PULL", o->size, o->transport,
           o->work_us ? ", the receiver working" : "", o->rounds, o->seconds);
    printf("%8s %12s %9s %9s%s\n", "HWM", "msg/s", "of best", "peak MiB",
           pubsub ? "   dropped" : "");
    for (int i = 0; i < o->nvalues; i++) {
        printf("%8d %12.0f %8.0f%% %9.1f", o->values[i], s->rate[i],
               100 * s->rate[i] / s->rate[s->best], s->rss[i]);
        if (pubsub)
            printf(" %9.1f%%", 100 * s->lost[i]);
        printf("%s\n", i == s->pick ? "   <- recommended" : "");
    }
    printf("\nrecommended: HWM %d, the smallest here with >= %.0f%% of the best "
           "throughput.\nPolicy lines:\n\n",
           o->values[s->pick], 100 * HWM_TARGET);
    policy_lines(o, s, stdout, "    ");
    if (o->values[s->best] == largest(o))
        printf("\nThe best throughput came at the largest HWM tried: larger "
               "values may do better still (--values).\n");
    if (o->rounds < 3)
        printf("\n(%d round: a quick look; use --rounds 3 or more to decide)\n",
               o->rounds);
}

static void print_json(const hwm_opts_t *o, const hwm_summary_t *s)
{
    printf("{\n  \"hwm_format\": 1,\n  \"pattern\": \"%s\",\n  \"transport\": "
           "\"%s\",\n  \"size\": %zu,\n  \"work_us\": %ld,\n  \"rounds\": %d,\n"
           "  \"seconds\": %.3f,\n  \"target\": %.2f,\n  \"results\": [",
           o->pattern, o->transport, o->size, o->work_us, o->rounds, o->seconds,
           HWM_TARGET);
    for (int i = 0; i < o->nvalues; i++)
        printf("%s\n    {\"hwm\": %d, \"msgs_per_s\": %.1f, \"peak_rss_mib\": "
               "%.2f, \"dropped\": %.4f}",
               i ? "," : "", o->values[i], s->rate[i], s->rss[i], s->lost[i]);
    printf("\n  ],\n  \"best\": %d,\n  \"recommended\": %d,\n  \"policy\": \"",
           o->values[s->best], o->values[s->pick]);
    char *text = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&text, &len);
    policy_lines(o, s, m, "");
    fclose(m);
    for (char *p = text; p && *p; p++)
        if (*p == '\n')
            fputs("\\n", stdout);
        else if (*p == '"' || *p == '\\')
            printf("\\%c", *p);
        else
            putchar(*p);
    free(text);
    printf("\"\n}\n");
}

int bench_hwm_main(int argc, char **argv)
{
    hwm_opts_t o;
    parse(argc, argv, &o);
    static hwm_result_t res[HWM_VALUES_MAX];
    for (int r = 0; r < o.rounds; r++)
        for (int k = 0; k < o.nvalues; k++) {
            int i = bench_order(r, o.nvalues, k);
            run_child(&o, o.values[i], &res[i].rate[r], &res[i].rss_mib[r],
                      &res[i].lost[r]);
        }
    hwm_summary_t s;
    summarize(&o, res, &s);
    if (o.json)
        print_json(&o, &s);
    else
        print_text(&o, &s);
    return 0;
}
