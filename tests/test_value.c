/*
 * test_value.c - the syntax of policy values: durations with units, sizes in
 * KiB/MiB, the -1 words, ranges and granularity, and the way values print.
 */
#include "testutil.h"
#include "zg_cidr.h"
#include "zg_value.h"

#include <stdlib.h>
#include <string.h>
#include <stdbool.h>

static int64_t parse_ok(zg_field_t f, const char *text)
{
    int64_t v = -12345;
    const char *why = NULL;
    int rc = zg_value_parse(zg_field_info(f), text, &v, &why);
    if (rc != 0)
        fprintf(stderr, "'%s' refused: %s\n", text, why);
    assert_int_equal(rc, 0);
    return v;
}

static const char *parse_bad(zg_field_t f, const char *text)
{
    int64_t v;
    const char *why = NULL;
    assert_int_equal(zg_value_parse(zg_field_info(f), text, &v, &why), -1);
    assert_non_null(why);
    return why;
}

static void test_durations(void **state)
{
    (void)state;
    assert_int_equal(parse_ok(ZG_FIELD_SNDTIMEO, "250ms"), 250);
    assert_int_equal(parse_ok(ZG_FIELD_SNDTIMEO, "5s"), 5000);
    assert_int_equal(parse_ok(ZG_FIELD_SNDTIMEO, "2m"), 120000);
    assert_int_equal(parse_ok(ZG_FIELD_SNDTIMEO, "1h"), 3600000);
    assert_int_equal(parse_ok(ZG_FIELD_SNDTIMEO, "0"), 0);
    assert_int_equal(parse_ok(ZG_FIELD_SNDTIMEO, "infinite"), -1);
    assert_int_equal(parse_ok(ZG_FIELD_LINGER, "-1"), -1);
    assert_contains(parse_bad(ZG_FIELD_SNDTIMEO, "5000"), "needs a unit");
    assert_contains(parse_bad(ZG_FIELD_SNDTIMEO, "5 s"), "unknown unit");
    assert_contains(parse_bad(ZG_FIELD_SNDTIMEO, "5sec"), "unknown unit");
    assert_contains(parse_bad(ZG_FIELD_SNDTIMEO, "1.5s"), "whole number");
    assert_contains(parse_bad(ZG_FIELD_SNDTIMEO, "-2s"), "negative");
    assert_contains(parse_bad(ZG_FIELD_SNDTIMEO, "s"), "not a duration");
    assert_contains(parse_bad(ZG_FIELD_SNDTIMEO, "25d"), "unknown unit");
    /* 2^31 ms does not fit libzmq's int */
    assert_contains(parse_bad(ZG_FIELD_SNDTIMEO, "2147484s"), "out of range");
    assert_contains(parse_bad(ZG_FIELD_SNDTIMEO, "99999999999999999999ms"),
                    "too large");
    assert_contains(parse_bad(ZG_FIELD_HANDSHAKE_IVL, "infinite"),
                    "not a duration");
}

static void test_granularity(void **state)
{
    (void)state;
    assert_int_equal(parse_ok(ZG_FIELD_HEARTBEAT_TTL, "1500ms"), 1500);
    assert_contains(parse_bad(ZG_FIELD_HEARTBEAT_TTL, "250ms"),
                    "multiple of 100ms");
    assert_contains(parse_bad(ZG_FIELD_HEARTBEAT_TTL, "2h"), "out of range");
    assert_int_equal(parse_ok(ZG_FIELD_TCP_KEEPALIVE_IDLE, "2m"), 120000);
    assert_int_equal(parse_ok(ZG_FIELD_TCP_KEEPALIVE_IDLE, "default"), -1);
    assert_contains(parse_bad(ZG_FIELD_TCP_KEEPALIVE_IDLE, "1500ms"),
                    "whole seconds");
}

