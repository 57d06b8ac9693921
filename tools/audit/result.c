/*
 * result.c - what an audit found: files, sockets, findings and the errors
 * that kept a path from being read, with the counts reports and exit codes
 * are made from.
 */
#include "audit.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

au_result_t *au_result_new(void)
{
    return calloc(1, sizeof(au_result_t));
}

void au_result_destroy(au_result_t **r)
{
    if (!r || !*r)
        return;
    au_result_t *x = *r;
    for (size_t i = 0; i < x->nfiles; i++) {
        free(x->files[i].path);
        free(x->files[i].supp);
    }
    free(x->helpers);
    free(x->calls);
    free(x->pending);
    for (size_t i = 0; i < x->nsockets; i++) {
        free(x->sockets[i].ep);
        free(x->sockets[i].io);
        free(x->sockets[i].late);
    }
    for (size_t i = 0; i < x->nfindings; i++) {
        free(x->findings[i].message);
        free(x->findings[i].justification);
    }
    for (size_t i = 0; i < x->nerrors; i++)
        free(x->errors[i]);
    free(x->files);
    free(x->sockets);
    free(x->findings);
    free(x->errors);
    free(x);
    *r = NULL;
}

static int vformat(char **out, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

static int vformat(char **out, const char *fmt, va_list ap)
{
    va_list copy;
    va_copy(copy, ap);
    int n = vsnprintf(NULL, 0, fmt, copy);
    va_end(copy);
    if (n < 0 || !(*out = malloc((size_t)n + 1)))
        return -1;
    vsnprintf(*out, (size_t)n + 1, fmt, ap);
    return 0;
}

int au_result_error(au_result_t *r, const char *fmt, ...)
{
    if (r->nerrors == r->cap_errors) {
        size_t nc = r->cap_errors ? r->cap_errors * 2 : 8;
        char **e = realloc(r->errors, nc * sizeof *e);
        if (!e)
            return -1;
        r->errors = e;
        r->cap_errors = nc;
    }
    va_list ap;
    va_start(ap, fmt);
    int rc = vformat(&r->errors[r->nerrors], fmt, ap);
    va_end(ap);
    if (rc == 0)
        r->nerrors++;
    return -1;
}

int au_finding_add(au_result_t *r, au_rule_t rule, size_t fi, unsigned line,
                   unsigned col, long socket, const char *fmt, ...)
{
    if (r->nfindings == r->cap_findings) {
        size_t nc = r->cap_findings ? r->cap_findings * 2 : 32;
        au_finding_t *f = realloc(r->findings, nc * sizeof *f);
        if (!f)
            return -1;
        r->findings = f;
        r->cap_findings = nc;
    }
    au_finding_t *x = &r->findings[r->nfindings];
    memset(x, 0, sizeof *x);
    x->rule = rule;
    x->severity = au_rule_info(rule)->severity;
    x->file = fi;
    x->line = line;
    x->col = col ? col : 1;
    x->socket = socket;
    va_list ap;
    va_start(ap, fmt);
    int rc = vformat(&x->message, fmt, ap);
    va_end(ap);
    if (rc != 0)
        return -1;
    r->nfindings++;
    return 0;
}

size_t au_result_count(const au_result_t *r, au_sev_t sev)
{
    size_t n = 0;
    for (size_t i = 0; i < r->nfindings; i++)
        n += !r->findings[i].suppressed && r->findings[i].severity >= sev;
    return n;
}

size_t au_result_count_exact(const au_result_t *r, au_sev_t sev)
{
    size_t n = 0;
    for (size_t i = 0; i < r->nfindings; i++)
        n += !r->findings[i].suppressed && r->findings[i].severity == sev;
    return n;
}

size_t au_result_suppressed(const au_result_t *r)
{
    size_t n = 0;
    for (size_t i = 0; i < r->nfindings; i++)
        n += r->findings[i].suppressed != 0;
    return n;
}

static int cmp_findings(const void *pa, const void *pb)
{
    const au_finding_t *a = pa, *b = pb;
    if (a->file != b->file)
        return a->file < b->file ? -1 : 1;
    if (a->line != b->line)
        return a->line < b->line ? -1 : 1;
    if (a->col != b->col)
        return a->col < b->col ? -1 : 1;
    if (a->rule != b->rule)
        return a->rule < b->rule ? -1 : 1;
    return strcmp(a->message, b->message);
}

void au_result_sort(au_result_t *r)
{
    if (r->nfindings > 1)
        qsort(r->findings, r->nfindings, sizeof *r->findings, cmp_findings);
}

void au_result_finish(au_result_t *r)
{
    au_helpers_tree(r);
    au_findings_tree(r);
    au_supp_judge(r);
    au_result_sort(r);
    au_fp_finish(r);
}

typedef struct sock_ref {
    const au_result_t *r;
    size_t index, tree_first;
} sock_ref_t;

static int cmp_sockets(const void *a, const void *b)
{
    const sock_ref_t *x = a, *y = b;
    const au_socket_t *s = &x->r->sockets[x->index], *t = &y->r->sockets[y->index];
    int xt = x->index >= x->tree_first, yt = y->index >= y->tree_first;
    if (s->file != t->file)
        return s->file < t->file ? -1 : 1;
    if (xt != yt)
        return xt - yt;
    if (xt && s->line != t->line)
        return s->line < t->line ? -1 : 1;
    return x->index < y->index ? -1 : x->index > y->index;
}

void au_result_sort_sockets(au_result_t *r, size_t tree_first)
{
    size_t n = r->nsockets;
    sock_ref_t *refs = n ? malloc(n * sizeof *refs) : NULL;
    long *to = n ? malloc(n * sizeof *to) : NULL;
    au_socket_t *out = n ? malloc(n * sizeof *out) : NULL;
    if (!refs || !to || !out) { /* out of memory: left as they are */
        free(refs);
        free(to);
        free(out);
        return;
    }
    for (size_t i = 0; i < n; i++)
        refs[i] = (sock_ref_t){r, i, tree_first};
    qsort(refs, n, sizeof *refs, cmp_sockets);
    size_t k = 0;
    for (size_t i = 0; i < r->nfiles; i++)
        r->files[i].sockets = 0;
    for (size_t i = 0; i < n; i++) {
        au_socket_t *s = &r->sockets[refs[i].index];
        to[refs[i].index] = -1;
        if (s->hidden) {
            free(s->ep);
            free(s->io);
            free(s->late);
            continue;
        }
        to[refs[i].index] = (long)k;
        r->files[s->file].sockets++;
        out[k++] = *s;
    }
    for (size_t i = 0; i < r->nfindings; i++)
        if (r->findings[i].socket >= 0)
            r->findings[i].socket = to[r->findings[i].socket];
    free(r->sockets);
    r->sockets = out;
    r->nsockets = k;
    r->cap_sockets = n;
    free(refs);
    free(to);
}
