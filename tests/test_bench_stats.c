/*
 * test_bench_stats.c - the statistics zguard bench reports
 * (bench/bench_stats.c): medians, nearest-rank percentiles at their edges,
 * ratios oriented by which way is better, the sign-test interval and its
 * verdict, and the interleaving order. These decide what a results table
 * claims, so each definition is pinned here by hand-computed cases.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "bench_stats.h"

static void test_median(void **state)
{
    (void)state;
    double odd[] = {3, 1, 2}, even[] = {4, 1, 3, 2}, one[] = {7};
    assert_true(bench_median(odd, 3) == 2);
    /* even: the mean of the two middle values */
    assert_true(bench_median(even, 4) == 2.5);
    assert_true(bench_median(one, 1) == 7);
    assert_true(isnan(bench_median(one, 0)));
    /* the input keeps its order: rounds stay in round order */
    assert_true(even[0] == 4 && even[1] == 1 && even[2] == 3 && even[3] == 2);
}

static void test_percentile_edges(void **state)
{
    (void)state;
    double ten[10];
    for (int i = 0; i < 10; i++)
        ten[i] = i + 1;                                     /* 1..10, sorted */
    assert_true(bench_percentile_sorted(ten, 10, 0) == 1);  /* min */
    assert_true(bench_percentile_sorted(ten, 10, 10) == 1); /* rank 1 */
    assert_true(bench_percentile_sorted(ten, 10, 11) == 2); /* rank 2 */
    /* nearest rank: a measured value, not the mean of 5 and 6 */
    assert_true(bench_percentile_sorted(ten, 10, 50) == 5);
    assert_true(bench_percentile_sorted(ten, 10, 99) == 10);
    assert_true(bench_percentile_sorted(ten, 10, 100) == 10); /* max */
}

static void test_percentile_sizes(void **state)
{
    (void)state;
    double one[] = {42}, two[] = {1, 2};
    assert_true(bench_percentile_sorted(one, 1, 0) == 42);
    assert_true(bench_percentile_sorted(one, 1, 50) == 42);
    assert_true(bench_percentile_sorted(one, 1, 99) == 42);
    assert_true(bench_percentile_sorted(two, 2, 50) == 1);
    assert_true(bench_percentile_sorted(two, 2, 51) == 2);
    static double big[1000];
    for (int i = 0; i < 1000; i++)
        big[i] = i + 1;
    assert_true(bench_percentile_sorted(big, 100, 99) == 99);
    assert_true(bench_percentile_sorted(big, 100, 1) == 1);
    /* 99.9 * 1000 / 100 is 999.0000000000001 in doubles: still rank 999 */
    assert_true(bench_percentile_sorted(big, 1000, 99.9) == 999);
    assert_true(isnan(bench_percentile_sorted(big, 0, 50)));
    assert_true(isnan(bench_percentile_sorted(big, 10, -1)));
    assert_true(isnan(bench_percentile_sorted(big, 10, 100.5)));
}

static void test_sort_min_max_summary(void **state)
{
    (void)state;
    double v[] = {5, 3, 9, 1};
    assert_true(bench_min(v, 4) == 1 && bench_max(v, 4) == 9);
    bench_summary_t s = bench_summarize(v, 4); /* median 4 */
    assert_true(s.median == 4 && s.min == 1 && s.max == 9);
    assert_true(fabs(s.spread - 1.25) < 1e-12); /* (9 - 4) / 4 */
    bench_sort(v, 4);
    assert_true(v[0] == 1 && v[1] == 3 && v[2] == 5 && v[3] == 9);
}

static void test_ratio(void **state)
{
    (void)state;
    double a[] = {2, 2, 2}, b[] = {1, 1, 1}, zero[] = {0, 0, 0};
    /* rates: a/b; latencies and memory: b/a, so >= 1 means a is better */
    assert_true(bench_ratio(a, 3, b, 3, BENCH_HIGHER_BETTER) == 2);
    assert_true(bench_ratio(a, 3, b, 3, BENCH_LOWER_BETTER) == 0.5);
    assert_true(isnan(bench_ratio(a, 3, zero, 3, BENCH_HIGHER_BETTER)));
    assert_true(isnan(bench_ratio(a, 0, b, 3, BENCH_HIGHER_BETTER)));
}

static void test_binomial(void **state)
{
    (void)state;
    assert_true(bench_binom_cdf_half(7, 0) == 1.0 / 128);
    assert_true(bench_binom_cdf_half(3, 0) == 1.0 / 8);
    assert_true(bench_binom_cdf_half(4, 4) == 1);
    assert_true(fabs(bench_binom_cdf_half(20, 5) - 21700.0 / 1048576) < 1e-15);
}

static void test_verdict(void **state)
{
    (void)state;
    assert_int_equal(bench_verdict(0.97, 1.10, 0.97), BENCH_ABOVE);
    assert_int_equal(bench_verdict(0.80, 0.96, 0.97), BENCH_BELOW);
    assert_int_equal(bench_verdict(0.90, 0.97, 0.97), BENCH_UNCLEAR);
    assert_int_equal(bench_verdict(NAN, 1.2, 0.97), BENCH_UNCLEAR);
}

