/*
 * demo_peer.c - zguard-demo-peer: the clients and attackers `zguard demo`
 * runs against its gate, each in a process of its own. They are written
 * with plain libzmq, the way an outsider would, and use zguard only to
 * read key files. Each prints what it saw as lines the demo parses.
 *
 *   client  requests through the gate (DEALER): "ok SEQ RTT_US" or
 *           "lost SEQ" per request, then "done ok=N lost=M"
 *   flood   an authorized client that sends as fast as it can and never
 *           reads: "flood sent=N bytes=B pushed_back=K"
 *   silent  TCP connections that never say a word: "silent closed=C of N
 *           first_ms=A last_ms=B"
 *   relay   a TCP man in the middle that records every byte and, on
 *           SIGUSR1, flips one bit of the next client chunk of at least
 *           --flip-min bytes: "listening PORT", "flipped conn=K at=N"
 *   sink    a CURVE PULL that connects and never reads (a slow consumer):
 *           "ready" once its handshake succeeded
 *
 * Not meant to be run by hand; `zguard-demo-peer ROLE --help` lists a
 * role's options all the same.
 */
#include "cli_clock.h"
#include "cli_opt.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <stdarg.h>
#include <zguard.h>
#include <zmq.h>

#include "zguard_tools.h"

#define RELAY_PAIRS_MAX 16
#define RELAY_CHUNK 65536
#define SILENT_MAX 256
#define TAG_MAX 128 /* "TEXT SEQ " at the start of a request */

typedef struct peer_opts {
    const char *endpoint, *key, *server_key, *text, *capture, *to;
    bool plain;
    long count, interval_ms, timeout_ms, size, first_size, seconds;
    long sndtimeo_ms, connections, wait_ms, flip_min;
} peer_opts_t;

static volatile sig_atomic_t stopping, flip_pending;

static void on_stop(int sig)
{
    (void)sig;
    stopping = 1;
}

static void on_flip(int sig)
{
    (void)sig;
    flip_pending = 1;
}


static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    putchar('\n');
    fflush(stdout); /* the demo reads each line as it comes */
}

static int fail(const char *what)
{
    fprintf(stderr, "zguard-demo-peer: %s: %s\n", what,
                zg_last_error()[0] ? zg_last_error() : strerror(errno));
    return 2;
}

/* ---- CURVE client sockets ------------------------------------------------------ */

static int set_int(void *s, int opt, int v)
{
    return zmq_setsockopt(s, opt, &v, sizeof v);
}

/* A socket of `type` with this peer's keys (or none with --plain). */
static void *curve_socket(void *ctx, int type, const peer_opts_t *o)
{
    void *s = zmq_socket(ctx, type);
    set_int(s, ZMQ_LINGER, 0);
    if (o->plain)
        return s;
    zg_cert_t *me = zg_cert_load_pair(o->key, NULL);
    zg_cert_t *server = zg_cert_load(o->server_key);
    if (!me || !server) {
        fail(!me ? o->key : o->server_key);
        zg_cert_destroy(&me);
        zg_cert_destroy(&server);
        zmq_close(s);
        return NULL;
    }
    /* The secret goes from zguard's locked memory straight to libzmq. */
    zmq_setsockopt(s, ZMQ_CURVE_SERVERKEY, zg_cert_public_key(server), 32);
    zmq_setsockopt(s, ZMQ_CURVE_PUBLICKEY, zg_cert_public_key(me), 32);
    int rc = zmq_setsockopt(s, ZMQ_CURVE_SECRETKEY, zg_cert_secret_key(me), 32);
    zg_cert_destroy(&me);
    zg_cert_destroy(&server);
    if (rc != 0) {
        fail("secret key");
        zmq_close(s);
        return NULL;
    }
    return s;
}

/* ---- client ------------------------------------------------------------------------ */

/* One request: the reply to this seq within timeout, late replies to
 * earlier ones skipped. 1 answered, 0 lost. */
