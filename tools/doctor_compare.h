/*
 * doctor_compare.h - `zguard doctor --compare PREFIX`: a staged libzmq
 * (scripts/build-libzmq) next to the one zguard runs on.
 */
#ifndef ZG_DOCTOR_COMPARE_H
#define ZG_DOCTOR_COMPARE_H

#include <stdio.h>

#include "doctor.h"

#define STAGED_PATH_MAX 512
#define STAGED_TEXT_MAX 512

/* What scripts/build-libzmq left in PREFIX, what zguard-libzmq-probe says
 * about PREFIX/lib/libzmq.so.5, and what the staged suite run recorded. */
typedef struct staged {
    char prefix[STAGED_PATH_MAX];
    char lib[STAGED_PATH_MAX + 32]; /* PREFIX/lib/libzmq.so.5 */
    bool probed;                    /* the probe answered */
    char probe_error[2 * STAGED_TEXT_MAX + STAGED_PATH_MAX];
    zg_ver_t ver;
    bool needs_sodium, pipes_stats;
    bool cap[ZG_DOCTOR_CAPS];       /* in zg_doctor_t's cap_name order */
    zg_curve_backend_t curve;
    /* PREFIX/.zguard-libzmq-complete, from scripts/build-libzmq */
    bool stamped;
    char source[STAGED_TEXT_MAX], sha256[80], built[40];
    /* PREFIX/.zguard-suite-verdict, from scripts/suite-verdict */
    bool has_verdict;
    char v_date[40], v_commit[64], v_libzmq[16], v_failed[STAGED_TEXT_MAX];
    long passed, failed, total;
    /* the advisories, issues and behaviours of the database: for the
     * running libzmq only (the upgrade fixes them), for both, for the
     * staged one only */
    const zg_advisory_t **fixed, **remain, **added;
    size_t nfixed, nremain, nadded;
} staged_t;

/* Fills s for prefix, running probe (the zguard-libzmq-probe program),
 * and adds its findings to d (check "staged" or "staged-suite"). 0, or -1
 * out of memory. */
int staged_compare(staged_t *s, zg_doctor_t *d, const char *prefix,
                   const char *probe);
void staged_free(staged_t *s);
/* The "compare" member of doctor's JSON, and its part of the table. */
void staged_print_json(FILE *out, const staged_t *s, const zg_doctor_t *d);
void staged_print_table(const staged_t *s, const zg_doctor_t *d);

#endif
