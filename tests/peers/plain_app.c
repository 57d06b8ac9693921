/*
 * plain_app.c - an ordinary libzmq program that knows nothing of zguard,
 * for `zguard run` tests (tests/test_run.py): REQ/REP and PUB/SUB over
 * whatever endpoint it is given, printing its own socket options as it
 * reads them back, so a test sees what the policy did from inside.
 *
 *   plain-app rep ENDPOINT N      bind, answer N requests "hello I" -> "world I"
 *   plain-app req ENDPOINT N      connect, N requests; exit 3 if one gets no reply
 *   plain-app pub ENDPOINT        bind, publish "tick I" every 10 ms until killed
 *   plain-app sub ENDPOINT N      connect, subscribe, receive N ticks
 *   plain-app sndhwm0 ENDPOINT    set SNDHWM 0 (exit 4 if refused), then bind
 *   plain-app twobind ENDPOINT    a PUSH binds inproc://first, then ENDPOINT
 *   plain-app fork ENDPOINT       a child process binds a PULL to ENDPOINT in
 *                                 its own context; the parent prints
 *                                 "child PID" when it has exited 0
 *   plain-app term ENDPOINT       a thread waits in zmq_recv on a bound PULL
 *                                 until zmq_ctx_term ends it (ETERM) and it
 *                                 closes the socket: libzmq's usual shutdown
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zmq.h>

static void print_options(void *s)
{
    int i[6] = {0};
    const int opt[6] = {ZMQ_SNDHWM, ZMQ_RCVHWM, ZMQ_SNDTIMEO, ZMQ_RCVTIMEO,
                        ZMQ_LINGER, ZMQ_MECHANISM};
    for (int k = 0; k < 6; k++) {
        size_t len = sizeof i[k];
        zmq_getsockopt(s, opt[k], &i[k], &len);
    }
    int64_t max = 0;
    size_t len = sizeof max;
    zmq_getsockopt(s, ZMQ_MAXMSGSIZE, &max, &len);
    printf("options sndhwm=%d rcvhwm=%d sndtimeo=%d rcvtimeo=%d linger=%d "
           "maxmsgsize=%lld mechanism=%d\n",
           i[0], i[1], i[2], i[3], i[4], (long long)max, i[5]);
    fflush(stdout);
}

static int fail(const char *what)
{
    printf("failed %s: %s\n", what, zmq_strerror(errno));
    fflush(stdout);
    return 3;
}

static int rep(void *s, const char *ep, int n)
{
    if (zmq_bind(s, ep) != 0)
        return fail("bind");
    print_options(s);
    char buf[64], out[64];
    for (int k = 0; k < n; k++) {
        int r = zmq_recv(s, buf, sizeof buf - 1, 0);
        if (r < 0)
            return fail("recv");
        buf[r < (int)sizeof buf - 1 ? r : (int)sizeof buf - 1] = '\0';
        snprintf(out, sizeof out, "world %s", buf + 6);
        if (zmq_send(s, out, strlen(out), 0) < 0)
            return fail("send");
    }
    return 0;
}

static int req(void *s, const char *ep, int n)
{
    if (zmq_connect(s, ep) != 0)
        return fail("connect");
    print_options(s);
    char buf[64], msg[64];
    for (int k = 0; k < n; k++) {
        snprintf(msg, sizeof msg, "hello %d", k);
        if (zmq_send(s, msg, strlen(msg), 0) < 0)
            return fail("send");
        int r = zmq_recv(s, buf, sizeof buf - 1, 0);
        if (r < 0)
            return fail("recv");
        buf[r < (int)sizeof buf - 1 ? r : (int)sizeof buf - 1] = '\0';
        printf("reply %s\n", buf);
    }
    fflush(stdout);
    return 0;
}

static int pub(void *s, const char *ep)
{
    if (zmq_bind(s, ep) != 0)
        return fail("bind");
    print_options(s);
    char msg[64];
    for (int k = 0;; k++) {
        snprintf(msg, sizeof msg, "tick %d", k);
        zmq_send(s, msg, strlen(msg), 0);
        zmq_poll(NULL, 0, 10); /* the program's own pace */
    }
}

