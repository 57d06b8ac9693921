/*
 * cli_clock.h - the one clock of the zguard command, its companions and
 * zguard-bench (tools/cli_clock.c): time spans and deadlines, in seconds.
 */
#ifndef ZG_CLI_CLOCK_H
#define ZG_CLI_CLOCK_H

/* CLOCK_MONOTONIC in seconds: never steps with the wall clock. */
double cli_now(void);

#endif
