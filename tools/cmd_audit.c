/*
 * cmd_audit.c - `zguard audit`: find every ZeroMQ socket in C, C++ and
 * Python code and report which of the analysis' mitigations each lacks.
 *
 * The work is in tools/audit/; this file parses the options, runs the scan
 * and picks the report. Built without the audit (ZG_AUDIT off, or no
 * libtree-sitter/npm at configure time), the command still exists and says
 * so, so that scripts get a clear answer rather than "no command".
 */
#include "cli.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zguard.h>

#ifdef ZG_HAVE_AUDIT
#include "audit/audit.h"
#endif

static const char usage[] =
    "usage: zguard audit [PATH...] [--format FORMAT] [--policy FILE]\n"
    "                    [--fail-on LEVEL] [--exclude GLOB]... [--baseline FILE]\n"
    "                    [--color WHEN] [--stats]\n"
    "\n"
    "Finds every ZeroMQ socket in C, C++ and Python source (PATHs are files or\n"
    "directories, default '.') and reports, per socket, which mitigations of the\n"
    "security analysis it has: HWM, send/receive timeouts, MAXMSGSIZE, LINGER,\n"
    "CURVE and authentication; where each is set, to what, and whether it takes\n"
    "effect. The code is parsed into syntax trees (tree-sitter), not matched\n"
    "with patterns.\n"
    "\n"
    "Recognised: libzmq (zmq_socket, zmq_setsockopt, ...), CZMQ (zsock_new*,\n"
    "the *_checked forms, zsocket_new, zsock_set_*, zsys_set_*, ZSYS_*\n"
    "variables, zauth), cppzmq (zmq::socket_t, s.set(zmq::sockopt::x, v),\n"
    "s.setsockopt), pyzmq (ctx.socket(zmq.X), zmq.Socket, asyncio, s.sndhwm = n,\n"
    "ctx.linger = n, zmq.auth authenticators), and zguard (zg_socket, zg_harden:\n"
    "these get the policy's values). Authenticators, and sockets, options,\n"
    "sends and receives through functions (a helper that makes, configures or\n"
    "reads the caller's socket; a C++ member bound to a constructor's socket),\n"
    "are followed over all the files of one run: audit an application's files\n"
    "together. Directories are\n"
    "walked in name order; hidden ones, node_modules, __pycache__, CMake build\n"
    "trees and what --exclude matches are skipped.\n"
    "\n"
    "options:\n"
    "  --format FORMAT  text (default; colours only on a terminal), lines (one\n"
    "                   line per socket and per finding, FILE:LINE:COL: ...),\n"
    "                   markdown (the analysis' Currently Implemented / Missing\n"
    "                   Implementation for this code), json (docs/audit.md),\n"
    "                   sarif (SARIF 2.1.0, for code-scanning services)\n"
    "  --policy FILE    a zguard policy: values set in the code are checked\n"
    "                   against its bounds for the socket's type, zguard\n"
    "                   sockets get its values, and their names are checked\n"
    "  --fail-on LEVEL  critical, high (default), medium or low: a finding at\n"
    "                   or above LEVEL makes the exit code 2\n"
    "  --exclude GLOB   leave out what GLOB matches while walking a directory\n"
    "                   (repeatable): matched against the path relative to the\n"
    "                   PATH given; '*' any text within one name, '?' one\n"
    "                   character, '[a-z]' a class, '**' any number of\n"
    "                   directories; without a '/' a name at any depth, a\n"
    "                   trailing '/' directories only. Examples: 'vendor/',\n"
    "                   '*_test.py', 'third_party/**/gen/*.c'. A file\n"
    "                   .zguard-audit-ignore at PATH holds more, one a line\n"
    "                   ('#' comments); files named on the command line are\n"
    "                   always audited\n"
    "  --baseline FILE  an earlier `--format json` report: its findings are not\n"
    "                   reported again (matched by fingerprint: rule, file,\n"
    "                   function, socket and line text, not line number), so\n"
    "                   --fail-on judges new findings only\n"
    "  --color WHEN     auto (default: a terminal, and NO_COLOR unset), always,\n"
    "                   never\n"
    "  --stats          on standard error: files, lines, seconds, lines/second\n"
    "\n"
    "rules (severity):\n";

