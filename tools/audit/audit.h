/*
 * audit.h - what the files of `zguard audit` share.
 *
 * The audit reads C, C++ and Python source with tree-sitter, records every
 * ZeroMQ-related event it recognises (a socket made, an option set, a bind,
 * a blocking receive...) in source order, then resolves the events to
 * sockets and judges each socket against the mitigations of the security
 * analysis, file by file. Then, over all the files of a run (from
 * au_result_finish): sends, receives and options through helpers, sockets
 * helpers make for their callers and C++ members bound to a constructor's
 * socket (helpers.c, au_helpers_tree), and authenticators
 * (au_findings_tree).
 *
 * Layers, each its own file:
 *   rules.c      constant tables: rules, severities, socket types, options
 *   lang.c       languages, grammars, the ABI check, one parser each
 *   ast.c        syntax-node helpers: text, strings, integers, constants
 *   scan.c       files and directories, the tree walk, dispatch
 *   rec_*.c      recognisers, one per API family, turning calls into events
 *   model.c      sockets from events, and each mitigation's state
 *   findings.c   the rules run over sockets and events
 *   policy.c     values checked against a zguard policy (--policy)
 *   suppress.c   inline `zguard-audit: ignore RULE -- reason` comments
 *   helpers.c    sockets, options, sends and receives through functions,
 *                across files
 *   exclude.c    --exclude globs and .zguard-audit-ignore
 *   fingerprint.c  stable finding fingerprints (not line numbers)
 *   baseline.c   --baseline: findings of an earlier JSON report left out
 *   report_*.c   text (and the one-line form), markdown, JSON, SARIF
 */
#ifndef ZG_AUDIT_H
#define ZG_AUDIT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <tree_sitter/api.h>
#include <zguard.h>

#include "cli_json.h"
#include "cli_text.h"

#define AU_FORMAT_VERSION 1     /* "audit_format" in the JSON report */
#define AU_NAME_MAX 64          /* variables, option names, socket names */
#define AU_TEXT_MAX 160         /* endpoints, values as written */
#define AU_FILE_MAX_BYTES (16u << 20) /* larger files are skipped, and said so */
#define AU_PARSE_TIMEOUT_US (20u * 1000 * 1000)
#define AU_IGNORE_FILE ".zguard-audit-ignore" /* at an audited directory's root */
#define AU_FP_BYTES 16          /* a finding's fingerprint: BLAKE2b-128 */

/* ---- languages ------------------------------------------------------------ */

typedef enum au_lang { AU_LANG_C = 0, AU_LANG_CPP, AU_LANG_PYTHON, AU_LANG_COUNT } au_lang_t;

const char *au_lang_name(au_lang_t lang); /* "c", "c++", "python" */
/* The language of a file name, or -1 when the audit does not read it.
 * Headers (.h) are C++ when the text uses `::`, C otherwise. */
int au_lang_of(const char *path, const char *text, size_t len);

typedef struct au_parsers au_parsers_t;
/* One parser per language, each grammar's ABI checked against the
 * libtree-sitter it runs on. NULL with a reason in err. */
au_parsers_t *au_parsers_new(char *err, size_t cap);
void au_parsers_destroy(au_parsers_t **p);
TSTree *au_parse(au_parsers_t *p, au_lang_t lang, const char *text, uint32_t len);
/* "c 14, c++ 14, python 14 (libtree-sitter accepts 13-14)" */
void au_grammar_versions(char *buf, size_t cap);

/* ---- severities and rules ------------------------------------------------- */

typedef enum au_sev { AU_SEV_LOW = 1, AU_SEV_MEDIUM, AU_SEV_HIGH, AU_SEV_CRITICAL } au_sev_t;

const char *au_sev_name(au_sev_t sev);
int au_sev_from_name(const char *name); /* -1 if unknown */

typedef enum au_rule {
    AU_R_SECRET_HARDCODED = 0,
    AU_R_HWM_UNBOUNDED,
    AU_R_TCP_BIND_ALL,
    AU_R_PICKLE_UNAUTH,
    AU_R_BLOCKING_NO_TIMEOUT,
    AU_R_CURVE_MISSING,
    AU_R_CURVE_NO_AUTH,
    AU_R_AUTH_GUARDS_NOTHING,
    AU_R_AUTH_STARTED_LATE,
    AU_R_OPTION_AFTER_ATTACH,
    AU_R_POLICY_VIOLATION,
    AU_R_POLICY_UNKNOWN_SOCKET,
    AU_R_HWM_NOT_SET,
    AU_R_TIMEOUT_NOT_SET,
    AU_R_MAXMSGSIZE_NOT_SET,
    AU_R_LINGER_NOT_SET,
    AU_R_SUPPRESSION_NO_REASON,
    AU_R_SUPPRESSION_UNKNOWN_RULE,
    AU_R_SUPPRESSION_UNUSED,
    AU_R_COUNT
} au_rule_t;

