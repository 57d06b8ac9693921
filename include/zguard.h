/*
 * zguard.h - the whole public API of libzguard.
 *
 * zguard hardens plain libzmq sockets from a written policy: bounded queues
 * (SNDHWM/RCVHWM, MAXMSGSIZE), timeouts on every send and receive, a finite
 * LINGER and handshake limit, heartbeats, and CURVE on every tcp/ipc endpoint.
 * Sockets stay libzmq `void *` sockets: existing code keeps calling zmq_*.
 *
 * Conventions (as in libsodium and CZMQ):
 *   - zg_thing_new() / zg_thing_destroy(&p) and the destroy sets *p to NULL;
 *   - functions that can fail return NULL, -1 or a zg_status_t other than
 *     ZG_OK, set errno where libzmq would, and leave a one-line reason that
 *     zg_last_error() returns in the calling thread (like dlerror());
 *   - the library never prints and never exits unless a log sink is set.
 */
#ifndef ZGUARD_H
#define ZGUARD_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <zmq.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define ZG_EXPORT __attribute__((visibility("default")))
/* On calls whose result must be looked at: a status that says whether
 * anything happened, or an object the caller must destroy. */
#define ZG_NODISCARD __attribute__((warn_unused_result))
#else
#define ZG_EXPORT
#define ZG_NODISCARD
#endif

#define ZG_VERSION_MAJOR 0
#define ZG_VERSION_MINOR 1
#define ZG_VERSION_PATCH 0

/* Limits of names and texts the library hands out. */
#define ZG_NAME_MAX 64        /* socket names, including the NUL */
#define ZG_ERROR_MAX 512      /* zg_last_error() text, including the NUL */
#define ZG_VALUE_TEXT_MAX 32  /* zg_setting_t.text, including the NUL */
#define ZG_SERVER_KEYS_MAX 4  /* server keys a client may hold (rotation) */

/* ------------------------------------------------------------------------ */
/* Library                                                                   */
/*
 * Contract for the whole API. Functions that fail return -1, NULL or a
 * zg_status_t other than ZG_OK, set errno, and leave one line naming the
 * file, line, key, socket or peer at fault in zg_last_error() (thread-local
 * like errno: valid until the thread's next failing zguard call). Objects
 * come from zg_thing_new / _load / _parse and go back through
 * zg_thing_destroy(&p), which sets the caller's pointer to NULL and accepts
 * NULL. Nothing prints, logs or exits unless the application set a log sink
 * (zg_ctx_set_log). Each group below says which threads may call it.
 */

/* "0.1.0" */
ZG_EXPORT const char *zg_version_string(void);

/* The reason for the last failure in the calling thread, or "" if none. */
ZG_EXPORT const char *zg_last_error(void);

/* ------------------------------------------------------------------------ */
/* Status of a send, receive or request                                      */

typedef enum zg_status {
    ZG_OK = 0,
    ZG_EMUTE,        /* send with ZMQ_DONTWAIT: the socket is mute at its HWM */
    ZG_ESNDTIMEO,    /* send timed out while mute at the HWM (SNDTIMEO) */
    ZG_EEMPTY,       /* receive with ZMQ_DONTWAIT: no message waiting */
    ZG_ERCVTIMEO,    /* receive timed out waiting for a message (RCVTIMEO) */
    ZG_EINTR,        /* interrupted by a signal */
    ZG_ECLOSED,      /* socket closed or context terminated */
    ZG_ENOROUTE,     /* ROUTER_MANDATORY: no peer with that routing id */
    ZG_EFSM,         /* operation not valid in the socket's state (REQ/REP) */
    ZG_ETRUNCATED,   /* message longer than the buffer; the rest was lost */
    ZG_ENOPOLICY,    /* socket was not created or hardened by zguard */
    ZG_EUNREACHABLE, /* request helper: no reply after every retry */
    ZG_EDENIED,      /* from a peer whose key lost access: dropped, and its
                        connection closed */
    ZG_EINVAL,       /* bad argument */
    ZG_EOTHER        /* any other libzmq error; errno tells which */
} zg_status_t;

/* A short, stable description: "send timed out while mute at the HWM". */
ZG_EXPORT const char *zg_status_str(zg_status_t status);

/* ------------------------------------------------------------------------ */
/* Diagnostics: every problem found in a policy, with file, line and key     */
/*
 * A zg_diag_t belongs to its caller and to one thread at a time; the
 * problems it hands out live as long as it does.
 */

typedef enum zg_severity { ZG_SEV_WARNING = 1, ZG_SEV_ERROR = 2 } zg_severity_t;

typedef struct zg_problem {
    zg_severity_t severity;
    const char *file; /* as given to the parser */
    unsigned line;    /* 1-based; 0 when the problem has no line */
    const char *key;  /* the key, section or text the problem is about */
    const char *message;
} zg_problem_t;

typedef struct zg_diag zg_diag_t;

