/*
 * zg_metrics.h - metrics.c: the Prometheus endpoint (libmicrohttpd's thread).
 */
#ifndef ZG_METRICS_H
#define ZG_METRICS_H

#include "zguard.h"

typedef struct zg_metrics zg_metrics_t;
/* Serves the context's metrics on listen ("127.0.0.1:9464", port 0: any);
 * returns the port, or -1. */
int zg_metrics_start(zg_ctx_t *ctx, const char *listen, zg_metrics_t **out);
void zg_metrics_stop(zg_metrics_t **metrics);

#endif
