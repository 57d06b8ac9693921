/*
 * fuzz_advisory.c - libFuzzer target for the advisory database parser.
 *
 * Feeds any bytes to zg_advisories_parse (text and length, not
 * NUL-terminated): the database is data people edit by hand and a
 * distribution may ship its own, so it is input like a policy. Besides
 * memory errors (ASan, LSan) and undefined behaviour (UBSan), it aborts
 * when the parser breaks a promise:
 *   - a database results exactly when no problem was reported;
 *   - every problem names the file, a line of the text, a non-empty key,
 *     with no control characters and no message cut short;
 *   - a database has format 1, a review date, a latest_stable with its
 *     release, releases in version order, and every entry its required
 *     keys; an issue has a mitigation and its master, never a fixed list;
 *     no advisory's fixed version lies inside its affected ranges;
 *   - range matching and alias listing run on every entry without harm.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_diag.h"
#include "zg_advisory.h"
#include "zg_error.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_FILE "fuzz"

static void check(int ok, const char *what)
{
    fuzz_check("fuzz_advisory", ok, what);
}

static void count_alias(void *arg, const char *alias)
{
    check(alias[0] != '\0' && fuzz_printable(alias),
          "an alias is printable text");
    (*(size_t *)arg)++;
}

static void check_entry(const zg_advisory_t *a)
{
    check(a->id && a->id[0], "every entry has an id");
    check(a->affected && a->fixed && a->summary && a->url,
          "every entry has affected, fixed, summary and url");
    check(a->severity >= ZG_ADV_LOW && a->severity <= ZG_ADV_CRITICAL,
          "every entry has a severity");
    check(!a->unfixed || (a->mitigation && a->master &&
                          strcmp(a->fixed, "none") == 0),
          "an issue has a mitigation, its master and fixed = none");
    check(!a->behaviour || a->mitigation, "a behaviour has a mitigation");
    check(a->unfixed || !a->master, "only issues name master");
    size_t n = 0;
    size_t listed = zg_advisory_aliases(a, count_alias, &n);
    check(listed == n && (!a->aliases || n > 0),
          "aliases are listed as counted, at least one when present");
    /* matching never crashes, and the no-CURVE condition only narrows */
    static const zg_ver_t probes[] = {{0, 0, 0}, {4, 0, 10}, {4, 3, 4},
                                      {4, 3, 5}, {9999, 9999, 9999}};
    for (size_t i = 0; i < sizeof probes / sizeof probes[0]; i++) {
        bool any = zg_advisory_applies(a, probes[i]);
        check(zg_advisory_applies_to(a, probes[i], false) == any,
              "without CURVE, applies_to is applies");
        check(!zg_advisory_applies_to(a, probes[i], true) || any,
              "with CURVE, applies_to only narrows");
    }
}

static void check_db(const zg_advisories_t *db)
{
    check(db->format == ZG_ADVISORY_FORMAT, "format 1");
    check(db->reviewed[0] != '\0' && db->reviewed_day >= 0,
          "a review date");
    check(zg_advisories_release(db, db->latest) != NULL,
          "latest_stable has its release");
    for (size_t i = 0; i < db->nreleases; i++) {
        check(db->releases[i].day >= 0, "every release has a date");
        check(i == 0 || zg_ver_cmp(db->releases[i - 1].ver,
                                   db->releases[i].ver) < 0,
              "releases in version order, each once");
    }
    for (size_t i = 0; i < db->count; i++)
        check_entry(&db->items[i]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    zg_diag_t *diag = zg_diag_new();
    if (!diag)
        return 0;
    zg_advisories_t *db =
        zg_advisories_parse((const char *)data, size, FUZZ_FILE, diag);
    fuzz_check_problems("fuzz_advisory", diag, data, size, FUZZ_FILE,
                        false);
    check((db != NULL) == (zg_diag_count(diag) == 0),
          "a database results exactly when there is no problem");
    if (db)
        check_db(db);
    zg_advisories_destroy(&db);
    zg_diag_destroy(&diag);
    return 0;
}
