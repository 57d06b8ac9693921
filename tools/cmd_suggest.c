/*
 * cmd_suggest.c - `zguard policy suggest --from REPORT.json`: a complete
 * policy for a program from what `zguard run --observe` saw it do, or from
 * what `zguard audit` found in its code (suggest_audit.c), or both.
 *
 * One [socket.NAME] per socket, matched the way `zguard run` matches (its
 * type and the endpoint of its first bind or connect), with values that
 * are bounded: what the program sets where that is bounded, else zguard's
 * built-in value, raised where an observation shows the built-in would be
 * too tight (timeouts from the longest block seen, MAXMSGSIZE from the
 * largest message). Every value says why, citing the observation or the
 * code's file:line; what a person must decide (keys, who may connect, a
 * receive that waits for work) is marked TODO. This file is also the one
 * writer of sections, whichever report they come from.
 */
#include "suggest.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#define CMD "zguard policy suggest"
#define REPORT_MAX (16 * 1024 * 1024)
#define FROM_MAX 16
#define TIMEOUT_HEADROOM 4 /* a timeout: this many times the longest block */
#define MS_PER_S 1000
#define SIZE_HEADROOM 2    /* MAXMSGSIZE: twice the largest message */

static const int waits_for_work[] = {ZMQ_REP, ZMQ_ROUTER, ZMQ_PULL, ZMQ_SUB,
                                     ZMQ_XSUB};

bool suggest_waits_for_work(int type)
{
    for (size_t i = 0; i < sizeof waits_for_work / sizeof *waits_for_work;
         i++)
        if (type == waits_for_work[i])
            return true;
    return false;
}

void suggest_value(suggest_section_t *sec, zg_field_t f, int64_t v,
                   const char *fmt, ...)
{
    sec->given[f] = true;
    sec->value[f] = v;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(sec->why[f], sizeof sec->why[f], fmt, ap);
    va_end(ap);
}

static void format_value(zg_field_t f, int64_t v, char *buf, size_t cap)
{
    zg_value_format(zg_field_info(f), v, buf, cap);
}

/* ---- an observe report -------------------------------------------------- */

/* What the program ran with: value, whether it set it, -2 when unknown. */
static int64_t observed(const cli_jv_t *sock, zg_field_t f, bool *program)
{
    const cli_jv_t *o = cli_jv_get(cli_jv_get(sock, "options"),
                                   zg_field_info(f)->key);
    *program = o && strcmp(cli_jv_str(o, "source", ""), "program") == 0;
    return o ? (int64_t)cli_jv_num(o, "value", -2) : -2;
}

static void observe_hwm(suggest_section_t *sec, const cli_jv_t *sock,
                        zg_field_t f, const zg_resolved_t *b)
{
    bool program;
    int64_t v = observed(sock, f, &program);
    const char *key = zg_field_info(f)->key;
    if (program && v > 0)
        suggest_value(sec, f, v, "the program sets %s %" PRId64 " itself "
                      "(observed): bounded, kept", key, v);
    else if (program)
        suggest_value(sec, f, b->value[f], "the program sets %s 0 "
                      "(unbounded, observed): bounded to zguard's %" PRId64
                      "; TODO: raise it if a load test shows the need", key,
                      b->value[f]);
    else
        suggest_value(sec, f, b->value[f], "the program does not set it; "
                      "libzmq's default %" PRId64 " was in effect "
                      "(observed); zguard's bound for this type is %" PRId64,
                      v, b->value[f]);
}

