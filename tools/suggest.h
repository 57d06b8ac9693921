/*
 * suggest.h - the one policy writer of `zguard policy suggest`
 * (cmd_suggest.c) and its readers: a `zguard run --observe` report
 * (cmd_suggest.c) and a `zguard audit --format json` report
 * (suggest_audit.c). A reader fills one suggest_section_t per socket, with
 * a value and its reason for each bound; the writer names it, matches it,
 * writes it, and says how to encrypt it.
 */
#ifndef ZG_SUGGEST_H
#define ZG_SUGGEST_H

#include "cli.h"
#include "cli_jsonread.h"
#include "zguard_tools.h"

#include <stdint.h>

#define SUGGEST_SECTIONS_MAX 1024
#define SUGGEST_ENDPOINT_MAX 256 /* longer than any endpoint a report holds */
#define SUGGEST_WHY_MAX 512
#define SUGGEST_NOTE_MAX 1024

/* The policy being written. */
typedef struct suggest {
    FILE *out;
    const zg_policy_t *builtin;
    char names[SUGGEST_SECTIONS_MAX][ZG_NAME_MAX];
    char keys[SUGGEST_SECTIONS_MAX][SUGGEST_ENDPOINT_MAX + 16]; /* type + pattern */
    int types[SUGGEST_SECTIONS_MAX];
    size_t nsections;
    size_t plaintext, servers;
    size_t unmatched; /* sections with no pattern and no program's name (TODO) */
} suggest_t;

/* One socket's section, as a reader found it. */
typedef struct suggest_section {
    int type;                           /* ZMQ_* */
    const char *name;                   /* the program's name for it (zg_socket), or NULL */
    const char *name_from;              /* else named from type and this */
    char pattern[SUGGEST_ENDPOINT_MAX]; /* bind = / connect = glob, "" none */
    bool bind;                          /* the pattern is a bind's */
    char about[SUGGEST_NOTE_MAX * 2];   /* comment above it: where it comes from */
    char label[SUGGEST_NOTE_MAX];       /* shorter, for "the same as" */
    bool given[ZG_FIELD_COUNT];         /* the values below, with their reasons */
    int64_t value[ZG_FIELD_COUNT];
    char why[ZG_FIELD_COUNT][SUGGEST_WHY_MAX];
    bool curve;                         /* the program sets its own CURVE keys */
    char security_why[SUGGEST_WHY_MAX]; /* what says so, or that it is plaintext */
} suggest_section_t;

/* The value of field f with its reason (printf-style). */
void suggest_value(suggest_section_t *sec, zg_field_t f, int64_t v,
                   const char *fmt, ...) ZG_PRINTF(4, 5);
/* Writes the section (or a comment when an identical one is written). */
void suggest_section_write(suggest_t *s, suggest_section_t *sec);
/* The endpoint as a glob that matches exactly it. */
void suggest_pattern(const char *endpoint, char *buf, size_t cap);
/* tcp://, ipc:// or inproc://: what zguard run matches. */
bool suggest_transport_ok(const char *endpoint);
/* A type whose receives wait for work (rep, router, pull, sub, xsub). */
bool suggest_waits_for_work(int type);

/* A report of `zguard audit --format json` (audit_format 1): its sockets'
 * sections. EXIT_OK, or EXIT_FAIL with a message on standard error. */
int suggest_from_audit(suggest_t *s, const cli_jv_t *doc, const char *path);

#endif
