/*
 * cli_jsonread.h - the one JSON reader of the zguard command
 * (tools/cli_jsonread.c): small documents zguard wrote itself, such as an
 * observe report for `zguard policy suggest`.
 */
#ifndef ZG_CLI_JSONREAD_H
#define ZG_CLI_JSONREAD_H

#include <stdbool.h>
#include <stddef.h>

typedef enum {
    CLI_JV_NULL,
    CLI_JV_BOOL,
    CLI_JV_NUMBER,
    CLI_JV_STRING,
    CLI_JV_ARRAY,
    CLI_JV_OBJECT
} cli_jv_kind_t;

typedef struct cli_jv {
    cli_jv_kind_t kind;
    bool boolean;
    double number;
    char *string;          /* CLI_JV_STRING */
    char *key;             /* a member of an object: its name */
    struct cli_jv *items;  /* arrays and objects: n children */
    size_t n;
} cli_jv_t;

/* The document, or NULL with why (and where) in err. */
cli_jv_t *cli_jv_parse(const char *text, char *err, size_t cap);
void cli_jv_free(cli_jv_t **v);
/* A member of an object (NULL when absent or v is not an object). */
const cli_jv_t *cli_jv_get(const cli_jv_t *v, const char *key);
/* Typed reads of a member, with a fallback when absent or of another kind. */
const char *cli_jv_str(const cli_jv_t *v, const char *key, const char *dflt);
double cli_jv_num(const cli_jv_t *v, const char *key, double dflt);
bool cli_jv_bool(const cli_jv_t *v, const char *key, bool dflt);

#endif