typedef struct au_rule_info {
    const char *id;          /* "curve-secret-hardcoded" */
    au_sev_t severity;
    const char *title;       /* one line */
    const char *help;        /* why it matters, what to do */
} au_rule_info_t;

const au_rule_info_t *au_rule_info(au_rule_t rule);
int au_rule_from_id(const char *id, size_t len); /* -1 if unknown */

/* ---- socket types and options --------------------------------------------- */

/* Socket types by libzmq's own numbers (ZMQ_PAIR 0 ... ZMQ_STREAM 11, then
 * the draft types); -1 when the audit could not tell. */
int au_type_from_name(const char *name, size_t len); /* "PUSH", "push", "XREP" */
const char *au_type_name(int type);                  /* "PUSH", or "?" */
int au_type_can_send(int type);
int au_type_can_recv(int type);
/* Types whose send drops rather than blocks when mute (PUB, XPUB, RADIO,
 * ROUTER and REP without ROUTER_MANDATORY). */
int au_type_send_drops(int type);

/* What the audit knows of one socket option. */
typedef enum au_opt_kind {
    AU_OK_OTHER = 0,
    AU_OK_SNDHWM, AU_OK_RCVHWM, AU_OK_HWM, /* HWM: libzmq 2.x's, and pyzmq's both */
    AU_OK_SNDTIMEO, AU_OK_RCVTIMEO, AU_OK_MAXMSGSIZE, AU_OK_LINGER,
    AU_OK_CURVE_SERVER, AU_OK_CURVE_PUBLICKEY, AU_OK_CURVE_SECRETKEY,
    AU_OK_CURVE_SERVERKEY, AU_OK_ZAP_DOMAIN, AU_OK_PLAIN, AU_OK_ROUTER_MANDATORY,
    AU_OK_UNBOUNDED          /* CZMQ's zsock_set_unbounded: both HWMs 0 */
} au_opt_kind_t;

typedef struct au_opt_info {
    const char *name;        /* upper case, no ZMQ_ prefix: "SNDHWM" */
    au_opt_kind_t kind;
    int immediate;           /* takes effect on a bound/connected socket */
} au_opt_info_t;

/* Known options by name, case-insensitive, "ZMQ_" prefix optional. Unknown
 * names give a record of kind AU_OK_OTHER that is not immediate. */
void au_opt_lookup(const char *name, size_t len, au_opt_info_t *out);

/* ---- events: what the recognisers saw, in source order -------------------- */

typedef enum au_api {
    AU_API_LIBZMQ = 0, AU_API_CZMQ, AU_API_CPPZMQ, AU_API_PYZMQ, AU_API_ZGUARD, AU_API_COUNT
} au_api_t;

const char *au_api_name(au_api_t api); /* "libzmq", "czmq", ... */

typedef enum au_ev_kind {
    AU_EV_SOCKET = 0,  /* a socket made: var, type, api, ctx, zname */
    AU_EV_CONTEXT,     /* a pyzmq context made: var */
    AU_EV_OPTION,      /* an option set on socket var */
    AU_EV_CTX_OPTION,  /* a default set on context var (pyzmq) */
    AU_EV_PROC_OPTION, /* a process default (zsys_set_*, ZSYS_* environment) */
    AU_EV_ATTACH,      /* bind or connect of socket var */
    AU_EV_IO,          /* send or receive on socket var */
    AU_EV_HARDEN,      /* zg_harden(ctx, var, name) */
    AU_EV_AUTHENTICATOR, /* a ZAP handler or authenticator in this file: var;
                          * where it starts (pyzmq: .start()) */
    AU_EV_AUTH_RULE,   /* an address rule (ALLOW/DENY) given to authenticator var */
    AU_EV_TASK,        /* a thread or task started: var is its function's name */
    AU_EV_SECRET,      /* a hard-coded secret key reaching a certificate call */
    AU_EV_MEMBER_INIT  /* C++ `: sock_(s)`: member var initialised from variable call */
} au_ev_kind_t;

typedef struct au_value {
    int known;                /* value holds the integer */
    int64_t value;
    int secret_literal;       /* a Z85 or 32-byte literal (keys) */
    char text[AU_TEXT_MAX];   /* as written, whitespace squeezed */
} au_value_t;

