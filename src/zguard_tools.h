/*
 * zguard_tools.h - the library internals the zguard command and its
 * companions in tools/ may use, and the only src/ header tools/ or bench/
 * may include (bench/ needs none: zguard-bench links libzguard.so). Installed nowhere: these functions live in libzguard.a, which
 * the tools link, and are hidden in libzguard.so, so no application can
 * come to depend on them. Whatever an application could want belongs in
 * include/zguard.h instead.
 *
 * What the tools use, by area:
 *   zg_advisory.h   versions and the advisory database (doctor)
 *   zg_allowlist.h  an allowlist directory as the authenticator reads it
 *                   (zguard auth check)
 *   zg_keys.h       certificate files written and read (key, keygen, the
 *                   demo's attackers and zguard-zmtp-peer, which need a
 *                   secret key as bytes)
 *   zg_gate.h       pattern names and socket types (zguard gate)
 *   zg_metrics.h    the supervised gate's metrics socket, kept open by the
 *                   supervisor across forwarding processes (gate_super.c)
 *   zg_file.h       bounded reads of small text files
 *   zg_error.h      the thread's last error and printf-checked formats
 *   zg_policy.h     ZG_TYPE_COUNT (doctor walks every socket type)
 *   zg_value.h      the [auth] limits' keys (zguard gate's --policy check)
 */
#ifndef ZGUARD_TOOLS_H
#define ZGUARD_TOOLS_H

#include "zguard.h"
#include "zg_advisory.h"
#include "zg_allowlist.h"
#include "zg_error.h"
#include "zg_file.h"
#include "zg_gate.h"
#include "zg_keys.h"
#include "zg_metrics.h"
#include "zg_policy.h"
#include "zg_value.h"

#endif
