/*
 * secret.c - secret key files: encrypted by default, written atomically
 * (file.c's zg_files_write).
 *
 * NAME.key_secret is ZPL like the public certificate. In plaintext it is the
 * CZMQ/pyzmq layout (curve/secret-key). Encrypted (zguard-secret-1, see
 * docs/keys.md) it adds a `zguard` section: Argon2id parameters and salt,
 * the XChaCha20-Poly1305 nonce, the sealed secret, and last a BLAKE2b
 * checksum of every byte before it. The AEAD's additional data is every byte
 * before the sealed-secret-key line, so the public key, metadata and KDF
 * parameters cannot be changed without the passphrase noticing.
 *
 * Loading checks, in order, what can go wrong, so that each failure has its
 * own message and errno: the file's owner and mode (as OpenSSH does), the
 * checksum line (missing: truncated), the checksum (mismatch: corrupted),
 * the structure and KDF parameters, then Argon2id and decryption (failure
 * with a good checksum: wrong passphrase), then that the secret is the one
 * of the public key. The checksum comes before the ZPL parse, so any damage
 * reads "corrupted", not as a syntax error on some line.
 */
#include "zg_error.h"
#include "zg_file.h"
#include "zg_keys.h"
#include "zg_zpl.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <sodium.h>
#include <stdbool.h>

#define KDF_NAME "argon2id13"
#define BANNER_MARK "#   zguard encrypted"
#define CHECKSUM_PREFIX "    checksum = \""
#define CHECKSUM_HEX (2 * crypto_generichash_BYTES)
#define OPSLIMIT_MAX (crypto_pwhash_OPSLIMIT_SENSITIVE * 4ULL)
#define MEMLIMIT_MAX (4ULL << 30)

/* ---- the encrypted format ------------------------------------------------ */

static void hex(char *out, size_t cap, const uint8_t *bin, size_t len)
{
    sodium_bin2hex(out, cap, bin, len);
}

/* Exactly 2*len lowercase hex digits: a case change must not decode to the
 * same bytes, or a flipped bit in the unauthenticated checksum could pass. */
static int unhex(const char *text, uint8_t *bin, size_t len)
{
    if (strlen(text) != 2 * len || strspn(text, "0123456789abcdef") != 2 * len)
        return -1;
    return sodium_hex2bin(bin, len, text, 2 * len, NULL, NULL, NULL);
}

static void cost_params(zg_kdf_cost_t cost, unsigned long long *ops,
                        size_t *mem)
{
    switch (cost) {
    case ZG_KDF_INTERACTIVE:
        *ops = crypto_pwhash_OPSLIMIT_INTERACTIVE;
        *mem = crypto_pwhash_MEMLIMIT_INTERACTIVE;
        break;
    case ZG_KDF_SENSITIVE:
        *ops = crypto_pwhash_OPSLIMIT_SENSITIVE;
        *mem = crypto_pwhash_MEMLIMIT_SENSITIVE;
        break;
    default:
        *ops = crypto_pwhash_OPSLIMIT_MODERATE;
        *mem = crypto_pwhash_MEMLIMIT_MODERATE;
        break;
    }
}

/* The key that seals the secret, in sodium_malloc memory. */
static uint8_t *derive(const zg_passphrase_t *pass, const uint8_t *salt,
                       unsigned long long ops, size_t mem, const char *file)
{
    uint8_t *key = sodium_malloc(crypto_aead_xchacha20poly1305_ietf_KEYBYTES);
    size_t plen;
    const uint8_t *p = zg_passphrase_bytes(pass, &plen);
    if (key && crypto_pwhash(key, crypto_aead_xchacha20poly1305_ietf_KEYBYTES,
                             (const char *)p, plen, salt, ops, mem,
                             crypto_pwhash_ALG_ARGON2ID13) == 0)
        return key;
    sodium_free(key);
    errno = ENOMEM;
    zg_error_set("%s: Argon2id could not get its %zu MiB of memory", file,
                 mem >> 20);
    return NULL;
}

