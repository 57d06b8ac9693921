/*
 * preload_app.c - zguard-bench-app: an unmodified libzmq program for the
 * `preload` scenario. It knows nothing of zguard: a PUSH and a PULL in one
 * thread, ENDPOINT (bound by the PULL, its LAST_ENDPOINT connected by the
 * PUSH), N messages of SIZE bytes in windows of 1,000, and it prints its
 * rate (messages per second) on one line. zguard-bench runs it as it is and
 * under `zguard run`, whose preload hardens both sockets.
 *
 * usage: zguard-bench-app ENDPOINT N SIZE
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zmq.h>

#define WINDOW 1000 /* in flight at most: below both HWMs */
#define SIZE_MAX_BYTES 65536

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int fail(const char *what)
{
    fprintf(stderr, "zguard-bench-app: %s: %s\n", what, zmq_strerror(errno));
    return 1;
}

int main(int argc, char **argv)
{
    long n = argc == 4 ? atol(argv[2]) : 0;
    long size = argc == 4 ? atol(argv[3]) : 0;
    if (n <= 0 || size <= 0 || size > SIZE_MAX_BYTES) {
        fprintf(stderr, "usage: zguard-bench-app ENDPOINT N SIZE\n");
        return 2;
    }
    void *ctx = zmq_ctx_new();
    void *pull = zmq_socket(ctx, ZMQ_PULL), *push = zmq_socket(ctx, ZMQ_PUSH);
    char last[256];
    size_t len = sizeof last;
    if (!pull || !push || zmq_bind(pull, argv[1]) != 0 ||
        zmq_getsockopt(pull, ZMQ_LAST_ENDPOINT, last, &len) != 0 ||
        zmq_connect(push, last) != 0)
        return fail("setup");
    static char buf[SIZE_MAX_BYTES];
    memset(buf, 'x', (size_t)size);
    double t0 = now();
    for (long sent = 0, got = 0; got < n;) {
        for (; sent < n && sent - got < WINDOW; sent++)
            if (zmq_send(push, buf, (size_t)size, 0) != size)
                return fail("send");
        for (; got < sent; got++)
            if (zmq_recv(pull, buf, sizeof buf, 0) != size)
                return fail("recv");
    }
    printf("%.0f\n", (double)n / (now() - t0));
    int zero = 0;
    zmq_setsockopt(push, ZMQ_LINGER, &zero, sizeof zero);
    zmq_setsockopt(pull, ZMQ_LINGER, &zero, sizeof zero);
    zmq_close(push);
    zmq_close(pull);
    zmq_ctx_term(ctx);
    return 0;
}
