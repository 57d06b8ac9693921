/*
 * fuzz_cert.c - libFuzzer target for the certificate reader.
 *
 * Any bytes go to zg_zpl_parse and to zg_cert_parse (the public part of a
 * certificate, from memory: the reader zg_cert_load uses). Besides memory
 * errors and undefined behaviour, it aborts when a promise breaks:
 *   - zg_cert_parse accepts exactly what parses as ZPL and has a 40-char
 *     Z85 curve/public-key; a refusal names the file in zg_last_error();
 *   - an accepted certificate, written back as zguard writes it, reads back
 *     with the same public key and the same metadata in the same order.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "zg_keys.h"
#include "zg_zpl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "fuzz_cert: broken promise: %s\n", what);
        abort();
    }
}

static void round_trip(const zg_cert_t *c)
{
    zg_text_t t;
    check(zg_text_init(&t) == 0, "zg_text_init");
    zg_cert_render(c, ZG_FILE_PUBLIC, &t);
    check(!t.failed, "a read certificate does not fit when written");
    zg_cert_t *back = zg_cert_parse(t.data, t.len, "fuzz-back");
    check(back != NULL, "a written certificate does not read back");
    check(memcmp(zg_cert_public_key(back), zg_cert_public_key(c),
                 ZG_KEY_BYTES) == 0,
          "the public key changed through a round trip");
    check(zg_cert_meta_count(back) == zg_cert_meta_count(c),
          "metadata count changed through a round trip");
    for (size_t i = 0; i < zg_cert_meta_count(c); i++) {
        const char *n = zg_cert_meta_name(c, i);
        check(strcmp(zg_cert_meta_name(back, i), n) == 0 &&
                  strcmp(zg_cert_meta(back, n), zg_cert_meta(c, n)) == 0,
              "metadata changed through a round trip");
    }
    zg_cert_destroy(&back);
    zg_text_free(&t);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    zg_zpl_t zpl;
    unsigned line = 0;
    const char *why = NULL;
    int parsed = zg_zpl_parse(text, size, &zpl, &line, &why);
    if (parsed == 0) {
        for (size_t i = 0; i < zpl.count; i++)
            check(zpl.items[i].line >= 1 && zpl.items[i].line <= line,
                  "an entry outside the text");
        zg_zpl_free(&zpl);
    } else {
        check(why && *why && line >= 1, "a ZPL error without line or why");
    }
    zg_cert_t *c = zg_cert_parse(text, size, "fuzz");
    if (c) {
        check(parsed == 0, "a certificate from text that is not ZPL");
        check(strlen(zg_cert_public_text(c)) == 40, "public text");
        check(strlen(zg_cert_fingerprint(c)) == 19, "fingerprint");
        check(!zg_cert_has_secret(c), "zg_cert_parse kept a secret");
        round_trip(c);
        zg_cert_destroy(&c);
    } else {
        check(strncmp(zg_last_error(), "fuzz", 4) == 0,
              "a refusal that does not name the file");
    }
    return 0;
}
