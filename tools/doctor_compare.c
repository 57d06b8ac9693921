/*
 * doctor_compare.c - `zguard doctor --compare PREFIX`: the analysis'
 * "compare the current version with the latest" as a command.
 *
 * PREFIX is a libzmq staged by scripts/build-libzmq. This process already
 * runs on another libzmq, so the staged one is asked about itself by
 * zguard-libzmq-probe, a child that links no libzmq and dlopen()s
 * PREFIX/lib/libzmq.so.5 (tools/libzmq_probe.c says why not here). The
 * rest is files: the build's stamp, and the verdict the staged suite run
 * wrote (scripts/suite-verdict). The advisory database then says which
 * known flaws the upgrade removes and which stay.
 */
#include "doctor_compare.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zguard.h>

#include "cli.h"
#include "demo.h"

#define PROBE_TIMEOUT_MS 10000
#define KV_FILE_MAX 65536 /* a stamp or a verdict: a few lines */

/* The value of `key=` in text's lines (key=value, '#' comments), copied
 * into out; false when absent. */
static bool kv_get(const char *text, const char *key, char *out, size_t cap)
{
    size_t n = strlen(key);
    for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : p) {
        if (strncmp(p, key, n) != 0 || p[n] != '=')
            continue;
        const char *v = p + n + 1;
        size_t len = strcspn(v, "\n");
        snprintf(out, cap, "%.*s", (int)len, v);
        return true;
    }
    return false;
}

static long kv_long(const char *text, const char *key)
{
    char buf[32];
    if (!kv_get(text, key, buf, sizeof buf) || !*buf ||
        strspn(buf, "0123456789") != strlen(buf))
        return -1;
    return strtol(buf, NULL, 10);
}

/* ---- the probe ------------------------------------------------------------------ */

static void probe_line(staged_t *s, const zg_doctor_t *d, const char *line)
{
    char key[64];
    const char *eq = strchr(line, '=');
    if (!eq || (size_t)(eq - line) >= sizeof key)
        return;
    snprintf(key, sizeof key, "%.*s", (int)(eq - line), line);
    const char *v = eq + 1;
    if (strcmp(key, "version") == 0)
        s->probed = zg_ver_parse(v, &s->ver) == 0;
    else if (strcmp(key, "needs_sodium") == 0)
        s->needs_sodium = strcmp(v, "1") == 0;
    else if (strcmp(key, "pipes_stats") == 0)
        s->pipes_stats = strcmp(v, "1") == 0;
    else if (strncmp(key, "has.", 4) == 0)
        for (int i = 0; i < ZG_DOCTOR_CAPS; i++)
            if (strcmp(key + 4, d->cap_name[i]) == 0)
                s->cap[i] = strcmp(v, "1") == 0;
}

static void run_probe(staged_t *s, const zg_doctor_t *d, const char *probe)
{
    char *argv[] = {(char *)probe, s->lib, NULL};
    demo_proc_t p;
    if (proc_start(&p, "probe", argv, NULL) != 0) {
        snprintf(s->probe_error, sizeof s->probe_error, "cannot run %s: %s",
                 probe, strerror(errno));
        return;
    }
    char line[DEMO_LINE_MAX], last[DEMO_LINE_MAX] = "";
    while (proc_line(&p, PROBE_TIMEOUT_MS, line, sizeof line) == 1) {
        probe_line(s, d, line);
        snprintf(last, sizeof last, "%s", line);
    }
    int code = proc_wait(&p, PROBE_TIMEOUT_MS);
    int stopped = proc_stop(&p, SIGKILL, 1000); /* closes; kills if hung */
    if (code == -2)
        code = stopped;
    if (code != 0 || !s->probed) {
        s->probed = false;
        snprintf(s->probe_error, sizeof s->probe_error,
                 "zguard-libzmq-probe %s: exit %d%s%.300s", s->lib, code,
                 *last ? ": " : "", last);
        return;
    }
    s->curve = !s->cap[0]          ? ZG_CURVE_BACKEND_NONE
               : s->needs_sodium ? ZG_CURVE_BACKEND_LIBSODIUM
                                 : ZG_CURVE_BACKEND_TWEETNACL;
}

/* ---- the files scripts/build-libzmq and scripts/suite-verdict wrote ------------ */

