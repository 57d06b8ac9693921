/*
 * zg_file.h - file.c: bounded reads of small text files (policies, the
 * advisory database). Key files have their own careful readers (keys.c).
 */
#ifndef ZG_FILE_H
#define ZG_FILE_H

#include "zguard.h"

#include <stddef.h>

/* A malloc'ed, NUL-terminated copy of a regular file of at most max bytes;
 * NULL with errno (EISDIR: not a regular file, EFBIG: larger than max). */
char *zg_text_read(const char *path, size_t max, size_t *len);

#endif
