/*
 * file.c - reads a whole small text file: a policy, the advisory database
 * (key files have their own reader in keys.c: secure memory, permissions).
 *
 * Such files are read once, whole, and handed to a parser that reports
 * lines; a directory, a device or something huge in their place is an
 * error (EISDIR, EFBIG) rather than a hang or an allocation of gigabytes.
 */
#include "zg_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

char *zg_text_read(const char *path, size_t max, size_t *len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    struct stat st;
    char *buf = NULL;
    if (fstat(fd, &st) != 0)
        goto out;
    if (!S_ISREG(st.st_mode) || (size_t)st.st_size > max) {
        errno = S_ISREG(st.st_mode) ? EFBIG : EISDIR;
        goto out;
    }
    buf = malloc((size_t)st.st_size + 1);
    if (!buf)
        goto out;
    size_t got = 0;
    while (got < (size_t)st.st_size) {
        ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    buf[got] = '\0';
    *len = got;
out:;
    int saved = errno;
    close(fd);
    errno = saved;
    return buf;
}