static void read_stamp(staged_t *s)
{
    char path[STAGED_PATH_MAX + 40];
    snprintf(path, sizeof path, "%s/.zguard-libzmq-complete", s->prefix);
    size_t len = 0;
    char *text = zg_file_read_text(path, KV_FILE_MAX, &len);
    if (!text)
        return;
    s->stamped = true;
    if (!kv_get(text, "source", s->source, sizeof s->source) &&
        kv_get(text, "debian", s->source, sizeof s->source)) {
        char suite[64] = "";
        kv_get(text, "suite", suite, sizeof suite);
        size_t n = strlen(s->source);
        snprintf(s->source + n, sizeof s->source - n, " (Debian %s)", suite);
    }
    kv_get(text, "sha256", s->sha256, sizeof s->sha256);
    kv_get(text, "built", s->built, sizeof s->built);
    free(text);
}

static void read_verdict(staged_t *s)
{
    char path[STAGED_PATH_MAX + 40];
    snprintf(path, sizeof path, "%s/.zguard-suite-verdict", s->prefix);
    size_t len = 0;
    char *text = zg_file_read_text(path, KV_FILE_MAX, &len);
    if (!text)
        return;
    kv_get(text, "date", s->v_date, sizeof s->v_date);
    kv_get(text, "zguard_commit", s->v_commit, sizeof s->v_commit);
    kv_get(text, "libzmq", s->v_libzmq, sizeof s->v_libzmq);
    kv_get(text, "failed_tests", s->v_failed, sizeof s->v_failed);
    s->passed = kv_long(text, "passed");
    s->failed = kv_long(text, "failed");
    s->total = kv_long(text, "total");
    s->has_verdict = s->passed >= 0 && s->failed >= 0 && s->total >= 0;
    free(text);
}

/* ---- comparing ------------------------------------------------------------------- */

static int sort_advisories(staged_t *s, const zg_doctor_t *d)
{
    size_t n = d->db ? d->db->count : 0;
    s->fixed = calloc(n + 1, sizeof *s->fixed);
    s->remain = calloc(n + 1, sizeof *s->remain);
    s->added = calloc(n + 1, sizeof *s->added);
    if (!s->fixed || !s->remain || !s->added)
        return -1;
    for (size_t i = 0; i < n; i++) {
        const zg_advisory_t *a = &d->db->items[i];
        bool now = zg_advisory_applies_to(a, d->runtime, d->cap[0]);
        bool then = zg_advisory_applies_to(a, s->ver, s->cap[0]);
        if (now && !then)
            s->fixed[s->nfixed++] = a;
        else if (now && then)
            s->remain[s->nremain++] = a;
        else if (then)
            s->added[s->nadded++] = a;
    }
    return 0;
}

static void staged_findings(staged_t *s, zg_doctor_t *d)
{
    const char *p = s->prefix;
    if (!s->cap[0])
        zg_doctor_finding(d, ZG_FIND_FAILURE, "staged", p,
                          "the staged libzmq %s in %s has no CURVE: zguard "
                          "cannot run on it (build it with libsodium: "
                          "scripts/build-libzmq --source)",
                          zg_ver_str(s->ver, 0), p);
    else if (s->curve == ZG_CURVE_BACKEND_TWEETNACL)
        zg_doctor_finding(d, ZG_FIND_WARNING, "staged", p,
                          "the staged libzmq's CURVE runs on tweetnacl, not "
                          "libsodium");
    if (!s->cap[ZG_DOCTOR_CAPS - 1])
        zg_doctor_finding(d, ZG_FIND_WARNING, "staged", p,
                          "the staged libzmq has no draft API: exact queue "
                          "depths and versioned monitor events are not "
                          "tested against it");
    if (zg_ver_cmp(s->ver, d->runtime) < 0)
        zg_doctor_finding(d, ZG_FIND_WARNING, "staged", p,
                          "the staged libzmq %s is older than the running "
                          "%s", zg_ver_str(s->ver, 0),
                          zg_ver_str(d->runtime, 1));
    if (!s->has_verdict)
        zg_doctor_finding(d, ZG_FIND_WARNING, "staged-suite", p,
                          "no suite verdict in %s/.zguard-suite-verdict: run "
                          "make test LIBZMQ_PREFIX=%s", p, p);
    else if (strcmp(s->v_libzmq, zg_ver_str(s->ver, 0)) != 0)
        zg_doctor_finding(d, ZG_FIND_WARNING, "staged-suite", p,
                          "the suite verdict is for libzmq %s, but %s holds "
                          "%s now: run the suite again", s->v_libzmq, p,
                          zg_ver_str(s->ver, 0));
    else if (s->failed > 0 || s->passed != s->total || s->total == 0)
        zg_doctor_finding(d, ZG_FIND_FAILURE, "staged-suite", p,
                          "zguard's suite against the staged libzmq %s: %ld "
                          "of %ld tests failed (%s), %s: do not upgrade yet",
                          s->v_libzmq, s->failed, s->total, s->v_failed,
                          s->v_date);
}

