/*
 * zg_cert.c - zguard's side of the interop test.
 *
 *   zg_cert public FILE   zg_cert_load: "public Z85" and "meta NAME=VALUE"
 *   zg_cert pair KEY      zg_cert_load_pair, passphrase from the environment
 *                         when set: also "secret Z85" (a test key only)
 *
 * Exit 2 with zg_last_error() on standard error when zguard refuses.
 */
#include "zg_keys.h"
#include <errno.h>
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: zg_cert public|pair FILE\n");
        return 2;
    }
    zg_cert_t *cert = NULL;
    if (strcmp(argv[1], "public") == 0) {
        cert = zg_cert_load(argv[2]);
    } else {
        zg_passphrase_t *pass = zg_passphrase_from_env();
        if (!pass && errno != ENOENT) {
            fprintf(stderr, "zg_cert: %s\n", zg_last_error());
            return 2;
        }
        cert = zg_cert_load_pair(argv[2], pass);
        zg_passphrase_destroy(&pass);
    }
    if (!cert) {
        fprintf(stderr, "zg_cert: %s\n", zg_last_error());
        return 2;
    }
    printf("public %s\n", zg_cert_public_text(cert));
    if (zg_cert_has_secret(cert)) {
        char z85[ZG_KEY_TEXT_MAX];
        zmq_z85_encode(z85, zg_cert_secret_key(cert), ZG_KEY_BYTES);
        printf("secret %s\n", z85);
    }
    for (size_t i = 0; i < zg_cert_meta_count(cert); i++) {
        const char *n = zg_cert_meta_name(cert, i);
        printf("meta %s=%s\n", n, zg_cert_meta(cert, n));
    }
    zg_cert_destroy(&cert);
    return 0;
}
