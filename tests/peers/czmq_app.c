/*
 * czmq_app.c - an ordinary CZMQ program that knows nothing of zguard, for
 * `zguard run` tests (tests/test_run.py): a REP server or REQ client that
 * prints its socket options as CZMQ reads them back.
 *
 *   czmq-app rep ENDPOINT N   bind, answer N requests "hello I" -> "world I"
 *   czmq-app req ENDPOINT N   connect, N requests; exit 3 if one gets no reply
 */
#include <czmq.h>

static void print_options(zsock_t *s)
{
    printf("options sndhwm=%d rcvhwm=%d sndtimeo=%d rcvtimeo=%d linger=%d "
           "maxmsgsize=%lld mechanism=%d\n",
           zsock_sndhwm(s), zsock_rcvhwm(s), zsock_sndtimeo(s),
           zsock_rcvtimeo(s), zsock_linger(s),
           (long long)zsock_maxmsgsize(s), zsock_mechanism(s));
    fflush(stdout);
}

static int serve(zsock_t *s, int n)
{
    for (int k = 0; k < n; k++) {
        char *req = zstr_recv(s);
        if (!req) {
            printf("failed recv: %s\n", zmq_strerror(zmq_errno()));
            return 3;
        }
        zstr_sendf(s, "world %s", req + 6);
        zstr_free(&req);
    }
    return 0;
}

static int ask(zsock_t *s, int n)
{
    for (int k = 0; k < n; k++) {
        zstr_sendf(s, "hello %d", k);
        char *reply = zstr_recv(s);
        if (!reply) {
            printf("failed recv: %s\n", zmq_strerror(zmq_errno()));
            return 3;
        }
        printf("reply %s\n", reply);
        zstr_free(&reply);
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: czmq-app rep|req ENDPOINT N\n");
        return 2;
    }
    bool server = streq(argv[1], "rep");
    zsock_t *s = server ? zsock_new(ZMQ_REP) : zsock_new(ZMQ_REQ);
    if (!s)
        return 3;
    int rc = server ? zsock_bind(s, "%s", argv[2]) : zsock_connect(s, "%s", argv[2]);
    if (rc < 0) {
        printf("failed %s: %s\n", server ? "bind" : "connect",
               zmq_strerror(zmq_errno()));
        zsock_destroy(&s);
        return 3;
    }
    print_options(s);
    rc = server ? serve(s, atoi(argv[3])) : ask(s, atoi(argv[3]));
    fflush(stdout);
    zsock_destroy(&s);
    return rc;
}
