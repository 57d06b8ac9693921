/*
 * bench_instr.c - `zguard bench instr`: instructions per message, zguard
 * against raw libzmq, counted by callgrind.
 *
 * Timing the hot path on a shared machine answers "unclear" more often than
 * not; instructions do not depend on the scheduler. This program runs
 * itself under `valgrind --tool=callgrind` with collection off, and the
 * child switches collection on around the measured loops only: 64 B
 * messages, inproc PUSH -> PULL, each message sent and then received by the
 * one thread, for raw libzmq and zguard with the copy calls (zmq_send /
 * zmq_recv, zg_send / zg_recv) and the zero-copy calls (zmq_msg_send /
 * zmq_msg_recv, zg_msg_send / zg_msg_recv). Each loop runs N and 2N
 * messages and the per-message figure is the difference over N, so what a
 * loop costs once (its first message, the client requests) cancels out.
 * Only the measuring thread is counted (--separate-threads): zguard's
 * monitor thread wakes on its own clock, not per message.
 *
 * A third pair is what `zguard run` costs an unmodified program: the
 * preload scenario's zguard-bench-app (PUSH -> PULL in one thread, 64 B,
 * windows of 1,000 in flight), run whole under callgrind for N and 2N
 * messages, as it is and with libzguard-preload.so and the scenario's
 * policy in its environment (what `zguard run` sets), both its sockets
 * hardened; its main thread's difference over N.
 *
 * (perf stat -e instructions would do without valgrind, where the machine
 * exposes the counter; virtual machines often do not.)
 */
#include "bench.h"
#include "cli_opt.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <valgrind/callgrind.h>

#define INSTR_SIZE 64
#define INSTR_DEFAULT_MESSAGES 20000
#define INSTR_WARMUP 1000
#define INSTR_TARGET 0.97 /* raw / zguard instructions per message */
#define INSTR_CHILD_ROLE "--instr-child"
#define INSTR_OUT "callgrind.out"

static const char usage[] =
    "usage: zguard bench instr [--messages N]\n"
    "\n"
    "Counts the instructions one 64-byte message costs with raw libzmq and\n"
    "with zguard (inproc PUSH -> PULL, sent and received by one thread), by\n"
    "running this program under valgrind's callgrind with counting switched\n"
    "on around the measured loops only. Three pairs of contestants,\n"
    "  raw / zguard          zmq_send / zmq_recv against zg_send / zg_recv\n"
    "  raw msg / zguard msg  zmq_msg_send / zmq_msg_recv against zg_msg_send\n"
    "                        / zg_msg_recv (each message built with\n"
    "                        zmq_msg_init_size + memcpy, as CZMQ does)\n"
    "  raw app / zguard run  an unmodified program (zguard-bench-app, the\n"
    "                        preload scenario's) as it is and under the\n"
    "                        preload of `zguard run`, both sockets hardened:\n"
    "                        the whole program for N and 2N messages\n"
    "and a floor: floor_send / floor_recv, a minimal wrapper in this program\n"
    "that finds a socket's state and counts bytes and messages, nothing else\n"
    "(the least any counting wrapper adds, compared with raw).\n"
    "Each loop runs N and then 2N messages; a figure is the difference over\n"
    "N, so set-up and each loop's first message do not count. Instruction\n"
    "counts do not depend on the scheduler: the same build gives the same\n"
    "figures on a busy machine. The ratio is raw / zguard (1 means zguard\n"
    "adds nothing); target >= 0.97 for every pair.\n"
    "\n"
    "options:\n"
    "  --messages N   N, from 1000 to 1000000 (default 20000)\n"
    "\n"
    "Needs valgrind (Debian: apt-get install valgrind). Takes about ten\n"
    "seconds.\n";

typedef struct instr_loop instr_loop_t;
typedef void(loop_fn)(instr_loop_t *l, long n);
static loop_fn loop_raw, loop_zguard, loop_raw_msg, loop_zguard_msg, loop_floor;

typedef enum instr_app {
    APP_NONE, /* a loop of this program's, under client requests */
    APP_RAW,  /* zguard-bench-app, whole */
    APP_RUN,  /* zguard-bench-app under the preload, whole */
} instr_app_t;

