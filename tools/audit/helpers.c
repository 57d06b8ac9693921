/*
 * helpers.c - sockets, options, sends and receives through helpers, across
 * the files of a run: `s_recv(sock)` defined in zhelpers.h,
 * `kvmsg_recv(updates)` in kvmsg.c, a method `self.recv_msg(sock)` of a
 * wrapper class; `void *s = make_rep(ctx)` returning the socket it made;
 * `set_timeouts(sock)` setting options on its parameter; a C++ member
 * `sock_(s)` initialised from a constructor's parameter.
 *
 * While a file is walked, each function's parameters are recorded, and so
 * is each call of a function the audit does not know whose arguments are
 * plain variables. A send or receive on a variable that is no socket of
 * the file but a parameter of its function makes that function a helper
 * that sends or receives on that parameter. Once every file is read
 * (au_helpers_tree), helpers are followed transitively (a helper that
 * hands its parameter to a helper is one too), and each call that hands a
 * socket of its own file to a helper is a send or receive on that socket,
 * judged as one made there: a blocking receive without a timeout is
 * reported at the call, in the caller's file.
 *
 * In the same way: a function returning a socket it made (au_ret_t) makes
 * the variable its caller assigns the call to a socket of the caller's
 * file (the events of that file that named no socket, r->pending, then
 * apply to it); an option set on a parameter is set, at the call, on the
 * caller's socket; a C++ member initialised from a constructor's parameter
 * is, in the constructor's file, a socket of the type and options of what
 * the first call hands it. Sockets so changed are judged again
 * (au_findings_again).
 *
 * Helpers are matched by name and language only (two functions of the same
 * name in different files are taken as one: what either does counts).
 */
#include "audit.h"

#include <stdlib.h>
#include <string.h>

#define HELPER_PASSES_MAX 16   /* helper chains followed this deep */

static const char *last_part(const char *name)
{
    const char *k = name;
    for (const char *p = name; *p; p++)
        if (*p == ':' || *p == '.')
            k = p + 1;
    return k;
}

/* ---- while walking a file --------------------------------------------------------- */

static void add_param(au_func_t *fn, const au_file_t *f, TSNode name)
{
    if (ts_node_is_null(name) || fn->nparams >= AU_MAX_PARAMS)
        return;
    au_text(f, name, fn->params[fn->nparams++], AU_NAME_MAX);
}

/* `def recv_msg(self, sock, timeout=None)`: the parameters after self. */
static void python_params(au_func_t *fn, const au_file_t *f, TSNode params)
{
    uint32_t n = ts_node_is_null(params) ? 0 : ts_node_named_child_count(params);
    for (uint32_t i = 0; i < n; i++) {
        TSNode p = ts_node_named_child(params, i);
        TSNode name = au_is(p, "identifier") ? p
                      : au_is(p, "typed_parameter") ? ts_node_named_child(p, 0)
                      : ts_node_child_by_field_name(p, "name", 4);
        if (!au_is(name, "identifier"))
            continue;
        char text[AU_NAME_MAX];
        au_text(f, name, text, sizeof text);
        if (i == 0 && (strcmp(text, "self") == 0 || strcmp(text, "cls") == 0))
            continue;
        add_param(fn, f, name);
    }
}

/* `char *s_recv(void *socket)`: C and C++ parameter declarations. */
static void c_params(au_func_t *fn, const au_file_t *f, TSNode decl)
{
    for (int i = 0; i < 8 && !ts_node_is_null(decl) && !au_is(decl, "function_declarator"); i++)
        decl = ts_node_child_by_field_name(decl, "declarator", 10);
    if (ts_node_is_null(decl))
        return;
    TSNode params = ts_node_child_by_field_name(decl, "parameters", 10);
    uint32_t n = ts_node_is_null(params) ? 0 : ts_node_named_child_count(params);
    for (uint32_t i = 0; i < n; i++) {
        TSNode p = ts_node_named_child(params, i);
        if (au_is(p, "parameter_declaration") || au_is(p, "optional_parameter_declaration"))
            add_param(fn, f, au_declarator_name(ts_node_child_by_field_name(p, "declarator", 10)));
    }
}

