/*
 * cli_util.c - small helpers every zguard command uses: escaping for JSON
 * and Markdown output, where a passphrase comes from, where a companion
 * program lies.
 */
#include "cli.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void cli_md_cell(FILE *out, const char *s)
{
    for (; s && *s; s++) {
        if (*s == '|' || *s == '\\' || *s == '`' || *s == '*' || *s == '_')
            fputc('\\', out);
        fputc(*s == '\n' ? ' ' : *s, out);
    }
}

/* ---- passphrases ---------------------------------------------------------- */

static bool env_has_passphrase(void)
{
    const char *f = getenv("ZGUARD_PASSPHRASE_FILE");
    if (f && *f)
        return true;
    const char *d = getenv("CREDENTIALS_DIRECTORY");
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", d ? d : "", ZG_PASSPHRASE_CREDENTIAL);
    return d && *d && access(path, F_OK) == 0;
}

static bool have_tty(void)
{
    int fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (fd < 0)
        return false;
    close(fd);
    return true;
}

static int no_source(const char *cmd, const char *what)
{
    fprintf(stderr,
            "%s: no %s: give --passphrase-file FILE, set "
            "ZGUARD_PASSPHRASE_FILE, provide the systemd "
            "credential " ZG_PASSPHRASE_CREDENTIAL ", or run on a terminal%s\n",
            cmd, what,
            strcmp(what, "new passphrase") == 0
                ? " (--no-passphrase stores the secret unencrypted)"
                : "");
    return EXIT_FAIL;
}

/* A passphrase from file, else the environment, else the terminal (asked
 * twice when confirm). use_env: whether the environment may supply it. */
int cli_get_passphrase(const char *cmd, const char *file, bool use_env,
                          const char *prompt, bool confirm,
                          zg_passphrase_t **out)
{
    const char *what = confirm ? "new passphrase" : "passphrase";
    if (file)
        *out = zg_passphrase_from_file(file);
    else if (use_env && env_has_passphrase())
        *out = zg_passphrase_from_env();
    else if (have_tty())
        *out = zg_passphrase_prompt(prompt, confirm);
    else
        return no_source(cmd, what);
    if (*out)
        return EXIT_OK;
    fprintf(stderr, "%s: %s\n", cmd, zg_last_error());
    return EXIT_FAIL;
}

/* ---- companion programs ----------------------------------------------------- */

static int executable_at(const char *dir, const char *name, char *buf,
                         size_t cap)
{
    int n = snprintf(buf, cap, "%s/%s", dir, name);
    return n > 0 && (size_t)n < cap && access(buf, X_OK) == 0 ? 0 : -1;
}

int cli_find_program(const char *cmd, const char *name, char *buf, size_t cap)
{
    char self[4096];
    bool found = cli_self_exe(self, sizeof self) == 0;
    if (found) {
        char *slash = strrchr(self, '/');
        if (slash) {
            *slash = '\0';
            if (executable_at(self, name, buf, cap) == 0)
                return 0;
        }
    }
    if (executable_at(ZG_LIBEXECDIR, name, buf, cap) == 0)
        return 0;
    fprintf(stderr,
            "%s: cannot find %s beside %s or in %s (is zguard fully "
            "built or installed?)\n",
            cmd, name, found ? self : "this program", ZG_LIBEXECDIR);
    return -1;
}
