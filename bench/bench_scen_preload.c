/*
 * bench_scen_preload.c - what `zguard run` costs an unmodified program:
 * zguard-bench-app (bench/preload_app.c, plain libzmq, 64 B PUSH -> PULL in
 * one thread) run as it is and under `zguard run --policy P`, whose
 * preload hardens both its sockets (enforce mode: the policy's HWMs and
 * timeouts read back, every send and receive through zguard's paths,
 * counted), over inproc and tcp, NULL mechanism (the cost of CURVE is not
 * zguard's). Each contestant is a process of its own, started fresh every
 * round; the rate is what the program itself measured around its loop, so
 * process start-up and the preload's set-up are not in it.
 */
#include "bench.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

typedef struct pl_setup {
    bench_preload_t pl;
    const char *count;
} pl_setup_t;

/* Both sockets matched by their endpoints, so both are hardened. */
static const char preload_policy[] =
    "version = 1\n"
    "[defaults]\n"
    "security = none\n"
    "insecure = yes\n"
    "sndhwm = 10000\n"
    "rcvhwm = 10000\n"
    "rationale = benchmark: a plaintext program measured on this machine\n"
    "[socket.sink]\ntype = pull\nbind = inproc://*\n"
    "[socket.source]\ntype = push\nconnect = inproc://*\n"
    "[socket.tcp-sink]\ntype = pull\nbind = tcp://*\n"
    "[socket.tcp-source]\ntype = push\nconnect = tcp://*\n";

void bench_preload_find(bench_preload_t *pl, const bench_env_t *env)
{
    char self[4096];
    if (cli_self_exe(self, sizeof self) != 0)
        bench_die("cannot find this program's path");
    const char *dir = dirname(self);
    snprintf(pl->zguard, sizeof pl->zguard, "%s/zguard", dir);
    snprintf(pl->app, sizeof pl->app, "%s/zguard-bench-app", dir);
    snprintf(pl->preload, sizeof pl->preload, "%s/libzguard-preload.so", dir);
    if (access(pl->zguard, X_OK) != 0 || access(pl->app, X_OK) != 0 ||
        access(pl->preload, R_OK) != 0)
        bench_die("preload: needs zguard, zguard-bench-app and "
                  "libzguard-preload.so beside zguard-bench (a build tree)");
    snprintf(pl->policy, sizeof pl->policy, "%s/preload.policy", env->dir);
    FILE *f = fopen(pl->policy, "w");
    if (!f || fputs(preload_policy, f) < 0 || fclose(f) != 0)
        bench_die("%s: %s", pl->policy, strerror(errno));
}

/* One run: its printed rate. */
static double run_app(const pl_setup_t *s, bool preload, const char *ep)
{
    char *plain[] = {(char *)s->pl.app, (char *)ep, (char *)s->count,
                     BENCH_PRELOAD_SIZE, NULL};
    char *run[] = {(char *)s->pl.zguard, "run", "--policy",
                   (char *)s->pl.policy, "--", (char *)s->pl.app, (char *)ep,
                   (char *)s->count, BENCH_PRELOAD_SIZE, NULL};
    int out[2];
    if (pipe2(out, O_CLOEXEC) != 0)
        bench_die("pipe: %s", strerror(errno));
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, out[1], STDOUT_FILENO);
    pid_t pid;
    char **argv = preload ? run : plain;
    int rc = posix_spawn(&pid, argv[0], &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(out[1]);
    if (rc != 0)
        bench_die("cannot start %s: %s", argv[0], strerror(rc));
    char line[64] = "";
    FILE *f = fdopen(out[0], "r");
    if (!f || !fgets(line, sizeof line, f))
        line[0] = '\0';
    if (f)
        fclose(f);
    int status;
    if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
        WEXITSTATUS(status) != 0 || !line[0])
        bench_die("preload: %s %s did not run to its end (see its message "
                  "above)",
                  preload ? "zguard run -- zguard-bench-app" : "zguard-bench-app",
                  ep);
    return atof(line);
}

void bench_scen_preload(const bench_cfg_t *cfg, const bench_scenario_t *sc,
                        bench_table_t *t)
{
    (void)sc;
    pl_setup_t s = {.count = cfg->quick ? "100000" : "1000000"};
    bench_preload_find(&s.pl, cfg->env);
    static const char *const eps[] = {"inproc://bench-preload",
                                      "tcp://127.0.0.1:*"};
    static const char *const names[] = {"inproc", "tcp"};
    for (int e = 0; e < 2; e++)
        for (int p = 0; p < 2; p++) {
            char id[24], name[32], detail[96];
            snprintf(id, sizeof id, "%s-%s", p ? "run" : "raw", names[e]);
            snprintf(name, sizeof name, "%s %s", p ? "zguard run" : "raw",
                     names[e]);
            snprintf(detail, sizeof detail, "%s, %s, 64 B",
                     p ? "zguard run --policy P -- zguard-bench-app"
                       : "zguard-bench-app as it is",
                     names[e]);
            bench_table_row(t, id, name, detail);
        }
    bench_table_cmp(t, 1, 0, 0.97);
    bench_table_cmp(t, 3, 2, 0.97);
    snprintf(t->title, sizeof t->title,
             "an unmodified program with and without zguard run (enforce "
             "mode, NULL mechanism, 64 B)");
    t->rounds = cfg->rounds;
    t->better = BENCH_HIGHER_BETTER;
    t->better_word = "faster";
    t->worse_word = "slower";
    t->nmetrics = 1;
    t->metric[0] = (bench_metric_t){"msgs_per_s", "msg/s", -1,
                                    BENCH_AGG_MEDIAN};
    for (int r = 0; r < t->rounds; r++)
        for (int i = 0; i < 4; i++) {
            int k = bench_order(r, 4, i);
            t->row[k].v[0][r] = run_app(&s, k % 2 == 1, eps[k / 2]);
            if (cfg->verbose)
                fprintf(stderr, "  preload round %d %-18s %10.0f msg/s\n",
                        r + 1, t->row[k].name, t->row[k].v[0][r]);
        }
    snprintf(t->note, sizeof t->note,
             "%s messages per contestant and round, a fresh process each, "
             "rounds: %d",
             s.count, t->rounds);
    t->per_round = atof(s.count);
    t->per_round_of = "messages";
    snprintf(t->options, sizeof t->options,
             "SNDHWM = RCVHWM = 10000 (the program's own setting, the same in "
             "the policy); under zguard run both sockets are hardened from "
             "[socket.sink] / [socket.source] (tcp: [socket.tcp-*]), matched by "
             "their endpoints");
}
