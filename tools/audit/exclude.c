/*
 * exclude.c - what a directory walk leaves out: `--exclude GLOB` and the
 * lines of `.zguard-audit-ignore` at the audited root.
 *
 * A glob is matched against the path relative to the audited directory
 * ("vendor/zmq/x.c"): `*` is any text within one name, `?` one character,
 * `[a-z]` / `[!a-z]` a class, `\x` the character x, and `**` as a whole
 * name any number of directories (none included). A glob without a `/`
 * matches a name at any depth (`*.pb.c`, `third_party`); a trailing `/`
 * matches directories only; a leading `/` only anchors. A directory that
 * matches is not entered.
 *
 * Matching goes name by name, each name character by character, with the
 * usual backtracking to the last star only: linear-time per star, so a
 * hostile pattern cannot make the walk exponential.
 */
#include "audit.h"
#include "zguard_tools.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define GLOB_NAMES_MAX 128     /* names in a pattern or a path */
#define IGNORE_FILE_MAX (1u << 20)

struct au_glob {
    char *pattern;             /* normalised: no leading '/', no trailing '/' */
    int dir_only;
};

/* One name: [p, pe) against [s, se). */
static int class_match(const char **pp, const char *pe, char c)
{
    const char *p = *pp + 1;
    int negate = p < pe && (*p == '!' || *p == '^');
    p += negate;
    int hit = 0;
    for (int first = 1; p < pe && (first || *p != ']'); first = 0) {
        char lo = *p == '\\' && p + 1 < pe ? *++p : *p;
        p++;
        char hi = lo;
        if (p + 1 < pe && *p == '-' && p[1] != ']') {
            hi = p[1] == '\\' && p + 2 < pe ? p[2] : p[1];
            p += p[1] == '\\' ? 3 : 2;
        }
        hit |= c >= lo && c <= hi;
    }
    *pp = p < pe ? p + 1 : p; /* past ']' */
    return hit != negate;
}

static int name_match(const char *p, const char *pe, const char *s, const char *se)
{
    const char *star_p = NULL, *star_s = NULL;
    while (s < se) {
        if (p < pe && *p == '*') {
            star_p = ++p;
            star_s = s;
            continue;
        }
        if (p < pe && *p == '[') {
            const char *q = p;
            if (class_match(&q, pe, *s)) {
                p = q;
                s++;
                continue;
            }
        } else if (p < pe) {
            int escaped = *p == '\\' && p + 1 < pe;
            char want = escaped ? p[1] : *p;
            if ((*p == '?' && !escaped) || want == *s) {
                p += escaped ? 2 : 1;
                s++;
                continue;
            }
        }
        if (!star_p)
            return 0;
        p = star_p;
        s = ++star_s;
    }
    while (p < pe && *p == '*')
        p++;
    return p == pe;
}

/* Splits "a/b/c" into names; -1 when there are too many. */
static int split(const char *s, const char *name[], size_t len[])
{
    int n = 0;
    for (const char *p = s;; ) {
        const char *slash = strchr(p, '/');
        size_t l = slash ? (size_t)(slash - p) : strlen(p);
        if (n == GLOB_NAMES_MAX)
            return -1;
        name[n] = p;
        len[n++] = l;
        if (!slash)
            return n;
        p = slash + 1;
    }
}

static int is_globstar(const char *name, size_t len)
{
    return len == 2 && name[0] == '*' && name[1] == '*';
}

static int path_match(const char *pattern, const char *path)
{
    const char *pn[GLOB_NAMES_MAX], *sn[GLOB_NAMES_MAX];
    size_t pl[GLOB_NAMES_MAX], sl[GLOB_NAMES_MAX];
    int np = split(pattern, pn, pl), ns = split(path, sn, sl);
    if (np < 0 || ns < 0)
        return 0;
    int pi = 0, si = 0, star_p = -1, star_s = 0;
    while (si < ns) {
        if (pi < np && is_globstar(pn[pi], pl[pi])) {
            star_p = pi++;
            star_s = si;
            continue;
        }
        if (pi < np && name_match(pn[pi], pn[pi] + pl[pi], sn[si], sn[si] + sl[si])) {
            pi++;
            si++;
            continue;
        }
        if (star_p < 0)
            return 0;
        pi = star_p + 1;
        si = ++star_s;
    }
    while (pi < np && is_globstar(pn[pi], pl[pi]))
        pi++;
    return pi == np;
}

