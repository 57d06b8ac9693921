/*
 * zpl.c - reads ZPL, the text format of CURVE certificates.
 *
 * CZMQ (zcert) and pyzmq (zmq.auth) both keep keys in ZPL files (ZeroMQ RFC
 * 4): '#' comments, sections at column 0, children indented by exactly four
 * spaces, `name = value` with the value optionally quoted. A certificate
 * needs two levels (a section and its values), so that is all this reads;
 * anything deeper, tabs, or an indent that is not a multiple of four is an
 * error with its line, as CZMQ would refuse the file too.
 *
 * Stricter than RFC 4 where a certificate gains from it: the text must be
 * UTF-8 without control characters (metadata ends up on terminals), and a
 * name may appear once per section, since CZMQ would take the first of two
 * public keys and pyzmq the last.
 */
#include "zg_zpl.h"

#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include <stdbool.h>

#define ZPL_ENTRIES_MAX 256 /* a certificate has a dozen */

static bool name_char(char c)
{
    /* strchr would find the terminating NUL: test it first */
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9') || (c != '\0' && strchr("$-_@.&+/", c));
}

/* Length of the UTF-8 sequence at s (at most n bytes) if it is a printable
 * character: no C0 or C1 control, no DEL, no overlong form, no surrogate.
 * 0 otherwise. */
static size_t printable_char(const unsigned char *s, size_t n)
{
    unsigned c = s[0];
    if (c < 0x80)
        return c >= 0x20 && c != 0x7f;
    size_t len = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc2 ? 2 : 0;
    if (len == 0 || c > 0xf4 || len > n)
        return 0;
    uint32_t cp = c & (0xff >> (len + 1));
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3f);
    }
    static const uint32_t least[5] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < least[len] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff) ||
        (cp >= 0x80 && cp < 0xa0))
        return 0;
    return len;
}

bool zg_zpl_text_ok(const char *text, size_t len)
{
    const unsigned char *s = (const unsigned char *)text;
    for (size_t i = 0; i < len;) {
        size_t n = printable_char(s + i, len - i);
        if (n == 0)
            return false;
        i += n;
    }
    return true;
}

static void wipe_free(char *s)
{
    if (s) {
        sodium_memzero(s, strlen(s));
        free(s);
    }
}

static int add(zg_zpl_t *z, const char *section, const char *key,
               const char *value, unsigned line)
{
    if (z->count == z->cap) {
        size_t cap = z->cap ? z->cap * 2 : 8;
        zg_zpl_entry_t *items = realloc(z->items, cap * sizeof *items);
        if (!items)
            return -1;
        z->items = items;
        z->cap = cap;
    }
    zg_zpl_entry_t *e = &z->items[z->count];
    e->section = strdup(section);
    e->key = strdup(key);
    e->value = strdup(value);
    e->line = line;
    if (!e->section || !e->key || !e->value) {
        free(e->section);
        free(e->key);
        wipe_free(e->value);
        return -1;
    }
    z->count++;
    return 0;
}

void zg_zpl_free(zg_zpl_t *z)
{
    for (size_t i = 0; i < z->count; i++) {
        free(z->items[i].section);
        free(z->items[i].key);
        wipe_free(z->items[i].value); /* values may be secret keys */
    }
    free(z->items);
    memset(z, 0, sizeof *z);
}

static const zg_zpl_entry_t *find(const zg_zpl_t *z, const char *section,
                                  const char *key)
{
    for (size_t i = 0; i < z->count; i++)
        if (strcmp(z->items[i].section, section) == 0 &&
            strcmp(z->items[i].key, key) == 0)
            return &z->items[i];
    return NULL;
}

const char *zg_zpl_get(const zg_zpl_t *z, const char *section, const char *key)
{
    const zg_zpl_entry_t *e = find(z, section, key);
    return e ? e->value : NULL;
}

unsigned zg_zpl_line(const zg_zpl_t *z, const char *section, const char *key)
{
    const zg_zpl_entry_t *e = find(z, section, key);
    return e ? e->line : 0;
}

