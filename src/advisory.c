/*
 * advisory.c - the libzmq advisory database and the version gate.
 *
 * Which libzmq releases have which known flaws is data that changes more
 * often than zguard does, so it lives in a file (data/libzmq-advisories.ini,
 * whose header documents the format) and not in code. This file parses it
 * as strictly as policies are parsed (every problem as FILE:LINE: key:
 * message, parsing goes on to show them all), matches version ranges, and
 * runs the gate that zg_ctx_new applies: the policy's min_libzmq and
 * on_advisory against the libzmq actually loaded (zmq_version, never the
 * ZMQ_VERSION macros of the headers zguard was built with).
 */
#include "zg_advisory.h"
#include "zg_ctx.h"
#include "zg_error.h"
#include "zg_file.h"
#include "zg_ini.h"
#include "zg_value.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <stdbool.h>

#define DB_FILE_MAX (1 << 20) /* the database is text a person reviews */
#define VER_PART_MAX 9999

/* ---- versions ----------------------------------------------------------------- */

/* One decimal part of a version: 1 to 4 digits. */
static const char *ver_part(const char *p, int *out)
{
    size_t n = strspn(p, "0123456789");
    if (n == 0 || n > 4)
        return NULL;
    *out = atoi(p);
    return p + n;
}

int zg_ver_parse(const char *text, zg_ver_t *out)
{
    zg_ver_t v;
    const char *p = text ? ver_part(text, &v.major) : NULL;
    if (!p || *p++ != '.' || !(p = ver_part(p, &v.minor)) || *p++ != '.' ||
        !(p = ver_part(p, &v.patch)) || *p != '\0')
        return -1;
    *out = v;
    return 0;
}

int zg_ver_cmp(zg_ver_t a, zg_ver_t b)
{
    if (a.major != b.major)
        return a.major < b.major ? -1 : 1;
    if (a.minor != b.minor)
        return a.minor < b.minor ? -1 : 1;
    if (a.patch != b.patch)
        return a.patch < b.patch ? -1 : 1;
    return 0;
}

const char *zg_ver_str(zg_ver_t v, int slot)
{
    /* a few slots, so one message can name several versions */
    static _Thread_local char buf[4][16];
    char *b = buf[slot & 3];
    snprintf(b, sizeof buf[0], "%d.%d.%d", v.major, v.minor, v.patch);
    return b;
}

/* ---- severities and dates --------------------------------------------------- */

static const char *const severity_names[] = {NULL, "low", "medium", "high",
                                             "critical"};

const char *zg_adv_severity_name(zg_adv_severity_t sev)
{
    return sev >= ZG_ADV_LOW && sev <= ZG_ADV_CRITICAL ? severity_names[sev]
                                                       : "?";
}

int zg_adv_severity_from_name(const char *name)
{
    for (int s = ZG_ADV_LOW; s <= ZG_ADV_CRITICAL; s++)
        if (name && strcmp(name, severity_names[s]) == 0)
            return s;
    return -1;
}

/* Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar: count
 * years from March, so the leap day is the last day of its year. */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static bool leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

int zg_date_parse(const char *text, int64_t *day)
{
    static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int y, m, d, n = 0;
    if (!text || strlen(text) != 10 ||
        sscanf(text, "%4d-%2d-%2d%n", &y, &m, &d, &n) != 3 || n != 10 ||
        strspn(text, "0123456789-") != 10 || text[4] != '-' || text[7] != '-')
        return -1;
    if (y < 1970 || m < 1 || m > 12 || d < 1 ||
        d > mdays[m - 1] + (m == 2 && leap(y)))
        return -1;
    *day = days_from_civil(y, m, d);
    return 0;
}

/* ---- ranges ------------------------------------------------------------------- */

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        s[--n] = '\0';
    return s;
}

/* "< 4.3.3", "<= 4.3.5", ">= 4.2.0", "> 4.1.0": one bound. */
static int range_op(char *s, zg_range_t *r, const char **why)
{
    bool lower = s[0] == '>';
    bool incl = s[1] == '=';
    zg_ver_t v;
    if (zg_ver_parse(trim(s + 1 + incl), &v) != 0) {
        *why = "a comparison needs a version like '< 4.3.3'";
        return -1;
    }
    if (lower) {
        r->has_lo = true, r->lo_incl = incl, r->lo = v;
    } else {
        r->has_hi = true, r->hi_incl = incl, r->hi = v;
    }
    return 0;
}

