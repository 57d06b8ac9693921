/*
 * report_text.c - the two plain-text reports.
 *
 * `text` is for people at a terminal: each socket with its mitigations,
 * then the findings, coloured by severity when standard output is a
 * terminal. `lines` is one line per socket and per finding in the form
 * compilers use (FILE:LINE:COL: ...), stable for diffs: the test corpus
 * records its expected findings in it (the .expect files in tests/audit).
 */
#include "audit.h"

#include <string.h>

#define C_RESET "\033[0m"
#define C_BOLD "\033[1m"

static const char *sev_color(au_sev_t s)
{
    switch (s) {
    case AU_SEV_CRITICAL: return "\033[1;31m";
    case AU_SEV_HIGH: return "\033[31m";
    case AU_SEV_MEDIUM: return "\033[33m";
    default: return "\033[36m";
    }
}

void au_mstate_brief(const au_mstate_t *m, char *buf, size_t cap)
{
    static const char *const tags[] = {"", "", "(weak)", "(after-bind)", "(unknown)", ""};
    const char *tag = (unsigned)m->status < sizeof tags / sizeof tags[0] ? tags[m->status] : "";
    char where[48] = "";
    if (m->status == AU_ST_NOT_SET) {
        snprintf(buf, cap, "-");
        return;
    }
    if (m->status == AU_ST_NOT_NEEDED) {
        snprintf(buf, cap, "n/a");
        return;
    }
    if ((m->source == AU_SRC_CONTEXT || m->source == AU_SRC_PROCESS) && m->line)
        snprintf(where, sizeof where, "(%s@%u)", au_source_name(m->source), m->line);
    else if (m->source == AU_SRC_POLICY)
        snprintf(where, sizeof where, "(policy)");
    else if (m->line)
        snprintf(where, sizeof where, "@%u", m->line);
    char text[AU_TEXT_MAX];
    size_t o = 0;
    for (const char *p = m->text[0] ? m->text : "?"; *p && o + 1 < sizeof text; p++)
        text[o++] = *p == ' ' ? '_' : *p; /* one token per mitigation */
    text[o] = '\0';
    snprintf(buf, cap, "%s%s%s", text, where, tag);
}

void au_mstate_describe(const au_mstate_t *m, char *buf, size_t cap)
{
    char where[64] = "";
    if (m->line && m->source == AU_SRC_SOCKET)
        snprintf(where, sizeof where, " (line %u)", m->line);
    else if (m->line)
        snprintf(where, sizeof where, " (%s default, line %u)", au_source_name(m->source),
                 m->line);
    else if (m->source == AU_SRC_POLICY)
        snprintf(where, sizeof where, " (zguard policy)");
    switch (m->status) {
    case AU_ST_NOT_SET: snprintf(buf, cap, "not set"); break;
    case AU_ST_NOT_NEEDED: snprintf(buf, cap, "not needed"); break;
    case AU_ST_SET: snprintf(buf, cap, "%s%s", m->text, where); break;
    case AU_ST_WEAK: snprintf(buf, cap, "%s%s: no limit", m->text, where); break;
    case AU_ST_INEFFECTIVE:
        snprintf(buf, cap, "%s%s, after bind/connect: does not apply", m->text, where);
        break;
    case AU_ST_UNKNOWN: snprintf(buf, cap, "%s%s, value not known", m->text, where); break;
    }
}

/* ---- lines -------------------------------------------------------------------------------- */

static void socket_line(FILE *out, const au_result_t *r, const au_socket_t *s)
{
    fprintf(out, "%s:%u:%u: socket %s '%s' (%s, %s", r->files[s->file].path, s->line,
            s->col, au_type_name(s->type), s->var, au_lang_name(s->lang),
            au_api_name(s->api));
    if (s->managed)
        fprintf(out, ", name %s", !s->zname_known ? "?" : s->zname[0] ? s->zname : "-");
    fputs("):", out);
    for (int m = 0; m < AU_M_COUNT; m++) {
        char b[AU_TEXT_MAX + 64];
        au_mstate_brief(&s->m[m], b, sizeof b);
        fprintf(out, " %s=%s", m == AU_M_AUTH ? "auth" : au_mit_key((au_mit_t)m), b);
    }
    fputc('\n', out);
}

