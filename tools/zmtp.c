/*
 * zmtp.c - a ZMTP 3.0 client connection (NULL and CURVE) for zguard's
 * tests; see zmtp.h. Written from RFC 23 (ZMTP 3.0) and RFC 26 (CurveZMQ);
 * the sizes below are theirs.
 *
 * The socket is non-blocking and every wait is a poll() bounded by a
 * deadline, so that a silent or stalled peer shows up as a timeout and a
 * signal (the config's stop flag) ends any wait. Bytes from the peer go
 * through one small input buffer: the greeting is read from it as bytes,
 * then frames are assembled from it one at a time (a frame may be larger
 * than the buffer). While a frame is being written, what the peer sends is
 * buffered, so a close or a reset is seen as soon as it happens.
 */
#include "zmtp.h"

#include "cli_clock.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/un.h>
#include <unistd.h>
#include <arpa/inet.h>

#include <sodium.h>

/* RFC 23: the greeting and frame headers */
#define GREETING_BYTES 64
#define GREETING_MECH_AT 12 /* 20 bytes, the mechanism's name, NUL-padded */
#define GREETING_MECH_BYTES 20
#define GREETING_AS_SERVER_AT 32
#define FLAG_MORE 0x01
#define FLAG_LONG 0x02
#define FLAG_COMMAND 0x04
#define FLAG_RESERVED 0xF8
#define SHORT_SIZE_MAX 255
#define HEADER_MAX 9 /* flags + 8-byte size */
#define PROP_VALUE_LEN_BYTES 4
#define PING_CONTEXT_MAX 16

/* RFC 26: CurveZMQ commands and boxes */
#define NONCE_BYTES crypto_box_NONCEBYTES /* 24: a 16-byte prefix + 8, or 8 + 16 */
#define SHORT_NONCE_BYTES 8
#define LONG_NONCE_BYTES 16
#define MAC_BYTES crypto_box_MACBYTES
#define HELLO_BYTES 200
#define HELLO_PADDING_AT 8 /* 72 zero bytes: a HELLO is as large as a WELCOME */
#define HELLO_KEY_AT 80
#define HELLO_NONCE_AT 112
#define HELLO_BOX_AT 120
#define HELLO_SIGNATURE_BYTES 64 /* zeros, boxed */
#define WELCOME_BYTES 168
#define WELCOME_NONCE_AT 8
#define WELCOME_BOX_AT 24
#define COOKIE_BYTES 96
#define INITIATE_COOKIE_AT 9
#define INITIATE_NONCE_AT (INITIATE_COOKIE_AT + COOKIE_BYTES)
#define INITIATE_BOX_AT (INITIATE_NONCE_AT + SHORT_NONCE_BYTES)
#define VOUCH_PLAIN_BYTES (2 * ZMTP_KEY_BYTES)
#define VOUCH_BYTES (VOUCH_PLAIN_BYTES + MAC_BYTES)
#define INITIATE_PLAIN_FIXED (ZMTP_KEY_BYTES + LONG_NONCE_BYTES + VOUCH_BYTES)
#define READY_NONCE_AT 6
#define READY_BOX_AT (READY_NONCE_AT + SHORT_NONCE_BYTES)
#define MESSAGE_NONCE_AT 8
#define MESSAGE_BOX_AT (MESSAGE_NONCE_AT + SHORT_NONCE_BYTES)
#define MESSAGE_FLAG_MORE 0x01    /* the flags byte inside a MESSAGE box */
#define MESSAGE_FLAG_COMMAND 0x02

/* Handshake commands are a few hundred bytes; metadata makes them longer,
 * never this long. */
#define HANDSHAKE_FRAME_MAX 65536
#define METADATA_MAX (2 * (1 + ZMTP_NAME_MAX + PROP_VALUE_LEN_BYTES + ZMTP_NAME_MAX))
#define IN_BUFFER 4096
#define NO_WAIT (-1.0) /* a deadline: return at once when nothing is there */
#define STOP_CHECK_MS 200 /* a signal between two polls waits at most this */

typedef struct secrets {
    uint8_t cn_secret[ZMTP_KEY_BYTES]; /* this connection's transient key */
    uint8_t precomputed[crypto_box_BEFORENMBYTES]; /* C' with S' */
    uint8_t secret[ZMTP_KEY_BYTES]; /* a fresh long-term key, when asked */
} secrets_t;

struct zmtp_conn {
    const zmtp_config_t *cfg;
    int fd;
    zmtp_status_t status;
    char reason[ZMTP_REASON_MAX];
    double deadline; /* of connect + handshake */
    bool ready;
    uint64_t sent;
    char peer_type[ZMTP_NAME_MAX];
    /* CURVE */
    secrets_t *sec; /* sodium_malloc */
    const uint8_t *secret_key; /* the long-term secret in use */
    uint8_t public_key[ZMTP_KEY_BYTES];
    uint8_t cn_public[ZMTP_KEY_BYTES], cn_server[ZMTP_KEY_BYTES];
    uint8_t cookie[COOKIE_BYTES];
    uint64_t nonce, peer_nonce;
    /* the frame being written, and a CURVE plaintext */
    uint8_t *out, *plain;
    size_t out_len, out_cap, plain_cap;
    /* bytes from the peer, and the frame being assembled from them */
    uint8_t in[IN_BUFFER];
    size_t in_start, in_end;
    uint8_t head[HEADER_MAX];
    size_t head_got, head_need;
    bool in_body;
    uint8_t *body;
    size_t body_len, body_got, body_cap;
};