/* "4.0.0-4.0.4" (both included) or "4.3.3" (exactly). */
static int range_span(char *s, zg_range_t *r, const char **why)
{
    char *dash = strchr(s, '-');
    if (dash)
        *dash = '\0';
    if (zg_ver_parse(trim(s), &r->lo) != 0 ||
        (dash && zg_ver_parse(trim(dash + 1), &r->hi) != 0)) {
        *why = "each range is X.Y.Z, X.Y.Z-X.Y.Z, or <, <=, >, >= X.Y.Z";
        return -1;
    }
    if (!dash)
        r->hi = r->lo;
    if (zg_ver_cmp(r->lo, r->hi) > 0) {
        *why = "a range must go from the lower version to the higher";
        return -1;
    }
    r->has_lo = r->has_hi = r->lo_incl = r->hi_incl = true;
    return 0;
}

static int range_parse(char *s, zg_range_t *r, const char **why)
{
    memset(r, 0, sizeof *r);
    s = trim(s);
    if (*s == '\0') {
        *why = "empty range (two commas, or a comma at the end?)";
        return -1;
    }
    return (*s == '<' || *s == '>') ? range_op(s, r, why)
                                    : range_span(s, r, why);
}

int zg_ranges_parse(const char *text, zg_range_t **out, size_t *count,
                    const char **why)
{
    char *copy = strdup(text ? text : "");
    size_t n = 1;
    for (const char *c = copy; c && *c; c++)
        n += *c == ',';
    zg_range_t *ranges = copy ? calloc(n, sizeof *ranges) : NULL;
    if (!ranges) {
        free(copy);
        *why = "out of memory";
        return -1;
    }
    char *part = copy;
    size_t i = 0;
    /* strtok_r would skip empty parts, which must be errors */
    for (; i < n; i++) {
        char *comma = strchr(part, ',');
        if (comma)
            *comma = '\0';
        if (range_parse(part, &ranges[i], why) != 0)
            break;
        part = comma ? comma + 1 : part + strlen(part);
    }
    free(copy);
    if (i < n) {
        free(ranges);
        return -1;
    }
    *out = ranges;
    *count = n;
    return 0;
}

bool zg_range_match(const zg_range_t *r, zg_ver_t v)
{
    if (r->has_lo) {
        int c = zg_ver_cmp(v, r->lo);
        if (c < 0 || (c == 0 && !r->lo_incl))
            return false;
    }
    if (r->has_hi) {
        int c = zg_ver_cmp(v, r->hi);
        if (c > 0 || (c == 0 && !r->hi_incl))
            return false;
    }
    return true;
}

bool zg_advisory_applies(const zg_advisory_t *adv, zg_ver_t v)
{
    for (size_t i = 0; i < adv->nranges; i++)
        if (zg_range_match(&adv->ranges[i], v))
            return true;
    return false;
}

bool zg_advisory_applies_to(const zg_advisory_t *adv, zg_ver_t v,
                            bool has_curve)
{
    return !(adv->no_curve && has_curve) && zg_advisory_applies(adv, v);
}

size_t zg_advisory_aliases(const zg_advisory_t *adv,
                           void (*fn)(void *arg, const char *alias),
                           void *arg)
{
    size_t n = 0;
    char *copy = adv->aliases ? strdup(adv->aliases) : NULL;
    for (char *save = NULL, *tok = copy ? strtok_r(copy, ",", &save) : NULL;
         tok; tok = strtok_r(NULL, ",", &save)) {
        tok = trim(tok);
        if (!*tok)
            continue;
        n++;
        if (fn)
            fn(arg, tok);
    }
    free(copy);
    return n;
}

const zg_release_t *zg_advisories_release(const zg_advisories_t *db,
                                          zg_ver_t v)
{
    for (size_t i = 0; db && i < db->nreleases; i++)
        if (zg_ver_cmp(db->releases[i].ver, v) == 0)
            return &db->releases[i];
    return NULL;
}

/* ---- the parser ----------------------------------------------------------------- */

enum {
    K_AFFECTED, K_FIXED, K_SEVERITY, K_CVSS, K_SUMMARY, K_URL, K_NOTE,
    K_MITIGATION, K_ALIASES, K_MASTER, K_WHEN, ADV_KEYS
};
static const char *const adv_keys[ADV_KEYS] = {
    "affected", "fixed", "severity", "cvss", "summary", "url", "note",
    "mitigation", "aliases", "master", "when"};

