/*
 * zg_abi.h - handing a public struct to a caller compiled against another
 * zguard.h. Structs the caller allocates (zg_counters_t, zg_auth_stats_t,
 * zg_gate_stats_t, zg_setting_t) only ever grow at the end, and every call
 * that fills one takes the caller's sizeof: an older caller gets the
 * fields it knows, a newer one gets zeros in the fields this library does
 * not have. Never more bytes than the caller said it has.
 */
#ifndef ZG_ABI_H
#define ZG_ABI_H

#include "zg_error.h"

#include <errno.h>
#include <stddef.h>
#include <string.h>

/* Copies what fits of full (full_size bytes) into out (size bytes) and
 * zeroes the rest of out. -1 with EINVAL when there is nowhere to copy. */
static inline int zg_abi_copy(void *out, size_t size, const void *full,
                              size_t full_size, const char *fn)
{
    if (!out || size == 0) {
        errno = EINVAL;
        zg_error_set("%s: no place to write to (out NULL or size 0)", fn);
        return -1;
    }
    size_t n = size < full_size ? size : full_size;
    memcpy(out, full, n);
    if (size > n)
        memset((char *)out + n, 0, size - n);
    return 0;
}

#endif
