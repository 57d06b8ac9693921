/*
 * rules.c - the audit's constant tables: rules and their severities, socket
 * types and what each can do, socket options and when they take effect.
 *
 * Facts from libzmq's documentation (zmq_socket(3), zmq_setsockopt(3)):
 * SNDTIMEO, RCVTIMEO, LINGER, SUBSCRIBE/UNSUBSCRIBE and ROUTER_MANDATORY
 * act at once on a bound or connected socket; HWMs, MAXMSGSIZE and the
 * security options are copied into each connection when it is made, so
 * setting them after bind/connect leaves existing connections without them.
 */
#include "audit.h"

#include <ctype.h>
#include <strings.h>
#include <string.h>

static const au_rule_info_t rules[AU_R_COUNT] = {
    [AU_R_SECRET_HARDCODED] = {"curve-secret-hardcoded", AU_SEV_CRITICAL,
        "hard-coded CURVE secret key",
        "A CURVE secret key written in the source is readable by anyone with "
        "the code, its history or the binary. Load it from a key file "
        "(zguard keygen, zcert_load, zmq.auth.load_certificate)."},
    [AU_R_HWM_UNBOUNDED] = {"hwm-unbounded", AU_SEV_HIGH,
        "unbounded queue (HWM 0)",
        "An HWM of 0 lets a slow or malicious peer grow the queue until "
        "memory runs out. Set a bound that load tests justify."},
    [AU_R_TCP_BIND_ALL] = {"tcp-bind-all-interfaces", AU_SEV_HIGH,
        "tcp bind on all interfaces without CURVE",
        "The socket accepts plaintext, unauthenticated connections from "
        "every network the host is on. Use CURVE, or bind one interface."},
    [AU_R_PICKLE_UNAUTH] = {"pickle-unauthenticated", AU_SEV_HIGH,
        "recv_pyobj on a socket without authentication",
        "recv_pyobj unpickles what the peer sent: any peer that can connect "
        "can run code in this process. Authenticate peers with CURVE, or "
        "receive JSON."},
    [AU_R_BLOCKING_NO_TIMEOUT] = {"blocking-without-timeout", AU_SEV_MEDIUM,
        "blocking send or receive without a timeout",
        "Without SNDTIMEO/RCVTIMEO a send to a mute peer or a receive from a "
        "silent one waits forever. Set the timeout, or pass DONTWAIT."},
    [AU_R_CURVE_MISSING] = {"curve-missing", AU_SEV_MEDIUM,
        "endpoint outside the process without CURVE",
        "Traffic on tcp/ipc endpoints can be read and changed on the way. "
        "Configure CURVE (server: CURVE_SERVER and its key pair; client: the "
        "server's public key and its own pair)."},
    [AU_R_CURVE_NO_AUTH] = {"curve-server-without-authentication", AU_SEV_MEDIUM,
        "CURVE server without an authenticator",
        "Without a ZAP handler a CURVE server accepts every client that knows "
        "its public key. Start an authenticator (zauth, ThreadAuthenticator, "
        "zguard's [auth]). Judged over all the files audited together."},
    [AU_R_AUTH_GUARDS_NOTHING] = {"authenticator-guards-nothing", AU_SEV_HIGH,
        "authenticator with address rules, but no socket it is consulted for",
        "libzmq asks the ZAP handler only about connections to a socket with a "
        "ZAP domain (ZAP_DOMAIN) or a security mechanism (CURVE, PLAIN): an "
        "allowlist or denylist (zauth ALLOW/DENY, Authenticator.allow/deny) "
        "of an application whose sockets use neither lets every address in. "
        "Set a ZAP domain on the sockets it should guard, or use CURVE."},
    [AU_R_AUTH_STARTED_LATE] = {"authenticator-started-late", AU_SEV_MEDIUM,
        "authenticator started after the CURVE server binds",
        "Until the ZAP handler is bound, libzmq lets CURVE clients in without "
        "asking it: clients that connect between the bind and the start of the "
        "authenticator are never checked. Start the authenticator (and wait "
        "for it) before binding."},
    [AU_R_OPTION_AFTER_ATTACH] = {"option-after-bind", AU_SEV_MEDIUM,
        "option set after bind/connect",
        "HWMs, MAXMSGSIZE and the security options are copied into a "
        "connection when it is made: set after bind/connect they do not "
        "apply to it. Set them first."},
    [AU_R_POLICY_VIOLATION] = {"policy-violation", AU_SEV_MEDIUM,
        "value weaker than the policy",
        "The value set in the code is above the bound the zguard policy "
        "gives this socket type (or name)."},
    [AU_R_POLICY_UNKNOWN_SOCKET] = {"policy-unknown-socket", AU_SEV_MEDIUM,
        "zguard socket name not in the policy",
        "zg_socket/zg_harden refuse a name the policy does not declare with "
        "this type: the call fails at run time."},
    [AU_R_HWM_NOT_SET] = {"hwm-not-set", AU_SEV_LOW,
        "HWM not set",
        "libzmq's default (1000 messages) applies; the analysis asks for a "
        "value chosen from the expected load on every socket."},
    [AU_R_TIMEOUT_NOT_SET] = {"timeout-not-set", AU_SEV_LOW,
        "SNDTIMEO/RCVTIMEO not set",
        "libzmq's default is to wait forever (-1)."},
    [AU_R_MAXMSGSIZE_NOT_SET] = {"maxmsgsize-not-set", AU_SEV_LOW,
        "MAXMSGSIZE not set on a receiving socket",
        "libzmq's default is unlimited (-1): a peer can make this process "
        "buffer a message of any size."},
    [AU_R_LINGER_NOT_SET] = {"linger-not-set", AU_SEV_LOW,
        "LINGER not set",
        "libzmq's default LINGER is -1: closing the context waits forever for "
        "unsent messages."},
    [AU_R_SUPPRESSION_NO_REASON] = {"suppression-without-reason", AU_SEV_MEDIUM,
        "suppression without a reason",
        "Write `zguard-audit: ignore RULE -- why`; without a reason the "
        "suppression is not applied."},
    [AU_R_SUPPRESSION_UNKNOWN_RULE] = {"suppression-unknown-rule", AU_SEV_MEDIUM,
        "suppression names an unknown rule",
        "The rule ids are listed by `zguard audit --help` and docs/audit.md."},
    [AU_R_SUPPRESSION_UNUSED] = {"suppression-unused", AU_SEV_LOW,
        "suppression that suppresses nothing",
        "No finding of that rule on this line or the next: remove it."},
};