int zg_secret_render(const zg_cert_t *cert, const zg_passphrase_t *pass,
                     zg_kdf_cost_t cost, zg_text_t *t)
{
    if (!pass) {
        zg_cert_render(cert, ZG_FILE_PLAINTEXT, t);
        return 0;
    }
    unsigned long long ops;
    size_t mem;
    cost_params(cost, &ops, &mem);
    uint8_t salt[crypto_pwhash_SALTBYTES];
    uint8_t nonce[crypto_aead_xchacha20poly1305_ietf_NPUBBYTES];
    uint8_t sealed[ZG_SEALED_BYTES], sum[crypto_generichash_BYTES];
    char h[2 * ZG_SEALED_BYTES + 1];
    randombytes_buf(salt, sizeof salt);
    randombytes_buf(nonce, sizeof nonce);
    uint8_t *key = derive(pass, salt, ops, mem, "new secret");
    if (!key)
        return -1;
    zg_cert_render(cert, ZG_FILE_ENCRYPTED, t);
    zg_text_add(t,
                "zguard\n    format = \"%s\"\n    kdf = \"%s\"\n"
                "    opslimit = \"%llu\"\n    memlimit = \"%zu\"\n",
                ZG_SECRET_FORMAT, KDF_NAME, ops, mem);
    hex(h, sizeof h, salt, sizeof salt);
    zg_text_add(t, "    salt = \"%s\"\n", h);
    hex(h, sizeof h, nonce, sizeof nonce);
    zg_text_add(t, "    nonce = \"%s\"\n", h);
    crypto_aead_xchacha20poly1305_ietf_encrypt(
        sealed, NULL, zg_cert_secret_key(cert), ZG_KEY_BYTES,
        (const uint8_t *)t->data, t->len, NULL, nonce, key);
    sodium_free(key);
    hex(h, sizeof h, sealed, sizeof sealed);
    zg_text_add(t, "    sealed-secret-key = \"%s\"\n", h);
    crypto_generichash(sum, sizeof sum, (const uint8_t *)t->data, t->len, NULL,
                       0);
    hex(h, sizeof h, sum, sizeof sum);
    zg_text_add(t, CHECKSUM_PREFIX "%s\"\n", h);
    return 0;
}

static bool starts(const char *s, size_t n, const char *prefix)
{
    size_t m = strlen(prefix);
    return n >= m && memcmp(s, prefix, m) == 0;
}

/* Any one line only an encrypted file has. One flipped bit can spoil one of
 * them, never all, so a damaged encrypted file is never taken for a
 * plaintext one. */
static bool looks_encrypted(const char *text, size_t len)
{
    for (const char *p = text, *end = text + len; p < end;) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = (size_t)((nl ? nl : end) - p);
        if ((n == 6 && memcmp(p, "zguard", 6) == 0) ||
            starts(p, n, BANNER_MARK) ||
            starts(p, n, "    format = \"zguard-secret") ||
            starts(p, n, "    sealed-secret-key") ||
            starts(p, n, "    checksum"))
            return true;
        p = nl ? nl + 1 : end;
    }
    return false;
}

/* Start of the line before the one at offset `line` (> 0). */
static size_t line_before(const char *text, size_t line)
{
    size_t i = line - 1; /* its '\n' */
    while (i > 0 && text[i - 1] != '\n')
        i--;
    return i;
}