typedef struct au_event {
    au_ev_kind_t kind;
    au_api_t api;
    unsigned line, col;       /* 1-based */
    uint32_t pos;             /* byte offset: order within a scope */
    uint32_t scope;           /* enclosing function's start + 1; 0 = file */
    char var[AU_NAME_MAX];    /* socket or context, as written, squeezed */
    char call[AU_NAME_MAX];   /* the function or method: "zmq_recv" */
    /* AU_EV_SOCKET */
    int type;
    char ctx[AU_NAME_MAX];    /* the context it came from (pyzmq defaults) */
    char zname[AU_NAME_MAX];  /* zg_socket/zg_harden name, "" when none */
    int zname_known;
    int member;               /* made in a C++ member initialiser */
    /* AU_EV_OPTION, AU_EV_CTX_OPTION, AU_EV_PROC_OPTION */
    au_opt_info_t opt;
    int opt_variable;         /* the option is a variable: could be any */
    au_value_t val;
    /* set by a helper on the caller's socket (the event is at the call):
     * the helper called, and where the option is set (0: the call itself) */
    char setter[AU_NAME_MAX];
    size_t setter_file;
    unsigned setter_line;
    /* AU_EV_ATTACH (also AU_EV_SOCKET for CZMQ endpoints) */
    int bind;
    int endpoint_known;       /* endpoint holds at least the literal prefix */
    int endpoint_partial;     /* ... and only that prefix (an f-string, "a" + x, "a%d" % x) */
    char endpoint[AU_TEXT_MAX];
    /* AU_EV_IO */
    int send;
    int nonblocking;          /* DONTWAIT/NOBLOCK, or guarded by a poll */
    int pickle;               /* pyzmq recv_pyobj */
} au_event_t;

/* ---- one file being read --------------------------------------------------- */

/* A named constant the file defines: `int hwm = 1000;`, `#define HWM 1000`,
 * `HWM = 1000`, `static const char sk[] = "..."`. */
typedef struct au_const {
    char name[AU_NAME_MAX];
    uint32_t scope, pos;
    au_value_t val;
    int is_string;
    int partial;              /* only a prefix is known (snprintf formats) */
} au_const_t;

typedef struct au_supp {
    unsigned line, end_line, col;
    unsigned char ctx[AU_FP_BYTES]; /* fingerprint context of its line */
    char rules[AU_TEXT_MAX];  /* as written: "hwm-not-set,linger-not-set" */
    char reason[AU_TEXT_MAX];
    int has_reason;
    int used;
} au_supp_t;

/* A function or class of the file, for a finding's fingerprint: the
 * innermost one around it. Rows are 0-based, inclusive. */
typedef struct au_span {
    uint32_t first_row, last_row;
    uint32_t scope;           /* a function's scope (au_event_t.scope), 0 a class */
    int is_class;
    char name[AU_NAME_MAX];   /* "Worker::run", "serve", "Broker" */
} au_span_t;

/* A function with parameters (helpers.c). */
#define AU_MAX_PARAMS 8
typedef struct au_func {
    uint32_t scope;
    TSNode node;              /* read only when a call or a send needs it */
    int read;                 /* name and params filled in from node */
    char name[AU_NAME_MAX];   /* the last part: "s_recv", "recv_msg" */
    char params[AU_MAX_PARAMS][AU_NAME_MAX]; /* Python: after self/cls */
    int nparams;
} au_func_t;

/* A call of a function the audit does not know, kept for the whole run:
 * it may be a helper that another file defines. */
typedef struct au_callsite {
    size_t file, first_socket, nsockets; /* the file's sockets */
    uint32_t scope, pos;
    unsigned line, col;
    int guarded;              /* under a poll */
    char name[AU_NAME_MAX];   /* the callee */
    char func[AU_NAME_MAX];   /* the function it is in, "" at file level */
    int nargs;
    char args[AU_MAX_PARAMS][AU_NAME_MAX]; /* plain variables, "" otherwise */
    char assign[AU_NAME_MAX]; /* the variable its value is assigned to, or "" */
    int type;                 /* a socket type among its arguments (ZMQ_REP), or -1 */
    int returned;             /* its function returns its value (a chain of factories) */
    int param[AU_MAX_PARAMS]; /* args[k] is parameter param[k] of func, or -1 */
    unsigned char ctx[AU_FP_BYTES]; /* fingerprint context of its line */
} au_callsite_t;

/* What a helper does with its caller's socket. */
typedef enum au_helper_kind {
    AU_HK_IO = 0,             /* sends or receives on its parameter param */
    AU_HK_OPTION,             /* sets option opt on its parameter param */
    AU_HK_FACTORY,            /* makes a socket and returns it */
    AU_HK_MEMBER              /* a C++ constructor: its member is its parameter param */
} au_helper_kind_t;