static int request(void *s, long seq, const peer_opts_t *o, char *body,
                   size_t size)
{
    char tag[TAG_MAX];
    int tl = snprintf(tag, sizeof tag, "%s %ld ", o->text, seq);
    tl = tl < (int)sizeof tag ? tl : (int)sizeof tag - 1;
    tl = (size_t)tl < size ? tl : (int)size;
    memcpy(body, tag, (size_t)tl);
    if (zmq_send(s, "", 0, ZMQ_SNDMORE) < 0 || zmq_send(s, body, size, 0) < 0)
        return 0;
    double deadline = cli_now() + (double)o->timeout_ms / 1000.0;
    char reply[TAG_MAX];
    for (;;) {
        int left = (int)((deadline - cli_now()) * 1000);
        if (left <= 0)
            return 0;
        set_int(s, ZMQ_RCVTIMEO, left);
        int more = 0;
        size_t ml = sizeof more;
        if (zmq_recv(s, reply, sizeof reply, 0) < 0) /* the delimiter */
            return 0;
        zmq_getsockopt(s, ZMQ_RCVMORE, &more, &ml);
        if (!more)
            continue;
        int n = zmq_recv(s, reply, sizeof reply, 0);
        if (n >= tl && memcmp(reply, tag, (size_t)tl) == 0)
            return 1;
    }
}

static int run_client(const peer_opts_t *o)
{
    void *ctx = zmq_ctx_new();
    void *s = curve_socket(ctx, ZMQ_DEALER, o);
    if (!s || zmq_connect(s, o->endpoint) != 0)
        return fail(o->endpoint);
    size_t cap = (size_t)(o->size > o->first_size ? o->size : o->first_size);
    char *body = malloc(cap + 64);
    memset(body, 'x', cap + 64);
    long ok = 0, lost = 0;
    for (long seq = 0; !stopping && (o->count == 0 || seq < o->count); seq++) {
        size_t size = (size_t)(seq == 0 && o->first_size ? o->first_size : o->size);
        double t0 = cli_now();
        if (request(s, seq, o, body, size)) {
            ok++;
            say("ok %ld %.0f", seq, (cli_now() - t0) * 1e6);
        } else {
            lost++;
            say("lost %ld", seq);
        }
        struct timespec gap = {o->interval_ms / 1000, (o->interval_ms % 1000) * 1000000};
        while (!stopping && nanosleep(&gap, &gap) != 0 && errno == EINTR)
            ; /* a request rate, not a wait for an event */
    }
    say("done ok=%ld lost=%ld", ok, lost);
    free(body);
    zmq_close(s);
    zmq_ctx_term(ctx);
    return lost ? 1 : 0;
}

/* ---- flood ------------------------------------------------------------------------ */

static int run_flood(const peer_opts_t *o)
{
    void *ctx = zmq_ctx_new();
    void *s = curve_socket(ctx, ZMQ_DEALER, o);
    if (!s)
        return 2;
    set_int(s, ZMQ_SNDTIMEO, (int)o->sndtimeo_ms);
    if (zmq_connect(s, o->endpoint) != 0)
        return fail(o->endpoint);
    char *body = malloc((size_t)o->size);
    memset(body, 'f', (size_t)o->size);
    long sent = 0, pushed_back = 0;
    double end = cli_now() + (double)o->seconds;
    while (!stopping && cli_now() < end) {
        if (zmq_send(s, "", 0, ZMQ_SNDMORE) < 0 ||
            zmq_send(s, body, (size_t)o->size, 0) < 0) {
            pushed_back += errno == EAGAIN;
            continue;
        }
        sent++;
    }
    /* Read what came back before closing: closing with unread data makes
     * the kernel reset the connection, and a reset that reaches libzmq 4.3
     * while its input is stopped by back-pressure and output is pending
     * aborts the whole process (assertion !_io_error, libzmq #4841; see
     * `zguard doctor`). That is a crash of its own, not the flood's memory
     * bound this role measures. */
    set_int(s, ZMQ_RCVTIMEO, 300);
    char reply[64];
    long drained = 0;
    while (zmq_recv(s, reply, sizeof reply, 0) >= 0)
        drained++;
    say("flood sent=%ld bytes=%ld pushed_back=%ld drained=%ld", sent,
        sent * o->size, pushed_back, drained);
    free(body);
    zmq_close(s);
    zmq_ctx_term(ctx);
    return 0;
}

