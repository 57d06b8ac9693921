/*
 * zg_monitor.h - monitor.c: every socket's libzmq monitor, read by one thread
 * per context.
 */
#ifndef ZG_MONITOR_H
#define ZG_MONITOR_H

#include "zguard.h"

#include <stdbool.h>
#include <stdint.h>

typedef struct zg_sock zg_sock_t; /* zg_sock.h */

typedef struct zg_monitor zg_monitor_t;

/* Starts watching a socket (owning thread, before bind/connect). */
int zg_monitor_add(zg_sock_t *sock);
/* Stops it (owning thread, before close); waits until the thread let go. */
void zg_monitor_remove(zg_sock_t *sock);
void zg_monitor_stop(zg_monitor_t **monitor);
/* Draft API found at run time: exact pipe depths can be asked for. */
bool zg_monitor_exact(void);
#define ZG_SOCKETS_PER_SOCKET 3 /* a monitored socket, its monitor, reader */
/* Owning thread, exact mode only: asks libzmq for per-pipe depths. */
void zg_monitor_sample(zg_sock_t *sock);
#define ZG_SAMPLE_EVERY 256 /* a power of two */
/* The reason a bind failed. libzmq 4.3 reports a failed bind to the monitor
 * from inside zmq_bind, and that send can leave errno EAGAIN in place of
 * the bind's own (EADDRINUSE, EACCES...). The monitor event carries the
 * real one: given errno and the count of BIND_FAILED events seen before
 * the bind (sock->mon.bind_failures), waits up to ZG_BIND_EVENT_WAIT_MS
 * for the event and returns its errno; otherwise returns err. */
int zg_monitor_bind_errno(zg_sock_t *sock, uint64_t before, int err);
#define ZG_BIND_EVENT_WAIT_MS 1000

#endif