/* The value after '=': quoted ("..." or '...') or bare up to a '#'. */
static const char *parse_value(char *s, const char **why)
{
    while (*s == ' ')
        s++;
    if (*s == '"' || *s == '\'') {
        char q = *s++;
        char *end = strchr(s, q);
        if (!end) {
            *why = "quoted value has no closing quote";
            return NULL;
        }
        *end = '\0';
        char *rest = end + 1;
        while (*rest == ' ')
            rest++;
        if (*rest && *rest != '#') {
            *why = "text after a quoted value";
            return NULL;
        }
        return s;
    }
    char *hash = strchr(s, '#');
    if (hash)
        *hash = '\0';
    size_t n = strlen(s);
    while (n > 0 && s[n - 1] == ' ')
        s[--n] = '\0';
    return s;
}

typedef struct zpl_state {
    zg_zpl_t *out;
    char section[ZG_ZPL_NAME_MAX];
    bool in_section;
} zpl_state_t;

static int add_unique(zpl_state_t *st, const char *section, const char *name,
                      const char *value, unsigned lineno, const char **why)
{
    if (find(st->out, section, name)) {
        *why = "the same name twice in one section";
        return -1;
    }
    if (st->out->count >= ZPL_ENTRIES_MAX) {
        *why = "more values than a certificate has";
        return -1;
    }
    *why = "out of memory";
    return add(st->out, section, name, value, lineno);
}

static int parse_line(zpl_state_t *st, char *line, unsigned lineno,
                      const char **why)
{
    size_t indent = strspn(line, " ");
    if (line[indent] == '\t') {
        *why = "tab in indentation (ZPL indents with 4 spaces)";
        return -1;
    }
    if (!zg_zpl_text_ok(line, strlen(line))) {
        *why = "control character or invalid UTF-8";
        return -1;
    }
    char *s = line + indent;
    if (*s == '\0' || *s == '#')
        return 0;
    if (indent % 4 != 0 || indent > 4) {
        *why = indent % 4 ? "indent is not a multiple of 4 spaces"
                          : "nested deeper than a certificate goes";
        return -1;
    }
    if (indent == 4 && !st->in_section) {
        *why = "indented value outside a section";
        return -1;
    }
    size_t n = 0;
    while (name_char(s[n]))
        n++;
    if (n == 0 || n >= ZG_ZPL_NAME_MAX) {
        *why = n ? "name too long" : "expected a name";
        return -1;
    }
    char name[ZG_ZPL_NAME_MAX];
    memcpy(name, s, n);
    name[n] = '\0';
    s += n;
    while (*s == ' ')
        s++;
    bool has_value = *s == '=';
    const char *value = "";
    if (has_value) {
        value = parse_value(s + 1, why);
        if (!value)
            return -1;
    } else if (*s && *s != '#') {
        *why = "expected '=' after the name";
        return -1;
    }
    if (indent == 0) {
        /* a section; one with a value is also a top-level value (RFC 4
         * allows both), and its children still belong to it */
        memcpy(st->section, name, n + 1);
        st->in_section = true;
        return has_value ? add_unique(st, "", name, value, lineno, why) : 0;
    }
    return add_unique(st, st->section, name, value, lineno, why);
}

int zg_zpl_parse(const char *text, size_t len, zg_zpl_t *out,
                 unsigned *err_line, const char **why)
{
    memset(out, 0, sizeof *out);
    zpl_state_t st = {.out = out};
    char line[ZG_ZPL_LINE_MAX + 1];
    unsigned lineno = 0;
    const char *p = text, *end = text + len;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = (size_t)((nl ? nl : end) - p);
        lineno++;
        *err_line = lineno;
        if (n > ZG_ZPL_LINE_MAX || memchr(p, '\0', n)) {
            *why = n > ZG_ZPL_LINE_MAX ? "line too long" : "NUL byte";
            goto fail;
        }
        memcpy(line, p, n);
        line[n] = '\0';
        if (n && line[n - 1] == '\r')
            line[n - 1] = '\0';
        if (parse_line(&st, line, lineno, why) != 0)
            goto fail;
        p = nl ? nl + 1 : end;
    }
    sodium_memzero(line, sizeof line);
    return 0;
fail:
    sodium_memzero(line, sizeof line);
    zg_zpl_free(out);
    return -1;
}