typedef struct instr_row {
    const char *id, *name, *calls;
    bench_api_t api; /* whose sockets */
    loop_fn *loop;   /* NULL: the parent runs zguard-bench-app */
    instr_app_t app;
} instr_row_t;

/* Pairs, raw first; the floor last, compared with the first raw row. */
static const instr_row_t rows[] = {
    {"raw", "raw", "zmq_send / zmq_recv", BENCH_RAW, loop_raw, APP_NONE},
    {"zguard", "zguard", "zg_send / zg_recv", BENCH_ZG, loop_zguard, APP_NONE},
    {"raw-msg", "raw msg", "zmq_msg_send / zmq_msg_recv", BENCH_RAW_MSG,
     loop_raw_msg, APP_NONE},
    {"zguard-msg", "zguard msg", "zg_msg_send / zg_msg_recv", BENCH_ZG_MSG,
     loop_zguard_msg, APP_NONE},
    {"raw-app", "raw app", "zguard-bench-app", BENCH_RAW, NULL, APP_RAW},
    {"run-app", "zguard run", "zguard-bench-app, preloaded", BENCH_RAW, NULL,
     APP_RUN},
    {"floor", "floor", "floor_send / floor_recv", BENCH_RAW, loop_floor,
     APP_NONE},
};
#define NROWS (sizeof rows / sizeof rows[0])

/* ---- the child, under callgrind ------------------------------------------ */

struct instr_loop {
    void *tx, *rx;
    unsigned char payload[INSTR_SIZE], buf[INSTR_SIZE];
};

static _Noreturn void loop_die(const char *call, long i)
{
    bench_die("%s failed at message %ld: %s", call, i,
              strncmp(call, "zg_", 3) == 0 ? zg_last_error()
                                           : zmq_strerror(errno));
}

/* One function per contestant, so the measured code has no dispatch. The
 * pairs do the same work around the calls: a zero-copy receiver reads the
 * size from the message either way. */
__attribute__((noinline)) static void loop_raw(instr_loop_t *l, long n)
{
    for (long i = 0; i < n; i++) {
        if (zmq_send(l->tx, l->payload, INSTR_SIZE, 0) != INSTR_SIZE)
            loop_die("zmq_send", i);
        if (zmq_recv(l->rx, l->buf, INSTR_SIZE, 0) != INSTR_SIZE)
            loop_die("zmq_recv", i);
    }
}

__attribute__((noinline)) static void loop_zguard(instr_loop_t *l, long n)
{
    size_t len;
    for (long i = 0; i < n; i++) {
        if (zg_send(l->tx, l->payload, INSTR_SIZE, 0) != ZG_OK)
            loop_die("zg_send", i);
        if (zg_recv(l->rx, l->buf, INSTR_SIZE, &len, 0) != ZG_OK ||
            len != INSTR_SIZE)
            loop_die("zg_recv", i);
    }
}

static void msg_build(instr_loop_t *l, zmq_msg_t *m, long i)
{
    if (zmq_msg_init_size(m, INSTR_SIZE) != 0)
        loop_die("zmq_msg_init_size", i);
    memcpy(zmq_msg_data(m), l->payload, INSTR_SIZE);
}

__attribute__((noinline)) static void loop_raw_msg(instr_loop_t *l, long n)
{
    for (long i = 0; i < n; i++) {
        zmq_msg_t m;
        msg_build(l, &m, i);
        if (zmq_msg_send(&m, l->tx, 0) != INSTR_SIZE)
            loop_die("zmq_msg_send", i);
        zmq_msg_init(&m);
        if (zmq_msg_recv(&m, l->rx, 0) < 0 || zmq_msg_size(&m) != INSTR_SIZE)
            loop_die("zmq_msg_recv", i);
        zmq_msg_close(&m);
    }
}

