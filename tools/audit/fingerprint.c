/*
 * fingerprint.c - a finding's identity across commits, for --baseline and
 * SARIF's partialFingerprints: BLAKE2b (libsodium's crypto_generichash)
 * over the rule, the file's path, the innermost function or class around
 * the finding, its socket's variable and the text of its line without
 * whitespace. Never the line number: code that moves within a file, or
 * lines inserted above it, leave the fingerprint as it was; reformatting
 * the line does too.
 *
 * Findings that agree on all of these (the same call twice in one
 * function) are numbered in file order, and the number is hashed in, so
 * that each fingerprint names one finding.
 */
#include "audit.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#define FP_VERSION "zguard-audit-fp-1"
#define FP_LINE_MAX 512        /* characters of a line that are hashed */

void au_fp_span(au_file_t *f, TSNode n)
{
    int is_class = !au_is(n, "function_definition");
    TSNode name = ts_node_child_by_field_name(n, "name", 4);
    if (ts_node_is_null(name) && !is_class)
        name = au_declarator_name(ts_node_child_by_field_name(n, "declarator", 10));
    /* a class declaration without a body (`class X;`) holds nothing */
    if (ts_node_is_null(name) ||
        (is_class && ts_node_is_null(ts_node_child_by_field_name(n, "body", 4))))
        return;
    au_span_t *spans = au_grow(f->spans, &f->cap_spans, f->nspans, sizeof *spans);
    if (!spans)
        return; /* the fingerprint then names an outer scope */
    f->spans = spans;
    au_span_t *s = &f->spans[f->nspans++];
    s->first_row = ts_node_start_point(n).row;
    s->last_row = ts_node_end_point(n).row;
    s->is_class = is_class;
    s->scope = is_class ? 0 : ts_node_start_byte(n) + 1;
    au_text(f, name, s->name, sizeof s->name);
}

/* "Broker.serve": the innermost function, with the class around it. */
static void enclosing(const au_file_t *f, uint32_t row, char *buf, size_t cap)
{
    const au_span_t *fn = NULL, *cls = NULL;
    for (size_t i = 0; i < f->nspans; i++) {
        const au_span_t *s = &f->spans[i];
        if (row < s->first_row || row > s->last_row)
            continue;
        const au_span_t **best = s->is_class ? &cls : &fn;
        if (!*best || s->first_row >= (*best)->first_row)
            *best = s;
    }
    if (cls && fn && fn->first_row < cls->first_row)
        cls = NULL; /* a class inside the function: the function names it */
    snprintf(buf, cap, "%s%s%s", cls ? cls->name : "", cls && fn ? "." : "",
             fn ? fn->name : "");
}

/* Start of each line: built once per file that has findings. */
static uint32_t *line_starts(const au_file_t *f, size_t *n)
{
    size_t cap = 64, k = 0;
    uint32_t *ls = malloc(cap * sizeof *ls);
    if (!ls)
        return NULL;
    ls[k++] = 0;
    for (const char *p = f->src, *end = f->src + f->len;
         (p = memchr(p, '\n', (size_t)(end - p))) != NULL; p++) {
        if (k == cap) {
            uint32_t *g = realloc(ls, cap * 2 * sizeof *g);
            if (!g)
                break;
            ls = g;
            cap *= 2;
        }
        ls[k++] = (uint32_t)(p + 1 - f->src);
    }
    *n = k;
    return ls;
}

static void hash_str(crypto_generichash_state *st, const char *s, size_t len)
{
    crypto_generichash_update(st, (const unsigned char *)s, len);
    crypto_generichash_update(st, (const unsigned char *)"", 1); /* a separator */
}

/* "src/a.c" for "./src//a.c": the same file however it was named. */
static void hash_path(crypto_generichash_state *st, const char *path)
{
    char buf[4096];
    size_t k = 0;
    while (path[0] == '.' && path[1] == '/')
        path += 2;
    for (const char *p = path; *p && k + 1 < sizeof buf; p++)
        if (!(*p == '/' && k > 0 && buf[k - 1] == '/'))
            buf[k++] = *p;
    hash_str(st, buf, k);
}

static void hash_line(crypto_generichash_state *st, const au_file_t *f,
                      const uint32_t *ls, size_t nls, unsigned line)
{
    char buf[FP_LINE_MAX];
    size_t k = 0;
    if (ls && line >= 1 && line <= nls) {
        const char *end = f->src + f->len;
        for (const char *p = f->src + ls[line - 1]; p < end && *p != '\n' && k < sizeof buf;
             p++)
            if (*p != ' ' && *p != '\t' && *p != '\r' && *p != '\f' && *p != '\v')
                buf[k++] = *p;
    }
    hash_str(st, buf, k);
}

/* Where a finding is, without its line number: the function around it
 * and its line's text. */
static void context(const au_file_t *f, const uint32_t *ls, size_t nls, unsigned line,
                    unsigned char out[AU_FP_BYTES])
{
    char fn[AU_NAME_MAX * 2 + 2];
    enclosing(f, line ? line - 1 : 0, fn, sizeof fn);
    crypto_generichash_state st;
    crypto_generichash_init(&st, NULL, 0, AU_FP_BYTES);
    hash_str(&st, fn, strlen(fn));
    hash_line(&st, f, ls, nls, line);
    crypto_generichash_final(&st, out, AU_FP_BYTES);
}

