/*
 * fuzz_diag.c - the promises every parser fuzz target checks alike
 * (fuzz_diag.h).
 */
#include "fuzz_diag.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void fuzz_check(const char *target, int ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "%s: broken promise: %s\n", target, what);
        abort();
    }
}

bool fuzz_printable(const char *s)
{
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if ((c < 0x20 && c != '\t') || c == 0x7f)
            return false;
    }
    return true;
}

void fuzz_check_problems(const char *target, const zg_diag_t *diag,
                         const uint8_t *data, size_t size, const char *file,
                         bool ordered)
{
    static FILE *devnull;
    if (!devnull && !(devnull = fopen("/dev/null", "w")))
        abort();
    zg_diag_print(diag, devnull); /* the formatter runs on every problem */
    unsigned lines = 1;
    for (size_t i = 0; i < size; i++)
        lines += data[i] == '\n';
    unsigned last = 0;
    for (size_t i = 0; i < zg_diag_count(diag); i++) {
        const zg_problem_t *p = zg_diag_get(diag, i);
        fuzz_check(target, p != NULL, "zg_diag_get within zg_diag_count");
        fuzz_check(target, strcmp(p->file, file) == 0,
                   "problem names the file");
        fuzz_check(target, p->line >= 1 && p->line <= lines,
                   "problem line in the text");
        fuzz_check(target, !ordered || p->line >= last,
                   "problems in line order");
        last = p->line;
        fuzz_check(target, p->key[0] != '\0', "problem key is not empty");
        fuzz_check(target, fuzz_printable(p->key),
                   "problem key has no control characters");
        fuzz_check(target, fuzz_printable(p->message),
                   "message has no control characters");
        /* the diag formats into ZG_ERROR_MAX bytes: a message that fills
         * them was probably cut */
        fuzz_check(target, strlen(p->message) < ZG_ERROR_MAX - 1,
                   "message not cut");
    }
    fuzz_check(target, zg_diag_get(diag, zg_diag_count(diag)) == NULL,
               "zg_diag_get is NULL past the end");
}
