/*
 * file.c - opens and reads files the careful way: a regular file or
 * nothing (a FIFO or device in its place is refused, never waited on), read
 * whole and bounded. Small text files (a policy, the advisory database) are
 * read here; key and passphrase files use the same opening and reading, in
 * secure memory, from keys.c and passphrase.c.
 *
 * Such files are read once, whole, and handed to a parser that reports
 * lines; a directory, a device or something huge in their place is an
 * error (EISDIR, EFBIG) rather than a hang or an allocation of gigabytes.
 */
#include "zg_error.h"
#include "zg_file.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int zg_file_open_regular(const char *path, struct stat *st,
                         bool *not_regular)
{
    *not_regular = false;
    /* O_NONBLOCK: a FIFO in the file's place must not hang us before
     * fstat can tell what it is */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0)
        return -1;
    if (fstat(fd, st) != 0) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    if (!S_ISREG(st->st_mode)) {
        close(fd);
        *not_regular = true;
        errno = S_ISDIR(st->st_mode) ? EISDIR : EINVAL;
        return -1;
    }
    return fd;
}

int zg_file_read_fd(int fd, char *buf, size_t cap, size_t *len)
{
    size_t got = 0;
    while (got < cap) {
        ssize_t n = read(fd, buf + got, cap - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        if (n == 0)
            break;
        got += (size_t)n;
    }
    *len = got;
    return 0;
}

char *zg_file_read_text(const char *path, size_t max, size_t *len)
{
    struct stat st;
    bool not_regular;
    int fd = zg_file_open_regular(path, &st, &not_regular);
    if (fd < 0)
        return NULL;
    char *buf = NULL;
    if ((size_t)st.st_size > max) {
        errno = EFBIG;
        goto out;
    }
    buf = malloc((size_t)st.st_size + 1);
    if (!buf)
        goto out;
    if (zg_file_read_fd(fd, buf, (size_t)st.st_size, len) != 0) {
        int e = errno;
        free(buf);
        buf = NULL;
        errno = e;
        goto out;
    }
    buf[*len] = '\0';
out:;
    int saved = errno;
    close(fd);
    errno = saved;
    return buf;
}

/* ---- atomic writes -------------------------------------------------------- */

typedef struct pending {
    const zg_write_t *w;
    char tmp[PATH_MAX];
    char backup[PATH_MAX]; /* the old file, kept under a second name */
    bool has_tmp, has_backup, placed;
} pending_t;

static int write_all(int fd, const char *data, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, data, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        data += n;
        len -= (size_t)n;
    }
    return 0;
}

/* "dir/.name.XXXXXX" beside path; 0 or -1 if it does not fit. */
static int sibling(const char *path, const char *tag, char *out, size_t cap)
{
    const char *slash = strrchr(path, '/');
    int dirlen = slash ? (int)(slash - path + 1) : 0;
    int n = snprintf(out, cap, "%.*s.%s.%sXXXXXX", dirlen, path, path + dirlen,
                     tag);
    return n < 0 || (size_t)n >= cap ? -1 : 0;
}

static int fail_write(const char *path, int e)
{
    errno = e;
    zg_error_set("%s: cannot write: %s", path, strerror(e));
    return -1;
}

/* The content in a temporary file with its final mode, on disk. */
static int stage(pending_t *p)
{
    const zg_write_t *w = p->w;
    if (sibling(w->path, "", p->tmp, sizeof p->tmp) != 0)
        return fail_write(w->path, ENAMETOOLONG);
    int fd = mkostemp(p->tmp, O_CLOEXEC);
    if (fd < 0)
        return fail_write(w->path, errno);
    p->has_tmp = true;
    /* the final mode before any byte: a secret is never readable by others,
     * not even for an instant */
    if (fchmod(fd, w->mode) != 0 || write_all(fd, w->data, w->len) != 0 ||
        fsync(fd) != 0) {
        int e = errno;
        close(fd);
        return fail_write(w->path, e);
    }
    if (close(fd) != 0)
        return fail_write(w->path, errno);
    return 0;
}

/* Keeps the file now at p->w->path under a second name, to put it back. */
static int keep_old(pending_t *p)
{
    for (int tries = 0; tries < 8; tries++) {
        if (sibling(p->w->path, "old", p->backup, sizeof p->backup) != 0)
            return fail_write(p->w->path, ENAMETOOLONG);
        /* replace the XXXXXX with random letters */
        char *x = p->backup + strlen(p->backup) - 6;
        uint8_t r[6];
        randombytes_buf(r, sizeof r);
        for (int i = 0; i < 6; i++)
            x[i] = "abcdefghijklmnopqrstuvwxyz0123456789"[r[i] % 36];
        if (link(p->w->path, p->backup) == 0) {
            p->has_backup = true;
            return 0;
        }
        if (errno == ENOENT)
            return 0; /* nothing to keep */
        if (errno != EEXIST)
            return fail_write(p->w->path, errno);
    }
    return fail_write(p->w->path, EEXIST);
}

static int place(pending_t *p, int flags)
{
    const char *path = p->w->path;
    if (flags & ZG_WRITE_NOREPLACE) {
        if (link(p->tmp, path) != 0) {
            if (errno == EEXIST) {
                zg_error_set("%s: already exists: not replaced", path);
                return -1;
            }
            return fail_write(path, errno);
        }
        p->placed = true;
        unlink(p->tmp);
        p->has_tmp = false;
        return 0;
    }
    if (keep_old(p) != 0)
        return -1;
    if (rename(p->tmp, path) != 0)
        return fail_write(path, errno);
    p->placed = true;
    p->has_tmp = false;
    return 0;
}

static void sync_dir(const char *path)
{
    char copy[PATH_MAX];
    snprintf(copy, sizeof copy, "%s", path);
    int fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
}

/* Undoes what is done: placed files get their old content back (or go),
 * temporary files go. errno is kept for the caller. */
static void roll_back(pending_t *ps, size_t n)
{
    int e = errno;
    for (size_t i = 0; i < n; i++) {
        pending_t *p = &ps[i];
        if (p->placed) {
            if (p->has_backup) {
                rename(p->backup, p->w->path);
                p->has_backup = false;
            } else {
                unlink(p->w->path);
            }
        }
        if (p->has_tmp)
            unlink(p->tmp);
        if (p->has_backup)
            unlink(p->backup);
    }
    errno = e;
}

int zg_files_write(const zg_write_t *files, size_t n, int flags)
{
    pending_t ps[2];
    if (n == 0 || n > 2) {
        errno = EINVAL;
        zg_error_set("zg_files_write: 1 or 2 files");
        return -1;
    }
    memset(ps, 0, sizeof ps);
    for (size_t i = 0; i < n; i++)
        ps[i].w = &files[i];
    for (size_t i = 0; i < n; i++)
        if (stage(&ps[i]) != 0)
            goto fail;
    for (size_t i = 0; i < n; i++)
        if (place(&ps[i], flags) != 0)
            goto fail;
    for (size_t i = 0; i < n; i++) {
        if (ps[i].has_backup)
            unlink(ps[i].backup);
        sync_dir(files[i].path);
    }
    return 0;
fail:
    roll_back(ps, n);
    return -1;
}