__attribute__((noinline)) static void loop_zguard_msg(instr_loop_t *l, long n)
{
    for (long i = 0; i < n; i++) {
        zmq_msg_t m;
        msg_build(l, &m, i);
        if (zg_msg_send(l->tx, &m, 0) != ZG_OK)
            loop_die("zg_msg_send", i);
        zmq_msg_init(&m);
        if (zg_msg_recv(l->rx, &m, 0) != ZG_OK ||
            zmq_msg_size(&m) != INSTR_SIZE)
            loop_die("zg_msg_recv", i);
        zmq_msg_close(&m);
    }
}

/* ---- the floor: the least a counting wrapper adds ------------------------ */

/* What any wrapper that keeps zguard's counters must do per call, and
 * nothing else: find the socket's state (a two-entry cache per thread, as
 * zguard's registry has, without its generation check), call libzmq, count
 * bytes and messages (a receive asks whether more frames follow, as zguard
 * does). In this program, so no call crosses into another library: a
 * lower bound. */
typedef struct floor_state {
    void *zsock;
    uint64_t bytes_sent, msgs_sent, bytes_received, msgs_received;
} floor_state_t;

static floor_state_t floor_states[2];

static _Thread_local struct {
    void *key[2];
    floor_state_t *state[2];
} floor_cache;

static inline floor_state_t *floor_find(void *zsock)
{
    if (__builtin_expect(floor_cache.key[0] == zsock, 1))
        return floor_cache.state[0];
    if (__builtin_expect(floor_cache.key[1] == zsock, 1))
        return floor_cache.state[1];
    int i = floor_states[0].zsock != NULL && floor_states[0].zsock != zsock;
    floor_states[i].zsock = zsock;
    floor_cache.key[i] = zsock;
    floor_cache.state[i] = &floor_states[i];
    return &floor_states[i];
}

__attribute__((noinline)) static int floor_send(void *zsock, const void *buf,
                                                size_t len, int flags)
{
    floor_state_t *f = floor_find(zsock);
    int n = zmq_send(f->zsock, buf, len, flags);
    if (n >= 0) {
        f->bytes_sent += len;
        f->msgs_sent += !(flags & ZMQ_SNDMORE);
    }
    return n;
}

__attribute__((noinline)) static int floor_recv(void *zsock, void *buf,
                                                size_t cap, int flags)
{
    floor_state_t *f = floor_find(zsock);
    zmq_msg_t m;
    zmq_msg_init(&m);
    int n = zmq_msg_recv(&m, f->zsock, flags);
    if (n >= 0) {
        f->bytes_received += (uint64_t)n;
        f->msgs_received += !zmq_msg_get(&m, ZMQ_MORE);
        memcpy(buf, zmq_msg_data(&m), (size_t)n < cap ? (size_t)n : cap);
    }
    zmq_msg_close(&m);
    return n;
}

static void loop_floor(instr_loop_t *l, long n)
{
    for (long i = 0; i < n; i++) {
        if (floor_send(l->tx, l->payload, INSTR_SIZE, 0) != INSTR_SIZE)
            loop_die("floor_send", i);
        if (floor_recv(l->rx, l->buf, INSTR_SIZE, 0) != INSTR_SIZE)
            loop_die("floor_recv", i);
    }
}

/* n messages with counting on, dumped as "<id>-<n>" */
static void measure(const instr_row_t *row, instr_loop_t *l, long n)
{
    char label[64];
    snprintf(label, sizeof label, "%s-%ld", row->id, n);
    loop_fn *fn = row->loop;
    CALLGRIND_TOGGLE_COLLECT;
    fn(l, n);
    CALLGRIND_TOGGLE_COLLECT;
    CALLGRIND_DUMP_STATS_AT(label);
}

/* zguard counted every message it carried. */
static void check_counters(const instr_row_t *row, const instr_loop_t *l,
                           long total)
{
    if (!bench_api_zguard(row->api))
        return;
    zg_counters_t tc, rc;
    if (zg_socket_counters(l->tx, &tc, sizeof tc) != 0 ||
        zg_socket_counters(l->rx, &rc, sizeof rc) != 0)
        bench_die("zg_socket_counters: %s", zg_last_error());
    if (tc.msgs_sent != (uint64_t)total || rc.msgs_received != (uint64_t)total)
        bench_die("%s counted %llu sent, %llu received; %ld were", row->name,
                  (unsigned long long)tc.msgs_sent,
                  (unsigned long long)rc.msgs_received, total);
}