static int fail(int e, const char *fmt, ...) ZG_PRINTF(2, 3);
static int fail(int e, const char *fmt, ...)
{
    char msg[ZG_ERROR_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    errno = e;
    zg_error_set("%s", msg);
    return -1;
}

/* The last line must be the checksum of everything before it. */
static int check_sum(const char *text, size_t len, const char *file,
                     size_t *sum_line)
{
    size_t want = strlen(CHECKSUM_PREFIX) + CHECKSUM_HEX + 2; /* "\"\n" */
    size_t start =
        len >= 1 && text[len - 1] == '\n' ? line_before(text, len) : len;
    char digits[CHECKSUM_HEX + 1];
    uint8_t stored[crypto_generichash_BYTES], sum[crypto_generichash_BYTES];
    if (len - start != want || !starts(text + start, want, CHECKSUM_PREFIX) ||
        text[len - 2] != '"')
        return fail(ENODATA,
                    "%s: truncated or corrupted: it does not end with its "
                    "checksum line",
                    file);
    memcpy(digits, text + start + strlen(CHECKSUM_PREFIX), CHECKSUM_HEX);
    digits[CHECKSUM_HEX] = '\0';
    crypto_generichash(sum, sizeof sum, (const uint8_t *)text, start, NULL, 0);
    if (unhex(digits, stored, sizeof stored) != 0 ||
        sodium_memcmp(stored, sum, sizeof sum) != 0)
        return fail(EBADMSG,
                    "%s: corrupted or modified: its checksum does not match",
                    file);
    *sum_line = start;
    return 0;
}

static const char *const zguard_keys[] = {
    "format", "kdf",   "opslimit",          "memlimit",
    "salt",   "nonce", "sealed-secret-key", "checksum"};
#define NZGUARD_KEYS (sizeof zguard_keys / sizeof zguard_keys[0])

static int check_keys(const zg_zpl_t *zpl, const char *file)
{
    for (size_t i = 0; i < zpl->count; i++) {
        const zg_zpl_entry_t *e = &zpl->items[i];
        bool known = false;
        for (size_t k = 0; k < NZGUARD_KEYS; k++)
            known |= strcmp(e->key, zguard_keys[k]) == 0;
        if (strcmp(e->section, "zguard") == 0 && !known)
            return fail(EINVAL, "%s:%u: unknown key '%s' in section zguard",
                        file, e->line, e->key);
        if (strcmp(e->section, "curve") == 0 &&
            strcmp(e->key, "secret-key") == 0)
            return fail(EINVAL,
                        "%s:%u: an encrypted file with a plaintext secret-key",
                        file, e->line);
    }
    for (size_t k = 0; k < NZGUARD_KEYS; k++)
        if (!zg_zpl_get(zpl, "zguard", zguard_keys[k]))
            return fail(EINVAL, "%s: no %s in section zguard", file,
                        zguard_keys[k]);
    return 0;
}

static int number(const char *text, unsigned long long min,
                  unsigned long long max, unsigned long long *out)
{
    size_t n = strlen(text);
    if (n == 0 || n > 19 || strspn(text, "0123456789") != n)
        return -1;
    *out = strtoull(text, NULL, 10);
    return *out < min || *out > max ? -1 : 0;
}

static int check_params(const zg_zpl_t *zpl, const char *file,
                        zg_secret_file_t *out)
{
#define AT(k) file, zg_zpl_line(zpl, "zguard", k)
    const char *v = zg_zpl_get(zpl, "zguard", "format");
    if (strcmp(v, ZG_SECRET_FORMAT) != 0)
        return fail(ENOTSUP,
                    "%s:%u: format '%s' is not one this zguard "
                    "reads (" ZG_SECRET_FORMAT ")",
                    AT("format"), v);
    v = zg_zpl_get(zpl, "zguard", "kdf");
    if (strcmp(v, KDF_NAME) != 0)
        return fail(ENOTSUP, "%s:%u: kdf '%s' is not " KDF_NAME, AT("kdf"), v);
    unsigned long long mem;
    v = zg_zpl_get(zpl, "zguard", "opslimit");
    if (number(v, crypto_pwhash_OPSLIMIT_MIN, OPSLIMIT_MAX, &out->opslimit))
        return fail(EBADMSG,
                    "%s:%u: corrupted: opslimit '%s' is outside "
                    "%llu..%llu",
                    AT("opslimit"), v,
                    (unsigned long long)crypto_pwhash_OPSLIMIT_MIN,
                    OPSLIMIT_MAX);
    v = zg_zpl_get(zpl, "zguard", "memlimit");
    if (number(v, crypto_pwhash_MEMLIMIT_MIN, MEMLIMIT_MAX, &mem))
        return fail(EBADMSG,
                    "%s:%u: corrupted: memlimit '%s' is outside "
                    "%llu..%llu",
                    AT("memlimit"), v,
                    (unsigned long long)crypto_pwhash_MEMLIMIT_MIN,
                    MEMLIMIT_MAX);
    out->memlimit = (size_t)mem;
    static const struct {
        const char *key;
        size_t offset, len;
    } bins[] = {
        {"salt", offsetof(zg_secret_file_t, salt), crypto_pwhash_SALTBYTES},
        {"nonce", offsetof(zg_secret_file_t, nonce),
         crypto_aead_xchacha20poly1305_ietf_NPUBBYTES},
        {"sealed-secret-key", offsetof(zg_secret_file_t, sealed),
         ZG_SEALED_BYTES},
    };
    for (size_t i = 0; i < sizeof bins / sizeof bins[0]; i++)
        if (unhex(zg_zpl_get(zpl, "zguard", bins[i].key),
                  (uint8_t *)out + bins[i].offset, bins[i].len) != 0)
            return fail(EINVAL, "%s:%u: %s is not %zu lowercase hex digits",
                        AT(bins[i].key), bins[i].key, 2 * bins[i].len);
    return 0;
#undef AT
}

static unsigned count_lines(const char *text, size_t len)
{
    unsigned n = 0;
    for (size_t i = 0; i < len; i++)
        n += text[i] == '\n';
    return n;
}

static int parse_zpl(const char *text, size_t len, const char *file,
                     zg_zpl_t *zpl)
{
    unsigned line = 0;
    const char *why = NULL;
    if (zg_zpl_parse(text, len, zpl, &line, &why) == 0)
        return 0;
    return fail(strcmp(why, "out of memory") == 0 ? ENOMEM : EINVAL,
                "%s:%u: %s", file, line, why);
}

static int parse_encrypted(const char *text, size_t len, const char *file,
                           zg_secret_file_t *out)
{
    size_t sum_at = 0;
    zg_zpl_t zpl;
    if (check_sum(text, len, file, &sum_at) != 0 ||
        parse_zpl(text, len, file, &zpl) != 0)
        return -1;
    int rc = -1;
    unsigned last = count_lines(text, len);
    if (check_keys(&zpl, file) != 0 || check_params(&zpl, file, out) != 0)
        goto out;
    /* the sealed key and then the checksum close the file: what the AEAD
     * authenticates is everything before them */
    if (zg_zpl_line(&zpl, "zguard", "checksum") != last ||
        zg_zpl_line(&zpl, "zguard", "sealed-secret-key") != last - 1) {
        fail(EINVAL,
             "%s: sealed-secret-key and checksum must be its last "
             "two lines",
             file);
        goto out;
    }
    out->cert = zg_cert_from_zpl(&zpl, file);
    if (!out->cert)
        goto out;
    out->encrypted = true;
    out->ad = text;
    out->ad_len = line_before(text, sum_at);
    rc = 0;
out:
    zg_zpl_free(&zpl);
    return rc;
}

static bool secret_matches(const zg_cert_t *cert, const uint8_t *secret)
{
    uint8_t pk[ZG_KEY_BYTES];
    crypto_scalarmult_base(pk, secret);
    return memcmp(pk, zg_cert_public_key(cert), ZG_KEY_BYTES) == 0;
}

static int mismatch(const char *file)
{
    return fail(EBADE, "%s: the secret key does not match its public key",
                file);
}

static int parse_plaintext(const char *text, size_t len, const char *file,
                           zg_secret_file_t *out)
{
    if (len == 0)
        return fail(ENODATA, "%s: truncated: the file is empty", file);
    zg_zpl_t zpl;
    if (parse_zpl(text, len, file, &zpl) != 0) {
        if (text[len - 1] != '\n') /* cut inside its last line */
            fail(ENODATA, "%s: truncated: it ends inside a line (%s)", file,
                 zg_last_error());
        return -1;
    }
    int rc = -1;
    const char *z85 = zg_zpl_get(&zpl, "curve", "secret-key");
    uint8_t *secret = sodium_malloc(ZG_KEY_BYTES);
    if (!secret) {
        fail(ENOMEM, "out of memory");
    } else if (!z85 && text[len - 1] != '\n') {
        fail(ENODATA, "%s: truncated: it ends before its secret-key", file);
    } else if (!z85) {
        fail(EINVAL,
             "%s: no secret-key in a 'curve' section: not a secret "
             "key file",
             file);
    } else if (strlen(z85) != ZG_KEY_TEXT_MAX - 1 ||
               !zmq_z85_decode(secret, z85)) {
        fail(EINVAL,
             "%s:%u: secret-key: not 40 Z85 characters (a 32-byte "
             "key)",
             file, zg_zpl_line(&zpl, "curve", "secret-key"));
    } else if ((out->cert = zg_cert_from_zpl(&zpl, file)) != NULL) {
        if (!secret_matches(out->cert, secret))
            mismatch(file);
        else
            rc = zg_cert_set_secret(out->cert, secret, false);
    }
    sodium_free(secret);
    zg_zpl_free(&zpl);
    if (rc != 0)
        zg_cert_destroy(&out->cert);
    return rc;
}

int zg_secret_parse(const char *text, size_t len, const char *file,
                    zg_secret_file_t *out)
{
    memset(out, 0, sizeof *out);
    if (zg_sodium_ready() != 0)
        return -1;
    int rc = looks_encrypted(text, len) ? parse_encrypted(text, len, file, out)
                                        : parse_plaintext(text, len, file, out);
    if (rc != 0)
        zg_secret_file_clear(out);
    return rc;
}

void zg_secret_file_clear(zg_secret_file_t *sf)
{
    zg_cert_destroy(&sf->cert);
    sodium_memzero(sf, sizeof *sf);
}

int zg_secret_open(zg_secret_file_t *sf, const char *file,
                   const zg_passphrase_t *pass)
{
    if (!sf->encrypted)
        return 0;
    if (!pass)
        return fail(ENOKEY,
                    "%s: the secret key is encrypted and no "
                    "passphrase was given",
                    file);
    uint8_t *key = derive(pass, sf->salt, sf->opslimit, sf->memlimit, file);
    uint8_t *secret = key ? sodium_malloc(ZG_KEY_BYTES) : NULL;
    int rc = -1;
    if (!key) {
        /* error set */
    } else if (!secret) {
        fail(ENOMEM, "out of memory");
    } else if (crypto_aead_xchacha20poly1305_ietf_decrypt(
                   secret, NULL, NULL, sf->sealed, sizeof sf->sealed,
                   (const uint8_t *)sf->ad, sf->ad_len, sf->nonce, key) != 0) {
        fail(EKEYREJECTED,
             "%s: wrong passphrase (the file is intact: its "
             "checksum matches)",
             file);
    } else if (!secret_matches(sf->cert, secret)) {
        mismatch(file);
    } else {
        rc = zg_cert_set_secret(sf->cert, secret, true);
    }
    sodium_free(secret);
    sodium_free(key);
    return rc;
}

/* ---- the public API
 * ---------------------------------------------------------- */

/* The secret file of KEY, read with its owner and mode checked, and parsed. */
static int read_secret(const char *sec, zg_secret_file_t *sf, char **text,
                       size_t *len)
{
    if (zg_cert_file_read(sec, true, true, text, len) != 0)
        return -1;
    if (zg_secret_parse(*text, *len, sec, sf) != 0) {
        zg_cert_file_free(text, *len, true);
        return -1;
    }
    return 0;
}

/* NAME.key, when there is one, must hold the same public key. */
static int check_public_file(const char *pub, const char *sec,
                             const zg_cert_t *from_secret)
{
    if (access(pub, F_OK) != 0 && errno == ENOENT)
        return 0; /* the secret file has the public key too */
    zg_cert_t *c = zg_cert_load(pub);
    if (!c)
        return -1;
    bool same = memcmp(zg_cert_public_key(c), zg_cert_public_key(from_secret),
                       ZG_KEY_BYTES) == 0;
    zg_cert_destroy(&c);
    if (same)
        return 0;
    return fail(EBADE, "%s: the secret key does not match its public key %s",
                sec, pub);
}

zg_cert_t *zg_cert_load_pair(const char *key, const zg_passphrase_t *pass)
{
    zg_error_clear();
    char pub[PATH_MAX], sec[PATH_MAX];
    if (zg_key_paths(key, pub, sec, sizeof pub) != 0)
        return NULL;
    zg_secret_file_t sf;
    char *text;
    size_t len;
    if (read_secret(sec, &sf, &text, &len) != 0)
        return NULL;
    zg_cert_t *c = NULL;
    if (check_public_file(pub, sec, sf.cert) == 0 &&
        zg_secret_open(&sf, sec, pass) == 0) {
        c = sf.cert;
        sf.cert = NULL;
    }
    zg_secret_file_clear(&sf);
    zg_cert_file_free(&text, len, true);
    return c;
}

int zg_cert_secret_encrypted(const char *key)
{
    zg_error_clear();
    char pub[PATH_MAX], sec[PATH_MAX];
    if (zg_key_paths(key, pub, sec, sizeof pub) != 0)
        return -1;
    zg_secret_file_t sf;
    char *text;
    size_t len;
    if (read_secret(sec, &sf, &text, &len) != 0)
        return -1;
    int rc = sf.encrypted;
    zg_secret_file_clear(&sf);
    zg_cert_file_free(&text, len, true);
    return rc;
}

int zg_cert_write(const zg_cert_t *cert, const char *pub_path,
                  const char *sec_path, const zg_passphrase_t *pass,
                  zg_kdf_cost_t cost, int flags)
{
    if (!cert || (sec_path && !zg_cert_has_secret(cert)))
        return fail(EINVAL, "%s",
                    cert ? "the certificate has no secret key"
                         : "no certificate");
    if ((unsigned)cost > ZG_KDF_SENSITIVE)
        return fail(EINVAL, "unknown Argon2id cost %d", (int)cost);
    zg_text_t pt = {0}, st = {0};
    zg_write_t w[2];
    size_t n = 0;
    int rc = -1;
    if (zg_text_init(&pt) != 0 || zg_text_init(&st) != 0)
        goto out;
    if (sec_path) {
        if (zg_secret_render(cert, pass, cost, &st) != 0)
            goto out;
        w[n++] = (zg_write_t){sec_path, st.data, st.len, 0600};
    }
    if (pub_path) {
        zg_cert_render(cert, ZG_FILE_PUBLIC, &pt);
        w[n++] = (zg_write_t){pub_path, pt.data, pt.len, 0644};
    }
    if (pt.failed || st.failed)
        fail(EFBIG, "the certificate would exceed %d KiB",
             ZG_CERT_FILE_MAX / 1024);
    else
        rc = zg_files_write(w, n, flags);
out:
    if (pt.data)
        zg_text_free(&pt);
    if (st.data)
        zg_text_free(&st);
    return rc;
}

int zg_cert_save_secret(const zg_cert_t *cert, const char *key,
                        const zg_passphrase_t *pass, zg_kdf_cost_t cost)
{
    zg_error_clear();
    char pub[PATH_MAX], sec[PATH_MAX];
    if (zg_key_paths(key, pub, sec, sizeof pub) != 0)
        return -1;
    return zg_cert_write(cert, NULL, sec, pass, cost, ZG_WRITE_REPLACE);
}

int zg_cert_save_pair(const zg_cert_t *cert, const char *key,
                      const zg_passphrase_t *pass, zg_kdf_cost_t cost)
{
    zg_error_clear();
    char pub[PATH_MAX], sec[PATH_MAX];
    if (zg_key_paths(key, pub, sec, sizeof pub) != 0)
        return -1;
    return zg_cert_write(cert, pub, sec, pass, cost, ZG_WRITE_REPLACE);
}
