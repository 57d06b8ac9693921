/*
 * zg_policy.h - policy.c: what the rest of the library asks of a policy: the
 * values a socket is hardened with. The model itself is policy_impl.h's.
 */
#ifndef ZG_POLICY_H
#define ZG_POLICY_H

#include "zguard.h"

#include <stdbool.h>
#include <stdint.h>

#define ZG_TYPE_COUNT 12 /* ZMQ_PAIR (0) .. ZMQ_STREAM (11) */

/* Ready for the hot path: the values a socket was hardened with. */
typedef struct zg_resolved {
    int64_t value[ZG_FIELD_COUNT];
    const char *str[ZG_FIELD_COUNT]; /* key files; owned by the policy */
} zg_resolved_t;

/* zg_policy_settings for this library's own callers: every field. */
int zg_policy_settings_all(const zg_policy_t *policy, int type,
                           const char *name, zg_setting_t out[ZG_FIELD_COUNT]);
int zg_policy_resolve(const zg_policy_t *policy, int type, const char *name,
                      zg_resolved_t *out);
bool zg_field_applies(zg_field_t field, int type);
/* zguard run: the first [socket.NAME] of this type whose bind (or connect)
 * pattern (a glob, * for any text) matches endpoint, or NULL. */
const char *zg_policy_match(const zg_policy_t *policy, int type,
                            const char *endpoint, bool bind);
/* app_overrides = allow in [socket.NAME]; name NULL: in any section of that
 * type (a socket not matched yet may still become one of them). */
bool zg_policy_overrides(const zg_policy_t *policy, int type,
                         const char *name);

#endif