ZG_EXPORT ZG_NODISCARD zg_diag_t *zg_diag_new(void);
ZG_EXPORT void zg_diag_destroy(zg_diag_t **diag);
ZG_EXPORT size_t zg_diag_count(const zg_diag_t *diag);
ZG_EXPORT size_t zg_diag_errors(const zg_diag_t *diag);
ZG_EXPORT size_t zg_diag_warnings(const zg_diag_t *diag);
/* Problems in file order; NULL past the end. A pointer stays valid until
 * the diag changes or is destroyed. */
ZG_EXPORT const zg_problem_t *zg_diag_get(const zg_diag_t *diag, size_t index);
/* Writes each problem as "FILE:LINE: key: message" (warnings say
 * "warning: " before the message), one per line. */
ZG_EXPORT void zg_diag_print(const zg_diag_t *diag, FILE *out);
/* One problem as zg_diag_print prints it, without the newline:
 * "FILE:LINE: key: message" ("FILE: key: message" when it has no line;
 * "warning: " before the message of a warning). Returns what snprintf
 * returns (the line is cut at cap). */
ZG_EXPORT int zg_problem_format(const zg_problem_t *problem, char *buf,
                                size_t cap);

/* ------------------------------------------------------------------------ */
/* Policy: what every socket must have                                       */
/*
 * Layers, later ones win: built-in defaults per socket type, [defaults],
 * [type.<socket type>], [socket.<name>]. See docs/policy.md.
 *
 * A policy never changes once loaded: any thread may read it. It is
 * reference-counted (zg_policy_ref; each zg_policy_destroy drops one), so a
 * context keeps the policy it was made with alive.
 */

typedef struct zg_policy zg_policy_t;

/* The built-in policy: secure defaults for every socket type, no file. */
ZG_EXPORT ZG_NODISCARD zg_policy_t *zg_policy_builtin(void);
/* Reads and validates a policy file. Returns NULL when the file has any
 * error; every error and warning is added to diag (which may be NULL). */
ZG_EXPORT ZG_NODISCARD zg_policy_t *zg_policy_load(const char *path, zg_diag_t *diag);
/* The same from memory; file names the text in diagnostics. */
ZG_EXPORT ZG_NODISCARD zg_policy_t *zg_policy_parse(const char *text, size_t len, const char *file,
                             zg_diag_t *diag);
/* Policies are immutable and reference counted: a context keeps its own
 * reference, so the caller may destroy theirs at any time. */
ZG_EXPORT zg_policy_t *zg_policy_ref(zg_policy_t *policy);
ZG_EXPORT void zg_policy_destroy(zg_policy_t **policy);
/* The file the policy came from, or "(built-in)". */
ZG_EXPORT const char *zg_policy_file(const zg_policy_t *policy);

/* Named sockets ([socket.<name>] sections), in file order. */
ZG_EXPORT size_t zg_policy_socket_count(const zg_policy_t *policy);
ZG_EXPORT const char *zg_policy_socket_name(const zg_policy_t *policy, size_t index);
/* The ZMQ_* type a named socket declares, or -1 if the name is unknown. */
ZG_EXPORT int zg_policy_socket_type(const zg_policy_t *policy, const char *name);
/* How `zguard run` recognises a named socket in a program that does not
 * name it: the endpoint pattern of its first bind (bind = 1) or connect
 * (bind = 0), a glob like "tcp://HOST:5555" with * for any text; NULL when the section has none.
 * line (may be NULL) gets the pattern's line. */
ZG_EXPORT const char *zg_policy_socket_pattern(const zg_policy_t *policy,
                                               const char *name, int bind,
                                               unsigned *line);

/* Where an effective value came from. */
typedef enum zg_layer {
    ZG_LAYER_BUILTIN = 0,
    ZG_LAYER_DEFAULTS,
    ZG_LAYER_TYPE,
    ZG_LAYER_SOCKET
} zg_layer_t;

ZG_EXPORT const char *zg_layer_name(zg_layer_t layer); /* "built-in", "defaults", ... */

/* Security mechanisms a policy can require (field "security"). */
enum { ZG_SECURITY_NONE = 0, ZG_SECURITY_CURVE = 1 };

