/*
 * libzmq_object.h - find the loaded libzmq.so and whether it links
 * libsodium, from its DT_NEEDED entries in memory.
 *
 * Shared by zguard doctor (tools/doctor.c) and zguard-libzmq-probe, which
 * must not link libzmq or the rest of libzguard: it loads a staged libzmq
 * as the only one in its process. So this header and its .c depend on
 * nothing but libc.
 */
#ifndef ZG_TOOLS_LIBZMQ_OBJECT_H
#define ZG_TOOLS_LIBZMQ_OBJECT_H

#include <stdbool.h>

typedef struct zg_libzmq_object {
    char path[512];    /* as the loader names it */
    bool found;        /* a libzmq.so is loaded */
    bool needs_sodium; /* it has libsodium.so* among its DT_NEEDED */
} zg_libzmq_object_t;

/* The first libzmq.so among the loaded objects: the one symbols bind to. */
void zg_libzmq_object_find(zg_libzmq_object_t *out);

#endif
