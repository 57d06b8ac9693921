/*
 * zg_error.h - error.c and diag.c: how the library reports failure: the
 * calling thread's last error, and diagnostics about a file.
 */
#ifndef ZG_ERROR_H
#define ZG_ERROR_H

#include "zguard.h"

#define ZG_PRINTF(f, a) __attribute__((format(printf, f, a)))

void zg_error_set(const char *fmt, ...) ZG_PRINTF(1, 2);
void zg_error_clear(void);
/* text must outlive the thread's next zg_error_* call (a literal). */
void zg_error_set_const(const char *text);

void zg_diag_add(zg_diag_t *diag, zg_severity_t severity, const char *file,
                 unsigned line, const char *key, const char *fmt, ...)
    ZG_PRINTF(6, 7);

#endif