typedef struct au_helper {
    au_helper_kind_t kind;
    au_lang_t lang;
    char name[AU_NAME_MAX];
    int param;                /* AU_HK_FACTORY: -1 */
    int send;
    int nonblocking;          /* every way it sends/receives: DONTWAIT or polled */
    char via[AU_NAME_MAX];    /* the API call at the end: "zmq_recv" */
    au_event_t opt;           /* AU_HK_OPTION: the option event, as in the helper;
                               * AU_HK_MEMBER: the member's initialiser */
    long socket;              /* AU_HK_FACTORY: the socket it makes (r->sockets) */
    size_t file;              /* AU_HK_MEMBER: the constructor's file */
} au_helper_t;

/* An event of a file that named no socket of it: it may name a socket
 * that a helper of another file made (au_helpers_tree). */
typedef struct au_pending {
    size_t file;
    au_event_t ev;
    unsigned char ctx[AU_FP_BYTES]; /* fingerprint context of its line */
    int applied;              /* to a socket a helper made */
} au_pending_t;

/* `return s;` or `return zmq_socket(...);` in function scope. */
typedef struct au_ret {
    uint32_t scope, pos;      /* pos: the returned expression's start */
    char var[AU_NAME_MAX];    /* "" when it is no plain variable */
} au_ret_t;

typedef struct au_file {
    const char *path;
    au_lang_t lang;
    const char *src;
    uint32_t len;
    au_event_t *ev;
    size_t nev, cap_ev;
    au_const_t *consts;
    size_t nconsts, cap_consts;
    au_supp_t *supp;
    size_t nsupp, cap_supp;
    au_span_t *spans;
    size_t nspans, cap_spans;
    au_func_t *funcs;
    size_t nfuncs, cap_funcs;
    au_callsite_t *calls;
    size_t ncalls, cap_calls;
    au_ret_t *rets;
    size_t nrets, cap_rets;
    uint32_t scope;           /* while walking: the innermost function */
    int guarded;              /* while walking: inside a poll-guarded if/while */
} au_file_t;

/* A call as the recognisers see it. */
#define AU_MAX_ARGS 8
typedef struct au_call {
    TSNode node;
    char name[AU_NAME_MAX];   /* simple name: "zmq_socket", "setsockopt" */
    int method;               /* obj.name(...) / obj->name(...) */
    TSNode object;            /* the object of a method call */
    char qual[AU_NAME_MAX];   /* C++ qualifier or Python module: "zmq" */
    TSNode args[AU_MAX_ARGS];
    int nargs;                /* positional arguments */
    TSNode kwargs[AU_MAX_ARGS]; /* Python keyword arguments */
    int nkwargs;
} au_call_t;

/* arr with room for element n (cap doubled when full), or NULL when memory
 * ran out (arr is then unchanged and still owned by the caller). */
void *au_grow(void *arr, size_t *cap, size_t n, size_t elem);

/* Appends a zeroed event at node, in the file's current scope. NULL when
 * out of memory (the event is then lost, never the process). */
au_event_t *au_emit(au_file_t *f, au_ev_kind_t kind, au_api_t api, TSNode at);
int au_add_const(au_file_t *f, const au_const_t *c);

/* The shapes every recogniser records (events.c). var is the socket's
 * expression; NULL when it is not a plain variable or memory ran out. */
au_event_t *au_ev_socket(au_file_t *f, au_api_t api, const au_call_t *c, int type);
au_event_t *au_ev_option(au_file_t *f, au_api_t api, TSNode at, TSNode var,
                         const char *opt, size_t optlen, TSNode value);
/* The option given as a node: ZMQ_SNDHWM, zmq.SNDHWM, zmq::sockopt::sndhwm. */
au_event_t *au_ev_option_name(au_file_t *f, au_api_t api, TSNode at, TSNode var,
                              TSNode optnode, TSNode value);
au_event_t *au_ev_attach(au_file_t *f, au_api_t api, TSNode at, TSNode var,
                         const char *call, int bind, TSNode endpoint);
au_event_t *au_ev_io(au_file_t *f, au_api_t api, TSNode at, TSNode var,
                     const char *call, int send, int nonblocking);

/* An authenticator made by call c ("zauth", "ThreadAuthenticator"), its
 * variable the one c is assigned to. */
au_event_t *au_ev_authenticator(au_file_t *f, au_api_t api, const au_call_t *c,
                                const char *what);
/* The authenticator the file assigned to var, or NULL. */
au_event_t *au_auth_named(au_file_t *f, const char *var);
/* An address rule ("ALLOW", "DENY") given to the authenticator var. */
void au_ev_auth_rule(au_file_t *f, au_api_t api, TSNode at, const char *var,
                     const char *rule);