/* An unclosed '[' or a trailing '\' is refused: it would match nothing the
 * user meant. */
static const char *glob_problem(const char *p, size_t len)
{
    if (len == 0)
        return "an empty pattern";
    for (size_t i = 0; i < len; i++) {
        if (p[i] == '\\' && ++i == len)
            return "a '\\' at the end";
        if (p[i] == '[') {
            size_t k = i + 1;
            k += k < len && (p[k] == '!' || p[k] == '^');
            k += k < len && p[k] == ']';
            while (k < len && p[k] != ']')
                k += p[k] == '\\' ? 2 : 1;
            if (k >= len)
                return "a '[' without its ']'";
            i = k;
        }
    }
    return NULL;
}

int au_globs_add(au_globs_t *gs, const char *text, size_t len, char *err, size_t cap)
{
    while (len > 0 && text[0] == '/') { /* a leading '/' only anchors */
        text++;
        len--;
    }
    int dir_only = len > 0 && text[len - 1] == '/';
    len -= (size_t)dir_only;
    const char *problem = glob_problem(text, len);
    if (!problem && len >= 4096)
        problem = "longer than 4095 characters";
    if (problem) {
        snprintf(err, cap, "'%.*s' is not a glob: %s", (int)(len > 200 ? 200 : len), text,
                 problem);
        return -1;
    }
    au_glob_t *g = au_grow(gs->g, &gs->cap, gs->n, sizeof *g);
    if (!g)
        goto oom;
    gs->g = g;
    /* no '/' (but a trailing one): a name at any depth */
    int anywhere = memchr(text, '/', len) == NULL;
    size_t n = len + (anywhere ? 3 : 0) + 1;
    char *p = malloc(n);
    if (!p)
        goto oom;
    snprintf(p, n, "%s%.*s", anywhere ? "**/" : "", (int)len, text);
    gs->g[gs->n++] = (au_glob_t){.pattern = p, .dir_only = dir_only};
    return 0;
oom:
    snprintf(err, cap, "out of memory");
    return -1;
}

int au_globs_match(const au_globs_t *gs, const char *rel, int is_dir)
{
    for (size_t i = 0; gs && i < gs->n; i++)
        if ((is_dir || !gs->g[i].dir_only) && path_match(gs->g[i].pattern, rel))
            return 1;
    return 0;
}

void au_globs_clear(au_globs_t *gs)
{
    for (size_t i = 0; i < gs->n; i++)
        free(gs->g[i].pattern);
    free(gs->g);
    *gs = (au_globs_t){0};
}

int au_globs_read(au_globs_t *gs, const char *path, au_result_t *r)
{
    size_t len = 0;
    char *text = zg_file_read_text(path, IGNORE_FILE_MAX, &len);
    if (!text)
        return errno == ENOENT ? 0
                               : au_result_error(r, "%s: cannot read: %s", path, strerror(errno));
    int rc = 0;
    unsigned line = 0;
    for (char *p = text, *end; p < text + len; p = end + 1) {
        end = memchr(p, '\n', (size_t)(text + len - p));
        if (!end)
            end = text + len;
        line++;
        const char *a = p, *b = end;
        while (a < b && (*a == ' ' || *a == '\t'))
            a++;
        while (b > a && (b[-1] == ' ' || b[-1] == '\t' || b[-1] == '\r'))
            b--;
        if (a == b || *a == '#')
            continue;
        char err[300];
        if (au_globs_add(gs, a, (size_t)(b - a), err, sizeof err) != 0)
            rc = au_result_error(r, "%s:%u: %s", path, line, err);
    }
    free(text);
    return rc;
}
