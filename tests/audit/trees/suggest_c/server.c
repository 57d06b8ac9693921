/*
 * A REP server for `zguard policy suggest --from AUDIT.json`
 * (tests/test_suggest_audit.py): audited, given the suggested policy, and
 * run under `zguard run` with it. It prints its endpoint and its options as
 * it reads them back, answers one request, and exits.
 *
 *   suggest-app SINK    SINK: where its PUSH connects (not a literal)
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <zmq.h>

#include "limits.h"

#define QUEUE 300
#define WAIT_MS (8 * 1000)

static void print_options(void *s)
{
    int v[5] = {0};
    const int opt[5] = {ZMQ_SNDHWM, ZMQ_RCVHWM, ZMQ_SNDTIMEO, ZMQ_RCVTIMEO,
                        ZMQ_LINGER};
    for (int k = 0; k < 5; k++) {
        size_t len = sizeof v[k];
        zmq_getsockopt(s, opt[k], &v[k], &len);
    }
    int64_t max = 0;
    size_t len = sizeof max;
    zmq_getsockopt(s, ZMQ_MAXMSGSIZE, &max, &len);
    printf("options sndhwm=%d rcvhwm=%d sndtimeo=%d rcvtimeo=%d linger=%d "
           "maxmsgsize=%lld\n", v[0], v[1], v[2], v[3], v[4], (long long)max);
}

int main(int argc, char **argv)
{
    if (argc != 2)
        return 2;
    void *ctx = zmq_ctx_new();
    void *rep = zmq_socket(ctx, ZMQ_REP);
    int hwm = QUEUE;
    zmq_setsockopt(rep, ZMQ_SNDHWM, &hwm, sizeof hwm);
    int wait = WAIT_MS;
    zmq_setsockopt(rep, ZMQ_RCVTIMEO, &wait, sizeof wait);
    set_limits(rep);
    if (zmq_bind(rep, "tcp://127.0.0.1:*") != 0)
        return 3;
    char ep[256];
    size_t len = sizeof ep;
    zmq_getsockopt(rep, ZMQ_LAST_ENDPOINT, ep, &len);
    printf("endpoint %s\n", ep);
    print_options(rep);
    fflush(stdout);

    void *push = zmq_socket(ctx, ZMQ_PUSH);
    zmq_connect(push, argv[1]);

    char buf[64];
    int n = zmq_recv(rep, buf, sizeof buf, 0);
    if (n < 0 || zmq_send(rep, "world", 5, 0) != 5)
        return 4;
    printf("request %.*s\n", n < (int)sizeof buf ? n : (int)sizeof buf, buf);
    zmq_close(push);
    zmq_close(rep);
    return zmq_ctx_term(ctx);
}