static void observe_timeout(suggest_section_t *sec, const cli_jv_t *sock,
                            zg_field_t f, const zg_resolved_t *b)
{
    bool send = f == ZG_FIELD_SNDTIMEO, program;
    const cli_jv_t *flow = cli_jv_get(sock, send ? "sent" : "received");
    double longest_ms = cli_jv_num(flow, "longest_block_us", 0) / 1000.0;
    int64_t calls = (int64_t)cli_jv_num(flow, "messages", 0);
    int64_t blocked = (int64_t)cli_jv_num(flow, "blocked_calls", 0);
    int64_t v = observed(sock, f, &program);
    char text[ZG_VALUE_TEXT_MAX];
    if (program && v >= 0) {
        format_value(f, v, text, sizeof text);
        suggest_value(sec, f, v, "the program sets %s itself (observed; at "
                      "most %.1f ms blocked in one %s): kept", text,
                      longest_ms, send ? "send" : "receive");
        return;
    }
    int64_t want = (int64_t)(longest_ms * TIMEOUT_HEADROOM);
    want = (want + MS_PER_S - 1) / MS_PER_S * MS_PER_S; /* whole seconds */
    if (want < b->value[f])
        want = b->value[f];
    format_value(f, want, text, sizeof text);
    bool waits = !send && suggest_waits_for_work(sec->type);
    suggest_value(sec, f, want, "observed at most %.1f ms blocked in one %s "
                  "(%" PRId64 " of %" PRId64 " %ss waited); %s %s is %dx "
                  "that or zguard's default, whichever is longer%s",
                  longest_ms, send ? "send" : "receive", blocked, calls,
                  send ? "send" : "receive", zg_field_info(f)->key, text,
                  TIMEOUT_HEADROOM,
                  waits ? "; TODO: this socket waits for work, so a receive "
                          "lasts as long as its peers are idle: where the "
                          "program must wait longer, raise it (a timeout "
                          "returns EAGAIN to the program)"
                        : "");
}

static void observe_maxmsgsize(suggest_section_t *sec, const cli_jv_t *sock,
                               const zg_resolved_t *b)
{
    bool program;
    int64_t v = observed(sock, ZG_FIELD_MAXMSGSIZE, &program);
    int64_t in = (int64_t)cli_jv_num(cli_jv_get(sock, "received"),
                                     "largest", 0);
    int64_t out = (int64_t)cli_jv_num(cli_jv_get(sock, "sent"), "largest",
                                      0);
    int64_t largest = in > out ? in : out;
    if (program && v > 0 && v >= largest) {
        suggest_value(sec, ZG_FIELD_MAXMSGSIZE, v, "the program sets %"
                      PRId64 " bytes itself (observed; largest message %"
                      PRId64 " bytes): kept", v, largest);
        return;
    }
    int64_t want = b->value[ZG_FIELD_MAXMSGSIZE];
    while (want < largest * SIZE_HEADROOM)
        want *= 2;
    char text[ZG_VALUE_TEXT_MAX];
    format_value(ZG_FIELD_MAXMSGSIZE, want, text, sizeof text);
    suggest_value(sec, ZG_FIELD_MAXMSGSIZE, want, "largest message observed "
                  "%" PRId64 " bytes received, %" PRId64 " sent; maxmsgsize "
                  "%s (at least %dx the largest, and zguard's default)", in,
                  out, text, SIZE_HEADROOM);
}

static void observe_linger(suggest_section_t *sec, const cli_jv_t *sock,
                           const zg_resolved_t *b)
{
    bool program;
    int64_t v = observed(sock, ZG_FIELD_LINGER, &program);
    char text[ZG_VALUE_TEXT_MAX];
    if (program && v >= 0) {
        format_value(ZG_FIELD_LINGER, v, text, sizeof text);
        suggest_value(sec, ZG_FIELD_LINGER, v, "the program sets %s itself "
                      "(observed): bounded, kept", text);
        return;
    }
    format_value(ZG_FIELD_LINGER, v, text, sizeof text);
    suggest_value(sec, ZG_FIELD_LINGER, b->value[ZG_FIELD_LINGER],
                  "%s %s was in effect (observed): a close or exit waits "
                  "that long for unsent messages; zguard's default", program
                  ? "the program sets" : "libzmq's default", text);
}

/* ---- the writer ----------------------------------------------------------- */

void suggest_pattern(const char *endpoint, char *buf, size_t cap)
{
    /* the glob's own special characters ('[' of an IPv6 address) match
     * one character each */
    size_t n = 0;
    for (; *endpoint && n + 1 < cap; endpoint++)
        buf[n++] = strchr("[]?", *endpoint) ? '?' : *endpoint;
    buf[n] = '\0';
}

