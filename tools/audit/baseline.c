/*
 * baseline.c - `--baseline FILE`: an earlier `--format json` report whose
 * findings are not reported again, so that a team can adopt the audit on a
 * large codebase and fail CI on new findings only. Findings are matched by
 * fingerprint (fingerprint.c), never by line: code moving within a file
 * does not make old findings new.
 *
 * The report is read with the command's one JSON reader (cli_jsonread.c);
 * only "audit_format" and the "fingerprint" of each finding matter here.
 */
#include "audit.h"
#include "zguard_tools.h"

#include "cli_jsonread.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define BASELINE_MAX_BYTES (256u << 20)
#define FP_HEX (AU_FP_BYTES * 2)

typedef struct fp_hex {
    const char *hex;
    int used;
} fp_hex_t;

static int cmp_hex(const void *a, const void *b)
{
    return strcmp(((const fp_hex_t *)a)->hex, ((const fp_hex_t *)b)->hex);
}

/* Each baseline entry matches one finding: the first unused equal one. */
static int known(fp_hex_t *fps, size_t n, const char *hex)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (strcmp(fps[mid].hex, hex) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    for (; lo < n && strcmp(fps[lo].hex, hex) == 0; lo++)
        if (!fps[lo].used)
            return fps[lo].used = 1;
    return 0;
}

/* The fingerprints of the report's findings (pointing into doc), or NULL
 * with why in err. */
static fp_hex_t *fingerprints(const cli_jv_t *doc, const char *path, size_t *n, char *err,
                              size_t cap)
{
    const cli_jv_t *findings = cli_jv_get(doc, "findings");
    if (cli_jv_num(doc, "audit_format", -1) != AU_FORMAT_VERSION || !findings ||
        findings->kind != CLI_JV_ARRAY) {
        snprintf(err, cap, "%s: not a `zguard audit --format json` report of this version "
                 "(audit_format %d with a \"findings\" array)", path, AU_FORMAT_VERSION);
        return NULL;
    }
    fp_hex_t *fps = calloc(findings->n ? findings->n : 1, sizeof *fps);
    if (!fps) {
        snprintf(err, cap, "%s: out of memory", path);
        return NULL;
    }
    size_t missing = 0;
    for (size_t i = 0; i < findings->n; i++) {
        const char *hex = cli_jv_str(&findings->items[i], "fingerprint", NULL);
        if (!hex || strlen(hex) != FP_HEX || strspn(hex, "0123456789abcdef") != FP_HEX)
            missing++;
        fps[i].hex = hex;
    }
    if (missing) {
        snprintf(err, cap, "%s: %zu of its findings have no fingerprint (a report older than "
                 "fingerprints, or changed by hand): make it again with this zguard", path,
                 missing);
        free(fps);
        return NULL;
    }
    *n = findings->n;
    return fps;
}

int au_baseline_apply(au_result_t *res, const char *path, char *err, size_t cap)
{
    size_t len = 0, n = 0;
    char *text = zg_file_read_text(path, BASELINE_MAX_BYTES, &len);
    if (!text) {
        snprintf(err, cap, "%s: cannot read: %s", path, strerror(errno));
        return -1;
    }
    char why[256];
    cli_jv_t *doc = cli_jv_parse(text, why, sizeof why);
    fp_hex_t *fps = NULL;
    if (!doc)
        snprintf(err, cap, "%s: not a JSON report of zguard audit: %s", path, why);
    else
        fps = fingerprints(doc, path, &n, err, cap);
    if (fps) {
        qsort(fps, n, sizeof *fps, cmp_hex);
        size_t k = 0;
        for (size_t i = 0; i < res->nfindings; i++) {
            au_finding_t *x = &res->findings[i];
            if (n && known(fps, n, x->fingerprint)) {
                free(x->message);
                free(x->justification);
                res->baselined++;
                continue;
            }
            res->findings[k++] = *x;
        }
        res->nfindings = k;
        res->baseline_file = path;
    }
    int rc = fps ? 0 : -1;
    free(fps);
    cli_jv_free(&doc);
    free(text);
    return rc;
}
