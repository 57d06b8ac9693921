/* zauth with an address allowlist, and a socket that never asks it: the
 * NULL mechanism without a ZAP domain. auth_domain.c is the same with one. */
#include <czmq.h>

int main(void)
{
    zactor_t *auth = zactor_new(zauth, NULL);
    zstr_sendx(auth, "ALLOW", "127.0.0.1", NULL);
    zsock_wait(auth);
    zsock_t *pull = zsock_new(ZMQ_PULL);
    zsock_set_rcvhwm(pull, 1000);
    zsock_set_rcvtimeo(pull, 1000);
    zsock_set_maxmsgsize(pull, 65536);
    zsock_bind(pull, "tcp://127.0.0.1:9001");
    char *msg = zstr_recv(pull);
    zstr_free(&msg);
    zsock_destroy(&pull);
    zactor_destroy(&auth);
    return 0;
}
