/*
 * observe.h - what observe.c (the recording) and observe_report.c (the
 * reports) of `zguard run --observe` share.
 */
#ifndef ZG_PRELOAD_OBSERVE_H
#define ZG_PRELOAD_OBSERVE_H

#include "preload.h"

#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>

#define OBS_ENDPOINTS_MAX 8  /* endpoints kept per socket and direction */
#define OBS_OPTIONS_MAX 32   /* distinct options kept per socket */
#define OBS_OPTION_TEXT_MAX 80
#define OBS_SOCKETS_MAX 4096 /* records kept; more are counted only */

typedef enum { OBS_NONE, OBS_DEFAULT, OBS_PROGRAM } obs_source_t;

typedef struct obs_option {
    int option;
    char value[OBS_OPTION_TEXT_MAX];
} obs_option_t;

/* Counters of one direction: the owning thread adds, a report reads. */
typedef struct obs_flow {
    _Atomic uint64_t messages, bytes, largest, longest_block_us, blocked;
} obs_flow_t;

/* One socket of the program, from zmq_socket to the end of the process:
 * kept after zmq_close for the report. Everything but the counters changes
 * under the observe lock; records are never freed before exit. */
typedef struct obs_sock {
    void *zsock;
    int id, ctx_id, type;
    pid_t pid;
    _Atomic bool closed;
    bool attached;
    int mechanism; /* read back at each bind/connect */
    char bind[OBS_ENDPOINTS_MAX][ZG_ENDPOINT_TEXT_MAX];
    char connect[OBS_ENDPOINTS_MAX][ZG_ENDPOINT_TEXT_MAX];
    int nbind, nconnect, dropped_endpoints;
    obs_option_t set[OBS_OPTIONS_MAX];
    int nset, dropped_options;
    int64_t value[ZG_FIELD_COUNT]; /* policy units */
    obs_source_t source[ZG_FIELD_COUNT];
    char match[ZG_NAME_MAX]; /* the [socket.NAME] a --policy would give */
    obs_flow_t out, in;
    struct obs_sock *next;
} obs_sock_t;

typedef struct obs_ctx {
    void *zmq;
    int id;
    pid_t pid;
    bool terminated;
    struct obs_ctx *next;
} obs_ctx_t;

/* What a report is made of (observe.c passes it under its lock). */
typedef struct obs_state {
    const obs_ctx_t *ctxs;
    const obs_sock_t *socks;
    int untracked; /* sockets beyond OBS_SOCKETS_MAX */
    const char *policy_file; /* NULL: no --policy */
    const char *trigger;     /* "exit", "zmq_ctx_term", "SIGUSR1" */
    const char *sigusr1;     /* how SIGUSR1 stands, for the report */
} obs_state_t;

/* observe_report.c: the JSON and Markdown reports of this process. */
void zg_obs_render_json(const obs_state_t *st, FILE *out);
void zg_obs_render_md(const obs_state_t *st, FILE *out);
const char *zg_obs_option_name(int option); /* "ZMQ_SNDHWM", or NULL */

#endif
