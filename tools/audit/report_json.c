/*
 * report_json.c - `--format json`: the whole result as one object, for CI
 * and other tools. The layout is documented in docs/audit.md and is a
 * contract: fields are only added, and "audit_format" changes if one ever
 * has to change meaning.
 */
#include "audit.h"

static void mitigation(FILE *out, const au_result_t *r, const au_mstate_t *m,
                       const char *key, int last)
{
    fprintf(out, "        \"%s\": {\"status\": \"%s\", \"source\": \"%s\", \"value\": ", key,
            au_status_name(m->status), au_source_name(m->source));
    if (m->known)
        fprintf(out, "%lld", (long long)m->value);
    else
        fputs("null", out);
    fputs(", \"text\": ", out);
    cli_json_string(out, m->status == AU_ST_NOT_SET || m->status == AU_ST_NOT_NEEDED ? NULL
                                                                                 : m->text);
    if (m->line)
        fprintf(out, ", \"line\": %u", m->line);
    else
        fputs(", \"line\": null", out);
    fputs(", \"set_in\": ", out);
    if (m->set_line && m->set_file < r->nfiles) {
        fputs("{\"function\": ", out);
        cli_json_string(out, m->set_by);
        fputs(", \"file\": ", out);
        cli_json_string(out, r->files[m->set_file].path);
        fprintf(out, ", \"line\": %u}", m->set_line);
    } else
        fputs("null", out);
    fputs(last ? "}\n" : "},\n", out);
}

static void endpoints(FILE *out, const au_socket_t *s)
{
    fputs("      \"endpoints\": [", out);
    for (size_t i = 0; i < s->nep; i++) {
        fprintf(out, "%s{\"line\": %u, \"kind\": \"%s\", \"endpoint\": ", i ? ", " : "",
                s->ep[i].line, s->ep[i].bind ? "bind" : "connect");
        cli_json_string(out, s->ep[i].text);
        fprintf(out, ", \"literal\": %s, \"partial\": %s}", s->ep[i].known ? "true" : "false",
                s->ep[i].partial ? "true" : "false");
    }
    fputs("],\n      \"operations\": [", out);
    for (size_t i = 0; i < s->nio; i++) {
        fprintf(out, "%s{\"line\": %u, \"call\": ", i ? ", " : "", s->io[i].line);
        cli_json_string(out, s->io[i].call);
        fprintf(out, ", \"direction\": \"%s\", \"can_block_forever\": %s}",
                s->io[i].send ? "send" : "recv", s->io[i].blocking ? "true" : "false");
    }
    fputs("]\n", out);
}

static void socket_obj(FILE *out, const au_result_t *r, const au_socket_t *s, int last)
{
    fputs("    {\n      \"file\": ", out);
    cli_json_string(out, r->files[s->file].path);
    fprintf(out, ",\n      \"line\": %u,\n      \"column\": %u,\n", s->line, s->col);
    fprintf(out, "      \"language\": \"%s\",\n      \"api\": \"%s\",\n",
            au_lang_name(s->lang), au_api_name(s->api));
    fputs("      \"type\": ", out);
    cli_json_string(out, s->type >= 0 ? au_type_name(s->type) : NULL);
    fputs(",\n      \"variable\": ", out);
    cli_json_string(out, s->var[0] ? s->var : NULL);
    fputs(",\n      \"zguard_name\": ", out);
    cli_json_string(out, s->managed && s->zname[0] ? s->zname : NULL);
    fputs(",\n      \"made_by\": ", out);
    cli_json_string(out, s->maker[0] ? s->maker : NULL);
    fprintf(out, ",\n      \"managed_by_zguard\": %s,\n      \"mitigations\": {\n",
            s->managed ? "true" : "false");
    for (int m = 0; m < AU_M_COUNT; m++)
        mitigation(out, r, &s->m[m], au_mit_key((au_mit_t)m), m == AU_M_COUNT - 1);
    fputs("      },\n", out);
    endpoints(out, s);
    fprintf(out, "    }%s\n", last ? "" : ",");
}

