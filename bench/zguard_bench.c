/*
 * zguard_bench.c - `zguard bench` (the zguard-bench program): zguard next
 * to raw libzmq and CZMQ, every scenario with its contestants interleaved
 * in one run, medians and paired ratios per scenario, as tables or JSON.
 *
 * This file holds main, the options and the scenario table; each family of
 * scenarios is a bench_scen_*.c, the output bench_report.c. The zguard
 * command finds this program beside itself or in libexec and runs it
 * (tools/cmd_bench.c), so that the command itself does not link CZMQ.
 */
#include "bench.h"
#include "cli_opt.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define MAX_SCENARIOS 64
#define DEFAULT_ROUNDS 7
#define QUICK_ROUNDS 3

static const char usage[] =
    "usage: zguard bench [--quick] [--json] [--rounds N] [--only LIST]\n"
    "                    [--messages M] [--verbose] [--list]\n"
    "       zguard bench hwm [...]    the HWM advisor (zguard bench hwm --help)\n"
    "       zguard bench gate [...]   zguard gate vs a bare zmq_proxy hop vs\n"
    "                                 direct, over CURVE (--help)\n"
    "       zguard bench instr [...]  instructions per message, zguard vs raw\n"
    "                                 libzmq, counted by callgrind (--help)\n"
    "\n"
    "Compares zguard with raw libzmq and with CZMQ on this machine, in one\n"
    "run. Each scenario runs its contestants interleaved, A B C, then B A C,\n"
    "...: the first rotates and the order flips from round to round, each\n"
    "round on fresh sockets, so whatever else the machine does falls on all\n"
    "of them alike. All contestants of a scenario have identical socket\n"
    "options: zguard's come from a policy, raw libzmq and CZMQ sockets get\n"
    "the same values (zmq_setsockopt, zsock_set_*), and every socket is read\n"
    "back and compared before it is used.\n"
    "\n"
    "scenarios ('zguard bench --list' names each one):\n"
    "  throughput-T-S-SIZE  PUSH -> PULL messages/s, MB/s, and the CPU time\n"
    "                 sender and receiver spent per message. T is tcp\n"
    "                 (loopback), ipc or inproc; S null or curve (inproc has\n"
    "                 no security and no S); SIZE 64B, 1KiB or 64KiB.\n"
    "                 Contestants: raw libzmq (zmq_send / zmq_recv), zguard\n"
    "                 (zg_send / zg_recv), CZMQ (zframe_send / zframe_recv),\n"
    "                 and the zero-copy zmq_msg_t calls (CZMQ's frames are\n"
    "                 zmq_msg_t too): raw msg (zmq_msg_send / zmq_msg_recv)\n"
    "                 and zguard msg (zg_msg_send / zg_msg_recv), each\n"
    "                 message built as zframe_new does it: zmq_msg_init_size\n"
    "                 + memcpy.\n"
    "  latency-T-S-SIZE  REQ -> REP round trips, each one timed: p50, p99 and\n"
    "                 max in microseconds (percentiles by nearest rank). The\n"
    "                 same five contestants.\n"
    "  monitor-tcp-SIZE  throughput of zguard with its socket monitors (the\n"
    "                 default) and with [metrics] monitor = no.\n"
    "  handshake      CURVE handshakes per second a server takes (connect,\n"
    "                 handshake, ZAP, one round trip, close): no\n"
    "                 authenticator, zguard's with 1, 1,000 and 10,000\n"
    "                 allowed keys, CZMQ's zauth with the same directories.\n"
    "  memory         peak RSS of a receiver process that does not read\n"
    "                 while 64 KiB messages flood it: the policy's HWM vs 0.\n"
    "  preload        an unmodified libzmq program (zguard-bench-app, 64 B\n"
    "                 PUSH -> PULL) as it is and under `zguard run`, inproc\n"
    "                 and tcp, NULL mechanism: what enforce mode costs.\n"
    "\n"
    "How to read the results:\n"
    "  Each figure is the median of the rounds; 'spread' is how far the\n"
    "  farthest round lies from it. An 'A / B' line compares two contestants:\n"
    "  the ratio of their medians, turned so that above 1 means A is better\n"
    "  (rates A/B; latencies and memory B/A). 'paired' is an interval for the\n"
    "  median of the per-round ratios (each round ran both a moment apart),\n"
    "  from a sign test, which assumes nothing about the noise; its coverage\n"
    "  is printed (98% with 7 rounds, 75% with 3). The verdict: 'meets' or\n"
    "  'below' when the whole interval is at or above, or below, the target;\n"
    "  'faster' / 'slower' the same against 1 where there is no target;\n"
    "  'unclear' when the target lies inside the interval: this machine, in\n"
    "  this run, cannot tell (more --rounds narrow it). Targets: zguard / raw\n"
    "  libzmq and zguard msg / raw msg >= 0.97 (64 B and 1 KiB, NULL and\n"
    "  CURVE); zguard / CZMQ and zguard msg / CZMQ >= 1; monitoring on / off\n"
    "  >= 0.98; zguard with 10,000 keys / no ZAP >= 0.9.\n"
    "\n"
    "options:\n"
    "  --quick        a reduced set with short rounds, under 2 minutes: a\n"
    "                 smoke run (CI), not a result\n"
    "  --json         the results as one JSON document on standard output\n"
    "  --rounds N     interleaved rounds per contestant, 1 to 31 (default 7,\n"
    "                 3 with --quick; the memory scenario runs at most 3)\n"
    "  --only LIST    these scenarios, comma-separated; a leading part that\n"
    "                 ends at a '-' selects a group: latency, throughput-tcp\n"
    "  --messages M   messages (throughput) or round trips (latency) per\n"
    "                 round, instead of what takes raw libzmq ~0.25 s: for\n"
    "                 profilers (bench/README.md)\n"
    "  --verbose      every round on standard error\n"
    "  --list         the scenarios; '*' marks the --quick set\n"
    "\n"
    "Exit 0 after a complete run; 2 on a usage error, or when anything failed\n"
    "(a send or receive, an option that differs, zguard's counters).\n";

