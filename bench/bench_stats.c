/*
 * bench_stats.c - medians, nearest-rank percentiles, ratios and the paired
 * sign-test verdict of zguard-bench (definitions in bench_stats.h).
 */
#include "bench_stats.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

void bench_sort(double *v, size_t n)
{
    if (n > 1)
        qsort(v, n, sizeof *v, cmp_double);
}

double bench_median(const double *v, size_t n)
{
    if (n == 0)
        return NAN;
    double *s = malloc(n * sizeof *s);
    if (!s)
        return NAN;
    memcpy(s, v, n * sizeof *s);
    bench_sort(s, n);
    double m = n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
    free(s);
    return m;
}

double bench_percentile_sorted(const double *sorted, size_t n, double p)
{
    if (n == 0 || p < 0 || p > 100)
        return NAN;
    /* p * n first: exact for whole p and n; the epsilon keeps a product
     * like 99.9 * 1000 / 100 = 999.0000000000001 at rank 999, not 1000 */
    double r = ceil(p * (double)n / 100.0 - 1e-9);
    size_t rank = r < 1 ? 1 : (size_t)r;
    return sorted[(rank > n ? n : rank) - 1];
}

double bench_min(const double *v, size_t n)
{
    double m = n ? v[0] : NAN;
    for (size_t i = 1; i < n; i++)
        if (v[i] < m)
            m = v[i];
    return m;
}

double bench_max(const double *v, size_t n)
{
    double m = n ? v[0] : NAN;
    for (size_t i = 1; i < n; i++)
        if (v[i] > m)
            m = v[i];
    return m;
}

bench_summary_t bench_summarize(const double *v, size_t n)
{
    bench_summary_t s = {bench_median(v, n), bench_min(v, n), bench_max(v, n),
                         NAN};
    if (n && s.median != 0) {
        double lo = s.median - s.min, hi = s.max - s.median;
        s.spread = (lo > hi ? lo : hi) / fabs(s.median);
    }
    return s;
}

/* x over y, or y over x, so that >= 1 always means "x is better". */
static double oriented(double x, double y, bench_better_t better)
{
    double r = better == BENCH_HIGHER_BETTER ? x / y : y / x;
    return isfinite(r) && r > 0 ? r : NAN;
}

double bench_ratio(const double *a, size_t na, const double *b, size_t nb,
                   bench_better_t better)
{
    return oriented(bench_median(a, na), bench_median(b, nb), better);
}

double bench_binom_cdf_half(int n, int j)
{
    double c = 1, sum = 0; /* c: n choose i */
    for (int i = 0; i <= j && i <= n; i++) {
        sum += c;
        c = c * (n - i) / (i + 1);
    }
    return ldexp(sum, -n);
}

bench_verdict_t bench_verdict(double lo, double hi, double threshold)
{
    if (isnan(lo) || isnan(hi))
        return BENCH_UNCLEAR;
    if (lo >= threshold)
        return BENCH_ABOVE;
    if (hi < threshold)
        return BENCH_BELOW;
    return BENCH_UNCLEAR;
}

/* The largest k whose interval [q(k), q(n+1-k)] still covers >= 95%. */
static int sign_test_k(int n)
{
    int k = 1;
    while (k + 1 <= (n + 1) / 2 && 1 - 2 * bench_binom_cdf_half(n, k) >= 0.95)
        k++;
    return k;
}

bench_paired_t bench_compare(const double *a, const double *b, int n,
                             bench_better_t better, double threshold)
{
    bench_paired_t p = {NAN, NAN, NAN, NAN, 0, BENCH_UNCLEAR};
    if (n <= 0 || n > BENCH_STATS_MAX_N)
        return p;
    p.ratio = bench_ratio(a, (size_t)n, b, (size_t)n, better);
    double q[BENCH_STATS_MAX_N];
    for (int i = 0; i < n; i++) {
        q[i] = oriented(a[i], b[i], better);
        if (isnan(q[i]))
            return p;
    }
    bench_sort(q, (size_t)n);
    int k = sign_test_k(n);
    p.paired = bench_median(q, (size_t)n);
    p.lo = q[k - 1];
    p.hi = q[n - k];
    p.coverage = 1 - 2 * bench_binom_cdf_half(n, k - 1);
    /* one or two rounds cover at most 50%: an interval, but no verdict */
    p.verdict = n < 3 ? BENCH_UNCLEAR : bench_verdict(p.lo, p.hi, threshold);
    return p;
}

int bench_order(int round, int n, int i)
{
    int start = round % n;
    return round % 2 ? (start + n - i % n) % n : (start + i) % n;
}