/* Most functions never matter here: their name and parameters are read
 * only when a call they make, or a send in them, needs them. */
void au_helpers_func(au_file_t *f, TSNode n)
{
    au_func_t *fs = au_grow(f->funcs, &f->cap_funcs, f->nfuncs, sizeof *fs);
    if (!fs)
        return;
    f->funcs = fs;
    au_func_t *fn = &f->funcs[f->nfuncs++];
    memset(fn, 0, sizeof *fn);
    fn->scope = ts_node_start_byte(n) + 1;
    fn->node = n;
}

static void read_func(const au_file_t *f, au_func_t *fn)
{
    TSNode n = fn->node, name = ts_node_child_by_field_name(n, "name", 4);
    fn->read = 1;
    if (f->lang == AU_LANG_PYTHON) {
        python_params(fn, f, ts_node_child_by_field_name(n, "parameters", 10));
    } else {
        TSNode decl = ts_node_child_by_field_name(n, "declarator", 10);
        name = au_declarator_name(decl);
        c_params(fn, f, decl);
    }
    if (ts_node_is_null(name)) {
        fn->nparams = 0; /* nameless: no call can reach it */
        return;
    }
    char full[AU_NAME_MAX];
    au_text(f, name, full, sizeof full);
    snprintf(fn->name, sizeof fn->name, "%s", last_part(full));
}

static int ident_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '_';
}

/* Whether text holds name as a whole argument: after '(' or ',' (spaces
 * and & or * allowed), before ',' or ')'. */
static int argument_in(const char *text, size_t len, const char *name)
{
    size_t n = strlen(name);
    for (const char *p = text; n && (p = memmem(p, len - (size_t)(p - text), name, n)) != NULL;
         p++) {
        const char *a = p, *b = p + n;
        if ((a > text && ident_char(a[-1])) || (b < text + len && ident_char(*b)))
            continue;
        while (a > text && (a[-1] == ' ' || a[-1] == '&' || a[-1] == '*'))
            a--;
        while (b < text + len && *b == ' ')
            b++;
        if (a > text && (a[-1] == '(' || a[-1] == ',') && b < text + len &&
            (*b == ',' || *b == ')'))
            return 1;
    }
    return 0;
}

int au_helpers_may_chain(const au_file_t *f, TSNode fn)
{
    au_func_t tmp;
    memset(&tmp, 0, sizeof tmp);
    tmp.node = fn;
    read_func(f, &tmp);
    TSNode body = ts_node_child_by_field_name(fn, "body", 4);
    if (ts_node_is_null(body))
        return 0;
    uint32_t a = ts_node_start_byte(body), b = ts_node_end_byte(body);
    for (int i = 0; i < tmp.nparams && b <= f->len; i++)
        if (argument_in(f->src + a, b - a, tmp.params[i]))
            return 1;
    return 0;
}

/* Names the recognisers own: never a user's helper. */
static int api_name(const char *n)
{
    static const char *const prefixes[] = {"zmq_", "zsock_", "zstr_", "zframe_", "zmsg_",
                                           "zsys_", "zg_", "zsocket_", "zcert_", "zactor_"};
    for (size_t i = 0; i < sizeof prefixes / sizeof prefixes[0]; i++)
        if (strncmp(n, prefixes[i], strlen(prefixes[i])) == 0)
            return 1;
    return 0;
}

/* ZMQ_REP, zmq.REP, zmq::socket_type::rep: a socket type the caller names
 * (a helper whose socket's type is its parameter makes that type). */
static int type_argument(const au_file_t *f, TSNode a)
{
    char t[AU_NAME_MAX];
    if (!au_is(a, "identifier") && !au_is(a, "attribute") && !au_is(a, "qualified_identifier"))
        return -1;
    au_last_name(f, a, t, sizeof t);
    if (au_is(a, "identifier") && strncmp(t, "ZMQ_", 4) != 0)
        return -1; /* a variable named `push` is no type */
    return au_type_from_name(t, strlen(t));
}

/* What the text before the call allows: 'a' an assignment (`=`, or a
 * cast, parenthesis or `await` before it), 'r' a `return`, 0 neither. */