const char *zmtp_status_name(zmtp_status_t status)
{
    static const char *const names[] = {
        "ready", "error", "closed", "reset", "timeout", "protocol",
        "connect_failed", "local", "stopped"};
    return (size_t)status < sizeof names / sizeof names[0] ? names[status] : "?";
}

/* Records why the connection ended (the first reason only); -1. */
static int fail(zmtp_conn_t *c, zmtp_status_t status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail(zmtp_conn_t *c, zmtp_status_t status, const char *fmt, ...)
{
    if (c->status == ZMTP_OK) {
        va_list ap;
        va_start(ap, fmt);
        c->status = status;
        vsnprintf(c->reason, sizeof c->reason, fmt, ap);
        va_end(ap);
    }
    return -1;
}

/* A failed send or recv: the peer's doing (a reset) or ours. */
static int fail_errno(zmtp_conn_t *c, int err, const char *what)
{
    if (err == ECONNRESET || err == EPIPE || err == ECONNABORTED ||
        err == ETIMEDOUT)
        return fail(c, ZMTP_RESET, "%s: %s", what, strerror(err));
    return fail(c, ZMTP_LOCAL, "%s: %s", what, strerror(err));
}

static void store64(uint8_t *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--, v >>= 8)
        p[i] = (uint8_t)v;
}

static uint64_t load64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | p[i];
    return v;
}

/* ---- endpoints ---------------------------------------------------------- */

static int ep_why(char *why, size_t cap, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int ep_why(char *why, size_t cap, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, cap, fmt, ap);
    va_end(ap);
    return -1;
}

static int ipc_parse(const char *path, zmtp_endpoint_t *ep, char *why, size_t cap)
{
    struct sockaddr_un *un = (struct sockaddr_un *)&ep->addr;
    if (!*path || strlen(path) >= sizeof un->sun_path)
        return ep_why(why, cap, "'%s': an ipc path of 1 to %zu bytes", ep->text,
                      sizeof un->sun_path - 1);
    un->sun_family = AF_UNIX;
    strcpy(un->sun_path, path);
    ep->len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(path) + 1);
    return 0;
}

static int tcp_parse(const char *hostport, zmtp_endpoint_t *ep, char *why, size_t cap)
{
    char host[ZMTP_ENDPOINT_MAX];
    const char *colon = strrchr(hostport, ':');
    char *end;
    long port = colon ? strtol(colon + 1, &end, 10) : 0;
    if (!colon || colon == hostport || end == colon + 1 || *end || port < 1 ||
        port > 65535)
        return ep_why(why, cap, "'%s': not tcp://HOST:PORT (PORT 1 to 65535)",
                      ep->text);
    snprintf(host, sizeof host, "%.*s", (int)(colon - hostport), hostport);
    size_t hl = strlen(host);
    if (host[0] == '[' && hl > 2 && host[hl - 1] == ']') {
        memmove(host, host + 1, hl - 2);
        host[hl - 2] = '\0';
    }
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *ai = NULL;
    int rc = getaddrinfo(host, colon + 1, &hints, &ai);
    if (rc != 0)
        return ep_why(why, cap, "'%s': %s", ep->text, gai_strerror(rc));
    memcpy(&ep->addr, ai->ai_addr, ai->ai_addrlen);
    ep->len = ai->ai_addrlen;
    freeaddrinfo(ai);
    return 0;
}

int zmtp_endpoint_parse(const char *text, zmtp_endpoint_t *ep, char *why, size_t cap)
{
    memset(ep, 0, sizeof *ep);
    if (strlen(text) >= sizeof ep->text)
        return ep_why(why, cap, "an endpoint of more than %zu bytes",
                      sizeof ep->text - 1);
    strcpy(ep->text, text);
    if (strncmp(text, "tcp://", 6) == 0)
        return tcp_parse(text + 6, ep, why, cap);
    if (strncmp(text, "ipc://", 6) == 0)
        return ipc_parse(text + 6, ep, why, cap);
    return ep_why(why, cap, "'%s': not tcp://HOST:PORT or ipc://PATH", text);
}

int zmtp_source_parse(const char *text, const zmtp_endpoint_t *ep,
                      zmtp_endpoint_t *source, char *why, size_t cap)
{
    memset(source, 0, sizeof *source);
    snprintf(source->text, sizeof source->text, "%s", text);
    int family = ep->addr.ss_family;
    if (family == AF_INET) {
        struct sockaddr_in *in = (struct sockaddr_in *)&source->addr;
        in->sin_family = AF_INET;
        source->len = sizeof *in;
        if (inet_pton(AF_INET, text, &in->sin_addr) == 1)
            return 0;
    } else if (family == AF_INET6) {
        struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&source->addr;
        in6->sin6_family = AF_INET6;
        source->len = sizeof *in6;
        if (inet_pton(AF_INET6, text, &in6->sin6_addr) == 1)
            return 0;
    } else {
        return ep_why(why, cap, "a source address needs a tcp:// endpoint");
    }
    return ep_why(why, cap, "'%s': not an IPv%d address like the endpoint's",
                  text, family == AF_INET ? 4 : 6);
}

