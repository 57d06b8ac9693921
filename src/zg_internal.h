/*
 * zg_internal.h - what the library's source files share and users do not.
 *
 * One section per source file, in the order a socket meets them: error and
 * diagnostics, value syntax, the INI lexer, the policy model, the context,
 * the socket registry and the hardened socket itself.
 */
#ifndef ZG_INTERNAL_H
#define ZG_INTERNAL_H

#include "zguard.h"

#include <pthread.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdbool.h>

#define ZG_PRINTF(f, a) __attribute__((format(printf, f, a)))

typedef struct zg_sock zg_sock_t; /* socket.c */

/* ---- file.c: policies and the advisory database (keys: keys.c) ------------ */
/* A malloc'ed, NUL-terminated copy of a regular file of at most max bytes;
 * NULL with errno (EISDIR: not a regular file, EFBIG: larger than max). */
char *zg_text_read(const char *path, size_t max, size_t *len);

/* ---- error.c: the calling thread's last failure -------------------------- */
void zg_error_set(const char *fmt, ...) ZG_PRINTF(1, 2);
void zg_error_clear(void);
/* text must outlive the thread's next zg_error_* call (a literal). */
void zg_error_set_const(const char *text);

/* ---- diag.c --------------------------------------------------------------- */
void zg_diag_add(zg_diag_t *diag, zg_severity_t severity, const char *file,
                 unsigned line, const char *key, const char *fmt, ...)
    ZG_PRINTF(6, 7);

/* ---- value.c: the syntax of one policy value ------------------------------ */
typedef enum zg_kind {
    ZG_KIND_COUNT,    /* plain integer: messages, retries, probes */
    ZG_KIND_DURATION, /* milliseconds, written with a unit: 250ms 5s 2m 1h */
    ZG_KIND_SIZE,     /* bytes, written plain or with B KiB MiB GiB */
    ZG_KIND_BOOL,     /* yes/no */
    ZG_KIND_SECURITY, /* curve/none */
    ZG_KIND_PERCENT,  /* 0% to 100% */
    ZG_KIND_PATH,     /* one file name */
    ZG_KIND_PATHS     /* an ordered, comma-separated list of file names */
} zg_kind_t;

typedef struct zg_field_info {
    const char *key;
    zg_kind_t kind;
    int64_t min, max;        /* inclusive, in the stored unit */
    int64_t granularity;     /* the value must be a multiple of this */
    const char *minus_one;   /* word for -1 ("infinite"), NULL if -1 is invalid */
    bool has_unbounded;      /* some value needs `unbounded = yes` */
    int64_t unbounded_value; /* ... and this is it */
    int zmq_option;          /* 0 when the field is not a socket option */
    bool zmq_int64;          /* the option takes an int64_t */
    int64_t zmq_scale;       /* policy value / scale = option value */
    bool write_only;         /* libzmq cannot read it back */
    const char *unit_help;   /* what a bad value should have looked like */
} zg_field_info_t;

const zg_field_info_t *zg_field_info(zg_field_t field);
int zg_field_from_key(const char *key); /* -1 if unknown */
/* 0 on success; on failure -1 and *why names the problem. */
int zg_value_parse(const zg_field_info_t *info, const char *text,
                   int64_t *out, const char **why);
void zg_value_format(const zg_field_info_t *info, int64_t value, char *buf,
                     size_t cap);
/* A key the user may have meant, or NULL. */
const char *zg_key_suggest(const char *key, const char *const *keys,
                           size_t nkeys);

/* ---- ini.c: lines of an INI file, nothing more ---------------------------- */
#define ZG_INI_LINE_MAX 2048

typedef enum zg_ini_kind {
    ZG_INI_END = 0,
    ZG_INI_SECTION,
    ZG_INI_PAIR,
    ZG_INI_ERROR
} zg_ini_kind_t;

typedef struct zg_ini {
    const char *pos, *end;
    unsigned line;
    char buf[ZG_INI_LINE_MAX + 1];
} zg_ini_t;

typedef struct zg_ini_item {
    zg_ini_kind_t kind;
    unsigned line;
    const char *key;   /* section name, key, or the offending text */
    const char *value; /* PAIR only */
    const char *error; /* ERROR only */
} zg_ini_item_t;

