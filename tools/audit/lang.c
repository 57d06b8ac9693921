/*
 * lang.c - which files the audit reads, and the tree-sitter grammars that
 * parse them.
 *
 * The grammars are compiled in (the npm packages' generated parser.c and
 * scanner.c, see tools/audit/grammars/). A grammar carries the ABI version
 * its generator wrote; libtree-sitter refuses a grammar outside
 * [TREE_SITTER_MIN_COMPATIBLE_LANGUAGE_VERSION, TREE_SITTER_LANGUAGE_VERSION]
 * with nothing but a false from ts_parser_set_language, so the versions are
 * checked here first, to say which grammar and which numbers.
 */
#include "audit.h"

#include <stdlib.h>
#include <string.h>

const TSLanguage *tree_sitter_c(void);
const TSLanguage *tree_sitter_cpp(void);
const TSLanguage *tree_sitter_python(void);

typedef const TSLanguage *(grammar_fn)(void);

static grammar_fn *const grammars[AU_LANG_COUNT] = {
    tree_sitter_c, tree_sitter_cpp, tree_sitter_python};

static const char *const lang_names[AU_LANG_COUNT] = {"c", "c++", "python"};

struct au_parsers {
    TSParser *p[AU_LANG_COUNT];
};

const char *au_lang_name(au_lang_t lang)
{
    return (unsigned)lang < AU_LANG_COUNT ? lang_names[lang] : "?";
}

static const struct {
    const char *ext;
    int lang;
} extensions[] = {
    {".c", AU_LANG_C},      {".cc", AU_LANG_CPP},   {".cpp", AU_LANG_CPP},
    {".cxx", AU_LANG_CPP},  {".c++", AU_LANG_CPP},  {".hpp", AU_LANG_CPP},
    {".hh", AU_LANG_CPP},   {".hxx", AU_LANG_CPP},  {".h++", AU_LANG_CPP},
    {".ipp", AU_LANG_CPP},  {".py", AU_LANG_PYTHON}, {".pyi", AU_LANG_PYTHON},
    {".pyw", AU_LANG_PYTHON},
};

int au_lang_of(const char *path, const char *text, size_t len)
{
    const char *dot = strrchr(path, '.');
    const char *slash = strrchr(path, '/');
    if (!dot || (slash && dot < slash))
        return -1;
    if (strcmp(dot, ".h") == 0) {
        /* C and C++ share .h: a header that says `::` is C++ */
        for (size_t i = 0; i + 1 < len; i++)
            if (text[i] == ':' && text[i + 1] == ':')
                return AU_LANG_CPP;
        return AU_LANG_C;
    }
    for (size_t i = 0; i < sizeof extensions / sizeof extensions[0]; i++)
        if (strcmp(dot, extensions[i].ext) == 0)
            return extensions[i].lang;
    return -1;
}

static int check_abi(au_lang_t lang, const TSLanguage *g, char *err, size_t cap)
{
    uint32_t v = ts_language_version(g);
    if (v >= TREE_SITTER_MIN_COMPATIBLE_LANGUAGE_VERSION &&
        v <= TREE_SITTER_LANGUAGE_VERSION)
        return 0;
    snprintf(err, cap,
             "the %s grammar has ABI %u; this libtree-sitter reads %d to %d "
             "(rebuild with a grammar release generated for it)",
             lang_names[lang], v, TREE_SITTER_MIN_COMPATIBLE_LANGUAGE_VERSION,
             TREE_SITTER_LANGUAGE_VERSION);
    return -1;
}

au_parsers_t *au_parsers_new(char *err, size_t cap)
{
    au_parsers_t *ps = calloc(1, sizeof *ps);
    if (!ps) {
        snprintf(err, cap, "out of memory");
        return NULL;
    }
    for (int l = 0; l < AU_LANG_COUNT; l++) {
        const TSLanguage *g = grammars[l]();
        if (check_abi((au_lang_t)l, g, err, cap) != 0)
            goto fail;
        ps->p[l] = ts_parser_new();
        if (!ps->p[l] || !ts_parser_set_language(ps->p[l], g)) {
            snprintf(err, cap, "libtree-sitter refused the %s grammar",
                     lang_names[l]);
            goto fail;
        }
        /* a pathological input must not hold the whole audit */
        ts_parser_set_timeout_micros(ps->p[l], AU_PARSE_TIMEOUT_US);
    }
    return ps;
fail:
    au_parsers_destroy(&ps);
    return NULL;
}

void au_parsers_destroy(au_parsers_t **p)
{
    if (!p || !*p)
        return;
    for (int l = 0; l < AU_LANG_COUNT; l++)
        if ((*p)->p[l])
            ts_parser_delete((*p)->p[l]);
    free(*p);
    *p = NULL;
}

TSTree *au_parse(au_parsers_t *p, au_lang_t lang, const char *text, uint32_t len)
{
    TSParser *parser = p->p[lang];
    TSTree *t = ts_parser_parse_string(parser, NULL, text, len);
    /* after a timeout the parser keeps its half-done state for a resume:
     * drop it so that the next file starts clean */
    if (!t)
        ts_parser_reset(parser);
    return t;
}

void au_grammar_versions(char *buf, size_t cap)
{
    snprintf(buf, cap, "c %u, c++ %u, python %u (libtree-sitter reads %d-%d)",
             ts_language_version(tree_sitter_c()),
             ts_language_version(tree_sitter_cpp()),
             ts_language_version(tree_sitter_python()),
             TREE_SITTER_MIN_COMPATIBLE_LANGUAGE_VERSION,
             TREE_SITTER_LANGUAGE_VERSION);
}
