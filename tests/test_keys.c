/*
 * test_keys.c - CURVE key files: pairs written and read back (encrypted and
 * plaintext), metadata rules, fingerprints, a real CURVE handshake with keys
 * from files, every way a secret file can be bad with its own message and
 * errno, every flipped bit, truncations, atomic writes that fail, modes,
 * passphrases from files and the environment, and the ZPL reader.
 */
#include "testutil.h"
#include "zg_file.h"
#include "zg_keys.h"
#include "zg_zpl.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <sodium.h>
#include <stdbool.h>

static char dir[64];
static const char *const PASS = "correct horse battery staple";

/* ---- helpers ----------------------------------------------------------------
 */

static const char *at(const char *name)
{
    static char buf[4][256];
    static int next;
    char *b = buf[next++ % 4];
    snprintf(b, 256, "%s/%s", dir, name);
    return b;
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    char *buf = malloc(ZG_CERT_FILE_MAX + 1);
    assert_non_null(buf);
    *len = fread(buf, 1, ZG_CERT_FILE_MAX, f);
    buf[*len] = '\0';
    fclose(f);
    return buf;
}

static void spit(const char *path, const char *data, size_t len, mode_t mode)
{
    unlink(path);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, data, len), (ssize_t)len);
    fchmod(fd, mode);
    close(fd);
}

static mode_t mode_of(const char *path)
{
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    return st.st_mode & 07777;
}

static zg_passphrase_t *pass(void)
{
    zg_passphrase_t *p = zg_passphrase_new(PASS, strlen(PASS));
    assert_non_null(p);
    return p;
}

/* Loading KEY fails with errno e and a message that has `needle`. */
static void load_fails(const char *key, const zg_passphrase_t *p, int e,
                       const char *needle)
{
    errno = 0;
    zg_cert_t *c = zg_cert_load_pair(key, p);
    if (c)
        fprintf(stderr, "%s loaded, expected: %s\n", key, needle);
    assert_null(c);
    assert_contains(zg_last_error(), needle);
    if (errno != e)
        fprintf(stderr, "errno %d (%s), expected %d: %s\n", errno,
                strerror(errno), e, zg_last_error());
    assert_int_equal(errno, e);
}

/* No temporary or backup file left behind in dir. */
static void no_leftovers(void)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    struct dirent *e;
    while ((e = readdir(d)))
        if (e->d_name[0] == '.' && strcmp(e->d_name, ".") &&
            strcmp(e->d_name, ".."))
            fail_msg("left behind: %s", e->d_name);
    closedir(d);
}

/* An encrypted pair made once (Argon2id is slow on purpose). */
static char *enc_text, *enc_pub;
static size_t enc_len, enc_pub_len;
static uint8_t enc_secret[ZG_KEY_BYTES];

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/zguard-keys-XXXXXX");
    if (!mkdtemp(dir))
        return -1;
    zg_cert_t *c = zg_cert_new();
    zg_passphrase_t *p = zg_passphrase_new(PASS, strlen(PASS));
    if (!c || !p || zg_cert_set_meta(c, "name", "fixture") != 0 ||
        zg_cert_save_pair(c, at("fixture.key"), p, ZG_KDF_INTERACTIVE) != 0)
        return -1;
    memcpy(enc_secret, zg_cert_secret_key(c), ZG_KEY_BYTES);
    zg_cert_destroy(&c);
    zg_passphrase_destroy(&p);
    enc_text = slurp(at("fixture.key_secret"), &enc_len);
    enc_pub = slurp(at("fixture.key"), &enc_pub_len);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    free(enc_text);
    free(enc_pub);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd);
}

/* A copy of the fixture as NAME.key / NAME.key_secret. */
static void fixture_as(const char *name, const char *secret, size_t len)
{
    char p[64];
    snprintf(p, sizeof p, "%s.key", name);
    spit(at(p), enc_pub, enc_pub_len, 0644);
    snprintf(p, sizeof p, "%s.key_secret", name);
    spit(at(p), secret ? secret : enc_text, secret ? len : enc_len, 0600);
}

/* The checksum line redone after an edit, as a careful forger would. */
static size_t reseal(char *text, size_t len)
{
    char *last = text + len - 1;
    while (last > text && last[-1] != '\n')
        last--;
    uint8_t sum[32];
    char hex[65];
    crypto_generichash(sum, sizeof sum, (uint8_t *)text, (size_t)(last - text),
                       NULL, 0);
    sodium_bin2hex(hex, sizeof hex, sum, sizeof sum);
    return (size_t)(last - text) +
           (size_t)sprintf(last, "    checksum = \"%s\"\n", hex);
}

/* ---- pairs written and read back -------------------------------------------
 */