void zg_ini_init(zg_ini_t *ini, const char *text, size_t len);
void zg_ini_next(zg_ini_t *ini, zg_ini_item_t *item);

/* ---- zpl.c: the certificate file format of CZMQ and pyzmq ----------------- */
#define ZG_ZPL_LINE_MAX 1024
#define ZG_ZPL_NAME_MAX 64

typedef struct zg_zpl_entry {
    char *section; /* "" for a value at the top level */
    char *key;
    char *value;
    unsigned line;
} zg_zpl_entry_t;

typedef struct zg_zpl {
    zg_zpl_entry_t *items;
    size_t count, cap;
} zg_zpl_t;

/* 0, or -1 with the failing line and why. Values are wiped when freed. */
int zg_zpl_parse(const char *text, size_t len, zg_zpl_t *out,
                 unsigned *err_line, const char **why);
const char *zg_zpl_get(const zg_zpl_t *zpl, const char *section,
                       const char *key);
void zg_zpl_free(zg_zpl_t *zpl);

/* ---- cidr.c: IP ranges for allow_ip / deny_ip ------------------------------ */
typedef struct zg_cidr {
    int family; /* AF_INET or AF_INET6 */
    uint8_t addr[16];
    unsigned bits;
} zg_cidr_t;

int zg_cidr_parse(const char *text, zg_cidr_t *out, const char **why);
/* "a, b/8, c": a malloc'ed array; 0, or -1 and why. */
int zg_cidr_list_parse(const char *list, zg_cidr_t **out, size_t *count,
                       const char **why);
/* address as ZAP gives it: an IP without port. */
bool zg_cidr_match(const zg_cidr_t *rule, const char *address);

/* ---- allowlist.c: the keys a CURVE server accepts -------------------------- */
typedef struct zg_allowlist zg_allowlist_t;

typedef struct zg_allow_entry {
    uint8_t key[ZG_KEY_BYTES];
    char key_text[ZG_KEY_TEXT_MAX]; /* Z85 */
    char *user;      /* the User-Id: metadata name, else the file name
                        without ".key"; old and new key of a rotation share
                        it */
    char *file;
    int64_t expires;   /* Unix time; 0 = never */
    bool expiry_acted; /* the authenticator has acted on its expiry */
} zg_allow_entry_t;

typedef enum zg_cert_state {
    ZG_CERT_VALID,
    ZG_CERT_EXPIRED,
    ZG_CERT_REVOKED,
    ZG_CERT_MALFORMED,
    ZG_CERT_DUPLICATE
} zg_cert_state_t;

/* Called once per file looked at (and per bad revocation-list line). */
typedef void(zg_allow_visit_fn)(void *arg, const char *file,
                                zg_cert_state_t state, const char *detail,
                                const zg_cert_t *cert);

zg_allowlist_t *zg_allowlist_load(const char *dir, const char *revoked,
                                  int64_t now, zg_allow_visit_fn *visit,
                                  void *arg);
const zg_allow_entry_t *zg_allowlist_find(const zg_allowlist_t *list,
                                          const uint8_t *key);
bool zg_allowlist_revoked(const zg_allowlist_t *list, const uint8_t *key);
size_t zg_allowlist_count(const zg_allowlist_t *list);
/* Every entry: start with *cursor = 0; NULL at the end. */
zg_allow_entry_t *zg_allowlist_entry(const zg_allowlist_t *list,
                                     size_t *cursor);
void zg_allowlist_destroy(zg_allowlist_t **list);
const char *zg_cert_state_name(zg_cert_state_t state);
/* "2027-01-31T00:00:00Z" -> Unix time; -1 if not that shape. */
int zg_time_parse(const char *text, int64_t *out);

/* ---- policy.c -------------------------------------------------------------- */
#define ZG_TYPE_COUNT 12 /* ZMQ_PAIR (0) .. ZMQ_STREAM (11) */

/* Ready for the hot path: the values a socket was hardened with. */
typedef struct zg_resolved {
    int64_t value[ZG_FIELD_COUNT];
    const char *str[ZG_FIELD_COUNT]; /* key files; owned by the policy */
} zg_resolved_t;

