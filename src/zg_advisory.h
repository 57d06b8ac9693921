/*
 * zg_advisory.h - advisory.c: libzmq versions, the advisory database and the
 * version gate zg_ctx_new runs. The database is a data file
 * (data/libzmq-advisories.ini, see its header for the format), found by
 * zg_advisories_find.
 */
#ifndef ZG_ADVISORY_H
#define ZG_ADVISORY_H

#include "zguard.h"

#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>
#include <stdio.h>

#define ZG_ADVISORY_FORMAT 1 /* the `format` this zguard reads */
#define ZG_ADVISORY_FILE "libzmq-advisories.ini"

typedef struct zg_ver {
    int major, minor, patch;
} zg_ver_t;

/* "4.3.5" -> 0; anything else -1. */
int zg_ver_parse(const char *text, zg_ver_t *out);
int zg_ver_cmp(zg_ver_t a, zg_ver_t b); /* <0, 0, >0 */
/* "4.3.5" in a static per-thread buffer of each slot (0..3). */
const char *zg_ver_str(zg_ver_t v, int slot);

typedef enum zg_adv_severity {
    ZG_ADV_LOW = 1,
    ZG_ADV_MEDIUM,
    ZG_ADV_HIGH,
    ZG_ADV_CRITICAL
} zg_adv_severity_t;

const char *zg_adv_severity_name(zg_adv_severity_t sev); /* "high" */
int zg_adv_severity_from_name(const char *name);         /* -1 if unknown */

/* One range of a list like "4.0.0-4.0.4, < 4.3.3": both bounds optional. */
typedef struct zg_range {
    bool has_lo, has_hi;
    bool lo_incl, hi_incl;
    zg_ver_t lo, hi;
} zg_range_t;

/* 0 with a malloc'ed array, or -1 and why. */
int zg_ranges_parse(const char *text, zg_range_t **out, size_t *count,
                    const char **why);
bool zg_range_match(const zg_range_t *range, zg_ver_t v);

typedef struct zg_advisory {
    char *id;         /* "CVE-2019-13132", or for issues "libzmq-4912" */
    bool unfixed;     /* an [issue.*]: fixed in no release */
    bool behaviour;   /* a [behaviour.*]: fixed in a release, worked around
                         by zguard, so never a gate failure */
    bool no_curve;    /* when = no-curve: only a libzmq without CURVE */
    zg_range_t *ranges;
    size_t nranges;
    char *affected;   /* the ranges as written */
    char *fixed;      /* "4.0.9, 4.1.7, 4.3.2"; "none" for issues */
    zg_adv_severity_t severity;
    char *cvss;       /* NULL when the source gives none */
    char *summary, *url;
    char *note;       /* optional */
    char *mitigation; /* issues and behaviours */
    char *aliases;    /* optional: "GHSA-pf98-hx9m-qj7w" */
    char *master;     /* issues: the fix on master, or "none ..." */
    unsigned line;
} zg_advisory_t;

typedef struct zg_release {
    zg_ver_t ver;
    char date[11];  /* YYYY-MM-DD */
    int64_t day;    /* days since 1970-01-01 */
    unsigned line;
} zg_release_t;

typedef struct zg_advisories {
    char *file;
    int format;
    char reviewed[11];
    int64_t reviewed_day;
    zg_ver_t latest;
    zg_release_t *releases; /* in version order */
    size_t nreleases;
    zg_advisory_t *items;   /* in file order */
    size_t count;
} zg_advisories_t;

/* NULL when the file has any error; every problem goes to diag (may be
 * NULL) as FILE:LINE: key: message, and the first to zg_last_error(). */
zg_advisories_t *zg_advisories_parse(const char *text, size_t len,
                                     const char *file, zg_diag_t *diag);
zg_advisories_t *zg_advisories_load(const char *path, zg_diag_t *diag);
void zg_advisories_destroy(zg_advisories_t **db);
/* Where the database is: `path` when given; else $ZGUARD_DATADIR, the
 * install location, the source tree, the first that exists. 0, or -1 with
 * errno ENOENT and the places tried in zg_last_error(). */
int zg_advisories_find(const char *path, char *out, size_t cap);
/* Whether adv's version ranges include v; zg_advisory_applies_to also
 * honours `when = no-curve` for a libzmq with or without CURVE. */
bool zg_advisory_applies(const zg_advisory_t *adv, zg_ver_t v);
bool zg_advisory_applies_to(const zg_advisory_t *adv, zg_ver_t v,
                            bool has_curve);
/* Counts the comma-separated aliases; calls fn for each (may be NULL). */
size_t zg_advisory_aliases(const zg_advisory_t *adv,
                           void (*fn)(void *arg, const char *alias),
                           void *arg);
/* The release entry of v, or NULL. */
const zg_release_t *zg_advisories_release(const zg_advisories_t *db,
                                          zg_ver_t v);
/* "2023-10-09" -> days since 1970-01-01; -1 if not a real date. */
int zg_date_parse(const char *text, int64_t *day);

/* The gate zg_ctx_new and zg_ctx_wrap run: the policy's min_libzmq and
 * on_advisory against the libzmq loaded at run time (zmq_version). 0 to go
 * on; -1 with errno ENOTSUP (or ENOENT: no database under on_advisory =
 * fail) and a message naming both versions or the advisories. */
int zg_libzmq_gate(zg_ctx_t *ctx);
/* The same for a given runtime version and database path (NULL: search):
 * what zg_libzmq_gate calls, and what tests call with other versions. */
int zg_libzmq_gate_check(zg_ctx_t *ctx, zg_ver_t runtime,
                         const char *db_path);

#endif
