/*
 * diag.c - a list of problems found in a policy, each with file, line, key.
 *
 * A parser that stops at the first error makes people run it once per typo,
 * so the policy parser reports everything it finds here, kept in file order,
 * and the caller decides what to print.
 */
#include "zg_error.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

struct zg_diag {
    zg_problem_t *items;
    size_t count, cap;
    size_t errors, warnings;
};

zg_diag_t *zg_diag_new(void)
{
    return calloc(1, sizeof(zg_diag_t));
}

void zg_diag_destroy(zg_diag_t **diag)
{
    if (!diag || !*diag)
        return;
    zg_diag_t *d = *diag;
    for (size_t i = 0; i < d->count; i++) {
        free((char *)d->items[i].file);
        free((char *)d->items[i].key);
        free((char *)d->items[i].message);
    }
    free(d->items);
    free(d);
    *diag = NULL;
}

size_t zg_diag_count(const zg_diag_t *diag)
{
    return diag ? diag->count : 0;
}

size_t zg_diag_errors(const zg_diag_t *diag)
{
    return diag ? diag->errors : 0;
}

size_t zg_diag_warnings(const zg_diag_t *diag)
{
    return diag ? diag->warnings : 0;
}

const zg_problem_t *zg_diag_get(const zg_diag_t *diag, size_t index)
{
    return diag && index < diag->count ? &diag->items[index] : NULL;
}

int zg_problem_format(const zg_problem_t *p, char *buf, size_t cap)
{
    const char *level = p->severity == ZG_SEV_WARNING ? "warning: " : "";
    if (p->line == 0) /* a problem of the whole file has no line to name */
        return snprintf(buf, cap, "%s: %s: %s%s", p->file, p->key, level,
                        p->message);
    return snprintf(buf, cap, "%s:%u: %s: %s%s", p->file, p->line, p->key,
                    level, p->message);
}

void zg_diag_print(const zg_diag_t *diag, FILE *out)
{
    char line[ZG_ERROR_MAX * 2];
    for (size_t i = 0; i < zg_diag_count(diag); i++) {
        zg_problem_format(&diag->items[i], line, sizeof line);
        fprintf(out, "%s\n", line);
    }
}

void zg_diag_add(zg_diag_t *diag, zg_severity_t severity, const char *file,
                 unsigned line, const char *key, const char *fmt, ...)
{
    if (!diag)
        return;
    if (diag->count == diag->cap) {
        size_t cap = diag->cap ? diag->cap * 2 : 8;
        zg_problem_t *items = realloc(diag->items, cap * sizeof *items);
        if (!items)
            return;
        diag->items = items;
        diag->cap = cap;
    }
    char msg[ZG_ERROR_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    /* Problems are found in two passes (syntax, then meaning), but people
     * read them in file order: insert after every problem on an earlier or
     * the same line, so equal lines keep the order they were found in. */
    size_t at = diag->count;
    while (at > 0 && diag->items[at - 1].line > line)
        at--;
    memmove(&diag->items[at + 1], &diag->items[at],
            (diag->count - at) * sizeof *diag->items);
    zg_problem_t *p = &diag->items[at];
    p->severity = severity;
    p->file = strdup(file ? file : "(policy)");
    p->line = line;
    p->key = strdup(key ? key : "");
    p->message = strdup(msg);
    if (!p->file || !p->key || !p->message) {
        free((char *)p->file);
        free((char *)p->key);
        free((char *)p->message);
        memmove(&diag->items[at], &diag->items[at + 1],
                (diag->count - at) * sizeof *diag->items);
        return;
    }
    diag->count++;
    if (severity == ZG_SEV_ERROR)
        diag->errors++;
    else
        diag->warnings++;
}
