/*
 * cmd_doctor.c - `zguard doctor`: is the libzmq under this process current,
 * built right, and free of known advisories; is a policy weak?
 *
 * The checks live in doctor.c; this file only parses the
 * options and prints the result, as a table for people or as JSON for CI.
 * The JSON layout is a contract: fields are only ever added, and
 * "doctor_format" changes if one ever has to change meaning.
 */
#include "cli.h"

#include <stdarg.h>
#include <string.h>
#include <zguard.h>

#include "doctor.h"
#include "doctor_compare.h"

#define DOCTOR_FORMAT 1

static const char usage[] =
    "usage: zguard doctor [--json] [--policy FILE] [--fail-on LEVEL]\n"
    "                     [--advisories FILE] [--compare PREFIX]\n"
    "\n"
    "Checks the libzmq this program runs with, and optionally a policy:\n"
    "  - libzmq's version at run time (zmq_version) and at build time (the\n"
    "    ZMQ_VERSION macros zguard was compiled with), and a mismatch;\n"
    "  - libsodium's version, and whether libzmq's CURVE runs on libsodium\n"
    "    or on its bundled tweetnacl (from the DT_NEEDED entries of the\n"
    "    loaded libzmq.so);\n"
    "  - the draft API (zmq_has(\"draft\"), zmq_socket_monitor_pipes_stats)\n"
    "    and every zmq_has capability;\n"
    "  - the libzmq advisories whose version ranges include the run-time\n"
    "    version, and how far it is behind the latest stable release;\n"
    "  - mechanisms compiled in that must stay off (GSSAPI, PLAIN).\n"
    "\n"
    "Advisories are matched on the version alone. Distributions backport\n"
    "fixes without changing it (Debian's 4.3.4-6 says 4.3.4), so a match can\n"
    "be a false positive: read the package's changelog before acting.\n"
    "\n"
    "options:\n"
    "  --json             one JSON object on standard output, for CI; its\n"
    "                     fields are described in docs/updating-libzmq.md\n"
    "  --policy FILE      also load FILE and report its problems, weak values\n"
    "                     (unbounded or over 100000 messages or 60s, security\n"
    "                     = none), key files that are missing, unreadable or\n"
    "                     (secrets) readable by others, and whether\n"
    "                     min_libzmq / on_advisory would refuse this libzmq.\n"
    "                     Nothing is decrypted.\n"
    "  --fail-on LEVEL    low, medium, high (default) or critical: an advisory\n"
    "                     at or above LEVEL is a failure, below it a warning\n"
    "  --advisories FILE  the advisory database to use (default:\n"
    "                     $ZGUARD_DATADIR, then the installed one)\n"
    "  --compare PREFIX   also describe the libzmq staged in PREFIX by\n"
    "                     scripts/build-libzmq next to the running one:\n"
    "                     version, CURVE backend, draft API, where it was\n"
    "                     built from, the verdict of zguard's suite run\n"
    "                     against it (make test LIBZMQ_PREFIX=PREFIX writes\n"
    "                     PREFIX/.zguard-suite-verdict), and which known\n"
    "                     advisories, issues and behaviours the upgrade\n"
    "                     fixes and which remain. The staged library is\n"
    "                     asked by zguard-libzmq-probe, a child process in\n"
    "                     which it is the only libzmq. No CURVE there, a\n"
    "                     failed suite, or no libzmq in PREFIX is a\n"
    "                     failure; no verdict yet or no draft API a warning\n"
    "\n"
    "Exit 0 clean, 1 warnings (e.g. behind the latest stable), 2 a failure:\n"
    "an advisory at or above --fail-on, an invalid policy or an unusable key\n"
    "file, no CURVE, no advisory database, or (--compare) a staged libzmq\n"
    "that is missing, has no CURVE or failed the suite.\n";

/* ---- JSON ------------------------------------------------------------------- */

static void json_key(FILE *out, int indent, const char *key)
{
    fprintf(out, "%*s\"%s\": ", indent, "", key);
}

static void json_str_field(FILE *out, int indent, const char *key,
                           const char *value, const char *after)
{
    json_key(out, indent, key);
    cli_json_string(out, value);
    fputs(after, out);
}