int zg_policy_resolve(const zg_policy_t *policy, int type, const char *name,
                      zg_resolved_t *out);
bool zg_field_applies(zg_field_t field, int type);

/* ---- endpoint.c: what an endpoint string says ------------------------------ */
/* NULL when the endpoint is a tcp://, ipc:// or inproc:// address zguard
 * can use; else why not ("has no port", ...). */
const char *zg_endpoint_problem(const char *endpoint);
/* inproc://, ipc://, or tcp:// to a loopback address: never leaves this
 * machine (so a plaintext hop there is not on any network). */
bool zg_endpoint_is_local(const char *endpoint);

/* ---- gate.c ------------------------------------------------------------------ */
/* -1 for an unknown name. */
int zg_gate_pattern_from_name(const char *name);
/* The libzmq socket types of a pattern's frontend and backend. */
void zg_gate_types(zg_gate_pattern_t pattern, int *frontend, int *backend);

/* ---- auth.c: the ZAP authenticator ------------------------------------------ */
typedef struct zg_auth zg_auth_t;
#define ZG_ZAP_DOMAIN "zguard"
#define ZG_OPT_ZAP_ENFORCE_DOMAIN 93 /* draft in 4.3 headers, works at run time */

/* Binds the ZAP endpoint, loads the allowlist, starts the thread. */
zg_auth_t *zg_auth_start(zg_ctx_t *ctx);
void zg_auth_stop(zg_auth_t **auth);
int zg_auth_reload(zg_auth_t *auth);
void zg_auth_stats(zg_auth_t *auth, zg_auth_stats_t *out);
/* The message property that names the peer's key (Z85), set by the
 * authenticator's ZAP replies: sessions are tracked by key, not by name. */
#define ZG_KEY_PROPERTY "X-Zguard-Key"
/* Changes whenever a key loses access; 0 until one ever has. */
uint64_t zg_auth_generation(zg_auth_t *auth);
bool zg_auth_is_lost(zg_auth_t *auth, const char *key_text);
void zg_auth_count_dropped(zg_auth_t *auth);

/* ---- monitor.c: every socket's monitor, read by one thread ---------------- */
typedef struct zg_monitor zg_monitor_t;

/* Starts watching a socket (owning thread, before bind/connect). */
int zg_monitor_add(zg_sock_t *sock);
/* Stops it (owning thread, before close); waits until the thread let go. */
void zg_monitor_remove(zg_sock_t *sock);
void zg_monitor_stop(zg_monitor_t **monitor);
/* Draft API found at run time: exact pipe depths can be asked for. */
bool zg_monitor_exact(void);
#define ZG_SOCKETS_PER_SOCKET 3 /* a monitored socket, its monitor, reader */
/* Owning thread, exact mode only: asks libzmq for per-pipe depths. */
void zg_monitor_sample(zg_sock_t *sock);
#define ZG_SAMPLE_EVERY 256 /* a power of two */

/* ---- alert.c: thresholds of the policy, evaluated by the monitor thread ---- */
typedef struct zg_alerts zg_alerts_t;
zg_alerts_t *zg_alerts_new(int64_t now_ms);
void zg_alerts_destroy(zg_alerts_t **alerts);
/* Called every tick with the time in ms; raises and clears alerts. */
void zg_alerts_check(zg_alerts_t *alerts, zg_sock_t *sock, int64_t now_ms);

/* ---- metrics.c: the Prometheus endpoint ------------------------------------ */
typedef struct zg_metrics zg_metrics_t;
/* Serves the context's metrics on listen ("127.0.0.1:9464", port 0: any);
 * returns the port, or -1. */
int zg_metrics_start(zg_ctx_t *ctx, const char *listen, zg_metrics_t **out);
void zg_metrics_stop(zg_metrics_t **metrics);

/* ---- ctx.c / log.c --------------------------------------------------------- */
#define ZG_EARLY_LOG_MAX 8 /* warnings kept until a log sink is set */

