/*
 * suggest_audit.c - `zguard policy suggest --from AUDIT.json`: the sections
 * of a policy from what `zguard audit --format json` found in the code.
 *
 * Every socket the audit found gets a section (inproc-only ones a comment:
 * zguard run leaves them as the program made them). Its values are the
 * code's where the code sets a bounded one (cited as file:line), zguard's
 * built-in ones where it does not, sets an unbounded one, or sets one the
 * audit cannot read (each said so). It is matched by the endpoint literal
 * of its first bind or connect; an endpoint that is not a literal gives no
 * pattern (a TODO), one whose literal prefix is known matches that prefix.
 * cmd_suggest.c writes the sections.
 */
#include "suggest.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define AUDIT_FORMAT 1 /* the zguard audit JSON layout read here */

/* The audit's mitigations, by the policy field they become. */
static const zg_field_t fields[] = {ZG_FIELD_SNDHWM, ZG_FIELD_RCVHWM,
                                    ZG_FIELD_SNDTIMEO, ZG_FIELD_RCVTIMEO,
                                    ZG_FIELD_MAXMSGSIZE, ZG_FIELD_LINGER};

typedef struct audit_sock {
    const cli_jv_t *j;
    const char *file, *var;
    unsigned line;
    char type[16]; /* lower case, as a policy writes it */
} audit_sock_t;

/* A path as the audit reported it, without its "./". */
static const char *shown(const char *path)
{
    return strncmp(path, "./", 2) == 0 && path[2] ? path + 2 : path;
}

/* "FILE:LINE" of a mitigation, or of the socket when the code gives none;
 * set by a helper: "FILE:LINE HELPER() (at FILE:LINE)". */
static void where(const audit_sock_t *a, const cli_jv_t *m, char *buf,
                  size_t cap)
{
    double line = cli_jv_num(m, "line", 0);
    int n = snprintf(buf, cap, "%s:%u", a->file, line > 0 ? (unsigned)line
                                                          : a->line);
    const cli_jv_t *in = cli_jv_get(m, "set_in");
    if (in && in->kind == CLI_JV_OBJECT && n > 0 && (size_t)n < cap)
        snprintf(buf + n, cap - (size_t)n, " %s() (at %s:%.0f)",
                 cli_jv_str(in, "function", "?"),
                 shown(cli_jv_str(in, "file", "?")), cli_jv_num(in, "line", 0));
}

/* What sets it, in words: "sets", "sets on the context", ... */
static const char *how_set(const cli_jv_t *m)
{
    const char *src = cli_jv_str(m, "source", "");
    if (strcmp(src, "context") == 0)
        return "sets on the context (every later socket copies it)";
    if (strcmp(src, "process") == 0)
        return "sets for the process (every later socket copies it)";
    if (strcmp(src, "library") == 0)
        return "makes the socket with its library's default";
    return "sets";
}

/* The code's value in policy units, when it is one a policy can hold;
 * else false with why not in *why. */
static bool code_value(zg_field_t f, int64_t code, int64_t *out,
                       const char **why)
{
    const zg_field_info_t *info = zg_field_info(f);
    int64_t v = code == -1 ? -1 : code * info->zmq_scale;
    bool hwm = f == ZG_FIELD_SNDHWM || f == ZG_FIELD_RCVHWM;
    if (hwm ? v == 0 : v < 0) {
        *why = hwm ? "unbounded" : "infinite: no bound";
        return false;
    }
    char text[ZG_VALUE_TEXT_MAX];
    zg_value_format(info, v, text, sizeof text);
    return zg_value_parse(info, text, out, why) == 0;
}

/* The first send or receive that can wait forever, as "FILE:LINE CALL". */
static bool blocking_op(const audit_sock_t *a, bool send, char *buf,
                        size_t cap)
{
    const cli_jv_t *ops = cli_jv_get(a->j, "operations");
    for (size_t i = 0; ops && i < ops->n; i++) {
        const cli_jv_t *op = &ops->items[i];
        if (cli_jv_bool(op, "can_block_forever", false) &&
            (strcmp(cli_jv_str(op, "direction", ""), "send") == 0) == send) {
            snprintf(buf, cap, "%s:%.0f %s()", a->file,
                     cli_jv_num(op, "line", 0), cli_jv_str(op, "call", "?"));
            return true;
        }
    }
    return false;
}