static void finding_obj(FILE *out, const au_result_t *r, const au_finding_t *x, int last)
{
    fprintf(out, "    {\"rule\": \"%s\", \"severity\": \"%s\", \"file\": ",
            au_rule_info(x->rule)->id, au_sev_name(x->severity));
    cli_json_string(out, r->files[x->file].path);
    fprintf(out, ", \"line\": %u, \"column\": %u, \"message\": ", x->line, x->col);
    cli_json_string(out, x->message);
    fputs(", \"socket\": ", out);
    if (x->socket >= 0)
        fprintf(out, "%ld", x->socket);
    else
        fputs("null", out);
    fprintf(out, ", \"suppressed\": %s, \"justification\": ", x->suppressed ? "true" : "false");
    cli_json_string(out, x->suppressed ? x->justification : NULL);
    fprintf(out, ", \"fingerprint\": \"%s\"", x->fingerprint);
    fprintf(out, "}%s\n", last ? "" : ",");
}

static void summary(FILE *out, const au_result_t *r)
{
    size_t langs[AU_LANG_COUNT] = {0}, syntax = 0;
    for (size_t i = 0; i < r->nfiles; i++) {
        langs[r->files[i].lang]++;
        syntax += r->files[i].syntax_errors != 0;
    }
    fprintf(out, "  \"summary\": {\n    \"files\": %zu,\n    \"lines\": %zu,\n"
            "    \"bytes\": %zu,\n    \"files_by_language\": {\"c\": %zu, \"c++\": %zu, "
            "\"python\": %zu},\n    \"files_with_syntax_errors\": %zu,\n"
            "    \"sockets\": %zu,\n", r->nfiles, r->lines, r->bytes, langs[AU_LANG_C],
            langs[AU_LANG_CPP], langs[AU_LANG_PYTHON], syntax, r->nsockets);
    fprintf(out, "    \"findings\": {\"critical\": %zu, \"high\": %zu, \"medium\": %zu, "
            "\"low\": %zu},\n    \"suppressed\": %zu,\n    \"baselined\": %zu\n  },\n",
            au_result_count_exact(r, AU_SEV_CRITICAL), au_result_count_exact(r, AU_SEV_HIGH),
            au_result_count_exact(r, AU_SEV_MEDIUM), au_result_count_exact(r, AU_SEV_LOW),
            au_result_suppressed(r), r->baselined);
}

void au_report_json(FILE *out, const au_result_t *r, const au_report_opts_t *o)
{
    fprintf(out, "{\n  \"audit_format\": %d,\n  \"zguard\": ", AU_FORMAT_VERSION);
    cli_json_string(out, zg_version_string());
    fputs(",\n  \"paths\": [", out);
    for (size_t i = 0; i < o->npaths; i++) {
        fputs(i ? ", " : "", out);
        cli_json_string(out, o->paths[i]);
    }
    fputs("],\n  \"policy\": ", out);
    cli_json_string(out, r->policy_file);
    fputs(",\n  \"baseline\": ", out);
    cli_json_string(out, r->baseline_file);
    fprintf(out, ",\n  \"fail_on\": \"%s\",\n", au_sev_name(o->fail_on));
    summary(out, r);
    fputs(r->nsockets ? "  \"sockets\": [\n" : "  \"sockets\": [", out);
    for (size_t i = 0; i < r->nsockets; i++)
        socket_obj(out, r, &r->sockets[i], i + 1 == r->nsockets);
    fputs(r->nsockets ? "  ],\n" : "],\n", out);
    fputs(r->nfindings ? "  \"findings\": [\n" : "  \"findings\": [", out);
    for (size_t i = 0; i < r->nfindings; i++)
        finding_obj(out, r, &r->findings[i], i + 1 == r->nfindings);
    fputs(r->nfindings ? "  ],\n" : "],\n", out);
    fputs("  \"errors\": [", out);
    for (size_t i = 0; i < r->nerrors; i++) {
        fputs(i ? ", " : "", out);
        cli_json_string(out, r->errors[i]);
    }
    fprintf(out, "],\n  \"exit\": %d\n}\n", o->exit_code);
}
