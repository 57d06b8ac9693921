/*
 * doctor.c - what `zguard doctor` finds out about the libzmq this process
 * runs on, and about a policy, without printing anything.
 *
 * The analysis asks to keep libzmq updated and to know what it is built
 * with. Some answers are exact (zmq_version, zmq_has, dlsym, the advisory
 * ranges); one is a well-founded heuristic: whether libzmq's CURVE runs on
 * libsodium or on its bundled tweetnacl. libzmq has no API that says so.
 * A libzmq configured --with-libsodium links libsodium dynamically and so
 * names it in its DT_NEEDED entries; one built with tweetnacl does not need
 * it. So we find the loaded libzmq.so with dl_iterate_phdr and read the
 * DT_NEEDED list of its dynamic section in memory. Limits: a libzmq linked
 * statically into the program, or one that links libsodium statically,
 * cannot be told apart this way (the first is reported as unknown, the
 * second as tweetnacl); see docs/updating-libzmq.md.
 *
 * The CLI (tools/cmd_doctor.c) turns the result into a table or JSON.
 */
#include "doctor.h"
#include "libzmq_object.h"

#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <stdbool.h>

#define WEAK_HWM 100000         /* messages per pipe */
#define WEAK_TIMEOUT_MS 60000   /* a minute of blocking is a stuck thread */
#define DB_STALE_DAYS 180       /* review the advisories twice a year */

static const char *const cap_names[ZG_DOCTOR_CAPS] = {
    "curve", "gssapi", "ipc", "tipc", "pgm", "norm", "ws", "wss", "vmci",
    "draft"};

const char *zg_finding_level_name(zg_finding_level_t level)
{
    switch (level) {
    case ZG_FIND_INFO: return "info";
    case ZG_FIND_WARNING: return "warning";
    default: return "failure";
    }
}

const char *zg_curve_backend_name(zg_curve_backend_t backend)
{
    switch (backend) {
    case ZG_CURVE_BACKEND_LIBSODIUM: return "libsodium";
    case ZG_CURVE_BACKEND_TWEETNACL: return "tweetnacl";
    case ZG_CURVE_BACKEND_UNKNOWN: return "unknown";
    default: return "none";
    }
}

/* ---- findings ------------------------------------------------------------------ */

ZG_PRINTF(4, 5)
static void find(zg_doctor_t *d, zg_finding_level_t level, const char *check,
                 const char *fmt, ...);

/* Adds a finding about subject (may be NULL). Out of memory loses the
 * finding but marks the run failed, so it cannot look clean. */
__attribute__((format(printf, 5, 0)))
static void vfinding(zg_doctor_t *d, zg_finding_level_t level,
                     const char *check, const char *subject, const char *fmt,
                     va_list ap)
{
    char msg[1024];
    vsnprintf(msg, sizeof msg, fmt, ap);
    if (d->nfindings == d->cap_findings) {
        size_t cap = d->cap_findings ? 2 * d->cap_findings : 16;
        zg_finding_t *f = realloc(d->findings, cap * sizeof *f);
        if (!f)
            goto oom;
        d->findings = f;
        d->cap_findings = cap;
    }
    zg_finding_t *f = &d->findings[d->nfindings];
    memset(f, 0, sizeof *f);
    f->level = level;
    snprintf(f->check, sizeof f->check, "%s", check);
    f->subject = subject ? strdup(subject) : NULL;
    f->message = strdup(msg);
    if (!f->message || (subject && !f->subject)) {
        free(f->subject);
        free(f->message);
        goto oom;
    }
    d->nfindings++;
    return;
oom:
    d->oom = true;
}

ZG_PRINTF(5, 6)
static void finding(zg_doctor_t *d, zg_finding_level_t level,
                    const char *check, const char *subject, const char *fmt,
                    ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfinding(d, level, check, subject, fmt, ap);
    va_end(ap);
}

static void find(zg_doctor_t *d, zg_finding_level_t level, const char *check,
                 const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfinding(d, level, check, NULL, fmt, ap);
    va_end(ap);
}

void zg_doctor_finding(zg_doctor_t *d, zg_finding_level_t level,
                       const char *check, const char *subject,
                       const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfinding(d, level, check, subject, fmt, ap);
    va_end(ap);
}

int zg_doctor_verdict(const zg_doctor_t *doc)
{
    int worst = doc->oom ? ZG_FIND_FAILURE : 0;
    for (size_t i = 0; i < doc->nfindings; i++)
        if ((int)doc->findings[i].level > worst)
            worst = (int)doc->findings[i].level;
    return worst; /* info 0, warning 1, failure 2: the exit codes */
}

