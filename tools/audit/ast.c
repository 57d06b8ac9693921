/*
 * ast.c - reading values out of syntax nodes: a variable's name, the text
 * of a literal, the integer an expression folds to, whether a literal is a
 * CURVE key. Shared by every recogniser, so that `&hwm`, `(int){1000}`,
 * `HWM` (a #define or a constant) and `5 * 1000` all read the same.
 *
 * Nothing here recurses without a bound: the fuzzer feeds deeply nested
 * expressions, and a folded value is only worth so many levels.
 */
#include "audit.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define EVAL_DEPTH 16

int au_is(TSNode n, const char *type)
{
    return !ts_node_is_null(n) && strcmp(ts_node_type(n), type) == 0;
}

void au_text(const au_file_t *f, TSNode n, char *buf, size_t cap)
{
    size_t o = 0;
    if (cap == 0)
        return;
    uint32_t a = ts_node_start_byte(n), b = ts_node_end_byte(n);
    if (b > f->len)
        b = f->len;
    int space = 0;
    for (uint32_t i = a; i < b && o + 1 < cap; i++) {
        unsigned char ch = (unsigned char)f->src[i];
        if (isspace(ch)) {
            space = o > 0;
            continue;
        }
        if (space && o + 2 < cap)
            buf[o++] = ' ';
        space = 0;
        buf[o++] = (char)(ch < 0x20 || ch == 0x7f ? '?' : ch);
    }
    buf[o] = '\0';
}

/* Text without any whitespace: how variables are keyed. */
static void text_tight(const au_file_t *f, TSNode n, char *buf, size_t cap)
{
    size_t o = 0;
    uint32_t a = ts_node_start_byte(n), b = ts_node_end_byte(n);
    if (b > f->len)
        b = f->len;
    for (uint32_t i = a; i < b && o + 1 < cap; i++)
        if (!isspace((unsigned char)f->src[i]))
            buf[o++] = f->src[i];
    buf[o] = '\0';
}

static TSNode unwrap(TSNode n)
{
    for (int i = 0; i < EVAL_DEPTH && !ts_node_is_null(n); i++) {
        if (au_is(n, "parenthesized_expression") && ts_node_named_child_count(n) == 1)
            n = ts_node_named_child(n, 0);
        else if (au_is(n, "pointer_expression"))
            n = ts_node_child_by_field_name(n, "argument", 8);
        else if (au_is(n, "cast_expression"))
            n = ts_node_child_by_field_name(n, "value", 5);
        else
            break;
    }
    return n;
}

int au_var(const au_file_t *f, TSNode n, char *buf, size_t cap)
{
    n = unwrap(n);
    if (ts_node_is_null(n))
        return 0;
    if (!au_is(n, "identifier") && !au_is(n, "field_expression") &&
        !au_is(n, "attribute") && !au_is(n, "field_identifier") &&
        !au_is(n, "type_identifier") && /* `Worker w(rep);` (helpers.c) */
        !au_is(n, "subscript_expression") && !au_is(n, "subscript") &&
        !au_is(n, "qualified_identifier"))
        return 0;
    text_tight(f, n, buf, cap);
    /* `this->sock_` and `sock_` are one member in C++ */
    if (strncmp(buf, "this->", 6) == 0)
        memmove(buf, buf + 6, strlen(buf + 6) + 1);
    return buf[0] != '\0';
}

void au_last_name(const au_file_t *f, TSNode n, char *buf, size_t cap)
{
    char tmp[AU_TEXT_MAX];
    text_tight(f, n, tmp, sizeof tmp);
    size_t len = strlen(tmp), s = len;
    while (s > 0 && (isalnum((unsigned char)tmp[s - 1]) || tmp[s - 1] == '_'))
        s--;
    snprintf(buf, cap, "%s", tmp + s);
}

/* ---- constants ------------------------------------------------------------------ */