static void test_encrypted_round_trip(void **state)
{
    (void)state;
    zg_passphrase_t *p = pass();
    zg_cert_t *c = zg_cert_load_pair(at("fixture.key"), p);
    assert_non_null(c);
    assert_true(zg_cert_has_secret(c));
    assert_true(zg_cert_was_encrypted(c));
    assert_memory_equal(zg_cert_secret_key(c), enc_secret, ZG_KEY_BYTES);
    assert_string_equal(zg_cert_meta(c, "name"), "fixture");
    zg_cert_t *pub = zg_cert_load(at("fixture.key"));
    assert_non_null(pub);
    assert_false(zg_cert_has_secret(pub));
    assert_memory_equal(zg_cert_public_key(pub), zg_cert_public_key(c),
                        ZG_KEY_BYTES);
    assert_string_equal(zg_cert_public_text(pub), zg_cert_public_text(c));
    /* the secret file's path names the pair as well */
    zg_cert_t *again = zg_cert_load_pair(at("fixture.key_secret"), p);
    assert_non_null(again);
    assert_int_equal(zg_cert_secret_encrypted(at("fixture.key")), 1);
    assert_int_equal(mode_of(at("fixture.key")), 0644);
    assert_int_equal(mode_of(at("fixture.key_secret")), 0600);
    /* the secret file says what it is and never holds the secret in Z85 */
    char z85[ZG_KEY_TEXT_MAX];
    zmq_z85_encode(z85, enc_secret, ZG_KEY_BYTES);
    assert_null(strstr(enc_text, z85));
    assert_contains(enc_text, "    format = \"zguard-secret-1\"\n");
    assert_contains(enc_text, "    kdf = \"argon2id13\"\n");
    zg_cert_destroy(&again);
    zg_cert_destroy(&pub);
    zg_cert_destroy(&c);
    zg_passphrase_destroy(&p);
}

static void test_plaintext_round_trip(void **state)
{
    (void)state;
    mode_t old = umask(0);
    zg_cert_t *c = zg_cert_new();
    assert_non_null(c);
    assert_int_equal(
        zg_cert_save_pair(c, at("plain.key"), NULL, ZG_KDF_INTERACTIVE), 0);
    umask(old);
    /* the modes are set, not left to the umask */
    assert_int_equal(mode_of(at("plain.key")), 0644);
    assert_int_equal(mode_of(at("plain.key_secret")), 0600);
    zg_cert_t *back = zg_cert_load_pair(at("plain.key"), NULL);
    assert_non_null(back);
    assert_false(zg_cert_was_encrypted(back));
    assert_memory_equal(zg_cert_secret_key(back), zg_cert_secret_key(c),
                        ZG_KEY_BYTES);
    assert_int_equal(zg_cert_secret_encrypted(at("plain.key")), 0);
    size_t len;
    char *text = slurp(at("plain.key_secret"), &len);
    char z85[ZG_KEY_TEXT_MAX], line[80];
    zmq_z85_encode(z85, zg_cert_secret_key(c), ZG_KEY_BYTES);
    snprintf(line, sizeof line, "\n    secret-key = \"%s\"\n", z85);
    assert_contains(text, line);
    free(text);
    /* CZMQ's own naming, NAME and NAME_secret, works the same */
    assert_int_equal(
        zg_cert_save_pair(c, at("czmq-style"), NULL, ZG_KDF_INTERACTIVE), 0);
    assert_int_equal(access(at("czmq-style_secret"), F_OK), 0);
    zg_cert_t *cz = zg_cert_load_pair(at("czmq-style_secret"), NULL);
    assert_non_null(cz);
    zg_cert_destroy(&cz);
    zg_cert_destroy(&back);
    zg_cert_destroy(&c);
}

/* The halves written one at a time, as `zguard key passwd` and rotation
 * do: each loads back as the same pair, the secret 0600 whatever the
 * umask, encrypted or not as asked. */
static void test_halves_saved_apart(void **state)
{
    (void)state;
    zg_cert_t *c = zg_cert_new();
    assert_non_null(c);
    mode_t old = umask(0);
    assert_int_equal(zg_cert_save_public(c, at("apart.key")), 0);
    assert_int_equal(
        zg_cert_save_secret(c, at("apart.key"), NULL, ZG_KDF_INTERACTIVE), 0);
    umask(old);
    assert_int_equal(mode_of(at("apart.key_secret")), 0600);
    assert_int_equal(zg_cert_secret_encrypted(at("apart.key")), 0);
    zg_cert_t *back = zg_cert_load_pair(at("apart.key"), NULL);
    assert_non_null(back);
    assert_memory_equal(zg_cert_secret_key(back), zg_cert_secret_key(c),
                        ZG_KEY_BYTES);
    zg_cert_destroy(&back);

    zg_passphrase_t *p = zg_passphrase_new(PASS, strlen(PASS));
    assert_int_equal(
        zg_cert_save_secret(c, at("apart.key_secret"), p, ZG_KDF_INTERACTIVE),
        0);
    assert_int_equal(zg_cert_secret_encrypted(at("apart.key")), 1);
    assert_null(zg_cert_load_pair(at("apart.key"), NULL));
    back = zg_cert_load_pair(at("apart.key"), p);
    assert_non_null(back);
    assert_true(zg_cert_was_encrypted(back));
    assert_memory_equal(zg_cert_secret_key(back), zg_cert_secret_key(c),
                        ZG_KEY_BYTES);
    zg_cert_destroy(&back);
    zg_passphrase_destroy(&p);
    zg_cert_destroy(&c);
}