/* ---- libzmq: versions, capabilities, draft API ------------------------------- */

static void check_versions(zg_doctor_t *d)
{
    zmq_version(&d->runtime.major, &d->runtime.minor, &d->runtime.patch);
    d->compiled = (zg_ver_t){ZMQ_VERSION_MAJOR, ZMQ_VERSION_MINOR,
                             ZMQ_VERSION_PATCH};
    if (zg_ver_cmp(d->runtime, d->compiled) != 0)
        find(d, ZG_FIND_WARNING, "libzmq-mismatch",
             "libzmq %s is loaded, but zguard was compiled against %s: "
             "rebuild zguard against the libzmq it runs with",
             zg_ver_str(d->runtime, 0), zg_ver_str(d->compiled, 1));
}

static void check_capabilities(zg_doctor_t *d)
{
    for (int i = 0; i < ZG_DOCTOR_CAPS; i++) {
        d->cap_name[i] = cap_names[i];
        d->cap[i] = zmq_has(cap_names[i]) != 0;
    }
    d->has_draft = zmq_has("draft") != 0;
    /* a draft-only symbol: libzmq exports the draft API only when built
     * with it, whatever the headers zguard saw */
    d->has_pipes_stats =
        dlsym(RTLD_DEFAULT, "zmq_socket_monitor_pipes_stats") != NULL;
    if (d->has_draft != d->has_pipes_stats)
        find(d, ZG_FIND_INFO, "draft-api",
             "zmq_has(\"draft\") says %s but zmq_socket_monitor_pipes_stats "
             "is %s: a partial draft build",
             d->has_draft ? "yes" : "no",
             d->has_pipes_stats ? "exported" : "missing");
}

/* ---- CURVE on libsodium? The DT_NEEDED entries of the loaded libzmq ----------- */

static void check_curve(zg_doctor_t *d)
{
    d->sodium_version = sodium_version_string();
    zg_libzmq_object_t z;
    zg_libzmq_object_find(&z);
    snprintf(d->libzmq_path, sizeof d->libzmq_path, "%s", z.path);
    if (!d->cap[0]) {
        d->curve = ZG_CURVE_BACKEND_NONE;
        d->curve_how = "zmq_has(\"curve\") is 0";
        find(d, ZG_FIND_FAILURE, "curve",
             "this libzmq has no CURVE: zguard refuses tcp and ipc endpoints "
             "without it; install a libzmq built --with-libsodium");
    } else if (!z.found) {
        d->curve = ZG_CURVE_BACKEND_UNKNOWN;
        d->curve_how = "no libzmq.so among the loaded objects (static link?)";
        find(d, ZG_FIND_WARNING, "curve",
             "cannot tell whether CURVE runs on libsodium: libzmq is not a "
             "loaded shared object");
    } else if (z.needs_sodium) {
        d->curve = ZG_CURVE_BACKEND_LIBSODIUM;
        d->curve_how = "the loaded libzmq.so has libsodium as DT_NEEDED";
    } else {
        d->curve = ZG_CURVE_BACKEND_TWEETNACL;
        d->curve_how = "the loaded libzmq.so does not need libsodium";
        find(d, ZG_FIND_WARNING, "curve",
             "libzmq's CURVE runs on its bundled tweetnacl (10-30x slower "
             "than libsodium, and less reviewed): use a libzmq built "
             "--with-libsodium");
    }
}

/* ---- advisories and releases ----------------------------------------------------- */

static void load_db(zg_doctor_t *d, const char *path)
{
    if (zg_advisories_find(path, d->db_path, sizeof d->db_path) != 0) {
        find(d, ZG_FIND_FAILURE, "advisory-db", "%s", zg_last_error());
        return;
    }
    zg_diag_t *diag = zg_diag_new();
    d->db = zg_advisories_load(d->db_path, diag);
    for (size_t i = 0; !d->db && diag && i < zg_diag_count(diag); i++) {
        char line[ZG_ERROR_MAX * 2];
        zg_problem_format(zg_diag_get(diag, i), line, sizeof line);
        find(d, ZG_FIND_FAILURE, "advisory-db", "%s", line);
    }
    if (!d->db && (!diag || zg_diag_count(diag) == 0))
        find(d, ZG_FIND_FAILURE, "advisory-db", "%s", zg_last_error());
    zg_diag_destroy(&diag);
}

