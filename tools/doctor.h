/*
 * doctor.h - the facts `zguard doctor` reports about the libzmq this
 * process runs on (and a policy), gathered without printing; cmd_doctor.c
 * prints them. Part of the command, not the library: no application
 * calls it, and the library's own version gate is zg_libzmq_gate.
 */
#ifndef ZG_DOCTOR_H
#define ZG_DOCTOR_H

#include "zguard_tools.h"

#include <stdbool.h>

typedef enum zg_finding_level {
    ZG_FIND_INFO = 0,
    ZG_FIND_WARNING,
    ZG_FIND_FAILURE
} zg_finding_level_t;

typedef struct zg_finding {
    zg_finding_level_t level;
    char check[32];   /* stable name: "advisory", "libzmq-behind", ... */
    char *subject;    /* what it is about: an id, a path, a socket */
    char *message;    /* one line for a person */
} zg_finding_t;

typedef enum zg_curve_backend {
    ZG_CURVE_BACKEND_NONE = 0, /* zmq_has("curve") == 0 */
    ZG_CURVE_BACKEND_LIBSODIUM,
    ZG_CURVE_BACKEND_TWEETNACL,
    ZG_CURVE_BACKEND_UNKNOWN   /* libzmq not found as a shared object */
} zg_curve_backend_t;

#define ZG_DOCTOR_CAPS 10

typedef struct zg_doctor_opts {
    const char *policy;   /* NULL: no policy checks */
    const char *db_path;  /* NULL: zg_advisories_find */
    zg_adv_severity_t fail_on;
    int64_t today;        /* days since 1970-01-01; 0: now */
} zg_doctor_opts_t;

typedef struct zg_doctor {
    zg_ver_t runtime, compiled;
    char libzmq_path[512]; /* the loaded libzmq.so, "" if not found */
    const char *sodium_version;
    zg_curve_backend_t curve;
    const char *curve_how; /* how that was decided, one line */
    bool has_draft;        /* zmq_has("draft") */
    bool has_pipes_stats;  /* dlsym zmq_socket_monitor_pipes_stats */
    const char *cap_name[ZG_DOCTOR_CAPS];
    bool cap[ZG_DOCTOR_CAPS];
    zg_advisories_t *db;   /* NULL when it could not be loaded */
    char db_path[512];
    int64_t today;
    const zg_release_t *latest; /* NULL without db */
    int behind;            /* releases between runtime and latest; -1 newer */
    bool behind_exact;     /* false when runtime predates the known ones */
    int64_t latest_age;    /* days since the latest stable release */
    int64_t db_age;        /* days since the database was reviewed */
    const zg_advisory_t **applies; /* advisories and issues for runtime */
    size_t napplies;
    bool policy_checked, policy_valid;
    zg_finding_t *findings;
    size_t nfindings, cap_findings;
    zg_adv_severity_t fail_on;
    bool oom;              /* a finding was lost: never report clean */
} zg_doctor_t;

zg_doctor_t *zg_doctor_run(const zg_doctor_opts_t *opts);
void zg_doctor_destroy(zg_doctor_t **doc);
/* Adds a finding about subject (may be NULL): what doctor --compare adds
 * about a staged libzmq joins the run's findings and exit code. */
ZG_PRINTF(5, 6)
void zg_doctor_finding(zg_doctor_t *d, zg_finding_level_t level,
                       const char *check, const char *subject,
                       const char *fmt, ...);
/* 0 no warnings or failures, 1 warnings, 2 a failure: the exit code. */
int zg_doctor_verdict(const zg_doctor_t *doc);
const char *zg_finding_level_name(zg_finding_level_t level);
const char *zg_curve_backend_name(zg_curve_backend_t backend);

#endif
