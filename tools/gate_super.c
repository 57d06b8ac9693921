/*
 * gate_super.c - `zguard gate`'s supervisor: the forwarding runs in a child
 * process, restarted when it dies abnormally.
 *
 * Why: any authorized client can abort a libzmq 4.3 process (libzmq #4841,
 * `Assertion failed: !_io_error`), and no release fixes it. The supervisor
 * holds no libzmq context and no socket but the metrics one, so what kills
 * the forwarding cannot reach it.
 *
 * A restart follows a death by any signal but SIGTERM and SIGINT (abort,
 * segfault, SIGKILL from the OOM killer) and any exit but 0 (a clean stop)
 * and 2 (could not start: a policy, key or allowlist error, a busy port,
 * which a restart would only repeat: the supervisor exits 2 instead of
 * looping). The delay doubles from 100 ms to 5 s and starts again at 100 ms
 * once a process has forwarded for a minute.
 *
 * The metrics socket is bound here, once, and inherited: the forwarding
 * process serves it with libmicrohttpd while it forwards; between two, the
 * supervisor answers it itself, /status with 503 and "forwarding": false,
 * /metrics with the restarts. So /status never answers 200 while nothing
 * forwards, and the restarts survive the processes that count them. Each
 * new process binds the frontend again (the port the first one got, when
 * the policy says '*'): libzmq rebinds a tcp port at once (SO_REUSEADDR)
 * and replaces a stale ipc file, and clients' libzmq reconnects. A socket
 * systemd passed (socket activation, fd 3) stays open here across
 * restarts: each child is told it is the LISTEN_PID.
 *
 * SIGTERM and SIGINT are passed on to the forwarding process, which stops
 * as it always did (delivering what it took within the backend's LINGER);
 * so is SIGHUP. The child gets SIGTERM if the supervisor dies
 * (PR_SET_PDEATHSIG).
 */
#include "gate_super.h"
#include "cli.h"
#include "cli_clock.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#define SUPER_FIRST_DELAY_MS 100
#define SUPER_MAX_DELAY_MS 5000
#define SUPER_HEALTHY_MS 60000 /* forwarding this long resets the delay */
#define SUPER_LINE_MAX 512

typedef struct super {
    const zg_policy_t *policy;
    zg_log_level_t level;
    gate_serve_fn *serve;
    void *arg;
    int sig[2];      /* the signal handler writes signal numbers here */
    int metrics_fd;  /* -1: no [metrics] listen */
    pid_t child;     /* -1: none runs */
    int ready_fd;    /* the child's ready pipe, -1 once read or closed */
    bool ready;      /* the child said it forwards */
    int64_t ready_ms;
    char frontend[ZG_ENDPOINT_MAX]; /* the first child's, as bound */
    uint64_t restarts;
    int64_t started_ms, delay_ms;
    int64_t restart_at_ms; /* 0: none due */
    bool stopping, done;
    int rc;
} super_t;

static int64_t now_ms(void)
{
    return (int64_t)(cli_now() * 1000);
}

static void say(const super_t *s, zg_log_level_t level, const char *fmt, ...)
    ZG_PRINTF(3, 4);
static void say(const super_t *s, zg_log_level_t level, const char *fmt, ...)
{
    if (level > s->level)
        return;
    char line[SUPER_LINE_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    zg_log_stderr(NULL, level, line);
}

/* ---- signals ------------------------------------------------------------------ */

/* The handler's only way out: a handler gets no argument. */
static int signal_pipe = -1;

static void on_signal(int sig)
{
    int saved = errno;
    unsigned char b = (unsigned char)sig;
    ssize_t n = write(signal_pipe, &b, 1);
    (void)n; /* a full pipe: enough wakeups are pending */
    errno = saved;
}

static const int handled[] = {SIGTERM, SIGINT, SIGHUP, SIGCHLD};
#define NHANDLED (sizeof handled / sizeof handled[0])

static void handled_set(sigset_t *set)
{
    sigemptyset(set);
    for (size_t i = 0; i < NHANDLED; i++)
        sigaddset(set, handled[i]);
}

static int catch_signals(super_t *s)
{
    if (pipe2(s->sig, O_NONBLOCK | O_CLOEXEC) != 0)
        return -1;
    signal_pipe = s->sig[1];
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sa.sa_flags = SA_RESTART | SA_NOCLDSTOP;
    sigemptyset(&sa.sa_mask);
    for (size_t i = 0; i < NHANDLED; i++)
        sigaction(handled[i], &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    return 0;
}

static const char *signal_name(int sig, char *buf, size_t cap)
{
    const char *abbrev = sigabbrev_np(sig);
    if (abbrev)
        snprintf(buf, cap, "SIG%s", abbrev);
    else
        snprintf(buf, cap, "signal %d", sig);
    return buf;
}

/* ---- the forwarding process ----------------------------------------------------- */

/* Socket activation names the supervisor in LISTEN_PID; the socket (fd 3)
 * is the child's too, and stays open in the supervisor for the next one. */
static void inherit_listen_fds(pid_t supervisor)
{
    const char *pid = getenv("LISTEN_PID");
    char mine[24];
    if (pid && strtol(pid, NULL, 10) == (long)supervisor) {
        snprintf(mine, sizeof mine, "%ld", (long)getpid());
        setenv("LISTEN_PID", mine, 1);
    }
}

/* In the child, which inherited the supervisor's handlers with its
 * signals blocked: the defaults again, SIGTERM, SIGINT and SIGHUP still
 * blocked until serve() handles them (a stop asked meanwhile waits). */
static void child_run(super_t *s, pid_t supervisor, int ready_fd)
{
    sigset_t chld;
    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD);
    for (size_t i = 0; i < NHANDLED; i++)
        signal(handled[i], SIG_DFL);
    sigprocmask(SIG_UNBLOCK, &chld, NULL);
    close(s->sig[0]);
    close(s->sig[1]);
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() != supervisor)
        _exit(EXIT_OK); /* the supervisor died before that was set */
    inherit_listen_fds(supervisor);
    gate_run_t run = {.restarts = s->restarts,
                      .started_ms = s->started_ms,
                      .frontend = s->frontend[0] ? s->frontend : NULL,
                      .metrics_fd = s->metrics_fd,
                      .ready_fd = ready_fd};
    int rc = s->serve(s->arg, &run);
    fflush(NULL);
    _exit(rc);
}

