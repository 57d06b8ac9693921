/*
 * fuzz_diag.h - what the parser fuzz targets check alike: a broken promise
 * aborts with its name, and the problems a parser reports must name the
 * file, a line of the text and a key, in printable text not cut short.
 */
#ifndef ZG_FUZZ_DIAG_H
#define ZG_FUZZ_DIAG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <zguard.h>

/* Aborts, naming target and the promise, unless ok. */
void fuzz_check(const char *target, int ok, const char *what);
/* Text a person reads: tabs, but no other control character. */
bool fuzz_printable(const char *s);
/* Prints diag (to /dev/null: the formatter runs on each problem), then
 * checks every problem against the input text data/size, parsed as `file`;
 * `ordered`: the problems come in line order. */
void fuzz_check_problems(const char *target, const zg_diag_t *diag,
                         const uint8_t *data, size_t size, const char *file,
                         bool ordered);

#endif