static void check_db_age(zg_doctor_t *d)
{
    d->db_age = d->today - d->db->reviewed_day;
    if (d->db_age > DB_STALE_DAYS)
        find(d, ZG_FIND_WARNING, "advisory-db",
             "the advisory database was last reviewed %s, %lld days ago: "
             "review it (docs/updating-libzmq.md) or update zguard",
             d->db->reviewed, (long long)d->db_age);
}

static void check_advisories(zg_doctor_t *d)
{
    d->applies = calloc(d->db->count ? d->db->count : 1, sizeof *d->applies);
    if (!d->applies) {
        find(d, ZG_FIND_FAILURE, "advisory", "out of memory");
        return;
    }
    for (size_t i = 0; i < d->db->count; i++) {
        const zg_advisory_t *a = &d->db->items[i];
        if (!zg_advisory_applies_to(a, d->runtime, d->cap[0]))
            continue;
        d->applies[d->napplies++] = a;
        if (a->unfixed)
            finding(d, ZG_FIND_INFO, "issue", a->id,
                    "%s %s (no release fixes it; master: %s): %s; "
                    "mitigation: %s", zg_adv_severity_name(a->severity),
                    a->id, a->master, a->summary, a->mitigation);
        else if (a->behaviour)
            finding(d, ZG_FIND_INFO, "behaviour", a->id,
                    "%s %s of libzmq %s, fixed in %s: %s; zguard: %s",
                    zg_adv_severity_name(a->severity), a->id,
                    zg_ver_str(d->runtime, 0), a->fixed, a->summary,
                    a->mitigation);
        else
            finding(d, a->severity >= d->fail_on ? ZG_FIND_FAILURE
                                                 : ZG_FIND_WARNING,
                    "advisory", a->id,
                    "%s %s%s%s%s applies to libzmq %s: %s; fixed in %s (%s)",
                    zg_adv_severity_name(a->severity), a->id,
                    a->aliases ? " (also " : "", a->aliases ? a->aliases : "",
                    a->aliases ? ")" : "", zg_ver_str(d->runtime, 0),
                    a->summary, a->fixed, a->url);
    }
}

static void check_latest(zg_doctor_t *d)
{
    const zg_advisories_t *db = d->db;
    d->latest = zg_advisories_release(db, db->latest);
    d->latest_age = d->latest ? d->today - d->latest->day : -1;
    int c = zg_ver_cmp(d->runtime, db->latest);
    if (c > 0) {
        d->behind = -1;
        d->behind_exact = true;
        find(d, ZG_FIND_INFO, "libzmq-newer",
             "libzmq %s is newer than the latest stable release the "
             "advisory database knows (%s, reviewed %s): update the database",
             zg_ver_str(d->runtime, 0), zg_ver_str(db->latest, 1),
             db->reviewed);
        return;
    }
    /* releases after the runtime one, up to the latest; exact only when
     * the database lists the runtime's own release */
    d->behind = 0;
    for (size_t i = 0; i < db->nreleases; i++)
        if (zg_ver_cmp(db->releases[i].ver, d->runtime) > 0 &&
            zg_ver_cmp(db->releases[i].ver, db->latest) <= 0)
            d->behind++;
    d->behind_exact = zg_advisories_release(db, d->runtime) != NULL;
    if (c < 0)
        find(d, ZG_FIND_WARNING, "libzmq-behind",
             "libzmq %s is %s%d release%s behind the latest stable %s, "
             "released %s (%lld days ago)",
             zg_ver_str(d->runtime, 0), d->behind_exact ? "" : "at least ",
             d->behind, d->behind == 1 ? "" : "s", zg_ver_str(db->latest, 1),
             d->latest ? d->latest->date : "?", (long long)d->latest_age);
}

/* Mechanisms that the build has and that a policy must keep off. */
static void check_mechanisms(zg_doctor_t *d)
{
    if (d->cap[1])
        find(d, ZG_FIND_INFO, "mechanism",
             "GSSAPI is compiled in; in 4.3.x it ignores ZAP denials "
             "(libzmq #4912, no release has the fix): zguard refuses GSSAPI "
             "on every socket, so it stays disabled by policy");
    find(d, ZG_FIND_INFO, "mechanism",
         "PLAIN is always compiled in and sends passwords in clear: zguard "
         "refuses it on every socket");
}

/* ---- the policy -------------------------------------------------------------- */