/* "rep-127.0.0.1-5555": the type and the endpoint (or what stands for it)
 * in the letters a section name may hold; unique in this policy. */
static void name_of(suggest_t *s, const char *type, const char *endpoint,
                    char *buf, size_t cap)
{
    const char *rest = strstr(endpoint, "://");
    rest = rest ? rest + 3 : endpoint;
    char base[ZG_NAME_MAX];
    size_t n = (size_t)snprintf(base, sizeof base, "%.16s-", type);
    for (; *rest && n + 4 < sizeof base; rest++) {
        char c = *rest;
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                  (c >= '0' && c <= '9') || c == '_' || c == '.';
        if (c == '*') {
            n += (size_t)snprintf(base + n, sizeof base - n, "%sany",
                                  base[n - 1] == '-' ? "" : "-");
        } else if (ok) {
            base[n++] = c;
        } else if (base[n - 1] != '-')
            base[n++] = '-';
        base[n] = '\0';
    }
    while (n > 1 && (base[n - 1] == '-' || base[n - 1] == '.'))
        base[--n] = '\0';
    snprintf(buf, cap, "%s", base);
    for (int k = 2;; k++) {
        bool taken = false;
        for (size_t i = 0; i < s->nsections && !taken; i++)
            taken = strcmp(s->names[i], buf) == 0;
        if (!taken)
            return;
        snprintf(buf, cap, "%.48s-%hu", base, (unsigned short)k);
    }
}

bool suggest_transport_ok(const char *ep)
{
    return strncmp(ep, "tcp://", 6) == 0 || strncmp(ep, "ipc://", 6) == 0 ||
           strncmp(ep, "inproc://", 9) == 0;
}

static void write_security(suggest_t *s, const suggest_section_t *sec,
                           const char *name)
{
    if (sec->curve) {
        fprintf(s->out, "# %s: security stays curve, and with no "
                "curve_keys here the program's keys are kept\n",
                sec->security_why);
        return;
    }
    s->plaintext++;
    s->servers += sec->bind;
    fprintf(s->out, "security = none\ninsecure = yes\nsecurity.rationale = "
            "TODO: %s: this traffic is plaintext and its peers are not "
            "authenticated; encrypt it as the comment below says\n",
            sec->security_why);
    fprintf(s->out, "# TODO CURVE: make a key pair (zguard keygen %s --dir "
            "keys), delete the three lines above and\n", name);
    if (sec->bind)
        fprintf(s->out, "#   curve_keys = keys/%s.key\n# (a CURVE server: "
                "its clients' public certificates go in the [auth] allow "
                "directory)\n", name);
    else
        fprintf(s->out, "#   curve_keys = keys/%s.key\n#   curve_server_key "
                "= keys/SERVER.key\n# (a CURVE client: SERVER.key is the "
                "public certificate of the server it connects to)\n", name);
}

