/*
 * zg_ini.h - ini.c: the lines of an INI file, nothing more: policy and
 * advisory files give them meaning.
 */
#ifndef ZG_INI_H
#define ZG_INI_H

#include "zguard.h"

#include <stddef.h>

#define ZG_INI_LINE_MAX 2048

typedef enum zg_ini_kind {
    ZG_INI_END = 0,
    ZG_INI_SECTION,
    ZG_INI_PAIR,
    ZG_INI_ERROR
} zg_ini_kind_t;

typedef struct zg_ini {
    const char *pos, *end;
    unsigned line;
    char buf[ZG_INI_LINE_MAX + 1];
} zg_ini_t;

typedef struct zg_ini_item {
    zg_ini_kind_t kind;
    unsigned line;
    const char *key;   /* section name, key, or the offending text */
    const char *value; /* PAIR only */
    const char *error; /* ERROR only */
} zg_ini_item_t;

void zg_ini_init(zg_ini_t *ini, const char *text, size_t len);
void zg_ini_next(zg_ini_t *ini, zg_ini_item_t *item);

#endif
