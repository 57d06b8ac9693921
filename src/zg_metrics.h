/*
 * zg_metrics.h - metrics.c: the Prometheus endpoint (libmicrohttpd's thread),
 * and what a supervised gate (tools/gate_super.c) needs of it: a listening
 * socket that outlives each forwarding process, served by that process's
 * context, and answered by the supervisor between two of them.
 */
#ifndef ZG_METRICS_H
#define ZG_METRICS_H

#include "zguard.h"
#include "zg_gate.h"

typedef struct zg_metrics zg_metrics_t;
/* Serves the context's metrics on listen ("127.0.0.1:9464", port 0: any);
 * returns the port, or -1. */
int zg_metrics_start(zg_ctx_t *ctx, const char *listen, zg_metrics_t **out);
/* The same on a listening socket bound elsewhere (MHD closes its copy). */
int zg_metrics_start_fd(zg_ctx_t *ctx, int fd, zg_metrics_t **out);
void zg_metrics_stop(zg_metrics_t **metrics);

/* zg_ctx_new without the policy's metrics endpoint (ctx.c): a supervised
 * gate's forwarding process serves them on its supervisor's socket. */
zg_ctx_t *zg_ctx_new_quiet(zg_policy_t *policy);
/* Serves the context's metrics on a listening socket bound elsewhere (a
 * supervisor's; it stays open there); the port, or -1 (ctx.c). */
int zg_ctx_metrics_adopt(zg_ctx_t *ctx, int fd);

/* A supervised gate's metrics socket, bound by the supervisor so that it
 * outlives each forwarding process (non-blocking, close-on-exec): the fd
 * and *port, or -1 with the error set. */
int zg_metrics_bind(const char *listen, int *port);
/* Answers the connections waiting on fd, 16 at most (the supervisor's,
 * while no forwarding process runs): /status 503 with st, /metrics the
 * gate's own families (zguard_gate_forwarding 0). Each waits at most a
 * second for its request. */
void zg_metrics_answer_idle(int fd, const zg_gate_status_t *st);

#endif