/* Policy fields, in the order the docs and `zguard policy doc` list them. */
typedef enum zg_field {
    ZG_FIELD_SNDHWM = 0,
    ZG_FIELD_RCVHWM,
    ZG_FIELD_SNDTIMEO,
    ZG_FIELD_RCVTIMEO,
    ZG_FIELD_MAXMSGSIZE,
    ZG_FIELD_LINGER,
    ZG_FIELD_HANDSHAKE_IVL,
    ZG_FIELD_HEARTBEAT_IVL,
    ZG_FIELD_HEARTBEAT_TTL,
    ZG_FIELD_HEARTBEAT_TIMEOUT,
    ZG_FIELD_IMMEDIATE,
    ZG_FIELD_RECONNECT_IVL,
    ZG_FIELD_RECONNECT_IVL_MAX,
    ZG_FIELD_TCP_KEEPALIVE,
    ZG_FIELD_TCP_KEEPALIVE_IDLE,
    ZG_FIELD_TCP_KEEPALIVE_INTVL,
    ZG_FIELD_TCP_KEEPALIVE_CNT,
    ZG_FIELD_ROUTER_MANDATORY,
    ZG_FIELD_SECURITY,
    ZG_FIELD_CURVE_KEYS,
    ZG_FIELD_CURVE_SERVER_KEY,
    ZG_FIELD_RETRIES,
    ZG_FIELD_ALERT_MUTE,          /* share of the window spent mute */
    ZG_FIELD_ALERT_HWM,           /* queue depth / HWM (exact mode only) */
    ZG_FIELD_ALERT_WINDOW,        /* how long the above must hold */
    ZG_FIELD_ALERT_TIMEOUTS,      /* send + receive timeouts per minute */
    ZG_FIELD_ALERT_AUTH_FAILURES, /* failed handshakes per minute */
    ZG_FIELD_ALERT_NO_PEERS,      /* raise when the last peer goes */
    ZG_FIELD_MAX_PEERS,           /* connections a bound socket accepts */
    ZG_FIELD_MAX_PEERS_PER_IP,    /* ... from one address (0: no limit) */
    ZG_FIELD_COUNT
} zg_field_t;

/* One effective value of a socket, and why it is what it is. */
typedef struct zg_setting {
    zg_field_t field;
    int applies;                     /* 0: meaningless for this type */
    int option;                      /* the libzmq option (ZMQ_SNDHWM, ...);
                                        0 for zguard's own fields */
    const char *key;                 /* policy key: "sndhwm" */
    int64_t value;                   /* messages, milliseconds, bytes, 0/1;
                                        for key files: how many */
    char text[ZG_VALUE_TEXT_MAX];    /* as written in a policy: "5s", "1MiB" */
    const char *str;                 /* key files: the paths, comma-separated,
                                        resolved against the policy's
                                        directory; NULL when none */
    zg_layer_t layer;                /* where it came from */
    unsigned line;                   /* its line in the policy; 0 if built-in */
    const char *rationale;           /* NULL when none was given */
} zg_setting_t;

/* Effective settings of a socket of `type` (ZMQ_PUSH, ...) and `name`
 * (NULL for an unnamed socket), one per field in zg_field_t order: fills
 * out[0..count-1], count being at most ZG_FIELD_COUNT, each element `size`
 * bytes (pass ZG_FIELD_COUNT and sizeof out[0]: a program built against an
 * older zguard.h gets the fields and members it knows). Fields that do not
 * apply to the type (router_mandatory on a PUSH) have applies = 0 and
 * value 0. Returns 0, or -1 if the name is unknown or its declared type
 * differs (zg_last_error() says which). */
ZG_EXPORT ZG_NODISCARD int zg_policy_settings(const zg_policy_t *policy,
                                              int type, const char *name,
                                              zg_setting_t *out, size_t count,
                                              size_t size);

/* The [auth] section, for the context's ZAP authenticator: key is "allow"
 * (directory of authorized public certificates), "revoked" (file of revoked
 * keys), "allow_ip" or "deny_ip" (CIDR lists). NULL when unset; *line (may
 * be NULL) gets the value's line. Paths are resolved like key files. */
ZG_EXPORT const char *zg_policy_auth(const zg_policy_t *policy,
                                     const char *key, unsigned *line);

/* The [metrics] section: "listen" (address:port of the Prometheus
 * endpoint; unset: none) and "monitor" ("yes" unless "no": a socket monitor
 * on every socket). NULL when unset. */
ZG_EXPORT const char *zg_policy_metrics(const zg_policy_t *policy,
                                        const char *key, unsigned *line);

/* The libzmq version gate, top-level keys before the first section:
 * "min_libzmq" ("4.3.5") and "on_advisory" ("fail" or "warn"; "warn" when
 * unset). NULL when unset. zg_ctx_new refuses a libzmq below min_libzmq,
 * and, with on_advisory = fail, one a known advisory applies to. */
ZG_EXPORT const char *zg_policy_libzmq(const zg_policy_t *policy,
                                       const char *key, unsigned *line);

/* Socket type names as policies write them: "push", "router", ... */
ZG_EXPORT const char *zg_type_name(int type);
ZG_EXPORT int zg_type_from_name(const char *name); /* -1 if unknown */

/* ------------------------------------------------------------------------ */
/* CURVE keys: certificates, encrypted secrets, passphrases                  */
/*
 * A key pair lives in two files, the layout CZMQ (zcert) and pyzmq
 * (zmq.auth) share: NAME.key, the public certificate, and NAME.key_secret.
 * zguard encrypts the secret by default (Argon2id + XChaCha20-Poly1305, see
 * docs/keys.md); a plaintext secret is written only when asked. Secret key
 * bytes live in sodium_malloc memory and are wiped when the cert is
 * destroyed. KEY arguments name either file of a pair.
 */

