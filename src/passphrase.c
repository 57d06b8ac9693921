/*
 * passphrase.c - the passphrase that seals secret key files.
 *
 * It comes from a file (first line), from the environment (a file named by
 * ZGUARD_PASSPHRASE_FILE, or the systemd credential zguard-passphrase), or
 * from the terminal without echo - never from argv, which every user of the
 * machine can read in /proc. It lives in one sodium_malloc allocation,
 * read-only once filled, and sodium_free wipes it.
 */
#include "zg_error.h"
#include "zg_file.h"
#include "zg_keys.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>
#include <sodium.h>
#include <stdbool.h>

struct zg_passphrase {
    size_t len;
    uint8_t bytes[]; /* not NUL-terminated: a passphrase is bytes */
};

const uint8_t *zg_passphrase_bytes(const zg_passphrase_t *pass, size_t *len)
{
    *len = pass->len;
    return pass->bytes;
}

zg_passphrase_t *zg_passphrase_new(const char *text, size_t len)
{
    if (zg_sodium_ready() != 0)
        return NULL;
    if (!text || len == 0 || len > ZG_PASSPHRASE_MAX) {
        errno = EINVAL;
        if (len)
            zg_error_set("the passphrase is longer than %d bytes",
                         ZG_PASSPHRASE_MAX);
        else
            zg_error_set("the passphrase is empty");
        return NULL;
    }
    /* sodium_malloc puts the end against a guard page: the size must be a
     * multiple of the alignment for the start to be aligned */
    size_t size = (sizeof(zg_passphrase_t) + len + 15) & ~(size_t)15;
    zg_passphrase_t *p = sodium_malloc(size);
    if (!p) {
        errno = ENOMEM;
        zg_error_set("out of memory");
        return NULL;
    }
    p->len = len;
    memcpy(p->bytes, text, len);
    sodium_mprotect_readonly(p);
    return p;
}

void zg_passphrase_destroy(zg_passphrase_t **pass)
{
    if (!pass || !*pass)
        return;
    sodium_free(*pass);
    *pass = NULL;
}

/* The length of the first line of buf[0..n) without "\n" or "\r\n", or
 * -1 when no newline came within the limit and more may follow. */
static ssize_t first_line(const char *buf, size_t n, bool at_eof)
{
    const char *nl = memchr(buf, '\n', n);
    if (!nl && !at_eof)
        return -1;
    size_t len = nl ? (size_t)(nl - buf) : n;
    if (len && buf[len - 1] == '\r')
        len--;
    return (ssize_t)len;
}

static zg_passphrase_t *file_error(const char *path, int e, const char *why)
{
    errno = e;
    zg_error_set("passphrase file %s: %s", path, why ? why : strerror(e));
    return NULL;
}

zg_passphrase_t *zg_passphrase_from_file(const char *path)
{
    zg_error_clear();
    if (!path || !*path)
        return file_error("(none)", EINVAL, "no file name");
    if (zg_sodium_ready() != 0)
        return NULL;
    struct stat st;
    bool not_regular;
    int fd = zg_file_open_regular(path, &st, &not_regular);
    if (fd < 0) {
        if (not_regular)
            return file_error(path, errno, "cannot read: not a regular file");
        int e = errno;
        zg_error_set("passphrase file %s: cannot read: %s", path, strerror(e));
        errno = e;
        return NULL;
    }
    zg_passphrase_t *p = NULL;
    char why[128];
    size_t cap = ZG_PASSPHRASE_MAX + 3; /* the limit, "\r\n", one more */
    char *buf = NULL;
    size_t n = 0;
    if (st.st_mode & 077) {
        snprintf(why, sizeof why,
                 "permissions %04o are too open: only its owner may have "
                 "access (chmod 600 %s)",
                 (unsigned)(st.st_mode & 07777), path);
        file_error(path, EPERM, why);
    } else if (!(buf = sodium_malloc(cap))) {
        file_error(path, ENOMEM, NULL);
    } else {
        for (;;) {
            ssize_t r = read(fd, buf + n, cap - n);
            if (r < 0 && errno == EINTR)
                continue;
            if (r < 0) {
                file_error(path, errno, NULL);
                break;
            }
            n += (size_t)r;
            ssize_t len = first_line(buf, n, r == 0);
            if (len >= 0 || n == cap) {
                if (len < 0 || len > ZG_PASSPHRASE_MAX)
                    file_error(path, EINVAL,
                               "the first line is longer than "
                               "1024 bytes");
                else if (len == 0)
                    file_error(path, EINVAL, "the passphrase is empty");
                else
                    p = zg_passphrase_new(buf, (size_t)len);
                break;
            }
        }
    }
    sodium_free(buf);
    close(fd);
    return p;
}

