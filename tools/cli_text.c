/*
 * cli_text.c - text measures: the gate numbers the lines of the policy it
 * writes after the user's, the audit counts the lines it scanned.
 */
#include "cli_text.h"

#include <string.h>

size_t cli_count_lines(const char *text, size_t len)
{
    size_t n = 0;
    for (const char *p = text; (p = memchr(p, '\n', len - (size_t)(p - text))) != NULL; p++)
        n++;
    return n + (len > 0 && text[len - 1] != '\n');
}