typedef struct seen {
    char **items;
    size_t count;
} seen_t;

/* True the first time key is seen: one finding per policy line or file. */
static bool first_time(seen_t *s, const char *key)
{
    for (size_t i = 0; i < s->count; i++)
        if (strcmp(s->items[i], key) == 0)
            return false;
    char **p = realloc(s->items, (s->count + 1) * sizeof *p);
    if (!p)
        return true;
    s->items = p;
    if ((s->items[s->count] = strdup(key)))
        s->count++;
    return true;
}

static void seen_free(seen_t *s)
{
    for (size_t i = 0; i < s->count; i++)
        free(s->items[i]);
    free(s->items);
}

/* Why a value is weak, or NULL. */
static const char *weakness(const zg_setting_t *s)
{
    int64_t v = s->value;
    switch (s->field) {
    case ZG_FIELD_SNDHWM:
    case ZG_FIELD_RCVHWM:
        return v == 0         ? "no high-water mark: the queue is unbounded"
               : v > WEAK_HWM ? "a high-water mark over 100000 messages"
                              : NULL;
    case ZG_FIELD_SNDTIMEO:
    case ZG_FIELD_RCVTIMEO:
        return v < 0 ? "infinite: a thread can block forever"
               : v > WEAK_TIMEOUT_MS ? "a timeout over 60s"
                                     : NULL;
    case ZG_FIELD_LINGER:
        return v < 0 ? "infinite linger: shutdown can hang"
               : v > WEAK_TIMEOUT_MS ? "a linger over 60s"
                                     : NULL;
    case ZG_FIELD_HANDSHAKE_IVL:
        return v == 0 ? "no handshake limit: slow handshakes hold "
                        "connections for free"
               : v > WEAK_TIMEOUT_MS ? "a handshake limit over 60s"
                                     : NULL;
    case ZG_FIELD_MAXMSGSIZE:
        return v < 0 ? "no message size limit" : NULL;
    case ZG_FIELD_SECURITY:
        return v == ZG_SECURITY_NONE ? "security = none: plaintext and "
                                       "unauthenticated on tcp and ipc"
                                     : NULL;
    default: return NULL;
    }
}

static void check_weak(zg_doctor_t *d, const zg_policy_t *p, seen_t *seen,
                       const char *subject, const zg_setting_t *set)
{
    for (int f = 0; f < ZG_FIELD_COUNT; f++) {
        const zg_setting_t *s = &set[f];
        const char *why = s->applies ? weakness(s) : NULL;
        char key[64];
        snprintf(key, sizeof key, "weak:%d:%u", f, s->line);
        if (!why || !first_time(seen, key))
            continue;
        finding(d, ZG_FIND_WARNING, "policy-weak", subject,
                "%s:%u: %s = %s (%s, first seen on %s): %s%s%s",
                zg_policy_file(p), s->line, s->key, s->text,
                zg_layer_name(s->layer), subject, why,
                s->rationale ? "; rationale: " : "",
                s->rationale ? s->rationale : "");
    }
}

/* A file anyone in the policy names: can this user open it? HINT, when
 * not NULL, is added to a missing file's finding: what makes the file. */
static bool readable(zg_doctor_t *d, const char *what, const char *path,
                     const char *subject, const char *hint)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd >= 0) {
        close(fd);
        return true;
    }
    int err = errno;
    finding(d, ZG_FIND_FAILURE, "key-file", subject, "%s %s: %s%s", what,
            path, strerror(err), err == ENOENT && hint ? hint : "");
    return false;
}

/* "; make it with: zguard keygen NAME --dir DIR" for the public file PUB
 * (DIR/NAME.key, or CZMQ's DIR/NAME), or for a server's key pinned by a
 * client, where the pair is made on the server and its public half copied. */
static void keygen_hint(const char *pub, bool pair, char *out, size_t cap)
{
    const char *slash = strrchr(pub, '/');
    const char *base = slash ? slash + 1 : pub;
    int dir_len = slash ? (int)(slash - pub) : 1;
    const char *dir = slash ? pub : ".";
    size_t n = strlen(base);
    int name_len = n > 4 && strcmp(base + n - 4, ".key") == 0 ? (int)n - 4
                                                              : (int)n;
    snprintf(out, cap,
             pair ? "; make the pair with: zguard keygen %.*s --dir %.*s"
                  : "; it is the server's public key: copy it here from the "
                    "server (made there with: zguard keygen %.*s --dir %.*s)",
             name_len, base, dir_len > 0 ? dir_len : 1, dir_len > 0 ? dir : "/");
}

