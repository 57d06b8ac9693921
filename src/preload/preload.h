/*
 * preload.h - what the files of libzguard-preload.so share.
 */
#ifndef ZG_PRELOAD_H
#define ZG_PRELOAD_H

#include "zg_ctx.h"
#include "zg_error.h"
#include "zg_monitor.h"
#include "zg_policy.h"
#include "zg_registry.h"
#include "zg_sock.h"
#include "zg_value.h"

#include <stdbool.h>
#include <sys/types.h>

/* real.c: libzmq's definitions (see real.h for why libzguard's copy in the
 * preload calls these, and never the wrappers). */
bool zg_real_ready(void);
void *zg_real_zmq_ctx_new(void);
int zg_real_zmq_ctx_term(void *ctx);
int zg_real_zmq_ctx_shutdown(void *ctx);
void *zg_real_zmq_socket(void *ctx, int type);
int zg_real_zmq_setsockopt(void *s, int option, const void *value,
                           size_t len);
int zg_real_zmq_bind(void *s, const char *endpoint);
int zg_real_zmq_connect(void *s, const char *endpoint);
int zg_real_zmq_close(void *s);
int zg_real_zmq_send(void *s, const void *buf, size_t len, int flags);
int zg_real_zmq_recv(void *s, void *buf, size_t len, int flags);
int zg_real_zmq_msg_send(zmq_msg_t *msg, void *s, int flags);
int zg_real_zmq_msg_recv(zmq_msg_t *msg, void *s, int flags);

typedef struct app_ctx {
    void *zmq;
    zg_ctx_t *zg;
    bool released; /* zguard's part ended (shutdown or term) */
    pid_t pid;     /* the process that made it */
    struct app_ctx *next;
} app_ctx_t;

/* A socket of the program's, from zmq_socket to zmq_close. Only its owning
 * thread touches it after creation (libzmq sockets are single-threaded). */
typedef struct app_sock {
    void *zsock;
    app_ctx_t *ctx;
    int type;
    bool attached; /* bound or connected once */
    bool hardened; /* ... and hardened then (else left as made: inproc) */
    char endpoint[ZG_ENDPOINT_TEXT_MAX]; /* the first */
    zg_app_opts_t app;
    struct app_sock *next;
} app_sock_t;

/* enforce.c: 0 when the program may set this option on this socket now,
 * else the errno to fail it with, after one log line. */
int zg_run_judge(const zg_policy_t *policy, app_sock_t *a, int option,
                 const void *value, size_t len);
/* An option's value in policy units, or false when len does not fit the
 * field's option (libzmq then refuses it itself). */
bool zg_run_field_value(const zg_field_info_t *info, const void *value,
                        size_t len, int64_t *out);
/* What the program set, kept for the hardening (and on a hardened socket
 * the value zguard now holds it to). */
void zg_run_note(app_sock_t *a, int option, const void *value, size_t len);
/* At the first bind/connect: a value set before that the matched section
 * refuses (EINVAL, logged), else 0. */
int zg_run_judge_pending(const zg_policy_t *policy, app_sock_t *a,
                         const char *name);

/* observe.c: `zguard run --observe` (true when this process observes). */
bool zg_obs_start(const zg_policy_t *policy, const char *policy_file);
void *zg_obs_ctx_new(void *zmq);
int zg_obs_ctx_term(void *zmq, int (*end)(void *));
void *zg_obs_socket(void *zmq, int type);
int zg_obs_close(void *zsock);
int zg_obs_setsockopt(void *zsock, int option, const void *value, size_t len);
int zg_obs_attach(void *zsock, const char *endpoint, bool bind);
int zg_obs_send(void *zsock, const void *buf, size_t len, int flags);
int zg_obs_recv(void *zsock, void *buf, size_t len, int flags);
int zg_obs_msg_send(zmq_msg_t *msg, void *zsock, int flags);
int zg_obs_msg_recv(zmq_msg_t *msg, void *zsock, int flags);

#endif