const au_rule_info_t *au_rule_info(au_rule_t rule)
{
    return (unsigned)rule < AU_R_COUNT ? &rules[rule] : NULL;
}

int au_rule_from_id(const char *id, size_t len)
{
    for (int i = 0; i < AU_R_COUNT; i++)
        if (strlen(rules[i].id) == len && strncmp(rules[i].id, id, len) == 0)
            return i;
    return -1;
}

static const char *const sev_names[] = {NULL, "low", "medium", "high", "critical"};

const char *au_sev_name(au_sev_t sev)
{
    return sev >= AU_SEV_LOW && sev <= AU_SEV_CRITICAL ? sev_names[sev] : "?";
}

int au_sev_from_name(const char *name)
{
    for (int i = AU_SEV_LOW; i <= AU_SEV_CRITICAL; i++)
        if (strcmp(sev_names[i], name) == 0)
            return i;
    return -1;
}

/* ---- socket types ----------------------------------------------------------- */

typedef struct type_info {
    const char *name;
    int number;      /* libzmq's ZMQ_* value */
    int send, recv;  /* what the type can do */
    int drops;       /* a send when mute drops instead of blocking */
} type_info_t;

static const type_info_t types[] = {
    {"PAIR", 0, 1, 1, 0},    {"PUB", 1, 1, 0, 1},     {"SUB", 2, 0, 1, 0},
    {"REQ", 3, 1, 1, 0},     {"REP", 4, 1, 1, 1},     {"DEALER", 5, 1, 1, 0},
    {"ROUTER", 6, 1, 1, 1},  {"PULL", 7, 0, 1, 0},    {"PUSH", 8, 1, 0, 0},
    {"XPUB", 9, 1, 1, 1},    {"XSUB", 10, 1, 1, 0},   {"STREAM", 11, 1, 1, 0},
    {"SERVER", 12, 1, 1, 1}, {"CLIENT", 13, 1, 1, 0}, {"RADIO", 14, 1, 0, 1},
    {"DISH", 15, 0, 1, 0},   {"GATHER", 16, 0, 1, 0}, {"SCATTER", 17, 1, 0, 0},
    {"DGRAM", 18, 1, 1, 1},  {"PEER", 19, 1, 1, 1},   {"CHANNEL", 20, 1, 1, 0},
};
#define NTYPES (sizeof types / sizeof types[0])

/* Names libzmq kept for compatibility. */
static const struct {
    const char *name;
    int number;
} type_aliases[] = {{"XREQ", 5}, {"XREP", 6}, {"UPSTREAM", 7}, {"DOWNSTREAM", 8}};

static const type_info_t *type_get(int type)
{
    for (size_t i = 0; i < NTYPES; i++)
        if (types[i].number == type)
            return &types[i];
    return NULL;
}