/* ---- sink ------------------------------------------------------------------------- */

static int run_sink(const peer_opts_t *o)
{
    void *ctx = zmq_ctx_new();
    void *s = curve_socket(ctx, ZMQ_PULL, o);
    if (!s)
        return 2;
    set_int(s, ZMQ_RCVHWM, 10);
    set_int(s, ZMQ_RCVBUF, 64 * 1024);
    zmq_socket_monitor(s, "inproc://sink-monitor", ZMQ_EVENT_HANDSHAKE_SUCCEEDED);
    void *mon = zmq_socket(ctx, ZMQ_PAIR);
    set_int(mon, ZMQ_LINGER, 0);
    zmq_connect(mon, "inproc://sink-monitor");
    if (zmq_connect(s, o->endpoint) != 0)
        return fail(o->endpoint);
    zmq_msg_t ev;
    zmq_msg_init(&ev);
    if (zmq_msg_recv(&ev, mon, 0) >= 0) /* the handshake event */
        say("ready");
    zmq_msg_close(&ev);
    while (!stopping)
        pause(); /* reads nothing, ever: that is the point */
    zmq_close(mon);
    zmq_close(s);
    zmq_ctx_term(ctx);
    return 0;
}

/* ---- raw TCP ---------------------------------------------------------------------- */

static int tcp_connect(const char *to)
{
    char host[64];
    const char *colon = strrchr(to, ':');
    if (!colon || (size_t)(colon - to) >= sizeof host)
        return -1;
    snprintf(host, sizeof host, "%.*s", (int)(colon - to), to);
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_port = htons((uint16_t)atoi(colon + 1))};
    if (inet_pton(AF_INET, host, &a.sin_addr) != 1)
        return -1;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        close(fd);
        fd = -1;
    }
    return fd;
}

static int run_silent(const peer_opts_t *o)
{
    struct pollfd fds[SILENT_MAX];
    int n = (int)(o->connections < SILENT_MAX ? o->connections : SILENT_MAX);
    for (int i = 0; i < n; i++) {
        fds[i] = (struct pollfd){.fd = tcp_connect(o->to), .events = POLLIN};
        if (fds[i].fd < 0)
            return fail(o->to);
    }
    double t0 = cli_now(), first = -1, last = -1, end = t0 + (double)o->wait_ms / 1000;
    int closed = 0;
    say("silent connected=%d", n);
    while (closed < n && cli_now() < end && !stopping) {
        if (poll(fds, (nfds_t)n, (int)((end - cli_now()) * 1000) + 1) <= 0)
            continue;
        for (int i = 0; i < n; i++) {
            char c;
            if (fds[i].fd < 0 || !fds[i].revents || read(fds[i].fd, &c, 1) > 0)
                continue; /* a byte from the server: still open */
            double at = (cli_now() - t0) * 1000;
            first = first < 0 ? at : first;
            last = at;
            close(fds[i].fd);
            fds[i].fd = -1;
            closed++;
        }
    }
    say("silent closed=%d of %d first_ms=%.0f last_ms=%.0f", closed, n, first,
        last);
    for (int i = 0; i < n; i++)
        if (fds[i].fd >= 0)
            close(fds[i].fd);
    return closed == n ? 0 : 1;
}

/* ---- relay ------------------------------------------------------------------------ */

typedef struct relay {
    int listen, capture;
    int client[RELAY_PAIRS_MAX], server[RELAY_PAIRS_MAX];
    int pairs;
    long forwarded; /* client -> server bytes, for "at" */
    long flip_min;  /* flip only in a chunk this long: a request, not a PONG */
} relay_t;

static int relay_listen(void)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) != 0 ||
        listen(fd, 16) != 0 || getsockname(fd, (struct sockaddr *)&a, &len) != 0)
        return -1;
    say("listening %d", ntohs(a.sin_port));
    return fd;
}

static void relay_close(relay_t *r, int i)
{
    close(r->client[i]);
    close(r->server[i]);
    r->client[i] = r->client[r->pairs - 1];
    r->server[i] = r->server[r->pairs - 1];
    r->pairs--;
}