zg_passphrase_t *zg_passphrase_from_env(void)
{
    zg_error_clear();
    const char *file = getenv("ZGUARD_PASSPHRASE_FILE");
    if (file && *file)
        return zg_passphrase_from_file(file);
    const char *dir = getenv("CREDENTIALS_DIRECTORY");
    if (dir && *dir) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, ZG_PASSPHRASE_CREDENTIAL);
        if (access(path, F_OK) == 0 || errno != ENOENT)
            return zg_passphrase_from_file(path);
        errno = ENOENT;
        zg_error_set("no passphrase: %s: $CREDENTIALS_DIRECTORY has "
                     "no " ZG_PASSPHRASE_CREDENTIAL " credential",
                     path);
        return NULL;
    }
    errno = ENOENT;
    zg_error_set("no passphrase: neither ZGUARD_PASSPHRASE_FILE nor "
                 "CREDENTIALS_DIRECTORY is set");
    return NULL;
}

/* ---- the terminal
 * ------------------------------------------------------------- Like
 * readpassphrase(3): echo off, and a signal while it is off puts the terminal
 * back before the signal takes its usual course. */

static volatile sig_atomic_t caught;

static void on_signal(int sig)
{
    caught = sig;
}

static const int watched[] = {SIGINT,  SIGTERM, SIGQUIT, SIGHUP,
                              SIGTSTP, SIGTTIN, SIGTTOU};
#define NWATCHED (sizeof watched / sizeof watched[0])

/* One line from the terminal into buf; its length, or -1. */
static ssize_t read_line(int tty, const char *prompt, char *buf, size_t cap)
{
    struct termios old, quiet;
    if (tcgetattr(tty, &old) != 0)
        return -1;
    struct sigaction sa, saved[NWATCHED];
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal; /* no SA_RESTART: read returns EINTR */
    sigemptyset(&sa.sa_mask);
    caught = 0;
    for (size_t i = 0; i < NWATCHED; i++)
        sigaction(watched[i], &sa, &saved[i]);
    quiet = old;
    quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHOE | ECHOK);
    quiet.c_lflag |= ECHONL;
    ssize_t n = -1;
    if (tcsetattr(tty, TCSAFLUSH, &quiet) == 0 &&
        write(tty, prompt, strlen(prompt)) >= 0) {
        size_t got = 0;
        while (got < cap) {
            ssize_t r = read(tty, buf + got, cap - got);
            if (r <= 0)
                break;
            got += (size_t)r;
            if (buf[got - 1] == '\n')
                break;
        }
        if (!caught && got > 0 && buf[got - 1] == '\n')
            n = (ssize_t)got - 1;
        else if (!caught && got >= cap)
            errno = E2BIG;
        else if (!caught)
            errno = EIO;
    }
    int e = errno;
    tcsetattr(tty, TCSAFLUSH, &old);
    for (size_t i = 0; i < NWATCHED; i++)
        sigaction(watched[i], &saved[i], NULL);
    if (caught) {
        raise(caught);
        e = EINTR;
    }
    errno = e;
    return n;
}

static zg_passphrase_t *prompt_error(int e, const char *why)
{
    errno = e;
    zg_error_set("%s", why);
    return NULL;
}

zg_passphrase_t *zg_passphrase_prompt(const char *prompt, int confirm)
{
    zg_error_clear();
    if (zg_sodium_ready() != 0)
        return NULL;
    int tty = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (tty < 0)
        return prompt_error(errno, "no terminal to ask for the passphrase on");
    size_t cap = ZG_PASSPHRASE_MAX + 2;
    char *a = sodium_malloc(cap), *b = sodium_malloc(cap);
    zg_passphrase_t *p = NULL;
    ssize_t na = -1, nb = -1;
    if (!a || !b) {
        prompt_error(ENOMEM, "out of memory");
    } else if ((na = read_line(tty, prompt ? prompt : "Passphrase: ", a, cap)) <
               0) {
        prompt_error(errno, errno == E2BIG
                                ? "the passphrase is longer than 1024 bytes"
                                : "no passphrase read from the terminal");
    } else if (na == 0) {
        prompt_error(EINVAL, "the passphrase is empty");
    } else if (confirm &&
               (nb = read_line(tty, "Again, to confirm: ", b, cap)) < 0) {
        prompt_error(errno, "no passphrase read from the terminal");
    } else if (confirm && (nb != na || sodium_memcmp(a, b, (size_t)na) != 0)) {
        prompt_error(EINVAL, "the two passphrases differ");
    } else {
        p = zg_passphrase_new(a, (size_t)na);
    }
    sodium_free(a);
    sodium_free(b);
    close(tty);
    return p;
}
