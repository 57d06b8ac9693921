/*
 * bench_setup.c - what every scenario of zguard-bench stands on: a private
 * temporary directory with CURVE keys, the policies, and the sockets of the
 * three contestants with identical options.
 *
 * Identical options: the zguard sockets get them from a policy through
 * zg_socket(); the raw libzmq and CZMQ sockets get the very values
 * zg_policy_settings() reports for the same socket types, set with
 * zmq_setsockopt and with CZMQ's zsock_set_* (as CZMQ users write it).
 * Every socket of every round is read back with zmq_getsockopt and compared
 * with the policy; a difference, or a policy key this file cannot map to a
 * libzmq option, stops the run: better no numbers than unequal ones.
 *
 * The same key pairs serve all three: libsodium makes them, raw sockets get
 * the bytes, CZMQ a zcert of them, zguard the files zcert_save writes.
 */
#include "bench.h"

#include <errno.h>
#include <ftw.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* ---- failures and clocks ------------------------------------------------- */

static char prog[64] = "zguard-bench";

void bench_set_prog(const char *argv0)
{
    /* the zguard command passes "zguard bench"; run directly, a path */
    const char *slash = strrchr(argv0, '/');
    snprintf(prog, sizeof prog, "%s", slash ? slash + 1 : argv0);
}

const char *bench_prog(void)
{
    return prog;
}

static void (*die_hook)(void *arg);
static void *die_arg;

void bench_on_die(void (*hook)(void *arg), void *arg)
{
    die_hook = hook;
    die_arg = arg;
}

void bench_die(const char *fmt, ...)
{
    va_list ap;
    fflush(stdout);
    fprintf(stderr, "%s: ", prog);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    if (die_hook)
        die_hook(die_arg);
    _exit(2);
}

double bench_thread_cpu(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

const char *bench_transport_name(bench_transport_t t)
{
    return t == BENCH_TCP ? "tcp" : t == BENCH_IPC ? "ipc" : "inproc";
}

const char *bench_size_label(size_t size, char *buf, size_t cap)
{
    if (size >= 1024 && size % 1024 == 0)
        snprintf(buf, cap, "%zuKiB", size / 1024);
    else
        snprintf(buf, cap, "%zuB", size);
    return buf;
}

void bench_net_title(bench_table_t *t, const bench_net_t *net,
                     const char *pattern)
{
    char size[32];
    snprintf(t->title, sizeof t->title, "%s over %s%s, %s, %s messages",
             pattern, bench_transport_name(net->transport),
             net->transport == BENCH_TCP ? " loopback" : "",
             net->transport == BENCH_INPROC ? "no security (none applies)"
             : net->curve                   ? "CURVE"
                                            : "NULL security",
             bench_size_label(net->size, size, sizeof size));
}

int bench_hwm_for(size_t size)
{
    return size > 4096 ? 1000 : 10000;
}

/* ---- the environment ----------------------------------------------------- */

static void save_cert(zcert_t *cert, const char *dir, const char *name,
                      bool secret_too)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s.key", dir, name);
    /* zcert_save writes the secret 0600, as zguard requires */
    int rc =
        secret_too ? zcert_save(cert, path) : zcert_save_public(cert, path);
    if (rc != 0)
        bench_die("cannot write %s", path);
}

