/*
 * zg_zpl.h - zpl.c: ZPL, the certificate file format of CZMQ and pyzmq.
 */
#ifndef ZG_ZPL_H
#define ZG_ZPL_H

#include "zguard.h"

#include <stdbool.h>
#include <stddef.h>

#define ZG_ZPL_LINE_MAX 1024
#define ZG_ZPL_NAME_MAX 64

typedef struct zg_zpl_entry {
    char *section; /* "" for a value at the top level */
    char *key;
    char *value;
    unsigned line;
} zg_zpl_entry_t;

typedef struct zg_zpl {
    zg_zpl_entry_t *items;
    size_t count, cap;
} zg_zpl_t;

/* 0, or -1 with the failing line and why. Values are wiped when freed. */
int zg_zpl_parse(const char *text, size_t len, zg_zpl_t *out,
                 unsigned *err_line, const char **why);
const char *zg_zpl_get(const zg_zpl_t *zpl, const char *section,
                       const char *key);
void zg_zpl_free(zg_zpl_t *zpl);

/* Printable UTF-8, no control characters (C0, DEL, C1). */
bool zg_zpl_text_ok(const char *text, size_t len);
/* The line of section/key; 0 when absent. */
unsigned zg_zpl_line(const zg_zpl_t *zpl, const char *section,
                     const char *key);

#endif