struct zg_ctx {
    void *zmq;
    bool owns_zmq;
    zg_policy_t *policy;
    pthread_mutex_t lock; /* guards everything below */
    zg_log_level_t log_level;
    zg_log_fn *log_fn;
    void *log_arg;
    zg_alert_fn *alert_fn;
    void *alert_arg;
    zg_sock_t *socks; /* every socket zguard knows in this context */
    unsigned next_id; /* for unnamed sockets' metric labels */
    pthread_mutex_t monitor_lock;
    zg_monitor_t *monitor; /* started with the first monitored socket */
    pthread_mutex_t metrics_lock;
    struct zg_metrics *metrics; /* the HTTP endpoint, when configured */
    int metrics_port;           /* its port (0 before it listens) */
    /* Warnings logged before any sink was set (zg_ctx_new's version gate
     * runs before the application can set one): delivered to the first. */
    char *early[ZG_EARLY_LOG_MAX];
    zg_log_level_t early_level[ZG_EARLY_LOG_MAX];
    int nearly;
    /* Not under lock: starting the authenticator and decrypting secrets
     * take long and log, so each has its own. */
    pthread_mutex_t auth_lock;
    zg_auth_t *auth; /* started by the first CURVE server */
    pthread_mutex_t cert_lock;
    zg_passphrase_t *pass;
    struct zg_cert_cache *certs; /* key files read, by path */
};

/* The authenticator, started on first use; NULL and an error if the policy
 * has no allowlist. */
zg_auth_t *zg_ctx_auth(zg_ctx_t *ctx);
/* A key file through the context's cache: the pair (secret = true) or the
 * public certificate. The cert belongs to the context. */
const zg_cert_t *zg_ctx_cert(zg_ctx_t *ctx, const char *path, bool secret);

void zg_log(zg_ctx_t *ctx, zg_log_level_t level, const char *fmt, ...)
    ZG_PRINTF(3, 4);
void zg_log_forget(zg_ctx_t *ctx); /* frees undelivered early warnings */
void zg_alert(zg_ctx_t *ctx, const char *name, const char *socket, int active,
              const char *fmt, ...) ZG_PRINTF(5, 6);
void zg_ctx_attach(zg_ctx_t *ctx, zg_sock_t *sock);
void zg_ctx_detach(zg_ctx_t *ctx, zg_sock_t *sock);

/* ---- registry.c: libzmq socket -> zguard state, lock-free lookups ---------- */
void zg_init(void); /* the library's one-time init; idempotent */
int zg_registry_put(void *zsock, zg_sock_t *sock);
zg_sock_t *zg_registry_get(void *zsock);
void zg_registry_del(void *zsock);

/* ---- socket.c --------------------------------------------------------------- */

/* Single-writer counters: only the thread that owns the socket adds, any
 * thread may read. A relaxed load and store is enough and avoids a locked
 * instruction on the hot path. */
typedef struct zg_stats {
    _Atomic uint64_t msgs_sent, msgs_received, bytes_sent, bytes_received;
    _Atomic uint64_t hwm_reached, send_timeouts, recv_timeouts;
    _Atomic uint64_t send_blocked_ns, no_route, interrupted;
} zg_stats_t;

static inline void zg_stat_add(_Atomic uint64_t *counter, uint64_t n)
{
    atomic_store_explicit(
        counter, atomic_load_explicit(counter, memory_order_relaxed) + n,
        memory_order_relaxed);
}

/* What a socket's monitor saw (monitor.c writes, anyone reads). */
typedef enum zg_fail_reason {
    ZG_FAIL_AUTH,      /* the authenticator said no (HANDSHAKE_FAILED_AUTH) */
    ZG_FAIL_CRYPTO,    /* CURVE failed: e.g. a client with the wrong key */
    ZG_FAIL_MECHANISM, /* NULL against CURVE: plaintext or downgrade */
    ZG_FAIL_PROTOCOL,  /* malformed ZMTP or ZAP */
    ZG_FAIL_TIMEOUT,   /* no detail: handshake timeout, reset, ... */
    ZG_FAIL_REASONS
} zg_fail_reason_t;

typedef enum zg_alert_kind {
    ZG_ALERT_MUTE,     /* mute too much of the window */
    ZG_ALERT_HWM,      /* queues too full for the window (exact mode) */
    ZG_ALERT_TIMEOUTS, /* too many timeouts a minute */
    ZG_ALERT_AUTH,     /* too many failed handshakes a minute */
    ZG_ALERT_NO_PEERS, /* the last peer went */
    ZG_ALERTS
} zg_alert_kind_t;

