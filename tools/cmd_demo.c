/*
 * cmd_demo.c - `zguard demo`: the analysis' threats, each attempted for
 * real against a gate protecting an unchanged plaintext service, on this
 * machine, in under a minute. One row per threat: what was attacked, which
 * mitigation stands in the way, what this run measured, PASS or FAIL.
 *
 * The stage (keys, service, gate, the legitimate client) is demo_setup.c;
 * the attacks are demo_rows.c; the attackers are zguard-demo-peer.
 */
#include "cli.h"
#include "demo.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#define WRAP_COLUMNS 78
#define INDENT "      "

static const char usage[] =
    "usage: zguard demo [--json] [--only ID[,ID...]] [--keep] [--list]\n"
    "\n"
    "Shows, live on this machine, that each threat of the analysis is\n"
    "stopped. In a private temporary directory it makes fresh keys and\n"
    "starts, each as its own process:\n"
    "  - zguard-example-service, a plaintext REP service (plain libzmq,\n"
    "    default HWMs, no CURVE): the service that cannot change yet;\n"
    "  - `zguard gate` in front of it (CURVE, an allowlist, HWM 100,\n"
    "    MAXMSGSIZE 64 KiB, 2 s handshake limit, heartbeats);\n"
    "  - alice, a legitimate client sending a request every 50 ms;\n"
    "  - one attacker per threat (zguard-demo-peer);\n"
    "  - for the zguard-run row, the same service again and\n"
    "    zguard-example-client, a plaintext REQ client (plain libzmq, no\n"
    "    CURVE, no timeouts), each under `zguard run` with a CURVE policy.\n"
    "Each row says what was measured in this run and PASS or FAIL against\n"
    "the bound the policy implies. Everything runs on loopback and ipc.\n"
    "\n"
    "options:\n"
    "  --json        the same rows as one JSON object on standard output\n"
    "  --only IDS    run these rows only (see --list)\n"
    "  --keep        keep the directory: keys, policies, every process's\n"
    "                log, the relay's recordings, the service's journal\n"
    "  --list        the rows' ids and threats\n"
    "\n"
    "Exit 0 when every row passes, 2 when one fails or the stage cannot be\n"
    "set up (the message says which process failed; --keep keeps its log).\n";

typedef struct demo_opts {
    bool json, keep, list;
    const char *only;
} demo_opts_t;

static bool selected(const demo_opts_t *o, const char *id)
{
    if (!o->only)
        return true;
    size_t n = strlen(id);
    for (const char *p = o->only; (p = strstr(p, id)); p += n)
        if ((p == o->only || p[-1] == ',') && (p[n] == ',' || p[n] == '\0'))
            return true;
    return false;
}

static int parse_args(int argc, char **argv, demo_opts_t *o)
{
    static const cli_opt_t opts[] = {
        {"json", 0, NULL, 'j'}, {"keep", 0, NULL, 'k'},
        {"list", 0, NULL, 'l'}, {"only", 0, "ROWS", 'o'},
        {NULL, 0, NULL, 0}};
    const char *cmd = "zguard demo";
    cli_opts_t op = {.cmd = cmd, .table = opts, .argc = argc, .argv = argv};
    for (int c; (c = cli_opt_next(&op)) != CLI_OPT_END;) {
        switch (c) {
        case 'j': o->json = true; break;
        case 'k': o->keep = true; break;
        case 'l': o->list = true; break;
        case 'o': o->only = op.value; break;
        default: return EXIT_FAIL;
        }
    }
    if (op.nargs)
        return cli_usage_error(cmd, "unexpected argument '%s'",
                               cli_opt_args(&op)[0]);
    for (const char *p = o->only; p && *p; p += strcspn(p, ","), p += *p == ',') {
        size_t n = strcspn(p, ","), k = 0;
        while (k < demo_threat_count &&
               (strlen(demo_threats[k].id) != n || strncmp(demo_threats[k].id, p, n)))
            k++;
        if (k == demo_threat_count)
            return cli_usage_error(cmd, "--only: no row '%.*s' (see --list)",
                                   (int)n, p);
    }
    return EXIT_OK;
}

/* Words of text over lines of at most WRAP_COLUMNS, each after INDENT. */
static void print_wrapped(const char *label, const char *text)
{
    size_t col = printf(INDENT "%s", label);
    while (*text) {
        size_t n = strcspn(text, " ");
        if (col + n + 1 > WRAP_COLUMNS && col > strlen(INDENT) + strlen(label)) {
            col = printf("\n" INDENT "%*s", (int)strlen(label), "") - 1;
        } else if (col > strlen(INDENT) + strlen(label)) {
            col += printf(" ");
        }
        col += printf("%.*s", (int)n, text);
        text += n;
        text += *text == ' ';
    }
    printf("\n");
}

static void print_row(const demo_row_t *r)
{
    printf("%s  %s\n", r->pass ? "PASS" : "FAIL", r->threat);
    print_wrapped("mitigation: ", r->mitigation);
    print_wrapped("measured:   ", r->measured);
    fflush(stdout);
}

