/*
 * zg_keys.h - keys.c, secret.c, passphrase.c: CURVE key files
 * (certificates, sealed secrets, passphrases). See docs/keys.md for the
 * file formats.
 */
#ifndef ZG_KEYS_H
#define ZG_KEYS_H

#include "zguard.h"
#include "zg_error.h"
#include "zg_zpl.h"

#include <sodium.h>
#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>

#include <sys/types.h>

#define ZG_CERT_FILE_MAX (64 * 1024) /* a certificate is a page of text */
#define ZG_META_COUNT_MAX 32         /* metadata entries per certificate */
#define ZG_PASSPHRASE_MAX 1024       /* bytes, without the newline */
#define ZG_SECRET_FORMAT "zguard-secret-1"
#define ZG_SEALED_BYTES \
    (ZG_KEY_BYTES + crypto_aead_xchacha20poly1305_ietf_ABYTES)

/* keys.c: the secret half of a pair, in sodium_malloc memory. */
const uint8_t *zg_cert_secret_key(const zg_cert_t *cert);

/* keys.c: sodium_init(), once; -1 with an error if it fails. */
int zg_sodium_ready(void);

/* keys.c: a text being written (a certificate file); sodium_malloc'ed,
 * because secret files pass through it, and wiped when freed. */
typedef struct zg_text {
    char *data;
    size_t len, cap;
    bool failed; /* it did not fit */
} zg_text_t;

int zg_text_init(zg_text_t *t);
void zg_text_add(zg_text_t *t, const char *fmt, ...) ZG_PRINTF(2, 3);
void zg_text_free(zg_text_t *t);

typedef enum zg_cert_file {
    ZG_FILE_PUBLIC,    /* NAME.key */
    ZG_FILE_PLAINTEXT, /* NAME.key_secret with secret-key, as CZMQ/pyzmq */
    ZG_FILE_ENCRYPTED  /* the part before the zguard section */
} zg_cert_file_t;

/* The banner, metadata and curve sections of a certificate file. */
void zg_cert_render(const zg_cert_t *cert, zg_cert_file_t kind, zg_text_t *t);
/* The public part (public key, metadata) of certificate text; any secret in
 * it is not kept. file names the text in errors. */
zg_cert_t *zg_cert_parse(const char *text, size_t len, const char *file);
/* Same, from an already parsed ZPL tree. */
zg_cert_t *zg_cert_from_zpl(const zg_zpl_t *zpl, const char *file);
/* Copies the secret into sodium_malloc memory, read-only from then on. */
int zg_cert_set_secret(zg_cert_t *cert, const uint8_t *secret, bool encrypted);
/* 0 when name and value may be written to a certificate, else -1 and why. */
int zg_meta_check(const char *name, const char *value, bool strict_name,
                  const char **why);
/* KEY is either file of a pair: "d/n.key" -> "d/n.key", "d/n.key_secret";
 * CZMQ's "d/n" -> "d/n", "d/n_secret". 0, or -1 if a path does not fit. */
int zg_key_paths(const char *key, char *pub, char *sec, size_t cap);
/* A whole file of at most ZG_CERT_FILE_MAX bytes, into sodium_malloc memory
 * when secure. For secret files (check_private) the file must be a regular
 * file of this user that no one else may access: checked with fstat on the
 * open descriptor, so the file checked is the file read. */
int zg_cert_file_read(const char *path, bool secure, bool check_private,
                 char **data, size_t *len);
void zg_cert_file_free(char **data, size_t len, bool secure);

/* An encrypted or plaintext secret file, parsed and checked up to (not
 * including) Argon2id: the cert has the public key, metadata and, for a
 * plaintext file, the secret. */
typedef struct zg_secret_file {
    zg_cert_t *cert;
    bool encrypted;
    unsigned long long opslimit;
    size_t memlimit;
    uint8_t salt[crypto_pwhash_SALTBYTES];
    uint8_t nonce[crypto_aead_xchacha20poly1305_ietf_NPUBBYTES];
    uint8_t sealed[ZG_SEALED_BYTES];
    const char *ad; /* the text before the sealed-secret-key line */
    size_t ad_len;
} zg_secret_file_t;

/* 0, or -1 with errno and zg_last_error() (see docs/keys.md). text must
 * outlive out (ad points into it). */
int zg_secret_parse(const char *text, size_t len, const char *file,
                    zg_secret_file_t *out);
/* Argon2id, decryption, and the check that the secret matches the public
 * key; on success the secret is in out->cert. */
int zg_secret_open(zg_secret_file_t *sf, const char *file,
                   const zg_passphrase_t *pass);
void zg_secret_file_clear(zg_secret_file_t *sf);
/* The complete text of NAME.key_secret, into t. pass NULL: plaintext. */
int zg_secret_render(const zg_cert_t *cert, const zg_passphrase_t *pass,
                     zg_kdf_cost_t cost, zg_text_t *t);
/* Writes the public file at pub_path and/or the secret file at sec_path
 * (either may be NULL), in one zg_files_write. */
int zg_cert_write(const zg_cert_t *cert, const char *pub_path,
                  const char *sec_path, const zg_passphrase_t *pass,
                  zg_kdf_cost_t cost, int flags);
/* The bytes of a passphrase (read-only memory). */
const uint8_t *zg_passphrase_bytes(const zg_passphrase_t *pass, size_t *len);

#endif