static const char usage_tail[] =
    "\n"
    "Suppress a finding where it is, with a reason (required):\n"
    "  zmq_recv(s, b, n, 0); // zguard-audit: ignore blocking-without-timeout -- woken by shutdown\n"
    "  # zguard-audit: ignore hwm-not-set -- test helper (alone on a line: the next line)\n"
    "A suppression without a reason is not applied and is itself a finding.\n"
    "\n"
    "Exit 0 no finding, 1 findings all below --fail-on, 2 a finding at or above\n"
    "it, a path that could not be read, or a usage error.\n";

#ifndef ZG_HAVE_AUDIT

int cmd_audit(int argc, char **argv)
{
    if (cli_wants_help(argc, argv)) {
        fputs(usage, stdout);
        fputs("  (this zguard was built without the audit)\n", stdout);
        fputs(usage_tail, stdout);
        return EXIT_OK;
    }
    fputs("zguard audit: this zguard was built without the audit: configure with "
          "-DZG_AUDIT=ON, which needs libtree-sitter-dev and npm\n", stderr);
    return EXIT_FAIL;
}

#else

typedef struct audit_opts {
    int format;
    const char *policy;
    const char *baseline;
    const char **exclude;     /* --exclude globs, in order */
    int nexclude;
    au_sev_t fail_on;
    int color;
    int stats;
    char **paths; /* the files and directories to scan */
    int npaths;
} audit_opts_t;

enum { F_TEXT, F_LINES, F_MARKDOWN, F_JSON, F_SARIF };
static const char *const formats[] = {"text", "lines", "markdown", "json", "sarif"};

static void print_usage(void)
{
    fputs(usage, stdout);
    for (int i = 0; i < AU_R_COUNT; i++) {
        const au_rule_info_t *ri = au_rule_info((au_rule_t)i);
        printf("  %-36s %-8s %s\n", ri->id, au_sev_name(ri->severity), ri->title);
    }
    fputs(usage_tail, stdout);
}

static int parse_color(const char *when, int *color)
{
    if (strcmp(when, "always") == 0)
        *color = 1;
    else if (strcmp(when, "never") == 0)
        *color = 0;
    else if (strcmp(when, "auto") == 0)
        /* no-color.org: NO_COLOR set to anything but "" turns colours off */
        *color = isatty(STDOUT_FILENO) && !(getenv("NO_COLOR") && *getenv("NO_COLOR"));
    else
        return -1;
    return 0;
}

static int parse_opts(int argc, char **argv, audit_opts_t *o)
{
    static const cli_opt_t opts[] = {
        {"format", 0, "FORMAT", 'f'}, {"policy", 0, "FILE", 'p'},
        {"fail-on", 0, "SEVERITY", 'l'}, {"color", 0, "WHEN", 'c'},
        {"colour", 0, "WHEN", 'c'},  {"stats", 0, NULL, 's'},
        {"exclude", 0, "GLOB", 'x'}, {"baseline", 0, "FILE", 'b'},
        {NULL, 0, NULL, 0}};
    *o = (audit_opts_t){.format = F_TEXT, .fail_on = AU_SEV_HIGH};
    /* at most one --exclude per argument: argc bounds them */
    o->exclude = calloc((size_t)argc, sizeof *o->exclude);
    if (!o->exclude) {
        fputs("zguard audit: out of memory\n", stderr);
        return EXIT_FAIL;
    }
    parse_color("auto", &o->color);
    cli_opts_t p = {.cmd = "zguard audit", .table = opts, .argc = argc,
                    .argv = argv};
    for (int c; (c = cli_opt_next(&p)) != CLI_OPT_END;) {
        const char *v = p.value;
        switch (c) {
        case 'f':
            o->format = -1;
            for (int i = 0; i < (int)(sizeof formats / sizeof formats[0]); i++)
                if (strcmp(v, formats[i]) == 0)
                    o->format = i;
            if (o->format < 0)
                return cli_usage_error("zguard audit", "--format '%s' is not text, "
                                       "lines, markdown, json or sarif", v);
            break;
        case 'p': o->policy = v; break;
        case 'l': {
            int s = au_sev_from_name(v);
            if (s < 0)
                return cli_usage_error("zguard audit", "--fail-on '%s' is not "
                                       "critical, high, medium or low", v);
            o->fail_on = (au_sev_t)s;
            break;
        }
        case 'c':
            if (parse_color(v, &o->color) != 0)
                return cli_usage_error("zguard audit", "--color '%s' is not auto, "
                                       "always or never", v);
            break;
        case 's': o->stats = 1; break;
        case 'x': o->exclude[o->nexclude++] = v; break;
        case 'b':
            if (o->baseline)
                return cli_usage_error("zguard audit", "--baseline is given twice");
            o->baseline = v;
            break;
        default:
            return EXIT_FAIL;
        }
    }
    o->paths = cli_opt_args(&p);
    o->npaths = p.nargs;
    return 0;
}