/* The built-in value, and why the code's is not used. */
static void builtin_value(suggest_section_t *sec, const audit_sock_t *a,
                          zg_field_t f, const zg_resolved_t *b,
                          const char *because)
{
    const char *key = zg_field_info(f)->key;
    char text[ZG_VALUE_TEXT_MAX], op[SUGGEST_WHY_MAX / 2] = "";
    zg_value_format(zg_field_info(f), b->value[f], text, sizeof text);
    bool timeout = f == ZG_FIELD_SNDTIMEO || f == ZG_FIELD_RCVTIMEO;
    char blocks[SUGGEST_WHY_MAX] = "";
    if (timeout && blocking_op(a, f == ZG_FIELD_SNDTIMEO, op, sizeof op))
        snprintf(blocks, sizeof blocks, "; %s can wait forever without it",
                 op);
    bool waits = f == ZG_FIELD_RCVTIMEO && suggest_waits_for_work(sec->type);
    suggest_value(sec, f, b->value[f], "%s: zguard's built-in %s %s for %s "
                  "sockets%s%s", because, key, text, a->type, blocks,
                  waits ? "; TODO: this socket waits for work, so a receive "
                          "lasts as long as its peers are idle: where the "
                          "program must wait longer, raise it (a timeout "
                          "returns EAGAIN to the program)"
                        : "");
}

static void audit_value(suggest_section_t *sec, const audit_sock_t *a,
                        zg_field_t f, const zg_resolved_t *b)
{
    const char *key = zg_field_info(f)->key;
    const cli_jv_t *m = cli_jv_get(cli_jv_get(a->j, "mitigations"), key);
    const char *status = cli_jv_str(m, "status", "not_set");
    const char *src = cli_jv_str(m, "source", "none");
    const cli_jv_t *jv = cli_jv_get(m, "value");
    bool known = jv && jv->kind == CLI_JV_NUMBER;
    char at[SUGGEST_WHY_MAX / 2], because[SUGGEST_WHY_MAX];
    where(a, m, at, sizeof at);
    bool late = strcmp(status, "ineffective") == 0;
    bool by_code = strcmp(src, "none") != 0 && strcmp(src, "policy") != 0 &&
                   (strcmp(status, "set") == 0 || strcmp(status, "weak") == 0 ||
                    strcmp(status, "unknown") == 0 || late);
    int64_t v;
    const char *not_held = "";
    if (by_code && known && code_value(f, (int64_t)jv->number, &v, &not_held)) {
        char text[ZG_VALUE_TEXT_MAX];
        zg_value_format(zg_field_info(f), v, text, sizeof text);
        suggest_value(sec, f, v, "%s %s %s %s%s", at, how_set(m), key, text,
                      late ? " after bind/connect (libzmq applies it to later "
                             "connections only); zguard run sets it before"
                           : "");
        return;
    }
    if (!by_code)
        snprintf(because, sizeof because, "the code does not set it%s",
                 strcmp(src, "policy") == 0 ? " (it leaves it to zguard's "
                                              "policy)" : "");
    else if (known)
        snprintf(because, sizeof because, "%s %s %s %.0f (%s)", at,
                 how_set(m), key, jv->number, not_held);
    else
        snprintf(because, sizeof because, "%s %s %s to '%s', which the "
                 "audit cannot read; TODO: check it", at, how_set(m), key,
                 cli_jv_str(m, "text", "?"));
    builtin_value(sec, a, f, b, because);
}

/* The section's pattern from the first endpoint, or "" with a TODO said
 * in the comment above the section. */
