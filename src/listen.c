/*
 * listen.c - the gate's frontend listening sockets, when the gate holds
 * them rather than libzmq (which binds through ZMQ_USE_FD then).
 *
 * Two reasons to hold one. Systemd socket activation: the socket is
 * inherited (LISTEN_PID, LISTEN_FDS, fd 3; the protocol of sd_listen_fds(3),
 * five lines, so no libsystemd). A new key pair on SIGHUP: libzmq copies a
 * socket's options into a listener when it binds, and its sessions are
 * children of that listener, so a key set after the bind never reaches a
 * new handshake and unbinding would close every session the listener
 * accepted. The gate therefore binds a second listener, with the new key,
 * on the same port (SO_REUSEPORT) and steers every new connection to it
 * with a one-instruction classic BPF program; the old listener accepts
 * nothing more and keeps its sessions until they end.
 */
#include "zg_error.h"
#include "zg_listen.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define LISTEN_FDS_START 3 /* sd_listen_fds(3) */
#define LISTEN_BACKLOG 100 /* libzmq's ZMQ_BACKLOG default */

/* "tcp://HOST:PORT" into a socket address; 1 when HOST is not a numeric
 * address or '*' (an interface or host name: libzmq resolves those), -1
 * for no such endpoint. port may be '*' (0). */
static int tcp_address(const char *endpoint, struct sockaddr_storage *ss,
                       socklen_t *len)
{
    if (strncmp(endpoint, "tcp://", 6) != 0)
        return -1;
    const char *host = endpoint + 6, *colon = strrchr(host, ':');
    if (!colon || !colon[1])
        return -1;
    char h[ZG_ENDPOINT_MAX];
    size_t hl = (size_t)(colon - host);
    if (hl >= sizeof h)
        return -1;
    memcpy(h, host, hl);
    h[hl] = '\0';
    if (hl > 1 && h[0] == '[' && h[hl - 1] == ']') {
        memmove(h, h + 1, hl - 2);
        h[hl - 2] = '\0';
    }
    bool any_port = strcmp(colon + 1, "*") == 0;
    char *end = NULL;
    long port = any_port ? 0 : strtol(colon + 1, &end, 10);
    if (!any_port && (*end || port < 0 || port > 65535))
        return -1;
    memset(ss, 0, sizeof *ss);
    struct sockaddr_in *v4 = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)ss;
    if (strcmp(h, "*") == 0 || inet_pton(AF_INET, h, &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons((uint16_t)port);
        *len = sizeof *v4;
        return 0;
    }
    if (inet_pton(AF_INET6, h, &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons((uint16_t)port);
        *len = sizeof *v6;
        return 0;
    }
    return 1;
}

static void address_text(const struct sockaddr_storage *ss, char *out,
                         size_t cap)
{
    char host[INET6_ADDRSTRLEN] = "?";
    if (ss->ss_family == AF_INET) {
        const struct sockaddr_in *v4 = (const struct sockaddr_in *)ss;
        inet_ntop(AF_INET, &v4->sin_addr, host, sizeof host);
        snprintf(out, cap, "tcp://%s:%u", host, ntohs(v4->sin_port));
    } else if (ss->ss_family == AF_INET6) {
        const struct sockaddr_in6 *v6 = (const struct sockaddr_in6 *)ss;
        inet_ntop(AF_INET6, &v6->sin6_addr, host, sizeof host);
        snprintf(out, cap, "tcp://[%s]:%u", host, ntohs(v6->sin6_port));
    } else if (ss->ss_family == AF_UNIX) {
        snprintf(out, cap, "ipc://%s", ((const struct sockaddr_un *)ss)->sun_path);
    } else {
        snprintf(out, cap, "an address of family %d", ss->ss_family);
    }
}

/* Whether the socket's own address is the endpoint's (a port of 0 or '*'
 * in the endpoint matches any port). */
static bool same_address(const struct sockaddr_storage *have,
                         const char *endpoint)
{
    if (strncmp(endpoint, "ipc://", 6) == 0)
        return have->ss_family == AF_UNIX &&
               strcmp(((const struct sockaddr_un *)have)->sun_path,
                      endpoint + 6) == 0;
    struct sockaddr_storage want;
    socklen_t len;
    if (tcp_address(endpoint, &want, &len) != 0 ||
        want.ss_family != have->ss_family)
        return false;
    if (want.ss_family == AF_INET) {
        const struct sockaddr_in *w = (const void *)&want, *h = (const void *)have;
        return w->sin_addr.s_addr == h->sin_addr.s_addr &&
               (w->sin_port == 0 || w->sin_port == h->sin_port);
    }
    const struct sockaddr_in6 *w = (const void *)&want, *h = (const void *)have;
    return memcmp(&w->sin6_addr, &h->sin6_addr, sizeof w->sin6_addr) == 0 &&
           (w->sin6_port == 0 || w->sin6_port == h->sin6_port);
}

/* ---- systemd socket activation --------------------------------------------- */

static bool env_number(const char *name, long *out)
{
    const char *v = getenv(name);
    char *end;
    if (!v || !*v)
        return false;
    errno = 0;
    *out = strtol(v, &end, 10);
    return !*end && errno == 0;
}

static int inherited_fd(const char *endpoint, int fd)
{
    int listening = 0, type = 0;
    socklen_t n = sizeof listening;
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    char have[ZG_ENDPOINT_MAX + 64];
    if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &n) != 0 ||
        (n = sizeof type, getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &n)) != 0 ||
        !listening || type != SOCK_STREAM ||
        getsockname(fd, (struct sockaddr *)&ss, &sl) != 0) {
        zg_error_set("gate: socket activation: fd %d is not a listening "
                     "stream socket (a .socket unit with ListenStream=)",
                     fd);
        return -1;
    }
    address_text(&ss, have, sizeof have);
    if (!same_address(&ss, endpoint)) {
        zg_error_set("gate: socket activation: the inherited socket listens "
                     "on %s, the frontend is %s: make ListenStream= and the "
                     "frontend the same address",
                     have, endpoint);
        return -1;
    }
    fcntl(fd, F_SETFD, FD_CLOEXEC);
    return 0;
}

