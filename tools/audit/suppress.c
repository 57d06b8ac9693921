/*
 * suppress.c - inline suppressions:
 *
 *     zmq_recv(s, buf, n, 0); // zguard-audit: ignore blocking-without-timeout -- woken by zmq_ctx_shutdown
 *     # zguard-audit: ignore hwm-not-set, linger-not-set -- test peer, lives 1 s
 *
 * A comment that starts with `zguard-audit:` suppresses the named rules on
 * its own line when it follows code, or on the next line when it stands
 * alone. The reason after `--` is required: a suppression without one is
 * not applied, and is itself a finding, so that every silenced finding in
 * a codebase says why. So are unknown rule names and suppressions that
 * silence nothing (they outlive the code they were written for): judged
 * once the whole run is read, since a call into a helper of another file
 * makes its finding only then.
 */
#include "audit.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#define DIRECTIVE "zguard-audit:"

static const char *skip_space(const char *p)
{
    while (*p && isspace((unsigned char)*p))
        p++;
    return p;
}

/* The comment's text after its opener: a double slash, slash-star or hash. */
static const char *comment_body(const char *text)
{
    const char *p = text;
    if (p[0] == '/' && (p[1] == '/' || p[1] == '*'))
        p += 2;
    while (*p == '/' || *p == '#' || *p == '*' || *p == '!')
        p++;
    return skip_space(p);
}

/* Code before the comment on its line: then it is a trailing comment. */
static int trailing(const au_file_t *f, TSNode n)
{
    uint32_t i = ts_node_start_byte(n);
    while (i > 0 && f->src[i - 1] != '\n') {
        if (!isspace((unsigned char)f->src[i - 1]))
            return 1;
        i--;
    }
    return 0;
}

/* Trailing spaces, and the star-slash that closes a block comment. */
static void trim_end(char *s)
{
    size_t n = strlen(s);
    while (n > 0 && isspace((unsigned char)s[n - 1]))
        n--;
    if (n >= 2 && s[n - 2] == '*' && s[n - 1] == '/') {
        n -= 2;
        while (n > 0 && isspace((unsigned char)s[n - 1]))
            n--;
    }
    s[n] = '\0';
}

void au_supp_parse(au_file_t *f, TSNode comment)
{
    char text[AU_TEXT_MAX * 2];
    au_text(f, comment, text, sizeof text);
    const char *p = comment_body(text);
    if (strncmp(p, DIRECTIVE, strlen(DIRECTIVE)) != 0)
        return;
    p = skip_space(p + strlen(DIRECTIVE));
    au_supp_t s;
    memset(&s, 0, sizeof s);
    TSPoint a = ts_node_start_point(comment), b = ts_node_end_point(comment);
    s.line = trailing(f, comment) ? a.row + 1 : b.row + 2;
    s.col = a.column + 1;
    s.end_line = a.row + 1; /* where the comment is, for findings about it */
    if (strncmp(p, "ignore", 6) == 0 && (isspace((unsigned char)p[6]) || !p[6]))
        p = skip_space(p + 6);
    else
        snprintf(s.rules, sizeof s.rules, "?");
    const char *dash = strstr(p, "--");
    size_t rl = dash ? (size_t)(dash - p) : strlen(p);
    if (!s.rules[0])
        snprintf(s.rules, sizeof s.rules, "%.*s", (int)rl, p);
    trim_end(s.rules);
    if (dash) {
        snprintf(s.reason, sizeof s.reason, "%s", skip_space(dash + 2));
        trim_end(s.reason);
    }
    s.has_reason = s.reason[0] != '\0';
    if (f->nsupp == f->cap_supp) {
        size_t nc = f->cap_supp ? f->cap_supp * 2 : 8;
        au_supp_t *grown = realloc(f->supp, nc * sizeof *grown);
        if (!grown)
            return;
        f->supp = grown;
        f->cap_supp = nc;
    }
    f->supp[f->nsupp++] = s;
}

/* Calls fn for each rule name in "a, b c". */
static int each_rule(const char *rules, int (*fn)(const char *, size_t, void *), void *arg)
{
    const char *p = rules;
    while (*p) {
        while (*p == ',' || isspace((unsigned char)*p))
            p++;
        const char *q = p;
        while (*q && *q != ',' && !isspace((unsigned char)*q))
            q++;
        if (q > p && fn(p, (size_t)(q - p), arg))
            return 1;
        p = q;
    }
    return 0;
}

static int names_rule(const char *name, size_t len, void *arg)
{
    return au_rule_from_id(name, len) == (int)*(au_rule_t *)arg;
}

static int unknown_rule(const char *name, size_t len, void *arg)
{
    (void)arg;
    return au_rule_from_id(name, len) < 0;
}

static void apply_one(au_finding_t *x, au_supp_t *s)
{
    if (!s->has_reason || x->line != s->line || x->suppressed)
        return;
    if (!each_rule(s->rules, names_rule, &x->rule))
        return;
    x->suppressed = 1;
    x->justification = strdup(s->reason);
    s->used = 1;
}

static void judge(au_result_t *r, size_t fi, const au_supp_t *s)
{
    size_t n = r->nfindings;
    if (!s->has_reason)
        au_finding_add(r, AU_R_SUPPRESSION_NO_REASON, fi, s->end_line, s->col, -1,
                       "suppression of '%s' gives no reason (write '-- why'): not applied",
                       s->rules);
    else if (strcmp(s->rules, "?") == 0 || !s->rules[0])
        au_finding_add(r, AU_R_SUPPRESSION_UNKNOWN_RULE, fi, s->end_line, s->col, -1,
                       "write 'zguard-audit: ignore RULE -- reason'");
    else if (each_rule(s->rules, unknown_rule, NULL))
        au_finding_add(r, AU_R_SUPPRESSION_UNKNOWN_RULE, fi, s->end_line, s->col, -1,
                       "suppression names an unknown rule in '%s'", s->rules);
    else if (!s->used)
        au_finding_add(r, AU_R_SUPPRESSION_UNUSED, fi, s->end_line, s->col, -1,
                       "suppression of '%s' matches no finding on line %u", s->rules,
                       s->line);
    if (r->nfindings > n)
        au_fp_base(r, &r->findings[n], s->ctx);
}

void au_supp_apply(au_result_t *r, size_t fi, au_file_t *f, size_t first)
{
    for (size_t i = 0; i < f->nsupp; i++)
        for (size_t k = first; k < r->nfindings; k++)
            if (r->findings[k].file == fi)
                apply_one(&r->findings[k], &f->supp[i]);
}

void au_supp_apply_late(au_result_t *r, au_finding_t *x)
{
    au_file_info_t *fi = &r->files[x->file];
    for (size_t i = 0; i < fi->nsupp; i++)
        apply_one(x, &fi->supp[i]);
}

void au_supp_judge(au_result_t *r)
{
    for (size_t fi = 0; fi < r->nfiles; fi++)
        for (size_t i = 0; i < r->files[fi].nsupp; i++)
            judge(r, fi, &r->files[fi].supp[i]);
}
