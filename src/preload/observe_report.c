/*
 * observe_report.c - the reports of `zguard run --observe`: JSON for
 * `zguard policy suggest`, Markdown for people, in the shape of the
 * security analysis (per mitigation: what is implemented, what is missing,
 * socket by socket).
 *
 * Called with observe.c's lock held: it only formats into memory.
 */
#include "observe.h"

#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include <unistd.h>

#define US_PER_MS 1000

#define OPT(name) {ZMQ_##name, "ZMQ_" #name}
static const struct {
    int option;
    const char *name;
} option_names[] = {
    OPT(AFFINITY), OPT(ROUTING_ID), OPT(SUBSCRIBE), OPT(UNSUBSCRIBE),
    OPT(RATE), OPT(SNDBUF), OPT(RCVBUF), OPT(LINGER), OPT(RECONNECT_IVL),
    OPT(BACKLOG), OPT(RECONNECT_IVL_MAX), OPT(MAXMSGSIZE), OPT(SNDHWM),
    OPT(RCVHWM), OPT(MULTICAST_HOPS), OPT(RCVTIMEO), OPT(SNDTIMEO), OPT(IPV6),
    OPT(IMMEDIATE), OPT(ROUTER_MANDATORY), OPT(TCP_KEEPALIVE),
    OPT(TCP_KEEPALIVE_CNT), OPT(TCP_KEEPALIVE_IDLE), OPT(TCP_KEEPALIVE_INTVL),
    OPT(XPUB_VERBOSE), OPT(ROUTER_RAW), OPT(PLAIN_SERVER),
    OPT(PLAIN_USERNAME), OPT(PLAIN_PASSWORD), OPT(CURVE_SERVER),
    OPT(CURVE_PUBLICKEY), OPT(CURVE_SECRETKEY), OPT(CURVE_SERVERKEY),
    OPT(PROBE_ROUTER), OPT(REQ_CORRELATE), OPT(REQ_RELAXED), OPT(CONFLATE),
    OPT(ZAP_DOMAIN), OPT(ROUTER_HANDOVER), OPT(TOS), OPT(HANDSHAKE_IVL),
    OPT(HEARTBEAT_IVL), OPT(HEARTBEAT_TTL), OPT(HEARTBEAT_TIMEOUT),
    OPT(CONNECT_TIMEOUT), OPT(TCP_MAXRT), OPT(INVERT_MATCHING),
    OPT(GSSAPI_SERVER),
};
#undef OPT

const char *zg_obs_option_name(int option)
{
    for (size_t i = 0; i < sizeof option_names / sizeof *option_names; i++)
        if (option_names[i].option == option)
            return option_names[i].name;
    return NULL;
}

static const char *mechanism_name(int m)
{
    switch (m) {
    case ZMQ_NULL: return "NULL";
    case ZMQ_PLAIN: return "PLAIN";
    case ZMQ_CURVE: return "CURVE";
    case ZMQ_GSSAPI: return "GSSAPI";
    default: return "unknown";
    }
}

static void json_str(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fprintf(f, "\\%c", c);
        else if (c < 0x20)
            fprintf(f, "\\u%04x", c);
        else
            fputc(c, f);
    }
    fputc('"', f);
}

/* This process' sockets in the order they were made. */
static size_t own_sockets(const obs_state_t *st, const obs_sock_t **out,
                          size_t cap)
{
    size_t n = 0;
    for (const obs_sock_t *o = st->socks; o; o = o->next)
        if (o->pid == getpid() && n < cap)
            out[n++] = o;
    for (size_t i = 0; i < n / 2; i++) {
        const obs_sock_t *t = out[i];
        out[i] = out[n - 1 - i];
        out[n - 1 - i] = t;
    }
    return n;
}

static void json_flow(FILE *f, const char *name, const obs_flow_t *fl)
{
    fprintf(f,
            "      \"%s\": {\"messages\": %" PRIu64 ", \"bytes\": %" PRIu64
            ", \"largest\": %" PRIu64 ", \"blocked_calls\": %" PRIu64
            ", \"longest_block_us\": %" PRIu64 "}",
            name, atomic_load(&fl->messages), atomic_load(&fl->bytes),
            atomic_load(&fl->largest),
            atomic_load(&fl->blocked), atomic_load(&fl->longest_block_us));
}