static int spawn(super_t *s)
{
    int ready[2];
    if (pipe2(ready, O_CLOEXEC) != 0) {
        say(s, ZG_LOG_ERROR, "gate: supervisor: pipe: %s", strerror(errno));
        return -1;
    }
    sigset_t block, old;
    handled_set(&block);
    sigprocmask(SIG_BLOCK, &block, &old);
    pid_t me = getpid(), pid = fork();
    if (pid == 0) {
        close(ready[0]);
        child_run(s, me, ready[1]);
    }
    int err = errno;
    sigprocmask(SIG_SETMASK, &old, NULL);
    close(ready[1]);
    if (pid < 0) {
        close(ready[0]);
        say(s, ZG_LOG_ERROR, "gate: supervisor: fork: %s", strerror(err));
        return -1;
    }
    s->child = pid;
    s->ready_fd = ready[0];
    s->ready = false;
    say(s, ZG_LOG_NOTICE, "gate: supervisor: forwarding process %d started%s",
        (int)pid, s->restarts ? " again" : "");
    return 0;
}

/* The child's line: the frontend as bound. */
static void read_ready(super_t *s)
{
    char line[ZG_ENDPOINT_MAX];
    ssize_t n = read(s->ready_fd, line, sizeof line - 1);
    if (n > 0) {
        line[n] = '\0';
        line[strcspn(line, "\n")] = '\0';
        if (!s->frontend[0])
            memcpy(s->frontend, line, strlen(line) + 1);
        s->ready = true;
        s->ready_ms = now_ms();
    }
    if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN)) {
        close(s->ready_fd);
        s->ready_fd = -1;
    }
}

static void finish(super_t *s, int rc)
{
    s->done = true;
    s->rc = rc;
}

/* A child's end that calls for no restart: a stop, or could not start. */
static bool ended_on_purpose(super_t *s, int status)
{
    char name[32];
    if (s->stopping) {
        finish(s, WIFEXITED(status) ? WEXITSTATUS(status) : EXIT_WARN);
        return true;
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) == EXIT_OK) {
        say(s, ZG_LOG_NOTICE, "gate: supervisor: the forwarding process "
                              "stopped (exit 0): so does the gate");
        finish(s, EXIT_OK);
        return true;
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) == EXIT_FAIL) {
        say(s, ZG_LOG_ERROR,
            "gate: supervisor: the forwarding process could not start (exit "
            "2, why is above): not restarting it, it would fail the same way");
        finish(s, EXIT_FAIL);
        return true;
    }
    if (WIFSIGNALED(status) &&
        (WTERMSIG(status) == SIGTERM || WTERMSIG(status) == SIGINT)) {
        say(s, ZG_LOG_NOTICE,
            "gate: supervisor: the forwarding process was stopped by %s: so "
            "is the gate",
            signal_name(WTERMSIG(status), name, sizeof name));
        finish(s, EXIT_OK);
        return true;
    }
    return false;
}

static void child_ended(super_t *s, pid_t pid, int status)
{
    bool was_ready = s->ready;
    s->child = -1;
    s->ready = false;
    if (s->ready_fd >= 0) {
        close(s->ready_fd);
        s->ready_fd = -1;
    }
    if (ended_on_purpose(s, status))
        return;
    int64_t t = now_ms();
    if (was_ready && t - s->ready_ms >= SUPER_HEALTHY_MS)
        s->delay_ms = SUPER_FIRST_DELAY_MS;
    s->restarts++;
    s->restart_at_ms = t + s->delay_ms;
    char how[96], name[32];
    if (WIFSIGNALED(status))
        snprintf(how, sizeof how, "killed by %s%s",
                 signal_name(WTERMSIG(status), name, sizeof name),
                 WCOREDUMP(status) ? " (core dumped)" : "");
    else
        snprintf(how, sizeof how, "exited with status %d%s",
                 WEXITSTATUS(status),
                 WEXITSTATUS(status) == EXIT_WARN ? " (forwarding failed)" : "");
    say(s, ZG_LOG_WARNING,
        "gate: supervisor: forwarding process %d %s; restart %llu in %lldms",
        (int)pid, how, (unsigned long long)s->restarts,
        (long long)s->delay_ms);
    s->delay_ms = s->delay_ms * 2 > SUPER_MAX_DELAY_MS ? SUPER_MAX_DELAY_MS
                                                       : s->delay_ms * 2;
}

