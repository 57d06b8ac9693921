/*
 * report_sarif.c - `--format sarif`: SARIF 2.1.0 for code-scanning
 * services. One run; the driver lists every rule (with GitHub's
 * "security-severity" property); each finding is a result with its
 * location, and a suppressed one carries an inSource suppression with its
 * justification, as the standard provides, rather than being dropped.
 */
#include "audit.h"

#include <ctype.h>
#include <string.h>

/* The partialFingerprints key: versioned, as SARIF advises, so that a
 * change of what is hashed reads as a new kind rather than new findings. */
#define AU_SARIF_FP_KEY "zguardAuditFinding/v1"

static const char *level(au_sev_t s)
{
    return s >= AU_SEV_HIGH ? "error" : s == AU_SEV_MEDIUM ? "warning" : "note";
}

static const char *security_severity(au_sev_t s)
{
    static const char *const v[] = {"0.0", "3.0", "5.5", "8.0", "9.5"};
    return s >= AU_SEV_LOW && s <= AU_SEV_CRITICAL ? v[s] : "0.0";
}

/* A relative URI reference: unreserved characters and '/' as they are,
 * everything else percent-encoded; absolute paths become file:// URIs. */
static void uri(FILE *out, const char *path)
{
    fputc('"', out);
    if (path[0] == '/')
        fputs("file://", out);
    while (path[0] == '.' && path[1] == '/')
        path += 2;
    for (const unsigned char *p = (const unsigned char *)path; *p; p++) {
        if (isalnum(*p) || strchr("-._~/", *p))
            fputc(*p, out);
        else
            fprintf(out, "%%%02X", *p);
    }
    fputc('"', out);
}

static void rules(FILE *out)
{
    fputs("          \"rules\": [\n", out);
    for (int i = 0; i < AU_R_COUNT; i++) {
        const au_rule_info_t *ri = au_rule_info((au_rule_t)i);
        fprintf(out, "            {\"id\": \"%s\", \"shortDescription\": {\"text\": ", ri->id);
        cli_json_string(out, ri->title);
        fputs("}, \"fullDescription\": {\"text\": ", out);
        cli_json_string(out, ri->help);
        fputs("}, \"help\": {\"text\": ", out);
        cli_json_string(out, ri->help);
        fprintf(out, "}, \"defaultConfiguration\": {\"level\": \"%s\"}, "
                "\"properties\": {\"security-severity\": \"%s\", \"tags\": [\"security\", "
                "\"zeromq\"]}}%s\n", level(ri->severity), security_severity(ri->severity),
                i + 1 < AU_R_COUNT ? "," : "");
    }
    fputs("          ]\n", out);
}

static void result(FILE *out, const au_result_t *r, const au_finding_t *x, int last)
{
    fprintf(out, "        {\"ruleId\": \"%s\", \"ruleIndex\": %d, \"level\": \"%s\", "
            "\"message\": {\"text\": ", au_rule_info(x->rule)->id, (int)x->rule,
            level(x->severity));
    cli_json_string(out, x->message);
    fputs("}, \"locations\": [{\"physicalLocation\": {\"artifactLocation\": {\"uri\": ", out);
    uri(out, r->files[x->file].path);
    fprintf(out, "}, \"region\": {\"startLine\": %u, \"startColumn\": %u}}}]", x->line,
            x->col);
    /* rule, file, function, socket and line text: not the line number */
    fprintf(out, ", \"partialFingerprints\": {\"" AU_SARIF_FP_KEY "\": \"%s\"}", x->fingerprint);
    if (x->suppressed) {
        fputs(", \"suppressions\": [{\"kind\": \"inSource\", \"justification\": ", out);
        cli_json_string(out, x->justification ? x->justification : "");
        fputs("}]", out);
    }
    fprintf(out, "}%s\n", last ? "" : ",");
}

static void invocation(FILE *out, const au_result_t *r)
{
    fprintf(out, "      \"invocations\": [{\"executionSuccessful\": %s, "
            "\"toolExecutionNotifications\": [", r->nerrors ? "false" : "true");
    for (size_t i = 0; i < r->nerrors; i++) {
        fprintf(out, "%s{\"level\": \"error\", \"message\": {\"text\": ", i ? ", " : "");
        cli_json_string(out, r->errors[i]);
        fputs("}}", out);
    }
    fputs("]}],\n", out);
}

void au_report_sarif(FILE *out, const au_result_t *r, const au_report_opts_t *o)
{
    (void)o;
    fputs("{\n  \"$schema\": \"https://json.schemastore.org/sarif-2.1.0.json\",\n"
          "  \"version\": \"2.1.0\",\n  \"runs\": [\n    {\n"
          "      \"tool\": {\n        \"driver\": {\n"
          "          \"name\": \"zguard audit\",\n          \"semanticVersion\": ", out);
    cli_json_string(out, zg_version_string());
    fputs(",\n", out);
    rules(out);
    fputs("        }\n      },\n", out);
    invocation(out, r);
    fputs(r->nfindings ? "      \"results\": [\n" : "      \"results\": [", out);
    for (size_t i = 0; i < r->nfindings; i++)
        result(out, r, &r->findings[i], i + 1 == r->nfindings);
    fputs(r->nfindings ? "      ]\n" : "]\n", out);
    fputs("    }\n  ]\n}\n", out);
}