static void env_cleanup(void *env)
{
    bench_env_remove_dir(env);
}

static int instr_child(long n)
{
    if (!RUNNING_ON_VALGRIND)
        bench_die("%s is the measuring half of `zguard bench instr`: run "
                  "that instead",
                  INSTR_CHILD_ROLE);
    bench_env_t *env = bench_env_new();
    bench_on_die(env_cleanup, env);
    bench_net_t net = {BENCH_INPROC, false, INSTR_SIZE};
    bench_pair_t pair;
    bench_pair_open(&pair, env, &net, ZMQ_PULL, ZMQ_PUSH,
                    bench_hwm_for(INSTR_SIZE));
    instr_loop_t l;
    memset(l.payload, BENCH_MARK, sizeof l.payload);
    for (size_t i = 0; i < NROWS; i++) {
        if (!rows[i].loop)
            continue; /* the parent runs zguard-bench-app */
        bench_sock_t rx, tx;
        bench_pair_sockets(&pair, rows[i].api, &rx, &tx);
        l.tx = tx.zmq;
        l.rx = rx.zmq;
        rows[i].loop(&l, INSTR_WARMUP);
        measure(&rows[i], &l, n);
        measure(&rows[i], &l, 2 * n);
        check_counters(&rows[i], &l, INSTR_WARMUP + 3 * n);
        bench_sock_close(&tx);
        bench_sock_close(&rx);
    }
    bench_pair_close(&pair);
    bench_on_die(NULL, NULL);
    bench_env_destroy(&env);
    return 0;
}

/* ---- the parent: runs the child, reads callgrind's dumps ----------------- */

typedef struct instr_counts {
    double once[NROWS], twice[NROWS]; /* instructions of n and 2n messages */
} instr_counts_t;

static int row_of(const char *id)
{
    for (size_t i = 0; i < NROWS; i++)
        if (strcmp(rows[i].id, id) == 0)
            return (int)i;
    return -1;
}

/* One dump: "desc: Trigger: Client Request: <id>-<n>", "thread: 1" (the
 * main thread's part) and "totals: <Ir>". */
static void read_dump(const char *path, long n, instr_counts_t *c)
{
    FILE *f = fopen(path, "r");
    if (!f)
        bench_die("%s: %s", path, strerror(errno));
    char line[512], label[64] = "";
    long thread = 0;
    double total = -1;
    while (fgets(line, sizeof line, f)) {
        const char *req = strstr(line, "Client Request: ");
        if (strncmp(line, "desc: Trigger: ", 15) == 0 && req)
            sscanf(req + 16, "%63s", label);
        else if (strncmp(line, "thread: ", 8) == 0)
            thread = strtol(line + 8, NULL, 10);
        else if (strncmp(line, "totals: ", 8) == 0)
            total = strtod(line + 8, NULL);
    }
    fclose(f);
    char *dash = strrchr(label, '-');
    if (thread != 1 || !dash || total < 0)
        return; /* another thread's part, or the final dump at exit */
    long count = strtol(dash + 1, NULL, 10);
    *dash = '\0';
    int r = row_of(label);
    if (r < 0 || (count != n && count != 2 * n))
        bench_die("%s: unexpected dump '%s'", path, label);
    (count == n ? c->once : c->twice)[r] = total;
}

static void read_dumps(const char *dir, long n, instr_counts_t *c)
{
    DIR *d = opendir(dir);
    if (!d)
        bench_die("%s: %s", dir, strerror(errno));
    struct dirent *e;
    while ((e = readdir(d))) {
        if (strncmp(e->d_name, INSTR_OUT ".", sizeof INSTR_OUT) != 0)
            continue;
        char path[512];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        read_dump(path, n, c);
    }
    closedir(d);
    for (size_t i = 0; i < NROWS; i++)
        if (rows[i].loop && (c->once[i] <= 0 || c->twice[i] <= 0))
            bench_die("callgrind wrote no count for %s (in %s)", rows[i].name,
                      dir);
}

