/*
 * report_markdown.c - `--format markdown`: the security analysis' own
 * structure, filled in for the scanned code. Each mitigation strategy gets
 * "Currently Implemented" and "Missing Implementation", naming every
 * socket with file:line, the way the analysis writes "Sockets A, B (in
 * module_x.cpp): HWM set to 1000. Socket C (in module_y.cpp): HWM not
 * set." The first three headings are the analysis' own words.
 */
#include "audit.h"

#include <string.h>

typedef struct section {
    const char *title;
    au_mit_t mits[3];
    int nmits;
    const char *missing_word;   /* "needs HWM configuration" */
    au_rule_t extra[4];         /* findings listed under Missing too */
    int nextra;
} section_t;

static const section_t sections[] = {
    {"Configure ZMQ_SNDHWM and ZMQ_RCVHWM on all sockets.",
     {AU_M_SNDHWM, AU_M_RCVHWM}, 2, "needs HWM configuration",
     {AU_R_HWM_UNBOUNDED}, 1},
    {"Employ ZMQ_SNDTIMEO and ZMQ_RCVTIMEO on all sockets.",
     {AU_M_SNDTIMEO, AU_M_RCVTIMEO}, 2, "needs timeouts",
     {AU_R_BLOCKING_NO_TIMEOUT}, 1},
    {"Implement CurveZMQ for all communication.",
     {AU_M_CURVE}, 1, "needs CurveZMQ",
     {AU_R_SECRET_HARDCODED, AU_R_TCP_BIND_ALL}, 2},
    {"Authenticate peers (ZAP handler, pinned server keys).",
     {AU_M_AUTH}, 1, "needs authentication",
     {AU_R_CURVE_NO_AUTH, AU_R_PICKLE_UNAUTH, AU_R_AUTH_GUARDS_NOTHING,
      AU_R_AUTH_STARTED_LATE}, 4},
    {"Limit message size with ZMQ_MAXMSGSIZE on receiving sockets.",
     {AU_M_MAXMSGSIZE}, 1, "needs MAXMSGSIZE", {0}, 0},
    {"Bound shutdown with a finite ZMQ_LINGER.",
     {AU_M_LINGER}, 1, "needs LINGER", {0}, 0},
};

static const char *const mit_titles[AU_M_COUNT] = {"SNDHWM", "RCVHWM", "SNDTIMEO",
    "RCVTIMEO", "MAXMSGSIZE", "LINGER", "CURVE", "authentication"};

/* Inside `code`: a backtick would end it early. */
static void md_code(FILE *out, const char *s)
{
    for (; s && *s; s++)
        fputc(*s == '`' ? '\'' : *s == '\n' ? ' ' : *s, out);
}

/* Prose: characters Markdown would read as markup are escaped. */
static void md_text(FILE *out, const char *s)
{
    for (; s && *s; s++) {
        if (strchr("\\`*_[]<>|#", *s))
            fputc('\\', out);
        fputc(*s == '\n' ? ' ' : *s, out);
    }
}

static int bad(au_status_t st)
{
    return st == AU_ST_NOT_SET || st == AU_ST_WEAK || st == AU_ST_INEFFECTIVE;
}

/* 1 implemented, 0 missing, -1 not applicable, -2 not determined */
static int verdict(const au_socket_t *s, const section_t *sec)
{
    int any_set = 0, unknown = 0;
    for (int i = 0; i < sec->nmits; i++) {
        au_status_t st = s->m[sec->mits[i]].status;
        if (bad(st))
            return 0;
        any_set |= st == AU_ST_SET;
        unknown |= st == AU_ST_UNKNOWN;
    }
    return unknown ? -2 : any_set ? 1 : -1;
}

static void socket_ref(FILE *out, const au_result_t *r, const au_socket_t *s)
{
    fputs("Socket `", out);
    md_code(out, s->var[0] ? s->var : "(unnamed)");
    fprintf(out, "` (%s, %s, `", au_type_name(s->type), au_api_name(s->api));
    md_code(out, r->files[s->file].path);
    fprintf(out, ":%u`)", s->line);
}

static void states(FILE *out, const au_socket_t *s, const section_t *sec)
{
    for (int i = 0; i < sec->nmits; i++) {
        char d[AU_TEXT_MAX + 96];
        au_mstate_describe(&s->m[sec->mits[i]], d, sizeof d);
        fprintf(out, "%s%s ", i ? "; " : ": ", mit_titles[sec->mits[i]]);
        md_text(out, d);
    }
    fputs(".\n", out);
}

static void findings_of(FILE *out, const au_result_t *r, const section_t *sec)
{
    for (size_t i = 0; i < r->nfindings; i++) {
        const au_finding_t *x = &r->findings[i];
        int listed = 0;
        for (int k = 0; k < sec->nextra; k++)
            listed |= x->rule == sec->extra[k];
        if (!listed || x->suppressed)
            continue;
        fputs("    * `", out);
        md_code(out, r->files[x->file].path);
        fprintf(out, ":%u` (%s, %s): ", x->line, au_sev_name(x->severity),
                au_rule_info(x->rule)->id);
        md_text(out, x->message);
        fputs("\n", out);
    }
}

