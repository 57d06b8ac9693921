/*
 * bench_stats.h - the statistics zguard-bench reports: medians, percentiles,
 * ratios of medians, and a paired verdict on a ratio from interleaved rounds.
 *
 * Pure functions over arrays of doubles, no libzmq: tests/test_bench_stats.c
 * checks them on their own.
 *
 * Definitions (bench/README.md says the same for readers of the results):
 *   median      the middle value; for an even count the mean of the two
 *               middle ones. Used for the rounds of a contestant.
 *   percentile  nearest rank: p of n sorted values is the value at rank
 *               ceil(p/100 * n) (1-based), rank 1 for p = 0. So p100 is the
 *               maximum, p0 the minimum, and every percentile is a value
 *               that was measured. Used for latency samples.
 *   ratio       "how much better than the baseline", >= 1 is better: for a
 *               figure where higher is better (messages/s) a/b, for one
 *               where lower is better (latency, memory) b/a.
 *   paired      each round ran every contestant once, a moment apart, so
 *               the per-round ratios share the machine's drift. Their median
 *               comes with a sign-test interval, distribution-free: sorted
 *               ratios q(1..n), [q(k), q(n+1-k)] covers the true median
 *               with probability 1 - 2 P(Binomial(n, 1/2) < k); k is the
 *               largest whose coverage stays >= 95% (up to 8 rounds: k = 1,
 *               min..max). The verdict compares that interval with a
 *               threshold: all of it at or above, all of it below, or
 *               unclear when the threshold lies inside (the noise is wider
 *               than the margin). Fewer than 3 rounds (coverage 50% at
 *               most) give an interval but always "unclear".
 */
#ifndef ZG_BENCH_STATS_H
#define ZG_BENCH_STATS_H

#include <stddef.h>

typedef enum bench_better {
    BENCH_HIGHER_BETTER = 0, /* rates */
    BENCH_LOWER_BETTER       /* latencies, memory */
} bench_better_t;

typedef enum bench_verdict {
    BENCH_UNCLEAR = 0,
    BENCH_ABOVE, /* the whole interval >= the threshold */
    BENCH_BELOW  /* the whole interval < the threshold */
} bench_verdict_t;

typedef struct bench_summary {
    double median, min, max;
    double spread; /* the farther of min and max from the median, as a
                      fraction of the median */
} bench_summary_t;

typedef struct bench_paired {
    double ratio;    /* of the medians (a's over b's, or b's over a's) */
    double paired;   /* median of the per-round ratios */
    double lo, hi;   /* its sign-test interval */
    double coverage; /* the interval's probability */
    bench_verdict_t verdict;
} bench_paired_t;

/* Sorts v in place, ascending. */
void bench_sort(double *v, size_t n);
/* Median of v (left unchanged); NAN when n is 0. */
double bench_median(const double *v, size_t n);
/* Nearest-rank percentile p (0..100) of n sorted values; NAN when n is 0. */
double bench_percentile_sorted(const double *sorted, size_t n, double p);
double bench_min(const double *v, size_t n);
double bench_max(const double *v, size_t n);
bench_summary_t bench_summarize(const double *v, size_t n);
/* The ratio of the medians of a and b, oriented by `better` (>= 1: a is
 * better). NAN when a median is 0 or missing. */
double bench_ratio(const double *a, size_t na, const double *b, size_t nb,
                   bench_better_t better);
/* P(Binomial(n, 1/2) <= j). */
double bench_binom_cdf_half(int n, int j);
bench_verdict_t bench_verdict(double lo, double hi, double threshold);
/* a against b, round i of one against round i of the other (n rounds, at
 * most BENCH_STATS_MAX_N), and the verdict against threshold. A round with
 * a zero or non-finite value makes the interval NAN and the verdict
 * unclear. */
#define BENCH_STATS_MAX_N 1024
bench_paired_t bench_compare(const double *a, const double *b, int n,
                             bench_better_t better, double threshold);
/* The contestant (0..n-1) that runs i-th in round r: the first one rotates
 * from round to round and odd rounds go the other way, so none is always
 * first, last, or right after the same neighbour. */
int bench_order(int round, int n, int i);

#endif
