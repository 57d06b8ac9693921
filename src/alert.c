/*
 * alert.c - the policy's alert thresholds, checked by the monitor thread.
 *
 * Five alerts per socket, each off when its threshold is 0:
 *   hwm_mute       the share of the window the socket spent mute (sends
 *                  that found the HWM reached, or no peer) >= alert_mute
 *   hwm_fill       the fullest peer pipe >= alert_hwm of its HWM for the
 *                  whole window (exact mode: libzmq's draft API only)
 *   timeouts       send + receive timeouts in the last minute > N
 *   auth_failures  handshakes refused (auth, wrong key, plaintext) in the
 *                  last minute > N
 *   no_peers       the last peer went (alert_no_peers = yes)
 * An alert fires once, stays active while its condition holds, and clears
 * with hysteresis (below half its threshold) so it does not flap. Checks
 * run every 250 ms, so an alert fires well within 2 s of its condition
 * having held for its window. Raising and clearing go to the log (one
 * structured line), the application's callback and the metrics.
 *
 * History is a ring of cumulative counter samples, 32 per window, so any
 * window from 1 s to 1 h costs the same few hundred bytes per socket.
 */
#include "zg_alert.h"
#include "zg_ctx.h"
#include "zg_sock.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdatomic.h>
#include <stdbool.h>

#define SAMPLES 33 /* 32 intervals */
#define MINUTE_MS 60000

typedef struct sample {
    int64_t t;
    uint64_t blocked_ns, timeouts, failures;
} sample_t;

typedef struct ring {
    sample_t s[SAMPLES];
    int head, count;
} ring_t;

struct zg_alerts {
    ring_t window; /* spans alert_window */
    ring_t minute; /* spans a minute */
    int64_t fill_since; /* when the queues got too full; 0: they are not */
    bool had_peers;
};

const char *zg_alert_kind_name(zg_alert_kind_t kind)
{
    static const char *const names[] = {"hwm_mute", "hwm_fill", "timeouts",
                                        "auth_failures", "no_peers"};
    return (unsigned)kind < ZG_ALERTS ? names[kind] : "?";
}

/* History starts at zero when the socket is watched: what happens before
 * the first check (often the first quarter second) still counts. */
zg_alerts_t *zg_alerts_new(int64_t now_ms)
{
    zg_alerts_t *a = calloc(1, sizeof *a);
    if (a) {
        a->window.s[0] = a->minute.s[0] = (sample_t){now_ms, 0, 0, 0};
        a->window.head = a->minute.head = 1;
        a->window.count = a->minute.count = 1;
    }
    return a;
}

void zg_alerts_destroy(zg_alerts_t **alerts)
{
    if (alerts) {
        free(*alerts);
        *alerts = NULL;
    }
}

static sample_t sample_now(const zg_sock_t *s, int64_t now)
{
    sample_t x = {now, 0, 0, 0};
    x.blocked_ns = atomic_load(&s->stats.send_blocked_ns);
    x.timeouts = atomic_load(&s->stats.send_timeouts) +
                 atomic_load(&s->stats.recv_timeouts);
    const zg_monstats_t *m = &s->mon;
    int n = atomic_load_explicit(&m->nendpoints, memory_order_acquire);
    for (int i = 0; i <= ZG_ENDPOINTS_MAX; i++) {
        if (i >= n && i != ZG_ENDPOINTS_MAX)
            continue;
        const zg_endpoint_stats_t *e = &m->endpoints[i];
        x.failures += atomic_load(&e->failed[ZG_FAIL_AUTH]) +
                      atomic_load(&e->failed[ZG_FAIL_CRYPTO]) +
                      atomic_load(&e->failed[ZG_FAIL_MECHANISM]);
    }
    return x;
}

/* Keeps a sample every span/32 ms; returns the oldest kept, within span. */
static const sample_t *remember(ring_t *r, const sample_t *x, int64_t span)
{
    const sample_t *last =
        r->count ? &r->s[(r->head + SAMPLES - 1) % SAMPLES] : NULL;
    if (!last || x->t - last->t >= span / (SAMPLES - 1)) {
        r->s[r->head] = *x;
        r->head = (r->head + 1) % SAMPLES;
        r->count += r->count < SAMPLES;
    }
    for (int i = r->count; i > 0; i--) { /* oldest first */
        const sample_t *o = &r->s[(r->head + SAMPLES - i) % SAMPLES];
        if (x->t - o->t <= span + span / (SAMPLES - 1))
            return o;
    }
    return x;
}

/* One structured line: "mute=0.73 threshold=0.50 (what it measures)". */
static void set_alert(zg_sock_t *s, zg_alert_kind_t kind, bool on,
                      const char *measure, double value, double threshold,
                      const char *what)
{
    uint32_t bit = 1u << kind;
    uint32_t was = atomic_load(&s->mon.alerts) & bit;
    if ((bool)was == on)
        return;
    if (on)
        atomic_fetch_or(&s->mon.alerts, bit);
    else
        atomic_fetch_and(&s->mon.alerts, ~bit);
    char label[ZG_NAME_MAX + 16];
    if (s->name[0])
        snprintf(label, sizeof label, "%s", s->name);
    else
        snprintf(label, sizeof label, "unnamed-%u", s->id);
    zg_alert(s->ctx, zg_alert_kind_name(kind), label, on,
             "%s=%.2f threshold=%.2f (%s)", measure, value, threshold, what);
}

