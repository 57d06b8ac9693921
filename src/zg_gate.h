/*
 * zg_gate.h - gate.c: the gate's patterns, by name and by socket types,
 * and its state as /status reports it (metrics.c renders it).
 */
#ifndef ZG_GATE_H
#define ZG_GATE_H

#include "zguard.h"
#include "zg_endpoint.h"

#include <stdbool.h>
#include <stdint.h>

#define ZG_GATE_GRACE_MS 5000 /* backend_grace when the policy is silent */

/* -1 for an unknown name. */
int zg_gate_pattern_from_name(const char *name);
/* The libzmq socket types of a pattern's frontend and backend. */
void zg_gate_types(zg_gate_pattern_t pattern, int *frontend, int *backend);

/* What /status says. -1 where a number is unknown: peers on inproc (libzmq
 * reports no connections there) or with the monitor off; allowlist_keys
 * in client mode, which has none. */
typedef struct zg_gate_status {
    bool client;                         /* client mode, else ingress */
    zg_gate_pattern_t pattern;
    char frontend[ZG_ENDPOINT_MAX];      /* as bound (the port, if '*') */
    char backend[4 * ZG_ENDPOINT_MAX];   /* as the policy lists them */
    int64_t allowlist_keys;
    int64_t peers_frontend, peers_backend;
    int64_t backend_down_ms; /* how long without a backend peer; 0 if one */
    int64_t grace_ms;        /* backend_grace */
    uint64_t restarts;       /* of the forwarding process, by a supervisor */
    uint64_t reloads_ok, reloads_failed; /* zg_gate_reload's */
    int64_t uptime_ms;       /* of the gate: its supervisor, if it has one */
    bool forwarding;         /* false: a supervisor between two processes */
    bool ready; /* can forward: a backend peer, or none for < grace */
} zg_gate_status_t;

/* zg_gate_new binding frontend instead of the policy's endpoint (NULL: the
 * policy's): a restarted forwarding process binds the port its first one
 * got for tcp://...:*. */
zg_gate_t *zg_gate_new_at(zg_ctx_t *ctx, const char *frontend);
/* The context of a forwarding process under a supervisor
 * (tools/gate_super.c): how many came before it, and when the supervisor
 * started (zg_now_ms), for /status and zguard_gate_restarts_total; and
 * until its gate is made (or after it is destroyed) /status says "not
 * forwarding", as the supervisor does between processes. */
void zg_gate_supervised(zg_ctx_t *ctx, uint64_t restarts, int64_t started_ms);
/* What /status says while no forwarding process runs: the gate as the
 * policy describes it (frontend as bound, if known), not ready, its
 * numbers unknown. -1 without a [gate] section. */
int zg_gate_status_idle(const zg_policy_t *p, const char *frontend,
                        uint64_t restarts, int64_t started_ms,
                        zg_gate_status_t *out);

/* The context's gate's status; -1 when the context runs none (and is not
 * a supervised one's: zg_gate_supervised). Takes the context lock: any
 * thread but the gate's. */
int zg_gate_status(zg_ctx_t *ctx, zg_gate_status_t *out);

#endif
