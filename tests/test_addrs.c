/*
 * test_addrs.c - the authenticator's per-address table (src/addrs.c) with
 * a clock the test moves: the token bucket's burst and refill, the lockout
 * after N failures within the window and its end, addresses that are not
 * IP (ipc peers) never limited, IPv4 and IPv6 apart, and the table's size
 * bounded under 100,000 distinct addresses with locked-out ones kept.
 */
#include "testutil.h"
#include "zg_addrs.h"

#include <stdio.h>

static zg_addrs_t *table(int64_t rate, int64_t burst, int64_t failures)
{
    zg_addr_limits_t l = {rate, burst, failures, 10000, 1000};
    zg_addrs_t *t = zg_addrs_new(1024, &l);
    assert_non_null(t);
    return t;
}

static void test_token_bucket(void **state)
{
    (void)state;
    zg_addrs_t *t = table(2, 3, 0); /* 2 a second, 3 at once */
    int64_t now = 1000000;
    for (int i = 0; i < 3; i++)
        assert_int_equal(zg_addrs_admit(t, "192.0.2.1", now), ZG_ADDR_OK);
    assert_int_equal(zg_addrs_admit(t, "192.0.2.1", now), ZG_ADDR_RATE);
    assert_int_equal(zg_addrs_admit(t, "192.0.2.2", now), ZG_ADDR_OK);
    /* half a second refills one */
    assert_int_equal(zg_addrs_admit(t, "192.0.2.1", now + 499), ZG_ADDR_RATE);
    assert_int_equal(zg_addrs_admit(t, "192.0.2.1", now + 999), ZG_ADDR_OK);
    assert_int_equal(zg_addrs_admit(t, "192.0.2.1", now + 999), ZG_ADDR_RATE);
    /* a long pause refills to the burst, not beyond */
    now += 60000;
    for (int i = 0; i < 3; i++)
        assert_int_equal(zg_addrs_admit(t, "192.0.2.1", now), ZG_ADDR_OK);
    assert_int_equal(zg_addrs_admit(t, "192.0.2.1", now), ZG_ADDR_RATE);
    zg_addrs_destroy(&t);
    assert_null(t);
}

static void test_lockout_starts_and_ends(void **state)
{
    (void)state;
    zg_addrs_t *t = table(0, 1, 3); /* 3 failures in 10 s: 1 s lockout */
    int64_t now = 5000;
    assert_false(zg_addrs_failed(t, "198.51.100.7", now));
    assert_false(zg_addrs_failed(t, "198.51.100.7", now + 10));
    assert_int_equal(zg_addrs_admit(t, "198.51.100.7", now + 20), ZG_ADDR_OK);
    assert_true(zg_addrs_failed(t, "198.51.100.7", now + 30)); /* locked */
    assert_int_equal(zg_addrs_admit(t, "198.51.100.7", now + 31),
                     ZG_ADDR_LOCKOUT);
    assert_int_equal(zg_addrs_admit(t, "198.51.100.8", now + 31), ZG_ADDR_OK);
    assert_int_equal(zg_addrs_admit(t, "198.51.100.7", now + 1029),
                     ZG_ADDR_LOCKOUT);
    assert_int_equal(zg_addrs_admit(t, "198.51.100.7", now + 1030),
                     ZG_ADDR_OK);
    /* the count starts again: two more failures do not lock */
    assert_false(zg_addrs_failed(t, "198.51.100.7", now + 1040));
    assert_false(zg_addrs_failed(t, "198.51.100.7", now + 1050));
    /* failures spread wider than the window never add up */
    zg_addrs_t *w = table(0, 1, 3);
    for (int i = 0; i < 10; i++)
        assert_false(zg_addrs_failed(w, "203.0.113.9", i * 6000));
    zg_addrs_destroy(&w);
    zg_addrs_destroy(&t);
}

static void test_not_ip_never_limited(void **state)
{
    (void)state;
    zg_addrs_t *t = table(1, 1, 1);
    for (int i = 0; i < 5; i++) {
        assert_false(zg_addrs_failed(t, ":1000:1000:4242", 0));
        assert_int_equal(zg_addrs_admit(t, ":1000:1000:4242", 0), ZG_ADDR_OK);
        assert_int_equal(zg_addrs_admit(t, "", 0), ZG_ADDR_OK);
    }
    assert_int_equal(zg_addrs_count(t), 0);
    /* IPv6 and IPv4 are addresses of their own */
    assert_int_equal(zg_addrs_admit(t, "2001:db8::1", 0), ZG_ADDR_OK);
    assert_int_equal(zg_addrs_admit(t, "2001:db8::1", 0), ZG_ADDR_RATE);
    assert_int_equal(zg_addrs_admit(t, "2001:db8::2", 0), ZG_ADDR_OK);
    assert_int_equal(zg_addrs_admit(t, "::ffff:192.0.2.1", 0), ZG_ADDR_OK);
    /* the same address written as IPv4: the same entry */
    assert_int_equal(zg_addrs_admit(t, "192.0.2.1", 0), ZG_ADDR_RATE);
    zg_addrs_destroy(&t);
}

/* 100,000 distinct addresses (a spoofed flood, or a test hook standing in
 * for one): the table never holds more than its capacity, and an address
 * locked out before the flood is still locked out after it (locked entries
 * are the last to be evicted). */
static void test_bounded_under_a_flood(void **state)
{
    (void)state;
    zg_addr_limits_t l = {100, 100, 2, 60000, 60000};
    zg_addrs_t *t = zg_addrs_new(1024, &l);
    assert_non_null(t);
    zg_addrs_failed(t, "192.0.2.200", 0);
    assert_true(zg_addrs_failed(t, "192.0.2.200", 0));
    char a[32];
    for (int i = 0; i < 100000; i++) {
        snprintf(a, sizeof a, "10.%d.%d.%d", i >> 16, (i >> 8) & 255, i & 255);
        zg_addrs_admit(t, a, 1 + i / 100);
        assert_true(zg_addrs_count(t) <= 1024);
    }
    assert_true(zg_addrs_count(t) > 900); /* the table is used, not emptied */
    assert_int_equal(zg_addrs_admit(t, "192.0.2.200", 1000), ZG_ADDR_LOCKOUT);
    zg_addrs_destroy(&t);
}

static void test_bad_arguments(void **state)
{
    (void)state;
    zg_addr_limits_t l = {1, 1, 1, 1000, 1000};
    assert_null(zg_addrs_new(1000, &l)); /* not a power of two */
    assert_null(zg_addrs_new(8, &l));    /* too small to probe */
    zg_addrs_destroy(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_token_bucket),
        cmocka_unit_test(test_lockout_starts_and_ends),
        cmocka_unit_test(test_not_ip_never_limited),
        cmocka_unit_test(test_bounded_under_a_flood),
        cmocka_unit_test(test_bad_arguments),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
