/*
 * cli_opt.h - the one option parser of zguard, its companions
 * (zguard-demo-peer) and zguard-bench: a table of options per command, one
 * parsing routine, one shape for every usage error.
 *
 *   --name VALUE, --name=VALUE, -n VALUE, -nVALUE   an option with a value
 *   --name, -n                                      a flag
 *   --                                              ends the options
 *
 * Names are matched exactly, never by unique prefix: `--passphrase SECRET`
 * must not be taken for `--passphrase-file SECRET` (and then echoed), and a
 * new option must not change what an old abbreviation meant. Arguments that
 * are not options may come before, between or after them.
 *
 * Errors are one line on standard error, "CMD: WHAT (see 'CMD --help')":
 *   zguard gate: unknown option '--x' (see 'zguard gate --help')
 *   zguard gate: --frontend needs a value (see 'zguard gate --help')
 * An unknown option is named without its value, which may be a secret.
 */
#ifndef ZG_CLI_OPT_H
#define ZG_CLI_OPT_H

#include <stdbool.h>
#include <stdio.h>

#define CLI_OPT_END (-1)   /* no option left */
#define CLI_OPT_ERROR (-2) /* a usage error, already printed */
#define CLI_EXIT_USAGE 2   /* how every command exits on a usage error */

typedef struct cli_opt {
    const char *name; /* "frontend" for --frontend */
    char letter;      /* 'f' for -f, or 0 */
    const char *arg;  /* what the value is ("EP"), or NULL: a flag */
    int id;           /* what cli_opt_next returns for it (>= 0) */
} cli_opt_t;

typedef struct cli_opts {
    /* given */
    const char *cmd;        /* "zguard gate": every message starts with it */
    const cli_opt_t *table; /* ends with {NULL} */
    int argc;
    char **argv; /* argv[0] is the command itself and is skipped */
    FILE *err;   /* where messages go; stderr when NULL */
    /* after each cli_opt_next */
    const cli_opt_t *opt; /* the option returned */
    const char *value;    /* its value, NULL for a flag */
    /* after CLI_OPT_END: the other arguments, in order, at argv[1..nargs] */
    int nargs;
    /* private */
    int next;
    bool rest;
} cli_opts_t;

/* The id of the next option, CLI_OPT_END, or CLI_OPT_ERROR after one
 * message. Options are returned in command-line order, each time they are
 * given (the command refuses a repeat where one makes no sense). The other
 * arguments are moved, in order, to the front of argv (argv[1..nargs]).
 * `--passphrase`, in a command that has --passphrase-file, is refused with
 * its own message: a secret on a command line is readable by every user. */
int cli_opt_next(cli_opts_t *p);

/* The arguments that are not options, once cli_opt_next returned
 * CLI_OPT_END: argv[1..nargs]. */
static inline char **cli_opt_args(const cli_opts_t *p)
{
    return p->argv + 1;
}

/* True when argv holds -h or --help before any `--`: every command answers
 * it, whatever else is given. */
int cli_wants_help(int argc, char **argv);

/* "zguard policy: unknown option '--x' (see 'zguard policy --help')" on
 * standard error; returns CLI_EXIT_USAGE. */
int cli_usage_error(const char *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
