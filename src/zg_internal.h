/*
 * zg_internal.h - what the library's source files share and users do not.
 *
 * One section per source file, in the order a socket meets them: error and
 * diagnostics, value syntax, the INI lexer, the policy model, the context,
 * the socket registry and the hardened socket itself.
 */
#ifndef ZG_INTERNAL_H
#define ZG_INTERNAL_H

#include "zguard.h"

#include <pthread.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdbool.h>

#define ZG_PRINTF(f, a) __attribute__((format(printf, f, a)))

/* ---- error.c: the calling thread's last failure -------------------------- */
void zg_error_set(const char *fmt, ...) ZG_PRINTF(1, 2);
void zg_error_clear(void);

/* ---- diag.c --------------------------------------------------------------- */
void zg_diag_add(zg_diag_t *diag, zg_severity_t severity, const char *file,
                 unsigned line, const char *key, const char *fmt, ...)
    ZG_PRINTF(6, 7);

/* ---- value.c: the syntax of one policy value ------------------------------ */
typedef enum zg_kind {
    ZG_KIND_COUNT,    /* plain integer: messages, retries, probes */
    ZG_KIND_DURATION, /* milliseconds, written with a unit: 250ms 5s 2m 1h */
    ZG_KIND_SIZE,     /* bytes, written plain or with B KiB MiB GiB */
    ZG_KIND_BOOL,     /* yes/no */
    ZG_KIND_SECURITY, /* curve/none */
    ZG_KIND_PATH,     /* one file name */
    ZG_KIND_PATHS     /* an ordered, comma-separated list of file names */
} zg_kind_t;

typedef struct zg_field_info {
    const char *key;
    zg_kind_t kind;
    int64_t min, max;        /* inclusive, in the stored unit */
    int64_t granularity;     /* the value must be a multiple of this */
    const char *minus_one;   /* word for -1 ("infinite"), NULL if -1 is invalid */
    bool has_unbounded;      /* some value needs `unbounded = yes` */
    int64_t unbounded_value; /* ... and this is it */
    int zmq_option;          /* 0 when the field is not a socket option */
    bool zmq_int64;          /* the option takes an int64_t */
    int64_t zmq_scale;       /* policy value / scale = option value */
    bool write_only;         /* libzmq cannot read it back */
    const char *unit_help;   /* what a bad value should have looked like */
} zg_field_info_t;

const zg_field_info_t *zg_field_info(zg_field_t field);
int zg_field_from_key(const char *key); /* -1 if unknown */
/* 0 on success; on failure -1 and *why names the problem. */
int zg_value_parse(const zg_field_info_t *info, const char *text,
                   int64_t *out, const char **why);
void zg_value_format(const zg_field_info_t *info, int64_t value, char *buf,
                     size_t cap);
/* A key the user may have meant, or NULL. */
const char *zg_key_suggest(const char *key, const char *const *keys,
                           size_t nkeys);

/* ---- ini.c: lines of an INI file, nothing more ---------------------------- */
#define ZG_INI_LINE_MAX 2048

typedef enum zg_ini_kind {
    ZG_INI_END = 0,
    ZG_INI_SECTION,
    ZG_INI_PAIR,
    ZG_INI_ERROR
} zg_ini_kind_t;

typedef struct zg_ini {
    const char *pos, *end;
    unsigned line;
    char buf[ZG_INI_LINE_MAX + 1];
} zg_ini_t;

typedef struct zg_ini_item {
    zg_ini_kind_t kind;
    unsigned line;
    const char *key;   /* section name, key, or the offending text */
    const char *value; /* PAIR only */
    const char *error; /* ERROR only */
} zg_ini_item_t;

void zg_ini_init(zg_ini_t *ini, const char *text, size_t len);
void zg_ini_next(zg_ini_t *ini, zg_ini_item_t *item);

/* ---- zpl.c: the certificate file format of CZMQ and pyzmq ----------------- */
#define ZG_ZPL_LINE_MAX 1024
#define ZG_ZPL_NAME_MAX 64

typedef struct zg_zpl_entry {
    char *section; /* "" for a value at the top level */
    char *key;
    char *value;
    unsigned line;
} zg_zpl_entry_t;

typedef struct zg_zpl {
    zg_zpl_entry_t *items;
    size_t count, cap;
} zg_zpl_t;

