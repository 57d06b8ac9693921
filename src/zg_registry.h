/*
 * zg_registry.h - registry.c: libzmq socket -> zguard state, lock-free lookups
 * (the one process-wide table), and the library's one-time init.
 */
#ifndef ZG_REGISTRY_H
#define ZG_REGISTRY_H

#include "zguard.h"

typedef struct zg_sock zg_sock_t; /* zg_sock.h */

void zg_init(void); /* the library's one-time init; idempotent */
int zg_registry_put(void *zsock, zg_sock_t *sock);
zg_sock_t *zg_registry_get(void *zsock);
void zg_registry_del(void *zsock);

#endif