/* NAME.key_secret: present, readable, private. Never read, never decrypted. */
static void check_secret(zg_doctor_t *d, const char *sec, const char *subject)
{
    struct stat st;
    if (stat(sec, &st) != 0) {
        finding(d, ZG_FIND_FAILURE, "key-file", subject,
                "secret key file %s: %s", sec, strerror(errno));
        return;
    }
    if (!S_ISREG(st.st_mode)) {
        finding(d, ZG_FIND_FAILURE, "key-file", subject,
                "secret key file %s is not a regular file", sec);
        return;
    }
    if (st.st_mode & 077)
        finding(d, ZG_FIND_FAILURE, "key-file", subject,
                "secret key file %s has mode %04o: group or others may access "
                "it, and zguard refuses to load it (chmod 600 %s)",
                sec, (unsigned)(st.st_mode & 07777), sec);
    if (st.st_uid != geteuid())
        finding(d, ZG_FIND_WARNING, "key-file", subject,
                "secret key file %s belongs to uid %u, not to this user (uid "
                "%u): zguard loads only its own secret files",
                sec, (unsigned)st.st_uid, (unsigned)geteuid());
    readable(d, "secret key file", sec, subject, NULL);
}

/* Each path of a comma-separated key file list. */
static void check_key_list(zg_doctor_t *d, seen_t *seen, const char *list,
                           bool pair, const char *subject)
{
    char *copy = strdup(list);
    for (char *save = NULL, *tok = copy ? strtok_r(copy, ",", &save) : NULL;
         tok; tok = strtok_r(NULL, ",", &save)) {
        while (*tok == ' ' || *tok == '\t')
            tok++;
        size_t n = strlen(tok);
        while (n > 0 && (tok[n - 1] == ' ' || tok[n - 1] == '\t'))
            tok[--n] = '\0';
        char pub[1024], sec[1024], key[1100];
        snprintf(key, sizeof key, "key:%d:%s", pair, tok);
        if (!*tok || !first_time(seen, key))
            continue;
        if (zg_key_paths(tok, pub, sec, sizeof pub) != 0) {
            finding(d, ZG_FIND_FAILURE, "key-file", subject, "%s",
                    zg_last_error());
            continue;
        }
        char hint[1200];
        keygen_hint(pub, pair, hint, sizeof hint);
        readable(d, pair ? "public key file" : "server public key file", pub,
                 subject, hint);
        if (pair)
            check_secret(d, sec, subject);
    }
    free(copy);
}

static void check_keys(zg_doctor_t *d, seen_t *seen, const char *subject,
                       const zg_setting_t *set)
{
    if (set[ZG_FIELD_CURVE_KEYS].str)
        check_key_list(d, seen, set[ZG_FIELD_CURVE_KEYS].str, true, subject);
    if (set[ZG_FIELD_CURVE_SERVER_KEY].str)
        check_key_list(d, seen, set[ZG_FIELD_CURVE_SERVER_KEY].str, false,
                       subject);
}

static void check_auth(zg_doctor_t *d, const zg_policy_t *p)
{
    unsigned line = 0;
    const char *allow = zg_policy_auth(p, "allow", &line);
    if (allow) {
        DIR *dir = opendir(allow);
        int err = errno;
        if (!dir)
            finding(d, ZG_FIND_FAILURE, "key-file", "auth",
                    "%s:%u: [auth] allow directory %s: %s%s%s%s",
                    zg_policy_file(p), line, allow, strerror(err),
                    err == ENOENT ? "; make it with: mkdir -m 700 " : "",
                    err == ENOENT ? allow : "",
                    err == ENOENT ? ", then copy each client's public NAME.key "
                                    "into it (zguard auth check lists them)"
                                  : "");
        else
            closedir(dir);
    }
    const char *revoked = zg_policy_auth(p, "revoked", &line);
    if (revoked)
        readable(d, "[auth] revoked list", revoked, "auth", NULL);
}