static int assigned_or_returned(const au_file_t *f, TSNode call)
{
    uint32_t p = ts_node_start_byte(call);
    while (p > 0 && (f->src[p - 1] == ' ' || f->src[p - 1] == '\t' || f->src[p - 1] == '\n' ||
                     f->src[p - 1] == '\r'))
        p--;
    if (p >= 6 && memcmp(f->src + p - 6, "return", 6) == 0 &&
        (p == 6 || !ident_char(f->src[p - 7])))
        return 'r';
    if (p == 0)
        return 0;
    char c = f->src[p - 1];
    if (c == '=')
        return p < 2 || !strchr("=!<>", f->src[p - 2]) ? 'a' : 0;
    if (c == ')' || c == '(' || c == '{' || (p >= 5 && memcmp(f->src + p - 5, "await", 5) == 0))
        return 'a';
    return 0;
}

void au_helpers_call(au_file_t *f, const au_call_t *c)
{
    if (api_name(c->name))
        return;
    au_callsite_t cs;
    memset(&cs, 0, sizeof cs);
    int vars = 0;
    for (int i = 0; i < c->nargs && i < AU_MAX_PARAMS; i++)
        if (au_is(c->args[i], "identifier") || au_is(c->args[i], "attribute") ||
            au_is(c->args[i], "type_identifier") ||
            au_is(c->args[i], "field_expression") || au_is(c->args[i], "pointer_expression"))
            vars += au_var(f, c->args[i], cs.args[i], AU_NAME_MAX);
    /* `void *s = make_socket(ctx, ZMQ_REP)`: s may be a socket a helper made
     * (the syntax tree is asked only when the text before the call may
     * assign or return it: a node's parent is costly to find) */
    int before = assigned_or_returned(f, c->node), returned = 0;
    if (!before || !au_assigned_var(f, c->node, cs.assign, sizeof cs.assign))
        cs.assign[0] = '\0';
    if (before == 'r')
        returned = au_is(ts_node_parent(c->node), "return_statement");
    if (!vars && !cs.assign[0] && !returned)
        return;
    cs.type = -1;
    for (int i = 0; i < c->nargs && (cs.assign[0] || returned) && cs.type < 0; i++)
        cs.type = type_argument(f, c->args[i]);
    TSPoint p = ts_node_start_point(c->node);
    cs.line = p.row + 1;
    cs.col = p.column + 1;
    cs.pos = ts_node_start_byte(c->node);
    cs.scope = f->scope;
    cs.guarded = f->guarded;
    cs.nargs = c->nargs < AU_MAX_PARAMS ? c->nargs : AU_MAX_PARAMS;
    snprintf(cs.name, sizeof cs.name, "%s", c->name);
    au_callsite_t *cl = au_grow(f->calls, &f->cap_calls, f->ncalls, sizeof *cl);
    if (!cl)
        return;
    f->calls = cl;
    f->calls[f->ncalls++] = cs;
}

void au_helpers_member(au_file_t *f, TSNode n)
{
    TSNode args = ts_node_named_child(n, ts_node_named_child_count(n) - 1);
    char member[AU_NAME_MAX], from[AU_NAME_MAX];
    if (!f->scope || ts_node_named_child_count(n) != 2 ||
        ts_node_named_child_count(args) != 1 ||
        !au_var(f, ts_node_named_child(n, 0), member, sizeof member) ||
        !au_var(f, ts_node_named_child(args, 0), from, sizeof from))
        return;
    au_event_t *e = au_emit(f, AU_EV_MEMBER_INIT, AU_API_CPPZMQ, n);
    if (!e)
        return;
    snprintf(e->var, sizeof e->var, "%s", member);
    snprintf(e->call, sizeof e->call, "%s", from);
}

/* A constructor's arguments as a call of its class's name. In a function,
 * `Worker w(rep);` parses as a function's declaration (C++'s most vexing
 * parse): its parameters that are a lone name are the arguments. */
