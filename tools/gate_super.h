/*
 * gate_super.h - gate_super.c: `zguard gate`'s supervisor, which runs the
 * forwarding in a child process and restarts it when it dies abnormally.
 */
#ifndef ZG_GATE_SUPER_H
#define ZG_GATE_SUPER_H

#include "zguard_tools.h"

#include <stdint.h>

/* What the supervisor hands each forwarding process. */
typedef struct gate_run {
    uint64_t restarts;    /* forwarding processes restarted before this one */
    int64_t started_ms;   /* when the gate started, CLOCK_MONOTONIC */
    const char *frontend; /* the first process's endpoint as bound, or NULL:
                             the policy's (a port '*' stays the same) */
    int metrics_fd;       /* the supervisor's metrics socket, or -1 */
    int ready_fd;         /* once forwarding: write the frontend as bound
                             and a newline, then close */
} gate_run_t;

/* One forwarding process's work: an EXIT_* status. The signals SIGTERM,
 * SIGINT and SIGHUP arrive blocked: unblock them once handled. */
typedef int(gate_serve_fn)(void *arg, const gate_run_t *run);

/* Runs serve in a child process until a clean stop: restarts it after a
 * signal other than SIGTERM/SIGINT or an exit other than 0 and 2, with
 * backoff; serves /status and /metrics while none runs. The command's exit
 * status: 0 after a clean stop, 2 when a forwarding process could not start
 * (a restart would fail the same way) or the metrics port is busy. */
int gate_supervise(const zg_policy_t *policy, zg_log_level_t level,
                   gate_serve_fn *serve, void *arg);

#endif