/* What zg_ctx_new would do with this policy on this libzmq. */
static void check_gate(zg_doctor_t *d, const zg_policy_t *p)
{
    unsigned line = 0;
    const char *min = zg_policy_libzmq(p, "min_libzmq", &line);
    zg_ver_t want;
    if (min && zg_ver_parse(min, &want) == 0 &&
        zg_ver_cmp(d->runtime, want) < 0)
        finding(d, ZG_FIND_FAILURE, "policy-gate", "min_libzmq",
                "%s:%u: min_libzmq = %s but libzmq %s is loaded: "
                "zg_ctx_new will refuse this policy",
                zg_policy_file(p), line, min, zg_ver_str(d->runtime, 0));
    const char *mode = zg_policy_libzmq(p, "on_advisory", &line);
    size_t fixable = 0;
    for (size_t i = 0; i < d->napplies; i++)
        fixable += !d->applies[i]->unfixed && !d->applies[i]->behaviour;
    if (mode && strcmp(mode, "fail") == 0 && fixable)
        finding(d, ZG_FIND_FAILURE, "policy-gate", "on_advisory",
                "%s:%u: on_advisory = fail and %zu advisor%s appl%s: "
                "zg_ctx_new will refuse this policy",
                zg_policy_file(p), line, fixable, fixable == 1 ? "y" : "ies",
                fixable == 1 ? "ies" : "y");
}

static void check_one(zg_doctor_t *d, const zg_policy_t *p, seen_t *seen,
                      int type, const char *name)
{
    zg_setting_t set[ZG_FIELD_COUNT];
    char subject[ZG_NAME_MAX + 16];
    snprintf(subject, sizeof subject, "%s.%s", name ? "socket" : "type",
             name ? name : zg_type_name(type));
    if (zg_policy_settings(p, type, name, set, ZG_FIELD_COUNT, sizeof set[0]) != 0) {
        finding(d, ZG_FIND_FAILURE, "policy", subject, "%s", zg_last_error());
        return;
    }
    check_weak(d, p, seen, subject, set);
    check_keys(d, seen, subject, set);
}

static void check_policy(zg_doctor_t *d, const char *path)
{
    d->policy_checked = true;
    zg_diag_t *diag = zg_diag_new();
    zg_policy_t *p = zg_policy_load(path, diag);
    for (size_t i = 0; diag && i < zg_diag_count(diag); i++) {
        const zg_problem_t *pr = zg_diag_get(diag, i);
        char line[ZG_ERROR_MAX * 2];
        zg_problem_format(pr, line, sizeof line);
        finding(d, pr->severity == ZG_SEV_ERROR ? ZG_FIND_FAILURE
                                                : ZG_FIND_WARNING,
                "policy", pr->key, "%s", line);
    }
    if (!diag || (!p && zg_diag_count(diag) == 0))
        finding(d, ZG_FIND_FAILURE, "policy", path, "%s", zg_last_error());
    zg_diag_destroy(&diag);
    d->policy_valid = p != NULL;
    if (!p)
        return;
    seen_t seen = {0};
    for (size_t i = 0; i < zg_policy_socket_count(p); i++) {
        const char *name = zg_policy_socket_name(p, i);
        check_one(d, p, &seen, zg_policy_socket_type(p, name), name);
    }
    for (int t = 0; t < ZG_TYPE_COUNT; t++)
        check_one(d, p, &seen, t, NULL);
    check_auth(d, p);
    check_gate(d, p);
    seen_free(&seen);
    zg_policy_destroy(&p);
}

/* ---- the whole run ------------------------------------------------------------- */

zg_doctor_t *zg_doctor_run(const zg_doctor_opts_t *opts)
{
    zg_doctor_t *d = calloc(1, sizeof *d);
    if (!d) {
        errno = ENOMEM;
        zg_error_set("out of memory");
        return NULL;
    }
    d->fail_on = opts->fail_on ? opts->fail_on : ZG_ADV_HIGH;
    d->today = opts->today ? opts->today : (int64_t)(time(NULL) / 86400);
    d->behind = 0;
    check_versions(d);
    check_capabilities(d);
    check_curve(d);
    load_db(d, opts->db_path);
    if (d->db) {
        check_db_age(d);
        check_advisories(d);
        check_latest(d);
    }
    check_mechanisms(d);
    if (opts->policy)
        check_policy(d, opts->policy);
    return d;
}

void zg_doctor_destroy(zg_doctor_t **docp)
{
    if (!docp || !*docp)
        return;
    zg_doctor_t *d = *docp;
    *docp = NULL;
    for (size_t i = 0; i < d->nfindings; i++) {
        free(d->findings[i].subject);
        free(d->findings[i].message);
    }
    free(d->findings);
    free(d->applies);
    zg_advisories_destroy(&d->db);
    free(d);
}
