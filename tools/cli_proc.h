/*
 * cli_proc.h - what the programs in tools/ and bench/ read from /proc
 * (tools/cli_proc.c): their own executable, a process's memory, its child.
 */
#ifndef ZG_CLI_PROC_H
#define ZG_CLI_PROC_H

#include <stddef.h>
#include <sys/types.h>

/* The path of this program's executable in buf: 0, or -1 (errno set). */
int cli_self_exe(char *buf, size_t cap);

/* Field `name` of /proc/PID/status in KiB ("VmRSS", "VmHWM"): its value,
 * or -1 when the process or the field is not there. */
long cli_proc_status_kib(pid_t pid, const char *name);

/* The first child of process pid (/proc/PID/task/PID/children): a
 * supervised gate's forwarding process. -1 when it has none. */
pid_t cli_proc_child(pid_t pid);

#endif
