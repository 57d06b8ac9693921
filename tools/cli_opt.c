/*
 * cli_opt.c - the one option parser of every zguard command and companion
 * (cli_opt.h says what it accepts and why names match exactly).
 */
#include "cli_opt.h"

#include <stdarg.h>
#include <string.h>

static int verror(FILE *out, const char *cmd, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));
static int verror(FILE *out, const char *cmd, const char *fmt, va_list ap)
{
    fprintf(out, "%s: ", cmd);
    vfprintf(out, fmt, ap);
    fprintf(out, " (see '%s --help')\n", cmd);
    return CLI_EXIT_USAGE;
}

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    verror(stderr, cmd, fmt, ap);
    va_end(ap);
    return CLI_EXIT_USAGE;
}

static int opt_error(const cli_opts_t *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static int opt_error(const cli_opts_t *p, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    verror(p->err ? p->err : stderr, p->cmd, fmt, ap);
    va_end(ap);
    return CLI_OPT_ERROR;
}

int cli_wants_help(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0)
            return 0;
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0)
            return 1;
    }
    return 0;
}

static const cli_opt_t *find_long(const cli_opt_t *t, const char *name,
                                  size_t n)
{
    for (; t->name; t++)
        if (strlen(t->name) == n && strncmp(t->name, name, n) == 0)
            return t;
    return NULL;
}

static const cli_opt_t *find_letter(const cli_opt_t *t, char letter)
{
    for (; t->name; t++)
        if (t->letter && t->letter == letter)
            return t;
    return NULL;
}

/* "--passphrase" given to a command that reads passphrases from files. */
static bool argv_passphrase(const cli_opts_t *p, const char *name, size_t n)
{
    return n == strlen("passphrase") && strncmp(name, "passphrase", n) == 0 &&
           find_long(p->table, "passphrase-file", strlen("passphrase-file"));
}

/* The option at argv[next] ("--name[=value]"). */
static int long_option(cli_opts_t *p, const char *s)
{
    const char *name = s + 2;
    size_t n = strcspn(name, "=");
    const char *inline_value = name[n] == '=' ? name + n + 1 : NULL;
    /* no message below quotes a value: it may be a secret */
    if (argv_passphrase(p, name, n))
        return opt_error(p, "a passphrase is never taken from the command "
                            "line: use --passphrase-file FILE, "
                            "ZGUARD_PASSPHRASE_FILE or the terminal; every "
                            "user can read a command line");
    const cli_opt_t *o = find_long(p->table, name, n);
    if (!o)
        return opt_error(p, "unknown option '--%.*s'", (int)n, name);
    p->opt = o;
    p->value = NULL;
    if (!o->arg) {
        if (inline_value)
            return opt_error(p, "--%s takes no value", o->name);
        return o->id;
    }
    if (inline_value)
        p->value = inline_value;
    else if (p->next < p->argc)
        p->value = p->argv[p->next++];
    else
        return opt_error(p, "--%s needs a value", o->name);
    return o->id;
}

/* "-x", or "-xVALUE" / "-x VALUE" when -x takes a value. */
static int short_option(cli_opts_t *p, const char *s)
{
    const cli_opt_t *o = find_letter(p->table, s[1]);
    if (!o)
        return opt_error(p, "unknown option '%.2s'", s);
    if (!o->arg && s[2]) /* no bundling: -wj is not -w -j */
        return opt_error(p, "-%c takes no value", o->letter);
    p->opt = o;
    p->value = NULL;
    if (!o->arg)
        return o->id;
    if (s[2])
        p->value = s + 2;
    else if (p->next < p->argc)
        p->value = p->argv[p->next++];
    else
        return opt_error(p, "-%c needs a value", o->letter);
    return o->id;
}

int cli_opt_next(cli_opts_t *p)
{
    if (p->next < 1)
        p->next = 1;
    while (p->next < p->argc) {
        char *s = p->argv[p->next++];
        if (!p->rest && strcmp(s, "--") == 0) {
            p->rest = true;
            continue;
        }
        /* not an option: "-" is standard input by custom */
        if (p->rest || s[0] != '-' || s[1] == '\0') {
            /* never ahead of the reading: argv[1 + nargs] is read already */
            p->argv[1 + p->nargs++] = s;
            continue;
        }
        return s[1] == '-' ? long_option(p, s) : short_option(p, s);
    }
    p->opt = NULL;
    p->value = NULL;
    return CLI_OPT_END;
}