/* 7 rounds: k = 1, the interval is min..max of the per-round ratios, at
 * 1 - 2/128 coverage. */
static void test_compare_seven(void **state)
{
    (void)state;
    double base[7] = {100, 100, 100, 100, 100, 100, 100};
    double a[7] = {99, 101, 98, 103, 100, 97, 102};
    bench_paired_t p = bench_compare(a, base, 7, BENCH_HIGHER_BETTER, 0.97);
    assert_true(fabs(p.lo - 0.97) < 1e-12 && fabs(p.hi - 1.03) < 1e-12);
    assert_true(fabs(p.paired - 1.00) < 1e-12);
    assert_true(p.coverage == 1 - 2.0 / 128);
    assert_int_equal(p.verdict, BENCH_ABOVE);
    p = bench_compare(a, base, 7, BENCH_HIGHER_BETTER, 1.0);
    assert_int_equal(p.verdict, BENCH_UNCLEAR);
    p = bench_compare(a, base, 7, BENCH_HIGHER_BETTER, 1.05);
    assert_int_equal(p.verdict, BENCH_BELOW);
}

/* 20 rounds: k = 6 (coverage 0.9586), the 6th smallest to the 6th largest. */
static void test_compare_twenty(void **state)
{
    (void)state;
    double a[20], b[20];
    for (int i = 0; i < 20; i++) {
        a[i] = 100 + (i * 7) % 20; /* ratios 1.00 .. 1.19, out of order */
        b[i] = 100;
    }
    bench_paired_t p = bench_compare(a, b, 20, BENCH_HIGHER_BETTER, 1.0);
    assert_true(fabs(p.lo - 1.05) < 1e-12 && fabs(p.hi - 1.14) < 1e-12);
    assert_true(fabs(p.coverage - (1 - 2 * 21700.0 / 1048576)) < 1e-12);
    assert_int_equal(p.verdict, BENCH_ABOVE);
}

static void test_compare_lower_better(void **state)
{
    (void)state;
    double lat_a[3] = {10, 10, 10}, lat_b[3] = {20, 20, 20};
    bench_paired_t p = bench_compare(lat_a, lat_b, 3, BENCH_LOWER_BETTER, 1.0);
    assert_true(p.ratio == 2 && p.lo == 2 && p.hi == 2);
    assert_true(p.coverage == 0.75);
    assert_int_equal(p.verdict, BENCH_ABOVE);
}

static void test_compare_degenerate(void **state)
{
    (void)state;
    double a[3] = {1, 0, 1}, b[3] = {1, 1, 1};
    bench_paired_t p = bench_compare(a, b, 3, BENCH_HIGHER_BETTER, 0.97);
    assert_true(isnan(p.lo) && isnan(p.hi));
    assert_int_equal(p.verdict, BENCH_UNCLEAR);
    /* fewer than 3 rounds: an interval, never a verdict */
    double c[2] = {2, 2}, d[2] = {1, 1};
    p = bench_compare(c, d, 2, BENCH_HIGHER_BETTER, 0.97);
    assert_true(p.lo == 2 && p.coverage == 0.5);
    assert_int_equal(p.verdict, BENCH_UNCLEAR);
    p = bench_compare(c, d, 0, BENCH_HIGHER_BETTER, 0.97);
    assert_true(isnan(p.ratio));
}

/* Every round runs each contestant once, and over n rounds each one is
 * first once. */
static void test_order(void **state)
{
    (void)state;
    for (int n = 1; n <= 7; n++) {
        int first[8] = {0};
        for (int r = 0; r < 2 * n; r++) {
            int seen[8] = {0};
            for (int i = 0; i < n; i++) {
                int k = bench_order(r, n, i);
                assert_true(k >= 0 && k < n);
                seen[k]++;
            }
            for (int k = 0; k < n; k++)
                assert_int_equal(seen[k], 1);
            if (r < n)
                first[bench_order(r, n, 0)]++;
        }
        for (int k = 0; k < n; k++)
            assert_int_equal(first[k], 1);
    }
    /* odd rounds go the other way */
    assert_int_equal(bench_order(1, 3, 1), 0);
    assert_int_equal(bench_order(1, 3, 2), 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_median),
        cmocka_unit_test(test_percentile_edges),
        cmocka_unit_test(test_percentile_sizes),
        cmocka_unit_test(test_sort_min_max_summary),
        cmocka_unit_test(test_ratio),
        cmocka_unit_test(test_binomial),
        cmocka_unit_test(test_verdict),
        cmocka_unit_test(test_compare_seven),
        cmocka_unit_test(test_compare_twenty),
        cmocka_unit_test(test_compare_lower_better),
        cmocka_unit_test(test_compare_degenerate),
        cmocka_unit_test(test_order),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
