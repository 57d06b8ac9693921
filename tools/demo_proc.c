/*
 * demo_proc.c - child processes for `zguard demo`: started with their
 * standard output and error on one pipe, read as lines with deadlines (the
 * demo waits on what a process says, never on a guess of how long it takes),
 * stopped with a signal and a bound, and measured through /proc.
 *
 * Exits are observed with a pidfd (Linux 5.3), so waiting for one is a
 * poll with a deadline, not a sleep loop.
 */
#include "demo.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static int remaining_ms(double deadline)
{
    double left = deadline - cli_now();
    return left <= 0 ? 0 : (int)(left * 1000) + 1;
}

int proc_start(demo_proc_t *p, const char *name, char *const argv[],
               const char *logdir)
{
    memset(p, 0, sizeof *p);
    p->out = p->pidfd = p->log = -1;
    snprintf(p->name, sizeof p->name, "%s", name);
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0)
        return -1;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, fds[1], STDOUT_FILENO);
    posix_spawn_file_actions_adddup2(&fa, fds[1], STDERR_FILENO);
    posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    int rc = posix_spawn(&p->pid, argv[0], &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(fds[1]);
    if (rc != 0) {
        close(fds[0]);
        p->pid = 0;
        errno = rc;
        return -1;
    }
    p->out = fds[0];
    p->pidfd = (int)syscall(SYS_pidfd_open, p->pid, 0);
    if (logdir) {
        char path[DEMO_PATH_MAX + 48];
        snprintf(path, sizeof path, "%s/%s.log", logdir, name);
        p->log = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    }
    return 0;
}

/* A complete line from buf into line; 1, or 0 if buf holds none. */
static int take_line(demo_proc_t *p, char *line, size_t cap)
{
    char *nl = memchr(p->buf, '\n', p->len);
    if (!nl && p->len < sizeof p->buf && p->out >= 0)
        return 0;
    size_t n = nl ? (size_t)(nl - p->buf) : p->len; /* full buffer or EOF */
    if (n == 0 && !nl)
        return 0;
    snprintf(line, cap, "%.*s", (int)n, p->buf);
    if (p->log >= 0) {
        ssize_t w = write(p->log, p->buf, n);
        w = write(p->log, "\n", 1);
        (void)w;
    }
    size_t used = nl ? n + 1 : n;
    memmove(p->buf, p->buf + used, p->len - used);
    p->len -= used;
    return 1;
}

int proc_line(demo_proc_t *p, int timeout_ms, char *line, size_t cap)
{
    double deadline = cli_now() + timeout_ms / 1000.0;
    for (;;) {
        if (take_line(p, line, cap))
            return 1;
        if (p->out < 0)
            return -1;
        struct pollfd pfd = {.fd = p->out, .events = POLLIN};
        int ready = poll(&pfd, 1, remaining_ms(deadline));
        if (ready < 0 && errno == EINTR)
            continue;
        if (ready <= 0)
            return 0;
        ssize_t got = read(p->out, p->buf + p->len, sizeof p->buf - p->len);
        if (got > 0) {
            p->len += (size_t)got;
        } else if (got == 0 || errno != EINTR) {
            close(p->out);
            p->out = -1;
        }
    }
}

int proc_wait_for(demo_proc_t *p, const char *want, int timeout_ms,
                  char *line, size_t cap)
{
    double deadline = cli_now() + timeout_ms / 1000.0;
    for (;;) {
        int rc = proc_line(p, remaining_ms(deadline), line, cap);
        if (rc <= 0)
            return rc;
        if (strstr(line, want))
            return 1;
    }
}

static int exit_code(int status)
{
    if (WIFEXITED(status))
        return WEXITSTATUS(status);
    return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : -1;
}

int proc_wait(demo_proc_t *p, int timeout_ms)
{
    if (p->pid <= 0)
        return exit_code(p->status);
    if (p->pidfd >= 0) {
        struct pollfd pfd = {.fd = p->pidfd, .events = POLLIN};
        double deadline = cli_now() + timeout_ms / 1000.0;
        int ready;
        do
            ready = poll(&pfd, 1, remaining_ms(deadline));
        while (ready < 0 && errno == EINTR);
        if (ready == 0)
            return -2;
    }
    if (waitpid(p->pid, &p->status, p->pidfd >= 0 ? 0 : WNOHANG) != p->pid)
        return -2;
    p->pid = 0;
    return exit_code(p->status);
}

int proc_stop(demo_proc_t *p, int sig, int timeout_ms)
{
    int code = p->pid > 0 ? -2 : exit_code(p->status);
    if (p->pid > 0) {
        kill(p->pid, sig);
        code = proc_wait(p, timeout_ms);
        if (code == -2) {
            kill(p->pid, SIGKILL);
            proc_wait(p, 5000);
            code = -1;
        }
    }
    char line[DEMO_LINE_MAX]; /* the last words, into its log */
    while (p->out >= 0 && proc_line(p, 0, line, sizeof line) == 1)
        ;
    if (p->out >= 0)
        close(p->out);
    if (p->pidfd >= 0)
        close(p->pidfd);
    if (p->log >= 0)
        close(p->log);
    p->out = p->pidfd = p->log = -1;
    return code;
}

int proc_reset_peak(pid_t pid)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/clear_refs", (int)pid);
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    /* "5" resets the peak resident set size (proc(5)) */
    int rc = write(fd, "5", 1) == 1 ? 0 : -1;
    close(fd);
    return rc;
}