static void test_metadata(void **state)
{
    (void)state;
    zg_cert_t *c = zg_cert_new();
    assert_non_null(c);
    assert_non_null(zg_cert_meta(c, "created")); /* a new pair is dated */
    assert_int_equal(zg_cert_set_meta(c, "name", "orders-in"), 0);
    assert_int_equal(zg_cert_set_meta(c, "owner.team", "Ops ünd Co"), 0);
    assert_int_equal(zg_cert_set_meta(c, "expires", "2027-01-31T00:00:00Z"), 0);
    assert_int_equal(zg_cert_set_meta(c, "name", "orders"), 0); /* replaced */
    assert_int_equal(zg_cert_meta_count(c), 4);
    assert_string_equal(zg_cert_meta_name(c, 1), "name");
    assert_string_equal(zg_cert_meta(c, "name"), "orders");
    assert_null(zg_cert_meta(c, "nope"));
    assert_null(zg_cert_meta_name(c, 4));
    char long_value[300];
    memset(long_value, 'x', sizeof long_value);
    long_value[256] = '\0'; /* values are < 256 bytes */
    const char *bad[][2] = {{"Name", "x"},
                            {"", "x"},
                            {"a b", "x"},
                            {"a=b", "x"},
                            {"k", "say \"hi\""},
                            {"k", "tab\there"},
                            {"k", "esc\x1b[0m"},
                            {"k", "\xc2\x9b"},
                            {"k", "\xff"},
                            {"k", long_value},
                            {"expires", "2027-02-30T00:00:00Z"},
                            {"expires", "2027-01-31 00:00:00"},
                            {"expires", "2027-01-31"},
                            {"created", "yesterday"}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        errno = 0;
        if (zg_cert_set_meta(c, bad[i][0], bad[i][1]) != -1)
            fail_msg("metadata case %zu accepted", i);
        assert_int_equal(errno, EINVAL);
        assert_contains(zg_last_error(), "metadata ");
    }
    long_value[255] = '\0';
    assert_int_equal(zg_cert_set_meta(c, "long", long_value), 0);
    /* what is written is read back, in order */
    assert_int_equal(zg_cert_save_public(c, at("meta.key")), 0);
    zg_cert_t *back = zg_cert_load(at("meta.key"));
    assert_non_null(back);
    assert_int_equal(zg_cert_meta_count(back), zg_cert_meta_count(c));
    for (size_t i = 0; i < zg_cert_meta_count(c); i++) {
        const char *n = zg_cert_meta_name(c, i);
        assert_string_equal(zg_cert_meta_name(back, i), n);
        assert_string_equal(zg_cert_meta(back, n), zg_cert_meta(c, n));
    }
    size_t len;
    char *text = slurp(at("meta.key"), &len);
    assert_contains(text, "\nmetadata\n    created = \"");
    assert_contains(text, "\n    owner.team = \"Ops ünd Co\"\n");
    assert_contains(text, "\ncurve\n    public-key = \"");
    assert_null(strstr(text, "secret-key"));
    free(text);
    zg_cert_destroy(&back);
    zg_cert_destroy(&c);
}

static void test_fingerprint(void **state)
{
    (void)state;
    zg_cert_t *c = zg_cert_load(at("fixture.key"));
    assert_non_null(c);
    uint8_t h[32];
    crypto_generichash(h, sizeof h, zg_cert_public_key(c), ZG_KEY_BYTES, NULL,
                       0);
    char want[ZG_FINGERPRINT_MAX];
    snprintf(want, sizeof want, "%02x%02x:%02x%02x:%02x%02x:%02x%02x", h[0],
             h[1], h[2], h[3], h[4], h[5], h[6], h[7]);
    assert_string_equal(zg_cert_fingerprint(c), want);
    assert_int_equal(strlen(want), 19);
    zg_cert_destroy(&c);
}

/* ---- keys from files in a real CURVE handshake
 * ------------------------------- */

static void set_key(void *s, int opt, const uint8_t *key)
{
    assert_int_equal(zmq_setsockopt(s, opt, key, ZG_KEY_BYTES), 0);
}