int zg_listen_inherited(const char *endpoint, int *fd)
{
    long pid, nfds;
    *fd = -1;
    bool have_pid = env_number("LISTEN_PID", &pid);
    bool have_fds = env_number("LISTEN_FDS", &nfds);
    /* for us only: not for the programs this one may start */
    unsetenv("LISTEN_PID");
    unsetenv("LISTEN_FDS");
    unsetenv("LISTEN_FDNAMES");
    if (!have_pid || !have_fds || pid != (long)getpid())
        return 0;
    if (nfds != 1) {
        zg_error_set("gate: socket activation: LISTEN_FDS is %ld; the gate "
                     "takes exactly one socket, its frontend (one "
                     "ListenStream= in the .socket unit)",
                     nfds);
        return -1;
    }
    if (strncmp(endpoint, "tcp://", 6) != 0 &&
        strncmp(endpoint, "ipc://", 6) != 0) {
        zg_error_set("gate: socket activation: the frontend %s is neither "
                     "tcp:// nor ipc://",
                     endpoint);
        return -1;
    }
    if (inherited_fd(endpoint, LISTEN_FDS_START) != 0)
        return -1;
    *fd = LISTEN_FDS_START;
    return 1;
}

/* ---- the gate's own listening sockets -------------------------------------- */

/* joining: SO_REUSEPORT before the bind, to join the port's listener.
 * Else after it: the bind still fails on a port in use, as libzmq's would
 * (a second gate on the port is refused, not given half the connections),
 * and the socket may still found a group others join. */
static int new_listener(const struct sockaddr_storage *ss, socklen_t len,
                        const char *endpoint, bool joining)
{
    int fd = socket(ss->ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0), on = 1;
    if (fd < 0 ||
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on) != 0 ||
        (joining &&
         setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof on) != 0) ||
        bind(fd, (const struct sockaddr *)ss, len) != 0 ||
        (!joining &&
         setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof on) != 0) ||
        listen(fd, LISTEN_BACKLOG) != 0) {
        int e = errno;
        zg_error_set("bind %s: %s", endpoint, strerror(e));
        if (fd >= 0)
            close(fd);
        errno = e;
        return -1;
    }
    return fd;
}

int zg_listen_tcp(const char *endpoint, int *fd)
{
    struct sockaddr_storage ss;
    socklen_t len;
    *fd = -1;
    int rc = tcp_address(endpoint, &ss, &len);
    if (rc != 0)
        return 1;
    *fd = new_listener(&ss, len, endpoint, false);
    return *fd < 0 ? -1 : 0;
}

const char *zg_listen_unshared(int fd)
{
    int on = 0;
    socklen_t n = sizeof on;
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    if (fd < 0)
        return "libzmq bound it: not tcp:// with a numeric address";
    if (getsockname(fd, (struct sockaddr *)&ss, &sl) != 0 ||
        (ss.ss_family != AF_INET && ss.ss_family != AF_INET6))
        return "an ipc:// path takes one listener";
    if (getsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, &n) != 0 || !on)
        return "the inherited socket has no SO_REUSEPORT: ReusePort=yes in "
               "the .socket unit";
    return NULL;
}

/* Every new connection to the port goes to the group's socket number
 * `index` (the kernel numbers a reuseport group's sockets in the order
 * they started listening). */
static int steer(int fd, unsigned index)
{
    struct sock_filter code[] = {{BPF_RET | BPF_K, 0, 0, index}};
    struct sock_fprog prog = {.len = 1, .filter = code};
    return setsockopt(fd, SOL_SOCKET, SO_ATTACH_REUSEPORT_CBPF, &prog,
                      sizeof prog);
}

int zg_listen_again(int fd, unsigned index, int *out)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    char ep[ZG_ENDPOINT_MAX + 64];
    *out = -1;
    if (getsockname(fd, (struct sockaddr *)&ss, &len) != 0) {
        zg_error_set("the frontend's listening socket: %s", strerror(errno));
        return -1;
    }
    address_text(&ss, ep, sizeof ep);
    int fresh = new_listener(&ss, len, ep, true);
    if (fresh < 0)
        return -1;
    if (steer(fresh, index) != 0) {
        zg_error_set("%s: cannot steer new connections to the new listener "
                     "(SO_ATTACH_REUSEPORT_CBPF): %s",
                     ep, strerror(errno));
        close(fresh);
        return -1;
    }
    *out = fresh;
    return 0;
}
