/*
 * testutil.c - helpers for zguard's C tests (see testutil.h).
 */
#include "testutil.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

zg_policy_t *tu_policy(const char *text)
{
    zg_diag_t *diag = zg_diag_new();
    zg_policy_t *p = zg_policy_parse(text, strlen(text), "test.policy", diag);
    if (!p)
        zg_diag_print(diag, stderr);
    zg_diag_destroy(&diag);
    assert_non_null(p);
    return p;
}

zg_ctx_t *tu_ctx(const char *text)
{
    zg_policy_t *p = text ? tu_policy(text) : NULL;
    zg_ctx_t *ctx = zg_ctx_new(p);
    zg_policy_destroy(&p);
    assert_non_null(ctx);
    return ctx;
}

uint64_t tu_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

void tu_assert_contains(const char *haystack, const char *needle)
{
    if (!haystack || !strstr(haystack, needle)) {
        fprintf(stderr, "expected to find \"%s\" in \"%s\"\n", needle,
                haystack ? haystack : "(null)");
        fail();
    }
}

static int read_line(int fd, char *buf, size_t cap, int timeout_ms)
{
    size_t n = 0;
    uint64_t deadline = tu_now_ms() + (uint64_t)timeout_ms;
    while (n + 1 < cap) {
        uint64_t now = tu_now_ms();
        if (now >= deadline)
            return -1;
        struct pollfd p = {fd, POLLIN, 0};
        int rc = poll(&p, 1, (int)(deadline - now));
        if (rc < 0 && errno == EINTR)
            continue;
        if (rc <= 0)
            return -1;
        ssize_t got = read(fd, buf + n, 1);
        if (got <= 0)
            return -1;
        if (buf[n] == '\n')
            break;
        n++;
    }
    buf[n] = '\0';
    return 0;
}

void tu_peer_start(tu_peer_t *peer, const char *script, const char *const *args,
                   char *ready, size_t cap)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", ZG_TEST_PEERS, script);
    const char *argv[32] = {ZG_TEST_PYTHON, "-u", path};
    size_t n = 3;
    for (; args && args[n - 3] && n < 31; n++)
        argv[n] = args[n - 3];
    argv[n] = NULL;
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, fds[1], STDOUT_FILENO);
    posix_spawn_file_actions_addclose(&fa, fds[0]);
    int rc = posix_spawn(&peer->pid, ZG_TEST_PYTHON, &fa, NULL,
                         (char *const *)argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(fds[1]);
    assert_int_equal(rc, 0);
    peer->out = fds[0];
    char line[256];
    if (read_line(peer->out, line, sizeof line, 10000) != 0 ||
        strncmp(line, "ready", 5) != 0) {
        fprintf(stderr, "peer %s did not say ready\n", script);
        tu_peer_kill(peer);
        fail();
    }
    if (ready)
        snprintf(ready, cap, "%s", line[5] == ' ' ? line + 6 : "");
}

int tu_peer_wait(tu_peer_t *peer)
{
    int status = 0;
    while (waitpid(peer->pid, &status, 0) < 0 && errno == EINTR)
        ;
    if (peer->out >= 0)
        close(peer->out);
    peer->out = -1;
    peer->pid = 0;
    return status;
}

void tu_peer_kill(tu_peer_t *peer)
{
    if (peer->pid > 0) {
        kill(peer->pid, SIGKILL);
        tu_peer_wait(peer);
    }
}

void tu_free_endpoint(char *buf, size_t cap)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    close(fd);
    snprintf(buf, cap, "tcp://127.0.0.1:%u", ntohs(a.sin_port));
}