typedef struct json_list {
    FILE *out;
    size_t n;
} json_list_t;

/* One alias as a JSON string, after a comma unless the first. */
static void json_alias(void *arg, const char *alias)
{
    json_list_t *l = arg;
    if (l->n++)
        fputs(", ", l->out);
    cli_json_string(l->out, alias);
}

typedef enum { KIND_ADVISORY, KIND_ISSUE, KIND_BEHAVIOUR } kind_t;

static kind_t kind_of(const zg_advisory_t *a)
{
    return a->unfixed ? KIND_ISSUE : a->behaviour ? KIND_BEHAVIOUR
                                                  : KIND_ADVISORY;
}

static void json_advisory(FILE *out, const zg_advisory_t *a, bool last)
{
    fputs("    {\n", out);
    json_str_field(out, 6, "id", a->id, ",\n");
    json_str_field(out, 6, "severity", zg_adv_severity_name(a->severity),
                   ",\n");
    json_key(out, 6, "cvss");
    fprintf(out, "%s,\n", a->cvss ? a->cvss : "null");
    static const char *const kinds[] = {"advisory", "issue", "behaviour"};
    json_str_field(out, 6, "kind", kinds[kind_of(a)], ",\n");
    json_key(out, 6, "aliases");
    json_list_t aliases = {out, 0};
    fputc('[', out);
    zg_advisory_aliases(a, json_alias, &aliases);
    fputs("],\n", out);
    json_str_field(out, 6, "affected", a->affected, ",\n");
    json_str_field(out, 6, "fixed", a->unfixed ? NULL : a->fixed, ",\n");
    json_str_field(out, 6, "summary", a->summary, ",\n");
    json_str_field(out, 6, "url", a->url, ",\n");
    if (a->unfixed || a->behaviour)
        json_str_field(out, 6, "mitigation", a->mitigation, ",\n");
    if (a->unfixed)
        json_str_field(out, 6, "master", a->master, ",\n");
    json_str_field(out, 6, "note", a->note, "\n");
    fprintf(out, "    }%s\n", last ? "" : ",");
}

static void json_matches(FILE *out, const zg_doctor_t *d, kind_t kind)
{
    size_t n = 0, done = 0;
    for (size_t i = 0; i < d->napplies; i++)
        n += kind_of(d->applies[i]) == kind;
    fputs(n ? "[\n" : "[]", out);
    for (size_t i = 0; i < d->napplies; i++)
        if (kind_of(d->applies[i]) == kind)
            json_advisory(out, d->applies[i], ++done == n);
    if (n)
        fputs("  ]", out);
    fputs(",\n", out);
}

static void json_libzmq(FILE *out, const zg_doctor_t *d)
{
    fputs("  \"libzmq\": {\n", out);
    json_str_field(out, 4, "runtime", zg_ver_str(d->runtime, 0), ",\n");
    json_str_field(out, 4, "compiled", zg_ver_str(d->compiled, 0), ",\n");
    fprintf(out, "    \"mismatch\": %s,\n",
            zg_ver_cmp(d->runtime, d->compiled) ? "true" : "false");
    json_str_field(out, 4, "path", d->libzmq_path[0] ? d->libzmq_path : NULL,
                   "\n  },\n");
    fputs("  \"libsodium\": {\n", out);
    json_str_field(out, 4, "version", d->sodium_version, "\n  },\n");
    fputs("  \"curve\": {\n", out);
    json_str_field(out, 4, "backend", zg_curve_backend_name(d->curve), ",\n");
    json_str_field(out, 4, "method", d->curve_how, "\n  },\n");
    fprintf(out,
            "  \"draft_api\": {\n    \"available\": %s,\n"
            "    \"zmq_has_draft\": %s,\n"
            "    \"zmq_socket_monitor_pipes_stats\": %s\n  },\n",
            d->has_draft ? "true" : "false", d->has_draft ? "true" : "false",
            d->has_pipes_stats ? "true" : "false");
    fputs("  \"capabilities\": {", out);
    for (int i = 0; i < ZG_DOCTOR_CAPS; i++)
        fprintf(out, "%s\n    \"%s\": %s", i ? "," : "", d->cap_name[i],
                d->cap[i] ? "true" : "false");
    fputs("\n  },\n", out);
    fprintf(out,
            "  \"mechanisms\": {\n"
            "    \"gssapi\": {\"compiled\": %s, \"allowed_by_zguard\": false},\n"
            "    \"plain\": {\"compiled\": true, \"allowed_by_zguard\": false}\n"
            "  },\n",
            d->cap[1] ? "true" : "false");
}