/* pthread_create, zactor_new, threading.Thread(target=), create_task...:
 * the function that runs in another thread or task. */
void au_rec_task(au_file_t *f, const au_call_t *c);

/* ---- syntax-node helpers (ast.c) ------------------------------------------ */

int au_is(TSNode n, const char *type);
/* The node's text, whitespace squeezed to single spaces, cut to cap. */
void au_text(const au_file_t *f, TSNode n, char *buf, size_t cap);
/* A variable reference as the model keys it: `s`, `self.sock`, `a->zap`;
 * leading & and * and surrounding parentheses removed. 0 when the node is
 * not a plain reference (a call, a literal...). */
int au_var(const au_file_t *f, TSNode n, char *buf, size_t cap);
/* The name a declarator declares, through `*s`, `s[2]`, `(s)`, `f(int)`:
 * an identifier, a field, `Worker::run`, `~Worker`, `operator()`. */
TSNode au_declarator_name(TSNode d);
/* The last identifier of a name: `zmq.PUSH` -> PUSH,
 * `zmq::socket_type::push` -> push, `ZMQ_PUSH` -> ZMQ_PUSH. */
void au_last_name(const au_file_t *f, TSNode n, char *buf, size_t cap);
/* Integer value of an expression: literals, - + * / ( ), true/false,
 * constants of the file. */
int au_eval_int(const au_file_t *f, TSNode n, int64_t *out);
/* String value: literals (decoded), concatenations, constants; `partial`
 * is set when only a literal prefix is known (f-strings, "a" + x). */
int au_eval_str(const au_file_t *f, TSNode n, char *buf, size_t cap, int *partial);
/* Fills v from an expression: integer, text, and whether it is a
 * hard-coded key (Z85 or 32 bytes), looking through &, constants and
 * decode wrappers. */
void au_eval_value(const au_file_t *f, TSNode n, au_value_t *v);
/* Whether a literal's text is a key: 40 Z85 characters or 32 bytes. */
int au_is_key_text(const char *s, size_t len);
/* Whether any argument's text names a non-blocking flag. */
int au_flags_nonblocking(const au_file_t *f, const au_call_t *c, int from);

/* ---- recognisers (rec_*.c) ------------------------------------------------ */

void au_rec_libzmq(au_file_t *f, const au_call_t *c);
void au_rec_czmq(au_file_t *f, const au_call_t *c);
void au_rec_zguard(au_file_t *f, const au_call_t *c);
void au_rec_cppzmq_call(au_file_t *f, const au_call_t *c);
/* zmq::socket_t declarations, `new`/make_unique, member initialisers */
void au_rec_cppzmq_decl(au_file_t *f, TSNode n);
void au_rec_pyzmq_call(au_file_t *f, const au_call_t *c);
/* `x = ...`, `x.opt = v`, `with ... as x` */
void au_rec_pyzmq_assign(au_file_t *f, TSNode n);
/* The variable an expression's value is assigned to, for a socket-making
 * call: `void *s = zmq_socket(...)`, `s = ...`, `self.s = ...`. */
int au_assigned_var(const au_file_t *f, TSNode call, char *buf, size_t cap);

/* ---- the model: sockets and their mitigations ----------------------------- */

typedef enum au_mit {
    AU_M_SNDHWM = 0, AU_M_RCVHWM, AU_M_SNDTIMEO, AU_M_RCVTIMEO,
    AU_M_MAXMSGSIZE, AU_M_LINGER, AU_M_CURVE, AU_M_AUTH, AU_M_COUNT
} au_mit_t;

const char *au_mit_key(au_mit_t m); /* "sndhwm", ..., "curve", "authentication" */

typedef enum au_status {
    AU_ST_NOT_SET = 0,  /* needed, and nothing sets it */
    AU_ST_SET,          /* set to a bounded / secure value */
    AU_ST_WEAK,         /* set, but to unbounded/infinite */
    AU_ST_INEFFECTIVE,  /* set only after bind/connect: does not apply */
    AU_ST_UNKNOWN,      /* set to a value the audit cannot read */
    AU_ST_NOT_NEEDED    /* does not apply to this socket (type, inproc) */
} au_status_t;

const char *au_status_name(au_status_t st);

typedef enum au_source {
    AU_SRC_NONE = 0, AU_SRC_SOCKET, AU_SRC_CONTEXT, AU_SRC_PROCESS,
    AU_SRC_LIBRARY, AU_SRC_POLICY
} au_source_t;

const char *au_source_name(au_source_t src); /* "socket", "context", ... */