#define ZG_KEY_BYTES 32         /* a CURVE public or secret key */
#define ZG_KEY_TEXT_MAX 41      /* Z85 text of a key, including the NUL */
#define ZG_FINGERPRINT_MAX 24   /* "1a2b:3c4d:5e6f:7a8b", including the NUL */
#define ZG_META_NAME_MAX 64     /* metadata names, including the NUL */
#define ZG_META_VALUE_MAX 256   /* metadata values, including the NUL */
#define ZG_PASSPHRASE_CREDENTIAL "zguard-passphrase" /* systemd credential */

typedef struct zg_cert zg_cert_t;
typedef struct zg_passphrase zg_passphrase_t;

/* Argon2id cost of an encrypted secret: libsodium's three levels. */
typedef enum zg_kdf_cost {
    ZG_KDF_INTERACTIVE = 0, /* 64 MiB, ~0.1 s */
    ZG_KDF_MODERATE,        /* 256 MiB, ~0.7 s: the default */
    ZG_KDF_SENSITIVE        /* 1 GiB, several seconds */
} zg_kdf_cost_t;

/* A new key pair from libsodium (crypto_box_keypair). */
ZG_EXPORT ZG_NODISCARD zg_cert_t *zg_cert_new(void);
/* A public certificate written by zguard, CZMQ or pyzmq. */
ZG_EXPORT ZG_NODISCARD zg_cert_t *zg_cert_load(const char *path);
/* The pair of KEY: its public certificate, and its secret from
 * NAME.key_secret, decrypted with pass when encrypted (pass may be NULL for
 * a plaintext secret). Refuses a secret file that is group- or
 * world-accessible or owned by another user, and a secret that does not
 * match its public key. Each failure has its own zg_last_error() line. */
ZG_EXPORT ZG_NODISCARD zg_cert_t *zg_cert_load_pair(const char *key,
                                       const zg_passphrase_t *pass);
ZG_EXPORT void zg_cert_destroy(zg_cert_t **cert);

ZG_EXPORT const uint8_t *zg_cert_public_key(const zg_cert_t *cert);
ZG_EXPORT const char *zg_cert_public_text(const zg_cert_t *cert); /* Z85 */
ZG_EXPORT int zg_cert_has_secret(const zg_cert_t *cert);
/* 1 when the secret was loaded from an encrypted file. */
ZG_EXPORT int zg_cert_was_encrypted(const zg_cert_t *cert);
/* Whether KEY's secret file is encrypted (1) or plaintext (0), from its
 * structure alone: no passphrase, never decrypted. -1 when there is none
 * (errno ENOENT) or it would not load (permissions, corrupted, ...), with
 * the same zg_last_error() line zg_cert_load_pair would give. */
ZG_EXPORT int zg_cert_secret_encrypted(const char *key);
/* A short fingerprint of the public key, for people to compare. */
ZG_EXPORT const char *zg_cert_fingerprint(const zg_cert_t *cert);
/* Metadata, in file order. NULL when absent. */
ZG_EXPORT const char *zg_cert_meta(const zg_cert_t *cert, const char *name);
ZG_EXPORT int zg_cert_set_meta(zg_cert_t *cert, const char *name,
                               const char *value);
ZG_EXPORT size_t zg_cert_meta_count(const zg_cert_t *cert);
ZG_EXPORT const char *zg_cert_meta_name(const zg_cert_t *cert, size_t index);

/* Writes NAME.key (mode 0644) for `key` = the path of either file. */
ZG_EXPORT ZG_NODISCARD int zg_cert_save_public(const zg_cert_t *cert, const char *key);
/* Writes NAME.key_secret (mode 0600), encrypted under pass, or in plaintext
 * (the CZMQ/pyzmq layout) when pass is NULL. Atomic: temp file, fsync,
 * rename; never leaves a partial file. */
ZG_EXPORT ZG_NODISCARD int zg_cert_save_secret(const zg_cert_t *cert, const char *key,
                                  const zg_passphrase_t *pass,
                                  zg_kdf_cost_t cost);
/* Both files of the pair. */
ZG_EXPORT ZG_NODISCARD int zg_cert_save_pair(const zg_cert_t *cert, const char *key,
                                const zg_passphrase_t *pass,
                                zg_kdf_cost_t cost);

/* Rotation (docs/key-rotation.md): the current pair of KEY stays under a
 * dated name, NAME.YYYYmmddTHHMMSSZ.key (+ .key_secret, hard links), and a
 * fresh pair with the same metadata (but "created"; "rotated-from" names
 * the old fingerprint) replaces NAME.key / NAME.key_secret. archived (may be
 * NULL) gets the dated public certificate's path. */