void suggest_section_write(suggest_t *s, suggest_section_t *sec)
{
    const char *type = zg_type_name(sec->type);
    char key[sizeof s->keys[0]];
    snprintf(key, sizeof key, "%s %s %s", type, sec->bind ? "bind" : "connect",
             sec->pattern);
    for (size_t i = 0; sec->pattern[0] && i < s->nsections; i++)
        if (strcmp(s->keys[i], key) == 0) {
            fprintf(s->out, "\n# %s: the same as [socket.%s]\n", sec->label,
                    s->names[i]);
            return;
        }
    for (size_t i = 0; sec->name && i < s->nsections; i++)
        if (strcmp(s->names[i], sec->name) == 0) {
            /* the program's name: one section, whatever else says it */
            if (s->types[i] == sec->type)
                fprintf(s->out, "\n# %s: the same as [socket.%s]\n",
                        sec->label, s->names[i]);
            else
                fprintf(s->out, "\n# %s: TODO: named '%s' as [socket.%s] "
                        "above is, which is a %s socket: a name has one "
                        "section, and libzguard refuses this socket\n",
                        sec->label, sec->name, s->names[i],
                        zg_type_name(s->types[i]));
            return;
        }
    if (s->nsections == SUGGEST_SECTIONS_MAX)
        return;
    char name[ZG_NAME_MAX];
    if (sec->name)
        snprintf(name, sizeof name, "%s", sec->name);
    else
        name_of(s, type, sec->name_from, name, sizeof name);
    snprintf(s->names[s->nsections], ZG_NAME_MAX, "%s", name);
    s->types[s->nsections] = sec->type;
    snprintf(s->keys[s->nsections++], sizeof s->keys[0], "%s",
             sec->pattern[0] ? key : "");
    fprintf(s->out, "\n# %s\n[socket.%s]\ntype = %s\n", sec->about, name,
            type);
    if (sec->pattern[0])
        fprintf(s->out, "%s = %s\n", sec->bind ? "bind" : "connect",
                sec->pattern);
    else if (!sec->name)
        s->unmatched++;
    for (int f = 0; f < ZG_FIELD_COUNT; f++) {
        if (!sec->given[f])
            continue;
        const zg_field_info_t *info = zg_field_info((zg_field_t)f);
        char text[ZG_VALUE_TEXT_MAX];
        zg_value_format(info, sec->value[f], text, sizeof text);
        fprintf(s->out, "%s = %s\n%s.rationale = %s\n", info->key, text,
                info->key, sec->why[f]);
    }
    write_security(s, sec, name);
    fprintf(s->out, "rationale = every other value is zguard's built-in "
            "(zguard policy doc shows each with its reason)\n");
}

/* One socket of an observe report: a section, or a comment saying why
 * none. */
static void observe_socket(suggest_t *s, const cli_jv_t *sock,
                           const char *report)
{
    const char *type = cli_jv_str(sock, "type", "");
    const cli_jv_t *binds = cli_jv_get(sock, "bind");
    const cli_jv_t *conns = cli_jv_get(sock, "connect");
    bool bind = binds && binds->n > 0;
    const cli_jv_t *first = bind ? &binds->items[0]
                          : conns && conns->n ? &conns->items[0]
                                              : NULL;
    int id = (int)cli_jv_num(sock, "id", 0);
    int t = zg_type_from_name(type);
    const char *ep = first && first->kind == CLI_JV_STRING ? first->string
                                                           : NULL;
    if (!ep || t < 0) {
        fprintf(s->out, "\n# %s socket %d (%s): never bound or connected: "
                "nothing to match\n", report, id, type);
        return;
    }
    if (!suggest_transport_ok(ep) || strncmp(ep, "inproc://", 9) == 0) {
        fprintf(s->out, "\n# %s socket %d (%s %s %s): %s\n", report, id,
                type, bind ? "bound to" : "connected to", ep,
                suggest_transport_ok(ep)
                    ? "inproc only: it never leaves the process, and zguard "
                      "run leaves it as the program made it"
                    : "zguard run matches tcp, ipc and inproc endpoints "
                      "only");
        return;
    }
    zg_resolved_t b;
    suggest_section_t *sec = calloc(1, sizeof *sec);
    if (!sec || zg_policy_resolve(s->builtin, t, NULL, &b) != 0) {
        free(sec);
        return;
    }
    sec->type = t;
    sec->name_from = ep;
    sec->bind = bind;
    suggest_pattern(ep, sec->pattern, sizeof sec->pattern);
    snprintf(sec->label, sizeof sec->label, "%s socket %d (%s %s)", report,
             id, type, ep);
    snprintf(sec->about, sizeof sec->about, "%s socket %d: %s %s %s; %.0f "
             "messages sent, %.0f received", report, id, type,
             bind ? "bound to" : "connected to", ep,
             cli_jv_num(cli_jv_get(sock, "sent"), "messages", 0),
             cli_jv_num(cli_jv_get(sock, "received"), "messages", 0));
    if (zg_field_applies(ZG_FIELD_SNDHWM, t))
        observe_hwm(sec, sock, ZG_FIELD_SNDHWM, &b);
    if (zg_field_applies(ZG_FIELD_RCVHWM, t))
        observe_hwm(sec, sock, ZG_FIELD_RCVHWM, &b);
    if (zg_field_applies(ZG_FIELD_SNDTIMEO, t))
        observe_timeout(sec, sock, ZG_FIELD_SNDTIMEO, &b);
    if (zg_field_applies(ZG_FIELD_RCVTIMEO, t))
        observe_timeout(sec, sock, ZG_FIELD_RCVTIMEO, &b);
    observe_maxmsgsize(sec, sock, &b);
    observe_linger(sec, sock, &b);
    const char *mech = cli_jv_str(sock, "mechanism", "NULL");
    sec->curve = strcmp(mech, "CURVE") == 0;
    snprintf(sec->security_why, sizeof sec->security_why, sec->curve
             ? "the program sets its own CURVE keys (observed mechanism "
               "CURVE)"
             : "observed mechanism %s", mech);
    suggest_section_write(s, sec);
    free(sec);
}