int staged_compare(staged_t *s, zg_doctor_t *d, const char *prefix,
                   const char *probe)
{
    memset(s, 0, sizeof *s);
    s->passed = s->failed = s->total = -1;
    size_t n = strlen(prefix);
    while (n > 1 && prefix[n - 1] == '/')
        n--;
    snprintf(s->prefix, sizeof s->prefix, "%.*s", (int)n, prefix);
    snprintf(s->lib, sizeof s->lib, "%s/lib/libzmq.so.5", s->prefix);
    read_stamp(s);
    read_verdict(s);
    if (access(s->lib, R_OK) != 0) {
        snprintf(s->probe_error, sizeof s->probe_error, "%s: %s", s->lib,
                 strerror(errno));
    } else {
        run_probe(s, d, probe);
    }
    if (!s->probed) {
        zg_doctor_finding(d, ZG_FIND_FAILURE, "staged", s->prefix,
                          "no staged libzmq to compare with: %s%s",
                          s->probe_error,
                          s->stamped ? "" : " (stage one with "
                                            "scripts/build-libzmq)");
        return 0;
    }
    if (sort_advisories(s, d) != 0)
        return -1;
    staged_findings(s, d);
    return 0;
}

void staged_free(staged_t *s)
{
    free(s->fixed);
    free(s->remain);
    free(s->added);
    s->fixed = s->remain = s->added = NULL;
}

/* ---- output ------------------------------------------------------------------------ */

static const char *kind_name(const zg_advisory_t *a)
{
    return a->unfixed ? "issue" : a->behaviour ? "behaviour" : "advisory";
}

static void json_ids(FILE *out, const char *key, const zg_advisory_t **list,
                     size_t n, const char *after)
{
    fprintf(out, "    \"%s\": [", key);
    for (size_t i = 0; i < n; i++) {
        fprintf(out, "%s{\"id\": ", i ? ", " : "");
        cli_json_string(out, list[i]->id);
        fprintf(out, ", \"kind\": \"%s\", \"severity\": \"%s\"}",
                kind_name(list[i]), zg_adv_severity_name(list[i]->severity));
    }
    fprintf(out, "]%s", after);
}

static void json_staged(FILE *out, const staged_t *s, const zg_doctor_t *d)
{
    fputs("    \"staged\": {\n      \"version\": ", out);
    cli_json_string(out, zg_ver_str(s->ver, 0));
    fputs(",\n      \"path\": ", out);
    cli_json_string(out, s->lib);
    fprintf(out, ",\n      \"curve_backend\": \"%s\",\n",
            zg_curve_backend_name(s->curve));
    fprintf(out, "      \"draft_api\": %s,\n",
            s->cap[ZG_DOCTOR_CAPS - 1] ? "true" : "false");
    fprintf(out, "      \"zmq_socket_monitor_pipes_stats\": %s,\n",
            s->pipes_stats ? "true" : "false");
    fputs("      \"capabilities\": {", out);
    for (int i = 0; i < ZG_DOCTOR_CAPS; i++)
        fprintf(out, "%s\"%s\": %s", i ? ", " : "", d->cap_name[i],
                s->cap[i] ? "true" : "false");
    fputs("}\n    },\n", out);
}

