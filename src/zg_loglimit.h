/*
 * zg_loglimit.h - loglimit.c: one log line per peer and reason per window.
 * A client that keeps failing (a wrong server key reconnects every 100 ms)
 * or an attacker that keeps trying must not flood the log: the first event
 * of a (reason, peer) pair is logged, the next ones within the window are
 * counted, and the first after the window says how many were held back.
 */
#ifndef ZG_LOGLIMIT_H
#define ZG_LOGLIMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ZG_LOGLIMIT_SLOTS 64      /* pairs remembered; the oldest goes first */
#define ZG_LOGLIMIT_KEY_MAX 96   /* "reason|peer", cut beyond */
#define ZG_LOGLIMIT_WINDOW_MS 60000

typedef struct zg_loglimit_slot {
    char key[ZG_LOGLIMIT_KEY_MAX];
    int64_t until;    /* ms: events before this are held back */
    uint64_t held;    /* ... and how many were */
} zg_loglimit_slot_t;

/* Owned by one thread (no lock): zero-initialise it. */
typedef struct zg_loglimit {
    zg_loglimit_slot_t slot[ZG_LOGLIMIT_SLOTS];
} zg_loglimit_t;

/* Should this event of (reason, peer) be logged now? If so, *held is how
 * many like it were held back since the last line (say so in it). */
bool zg_loglimit_pass(zg_loglimit_t *l, const char *reason, const char *peer,
                      int64_t now_ms, uint64_t *held);

#endif