static void construct_call(au_file_t *f, TSNode at, TSNode type, TSNode args)
{
    au_call_t c;
    memset(&c, 0, sizeof c);
    c.node = at;
    au_last_name(f, type, c.name, sizeof c.name);
    int vexing = au_is(args, "parameter_list");
    uint32_t n = ts_node_is_null(args) ? 0 : ts_node_named_child_count(args);
    for (uint32_t i = 0; i < n && c.nargs < AU_MAX_ARGS; i++) {
        TSNode a = ts_node_named_child(args, i);
        if (vexing && !(au_is(a, "parameter_declaration") &&
                        ts_node_named_child_count(a) == 1 &&
                        au_is(a = ts_node_named_child(a, 0), "type_identifier")))
            return; /* a real declaration */
        if (!au_is(a, "comment"))
            c.args[c.nargs++] = a;
    }
    if (c.name[0] && c.nargs)
        au_helpers_call(f, &c);
}

void au_helpers_construct(au_file_t *f, TSNode n)
{
    TSNode type = ts_node_child_by_field_name(n, "type", 4);
    if (ts_node_is_null(type))
        return;
    if (au_is(n, "new_expression")) {
        construct_call(f, n, type, ts_node_child_by_field_name(n, "arguments", 9));
        return;
    }
    for (uint32_t i = 0; i < ts_node_named_child_count(n); i++) {
        TSNode d = ts_node_named_child(n, i);
        TSNode v = au_is(d, "init_declarator") ? ts_node_child_by_field_name(d, "value", 5)
                                               : (TSNode){0};
        if (au_is(v, "argument_list") || au_is(v, "initializer_list"))
            construct_call(f, d, type, v);
        else if (au_is(d, "function_declarator") && f->scope)
            construct_call(f, d, type, ts_node_child_by_field_name(d, "parameters", 10));
    }
}

/* ---- the end of a file ------------------------------------------------------------------ */

/* The function of scope, its name and parameters read; NULL at file level. */
static const au_func_t *func_at(au_file_t *f, uint32_t scope)
{
    for (size_t i = 0; i < f->nfuncs; i++) {
        au_func_t *fn = &f->funcs[i];
        if (fn->scope != scope)
            continue;
        if (!fn->read)
            read_func(f, fn);
        return fn;
    }
    return NULL;
}

static int param_index(const au_func_t *fn, const char *var)
{
    for (int i = 0; fn && i < fn->nparams; i++)
        if (strcmp(fn->params[i], var) == 0)
            return i;
    return -1;
}

int au_helpers_is_param(au_file_t *f, TSNode n)
{
    char v[AU_NAME_MAX];
    return f->scope && au_is(n, "identifier") && au_var(f, n, v, sizeof v) &&
           param_index(func_at(f, f->scope), v) >= 0;
}

/* The same, NULL also when it has no parameter. */
static const au_func_t *func_of(au_file_t *f, uint32_t scope)
{
    const au_func_t *fn = func_at(f, scope);
    return fn && fn->nparams ? fn : NULL;
}


static int same_helper(const au_helper_t *x, const au_helper_t *h)
{
    if (x->kind != h->kind || x->lang != h->lang || x->param != h->param ||
        strcmp(x->name, h->name) != 0)
        return 0;
    if (h->kind == AU_HK_IO)
        return x->send == h->send;
    if (h->kind == AU_HK_OPTION)
        return strcmp(x->opt.call, h->opt.call) == 0 &&
               strcmp(x->opt.val.text, h->opt.val.text) == 0;
    return 1; /* one socket per factory name: the first one read */
}

static int add_helper(au_result_t *r, const au_helper_t *h)
{
    for (size_t i = 0; i < r->nhelpers; i++) {
        au_helper_t *x = &r->helpers[i];
        if (same_helper(x, h)) {
            /* blocking anywhere: the helper can block */
            x->nonblocking &= h->nonblocking;
            return 0;
        }
    }
    au_helper_t *hs = au_grow(r->helpers, &r->cap_helpers, r->nhelpers, sizeof *hs);
    if (!hs)
        return 0;
    r->helpers = hs;
    r->helpers[r->nhelpers++] = *h;
    return 1;
}

/* A socket of the file that function scope returns: `return s;` after
 * `s = zmq_socket(...)`, or `return zmq_socket(...);`. */