bench_env_t *bench_env_new(void)
{
    bench_env_t *e = calloc(1, sizeof *e);
    if (!e || sodium_init() < 0)
        bench_die("out of memory, or libsodium does not start");
    const char *tmp = getenv("TMPDIR");
    snprintf(e->dir, sizeof e->dir, "%s/zguard-bench-XXXXXX",
             tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(e->dir))
        bench_die("mkdtemp %s: %s", e->dir, strerror(errno));
    crypto_box_keypair(e->server_pk, e->server_sk);
    crypto_box_keypair(e->client_pk, e->client_sk);
    e->server_cert = zcert_new_from(e->server_pk, e->server_sk);
    e->client_cert = zcert_new_from(e->client_pk, e->client_sk);
    if (!e->server_cert || !e->client_cert)
        bench_die("zcert_new_from failed");
    save_cert(e->server_cert, e->dir, "server", true);
    save_cert(e->client_cert, e->dir, "client", true);
    char allow[256];
    snprintf(allow, sizeof allow, "%s/allow", e->dir);
    if (mkdir(allow, 0700) != 0)
        bench_die("mkdir %s: %s", allow, strerror(errno));
    save_cert(e->client_cert, allow, "client", false);
    e->raw_ctx = zmq_ctx_new();
    if (!e->raw_ctx)
        bench_die("zmq_ctx_new: %s", zmq_strerror(errno));
    return e;
}