static int name_eq(const char *want, const char *s, size_t len)
{
    return strlen(want) == len && strncasecmp(want, s, len) == 0;
}

int au_type_from_name(const char *name, size_t len)
{
    if (len > 4 && strncasecmp(name, "ZMQ_", 4) == 0) {
        name += 4;
        len -= 4;
    }
    for (size_t i = 0; i < NTYPES; i++)
        if (name_eq(types[i].name, name, len))
            return types[i].number;
    for (size_t i = 0; i < sizeof type_aliases / sizeof type_aliases[0]; i++)
        if (name_eq(type_aliases[i].name, name, len))
            return type_aliases[i].number;
    return -1;
}

const char *au_type_name(int type)
{
    const type_info_t *t = type_get(type);
    return t ? t->name : "?";
}

/* An unknown type is assumed able to do everything, so nothing is missed. */
int au_type_can_send(int type)
{
    const type_info_t *t = type_get(type);
    return t ? t->send : 1;
}

int au_type_can_recv(int type)
{
    const type_info_t *t = type_get(type);
    return t ? t->recv : 1;
}

int au_type_send_drops(int type)
{
    const type_info_t *t = type_get(type);
    return t ? t->drops : 0;
}

/* ---- socket options ------------------------------------------------------------ */

static const au_opt_info_t options[] = {
    {"SNDHWM", AU_OK_SNDHWM, 0},
    {"RCVHWM", AU_OK_RCVHWM, 0},
    {"HWM", AU_OK_HWM, 0},
    {"SNDTIMEO", AU_OK_SNDTIMEO, 1},
    {"RCVTIMEO", AU_OK_RCVTIMEO, 1},
    {"MAXMSGSIZE", AU_OK_MAXMSGSIZE, 0},
    {"LINGER", AU_OK_LINGER, 1},
    {"CURVE_SERVER", AU_OK_CURVE_SERVER, 0},
    {"CURVE_PUBLICKEY", AU_OK_CURVE_PUBLICKEY, 0},
    {"CURVE_SECRETKEY", AU_OK_CURVE_SECRETKEY, 0},
    {"CURVE_SERVERKEY", AU_OK_CURVE_SERVERKEY, 0},
    {"ZAP_DOMAIN", AU_OK_ZAP_DOMAIN, 0},
    {"PLAIN_SERVER", AU_OK_PLAIN, 0},
    {"PLAIN_USERNAME", AU_OK_PLAIN, 0},
    {"PLAIN_PASSWORD", AU_OK_PLAIN, 0},
    {"ROUTER_MANDATORY", AU_OK_ROUTER_MANDATORY, 1},
    {"UNBOUNDED", AU_OK_UNBOUNDED, 0},
    {"SUBSCRIBE", AU_OK_OTHER, 1},
    {"UNSUBSCRIBE", AU_OK_OTHER, 1},
    {"CONFLATE", AU_OK_OTHER, 0},
};

void au_opt_lookup(const char *name, size_t len, au_opt_info_t *out)
{
    if (len > 4 && strncasecmp(name, "ZMQ_", 4) == 0) {
        name += 4;
        len -= 4;
    }
    for (size_t i = 0; i < sizeof options / sizeof options[0]; i++)
        if (name_eq(options[i].name, name, len)) {
            *out = options[i];
            return;
        }
    /* keep the name of an option the audit does not judge, for reports */
    static const char other[] = "OTHER";
    *out = (au_opt_info_t){other, AU_OK_OTHER, 0};
}

/* ---- names for reports ------------------------------------------------------------ */

static const char *const api_names[AU_API_COUNT] = {"libzmq", "czmq", "cppzmq",
                                                    "pyzmq", "zguard"};

const char *au_api_name(au_api_t api)
{
    return (unsigned)api < AU_API_COUNT ? api_names[api] : "?";
}

static const char *const mit_keys[AU_M_COUNT] = {
    "sndhwm", "rcvhwm", "sndtimeo", "rcvtimeo", "maxmsgsize", "linger",
    "curve", "authentication"};

const char *au_mit_key(au_mit_t m)
{
    return (unsigned)m < AU_M_COUNT ? mit_keys[m] : "?";
}

const char *au_status_name(au_status_t st)
{
    static const char *const names[] = {"not_set", "set", "weak", "ineffective",
                                        "unknown", "not_needed"};
    return (unsigned)st < sizeof names / sizeof names[0] ? names[st] : "?";
}

const char *au_source_name(au_source_t src)
{
    static const char *const names[] = {"none", "socket", "context", "process",
                                        "library", "policy"};
    return (unsigned)src < sizeof names / sizeof names[0] ? names[src] : "?";
}