static const au_const_t *const_find(const au_file_t *f, const char *name,
                                    uint32_t pos)
{
    const au_const_t *file_level = NULL;
    for (size_t i = f->nconsts; i-- > 0;) {
        const au_const_t *c = &f->consts[i];
        if (strcmp(c->name, name) != 0 || c->pos > pos)
            continue;
        if (c->scope == f->scope)
            return c;
        if (c->scope == 0 && !file_level)
            file_level = c;
    }
    return file_level;
}

static const au_const_t *const_of(const au_file_t *f, TSNode n)
{
    if (!au_is(n, "identifier") && !au_is(n, "field_expression"))
        return NULL;
    char name[AU_NAME_MAX];
    text_tight(f, n, name, sizeof name);
    return const_find(f, name, ts_node_start_byte(n));
}

/* ---- integers ------------------------------------------------------------------- */

static int parse_number(const char *s, int64_t *out)
{
    char clean[64];
    size_t o = 0;
    for (; *s && o + 1 < sizeof clean; s++)
        if (*s != '\'' && *s != '_')
            clean[o++] = *s;
    clean[o] = '\0';
    /* integer suffixes: 1000u, 5000L, 10ULL */
    while (o > 0 && strchr("uUlL", clean[o - 1]) && !(o > 1 && clean[0] == '0' &&
           (clean[1] == 'x' || clean[1] == 'X') && isxdigit((unsigned char)clean[o - 1])))
        clean[--o] = '\0';
    if (o == 0)
        return 0;
    errno = 0;
    char *end;
    long long v;
    if (clean[0] == '0' && (clean[1] == 'b' || clean[1] == 'B'))
        v = strtoll(clean + 2, &end, 2);
    else if (clean[0] == '0' && (clean[1] == 'o' || clean[1] == 'O'))
        v = strtoll(clean + 2, &end, 8);
    else
        v = strtoll(clean, &end, 0);
    if (errno || *end)
        return 0;
    *out = v;
    return 1;
}

static int eval_int(const au_file_t *f, TSNode n, int64_t *out, int depth);

static int eval_binary(const au_file_t *f, TSNode n, int64_t *out, int depth)
{
    TSNode l = ts_node_child_by_field_name(n, "left", 4);
    TSNode r = ts_node_child_by_field_name(n, "right", 5);
    TSNode op = ts_node_child_by_field_name(n, "operator", 8);
    int64_t a, b;
    if (ts_node_is_null(op) || !eval_int(f, l, &a, depth + 1) ||
        !eval_int(f, r, &b, depth + 1))
        return 0;
    const char *o = ts_node_type(op);
    if (strcmp(o, "+") == 0)
        return !__builtin_add_overflow(a, b, out);
    if (strcmp(o, "-") == 0)
        return !__builtin_sub_overflow(a, b, out);
    if (strcmp(o, "*") == 0)
        return !__builtin_mul_overflow(a, b, out);
    if ((strcmp(o, "<<") == 0) && a >= 0 && b >= 0 && b < 62 && a <= (INT64_MAX >> b)) {
        *out = a << b;
        return 1;
    }
    if (strcmp(o, "|") == 0) {
        *out = a | b;
        return 1;
    }
    if ((strcmp(o, "/") == 0 || strcmp(o, "//") == 0) && b != 0 &&
        !(a == INT64_MIN && b == -1)) {
        *out = a / b;
        return 1;
    }
    return 0;
}

static int eval_unary(const au_file_t *f, TSNode n, int64_t *out, int depth)
{
    TSNode op = ts_node_child_by_field_name(n, "operator", 8);
    TSNode arg = ts_node_child_by_field_name(n, "argument", 8);
    int64_t v;
    if (ts_node_is_null(op) || !eval_int(f, arg, &v, depth + 1))
        return 0;
    if (strcmp(ts_node_type(op), "-") == 0)
        return !__builtin_sub_overflow((int64_t)0, v, out);
    if (strcmp(ts_node_type(op), "+") == 0) {
        *out = v;
        return 1;
    }
    return 0;
}