static void test_curve_handshake(void **state)
{
    (void)state;
    zg_passphrase_t *p = pass();
    zg_cert_t *server = zg_cert_load_pair(at("fixture.key"), p);
    zg_cert_t *client = zg_cert_new();
    assert_int_equal(
        zg_cert_save_pair(client, at("client.key"), NULL, ZG_KDF_INTERACTIVE),
        0);
    zg_cert_destroy(&client);
    client = zg_cert_load_pair(at("client.key"), NULL);
    zg_cert_t *pinned = zg_cert_load(at("fixture.key"));
    assert_non_null(server);
    assert_non_null(client);
    assert_non_null(pinned);

    void *ctx = zmq_ctx_new();
    void *rep = zmq_socket(ctx, ZMQ_REP), *req = zmq_socket(ctx, ZMQ_REQ);
    int one = 1, timeout = 5000, zero = 0;
    assert_int_equal(zmq_setsockopt(rep, ZMQ_CURVE_SERVER, &one, sizeof one),
                     0);
    set_key(rep, ZMQ_CURVE_SECRETKEY, zg_cert_secret_key(server));
    set_key(req, ZMQ_CURVE_SERVERKEY, zg_cert_public_key(pinned));
    set_key(req, ZMQ_CURVE_PUBLICKEY, zg_cert_public_key(client));
    set_key(req, ZMQ_CURVE_SECRETKEY, zg_cert_secret_key(client));
    for (int i = 0; i < 2; i++) {
        void *s = i ? req : rep;
        zmq_setsockopt(s, ZMQ_RCVTIMEO, &timeout, sizeof timeout);
        zmq_setsockopt(s, ZMQ_SNDTIMEO, &timeout, sizeof timeout);
        zmq_setsockopt(s, ZMQ_LINGER, &zero, sizeof zero);
    }
    assert_int_equal(zmq_bind(rep, "tcp://127.0.0.1:*"), 0);
    char ep[64];
    size_t eplen = sizeof ep;
    zmq_getsockopt(rep, ZMQ_LAST_ENDPOINT, ep, &eplen);
    assert_int_equal(zmq_connect(req, ep), 0);
    char buf[16];
    assert_int_equal(zmq_send(req, "ping", 4, 0), 4);
    assert_int_equal(zmq_recv(rep, buf, sizeof buf, 0), 4);
    assert_memory_equal(buf, "ping", 4);
    assert_int_equal(zmq_send(rep, "pong", 4, 0), 4);
    assert_int_equal(zmq_recv(req, buf, sizeof buf, 0), 4);
    assert_memory_equal(buf, "pong", 4);
    zmq_close(req);
    zmq_close(rep);
    zmq_ctx_term(ctx);
    zg_cert_destroy(&pinned);
    zg_cert_destroy(&client);
    zg_cert_destroy(&server);
    zg_passphrase_destroy(&p);
}

/* ---- every bad input, its own message and errno ----------------------------
 */

static void test_missing_file(void **state)
{
    (void)state;
    load_fails(at("none.key"), NULL, ENOENT, "none.key_secret: cannot read: ");
    errno = 0;
    assert_null(zg_cert_load(at("none.key")));
    assert_int_equal(errno, ENOENT);
    assert_contains(zg_last_error(), "none.key: cannot read:");
    assert_int_equal(zg_cert_secret_encrypted(at("none.key")), -1);
    assert_int_equal(errno, ENOENT);
}

static void test_bad_permissions_and_owner(void **state)
{
    (void)state;
    zg_passphrase_t *p = pass();
    fixture_as("loose", NULL, 0);
    chmod(at("loose.key_secret"), 0644);
    load_fails(at("loose.key"), p, EPERM, "permissions 0644 are too open");
    assert_contains(zg_last_error(), "(chmod 600 ");
    assert_contains(zg_last_error(), "loose.key_secret");
    chmod(at("loose.key_secret"), 0640);
    load_fails(at("loose.key"), p, EPERM, "permissions 0640");
    chmod(at("loose.key_secret"), 0604);
    load_fails(at("loose.key"), p, EPERM, "permissions 0604");
    if (geteuid() == 0) {
        fixture_as("theirs", NULL, 0);
        assert_int_equal(chown(at("theirs.key_secret"), 65534, 65534), 0);
        load_fails(at("theirs.key"), p, EACCES,
                   "owned by uid 65534, not by this user (uid 0)");
    }
    zg_passphrase_destroy(&p);
}

static void test_wrong_and_missing_passphrase(void **state)
{
    (void)state;
    zg_passphrase_t *wrong = zg_passphrase_new("Correct horse", 13);
    load_fails(at("fixture.key"), wrong, EKEYREJECTED, "wrong passphrase");
    assert_contains(zg_last_error(), "fixture.key_secret");
    load_fails(at("fixture.key"), NULL, ENOKEY,
               "encrypted and no passphrase was given");
    zg_passphrase_destroy(&wrong);
}

static void test_mismatch(void **state)
{
    (void)state;
    zg_passphrase_t *p = pass();
    fixture_as("swapped", NULL, 0);
    zg_cert_t *other = zg_cert_new();
    assert_int_equal(zg_cert_save_public(other, at("swapped.key")), 0);
    load_fails(at("swapped.key"), p, EBADE,
               "the secret key does not match its public key");
    /* a plaintext secret file whose own public key is another's */
    zg_cert_t *mine = zg_cert_new();
    zg_text_t t;
    assert_int_equal(zg_text_init(&t), 0);
    zg_cert_render(mine, ZG_FILE_PLAINTEXT, &t);
    char *pk = strstr(t.data, "public-key = \"") + 14;
    memcpy(pk, zg_cert_public_text(other), 40);
    spit(at("forged.key_secret"), t.data, t.len, 0600);
    zg_text_free(&t);
    load_fails(at("forged.key"), NULL, EBADE,
               "forged.key_secret: the secret key does not match");
    zg_cert_destroy(&mine);
    zg_cert_destroy(&other);
    zg_passphrase_destroy(&p);
}

