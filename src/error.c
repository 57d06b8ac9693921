/*
 * error.c - the reason for the calling thread's last failure.
 *
 * errno cannot say "SNDHWM read back 500, policy says 1000", so every
 * failing function also leaves a line here. It is thread-local, like errno
 * and dlerror(): sockets belong to one thread, and so do their errors.
 */
#include "zg_error.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>

static _Thread_local char last_error[ZG_ERROR_MAX];
/* A constant reason, set without formatting: for outcomes that are flow
 * control in a polling loop, not failures (an empty DONTWAIT receive costs
 * ~2,000 instructions to format; this is two stores). */
static _Thread_local const char *last_const;

const char *zg_last_error(void)
{
    return last_const ? last_const : last_error;
}

void zg_error_set_const(const char *text)
{
    last_const = text;
}

void zg_error_set(const char *fmt, ...)
{
    int saved = errno; /* callers set errno first; formatting must not move it */
    last_const = NULL;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(last_error, sizeof last_error, fmt, ap);
    va_end(ap);
    errno = saved;
}

void zg_error_clear(void)
{
    last_const = NULL;
    last_error[0] = '\0';
}