static void json_db(FILE *out, const zg_doctor_t *d)
{
    if (!d->db) {
        fputs("  \"advisory_db\": null,\n  \"latest_stable\": null,\n", out);
    } else {
        fputs("  \"advisory_db\": {\n", out);
        json_str_field(out, 4, "path", d->db_path, ",\n");
        fprintf(out, "    \"format\": %d,\n", d->db->format);
        json_str_field(out, 4, "reviewed", d->db->reviewed, ",\n");
        fprintf(out, "    \"reviewed_days_ago\": %lld,\n",
                (long long)d->db_age);
        size_t count[3] = {0, 0, 0};
        for (size_t i = 0; i < d->db->count; i++)
            count[kind_of(&d->db->items[i])]++;
        fprintf(out, "    \"advisories\": %zu,\n", count[KIND_ADVISORY]);
        fprintf(out, "    \"unfixed_issues\": %zu,\n", count[KIND_ISSUE]);
        fprintf(out, "    \"behaviours\": %zu\n  },\n",
                count[KIND_BEHAVIOUR]);
        fputs("  \"latest_stable\": {\n", out);
        json_str_field(out, 4, "version", zg_ver_str(d->db->latest, 0),
                       ",\n");
        json_str_field(out, 4, "date", d->latest ? d->latest->date : NULL,
                       ",\n");
        fprintf(out, "    \"days_since_release\": %lld,\n",
                (long long)d->latest_age);
        fprintf(out, "    \"is_latest\": %s,\n",
                zg_ver_cmp(d->runtime, d->db->latest) == 0 ? "true"
                                                           : "false");
        fprintf(out, "    \"releases_behind\": %d,\n", d->behind);
        fprintf(out, "    \"releases_behind_exact\": %s\n  },\n",
                d->behind_exact ? "true" : "false");
    }
    fputs("  \"advisories\": ", out);
    json_matches(out, d, KIND_ADVISORY);
    fputs("  \"unfixed_issues\": ", out);
    json_matches(out, d, KIND_ISSUE);
    fputs("  \"behaviours\": ", out);
    json_matches(out, d, KIND_BEHAVIOUR);
}

static void json_findings(FILE *out, const zg_doctor_t *d)
{
    fputs(d->nfindings ? "  \"findings\": [\n" : "  \"findings\": [],\n", out);
    for (size_t i = 0; i < d->nfindings; i++) {
        const zg_finding_t *f = &d->findings[i];
        fputs("    {", out);
        fprintf(out, "\"level\": \"%s\", \"check\": \"%s\", \"subject\": ",
                zg_finding_level_name(f->level), f->check);
        cli_json_string(out, f->subject);
        fputs(", \"message\": ", out);
        cli_json_string(out, f->message);
        fprintf(out, "}%s\n", i + 1 < d->nfindings ? "," : "");
    }
    if (d->nfindings)
        fputs("  ],\n", out);
}

static void print_json(FILE *out, const zg_doctor_t *d, const char *policy,
                       const staged_t *staged)
{
    fprintf(out, "{\n  \"doctor_format\": %d,\n", DOCTOR_FORMAT);
    json_str_field(out, 2, "zguard", zg_version_string(), ",\n");
    json_libzmq(out, d);
    json_db(out, d);
    if (policy) {
        fputs("  \"policy\": {\n", out);
        json_str_field(out, 4, "file", policy, ",\n");
        fprintf(out, "    \"valid\": %s\n  },\n",
                d->policy_valid ? "true" : "false");
    } else {
        fputs("  \"policy\": null,\n", out);
    }
    if (staged)
        staged_print_json(out, staged, d);
    else
        fputs("  \"compare\": null,\n", out);
    json_str_field(out, 2, "fail_on", zg_adv_severity_name(d->fail_on),
                   ",\n");
    json_findings(out, d);
    json_str_field(out, 2, "version_match_note",
                   "advisories are matched on the upstream version alone; "
                   "distributions backport fixes without changing it, so a "
                   "match can be a false positive",
                   ",\n");
    fprintf(out, "  \"exit\": %d\n}\n", zg_doctor_verdict(d));
}

