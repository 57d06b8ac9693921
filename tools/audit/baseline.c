/*
 * baseline.c - `--baseline FILE`: an earlier `--format json` report whose
 * findings are not reported again, so that a team can adopt the audit on a
 * large codebase and fail CI on new findings only. Findings are matched by
 * fingerprint (fingerprint.c), never by line: code moving within a file
 * does not make old findings new.
 *
 * The report is read with a small strict JSON reader (nesting bounded,
 * every value checked) that keeps only what matters here: "audit_format"
 * and the "fingerprint" of each element of "findings".
 */
#include "audit.h"
#include "zguard_tools.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define BASELINE_MAX_BYTES (256u << 20)
#define JSON_DEPTH_MAX 64
#define FP_HEX (AU_FP_BYTES * 2)

typedef struct fp_hex {
    char hex[FP_HEX + 1];
    int used;
} fp_hex_t;

typedef struct reader {
    const char *s, *p, *end;
    const char *err;          /* what was expected where p stands */
    int64_t format;           /* audit_format, -1 when absent */
    int findings;             /* a "findings" array was seen */
    size_t without_fp;        /* findings without a fingerprint */
    fp_hex_t *fps;
    size_t nfps, cap;
} reader_t;

/* Where a value sits: only these places matter. */
enum { AT_OTHER, AT_TOP, AT_FINDINGS, AT_FINDING };

static void ws(reader_t *r)
{
    while (r->p < r->end && (*r->p == ' ' || *r->p == '\t' || *r->p == '\n' || *r->p == '\r'))
        r->p++;
}

static int fail(reader_t *r, const char *what)
{
    if (!r->err)
        r->err = what;
    return -1;
}

/* A string; its raw text (escapes as written) into buf when buf is given. */
static int string(reader_t *r, char *buf, size_t cap, size_t *len)
{
    if (r->p >= r->end || *r->p != '"')
        return fail(r, "a string");
    size_t k = 0;
    for (r->p++; r->p < r->end && *r->p != '"'; r->p++) {
        if ((unsigned char)*r->p < 0x20)
            return fail(r, "no control character in a string");
        if (*r->p == '\\') {
            if (++r->p >= r->end || !strchr("\"\\/bfnrtu", *r->p))
                return fail(r, "a valid escape");
        }
        if (buf && k + 1 < cap)
            buf[k] = *r->p;
        k++;
    }
    if (r->p >= r->end)
        return fail(r, "the string's closing quote");
    r->p++;
    if (buf)
        buf[k < cap ? k : cap - 1] = '\0';
    if (len)
        *len = k;
    return 0;
}

static int number(reader_t *r, int64_t *out)
{
    const char *a = r->p;
    if (r->p < r->end && *r->p == '-')
        r->p++;
    size_t digits = 0;
    while (r->p < r->end && ((*r->p >= '0' && *r->p <= '9') || strchr(".eE+-", *r->p)))
        digits += *r->p++ >= '0';
    if (digits == 0)
        return fail(r, "a value");
    if (out) {
        char buf[32];
        size_t n = (size_t)(r->p - a) < sizeof buf - 1 ? (size_t)(r->p - a) : sizeof buf - 1;
        memcpy(buf, a, n);
        buf[n] = '\0';
        char *e;
        *out = strtoll(buf, &e, 10);
        if (*e)
            *out = -1;
    }
    return 0;
}

static int literal(reader_t *r, const char *word)
{
    size_t n = strlen(word);
    if ((size_t)(r->end - r->p) < n || memcmp(r->p, word, n) != 0)
        return fail(r, "a value");
    r->p += n;
    return 0;
}

static int add_fp(reader_t *r, const char *hex)
{
    fp_hex_t *g = au_grow(r->fps, &r->cap, r->nfps, sizeof *g);
    if (!g)
        return fail(r, "memory (out of memory)");
    r->fps = g;
    memcpy(r->fps[r->nfps].hex, hex, FP_HEX);
    r->fps[r->nfps].hex[FP_HEX] = '\0';
    r->fps[r->nfps++].used = 0;
    return 0;
}

static int value(reader_t *r, int at, int depth);

