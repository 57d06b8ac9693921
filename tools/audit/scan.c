/*
 * scan.c - from paths to findings: walks directories, reads each file,
 * parses it, walks its syntax tree once in source order handing calls,
 * declarations and comments to the recognisers, then builds the file's
 * sockets and runs the rules.
 *
 * The tree walk uses a cursor and an explicit frame stack, never the C
 * stack: a generated or hostile file can nest without limit.
 */
#include "audit.h"
#include "zguard_tools.h"

#include <dirent.h>
#include <sodium.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#define DIR_DEPTH_MAX 64

static int mentions_zeromq(const char *text, size_t len, au_lang_t lang);

struct au_engine {
    au_parsers_t *parsers;
    au_globs_t exclude;          /* --exclude */
    const zg_policy_t *policy;   /* the user's, or NULL */
    zg_policy_t *builtin;        /* zguard sockets' values without one */
};

au_engine_t *au_engine_new(const zg_policy_t *policy, char *err, size_t cap)
{
    au_engine_t *e = calloc(1, sizeof *e);
    if (!e) {
        snprintf(err, cap, "out of memory");
        return NULL;
    }
    if (sodium_init() < 0) { /* fingerprints: crypto_generichash */
        snprintf(err, cap, "libsodium failed to initialise");
        free(e);
        return NULL;
    }
    e->parsers = au_parsers_new(err, cap);
    if (!e->parsers) {
        free(e);
        return NULL;
    }
    e->policy = policy;
    e->builtin = zg_policy_builtin();
    if (!e->builtin) {
        snprintf(err, cap, "zguard's built-in policy: %s", zg_last_error());
        au_engine_destroy(&e);
        return NULL;
    }
    return e;
}

void au_engine_destroy(au_engine_t **e)
{
    if (!e || !*e)
        return;
    au_parsers_destroy(&(*e)->parsers);
    au_globs_clear(&(*e)->exclude);
    zg_policy_destroy(&(*e)->builtin);
    free(*e);
    *e = NULL;
}

int au_engine_exclude(au_engine_t *e, const char *glob, char *err, size_t cap)
{
    return au_globs_add(&e->exclude, glob, strlen(glob), err, cap);
}

/* ---- growing arrays ---------------------------------------------------------------- */

void *au_grow(void *p, size_t *cap, size_t n, size_t elem)
{
    if (n < *cap)
        return p;
    size_t nc = *cap ? *cap * 2 : 16;
    void *q = realloc(p, nc * elem);
    if (!q)
        return NULL;
    *cap = nc;
    return q;
}

au_event_t *au_emit(au_file_t *f, au_ev_kind_t kind, au_api_t api, TSNode at)
{
    au_event_t *ev = au_grow(f->ev, &f->cap_ev, f->nev, sizeof *ev);
    if (!ev)
        return NULL;
    f->ev = ev;
    au_event_t *e = &ev[f->nev++];
    memset(e, 0, sizeof *e);
    TSPoint p = ts_node_start_point(at);
    e->kind = kind;
    e->api = api;
    e->line = p.row + 1;
    e->col = p.column + 1;
    e->pos = ts_node_start_byte(at);
    e->scope = f->scope;
    e->type = -1;
    return e;
}

int au_add_const(au_file_t *f, const au_const_t *c)
{
    au_const_t *cs = au_grow(f->consts, &f->cap_consts, f->nconsts, sizeof *cs);
    if (!cs)
        return -1;
    f->consts = cs;
    cs[f->nconsts++] = *c;
    return 0;
}

/* ---- constants the file defines ------------------------------------------------------ */

static void const_from(au_file_t *f, TSNode name, TSNode value, uint32_t scope)
{
    au_const_t c;
    memset(&c, 0, sizeof c);
    if (!au_is(name, "identifier"))
        return;
    au_text(f, name, c.name, sizeof c.name);
    c.scope = scope;
    c.pos = ts_node_start_byte(name);
    au_eval_value(f, value, &c.val);
    char s[AU_TEXT_MAX];
    int partial = 0;
    if (au_eval_str(f, value, s, sizeof s, &partial) && !partial) {
        c.is_string = 1;
        snprintf(c.val.text, sizeof c.val.text, "%s", s);
    }
    if (c.val.known || c.is_string || c.val.secret_literal)
        au_add_const(f, &c);
}

