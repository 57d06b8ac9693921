/*
 * bench_scen_memory.c - what a bounded queue saves: the peak memory of a
 * receiver that does not read while a sender floods it, at the policy's
 * HWM and with HWM 0 (unbounded).
 *
 * The receiver is a process of its own, so that its peak RSS (VmHWM in
 * /proc/PID/status) is its memory alone: this program started again as
 * `zguard-bench --flood-receiver HWM` (posix_spawn of /proc/self/exe), a
 * zguard PULL socket from the bench policy with sndhwm = rcvhwm = HWM,
 * bound to tcp loopback. It prints its endpoint and then never reads; it
 * ends when its standard input closes. The sender, in this process, is a
 * raw libzmq PUSH (SNDHWM 1000, SNDTIMEO 200 ms) sending N messages of
 * 64 KiB; the first send that times out ends the flood (the receiver pushed
 * back). Then the receiver's RSS must stay unchanged for 250 ms (what was
 * sent has arrived) before its VmHWM is read.
 *
 * The HWM rows: zguard's built-in rcvhwm for PULL (what a policy that says
 * nothing gets) and 0. The ratio is HWM 0's peak / the policy's peak.
 */
#include "bench.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define FLOOD_SIZE (64 * 1024)

typedef struct flood_child {
    pid_t pid;
    int in_fd; /* its standard input: closing it ends the child */
    char endpoint[256];
} flood_child_t;

/* ---- the receiver process ------------------------------------------------ */

int bench_memory_child(const char *hwm_text)
{
    char *end;
    long hwm = strtol(hwm_text, &end, 10);
    if (*end || hwm < 0 || hwm > 1000000)
        bench_die("%s: bad HWM '%s'", BENCH_FLOOD_ROLE, hwm_text);
    bench_policy_spec_t spec = {false,    true,     (int)hwm,
                                ZMQ_PULL, ZMQ_PUSH, NULL};
    zg_policy_t *p = bench_policy(&spec);
    zg_ctx_t *ctx = zg_ctx_new(p);
    zg_policy_destroy(&p);
    void *sock = ctx ? zg_socket(ctx, ZMQ_PULL, NULL) : NULL;
    if (!sock || zg_bind(sock, "tcp://127.0.0.1:*") != 0)
        bench_die("flood receiver: %s", zg_last_error());
    char ep[256];
    size_t len = sizeof ep;
    zmq_getsockopt(sock, ZMQ_LAST_ENDPOINT, ep, &len);
    printf("%s\n", ep);
    fflush(stdout);
    char c;
    while (read(STDIN_FILENO, &c, 1) > 0) /* never reads the socket */
        ;
    zg_close(&sock);
    zg_ctx_destroy(&ctx);
    return 0;
}

/* posix_spawn of this very program as the receiver: its stdin from in[0],
 * its stdout to out[1]. */
static pid_t spawn_receiver(int hwm, const int in[2], const int out[2])
{
    char self[4096];
    if (cli_self_exe(self, sizeof self) != 0)
        bench_die("/proc/self/exe: %s", strerror(errno));
    char hwm_text[16];
    snprintf(hwm_text, sizeof hwm_text, "%d", hwm);
    char *argv[] = {"zguard-bench", BENCH_FLOOD_ROLE, hwm_text, NULL};
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, in[0], STDIN_FILENO);
    posix_spawn_file_actions_adddup2(&fa, out[1], STDOUT_FILENO);
    posix_spawn_file_actions_addclose(&fa, in[1]);
    posix_spawn_file_actions_addclose(&fa, out[0]);
    pid_t pid;
    int rc = posix_spawn(&pid, self, &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0)
        bench_die("cannot start the flood receiver: %s", strerror(rc));
    return pid;
}

static void child_start(int hwm, flood_child_t *c)
{
    int in[2], out[2];
    if (pipe2(in, O_CLOEXEC) != 0 || pipe2(out, O_CLOEXEC) != 0)
        bench_die("pipe: %s", strerror(errno));
    c->pid = spawn_receiver(hwm, in, out);
    close(in[0]);
    close(out[1]);
    c->in_fd = in[1];
    FILE *f = fdopen(out[0], "r");
    if (!f || !fgets(c->endpoint, sizeof c->endpoint, f))
        bench_die("the flood receiver said nothing (see its message above)");
    fclose(f);
    c->endpoint[strcspn(c->endpoint, "\n")] = '\0';
}

static void child_stop(flood_child_t *c)
{
    close(c->in_fd);
    int status;
    if (waitpid(c->pid, &status, 0) != c->pid || !WIFEXITED(status) ||
        WEXITSTATUS(status) != 0)
        bench_die("the flood receiver did not end cleanly");
}

/* ---- measuring ----------------------------------------------------------- */

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Waits until the child's RSS holds still for 250 ms (at most 10 s). */
static void settle(pid_t pid)
{
    long last = -1;
    int still = 0;
    for (int i = 0; i < 200 && still < 5; i++) {
        sleep_ms(50);
        long now = cli_proc_status_kib(pid, "VmRSS");
        still = now == last ? still + 1 : 0;
        last = now;
    }
}

