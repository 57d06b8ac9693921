/*
 * rotate.c - a new key pair in place of the old one, the old one kept.
 *
 * The file work of docs/key-rotation.md: the current pair gets a second,
 * dated name (hard links, so at no instant is either pair without a copy),
 * then a fresh pair with the same metadata is written over NAME.key and
 * NAME.key_secret, each atomically. A failure before the new secret is in
 * place removes the dated names again, leaving things as they were.
 */
#include "zg_error.h"
#include "zg_keys.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <stdbool.h>

#define STAMP_MAX 24

/* "keys/alice.key" -> "keys/alice.STAMP.key"; CZMQ's "keys/alice" ->
 * "keys/alice.STAMP". The secret's name is the public one + "_secret". */
static void dated(const char *pub, const char *stamp, char *out, size_t cap)
{
    size_t n = strlen(pub);
    bool dot_key = n > 4 && strcmp(pub + n - 4, ".key") == 0;
    snprintf(out, cap, "%.*s.%s%s", (int)(dot_key ? n - 4 : n), pub, stamp,
             dot_key ? ".key" : "");
}

static int copy_meta(const zg_cert_t *from, zg_cert_t *to)
{
    for (size_t i = 0; i < zg_cert_meta_count(from); i++) {
        const char *name = zg_cert_meta_name(from, i);
        /* a new key starts its own life: a new date, no inherited end */
        if (strcmp(name, "created") == 0 || strcmp(name, "expires") == 0 ||
            strcmp(name, "rotated-from") == 0)
            continue;
        if (zg_cert_set_meta(to, name, zg_cert_meta(from, name)) != 0)
            return -1;
    }
    return zg_cert_set_meta(to, "rotated-from", zg_cert_fingerprint(from));
}

static int keep_old(const char *from, const char *to)
{
    if (link(from, to) == 0)
        return 0;
    zg_error_set("cannot keep %s as %s: %s", from, to, strerror(errno));
    return -1;
}

int zg_cert_rotate(const char *key, const zg_passphrase_t *pass,
                   zg_kdf_cost_t cost, char *archived, size_t cap)
{
    zg_error_clear();
    char pub[4096], sec[4096], old_pub[4200], old_sec[4300];
    char stamp[STAMP_MAX];
    if (zg_key_paths(key, pub, sec, sizeof pub) != 0)
        return -1;
    zg_cert_t *old = zg_cert_load(pub);
    if (!old)
        return -1;
    time_t now = time(NULL);
    strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", gmtime(&now));
    dated(pub, stamp, old_pub, sizeof old_pub);
    snprintf(old_sec, sizeof old_sec, "%s_secret", old_pub);
    zg_cert_t *fresh = zg_cert_new();
    int rc = -1;
    if (!fresh || copy_meta(old, fresh) != 0 || keep_old(pub, old_pub) != 0)
        goto out;
    if (keep_old(sec, old_sec) != 0) {
        unlink(old_pub);
        goto out;
    }
    if (zg_cert_save_secret(fresh, sec, pass, cost) != 0) {
        unlink(old_pub);
        unlink(old_sec);
        goto out;
    }
    /* from here the new secret is in place: keep the old pair's copies */
    rc = zg_cert_save_public(fresh, pub);
    if (rc == 0 && archived)
        snprintf(archived, cap, "%s", old_pub);
out:
    zg_cert_destroy(&old);
    zg_cert_destroy(&fresh);
    return rc;
}