/* Copies what fd `from` has to `to`, recording it; flips the last byte of a
 * client's chunk when asked. 0, or -1 when either side is done. */
static int relay_copy(relay_t *r, int i, bool from_client)
{
    static char buf[RELAY_CHUNK];
    int from = from_client ? r->client[i] : r->server[i];
    int to = from_client ? r->server[i] : r->client[i];
    ssize_t n = read(from, buf, sizeof buf);
    if (n <= 0)
        return -1;
    if (from_client && flip_pending && n >= r->flip_min) {
        flip_pending = 0;
        buf[n - 1] ^= 0x01; /* one bit of one byte: a ciphertext byte */
        say("flipped conn=%d at=%ld", i, r->forwarded + n - 1);
    }
    if (from_client)
        r->forwarded += n;
    if (r->capture >= 0 && write(r->capture, buf, (size_t)n) != n)
        return -1;
    for (ssize_t off = 0; off < n;) {
        ssize_t w = write(to, buf + off, (size_t)(n - off));
        if (w <= 0)
            return -1;
        off += w;
    }
    return 0;
}

static void relay_accept(relay_t *r, const char *to)
{
    int c = accept4(r->listen, NULL, NULL, SOCK_CLOEXEC);
    if (c < 0)
        return;
    int s = r->pairs < RELAY_PAIRS_MAX ? tcp_connect(to) : -1;
    if (s < 0) {
        close(c);
        return;
    }
    r->client[r->pairs] = c;
    r->server[r->pairs++] = s;
}

