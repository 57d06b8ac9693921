/*
 * zg_allowlist.h - allowlist.c: the keys a CURVE server accepts, read from a
 * directory of certificates into a hash set (the authenticator's; zguard
 * auth check reads it the same way).
 */
#ifndef ZG_ALLOWLIST_H
#define ZG_ALLOWLIST_H

#include "zguard.h"

#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>

typedef struct zg_allowlist zg_allowlist_t;

typedef struct zg_allow_entry {
    uint8_t key[ZG_KEY_BYTES];
    char key_text[ZG_KEY_TEXT_MAX]; /* Z85 */
    char *user;      /* the User-Id: metadata name, else the file name
                        without ".key"; old and new key of a rotation share
                        it */
    char *file;
    int64_t expires;   /* Unix time; 0 = never */
    bool expiry_acted; /* the authenticator has acted on its expiry */
} zg_allow_entry_t;

typedef enum zg_cert_state {
    ZG_CERT_VALID,
    ZG_CERT_EXPIRED,
    ZG_CERT_REVOKED,
    ZG_CERT_MALFORMED,
    ZG_CERT_DUPLICATE
} zg_cert_state_t;

/* Called once per file looked at (and per bad revocation-list line). */
typedef void(zg_allow_visit_fn)(void *arg, const char *file,
                                zg_cert_state_t state, const char *detail,
                                const zg_cert_t *cert);

zg_allowlist_t *zg_allowlist_load(const char *dir, const char *revoked,
                                  int64_t now, zg_allow_visit_fn *visit,
                                  void *arg);
const zg_allow_entry_t *zg_allowlist_find(const zg_allowlist_t *list,
                                          const uint8_t *key);
bool zg_allowlist_revoked(const zg_allowlist_t *list, const uint8_t *key);
size_t zg_allowlist_count(const zg_allowlist_t *list);
/* Every entry: start with *cursor = 0; NULL at the end. */
zg_allow_entry_t *zg_allowlist_entry(const zg_allowlist_t *list,
                                     size_t *cursor);
void zg_allowlist_destroy(zg_allowlist_t **list);
const char *zg_cert_state_name(zg_cert_state_t state);
/* "2027-01-31T00:00:00Z" -> Unix time; -1 if not that shape. */
int zg_time_parse(const char *text, int64_t *out);

#endif
