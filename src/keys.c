/*
 * keys.c - CURVE key pairs and their public certificates.
 *
 * A zg_cert_t is a public key with its metadata and, for a pair, the secret
 * key. Public certificates are ZPL files that CZMQ's zcert_load and pyzmq's
 * zmq.auth.load_certificate both read (docs/keys.md): this file reads them
 * from any of the three, and writes them the way all three read. Secret
 * files, encrypted or not, are secret.c's.
 *
 * The secret lives in its own sodium_malloc allocation (guard pages, never
 * swapped or dumped), read-only once set, and wiped by sodium_free.
 */
#include "zg_error.h"
#include "zg_file.h"
#include "zg_keys.h"
#include "zg_zpl.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <sodium.h>
#include <stdbool.h>

struct zg_cert {
    uint8_t public_key[ZG_KEY_BYTES];
    char public_text[ZG_KEY_TEXT_MAX];
    char fingerprint[ZG_FINGERPRINT_MAX];
    uint8_t *secret; /* sodium_malloc, read-only; NULL: public only */
    bool encrypted;  /* the secret came from an encrypted file */
    size_t nmeta;
    char *meta_name[ZG_META_COUNT_MAX];
    char *meta_value[ZG_META_COUNT_MAX];
};

int zg_sodium_ready(void)
{
    if (sodium_init() >= 0)
        return 0;
    errno = ENOMEM;
    zg_error_set("libsodium could not initialise");
    return -1;
}

/* ---- the text of a certificate file ----------------------------------------
 */

int zg_text_init(zg_text_t *t)
{
    memset(t, 0, sizeof *t);
    if (zg_sodium_ready() != 0)
        return -1;
    t->data = sodium_malloc(ZG_CERT_FILE_MAX);
    if (!t->data) {
        errno = ENOMEM;
        zg_error_set("out of memory");
        return -1;
    }
    t->cap = ZG_CERT_FILE_MAX;
    t->data[0] = '\0';
    return 0;
}

void zg_text_add(zg_text_t *t, const char *fmt, ...)
{
    if (t->failed)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(t->data + t->len, t->cap - t->len, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= t->cap - t->len) {
        t->failed = true;
        t->data[t->len] = '\0';
        return;
    }
    t->len += (size_t)n;
}

void zg_text_free(zg_text_t *t)
{
    sodium_free(t->data); /* wipes it */
    memset(t, 0, sizeof *t);
}

/* ---- the object ---------------------------------------------------------- */

static void set_public(zg_cert_t *c, const uint8_t *key)
{
    memcpy(c->public_key, key, ZG_KEY_BYTES);
    zmq_z85_encode(c->public_text, c->public_key, ZG_KEY_BYTES);
    uint8_t h[crypto_generichash_BYTES];
    crypto_generichash(h, sizeof h, key, ZG_KEY_BYTES, NULL, 0);
    snprintf(c->fingerprint, sizeof c->fingerprint,
             "%02x%02x:%02x%02x:%02x%02x:%02x%02x", h[0], h[1], h[2], h[3],
             h[4], h[5], h[6], h[7]);
}

static zg_cert_t *cert_alloc(void)
{
    if (zg_sodium_ready() != 0)
        return NULL;
    zg_cert_t *c = calloc(1, sizeof *c);
    if (!c) {
        errno = ENOMEM;
        zg_error_set("out of memory");
    }
    return c;
}