ZG_EXPORT ZG_NODISCARD int zg_cert_rotate(const char *key, const zg_passphrase_t *pass,
                             zg_kdf_cost_t cost, char *archived, size_t cap);

/* Passphrases live in sodium_malloc memory and never come from argv. */
/* The first line of a file (which must not be group/world-readable). */
ZG_EXPORT ZG_NODISCARD zg_passphrase_t *zg_passphrase_from_file(const char *path);
/* $ZGUARD_PASSPHRASE_FILE, else the systemd credential
 * $CREDENTIALS_DIRECTORY/zguard-passphrase; NULL with errno ENOENT when
 * neither is set. */
ZG_EXPORT ZG_NODISCARD zg_passphrase_t *zg_passphrase_from_env(void);
/* Asks on the controlling terminal without echo (twice when confirm). */
ZG_EXPORT zg_passphrase_t *zg_passphrase_prompt(const char *prompt,
                                                int confirm);
ZG_EXPORT ZG_NODISCARD zg_passphrase_t *zg_passphrase_new(const char *text, size_t len);
ZG_EXPORT void zg_passphrase_destroy(zg_passphrase_t **pass);

/* ------------------------------------------------------------------------ */
/* Logging and alerts                                                        */
/*
 * Log and alert callbacks run on whichever thread has something to say: the
 * application's, the authenticator's, the monitor's, the gate's. zguard
 * holds none of the locks its query functions take while calling them, so
 * they may call those (zg_ctx_auth_stats, zg_socket_counters, ...), but
 * they must be thread-safe, and must not create or close sockets or
 * destroy the context they report on.
 */

/* Levels are syslog's, so zg_log_syslog can pass them through. */
typedef enum zg_log_level {
    ZG_LOG_ERROR = 3,
    ZG_LOG_WARNING = 4,
    ZG_LOG_NOTICE = 5,
    ZG_LOG_INFO = 6,
    ZG_LOG_DEBUG = 7
} zg_log_level_t;

typedef void(zg_log_fn)(void *arg, zg_log_level_t level, const char *line);

/* Ready-made sinks. zg_log_stderr prints "zguard: LEVEL: line"; zg_log_syslog
 * sends to syslog(3) with the level as priority (openlog is the caller's). */
ZG_EXPORT void zg_log_stderr(void *arg, zg_log_level_t level, const char *line);
ZG_EXPORT void zg_log_syslog(void *arg, zg_log_level_t level, const char *line);
ZG_EXPORT const char *zg_log_level_name(zg_log_level_t level); /* "warning" */

typedef struct zg_alert {
    const char *name;    /* "peer_unresponsive" */
    const char *socket;  /* socket name, or "" */
    int active;          /* 1 when raised, 0 when cleared */
    const char *message; /* one line for a person */
} zg_alert_t;

typedef void(zg_alert_fn)(void *arg, const zg_alert_t *alert);

/* ------------------------------------------------------------------------ */
/* Context                                                                   */

/*
 * A context owns the authenticator, monitor and metrics threads of its
 * sockets. Its functions may be called from any thread;
 * zg_ctx_destroy from one thread, after the threads using its sockets are
 * done with them: it closes the sockets zguard made that are still open
 * (with a warning), forgets hardened application sockets, stops its
 * threads and, for zg_ctx_new's own libzmq context, terminates it.
 */
typedef struct zg_ctx zg_ctx_t;

/* A zguard context with its own libzmq context. Takes a reference to the
 * policy (NULL means the built-in policy). */
ZG_EXPORT ZG_NODISCARD zg_ctx_t *zg_ctx_new(zg_policy_t *policy);
/* A zguard context over an existing libzmq context, which stays the
 * caller's: zg_ctx_destroy does not terminate it. */
ZG_EXPORT ZG_NODISCARD zg_ctx_t *zg_ctx_wrap(void *zmq_ctx, zg_policy_t *policy);
/* Closes the sockets zguard created that are still open (with a warning),
 * forgets hardened ones, terminates its own libzmq context. */
ZG_EXPORT void zg_ctx_destroy(zg_ctx_t **ctx);
ZG_EXPORT void *zg_ctx_zmq(zg_ctx_t *ctx);
ZG_EXPORT const zg_policy_t *zg_ctx_policy(const zg_ctx_t *ctx);
/* Messages at `level` or more severe go to fn. Default: nowhere. */
ZG_EXPORT void zg_ctx_set_log(zg_ctx_t *ctx, zg_log_level_t level, zg_log_fn *fn,
                    void *arg);
ZG_EXPORT void zg_ctx_set_alert(zg_ctx_t *ctx, zg_alert_fn *fn, void *arg);

/* The context's ZAP authenticator (see [auth] in docs/policy.md). It starts
 * with the first CURVE server socket; before that these return -1. */
