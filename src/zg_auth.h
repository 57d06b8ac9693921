/*
 * zg_auth.h - auth.c: the ZAP authenticator, one thread per context, and
 * what the hot path asks it (has this peer's key lost access?).
 */
#ifndef ZG_AUTH_H
#define ZG_AUTH_H

#include "zguard.h"

#include <stdbool.h>
#include <stdint.h>

typedef struct zg_auth zg_auth_t;
#define ZG_ZAP_DOMAIN "zguard"
#define ZG_OPT_ZAP_ENFORCE_DOMAIN 93 /* draft in 4.3 headers, works at run time */

/* Binds the ZAP endpoint, loads the allowlist, starts the thread. */
zg_auth_t *zg_auth_start(zg_ctx_t *ctx);
void zg_auth_stop(zg_auth_t **auth);
int zg_auth_reload(zg_auth_t *auth);
void zg_auth_stats(zg_auth_t *auth, zg_auth_stats_t *out);
/* The message property that names the peer's key (Z85), set by the
 * authenticator's ZAP replies: sessions are tracked by key, not by name. */
#define ZG_KEY_PROPERTY "X-Zguard-Key"
/* Changes whenever a key loses access; 0 until one ever has. */
uint64_t zg_auth_generation(zg_auth_t *auth);
bool zg_auth_is_lost(zg_auth_t *auth, const char *key_text);
void zg_auth_count_dropped(zg_auth_t *auth);

#endif