/* "2026-11-28T09:00:00Z" for now. */
static void utc_now(char *buf, size_t cap)
{
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(buf, cap, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

zg_cert_t *zg_cert_new(void)
{
    zg_cert_t *c = cert_alloc();
    if (!c)
        return NULL;
    c->secret = sodium_malloc(ZG_KEY_BYTES);
    if (!c->secret) {
        free(c);
        errno = ENOMEM;
        zg_error_set("out of memory");
        return NULL;
    }
    uint8_t pk[ZG_KEY_BYTES];
    crypto_box_keypair(pk, c->secret);
    sodium_mprotect_readonly(c->secret);
    set_public(c, pk);
    char now[32];
    utc_now(now, sizeof now);
    if (zg_cert_set_meta(c, "created", now) != 0) {
        zg_cert_destroy(&c);
        return NULL;
    }
    return c;
}

int zg_cert_set_secret(zg_cert_t *c, const uint8_t *secret, bool encrypted)
{
    uint8_t *s = sodium_malloc(ZG_KEY_BYTES);
    if (!s) {
        errno = ENOMEM;
        zg_error_set("out of memory");
        return -1;
    }
    memcpy(s, secret, ZG_KEY_BYTES);
    sodium_mprotect_readonly(s);
    sodium_free(c->secret);
    c->secret = s;
    c->encrypted = encrypted;
    return 0;
}

void zg_cert_destroy(zg_cert_t **cert)
{
    if (!cert || !*cert)
        return;
    zg_cert_t *c = *cert;
    sodium_free(c->secret);
    for (size_t i = 0; i < c->nmeta; i++) {
        free(c->meta_name[i]);
        free(c->meta_value[i]);
    }
    free(c);
    *cert = NULL;
}

const uint8_t *zg_cert_public_key(const zg_cert_t *cert)
{
    return cert ? cert->public_key : NULL;
}

const char *zg_cert_public_text(const zg_cert_t *cert)
{
    return cert ? cert->public_text : NULL;
}

const uint8_t *zg_cert_secret_key(const zg_cert_t *cert)
{
    return cert ? cert->secret : NULL;
}

int zg_cert_has_secret(const zg_cert_t *cert)
{
    return cert && cert->secret;
}

int zg_cert_was_encrypted(const zg_cert_t *cert)
{
    return cert && cert->secret && cert->encrypted;
}

const char *zg_cert_fingerprint(const zg_cert_t *cert)
{
    return cert ? cert->fingerprint : NULL;
}

/* ---- metadata --------------------------------------------------------------
 */

/* "2027-01-31T00:00:00Z" exactly, and a real instant (no February 30th):
 * one spelling, in UTC, that every reader of the certificate agrees on. */
static bool rfc3339_utc(const char *s)
{
    static const char shape[] = "dddd-dd-ddTdd:dd:ddZ";
    if (strlen(s) != sizeof shape - 1)
        return false;
    for (size_t i = 0; shape[i]; i++)
        if (shape[i] == 'd' ? (s[i] < '0' || s[i] > '9') : s[i] != shape[i])
            return false;
    struct tm tm = {0};
    tm.tm_year = atoi(s) - 1900;
    tm.tm_mon = atoi(s + 5) - 1;
    tm.tm_mday = atoi(s + 8);
    tm.tm_hour = atoi(s + 11);
    tm.tm_min = atoi(s + 14);
    tm.tm_sec = atoi(s + 17);
    struct tm want = tm, back;
    time_t t = timegm(&tm);
    return gmtime_r(&t, &back) && back.tm_year == want.tm_year &&
           back.tm_mon == want.tm_mon && back.tm_mday == want.tm_mday &&
           back.tm_hour == want.tm_hour && back.tm_min == want.tm_min &&
           back.tm_sec == want.tm_sec;
}

/* strict: what zguard writes (lowercase, digits, '_', '-', '.'); otherwise
 * any ZPL name, as CZMQ and pyzmq files may carry. */
static bool meta_name_ok(const char *name, bool strict)
{
    size_t n = strlen(name);
    if (n == 0 || n >= ZG_META_NAME_MAX)
        return false;
    const char *allowed = strict ? "abcdefghijklmnopqrstuvwxyz0123456789_-."
                                 : "abcdefghijklmnopqrstuvwxyz"
                                   "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                   "0123456789$-_@.&+/";
    return strspn(name, allowed) == n;
}

int zg_meta_check(const char *name, const char *value, bool strict,
                  const char **why)
{
    if (!name || !meta_name_ok(name, strict)) {
        *why = strict ? "a metadata name is 1 to 63 of a-z 0-9 _ - ."
                      : "not a metadata name";
        return -1;
    }
    if (!value) {
        *why = "no value";
        return -1;
    }
    size_t n = strlen(value);
    if (n >= ZG_META_VALUE_MAX) {
        *why = "value longer than 255 bytes";
        return -1;
    }
    if (!zg_zpl_text_ok(value, n) || strchr(value, '"')) {
        *why = "value must be printable UTF-8 without '\"'";
        return -1;
    }
    if (strict &&
        (strcmp(name, "expires") == 0 || strcmp(name, "created") == 0) &&
        !rfc3339_utc(value)) {
        *why = "a time is written in UTC like \"2027-01-31T00:00:00Z\"";
        return -1;
    }
    return 0;
}

static int meta_put(zg_cert_t *c, const char *name, const char *value)
{
    for (size_t i = 0; i < c->nmeta; i++) {
        if (strcmp(c->meta_name[i], name) == 0) {
            char *v = strdup(value);
            if (!v)
                goto oom;
            free(c->meta_value[i]);
            c->meta_value[i] = v;
            return 0;
        }
    }
    if (c->nmeta == ZG_META_COUNT_MAX) {
        errno = E2BIG;
        zg_error_set("metadata %s: a certificate holds at most %d entries",
                     name, ZG_META_COUNT_MAX);
        return -1;
    }
    char *n = strdup(name), *v = strdup(value);
    if (!n || !v) {
        free(n);
        free(v);
        goto oom;
    }
    c->meta_name[c->nmeta] = n;
    c->meta_value[c->nmeta++] = v;
    return 0;
oom:
    errno = ENOMEM;
    zg_error_set("out of memory");
    return -1;
}

int zg_cert_set_meta(zg_cert_t *cert, const char *name, const char *value)
{
    const char *why;
    if (!cert || zg_meta_check(name, value, true, &why) != 0) {
        errno = EINVAL;
        zg_error_set("metadata %s: %s", name ? name : "(null)",
                     cert ? why : "no certificate");
        return -1;
    }
    return meta_put(cert, name, value);
}

const char *zg_cert_meta(const zg_cert_t *cert, const char *name)
{
    for (size_t i = 0; cert && name && i < cert->nmeta; i++)
        if (strcmp(cert->meta_name[i], name) == 0)
            return cert->meta_value[i];
    return NULL;
}

size_t zg_cert_meta_count(const zg_cert_t *cert)
{
    return cert ? cert->nmeta : 0;
}

const char *zg_cert_meta_name(const zg_cert_t *cert, size_t index)
{
    return cert && index < cert->nmeta ? cert->meta_name[index] : NULL;
}

/* ---- reading ----------------------------------------------------------------
 */

static zg_cert_t *malformed(zg_cert_t *c, const char *file, unsigned line,
                            const char *what, const char *why)
{
    zg_cert_destroy(&c);
    errno = EINVAL;
    if (line)
        zg_error_set("%s:%u: %s%s%s", file, line, what, *what ? ": " : "", why);
    else
        zg_error_set("%s: %s%s%s", file, what, *what ? ": " : "", why);
    return NULL;
}

zg_cert_t *zg_cert_from_zpl(const zg_zpl_t *zpl, const char *file)
{
    zg_cert_t *c = cert_alloc();
    if (!c)
        return NULL;
    const char *text = zg_zpl_get(zpl, "curve", "public-key");
    unsigned line = zg_zpl_line(zpl, "curve", "public-key");
    uint8_t key[ZG_KEY_BYTES];
    if (!text)
        return malformed(c, file, 0, "",
                         "no public-key in a 'curve' section: not a CURVE "
                         "certificate");
    if (strlen(text) != ZG_KEY_TEXT_MAX - 1 || !zmq_z85_decode(key, text))
        return malformed(c, file, line, "public-key",
                         "not 40 Z85 characters (a 32-byte key)");
    set_public(c, key);
    for (size_t i = 0; i < zpl->count; i++) {
        const zg_zpl_entry_t *e = &zpl->items[i];
        const char *why;
        if (strcmp(e->section, "metadata") != 0)
            continue;
        if (zg_meta_check(e->key, e->value, false, &why) != 0)
            return malformed(c, file, e->line, e->key, why);
        if (c->nmeta == ZG_META_COUNT_MAX)
            return malformed(c, file, e->line, e->key,
                             "more metadata than a certificate holds (32)");
        if (meta_put(c, e->key, e->value) != 0) {
            zg_cert_destroy(&c);
            return NULL;
        }
    }
    return c;
}

zg_cert_t *zg_cert_parse(const char *text, size_t len, const char *file)
{
    zg_zpl_t zpl;
    unsigned line = 0;
    const char *why = NULL;
    if (zg_zpl_parse(text, len, &zpl, &line, &why) != 0) {
        errno = strcmp(why, "out of memory") == 0 ? ENOMEM : EINVAL;
        zg_error_set("%s:%u: %s", file, line, why);
        return NULL;
    }
    zg_cert_t *c = zg_cert_from_zpl(&zpl, file);
    zg_zpl_free(&zpl);
    return c;
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n > m && strcmp(s + n - m, suffix) == 0;
}

int zg_key_paths(const char *key, char *pub, char *sec, size_t cap)
{
    size_t n = key ? strlen(key) : 0;
    int a, b;
    if (n == 0) {
        errno = EINVAL;
        zg_error_set("no key file given");
        return -1;
    }
    if (ends_with(key, "_secret")) {
        a = snprintf(pub, cap, "%.*s", (int)(n - 7), key);
        b = snprintf(sec, cap, "%s", key);
    } else {
        a = snprintf(pub, cap, "%s", key);
        b = snprintf(sec, cap, "%s_secret", key);
    }
    if (a < 0 || b < 0 || (size_t)a >= cap || (size_t)b >= cap) {
        errno = ENAMETOOLONG;
        zg_error_set("%s: path too long", key);
        return -1;
    }
    return 0;
}

/* The owner and mode rule of OpenSSH for private keys. */
static int check_private(const char *path, const struct stat *st)
{
    if (st->st_mode & 077) {
        errno = EPERM;
        zg_error_set("%s: permissions %04o are too open for a secret key: "
                     "only its owner may have access (chmod 600 %s)",
                     path, (unsigned)(st->st_mode & 07777), path);
        return -1;
    }
    if (st->st_uid != geteuid()) {
        errno = EACCES;
        zg_error_set("%s: owned by uid %u, not by this user (uid %u): "
                     "refusing a secret key another user controls",
                     path, (unsigned)st->st_uid, (unsigned)geteuid());
        return -1;
    }
    return 0;
}

void zg_cert_file_free(char **data, size_t len, bool secure)
{
    if (!*data)
        return;
    if (secure) {
        sodium_free(*data);
    } else {
        sodium_memzero(*data, len);
        free(*data);
    }
    *data = NULL;
}

int zg_cert_file_read(const char *path, bool secure, bool private_file, char **data,
                 size_t *len)
{
    *data = NULL;
    *len = 0;
    if (zg_sodium_ready() != 0)
        return -1;
    struct stat st;
    bool not_regular;
    int fd = zg_file_open_regular(path, &st, &not_regular);
    if (fd < 0) {
        int e = errno;
        if (not_regular)
            zg_error_set("%s: not a regular file", path);
        else
            zg_error_set("%s: cannot read: %s", path, strerror(e));
        errno = e;
        return -1;
    }
    int rc = -1;
    if (private_file && check_private(path, &st) != 0) {
        /* error set */
    } else if (st.st_size > ZG_CERT_FILE_MAX) {
        errno = EFBIG;
        zg_error_set("%s: larger than %d KiB: not a certificate", path,
                     ZG_CERT_FILE_MAX / 1024);
    } else {
        /* one byte more than the limit, to see a file that grew */
        size_t cap = ZG_CERT_FILE_MAX + 2;
        char *buf = secure ? sodium_malloc(cap) : malloc(cap);
        size_t n = 0;
        if (!buf) {
            errno = ENOMEM;
            zg_error_set("out of memory");
        } else if (zg_file_read_fd(fd, buf, cap - 1, &n) != 0) {
            int e = errno;
            zg_cert_file_free(&buf, cap, secure);
            errno = e;
            zg_error_set("%s: cannot read: %s", path, strerror(e));
        } else if (n > ZG_CERT_FILE_MAX) {
            zg_cert_file_free(&buf, cap, secure);
            errno = EFBIG;
            zg_error_set("%s: larger than %d KiB: not a certificate", path,
                         ZG_CERT_FILE_MAX / 1024);
        } else {
            buf[n] = '\0';
            *data = buf;
            *len = n;
            rc = 0;
        }
    }
    close(fd);
    return rc;
}

zg_cert_t *zg_cert_load(const char *path)
{
    zg_error_clear();
    if (!path) {
        errno = EINVAL;
        zg_error_set("no certificate file given");
        return NULL;
    }
    /* a secret file read for its public half still holds a secret */
    bool secure = ends_with(path, "_secret");
    char *text;
    size_t len;
    if (zg_cert_file_read(path, secure, false, &text, &len) != 0)
        return NULL;
    zg_cert_t *c = zg_cert_parse(text, len, path);
    zg_cert_file_free(&text, len, secure);
    return c;
}

/* ---- writing ----------------------------------------------------------------
 */

/* What each file is, for a person who opens it. */
static void banner(const zg_cert_t *c, zg_cert_file_t kind, zg_text_t *t)
{
    switch (kind) {
    case ZG_FILE_PUBLIC:
        zg_text_add(
            t,
            "#   ZeroMQ CURVE public certificate, written by zguard\n"
            "#   Fingerprint %s: compare it with its owner's before\n"
            "#   trusting it. It holds no secret: give it to the peers\n"
            "#   that must accept this key.\n",
            c->fingerprint);
        break;
    case ZG_FILE_PLAINTEXT:
        zg_text_add(
            t,
            "#   ZeroMQ CURVE secret key, NOT encrypted, written by "
            "zguard\n"
            "#   Fingerprint %s. Whoever can read this file can act\n"
            "#   as its owner: keep it mode 0600, share it with no one.\n",
            c->fingerprint);
        break;
    case ZG_FILE_ENCRYPTED:
        zg_text_add(t,
                    "#   zguard encrypted CURVE secret key (" ZG_SECRET_FORMAT
                    ")\n"
                    "#   Fingerprint %s. The secret is sealed with a\n"
                    "#   passphrase (Argon2id, XChaCha20-Poly1305); CZMQ and\n"
                    "#   pyzmq read only its public key. Every byte is\n"
                    "#   authenticated: do not edit.\n",
                    c->fingerprint);
        break;
    }
}

void zg_cert_render(const zg_cert_t *c, zg_cert_file_t kind, zg_text_t *t)
{
    banner(c, kind, t);
    zg_text_add(t, "\nmetadata\n");
    for (size_t i = 0; i < c->nmeta; i++)
        zg_text_add(t, "    %s = \"%s\"\n", c->meta_name[i], c->meta_value[i]);
    zg_text_add(t, "curve\n    public-key = \"%s\"\n", c->public_text);
    if (kind == ZG_FILE_PLAINTEXT) {
        char z85[ZG_KEY_TEXT_MAX];
        zmq_z85_encode(z85, c->secret, ZG_KEY_BYTES);
        zg_text_add(t, "    secret-key = \"%s\"\n", z85);
        sodium_memzero(z85, sizeof z85);
    }
}

int zg_cert_save_public(const zg_cert_t *cert, const char *key)
{
    zg_error_clear();
    char pub[4096], sec[4096];
    if (zg_key_paths(key, pub, sec, sizeof pub) != 0)
        return -1;
    return zg_cert_write(cert, pub, NULL, NULL, ZG_KDF_MODERATE,
                         ZG_WRITE_REPLACE);
}