static long returned_socket(const au_result_t *r, const au_file_t *f, size_t first,
                            const au_ret_t *ret)
{
    long best = -1;
    for (size_t i = first; i < r->nsockets; i++) {
        const au_socket_t *s = &r->sockets[i];
        if (s->scope != ret->scope || s->pos > ret->pos)
            continue;
        if (ret->var[0] ? strcmp(s->var, ret->var) == 0 : s->pos == ret->pos)
            best = (long)i; /* the one made last before the return */
    }
    (void)f;
    return best;
}

/* Functions that return a socket they make: each call's variable is that
 * socket, in the caller's file (au_helpers_tree). */
static void factories(au_result_t *r, au_file_t *f, size_t first)
{
    for (size_t i = 0; i < f->nrets; i++) {
        long si = returned_socket(r, f, first, &f->rets[i]);
        const au_func_t *fn = si >= 0 ? func_at(f, f->rets[i].scope) : NULL;
        if (!fn || !fn->name[0])
            continue;
        au_helper_t h = {.kind = AU_HK_FACTORY, .lang = f->lang, .param = -1, .socket = si};
        snprintf(h.name, sizeof h.name, "%s", fn->name);
        add_helper(r, &h);
    }
}

void au_helpers_file(au_result_t *r, size_t fi, au_file_t *f, size_t first)
{
    for (size_t i = 0; i < f->nev; i++) {
        const au_event_t *e = &f->ev[i];
        if ((e->kind != AU_EV_IO && e->kind != AU_EV_OPTION &&
             e->kind != AU_EV_MEMBER_INIT) ||
            au_model_resolve(r, first, e) >= 0)
            continue;
        const au_func_t *fn = func_of(f, e->scope);
        int k = param_index(fn, e->kind == AU_EV_MEMBER_INIT ? e->call : e->var);
        if (k < 0)
            continue;
        au_helper_t h = {.kind = e->kind == AU_EV_IO ? AU_HK_IO
                                 : e->kind == AU_EV_OPTION ? AU_HK_OPTION : AU_HK_MEMBER,
                         .lang = f->lang, .param = k, .send = e->send,
                         .nonblocking = e->nonblocking, .socket = -1, .file = fi};
        snprintf(h.name, sizeof h.name, "%s", fn->name);
        snprintf(h.via, sizeof h.via, "%s", e->call);
        if (h.kind != AU_HK_IO)
            h.opt = *e;
        add_helper(r, &h);
    }
    factories(r, f, first);
    /* kept for the whole run: the calls with their function's parameters */
    for (size_t i = 0; i < f->ncalls; i++) {
        au_callsite_t *cs = &f->calls[i];
        for (size_t j = 0; j < f->nrets && cs->scope; j++) {
            const au_ret_t *ret = &f->rets[j];
            cs->returned |= ret->scope == cs->scope &&
                            (ret->var[0] ? cs->assign[0] && ret->pos > cs->pos &&
                                               strcmp(ret->var, cs->assign) == 0
                                         : ret->pos == cs->pos);
        }
        const au_func_t *fn = func_of(f, cs->scope);
        cs->file = fi;
        cs->first_socket = first;
        cs->nsockets = r->nsockets - first;
        snprintf(cs->func, sizeof cs->func, "%s", fn ? fn->name : "");
        for (int k = 0; k < cs->nargs; k++)
            cs->param[k] = cs->args[k][0] ? param_index(fn, cs->args[k]) : -1;
    }
    for (size_t i = 0; i < f->ncalls; i++) {
        au_callsite_t *all = au_grow(r->calls, &r->cap_calls, r->ncalls, sizeof *all);
        if (!all)
            return; /* out of memory: those calls are not followed */
        r->calls = all;
        r->calls[r->ncalls++] = f->calls[i];
    }
}

/* ---- over the whole run ------------------------------------------------------------------ */

static const au_helper_t *helper_for(const au_result_t *r, au_lang_t lang, const char *name,
                                     int param, int send)
{
    for (size_t i = 0; i < r->nhelpers; i++) {
        const au_helper_t *h = &r->helpers[i];
        if (h->kind == AU_HK_IO && h->lang == lang && h->param == param && h->send == send &&
            strcmp(h->name, name) == 0)
            return h;
    }
    return NULL;
}

