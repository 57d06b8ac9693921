/*
 * fuzz_audit.c - libFuzzer target: arbitrary bytes audited as C, C++ and
 * Python, with every report written (to /dev/null), so that parsing, the
 * recognisers, the model, suppressions and the report writers all see
 * hostile input. The contract checked besides "no crash": every finding
 * and socket points at a line of the input.
 */
#include <stdio.h>
#include <stdlib.h>

#include "audit.h"

static void check(const au_result_t *r, size_t lines)
{
    for (size_t i = 0; i < r->nfindings; i++)
        if (r->findings[i].line == 0 || r->findings[i].line > lines + 1)
            abort();
    for (size_t i = 0; i < r->nsockets; i++)
        if (r->sockets[i].line == 0 || r->sockets[i].line > lines + 1)
            abort();
}

static void reports(const au_result_t *r)
{
    static FILE *sink;
    if (!sink)
        sink = fopen("/dev/null", "w");
    if (!sink)
        abort();
    const char *paths[] = {"fuzz"};
    au_report_opts_t o = {.paths = paths, .npaths = 1, .fail_on = AU_SEV_HIGH};
    au_report_text(sink, r, &o);
    au_report_lines(sink, r, &o);
    au_report_markdown(sink, r, &o);
    au_report_json(sink, r, &o);
    au_report_sarif(sink, r, &o);
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    static au_engine_t *engine;
    char err[256];
    if (!engine && !(engine = au_engine_new(NULL, err, sizeof err))) {
        fprintf(stderr, "fuzz_audit: %s\n", err);
        abort();
    }
    static const char *const names[AU_LANG_COUNT] = {"fuzz.c", "fuzz.cpp", "fuzz.py"};
    for (int l = 0; l < AU_LANG_COUNT; l++) {
        au_result_t *r = au_result_new();
        if (!r)
            abort();
        au_scan_text(engine, r, names[l], (au_lang_t)l, (const char *)data, size);
        au_result_sort(r);
        check(r, r->lines);
        reports(r);
        au_result_destroy(&r);
    }
    return 0;
}
