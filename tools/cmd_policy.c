/*
 * cmd_policy.c - `zguard policy check` and `zguard policy doc` (`suggest`
 * is cmd_suggest.c).
 *
 * check: is this policy valid? Every problem as FILE:LINE: key: message.
 * doc:   the analysis' "document the HWM and timeout settings and the
 *        rationale": every effective value of every named socket and socket
 *        type, where it came from and why, as Markdown or JSON.
 */
#include "cli.h"

#include <ctype.h>
#include <string.h>
#include <zguard.h>

static const char usage[] =
    "usage: zguard policy check [-q] FILE...\n"
    "       zguard policy doc [--format markdown|json] FILE\n"
    "       zguard policy suggest --from REPORT.json [--out FILE]\n"
    "\n"
    "check  Validates each policy file. Problems go to standard error as\n"
    "       FILE:LINE: key: message, then one summary line per file to\n"
    "       standard output (-q: no summary).\n"
    "       Exit 0 valid, 1 valid with warnings, 2 invalid.\n"
    "\n"
    "doc    Prints every named socket and every socket type with each\n"
    "       effective value, where it came from (built-in, [defaults],\n"
    "       [type.T] or [socket.N] and its line) and its rationale.\n"
    "       --format markdown (default) for people, json for tools.\n"
    "       Exit 2 if the policy is invalid.\n"
    "\n"
    "suggest  A policy for an unmodified program from the report of\n"
    "       `zguard run --observe` ('zguard policy suggest --help').\n"
    "\n"
    "A policy is an INI file that starts with 'version = 1' and has up to\n"
    "three layers over zguard's built-in defaults:\n"
    "\n"
    "    version = 1\n"
    "    [defaults]\n"
    "    sndtimeo = 2s\n"
    "    sndtimeo.rationale = p99 of the consumer is 40ms; 2s means stuck\n"
    "    [type.pub]\n"
    "    sndhwm = 20000\n"
    "    [socket.orders-in]\n"
    "    type = pull\n"
    "    rcvhwm = 500\n"
    "\n"
    "See docs/policy.md for every key and its units.\n";

static int check_one(const char *path, int quiet)
{
    zg_diag_t *diag = zg_diag_new();
    if (!diag) {
        fprintf(stderr, "zguard policy check: out of memory\n");
        return EXIT_FAIL;
    }
    zg_policy_t *p = zg_policy_load(path, diag);
    zg_diag_print(diag, stderr);
    size_t errors = zg_diag_errors(diag), warnings = zg_diag_warnings(diag);
    int rc = p ? (warnings ? EXIT_WARN : EXIT_OK) : EXIT_FAIL;
    if (!quiet) {
        if (!p)
            printf("%s: invalid: %zu error%s, %zu warning%s\n", path, errors,
                   errors == 1 ? "" : "s", warnings, warnings == 1 ? "" : "s");
        else if (warnings)
            printf("%s: valid with %zu warning%s\n", path, warnings,
                   warnings == 1 ? "" : "s");
        else
            printf("%s: valid, %zu named socket%s\n", path,
                   zg_policy_socket_count(p),
                   zg_policy_socket_count(p) == 1 ? "" : "s");
    }
    zg_policy_destroy(&p);
    zg_diag_destroy(&diag);
    return rc;
}

static int run_check(int argc, char **argv)
{
    static const cli_opt_t opts[] = {{"quiet", 'q', NULL, 'q'},
                                     {NULL, 0, NULL, 0}};
    cli_opts_t p = {.cmd = "zguard policy check", .table = opts,
                    .argc = argc, .argv = argv};
    int quiet = 0;
    for (int c; (c = cli_opt_next(&p)) != CLI_OPT_END;) {
        if (c == CLI_OPT_ERROR)
            return EXIT_FAIL;
        quiet = 1;
    }
    if (!p.nargs)
        return cli_usage_error("zguard policy check", "no policy file given");
    int worst = EXIT_OK;
    for (int i = 0; i < p.nargs; i++) {
        int rc = check_one(cli_opt_args(&p)[i], quiet);
        worst = rc > worst ? rc : worst;
    }
    return worst;
}

/* ---- doc ------------------------------------------------------------------ */

typedef struct doc_item {
    const char *name; /* NULL for a socket type */
    int type;
} doc_item_t;

static void type_upper(int type, char *buf, size_t cap)
{
    snprintf(buf, cap, "%s", zg_type_name(type));
    for (char *c = buf; *c; c++)
        *c = (char)toupper((unsigned char)*c);
}

/* "socket.orders-in", "type.push", "defaults", "built-in" */
static void section_of(const doc_item_t *it, const zg_setting_t *s, char *buf,
                       size_t cap)
{
    switch (s->layer) {
    case ZG_LAYER_SOCKET: snprintf(buf, cap, "socket.%s", it->name); break;
    case ZG_LAYER_TYPE:
        snprintf(buf, cap, "type.%s", zg_type_name(it->type));
        break;
    case ZG_LAYER_DEFAULTS: snprintf(buf, cap, "defaults"); break;
    default: snprintf(buf, cap, "built-in"); break;
    }
}

