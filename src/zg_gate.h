/*
 * zg_gate.h - gate.c: the gate's patterns, by name and by socket types.
 */
#ifndef ZG_GATE_H
#define ZG_GATE_H

#include "zguard.h"

/* -1 for an unknown name. */
int zg_gate_pattern_from_name(const char *name);
/* The libzmq socket types of a pattern's frontend and backend. */
void zg_gate_types(zg_gate_pattern_t pattern, int *frontend, int *backend);

#endif
