/*
 * cmd_stats.c - `zguard stats URL`: a process's sockets at a glance, from
 * its metrics endpoint, once or refreshed (--watch), like top(1).
 *
 * It reads the Prometheus text the endpoint serves (the same names a
 * Prometheus server scrapes), so what it shows is what is monitored.
 */
#include "cli.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define SOCKETS_MAX 256
#define LABEL_MAX 96

static const char usage[] =
    "usage: zguard stats URL [--watch] [--interval SECONDS] [--count N]\n"
    "\n"
    "Shows the sockets of a process that serves zguard metrics ([metrics]\n"
    "listen in its policy, or zg_ctx_metrics_listen), one line each:\n"
    "\n"
    "  PEERS     connections whose handshake succeeded\n"
    "  SENT RECV messages (with --watch: per second)\n"
    "  MUTE      share of the alert window the socket spent mute (HWM reached\n"
    "            or no peer)\n"
    "  HWM-HITS  sends that found the socket mute\n"
    "  TIMEOUTS  send/receive timeouts\n"
    "  REFUSED   failed handshakes (auth, wrong key, plaintext, malformed)\n"
    "  QUEUE     fullest peer pipe out/in (exact mode: libzmq draft API)\n"
    "  ALERTS    raised alerts\n"
    "\n"
    "URL is http://HOST:PORT (the /metrics path is added) or HOST:PORT.\n"
    "--watch refreshes every --interval seconds (default 2) until interrupted\n"
    "or --count refreshes. Exit 0, or 2 if the endpoint cannot be read.\n";

typedef struct row {
    char socket[LABEL_MAX], type[16];
    double sent, recv, hwm, timeouts, refused, peers, mute;
    double queue_out, queue_in; /* -1: not reported */
    char alerts[128];
} row_t;

typedef struct snapshot {
    row_t rows[SOCKETS_MAX];
    int n;
    double allowed, denied;
    bool auth;
} snapshot_t;

/* ---- parsing the exposition ------------------------------------------------- */

/* The value of label `name` in "{a=\"x\",b=\"y\"}", or "". */
static void label(const char *labels, const char *name, char *out, size_t cap)
{
    char key[40];
    snprintf(key, sizeof key, "%s=\"", name);
    const char *p = labels;
    out[0] = '\0';
    while ((p = strstr(p, key))) {
        if (p == labels || p[-1] == ',' || p[-1] == '{')
            break;
        p++;
    }
    if (!p)
        return;
    p += strlen(key);
    size_t n = 0;
    for (; *p && *p != '"' && n + 1 < cap; p++)
        out[n++] = *p == '\\' && p[1] ? *++p : *p;
    out[n] = '\0';
}

static row_t *row_of(snapshot_t *s, const char *labels)
{
    char name[LABEL_MAX];
    label(labels, "socket", name, sizeof name);
    if (!name[0])
        return NULL;
    for (int i = 0; i < s->n; i++)
        if (strcmp(s->rows[i].socket, name) == 0)
            return &s->rows[i];
    if (s->n == SOCKETS_MAX)
        return NULL;
    row_t *r = &s->rows[s->n++];
    memset(r, 0, sizeof *r);
    snprintf(r->socket, sizeof r->socket, "%s", name);
    label(labels, "type", r->type, sizeof r->type);
    r->queue_out = r->queue_in = -1;
    return r;
}

static void add_alert(row_t *r, const char *labels)
{
    char a[40];
    label(labels, "alert", a, sizeof a);
    size_t n = strlen(r->alerts);
    snprintf(r->alerts + n, sizeof r->alerts - n, "%s%s", n ? "," : "", a);
}

static void sample(snapshot_t *s, const char *name, const char *labels,
                   double v)
{
    char dir[8];
    if (strcmp(name, "zguard_auth_decisions_total") == 0) {
        label(labels, "result", dir, sizeof dir);
        *(strcmp(dir, "allow") == 0 ? &s->allowed : &s->denied) += v;
        s->auth = true;
        return;
    }
    row_t *r = row_of(s, labels);
    if (!r)
        return;
    label(labels, "direction", dir, sizeof dir);
    if (strcmp(name, "zguard_messages_sent_total") == 0)
        r->sent = v;
    else if (strcmp(name, "zguard_messages_received_total") == 0)
        r->recv = v;
    else if (strcmp(name, "zguard_hwm_reached_total") == 0)
        r->hwm = v;
    else if (strcmp(name, "zguard_timeouts_total") == 0)
        r->timeouts += v;
    else if (strcmp(name, "zguard_handshake_failures_total") == 0)
        r->refused += v;
    else if (strcmp(name, "zguard_peers") == 0)
        r->peers = v;
    else if (strcmp(name, "zguard_mute_ratio") == 0)
        r->mute = v;
    else if (strcmp(name, "zguard_queue_depth") == 0)
        *(strcmp(dir, "out") == 0 ? &r->queue_out : &r->queue_in) = v;
    else if (strcmp(name, "zguard_alert_active") == 0 && v > 0)
        add_alert(r, labels);
}