void au_fp_base(const au_result_t *r, au_finding_t *x, const unsigned char ctx[AU_FP_BYTES])
{
    const char *var = x->socket >= 0 ? r->sockets[x->socket].var : "";
    const char *rule = au_rule_info(x->rule)->id;
    crypto_generichash_state st;
    crypto_generichash_init(&st, NULL, 0, sizeof x->fp_base);
    hash_str(&st, FP_VERSION, strlen(FP_VERSION));
    hash_str(&st, rule, strlen(rule));
    hash_path(&st, r->files[x->file].path);
    hash_str(&st, var, strlen(var));
    crypto_generichash_update(&st, ctx, AU_FP_BYTES);
    crypto_generichash_final(&st, x->fp_base, sizeof x->fp_base);
    memcpy(x->ctx, ctx, AU_FP_BYTES);
}

void au_fp_line_ctx(const au_result_t *r, size_t nfindings, size_t fi, unsigned line,
                    unsigned char out[AU_FP_BYTES])
{
    for (size_t i = 0; i < nfindings && i < r->nfindings; i++)
        if (r->findings[i].file == fi && r->findings[i].line == line) {
            memcpy(out, r->findings[i].ctx, AU_FP_BYTES);
            return;
        }
    for (size_t i = 0; i < r->ncalls; i++)
        if (r->calls[i].file == fi && r->calls[i].line == line) {
            memcpy(out, r->calls[i].ctx, AU_FP_BYTES);
            return;
        }
    for (size_t i = 0; i < r->npending; i++)
        if (r->pending[i].file == fi && r->pending[i].ev.line == line) {
            memcpy(out, r->pending[i].ctx, AU_FP_BYTES);
            return;
        }
    memset(out, 0, AU_FP_BYTES);
}

void au_fp_file(au_result_t *r, size_t fi, au_file_t *f, size_t first, size_t first_call)
{
    size_t first_pending = r->npending;
    while (first_pending > 0 && r->pending[first_pending - 1].file == fi)
        first_pending--;
    if (first >= r->nfindings && first_call >= r->ncalls && !f->nsupp &&
        first_pending == r->npending)
        return;
    size_t nls = 0;
    uint32_t *ls = line_starts(f, &nls);
    unsigned char ctx[AU_FP_BYTES];
    for (size_t i = first; i < r->nfindings; i++) {
        au_finding_t *x = &r->findings[i];
        if (x->file != fi)
            continue;
        context(f, ls, nls, x->line, ctx);
        au_fp_base(r, x, ctx);
    }
    for (size_t i = first_call; i < r->ncalls; i++)
        context(f, ls, nls, r->calls[i].line, r->calls[i].ctx);
    for (size_t i = 0; i < f->nsupp; i++)
        context(f, ls, nls, f->supp[i].end_line, f->supp[i].ctx);
    for (size_t i = first_pending; i < r->npending; i++)
        context(f, ls, nls, r->pending[i].ev.line, r->pending[i].ctx);
    free(ls);
}

typedef struct fp_ref {
    const unsigned char *base;
    size_t index;
} fp_ref_t;

static int cmp_refs(const void *a, const void *b)
{
    const fp_ref_t *x = a, *y = b;
    int c = memcmp(x->base, y->base, AU_FP_BYTES);
    return c ? c : (x->index < y->index ? -1 : x->index > y->index);
}

/* Hex of BLAKE2b(fp_base, occurrence): the first of equal ones has 0. */
static void finish_one(au_finding_t *x, uint32_t occurrence)
{
    unsigned char n[4] = {(unsigned char)(occurrence >> 24), (unsigned char)(occurrence >> 16),
                          (unsigned char)(occurrence >> 8), (unsigned char)occurrence};
    unsigned char out[AU_FP_BYTES];
    crypto_generichash_state st;
    crypto_generichash_init(&st, NULL, 0, sizeof out);
    crypto_generichash_update(&st, x->fp_base, sizeof x->fp_base);
    crypto_generichash_update(&st, n, sizeof n);
    crypto_generichash_final(&st, out, sizeof out);
    sodium_bin2hex(x->fingerprint, sizeof x->fingerprint, out, sizeof out);
}

void au_fp_finish(au_result_t *r)
{
    fp_ref_t *refs = r->nfindings ? malloc(r->nfindings * sizeof *refs) : NULL;
    if (!refs) {
        for (size_t i = 0; i < r->nfindings; i++)
            finish_one(&r->findings[i], 0);
        return;
    }
    for (size_t i = 0; i < r->nfindings; i++)
        refs[i] = (fp_ref_t){r->findings[i].fp_base, i};
    qsort(refs, r->nfindings, sizeof *refs, cmp_refs);
    uint32_t occ = 0;
    for (size_t i = 0; i < r->nfindings; i++) {
        occ = i > 0 && memcmp(refs[i - 1].base, refs[i].base, AU_FP_BYTES) == 0 ? occ + 1 : 0;
        finish_one(&r->findings[refs[i].index], occ);
    }
    free(refs);
}
