/*
 * zg_endpoint.h - endpoint.c: what an endpoint string says (usable by zguard?
 * on this machine only?).
 */
#ifndef ZG_ENDPOINT_H
#define ZG_ENDPOINT_H

#include "zguard.h"

#include <stdbool.h>

/* NULL when the endpoint is a tcp://, ipc:// or inproc:// address zguard
 * can use; else why not ("has no port", ...). */
const char *zg_endpoint_problem(const char *endpoint);
/* inproc://, ipc://, or tcp:// to a loopback address: never leaves this
 * machine (so a plaintext hop there is not on any network). */
bool zg_endpoint_is_local(const char *endpoint);

#define ZG_ENDPOINT_MAX 256 /* one endpoint of a list, with its NUL */
/* A comma-separated list of endpoints ("tcp://a:1, tcp://b:1"), one at a
 * time: *list is advanced past the one copied into out. false at the end,
 * or (with out = "") for an empty or over-long item. */
bool zg_endpoint_next(const char **list, char out[ZG_ENDPOINT_MAX]);

#endif
