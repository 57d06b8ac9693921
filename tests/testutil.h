/*
 * testutil.h - what zguard's C tests share: cmocka, a policy from a string,
 * a Python (pyzmq) peer as a separate process, and clocks.
 */
#ifndef ZG_TESTUTIL_H
#define ZG_TESTUTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <sys/types.h>

#include "zguard.h"

/* Parses text as a policy named "test.policy"; fails the test on error. */
zg_policy_t *tu_policy(const char *text);
/* A context over tu_policy(text); the context keeps the policy. */
zg_ctx_t *tu_ctx(const char *text);

uint64_t tu_now_ms(void);

/* Asserts that haystack contains needle, printing both when not. */
void tu_assert_contains(const char *haystack, const char *needle);
#define assert_contains(h, n) tu_assert_contains((h), (n))

/* A peer process running tests/peers/SCRIPT with args (NULL-terminated). */
typedef struct tu_peer {
    pid_t pid;
    int out; /* its standard output */
} tu_peer_t;

/* Starts the peer and waits (up to 10 s) for its first line, "ready ...",
 * which it prints once bound; the rest of that line goes to ready (may be
 * NULL). Fails the test if it does not come. */
void tu_peer_start(tu_peer_t *peer, const char *script, const char *const *args,
                   char *ready, size_t cap);
/* Waits for the peer to exit; returns its exit status. */
int tu_peer_wait(tu_peer_t *peer);
void tu_peer_kill(tu_peer_t *peer);

/* An unused loopback tcp endpoint: "tcp://127.0.0.1:PORT". */
void tu_free_endpoint(char *buf, size_t cap);

#endif
