/*
 * loglimit.c - one log line per (reason, peer) per minute; see
 * zg_loglimit.h. A fixed table, so a flood of distinct peers costs a
 * bounded amount of memory: when it is full the pair whose window ended
 * first is forgotten (its next event is simply logged again).
 */
#include "zg_loglimit.h"

#include <stdio.h>
#include <string.h>

static zg_loglimit_slot_t *slot_for(zg_loglimit_t *l, const char *key)
{
    zg_loglimit_slot_t *oldest = &l->slot[0];
    for (size_t i = 0; i < ZG_LOGLIMIT_SLOTS; i++) {
        zg_loglimit_slot_t *s = &l->slot[i];
        if (s->key[0] && strcmp(s->key, key) == 0)
            return s;
        if (s->until < oldest->until)
            oldest = s;
    }
    memset(oldest, 0, sizeof *oldest);
    snprintf(oldest->key, sizeof oldest->key, "%s", key);
    return oldest;
}

bool zg_loglimit_pass(zg_loglimit_t *l, const char *reason, const char *peer,
                      int64_t now_ms, uint64_t *held)
{
    char key[ZG_LOGLIMIT_KEY_MAX];
    snprintf(key, sizeof key, "%s|%s", reason, peer ? peer : "");
    zg_loglimit_slot_t *s = slot_for(l, key);
    if (s->until > now_ms) {
        s->held++;
        return false;
    }
    *held = s->held;
    s->held = 0;
    s->until = now_ms + ZG_LOGLIMIT_WINDOW_MS;
    return true;
}
