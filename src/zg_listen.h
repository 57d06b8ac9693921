/*
 * zg_listen.h - listen.c: the gate's frontend listening sockets when the
 * gate holds them (systemd socket activation; a second listener for a new
 * key pair on SIGHUP), handed to libzmq with ZMQ_USE_FD.
 */
#ifndef ZG_LISTEN_H
#define ZG_LISTEN_H

#include "zg_endpoint.h"

#include <stdbool.h>

/* A listening socket systemd passed (LISTEN_PID is this process,
 * LISTEN_FDS): 1 with *fd (3), 0 when there is none, -1 (zg_last_error)
 * when LISTEN_FDS is not 1 or the socket does not listen on endpoint.
 * Unsets LISTEN_PID, LISTEN_FDS and LISTEN_FDNAMES in every case. */
int zg_listen_inherited(const char *endpoint, int *fd);
/* A tcp:// endpoint with a numeric address (or '*') bound and listening,
 * with SO_REUSEPORT: 0 with *fd, 1 when the host is a name libzmq must
 * resolve itself, -1 (zg_last_error: "bind EP: why"). */
int zg_listen_tcp(const char *endpoint, int *fd);
/* NULL when another listener can join fd's port (a TCP socket with
 * SO_REUSEPORT), else why not; fd -1: libzmq made the socket. */
const char *zg_listen_unshared(int fd);
/* A new listening socket on fd's address, which every new connection to
 * that port goes to: it is the port's listener number `index` (counted
 * from 0 in the order they started listening). 0 with *out, or -1. */
int zg_listen_again(int fd, unsigned index, int *out);

#endif