typedef struct zg_auth_stats {
    uint64_t allowed;
    uint64_t denied_unknown;   /* key not in the allowlist */
    uint64_t denied_revoked;   /* key in the revocation list */
    uint64_t denied_expired;   /* certificate metadata "expires" passed */
    uint64_t denied_address;   /* allow_ip / deny_ip */
    uint64_t denied_mechanism; /* not CURVE: a plaintext or other client */
    uint64_t denied_malformed; /* a ZAP request that is not RFC 27 */
    uint64_t dropped;  /* messages of users who lost access, dropped */
    uint64_t reloads;  /* allowlist loads, the first included */
    uint64_t keys;     /* keys in the allowlist now */
    uint64_t denied_rate;    /* over [auth] handshake_rate_per_ip */
    uint64_t denied_lockout; /* address locked out: auth_failures_per_ip */
} zg_auth_stats_t;

/* Fills *out (size: sizeof *out, so that an older caller gets the fields
 * it knows). */
ZG_EXPORT ZG_NODISCARD int zg_ctx_auth_stats(zg_ctx_t *ctx,
                                             zg_auth_stats_t *out,
                                             size_t size);
/* Reloads the allowlist and revocation list now, and waits for it. */
ZG_EXPORT int zg_ctx_auth_reload(zg_ctx_t *ctx);
/* Serves Prometheus metrics at http://ADDR/metrics (text format 0.0.4) and
 * a JSON snapshot at /metrics.json (docs/metrics.md); ADDR is
 * "127.0.0.1:9464" or "[::1]:9464", port 0 for any free one. The policy's
 * [metrics] listen does this in zg_ctx_new. Returns the port, or -1 (one
 * endpoint per context). */
ZG_EXPORT ZG_NODISCARD int zg_ctx_metrics_listen(zg_ctx_t *ctx, const char *addr);
/* The port the metrics endpoint listens on (the one picked for port 0), or
 * -1 when the context serves none. */
ZG_EXPORT int zg_ctx_metrics_port(zg_ctx_t *ctx);

/* The passphrase for encrypted secrets the policy names (curve_keys). The
 * context takes it over and sets *pass to NULL. Without one, the context
 * asks zg_passphrase_from_env() when it first needs a secret. */
ZG_EXPORT void zg_ctx_set_passphrase(zg_ctx_t *ctx, zg_passphrase_t **pass);
/* The file a passphrase is read from again when a key is read again (a
 * gate's reload, zg_gate_reload): a rotated key may come with a new one.
 * NULL forgets it. 0, or -1 out of memory. */
ZG_EXPORT int zg_ctx_set_passphrase_file(zg_ctx_t *ctx, const char *path);

/* ------------------------------------------------------------------------ */
/* Hardened sockets                                                          */
/*
 * A hardened socket is a plain libzmq socket and keeps libzmq's rule: one
 * thread uses it at a time. zg_socket_counters and zg_socket_name may be
 * called from any thread while the socket is open, never at the same time
 * as its owner closes it. Close it with zg_close, or zmq_close after
 * zg_forget.
 */

/* A libzmq socket of `type` with the whole policy for (type, name) applied
 * and read back. name may be NULL (type defaults only); a name the policy
 * does not know, or one declared with another type, is refused. */
ZG_EXPORT ZG_NODISCARD void *zg_socket(zg_ctx_t *ctx, int type, const char *name);
/* Applies and verifies the policy on a socket made with zmq_socket() on
 * zg_ctx_zmq(ctx), before it is bound or connected. Returns 0 or -1. */
ZG_EXPORT ZG_NODISCARD int zg_harden(zg_ctx_t *ctx, void *sock, const char *name);
/* Re-read every option and compare with the policy. 0, or -1 naming the
 * first option that differs. zg_bind and zg_connect call this first. */
ZG_EXPORT ZG_NODISCARD int zg_verify(void *sock);
/* bind/connect that refuse a socket zguard did not harden, one whose options
 * changed since, and a tcp/ipc endpoint without CURVE when the policy
 * requires it. Return 0 or -1 like zmq_bind/zmq_connect. */
ZG_EXPORT ZG_NODISCARD int zg_bind(void *sock, const char *endpoint);
ZG_EXPORT ZG_NODISCARD int zg_connect(void *sock, const char *endpoint);
/* Forgets the socket and closes it; sets *sock to NULL. */
ZG_EXPORT int zg_close(void **sock);
/* Forgets a socket without closing it (for sockets the caller closes). */
ZG_EXPORT int zg_forget(void *sock);

/* A CURVE client's pinned server keys (policy curve_server_key, in order):
 * how many, and which one to use from the next connect on (failover during
 * a server key rotation). The request helper moves to the next key by
 * itself after a failed attempt. */
ZG_EXPORT int zg_socket_server_key_count(void *sock);
ZG_EXPORT int zg_socket_use_server_key(void *sock, int index);