static zg_policy_t *load_policy(const char *path)
{
    zg_diag_t *diag = zg_diag_new();
    zg_policy_t *p = zg_policy_load(path, diag);
    if (!p || zg_diag_count(diag))
        zg_diag_print(diag, stderr);
    zg_diag_destroy(&diag);
    return p;
}


static int verdict(const au_result_t *r, au_sev_t fail_on)
{
    if (r->nerrors || au_result_count(r, fail_on))
        return EXIT_FAIL;
    return au_result_count(r, AU_SEV_LOW) ? EXIT_WARN : EXIT_OK;
}

static void report(const audit_opts_t *o, const au_result_t *r, au_report_opts_t *ro)
{
    typedef void(report_fn)(FILE *, const au_result_t *, const au_report_opts_t *);
    static report_fn *const fns[] = {au_report_text, au_report_lines, au_report_markdown,
                                     au_report_json, au_report_sarif};
    ro->color = o->color && (o->format == F_TEXT || o->format == F_LINES);
    fns[o->format](stdout, r, ro);
}

static int scan(const audit_opts_t *o, const zg_policy_t *policy, char **paths,
                size_t npaths)
{
    char err[512];
    au_engine_t *e = au_engine_new(policy, err, sizeof err);
    au_result_t *r = au_result_new();
    if (!e || !r) {
        fprintf(stderr, "zguard audit: %s\n", e ? "out of memory" : err);
        au_engine_destroy(&e);
        au_result_destroy(&r);
        return EXIT_FAIL;
    }
    r->policy_file = policy ? o->policy : NULL;
    for (int i = 0; i < o->nexclude; i++)
        if (au_engine_exclude(e, o->exclude[i], err, sizeof err) != 0) {
            au_result_destroy(&r);
            au_engine_destroy(&e);
            return cli_usage_error("zguard audit", "--exclude %s", err);
        }
    double t0 = cli_now();
    for (size_t i = 0; i < npaths; i++)
        au_scan_path(e, r, paths[i]);
    double secs = cli_now() - t0;
    au_result_finish(r);
    if (o->baseline && au_baseline_apply(r, o->baseline, err, sizeof err) != 0) {
        fprintf(stderr, "zguard audit: --baseline %s\n", err);
        au_result_destroy(&r);
        au_engine_destroy(&e);
        return EXIT_FAIL;
    }
    au_report_opts_t ro = {.paths = (const char *const *)paths, .npaths = npaths,
                           .fail_on = o->fail_on, .exit_code = verdict(r, o->fail_on)};
    report(o, r, &ro);
    for (size_t i = 0; i < r->nerrors; i++)
        fprintf(stderr, "%s\n", r->errors[i]);
    if (o->stats)
        fprintf(stderr, "zguard audit: %zu files, %zu lines in %.3f s: %.0f lines/s\n",
                r->nfiles, r->lines, secs, secs > 0 ? (double)r->lines / secs : 0.0);
    int rc = ro.exit_code;
    au_result_destroy(&r);
    au_engine_destroy(&e);
    return rc;
}

int cmd_audit(int argc, char **argv)
{
    if (cli_wants_help(argc, argv)) {
        print_usage();
        return EXIT_OK;
    }
    audit_opts_t o;
    if (parse_opts(argc, argv, &o) != 0) {
        free(o.exclude);
        return EXIT_FAIL;
    }
    zg_policy_t *policy = NULL;
    if (o.policy && !(policy = load_policy(o.policy))) {
        free(o.exclude);
        return EXIT_FAIL;
    }
    static char dot[] = ".";
    char *here[] = {dot};
    int rc = o.npaths ? scan(&o, policy, o.paths, (size_t)o.npaths)
                      : scan(&o, policy, here, 1);
    zg_policy_destroy(&policy);
    free(o.exclude);
    return rc;
}

#endif