static void test_sizes(void **state)
{
    (void)state;
    assert_int_equal(parse_ok(ZG_FIELD_MAXMSGSIZE, "65536"), 65536);
    assert_int_equal(parse_ok(ZG_FIELD_MAXMSGSIZE, "512B"), 512);
    assert_int_equal(parse_ok(ZG_FIELD_MAXMSGSIZE, "64KiB"), 65536);
    assert_int_equal(parse_ok(ZG_FIELD_MAXMSGSIZE, "1MiB"), 1048576);
    assert_int_equal(parse_ok(ZG_FIELD_MAXMSGSIZE, "2GiB"), 2147483648LL);
    assert_int_equal(parse_ok(ZG_FIELD_MAXMSGSIZE, "unlimited"), -1);
    assert_contains(parse_bad(ZG_FIELD_MAXMSGSIZE, "1MB"), "ambiguous");
    assert_contains(parse_bad(ZG_FIELD_MAXMSGSIZE, "64k"), "ambiguous");
    assert_contains(parse_bad(ZG_FIELD_MAXMSGSIZE, "64kib"), "ambiguous");
    assert_contains(parse_bad(ZG_FIELD_MAXMSGSIZE, "8TiB"), "unknown unit");
    assert_contains(parse_bad(ZG_FIELD_MAXMSGSIZE, "9000000000GiB"),
                    "too large");
}

static void test_counts_bools_security(void **state)
{
    (void)state;
    assert_int_equal(parse_ok(ZG_FIELD_SNDHWM, "1000"), 1000);
    assert_int_equal(parse_ok(ZG_FIELD_SNDHWM, "0"), 0);
    assert_contains(parse_bad(ZG_FIELD_SNDHWM, "1e3"), "not a whole number");
    assert_contains(parse_bad(ZG_FIELD_SNDHWM, "-1"), "negative");
    assert_contains(parse_bad(ZG_FIELD_SNDHWM, "2147483648"), "out of range");
    assert_contains(parse_bad(ZG_FIELD_RETRIES, "101"), "out of range");
    assert_int_equal(parse_ok(ZG_FIELD_TCP_KEEPALIVE_CNT, "default"), -1);
    assert_contains(parse_bad(ZG_FIELD_TCP_KEEPALIVE_CNT, "0"), "out of range");
    assert_int_equal(parse_ok(ZG_FIELD_IMMEDIATE, "yes"), 1);
    assert_int_equal(parse_ok(ZG_FIELD_IMMEDIATE, "off"), 0);
    assert_contains(parse_bad(ZG_FIELD_IMMEDIATE, "maybe"), "yes or no");
    assert_contains(parse_bad(ZG_FIELD_IMMEDIATE, "default"), "yes or no");
    assert_int_equal(parse_ok(ZG_FIELD_TCP_KEEPALIVE, "default"), -1);
    assert_int_equal(parse_ok(ZG_FIELD_SECURITY, "curve"), ZG_SECURITY_CURVE);
    assert_int_equal(parse_ok(ZG_FIELD_SECURITY, "none"), ZG_SECURITY_NONE);
    assert_contains(parse_bad(ZG_FIELD_SECURITY, "plain"), "in clear");
    assert_contains(parse_bad(ZG_FIELD_SECURITY, "gssapi"), "ZAP denials");
}

static void check_format(zg_field_t f, int64_t v, const char *want)
{
    char buf[ZG_VALUE_TEXT_MAX];
    zg_value_format(zg_field_info(f), v, buf, sizeof buf);
    assert_string_equal(buf, want);
    /* what is printed parses back to the same value */
    assert_int_equal(parse_ok(f, buf), v);
}

static void test_format_round_trip(void **state)
{
    (void)state;
    check_format(ZG_FIELD_SNDTIMEO, 250, "250ms");
    check_format(ZG_FIELD_SNDTIMEO, 5000, "5s");
    check_format(ZG_FIELD_SNDTIMEO, 90000, "90s");
    check_format(ZG_FIELD_SNDTIMEO, 120000, "2m");
    check_format(ZG_FIELD_SNDTIMEO, 7200000, "2h");
    check_format(ZG_FIELD_SNDTIMEO, 1001, "1001ms");
    check_format(ZG_FIELD_SNDTIMEO, -1, "infinite");
    check_format(ZG_FIELD_SNDTIMEO, 0, "0");
    check_format(ZG_FIELD_MAXMSGSIZE, 1048576, "1MiB");
    check_format(ZG_FIELD_MAXMSGSIZE, 1536, "1536");
    check_format(ZG_FIELD_MAXMSGSIZE, 3072, "3KiB");
    check_format(ZG_FIELD_MAXMSGSIZE, -1, "unlimited");
    check_format(ZG_FIELD_TCP_KEEPALIVE, -1, "default");
    check_format(ZG_FIELD_IMMEDIATE, 1, "yes");
    check_format(ZG_FIELD_SECURITY, ZG_SECURITY_NONE, "none");
}

