/*
 * cli_http.c - reading a zguard metrics endpoint from the command line:
 * one HTTP/1.0 GET (no keep-alive, no TLS: the endpoint is meant for
 * loopback or a scraper's network) and sums over Prometheus text samples.
 * `zguard stats` shows them; `zguard demo` measures with them.
 */
#include "cli.h"

#include <errno.h>
#include <netdb.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define RESPONSE_MAX (16 << 20)

static int split_url(const char *url, char *host, size_t hcap, char *port,
                     size_t pcap)
{
    if (strncmp(url, "http://", 7) == 0)
        url += 7;
    const char *slash = strchr(url, '/');
    size_t n = slash ? (size_t)(slash - url) : strlen(url);
    const char *colon = memrchr(url, ':', n);
    if (!colon || colon == url || (size_t)(colon - url) >= hcap ||
        n - (size_t)(colon - url) - 1 >= pcap)
        return -1;
    snprintf(host, hcap, "%.*s", (int)(colon - url), url);
    snprintf(port, pcap, "%.*s", (int)(n - (size_t)(colon - url) - 1),
             colon + 1);
    if (host[0] == '[') { /* [::1] */
        memmove(host, host + 1, strlen(host));
        host[strcspn(host, "]")] = '\0';
    }
    return 0;
}

static int dial(const char *host, const char *port)
{
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *ai;
    if (getaddrinfo(host, port, &hints, &ai) != 0)
        return -1;
    int fd = -1;
    for (struct addrinfo *a = ai; a && fd < 0; a = a->ai_next) {
        fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, 0);
        if (fd >= 0 && connect(fd, a->ai_addr, a->ai_addrlen) != 0) {
            close(fd);
            fd = -1;
        }
    }
    freeaddrinfo(ai);
    return fd;
}

/* The whole response, or NULL; closes fd. */
static char *read_all(int fd, const char *req, size_t reqlen)
{
    char *buf = malloc(RESPONSE_MAX + 1);
    size_t len = 0;
    ssize_t got = buf && write(fd, req, reqlen) == (ssize_t)reqlen ? 1 : -1;
    while (got > 0 && len < RESPONSE_MAX) {
        got = read(fd, buf + len, RESPONSE_MAX - len);
        len += got > 0 ? (size_t)got : 0;
    }
    close(fd);
    if (got < 0) {
        free(buf);
        return NULL;
    }
    buf[len] = '\0';
    return buf;
}

char *cli_http_get(const char *url, const char *path, char *err, size_t ecap)
{
    char host[256], port[16], req[512];
    if (split_url(url, host, sizeof host, port, sizeof port) != 0) {
        snprintf(err, ecap, "'%s' is not http://HOST:PORT", url);
        return NULL;
    }
    int fd = dial(host, port);
    if (fd < 0) {
        snprintf(err, ecap, "cannot connect to %s:%s: %s", host, port,
                 strerror(errno));
        return NULL;
    }
    int n = snprintf(req, sizeof req, "GET %s HTTP/1.0\r\nHost: %s\r\n\r\n",
                     path, host);
    char *buf = read_all(fd, req, (size_t)n);
    if (!buf) {
        snprintf(err, ecap, "cannot read from %s:%s", host, port);
        return NULL;
    }
    char *body = strstr(buf, "\r\n\r\n");
    if (strncmp(buf, "HTTP/1.", 7) != 0 || strncmp(buf + 8, " 200", 4) != 0 ||
        !body) {
        snprintf(err, ecap, "%s:%s did not answer 200 to GET %s", host, port,
                 path);
        free(buf);
        return NULL;
    }
    memmove(buf, body + 4, strlen(body + 4) + 1);
    return buf;
}

/* Does the sample line (name{labels} value) carry every "k=\"v\"" of want? */
static int labels_match(const char *labels, size_t len,
                        const char *const *want)
{
    for (; want && *want; want++) {
        size_t wl = strlen(*want);
        const char *p = labels, *end = labels + len;
        int found = 0;
        while (!found && (p = memmem(p, (size_t)(end - p), *want, wl))) {
            found = (p == labels || p[-1] == ',' || p[-1] == '{') &&
                    (p[wl] == ',' || p[wl] == '}');
            p++;
        }
        if (!found)
            return 0;
    }
    return 1;
}

double cli_metric_sum(const char *text, const char *name,
                      const char *const *labels)
{
    double sum = 0;
    size_t nl = strlen(name);
    for (const char *line = text; line && *line;) {
        const char *eol = strchr(line, '\n');
        size_t len = eol ? (size_t)(eol - line) : strlen(line);
        if (line[0] != '#' && strncmp(line, name, nl) == 0 &&
            (line[nl] == '{' || line[nl] == ' ')) {
            const char *space = memrchr(line, ' ', len);
            if (space && labels_match(line + nl, (size_t)(space - line - nl),
                                      labels))
                sum += strtod(space + 1, NULL);
        }
        line = eol ? eol + 1 : NULL;
    }
    return sum;
}