static int sub(void *s, const char *ep, int n)
{
    if (zmq_setsockopt(s, ZMQ_SUBSCRIBE, "tick", 4) != 0 ||
        zmq_connect(s, ep) != 0)
        return fail("connect");
    print_options(s);
    char buf[64];
    for (int k = 0; k < n; k++) {
        int r = zmq_recv(s, buf, sizeof buf - 1, 0);
        if (r < 0)
            return fail("recv");
    }
    printf("received %d\n", n);
    fflush(stdout);
    return 0;
}

static int twobind(void *s, const char *ep)
{
    if (zmq_bind(s, "inproc://first") != 0)
        return fail("bind inproc");
    if (zmq_bind(s, ep) != 0)
        return fail("bind");
    print_options(s);
    return 0;
}

static int sndhwm0(void *s, const char *ep)
{
    int zero = 0;
    if (zmq_setsockopt(s, ZMQ_SNDHWM, &zero, sizeof zero) != 0) {
        printf("setsockopt SNDHWM 0 refused: %s\n", zmq_strerror(errno));
        fflush(stdout);
        return 4;
    }
    if (zmq_bind(s, ep) != 0)
        return fail("bind");
    print_options(s);
    return 0;
}

static void *wait_for_term(void *s)
{
    char buf[64];
    while (zmq_recv(s, buf, sizeof buf, 0) >= 0 || errno != ETERM)
        ; /* EAGAIN: a receive timeout, if someone set one */
    zmq_close(s);
    return NULL;
}

/* The socket is bound before the thread starts, the thread is waiting (or
 * about to) when zmq_ctx_term runs: either way term must end it. */
static int term(void *ctx, void *s, const char *ep)
{
    if (zmq_bind(s, ep) != 0)
        return fail("bind");
    print_options(s);
    pthread_t t;
    if (pthread_create(&t, NULL, wait_for_term, s) != 0)
        return fail("pthread_create");
    if (zmq_ctx_term(ctx) != 0)
        return fail("zmq_ctx_term");
    pthread_join(t, NULL);
    printf("terminated\n");
    fflush(stdout);
    return 0;
}

static int forked(const char *ep)
{
    pid_t pid = fork();
    if (pid == 0) {
        void *ctx = zmq_ctx_new();
        void *pull = ctx ? zmq_socket(ctx, ZMQ_PULL) : NULL;
        int rc = pull && zmq_bind(pull, ep) == 0 ? 0 : 3;
        if (pull)
            zmq_close(pull);
        if (ctx)
            zmq_ctx_term(ctx);
        exit(rc);
    }
    int status = 0;
    if (pid < 0 || waitpid(pid, &status, 0) != pid || status != 0)
        return fail("fork");
    printf("child %d\n", (int)pid);
    fflush(stdout);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: plain-app rep|req|pub|sub|sndhwm0 ENDPOINT [N]\n");
        return 2;
    }
    const char *mode = argv[1], *ep = argv[2];
    int n = argc > 3 ? atoi(argv[3]) : 1;
    void *ctx = zmq_ctx_new();
    if (!ctx)
        return fail("zmq_ctx_new");
    int type = !strcmp(mode, "rep")   ? ZMQ_REP
               : !strcmp(mode, "req") ? ZMQ_REQ
               : !strcmp(mode, "sub") ? ZMQ_SUB
               : !strcmp(mode, "pub") ? ZMQ_PUB
                                      : ZMQ_PUSH;
    if (!strcmp(mode, "fork")) {
        void *push = zmq_socket(ctx, ZMQ_PUSH);
        if (!push || zmq_bind(push, "inproc://parent") != 0)
            return fail("bind inproc");
        zmq_close(push);
        int rc = forked(ep);
        zmq_ctx_term(ctx);
        return rc;
    }
    if (!strcmp(mode, "term")) {
        void *pull = zmq_socket(ctx, ZMQ_PULL);
        return pull ? term(ctx, pull, ep) : fail("zmq_socket");
    }
    void *s = zmq_socket(ctx, type);
    if (!s)
        return fail("zmq_socket");
    int rc = !strcmp(mode, "rep")     ? rep(s, ep, n)
             : !strcmp(mode, "req")   ? req(s, ep, n)
             : !strcmp(mode, "pub")   ? pub(s, ep)
             : !strcmp(mode, "sub")   ? sub(s, ep, n)
             : !strcmp(mode, "twobind") ? twobind(s, ep)
                                      : sndhwm0(s, ep);
    zmq_close(s);
    zmq_ctx_term(ctx);
    return rc;
}