static int remove_entry(const char *path, const struct stat *st, int flag,
                        struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

void bench_remove_tree(const char *dir)
{
    if (dir && dir[0])
        nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

void bench_env_remove_dir(bench_env_t *e)
{
    if (e)
        bench_remove_tree(e->dir);
}

void bench_env_destroy(bench_env_t **env)
{
    bench_env_t *e = *env;
    if (!e)
        return;
    zmq_ctx_term(e->raw_ctx);
    zcert_destroy(&e->server_cert);
    zcert_destroy(&e->client_cert);
    bench_env_remove_dir(e);
    free(e);
    *env = NULL;
}

/* ---- policies ------------------------------------------------------------ */

/* The values every benchmark policy shares: finite timeouts long enough
 * that a slow round is slow, not failed; everything else zguard's own. */
static const char policy_common[] =
    "version = 1\n"
    "\n"
    "[defaults]\n"
    "rationale = zguard-bench: zguard next to raw libzmq and CZMQ with "
    "identical options, on one machine\n"
    "sndtimeo = 5s\n"
    "rcvtimeo = 5s\n"
    "maxmsgsize = 128KiB\n"
    "maxmsgsize.rationale = 64 KiB messages, plus CURVE's 33 bytes\n"
    "linger = 1s\n"
    "handshake_ivl = 5s\n"
    "heartbeat_ivl = 5s\n"
    "heartbeat_ttl = 15s\n"
    "heartbeat_timeout = 15s\n"
    "immediate = no\n"
    "reconnect_ivl = 100ms\n"
    "reconnect_ivl_max = 30s\n"
    "tcp_keepalive = yes\n"
    "tcp_keepalive_idle = 60s\n"
    "tcp_keepalive_intvl = 10s\n"
    "tcp_keepalive_cnt = 5\n"
    "retries = 3\n";

static size_t append(char *buf, size_t cap, size_t used, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static size_t append(char *buf, size_t cap, size_t used, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = used < cap ? vsnprintf(buf + used, cap - used, fmt, ap) : 0;
    va_end(ap);
    if (n < 0 || used + (size_t)n >= cap)
        bench_die("a benchmark policy does not fit its buffer");
    return used + (size_t)n;
}

static size_t policy_security(char *buf, size_t cap, size_t n,
                              const bench_policy_spec_t *s)
{
    if (!s->curve)
        return append(buf, cap, n,
                      "security = none\ninsecure = yes\nsecurity.rationale = "
                      "loopback inside one machine: this measures the "
                      "wrappers, the CURVE scenarios measure encryption\n");
    n = append(buf, cap, n, "\n[type.%s]\ncurve_keys = %s/server.key\n",
               zg_type_name(s->server_type), s->keydir);
    n = append(buf, cap, n,
               "\n[type.%s]\ncurve_keys = %s/client.key\n"
               "curve_server_key = %s/server.key\n",
               zg_type_name(s->client_type), s->keydir, s->keydir);
    return append(buf, cap, n, "\n[auth]\nallow = %s/allow\n", s->keydir);
}

zg_policy_t *bench_policy(const bench_policy_spec_t *s)
{
    char text[4096];
    size_t n = append(text, sizeof text, 0, "%s", policy_common);
    if (s->hwm == 0)
        n = append(text, sizeof text, n,
                   "unbounded = yes\nsndhwm.rationale = the memory scenario: "
                   "what a queue without a bound costs\n");
    n = append(text, sizeof text, n, "sndhwm = %d\nrcvhwm = %d\n", s->hwm,
               s->hwm);
    n = policy_security(text, sizeof text, n, s);
    if (!s->monitor)
        n = append(text, sizeof text, n, "\n[metrics]\nmonitor = no\n");
    zg_diag_t *diag = zg_diag_new();
    zg_policy_t *p = zg_policy_parse(text, n, "(zguard-bench policy)", diag);
    if (!p) {
        zg_diag_print(diag, stderr);
        bench_die("a benchmark policy does not parse: %s", zg_last_error());
    }
    zg_diag_destroy(&diag);
    return p;
}

/* ---- the libzmq option behind each policy key ---------------------------- */

typedef void(czmq_setter)(void *sock, int value);

typedef struct bench_zopt {
    const char *key;  /* policy key, as zg_setting_t.key says it */
    int option;       /* ZMQ_* */
    bool int64;       /* the option takes an int64_t */
    int64_t scale;    /* option value = policy value / scale (-1 stays -1) */
    bool readable;    /* zmq_getsockopt can read it back */
    czmq_setter *set; /* CZMQ's setter */
} bench_zopt_t;

static const bench_zopt_t zopts[] = {
    {"sndhwm", ZMQ_SNDHWM, false, 1, true, zsock_set_sndhwm},
    {"rcvhwm", ZMQ_RCVHWM, false, 1, true, zsock_set_rcvhwm},
    {"sndtimeo", ZMQ_SNDTIMEO, false, 1, true, zsock_set_sndtimeo},
    {"rcvtimeo", ZMQ_RCVTIMEO, false, 1, true, zsock_set_rcvtimeo},
    {"maxmsgsize", ZMQ_MAXMSGSIZE, true, 1, true, zsock_set_maxmsgsize},
    {"linger", ZMQ_LINGER, false, 1, true, zsock_set_linger},
    {"handshake_ivl", ZMQ_HANDSHAKE_IVL, false, 1, true,
     zsock_set_handshake_ivl},
    {"heartbeat_ivl", ZMQ_HEARTBEAT_IVL, false, 1, true,
     zsock_set_heartbeat_ivl},
    {"heartbeat_ttl", ZMQ_HEARTBEAT_TTL, false, 1, true,
     zsock_set_heartbeat_ttl},
    {"heartbeat_timeout", ZMQ_HEARTBEAT_TIMEOUT, false, 1, true,
     zsock_set_heartbeat_timeout},
    {"immediate", ZMQ_IMMEDIATE, false, 1, true, zsock_set_immediate},
    {"reconnect_ivl", ZMQ_RECONNECT_IVL, false, 1, true,
     zsock_set_reconnect_ivl},
    {"reconnect_ivl_max", ZMQ_RECONNECT_IVL_MAX, false, 1, true,
     zsock_set_reconnect_ivl_max},
    {"tcp_keepalive", ZMQ_TCP_KEEPALIVE, false, 1, true,
     zsock_set_tcp_keepalive},
    /* the policy says milliseconds, libzmq whole seconds */
    {"tcp_keepalive_idle", ZMQ_TCP_KEEPALIVE_IDLE, false, 1000, true,
     zsock_set_tcp_keepalive_idle},
    {"tcp_keepalive_intvl", ZMQ_TCP_KEEPALIVE_INTVL, false, 1000, true,
     zsock_set_tcp_keepalive_intvl},
    {"tcp_keepalive_cnt", ZMQ_TCP_KEEPALIVE_CNT, false, 1, true,
     zsock_set_tcp_keepalive_cnt},
    {"router_mandatory", ZMQ_ROUTER_MANDATORY, false, 1, false,
     zsock_set_router_mandatory},
};

/* Keys that are no plain socket option: the CURVE setup below sets the
 * mechanism and keys on every contestant's sockets. */
static bool curve_key(const char *key)
{
    return strcmp(key, "security") == 0 || strcmp(key, "curve_keys") == 0 ||
           strcmp(key, "curve_server_key") == 0;
}

static const bench_zopt_t *zopt_for(const char *key)
{
    for (size_t i = 0; i < sizeof zopts / sizeof zopts[0]; i++)
        if (strcmp(zopts[i].key, key) == 0)
            return &zopts[i];
    return NULL;
}

static void optset_add(bench_optset_t *o, const zg_setting_t *s, size_t *used)
{
    const bench_zopt_t *z = zopt_for(s->key);
    if (!z)
        bench_die("policy key '%s' has no libzmq option in this benchmark: "
                  "add it to zopts[] in bench/bench_setup.c so raw and CZMQ "
                  "sockets get it too",
                  s->key);
    o->item[o->n].z = z;
    o->item[o->n].value = s->value == -1 ? -1 : s->value / z->scale;
    o->n++;
    int w = snprintf(o->summary + *used, sizeof o->summary - *used, "%s%s=%s",
                     *used ? " " : "", s->key, s->text);
    if (w > 0 && (size_t)w < sizeof o->summary - *used)
        *used += (size_t)w;
}

/* The effective settings for `type` as libzmq options. */
static void optset_build(const zg_policy_t *policy, int type, bool curve,
                         bench_optset_t *o)
{
    zg_setting_t s[ZG_FIELD_COUNT];
    if (zg_policy_settings(policy, type, NULL, s, ZG_FIELD_COUNT, sizeof s[0]) != 0)
        bench_die("zg_policy_settings(%s): %s", zg_type_name(type),
                  zg_last_error());
    memset(o, 0, sizeof *o);
    o->mechanism = curve ? ZMQ_CURVE : ZMQ_NULL;
    size_t used = 0;
    for (int f = 0; f < ZG_FIELD_COUNT; f++)
        if (s[f].applies && s[f].option && !curve_key(s[f].key))
            optset_add(o, &s[f], &used);
}

static void optset_apply_raw(void *sock, const bench_optset_t *o)
{
    for (size_t i = 0; i < o->n; i++) {
        const bench_zopt_t *z = o->item[i].z;
        int64_t v64 = o->item[i].value;
        int v = (int)v64;
        int rc = z->int64 ? zmq_setsockopt(sock, z->option, &v64, sizeof v64)
                          : zmq_setsockopt(sock, z->option, &v, sizeof v);
        if (rc != 0)
            bench_die("zmq_setsockopt(%s=%lld): %s", z->key, (long long)v64,
                      zmq_strerror(errno));
    }
}

static void optset_apply_czmq(zsock_t *sock, const bench_optset_t *o)
{
    for (size_t i = 0; i < o->n; i++)
        o->item[i].z->set(sock, (int)o->item[i].value);
}

static int64_t read_option(void *sock, const bench_zopt_t *z, const char *who)
{
    int64_t v64 = 0;
    int v = 0;
    size_t len = z->int64 ? sizeof v64 : sizeof v;
    if (zmq_getsockopt(sock, z->option, z->int64 ? (void *)&v64 : (void *)&v,
                       &len) != 0)
        bench_die("%s: zmq_getsockopt(%s): %s", who, z->key,
                  zmq_strerror(errno));
    return z->int64 ? v64 : v;
}

/* Every readable option of sock, and its mechanism, must be the policy's. */
static void optset_check(void *sock, const bench_optset_t *o, const char *who)
{
    for (size_t i = 0; i < o->n; i++) {
        const bench_zopt_t *z = o->item[i].z;
        if (!z->readable)
            continue;
        int64_t got = read_option(sock, z, who);
        if (got != o->item[i].value)
            bench_die("%s: %s is %lld, the policy says %lld: contestants "
                      "would not run with identical options",
                      who, z->key, (long long)got, (long long)o->item[i].value);
    }
    int mech = -1;
    size_t len = sizeof mech;
    if (zmq_getsockopt(sock, ZMQ_MECHANISM, &mech, &len) != 0 ||
        mech != o->mechanism)
        bench_die("%s: security mechanism is %d, not %d", who, mech,
                  o->mechanism);
}

/* ---- contestants --------------------------------------------------------- */

const bench_api_info_t bench_apis[BENCH_API_COUNT] = {
    [BENCH_RAW] = {"raw", "raw libzmq",
                   "zmq_socket + zmq_setsockopt; zmq_send / zmq_recv"},
    [BENCH_ZG] = {"zguard", "zguard",
                  "zg_socket (policy, monitor on); zg_send / zg_recv"},
    [BENCH_ZG_NOMON] = {"zguard-nomon", "zguard no-mon",
                        "zg_socket, [metrics] monitor = no; zg_send / "
                        "zg_recv"},
    [BENCH_CZMQ] = {"czmq", "CZMQ",
                    "zsock_new + zsock_set_*; zframe_send / zframe_recv"},
    [BENCH_RAW_MSG] = {"raw-msg", "raw msg",
                       "zmq_socket + zmq_setsockopt; zmq_msg_init_size + "
                       "memcpy, zmq_msg_send / zmq_msg_recv"},
    [BENCH_ZG_MSG] = {"zguard-msg", "zguard msg",
                      "zg_socket (policy, monitor on); zmq_msg_init_size + "
                      "memcpy, zg_msg_send / zg_msg_recv"},
};

void bench_pair_open(bench_pair_t *p, bench_env_t *env, const bench_net_t *net,
                     int server_type, int client_type, int hwm)
{
    memset(p, 0, sizeof *p);
    p->env = env;
    p->net = *net;
    p->server_type = server_type;
    p->client_type = client_type;
    bench_policy_spec_t spec = {net->curve,  true,        hwm,
                                server_type, client_type, env->dir};
    zg_policy_t *on = bench_policy(&spec);
    spec.monitor = false;
    zg_policy_t *off = bench_policy(&spec);
    optset_build(on, server_type, net->curve, &p->server_opts);
    optset_build(on, client_type, net->curve, &p->client_opts);
    p->zg = zg_ctx_new(on);
    p->zg_nomon = zg_ctx_new(off);
    zg_policy_destroy(&on);
    zg_policy_destroy(&off);
    if (!p->zg || !p->zg_nomon)
        bench_die("zg_ctx_new: %s", zg_last_error());
    zg_ctx_set_log(p->zg, ZG_LOG_WARNING, zg_log_stderr, NULL);
    zg_ctx_set_log(p->zg_nomon, ZG_LOG_WARNING, zg_log_stderr, NULL);
}

void bench_pair_close(bench_pair_t *p)
{
    zg_ctx_destroy(&p->zg);
    zg_ctx_destroy(&p->zg_nomon);
}

void bench_pair_options(const bench_pair_t *p, char *buf, size_t cap)
{
    snprintf(buf, cap, "%s (%s); %s (%s); %s", p->server_opts.summary,
             zg_type_name(p->server_type), p->client_opts.summary,
             zg_type_name(p->client_type),
             p->net.curve ? "CURVE" : "NULL mechanism");
}

static void curve_raw(const bench_env_t *e, void *sock, bool server)
{
    int on = 1, rc;
    if (server)
        rc = zmq_setsockopt(sock, ZMQ_CURVE_SERVER, &on, sizeof on) ||
             zmq_setsockopt(sock, ZMQ_CURVE_SECRETKEY, e->server_sk, 32);
    else
        rc = zmq_setsockopt(sock, ZMQ_CURVE_SERVERKEY, e->server_pk, 32) ||
             zmq_setsockopt(sock, ZMQ_CURVE_PUBLICKEY, e->client_pk, 32) ||
             zmq_setsockopt(sock, ZMQ_CURVE_SECRETKEY, e->client_sk, 32);
    if (rc)
        bench_die("CURVE options: %s", zmq_strerror(errno));
}

static void curve_czmq(const bench_env_t *e, zsock_t *sock, bool server)
{
    zcert_apply(server ? e->server_cert : e->client_cert, sock);
    if (server)
        zsock_set_curve_server(sock, 1);
    else
        zsock_set_curve_serverkey_bin(sock, e->server_pk);
}

static void sock_open(bench_pair_t *p, bench_api_t api, bool server,
                      bench_sock_t *s)
{
    int type = server ? p->server_type : p->client_type;
    const bench_optset_t *o = server ? &p->server_opts : &p->client_opts;
    memset(s, 0, sizeof *s);
    s->api = api;
    if (bench_api_raw(api)) {
        if (!(s->zmq = zmq_socket(p->env->raw_ctx, type)))
            bench_die("zmq_socket: %s", zmq_strerror(errno));
        optset_apply_raw(s->zmq, o);
        if (p->net.curve)
            curve_raw(p->env, s->zmq, server);
    } else if (api == BENCH_CZMQ) {
        if (!(s->zs = zsock_new(type)))
            bench_die("zsock_new: %s", zmq_strerror(errno));
        optset_apply_czmq(s->zs, o);
        if (p->net.curve)
            curve_czmq(p->env, s->zs, server);
        s->zmq = zsock_resolve(s->zs);
    } else {
        s->zmq =
            zg_socket(api == BENCH_ZG_NOMON ? p->zg_nomon : p->zg, type, NULL);
        if (!s->zmq)
            bench_die("zg_socket(%s): %s", zg_type_name(type), zg_last_error());
    }
    char who[64];
    snprintf(who, sizeof who, "%s %s socket", bench_apis[api].name,
             zg_type_name(type));
    optset_check(s->zmq, o, who);
}

static int attach(bench_sock_t *s, bool bind, const char *ep)
{
    if (bench_api_raw(s->api))
        return bind ? zmq_bind(s->zmq, ep) : zmq_connect(s->zmq, ep);
    if (s->api == BENCH_CZMQ)
        return (bind ? zsock_bind(s->zs, "%s", ep)
                     : zsock_connect(s->zs, "%s", ep)) == -1
                   ? -1
                   : 0;
    return bind ? zg_bind(s->zmq, ep) : zg_connect(s->zmq, ep);
}

static void attach_or_die(bench_sock_t *s, bool bind, const char *ep)
{
    if (attach(s, bind, ep) != 0)
        bench_die("%s: %s %s: %s", bench_apis[s->api].name,
                  bind ? "bind" : "connect", ep,
                  bench_api_zguard(s->api) ? zg_last_error()
                                           : zmq_strerror(errno));
}

void bench_pair_sockets(bench_pair_t *p, bench_api_t api, bench_sock_t *server,
                        bench_sock_t *client)
{
    sock_open(p, api, true, server);
    sock_open(p, api, false, client);
    char ep[256];
    unsigned n = p->env->seq++;
    if (p->net.transport == BENCH_TCP)
        snprintf(ep, sizeof ep, "tcp://127.0.0.1:*");
    else if (p->net.transport == BENCH_IPC)
        snprintf(ep, sizeof ep, "ipc://%s/s%u.sock", p->env->dir, n);
    else
        snprintf(ep, sizeof ep, "inproc://zguard-bench-%u", n);
    attach_or_die(server, true, ep);
    size_t len = sizeof ep;
    if (zmq_getsockopt(server->zmq, ZMQ_LAST_ENDPOINT, ep, &len) != 0)
        bench_die("ZMQ_LAST_ENDPOINT: %s", zmq_strerror(errno));
    attach_or_die(client, false, ep);
}

void bench_sock_close(bench_sock_t *s)
{
    if (s->api == BENCH_CZMQ)
        zsock_destroy(&s->zs);
    else if (bench_api_raw(s->api))
        zmq_close(s->zmq);
    else
        zg_close(&s->zmq);
    s->zmq = NULL;
}
