/*
 * zg_cidr.h - cidr.c: IP ranges for [auth] allow_ip / deny_ip.
 */
#ifndef ZG_CIDR_H
#define ZG_CIDR_H

#include "zguard.h"

#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>

typedef struct zg_cidr {
    int family; /* AF_INET or AF_INET6 */
    uint8_t addr[16];
    unsigned bits;
} zg_cidr_t;

int zg_cidr_parse(const char *text, zg_cidr_t *out, const char **why);
/* "a, b/8, c": a malloc'ed array; 0, or -1 and why. */
int zg_cidr_list_parse(const char *list, zg_cidr_t **out, size_t *count,
                       const char **why);
/* address as ZAP gives it: an IP without port. */
bool zg_cidr_match(const zg_cidr_t *rule, const char *address);

#endif
