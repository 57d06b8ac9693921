/*
 * endpoint.c - what an endpoint string says: which transport, and whether
 * traffic on it can leave this machine.
 *
 * The gate's backend carries plaintext to the service it protects; that is
 * acceptable only on a hop no network sees, so the policy check asks here
 * before any socket exists. A gate's backend may be a comma-separated list
 * of endpoints (a client-mode gate connecting to several servers).
 */
#include "zg_endpoint.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <stdbool.h>

static bool has_prefix(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

const char *zg_endpoint_problem(const char *ep)
{
    if (has_prefix(ep, "inproc://") || has_prefix(ep, "ipc://")) {
        if (!strchr(ep, '/')[2])
            return "has no name after '//'";
        return NULL;
    }
    if (!has_prefix(ep, "tcp://"))
        return "is not a tcp://, ipc:// or inproc:// endpoint";
    const char *addr = ep + 6, *colon = strrchr(addr, ':');
    if (!colon || colon == addr)
        return "needs an address and a port: tcp://127.0.0.1:5555";
    const char *port = colon + 1;
    if (strcmp(port, "*") == 0)
        return NULL; /* any free port: libzmq picks one */
    if (!*port || strspn(port, "0123456789") != strlen(port) ||
        strlen(port) > 5)
        return "has no port number after the last ':'";
    return NULL;
}

/* The host part of a tcp endpoint, without brackets, into buf. */
static void tcp_host(const char *ep, char *buf, size_t cap)
{
    const char *addr = ep + 6, *colon = strrchr(addr, ':');
    size_t n = colon ? (size_t)(colon - addr) : strlen(addr);
    /* a connect endpoint may name its source: "tcp://src;dst:port" */
    const char *semi = memchr(addr, ';', n);
    if (semi) {
        n -= (size_t)(semi + 1 - addr);
        addr = semi + 1;
    }
    if (n >= 2 && addr[0] == '[' && addr[n - 1] == ']') {
        addr++;
        n -= 2;
    }
    snprintf(buf, cap, "%.*s", (int)(n < cap ? n : cap - 1), addr);
}

bool zg_endpoint_is_local(const char *ep)
{
    if (has_prefix(ep, "inproc://") || has_prefix(ep, "ipc://"))
        return true;
    if (!has_prefix(ep, "tcp://"))
        return false;
    char host[256];
    tcp_host(ep, host, sizeof host);
    return strcmp(host, "localhost") == 0 || strcmp(host, "::1") == 0 ||
           (has_prefix(host, "127.") &&
            strspn(host, "0123456789.") == strlen(host));
}

bool zg_endpoint_next(const char **list, char out[ZG_ENDPOINT_MAX])
{
    const char *s = *list;
    while (isspace((unsigned char)*s))
        s++;
    if (!*s)
        return false;
    size_t n = strcspn(s, ",");
    *list = s + n + (s[n] == ',');
    while (n && isspace((unsigned char)s[n - 1]))
        n--;
    if (n >= ZG_ENDPOINT_MAX)
        n = 0;
    memcpy(out, s, n);
    out[n] = '\0';
    return true;
}
