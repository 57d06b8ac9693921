/* Corpus for zguard audit: CZMQ. Expected findings: czmq.c.expect */
#include <czmq.h>
#include <stdlib.h>

#define SECRET_TXT "D:)Q[IlAW!ahhC2ac:9*A}h-:fL9x-0&e=!O)&Nd"

/* process defaults: every zsock made after these gets them */
static void defaults(void)
{
    zsys_set_sndhwm(5000);
    setenv("ZSYS_RCVHWM", "5000", 1);
    putenv("ZSYS_LINGER=100");
}

/* zsock_new_* bind or connect at once: later options are too late */
static void typed(void)
{
    zsock_t *pull = zsock_new_pull("@tcp://*:6001");
    zsock_set_rcvtimeo(pull, 1000);
    zsock_set_maxmsgsize(pull, 65536);
    zsock_set_rcvhwm(pull, 50);
    char *msg = zstr_recv(pull);
    free(msg);
    zsock_t *sub = zsock_new_sub_checked(">tcp://feed.example:6002", "", __FILE__, __LINE__);
    zmsg_t *m = zmsg_recv(sub);
    zmsg_destroy(&m);
    zsock_t *push = zsock_new_push_checked(NULL, __FILE__, __LINE__);
    zsock_set_sndtimeo(push, 500);
    zsock_connect(push, "tcp://%s:%d", "backend", 6003);
    zstr_send(push, "hello");
    zsock_destroy(&pull);
    zsock_destroy(&sub);
    zsock_destroy(&push);
}

/* zsock_new(type), the *_checked form, and the older zsocket_new */
static void generic(zctx_t *ctx)
{
    zsock_t *dealer = zsock_new(ZMQ_DEALER);
    zsock_set_unbounded(dealer);
    zsock_attach(dealer, "@tcp://127.0.0.1:6004,>inproc://side", true);
    zframe_t *f = zframe_recv(dealer);
    zframe_send(&f, dealer, ZFRAME_DONTWAIT);
    zsock_t *rep = zsock_new_checked(ZMQ_REP, __FILE__, __LINE__);
    zsock_set_sndhwm(rep, 0);
    zsock_bind(rep, "inproc://rep");
    void *old = zsocket_new(ctx, ZMQ_REQ);
    zsocket_set_sndhwm(old, 10);
    zsocket_set_rcvhwm(old, 10);
    zsocket_set_sndtimeo(old, 100);
    zsocket_set_rcvtimeo(old, 100);
    zsocket_set_maxmsgsize(old, 4096);
    zsocket_connect(old, "tcp://server:6005");
    char *s = zstr_recv_nowait(rep);
    free(s);
}

/* CURVE: a server with zauth and a key from a file; certificates from literals */
static void curve(void)
{
    zactor_t *auth = zactor_new(zauth, NULL);
    zcert_t *cert = zcert_load("server.key_secret");
    zsock_t *srv = zsock_new(ZMQ_ROUTER);
    zsock_set_curve_server(srv, 1);
    zcert_apply(cert, srv);
    zsock_set_rcvtimeo(srv, 100);
    zsock_set_sndtimeo(srv, 100);
    zsock_set_maxmsgsize(srv, 1 << 20);
    zsock_bind(srv, "tcp://*:6006");
    zcert_t *bad = zcert_new_from_txt("rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7", SECRET_TXT);
    zsock_t *cli = zsock_new(ZMQ_DEALER);
    zsock_set_curve_secretkey(cli, SECRET_TXT);
    zsock_set_curve_serverkey(cli, "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7");
    zsock_set_sndtimeo(cli, 100);
    zsock_set_rcvtimeo(cli, 100);
    zsock_set_maxmsgsize(cli, 1 << 20);
    zsock_connect(cli, "tcp://server:6006");
    zsock_send(cli, "s", "hi");
    zcert_destroy(&bad);
    zactor_destroy(&auth);
}

int main(void)
{
    defaults();
    typed();
    generic(NULL);
    curve();
    return 0;
}