static void json_list(FILE *f, const char *name,
                      const char (*list)[ZG_ENDPOINT_TEXT_MAX], int n)
{
    fprintf(f, "      \"%s\": [", name);
    for (int i = 0; i < n; i++) {
        fputs(i ? ", " : "", f);
        json_str(f, list[i]);
    }
    fputs("],\n", f);
}

static void json_socket(FILE *f, const obs_sock_t *o)
{
    fprintf(f, "    {\n      \"id\": %d,\n      \"context\": %d,\n", o->id,
            o->ctx_id);
    fprintf(f, "      \"type\": \"%s\",\n      \"closed\": %s,\n",
            zg_type_name(o->type) ? zg_type_name(o->type) : "unknown",
            atomic_load(&o->closed) ? "true" : "false");
    json_list(f, "bind", o->bind, o->nbind);
    json_list(f, "connect", o->connect, o->nconnect);
    fprintf(f, "      \"mechanism\": \"%s\",\n      \"curve\": %s,\n",
            mechanism_name(o->mechanism),
            o->mechanism == ZMQ_CURVE ? "true" : "false");
    fputs("      \"options_set\": [", f);
    for (int i = 0; i < o->nset; i++) {
        const char *name = zg_obs_option_name(o->set[i].option);
        fprintf(f, "%s{\"option\": %d, \"name\": ", i ? ", " : "",
                o->set[i].option);
        json_str(f, name ? name : "");
        fputs(", \"value\": ", f);
        json_str(f, o->set[i].value);
        fputc('}', f);
    }
    fputs("],\n      \"options\": {", f);
    bool first = true;
    for (int k = 0; k < ZG_FIELD_COUNT; k++) {
        if (o->source[k] == OBS_NONE)
            continue;
        const zg_field_info_t *info = zg_field_info((zg_field_t)k);
        char text[ZG_VALUE_TEXT_MAX];
        zg_value_format(info, o->value[k], text, sizeof text);
        fprintf(f, "%s\n        \"%s\": {\"value\": %" PRId64
                ", \"text\": \"%s\", \"source\": \"%s\"}",
                first ? "" : ",", info->key, o->value[k], text,
                o->source[k] == OBS_PROGRAM ? "program" : "default");
        first = false;
    }
    fputs(first ? "},\n" : "\n      },\n", f);
    json_flow(f, "sent", &o->out);
    fputs(",\n", f);
    json_flow(f, "received", &o->in);
    fputs(",\n      \"policy_section\": ", f);
    if (o->match[0])
        json_str(f, o->match);
    else
        fputs("null", f);
    fputs("\n    }", f);
}

static void libzmq_version(char *buf, size_t cap)
{
    int major, minor, patch;
    zmq_version(&major, &minor, &patch);
    snprintf(buf, cap, "%d.%d.%d", major, minor, patch);
}

void zg_obs_render_json(const obs_state_t *st, FILE *f)
{
    char ver[32];
    libzmq_version(ver, sizeof ver);
    fputs("{\n  \"report\": \"zguard-observe\",\n  \"format\": 1,\n", f);
    fprintf(f, "  \"pid\": %d,\n  \"program\": ", (int)getpid());
    json_str(f, program_invocation_name);
    fprintf(f, ",\n  \"trigger\": \"%s\",\n  \"libzmq_version\": \"%s\",\n",
            st->trigger, ver);
    fputs("  \"policy\": ", f);
    if (st->policy_file)
        json_str(f, st->policy_file);
    else
        fputs("null", f);
    fputs(",\n  \"sigusr1\": ", f);
    json_str(f, st->sigusr1);
    fprintf(f, ",\n  \"untracked_sockets\": %d,\n  \"contexts\": [",
            st->untracked);
    bool first = true;
    for (const obs_ctx_t *c = st->ctxs; c; c = c->next) {
        if (c->pid != getpid())
            continue;
        fprintf(f, "%s{\"id\": %d, \"terminated\": %s}", first ? "" : ", ",
                c->id, c->terminated ? "true" : "false");
        first = false;
    }
    fputs("],\n  \"sockets\": [\n", f);
    const obs_sock_t *socks[OBS_SOCKETS_MAX];
    size_t n = own_sockets(st, socks, OBS_SOCKETS_MAX);
    for (size_t i = 0; i < n; i++) {
        json_socket(f, socks[i]);
        fputs(i + 1 < n ? ",\n" : "\n", f);
    }
    fputs("  ]\n}\n", f);
}

/* ---- Markdown ------------------------------------------------------------ */

