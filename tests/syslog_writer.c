/*
 * syslog_writer.c - logs through zg_log_syslog, as an application that
 * hands it to zg_ctx_set_log would: openlog is the application's, each
 * zguard level becomes the syslog priority, and the line is sent as it is
 * (a '%' in it is text, never a format). test_syslog.py reads what
 * arrives at /dev/log.
 */
#include <syslog.h>
#include <zguard.h>

int main(void)
{
    openlog("zguard-test", LOG_PID, LOG_DAEMON);
    zg_log_syslog(NULL, ZG_LOG_ERROR, "error line");
    zg_log_syslog(NULL, ZG_LOG_WARNING, "warning line");
    zg_log_syslog(NULL, ZG_LOG_NOTICE, "notice line");
    zg_log_syslog(NULL, ZG_LOG_INFO, "info line");
    zg_log_syslog(NULL, ZG_LOG_DEBUG, "debug line");
    zg_log_syslog(NULL, ZG_LOG_WARNING, "100% literal %s %n %x");
    closelog();
    return 0;
}