#define ZG_ENDPOINTS_MAX 8 /* per socket, for metric labels; more: "other" */
#define ZG_ENDPOINT_TEXT_MAX 128

typedef struct zg_endpoint_stats {
    char endpoint[ZG_ENDPOINT_TEXT_MAX]; /* written once, before publishing */
    _Atomic uint64_t accepted, connected, disconnected, handshakes_ok;
    _Atomic uint64_t failed[ZG_FAIL_REASONS];
} zg_endpoint_stats_t;

typedef struct zg_monstats {
    zg_endpoint_stats_t endpoints[ZG_ENDPOINTS_MAX + 1]; /* last: "other" */
    _Atomic int nendpoints;
    _Atomic uint64_t accept_failed, accept_emfile;
    _Atomic int64_t peers;               /* handshaken connections now */
    _Atomic int64_t queue_out, queue_in; /* fullest peer pipe; -1: unknown */
    _Atomic uint64_t mute_permille;      /* share of the alert window mute */
    _Atomic uint32_t alerts;             /* bit per active zg_alert_kind_t */
} zg_monstats_t;

const char *zg_fail_reason_name(zg_fail_reason_t reason);
const char *zg_alert_kind_name(zg_alert_kind_t kind);

typedef enum zg_curve_role {
    ZG_CURVE_NONE = 0,
    ZG_CURVE_SERVER,
    ZG_CURVE_CLIENT
} zg_curve_role_t;

struct zg_sock {
    zg_ctx_t *ctx;
    void *zsock;
    int type;
    bool owned; /* created by zg_socket: zguard closes it */
    char name[ZG_NAME_MAX];
    zg_resolved_t policy;
    zg_stats_t stats;
    zg_curve_role_t curve;
    zg_auth_t *auth; /* CURVE servers: whose lost users to drop */
    const char *checked_user; /* the last peer key found still allowed ... */
    uint64_t checked_gen;     /* ... as of this auth generation */
    const zg_cert_t *own;     /* policy keys, owned by the context */
    uint8_t server_keys[ZG_SERVER_KEYS_MAX][ZG_KEY_BYTES];
    int nserver_keys, server_key;
    unsigned id;           /* per context, for unnamed sockets' labels */
    bool monitored;        /* a monitor stream reaches the context's thread */
    bool sample_pipes;     /* exact mode: ask libzmq for pipe depths ... */
    unsigned ops;          /* ... every ZG_SAMPLE_EVERY sends and receives */
    zg_monstats_t mon;
    zg_sock_t *prev, *next; /* ctx->socks, under ctx->lock */
};

/* keys.c: the secret half of a pair, in sodium_malloc memory. */
const uint8_t *zg_cert_secret_key(const zg_cert_t *cert);

/* curve.c: keys from the policy, read back, and the bind-time check. */
int zg_curve_apply(zg_sock_t *sock);
int zg_curve_verify(zg_sock_t *sock);
int zg_curve_check_server(zg_sock_t *sock, const char *endpoint);

/* "socket 'orders-in' (PULL)" or "unnamed PULL socket", for messages. */
const char *zg_sock_label(const zg_sock_t *sock, char *buf, size_t cap);
uint64_t zg_now_ns(void);

/* ---- keys.c, keystore.c, passphrase.c: CURVE key files --------------------
 * See docs/keys.md for the file formats. */
#include <sys/types.h>

/* zpl.c: printable UTF-8, no control characters (C0, DEL, C1). */
bool zg_zpl_text_ok(const char *text, size_t len);
/* The line of section/key; 0 when absent. */
unsigned zg_zpl_line(const zg_zpl_t *zpl, const char *section,
                     const char *key);

#define ZG_CERT_FILE_MAX (64 * 1024) /* a certificate is a page of text */
#define ZG_META_COUNT_MAX 32         /* metadata entries per certificate */
#define ZG_PASSPHRASE_MAX 1024       /* bytes, without the newline */
#define ZG_SECRET_FORMAT "zguard-secret-1"
#define ZG_SEALED_BYTES \
    (ZG_KEY_BYTES + crypto_aead_xchacha20poly1305_ietf_ABYTES)

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
int zg_file_read(const char *path, bool secure, bool check_private,
                 char **data, size_t *len);