/* ---- connections -------------------------------------------------------- */

zmtp_conn_t *zmtp_conn_new(const zmtp_config_t *cfg)
{
    if (sodium_init() < 0)
        return NULL;
    zmtp_conn_t *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->cfg = cfg;
    c->fd = -1;
    if (cfg->mechanism == ZMTP_MECH_CURVE) {
        c->sec = sodium_malloc(sizeof *c->sec);
        if (!c->sec) {
            free(c);
            return NULL;
        }
    }
    return c;
}

void zmtp_conn_destroy(zmtp_conn_t **cp)
{
    zmtp_conn_t *c = *cp;
    if (!c)
        return;
    if (c->fd >= 0 && c->cfg->abortive_close) {
        struct linger now = {.l_onoff = 1, .l_linger = 0};
        setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &now, sizeof now);
    }
    if (c->fd >= 0)
        close(c->fd);
    sodium_free(c->sec); /* wipes them */
    if (c->plain)
        sodium_memzero(c->plain, c->plain_cap);
    free(c->plain);
    free(c->out);
    free(c->body);
    free(c);
    *cp = NULL;
}

int zmtp_fd(const zmtp_conn_t *c) { return c->fd; }
zmtp_status_t zmtp_status(const zmtp_conn_t *c) { return c->status; }
const char *zmtp_reason(const zmtp_conn_t *c) { return c->reason; }
const char *zmtp_peer_socket_type(const zmtp_conn_t *c) { return c->peer_type; }
uint64_t zmtp_bytes_sent(const zmtp_conn_t *c) { return c->sent; }

/* poll() for events until deadline (0: none; NO_WAIT: do not wait): the
 * events seen, 0 when the deadline passed, -1 when stopped or poll failed. */
static int wait_fd(zmtp_conn_t *c, short events, double deadline)
{
    for (;;) {
        if (c->cfg->stop && *c->cfg->stop)
            return fail(c, ZMTP_STOPPED, "stopped by a signal");
        int ms = STOP_CHECK_MS;
        if (deadline == NO_WAIT) {
            ms = 0;
        } else if (deadline > 0) {
            double left = deadline - cli_now();
            if (left <= 0)
                return 0;
            if (left * 1000 < ms)
                ms = (int)(left * 1000) + 1;
        }
        struct pollfd p = {.fd = c->fd, .events = events};
        int n = poll(&p, 1, ms);
        if (n > 0)
            return p.revents;
        if (n < 0 && errno != EINTR)
            return fail_errno(c, errno, "poll");
        if (n == 0 && deadline == NO_WAIT)
            return 0;
    }
}

int zmtp_connect(zmtp_conn_t *c)
{
    const zmtp_config_t *cfg = c->cfg;
    const zmtp_endpoint_t *ep = cfg->endpoint;
    c->deadline = cli_now() + cfg->timeout_ms / 1000.0;
    c->fd = socket(ep->addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (c->fd < 0)
        return fail(c, ZMTP_LOCAL, "socket: %s", strerror(errno));
    if (ep->addr.ss_family != AF_UNIX) {
        int one = 1; /* as libzmq: frames go out as they are written */
        setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    }
    if (cfg->source &&
        bind(c->fd, (const struct sockaddr *)&cfg->source->addr, cfg->source->len) != 0)
        return fail(c, ZMTP_LOCAL, "bind to %s: %s", cfg->source->text, strerror(errno));
    if (connect(c->fd, (const struct sockaddr *)&ep->addr, ep->len) == 0)
        return 0;
    if (errno == EADDRNOTAVAIL) /* no local port left */
        return fail(c, ZMTP_LOCAL, "connect to %s: %s", ep->text, strerror(errno));
    if (errno != EINPROGRESS) /* EAGAIN: an ipc listener's backlog is full */
        return fail(c, ZMTP_CONNECT_FAILED, "connect to %s: %s", ep->text,
                    strerror(errno));
    int r = wait_fd(c, POLLOUT, c->deadline);
    if (r < 0)
        return -1;
    if (r == 0)
        return fail(c, ZMTP_CONNECT_FAILED, "connect to %s: no answer in %d ms",
                    ep->text, cfg->timeout_ms);
    int err = 0;
    socklen_t len = sizeof err;
    getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len);
    if (err)
        return fail(c, ZMTP_CONNECT_FAILED, "connect to %s: %s", ep->text,
                    strerror(err));
    return 0;
}

/* ---- bytes in and out --------------------------------------------------- */

/* More bytes from the peer into the input buffer: 1, 0 when there are none
 * yet (NO_WAIT only) or no room, -1 when the peer is gone or silent. */
