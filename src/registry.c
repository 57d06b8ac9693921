/*
 * registry.c - finds zguard's state for a plain libzmq socket pointer.
 *
 * Sockets stay libzmq `void *`, so zg_send() must find a socket's policy and
 * counters from the pointer alone, on every message, from any thread. A
 * mutex there would cost more than the send itself, so lookups are
 * lock-free (inline, in zg_registry.h): an open-addressing table whose
 * slots are written here under a mutex and read with acquire loads. Growing
 * publishes a new table; old tables are kept (they total less than the
 * newest) because a reader may still be in one. This table (with its
 * generation and each thread's cache of the last sockets it used) is the
 * library's process-wide state; the others are set once and never change
 * (monitor.c's draft-API functions, libsodium's initialisation).
 */
#include "zg_registry.h"
#include "zg_sock.h"

#include <stdlib.h>
#include <pthread.h>
#include <stdatomic.h>

#define REGISTRY_MIN_SLOTS 64

typedef zg_reg_slot_t slot_t;
typedef zg_reg_table_t table_t;

_Atomic(table_t *) zg_registry_table;
_Atomic uint64_t zg_registry_gen;
_Thread_local zg_reg_cache_t zg_registry_cache;

_Static_assert(ZG_REGISTRY_WAYS == 2, "zg_registry_find checks two ways");

static struct {
    pthread_mutex_t lock;
    size_t used; /* slots with a key, in the current table */
    size_t live; /* slots with a value */
} registry = {.lock = PTHREAD_MUTEX_INITIALIZER};

void zg_init(void)
{
    /* Nothing to do yet beyond the static initialisers; kept as the one
     * place later process-wide set-up (libsodium) belongs. */
}

zg_sock_t *zg_registry_miss(void *zsock)
{
    zg_reg_cache_t *c = &zg_registry_cache;
    /* the generation before the lookup: a socket forgotten meanwhile
     * empties this cache on the next call */
    uint64_t gen = atomic_load_explicit(&zg_registry_gen, memory_order_acquire);
    if (c->gen != gen)
        *c = (zg_reg_cache_t){.gen = gen};
    zg_sock_t *s = zg_registry_get(zsock);
    if (s) {
        c->key[1] = c->key[0];
        c->value[1] = c->value[0];
        c->key[0] = zsock;
        c->value[0] = s;
    }
    return s;
}

/* Under the lock: the slot holding key, or the empty slot where it goes. */
static slot_t *probe(table_t *t, void *key)
{
    for (size_t i = zg_registry_slot(key, t->mask);; i = (i + 1) & t->mask) {
        void *k = atomic_load_explicit(&t->slots[i].key, memory_order_relaxed);
        if (k == key || !k)
            return &t->slots[i];
    }
}

static table_t *table_new(size_t nslots)
{
    table_t *t = calloc(1, sizeof *t + nslots * sizeof(slot_t));
    if (t)
        t->mask = nslots - 1;
    return t;
}

/* Under the lock: a table with room for one more key, dropping dead keys. */
static table_t *table_with_room(void)
{
    table_t *old =
        atomic_load_explicit(&zg_registry_table, memory_order_relaxed);
    size_t cap = old ? old->mask + 1 : 0;
    if (old && (registry.used + 1) * 2 <= cap)
        return old;
    size_t n = REGISTRY_MIN_SLOTS;
    while (n < (registry.live + 1) * 4)
        n *= 2;
    table_t *t = table_new(n);
    if (!t)
        return NULL;
    registry.used = 0;
    for (size_t i = 0; old && i < cap; i++) {
        zg_sock_t *v = atomic_load_explicit(&old->slots[i].value,
                                            memory_order_relaxed);
        if (!v)
            continue;
        slot_t *s = probe(t, atomic_load_explicit(&old->slots[i].key,
                                                  memory_order_relaxed));
        atomic_store_explicit(&s->value, v, memory_order_relaxed);
        atomic_store_explicit(&s->key, old->slots[i].key, memory_order_relaxed);
        registry.used++;
    }
    t->older = old;
    atomic_store_explicit(&zg_registry_table, t, memory_order_release);
    return t;
}

int zg_registry_put(void *zsock, zg_sock_t *sock)
{
    pthread_mutex_lock(&registry.lock);
    table_t *t = table_with_room();
    if (!t) {
        pthread_mutex_unlock(&registry.lock);
        return -1;
    }
    slot_t *s = probe(t, zsock);
    if (!atomic_load_explicit(&s->value, memory_order_relaxed))
        registry.live++;
    /* value before key: a reader that sees the key sees its value */
    atomic_store_explicit(&s->value, sock, memory_order_release);
    if (!atomic_load_explicit(&s->key, memory_order_relaxed)) {
        atomic_store_explicit(&s->key, zsock, memory_order_release);
        registry.used++;
    }
    pthread_mutex_unlock(&registry.lock);
    return 0;
}

void zg_registry_del(void *zsock)
{
    pthread_mutex_lock(&registry.lock);
    table_t *t =
        atomic_load_explicit(&zg_registry_table, memory_order_relaxed);
    if (t) {
        slot_t *s = probe(t, zsock);
        if (atomic_load_explicit(&s->value, memory_order_relaxed)) {
            atomic_store_explicit(&s->value, NULL, memory_order_release);
            registry.live--;
        }
        /* every thread's cache may hold zsock: all are stale now */
        atomic_fetch_add_explicit(&zg_registry_gen, 1, memory_order_release);
    }
    pthread_mutex_unlock(&registry.lock);
}