static int suggest_report(suggest_t *s, const char *path)
{
    size_t len;
    char *text = zg_file_read_text(path, REPORT_MAX, &len);
    if (!text) {
        fprintf(stderr, "%s: %s: %s\n", CMD, path, strerror(errno));
        return EXIT_FAIL;
    }
    char err[128];
    cli_jv_t *doc = cli_jv_parse(text, err, sizeof err);
    free(text);
    if (doc && cli_jv_get(doc, "audit_format")) {
        int rc = suggest_from_audit(s, doc, path);
        cli_jv_free(&doc);
        return rc;
    }
    if (!doc || strcmp(cli_jv_str(doc, "report", ""), "zguard-observe")) {
        fprintf(stderr, "%s: %s: %s\n", CMD, path,
                doc ? "not a report of zguard run --observe, nor of zguard "
                      "audit --format json"
                    : err);
        cli_jv_free(&doc);
        return EXIT_FAIL;
    }
    fprintf(s->out, "\n# ---- %s: %s (pid %.0f), libzmq %s, written at "
            "%s\n", path, cli_jv_str(doc, "program", "?"),
            cli_jv_num(doc, "pid", 0), cli_jv_str(doc, "libzmq_version", "?"),
            cli_jv_str(doc, "trigger", "?"));
    const cli_jv_t *socks = cli_jv_get(doc, "sockets");
    for (size_t i = 0; socks && i < socks->n; i++)
        observe_socket(s, &socks->items[i], path);
    cli_jv_free(&doc);
    return EXIT_OK;
}

static const char usage[] =
    "usage: zguard policy suggest --from REPORT.json [--from ...] "
    "[--out FILE]\n"
    "\n"
    "Writes a complete policy for a program from what `zguard run --observe\n"
    "--report REPORT.json` saw it do, or from what `zguard audit --format\n"
    "json . > REPORT.json` found in its code (the kind of report is read\n"
    "from the file; several reports, e.g. a client's and a server's, or an\n"
    "audit and an observation, make one policy): one [socket.NAME] per\n"
    "socket, matched by its type and the endpoint of its first bind or\n"
    "connect, with bounded HWMs, timeouts, MAXMSGSIZE and LINGER, each with\n"
    "a rationale citing the observation or the code's FILE:LINE:\n"
    "  - a bounded value the program sets itself is kept;\n"
    "  - observed: a timeout is 4x the longest send/receive block, at least\n"
    "    zguard's default; MAXMSGSIZE at least 2x the largest message;\n"
    "  - audited: a value the code does not set, sets unbounded (HWM 0, -1)\n"
    "    or sets to what the audit cannot read is zguard's built-in value;\n"
    "    an endpoint that is not a string literal gives no bind/connect\n"
    "    pattern (a TODO: zguard run matches no socket to that section);\n"
    "  - sockets without CURVE get 'security = none' with a TODO rationale\n"
    "    and the lines to encrypt them once keys exist (zguard keygen);\n"
    "    inproc-only sockets are left out (zguard run leaves them).\n"
    "The result passes `zguard policy check`; `zguard run --policy FILE --\n"
    "CMD` enforces it. Review every TODO before relying on it.\n"
    "\n"
    "  --from REPORT.json   a report of zguard run --observe or of zguard\n"
    "                       audit --format json (repeatable)\n"
    "  --out FILE           write the policy there (atomically) instead of\n"
    "                       standard output\n";

