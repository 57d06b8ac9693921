/*
 * cli.h - what the zguard command's files share.
 *
 * Exit codes follow one rule everywhere: 0 all good, 1 done with warnings,
 * 2 refused (bad input, failed check). Usage errors also exit 2.
 */
#ifndef ZG_CLI_H
#define ZG_CLI_H

#include <stdbool.h>
#include <stdio.h>
#include <zguard.h>

#include "cli_clock.h"
#include "cli_json.h"
#include "cli_opt.h"
#include "cli_proc.h"
#include "cli_text.h"

#define EXIT_OK 0
#define EXIT_WARN 1
#define EXIT_FAIL 2

typedef int(cmd_fn)(int argc, char **argv);

typedef struct command {
    const char *name;
    cmd_fn *run;
    const char *summary;
} command_t;

int cmd_version(int argc, char **argv);
int cmd_auth(int argc, char **argv);
int cmd_stats(int argc, char **argv);
int cmd_policy(int argc, char **argv);
int policy_suggest(int argc, char **argv); /* cmd_suggest.c */
int cmd_keygen(int argc, char **argv);
int cmd_key(int argc, char **argv);
int cmd_doctor(int argc, char **argv);
int cmd_audit(int argc, char **argv);
int cmd_gate(int argc, char **argv);
int cmd_demo(int argc, char **argv);
int cmd_bench(int argc, char **argv);
int cmd_run(int argc, char **argv);

/* A passphrase from file, else (use_env) $ZGUARD_PASSPHRASE_FILE or the
 * systemd credential, else the terminal (asked twice when confirm). EXIT_OK,
 * or EXIT_FAIL with one line on standard error naming what to give. */
int cli_get_passphrase(const char *cmd, const char *file, bool use_env,
                       const char *prompt, bool confirm,
                       zg_passphrase_t **out);
void cli_md_cell(FILE *out, const char *s);
/* A companion program of zguard (zguard-bench, zguard-example-service):
 * beside this zguard executable (a build tree), else in the install's
 * libexec directory. 0 with its path in buf, or -1 with a message on
 * standard error naming both places looked in. */
int cli_find_program(const char *cmd, const char *name, char *buf,
                     size_t cap);

/* GET path from http://HOST:PORT (or HOST:PORT): the body (free it), or NULL
 * with the reason in err. */
char *cli_http_get(const char *url, const char *path, char *err, size_t ecap);
/* The sum of the Prometheus text samples of metric `name` that carry every
 * label of `labels` (NULL-terminated "socket=\"frontend\"" strings, or
 * NULL for all); 0 when none does. */
double cli_metric_sum(const char *text, const char *name,
                      const char *const *labels);

#endif