static int eval_int(const au_file_t *f, TSNode n, int64_t *out, int depth)
{
    if (depth > EVAL_DEPTH || ts_node_is_null(n))
        return 0;
    n = unwrap(n);
    if (ts_node_is_null(n))
        return 0;
    const char *t = ts_node_type(n);
    if (strcmp(t, "number_literal") == 0 || strcmp(t, "integer") == 0) {
        char buf[64];
        text_tight(f, n, buf, sizeof buf);
        return parse_number(buf, out);
    }
    if (strcmp(t, "true") == 0 || strcmp(t, "false") == 0) {
        *out = t[0] == 't';
        return 1;
    }
    if (strcmp(t, "binary_expression") == 0 || strcmp(t, "binary_operator") == 0)
        return eval_binary(f, n, out, depth);
    if (strcmp(t, "unary_expression") == 0 || strcmp(t, "unary_operator") == 0)
        return eval_unary(f, n, out, depth);
    if ((strcmp(t, "initializer_list") == 0 || strcmp(t, "compound_literal_expression") == 0))
        return ts_node_named_child_count(n) >= 1 &&
               eval_int(f, ts_node_named_child(n, ts_node_named_child_count(n) - 1),
                        out, depth + 1);
    if (strcmp(t, "identifier") == 0) {
        const au_const_t *c = const_of(f, n);
        if (c && c->val.known && !c->is_string) {
            *out = c->val.value;
            return 1;
        }
    }
    return 0;
}

int au_eval_int(const au_file_t *f, TSNode n, int64_t *out)
{
    return eval_int(f, n, out, 0);
}

/* ---- strings --------------------------------------------------------------------- */

static size_t decode_escape(const char *s, const char *end, char *ch)
{
    /* s points after the backslash */
    static const char simple_from[] = "ntr0\\\"'abfv";
    static const char simple_to[] = "\n\t\r\0\\\"'\a\b\f\v";
    if (s >= end)
        return 0;
    if (*s == 'x') {
        unsigned v = 0;
        size_t i = 1;
        for (; i < 3 && s + i < end && isxdigit((unsigned char)s[i]); i++)
            v = v * 16 + (unsigned)(isdigit((unsigned char)s[i]) ? s[i] - '0'
                                    : (tolower((unsigned char)s[i]) - 'a' + 10));
        *ch = (char)v;
        return i;
    }
    if (*s >= '0' && *s <= '7') {
        unsigned v = 0;
        size_t i = 0;
        for (; i < 3 && s + i < end && s[i] >= '0' && s[i] <= '7'; i++)
            v = v * 8 + (unsigned)(s[i] - '0');
        *ch = (char)v;
        return i;
    }
    const char *p = strchr(simple_from, *s);
    *ch = p && *s ? simple_to[p - simple_from] : *s;
    return 1;
}

/* Appends the decoded body [a, b) to buf; a '{' of an f-string ends it. */
static int append_body(const char *a, const char *b, int raw, int fstring,
                       char *buf, size_t cap, size_t *o, int *partial)
{
    while (a < b) {
        char ch = *a;
        if (fstring && ch == '{') {
            if (a + 1 < b && a[1] == '{') {
                a += 2;
            } else {
                *partial = 1;
                return 1;
            }
        } else if (ch == '\\' && !raw) {
            size_t used = decode_escape(a + 1, b, &ch);
            a += 1 + used;
        } else {
            a++;
        }
        if (*o + 1 < cap)
            buf[(*o)++] = ch;
    }
    return 1;
}

/* One literal: "x" u8"x" L"x" R"d(x)d" b'x' f"x" '''x'''. */
static int literal_body(const au_file_t *f, TSNode n, char *buf, size_t cap,
                        size_t *o, int *partial)
{
    const char *s = f->src + ts_node_start_byte(n);
    const char *e = f->src + (ts_node_end_byte(n) <= f->len ? ts_node_end_byte(n) : f->len);
    int raw = 0, fstring = 0;
    while (s < e && *s != '"' && *s != '\'') {
        raw |= *s == 'r' || *s == 'R';
        fstring |= *s == 'f' || *s == 'F';
        s++;
    }
    if (s >= e)
        return 0;
    char q = *s;
    size_t ql = (e - s >= 6 && s[1] == q && s[2] == q) ? 3 : 1;
    const char *a = s + ql, *b = e - ql;
    if (b < a || (b < e && *b != q))
        return 0;
    if (raw && f->lang != AU_LANG_PYTHON) {
        /* C++ raw string: R"delim( ... )delim" */
        const char *open = memchr(a, '(', (size_t)(b - a));
        const char *close = b;
        while (close > a && *close != ')')
            close--;
        if (!open || close <= open)
            return 0;
        a = open + 1;
        b = close;
    }
    return append_body(a, b, raw, fstring, buf, cap, o, partial);
}