static int in_fill(zmtp_conn_t *c, double deadline)
{
    if (c->in_start == c->in_end) {
        c->in_start = c->in_end = 0;
    } else if (c->in_start > 0) {
        memmove(c->in, c->in + c->in_start, c->in_end - c->in_start);
        c->in_end -= c->in_start;
        c->in_start = 0;
    }
    if (c->in_end == sizeof c->in)
        return 0;
    for (;;) {
        ssize_t n = recv(c->fd, c->in + c->in_end, sizeof c->in - c->in_end, 0);
        if (n > 0) {
            c->in_end += (size_t)n;
            return 1;
        }
        if (n == 0)
            return fail(c, ZMTP_CLOSED, "the peer closed the connection");
        if (errno == EINTR)
            continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK)
            return fail_errno(c, errno, "recv");
        int r = wait_fd(c, POLLIN, deadline);
        if (r < 0)
            return -1;
        if (r == 0 && deadline == NO_WAIT)
            return 0;
        if (r == 0)
            return fail(c, ZMTP_TIMEOUT, "no answer from the peer in time");
    }
}

static int read_exact(zmtp_conn_t *c, uint8_t *dst, size_t n, double deadline)
{
    while (n > 0) {
        if (c->in_start == c->in_end && in_fill(c, deadline) <= 0)
            return -1;
        size_t take = c->in_end - c->in_start < n ? c->in_end - c->in_start : n;
        memcpy(dst, c->in + c->in_start, take);
        c->in_start += take;
        dst += take;
        n -= take;
    }
    return 0;
}

static int grow(zmtp_conn_t *c, uint8_t **buf, size_t *cap, size_t need)
{
    if (need <= *cap)
        return 0;
    uint8_t *p = realloc(*buf, need);
    if (!p)
        return fail(c, ZMTP_LOCAL, "out of memory for %zu bytes", need);
    *buf = p;
    *cap = need;
    return 0;
}

/* Writes the output buffer whole. Meanwhile the peer's bytes are kept (a
 * reply, an ERROR) and its close or reset ends the write. */