static void test_every_flipped_bit(void **state)
{
    (void)state;
    zg_passphrase_t *p = pass();
    char *copy = malloc(enc_len);
    fixture_as("flip", NULL, 0);
    size_t tried = 0;
    for (size_t pos = 0; pos < enc_len; pos++) {
        for (int bit = 0; bit < 8; bit++) {
            memcpy(copy, enc_text, enc_len);
            copy[pos] ^= (char)(1 << bit);
            spit(at("flip.key_secret"), copy, enc_len, 0600);
            errno = 0;
            zg_cert_t *c = zg_cert_load_pair(at("flip.key"), p);
            if (c || !strstr(zg_last_error(), "corrupted") ||
                (errno != EBADMSG && errno != ENODATA))
                fail_msg("bit %d of byte %zu: %s (errno %d)", bit, pos,
                         c ? "loaded" : zg_last_error(), errno);
            tried++;
        }
    }
    assert_int_equal(tried, 8 * enc_len);
    free(copy);
    zg_passphrase_destroy(&p);
}

static void test_truncated(void **state)
{
    (void)state;
    zg_passphrase_t *p = pass();
    size_t cuts[] = {0,           1,           19,           20,
                     80,          enc_len / 2, enc_len - 82, enc_len - 81,
                     enc_len - 2, enc_len - 1};
    for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
        fixture_as("cut", enc_text, cuts[i]);
        load_fails(at("cut.key"), p, ENODATA, "truncated");
    }
    /* a plaintext secret cut short */
    size_t len;
    char *plain = slurp(at("plain.key_secret"), &len);
    spit(at("plaincut.key_secret"), plain, len - 5, 0600);
    load_fails(at("plaincut.key"), NULL, ENODATA, "truncated");
    spit(at("plaincut.key_secret"), plain, 0, 0600);
    load_fails(at("plaincut.key"), NULL, ENODATA, "truncated");
    free(plain);
    zg_passphrase_destroy(&p);
}

static void test_kdf_parameters(void **state)
{
    (void)state;
    zg_passphrase_t *p = pass();
    const char *edits[][3] = {
        {"opslimit = \"2\"", "opslimit = \"0\"", "corrupted: opslimit '0'"},
        {"opslimit = \"2\"", "opslimit = \"17\"", "corrupted: opslimit '17'"},
        {"memlimit = \"67108864\"", "memlimit = \"99999999999\"",
         "corrupted: memlimit"},
        {"memlimit = \"67108864\"", "memlimit = \"1024\"",
         "corrupted: memlimit"},
        {"opslimit = \"2\"", "opslimit = \"-2\"", "corrupted: opslimit"},
    };
    for (size_t i = 0; i < sizeof edits / sizeof edits[0]; i++) {
        char text[4096];
        char *hit = strstr(enc_text, edits[i][0]);
        assert_non_null(hit);
        size_t head = (size_t)(hit - enc_text);
        int n = snprintf(text, sizeof text, "%.*s%s%s", (int)head, enc_text,
                         edits[i][1], hit + strlen(edits[i][0]));
        size_t len = reseal(text, (size_t)n);
        fixture_as("kdf", text, len);
        load_fails(at("kdf.key"), p, EBADMSG, edits[i][2]);
    }
    /* with a good checksum, a changed public key or metadata is caught by
     * the AEAD: it is no longer the passphrase's file */
    char text[4096];
    memcpy(text, enc_text, enc_len);
    char *name = strstr(text, "name = \"fixture\"");
    name[8] = 'F';
    size_t len = reseal(text, enc_len);
    fixture_as("aead", text, len);
    load_fails(at("aead.key"), p, EKEYREJECTED, "wrong passphrase");
    zg_passphrase_destroy(&p);
}

static void test_malformed_public(void **state)
{
    (void)state;
    const char *cases[][2] = {
        {"curve\n    public-key = \"tooshort\"\n",
         ":2: public-key: not 40 Z85"},
        {"metadata\ncurve\n\tpublic-key = \"x\"\n", ":3: tab in indentation"},
        {"metadata\n  name = \"x\"\n", ":2: indent is not a multiple of 4"},
        {"metadata\n    name = \"x\n", ":2: quoted value has no closing"},
        {"metadata\n    name = \"x\"\n", "no public-key in a 'curve' section"},
        {"curve\n    public-key = "
         "\"0000000000000000000000000000000000000000\"\n"
         "    public-key = \"1111111111111111111111111111111111111111\"\n",
         ":3: the same name twice"},
        {"metadata\n    name = \"\x1b[31m\"\n", ":2: control character"},
        {"curve\n    public-key = "
         "\"~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~\"\n",
         ":2: public-key: not 40 Z85"},
        {"metadata\n        deep = \"x\"\n", ":2: nested deeper"},
        {"    name = \"x\"\n", ":1: indented value outside a section"},
    };
    char many[4096] = "curve\n    public-key = "
                      "\"0000000000000000000000000000000000000000\"\n"
                      "metadata\n";
    for (int i = 0; i < 33; i++)
        snprintf(many + strlen(many), sizeof many - strlen(many),
                 "    m%d = \"x\"\n", i);
    spit(at("bad.key"), many, strlen(many), 0644);
    assert_null(zg_cert_load(at("bad.key")));
    assert_contains(zg_last_error(), "bad.key:36: m32: more metadata");
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        spit(at("bad.key"), cases[i][0], strlen(cases[i][0]), 0644);
        errno = 0;
        assert_null(zg_cert_load(at("bad.key")));
        assert_int_equal(errno, EINVAL);
        assert_contains(zg_last_error(), "bad.key");
        assert_contains(zg_last_error(), cases[i][1]);
    }
}

