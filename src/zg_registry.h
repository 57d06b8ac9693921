/*
 * zg_registry.h - registry.c: finds zguard's state for a plain libzmq
 * socket pointer (the one process-wide table), and the library's one-time
 * init.
 *
 * Sockets stay libzmq `void *`, so every zg_send() must find the socket's
 * policy and counters from the pointer alone, from any thread. The lookup
 * is inline here because it is on that hot path: a call into registry.c
 * would cost as much as the lookup. See registry.c for how the table is
 * written and why a reader never sees a freed table.
 */
#ifndef ZG_REGISTRY_H
#define ZG_REGISTRY_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

typedef struct zg_sock zg_sock_t; /* zg_sock.h */

void zg_init(void); /* the library's one-time init; idempotent */

typedef struct zg_reg_slot {
    _Atomic(void *) key;        /* once set, a slot keeps its key */
    _Atomic(zg_sock_t *) value; /* NULL when the socket was forgotten */
} zg_reg_slot_t;

typedef struct zg_reg_table {
    size_t mask;                /* slots - 1; slots are a power of two */
    struct zg_reg_table *older; /* retired tables, kept for readers */
    zg_reg_slot_t slots[];
} zg_reg_table_t;

/* The current table (NULL before the first socket), published with release
 * by registry.c, the only writer. */
extern _Atomic(zg_reg_table_t *) zg_registry_table;

static inline size_t zg_registry_slot(const void *key, size_t mask)
{
    uint64_t h = (uint64_t)(uintptr_t)key * 0x9E3779B97F4A7C15ULL;
    return (size_t)(h >> 32) & mask;
}

/* zguard's state of zsock, or NULL if zguard does not know it (or it is
 * NULL: NULL is the key of an empty slot, whose value is NULL). Lock-free,
 * any thread. */
static inline zg_sock_t *zg_registry_get(void *zsock)
{
    zg_reg_table_t *t =
        atomic_load_explicit(&zg_registry_table, memory_order_acquire);
    if (!t)
        return NULL;
    size_t mask = t->mask;
    for (size_t i = zg_registry_slot(zsock, mask);; i = (i + 1) & mask) {
        void *k = atomic_load_explicit(&t->slots[i].key, memory_order_acquire);
        if (k == zsock)
            return atomic_load_explicit(&t->slots[i].value,
                                        memory_order_acquire);
        if (!k)
            return NULL;
    }
}

/* ---- the hot path's per-thread cache ----------------------------------------
 * Each thread remembers the last two sockets it looked up (a sender and a
 * receiver in one loop both stay), so most calls skip the table. A cache
 * is only as good as its invalidation: zg_registry_gen changes whenever a
 * socket is forgotten (closed, zg_forget, failed hardening), and a cache
 * whose generation differs is emptied before use. A pointer that libzmq
 * frees and hands out again, even for a socket zguard knows under another
 * state, can therefore never hit a stale entry: it was forgotten first. A
 * thread that uses a socket another thread forgot has synchronised with
 * that thread (libzmq sockets move between threads only with a full
 * barrier), so it sees the new generation. Misses are not cached. */
#define ZG_REGISTRY_WAYS 2

typedef struct zg_reg_cache {
    uint64_t gen;                /* zg_registry_gen when filled */
    void *key[ZG_REGISTRY_WAYS]; /* most recently used first */
    zg_sock_t *value[ZG_REGISTRY_WAYS];
} zg_reg_cache_t;

/* initial-exec: one %fs-relative access, no __tls_get_addr call (the few
 * bytes fit the static TLS glibc keeps for libraries loaded later). */
extern _Thread_local zg_reg_cache_t zg_registry_cache
    __attribute__((tls_model("initial-exec")));
extern _Atomic uint64_t zg_registry_gen;

/* The table lookup, then the cache filled; out of line. */
zg_sock_t *zg_registry_miss(void *zsock);

/* The calling thread's cache alone: zsock's state when cached, else NULL
 * (look it up then: zg_registry_find). No call, so a caller whose hit path
 * is a tail call saves no registers for it. */
static inline zg_sock_t *zg_registry_cached(void *zsock)
{
    zg_reg_cache_t *c = &zg_registry_cache;
    if (__builtin_expect(c->gen != atomic_load_explicit(&zg_registry_gen,
                                                        memory_order_acquire),
                         0))
        return NULL;
    return c->key[0] == zsock   ? c->value[0]
           : c->key[1] == zsock ? c->value[1]
                                : NULL;
}

/* zg_registry_get through the calling thread's cache: the hot path's. */
static inline zg_sock_t *zg_registry_find(void *zsock)
{
    /* misses are not cached: a hit is never NULL (and the compiler, told
     * so, skips the caller's test on this path) */
    zg_sock_t *s = zg_registry_cached(zsock);
    if (__builtin_expect(s != NULL, 1))
        return s;
    return zg_registry_miss(zsock);
}

/* Owning thread, under the registry's lock: add or forget a socket. */
int zg_registry_put(void *zsock, zg_sock_t *sock);
void zg_registry_del(void *zsock);

#endif