static void audit_pattern(suggest_section_t *sec, const audit_sock_t *a,
                          const cli_jv_t *ep, char *note, size_t cap)
{
    const char *text = cli_jv_str(ep, "endpoint", "");
    const char *kind = cli_jv_str(ep, "kind", "connect");
    unsigned line = (unsigned)cli_jv_num(ep, "line", 0);
    sec->bind = strcmp(kind, "bind") == 0;
    if (!cli_jv_bool(ep, "literal", false)) {
        snprintf(note, cap, "\n# TODO: its %s endpoint '%s' (%s:%u) is not a "
                 "literal, so this section has no %s pattern and zguard run "
                 "matches no socket to it\n# (such a socket gets its type's "
                 "values): add %s = the endpoint's pattern", kind, text,
                 a->file, line, kind, kind);
        return;
    }
    if (!cli_jv_bool(ep, "partial", false)) {
        suggest_pattern(text, sec->pattern, sizeof sec->pattern);
        snprintf(note, cap, "; %s %s at %s:%u", kind, text, a->file, line);
        return;
    }
    /* "tcp://host:" of f"tcp://host:{port}" or "tcp://host:%d" % port:
     * what is literal before the first substitution, then anything (any
     * port, when a tcp prefix ends before its port: bind_to_random_port) */
    char prefix[SUGGEST_ENDPOINT_MAX - 2]; /* room for the ":*" */
    suggest_pattern(text, prefix, sizeof prefix);
    prefix[strcspn(prefix, "%{")] = '\0';
    const char *rest = strstr(prefix, "://");
    bool tcp = strncmp(prefix, "tcp://", 6) == 0;
    const char *any = tcp && !strchr(prefix + 6, ':') ? ":*" : "*";
    if (rest && rest[3]) {
        snprintf(sec->pattern, sizeof sec->pattern, "%s%s", prefix, any);
        snprintf(note, cap, "; %s at %s:%u\n# only '%s' of its endpoint is a "
                 "literal: matched by %s; TODO: narrow it to the endpoint "
                 "the program uses", kind, a->file, line, prefix,
                 sec->pattern);
        return;
    }
    snprintf(note, cap, "\n# TODO: only '%s' of its %s endpoint (%s:%u) is a "
             "literal, too little to match by, so this section has no %s "
             "pattern and zguard run matches no socket to it: add %s = the "
             "endpoint's pattern", prefix, kind, a->file, line, kind, kind);
}

static void audit_security(suggest_section_t *sec, const audit_sock_t *a)
{
    const cli_jv_t *m = cli_jv_get(cli_jv_get(a->j, "mitigations"), "curve");
    const char *status = cli_jv_str(m, "status", "not_set");
    char at[SUGGEST_WHY_MAX / 2];
    where(a, m, at, sizeof at);
    sec->curve = strcmp(status, "set") == 0 || strcmp(status, "ineffective") == 0;
    if (sec->curve && strcmp(cli_jv_str(m, "source", ""), "policy") == 0)
        snprintf(sec->security_why, sizeof sec->security_why, "%s: CURVE "
                 "comes from zguard's policy (%s)", at,
                 cli_jv_str(m, "text", "?"));
    else if (sec->curve)
        snprintf(sec->security_why, sizeof sec->security_why, "%s sets its "
                 "own CURVE keys (%s)%s", at, cli_jv_str(m, "text", "?"),
                 strcmp(status, "set") ? ", after bind/connect" : "");
    else
        snprintf(sec->security_why, sizeof sec->security_why, "the code "
                 "sets no CURVE on it (zguard audit)");
}

/* A name a [socket.NAME] section can have: 1 to 63 letters, digits, '_',
 * '-' or '.' (an expression the audit could not read is not one). */
static bool section_name_ok(const char *name)
{
    size_t n = strlen(name);
    return n > 0 && n < ZG_NAME_MAX &&
           strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                        "0123456789_-.") == n;
}

/* The socket's name for the writer: the zguard name the program gives
 * it, else its first endpoint, else its file and variable. */