/* The endpoints by which `zguard run` knows this socket in an unmodified
 * program ([socket.NAME] bind = / connect =). */
static void doc_matches(const zg_policy_t *p, const char *name, int json)
{
    for (int bind = 1; bind >= 0; bind--) {
        unsigned line;
        const char *pat = zg_policy_socket_pattern(p, name, bind, &line);
        if (!pat)
            continue;
        if (json) {
            printf("\"%s\": {\"pattern\": ", bind ? "bind" : "connect");
            cli_json_string(stdout, pat);
            printf(", \"line\": %u}, ", line);
        } else {
            printf("Under `zguard run`: the first such socket that %s `%s` "
                   "(line %u).\n\n",
                   bind ? "binds to" : "connects to", pat, line);
        }
    }
}

static void md_item(const zg_policy_t *p, const doc_item_t *it,
                    const zg_setting_t *set)
{
    char type[16];
    type_upper(it->type, type, sizeof type);
    if (it->name)
        printf("### `%s` (%s)\n\n", it->name, type);
    else
        printf("### %s\n\n", type);
    if (it->name)
        doc_matches(p, it->name, 0);
    printf("| setting | value | from | rationale |\n|---|---|---|---|\n");
    for (int f = 0; f < ZG_FIELD_COUNT; f++) {
        const zg_setting_t *s = &set[f];
        if (!s->applies)
            continue;
        char from[ZG_NAME_MAX + 16];
        section_of(it, s, from, sizeof from);
        printf("| %s | ", s->key);
        cli_md_cell(stdout, s->str ? s->str : s->text);
        printf(" | ");
        if (s->layer == ZG_LAYER_BUILTIN)
            printf("built-in");
        else
            printf("[%s] line %u", from, s->line);
        printf(" | ");
        cli_md_cell(stdout, s->rationale ? s->rationale : "");
        printf(" |\n");
    }
    printf("\n");
}

static void json_item(const zg_policy_t *p, const doc_item_t *it,
                      const zg_setting_t *set, int first)
{
    printf("%s\n    {", first ? "" : ",");
    if (it->name) {
        printf("\"name\": ");
        cli_json_string(stdout, it->name);
        printf(", ");
        doc_matches(p, it->name, 1);
    }
    printf("\"type\": \"%s\", \"settings\": [", zg_type_name(it->type));
    int n = 0;
    for (int f = 0; f < ZG_FIELD_COUNT; f++) {
        const zg_setting_t *s = &set[f];
        if (!s->applies)
            continue;
        char from[ZG_NAME_MAX + 16];
        section_of(it, s, from, sizeof from);
        printf("%s\n      {\"key\": \"%s\", \"value\": %lld, \"text\": ",
               n++ ? "," : "", s->key, (long long)s->value);
        cli_json_string(stdout, s->str ? s->str : s->text);
        printf(", \"layer\": \"%s\", \"section\": ", zg_layer_name(s->layer));
        cli_json_string(stdout, s->layer == ZG_LAYER_BUILTIN ? NULL : from);
        printf(", \"line\": %u, \"rationale\": ", s->line);
        cli_json_string(stdout, s->rationale);
        printf("}");
    }
    printf("\n    ]}");
}

static int emit(const zg_policy_t *p, const doc_item_t *it, int json,
                int first)
{
    zg_setting_t set[ZG_FIELD_COUNT];
    if (zg_policy_settings(p, it->type, it->name, set, ZG_FIELD_COUNT, sizeof set[0]) != 0) {
        fprintf(stderr, "zguard policy doc: %s\n", zg_last_error());
        return -1;
    }
    if (json)
        json_item(p, it, set, first);
    else
        md_item(p, it, set);
    return 0;
}

static int doc_sockets(const zg_policy_t *p, int json)
{
    size_t n = zg_policy_socket_count(p);
    if (json)
        printf("  \"sockets\": [");
    else
        printf("## Named sockets\n\n%s", n ? "" : "_No named sockets._\n\n");
    for (size_t i = 0; i < n; i++) {
        const char *name = zg_policy_socket_name(p, i);
        doc_item_t it = {name, zg_policy_socket_type(p, name)};
        if (emit(p, &it, json, i == 0) != 0)
            return -1;
    }
    if (json)
        printf("%s],\n", n ? "\n  " : "");
    return 0;
}

static int doc_types(const zg_policy_t *p, int json)
{
    if (json)
        printf("  \"types\": [");
    else
        printf("## Socket types\n\nWhat a socket of each type gets when it "
               "has no name in the policy.\n\n");
    for (int t = 0; zg_type_name(t); t++) {
        doc_item_t it = {NULL, t};
        if (emit(p, &it, json, t == 0) != 0)
            return -1;
    }
    if (json)
        printf("\n  ]\n");
    return 0;
}

