/*
 * allowlist.c - the public keys a CURVE server accepts, from a directory.
 *
 * The directory holds public certificates (zguard's NAME.key, pyzmq's
 * NAME.key, CZMQ's NAME); secret files beside them are ignored. Keys go into
 * an open-addressing hash set keyed by the key bytes themselves (they are
 * uniformly random, so their first eight bytes are a perfect hash): a
 * handshake costs the same with 1 or 100,000 keys, unlike CZMQ's zcertstore,
 * which rescans the directory on every lookup. A file that cannot be read,
 * does not parse, or repeats a key is skipped and reported, never fatal.
 * Two files may share a name (the old and new key of a rotation): the name
 * is the peer's identity, the key is what is allowed.
 */
#include "zg_allowlist.h"
#include "zg_error.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <stdbool.h>

#define REVOKED_LINE_MAX 256

struct zg_allowlist {
    zg_allow_entry_t *slots; /* user == NULL: empty */
    size_t mask, count;
    uint8_t (*revoked)[ZG_KEY_BYTES];
    size_t nrevoked;
};

const char *zg_cert_state_name(zg_cert_state_t state)
{
    static const char *const names[] = {"valid", "expired", "revoked",
                                        "malformed", "duplicate"};
    return (unsigned)state < 5 ? names[state] : "?";
}

/* "2027-01-31T00:00:00Z" only: one spelling, in UTC, so that every reader of
 * the certificate agrees on the instant. */
int zg_time_parse(const char *text, int64_t *out)
{
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    const char *end = strptime(text, "%Y-%m-%dT%H:%M:%SZ", &tm);
    if (!end || *end != '\0')
        return -1;
    time_t t = timegm(&tm);
    if (t == (time_t)-1)
        return -1;
    *out = (int64_t)t;
    return 0;
}

static size_t slot_of(const uint8_t *key, size_t mask)
{
    uint64_t h;
    memcpy(&h, key, sizeof h);
    return (size_t)h & mask;
}

static zg_allow_entry_t *probe(zg_allowlist_t *l, const uint8_t *key)
{
    for (size_t i = slot_of(key, l->mask);; i = (i + 1) & l->mask) {
        zg_allow_entry_t *e = &l->slots[i];
        if (!e->user || memcmp(e->key, key, ZG_KEY_BYTES) == 0)
            return e;
    }
}

const zg_allow_entry_t *zg_allowlist_find(const zg_allowlist_t *list,
                                          const uint8_t *key)
{
    const zg_allow_entry_t *e = probe((zg_allowlist_t *)list, key);
    return e->user ? e : NULL;
}

static int key_cmp(const void *a, const void *b)
{
    return memcmp(a, b, ZG_KEY_BYTES);
}

bool zg_allowlist_revoked(const zg_allowlist_t *list, const uint8_t *key)
{
    return list->nrevoked &&
           bsearch(key, list->revoked, list->nrevoked, ZG_KEY_BYTES, key_cmp);
}

size_t zg_allowlist_count(const zg_allowlist_t *list)
{
    return list->count;
}

zg_allow_entry_t *zg_allowlist_entry(const zg_allowlist_t *list,
                                     size_t *cursor)
{
    while (*cursor <= list->mask) {
        zg_allow_entry_t *e = &list->slots[(*cursor)++];
        if (e->user)
            return e;
    }
    return NULL;
}

void zg_allowlist_destroy(zg_allowlist_t **list)
{
    if (!list || !*list)
        return;
    zg_allowlist_t *l = *list;
    for (size_t i = 0; l->slots && i <= l->mask; i++) {
        free(l->slots[i].user);
        free(l->slots[i].file);
    }
    free(l->slots);
    free(l->revoked);
    free(l);
    *list = NULL;
}