typedef struct bench_opts {
    bool quick, json, verbose, list;
    int rounds;    /* 0: not given */
    long messages; /* 0: not given */
    const char *only;
} bench_opts_t;

typedef struct scen_list {
    bench_scenario_t s[MAX_SCENARIOS];
    bool selected[MAX_SCENARIOS];
    int n;
} scen_list_t;

/* ---- the scenario table -------------------------------------------------- */

static void add(scen_list_t *l, const char *id, const char *summary,
                bench_run_fn *run, bench_net_t net)
{
    if (l->n >= MAX_SCENARIOS)
        bench_die("more than %d scenarios", MAX_SCENARIOS);
    bench_scenario_t *s = &l->s[l->n++];
    snprintf(s->id, sizeof s->id, "%s", id);
    snprintf(s->summary, sizeof s->summary, "%s", summary);
    s->run = run;
    s->net = net;
}

/* One scenario per transport, security and size: "latency-tcp-curve-1KiB",
 * "latency-inproc-64B" (inproc has no security mechanism). */
static void add_net_family(scen_list_t *l, const char *family,
                           bench_run_fn *run, const char *what)
{
    static const bench_net_t nets[] = {{BENCH_TCP, false, 0},
                                       {BENCH_TCP, true, 0},
                                       {BENCH_IPC, false, 0},
                                       {BENCH_IPC, true, 0},
                                       {BENCH_INPROC, false, 0}};
    static const size_t sizes[] = {64, 1024, 64 * 1024};
    for (size_t i = 0; i < sizeof nets / sizeof nets[0]; i++)
        for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
            bench_net_t net = nets[i];
            net.size = sizes[k];
            char id[48], size[32], summary[112];
            const char *t = bench_transport_name(net.transport);
            const char *sec = net.transport == BENCH_INPROC ? ""
                              : net.curve                   ? "-curve"
                                                            : "-null";
            bench_size_label(net.size, size, sizeof size);
            snprintf(id, sizeof id, "%s-%s%s-%s", family, t, sec, size);
            snprintf(summary, sizeof summary, "%s, %s%s, %s", what, t,
                     net.curve ? " CURVE" : "", size);
            add(l, id, summary, run, net);
        }
}

/* The --quick set: one of each family, a few transports and sizes. */
static const char *const quick_set[] = {
    "throughput-tcp-null-64B",
    "throughput-tcp-curve-1KiB",
    "throughput-inproc-64B",
    "latency-tcp-null-64B",
    "latency-ipc-curve-1KiB",
    "monitor-tcp-64B",
    "handshake",
    "memory",
};