static void show_log(const char *dir)
{
    char path[512], line[512];
    snprintf(path, sizeof path, "%s/valgrind.log", dir);
    FILE *f = fopen(path, "r");
    while (f && fgets(line, sizeof line, f))
        fputs(line, stderr);
    if (f)
        fclose(f);
}

/* valgrind with argv (its output and log in dir), with pl's preload and
 * policy in the environment when pl is not NULL, the program's standard
 * output discarded when quiet; dies with valgrind's log if it fails. */
static void run_valgrind(const char *dir, char *const argv[],
                         const bench_preload_t *pl, bool quiet)
{
    pid_t pid = fork();
    if (pid < 0)
        bench_die("fork: %s", strerror(errno));
    if (pid == 0) {
        /* what `zguard run --policy P` sets, without zguard itself under
         * callgrind */
        if (pl && (setenv("LD_PRELOAD", pl->preload, 1) != 0 ||
                   setenv("ZGUARD_POLICY", pl->policy, 1) != 0))
            _exit(126);
        if (quiet && !freopen("/dev/null", "w", stdout))
            _exit(126);
        execvp(argv[0], argv);
        _exit(127);
    }
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            bench_die("waitpid: %s", strerror(errno));
    if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
        bench_die("valgrind is needed (Debian: apt-get install valgrind)");
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        show_log(dir);
        bench_die("the measuring run under callgrind failed (its log is "
                  "above)");
    }
}

/* valgrind --tool=callgrind <this program> --instr-child N */
static void run_child(const char *dir, long n)
{
    char self[4096], out[600], log[600], count[32];
    if (cli_self_exe(self, sizeof self) != 0)
        bench_die("cannot find this program (/proc/self/exe): %s",
                  strerror(errno));
    snprintf(out, sizeof out, "--callgrind-out-file=%s/" INSTR_OUT, dir);
    snprintf(log, sizeof log, "--log-file=%s/valgrind.log", dir);
    snprintf(count, sizeof count, "%ld", n);
    char *argv[] = {"valgrind",
                    "--tool=callgrind",
                    "--collect-atstart=no",
                    "--separate-threads=yes",
                    out,
                    log,
                    self,
                    "instr",
                    INSTR_CHILD_ROLE,
                    count,
                    NULL};
    run_valgrind(dir, argv, NULL, false);
}

/* zguard-bench-app for n messages under callgrind, preloaded or not: the
 * instructions its main thread ran (from start to exit). */
static double app_count(const char *dir, const bench_preload_t *pl,
                        bool preload, long n)
{
    char path[700], out[sizeof path + 32], log[600], count[32];
    snprintf(path, sizeof path, "%s/app.%s.%ld", dir, preload ? "run" : "raw", n);
    snprintf(out, sizeof out, "--callgrind-out-file=%s", path);
    snprintf(log, sizeof log, "--log-file=%s/valgrind.log", dir);
    snprintf(count, sizeof count, "%ld", n);
    char *argv[] = {"valgrind",     "--tool=callgrind",
                    "--separate-threads=yes",
                    out,            log,
                    (char *)pl->app, "inproc://bench-instr",
                    count,          BENCH_PRELOAD_SIZE,
                    NULL};
    run_valgrind(dir, argv, preload ? pl : NULL, true);
    /* the main thread's part: callgrind appends its number */
    strncat(path, "-01", sizeof path - strlen(path) - 1);
    FILE *f = fopen(path, "r");
    if (!f)
        bench_die("%s: %s", path, strerror(errno));
    char line[512];
    double total = -1;
    while (fgets(line, sizeof line, f))
        if (strncmp(line, "totals: ", 8) == 0)
            total = strtod(line + 8, NULL);
    fclose(f);
    if (total <= 0)
        bench_die("callgrind wrote no count in %s", path);
    return total;
}

static void count_apps(bench_env_t *env, long n, instr_counts_t *c)
{
    bench_preload_t pl;
    bench_preload_find(&pl, env);
    for (size_t i = 0; i < NROWS; i++) {
        if (rows[i].loop)
            continue;
        bool preload = rows[i].app == APP_RUN;
        c->once[i] = app_count(env->dir, &pl, preload, n);
        c->twice[i] = app_count(env->dir, &pl, preload, 2 * n);
    }
}