/* 0, or -1 with the failing line and why. Values are wiped when freed. */
int zg_zpl_parse(const char *text, size_t len, zg_zpl_t *out,
                 unsigned *err_line, const char **why);
const char *zg_zpl_get(const zg_zpl_t *zpl, const char *section,
                       const char *key);
void zg_zpl_free(zg_zpl_t *zpl);

/* ---- cidr.c: IP ranges for allow_ip / deny_ip ------------------------------ */
typedef struct zg_cidr {
    int family; /* AF_INET or AF_INET6 */
    uint8_t addr[16];
    unsigned bits;
} zg_cidr_t;

int zg_cidr_parse(const char *text, zg_cidr_t *out, const char **why);
/* "a, b/8, c": a malloc'ed array; 0, or -1 and why. */
int zg_cidr_list_parse(const char *list, zg_cidr_t **out, size_t *count,
                       const char **why);
/* address as ZAP gives it: an IP without port. */
bool zg_cidr_match(const zg_cidr_t *rule, const char *address);

/* ---- policy.c -------------------------------------------------------------- */
#define ZG_TYPE_COUNT 12 /* ZMQ_PAIR (0) .. ZMQ_STREAM (11) */

/* Ready for the hot path: the values a socket was hardened with. */
typedef struct zg_resolved {
    int64_t value[ZG_FIELD_COUNT];
    const char *str[ZG_FIELD_COUNT]; /* key files; owned by the policy */
} zg_resolved_t;

int zg_policy_resolve(const zg_policy_t *policy, int type, const char *name,
                      zg_resolved_t *out);
bool zg_field_applies(zg_field_t field, int type);

/* ---- ctx.c / log.c --------------------------------------------------------- */
typedef struct zg_sock zg_sock_t;

struct zg_ctx {
    void *zmq;
    bool owns_zmq;
    zg_policy_t *policy;
    pthread_mutex_t lock; /* guards everything below */
    zg_log_level_t log_level;
    zg_log_fn *log_fn;
    void *log_arg;
    zg_alert_fn *alert_fn;
    void *alert_arg;
    zg_sock_t *socks; /* every socket zguard knows in this context */
};

void zg_log(zg_ctx_t *ctx, zg_log_level_t level, const char *fmt, ...)
    ZG_PRINTF(3, 4);
void zg_alert(zg_ctx_t *ctx, const char *name, const char *socket, int active,
              const char *fmt, ...) ZG_PRINTF(5, 6);
void zg_ctx_attach(zg_ctx_t *ctx, zg_sock_t *sock);
void zg_ctx_detach(zg_ctx_t *ctx, zg_sock_t *sock);

/* ---- registry.c: libzmq socket -> zguard state, lock-free lookups ---------- */
void zg_init(void); /* the library's one-time init; idempotent */
int zg_registry_put(void *zsock, zg_sock_t *sock);
zg_sock_t *zg_registry_get(void *zsock);
void zg_registry_del(void *zsock);

/* ---- socket.c --------------------------------------------------------------- */

/* Single-writer counters: only the thread that owns the socket adds, any
 * thread may read. A relaxed load and store is enough and avoids a locked
 * instruction on the hot path. */
typedef struct zg_stats {
    _Atomic uint64_t msgs_sent, msgs_received, bytes_sent, bytes_received;
    _Atomic uint64_t hwm_reached, send_timeouts, recv_timeouts;
    _Atomic uint64_t send_blocked_ns, no_route, interrupted;
} zg_stats_t;

static inline void zg_stat_add(_Atomic uint64_t *counter, uint64_t n)
{
    atomic_store_explicit(
        counter, atomic_load_explicit(counter, memory_order_relaxed) + n,
        memory_order_relaxed);
}

struct zg_sock {
    zg_ctx_t *ctx;
    void *zsock;
    int type;
    bool owned; /* created by zg_socket: zguard closes it */
    char name[ZG_NAME_MAX];
    zg_resolved_t policy;
    zg_stats_t stats;
    zg_sock_t *prev, *next; /* ctx->socks, under ctx->lock */
};

/* "socket 'orders-in' (PULL)" or "unnamed PULL socket", for messages. */
const char *zg_sock_label(const zg_sock_t *sock, char *buf, size_t cap);
uint64_t zg_now_ns(void);

#endif /* ZG_INTERNAL_H */