/* A helper handing its own parameter on to a helper is a helper: it sends
 * or receives, or sets the options, that one does. */
static void chains(au_result_t *r)
{
    for (int pass = 0; pass < HELPER_PASSES_MAX; pass++) {
        int grew = 0;
        for (size_t i = 0; i < r->ncalls; i++) {
            const au_callsite_t *cs = &r->calls[i];
            au_lang_t lang = r->files[cs->file].lang;
            for (int k = 0; k < cs->nargs && cs->func[0]; k++) {
                for (size_t j = 0; j < r->nhelpers && cs->param[k] >= 0; j++) {
                    const au_helper_t *h = &r->helpers[j];
                    if (h->kind == AU_HK_FACTORY || h->kind == AU_HK_MEMBER ||
                        h->lang != lang || h->param != k ||
                        strcmp(h->name, cs->name) != 0)
                        continue;
                    au_helper_t up = *h; /* add_helper may move r->helpers */
                    up.param = cs->param[k];
                    up.nonblocking = h->nonblocking || cs->guarded;
                    snprintf(up.name, sizeof up.name, "%s", cs->func);
                    grew |= add_helper(r, &up);
                }
            }
        }
        if (!grew)
            return;
    }
}

/* The socket var names at call cs: one a helper made for its file since
 * (from tree_first on), else one of the sockets its file made. */
static long call_socket(const au_result_t *r, const au_callsite_t *cs, const char *var,
                        size_t tree_first)
{
    au_event_t e = {.kind = AU_EV_IO, .scope = cs->scope, .pos = cs->pos};
    snprintf(e.var, sizeof e.var, "%s", var);
    long si = au_model_resolve_file(r, tree_first, cs->file, &e);
    if (si < 0)
        si = au_model_resolve_in(r, cs->first_socket, cs->first_socket + cs->nsockets, &e);
    return si;
}

static int append_socket(au_result_t *r, const au_socket_t *s)
{
    au_socket_t *ss = au_grow(r->sockets, &r->cap_sockets, r->nsockets, sizeof *ss);
    if (!ss)
        return -1;
    r->sockets = ss;
    r->sockets[r->nsockets++] = *s;
    return 0;
}

/* `void *s = make_server(ctx)`: s is the socket make_server makes, with
 * the options it sets there, reported here. Its bind or connect in the
 * helper counts as made at the call. */
static long made_by_helper(au_result_t *r, const au_callsite_t *cs, const au_helper_t *h)
{
    au_socket_t s = r->sockets[h->socket];
    s.file = cs->file;
    s.line = cs->line;
    s.col = cs->col;
    s.pos = cs->pos;
    s.scope = cs->scope;
    s.lang = r->files[cs->file].lang;
    if (s.type < 0)
        s.type = cs->type;
    s.member = 0;
    s.hidden = 0;
    s.io = s.late = NULL;
    s.nio = s.nlate = 0;
    snprintf(s.var, sizeof s.var, "%s", cs->assign);
    snprintf(s.maker, sizeof s.maker, "%s", h->name);
    for (int m = 0; m < AU_M_COUNT; m++)
        s.m[m].line = 0; /* set in the helper: not on a line of this file */
    const au_socket_t *t = &r->sockets[h->socket];
    s.ep = t->nep ? malloc(t->nep * sizeof *s.ep) : NULL;
    s.nep = s.ep ? t->nep : 0;
    for (size_t i = 0; i < s.nep; i++) {
        s.ep[i] = t->ep[i];
        s.ep[i].line = cs->line;
        s.ep[i].col = cs->col;
        s.ep[i].pos = cs->pos;
        s.ep[i].scope = cs->scope;
    }
    r->sockets[h->socket].hidden = 1;
    if (append_socket(r, &s) == 0)
        return (long)r->nsockets - 1;
    free(s.ep);
    return -1;
}

static const au_helper_t *factory_for(const au_result_t *r, au_lang_t lang, const char *name)
{
    for (size_t i = 0; i < r->nhelpers; i++) {
        const au_helper_t *h = &r->helpers[i];
        if (h->kind == AU_HK_FACTORY && h->lang == lang && strcmp(h->name, name) == 0)
            return h;
    }
    return NULL;
}