static void md_label(FILE *f, const obs_sock_t *o)
{
    fprintf(f, "Socket %d (%s", o->id,
            zg_type_name(o->type) ? zg_type_name(o->type) : "unknown");
    for (int i = 0; i < o->nbind; i++)
        fprintf(f, "%s%s", i ? ", " : ", bound to ", o->bind[i]);
    for (int i = 0; i < o->nconnect; i++)
        fprintf(f, "%s%s", i ? ", " : ", connected to ", o->connect[i]);
    if (!o->nbind && !o->nconnect)
        fputs(", never bound or connected", f);
    fputs(")", f);
}

static bool only_inproc(const obs_sock_t *o)
{
    for (int i = 0; i < o->nbind; i++)
        if (strncmp(o->bind[i], "inproc://", 9) != 0)
            return false;
    for (int i = 0; i < o->nconnect; i++)
        if (strncmp(o->connect[i], "inproc://", 9) != 0)
            return false;
    return true;
}

static void md_value(FILE *f, const obs_sock_t *o, zg_field_t k)
{
    const zg_field_info_t *info = zg_field_info(k);
    char text[ZG_VALUE_TEXT_MAX];
    if (o->source[k] == OBS_NONE) {
        fprintf(f, "%s not read", info->key);
        return;
    }
    zg_value_format(info, o->value[k], text, sizeof text);
    fprintf(f, "%s %s (%s)", info->key, text,
            o->source[k] == OBS_PROGRAM ? "set by the program"
                                        : "libzmq's default");
}

static bool unbounded(const obs_sock_t *o, zg_field_t k)
{
    return o->source[k] != OBS_NONE && zg_value_unbounded(k, o->value[k]);
}

typedef bool(judge_fn)(const obs_sock_t *o);

static bool hwm_ok(const obs_sock_t *o)
{
    return !unbounded(o, ZG_FIELD_SNDHWM) && !unbounded(o, ZG_FIELD_RCVHWM) &&
           !unbounded(o, ZG_FIELD_MAXMSGSIZE);
}

static bool timeouts_ok(const obs_sock_t *o)
{
    return !unbounded(o, ZG_FIELD_SNDTIMEO) &&
           !unbounded(o, ZG_FIELD_RCVTIMEO) && !unbounded(o, ZG_FIELD_LINGER);
}

static bool curve_ok(const obs_sock_t *o)
{
    return o->mechanism == ZMQ_CURVE || only_inproc(o);
}

static void md_hwm(FILE *f, const obs_sock_t *o)
{
    md_value(f, o, ZG_FIELD_SNDHWM);
    fputs(", ", f);
    md_value(f, o, ZG_FIELD_RCVHWM);
    fputs(", ", f);
    md_value(f, o, ZG_FIELD_MAXMSGSIZE);
}

static void md_timeouts(FILE *f, const obs_sock_t *o)
{
    md_value(f, o, ZG_FIELD_SNDTIMEO);
    fprintf(f, " (longest send blocked %.1f ms), ",
            (double)atomic_load(&o->out.longest_block_us) / US_PER_MS);
    md_value(f, o, ZG_FIELD_RCVTIMEO);
    fprintf(f, " (longest receive blocked %.1f ms), ",
            (double)atomic_load(&o->in.longest_block_us) / US_PER_MS);
    md_value(f, o, ZG_FIELD_LINGER);
}

static void md_curve(FILE *f, const obs_sock_t *o)
{
    fprintf(f, "mechanism %s%s", mechanism_name(o->mechanism),
            o->mechanism == ZMQ_CURVE ? ""
            : only_inproc(o)          ? " (inproc only: never leaves the "
                                        "process)"
                                      : ": plaintext, peers not authenticated");
}

/* "No bound on: rcvtimeo, linger." for the fields of a mitigation. */
static void md_unbounded(FILE *f, const obs_sock_t *o, const zg_field_t *k,
                         size_t n)
{
    const char *sep = " No bound on: ";
    for (size_t i = 0; i < n; i++)
        if (unbounded(o, k[i])) {
            fprintf(f, "%s%s", sep, zg_field_info(k[i])->key);
            sep = ", ";
        }
    fputs(".", f);
}

static void need_hwm(FILE *f, const obs_sock_t *o)
{
    static const zg_field_t k[] = {ZG_FIELD_SNDHWM, ZG_FIELD_RCVHWM,
                                   ZG_FIELD_MAXMSGSIZE};
    md_unbounded(f, o, k, sizeof k / sizeof *k);
}

