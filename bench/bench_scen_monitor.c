/*
 * bench_scen_monitor.c - what zguard's socket monitoring costs: throughput
 * of zguard with monitors on (the default: a monitor per socket, feeding
 * peers, handshakes and alerts; with libzmq's draft API also a pipe-depth
 * sample every 256 messages) next to the same policy with `[metrics]
 * monitor = no`, and raw
 * libzmq for reference. Same method as the throughput scenarios
 * (bench_scen_throughput.c); target: on >= 0.98 of off.
 */
#include "bench.h"

void bench_scen_monitor(const bench_cfg_t *cfg, const bench_scenario_t *sc,
                        bench_table_t *t)
{
    static const bench_api_t apis[] = {BENCH_RAW, BENCH_ZG_NOMON, BENCH_ZG};
    bench_tput_table(t, cfg);
    bench_net_title(t, &sc->net, "monitoring on vs off, PUSH -> PULL");
    for (int i = 0; i < 3; i++)
        bench_table_row(t, bench_apis[apis[i]].id, bench_apis[apis[i]].name,
                        bench_apis[apis[i]].calls);
    bench_table_cmp(t, 2, 1, 0.98); /* the cost of monitoring */
    bench_table_cmp(t, 1, 0, 0.97); /* the wrappers alone */
    bench_tput_rounds(cfg, &sc->net, apis, t);
}