static size_t list(FILE *out, const au_result_t *r, const section_t *sec, int want,
                   const char *prefix)
{
    size_t n = 0;
    for (size_t i = 0; i < r->nsockets; i++) {
        const au_socket_t *s = &r->sockets[i];
        if (verdict(s, sec) != want)
            continue;
        fputs("    * ", out);
        socket_ref(out, r, s);
        if (prefix)
            fprintf(out, " %s", prefix);
        states(out, s, sec);
        n++;
    }
    return n;
}

static void section(FILE *out, const au_result_t *r, const section_t *sec)
{
    fprintf(out, "## Mitigation Strategy: %s\n\n", sec->title);
    fputs("* **Currently Implemented:**\n", out);
    if (list(out, r, sec, 1, NULL) == 0)
        fputs("    * No socket.\n", out);
    fputs("* **Missing Implementation:**\n", out);
    size_t n = list(out, r, sec, 0, sec->missing_word);
    findings_of(out, r, sec);
    size_t extra = 0;
    for (size_t i = 0; i < r->nfindings; i++)
        for (int k = 0; k < sec->nextra; k++)
            extra += r->findings[i].rule == sec->extra[k] && !r->findings[i].suppressed;
    if (n == 0 && extra == 0)
        fputs("    * Nothing missing.\n", out);
    for (size_t i = 0, first = 1; i < r->nsockets; i++)
        if (verdict(&r->sockets[i], sec) == -2) {
            if (first)
                fputs("* **Not determined by the audit** (values set through variables "
                      "or by a policy the audit did not read):\n", out);
            first = 0;
            fputs("    * ", out);
            socket_ref(out, r, &r->sockets[i]);
            states(out, &r->sockets[i], sec);
        }
    fputs("\n", out);
}

static int in_sections(au_rule_t rule)
{
    static const au_rule_t per_socket[] = {AU_R_HWM_NOT_SET, AU_R_TIMEOUT_NOT_SET,
        AU_R_MAXMSGSIZE_NOT_SET, AU_R_LINGER_NOT_SET, AU_R_CURVE_MISSING};
    for (size_t i = 0; i < sizeof sections / sizeof sections[0]; i++)
        for (int k = 0; k < sections[i].nextra; k++)
            if (sections[i].extra[k] == rule)
                return 1;
    for (size_t i = 0; i < sizeof per_socket / sizeof per_socket[0]; i++)
        if (per_socket[i] == rule)
            return 1;
    return 0;
}

static void other_findings(FILE *out, const au_result_t *r)
{
    fputs("## Other findings\n\n", out);
    size_t n = 0;
    for (size_t i = 0; i < r->nfindings; i++) {
        const au_finding_t *x = &r->findings[i];
        if (x->suppressed || in_sections(x->rule))
            continue;
        fputs("* `", out);
        md_code(out, r->files[x->file].path);
        fprintf(out, ":%u` (%s, %s): ", x->line, au_sev_name(x->severity),
                au_rule_info(x->rule)->id);
        md_text(out, x->message);
        fputs("\n", out);
        n++;
    }
    if (!n)
        fputs("* None.\n", out);
    fputs("\n## Suppressed findings\n\n", out);
    n = 0;
    for (size_t i = 0; i < r->nfindings; i++) {
        const au_finding_t *x = &r->findings[i];
        if (!x->suppressed)
            continue;
        fputs("* `", out);
        md_code(out, r->files[x->file].path);
        fprintf(out, ":%u` %s: ", x->line, au_rule_info(x->rule)->id);
        md_text(out, x->message);
        fputs(". Reason: ", out);
        md_text(out, x->justification);
        fputs("\n", out);
        n++;
    }
    if (!n)
        fputs("* None.\n", out);
}

void au_report_markdown(FILE *out, const au_result_t *r, const au_report_opts_t *o)
{
    fputs("# ZeroMQ socket audit\n\nScanned:", out);
    for (size_t i = 0; i < o->npaths; i++) {
        fputs(i ? ", `" : " `", out);
        md_code(out, o->paths[i]);
        fputs("`", out);
    }
    fprintf(out, " (%zu files, %zu lines); %zu sockets found; findings: %zu critical, "
            "%zu high, %zu medium, %zu low (%zu suppressed). Produced by `zguard audit` "
            "%s.\n\n", r->nfiles, r->lines, r->nsockets,
            au_result_count_exact(r, AU_SEV_CRITICAL), au_result_count_exact(r, AU_SEV_HIGH),
            au_result_count_exact(r, AU_SEV_MEDIUM), au_result_count_exact(r, AU_SEV_LOW),
            au_result_suppressed(r), zg_version_string());
    if (r->baseline_file) {
        fprintf(out, "%zu finding%s already in the baseline `", r->baselined,
                r->baselined == 1 ? "" : "s");
        md_code(out, r->baseline_file);
        fputs("` not listed: only new findings are.\n\n", out);
    }
    if (r->policy_file) {
        fputs("Values were checked against the policy `", out);
        md_code(out, r->policy_file);
        fputs("`.\n\n", out);
    }
    for (size_t i = 0; i < sizeof sections / sizeof sections[0]; i++)
        section(out, r, &sections[i]);
    other_findings(out, r);
}