static void need_timeouts(FILE *f, const obs_sock_t *o)
{
    static const zg_field_t k[] = {ZG_FIELD_SNDTIMEO, ZG_FIELD_RCVTIMEO,
                                   ZG_FIELD_LINGER};
    md_unbounded(f, o, k, sizeof k / sizeof *k);
}

static void need_curve(FILE *f, const obs_sock_t *o)
{
    (void)o;
    fputs(" Needs CURVE keys (and an allowlist on the server).", f);
}

typedef void(md_fn)(FILE *f, const obs_sock_t *o);

static void md_section(FILE *f, const obs_sock_t **socks, size_t n,
                       const char *title, judge_fn *ok, md_fn *detail,
                       md_fn *need)
{
    fprintf(f, "\n## %s\n\n- Currently Implemented:\n", title);
    size_t good = 0;
    for (size_t i = 0; i < n; i++)
        if (ok(socks[i])) {
            fputs("    - ", f);
            md_label(f, socks[i]);
            fputs(": ", f);
            detail(f, socks[i]);
            fputs(".\n", f);
            good++;
        }
    if (!good)
        fputs("    - On no socket.\n", f);
    fputs("- Missing Implementation:\n", f);
    for (size_t i = 0; i < n; i++)
        if (!ok(socks[i])) {
            fputs("    - ", f);
            md_label(f, socks[i]);
            fputs(": ", f);
            detail(f, socks[i]);
            fputc('.', f);
            need(f, socks[i]);
            fputc('\n', f);
        }
    if (good == n)
        fputs("    - Nothing on the sockets observed.\n", f);
}

void zg_obs_render_md(const obs_state_t *st, FILE *f)
{
    const obs_sock_t *socks[OBS_SOCKETS_MAX];
    size_t n = own_sockets(st, socks, OBS_SOCKETS_MAX);
    char ver[32];
    libzmq_version(ver, sizeof ver);
    fprintf(f, "# zguard observe report: %s (pid %d)\n\n",
            program_invocation_name, (int)getpid());
    fprintf(f, "Written at %s. %zu socket%s observed%s; SIGUSR1: %s.\n\n",
            st->trigger, n, n == 1 ? "" : "s",
            st->untracked ? " (more were made than a report keeps)" : "",
            st->sigusr1);
    fputs("| socket | type | endpoints | mechanism | sent (msgs, bytes) | "
          "received (msgs, bytes) | longest block send / receive | policy "
          "section |\n|---|---|---|---|---|---|---|---|\n", f);
    for (size_t i = 0; i < n; i++) {
        const obs_sock_t *o = socks[i];
        fprintf(f, "| %d | %s | ", o->id,
                zg_type_name(o->type) ? zg_type_name(o->type) : "unknown");
        for (int k = 0; k < o->nbind; k++)
            fprintf(f, "bind %s ", o->bind[k]);
        for (int k = 0; k < o->nconnect; k++)
            fprintf(f, "connect %s ", o->connect[k]);
        fprintf(f,
                "| %s | %" PRIu64 ", %" PRIu64 " | %" PRIu64 ", %" PRIu64
                " | %.1f ms / %.1f ms | %s |\n",
                mechanism_name(o->mechanism), atomic_load(&o->out.messages),
                atomic_load(&o->out.bytes), atomic_load(&o->in.messages),
                atomic_load(&o->in.bytes),
                (double)atomic_load(&o->out.longest_block_us) / US_PER_MS,
                (double)atomic_load(&o->in.longest_block_us) / US_PER_MS,
                o->match[0] ? o->match : st->policy_file ? "(none)" : "-");
    }
    md_section(f, socks, n, "Mitigation: bounded queues (high-water marks)",
               hwm_ok, md_hwm, need_hwm);
    md_section(f, socks, n, "Mitigation: timeouts", timeouts_ok, md_timeouts,
               need_timeouts);
    md_section(f, socks, n, "Mitigation: CurveZMQ encryption", curve_ok,
               md_curve, need_curve);
    fprintf(f, "\n## Mitigation: keep libzmq updated\n\n"
               "- Currently Implemented:\n    - libzmq %s (zmq_version).\n"
               "- Missing Implementation:\n    - Check it against the "
               "advisory database: `zguard doctor`.\n", ver);
    fputs("\nNext: `zguard policy suggest --from REPORT.json` writes a "
          "policy for these sockets.\n", f);
}