static int flush(zmtp_conn_t *c, double deadline)
{
    size_t off = 0;
    while (off < c->out_len) {
        ssize_t n = send(c->fd, c->out + off, c->out_len - off, MSG_NOSIGNAL);
        if (n > 0) {
            off += (size_t)n;
            c->sent += (uint64_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
            return fail_errno(c, errno, "send");
        bool room = c->in_start > 0 || c->in_end < sizeof c->in;
        int r = wait_fd(c, (short)(POLLOUT | (room ? POLLIN : 0)), deadline);
        if (r < 0)
            return -1;
        if (r == 0)
            return fail(c, ZMTP_TIMEOUT, "the peer took no bytes in time (%zu of "
                        "a %zu-byte frame written)", off, c->out_len);
        if ((r & (POLLIN | POLLERR | POLLHUP)) && room && in_fill(c, NO_WAIT) < 0)
            return -1;
    }
    c->out_len = 0;
    return 0;
}

/* A frame header for a body of len bytes into out; its length. */
static size_t header_put(uint8_t *out, uint8_t flags, size_t len)
{
    if (len <= SHORT_SIZE_MAX) {
        out[0] = flags;
        out[1] = (uint8_t)len;
        return 2;
    }
    out[0] = flags | FLAG_LONG;
    store64(out + 1, len);
    return HEADER_MAX;
}

/* A frame in the clear: the greeting aside, everything before CURVE is up
 * and every frame of the NULL mechanism. */
static int frame_send(zmtp_conn_t *c, uint8_t flags, const void *body, size_t len,
                      double deadline)
{
    if (grow(c, &c->out, &c->out_cap, HEADER_MAX + len) != 0)
        return -1;
    size_t h = header_put(c->out, flags, len);
    if (len)
        memcpy(c->out + h, body, len);
    c->out_len = h + len;
    return flush(c, deadline);
}

/* ---- frames in ---------------------------------------------------------- */

/* Moves bytes from the input buffer into the frame being assembled: 1 when
 * it is whole (head[0] its flags, body[0..body_len) its body), 0 when more
 * bytes are needed, -1 on a frame this client will not take. */
static int frame_take(zmtp_conn_t *c)
{
    size_t max = c->ready ? ZMTP_FRAME_MAX : HANDSHAKE_FRAME_MAX;
    while (c->in_start < c->in_end) {
        if (!c->in_body) {
            c->head[c->head_got++] = c->in[c->in_start++];
            if (c->head_got == 1) {
                if (c->head[0] & FLAG_RESERVED)
                    return fail(c, ZMTP_PROTOCOL, "frame flags 0x%02x: reserved "
                                "bits set", c->head[0]);
                c->head_need = c->head[0] & FLAG_LONG ? HEADER_MAX : 2;
            }
            if (c->head_got < c->head_need)
                continue;
            uint64_t len = c->head_need == 2 ? c->head[1] : load64(c->head + 1);
            if (len > max)
                return fail(c, ZMTP_PROTOCOL, "a frame of %llu bytes (at most %zu "
                            "taken here)", (unsigned long long)len, max);
            if (grow(c, &c->body, &c->body_cap, len ? len : 1) != 0)
                return -1;
            c->body_len = (size_t)len;
            c->body_got = 0;
            c->in_body = true;
        }
        size_t avail = c->in_end - c->in_start, want = c->body_len - c->body_got;
        size_t take = avail < want ? avail : want;
        memcpy(c->body + c->body_got, c->in + c->in_start, take);
        c->in_start += take;
        c->body_got += take;
        if (c->body_got == c->body_len) {
            c->in_body = false;
            c->head_got = 0;
            return 1;
        }
    }
    return 0;
}

/* The next whole frame: 1, 0 when none is whole yet (NO_WAIT only), -1. */
static int frame_read(zmtp_conn_t *c, double deadline)
{
    for (;;) {
        int r = frame_take(c);
        if (r != 0)
            return r;
        r = in_fill(c, deadline);
        if (r <= 0)
            return r;
    }
}

/* A handshake command from the peer: its body (name length, name, data). */
static int command_read(zmtp_conn_t *c, const char *expected)
{
    if (frame_read(c, c->deadline) < 0)
        return -1;
    if (!(c->head[0] & FLAG_COMMAND))
        return fail(c, ZMTP_PROTOCOL, "a message frame instead of %s", expected);
    if (c->body_len < 1 || c->body[0] + 1u > c->body_len)
        return fail(c, ZMTP_PROTOCOL, "a malformed command instead of %s", expected);
    return 0;
}

static bool command_is(const zmtp_conn_t *c, const char *name)
{
    size_t n = strlen(name);
    return c->body[0] == n && memcmp(c->body + 1, name, n) == 0;
}

/* An ERROR command ("\5ERROR", reason length, reason) ends the handshake. */
static int command_error(zmtp_conn_t *c)
{
    const size_t at = 1 + 5;
    size_t n = c->body_len > at ? c->body[at] : 0;
    if (at + 1 + n > c->body_len)
        n = c->body_len > at + 1 ? c->body_len - at - 1 : 0;
    return fail(c, ZMTP_ERROR, "%.*s", (int)n, (const char *)c->body + at + 1);
}

/* ---- metadata (properties) ---------------------------------------------- */

static size_t property_put(uint8_t *p, const char *name, const char *value)
{
    size_t nl = strlen(name), vl = strlen(value);
    p[0] = (uint8_t)nl;
    memcpy(p + 1, name, nl);
    p[1 + nl] = (uint8_t)(vl >> 24);
    p[2 + nl] = (uint8_t)(vl >> 16);
    p[3 + nl] = (uint8_t)(vl >> 8);
    p[4 + nl] = (uint8_t)vl;
    memcpy(p + 5 + nl, value, vl);
    return 5 + nl + vl;
}

/* Socket-Type and, when given, Identity: what READY and INITIATE carry. */
static size_t metadata_put(const zmtp_config_t *cfg, uint8_t *p)
{
    size_t n = property_put(p, "Socket-Type", cfg->socket_type);
    if (cfg->identity)
        n += property_put(p + n, "Identity", cfg->identity);
    return n;
}

/* Keeps the peer's Socket-Type from its metadata; -1 when malformed. */
static int metadata_take(zmtp_conn_t *c, const uint8_t *p, size_t len)
{
    while (len > 0) {
        size_t nl = p[0];
        if (1 + nl + PROP_VALUE_LEN_BYTES > len)
            return fail(c, ZMTP_PROTOCOL, "malformed metadata in READY");
        const uint8_t *v = p + 1 + nl;
        size_t vl = (size_t)v[0] << 24 | (size_t)v[1] << 16 | (size_t)v[2] << 8 | v[3];
        if (vl > len - 1 - nl - PROP_VALUE_LEN_BYTES)
            return fail(c, ZMTP_PROTOCOL, "malformed metadata in READY");
        if (nl == 11 && strncasecmp((const char *)p + 1, "Socket-Type", 11) == 0)
            snprintf(c->peer_type, sizeof c->peer_type, "%.*s",
                     (int)(vl < ZMTP_NAME_MAX ? vl : ZMTP_NAME_MAX - 1),
                     (const char *)v + PROP_VALUE_LEN_BYTES);
        size_t step = 1 + nl + PROP_VALUE_LEN_BYTES + vl;
        p += step;
        len -= step;
    }
    return 0;
}

/* ---- greeting and NULL -------------------------------------------------- */

static const char *mechanism_name(const zmtp_config_t *cfg)
{
    return cfg->mechanism == ZMTP_MECH_CURVE ? "CURVE" : "NULL";
}

static int greeting(zmtp_conn_t *c)
{
    uint8_t g[GREETING_BYTES] = {0xFF, [9] = 0x7F, [10] = 3, [11] = 0};
    const char *mech = mechanism_name(c->cfg);
    memcpy(g + GREETING_MECH_AT, mech, strlen(mech));
    g[GREETING_AS_SERVER_AT] = 0;
    if (grow(c, &c->out, &c->out_cap, sizeof g) != 0)
        return -1;
    memcpy(c->out, g, sizeof g);
    c->out_len = sizeof g;
    if (flush(c, c->deadline) != 0 || read_exact(c, g, sizeof g, c->deadline) != 0)
        return -1;
    if (g[0] != 0xFF || !(g[9] & 0x01))
        return fail(c, ZMTP_PROTOCOL, "the peer's greeting is not ZMTP's");
    if (g[10] < 3)
        return fail(c, ZMTP_PROTOCOL, "the peer speaks ZMTP %u.%u, not 3", g[10], g[11]);
    char theirs[GREETING_MECH_BYTES + 1] = {0};
    memcpy(theirs, g + GREETING_MECH_AT, GREETING_MECH_BYTES);
    if (strcmp(theirs, mech) != 0)
        return fail(c, ZMTP_PROTOCOL, "the peer's mechanism is %s, not %s",
                    theirs, mech);
    return 0;
}

static int null_handshake(zmtp_conn_t *c)
{
    uint8_t ready[1 + 5 + METADATA_MAX] = "\5READY";
    size_t n = 6 + metadata_put(c->cfg, ready + 6);
    if (frame_send(c, FLAG_COMMAND, ready, n, c->deadline) != 0 ||
        command_read(c, "READY") != 0)
        return -1;
    if (command_is(c, "ERROR"))
        return command_error(c);
    if (!command_is(c, "READY"))
        return fail(c, ZMTP_PROTOCOL, "a %.*s command instead of READY",
                    c->body[0], (const char *)c->body + 1);
    return metadata_take(c, c->body + 6, c->body_len - 6);
}

/* ---- CURVE -------------------------------------------------------------- */

/* prefix (16 bytes) + the next short nonce; the short nonce goes to at. */
static void short_nonce(zmtp_conn_t *c, uint8_t nonce[NONCE_BYTES],
                        const char *prefix, uint8_t *at)
{
    memcpy(nonce, prefix, NONCE_BYTES - SHORT_NONCE_BYTES);
    store64(nonce + NONCE_BYTES - SHORT_NONCE_BYTES, c->nonce++);
    memcpy(at, nonce + NONCE_BYTES - SHORT_NONCE_BYTES, SHORT_NONCE_BYTES);
}

static int curve_keys(zmtp_conn_t *c)
{
    const zmtp_config_t *cfg = c->cfg;
    if (cfg->secret_key) {
        memcpy(c->public_key, cfg->public_key, ZMTP_KEY_BYTES);
        c->secret_key = cfg->secret_key;
    } else {
        crypto_box_keypair(c->public_key, c->sec->secret);
        c->secret_key = c->sec->secret;
    }
    crypto_box_keypair(c->cn_public, c->sec->cn_secret);
    c->nonce = 1;
    return 0;
}

/* HELLO: C', and 64 zero bytes boxed from C' to S (proof that the client
 * knows the server's key). */
static int curve_hello(zmtp_conn_t *c)
{
    uint8_t hello[HELLO_BYTES] = "\5HELLO\1\0"; /* version 1.0, zero padding */
    uint8_t nonce[NONCE_BYTES], zeros[HELLO_SIGNATURE_BYTES] = {0};
    memcpy(hello + HELLO_KEY_AT, c->cn_public, ZMTP_KEY_BYTES);
    short_nonce(c, nonce, "CurveZMQHELLO---", hello + HELLO_NONCE_AT);
    if (crypto_box_easy(hello + HELLO_BOX_AT, zeros, sizeof zeros, nonce,
                        c->cfg->server_key, c->sec->cn_secret) != 0)
        return fail(c, ZMTP_LOCAL, "crypto_box_easy failed (HELLO)");
    return frame_send(c, FLAG_COMMAND, hello, sizeof hello, c->deadline);
}

/* WELCOME: S' and the cookie, boxed from S to C'. */
static int curve_welcome(zmtp_conn_t *c)
{
    if (command_read(c, "WELCOME") != 0)
        return -1;
    if (command_is(c, "ERROR"))
        return command_error(c);
    if (!command_is(c, "WELCOME") || c->body_len != WELCOME_BYTES)
        return fail(c, ZMTP_PROTOCOL, "a %zu-byte %.*s command instead of WELCOME",
                    c->body_len, c->body[0], (const char *)c->body + 1);
    uint8_t nonce[NONCE_BYTES] = "WELCOME-";
    uint8_t plain[ZMTP_KEY_BYTES + COOKIE_BYTES];
    memcpy(nonce + 8, c->body + WELCOME_NONCE_AT, LONG_NONCE_BYTES);
    if (crypto_box_open_easy(plain, c->body + WELCOME_BOX_AT,
                             WELCOME_BYTES - WELCOME_BOX_AT, nonce,
                             c->cfg->server_key, c->sec->cn_secret) != 0)
        return fail(c, ZMTP_PROTOCOL, "WELCOME does not open with the server key");
    memcpy(c->cn_server, plain, ZMTP_KEY_BYTES);
    memcpy(c->cookie, plain + ZMTP_KEY_BYTES, COOKIE_BYTES);
    if (crypto_box_beforenm(c->sec->precomputed, c->cn_server, c->sec->cn_secret) != 0)
        return fail(c, ZMTP_PROTOCOL, "the server's transient key is unusable");
    return 0;
}

/* INITIATE: the cookie, then boxed from C' to S': C, the vouch (C' and S
 * boxed from C to S', which proves C holds its secret), and metadata. */
static int curve_initiate(zmtp_conn_t *c)
{
    uint8_t vouch_nonce[NONCE_BYTES] = "VOUCH---";
    uint8_t vouch_plain[VOUCH_PLAIN_BYTES];
    uint8_t plain[INITIATE_PLAIN_FIXED + METADATA_MAX];
    uint8_t cmd[INITIATE_BOX_AT + MAC_BYTES + sizeof plain] = "\x08INITIATE";
    randombytes_buf(vouch_nonce + 8, LONG_NONCE_BYTES);
    memcpy(vouch_plain, c->cn_public, ZMTP_KEY_BYTES);
    memcpy(vouch_plain + ZMTP_KEY_BYTES, c->cfg->server_key, ZMTP_KEY_BYTES);
    memcpy(plain, c->public_key, ZMTP_KEY_BYTES);
    memcpy(plain + ZMTP_KEY_BYTES, vouch_nonce + 8, LONG_NONCE_BYTES);
    if (crypto_box_easy(plain + ZMTP_KEY_BYTES + LONG_NONCE_BYTES, vouch_plain,
                        sizeof vouch_plain, vouch_nonce, c->cn_server,
                        c->secret_key) != 0)
        return fail(c, ZMTP_LOCAL, "crypto_box_easy failed (vouch)");
    size_t plain_len = INITIATE_PLAIN_FIXED +
                       metadata_put(c->cfg, plain + INITIATE_PLAIN_FIXED);
    uint8_t nonce[NONCE_BYTES];
    memcpy(cmd + INITIATE_COOKIE_AT, c->cookie, COOKIE_BYTES);
    short_nonce(c, nonce, "CurveZMQINITIATE", cmd + INITIATE_NONCE_AT);
    crypto_box_easy_afternm(cmd + INITIATE_BOX_AT, plain, plain_len, nonce,
                            c->sec->precomputed);
    return frame_send(c, FLAG_COMMAND, cmd, INITIATE_BOX_AT + MAC_BYTES + plain_len,
                      c->deadline);
}

/* READY: the server's metadata, boxed from S' to C'. */
static int curve_ready(zmtp_conn_t *c)
{
    if (command_read(c, "READY") != 0)
        return -1;
    if (command_is(c, "ERROR"))
        return command_error(c);
    if (!command_is(c, "READY") || c->body_len < READY_BOX_AT + MAC_BYTES)
        return fail(c, ZMTP_PROTOCOL, "a %zu-byte %.*s command instead of READY",
                    c->body_len, c->body[0], (const char *)c->body + 1);
    uint8_t nonce[NONCE_BYTES] = "CurveZMQREADY---";
    memcpy(nonce + 16, c->body + READY_NONCE_AT, SHORT_NONCE_BYTES);
    c->peer_nonce = load64(c->body + READY_NONCE_AT);
    size_t clen = c->body_len - READY_BOX_AT;
    uint8_t *plain = c->body + READY_BOX_AT; /* opened in place */
    if (crypto_box_open_easy_afternm(plain, plain, clen, nonce, c->sec->precomputed) != 0)
        return fail(c, ZMTP_PROTOCOL, "READY does not open");
    return metadata_take(c, plain, clen - MAC_BYTES);
}

static int curve_handshake(zmtp_conn_t *c)
{
    if (curve_keys(c) != 0 || curve_hello(c) != 0 || curve_welcome(c) != 0 ||
        curve_initiate(c) != 0)
        return -1;
    return curve_ready(c);
}

int zmtp_handshake(zmtp_conn_t *c)
{
    if (c->status != ZMTP_OK)
        return -1;
    if (greeting(c) != 0)
        return -1;
    int rc = c->cfg->mechanism == ZMTP_MECH_CURVE ? curve_handshake(c)
                                                    : null_handshake(c);
    c->ready = rc == 0;
    return rc;
}

/* ---- messages ----------------------------------------------------------- */

/* A frame (or command) as a CURVE MESSAGE: "\7MESSAGE", a short nonce, and
 * the box from C' to S' of a flags byte and the data. */
static int curve_send(zmtp_conn_t *c, uint8_t inner_flags, const void *data,
                      size_t len, double deadline)
{
    size_t body = MESSAGE_BOX_AT + MAC_BYTES + 1 + len;
    if (grow(c, &c->plain, &c->plain_cap, 1 + len) != 0 ||
        grow(c, &c->out, &c->out_cap, HEADER_MAX + body) != 0)
        return -1;
    c->plain[0] = inner_flags;
    if (len)
        memcpy(c->plain + 1, data, len);
    size_t h = header_put(c->out, 0, body);
    uint8_t nonce[NONCE_BYTES];
    memcpy(c->out + h, "\7MESSAGE", 8);
    short_nonce(c, nonce, "CurveZMQMESSAGEC", c->out + h + MESSAGE_NONCE_AT);
    crypto_box_easy_afternm(c->out + h + MESSAGE_BOX_AT, c->plain, 1 + len, nonce,
                            c->sec->precomputed);
    c->out_len = h + body;
    return flush(c, deadline);
}

int zmtp_send(zmtp_conn_t *c, const void *data, size_t len, bool more,
              double deadline)
{
    if (c->status != ZMTP_OK)
        return -1;
    if (!c->ready)
        return fail(c, ZMTP_LOCAL, "a message before the handshake");
    if (len > ZMTP_FRAME_MAX)
        return fail(c, ZMTP_LOCAL, "a frame of %zu bytes (at most %u)", len,
                    ZMTP_FRAME_MAX);
    if (c->cfg->mechanism == ZMTP_MECH_CURVE)
        return curve_send(c, more ? MESSAGE_FLAG_MORE : 0, data, len, deadline);
    return frame_send(c, more ? FLAG_MORE : 0, data, len, deadline);
}

/* Opens the MESSAGE in body in place: its flags byte and data. */
static int curve_open(zmtp_conn_t *c, uint8_t *flags, uint8_t **data, size_t *len)
{
    if (c->body_len < MESSAGE_BOX_AT + MAC_BYTES + 1 ||
        memcmp(c->body, "\7MESSAGE", 8) != 0)
        return fail(c, ZMTP_PROTOCOL, "a frame that is not a CURVE MESSAGE");
    uint64_t n = load64(c->body + MESSAGE_NONCE_AT);
    if (n <= c->peer_nonce)
        return fail(c, ZMTP_PROTOCOL, "a MESSAGE nonce that did not go up");
    c->peer_nonce = n;
    uint8_t nonce[NONCE_BYTES] = "CurveZMQMESSAGES";
    memcpy(nonce + 16, c->body + MESSAGE_NONCE_AT, SHORT_NONCE_BYTES);
    uint8_t *box = c->body + MESSAGE_BOX_AT;
    size_t clen = c->body_len - MESSAGE_BOX_AT;
    if (crypto_box_open_easy_afternm(box, box, clen, nonce, c->sec->precomputed) != 0)
        return fail(c, ZMTP_PROTOCOL, "a MESSAGE that does not open");
    *flags = box[0];
    *data = box + 1;
    *len = clen - MAC_BYTES - 1;
    return 0;
}

/* PING (name, TTL, context) gets a PONG with the same context. */
static int command_handle(zmtp_conn_t *c, const uint8_t *cmd, size_t len)
{
    const size_t ttl_at = 1 + 4, context_at = ttl_at + 2;
    if (len >= context_at && memcmp(cmd, "\4PING", 5) == 0) {
        uint8_t pong[5 + PING_CONTEXT_MAX] = "\4PONG";
        size_t n = len - context_at < PING_CONTEXT_MAX ? len - context_at
                                                       : PING_CONTEXT_MAX;
        memcpy(pong + 5, cmd + context_at, n);
        double deadline = cli_now() + c->cfg->timeout_ms / 1000.0;
        if (c->cfg->mechanism == ZMTP_MECH_CURVE)
            return curve_send(c, MESSAGE_FLAG_COMMAND, pong, 5 + n, deadline);
        return frame_send(c, FLAG_COMMAND, pong, 5 + n, deadline);
    }
    if (len >= 6 && memcmp(cmd, "\5ERROR", 6) == 0) {
        c->body_len = len; /* command_error reads the body */
        return command_error(c);
    }
    return 0; /* anything else is the peer's business */
}

/* The next message frame: 1, 0 (NO_WAIT, none whole yet), -1. */
static int message_read(zmtp_conn_t *c, zmtp_frame_t *f, double deadline)
{
    for (;;) {
        int r = frame_read(c, deadline);
        if (r <= 0)
            return r;
        uint8_t flags = c->head[0], *data = c->body;
        size_t len = c->body_len;
        bool command = flags & FLAG_COMMAND, more = flags & FLAG_MORE;
        if (c->cfg->mechanism == ZMTP_MECH_CURVE) {
            if (curve_open(c, &flags, &data, &len) != 0)
                return -1;
            command = flags & MESSAGE_FLAG_COMMAND;
            more = flags & MESSAGE_FLAG_MORE;
        }
        if (command) {
            if (data != c->body)
                memmove(c->body, data, len);
            if (command_handle(c, c->body, len) != 0)
                return -1;
            continue;
        }
        *f = (zmtp_frame_t){.data = data, .len = len, .more = more};
        return 1;
    }
}

int zmtp_recv(zmtp_conn_t *c, zmtp_frame_t *frame, double deadline)
{
    if (c->status != ZMTP_OK)
        return -1;
    if (!c->ready)
        return fail(c, ZMTP_LOCAL, "a receive before the handshake");
    return message_read(c, frame, deadline) == 1 ? 0 : -1;
}

int zmtp_service(zmtp_conn_t *c)
{
    if (c->status != ZMTP_OK)
        return -1;
    if (!c->ready) { /* no handshake: the peer's greeting, dropped */
        int r;
        while ((r = in_fill(c, NO_WAIT)) > 0)
            c->in_start = c->in_end;
        return r;
    }
    zmtp_frame_t f;
    int r;
    while ((r = message_read(c, &f, NO_WAIT)) > 0)
        ;
    return r;
}