static int object(reader_t *r, int at, int depth)
{
    int has_fp = 0;
    r->p++;
    ws(r);
    if (r->p < r->end && *r->p == '}') {
        r->p++;
        goto done;
    }
    for (;;) {
        char key[32];
        ws(r);
        if (string(r, key, sizeof key, NULL) != 0)
            return -1;
        ws(r);
        if (r->p >= r->end || *r->p != ':')
            return fail(r, "':'");
        r->p++;
        ws(r);
        if (at == AT_FINDING && strcmp(key, "fingerprint") == 0 && r->p < r->end &&
            *r->p == '"') {
            char hex[FP_HEX + 2];
            size_t len = 0;
            if (string(r, hex, sizeof hex, &len) != 0)
                return -1;
            if (len != FP_HEX || strspn(hex, "0123456789abcdef") != FP_HEX)
                return fail(r, "a fingerprint of 32 hexadecimal digits before this");
            if (add_fp(r, hex) != 0)
                return -1;
            has_fp = 1;
        } else if (at == AT_TOP && strcmp(key, "audit_format") == 0) {
            if (number(r, &r->format) != 0)
                return -1;
        } else if (at == AT_TOP && strcmp(key, "findings") == 0) {
            if (r->p >= r->end || *r->p != '[')
                return fail(r, "\"findings\" to be an array");
            r->findings = 1;
            if (value(r, AT_FINDINGS, depth + 1) != 0)
                return -1;
        } else if (value(r, AT_OTHER, depth + 1) != 0) {
            return -1;
        }
        ws(r);
        if (r->p < r->end && *r->p == ',') {
            r->p++;
            continue;
        }
        if (r->p < r->end && *r->p == '}') {
            r->p++;
            break;
        }
        return fail(r, "',' or '}'");
    }
done:
    if (at == AT_FINDING && !has_fp)
        r->without_fp++;
    return 0;
}

static int array(reader_t *r, int at, int depth)
{
    r->p++;
    ws(r);
    if (r->p < r->end && *r->p == ']') {
        r->p++;
        return 0;
    }
    for (;;) {
        ws(r);
        if (at == AT_FINDINGS && (r->p >= r->end || *r->p != '{'))
            return fail(r, "each finding to be an object");
        if (value(r, at == AT_FINDINGS ? AT_FINDING : AT_OTHER, depth + 1) != 0)
            return -1;
        ws(r);
        if (r->p < r->end && *r->p == ',') {
            r->p++;
            continue;
        }
        if (r->p < r->end && *r->p == ']') {
            r->p++;
            return 0;
        }
        return fail(r, "',' or ']'");
    }
}

static int value(reader_t *r, int at, int depth)
{
    if (depth > JSON_DEPTH_MAX)
        return fail(r, "less nesting");
    ws(r);
    if (r->p >= r->end)
        return fail(r, "a value");
    switch (*r->p) {
    case '{': return object(r, at, depth);
    case '[': return array(r, at, depth);
    case '"': return string(r, NULL, 0, NULL);
    case 't': return literal(r, "true");
    case 'f': return literal(r, "false");
    case 'n': return literal(r, "null");
    default: return number(r, NULL);
    }
}

static unsigned line_of(const reader_t *r)
{
    unsigned line = 1;
    for (const char *q = r->s; q < r->p && q < r->end; q++)
        line += *q == '\n';
    return line;
}

static int read_report(reader_t *r, const char *path, char *err, size_t cap)
{
    ws(r);
    if (r->p >= r->end || *r->p != '{')
        fail(r, "a JSON object");
    else if (value(r, AT_TOP, 0) == 0 && (ws(r), r->p < r->end))
        fail(r, "the end of the file");
    if (r->err) {
        snprintf(err, cap, "%s:%u: not a JSON report of zguard audit: expected %s", path,
                 line_of(r), r->err);
        return -1;
    }
    if (r->format != AU_FORMAT_VERSION || !r->findings) {
        snprintf(err, cap, "%s: not a `zguard audit --format json` report of this version "
                 "(audit_format %d with a \"findings\" array)", path, AU_FORMAT_VERSION);
        return -1;
    }
    if (r->without_fp) {
        snprintf(err, cap, "%s: %zu of its findings have no fingerprint (the report is older "
                 "than fingerprints): make it again with this zguard", path, r->without_fp);
        return -1;
    }
    return 0;
}

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

int au_baseline_apply(au_result_t *res, const char *path, char *err, size_t cap)
{
    size_t len = 0;
    char *text = zg_file_read_text(path, BASELINE_MAX_BYTES, &len);
    if (!text) {
        snprintf(err, cap, "%s: cannot read: %s", path, strerror(errno));
        return -1;
    }
    reader_t r = {.s = text, .p = text, .end = text + len, .format = -1};
    int rc = read_report(&r, path, err, cap);
    if (rc == 0) {
        if (r.nfps)
            qsort(r.fps, r.nfps, sizeof *r.fps, cmp_hex);
        size_t k = 0;
        for (size_t i = 0; i < res->nfindings; i++) {
            au_finding_t *x = &res->findings[i];
            if (r.nfps && known(r.fps, r.nfps, x->fingerprint)) {
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
    free(r.fps);
    free(text);
    return rc;
}
