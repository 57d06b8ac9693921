/*
 * policy_impl.h - the policy model as its three files share it: policy.c
 * (the model, built-in values, resolution), policy_parse.c (the file
 * format) and policy_check.c (what a finished section and the layers
 * together must satisfy). Nothing outside those files includes it.
 */
#ifndef ZG_POLICY_IMPL_H
#define ZG_POLICY_IMPL_H

#include "zg_error.h"
#include "zg_policy.h"

#include <stdatomic.h>
#include <stdbool.h>

#define POLICY_VERSION 1
#define POLICY_FILE_MAX (1 << 20) /* a policy is text a person reads */

typedef struct entry {
    bool set;
    int64_t value;
    char *str; /* key files, resolved against the policy's directory */
    unsigned line;
    char *rationale;
    unsigned rationale_line;
} entry_t;

typedef struct section {
    zg_layer_t layer;
    char *header;   /* "type.push", for messages */
    char *socket;   /* socket sections: the name */
    unsigned line;
    int type;       /* type and socket sections; -1 until known */
    unsigned type_line;
    bool unbounded, insecure;
    unsigned unbounded_line, insecure_line;
    /* socket sections: which sockets of an unmodified program (zguard run)
     * this section is, by the endpoint of their first bind or connect */
    char *bind, *connect;
    unsigned bind_line, connect_line;
    bool overrides; /* app_overrides = allow */
    unsigned overrides_line;
    char *rationale;
    unsigned rationale_line;
    entry_t e[ZG_FIELD_COUNT];
} section_t;

/* [auth], [metrics] and [gate]: context-wide, a few keys each, no layers. */
typedef enum plain_kind { PLAIN_AUTH, PLAIN_METRICS, PLAIN_GATE, PLAINS } plain_kind_t;
#define PLAIN_KEYS_MAX 9
#define PLAIN_KEY_NAME_MAX 24 /* the longest name, its ", " and a NUL */
enum { AUTH_ALLOW, AUTH_REVOKED, AUTH_ALLOW_IP, AUTH_DENY_IP, AUTH_LIMITS };
enum { GATE_PATTERN, GATE_FRONTEND, GATE_BACKEND, GATE_MODE, GATE_GRACE };

typedef struct plain {
    unsigned line; /* of the section; 0 when absent */
    char *value[PLAIN_KEYS_MAX];
    unsigned value_line[PLAIN_KEYS_MAX];
    char *rationale;
    unsigned rationale_line;
} plain_t;

/* Top-level keys after version: the libzmq version gate. */
enum { TOP_MIN_LIBZMQ, TOP_ON_ADVISORY, TOP_KEYS };
extern const char *const zg_policy_top_keys[TOP_KEYS];

struct zg_policy {
    atomic_int refs;
    char *file;
    char *dir; /* where relative key files are */
    char *top[TOP_KEYS];
    unsigned top_line[TOP_KEYS];
    plain_t plain[PLAINS];
    section_t defaults;
    section_t types[ZG_TYPE_COUNT];
    section_t *sockets;
    size_t nsockets, cap;
};

typedef struct parser {
    zg_policy_t *p;
    zg_diag_t *diag;
    const char *file;
    section_t *cur;     /* NULL at top level */
    section_t ignored;  /* where a duplicate section's keys go to be checked */
    unsigned version_line;
    size_t errors_before; /* in diag, from other files */
    int in_plain;         /* the current section: a plain_kind_t, or -1 */
    plain_t *plain;       /* where its keys go: the policy's, or scratch for
                             a repeated section (checked, then dropped) */
    plain_t scratch;
    bool seen_defaults;
    unsigned defaults_line;
    unsigned type_line[ZG_TYPE_COUNT];
} parser_t;

#define PERR(ps, line, key, ...)                                               \
    zg_diag_add((ps)->diag, ZG_SEV_ERROR, (ps)->file, line, key, __VA_ARGS__)
#define PWARN(ps, line, key, ...)                                              \
    zg_diag_add((ps)->diag, ZG_SEV_WARNING, (ps)->file, line, key, __VA_ARGS__)

/* policy_parse.c: the value of KEY in a plain section, and its line. */
const char *zg_policy_plain_get(const zg_policy_t *policy, plain_kind_t kind,
                                const char *key, unsigned *line);

/* policy.c: the model's pieces, made and freed. */
zg_policy_t *zg_policy_new(const char *file);
void zg_policy_section_init(section_t *s, zg_layer_t layer, int type);
void zg_policy_section_free(section_t *s);
void zg_policy_plain_free(plain_t *a);

/* policy.c: the [socket.NAME] section, or NULL. */
const section_t *zg_policy_find_socket(const zg_policy_t *p, const char *name);

/* policy_check.c: a section just finished; then, once the whole file parsed
 * without errors, what only the layers together decide. */
void zg_policy_check_section(parser_t *ps, section_t *s);
void zg_policy_check_layers(parser_t *ps);

#endif