/* The errno of each failure is its own (docs/keys.md lists them). */
static void test_errnos_distinct(void **state)
{
    (void)state;
    const int e[] = {ENOENT, ENODATA,      EBADMSG, EPERM,
                     EACCES, EKEYREJECTED, ENOKEY,  EBADE};
    for (size_t i = 0; i < sizeof e / sizeof e[0]; i++)
        for (size_t j = i + 1; j < sizeof e / sizeof e[0]; j++)
            assert_int_not_equal(e[i], e[j]);
}

/* ---- passphrases
 * ------------------------------------------------------------- */

static void test_passphrase_files(void **state)
{
    (void)state;
    spit(at("pass"), "correct horse battery staple\nsecond line\n", 42, 0600);
    zg_passphrase_t *p = zg_passphrase_from_file(at("pass"));
    assert_non_null(p);
    zg_cert_t *c = zg_cert_load_pair(at("fixture.key"), p);
    assert_non_null(c); /* the first line, without its newline */
    zg_cert_destroy(&c);
    zg_passphrase_destroy(&p);
    assert_null(p);
    spit(at("pass"), "correct horse battery staple\r\n", 30, 0400);
    p = zg_passphrase_from_file(at("pass"));
    size_t len;
    zg_passphrase_bytes(p, &len);
    assert_int_equal(len, strlen(PASS));
    zg_passphrase_destroy(&p);
    spit(at("pass"), "no newline", 10, 0600);
    p = zg_passphrase_from_file(at("pass"));
    zg_passphrase_bytes(p, &len);
    assert_int_equal(len, 10);
    zg_passphrase_destroy(&p);

    struct {
        const char *text;
        mode_t mode;
        int e;
        const char *why;
    } bad[] = {
        {"x\n", 0644, EPERM, "permissions 0644 are too open"},
        {"x\n", 0640, EPERM, "(chmod 600 "},
        {"\nlater\n", 0600, EINVAL, "the passphrase is empty"},
        {"", 0600, EINVAL, "the passphrase is empty"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        spit(at("pass"), bad[i].text, strlen(bad[i].text), bad[i].mode);
        errno = 0;
        assert_null(zg_passphrase_from_file(at("pass")));
        assert_int_equal(errno, bad[i].e);
        assert_contains(zg_last_error(), "passphrase file ");
        assert_contains(zg_last_error(), bad[i].why);
    }
    char big[1100];
    memset(big, 'a', sizeof big);
    spit(at("pass"), big, sizeof big, 0600);
    assert_null(zg_passphrase_from_file(at("pass")));
    assert_contains(zg_last_error(), "longer than 1024 bytes");
    /* unreadable: missing, or a directory */
    assert_null(zg_passphrase_from_file(at("no-such-pass")));
    assert_int_equal(errno, ENOENT);
    assert_contains(zg_last_error(), "no-such-pass: cannot read:");
    assert_null(zg_passphrase_from_file(dir));
    assert_int_equal(errno, EISDIR);
    assert_contains(zg_last_error(), "not a regular file");
    assert_null(zg_passphrase_new("", 0));
    assert_int_equal(errno, EINVAL);
}

static void test_passphrase_from_env(void **state)
{
    (void)state;
    unsetenv("ZGUARD_PASSPHRASE_FILE");
    unsetenv("CREDENTIALS_DIRECTORY");
    errno = 0;
    assert_null(zg_passphrase_from_env());
    assert_int_equal(errno, ENOENT);
    assert_contains(zg_last_error(), "neither ZGUARD_PASSPHRASE_FILE nor");
}

static void test_passphrase_env_sources(void **state)
{
    (void)state;
    char creds[128];
    snprintf(creds, sizeof creds, "%s/creds", dir);
    mkdir(creds, 0700);
    setenv("CREDENTIALS_DIRECTORY", creds, 1);
    errno = 0;
    assert_null(zg_passphrase_from_env());
    assert_int_equal(errno, ENOENT);
    assert_contains(zg_last_error(), "no zguard-passphrase credential");
    spit(at("creds/zguard-passphrase"), "correct horse battery staple\n", 29,
         0400);
    zg_passphrase_t *p = zg_passphrase_from_env();
    assert_non_null(p);
    zg_cert_t *c = zg_cert_load_pair(at("fixture.key"), p);
    assert_non_null(c);
    zg_cert_destroy(&c);
    zg_passphrase_destroy(&p);
    /* ZGUARD_PASSPHRASE_FILE wins over the credential */
    spit(at("envpass"), "not it\n", 7, 0600);
    setenv("ZGUARD_PASSPHRASE_FILE", at("envpass"), 1);
    p = zg_passphrase_from_env();
    assert_non_null(p);
    load_fails(at("fixture.key"), p, EKEYREJECTED, "wrong passphrase");
    zg_passphrase_destroy(&p);
    setenv("ZGUARD_PASSPHRASE_FILE", at("missing-pass"), 1);
    assert_null(zg_passphrase_from_env());
    assert_int_equal(errno, ENOENT);
    assert_contains(zg_last_error(), "missing-pass: cannot read");
    unsetenv("ZGUARD_PASSPHRASE_FILE");
    unsetenv("CREDENTIALS_DIRECTORY");
}

/* ---- atomic writes
 * ------------------------------------------------------------ */

static void test_write_fails_disk_full(void **state)
{
    (void)state;
    zg_cert_t *c = zg_cert_new();
    assert_int_equal(
        zg_cert_save_pair(c, at("full.key"), NULL, ZG_KDF_INTERACTIVE), 0);
    size_t old_len, old_pub_len, len;
    char *old = slurp(at("full.key_secret"), &old_len);
    char *old_pub = slurp(at("full.key"), &old_pub_len);
    zg_cert_t *fresh = zg_cert_new();
    /* a file limit below the new files' size: write() fails with EFBIG */
    struct rlimit saved, small = {200, 0};
    getrlimit(RLIMIT_FSIZE, &saved);
    small.rlim_max = saved.rlim_max;
    void (*was)(int) = signal(SIGXFSZ, SIG_IGN);
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &small), 0);
    errno = 0;
    int rc = zg_cert_save_pair(fresh, at("full.key"), NULL, ZG_KDF_INTERACTIVE);
    int e = errno;
    setrlimit(RLIMIT_FSIZE, &saved);
    signal(SIGXFSZ, was);
    assert_int_equal(rc, -1);
    assert_int_equal(e, EFBIG);
    assert_contains(zg_last_error(), "full.key");
    assert_contains(zg_last_error(), "cannot write");
    char *now = slurp(at("full.key_secret"), &len);
    assert_int_equal(len, old_len);
    assert_memory_equal(now, old, len);
    free(now);
    now = slurp(at("full.key"), &len);
    assert_int_equal(len, old_pub_len);
    assert_memory_equal(now, old_pub, len);
    no_leftovers();
    free(now);
    free(old);
    free(old_pub);
    zg_cert_destroy(&fresh);
    zg_cert_destroy(&c);
}