static void reap(super_t *s)
{
    int status;
    pid_t pid;
    while ((pid = waitpid(-1, &status, WNOHANG)) > 0)
        if (pid == s->child)
            child_ended(s, pid, status);
}

static void stop(super_t *s, int sig)
{
    char name[32];
    if (s->stopping && s->child > 0) {
        kill(s->child, SIGTERM);
        return;
    }
    s->stopping = true;
    s->restart_at_ms = 0;
    if (s->child < 0) {
        say(s, ZG_LOG_NOTICE, "gate: supervisor: %s between two forwarding "
                              "processes: stopped",
            signal_name(sig, name, sizeof name));
        finish(s, EXIT_OK);
        return;
    }
    kill(s->child, SIGTERM);
}

static void on_signals(super_t *s)
{
    unsigned char got[64];
    ssize_t n;
    while ((n = read(s->sig[0], got, sizeof got)) > 0)
        for (ssize_t i = 0; i < n; i++) {
            if (got[i] == SIGTERM || got[i] == SIGINT)
                stop(s, got[i]);
            else if (got[i] == SIGHUP && s->child > 0)
                kill(s->child, SIGHUP);
            else if (got[i] == SIGCHLD)
                reap(s);
        }
}

/* ---- the loop ------------------------------------------------------------------ */

static void answer_idle(super_t *s)
{
    zg_gate_status_t st;
    if (zg_gate_status_idle(s->policy, s->frontend[0] ? s->frontend : NULL,
                            s->restarts, s->started_ms, &st) == 0)
        zg_metrics_answer_idle(s->metrics_fd, &st);
}

static void step(super_t *s)
{
    struct pollfd p[3] = {
        {.fd = s->sig[0], .events = POLLIN},
        {.fd = s->ready_fd, .events = POLLIN},
        {.fd = s->ready ? -1 : s->metrics_fd, .events = POLLIN},
    };
    int timeout = -1;
    if (s->restart_at_ms) {
        int64_t left = s->restart_at_ms - now_ms();
        timeout = left > 0 ? (int)left : 0;
    }
    if (poll(p, 3, timeout) < 0 && errno != EINTR) {
        say(s, ZG_LOG_ERROR, "gate: supervisor: poll: %s", strerror(errno));
        finish(s, EXIT_WARN);
        return;
    }
    if (p[0].revents & POLLIN)
        on_signals(s);
    if (!s->done && s->ready_fd >= 0 && (p[1].revents & (POLLIN | POLLHUP)))
        read_ready(s);
    if (!s->done && (p[2].revents & POLLIN) && !s->ready)
        answer_idle(s);
    if (!s->done && s->restart_at_ms && now_ms() >= s->restart_at_ms) {
        s->restart_at_ms = 0;
        if (spawn(s) != 0)
            finish(s, EXIT_WARN);
    }
}

int gate_supervise(const zg_policy_t *policy, zg_log_level_t level,
                   gate_serve_fn *serve, void *arg)
{
    super_t s = {.policy = policy, .level = level, .serve = serve, .arg = arg,
                 .sig = {-1, -1}, .metrics_fd = -1, .child = -1,
                 .ready_fd = -1, .delay_ms = SUPER_FIRST_DELAY_MS,
                 .started_ms = now_ms()};
    const char *listen = zg_policy_metrics(policy, "listen", NULL);
    int port = 0;
    if (listen && (s.metrics_fd = zg_metrics_bind(listen, &port)) < 0) {
        fprintf(stderr, "zguard gate: %s\n", zg_last_error());
        return EXIT_FAIL;
    }
    if (catch_signals(&s) != 0) {
        fprintf(stderr, "zguard gate: pipe: %s\n", strerror(errno));
        if (s.metrics_fd >= 0)
            close(s.metrics_fd);
        return EXIT_FAIL;
    }
    if (spawn(&s) != 0)
        finish(&s, EXIT_FAIL);
    while (!s.done)
        step(&s);
    if (s.child > 0) { /* gave up on a failure of its own: not the child */
        kill(s.child, SIGTERM);
        waitpid(s.child, NULL, 0);
    }
    signal_pipe = -1;
    for (int i = 0; i < 2; i++)
        close(s.sig[i]);
    if (s.ready_fd >= 0)
        close(s.ready_fd);
    if (s.metrics_fd >= 0)
        close(s.metrics_fd);
    return s.rc;
}