/* `int hwm = 1000;` `static const char sk[] = "...";` `uint8_t k[32] = {...}` */
static void c_init_declarator(au_file_t *f, TSNode n)
{
    TSNode d = ts_node_child_by_field_name(n, "declarator", 10);
    for (int i = 0; i < 8 && !ts_node_is_null(d) && !au_is(d, "identifier"); i++)
        d = ts_node_child_by_field_name(d, "declarator", 10);
    TSNode v = ts_node_child_by_field_name(n, "value", 5);
    if (!ts_node_is_null(d) && !ts_node_is_null(v))
        const_from(f, d, v, f->scope);
}

/* The integer a #define's text folds to: numbers, + - * / and
 * parentheses, as in `#define TIMEOUT (5 * 1000)`. */
static int arith(const char **p, int64_t *out, int depth);

static int arith_atom(const char **p, int64_t *out, int depth)
{
    while (**p == ' ')
        (*p)++;
    if (**p == '(') {
        (*p)++;
        if (!arith(p, out, depth + 1) || **p != ')')
            return 0;
        (*p)++;
    } else if (**p == '-') {
        (*p)++;
        if (!arith_atom(p, out, depth + 1))
            return 0;
        *out = -*out;
    } else {
        char *end;
        errno = 0;
        long long v = strtoll(*p, &end, 0);
        if (end == *p || errno)
            return 0;
        while (*end && strchr("uUlL", *end))
            end++;
        *out = v;
        *p = end;
    }
    while (**p == ' ')
        (*p)++;
    return 1;
}

static int arith_term(const char **p, int64_t *out, int depth)
{
    if (!arith_atom(p, out, depth))
        return 0;
    while (**p == '*' || **p == '/') {
        char op = *(*p)++;
        int64_t b;
        if (!arith_atom(p, &b, depth) || (op == '/' && b == 0))
            return 0;
        if (op == '*' ? __builtin_mul_overflow(*out, b, out) : (*out /= b, 0))
            return 0;
    }
    return 1;
}

static int arith(const char **p, int64_t *out, int depth)
{
    if (depth > 16 || !arith_term(p, out, depth))
        return 0;
    while (**p == '+' || **p == '-') {
        char op = *(*p)++;
        int64_t b;
        if (!arith_term(p, &b, depth))
            return 0;
        if (op == '+' ? __builtin_add_overflow(*out, b, out)
                      : __builtin_sub_overflow(*out, b, out))
            return 0;
    }
    return 1;
}

/* `#define HWM 1000`, `#define ENDPOINT "tcp://host:5555"` */
static void c_define(au_file_t *f, TSNode n)
{
    TSNode name = ts_node_child_by_field_name(n, "name", 4);
    TSNode value = ts_node_child_by_field_name(n, "value", 5);
    if (ts_node_is_null(name) || ts_node_is_null(value))
        return;
    au_const_t c;
    memset(&c, 0, sizeof c);
    au_text(f, name, c.name, sizeof c.name);
    c.pos = ts_node_start_byte(name);
    char text[AU_TEXT_MAX];
    au_text(f, value, text, sizeof text);
    snprintf(c.val.text, sizeof c.val.text, "%s", text);
    size_t len = strlen(text);
    if (len >= 2 && text[0] == '"' && text[len - 1] == '"') {
        c.is_string = 1;
        snprintf(c.val.text, sizeof c.val.text, "%.*s", (int)(len - 2), text + 1);
        c.val.secret_literal = au_is_key_text(c.val.text, len - 2);
    } else {
        const char *p = text;
        c.val.known = arith(&p, &c.val.value, 0) && *p == '\0';
    }
    au_add_const(f, &c);
}

