/*
 * zg_curve.h - curve.c: a socket's CURVE keys from the policy, applied and
 * read back, and the check a CURVE server passes before it binds.
 */
#ifndef ZG_CURVE_H
#define ZG_CURVE_H

typedef struct zg_sock zg_sock_t; /* zg_sock.h */
typedef struct zg_cert zg_cert_t;  /* zguard.h */

int zg_curve_apply(zg_sock_t *sock);
int zg_curve_verify(zg_sock_t *sock);
int zg_curve_check_server(zg_sock_t *sock, const char *endpoint);
/* The socket's own key pair from now on (ZMQ_CURVE_PUBLICKEY and
 * SECRETKEY, for what it binds or connects next); the pair stays the
 * caller's (the context's cache). On failure the old pair stays. */
int zg_curve_set_pair(zg_sock_t *sock, const zg_cert_t *pair);

#endif
