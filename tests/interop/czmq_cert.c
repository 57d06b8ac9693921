/*
 * czmq_cert.c - CZMQ's side of the interop test: load a certificate with
 * zcert_load, or make one with zcert_new + zcert_save.
 *
 *   czmq_cert load FILE   prints "public Z85", "secret Z85" (or "secret -")
 *                         and "meta NAME=VALUE" lines; exit 1 if CZMQ fails
 *   czmq_cert new FILE    writes FILE and FILE_secret, prints the same
 */
#include <czmq.h>
#include <stdio.h>
#include <string.h>

static void print(zcert_t *cert)
{
    static const byte zero[32] = {0};
    printf("public %s\n", zcert_public_txt(cert));
    printf("secret %s\n", memcmp(zcert_secret_key(cert), zero, 32) == 0
                              ? "-"
                              : zcert_secret_txt(cert));
    zlist_t *keys = zcert_meta_keys(cert);
    for (const char *k = zlist_first(keys); k; k = zlist_next(keys))
        printf("meta %s=%s\n", k, zcert_meta(cert, k));
    zlist_destroy(&keys);
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: czmq_cert load|new FILE\n");
        return 2;
    }
    zcert_t *cert = NULL;
    if (strcmp(argv[1], "load") == 0) {
        cert = zcert_load(argv[2]);
    } else if (strcmp(argv[1], "new") == 0) {
        cert = zcert_new();
        zcert_set_meta(cert, "name", "%s", "made-by-czmq");
        if (cert && zcert_save(cert, argv[2]) != 0)
            zcert_destroy(&cert);
    }
    if (!cert) {
        fprintf(stderr, "czmq_cert: %s %s failed\n", argv[1], argv[2]);
        return 1;
    }
    print(cert);
    zcert_destroy(&cert);
    return 0;
}