/* Secret files and editor or temp files are not certificates. */
static bool is_candidate(const char *dir, const struct dirent *d)
{
    size_t n = strlen(d->d_name);
    if (d->d_name[0] == '.' || d->d_name[n - 1] == '~')
        return false;
    if (n > 7 && strcmp(d->d_name + n - 7, "_secret") == 0)
        return false;
    char path[4096];
    struct stat st;
    snprintf(path, sizeof path, "%s/%s", dir, d->d_name);
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* The certificate's name, so that a client keeps its identity when its
 * key rotates; the file name (without ".key") when it has none. */
static char *user_of(const zg_cert_t *cert, const char *file)
{
    const char *name = zg_cert_meta(cert, "name");
    if (name && *name)
        return strdup(name);
    size_t n = strlen(file);
    if (n > 4 && strcmp(file + n - 4, ".key") == 0)
        n -= 4;
    return strndup(file, n);
}

typedef struct loader {
    zg_allowlist_t *list;
    int64_t now;
    zg_allow_visit_fn *visit;
    void *arg;
} loader_t;

static void visit(loader_t *ld, const char *file, zg_cert_state_t st,
                  const char *detail, const zg_cert_t *cert)
{
    if (ld->visit)
        ld->visit(ld->arg, file, st, detail, cert);
}

static void add_cert(loader_t *ld, const char *dir, const char *name)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    zg_cert_t *cert = zg_cert_load(path);
    if (!cert) {
        visit(ld, name, ZG_CERT_MALFORMED, zg_last_error(), NULL);
        return;
    }
    zg_allow_entry_t *e = probe(ld->list, zg_cert_public_key(cert));
    int64_t expires = 0;
    const char *exp = zg_cert_meta(cert, "expires");
    if (e->user) {
        char why[128 + ZG_NAME_MAX];
        snprintf(why, sizeof why, "same key as %s: skipped", e->file);
        visit(ld, name, ZG_CERT_DUPLICATE, why, cert);
    } else if (exp && zg_time_parse(exp, &expires) != 0) {
        visit(ld, name, ZG_CERT_MALFORMED,
              "metadata expires is not like \"2027-01-31T00:00:00Z\"", cert);
    } else if ((e->user = user_of(cert, name)) && (e->file = strdup(name))) {
        memcpy(e->key, zg_cert_public_key(cert), ZG_KEY_BYTES);
        zmq_z85_encode(e->key_text, e->key, ZG_KEY_BYTES);
        e->expires = expires;
        ld->list->count++;
        zg_cert_state_t st = zg_allowlist_revoked(ld->list, e->key)
                                 ? ZG_CERT_REVOKED
                             : expires && expires <= ld->now ? ZG_CERT_EXPIRED
                                                             : ZG_CERT_VALID;
        visit(ld, name, st, st == ZG_CERT_VALID ? "" : exp, cert);
    } else {
        free(e->user);
        e->user = NULL;
    }
    zg_cert_destroy(&cert);
}

/* The revocation list: one Z85 public key per line, then optionally
 * whitespace and anything (a comment); other lines starting with '#' are
 * comments. '#' is itself a Z85 character, so a line is split at whitespace,
 * never at '#', and a 40-character first word is always read as a key. A
 * line that is no key is reported and skipped; a missing file is an error,
 * since a revocation that silently stopped applying is worse than none. */
static int load_revoked(loader_t *ld, const char *path)
{
    FILE *f = fopen(path, "re");
    if (!f) {
        zg_error_set("%s: cannot read the revocation list: %s", path,
                     strerror(errno));
        return -1;
    }
    char line[REVOKED_LINE_MAX];
    unsigned lineno = 0;
    size_t cap = 0;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        char *s = line + strspn(line, " \t");
        s[strcspn(s, " \t\r\n")] = '\0';
        if (*s == '\0' || (*s == '#' && strlen(s) != 40))
            continue;
        uint8_t key[ZG_KEY_BYTES];
        if (strlen(s) != 40 || !zmq_z85_decode(key, s)) {
            char where[64];
            snprintf(where, sizeof where, "line %u", lineno);
            visit(ld, where, ZG_CERT_MALFORMED,
                  "not a 40-character Z85 public key", NULL);
            continue;
        }
        if (ld->list->nrevoked == cap) {
            cap = cap ? cap * 2 : 16;
            void *grown = realloc(ld->list->revoked, cap * ZG_KEY_BYTES);
            if (!grown) {
                fclose(f);
                zg_error_set("out of memory");
                return -1;
            }
            ld->list->revoked = grown;
        }
        memcpy(ld->list->revoked[ld->list->nrevoked++], key, ZG_KEY_BYTES);
    }
    fclose(f);
    if (ld->list->nrevoked > 1)
        qsort(ld->list->revoked, ld->list->nrevoked, ZG_KEY_BYTES, key_cmp);
    return 0;
}

static int alloc_slots(zg_allowlist_t *l, size_t files)
{
    size_t n = 64;
    while (n < files * 2 + 1)
        n *= 2;
    l->slots = calloc(n, sizeof *l->slots);
    l->mask = n - 1;
    return l->slots ? 0 : -1;
}

zg_allowlist_t *zg_allowlist_load(const char *dir, const char *revoked,
                                  int64_t now, zg_allow_visit_fn *fn,
                                  void *arg)
{
    zg_allowlist_t *l = calloc(1, sizeof *l);
    loader_t ld = {l, now, fn, arg};
    struct dirent **names = NULL;
    int n = l ? scandir(dir, &names, NULL, alphasort) : -1;
    if (n < 0) {
        if (l)
            zg_error_set("%s: cannot read the allowlist directory: %s", dir,
                         strerror(errno));
        free(l);
        return NULL;
    }
    if (alloc_slots(l, (size_t)n) != 0 ||
        (revoked && load_revoked(&ld, revoked) != 0)) {
        if (!l->slots)
            zg_error_set("out of memory");
        zg_allowlist_destroy(&l);
    }
    for (int i = 0; i < n; i++) {
        if (l && is_candidate(dir, names[i]))
            add_cert(&ld, dir, names[i]->d_name);
        free(names[i]);
    }
    free(names);
    return l;
}
