/*
 * cli_json.h - the one JSON string writer of the zguard command, zguard
 * audit and zguard-bench (tools/cli_json.c).
 */
#ifndef ZG_CLI_JSON_H
#define ZG_CLI_JSON_H

#include <stdio.h>

/* s as a JSON string, or null when s is NULL. '"' and '\' are escaped,
 * control characters (and DEL) written as \u00XX, and what is not valid
 * UTF-8 becomes U+FFFD: the output is valid JSON whatever s holds (file
 * names, source text, peer-supplied metadata). */
void cli_json_string(FILE *out, const char *s);

#endif