#define SECTION_KEYS_MAX 5 /* shown per plain section */

typedef const char *(section_get_fn)(const zg_policy_t *, const char *,
                                     unsigned *);

static const struct {
    const char *name, *title, *empty;
    section_get_fn *get;
    const char *keys[SECTION_KEYS_MAX];
} sections[] = {
    {"auth", "Authentication ([auth])",
     "_No [auth] section: no CURVE server can be created._",
     zg_policy_auth,
     {"allow", "revoked", "allow_ip", "deny_ip"}},
    {"metrics", "Metrics ([metrics])",
     "_No [metrics] section: monitors on, no endpoint._",
     zg_policy_metrics,
     {"listen", "monitor", NULL, NULL}},
    {"gate", "Gate ([gate])",
     "_No [gate] section: not a `zguard gate` config._",
     zg_policy_gate,
     {"pattern", "mode", "frontend", "backend", "backend_grace"}},
};

static void doc_section(const zg_policy_t *p, size_t i, int json)
{
    if (json)
        printf("  \"%s\": {", sections[i].name);
    else
        printf("## %s\n\n", sections[i].title);
    int shown = 0;
    for (size_t k = 0; k < SECTION_KEYS_MAX && sections[i].keys[k]; k++) {
        unsigned line;
        const char *key = sections[i].keys[k];
        const char *v = sections[i].get(p, key, &line);
        if (!v)
            continue;
        if (json) {
            printf("%s\"%s\": {\"value\": ", shown ? ", " : "", key);
            cli_json_string(stdout, v);
            printf(", \"line\": %u}", line);
        } else {
            if (!shown)
                printf("| setting | value | line |\n|---|---|---|\n");
            printf("| %s | ", key);
            cli_md_cell(stdout, v);
            printf(" | %u |\n", line);
        }
        shown++;
    }
    if (json)
        printf("},\n");
    else
        printf("%s\n", shown ? "" : sections[i].empty);
    if (!json && !shown)
        printf("\n");
}

static int run_doc(int argc, char **argv)
{
    static const cli_opt_t opts[] = {{"format", 'f', "FORMAT", 'f'},
                                     {NULL, 0, NULL, 0}};
    const char *cmd = "zguard policy doc";
    cli_opts_t op = {.cmd = cmd, .table = opts, .argc = argc, .argv = argv};
    int json = 0;
    for (int c; (c = cli_opt_next(&op)) != CLI_OPT_END;) {
        if (c == CLI_OPT_ERROR)
            return EXIT_FAIL;
        if (strcmp(op.value, "json") == 0)
            json = 1;
        else if (strcmp(op.value, "markdown") != 0)
            return cli_usage_error(cmd, "unknown format '%s' (markdown, json)",
                                   op.value);
    }
    if (op.nargs != 1)
        return cli_usage_error(cmd, "give exactly one policy file");
    const char *path = cli_opt_args(&op)[0];
    zg_diag_t *diag = zg_diag_new();
    zg_policy_t *p = zg_policy_load(path, diag);
    zg_diag_print(diag, stderr);
    zg_diag_destroy(&diag);
    if (!p)
        return EXIT_FAIL;
    if (json) {
        printf("{\n  \"policy\": ");
        cli_json_string(stdout, path);
        printf(",\n  \"zguard\": \"%s\",\n", zg_version_string());
    } else {
        printf("# Socket policy: %s\n\n", path);
        printf("Every effective value of every named socket and socket type "
               "in `%s`:\nwhere it comes from (built-in default, "
               "`[defaults]`, `[type.T]` or\n`[socket.N]`, with its line) and "
               "why. Generated by `zguard policy doc`\n(zguard %s).\n\n",
               path, zg_version_string());
    }
    for (size_t i = 0; i < sizeof sections / sizeof sections[0]; i++)
        doc_section(p, i, json);
    int rc = doc_sockets(p, json) == 0 && doc_types(p, json) == 0 ? EXIT_OK
                                                                   : EXIT_FAIL;
    if (json)
        printf("}\n");
    zg_policy_destroy(&p);
    return rc;
}

int cmd_policy(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 ||
        strcmp(argv[1], "-h") == 0) {
        fputs(usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? EXIT_FAIL : EXIT_OK;
    }
    /* suggest has a --help of its own */
    if (strcmp(argv[1], "suggest") == 0)
        return policy_suggest(argc - 1, argv + 1);
    if (cli_wants_help(argc - 1, argv + 1)) {
        fputs(usage, stdout);
        return EXIT_OK;
    }
    if (strcmp(argv[1], "check") == 0)
        return run_check(argc - 1, argv + 1);
    if (strcmp(argv[1], "doc") == 0)
        return run_doc(argc - 1, argv + 1);
    return cli_usage_error("zguard policy", "no subcommand '%s' (check, doc, "
                           "suggest)",
                           argv[1]);
}
