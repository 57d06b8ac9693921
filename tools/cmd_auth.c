/*
 * cmd_auth.c - `zguard auth check DIR`: what the authenticator would make of
 * an allowlist directory, file by file, before a server trusts it.
 */
#include "cli.h"
#include "zguard_tools.h"

#include <string.h>
#include <time.h>

static const char usage[] =
    "usage: zguard auth check DIR [--revoked FILE] [--json]\n"
    "\n"
    "Lists every certificate in the allowlist directory DIR the way zguard's\n"
    "ZAP authenticator loads it, one line each: its state, the User-Id a\n"
    "client with that key gets, the key's fingerprint, when it expires, and\n"
    "the file. States:\n"
    "\n"
    "  valid      accepted\n"
    "  expired    metadata 'expires' has passed: refused\n"
    "  revoked    the key is in the revocation list (--revoked): refused\n"
    "  malformed  not a certificate zguard, CZMQ or pyzmq wrote: skipped\n"
    "  duplicate  the same key as an earlier file: skipped\n"
    "\n"
    "Secret files (NAME.key_secret, NAME_secret) and hidden files are not\n"
    "looked at. Exit 0 when every file is valid, 1 when some are not, 2 when\n"
    "DIR or the revocation list cannot be read.\n";

typedef struct row_ctx {
    int json;
    int rows, problems, valid;
    int64_t now;
} row_ctx_t;

static void row(void *arg, const char *file, zg_cert_state_t st,
                const char *detail, const zg_cert_t *cert)
{
    row_ctx_t *r = arg;
    const char *fp = cert ? zg_cert_fingerprint(cert) : "-";
    const char *name = cert ? zg_cert_meta(cert, "name") : NULL;
    const char *expires = cert ? zg_cert_meta(cert, "expires") : NULL;
    r->problems += st != ZG_CERT_VALID;
    r->valid += st == ZG_CERT_VALID;
    if (r->json) {
        printf("%s\n    {\"file\": ", r->rows ? "," : "");
        cli_json_string(stdout, file);
        printf(", \"state\": \"%s\", \"name\": ", zg_cert_state_name(st));
        cli_json_string(stdout, name);
        printf(", \"fingerprint\": ");
        cli_json_string(stdout, cert ? fp : NULL);
        printf(", \"expires\": ");
        cli_json_string(stdout, expires);
        printf(", \"detail\": ");
        cli_json_string(stdout, detail && *detail ? detail : NULL);
        printf("}");
    } else {
        printf("%-10s %-20s %-20s %-21s %s%s%s\n", zg_cert_state_name(st),
               name ? name : "-", fp, expires ? expires : "-", file,
               st == ZG_CERT_VALID || !detail || !*detail ? "" : ": ",
               st == ZG_CERT_VALID || !detail ? "" : detail);
    }
    r->rows++;
}

static int run_check(int argc, char **argv)
{
    static const cli_opt_t opts[] = {{"revoked", 'r', "FILE", 'r'},
                                     {"json", 'j', NULL, 'j'},
                                     {NULL, 0, NULL, 0}};
    const char *cmd = "zguard auth check", *revoked = NULL;
    cli_opts_t p = {.cmd = cmd, .table = opts, .argc = argc, .argv = argv};
    row_ctx_t r = {.now = (int64_t)time(NULL)};
    for (int c; (c = cli_opt_next(&p)) != CLI_OPT_END;) {
        if (c == CLI_OPT_ERROR)
            return EXIT_FAIL;
        if (c == 'r')
            revoked = p.value;
        else
            r.json = 1;
    }
    if (p.nargs != 1)
        return cli_usage_error(cmd, "give exactly one directory");
    const char *dir = cli_opt_args(&p)[0];
    if (r.json) {
        printf("{\"directory\": ");
        cli_json_string(stdout, dir);
        printf(", \"certificates\": [");
    }
    else
        printf("%-10s %-20s %-20s %-21s %s\n", "STATE", "NAME",
               "FINGERPRINT", "EXPIRES", "FILE");
    zg_allowlist_t *list =
        zg_allowlist_load(dir, revoked, r.now, row, &r);
    if (r.json)
        printf("\n  ], \"keys_loaded\": %zu, \"valid\": %d}\n",
               list ? zg_allowlist_count(list) : 0, r.valid);
    if (!list) {
        fprintf(stderr, "%s: %s\n", cmd, zg_last_error());
        return EXIT_FAIL;
    }
    if (!r.json)
        fprintf(stderr, "%zu keys loaded, %d valid; %d file%s with problems\n",
                zg_allowlist_count(list), r.valid, r.problems,
                r.problems == 1 ? "" : "s");
    zg_allowlist_destroy(&list);
    return r.problems ? EXIT_WARN : EXIT_OK;
}

int cmd_auth(int argc, char **argv)
{
    if (argc < 2 || cli_wants_help(argc, argv)) {
        fputs(usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? EXIT_FAIL : EXIT_OK;
    }
    if (strcmp(argv[1], "check") == 0)
        return run_check(argc - 1, argv + 1);
    return cli_usage_error("zguard auth", "no subcommand '%s' (check)",
                           argv[1]);
}