static void mark_quick(scen_list_t *l)
{
    for (int i = 0; i < l->n; i++)
        for (size_t q = 0; q < sizeof quick_set / sizeof quick_set[0]; q++)
            if (strcmp(l->s[i].id, quick_set[q]) == 0)
                l->s[i].quick = true;
}

static void build_scenarios(scen_list_t *l)
{
    add_net_family(l, "throughput", bench_scen_throughput, "PUSH/PULL msg/s");
    add_net_family(l, "latency", bench_scen_latency,
                   "REQ/REP round trip p50/p99/max");
    bench_net_t tcp64 = {BENCH_TCP, false, 64},
                tcp1k = {BENCH_TCP, false, 1024};
    add(l, "monitor-tcp-64B",
        "zguard monitor on vs off, PUSH/PULL msg/s, tcp, 64B",
        bench_scen_monitor, tcp64);
    add(l, "monitor-tcp-1KiB",
        "zguard monitor on vs off, PUSH/PULL msg/s, tcp, 1KiB",
        bench_scen_monitor, tcp1k);
    add(l, "handshake",
        "CURVE handshakes/s: no ZAP, zguard, zauth; 1/1000/10000 keys",
        bench_scen_handshake, (bench_net_t){0});
    add(l, "memory", "peak RSS of a flooded receiver: the policy's HWM vs 0",
        bench_scen_memory, (bench_net_t){0});
    add(l, "preload", "an unmodified program with and without zguard run",
        bench_scen_preload, (bench_net_t){0});
    /* A new family is a bench_run_fn in a bench_scen_*.c of its own, listed
     * in bench/CMakeLists.txt, and its rows here: the gate (zguard gate vs a
     * bare zmq_proxy vs direct, bench/bench_gate.c today) joins this way
     * as add(l, "gate-...", ..., bench_scen_gate, ...). */
    mark_quick(l);
}

/* ---- selection ----------------------------------------------------------- */

/* "latency" and "latency-tcp" select groups; a whole id selects one. */
static bool matches(const char *item, size_t len, const char *id)
{
    return strncmp(id, item, len) == 0 && (id[len] == '\0' || id[len] == '-');
}

static int select_only(scen_list_t *l, const char *only)
{
    for (const char *p = only; *p;) {
        size_t len = strcspn(p, ",");
        bool any = false;
        for (int i = 0; len && i < l->n; i++)
            if (matches(p, len, l->s[i].id))
                any = l->selected[i] = true;
        if (!any) {
            fprintf(stderr, "%s: --only: no scenario '%.*s' (see --list)\n",
                    bench_prog(), (int)len, p);
            return -1;
        }
        p += len + (p[len] == ',');
    }
    return 0;
}

static int select_scenarios(scen_list_t *l, const bench_opts_t *o)
{
    if (o->only)
        return select_only(l, o->only);
    for (int i = 0; i < l->n; i++)
        l->selected[i] = !o->quick || l->s[i].quick;
    return 0;
}

static void print_list(const scen_list_t *l)
{
    for (int i = 0; i < l->n; i++)
        printf("%-28s %s %s\n", l->s[i].id, l->s[i].quick ? "*" : " ",
               l->s[i].summary);
}

/* ---- options ------------------------------------------------------------- */

static int parse_rounds(const char *text, int *out)
{
    char *end;
    errno = 0;
    long v = strtol(text, &end, 10);
    if (errno || *end || end == text || v < 1 || v > BENCH_MAX_ROUNDS)
        return cli_usage_error(bench_prog(),
                               "--rounds needs a number from 1 to %d, not '%s'",
                               BENCH_MAX_ROUNDS, text);
    *out = (int)v;
    return 0;
}

static int parse_messages(const char *text, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(text, &end, 10);
    if (errno || *end || end == text || v < 2 || v > 1000000)
        return cli_usage_error(bench_prog(),
                               "--messages needs a number from 2 to 1000000, "
                               "not '%s'",
                               text);
    *out = v;
    return 0;
}

