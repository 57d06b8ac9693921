/*
 * echo_service.c - a plaintext ZeroMQ service of the kind `zguard gate`
 * protects: plain libzmq, no zguard, no CURVE, libzmq's default HWMs. It
 * answers every request with the request itself.
 *
 * It stands for the service that cannot change yet: `zguard demo` runs it
 * (installed as zguard-example-service) behind a gate. It keeps a journal
 * of what it received so that the demo can show what did, and what did not,
 * reach it.
 *
 *   zguard-example-service --bind ipc:///run/app.sock
 *                          [--work-us N] [--journal FILE]
 *
 * --work-us     simulated work per request, in microseconds (default 0)
 * --journal     one line per request: its text when short and printable,
 *               else "[N bytes]"
 * It prints "ready ENDPOINT" once bound, and stops on SIGTERM or SIGINT.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zmq.h>

#define JOURNAL_TEXT_MAX 200

static volatile sig_atomic_t stopping;

static void on_signal(int sig)
{
    (void)sig;
    stopping = 1;
}

static void journal_line(FILE *journal, const zmq_msg_t *msg)
{
    const unsigned char *p = zmq_msg_data((zmq_msg_t *)msg);
    size_t n = zmq_msg_size((zmq_msg_t *)msg);
    int printable = n <= JOURNAL_TEXT_MAX;
    for (size_t i = 0; printable && i < n; i++)
        printable = p[i] >= 0x20 && p[i] < 0x7f;
    if (printable)
        fprintf(journal, "%.*s\n", (int)n, (const char *)p);
    else
        fprintf(journal, "[%zu bytes]\n", n);
    fflush(journal); /* the journal is read while the service runs */
}

static void work(long us)
{
    if (us <= 0)
        return;
    struct timespec ts = {us / 1000000, (us % 1000000) * 1000};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR && !stopping)
        ;
}

/* Echo one request (every frame of it). 0, or -1 when stopping. */
static int serve_one(void *sock, FILE *journal, long work_us)
{
    zmq_msg_t msg;
    zmq_msg_init(&msg);
    if (zmq_msg_recv(&msg, sock, 0) < 0) {
        zmq_msg_close(&msg);
        return errno == EINTR && !stopping ? 0 : -1;
    }
    if (journal)
        journal_line(journal, &msg);
    work(work_us);
    int more = zmq_msg_more(&msg);
    int rc = zmq_msg_send(&msg, sock, more ? ZMQ_SNDMORE : 0);
    if (rc < 0)
        zmq_msg_close(&msg);
    while (more && rc >= 0) { /* a multipart request, echoed whole */
        zmq_msg_init(&msg);
        rc = zmq_msg_recv(&msg, sock, 0);
        more = rc >= 0 && zmq_msg_more(&msg);
        if (rc >= 0 && zmq_msg_send(&msg, sock, more ? ZMQ_SNDMORE : 0) < 0)
            rc = -1;
        if (rc < 0)
            zmq_msg_close(&msg);
    }
    return 0;
}

int main(int argc, char **argv)
{
    const char *bind = NULL, *journal_path = NULL;
    long work_us = 0;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--bind") == 0)
            bind = argv[i + 1];
        else if (strcmp(argv[i], "--work-us") == 0)
            work_us = strtol(argv[i + 1], NULL, 10);
        else if (strcmp(argv[i], "--journal") == 0)
            journal_path = argv[i + 1];
    }
    if (!bind || argc % 2 == 0) {
        fprintf(stderr, "usage: %s --bind ENDPOINT [--work-us N] "
                        "[--journal FILE]\n", argv[0]);
        return 2;
    }
    FILE *journal = journal_path ? fopen(journal_path, "a") : NULL;
    if (journal_path && !journal) {
        fprintf(stderr, "%s: %s: %s\n", argv[0], journal_path,
                strerror(errno));
        return 2;
    }
    struct sigaction sa = {.sa_handler = on_signal};
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);

    void *ctx = zmq_ctx_new();
    /* zguard-audit: ignore hwm-not-set, timeout-not-set, maxmsgsize-not-set -- deliberately the unprotected service: the gate in front of it carries the policy */
    void *sock = zmq_socket(ctx, ZMQ_REP);
    int linger = 0;
    zmq_setsockopt(sock, ZMQ_LINGER, &linger, sizeof linger);
    /* zguard-audit: ignore curve-missing -- plaintext on purpose: reachable only through the gate (ipc or loopback) */
    if (zmq_bind(sock, bind) != 0) {
        fprintf(stderr, "%s: cannot bind %s: %s\n", argv[0], bind,
                zmq_strerror(errno));
        return 2;
    }
    char actual[256] = "";
    size_t len = sizeof actual;
    zmq_getsockopt(sock, ZMQ_LAST_ENDPOINT, actual, &len);
    printf("ready %s\n", actual); /* tcp://127.0.0.1:* gets its port here */
    fflush(stdout);
    /* zguard-audit: ignore blocking-without-timeout -- deliberately the unprotected service (no RCVTIMEO): SIGTERM/SIGINT interrupt the receive (EINTR) */
    while (!stopping && serve_one(sock, journal, work_us) == 0)
        ;
    zmq_close(sock);
    zmq_ctx_term(ctx);
    if (journal)
        fclose(journal);
    return 0;
}