/* `Worker w(rep);` with `Worker(zmq::socket_t &s) : sock_(s)`: sock_ is
 * rep, a REP socket with rep's options, in Worker's file; what Worker does
 * with it is judged there. The first call whose argument is a socket
 * decides. */
static void member_calls(au_result_t *r, size_t tree_first)
{
    for (size_t j = 0; j < r->nhelpers; j++) {
        const au_helper_t *h = &r->helpers[j];
        for (size_t i = 0; i < r->ncalls && h->kind == AU_HK_MEMBER; i++) {
            const au_callsite_t *cs = &r->calls[i];
            long si = -1;
            if (r->files[cs->file].lang != h->lang || h->param >= cs->nargs ||
                !cs->args[h->param][0] || strcmp(cs->name, h->name) != 0 ||
                (si = call_socket(r, cs, cs->args[h->param], tree_first)) < 0)
                continue;
            au_socket_t s = r->sockets[si];
            s.file = h->file;
            s.line = h->opt.line;
            s.col = h->opt.col;
            s.pos = h->opt.pos;
            s.scope = 0;
            s.member = s.alias = 1;
            s.ep = NULL;
            s.io = s.late = NULL;
            s.nep = s.nio = s.nlate = 0;
            snprintf(s.var, sizeof s.var, "%s", h->opt.var);
            for (int m = 0; m < AU_M_COUNT; m++)
                s.m[m].line = 0; /* set where the socket is made */
            append_socket(r, &s);
            break;
        }
    }
}


/* The events kept of the files that named no socket of theirs, on the
 * socket only (one a helper made; any from index from on when only is -1). */
static void apply_pending(au_result_t *r, size_t from, long only)
{
    for (size_t i = 0; i < r->npending; i++) {
        au_pending_t *p = &r->pending[i];
        long si = p->applied ? -1 : au_model_resolve_file(r, from, p->file, &p->ev);
        if (si < 0 || (only >= 0 && si != only))
            continue;
        au_model_apply(&r->sockets[si], &p->ev);
        p->applied = 1;
    }
}

/* Options helpers set on the caller's sockets: on those its file made
 * (only -1: those before tree_first), or on socket only. */
static void option_calls(au_result_t *r, size_t tree_first, long only, unsigned char *redo)
{
    for (size_t i = 0; i < r->ncalls; i++) {
        const au_callsite_t *cs = &r->calls[i];
        au_lang_t lang = r->files[cs->file].lang;
        if (only >= 0 && r->sockets[only].file != cs->file)
            continue;
        for (int k = 0; k < cs->nargs; k++) {
            long si = -2;
            for (size_t j = 0; j < r->nhelpers && cs->args[k][0]; j++) {
                const au_helper_t *h = &r->helpers[j];
                if (h->kind != AU_HK_OPTION || h->lang != lang || h->param != k ||
                    strcmp(h->name, cs->name) != 0)
                    continue;
                if (si == -2)
                    si = call_socket(r, cs, cs->args[k], tree_first);
                if (si < 0 || (only >= 0 ? si != only : si >= (long)tree_first))
                    break;
                au_event_t e = h->opt;
                e.line = cs->line;
                e.col = cs->col;
                e.pos = cs->pos;
                e.scope = cs->scope;
                snprintf(e.var, sizeof e.var, "%s", cs->args[k]);
                snprintf(e.call, sizeof e.call, "%.28s (in %.28s)", h->opt.call, cs->name);
                snprintf(e.setter, sizeof e.setter, "%s", cs->name);
                e.setter_file = h->file;   /* a chain's: the innermost setter's */
                e.setter_line = h->opt.line;
                au_model_apply(&r->sockets[si], &e);
                redo[si] = 1;
            }
        }
    }
}

/* Each call assigning (or returning) what a factory makes: a socket of its
 * file, complete with that file's events and option setters on it (once
 * every socket of the pass is made: `s = make_a(); ... s = make_b();`)
 * before a function returning it becomes a factory too (a chain). */