static int eval_str(const au_file_t *f, TSNode n, char *buf, size_t cap,
                    size_t *o, int *partial, int depth)
{
    if (depth > EVAL_DEPTH || ts_node_is_null(n))
        return 0;
    n = unwrap(n);
    if (ts_node_is_null(n))
        return 0;
    const char *t = ts_node_type(n);
    if (strcmp(t, "string_literal") == 0 || strcmp(t, "raw_string_literal") == 0 ||
        strcmp(t, "string") == 0)
        return literal_body(f, n, buf, cap, o, partial);
    if (strcmp(t, "concatenated_string") == 0) {
        uint32_t k = ts_node_named_child_count(n);
        for (uint32_t i = 0; i < k && !*partial; i++) {
            TSNode c = ts_node_named_child(n, i);
            if (au_is(c, "identifier")) {  /* "tcp://" HOST ":5555" */
                *partial = 1;
                break;
            }
            if (!eval_str(f, c, buf, cap, o, partial, depth + 1))
                return i > 0 && (*partial = 1);
        }
        return 1;
    }
    if (strcmp(t, "binary_expression") == 0 || strcmp(t, "binary_operator") == 0) {
        /* an endpoint + port, or an endpoint % port: the prefix is known */
        TSNode l = ts_node_child_by_field_name(n, "left", 4);
        TSNode r = ts_node_child_by_field_name(n, "right", 5);
        if (!eval_str(f, l, buf, cap, o, partial, depth + 1))
            return 0;
        size_t keep = *o;
        int p2 = 0;
        TSNode op = ts_node_child_by_field_name(n, "operator", 8);
        if (!*partial && !ts_node_is_null(op) && strcmp(ts_node_type(op), "+") == 0 &&
            eval_str(f, r, buf, cap, o, &p2, depth + 1)) {
            *partial = p2;
            return 1;
        }
        *o = keep;
        *partial = 1;
        return 1;
    }
    if (strcmp(t, "identifier") == 0 || strcmp(t, "field_expression") == 0) {
        const au_const_t *c = const_of(f, n);
        if (!c || !c->is_string)
            return 0;
        for (const char *p = c->val.text; *p && *o + 1 < cap; p++)
            buf[(*o)++] = *p;
        *partial |= c->partial;
        return 1;
    }
    if (strcmp(t, "call_expression") == 0 || strcmp(t, "call") == 0) {
        /* std::string("..."), "...".format(x), str("...") */
        TSNode fn = ts_node_child_by_field_name(n, "function", 8);
        TSNode args = ts_node_child_by_field_name(n, "arguments", 9);
        char name[AU_NAME_MAX];
        au_last_name(f, fn, name, sizeof name);
        if (strcmp(name, "format") == 0 && au_is(fn, "attribute")) {
            *partial = 1;
            return eval_str(f, ts_node_child_by_field_name(fn, "object", 6), buf,
                            cap, o, partial, depth + 1);
        }
        if ((strcmp(name, "string") == 0 || strcmp(name, "str") == 0) &&
            !ts_node_is_null(args) && ts_node_named_child_count(args) == 1)
            return eval_str(f, ts_node_named_child(args, 0), buf, cap, o,
                            partial, depth + 1);
    }
    return 0;
}

int au_eval_str(const au_file_t *f, TSNode n, char *buf, size_t cap, int *partial)
{
    size_t o = 0;
    *partial = 0;
    if (cap == 0)
        return 0;
    int ok = eval_str(f, n, buf, cap, &o, partial, 0);
    buf[o < cap ? o : cap - 1] = '\0';
    return ok;
}

