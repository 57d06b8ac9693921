/*
 * test_cli_json.c - the one JSON string writer of the command, the audit
 * and the bench (tools/cli_json.c): every control character as \u00XX
 * (none dropped, none raw), quotes and backslashes escaped, valid UTF-8
 * kept, anything else U+FFFD, NULL as null: valid JSON whatever the input.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cli_json.h"

/* cli_json_string(s) as a string (free it). */
static char *json_of(const char *s)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    assert_non_null(out);
    cli_json_string(out, s);
    fclose(out);
    return buf;
}

static void expect(const char *s, const char *want)
{
    char *got = json_of(s);
    assert_string_equal(got, want);
    free(got);
}

static void test_plain_and_null(void **state)
{
    (void)state;
    expect("", "\"\"");
    expect("tcp://127.0.0.1:5555", "\"tcp://127.0.0.1:5555\"");
    expect(NULL, "null");
}

static void test_quotes_and_backslashes(void **state)
{
    (void)state;
    expect("a\"b\\c", "\"a\\\"b\\\\c\"");
}

static void test_every_control_character(void **state)
{
    (void)state;
    for (int c = 1; c < 0x20; c++) {
        char in[4] = {'x', (char)c, 'y', '\0'}, want[16];
        snprintf(want, sizeof want, "\"x\\u%04xy\"", c);
        expect(in, want);
    }
    expect("\x7f", "\"\\u007f\"");
    /* the three a terminal would act on, as a report could carry them */
    expect("line\nnext\ttab\rcr", "\"line\\u000anext\\u0009tab\\u000dcr\"");
}

static void test_utf8(void **state)
{
    (void)state;
    expect("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x94\x92", "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x94\x92\"");
    /* a stray continuation byte, a truncated sequence at the end, an
     * overlong '/', a surrogate: each byte that starts no valid sequence
     * becomes U+FFFD */
    expect("a\x80z", "\"a\\ufffdz\"");
    expect("a\xc3", "\"a\\ufffd\"");
    expect("\xc0\xaf", "\"\\ufffd\\ufffd\"");
    expect("\xed\xa0\x80", "\"\\ufffd\\ufffd\\ufffd\"");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plain_and_null),
        cmocka_unit_test(test_quotes_and_backslashes),
        cmocka_unit_test(test_every_control_character),
        cmocka_unit_test(test_utf8),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