/* ---- calls ------------------------------------------------------------------------------ */

static void callee(const au_file_t *f, TSNode fn, au_call_t *c)
{
    if (au_is(fn, "field_expression") || au_is(fn, "attribute")) {
        c->method = 1;
        c->object = ts_node_child_by_field_name(fn, au_is(fn, "attribute") ? "object"
                                                : "argument", au_is(fn, "attribute") ? 6 : 8);
        TSNode name = ts_node_child_by_field_name(fn, au_is(fn, "attribute") ? "attribute"
                                                  : "field", au_is(fn, "attribute") ? 9 : 5);
        if (au_is(name, "template_method"))
            name = ts_node_child_by_field_name(name, "name", 4);
        if (!ts_node_is_null(name))
            au_last_name(f, name, c->name, sizeof c->name);
        if (!ts_node_is_null(c->object) && f->lang == AU_LANG_PYTHON)
            au_text(f, c->object, c->qual, sizeof c->qual);
        return;
    }
    /* std::make_unique<zmq::socket_t>: the name inside scopes and templates */
    for (int i = 0; i < 8 && !ts_node_is_null(fn); i++) {
        if (au_is(fn, "qualified_identifier")) {
            TSNode scope = ts_node_child_by_field_name(fn, "scope", 5);
            if (!ts_node_is_null(scope))
                au_text(f, scope, c->qual, sizeof c->qual);
            fn = ts_node_child_by_field_name(fn, "name", 4);
        } else if (au_is(fn, "template_function")) {
            fn = ts_node_child_by_field_name(fn, "name", 4);
        } else {
            break;
        }
    }
    if (ts_node_is_null(fn))
        return;
    au_last_name(f, fn, c->name, sizeof c->name);
}

static void call_args(TSNode args, au_call_t *c)
{
    uint32_t k = ts_node_named_child_count(args);
    for (uint32_t i = 0; i < k; i++) {
        TSNode a = ts_node_named_child(args, i);
        if (au_is(a, "comment"))
            continue;
        if (au_is(a, "keyword_argument")) {
            if (c->nkwargs < AU_MAX_ARGS)
                c->kwargs[c->nkwargs++] = a;
        } else if (c->nargs < AU_MAX_ARGS) {
            c->args[c->nargs++] = a;
        }
    }
}

/* snprintf(ep, sizeof ep, "inproc://zguard-%p", x): ep is known to start
 * with the format's text up to its first conversion. */
static void formatted_string(au_file_t *f, const au_call_t *c)
{
    int fmt = strcmp(c->name, "snprintf") == 0 ? 2 : strcmp(c->name, "sprintf") == 0 ? 1 : -1;
    au_const_t k;
    memset(&k, 0, sizeof k);
    int partial = 0;
    if (fmt < 0 || c->nargs <= fmt || !au_var(f, c->args[0], k.name, sizeof k.name) ||
        !au_eval_str(f, c->args[fmt], k.val.text, sizeof k.val.text, &partial))
        return;
    char *pct = strchr(k.val.text, '%');
    if (pct)
        *pct = '\0';
    k.partial = partial || pct;
    k.is_string = 1;
    k.scope = f->scope;
    k.pos = ts_node_start_byte(c->node);
    au_add_const(f, &k);
}