static void test_every_field_described(void **state)
{
    (void)state;
    for (int f = 0; f < ZG_FIELD_COUNT; f++) {
        const zg_field_info_t *info = zg_field_info((zg_field_t)f);
        assert_non_null(info->key);
        assert_int_equal(zg_field_from_key(info->key), f);
        assert_true(info->granularity >= 1);
        assert_true(info->zmq_scale >= 1);
    }
    assert_int_equal(zg_field_from_key("nope"), -1);
    assert_null(zg_field_info(ZG_FIELD_COUNT));
}

static void test_suggestions(void **state)
{
    (void)state;
    const char *keys[] = {"sndhwm", "rcvhwm", "linger"};
    assert_string_equal(zg_key_suggest("snhwm", keys, 3), "sndhwm");
    assert_string_equal(zg_key_suggest("lingr", keys, 3), "linger");
    assert_null(zg_key_suggest("banana", keys, 3));
}

static bool in_range(const char *rule, const char *address)
{
    zg_cidr_t c;
    const char *why;
    assert_int_equal(zg_cidr_parse(rule, &c, &why), 0);
    return zg_cidr_match(&c, address);
}

static void test_cidr(void **state)
{
    (void)state;
    assert_true(in_range("10.0.0.0/8", "10.200.3.4"));
    assert_false(in_range("10.0.0.0/8", "11.0.0.1"));
    assert_true(in_range("127.0.0.1", "127.0.0.1"));
    assert_false(in_range("127.0.0.1", "127.0.0.2"));
    assert_true(in_range("192.168.1.128/25", "192.168.1.200"));
    assert_false(in_range("192.168.1.128/25", "192.168.1.100"));
    assert_true(in_range("0.0.0.0/0", "8.8.8.8"));
    assert_true(in_range("fd00::/8", "fd12:3456::1"));
    assert_false(in_range("fd00::/8", "fe80::1"));
    assert_true(in_range("::1", "::1"));
    assert_true(in_range("127.0.0.0/8", "::ffff:127.0.0.1")); /* dual stack */
    assert_false(in_range("::1", "127.0.0.1"));
    assert_false(in_range("10.0.0.0/8", ":1000:1000:4242")); /* an ipc peer */
    zg_cidr_t c;
    const char *why;
    assert_int_equal(zg_cidr_parse("10.0.0.0/33", &c, &why), -1);
    assert_int_equal(zg_cidr_parse("::/129", &c, &why), -1);
    assert_int_equal(zg_cidr_parse("10.0.0/8", &c, &why), -1);
    assert_int_equal(zg_cidr_parse("10.0.0.0/", &c, &why), -1);
    assert_int_equal(zg_cidr_parse("host.example", &c, &why), -1);
    zg_cidr_t *list;
    size_t n;
    assert_int_equal(zg_cidr_list_parse("10.0.0.0/8, ::1 ,127.0.0.1", &list,
                                        &n, &why),
                     0);
    assert_int_equal(n, 3);
    free(list);
    assert_int_equal(zg_cidr_list_parse("10.0.0.0/8, nope", &list, &n, &why),
                     -1);
    assert_null(list);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_durations),
        cmocka_unit_test(test_granularity),
        cmocka_unit_test(test_sizes),
        cmocka_unit_test(test_counts_bools_security),
        cmocka_unit_test(test_format_round_trip),
        cmocka_unit_test(test_every_field_described),
        cmocka_unit_test(test_suggestions),
        cmocka_unit_test(test_cidr),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