typedef struct au_mstate {
    au_status_t status;
    au_source_t source;
    int known;
    int64_t value;
    char text[AU_TEXT_MAX];   /* value as written, or a word: "server" */
    unsigned line;            /* where it was set; 0 when not in this file */
    char set_by[AU_NAME_MAX]; /* the helper called there that sets it, "" none */
    size_t set_file;          /* ... and where that sets it (set_line 0: none) */
    unsigned set_line;
} au_mstate_t;

typedef struct au_endpoint {
    unsigned line, col;
    uint32_t pos, scope;
    int bind;
    int known;
    int partial;              /* only a literal prefix is known (text holds it) */
    char text[AU_TEXT_MAX];
} au_endpoint_t;

typedef struct au_io {
    unsigned line, col;
    int send;
    int nowait;               /* DONTWAIT, polled, or a helper that never waits */
    int blocking;             /* can wait forever: no timeout, no DONTWAIT */
    int pickle;               /* recv_pyobj */
    char call[AU_NAME_MAX];
    char via[AU_NAME_MAX];    /* through a helper: the API call it makes */
} au_io_t;

typedef struct au_socket {
    size_t file;              /* index into the result's files */
    unsigned line, col;
    uint32_t pos, scope;
    au_lang_t lang;
    au_api_t api;
    int type;
    char var[AU_NAME_MAX];
    char zname[AU_NAME_MAX];  /* zguard's socket name, "" when none */
    int managed;              /* zg_socket / zg_harden: the policy applies */
    au_mstate_t m[AU_M_COUNT];
    au_endpoint_t *ep;
    size_t nep;
    au_io_t *io;
    size_t nio;
    au_io_t *late;            /* options set after bind/connect (call = name) */
    size_t nlate;
    unsigned harden_line;     /* zg_harden, 0 when none */
    int late_harden;          /* zg_harden after bind/connect */
    int curve_server, curve_client, exposed, mandatory;
    int mechanism;            /* a CURVE or PLAIN option: libzmq asks ZAP */
    int zap_domain;           /* ZAP_DOMAIN set: libzmq asks ZAP, NULL too */
    int member;               /* a member: found by name from any method */
    int dynamic;              /* an option set through a variable */
    int zname_known;
    int hidden;               /* made by a helper for its callers: they report it */
    int alias;                /* a C++ member bound to a caller's socket: only its own
                               * sends, receives and late options are judged here */
    char maker[AU_NAME_MAX];  /* the helper that made it, "" when none */
} au_socket_t;

typedef struct au_finding {
    au_rule_t rule;
    au_sev_t severity;
    size_t file;
    unsigned line, col;
    char *message;
    long socket;              /* index into the result's sockets, -1 none */
    int suppressed;
    char *justification;
    unsigned char ctx[AU_FP_BYTES]; /* the context of its line (fingerprint.c) */
    unsigned char fp_base[AU_FP_BYTES]; /* rule, file, function, socket, line text */
    char fingerprint[AU_FP_BYTES * 2 + 1]; /* fp_base and the occurrence, hex */
} au_finding_t;

typedef struct au_file_info {
    char *path;
    au_lang_t lang;
    size_t lines, bytes, sockets;
    int syntax_errors;        /* the tree has ERROR nodes: results may miss */
    unsigned auth_line;       /* its first authenticator, 0 when none */
    au_supp_t *supp;          /* its suppressions, judged once the run is */
    size_t nsupp;
} au_file_info_t;

typedef struct au_result {
    au_file_info_t *files;
    size_t nfiles, cap_files;
    au_socket_t *sockets;
    size_t nsockets, cap_sockets;
    au_finding_t *findings;
    size_t nfindings, cap_findings;
    char **errors;            /* "PATH: cannot read: ..." */
    size_t nerrors, cap_errors;
    size_t lines, bytes;
    const char *policy_file;  /* NULL without --policy */
    au_helper_t *helpers;     /* functions that send/receive on a parameter */
    size_t nhelpers, cap_helpers;
    au_callsite_t *calls;     /* calls that may reach a helper */
    size_t ncalls, cap_calls;
    au_pending_t *pending;    /* events naming no socket of their file */
    size_t npending, cap_pending;
    const char *baseline_file; /* NULL without --baseline */
    size_t baselined;         /* findings left out: in the baseline */
} au_result_t;

