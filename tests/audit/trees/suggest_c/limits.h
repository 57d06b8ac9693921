/* set_limits (limits.c): the REP's LINGER and MAXMSGSIZE. */
#ifndef SUGGEST_LIMITS_H
#define SUGGEST_LIMITS_H

void set_limits(void *sock);

#endif