int policy_suggest(int argc, char **argv)
{
    enum { OPT_FROM, OPT_OUT };
    static const cli_opt_t opts[] = {{"from", 0, "REPORT", OPT_FROM},
                                     {"out", 0, "FILE", OPT_OUT},
                                     {NULL, 0, NULL, 0}};
    if (cli_wants_help(argc, argv)) {
        fputs(usage, stdout);
        return EXIT_OK;
    }
    const char *from[FROM_MAX], *out_path = NULL;
    int nfrom = 0;
    cli_opts_t op = {.cmd = CMD, .table = opts, .argc = argc, .argv = argv};
    for (int c; (c = cli_opt_next(&op)) != CLI_OPT_END;) {
        if (c == OPT_FROM && nfrom < FROM_MAX)
            from[nfrom++] = op.value;
        else if (c == OPT_OUT)
            out_path = op.value;
        else
            return c == OPT_FROM ? cli_usage_error(CMD, "at most %d --from",
                                                   FROM_MAX)
                                 : CLI_EXIT_USAGE;
    }
    if (!nfrom || op.nargs)
        return cli_usage_error(CMD, op.nargs ? "unexpected '%s'"
                                             : "--from REPORT.json is "
                                               "required%s",
                               op.nargs ? cli_opt_args(&op)[0] : "");
    suggest_t *s = calloc(1, sizeof *s);
    char *text = NULL;
    size_t len = 0;
    s->out = s ? open_memstream(&text, &len) : NULL;
    s && s->out ? (void)(s->builtin = zg_policy_builtin()) : (void)0;
    if (!s || !s->out || !s->builtin) {
        fprintf(stderr, "%s: out of memory\n", CMD);
        free(s);
        return EXIT_FAIL;
    }
    fprintf(s->out, "# A policy suggested by zguard policy suggest from "
            "the reports below.\n# Review every TODO; then: "
            "zguard policy check FILE, zguard run --policy FILE -- CMD\n"
            "version = 1\n");
    int rc = EXIT_OK;
    for (int i = 0; i < nfrom && rc == EXIT_OK; i++)
        rc = suggest_report(s, from[i]);
    if (s->servers)
        fprintf(s->out, "\n# TODO [auth]: once a bound socket has "
                "curve_keys, the public certificates of the clients it\n# "
                "accepts go in one directory:\n#   [auth]\n#   allow = "
                "authorized\n#   rationale = TODO: who enrols clients\n");
    fclose(s->out);
    zg_policy_t *builtin = (zg_policy_t *)s->builtin;
    zg_policy_destroy(&builtin);
    if (rc == EXIT_OK && out_path) {
        zg_write_t w = {out_path, text, len, 0644};
        if (zg_files_write(&w, 1, ZG_WRITE_REPLACE) != 0) {
            fprintf(stderr, "%s: %s: %s\n", CMD, out_path, zg_last_error());
            rc = EXIT_FAIL;
        }
    } else if (rc == EXIT_OK)
        fwrite(text, 1, len, stdout);
    if (rc == EXIT_OK)
        fprintf(stderr, "%s: %zu socket section%s%s; %zu without CURVE "
                "(security = none, TODO)%s", CMD, s->nsections,
                s->nsections == 1 ? "" : "s", out_path ? " written" : "",
                s->plaintext,
                s->plaintext ? ": to encrypt them, make keys with zguard "
                               "keygen NAME --dir keys and follow the TODO "
                               "comments"
                             : "");
    if (rc == EXIT_OK && s->unmatched)
        fprintf(stderr, "; %zu without a bind/connect pattern (TODO: zguard "
                "run matches no socket to them)", s->unmatched);
    if (rc == EXIT_OK)
        fputc('\n', stderr);
    free(text);
    free(s);
    return rc;
}
