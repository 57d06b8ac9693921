/*
 * cli_jsonread.c - a small, strict JSON reader (RFC 8259): a tree of
 * cli_jv_t. Depth is bounded; \u escapes outside ASCII become '?', which
 * is enough for the documents it reads (zguard's own reports).
 */
#include "cli_jsonread.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define JV_DEPTH_MAX 32

typedef struct reader {
    const char *p, *start;
    char *err;
    size_t cap;
    bool failed;
} reader_t;

static void fail(reader_t *r, const char *why)
{
    if (!r->failed)
        snprintf(r->err, r->cap, "%s at byte %zu", why,
                 (size_t)(r->p - r->start));
    r->failed = true;
}

static void skip_space(reader_t *r)
{
    while (*r->p == ' ' || *r->p == '\t' || *r->p == '\n' || *r->p == '\r')
        r->p++;
}

static bool parse_value(reader_t *r, cli_jv_t *v, int depth);
static void free_tree(cli_jv_t *v);

static char *parse_string(reader_t *r)
{
    if (*r->p != '"') {
        fail(r, "a string expected");
        return NULL;
    }
    r->p++;
    size_t cap = strcspn(r->p, "\"") + 1, n = 0;
    char *s = malloc(cap + 1);
    while (s && *r->p != '"') {
        char c = *r->p++;
        if (c == '\0' || (unsigned char)c < 0x20) {
            fail(r, "an unterminated string");
            break;
        }
        if (c == '\\') {
            char e = *r->p++;
            const char *from = "\"\\/bfnrt", *to = "\"\\/\b\f\n\r\t";
            const char *at = e ? strchr(from, e) : NULL;
            if (at)
                c = to[at - from];
            else if (e == 'u' && strspn(r->p, "0123456789abcdefABCDEF") >= 4) {
                unsigned u = (unsigned)strtoul((char[5]){r->p[0], r->p[1],
                                                         r->p[2], r->p[3], 0},
                                               NULL, 16);
                c = u < 0x80 ? (char)u : '?';
                r->p += 4;
            } else {
                fail(r, "a bad escape");
                break;
            }
        }
        if (n + 1 >= cap) {
            char *t = realloc(s, (cap *= 2) + 1);
            if (!t)
                break;
            s = t;
        }
        s[n++] = c;
    }
    if (!s || r->failed || *r->p != '"') {
        fail(r, "out of memory");
        free(s);
        return NULL;
    }
    r->p++;
    s[n] = '\0';
    return s;
}

static bool add_item(reader_t *r, cli_jv_t *v, cli_jv_t *item)
{
    cli_jv_t *t = realloc(v->items, (v->n + 1) * sizeof *t);
    if (!t) {
        fail(r, "out of memory");
        return false;
    }
    v->items = t;
    v->items[v->n++] = *item;
    return true;
}

/* [ ... ] or { ... }: the members, each after a key when an object. */
static bool parse_list(reader_t *r, cli_jv_t *v, int depth, bool object)
{
    char close = object ? '}' : ']';
    r->p++;
    skip_space(r);
    if (*r->p == close) {
        r->p++;
        return true;
    }
    for (;;) {
        cli_jv_t item = {0};
        skip_space(r);
        if (object) {
            item.key = parse_string(r);
            skip_space(r);
            if (!item.key || *r->p != ':') {
                free(item.key);
                fail(r, "a member expected");
                return false;
            }
            r->p++;
        }
        if (!parse_value(r, &item, depth + 1) || !add_item(r, v, &item)) {
            free_tree(&item);
            return false;
        }
        skip_space(r);
        if (*r->p == close) {
            r->p++;
            return true;
        }
        if (*r->p != ',') {
            fail(r, object ? "',' or '}' expected" : "',' or ']' expected");
            return false;
        }
        r->p++;
    }
}

static bool word(reader_t *r, const char *w)
{
    size_t n = strlen(w);
    if (strncmp(r->p, w, n) != 0)
        return false;
    r->p += n;
    return true;
}

static bool parse_value(reader_t *r, cli_jv_t *v, int depth)
{
    skip_space(r);
    if (depth > JV_DEPTH_MAX) {
        fail(r, "nested too deep");
        return false;
    }
    char c = *r->p;
    if (c == '{' || c == '[') {
        v->kind = c == '{' ? CLI_JV_OBJECT : CLI_JV_ARRAY;
        return parse_list(r, v, depth, c == '{');
    }
    if (c == '"') {
        v->kind = CLI_JV_STRING;
        return (v->string = parse_string(r)) != NULL;
    }
    if (word(r, "true") || word(r, "false")) {
        v->kind = CLI_JV_BOOL;
        v->boolean = r->p[-1] == 'e' && r->p[-2] == 'u';
        return true;
    }
    if (word(r, "null")) {
        v->kind = CLI_JV_NULL;
        return true;
    }
    char *end;
    v->number = strtod(r->p, &end);
    if (end == r->p || !(c == '-' || (c >= '0' && c <= '9'))) {
        fail(r, "a value expected");
        return false;
    }
    v->kind = CLI_JV_NUMBER;
    r->p = end;
    return true;
}

cli_jv_t *cli_jv_parse(const char *text, char *err, size_t cap)
{
    reader_t r = {text, text, err, cap, false};
    cli_jv_t *v = calloc(1, sizeof *v);
    if (!v) {
        snprintf(err, cap, "out of memory");
        return NULL;
    }
    if (parse_value(&r, v, 0)) {
        skip_space(&r);
        if (*r.p)
            fail(&r, "text after the document");
    }
    if (r.failed)
        cli_jv_free(&v);
    return v;
}

static void free_tree(cli_jv_t *v)
{
    for (size_t i = 0; i < v->n; i++)
        free_tree(&v->items[i]);
    free(v->items);
    free(v->string);
    free(v->key);
}

void cli_jv_free(cli_jv_t **v)
{
    if (!v || !*v)
        return;
    free_tree(*v);
    free(*v);
    *v = NULL;
}

const cli_jv_t *cli_jv_get(const cli_jv_t *v, const char *key)
{
    if (!v || v->kind != CLI_JV_OBJECT)
        return NULL;
    for (size_t i = 0; i < v->n; i++)
        if (strcmp(v->items[i].key, key) == 0)
            return &v->items[i];
    return NULL;
}

const char *cli_jv_str(const cli_jv_t *v, const char *key, const char *dflt)
{
    const cli_jv_t *m = cli_jv_get(v, key);
    return m && m->kind == CLI_JV_STRING ? m->string : dflt;
}

double cli_jv_num(const cli_jv_t *v, const char *key, double dflt)
{
    const cli_jv_t *m = cli_jv_get(v, key);
    return m && m->kind == CLI_JV_NUMBER ? m->number : dflt;
}

bool cli_jv_bool(const cli_jv_t *v, const char *key, bool dflt)
{
    const cli_jv_t *m = cli_jv_get(v, key);
    return m && m->kind == CLI_JV_BOOL ? m->boolean : dflt;
}