/* The socket's name ("" when unnamed), or NULL if zguard does not know it. */
ZG_EXPORT const char *zg_socket_name(void *sock);

/* Counters of one socket. Each is read atomically; the set is not a
 * snapshot of one instant. */
typedef struct zg_counters {
    uint64_t msgs_sent;      /* complete messages (last frame sent) */
    uint64_t msgs_received;
    uint64_t bytes_sent;     /* payload bytes of every frame */
    uint64_t bytes_received;
    uint64_t hwm_reached;    /* a send found the socket mute: HWM or no peer */
    uint64_t send_timeouts;
    uint64_t recv_timeouts;
    uint64_t send_blocked_ns; /* time spent waiting in sends found mute */
    uint64_t no_route;       /* ROUTER_MANDATORY refusals */
    uint64_t interrupted;
    /* from the socket's monitor (docs/metrics.md) */
    int64_t peers;            /* connections whose handshake succeeded */
    uint64_t handshakes_ok;
    uint64_t handshakes_failed[5]; /* auth, crypto, mechanism, protocol,
                                      timeout */
    uint64_t accept_failures;
    double mute_ratio;        /* share of the alert window spent mute */
    int64_t queue_out, queue_in; /* fullest peer pipe; -1: not known (exact
                                    mode needs libzmq's draft API) */
    unsigned alerts;          /* bit per raised alert, ZG_ALERT_BIT_* */
    /* connections closed as soon as accepted: over max_peers, or over
     * max_peers_per_ip from one address */
    uint64_t refused_max_peers, refused_per_ip;
} zg_counters_t;

#define ZG_ALERT_BIT_MUTE 1u
#define ZG_ALERT_BIT_HWM 2u
#define ZG_ALERT_BIT_TIMEOUTS 4u
#define ZG_ALERT_BIT_AUTH 8u
#define ZG_ALERT_BIT_NO_PEERS 16u

/* Fills *out (size: sizeof *out, so that an older caller gets the fields
 * it knows). */
ZG_EXPORT ZG_NODISCARD int zg_socket_counters(void *sock, zg_counters_t *out,
                                              size_t size);
/* Owning thread: asks libzmq for this socket's pipe depths now (they reach
 * queue_out/queue_in within a quarter second). zguard also does this every
 * 256 messages and whenever a send finds the socket mute. -1 with ENOTSUP
 * when the loaded libzmq lacks the draft API. */
ZG_EXPORT int zg_socket_sample(void *sock);

/* ------------------------------------------------------------------------ */
/* Send and receive with the policy's timeouts, failures classified          */
/*
 * flags are libzmq's: ZMQ_SNDMORE for all but the last frame, ZMQ_DONTWAIT
 * to never block. Without ZMQ_DONTWAIT a send waits at most SNDTIMEO and a
 * receive at most RCVTIMEO, as the policy set them.
 */

ZG_EXPORT zg_status_t zg_send(void *sock, const void *buf, size_t len, int flags);
/* Receives one frame into buf; *len gets the frame's full size. A frame
 * longer than cap is cut to cap and ZG_ETRUNCATED returned. */
ZG_EXPORT zg_status_t zg_recv(void *sock, void *buf, size_t cap, size_t *len, int flags);
/* Zero-copy: on ZG_OK the message was handed to libzmq and msg is empty. */
ZG_EXPORT zg_status_t zg_msg_send(void *sock, zmq_msg_t *msg, int flags);
/* msg must be initialised; zmq_msg_more(msg) tells if frames follow. */
ZG_EXPORT zg_status_t zg_msg_recv(void *sock, zmq_msg_t *msg, int flags);

/* ------------------------------------------------------------------------ */
/* Reliable request (the Lazy Pirate pattern)                                */
/*
 * A REQ client that sends a request, waits RCVTIMEO for the reply, and on
 * timeout closes its socket with LINGER 0 (dropping the stale request),
 * opens a fresh one and tries again, `retries` times (policy field
 * "retries"). It never leaves a REQ wedged in EFSM. When every attempt
 * failed it returns ZG_EUNREACHABLE and raises the "peer_unresponsive"
 * alert, cleared by the next reply.
 */

typedef struct zg_client zg_client_t;

/* Called on every new socket before it connects, e.g. to set CURVE keys.
 * Return 0, or -1 to abandon the attempt. */
typedef int(zg_client_setup_fn)(void *arg, void *sock);

/* name: a REQ socket in the policy, or NULL for the REQ defaults.
 * endpoint: one endpoint, or during a server key rotation one per pinned
 * server key (policy curve_server_key), comma-separated, in the same order:
 * after a failed attempt the helper moves to the next endpoint and key. */
ZG_EXPORT ZG_NODISCARD zg_client_t *zg_client_new(zg_ctx_t *ctx, const char *name,
                           const char *endpoint);
ZG_EXPORT void zg_client_destroy(zg_client_t **client);
ZG_EXPORT void zg_client_set_setup(zg_client_t *client, zg_client_setup_fn *fn,
                         void *arg);
