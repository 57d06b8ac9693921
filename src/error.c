/*
 * error.c - the reason for the calling thread's last failure.
 *
 * errno cannot say "SNDHWM read back 500, policy says 1000", so every
 * failing function also leaves a line here. It is thread-local, like errno
 * and dlerror(): sockets belong to one thread, and so do their errors.
 */
#include "zg_internal.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>

static _Thread_local char last_error[ZG_ERROR_MAX];

const char *zg_last_error(void)
{
    return last_error;
}

void zg_error_set(const char *fmt, ...)
{
    int saved = errno; /* callers set errno first; formatting must not move it */
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(last_error, sizeof last_error, fmt, ap);
    va_end(ap);
    errno = saved;
}

void zg_error_clear(void)
{
    last_error[0] = '\0';
}
