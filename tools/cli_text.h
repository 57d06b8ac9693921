/*
 * cli_text.h - text measures shared by the programs in tools/ and bench/
 * (tools/cli_text.c).
 */
#ifndef ZG_CLI_TEXT_H
#define ZG_CLI_TEXT_H

#include <stddef.h>

/* The lines of text[0..len): its line breaks, plus one for a last line
 * without one. */
size_t cli_count_lines(const char *text, size_t len);

#endif
