/*
 * echo_client.c - a plaintext ZeroMQ client of the echo service
 * (echo_service.c): plain libzmq, no zguard, no CURVE, no timeouts, the
 * way many existing clients are written. It sends numbered requests on a
 * REQ socket and checks that each comes back unchanged.
 *
 * It stands for the client that cannot change: `zguard demo` runs it
 * (installed as zguard-example-client) under `zguard run`, whose policy
 * gives its socket a key pair, the service's pinned key and a receive
 * timeout, and without it, as the plaintext client the service refuses.
 *
 *   zguard-example-client --connect tcp://127.0.0.1:5555
 *                         [--count N] [--text TEXT]
 *
 * --count  requests to send (default 1)
 * --text   each request is "TEXT SEQ" (default "hello")
 * It prints "ok SEQ" per answered request; a failed send or receive
 * prints "lost SEQ: REASON" and ends the run (a REQ socket cannot go on
 * after a lost reply); last "done ok=N lost=M". It stops on SIGTERM or
 * SIGINT. Exit status 0 when every request was answered, 1 otherwise.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#define REQUEST_MAX 256

static volatile sig_atomic_t stopping;

static void on_signal(int sig)
{
    (void)sig;
    stopping = 1;
}

/* One round trip: 1 answered with the request itself, 0 not. */
static int request(void *sock, const char *text, long seq)
{
    char req[REQUEST_MAX], rep[REQUEST_MAX];
    int n = snprintf(req, sizeof req, "%s %ld", text, seq);
    n = n < (int)sizeof req ? n : (int)sizeof req - 1;
    if (zmq_send(sock, req, (size_t)n, 0) != n) {
        printf("lost %ld: send: %s\n", seq, zmq_strerror(errno));
        return 0;
    }
    int got;
    while ((got = zmq_recv(sock, rep, sizeof rep, 0)) < 0 && errno == EINTR &&
           !stopping)
        ;
    if (got < 0) {
        printf("lost %ld: receive: %s\n", seq, zmq_strerror(errno));
        return 0;
    }
    if (got != n || memcmp(req, rep, (size_t)n) != 0) {
        printf("lost %ld: the reply is not the request\n", seq);
        return 0;
    }
    printf("ok %ld\n", seq);
    return 1;
}

int main(int argc, char **argv)
{
    const char *connect = NULL, *text = "hello";
    long count = 1;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--connect") == 0)
            connect = argv[i + 1];
        else if (strcmp(argv[i], "--count") == 0)
            count = strtol(argv[i + 1], NULL, 10);
        else if (strcmp(argv[i], "--text") == 0)
            text = argv[i + 1];
    }
    if (!connect || argc % 2 == 0 || count < 1) {
        fprintf(stderr, "usage: %s --connect ENDPOINT [--count N] "
                        "[--text TEXT]\n", argv[0]);
        return 2;
    }
    setvbuf(stdout, NULL, _IOLBF, 0); /* the demo reads each line as it comes */
    struct sigaction sa = {.sa_handler = on_signal};
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);

    void *ctx = zmq_ctx_new();
    /* zguard-audit: ignore hwm-not-set, timeout-not-set, maxmsgsize-not-set -- deliberately the unchanged client: `zguard run` gives it the policy */
    void *sock = zmq_socket(ctx, ZMQ_REQ);
    int linger = 0;
    zmq_setsockopt(sock, ZMQ_LINGER, &linger, sizeof linger);
    /* zguard-audit: ignore curve-missing -- plaintext on purpose: `zguard run` gives it CURVE, or the demo shows it refused */
    if (zmq_connect(sock, connect) != 0) {
        fprintf(stderr, "%s: cannot connect to %s: %s\n", argv[0], connect,
                zmq_strerror(errno));
        return 2;
    }
    long ok = 0;
    /* zguard-audit: ignore blocking-without-timeout -- deliberately the unchanged client (no RCVTIMEO): SIGTERM/SIGINT interrupt the receive (EINTR) */
    while (ok < count && !stopping && request(sock, text, ok))
        ok++;
    printf("done ok=%ld lost=%ld\n", ok, count - ok);
    zmq_close(sock);
    zmq_ctx_term(ctx);
    return ok == count ? 0 : 1;
}