/* In a child that is not root (root writes anywhere): a read-only dir. */
static void test_write_fails_readonly_dir(void **state)
{
    (void)state;
    char ro[128];
    snprintf(ro, sizeof ro, "%s/ro", dir);
    mkdir(ro, 0755);
    zg_cert_t *c = zg_cert_new();
    char key[160];
    snprintf(key, sizeof key, "%s/ro/k.key", dir);
    assert_int_equal(zg_cert_save_pair(c, key, NULL, ZG_KDF_INTERACTIVE), 0);
    size_t old_len;
    char *old = slurp(key, &old_len);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        if (geteuid() == 0) {
            if (chown(dir, 65534, 65534) || chown(ro, 65534, 65534) ||
                chown(key, 65534, 65534) || setgid(65534) || setuid(65534))
                _exit(3);
        }
        chmod(ro, 0555);
        zg_cert_t *fresh = zg_cert_new();
        errno = 0;
        int rc = zg_cert_save_public(fresh, key);
        int e = errno;
        bool msg = strstr(zg_last_error(), "k.key: cannot write: ") != NULL;
        _exit(rc == -1 && e == EACCES && msg ? 0 : 1);
    }
    int status;
    waitpid(pid, &status, 0);
    if (geteuid() == 0) {
        assert_int_equal(chown(dir, 0, 0), 0);
        assert_int_equal(chown(ro, 0, 0), 0);
    }
    chmod(ro, 0755);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    size_t len;
    char *now = slurp(key, &len);
    assert_int_equal(len, old_len);
    assert_memory_equal(now, old, len);
    free(now);
    free(old);
    zg_cert_destroy(&c);
}

static void test_write_no_replace(void **state)
{
    (void)state;
    zg_cert_t *c = zg_cert_new();
    assert_int_equal(zg_cert_write(c, at("nr.key"), at("nr.key_secret"), NULL,
                                   ZG_KDF_INTERACTIVE, ZG_WRITE_NOREPLACE),
                     0);
    size_t old_len, len;
    char *old = slurp(at("nr.key_secret"), &old_len);
    /* the public file is free, the secret is not: neither is written */
    unlink(at("nr.key"));
    zg_cert_t *other = zg_cert_new();
    errno = 0;
    assert_int_equal(zg_cert_write(other, at("nr.key"), at("nr.key_secret"),
                                   NULL, ZG_KDF_INTERACTIVE,
                                   ZG_WRITE_NOREPLACE),
                     -1);
    assert_contains(zg_last_error(), "already exists");
    assert_int_equal(access(at("nr.key"), F_OK), -1);
    char *now = slurp(at("nr.key_secret"), &len);
    assert_int_equal(len, old_len);
    assert_memory_equal(now, old, len);
    no_leftovers();
    free(now);
    free(old);
    zg_cert_destroy(&other);
    zg_cert_destroy(&c);
}

/* ---- the ZPL reader
 * ------------------------------------------------------------ */

