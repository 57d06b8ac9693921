/*
 * zg_addrs.h - addrs.c: what one peer address may do at the authenticator:
 * a handshake rate (a token bucket) and a lockout after repeated failed
 * handshakes. libzmq has neither (zeromq/libzmq#2877, #3883). The table has
 * a fixed size: a flood of spoofed or distinct addresses evicts old
 * entries instead of growing it. Owned by the authenticator's thread: no
 * lock.
 */
#ifndef ZG_ADDRS_H
#define ZG_ADDRS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ZG_ADDRS_CAPACITY 4096 /* addresses remembered, about 256 KiB */

typedef struct zg_addr_limits {
    int64_t rate;       /* handshakes per second per address; 0: no limit */
    int64_t burst;      /* ... of which this many at once */
    int64_t failures;   /* failed handshakes that lock an address out; 0: never */
    int64_t window_ms;  /* ... when they fall within this long */
    int64_t lockout_ms; /* how long the lockout lasts */
} zg_addr_limits_t;

typedef enum zg_addr_verdict {
    ZG_ADDR_OK,
    ZG_ADDR_RATE,   /* over its handshake rate */
    ZG_ADDR_LOCKOUT /* locked out after failed handshakes */
} zg_addr_verdict_t;

typedef struct zg_addrs zg_addrs_t;

/* capacity: a power of two, at least 16. NULL when out of memory or
 * libsodium (the table's hash key) cannot start. */
zg_addrs_t *zg_addrs_new(size_t capacity, const zg_addr_limits_t *limits);
void zg_addrs_destroy(zg_addrs_t **addrs);
/* Before the key is looked at. address is ZAP's (an IPv4 or IPv6 address
 * without port); anything else (an ipc peer) is never limited. */
zg_addr_verdict_t zg_addrs_admit(zg_addrs_t *addrs, const char *address,
                                 int64_t now_ms);
/* After a handshake was refused for its key or mechanism. True when this
 * failure locked the address out (say so, once). */
bool zg_addrs_failed(zg_addrs_t *addrs, const char *address, int64_t now_ms);
/* Addresses remembered now (never more than the capacity). */
size_t zg_addrs_count(const zg_addrs_t *addrs);

#endif
