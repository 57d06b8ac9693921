/*
 * fuzz_secret.c - libFuzzer target for the secret key file parser.
 *
 * zg_secret_parse takes a secret file from memory and checks everything
 * up to, not including, Argon2id: the checksum line, the checksum, the ZPL,
 * the zguard section and its KDF parameters, or for a plaintext file the
 * secret and its match with the public key. Random bytes rarely carry a
 * right BLAKE2b checksum, so for two inputs in three the harness redoes the
 * last line's checksum first, as a forger would, and the parser beyond it
 * gets exercised; the third keeps the checksum check itself in play.
 * Aborts when a promise breaks:
 *   - a refusal names the file and sets an errno;
 *   - an accepted encrypted file authenticates (AD) a proper prefix of the
 *     file that ends at the start of a line, with sane KDF parameters;
 *   - an accepted plaintext file holds a secret that matches its public key.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>

#include "zg_keys.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define PREFIX "    checksum"

static void check(int ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "fuzz_secret: broken promise: %s\n", what);
        abort();
    }
}

/* Replaces a last line that starts like a checksum line with the right
 * one. Returns the new length. */
static size_t reseal(char *text, size_t len)
{
    if (len < 2 || text[len - 1] != '\n')
        return len;
    size_t start = len - 1;
    while (start > 0 && text[start - 1] != '\n')
        start--;
    if (len - start < strlen(PREFIX) ||
        memcmp(text + start, PREFIX, strlen(PREFIX)) != 0)
        return len;
    uint8_t sum[crypto_generichash_BYTES];
    char hex[2 * sizeof sum + 1];
    crypto_generichash(sum, sizeof sum, (const uint8_t *)text, start, NULL, 0);
    sodium_bin2hex(hex, sizeof hex, sum, sizeof sum);
    return start +
           (size_t)sprintf(text + start, "    checksum = \"%s\"\n", hex);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > ZG_CERT_FILE_MAX)
        return 0;
    char *text = malloc(size + 128);
    check(text != NULL, "malloc");
    memcpy(text, data, size);
    size_t len = size % 3 ? reseal(text, size) : size;
    zg_secret_file_t sf;
    errno = 0;
    if (zg_secret_parse(text, len, "fuzz", &sf) == 0) {
        check(sf.cert != NULL, "no certificate");
        if (sf.encrypted) {
            check(sf.ad == text && sf.ad_len > 0 && sf.ad_len < len &&
                      text[sf.ad_len - 1] == '\n',
                  "the authenticated prefix");
            check(sf.opslimit >= crypto_pwhash_OPSLIMIT_MIN &&
                      sf.opslimit <= 4ULL * crypto_pwhash_OPSLIMIT_SENSITIVE &&
                      sf.memlimit >= crypto_pwhash_MEMLIMIT_MIN &&
                      sf.memlimit <= (4ULL << 30),
                  "KDF parameters out of range");
            check(!zg_cert_has_secret(sf.cert), "a secret before Argon2id");
        } else {
            uint8_t pk[ZG_KEY_BYTES];
            check(zg_cert_has_secret(sf.cert), "plaintext without secret");
            crypto_scalarmult_base(pk, zg_cert_secret_key(sf.cert));
            check(memcmp(pk, zg_cert_public_key(sf.cert), ZG_KEY_BYTES) == 0,
                  "a secret that does not match its public key");
        }
        zg_secret_file_clear(&sf);
    } else {
        check(strncmp(zg_last_error(), "fuzz", 4) == 0 || errno == ENOMEM,
              "a refusal that does not name the file");
        check(errno != 0, "a refusal without errno");
    }
    free(text);
    return 0;
}