au_result_t *au_result_new(void);
void au_result_destroy(au_result_t **r);
int au_result_error(au_result_t *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Findings not suppressed, at or above sev. */
size_t au_result_count(const au_result_t *r, au_sev_t sev);
size_t au_result_count_exact(const au_result_t *r, au_sev_t sev);
size_t au_result_suppressed(const au_result_t *r);
/* Hidden sockets left out, the others grouped by file: those made while
 * the file was read first, in their order, then those helpers made for it
 * (from tree_first on) by line; findings' socket indices follow. */
void au_result_sort_sockets(au_result_t *r, size_t tree_first);
/* Sorts findings by file, line, column, rule. */
void au_result_sort(au_result_t *r);
/* Once every path is scanned: sorts the findings and completes their
 * fingerprints (identical ones numbered in file order). */
void au_result_finish(au_result_t *r);
/* ---- fingerprints (fingerprint.c) ---------------------------------------- */

/* The file's findings [first, r->nfindings): each one's fp_base from its
 * rule, the file's path, the innermost function or class around it, its
 * socket's variable and its line's text without whitespace; and the
 * context (function and line text) of its suppressions and of the calls
 * [first_call, r->ncalls), for findings made once the run is read. */
void au_fp_file(au_result_t *r, size_t fi, au_file_t *f, size_t first, size_t first_call);
/* x->fp_base from its rule, file, socket and the context of its line. */
void au_fp_base(const au_result_t *r, au_finding_t *x, const unsigned char ctx[AU_FP_BYTES]);
/* Records the function or class n starts, when it has a name. */
void au_fp_span(au_file_t *f, TSNode n);
/* The context of line `line` of file fi for a finding made once the run
 * is read: that of a finding [0, nfindings), call or kept event there;
 * zeros when none is known. */
void au_fp_line_ctx(const au_result_t *r, size_t nfindings, size_t fi, unsigned line,
                    unsigned char out[AU_FP_BYTES]);
/* Numbers equal fp_base in (sorted) order and writes each fingerprint. */
void au_fp_finish(au_result_t *r);

/* ---- helpers: sends and receives through functions (helpers.c) ---------- */

void au_helpers_func(au_file_t *f, TSNode fn);
void au_helpers_call(au_file_t *f, const au_call_t *c);
/* Whether function fn passes one of its parameters to a call (by its
 * text): only then can it be a link in a chain of helpers. */
int au_helpers_may_chain(const au_file_t *f, TSNode fn);
/* `: sock_(s)`, a C++ member initialised from a variable. */
void au_helpers_member(au_file_t *f, TSNode n);
/* `Worker w(rep);`, `Worker w{rep};`, `new Worker(rep)`: a constructor's call. */
void au_helpers_construct(au_file_t *f, TSNode n);
/* Whether n names a parameter of the function being walked. */
int au_helpers_is_param(au_file_t *f, TSNode n);
/* The file's helpers and calls into r (sockets [first, r->nsockets)). */
void au_helpers_file(au_result_t *r, size_t fi, au_file_t *f, size_t first);
/* Once every file is read: helper chains; each call's variable that a
 * helper made as a socket of the caller's file (with the caller's events
 * on it); options helpers set on the caller's socket; each call that hands
 * a socket to a helper as a send or receive on it. */
void au_helpers_tree(au_result_t *r);

/* ---- --baseline (baseline.c) ------------------------------------------------ */

/* Removes the findings whose fingerprint the JSON report at path lists
 * (each listed one matches one finding), counting them in r->baselined.
 * Call after au_result_finish. -1 with a message naming the file in err. */
int au_baseline_apply(au_result_t *r, const char *path, char *err, size_t cap);

/* ---- globs: --exclude and .zguard-audit-ignore (exclude.c) ----------------- */

typedef struct au_glob au_glob_t;
typedef struct au_globs {
    au_glob_t *g;
    size_t n, cap;
} au_globs_t;

/* Adds the glob text[0..len) (docs/audit.md, exclude.c); -1 with the
 * reason in err when it is not one. */
int au_globs_add(au_globs_t *gs, const char *text, size_t len, char *err, size_t cap);
/* Whether rel (relative to the audited directory, '/'-separated) matches. */
int au_globs_match(const au_globs_t *gs, const char *rel, int is_dir);
/* One glob a line, '#' comments; a missing file adds nothing. Errors go to
 * r with the file and line; -1 then. */
int au_globs_read(au_globs_t *gs, const char *path, au_result_t *r);
void au_globs_clear(au_globs_t *gs);

/* Builds the sockets of one file from its events into r (file index fi).
 * Returns the index of the first new socket. */
size_t au_model_build(au_result_t *r, size_t fi, const au_file_t *f,
                      const zg_policy_t *policy);
/* The socket an event belongs to, or -1. */
long au_model_resolve(const au_result_t *r, size_t first, const au_event_t *e);
/* The same among the sockets [first, end). */
long au_model_resolve_in(const au_result_t *r, size_t first, size_t end,
                         const au_event_t *e);
/* The same among the sockets [first, r->nsockets) of file fi. */
long au_model_resolve_file(const au_result_t *r, size_t first, size_t fi,
                           const au_event_t *e);
/* Event e (an option, bind/connect, send/receive, zg_harden) applied to s. */
void au_model_apply(au_socket_t *s, const au_event_t *e);
/* After au_model_apply: what s needs, and which of its sends and
 * receives can wait forever, judged again. */
void au_model_judge(au_socket_t *s);
/* A zeroed send/receive appended to s, or NULL when memory ran out. */
au_io_t *au_socket_new_io(au_socket_t *s);
/* Whether a send (or receive) on s can wait forever: no timeout, and not a
 * send that drops. */
int au_io_can_block(const au_socket_t *s, int send);
/* blocking-without-timeout for io, a send or receive through a helper
 * (ctx: the fingerprint context of its line). */
void au_blocking_finding(au_result_t *r, long si, const au_io_t *io,
                         const unsigned char ctx[AU_FP_BYTES]);
/* The rules of each socket si with redo[si] set run again, once helpers
 * of other files have changed it (au_helpers_tree), its earlier findings
 * replaced; the findings of sockets hidden (made by a helper for its
 * callers) removed. */
void au_findings_again(au_result_t *r, const unsigned char *redo);
/* Runs every rule over the file's sockets [first, r->nsockets) and its
 * events. */
void au_findings_run(au_result_t *r, size_t fi, const au_file_t *f, size_t first);
/* The rules that are judged over all the files audited together (an
 * authenticator anywhere, a socket it is consulted for anywhere): findings
 * made per file that the whole tree contradicts are removed. */
void au_findings_tree(au_result_t *r);
int au_finding_add(au_result_t *r, au_rule_t rule, size_t fi, unsigned line,
                   unsigned col, long socket, const char *fmt, ...)
    __attribute__((format(printf, 7, 8)));
/* With --policy: values against the policy's. */
void au_policy_check(au_result_t *r, size_t fi, size_t first,
                     const zg_policy_t *policy);
/* Suppression comments: parsed while walking, applied to the file's
 * findings [first, r->nfindings), then themselves judged. */
void au_supp_parse(au_file_t *f, TSNode comment);
void au_supp_apply(au_result_t *r, size_t fi, au_file_t *f, size_t first);
/* Applies file fi's suppressions to finding x (made after the file). */
void au_supp_apply_late(au_result_t *r, au_finding_t *x);
/* Once the run is complete: suppressions without a reason, naming unknown
 * rules, or suppressing nothing, as findings. */
void au_supp_judge(au_result_t *r);

/* ---- scanning --------------------------------------------------------------- */

typedef struct au_engine au_engine_t;

/* policy may be NULL: zguard sockets then get the built-in values. */
au_engine_t *au_engine_new(const zg_policy_t *policy, char *err, size_t cap);
void au_engine_destroy(au_engine_t **e);
/* A glob every directory walk leaves out (--exclude). */
int au_engine_exclude(au_engine_t *e, const char *glob, char *err, size_t cap);
/* A file or a directory (recursively, sorted; hidden directories,
 * node_modules, __pycache__, CMake build trees, --exclude globs and those
 * of the directory's .zguard-audit-ignore are skipped). */
int au_scan_path(au_engine_t *e, au_result_t *r, const char *path);
/* Text in memory, as a file named name. */
int au_scan_text(au_engine_t *e, au_result_t *r, const char *name,
                 au_lang_t lang, const char *text, size_t len);

/* ---- reports ------------------------------------------------------------------ */

typedef struct au_report_opts {
    const char *const *paths;
    size_t npaths;
    au_sev_t fail_on;
    int color;
    int exit_code;
} au_report_opts_t;

void au_report_text(FILE *out, const au_result_t *r, const au_report_opts_t *o);
void au_report_lines(FILE *out, const au_result_t *r, const au_report_opts_t *o);
void au_report_markdown(FILE *out, const au_result_t *r, const au_report_opts_t *o);
void au_report_json(FILE *out, const au_result_t *r, const au_report_opts_t *o);
void au_report_sarif(FILE *out, const au_result_t *r, const au_report_opts_t *o);
/* The compact form of one mitigation the lines and text reports share:
 * "1000@13", "-", "n/a", "0@13(weak)". */
void au_mstate_brief(const au_mstate_t *m, char *buf, size_t cap);
/* The sentence the text and markdown reports use: "1000 (line 13)". */
void au_mstate_describe(const au_mstate_t *m, char *buf, size_t cap);

#endif
