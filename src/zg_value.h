/*
 * zg_value.h - value.c: the syntax of one policy value (units, ranges) and
 * the table of fields with their libzmq options.
 */
#ifndef ZG_VALUE_H
#define ZG_VALUE_H

#include "zguard.h"

#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>

typedef enum zg_kind {
    ZG_KIND_COUNT,    /* plain integer: messages, retries, probes */
    ZG_KIND_DURATION, /* milliseconds, written with a unit: 250ms 5s 2m 1h */
    ZG_KIND_SIZE,     /* bytes, written plain or with B KiB MiB GiB */
    ZG_KIND_BOOL,     /* yes/no */
    ZG_KIND_SECURITY, /* curve/none */
    ZG_KIND_PERCENT,  /* 0% to 100% */
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

/* The [auth] section's per-address limits (auth.c enforces them). */
typedef enum zg_auth_limit {
    ZG_AUTH_RATE,     /* handshake_rate_per_ip: per second, 0 = off */
    ZG_AUTH_BURST,    /* handshake_burst_per_ip */
    ZG_AUTH_FAILURES, /* auth_failures_per_ip: 0 = off */
    ZG_AUTH_WINDOW,   /* auth_failure_window, ms */
    ZG_AUTH_LOCKOUT,  /* lockout, ms */
    ZG_AUTH_LIMITS
} zg_auth_limit_t;
const zg_field_info_t *zg_auth_limit_info(zg_auth_limit_t which);
/* [gate] backend_grace: a duration, checked as a field is. */
const zg_field_info_t *zg_gate_grace_info(void);
int zg_field_from_key(const char *key); /* -1 if unknown */
/* 0 on success; on failure -1 and *why names the problem. */
int zg_value_parse(const zg_field_info_t *info, const char *text,
                   int64_t *out, const char **why);
void zg_value_format(const zg_field_info_t *info, int64_t value, char *buf,
                     size_t cap);
/* A key the user may have meant, or NULL. */
const char *zg_key_suggest(const char *key, const char *const *keys,
                           size_t nkeys);

#endif