static void factory_calls(au_result_t *r, size_t tree_first, unsigned char *redo)
{
    unsigned char *done = calloc(r->ncalls + 1, 1);
    for (int pass = 0; done && pass < HELPER_PASSES_MAX; pass++) {
        int grew = 0;
        size_t made = r->nsockets;
        for (size_t i = 0; i < r->ncalls; i++) {
            const au_callsite_t *cs = &r->calls[i];
            const au_helper_t *h = done[i] || !(cs->assign[0] || cs->returned)
                                       ? NULL
                                       : factory_for(r, r->files[cs->file].lang, cs->name);
            au_event_t e = {.kind = AU_EV_IO, .scope = cs->scope, .pos = cs->pos};
            snprintf(e.var, sizeof e.var, "%s", cs->assign);
            /* made in this pass: copied once complete, in the next; the
             * helper's own recursion; a socket the caller made right there */
            if (!h || h->socket >= (long)made || (r->sockets[h->socket].file == cs->file &&
                       r->sockets[h->socket].scope == cs->scope) ||
                (cs->assign[0] && au_model_resolve_in(r, cs->first_socket, cs->first_socket +
                                                      cs->nsockets, &e) >= 0))
                continue;
            done[i] = 1;
            long si = made_by_helper(r, cs, h);
            if (si < 0)
                continue;
            redo[si] = 1;
            if (cs->returned && cs->func[0]) {
                au_helper_t up = {.kind = AU_HK_FACTORY, .lang = r->files[cs->file].lang,
                                  .param = -1, .socket = si};
                snprintf(up.name, sizeof up.name, "%s", cs->func);
                grew |= add_helper(r, &up);
            }
        }
        for (size_t si = made; si < r->nsockets; si++) {
            apply_pending(r, tree_first, (long)si);
            option_calls(r, tree_first, (long)si, redo);
        }
        if (!grew)
            break;
    }
    free(done);
}

static void io_calls(au_result_t *r, size_t tree_first)
{
    for (size_t i = 0; i < r->ncalls; i++) {
        const au_callsite_t *cs = &r->calls[i];
        au_lang_t lang = r->files[cs->file].lang;
        for (int k = 0; k < cs->nargs; k++) {
            for (int send = 0; send < 2 && cs->args[k][0]; send++) {
                const au_helper_t *h = helper_for(r, lang, cs->name, k, send);
                if (!h)
                    continue;
                long si = call_socket(r, cs, cs->args[k], tree_first);
                if (si < 0)
                    continue;
                au_socket_t *s = &r->sockets[si];
                /* a helper receiving on a PUSH socket fails at once: no wait */
                if (!(send ? au_type_can_send(s->type) : au_type_can_recv(s->type)))
                    continue;
                au_io_t *io = au_socket_new_io(s);
                if (!io)
                    continue;
                io->line = cs->line;
                io->col = cs->col;
                io->send = send;
                io->nowait = h->nonblocking || cs->guarded;
                io->blocking = !io->nowait && au_io_can_block(s, send);
                snprintf(io->call, sizeof io->call, "%s", cs->name);
                snprintf(io->via, sizeof io->via, "%s", h->via);
                if (io->blocking)
                    au_blocking_finding(r, si, io, cs->ctx);
            }
        }
    }
}

void au_helpers_tree(au_result_t *r)
{
    if (!r->nhelpers)
        return;
    chains(r);
    size_t tree_first = r->nsockets;
    /* each call makes at most one socket, each constructor one member */
    unsigned char *redo = calloc(r->nsockets + r->ncalls + r->nhelpers + 1, 1);
    if (!redo) {
        io_calls(r, tree_first); /* out of memory: no more than sends and receives */
        return;
    }
    /* options a helper sets on a socket before a helper returns it count */
    option_calls(r, tree_first, -1, redo);
    factory_calls(r, tree_first, redo);
    size_t members = r->nsockets;
    member_calls(r, tree_first);
    for (size_t i = members; i < r->nsockets; i++)
        redo[i] = 1;
    apply_pending(r, members, -1);
    au_findings_again(r, redo);
    free(redo);
    io_calls(r, tree_first);
    au_result_sort_sockets(r, tree_first);
}