/* Sends one frame, receives one frame into reply (initialised by the
 * caller). Attempts = 1 + the policy's retries. */
ZG_EXPORT zg_status_t zg_client_request(zg_client_t *client, const void *req,
                              size_t len, zmq_msg_t *reply);
/* Attempts made by the last request (1 when the first one succeeded). */
ZG_EXPORT int zg_client_attempts(const zg_client_t *client);

/* ------------------------------------------------------------------------ */
/* Gate: a CURVE-terminating gateway in front of an unchanged service        */
/*
 * The policy's [gate] section names a pattern and two endpoints
 * (docs/gate.md). The gate's sockets are the policy's [socket.frontend]
 * (bound to the public endpoint, with the whole policy: CURVE server key,
 * ZAP allowlist, HWM, timeouts, MAXMSGSIZE, handshake limit, heartbeats)
 * and [socket.backend] (connected to the service: ipc, loopback, or CURVE).
 * In client mode (`mode = client`) the frontend is plaintext and local, for
 * unchanged clients, and the backend a CURVE client of one or more remote
 * servers. With [metrics] listen, the metrics server answers /status.
 *
 *   reqrep    ROUTER frontend, DEALER backend: requests in, replies out
 *   pubsub    XPUB frontend, XSUB backend: the service's messages out to
 *             subscribers, their subscriptions in to the service
 *   pipeline  PULL frontend, PUSH backend: messages in to the service
 *
 * The gate never blocks on one peer: while the backend is mute at its HWM
 * it stops reading the frontend (back-pressure reaches the senders through
 * their own HWM and TCP); a reply for a client that is gone or not reading
 * is dropped and counted (stats.dropped). A publication for a subscriber at
 * its SNDHWM is dropped by XPUB itself, uncounted: libzmq does not say.
 */

typedef enum zg_gate_pattern {
    ZG_GATE_REQREP = 1,
    ZG_GATE_PUBSUB,
    ZG_GATE_PIPELINE
} zg_gate_pattern_t;

typedef struct zg_gate zg_gate_t;

typedef struct zg_gate_stats {
    uint64_t to_backend;     /* messages forwarded frontend -> backend */
    uint64_t to_frontend;    /* messages forwarded backend -> frontend */
    uint64_t dropped;        /* to clients gone or not reading (HWM) */
    uint64_t backend_mute;   /* times the backend was found mute at its HWM */
    uint64_t outstanding;    /* reqrep: requests forwarded, not yet answered */
} zg_gate_stats_t;

/* "reqrep", "pubsub", "pipeline"; NULL for anything else. */
ZG_EXPORT const char *zg_gate_pattern_name(zg_gate_pattern_t pattern);
/* Makes, hardens, binds and connects the gate's sockets, as the context's
 * policy's [gate] says. NULL with zg_last_error() naming the file, line
 * and key, the key file, or the endpoint at fault. */
ZG_EXPORT ZG_NODISCARD zg_gate_t *zg_gate_new(zg_ctx_t *ctx);
/* Forwards until zg_gate_stop(), then stops reading the frontend, delivers
 * what it already took (bounded by the backend's LINGER) and, for reqrep,
 * forwards the replies still due within the same bound. Call from the
 * thread that made the gate, or one it handed the gate to. 0, or -1 on a
 * libzmq failure. */
ZG_EXPORT int zg_gate_run(zg_gate_t *gate);
/* Asks zg_gate_run to finish. Any thread; async-signal-safe (one write()). */
ZG_EXPORT void zg_gate_stop(zg_gate_t *gate);
/* Asks zg_gate_run to reload, between two messages: the allowlist and
 * revocation list (ingress), and the gate's own key pair, whose new key
 * takes every new connection while open sessions keep the old one. A
 * reload that fails keeps what was in use and logs why. Any thread;
 * async-signal-safe (one write()). */
ZG_EXPORT void zg_gate_reload(zg_gate_t *gate);
/* Counters; any thread. size: sizeof *out. */
ZG_EXPORT ZG_NODISCARD int zg_gate_stats(zg_gate_t *gate, zg_gate_stats_t *out,
                                         size_t size);
ZG_EXPORT void *zg_gate_frontend(zg_gate_t *gate);
ZG_EXPORT void *zg_gate_backend(zg_gate_t *gate);
/* Closes the sockets (after zg_gate_run returned, or instead of it). */
ZG_EXPORT void zg_gate_destroy(zg_gate_t **gate);
/* The [gate] section's values: "pattern", "frontend", "backend", "mode",
 * "backend_grace" (as "<n>ms"); NULL when not set. line (may be NULL) gets the line number. */
ZG_EXPORT const char *zg_policy_gate(const zg_policy_t *policy, const char *key,
                           unsigned *line);

#ifdef __cplusplus
}
#endif

#endif /* ZGUARD_H */