/* -1: go on; otherwise the exit status (0 after --help). */
static int parse_args(int argc, char **argv, bench_opts_t *o)
{
    static const cli_opt_t opts[] = {
        {"quick", 0, NULL, 'q'},       {"json", 0, NULL, 'j'},
        {"verbose", 'v', NULL, 'v'},   {"list", 0, NULL, 'l'},
        {"rounds", 0, "N", 'r'},       {"messages", 0, "M", 'm'},
        {"only", 0, "LIST", 'o'},      {NULL, 0, NULL, 0}};
    if (cli_wants_help(argc, argv)) {
        fputs(usage, stdout);
        return 0;
    }
    cli_opts_t p = {.cmd = bench_prog(), .table = opts, .argc = argc,
                    .argv = argv};
    for (int c; (c = cli_opt_next(&p)) != CLI_OPT_END;) {
        int rc = 0;
        switch (c) {
        case 'q': o->quick = true; break;
        case 'j': o->json = true; break;
        case 'v': o->verbose = true; break;
        case 'l': o->list = true; break;
        case 'r': rc = parse_rounds(p.value, &o->rounds); break;
        case 'm': rc = parse_messages(p.value, &o->messages); break;
        case 'o':
            if (!*p.value || *p.value == '-')
                rc = cli_usage_error(bench_prog(),
                                     "--only needs a list of scenarios");
            o->only = p.value;
            break;
        default: rc = CLI_EXIT_USAGE;
        }
        if (rc)
            return rc;
    }
    if (p.nargs)
        return cli_usage_error(bench_prog(), "unexpected argument '%s'",
                               cli_opt_args(&p)[0]);
    return -1;
}

/* ---- the run ------------------------------------------------------------- */

static void cleanup(void *arg)
{
    bench_env_remove_dir(arg);
}

static void run_selected(const scen_list_t *l, const bench_cfg_t *cfg)
{
    bench_report_t rep;
    bench_report_begin(&rep, cfg);
    for (int i = 0; i < l->n; i++) {
        if (!l->selected[i])
            continue;
        bench_table_t *t = calloc(1, sizeof *t);
        if (!t)
            bench_die("out of memory");
        snprintf(t->id, sizeof t->id, "%s", l->s[i].id);
        if (cfg->verbose)
            fprintf(stderr, "%s: %s\n", bench_prog(), t->id);
        l->s[i].run(cfg, &l->s[i], t);
        bench_report_table(&rep, t);
        free(t);
    }
    bench_report_end(&rep);
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], BENCH_FLOOD_ROLE) == 0)
        return bench_memory_child(argv[2]);
    if (argc > 1 && strcmp(argv[1], BENCH_HWM_CHILD_ROLE) == 0)
        return bench_hwm_child(argc, argv);
    bench_set_prog(argv[0]);
    /* the two tools that are not a comparison of contestants */
    if (argc > 1 && strcmp(argv[1], "hwm") == 0)
        return bench_hwm_main(argc - 1, argv + 1);
    if (argc > 1 && strcmp(argv[1], "gate") == 0)
        return bench_gate_main(argc - 1, argv + 1);
    if (argc > 1 && strcmp(argv[1], "instr") == 0) {
#ifdef ZG_BENCH_INSTR
        return bench_instr_main(argc - 1, argv + 1);
#else
        fprintf(stderr,
                "%s instr: not built here: valgrind/callgrind.h was "
                "missing (apt-get install valgrind, then rebuild)\n",
                bench_prog());
        return 2;
#endif
    }
    bench_opts_t o = {0};
    int rc = parse_args(argc, argv, &o);
    if (rc >= 0)
        return rc;
    static scen_list_t list; /* large: not on the stack */
    build_scenarios(&list);
    if (o.list) {
        print_list(&list);
        return 0;
    }
    if (select_scenarios(&list, &o) != 0)
        return 2;
    zsys_handler_set(NULL); /* CZMQ would swallow Ctrl-C; keep the default */
    bench_cfg_t cfg = {
        .quick = o.quick,
        .json = o.json,
        .verbose = o.verbose,
        .rounds = o.rounds  ? o.rounds
                  : o.quick ? QUICK_ROUNDS
                            : DEFAULT_ROUNDS,
        .round_s = o.quick ? 0.05 : 0.25,
        .messages = o.messages,
    };
    cfg.env = bench_env_new();
    bench_on_die(cleanup, cfg.env);
    run_selected(&list, &cfg);
    bench_on_die(NULL, NULL);
    bench_env_destroy(&cfg.env);
    return 0;
}
