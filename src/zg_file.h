/*
 * zg_file.h - file.c: files opened, read and written the careful way:
 * regular files only, bounded reads, atomic writes of one or two files.
 */
#ifndef ZG_FILE_H
#define ZG_FILE_H

#include "zguard.h"

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>

/* An fd open for reading on path, which is a regular file (st: its stat);
 * -1 with errno otherwise: from open/fstat, or, with *not_regular set,
 * EISDIR for a directory and EINVAL for anything else. */
int zg_file_open_regular(const char *path, struct stat *st,
                         bool *not_regular);
/* Reads until end of file or cap bytes; *len what was read. -1 with errno
 * on a read error (EINTR retried). */
int zg_file_read_fd(int fd, char *buf, size_t cap, size_t *len);
/* A malloc'ed, NUL-terminated copy of a regular file of at most max bytes;
 * NULL with errno (EISDIR: a directory, EINVAL: not a regular file, EFBIG:
 * larger than max). */
char *zg_file_read_text(const char *path, size_t max, size_t *len);

/* An atomic write of one or two files in one go. */
enum { ZG_WRITE_REPLACE = 0, ZG_WRITE_NOREPLACE = 1 };
typedef struct zg_write {
    const char *path;
    const char *data;
    size_t len;
    mode_t mode;
} zg_write_t;

/* Every file is written to a temporary file beside it (mode set before the
 * first byte), fsynced, then renamed over (or, NOREPLACE, linked to) its
 * name, then the directory is fsynced. If any step fails, none of the files
 * changed: the ones already in place get their old content back. */
int zg_files_write(const zg_write_t *files, size_t n, int flags);

#endif