static void parse(char *text, snapshot_t *s)
{
    memset(s, 0, sizeof *s);
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        if (line[0] == '#')
            continue;
        char *brace = strchr(line, '{'), *space = strrchr(line, ' ');
        if (!space)
            continue;
        *space = '\0';
        double v = strtod(space + 1, NULL);
        const char *labels = "";
        if (brace) {
            *brace = '\0';
            labels = brace + 1;
        }
        sample(s, line, labels, v);
    }
}

/* ---- showing ---------------------------------------------------------------- */

static const row_t *previous(const snapshot_t *prev, const row_t *r)
{
    for (int i = 0; prev && i < prev->n; i++)
        if (strcmp(prev->rows[i].socket, r->socket) == 0)
            return &prev->rows[i];
    return NULL;
}

static void show(const snapshot_t *s, const snapshot_t *prev, double secs)
{
    printf("%-20s %-7s %5s %10s %10s %5s %8s %8s %7s %11s  %s\n", "SOCKET",
           "TYPE", "PEERS", prev ? "SENT/s" : "SENT", prev ? "RECV/s" : "RECV",
           "MUTE", "HWM-HITS", "TIMEOUTS", "REFUSED", "QUEUE", "ALERTS");
    for (int i = 0; i < s->n; i++) {
        const row_t *r = &s->rows[i], *p = previous(prev, r);
        double sent = p ? (r->sent - p->sent) / secs : r->sent,
               recv = p ? (r->recv - p->recv) / secs : r->recv;
        char queue[24] = "-";
        if (r->queue_out >= 0)
            snprintf(queue, sizeof queue, "%.0f/%.0f", r->queue_out,
                     r->queue_in);
        printf("%-20.20s %-7s %5.0f %10.0f %10.0f %4.0f%% %8.0f %8.0f %7.0f "
               "%11s  %s\n",
               r->socket, r->type, r->peers, sent, recv, r->mute * 100, r->hwm,
               r->timeouts, r->refused, queue, r->alerts[0] ? r->alerts : "-");
    }
    if (s->auth)
        printf("authenticator: %.0f allowed, %.0f denied\n", s->allowed,
               s->denied);
}

static int read_snapshot(const char *url, snapshot_t *s)
{
    char err[256];
    char *text = cli_http_get(url, "/metrics", err, sizeof err);
    if (!text) {
        fprintf(stderr, "zguard stats: %s\n", err);
        return -1;
    }
    parse(text, s);
    free(text);
    return 0;
}

int cmd_stats(int argc, char **argv)
{
    static const cli_opt_t opts[] = {{"watch", 'w', NULL, 'w'},
                                     {"interval", 'i', "SECONDS", 'i'},
                                     {"count", 'c', "N", 'c'},
                                     {NULL, 0, NULL, 0}};
    const char *cmd = "zguard stats";
    if (cli_wants_help(argc, argv)) {
        fputs(usage, stdout);
        return EXIT_OK;
    }
    cli_opts_t p = {.cmd = cmd, .table = opts, .argc = argc, .argv = argv};
    int watch = 0, count = 0;
    double interval = 2;
    for (int c; (c = cli_opt_next(&p)) != CLI_OPT_END;) {
        if (c == 'w')
            watch = 1;
        else if (c == 'i' && (interval = atof(p.value)) > 0)
            ;
        else if (c == 'c' && (count = atoi(p.value)) > 0)
            watch = 1;
        else if (c == CLI_OPT_ERROR)
            return EXIT_FAIL;
        else
            return cli_usage_error(cmd, "--%s wants a number above 0, not '%s'",
                                   p.opt->name, p.value);
    }
    if (p.nargs != 1)
        return cli_usage_error(cmd, "give the URL of a metrics endpoint");
    const char *url = cli_opt_args(&p)[0];
    static snapshot_t snaps[2];
    if (read_snapshot(url, &snaps[0]) != 0)
        return EXIT_FAIL;
    if (!watch) {
        show(&snaps[0], NULL, 0);
        return EXIT_OK;
    }
    bool tty = isatty(STDOUT_FILENO);
    for (int i = 1; !count || i <= count; i++) {
        struct timespec pause = {(time_t)interval,
                                 (long)((interval - (double)(time_t)interval) *
                                        1e9)};
        nanosleep(&pause, NULL);
        snapshot_t *now = &snaps[i % 2], *before = &snaps[(i + 1) % 2];
        if (read_snapshot(url, now) != 0)
            return EXIT_FAIL;
        printf("%s", tty ? "\033[H\033[2J" : i > 1 ? "\n" : "");
        show(now, before, interval);
        fflush(stdout);
    }
    return EXIT_OK;
}