static void json_built(FILE *out, const staged_t *s)
{
    if (!s->stamped) {
        fputs("    \"built_from\": null,\n", out);
        return;
    }
    fputs("    \"built_from\": {\"source\": ", out);
    cli_json_string(out, *s->source ? s->source : NULL);
    fputs(", \"sha256\": ", out);
    cli_json_string(out, *s->sha256 ? s->sha256 : NULL);
    fputs(", \"built\": ", out);
    cli_json_string(out, *s->built ? s->built : NULL);
    fputs("},\n", out);
}

static void json_suite(FILE *out, const staged_t *s)
{
    if (!s->has_verdict) {
        fputs("    \"suite\": null,\n", out);
        return;
    }
    fputs("    \"suite\": {\"date\": ", out);
    cli_json_string(out, s->v_date);
    fputs(", \"zguard_commit\": ", out);
    cli_json_string(out, s->v_commit);
    fputs(", \"libzmq\": ", out);
    cli_json_string(out, s->v_libzmq);
    fprintf(out, ", \"passed\": %ld, \"failed\": %ld, \"total\": %ld, "
                 "\"failed_tests\": ", s->passed, s->failed, s->total);
    cli_json_string(out, *s->v_failed ? s->v_failed : NULL);
    fputs("},\n", out);
}

void staged_print_json(FILE *out, const staged_t *s, const zg_doctor_t *d)
{
    fputs("  \"compare\": {\n    \"prefix\": ", out);
    cli_json_string(out, s->prefix);
    fputs(",\n", out);
    if (!s->probed) {
        fputs("    \"staged\": null,\n    \"error\": ", out);
        cli_json_string(out, s->probe_error);
        fputs("\n  },\n", out);
        return;
    }
    json_staged(out, s, d);
    json_built(out, s);
    json_suite(out, s);
    json_ids(out, "fixed_by_upgrade", s->fixed, s->nfixed, ",\n");
    json_ids(out, "remaining", s->remain, s->nremain, ",\n");
    json_ids(out, "new_in_staged", s->added, s->nadded, "\n");
    fputs("  },\n", out);
}

static void row(const char *name, const char *a, const char *b)
{
    printf("  %-20s %-24s %s\n", name, a, b);
}

static void print_ids(const char *name, const zg_advisory_t **list,
                      size_t n)
{
    printf("  %-20s ", name);
    if (n == 0)
        printf("none");
    for (size_t i = 0; i < n; i++)
        printf("%s%s (%s%s%s)", i ? ", " : "", list[i]->id,
               kind_name(list[i]), list[i]->aliases ? ", " : "",
               list[i]->aliases ? list[i]->aliases : "");
    putchar('\n');
}

void staged_print_table(const staged_t *s, const zg_doctor_t *d)
{
    printf("compared with the staged libzmq in %s\n\n", s->prefix);
    if (!s->probed) {
        printf("  %s\n\n", s->probe_error);
        return;
    }
    row("", "running", "staged");
    row("version", zg_ver_str(d->runtime, 0), zg_ver_str(s->ver, 1));
    row("CURVE on", zg_curve_backend_name(d->curve),
        zg_curve_backend_name(s->curve));
    row("draft API", d->has_draft ? "yes" : "no",
        s->cap[ZG_DOCTOR_CAPS - 1] ? "yes" : "no");
    row("GSSAPI", d->cap[1] ? "compiled in" : "no",
        s->cap[1] ? "compiled in" : "no");
    row("library (running)", d->libzmq_path, "");
    row("library (staged)", s->lib, "");
    if (s->stamped)
        printf("  %-20s %s%s%s, %s\n", "staged from", s->source,
               *s->sha256 ? " sha256 " : "", s->sha256, s->built);
    if (!s->has_verdict)
        printf("  %-20s not run (make test LIBZMQ_PREFIX=%s)\n",
               "suite on staged", s->prefix);
    else
        printf("  %-20s %s: %ld of %ld tests passed%s%s (%s, zguard %s, "
               "libzmq %s)\n", "suite on staged",
               s->failed == 0 && s->passed == s->total ? "passed" : "FAILED",
               s->passed, s->total, s->failed ? "; failed: " : "",
               s->failed ? s->v_failed : "", s->v_date, s->v_commit,
               s->v_libzmq);
    print_ids("upgrade fixes", s->fixed, s->nfixed);
    print_ids("still there", s->remain, s->nremain);
    if (s->nadded)
        print_ids("new in staged", s->added, s->nadded);
    putchar('\n');
}
