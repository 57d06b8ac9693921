/*
 * fuzz_policy.c - libFuzzer target for the policy parser.
 *
 * Feeds any bytes to zg_policy_parse (they are not NUL-terminated: the
 * parser takes text and length), prints the diagnostics, and when a policy
 * results resolves the settings of every socket type and every named
 * socket. Besides memory errors (ASan, LSan) and undefined behaviour
 * (UBSan), it aborts when the parser breaks a promise of zguard.h:
 *   - a policy results exactly when no error was reported;
 *   - every problem names the file, a line of the text, and a non-empty
 *     key, with no control characters and no message cut short;
 *   - a valid policy resolves every socket type, and every named socket
 *     with its declared type (and is refused with another one).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zguard.h>

#include "fuzz_diag.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_FILE "fuzz"
#define TYPE_COUNT 12 /* ZMQ_PAIR (0) .. ZMQ_STREAM (11) */

static void check(int ok, const char *what)
{
    fuzz_check("fuzz_policy", ok, what);
}

static void check_settings(const zg_setting_t *set, int type)
{
    for (int f = 0; f < ZG_FIELD_COUNT; f++) {
        check(set[f].field == (zg_field_t)f, "settings in field order");
        check(set[f].key != NULL, "setting has a key");
        check(memchr(set[f].text, '\0', sizeof set[f].text) != NULL,
              "setting text is terminated");
        check((set[f].field != ZG_FIELD_ROUTER_MANDATORY ||
               type == ZMQ_ROUTER) == (set[f].applies != 0),
              "router_mandatory applies to ROUTER only");
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    zg_diag_t *diag = zg_diag_new();
    if (!diag)
        return 0;
    zg_policy_t *p =
        zg_policy_parse((const char *)data, size, FUZZ_FILE, diag);
    fuzz_check_problems("fuzz_policy", diag, data, size, FUZZ_FILE, true);
    check((p != NULL) == (zg_diag_errors(diag) == 0),
          "a policy results exactly when there is no error");

    if (p) {
        zg_setting_t set[ZG_FIELD_COUNT];
        for (int t = 0; t < TYPE_COUNT; t++) {
            check(zg_policy_settings(p, t, NULL, set, ZG_FIELD_COUNT, sizeof set[0]) == 0,
                  "every socket type resolves");
            check_settings(set, t);
        }
        check(zg_policy_settings(p, TYPE_COUNT, NULL, set, ZG_FIELD_COUNT, sizeof set[0]) == -1,
              "an unknown socket type is refused");
        size_t n = zg_policy_socket_count(p);
        for (size_t i = 0; i < n; i++) {
            const char *name = zg_policy_socket_name(p, i);
            check(name != NULL, "every named socket has a name");
            int type = zg_policy_socket_type(p, name);
            check(type >= 0 && type < TYPE_COUNT,
                  "every named socket has a known type");
            check(zg_policy_settings(p, type, name, set, ZG_FIELD_COUNT, sizeof set[0]) == 0,
                  "a named socket resolves with its type");
            check_settings(set, type);
            check(zg_policy_settings(p, (type + 1) % TYPE_COUNT, name,
                                     set, ZG_FIELD_COUNT, sizeof set[0]) == -1,
                  "a named socket is refused with another type");
        }
        check(zg_policy_socket_name(p, n) == NULL,
              "no socket name past the count");
        zg_policy_destroy(&p);
    }
    zg_diag_destroy(&diag);
    return 0;
}
