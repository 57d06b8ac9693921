/*
 * zg_alert.h - alert.c: the policy's alert thresholds (mute, queue fill, timeouts,
 * refused handshakes, no peers), evaluated on the monitor thread.
 */
#ifndef ZG_ALERT_H
#define ZG_ALERT_H

#include "zguard.h"

#include <stdint.h>

typedef struct zg_sock zg_sock_t; /* zg_sock.h */

typedef struct zg_alerts zg_alerts_t;
zg_alerts_t *zg_alerts_new(int64_t now_ms);
void zg_alerts_destroy(zg_alerts_t **alerts);
/* Called every tick with the time in ms; raises and clears alerts. */
void zg_alerts_check(zg_alerts_t *alerts, zg_sock_t *sock, int64_t now_ms);

#endif