static void report(const instr_counts_t *c, long n)
{
    double per[NROWS];
    for (size_t i = 0; i < NROWS; i++)
        per[i] = (c->twice[i] - c->once[i]) / (double)n;
    printf("Instructions per 64 B message, inproc PUSH -> PULL, sent and "
           "received by one thread\n(callgrind: a %ld- and a %ld-message "
           "loop, the difference over %ld)\n\n",
           2 * n, n, n);
    printf("  %-11s %-28s %10s\n", "contestant", "calls", "instr/msg");
    for (size_t i = 0; i < NROWS; i++)
        printf("  %-11s %-28s %10.1f\n", rows[i].name, rows[i].calls, per[i]);
    printf("\n  %-22s %8s %8s  %s\n", "", "ratio", "extra", "target");
    for (size_t i = 0; i + 2 < NROWS; i += 2) {
        double ratio = per[i] / per[i + 1];
        char pair[40];
        snprintf(pair, sizeof pair, "%s / %s", rows[i + 1].name, rows[i].name);
        printf("  %-22s %8.3f %+8.1f  >= %.2f: %s\n", pair, ratio,
               per[i + 1] - per[i], INSTR_TARGET,
               ratio >= INSTR_TARGET ? "meets" : "below");
    }
    size_t fl = NROWS - 1;
    printf("  %-22s %8.3f %+8.1f  (the least a counting wrapper adds)\n",
           "floor / raw", per[0] / per[fl], per[fl] - per[0]);
    printf("\n(ratio: raw instructions / zguard instructions per message; "
           "extra: zguard's\ninstructions per message beyond raw libzmq's. "
           "floor: a wrapper that only\nfinds the socket's state and counts "
           "bytes and messages, as zguard does; raw app\nand zguard run: the "
           "whole zguard-bench-app, 1,000 messages in flight, its main\n"
           "thread's instructions)\n");
}

/* A message count from 1000 to 1000000, or -1. */
static long parse_count(const char *text)
{
    char *end;
    errno = 0;
    long v = strtol(text, &end, 10);
    if (errno || *end || end == text || v < 1000 || v > 1000000)
        return -1;
    return v;
}

/* The options, into *n: -1 to go on, else the exit status (0 after
 * --help). */
static int parse(int argc, char **argv, long *n)
{
    static const cli_opt_t opts[] = {{"messages", 0, "N", 'm'},
                                     {NULL, 0, NULL, 0}};
    if (cli_wants_help(argc, argv)) {
        fputs(usage, stdout);
        return 0;
    }
    char cmd[64];
    snprintf(cmd, sizeof cmd, "%s instr", bench_prog());
    cli_opts_t p = {.cmd = cmd, .table = opts, .argc = argc, .argv = argv};
    for (int c; (c = cli_opt_next(&p)) != CLI_OPT_END;) {
        if (c != 'm')
            return CLI_EXIT_USAGE;
        if ((*n = parse_count(p.value)) < 0)
            return cli_usage_error(
                cmd, "--messages: '%s' is not a number from 1000 to 1000000",
                p.value);
    }
    if (p.nargs)
        return cli_usage_error(cmd, "unexpected argument '%s'",
                               cli_opt_args(&p)[0]);
    return -1;
}

int bench_instr_main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], INSTR_CHILD_ROLE) == 0) {
        long n = parse_count(argv[2]);
        return n < 0 ? CLI_EXIT_USAGE : instr_child(n);
    }
    long n = INSTR_DEFAULT_MESSAGES;
    int rc = parse(argc, argv, &n);
    if (rc >= 0)
        return rc;
    /* the environment's temporary directory holds callgrind's output */
    bench_env_t *env = bench_env_new();
    bench_on_die(env_cleanup, env);
    fflush(stdout);
    run_child(env->dir, n);
    instr_counts_t c = {0};
    read_dumps(env->dir, n, &c);
    count_apps(env, n, &c);
    bench_on_die(NULL, NULL);
    bench_env_destroy(&env);
    report(&c, n);
    return 0;
}