static void test_zpl(void **state)
{
    (void)state;
    static const char text[] = "#   a comment\r\n"
                               "\n"
                               "metadata   # trailing comment\n"
                               "    bare = value with spaces   # cut here\n"
                               "    quoted = \"has # inside\"\n"
                               "    single = 'x'\n"
                               "    empty =\n"
                               "curve\n"
                               "        # a deeper comment is fine\n"
                               "    public-key = \"abc\"\n"
                               "top = \"level\"\n"
                               "    child = \"of top\"\n"
                               "lastsection";
    zg_zpl_t z;
    unsigned line = 0;
    const char *why = NULL;
    assert_int_equal(zg_zpl_parse(text, sizeof text - 1, &z, &line, &why), 0);
    assert_string_equal(zg_zpl_get(&z, "metadata", "bare"),
                        "value with spaces");
    assert_string_equal(zg_zpl_get(&z, "metadata", "quoted"), "has # inside");
    assert_string_equal(zg_zpl_get(&z, "metadata", "single"), "x");
    assert_string_equal(zg_zpl_get(&z, "metadata", "empty"), "");
    assert_string_equal(zg_zpl_get(&z, "curve", "public-key"), "abc");
    assert_int_equal(zg_zpl_line(&z, "curve", "public-key"), 10);
    assert_string_equal(zg_zpl_get(&z, "", "top"), "level");
    assert_string_equal(zg_zpl_get(&z, "top", "child"), "of top");
    assert_null(zg_zpl_get(&z, "curve", "secret-key"));
    zg_zpl_free(&z);

    /* a name running to the end of the text: once read past its end */
    static const char edge[] = {'c', 'u', 'r', 'v', 'e'};
    assert_int_equal(zg_zpl_parse(edge, sizeof edge, &z, &line, &why), 0);
    zg_zpl_free(&z);
    const struct {
        const char *text;
        unsigned line;
        const char *why;
    } bad[] = {
        {"a\n   b = 1\n", 2, "indent is not a multiple of 4"},
        {"a\n      b = 1\n", 2, "indent is not a multiple of 4"},
        {"a\n        b = 1\n", 2, "nested deeper"},
        {"a\n    b = \"1\" x\n", 2, "text after a quoted value"},
        {"a\n    = 1\n", 2, "expected a name"},
        {"a\n    b c\n", 2, "expected '='"},
        {"a\n    b = 1\n    b = 2\n", 3, "the same name twice"},
        {"a\n    b = \x80\n", 2, "invalid UTF-8"},
        {"a\n    b = \xc0\xaf\n", 2, "invalid UTF-8"},
        {"a\n    b = x\ry\n", 2, "control character"},
        {"a\n\tb = 1\n", 2, "tab in indentation"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        why = NULL;
        assert_int_equal(
            zg_zpl_parse(bad[i].text, strlen(bad[i].text), &z, &line, &why),
            -1);
        assert_int_equal(line, bad[i].line);
        assert_contains(why, bad[i].why);
    }
    assert_int_equal(zg_zpl_parse("a\0b", 3, &z, &line, &why), -1);
    assert_contains(why, "NUL byte");
    char big[ZG_ZPL_LINE_MAX + 10];
    memset(big, 'x', sizeof big);
    assert_int_equal(zg_zpl_parse(big, sizeof big, &z, &line, &why), -1);
    assert_contains(why, "line too long");
}

/* pyzmq 24 writes metadata unquoted and none in the public file. */
static void test_reads_pyzmq_layout(void **state)
{
    (void)state;
    zg_cert_t *c = zg_cert_new();
    char text[1024];
    int n = snprintf(text, sizeof text,
                     "#   ****  Generated on 2026-11-28 09:00:00.123 by pyzmq "
                     " ****\n#   ZeroMQ CURVE Public Certificate\n\n"
                     "metadata\n    role = server\ncurve\n"
                     "    public-key = \"%s\"\n",
                     zg_cert_public_text(c));
    spit(at("py.key"), text, (size_t)n, 0644);
    zg_cert_t *back = zg_cert_load(at("py.key"));
    assert_non_null(back);
    assert_string_equal(zg_cert_meta(back, "role"), "server");
    assert_memory_equal(zg_cert_public_key(back), zg_cert_public_key(c),
                        ZG_KEY_BYTES);
    zg_cert_destroy(&back);
    zg_cert_destroy(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_encrypted_round_trip),
        cmocka_unit_test(test_plaintext_round_trip),
        cmocka_unit_test(test_halves_saved_apart),
        cmocka_unit_test(test_metadata),
        cmocka_unit_test(test_fingerprint),
        cmocka_unit_test(test_curve_handshake),
        cmocka_unit_test(test_missing_file),
        cmocka_unit_test(test_bad_permissions_and_owner),
        cmocka_unit_test(test_wrong_and_missing_passphrase),
        cmocka_unit_test(test_mismatch),
        cmocka_unit_test(test_every_flipped_bit),
        cmocka_unit_test(test_truncated),
        cmocka_unit_test(test_kdf_parameters),
        cmocka_unit_test(test_malformed_public),
        cmocka_unit_test(test_errnos_distinct),
        cmocka_unit_test(test_passphrase_files),
        cmocka_unit_test(test_passphrase_from_env),
        cmocka_unit_test(test_passphrase_env_sources),
        cmocka_unit_test(test_write_fails_disk_full),
        cmocka_unit_test(test_write_fails_readonly_dir),
        cmocka_unit_test(test_write_no_replace),
        cmocka_unit_test(test_zpl),
        cmocka_unit_test(test_reads_pyzmq_layout),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