/* ---- keys -------------------------------------------------------------------------- */

int au_is_key_text(const char *s, size_t len)
{
    static const char z85[] = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMN"
                              "OPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#";
    if (len == 32)
        return 1;
    if (len != 40)
        return 0;
    for (size_t i = 0; i < len; i++)
        if (!s[i] || !strchr(z85, s[i]))
            return 0;
    return 1;
}

static int all_numbers(TSNode list, uint32_t want)
{
    if (ts_node_named_child_count(list) != want)
        return 0;
    for (uint32_t i = 0; i < want; i++) {
        TSNode c = ts_node_named_child(list, i);
        if (!au_is(c, "number_literal") && !au_is(c, "integer") &&
            !au_is(c, "char_literal"))
            return 0;
    }
    return 1;
}

static int key_literal(const au_file_t *f, TSNode n, int depth)
{
    if (depth > 4 || ts_node_is_null(n))
        return 0;
    n = unwrap(n);
    if (ts_node_is_null(n))
        return 0;
    const char *t = ts_node_type(n);
    if (strcmp(t, "string_literal") == 0 || strcmp(t, "string") == 0 ||
        strcmp(t, "raw_string_literal") == 0 || strcmp(t, "concatenated_string") == 0) {
        char buf[AU_TEXT_MAX];
        size_t o = 0;
        int partial = 0;
        if (!eval_str(f, n, buf, sizeof buf, &o, &partial, 0) || partial)
            return 0;
        return au_is_key_text(buf, o);
    }
    if (strcmp(t, "initializer_list") == 0 || strcmp(t, "list") == 0)
        return all_numbers(n, 32);
    if (strcmp(t, "identifier") == 0) {
        const au_const_t *c = const_of(f, n);
        return c && c->val.secret_literal;
    }
    if (strcmp(t, "call_expression") == 0 || strcmp(t, "call") == 0) {
        /* z85.decode("..."), bytes([...]), bytes.fromhex("..64 hex..") */
        TSNode args = ts_node_child_by_field_name(n, "arguments", 9);
        if (ts_node_is_null(args))
            return 0;
        uint32_t k = ts_node_named_child_count(args);
        for (uint32_t i = 0; i < k; i++) {
            TSNode a = ts_node_named_child(args, i);
            char buf[AU_TEXT_MAX];
            size_t o = 0;
            int partial = 0;
            if (key_literal(f, a, depth + 1))
                return 1;
            if (eval_str(f, a, buf, sizeof buf, &o, &partial, 0) && !partial &&
                o == 64 && strspn(buf, "0123456789abcdefABCDEF") == 64)
                return 1;
        }
    }
    return 0;
}

void au_eval_value(const au_file_t *f, TSNode n, au_value_t *v)
{
    memset(v, 0, sizeof *v);
    if (ts_node_is_null(n))
        return;
    au_text(f, n, v->text, sizeof v->text);
    v->known = au_eval_int(f, n, &v->value);
    v->secret_literal = key_literal(f, n, 0);
}

int au_flags_nonblocking(const au_file_t *f, const au_call_t *c, int from)
{
    char buf[AU_TEXT_MAX];
    for (int i = from; i < c->nargs + c->nkwargs; i++) {
        TSNode a = i < c->nargs ? c->args[i] : c->kwargs[i - c->nargs];
        au_text(f, a, buf, sizeof buf);
        if (strcasestr(buf, "dontwait") || strcasestr(buf, "noblock"))
            return 1;
    }
    return 0;
}

TSNode au_declarator_name(TSNode d)
{
    for (int i = 0; i < 8 && !ts_node_is_null(d); i++) {
        if (au_is(d, "identifier") || au_is(d, "field_identifier") ||
            au_is(d, "qualified_identifier") || au_is(d, "destructor_name") ||
            au_is(d, "operator_name"))
            return d;
        TSNode inner = ts_node_child_by_field_name(d, "declarator", 10);
        if (ts_node_is_null(inner) && ts_node_named_child_count(d) > 0)
            inner = ts_node_named_child(d, 0);
        d = inner;
    }
    return (TSNode){0};
}