static void audit_socket(suggest_t *s, const audit_sock_t *a, int t,
                         suggest_section_t *sec)
{
    const cli_jv_t *eps = cli_jv_get(a->j, "endpoints");
    const cli_jv_t *ep = eps && eps->n ? &eps->items[0] : NULL;
    const char *text = cli_jv_str(ep, "endpoint", "");
    bool literal = cli_jv_bool(ep, "literal", false);
    const char *zname = cli_jv_str(a->j, "zguard_name", NULL);
    char label[SUGGEST_NOTE_MAX / 4];
    snprintf(label, sizeof label, "%s:%u: %s socket '%s'", a->file, a->line,
             a->type, a->var);
    if (ep && literal && strncmp(text, "inproc://", 9) == 0 && !zname) {
        fprintf(s->out, "\n# %s (%s inproc only): it never leaves the "
                "process, and zguard run leaves it as the program made it\n",
                label, cli_jv_str(ep, "kind", ""));
        return;
    }
    if (ep && literal && !suggest_transport_ok(text)) {
        fprintf(s->out, "\n# %s (%s %s): zguard run matches tcp, ipc and "
                "inproc endpoints only\n", label, cli_jv_str(ep, "kind", ""),
                text);
        return;
    }
    char note[SUGGEST_NOTE_MAX] = "", stand_in[SUGGEST_ENDPOINT_MAX];
    sec->type = t;
    if (zname && section_name_ok(zname)) {
        sec->name = zname;
        snprintf(note, sizeof note, "; the program names it '%s' to "
                 "libzguard, and so does this section (matched by name)",
                 zname);
    } else if (zname) {
        snprintf(note, sizeof note, "\n# TODO: the program names it to "
                 "libzguard by '%s', which the audit cannot read: give this "
                 "section that name", zname);
    } else if (ep) {
        audit_pattern(sec, a, ep, note, sizeof note);
    } else {
        snprintf(note, sizeof note, "\n# TODO: the audited code never binds "
                 "or connects it, so this section has no pattern and zguard "
                 "run matches no socket to it: add bind = or connect = the "
                 "endpoint's pattern");
    }
    if (sec->pattern[0])
        sec->name_from = sec->pattern;
    else {
        const char *base = strrchr(a->file, '/');
        snprintf(stand_in, sizeof stand_in, "%s-%s", base ? base + 1 : a->file,
                 a->var);
        sec->name_from = stand_in;
    }
    snprintf(sec->label, sizeof sec->label, "%s", label);
    snprintf(sec->about, sizeof sec->about, "%s (%s, %s)%s", label,
             cli_jv_str(a->j, "language", "?"), cli_jv_str(a->j, "api", "?"),
             note);
    zg_resolved_t b;
    if (zg_policy_resolve(s->builtin, t, NULL, &b) != 0)
        return;
    for (size_t i = 0; i < sizeof fields / sizeof *fields; i++)
        if (zg_field_applies(fields[i], t))
            audit_value(sec, a, fields[i], &b);
    audit_security(sec, a);
    suggest_section_write(s, sec);
}

int suggest_from_audit(suggest_t *s, const cli_jv_t *doc, const char *path)
{
    double format = cli_jv_num(doc, "audit_format", 0);
    if (format != AUDIT_FORMAT) {
        fprintf(stderr, "zguard policy suggest: %s: audit_format %.0f: this "
                "zguard reads zguard audit's format %d (run this zguard's "
                "zguard audit --format json)\n", path, format, AUDIT_FORMAT);
        return EXIT_FAIL;
    }
    const cli_jv_t *socks = cli_jv_get(doc, "sockets");
    const cli_jv_t *sum = cli_jv_get(doc, "summary");
    fprintf(s->out, "\n# ---- %s: zguard audit (zguard %s) of %.0f files, "
            "%.0f lines: %zu sockets\n", path, cli_jv_str(doc, "zguard", "?"),
            cli_jv_num(sum, "files", 0), cli_jv_num(sum, "lines", 0),
            socks ? socks->n : 0);
    for (size_t i = 0; socks && i < socks->n; i++) {
        audit_sock_t a = {.j = &socks->items[i]};
        a.file = shown(cli_jv_str(a.j, "file", "?"));
        a.var = cli_jv_str(a.j, "variable", "?");
        a.line = (unsigned)cli_jv_num(a.j, "line", 0);
        const char *type = cli_jv_str(a.j, "type", "");
        size_t n = 0;
        for (; type[n] && n + 1 < sizeof a.type; n++)
            a.type[n] = (char)tolower((unsigned char)type[n]);
        a.type[n] = '\0';
        int t = zg_type_from_name(a.type);
        if (t < 0) {
            fprintf(s->out, "\n# %s:%u: socket '%s': its type is not known "
                    "to the audit (%s): no section; TODO: write one by hand\n",
                    a.file, a.line, a.var, type[0] ? type : "not a literal");
            continue;
        }
        suggest_section_t *sec = calloc(1, sizeof *sec);
        if (!sec) {
            fprintf(stderr, "zguard policy suggest: out of memory\n");
            return EXIT_FAIL;
        }
        audit_socket(s, &a, t, sec);
        free(sec);
    }
    return EXIT_OK;
}