static void finding_line(FILE *out, const au_result_t *r, const au_finding_t *x, int color)
{
    const char *c0 = color ? sev_color(x->severity) : "", *c1 = color ? C_RESET : "";
    fprintf(out, "%s:%u:%u: %s%s%s%s %s: %s", r->files[x->file].path, x->line, x->col,
            x->suppressed ? "suppressed " : "", c0, au_sev_name(x->severity), c1,
            au_rule_info(x->rule)->id, x->message);
    if (x->suppressed)
        fprintf(out, " -- %s", x->justification ? x->justification : "");
    fputc('\n', out);
}

void au_report_lines(FILE *out, const au_result_t *r, const au_report_opts_t *o)
{
    size_t s = 0, k = 0;
    for (size_t fi = 0; fi < r->nfiles; fi++) {
        for (; s < r->nsockets && r->sockets[s].file == fi; s++)
            socket_line(out, r, &r->sockets[s]);
        for (; k < r->nfindings && r->findings[k].file == fi; k++)
            finding_line(out, r, &r->findings[k], o->color);
    }
}

/* ---- text ---------------------------------------------------------------------------------- */

static void socket_block(FILE *out, const au_result_t *r, const au_socket_t *s, int color)
{
    fprintf(out, "%s%s:%u: %s socket '%s'%s (%s, %s%s%s%s%s%s)\n", color ? C_BOLD : "",
            r->files[s->file].path, s->line, au_type_name(s->type), s->var,
            color ? C_RESET : "", au_lang_name(s->lang), au_api_name(s->api),
            s->zname[0] ? ", zguard name " : "", s->zname,
            s->maker[0] ? ", made by " : "", s->maker, s->maker[0] ? "()" : "");
    static const char *const names[AU_M_COUNT] = {"SNDHWM", "RCVHWM", "SNDTIMEO",
        "RCVTIMEO", "MAXMSGSIZE", "LINGER", "CURVE", "authentication"};
    for (int m = 0; m < AU_M_COUNT; m++) {
        char d[AU_TEXT_MAX + 96];
        au_mstate_describe(&s->m[m], d, sizeof d);
        fprintf(out, "    %-15s %s\n", names[m], d);
    }
}

static void summary(FILE *out, const au_result_t *r, const au_report_opts_t *o)
{
    fprintf(out, "\n%zu socket%s in %zu file%s (%zu lines); findings: %zu critical, "
            "%zu high, %zu medium, %zu low; %zu suppressed\n",
            r->nsockets, r->nsockets == 1 ? "" : "s", r->nfiles, r->nfiles == 1 ? "" : "s",
            r->lines, au_result_count_exact(r, AU_SEV_CRITICAL),
            au_result_count_exact(r, AU_SEV_HIGH), au_result_count_exact(r, AU_SEV_MEDIUM),
            au_result_count_exact(r, AU_SEV_LOW), au_result_suppressed(r));
    if (r->baseline_file)
        fprintf(out, "%zu finding%s already in the baseline %s not reported\n", r->baselined,
                r->baselined == 1 ? "" : "s", r->baseline_file);
    size_t failing = au_result_count(r, o->fail_on);
    fprintf(out, "result: %s (--fail-on %s)\n",
            o->exit_code == 2 && failing == 0 ? "incomplete: some paths could not be read"
            : failing ? "fail" : au_result_count(r, AU_SEV_LOW) ? "warnings" : "clean",
            au_sev_name(o->fail_on));
}

void au_report_text(FILE *out, const au_result_t *r, const au_report_opts_t *o)
{
    for (size_t i = 0; i < r->nsockets; i++)
        socket_block(out, r, &r->sockets[i], o->color);
    if (r->nsockets && r->nfindings)
        fputc('\n', out);
    for (size_t i = 0; i < r->nfindings; i++)
        if (!r->findings[i].suppressed)
            finding_line(out, r, &r->findings[i], o->color);
    for (size_t i = 0; i < r->nfiles; i++)
        if (r->files[i].syntax_errors)
            fprintf(out, "%s: note: syntax errors; sockets after them may be missed\n",
                    r->files[i].path);
    summary(out, r, o);
}
