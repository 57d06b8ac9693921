/*
 * addrs.c - per-address handshake rate and lockout; see zg_addrs.h.
 *
 * An open-addressing table of fixed size. An address hashes (SipHash with a
 * random key, so a peer cannot choose addresses that collide) to a window
 * of PROBE slots; it lives in one of them or in none. A new address takes a
 * free slot of its window, else evicts the slot that matters least: one not
 * locked out, seen longest ago. Entries never move, so a lookup reads the
 * whole window and nothing else: constant time, whatever the table holds.
 *
 * Eviction is the price of a bounded table: an attacker with more
 * addresses than the table has slots can push a locked-out address out
 * (locked entries go last, so it takes a window full of fresh locks).
 */
#include "zg_addrs.h"

#include <arpa/inet.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#define PROBE 8
#define MILLI 1000 /* tokens are kept in thousandths */

typedef struct entry {
    uint8_t ip[16]; /* IPv4 as v4-mapped IPv6 */
    bool used;
    int64_t seen;        /* ms, last admit or failure */
    int64_t tokens;      /* thousandths of a handshake */
    int64_t refilled;    /* ms */
    int64_t fail_start;  /* ms, the current failure window's start */
    int64_t fails;       /* failures in it */
    int64_t locked_until;
} entry_t;

struct zg_addrs {
    zg_addr_limits_t limits;
    size_t capacity, count;
    uint8_t hash_key[crypto_shorthash_KEYBYTES];
    entry_t *slots;
};

zg_addrs_t *zg_addrs_new(size_t capacity, const zg_addr_limits_t *limits)
{
    if (capacity < 16 || (capacity & (capacity - 1)) || sodium_init() < 0)
        return NULL;
    zg_addrs_t *t = calloc(1, sizeof *t);
    if (!t || !(t->slots = calloc(capacity, sizeof *t->slots))) {
        free(t);
        return NULL;
    }
    t->capacity = capacity;
    t->limits = *limits;
    randombytes_buf(t->hash_key, sizeof t->hash_key);
    return t;
}

void zg_addrs_destroy(zg_addrs_t **addrs)
{
    if (!addrs || !*addrs)
        return;
    free((*addrs)->slots);
    free(*addrs);
    *addrs = NULL;
}

size_t zg_addrs_count(const zg_addrs_t *addrs)
{
    return addrs->count;
}

static bool parse_ip(const char *address, uint8_t ip[16])
{
    memset(ip, 0, 16);
    if (inet_pton(AF_INET, address, ip + 12) == 1) {
        ip[10] = ip[11] = 0xff;
        return true;
    }
    return inet_pton(AF_INET6, address, ip) == 1;
}

static size_t home(const zg_addrs_t *t, const uint8_t ip[16])
{
    uint8_t h[crypto_shorthash_BYTES];
    crypto_shorthash(h, ip, 16, t->hash_key);
    uint64_t v;
    memcpy(&v, h, sizeof v);
    return (size_t)v & (t->capacity - 1);
}

/* The lesser of two occupied slots to lose: not locked before locked,
 * then the one seen longest ago. */
static bool matters_less(const entry_t *a, const entry_t *b, int64_t now)
{
    bool la = a->locked_until > now, lb = b->locked_until > now;
    if (la != lb)
        return !la;
    return a->seen < b->seen;
}

static entry_t *find(zg_addrs_t *t, const uint8_t ip[16], int64_t now,
                     bool add)
{
    size_t h = home(t, ip);
    entry_t *free_slot = NULL, *victim = NULL;
    for (size_t i = 0; i < PROBE; i++) {
        entry_t *e = &t->slots[(h + i) & (t->capacity - 1)];
        if (e->used && memcmp(e->ip, ip, 16) == 0)
            return e;
        if (!e->used && !free_slot)
            free_slot = e;
        else if (e->used && (!victim || matters_less(e, victim, now)))
            victim = e;
    }
    if (!add)
        return NULL;
    entry_t *e = free_slot ? free_slot : victim;
    if (free_slot)
        t->count++;
    memset(e, 0, sizeof *e);
    memcpy(e->ip, ip, 16);
    e->used = true;
    e->tokens = t->limits.burst * MILLI;
    e->refilled = now;
    e->fail_start = now;
    return e;
}

zg_addr_verdict_t zg_addrs_admit(zg_addrs_t *t, const char *address,
                                 int64_t now)
{
    const zg_addr_limits_t *l = &t->limits;
    uint8_t ip[16];
    if ((!l->rate && !l->failures) || !parse_ip(address, ip))
        return ZG_ADDR_OK;
    entry_t *e = find(t, ip, now, l->rate > 0);
    if (!e)
        return ZG_ADDR_OK; /* never failed, no rate to keep */
    e->seen = now;
    if (e->locked_until > now)
        return ZG_ADDR_LOCKOUT;
    if (!l->rate)
        return ZG_ADDR_OK;
    int64_t elapsed = now - e->refilled;
    e->refilled = now;
    e->tokens += elapsed * l->rate; /* rate per s = rate thousandths per ms */
    if (e->tokens > l->burst * MILLI)
        e->tokens = l->burst * MILLI;
    if (e->tokens < MILLI)
        return ZG_ADDR_RATE;
    e->tokens -= MILLI;
    return ZG_ADDR_OK;
}

bool zg_addrs_failed(zg_addrs_t *t, const char *address, int64_t now)
{
    const zg_addr_limits_t *l = &t->limits;
    uint8_t ip[16];
    if (!l->failures || !parse_ip(address, ip))
        return false;
    entry_t *e = find(t, ip, now, true);
    e->seen = now;
    if (e->locked_until > now)
        return false;
    if (now - e->fail_start >= l->window_ms) {
        e->fail_start = now;
        e->fails = 0;
    }
    if (++e->fails < l->failures)
        return false;
    e->locked_until = now + l->lockout_ms;
    e->fails = 0;
    e->fail_start = e->locked_until;
    return true;
}