enum { T_FORMAT, T_REVIEWED, T_LATEST, TOP_KEYS };
static const char *const top_keys[TOP_KEYS] = {"format", "reviewed",
                                               "latest_stable"};

typedef enum { SEC_TOP, SEC_RELEASE, SEC_ADVISORY, SEC_SKIP } sec_kind_t;

typedef struct parser {
    const char *file;
    zg_diag_t *diag;
    size_t errors;
    zg_advisories_t *db;
    sec_kind_t kind;
    unsigned sec_line;
    unsigned top_line[TOP_KEYS];
    unsigned key_line[ADV_KEYS]; /* of the current section */
    bool latest_ok;              /* latest_stable parsed */
    bool oom;
} parser_t;

ZG_PRINTF(4, 5)
static void perr(parser_t *ps, unsigned line, const char *key,
                 const char *fmt, ...)
{
    char msg[ZG_ERROR_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (ps->errors++ == 0) {
        errno = EINVAL;
        zg_error_set("%s:%u: %s: %s", ps->file, line, key, msg);
    }
    zg_diag_add(ps->diag, ZG_SEV_ERROR, ps->file, line, key, "%s", msg);
}

static bool grow(void **items, size_t count, size_t size)
{
    /* one by one: a database has tens of entries, not thousands */
    void *p = realloc(*items, (count + 1) * size);
    if (!p)
        return false;
    *items = p;
    memset((char *)p + count * size, 0, size);
    return true;
}

static void advisory_free(zg_advisory_t *a)
{
    free(a->id);
    free(a->ranges);
    free(a->affected);
    free(a->fixed);
    free(a->cvss);
    free(a->summary);
    free(a->url);
    free(a->note);
    free(a->mitigation);
    free(a->aliases);
    free(a->master);
}

void zg_advisories_destroy(zg_advisories_t **dbp)
{
    if (!dbp || !*dbp)
        return;
    zg_advisories_t *db = *dbp;
    *dbp = NULL;
    for (size_t i = 0; i < db->count; i++)
        advisory_free(&db->items[i]);
    free(db->items);
    free(db->releases);
    free(db->file);
    free(db);
}

static bool id_ok(const char *id)
{
    return *id && strspn(id, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstu"
                             "vwxyz0123456789._-") == strlen(id);
}

static void on_release(parser_t *ps, const zg_ini_item_t *it, const char *v)
{
    zg_ver_t ver;
    if (zg_ver_parse(v, &ver) != 0) {
        perr(ps, it->line, it->key,
             "'%s' is not a version like [release.4.3.5]", v);
        return;
    }
    if (zg_advisories_release(ps->db, ver)) {
        perr(ps, it->line, it->key, "release %s is listed twice", v);
        return;
    }
    zg_advisories_t *db = ps->db;
    if (!grow((void **)&db->releases, db->nreleases, sizeof *db->releases)) {
        ps->oom = true;
        return;
    }
    /* keep version order: "versions behind" walks the list */
    size_t at = db->nreleases;
    while (at > 0 && zg_ver_cmp(db->releases[at - 1].ver, ver) > 0) {
        db->releases[at] = db->releases[at - 1];
        at--;
    }
    memset(&db->releases[at], 0, sizeof db->releases[at]);
    db->releases[at].ver = ver;
    db->releases[at].line = it->line;
    db->releases[at].day = -1;
    db->nreleases++;
    ps->kind = SEC_RELEASE;
}

static zg_release_t *current_release(parser_t *ps)
{
    /* the release of the current section: the one with its line */
    for (size_t i = 0; i < ps->db->nreleases; i++)
        if (ps->db->releases[i].line == ps->sec_line)
            return &ps->db->releases[i];
    return NULL;
}

static void on_advisory(parser_t *ps, const zg_ini_item_t *it, const char *id,
                        bool unfixed, bool behaviour)
{
    if (!id_ok(id)) {
        perr(ps, it->line, it->key,
             "'%s' is not an id (letters, digits, '.', '_' and '-')", id);
        return;
    }
    zg_advisories_t *db = ps->db;
    for (size_t i = 0; i < db->count; i++)
        if (strcmp(db->items[i].id, id) == 0) {
            perr(ps, it->line, it->key, "'%s' is listed twice (first at line "
                 "%u)", id, db->items[i].line);
            return;
        }
    if (!grow((void **)&db->items, db->count, sizeof *db->items) ||
        !(db->items[db->count].id = strdup(id))) {
        ps->oom = true;
        return;
    }
    db->items[db->count].unfixed = unfixed;
    db->items[db->count].behaviour = behaviour;
    db->items[db->count].line = it->line;
    db->count++;
    ps->kind = SEC_ADVISORY;
}

static void on_section(parser_t *ps, const zg_ini_item_t *it);

/* Checks of a finished [advisory.*] or [issue.*] section. */
static void advisory_done(parser_t *ps)
{
    if (ps->kind != SEC_ADVISORY)
        return;
    zg_advisory_t *a = &ps->db->items[ps->db->count - 1];
    static const int required[] = {K_AFFECTED, K_FIXED, K_SEVERITY,
                                   K_SUMMARY, K_URL};
    for (size_t i = 0; i < sizeof required / sizeof required[0]; i++)
        if (!ps->key_line[required[i]])
            perr(ps, ps->sec_line, a->id, "missing key '%s'",
                 adv_keys[required[i]]);
    if (a->unfixed && !ps->key_line[K_MITIGATION])
        perr(ps, ps->sec_line, a->id,
             "missing key 'mitigation' (an issue no release fixes needs one)");
    if (a->behaviour && !ps->key_line[K_MITIGATION])
        perr(ps, ps->sec_line, a->id,
             "missing key 'mitigation' (what zguard does about it)");
    if (!a->unfixed && !a->behaviour && ps->key_line[K_MITIGATION])
        perr(ps, ps->key_line[K_MITIGATION], "mitigation",
             "only [issue.*] and [behaviour.*] sections have one; an "
             "advisory has a fix");
    if (a->unfixed && !ps->key_line[K_MASTER])
        perr(ps, ps->sec_line, a->id,
             "missing key 'master' (the fix on libzmq master, or 'none')");
    if (!a->unfixed && ps->key_line[K_MASTER])
        perr(ps, ps->key_line[K_MASTER], "master",
             "only [issue.*] sections have one; this one names its release");
}

static void on_section(parser_t *ps, const zg_ini_item_t *it)
{
    advisory_done(ps);
    memset(ps->key_line, 0, sizeof ps->key_line);
    ps->sec_line = it->line;
    ps->kind = SEC_SKIP; /* until the header proves good */
    const char *name = it->key;
    if (strncmp(name, "release.", 8) == 0)
        on_release(ps, it, name + 8);
    else if (strncmp(name, "advisory.", 9) == 0)
        on_advisory(ps, it, name + 9, false, false);
    else if (strncmp(name, "issue.", 6) == 0)
        on_advisory(ps, it, name + 6, true, false);
    else if (strncmp(name, "behaviour.", 10) == 0)
        on_advisory(ps, it, name + 10, false, true);
    else
        perr(ps, it->line, name,
             "unknown section (expected [release.X.Y.Z], [advisory.ID], "
             "[issue.NAME] or [behaviour.NAME])");
}

static void on_top(parser_t *ps, const zg_ini_item_t *it)
{
    int k = 0;
    while (k < TOP_KEYS && strcmp(top_keys[k], it->key) != 0)
        k++;
    if (k == TOP_KEYS) {
        const char *hint = zg_key_suggest(it->key, top_keys, TOP_KEYS);
        perr(ps, it->line, it->key,
             "unknown key before the first section%s%s%s (format, reviewed "
             "and latest_stable go there)",
             hint ? " (did you mean '" : "", hint ? hint : "",
             hint ? "'?)" : "");
        return;
    }
    if (ps->top_line[k]) {
        perr(ps, it->line, it->key, "duplicate key (first at line %u)",
             ps->top_line[k]);
        return;
    }
    ps->top_line[k] = it->line;
    zg_advisories_t *db = ps->db;
    if (k == T_FORMAT) {
        if (strcmp(it->value, "1") != 0)
            perr(ps, it->line, it->key,
                 "unsupported format '%s' (this zguard reads format %d: "
                 "update zguard, or use its own database)",
                 it->value, ZG_ADVISORY_FORMAT);
        else
            db->format = 1;
    } else if (k == T_REVIEWED) {
        if (zg_date_parse(it->value, &db->reviewed_day) != 0)
            perr(ps, it->line, it->key, "'%s' is not a date like 2026-11-28",
                 it->value);
        else
            snprintf(db->reviewed, sizeof db->reviewed, "%s", it->value);
    } else if (zg_ver_parse(it->value, &db->latest) != 0) {
        perr(ps, it->line, it->key, "'%s' is not a version like 4.3.5",
             it->value);
    } else {
        ps->latest_ok = true;
    }
}

static void on_release_key(parser_t *ps, const zg_ini_item_t *it)
{
    zg_release_t *r = current_release(ps);
    if (strcmp(it->key, "date") != 0) {
        perr(ps, it->line, it->key, "unknown key (a release has only 'date')");
        return;
    }
    if (!r)
        return;
    if (r->day >= 0) {
        perr(ps, it->line, it->key, "duplicate key");
        return;
    }
    if (zg_date_parse(it->value, &r->day) != 0) {
        r->day = -1;
        perr(ps, it->line, it->key, "'%s' is not a date like 2023-10-09",
             it->value);
        return;
    }
    snprintf(r->date, sizeof r->date, "%s", it->value);
}

/* The CVSS band of a severity, so the two cannot disagree. */
static int cvss_severity(double score)
{
    return score >= 9.0 ? ZG_ADV_CRITICAL
           : score >= 7.0 ? ZG_ADV_HIGH
           : score >= 4.0 ? ZG_ADV_MEDIUM
                          : ZG_ADV_LOW;
}

static void check_fixed(parser_t *ps, const zg_ini_item_t *it,
                        zg_advisory_t *a)
{
    if (a->unfixed) {
        if (strcmp(it->value, "none") != 0)
            perr(ps, it->line, it->key,
                 "an [issue.*] has fixed = none; once a release fixes it, "
                 "make it an [advisory.*]");
        return;
    }
    zg_range_t *fixed = NULL;
    size_t n = 0;
    const char *why = NULL;
    if (zg_ranges_parse(it->value, &fixed, &n, &why) != 0) {
        perr(ps, it->line, it->key, "'%s': %s", it->value, why);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        bool exact = fixed[i].has_lo && fixed[i].has_hi &&
                     zg_ver_cmp(fixed[i].lo, fixed[i].hi) == 0;
        if (!exact) {
            perr(ps, it->line, it->key,
                 "'%s': list versions (4.0.9, 4.3.2), not ranges", it->value);
            break;
        }
        /* a fixed version inside the affected ranges is a typo in one */
        if (a->ranges && zg_advisory_applies(a, fixed[i].lo)) {
            perr(ps, it->line, it->key,
                 "%s is listed as fixed but 'affected' includes it",
                 zg_ver_str(fixed[i].lo, 0));
            break;
        }
    }
    free(fixed);
}

/* A GHSA id is GHSA-xxxx-xxxx-xxxx in lowercase letters and digits; any
 * other alias (a CVE, a distribution's id) only needs to be an id. */
static bool alias_ok(const char *alias)
{
    if (strncmp(alias, "GHSA-", 5) != 0)
        return id_ok(alias);
    const char *p = alias + 5;
    for (int group = 0; group < 3; group++, p += 5)
        if (strspn(p, "23456789cfghjmpqrvwx") != 4 ||
            p[4] != (group < 2 ? '-' : '\0'))
            return false;
    return true;
}

static void alias_check(void *arg, const char *alias)
{
    void **ctx = arg;
    parser_t *ps = ctx[0];
    const zg_ini_item_t *it = ctx[1];
    const zg_advisory_t *a = ctx[2];
    if (!alias_ok(alias))
        perr(ps, it->line, it->key, "'%s' is not an id (a GHSA id is "
             "GHSA-xxxx-xxxx-xxxx)", alias);
    else if (strcmp(alias, a->id) == 0)
        perr(ps, it->line, it->key, "'%s' is the section's own id", alias);
}

static void check_aliases(parser_t *ps, const zg_ini_item_t *it,
                          const zg_advisory_t *a)
{
    void *ctx[3] = {ps, (void *)it, (void *)a};
    if (zg_advisory_aliases(a, alias_check, ctx) == 0)
        perr(ps, it->line, it->key, "empty: list ids like GHSA-pf98-hx9m-qj7w, "
             "or leave the key out");
}

static void on_advisory_key(parser_t *ps, const zg_ini_item_t *it)
{
    zg_advisory_t *a = &ps->db->items[ps->db->count - 1];
    int k = 0;
    while (k < ADV_KEYS && strcmp(adv_keys[k], it->key) != 0)
        k++;
    if (k == ADV_KEYS) {
        const char *hint = zg_key_suggest(it->key, adv_keys, ADV_KEYS);
        perr(ps, it->line, it->key, "unknown key%s%s%s", hint ? " (did you "
             "mean '" : "", hint ? hint : "", hint ? "'?)" : "");
        return;
    }
    if (ps->key_line[k]) {
        perr(ps, it->line, it->key, "duplicate key (first at line %u)",
             ps->key_line[k]);
        return;
    }
    ps->key_line[k] = it->line;
    char *copy = strdup(it->value);
    if (!copy) {
        ps->oom = true;
        return;
    }
    const char *why = NULL;
    switch (k) {
    case K_AFFECTED:
        a->affected = copy;
        if (zg_ranges_parse(it->value, &a->ranges, &a->nranges, &why) != 0)
            perr(ps, it->line, it->key, "'%s': %s", it->value, why);
        if (ps->key_line[K_FIXED])
            perr(ps, it->line, it->key, "write 'affected' before 'fixed'");
        return;
    case K_FIXED:
        a->fixed = copy;
        check_fixed(ps, it, a);
        return;
    case K_SEVERITY: {
        int s = zg_adv_severity_from_name(it->value);
        free(copy);
        if (s < 0)
            perr(ps, it->line, it->key,
                 "'%s' is not critical, high, medium or low", it->value);
        else if (a->cvss && cvss_severity(atof(a->cvss)) != s)
            perr(ps, it->line, it->key, "'%s' disagrees with cvss %s (%s)",
                 it->value, a->cvss,
                 zg_adv_severity_name(cvss_severity(atof(a->cvss))));
        else
            a->severity = (zg_adv_severity_t)s;
        return;
    }
    case K_CVSS: {
        a->cvss = copy;
        char *end = NULL;
        double score = strtod(it->value, &end);
        if (!end || *end || strspn(it->value, "0123456789.") !=
                                strlen(it->value) || score < 0 || score > 10)
            perr(ps, it->line, it->key, "'%s' is not a CVSS score 0.0-10.0",
                 it->value);
        else if (a->severity && cvss_severity(score) != (int)a->severity)
            perr(ps, it->line, it->key, "%s is %s, but severity says %s",
                 it->value, zg_adv_severity_name(cvss_severity(score)),
                 zg_adv_severity_name(a->severity));
        return;
    }
    case K_SUMMARY: a->summary = copy; return;
    case K_URL:
        a->url = copy;
        if (strncmp(copy, "https://", 8) != 0)
            perr(ps, it->line, it->key, "'%s' is not an https:// URL", copy);
        return;
    case K_NOTE: a->note = copy; return;
    case K_ALIASES:
        a->aliases = copy;
        check_aliases(ps, it, a);
        return;
    case K_MASTER: a->master = copy; return;
    case K_WHEN:
        free(copy);
        if (strcmp(it->value, "no-curve") != 0)
            perr(ps, it->line, it->key, "'%s' is not a condition zguard "
                 "knows (only 'no-curve')", it->value);
        else
            a->no_curve = true;
        return;
    default: a->mitigation = copy; return;
    }
}

static void on_pair(parser_t *ps, const zg_ini_item_t *it)
{
    switch (ps->kind) {
    case SEC_TOP: on_top(ps, it); break;
    case SEC_RELEASE: on_release_key(ps, it); break;
    case SEC_ADVISORY: on_advisory_key(ps, it); break;
    default: break; /* a bad header was reported once; not each key */
    }
}

/* After the last line: what the file as a whole must have. */
static void db_done(parser_t *ps)
{
    advisory_done(ps);
    zg_advisories_t *db = ps->db;
    if (!ps->top_line[T_FORMAT])
        perr(ps, 1, "format", "missing 'format = %d' before the first "
             "section", ZG_ADVISORY_FORMAT);
    if (!ps->top_line[T_REVIEWED])
        perr(ps, 1, "reviewed", "missing: the date someone last checked "
             "this file (reviewed = YYYY-MM-DD)");
    if (!ps->top_line[T_LATEST])
        perr(ps, 1, "latest_stable", "missing: the newest stable libzmq");
    for (size_t i = 0; i < db->nreleases; i++)
        if (db->releases[i].day < 0 && db->releases[i].line)
            perr(ps, db->releases[i].line,
                 zg_ver_str(db->releases[i].ver, 0), "missing key 'date'");
    if (ps->latest_ok && !zg_advisories_release(db, db->latest))
        perr(ps, ps->top_line[T_LATEST], "latest_stable",
             "%s has no [release.%s] section with its date",
             zg_ver_str(db->latest, 0), zg_ver_str(db->latest, 1));
    else if (ps->latest_ok && db->nreleases &&
             zg_ver_cmp(db->releases[db->nreleases - 1].ver, db->latest) > 0)
        perr(ps, ps->top_line[T_LATEST], "latest_stable",
             "%s is older than [release.%s]", zg_ver_str(db->latest, 0),
             zg_ver_str(db->releases[db->nreleases - 1].ver, 1));
}

zg_advisories_t *zg_advisories_parse(const char *text, size_t len,
                                     const char *file, zg_diag_t *diag)
{
    parser_t ps = {.file = file, .diag = diag, .kind = SEC_TOP};
    ps.db = calloc(1, sizeof *ps.db);
    if (!ps.db || !(ps.db->file = strdup(file))) {
        free(ps.db);
        errno = ENOMEM;
        zg_error_set("out of memory");
        return NULL;
    }
    zg_ini_t ini;
    zg_ini_item_t it;
    zg_ini_init(&ini, text, len);
    for (zg_ini_next(&ini, &it); it.kind != ZG_INI_END && !ps.oom;
         zg_ini_next(&ini, &it)) {
        if (it.kind == ZG_INI_ERROR)
            perr(&ps, it.line, it.key, "%s", it.error);
        else if (it.kind == ZG_INI_SECTION)
            on_section(&ps, &it);
        else
            on_pair(&ps, &it);
    }
    if (ps.oom) {
        zg_advisories_destroy(&ps.db);
        errno = ENOMEM;
        zg_error_set("out of memory");
        return NULL;
    }
    db_done(&ps);
    if (ps.errors) {
        zg_advisories_destroy(&ps.db);
        errno = EINVAL;
        return NULL;
    }
    return ps.db;
}

zg_advisories_t *zg_advisories_load(const char *path, zg_diag_t *diag)
{
    size_t len = 0;
    char *text = zg_file_read_text(path, DB_FILE_MAX, &len);
    if (!text) {
        int saved = errno;
        const char *why = errno == EFBIG ? "larger than 1 MiB, not an "
                                           "advisory database"
                                         : strerror(errno);
        zg_diag_add(diag, ZG_SEV_ERROR, path, 0, "file", "cannot read: %s",
                    why);
        errno = saved;
        zg_error_set("%s: cannot read: %s", path, why);
        return NULL;
    }
    zg_advisories_t *db = zg_advisories_parse(text, len, path, diag);
    free(text);
    return db;
}

/* ---- where the database is ----------------------------------------------------- */

#ifndef ZG_DATADIR
#define ZG_DATADIR "/usr/local/share/zguard"
#endif

static bool try_dir(const char *dir, char *out, size_t cap)
{
    if (!dir || !*dir)
        return false;
    int n = snprintf(out, cap, "%s/%s", dir, ZG_ADVISORY_FILE);
    return n > 0 && (size_t)n < cap && access(out, F_OK) == 0;
}

int zg_advisories_find(const char *path, char *out, size_t cap)
{
    if (path) {
        /* an explicit path is used as given, even if it does not exist:
         * the error then names it */
        if (snprintf(out, cap, "%s", path) >= (int)cap) {
            errno = ENAMETOOLONG;
            zg_error_set("%s: path too long", path);
            return -1;
        }
        return 0;
    }
    /* $ZGUARD_DATADIR (a deployment's own, or tests'), then where `cmake
     * --install` put it, then the source tree this zguard was built from,
     * so the build directory works before anything is installed */
    const char *env = getenv("ZGUARD_DATADIR");
    if (try_dir(env, out, cap) || try_dir(ZG_DATADIR, out, cap))
        return 0;
#ifdef ZG_SOURCE_DATADIR
    if (try_dir(ZG_SOURCE_DATADIR, out, cap))
        return 0;
#endif
    errno = ENOENT;
    zg_error_set("no libzmq advisory database %s found in%s%s%s %s"
#ifdef ZG_SOURCE_DATADIR
                 " or " ZG_SOURCE_DATADIR
#endif
                 ,
                 ZG_ADVISORY_FILE, env && *env ? " $ZGUARD_DATADIR (" : "",
                 env && *env ? env : "", env && *env ? ")," : "", ZG_DATADIR);
    return -1;
}

/* ---- the gate -------------------------------------------------------------------- */

/* min_libzmq: nothing older than the policy allows. */
static int gate_min(zg_ctx_t *ctx, zg_ver_t runtime)
{
    unsigned line = 0;
    const char *min = zg_policy_libzmq(ctx->policy, "min_libzmq", &line);
    zg_ver_t want;
    if (!min || zg_ver_parse(min, &want) != 0 ||
        zg_ver_cmp(runtime, want) >= 0)
        return 0;
    errno = ENOTSUP;
    zg_error_set("libzmq %s is loaded, but the policy requires min_libzmq = "
                 "%s (%s:%u): upgrade libzmq (see zguard doctor)",
                 zg_ver_str(runtime, 0), zg_ver_str(want, 1),
                 zg_policy_file(ctx->policy), line);
    return -1;
}

/* "CVE-2020-15166 (high), ..." into buf, as much as fits. */
static size_t list_applying(const zg_advisories_t *db, zg_ver_t v, char *buf,
                            size_t cap)
{
    size_t count = 0, used = 0;
    bool full = false;
    buf[0] = '\0';
    for (size_t i = 0; i < db->count; i++) {
        const zg_advisory_t *a = &db->items[i];
        /* issues have no fix to upgrade to; behaviours zguard works
         * around */
        if (a->unfixed || a->behaviour || !zg_advisory_applies(a, v))
            continue;
        count++;
        if (full)
            continue;
        int n = snprintf(buf + used, cap - used, "%s%s (%s)",
                         count > 1 ? ", " : "", a->id,
                         zg_adv_severity_name(a->severity));
        if (n > 0 && used + (size_t)n + 6 < cap) {
            used += (size_t)n;
        } else {
            /* zguard doctor lists every one */
            snprintf(buf + used, cap - used, ", ...");
            full = true;
        }
    }
    return count;
}

/* on_advisory: fail refuses a libzmq with a known advisory; warn logs. */
static int gate_advisories(zg_ctx_t *ctx, zg_ver_t runtime,
                           const char *db_path)
{
    unsigned line = 0;
    const char *mode = zg_policy_libzmq(ctx->policy, "on_advisory", &line);
    bool fail = mode && strcmp(mode, "fail") == 0;
    char path[1024];
    zg_advisories_t *db = NULL;
    if (zg_advisories_find(db_path, path, sizeof path) == 0)
        db = zg_advisories_load(path, NULL);
    if (!db) {
        int cause = errno;
        if (!fail) {
            zg_log(ctx, ZG_LOG_WARNING, "libzmq advisories not checked: %s",
                   zg_last_error());
            return 0;
        }
        /* fail closed: the policy asked for a check that cannot be made */
        char why[ZG_ERROR_MAX];
        snprintf(why, sizeof why, "%s", zg_last_error());
        errno = cause == ENOENT ? ENOENT : EINVAL;
        zg_error_set("the policy says on_advisory = fail (%s:%u) but the "
                     "advisory database cannot be used: %s",
                     zg_policy_file(ctx->policy), line, why);
        return -1;
    }
    char ids[320];
    size_t n = list_applying(db, runtime, ids, sizeof ids);
    zg_advisories_destroy(&db);
    if (n == 0)
        return 0;
    if (!fail) {
        zg_log(ctx, ZG_LOG_WARNING,
               "libzmq %s has %zu known advisor%s: %s; upgrade, or check "
               "that the distribution backported the fixes (zguard doctor)",
               zg_ver_str(runtime, 0), n, n == 1 ? "y" : "ies", ids);
        return 0;
    }
    errno = ENOTSUP;
    zg_error_set("libzmq %s has known advisories and the policy says "
                 "on_advisory = fail (%s:%u): %s",
                 zg_ver_str(runtime, 0), zg_policy_file(ctx->policy), line,
                 ids);
    return -1;
}

int zg_libzmq_gate_check(zg_ctx_t *ctx, zg_ver_t runtime, const char *db_path)
{
    if (gate_min(ctx, runtime) != 0)
        return -1;
    return gate_advisories(ctx, runtime, db_path);
}

int zg_libzmq_gate(zg_ctx_t *ctx)
{
    zg_ver_t v;
    zmq_version(&v.major, &v.minor, &v.patch);
    return zg_libzmq_gate_check(ctx, v, NULL);
}