/* ---- the table ---------------------------------------------------------------- */

static void row(const char *name, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void row(const char *name, const char *fmt, ...)
{
    va_list ap;
    printf("  %-20s ", name);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    putchar('\n');
}

static void print_caps(const zg_doctor_t *d)
{
    char yes[128] = "", no[128] = "";
    for (int i = 0; i < ZG_DOCTOR_CAPS; i++) {
        char *buf = d->cap[i] ? yes : no;
        size_t n = strlen(buf);
        snprintf(buf + n, sizeof yes - n, "%s%s", n ? " " : "",
                 d->cap_name[i]);
    }
    row("capabilities", "%s%s%s", yes, *no ? "; not: " : "", no);
}

static void print_latest(const zg_doctor_t *d)
{
    if (!d->db) {
        row("latest stable", "unknown (no advisory database)");
        return;
    }
    const char *ver = zg_ver_str(d->db->latest, 0);
    if (d->behind < 0)
        row("latest stable", "%s (this libzmq is newer)", ver);
    else if (d->behind == 0 && zg_ver_cmp(d->runtime, d->db->latest) == 0)
        row("latest stable", "%s (released %s): this is it", ver,
            d->latest ? d->latest->date : "?");
    else
        row("latest stable", "%s (released %s, %lld days ago): %s%d "
            "release%s behind", ver, d->latest ? d->latest->date : "?",
            (long long)d->latest_age, d->behind_exact ? "" : "at least ",
            d->behind, d->behind == 1 ? "" : "s");
}

static void print_matches(const zg_doctor_t *d)
{
    if (!d->db) {
        row("advisories", "not checked (no advisory database)");
        return;
    }
    size_t adv = 0, issues = 0, behaviours = 0;
    for (size_t i = 0; i < d->napplies; i++) {
        kind_t k = kind_of(d->applies[i]);
        adv += k == KIND_ADVISORY;
        issues += k == KIND_ISSUE;
        behaviours += k == KIND_BEHAVIOUR;
    }
    size_t total = 0;
    for (size_t i = 0; i < d->db->count; i++)
        total += kind_of(&d->db->items[i]) == KIND_ADVISORY;
    if (adv == 0)
        row("advisories", "none of %zu known applies to %s", total,
            zg_ver_str(d->runtime, 0));
    else
        row("advisories", "%zu of %zu known apply to %s (see below)", adv,
            total, zg_ver_str(d->runtime, 0));
    row("unfixed upstream", "%zu issue%s no release fixes yet (see below)",
        issues, issues == 1 ? "" : "s");
    if (behaviours)
        row("behaviours", "%zu fixed in a later release, worked around by "
            "zguard (see below)", behaviours);
    row("advisory database", "%s (format %d, reviewed %s)", d->db_path,
        d->db->format, d->db->reviewed);
}

static void print_table(const zg_doctor_t *d, const char *policy,
                        const staged_t *staged)
{
    printf("zguard doctor\n\n");
    row("libzmq (run time)", "%s%s%s", zg_ver_str(d->runtime, 0),
        d->libzmq_path[0] ? "  " : "", d->libzmq_path);
    row("libzmq (compiled)", "%s%s", zg_ver_str(d->compiled, 0),
        zg_ver_cmp(d->runtime, d->compiled) ? "  MISMATCH" : "");
    row("libsodium", "%s", d->sodium_version);
    row("CURVE on", "%s (%s)", zg_curve_backend_name(d->curve), d->curve_how);
    row("draft API", "%s (zmq_has: %s, zmq_socket_monitor_pipes_stats: %s)",
        d->has_draft ? "yes" : "no", d->has_draft ? "yes" : "no",
        d->has_pipes_stats ? "exported" : "missing");
    print_caps(d);
    row("GSSAPI", "%s", d->cap[1] ? "compiled in; refused by zguard"
                                  : "not compiled in");
    print_latest(d);
    print_matches(d);
    if (policy)
        row("policy", "%s: %s", policy, d->policy_valid ? "valid" : "INVALID");
    printf("\n");
    if (staged)
        staged_print_table(staged, d);
    if (d->nfindings) {
        printf("  %-8s %-16s %s\n", "LEVEL", "CHECK", "FINDING");
        for (size_t i = 0; i < d->nfindings; i++)
            printf("  %-8s %-16s %s\n",
                   zg_finding_level_name(d->findings[i].level),
                   d->findings[i].check, d->findings[i].message);
        printf("\n");
    }
    printf("Advisories are matched on the upstream version alone:\n"
           "distributions backport fixes without changing it, so a match\n"
           "can be a false positive (check the package changelog).\n");
    size_t warn = 0, fail = 0;
    for (size_t i = 0; i < d->nfindings; i++) {
        warn += d->findings[i].level == ZG_FIND_WARNING;
        fail += d->findings[i].level == ZG_FIND_FAILURE;
    }
    printf("\nresult: %zu failure%s, %zu warning%s (advisories fail at %s "
           "and above)\n",
           fail, fail == 1 ? "" : "s", warn, warn == 1 ? "" : "s",
           zg_adv_severity_name(d->fail_on));
}

/* ---- the command ---------------------------------------------------------------- */

int cmd_doctor(int argc, char **argv)
{
    if (cli_wants_help(argc, argv)) {
        fputs(usage, stdout);
        return EXIT_OK;
    }
    static const cli_opt_t opts[] = {{"json", 0, NULL, 'j'},
                                     {"policy", 0, "FILE", 'p'},
                                     {"fail-on", 0, "SEVERITY", 'f'},
                                     {"advisories", 0, "FILE", 'a'},
                                     {"compare", 0, "PREFIX", 'c'},
                                     {NULL, 0, NULL, 0}};
    const char *compare = NULL;
    cli_opts_t p = {.cmd = "zguard doctor", .table = opts, .argc = argc,
                    .argv = argv};
    zg_doctor_opts_t o = {.fail_on = ZG_ADV_HIGH};
    int json = 0;
    for (int c; (c = cli_opt_next(&p)) != CLI_OPT_END;) {
        switch (c) {
        case 'j': json = 1; break;
        case 'p': o.policy = p.value; break;
        case 'a': o.db_path = p.value; break;
        case 'c': compare = p.value; break;
        case 'f': {
            int s = zg_adv_severity_from_name(p.value);
            if (s < 0)
                return cli_usage_error("zguard doctor",
                                       "--fail-on '%s' is not low, medium, "
                                       "high or critical",
                                       p.value);
            o.fail_on = (zg_adv_severity_t)s;
            break;
        }
        default:
            return EXIT_FAIL;
        }
    }
    if (p.nargs)
        return cli_usage_error("zguard doctor", "unexpected argument '%s'",
                               cli_opt_args(&p)[0]);
    char probe[1024];
    if (compare && cli_find_program("zguard doctor", "zguard-libzmq-probe",
                                    probe, sizeof probe) != 0)
        return EXIT_FAIL;
    zg_doctor_t *d = zg_doctor_run(&o);
    if (!d) {
        fprintf(stderr, "zguard doctor: %s\n", zg_last_error());
        return EXIT_FAIL;
    }
    staged_t staged;
    if (compare && staged_compare(&staged, d, compare, probe) != 0) {
        fprintf(stderr, "zguard doctor: out of memory\n");
        staged_free(&staged);
        zg_doctor_destroy(&d);
        return EXIT_FAIL;
    }
    if (json)
        print_json(stdout, d, o.policy, compare ? &staged : NULL);
    else
        print_table(d, o.policy, compare ? &staged : NULL);
    int rc = zg_doctor_verdict(d);
    if (compare)
        staged_free(&staged);
    zg_doctor_destroy(&d);
    return rc;
}