static void *sender_open(void *ctx, const char *endpoint)
{
    void *s = zmq_socket(ctx, ZMQ_PUSH);
    int hwm = 1000, timeout = 200, zero = 0;
    if (!s || zmq_setsockopt(s, ZMQ_SNDHWM, &hwm, sizeof hwm) ||
        zmq_setsockopt(s, ZMQ_SNDTIMEO, &timeout, sizeof timeout) ||
        zmq_setsockopt(s, ZMQ_LINGER, &zero, sizeof zero) ||
        zmq_connect(s, endpoint) != 0)
        bench_die("flood sender: %s", zmq_strerror(errno));
    return s;
}

/* Sends up to n messages; returns how many went before the receiver
 * pushed back. */
static long flood(void *sock, long n)
{
    static unsigned char payload[FLOOD_SIZE];
    memset(payload, BENCH_MARK, sizeof payload);
    long sent = 0;
    while (sent < n && zmq_send(sock, payload, sizeof payload, 0) == FLOOD_SIZE)
        sent++;
    return sent;
}

typedef struct flood_result {
    double peak_mib, idle_mib, accepted;
} flood_result_t;

/* One receiver, one flood. The sender stays open until the receiver has
 * settled: closing it (LINGER 0) would drop what is still on its way. */
static flood_result_t flood_round(const bench_cfg_t *cfg, int hwm, long n)
{
    flood_child_t c;
    child_start(hwm, &c);
    flood_result_t res;
    res.idle_mib = (double)cli_proc_status_kib(c.pid, "VmRSS") / 1024;
    void *sock = sender_open(cfg->env->raw_ctx, c.endpoint);
    res.accepted = (double)flood(sock, n);
    settle(c.pid);
    res.peak_mib = (double)cli_proc_status_kib(c.pid, "VmHWM") / 1024;
    zmq_close(sock);
    child_stop(&c);
    if (res.peak_mib <= 0 || res.idle_mib <= 0)
        bench_die("cannot read /proc/%d/status", (int)c.pid);
    return res;
}

/* The rcvhwm a PULL gets from a policy that does not set it. */
static int builtin_hwm(void)
{
    zg_policy_t *p = zg_policy_builtin();
    zg_setting_t s[ZG_FIELD_COUNT];
    if (!p || zg_policy_settings(p, ZMQ_PULL, NULL, s, ZG_FIELD_COUNT, sizeof s[0]) != 0)
        bench_die("zguard's built-in policy: %s", zg_last_error());
    zg_policy_destroy(&p);
    return (int)s[ZG_FIELD_RCVHWM].value;
}

static void mem_table(bench_table_t *t, const bench_cfg_t *cfg, int hwm)
{
    snprintf(t->title, sizeof t->title,
             "peak RSS of a PULL receiver that does not read, flooded with "
             "64 KiB messages over tcp");
    /* a child per round, low noise: three rounds say enough */
    t->rounds = cfg->rounds < 3 ? cfg->rounds : 3;
    t->better = BENCH_LOWER_BETTER;
    t->better_word = "smaller";
    t->worse_word = "larger";
    t->nmetrics = 3;
    t->metric[0] =
        (bench_metric_t){"peak_rss_mib", "peak MiB", 1, BENCH_AGG_MEDIAN};
    t->metric[1] =
        (bench_metric_t){"idle_rss_mib", "idle MiB", 1, BENCH_AGG_MEDIAN};
    t->metric[2] =
        (bench_metric_t){"accepted_msgs", "accepted", -1, BENCH_AGG_MEDIAN};
    char id[24], name[32];
    snprintf(id, sizeof id, "hwm-%d", hwm);
    snprintf(name, sizeof name, "zguard HWM %d", hwm);
    bench_table_row(t, id, name,
                    "zg_socket(PULL), the policy's sndhwm = rcvhwm");
    bench_table_row(t, "hwm-0", "zguard HWM 0",
                    "zg_socket(PULL), sndhwm = rcvhwm = 0, unbounded = yes");
    bench_table_cmp(t, 0, 1, 0);
}

void bench_scen_memory(const bench_cfg_t *cfg, const bench_scenario_t *sc,
                       bench_table_t *t)
{
    (void)sc;
    int hwms[2] = {builtin_hwm(), 0};
    long n = cfg->quick ? 3000 : 5000;
    mem_table(t, cfg, hwms[0]);
    for (int r = 0; r < t->rounds; r++)
        for (int i = 0; i < 2; i++) {
            int k = bench_order(r, 2, i);
            flood_result_t res = flood_round(cfg, hwms[k], n);
            t->row[k].v[0][r] = res.peak_mib;
            t->row[k].v[1][r] = res.idle_mib;
            t->row[k].v[2][r] = res.accepted;
            if (cfg->verbose)
                fprintf(stderr,
                        "  memory round %d HWM %d: peak %.1f MiB, "
                        "%.0f accepted\n",
                        r + 1, hwms[k], res.peak_mib, res.accepted);
        }
    snprintf(t->note, sizeof t->note,
             "the sender offers %ld messages (%.0f MiB), SNDHWM 1000, "
             "stops at the first 200 ms send timeout; rounds: %d",
             n, (double)n * FLOOD_SIZE / 1048576, t->rounds);
    t->per_round = (double)n;
    t->per_round_of = "messages offered";
    snprintf(t->options, sizeof t->options,
             "receiver: the bench policy (NULL security), sndhwm = rcvhwm = "
             "HWM; sender: raw PUSH, SNDHWM 1000, SNDTIMEO 200ms, LINGER 0");
}