static void print_header(const demo_t *d, bool keep)
{
    int major, minor, patch;
    zmq_version(&major, &minor, &patch);
    printf("zguard demo: the threats of the analysis, attempted live\n");
    printf("  libzmq %d.%d.%d, zguard %s; directory %s (%s)\n", major, minor,
           patch, zg_version_string(), d->dir,
           keep ? "kept" : "removed at the end; --keep keeps it");
    printf("  service  zguard-example-service: plaintext REP, libzmq's default "
           "HWM, on ipc\n");
    printf("  gate     zguard gate reqrep %s -> the service; metrics %s\n",
           d->frontend, d->metrics);
    printf("  alice    a legitimate client, one request every 50 ms "
           "throughout\n\n");
    fflush(stdout);
}

static void print_json(const demo_row_t *rows, size_t n, double secs)
{
    int major, minor, patch;
    zmq_version(&major, &minor, &patch);
    size_t passed = 0, ran = 0;
    for (size_t i = 0; i < n; i++) {
        passed += rows[i].ran && rows[i].pass;
        ran += rows[i].ran;
    }
    printf("{\n  \"demo_format\": 1,\n  \"zguard\": ");
    cli_json_string(stdout, zg_version_string());
    printf(",\n  \"libzmq\": \"%d.%d.%d\",\n  \"seconds\": %.1f,\n"
           "  \"passed\": %zu,\n  \"failed\": %zu,\n  \"rows\": [",
           major, minor, patch, secs, passed, ran - passed);
    for (size_t i = 0, shown = 0; i < n; i++) {
        const demo_row_t *r = &rows[i];
        if (!r->ran)
            continue;
        printf("%s\n    {\"id\": \"%s\", \"result\": \"%s\", \"threat\": ",
               shown++ ? "," : "", demo_threats[i].id, r->pass ? "PASS" : "FAIL");
        cli_json_string(stdout, r->threat);
        printf(", \"mitigation\": ");
        cli_json_string(stdout, r->mitigation);
        printf(",\n     \"measured\": ");
        cli_json_string(stdout, r->measured);
        printf(",\n     \"values\": {");
        for (int v = 0; v < r->nvalues; v++)
            printf("%s\"%s\": %.6g", v ? ", " : "", r->values[v].name,
                   r->values[v].value);
        printf("}}");
    }
    printf("\n  ]\n}\n");
}

static void list_rows(void)
{
    for (size_t i = 0; i < demo_threat_count; i++)
        printf("%-17s %s\n", demo_threats[i].id, demo_threats[i].threat);
}

/* A row after which the gate is gone fails, and says how it went (a
 * crash inside libzmq looks like every later row failing otherwise). */
static void gate_alive(demo_t *d, demo_row_t *r)
{
    int code = proc_wait(&d->gate, 0);
    if (code == -2)
        return;
    size_t n = strlen(r->measured);
    snprintf(r->measured + n, sizeof r->measured - n,
             "; THE GATE EXITED (%s %d, see gate.log)",
             code > 128 ? "signal" : "status", code > 128 ? code - 128 : code);
    r->pass = false;
}

/* Runs the selected rows; how many failed, and how many ran in *ran. */
static size_t run_rows(demo_t *d, const demo_opts_t *o, demo_row_t *rows,
                       size_t *ran)
{
    size_t failed = 0;
    *ran = 0;
    for (size_t i = 0; i < demo_threat_count; i++) {
        demo_row_t *r = &rows[i];
        memset(r, 0, sizeof *r);
        r->threat = demo_threats[i].threat;
        r->mitigation = demo_threats[i].mitigation;
        if (!selected(o, demo_threats[i].id))
            continue;
        r->ran = true;
        demo_threats[i].run(d, r);
        gate_alive(d, r);
        failed += !r->pass;
        (*ran)++;
        if (!o->json)
            print_row(r);
    }
    return failed;
}

int cmd_demo(int argc, char **argv)
{
    if (cli_wants_help(argc, argv)) {
        fputs(usage, stdout);
        return EXIT_OK;
    }
    demo_opts_t o = {0};
    if (parse_args(argc, argv, &o) != EXIT_OK)
        return EXIT_FAIL;
    if (o.list) {
        list_rows();
        return EXIT_OK;
    }
    signal(SIGPIPE, SIG_IGN);
    static demo_t d;
    static demo_row_t rows[32];
    double t0 = cli_now();
    if (demo_setup(&d) != 0) {
        demo_teardown(&d, true);
        if (d.dir[0])
            fprintf(stderr, "zguard demo: kept %s for its logs\n", d.dir);
        return EXIT_FAIL;
    }
    if (!o.json)
        print_header(&d, o.keep);
    size_t ran, failed = run_rows(&d, &o, rows, &ran);
    demo_teardown(&d, o.keep || failed);
    double secs = cli_now() - t0;
    if (o.json)
        print_json(rows, demo_threat_count, secs);
    else
        printf("\n%zu of %zu rows PASS in %.1f s%s%s\n", ran - failed, ran,
               secs, failed ? "; logs kept in " : "", failed ? d.dir : "");
    return failed ? EXIT_FAIL : EXIT_OK;
}