/* Raise at or above the threshold, clear below half of it. */
static void hysteresis(zg_sock_t *s, zg_alert_kind_t kind, double value,
                       double threshold, bool ready, const char *measure,
                       const char *what)
{
    bool active = atomic_load(&s->mon.alerts) & (1u << kind);
    if (threshold <= 0)
        set_alert(s, kind, false, measure, value, threshold, what);
    else if (!active && ready && value >= threshold)
        set_alert(s, kind, true, measure, value, threshold, what);
    else if (active && value < threshold / 2)
        set_alert(s, kind, false, measure, value, threshold, what);
}

static void check_mute(zg_alerts_t *a, zg_sock_t *s, const sample_t *x,
                       int64_t window)
{
    const sample_t *o = remember(&a->window, x, window);
    int64_t span = x->t - o->t;
    double ratio = span > 0 ? (double)(x->blocked_ns - o->blocked_ns) /
                                  ((double)span * 1e6)
                            : 0;
    ratio = ratio > 1 ? 1 : ratio;
    atomic_store(&s->mon.mute_permille, (uint64_t)(ratio * 1000));
    double threshold = (double)s->policy.value[ZG_FIELD_ALERT_MUTE] / 100;
    hysteresis(s, ZG_ALERT_MUTE, ratio, threshold, span >= window * 9 / 10,
               "mute", "share of the window spent mute");
}

static double fill(const zg_sock_t *s)
{
    int64_t out = atomic_load(&s->mon.queue_out),
            in = atomic_load(&s->mon.queue_in);
    int64_t sndhwm = s->policy.value[ZG_FIELD_SNDHWM],
            rcvhwm = s->policy.value[ZG_FIELD_RCVHWM];
    double f = 0;
    if (out >= 0 && sndhwm > 0)
        f = (double)out / (double)sndhwm;
    if (in >= 0 && rcvhwm > 0 && (double)in / (double)rcvhwm > f)
        f = (double)in / (double)rcvhwm;
    return f;
}

static void check_fill(zg_alerts_t *a, zg_sock_t *s, int64_t now,
                       int64_t window)
{
    double f = fill(s), threshold =
                            (double)s->policy.value[ZG_FIELD_ALERT_HWM] / 100;
    if (threshold > 0 && f >= threshold && !a->fill_since)
        a->fill_since = now;
    else if (f < threshold)
        a->fill_since = 0;
    hysteresis(s, ZG_ALERT_HWM, f, threshold,
               a->fill_since && now - a->fill_since >= window, "fill",
               "fullest peer queue over its HWM, for the whole window");
}

/* "More than N a minute": N + 0.5 as a threshold; N = 0 turns it off. */
static double more_than(int64_t n)
{
    return n > 0 ? (double)n + 0.5 : 0;
}

static void check_rates(zg_alerts_t *a, zg_sock_t *s, const sample_t *x)
{
    const sample_t *o = remember(&a->minute, x, MINUTE_MS);
    hysteresis(s, ZG_ALERT_TIMEOUTS, (double)(x->timeouts - o->timeouts),
               more_than(s->policy.value[ZG_FIELD_ALERT_TIMEOUTS]), true,
               "timeouts", "send and receive timeouts in the last minute");
    hysteresis(s, ZG_ALERT_AUTH, (double)(x->failures - o->failures),
               more_than(s->policy.value[ZG_FIELD_ALERT_AUTH_FAILURES]), true,
               "failures", "refused handshakes in the last minute");
}

static uint64_t handshakes_ok(const zg_sock_t *s)
{
    uint64_t n = 0;
    for (int i = 0; i <= ZG_ENDPOINTS_MAX; i++)
        n += atomic_load(&s->mon.endpoints[i].handshakes_ok);
    return n;
}

static void check_peers(zg_alerts_t *a, zg_sock_t *s)
{
    int64_t peers = atomic_load(&s->mon.peers);
    /* a peer that came and went between two checks still counts */
    a->had_peers |= peers > 0 || handshakes_ok(s) > 0;
    bool on = s->policy.value[ZG_FIELD_ALERT_NO_PEERS] && a->had_peers &&
              peers == 0;
    set_alert(s, ZG_ALERT_NO_PEERS, on, "peers", (double)peers, 0,
              "the socket had peers and has none now");
}

void zg_alerts_check(zg_alerts_t *a, zg_sock_t *s, int64_t now)
{
    sample_t x = sample_now(s, now);
    int64_t window = s->policy.value[ZG_FIELD_ALERT_WINDOW];
    check_mute(a, s, &x, window);
    check_fill(a, s, now, window);
    check_rates(a, s, &x);
    check_peers(a, s);
}
