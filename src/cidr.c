/*
 * cidr.c - IP address ranges for the authenticator's allow_ip / deny_ip.
 *
 * ZAP hands the authenticator the peer's address as text (an IPv4 or IPv6
 * address without a port; ipc peers give ":uid:gid:pid", to which IP rules
 * do not apply). A rule is an address with an optional prefix length:
 * "10.0.0.0/8", "127.0.0.1", "fd00::/8".
 */
#include "zg_cidr.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <stdbool.h>

int zg_cidr_parse(const char *text, zg_cidr_t *out, const char **why)
{
    char addr[INET6_ADDRSTRLEN + 8];
    size_t n = strcspn(text, "/");
    if (n == 0 || n >= sizeof addr) {
        *why = "is not an IP address";
        return -1;
    }
    memcpy(addr, text, n);
    addr[n] = '\0';
    memset(out, 0, sizeof *out);
    if (inet_pton(AF_INET, addr, out->addr) == 1)
        out->family = AF_INET;
    else if (inet_pton(AF_INET6, addr, out->addr) == 1)
        out->family = AF_INET6;
    else {
        *why = "is not an IPv4 or IPv6 address";
        return -1;
    }
    unsigned max = out->family == AF_INET ? 32 : 128;
    out->bits = max;
    if (text[n] == '/') {
        char *end;
        const char *b = text + n + 1;
        long bits = strtol(b, &end, 10);
        if (*b < '0' || *b > '9' || *end || bits < 0 || bits > (long)max) {
            *why = out->family == AF_INET ? "has a prefix that is not 0 to 32"
                                          : "has a prefix that is not 0 to 128";
            return -1;
        }
        out->bits = (unsigned)bits;
    }
    return 0;
}

bool zg_cidr_match(const zg_cidr_t *rule, const char *address)
{
    uint8_t a[16];
    int family = strchr(address, ':') ? AF_INET6 : AF_INET;
    if (inet_pton(family, address, a) != 1)
        return false;
    /* an IPv4 peer on a dual-stack socket arrives as ::ffff:a.b.c.d */
    static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (family == AF_INET6 && rule->family == AF_INET &&
        memcmp(a, mapped, 12) == 0) {
        memmove(a, a + 12, 4);
        family = AF_INET;
    }
    if (family != rule->family)
        return false;
    unsigned full = rule->bits / 8, rest = rule->bits % 8;
    if (memcmp(a, rule->addr, full) != 0)
        return false;
    if (rest == 0)
        return true;
    uint8_t mask = (uint8_t)(0xff << (8 - rest));
    return (a[full] & mask) == (rule->addr[full] & mask);
}

int zg_cidr_list_parse(const char *list, zg_cidr_t **out, size_t *count,
                       const char **why)
{
    *out = NULL;
    *count = 0;
    size_t cap = 0;
    for (const char *p = list; *p;) {
        p += strspn(p, " \t,");
        size_t n = strcspn(p, ",");
        while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
            n--;
        if (n == 0)
            break;
        char item[INET6_ADDRSTRLEN + 8];
        if (n >= sizeof item) {
            *why = "has an entry that is not an IP address";
            goto fail;
        }
        memcpy(item, p, n);
        item[n] = '\0';
        if (*count == cap) {
            cap = cap ? cap * 2 : 4;
            zg_cidr_t *grown = realloc(*out, cap * sizeof *grown);
            if (!grown) {
                *why = "out of memory";
                goto fail;
            }
            *out = grown;
        }
        if (zg_cidr_parse(item, &(*out)[*count], why) != 0)
            goto fail;
        (*count)++;
        p += strcspn(p, ",");
    }
    if (*count == 0) {
        *why = "lists no address";
        goto fail;
    }
    return 0;
fail:
    free(*out);
    *out = NULL;
    *count = 0;
    return -1;
}