static int run_relay(const peer_opts_t *o)
{
    relay_t r = {.listen = relay_listen(), .capture = -1, .flip_min = o->flip_min};
    if (r.listen < 0)
        return fail("relay listen");
    r.capture = open(o->capture, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (r.capture < 0)
        return fail(o->capture);
    while (!stopping) {
        struct pollfd fds[1 + 2 * RELAY_PAIRS_MAX] = {{.fd = r.listen, .events = POLLIN}};
        for (int i = 0; i < r.pairs; i++) {
            fds[1 + 2 * i] = (struct pollfd){.fd = r.client[i], .events = POLLIN};
            fds[2 + 2 * i] = (struct pollfd){.fd = r.server[i], .events = POLLIN};
        }
        if (poll(fds, (nfds_t)(1 + 2 * r.pairs), -1) <= 0)
            continue; /* EINTR: SIGUSR1 or a stop */
        for (int i = r.pairs - 1; i >= 0; i--) {
            bool done = (fds[1 + 2 * i].revents &&
                         relay_copy(&r, i, true) != 0) ||
                        (fds[2 + 2 * i].revents &&
                         relay_copy(&r, i, false) != 0);
            if (done)
                relay_close(&r, i);
        }
        if (fds[0].revents)
            relay_accept(&r, o->to);
    }
    while (r.pairs)
        relay_close(&r, 0);
    close(r.capture);
    close(r.listen);
    return 0;
}

/* ---- options --------------------------------------------------------------------- */

static const char usage[] =
    "usage: zguard-demo-peer ROLE [options]   (run by `zguard demo`)\n"
    "  client  --endpoint EP (--key K --server-key K | --plain) [--count N]\n"
    "          [--interval-ms N] [--timeout-ms N] [--size N] [--first-size N]\n"
    "          [--text T]\n"
    "  flood   --endpoint EP --key K --server-key K [--seconds N] [--size N]\n"
    "          [--sndtimeo-ms N]\n"
    "  silent  --to HOST:PORT [--connections N] [--wait-ms N]\n"
    "  relay   --to HOST:PORT --capture FILE [--flip-min BYTES]\n"
    "  sink    --endpoint EP --key K --server-key K\n";

/* Options with a text value, then those with a number, then --plain. */
enum { P_ENDPOINT, P_KEY, P_SERVER_KEY, P_TEXT, P_CAPTURE, P_TO,
       P_COUNT, P_INTERVAL_MS, P_TIMEOUT_MS, P_SIZE, P_FIRST_SIZE, P_SECONDS,
       P_SNDTIMEO_MS, P_CONNECTIONS, P_WAIT_MS, P_FLIP_MIN, P_PLAIN };

static const cli_opt_t options[] = {
    {"endpoint", 0, "EP", P_ENDPOINT}, {"key", 0, "K", P_KEY},
    {"server-key", 0, "K", P_SERVER_KEY}, {"text", 0, "T", P_TEXT},
    {"capture", 0, "FILE", P_CAPTURE}, {"to", 0, "HOST:PORT", P_TO},
    {"count", 0, "N", P_COUNT}, {"interval-ms", 0, "N", P_INTERVAL_MS},
    {"timeout-ms", 0, "N", P_TIMEOUT_MS}, {"size", 0, "N", P_SIZE},
    {"first-size", 0, "N", P_FIRST_SIZE}, {"seconds", 0, "N", P_SECONDS},
    {"sndtimeo-ms", 0, "N", P_SNDTIMEO_MS},
    {"connections", 0, "N", P_CONNECTIONS}, {"wait-ms", 0, "N", P_WAIT_MS},
    {"flip-min", 0, "BYTES", P_FLIP_MIN}, {"plain", 0, NULL, P_PLAIN},
    {NULL, 0, NULL, 0}};

/* The options after ROLE (argv[0]); -1 after a message on a usage error. */
static int parse(int argc, char **argv, peer_opts_t *o)
{
    *o = (peer_opts_t){.text = "req", .count = 1, .interval_ms = 0,
                       .timeout_ms = 2000, .size = 64, .seconds = 2,
                       .sndtimeo_ms = 100, .connections = 10, .wait_ms = 10000};
    const char **texts[] = {&o->endpoint, &o->key, &o->server_key,
                            &o->text, &o->capture, &o->to};
    long *numbers[] = {&o->count, &o->interval_ms, &o->timeout_ms,
                       &o->size, &o->first_size, &o->seconds,
                       &o->sndtimeo_ms, &o->connections, &o->wait_ms,
                       &o->flip_min};
    cli_opts_t p = {.cmd = "zguard-demo-peer", .table = options,
                    .argc = argc, .argv = argv};
    for (int id; (id = cli_opt_next(&p)) != CLI_OPT_END;) {
        char *end;
        if (id == CLI_OPT_ERROR)
            return -1;
        if (id == P_PLAIN) {
            o->plain = true;
        } else if (id < P_COUNT) {
            *texts[id] = p.value;
        } else {
            *numbers[id - P_COUNT] = strtol(p.value, &end, 10);
            if (end == p.value || *end) {
                cli_usage_error(p.cmd, "--%s wants a number, not '%s'",
                                p.opt->name, p.value);
                return -1;
            }
        }
    }
    if (p.nargs) {
        cli_usage_error(p.cmd, "unexpected argument '%s'", cli_opt_args(&p)[0]);
        return -1;
    }
    if (o->size < 16)
        o->size = 16; /* room for the tag */
    return 0;
}

int main(int argc, char **argv)
{
    peer_opts_t o;
    if (argc < 2 || cli_wants_help(argc, argv)) {
        fputs(usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (parse(argc - 1, argv + 1, &o) != 0)
        return 2;
    struct sigaction stop = {.sa_handler = on_stop}, flip = {.sa_handler = on_flip};
    sigaction(SIGTERM, &stop, NULL);
    sigaction(SIGINT, &stop, NULL);
    sigaction(SIGUSR1, &flip, NULL);
    signal(SIGPIPE, SIG_IGN);
    if (strcmp(argv[1], "client") == 0 && o.endpoint)
        return run_client(&o);
    if (strcmp(argv[1], "flood") == 0 && o.endpoint)
        return run_flood(&o);
    if (strcmp(argv[1], "sink") == 0 && o.endpoint)
        return run_sink(&o);
    if (strcmp(argv[1], "silent") == 0 && o.to)
        return run_silent(&o);
    if (strcmp(argv[1], "relay") == 0 && o.to && o.capture)
        return run_relay(&o);
    fprintf(stderr, "zguard-demo-peer: unknown role or missing option\n%s", usage);
    return 2;
}