void zg_file_free(char **data, size_t len, bool secure);

/* keystore.c: an atomic write of one or two files in one go. */
enum { ZG_WRITE_REPLACE = 0, ZG_WRITE_NOREPLACE = 1 };
typedef struct zg_write {
    const char *path;
    const char *data;
    size_t len;
    mode_t mode;
} zg_write_t;

/* Every file is written to a temporary file beside it (mode set before the
 * first byte), fsynced, then renamed over (or, NOREPLACE, linked to) its
 * name, then the directory is fsynced. If any step fails, none of the files
 * changed: the ones already in place get their old content back. */
int zg_files_write(const zg_write_t *files, size_t n, int flags);

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

/* ---- advisory.c, doctor.c: libzmq advisories, the version gate, doctor -----
 * The advisory database is a data file (data/libzmq-advisories.ini, see its
 * header for the format), found by zg_advisories_find. */
#define ZG_ADVISORY_FORMAT 1 /* the `format` this zguard reads */
#define ZG_ADVISORY_FILE "libzmq-advisories.ini"

typedef struct zg_ver {
    int major, minor, patch;
} zg_ver_t;

/* "4.3.5" -> 0; anything else -1. */
int zg_ver_parse(const char *text, zg_ver_t *out);
int zg_ver_cmp(zg_ver_t a, zg_ver_t b); /* <0, 0, >0 */
/* "4.3.5" in a static per-thread buffer of each slot (0..3). */
const char *zg_ver_str(zg_ver_t v, int slot);

typedef enum zg_adv_severity {
    ZG_ADV_LOW = 1,
    ZG_ADV_MEDIUM,
    ZG_ADV_HIGH,
    ZG_ADV_CRITICAL
} zg_adv_severity_t;

const char *zg_adv_severity_name(zg_adv_severity_t sev); /* "high" */
int zg_adv_severity_from_name(const char *name);         /* -1 if unknown */

/* One range of a list like "4.0.0-4.0.4, < 4.3.3": both bounds optional. */
typedef struct zg_range {
    bool has_lo, has_hi;
    bool lo_incl, hi_incl;
    zg_ver_t lo, hi;
} zg_range_t;

/* 0 with a malloc'ed array, or -1 and why. */
int zg_ranges_parse(const char *text, zg_range_t **out, size_t *count,
                    const char **why);
bool zg_range_match(const zg_range_t *range, zg_ver_t v);

typedef struct zg_advisory {
    char *id;         /* "CVE-2019-13132", or for issues "libzmq-4912" */
    bool unfixed;     /* an [issue.*]: fixed on master, in no release */
    zg_range_t *ranges;
    size_t nranges;
    char *affected;   /* the ranges as written */
    char *fixed;      /* "4.0.9, 4.1.7, 4.3.2"; "none" for issues */
    zg_adv_severity_t severity;
    char *cvss;       /* NULL when the source gives none */
    char *summary, *url;
    char *note;       /* optional */
    char *mitigation; /* issues only */
    unsigned line;
} zg_advisory_t;

typedef struct zg_release {
    zg_ver_t ver;
    char date[11];  /* YYYY-MM-DD */
    int64_t day;    /* days since 1970-01-01 */
    unsigned line;
} zg_release_t;

typedef struct zg_advisories {
    char *file;
    int format;
    char reviewed[11];
    int64_t reviewed_day;
    zg_ver_t latest;
    zg_release_t *releases; /* in version order */
    size_t nreleases;
    zg_advisory_t *items;   /* in file order */
    size_t count;
} zg_advisories_t;

/* NULL when the file has any error; every problem goes to diag (may be
 * NULL) as FILE:LINE: key: message, and the first to zg_last_error(). */
zg_advisories_t *zg_advisories_parse(const char *text, size_t len,
                                     const char *file, zg_diag_t *diag);
zg_advisories_t *zg_advisories_load(const char *path, zg_diag_t *diag);
void zg_advisories_destroy(zg_advisories_t **db);
/* Where the database is: `path` when given; else $ZGUARD_DATADIR, the
 * install location, the source tree, the first that exists. 0, or -1 with
 * errno ENOENT and the places tried in zg_last_error(). */
