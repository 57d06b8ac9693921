/*
 * cli_clock.c - monotonic seconds for the programs in tools/ and bench/
 * (libzguard keeps its own nanosecond clock, zg_now_ns, internal to it).
 */
#include "cli_clock.h"

#include <time.h>

double cli_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}