static int starts(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* The callee and arguments of call node n; 0 when it names no function. */
static int read_call(const au_file_t *f, TSNode n, au_call_t *c)
{
    memset(c, 0, sizeof *c);
    c->node = n;
    callee(f, ts_node_child_by_field_name(n, "function", 8), c);
    if (!c->name[0])
        return 0;
    TSNode args = ts_node_child_by_field_name(n, "arguments", 9);
    if (!ts_node_is_null(args))
        call_args(args, c);
    return 1;
}

static void on_call(au_file_t *f, TSNode n)
{
    au_call_t c;
    if (!read_call(f, n, &c))
        return;
    au_rec_task(f, &c);
    if (f->lang == AU_LANG_PYTHON) {
        au_rec_pyzmq_call(f, &c);
        au_helpers_call(f, &c);
        return;
    }
    if (!c.method) {
        if (starts(c.name, "zmq_"))
            au_rec_libzmq(f, &c);
        else if (starts(c.name, "zg_"))
            au_rec_zguard(f, &c);
        else if (c.name[0] == 'z' || starts(c.name, "setenv") || starts(c.name, "putenv"))
            au_rec_czmq(f, &c);
        else if (strstr(c.name, "printf"))
            formatted_string(f, &c);
    }
    if (f->lang == AU_LANG_CPP)
        au_rec_cppzmq_call(f, &c);
    au_helpers_call(f, &c);
}

/* ---- the walk ----------------------------------------------------------------------------- */

typedef struct frame {
    uint32_t depth;
    uint32_t scope;
    int guarded;
} frame_t;

typedef struct walk {
    frame_t *frames;
    size_t n, cap;
} walk_t;

static void push(walk_t *w, au_file_t *f, uint32_t depth)
{
    frame_t *fr = au_grow(w->frames, &w->cap, w->n, sizeof *fr);
    if (!fr)
        return; /* out of memory: the scope is merely coarser */
    w->frames = fr;
    fr[w->n++] = (frame_t){depth, f->scope, f->guarded};
}

static void pop_to(walk_t *w, au_file_t *f, uint32_t depth)
{
    while (w->n > 0 && w->frames[w->n - 1].depth >= depth) {
        w->n--;
        f->scope = w->frames[w->n].scope;
        f->guarded = w->frames[w->n].guarded;
    }
}

/* A receive under `if (items[0].revents & ZMQ_POLLIN)` or `if
 * poller.poll(1000):` waits for nothing: the poll already did. */
static int polls(const au_file_t *f, TSNode n)
{
    TSNode cond = ts_node_child_by_field_name(n, "condition", 9);
    if (ts_node_is_null(cond))
        return 0;
    uint32_t a = ts_node_start_byte(cond), b = ts_node_end_byte(cond);
    for (uint32_t i = a; i + 4 <= b && i + 4 <= f->len; i++)
        if (strncasecmp(f->src + i, "poll", 4) == 0)
            return 1;
    return 0;
}

static void python_assignment(au_file_t *f, TSNode n)
{
    TSNode l = ts_node_child_by_field_name(n, "left", 4);
    TSNode r = ts_node_child_by_field_name(n, "right", 5);
    if (!ts_node_is_null(r) && au_is(l, "identifier"))
        const_from(f, l, r, f->scope);
    au_rec_pyzmq_assign(f, n);
}

/* `return s;`, `return zmq_socket(...);`: the function may be a helper
 * that makes its callers' sockets (helpers.c). */
static void returned(au_file_t *f, TSNode n)
{
    TSNode x = ts_node_named_child(n, 0);
    if (!f->scope || ts_node_is_null(x))
        return;
    au_ret_t ret = {.scope = f->scope, .pos = ts_node_start_byte(x)};
    if (!au_var(f, x, ret.var, sizeof ret.var) &&
        !au_is(x, "call_expression") && !au_is(x, "call"))
        return;
    au_ret_t *rs = au_grow(f->rets, &f->cap_rets, f->nrets, sizeof *rs);
    if (!rs)
        return;
    f->rets = rs;
    f->rets[f->nrets++] = ret;
}

static void enter(au_file_t *f, walk_t *w, TSNode n, uint32_t depth)
{
    const char *t = ts_node_type(n);
    switch (t[0]) {
    case 'f':
        if (strcmp(t, "function_definition") == 0) {
            push(w, f, depth);
            f->scope = ts_node_start_byte(n) + 1;
            au_fp_span(f, n);
            au_helpers_func(f, n);
        } else if (strcmp(t, "field_initializer") == 0) {
            au_rec_cppzmq_decl(f, n);
            au_helpers_member(f, n);
        }
        break;
    case 'i':
        if (strcmp(t, "if_statement") == 0 && polls(f, n)) {
            push(w, f, depth);
            f->guarded = 1;
        } else if (strcmp(t, "init_declarator") == 0) {
            c_init_declarator(f, n);
        }
        break;
    case 'w':
        if (strcmp(t, "while_statement") == 0 && polls(f, n)) {
            push(w, f, depth);
            f->guarded = 1;
        } else if (strcmp(t, "with_item") == 0) {
            au_rec_pyzmq_assign(f, n);
        }
        break;
    case 'c':
        if (strcmp(t, "call_expression") == 0 || strcmp(t, "call") == 0)
            on_call(f, n);
        else if (strcmp(t, "class_definition") == 0 || strcmp(t, "class_specifier") == 0)
            au_fp_span(f, n);
        else if (strcmp(t, "comment") == 0)
            au_supp_parse(f, n);
        else if (strcmp(t, "compound_literal_expression") == 0 && f->lang == AU_LANG_CPP)
            au_rec_cppzmq_decl(f, n);
        break;
    case 'd':
        if (strcmp(t, "declaration") == 0 && f->lang == AU_LANG_CPP) {
            au_rec_cppzmq_decl(f, n);
            au_helpers_construct(f, n);
        }
        break;
    case 's':
        if (strcmp(t, "struct_specifier") == 0 && f->lang == AU_LANG_CPP)
            au_fp_span(f, n);
        break;
    case 'n':
        if (strcmp(t, "new_expression") == 0) {
            au_rec_cppzmq_decl(f, n);
            au_helpers_construct(f, n);
        }
        break;
    case 'p':
        if (strcmp(t, "preproc_def") == 0)
            c_define(f, n);
        break;
    case 'r':
        if (strcmp(t, "return_statement") == 0)
            returned(f, n);
        break;
    case 'a':
        if (strcmp(t, "assignment") == 0 || strcmp(t, "augmented_assignment") == 0)
            python_assignment(f, n);
        break;
    default:
        break;
    }
}

/* A function that names no ZeroMQ API (mentions_zeromq) cannot make a
 * socket nor reach a local one of another function: its body is skipped on
 * the first pass. It can still use a member or file-level socket
 * (`self.sock.send()` in a method), so such bodies are walked after all
 * when the file has one of those (rewalk_needed); otherwise only the
 * functions and calls of those that pass a parameter on to a call are read
 * (enter_light): one may be a link in a chain of helpers. */
static int skippable(const au_file_t *f, TSNode n)
{
    if (!au_is(n, "function_definition"))
        return 0;
    uint32_t a = ts_node_start_byte(n), b = ts_node_end_byte(n);
    return b <= f->len && !mentions_zeromq(f->src + a, b - a, f->lang);
}

static void enter_light(au_file_t *f, walk_t *w, TSNode n, uint32_t depth)
{
    const char *t = ts_node_type(n);
    au_call_t c;
    if (strcmp(t, "function_definition") == 0) {
        push(w, f, depth);
        f->scope = ts_node_start_byte(n) + 1;
        au_helpers_func(f, n);
    } else if ((strcmp(t, "call_expression") == 0 || strcmp(t, "call") == 0) &&
               read_call(f, n, &c)) {
        au_helpers_call(f, &c);
    }
}

typedef struct skipped {
    TSNode *nodes;
    size_t n, cap;
} skipped_t;

static void walk_from(au_file_t *f, TSNode root, skipped_t *skip, int light)
{
    walk_t w = {0};
    TSTreeCursor c = ts_tree_cursor_new(root);
    uint32_t depth = 0;
    for (;;) {
        TSNode n = ts_tree_cursor_current_node(&c);
        int skip_it = 0;
        if (skip && skippable(f, n)) {
            TSNode *grown = au_grow(skip->nodes, &skip->cap, skip->n, sizeof *grown);
            if (grown) { /* else: walked now, merely slower */
                skip->nodes = grown;
                skip->nodes[skip->n++] = n;
                skip_it = 1;
            }
        }
        if (!skip_it)
            (light ? enter_light : enter)(f, &w, n, depth);
        if (!skip_it && ts_tree_cursor_goto_first_child(&c)) {
            depth++;
            continue;
        }
        for (;;) {
            pop_to(&w, f, depth); /* leaving the current node */
            if (depth > 0 && ts_tree_cursor_goto_next_sibling(&c))
                break;
            if (depth == 0 || !ts_tree_cursor_goto_parent(&c))
                goto done;
            depth--;
        }
    }
done:
    ts_tree_cursor_delete(&c);
    free(w.frames);
}

/* Sockets and contexts other functions can name: members, file-level. */
static int rewalk_needed(const au_file_t *f)
{
    for (size_t i = 0; i < f->nev; i++) {
        const au_event_t *e = &f->ev[i];
        if ((e->kind == AU_EV_SOCKET || e->kind == AU_EV_CONTEXT) &&
            (e->scope == 0 || e->member || strchr(e->var, '.') || strstr(e->var, "->")))
            return 1;
    }
    return 0;
}

static void walk_tree(au_file_t *f, TSTree *tree)
{
    skipped_t skip = {0};
    walk_from(f, ts_tree_root_node(tree), &skip, 0);
    int light = !rewalk_needed(f);
    for (size_t i = 0; i < skip.n; i++) {
        if (light && !au_helpers_may_chain(f, skip.nodes[i]))
            continue;
        f->scope = 0;
        f->guarded = 0;
        walk_from(f, skip.nodes[i], NULL, light);
    }
    f->scope = 0;
    free(skip.nodes);
}

/* ---- one file ----------------------------------------------------------------------------- */

static long add_file(au_result_t *r, const char *name, au_lang_t lang,
                     const char *text, size_t len)
{
    au_file_info_t *fs = au_grow(r->files, &r->cap_files, r->nfiles, sizeof *fs);
    if (!fs)
        return -1;
    r->files = fs;
    au_file_info_t *fi = &fs[r->nfiles];
    memset(fi, 0, sizeof *fi);
    fi->path = strdup(name);
    if (!fi->path)
        return -1;
    fi->lang = lang;
    fi->bytes = len;
    fi->lines = cli_count_lines(text, len);
    r->lines += fi->lines;
    r->bytes += len;
    return (long)r->nfiles++;
}

/* Every name a recogniser or a suppression acts on starts with one of
 * these: a file without any of them cannot yield an event, and is counted
 * without being parsed. Most of a large codebase never mentions ZeroMQ. */
static int mentions_zeromq(const char *text, size_t len, au_lang_t lang)
{
    static const char *const marks[] = {"zmq", "ZMQ", "zsock", "zsocket", "zsys", "ZSYS",
                                        "zg_", "zcert", "zactor", "zstr", "zframe",
                                        "zmsg", "zguard-audit"};
    /* socket_t, socket_type::, .socket(, Socket(: C++ with `using
     * namespace zmq`, Python with `from zmq import ...` */
    for (const char *p = text; (p = memchr(p, 'o', len - (size_t)(p - text))) != NULL; p++)
        if (p > text && (p[-1] == 's' || p[-1] == 'S') &&
            (size_t)(text + len - p) >= 5 && memcmp(p, "ocket", 5) == 0)
            return 1;
    for (const char *p = text; (p = memchr(p, 'z', len - (size_t)(p - text))) != NULL; p++)
        for (size_t i = 0; i < sizeof marks / sizeof marks[0]; i++)
            if (marks[i][0] == 'z' && (size_t)(text + len - p) >= strlen(marks[i]) &&
                memcmp(p, marks[i], strlen(marks[i])) == 0)
                return 1;
    for (const char *p = text; (p = memchr(p, 'Z', len - (size_t)(p - text))) != NULL; p++)
        if ((size_t)(text + len - p) >= 3 && (memcmp(p, "ZMQ", 3) == 0 ||
                                             memcmp(p, "ZSY", 3) == 0))
            return 1;
    /* pyzmq's authenticators, imported by name: `auth = ThreadAuthenticator(ctx)` */
    if (memmem(text, len, "Authenticator", 13))
        return 1;
    /* a Python helper: `def recv_frames(sock): return sock.recv_multipart()`,
     * `def no_waiting(sock): sock.rcvtimeo = 2000` */
    static const char *const py_marks[] = {".recv", ".send", "hwm", "timeo", ".linger",
                                           "maxmsgsize", ".curve_", ".plain_", "zap_domain"};
    for (size_t i = 0; lang == AU_LANG_PYTHON && i < sizeof py_marks / sizeof py_marks[0]; i++)
        if (memmem(text, len, py_marks[i], strlen(py_marks[i])))
            return 1;
    return 0;
}

int au_scan_text(au_engine_t *e, au_result_t *r, const char *name,
                 au_lang_t lang, const char *text, size_t len)
{
    if (len > UINT32_MAX)
        return au_result_error(r, "%s: larger than 4 GiB: not audited", name);
    if (!mentions_zeromq(text, len, lang))
        return add_file(r, name, lang, text, len) < 0
                   ? au_result_error(r, "%s: out of memory", name) : 0;
    TSTree *tree = au_parse(e->parsers, lang, text, (uint32_t)len);
    if (!tree)
        return au_result_error(r, "%s: parsing took too long: not audited", name);
    long fi = add_file(r, name, lang, text, len);
    if (fi < 0) {
        ts_tree_delete(tree);
        return au_result_error(r, "%s: out of memory", name);
    }
    r->files[fi].syntax_errors = ts_node_has_error(ts_tree_root_node(tree));
    au_file_t f = {.path = name, .lang = lang, .src = text, .len = (uint32_t)len};
    walk_tree(&f, tree);
    size_t first = au_model_build(r, (size_t)fi, &f, e->policy ? e->policy : e->builtin);
    r->files[fi].sockets = r->nsockets - first;
    size_t ffirst = r->nfindings;
    au_findings_run(r, (size_t)fi, &f, first);
    if (e->policy)
        au_policy_check(r, (size_t)fi, first, e->policy);
    au_supp_apply(r, (size_t)fi, &f, ffirst);
    size_t first_call = r->ncalls;
    au_helpers_file(r, (size_t)fi, &f, first);
    au_fp_file(r, (size_t)fi, &f, ffirst, first_call);
    r->files[fi].supp = f.supp; /* judged once the run is read */
    r->files[fi].nsupp = f.nsupp;
    free(f.ev);
    free(f.consts);
    free(f.spans);
    free(f.funcs);
    free(f.calls);
    free(f.rets);
    ts_tree_delete(tree);
    return 0;
}

static int scan_file(au_engine_t *e, au_result_t *r, const char *path, int explicit_path)
{
    size_t len = 0;
    char *text = zg_file_read_text(path, AU_FILE_MAX_BYTES, &len);
    if (!text) {
        if (errno == EISDIR) /* not a regular file */
            return explicit_path ? au_result_error(r, "%s: not a regular file", path) : 0;
        if (errno == EFBIG)
            return au_result_error(r, "%s: larger than %u MiB: not audited", path,
                                   AU_FILE_MAX_BYTES >> 20);
        return au_result_error(r, "%s: cannot read: %s", path, strerror(errno));
    }
    int lang = au_lang_of(path, text, len);
    if (lang < 0) {
        free(text);
        return explicit_path
                   ? au_result_error(r, "%s: not C, C++ or Python (by its name)", path)
                   : 0;
    }
    int rc = au_scan_text(e, r, path, (au_lang_t)lang, text, len);
    free(text);
    return rc;
}

/* ---- directories ----------------------------------------------------------------------------- */

static int skip_dir(const char *dir, const char *name)
{
    if (name[0] == '.' || strcmp(name, "node_modules") == 0 ||
        strcmp(name, "__pycache__") == 0)
        return 1;
    /* a CMake build tree holds generated sources, not the project's */
    char probe[4096];
    snprintf(probe, sizeof probe, "%s/%s/CMakeCache.txt", dir, name);
    return access(probe, F_OK) == 0;
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* One walk from an audited directory: what it leaves out. */
typedef struct dir_walk {
    au_engine_t *e;
    au_result_t *r;
    size_t root_len;          /* path[root_len..] is relative to the root */
    au_globs_t ignore;        /* the root's .zguard-audit-ignore */
} dir_walk_t;

static int excluded(const dir_walk_t *w, const char *path, int is_dir)
{
    const char *rel = path + w->root_len;
    while (*rel == '/')
        rel++;
    return au_globs_match(&w->e->exclude, rel, is_dir) ||
           au_globs_match(&w->ignore, rel, is_dir);
}

static int scan_dir(dir_walk_t *w, const char *dir, int depth);

static int scan_entry(dir_walk_t *w, const char *dir, const char *name, int depth)
{
    au_result_t *r = w->r;
    char path[4096];
    int n = snprintf(path, sizeof path, "%s%s%s", dir,
                     dir[strlen(dir) - 1] == '/' ? "" : "/", name);
    if (n < 0 || (size_t)n >= sizeof path)
        return au_result_error(r, "%s/%s: path too long", dir, name);
    struct stat st;
    if (lstat(path, &st) != 0)
        return au_result_error(r, "%s: cannot read: %s", path, strerror(errno));
    /* symbolic links to directories are not followed: no loops */
    if (S_ISDIR(st.st_mode))
        return skip_dir(dir, name) || excluded(w, path, 1) ? 0 : scan_dir(w, path, depth + 1);
    if (S_ISREG(st.st_mode) || S_ISLNK(st.st_mode)) {
        if (S_ISLNK(st.st_mode) && (stat(path, &st) != 0 || !S_ISREG(st.st_mode)))
            return 0;
        return excluded(w, path, 0) ? 0 : scan_file(w->e, r, path, 0);
    }
    return 0;
}

static int scan_dir(dir_walk_t *w, const char *dir, int depth)
{
    au_result_t *r = w->r;
    if (depth > DIR_DEPTH_MAX)
        return au_result_error(r, "%s: nested deeper than %d directories", dir,
                               DIR_DEPTH_MAX);
    DIR *d = opendir(dir);
    if (!d)
        return au_result_error(r, "%s: cannot read: %s", dir, strerror(errno));
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *de;
    int rc = 0;
    while ((de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        char **nn = au_grow(names, &cap, n, sizeof *names);
        char *copy = nn ? strdup(de->d_name) : NULL;
        if (!copy) {
            names = nn ? nn : names;
            rc = au_result_error(r, "%s: out of memory", dir);
            break;
        }
        names = nn;
        names[n++] = copy;
    }
    closedir(d);
    if (n)
        qsort(names, n, sizeof *names, cmp_names);
    for (size_t i = 0; i < n; i++) {
        if (scan_entry(w, dir, names[i], depth) != 0)
            rc = -1;
        free(names[i]);
    }
    free(names);
    return rc;
}

int au_scan_path(au_engine_t *e, au_result_t *r, const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return au_result_error(r, "%s: cannot read: %s", path, strerror(errno));
    if (!S_ISDIR(st.st_mode))
        return scan_file(e, r, path, 1); /* named: audited whatever the globs say */
    dir_walk_t w = {.e = e, .r = r, .root_len = strlen(path)};
    char ignore[4096];
    snprintf(ignore, sizeof ignore, "%s%s" AU_IGNORE_FILE, path,
             path[strlen(path) - 1] == '/' ? "" : "/");
    int rc = au_globs_read(&w.ignore, ignore, r);
    if (scan_dir(&w, path, 0) != 0)
        rc = -1;
    au_globs_clear(&w.ignore);
    return rc;
}