int zg_advisories_find(const char *path, char *out, size_t cap);
bool zg_advisory_applies(const zg_advisory_t *adv, zg_ver_t v);
/* The release entry of v, or NULL. */
const zg_release_t *zg_advisories_release(const zg_advisories_t *db,
                                          zg_ver_t v);
/* "2023-10-09" -> days since 1970-01-01; -1 if not a real date. */
int zg_date_parse(const char *text, int64_t *day);

/* The gate zg_ctx_new and zg_ctx_wrap run: the policy's min_libzmq and
 * on_advisory against the libzmq loaded at run time (zmq_version). 0 to go
 * on; -1 with errno ENOTSUP (or ENOENT: no database under on_advisory =
 * fail) and a message naming both versions or the advisories. */
int zg_libzmq_gate(zg_ctx_t *ctx);
/* The same for a given runtime version and database path (NULL: search):
 * what zg_libzmq_gate calls, and what tests call with other versions. */
int zg_libzmq_gate_check(zg_ctx_t *ctx, zg_ver_t runtime,
                         const char *db_path);

/* doctor.c: the facts `zguard doctor` reports, gathered without printing. */
typedef enum zg_finding_level {
    ZG_FIND_INFO = 0,
    ZG_FIND_WARNING,
    ZG_FIND_FAILURE
} zg_finding_level_t;

typedef struct zg_finding {
    zg_finding_level_t level;
    char check[32];   /* stable name: "advisory", "libzmq-behind", ... */
    char *subject;    /* what it is about: an id, a path, a socket */
    char *message;    /* one line for a person */
} zg_finding_t;

typedef enum zg_curve_backend {
    ZG_CURVE_BACKEND_NONE = 0, /* zmq_has("curve") == 0 */
    ZG_CURVE_BACKEND_LIBSODIUM,
    ZG_CURVE_BACKEND_TWEETNACL,
    ZG_CURVE_BACKEND_UNKNOWN   /* libzmq not found as a shared object */
} zg_curve_backend_t;

#define ZG_DOCTOR_CAPS 10

typedef struct zg_doctor_opts {
    const char *policy;   /* NULL: no policy checks */
    const char *db_path;  /* NULL: zg_advisories_find */
    zg_adv_severity_t fail_on;
    int64_t today;        /* days since 1970-01-01; 0: now */
} zg_doctor_opts_t;

typedef struct zg_doctor {
    zg_ver_t runtime, compiled;
    char libzmq_path[512]; /* the loaded libzmq.so, "" if not found */
    const char *sodium_version;
    zg_curve_backend_t curve;
    const char *curve_how; /* how that was decided, one line */
    bool has_draft;        /* zmq_has("draft") */
    bool has_pipes_stats;  /* dlsym zmq_socket_monitor_pipes_stats */
    const char *cap_name[ZG_DOCTOR_CAPS];
    bool cap[ZG_DOCTOR_CAPS];
    zg_advisories_t *db;   /* NULL when it could not be loaded */
    char db_path[512];
    int64_t today;
    const zg_release_t *latest; /* NULL without db */
    int behind;            /* releases between runtime and latest; -1 newer */
    bool behind_exact;     /* false when runtime predates the known ones */
    int64_t latest_age;    /* days since the latest stable release */
    int64_t db_age;        /* days since the database was reviewed */
    const zg_advisory_t **applies; /* advisories and issues for runtime */
    size_t napplies;
    bool policy_checked, policy_valid;
    zg_finding_t *findings;
    size_t nfindings, cap_findings;
    zg_adv_severity_t fail_on;
    bool oom;              /* a finding was lost: never report clean */
} zg_doctor_t;

zg_doctor_t *zg_doctor_run(const zg_doctor_opts_t *opts);
void zg_doctor_destroy(zg_doctor_t **doc);
/* 0 no warnings or failures, 1 warnings, 2 a failure: the exit code. */
int zg_doctor_verdict(const zg_doctor_t *doc);
const char *zg_finding_level_name(zg_finding_level_t level);
const char *zg_curve_backend_name(zg_curve_backend_t backend);

#endif /* ZG_INTERNAL_H */
