/*
 * bench_report.c - zguard-bench's results: one table per scenario as text
 * (printed as soon as the scenario ends, so a long run shows progress), or
 * one JSON document on standard output (--json; streamed the same way, so
 * a run that fails midway leaves no half-valid file that looks whole: the
 * closing brackets come only at the end).
 */
#include "bench.h"
#include "cli_json.h"

#include <math.h>
#include <string.h>

int bench_table_row(bench_table_t *t, const char *id, const char *name,
                    const char *detail)
{
    if (t->nrows >= BENCH_MAX_ROWS)
        bench_die("%s: more than %d contestants", t->id, BENCH_MAX_ROWS);
    bench_row_t *r = &t->row[t->nrows];
    snprintf(r->id, sizeof r->id, "%s", id);
    snprintf(r->name, sizeof r->name, "%s", name);
    snprintf(r->detail, sizeof r->detail, "%s", detail);
    return t->nrows++;
}

void bench_table_cmp(bench_table_t *t, int a, int b, double target)
{
    if (t->ncmps >= BENCH_MAX_CMPS)
        bench_die("%s: more than %d comparisons", t->id, BENCH_MAX_CMPS);
    t->cmp[t->ncmps++] = (bench_cmp_t){a, b, target};
}

/* ---- figures ------------------------------------------------------------- */

static double aggregate(const bench_table_t *t, int row, int m)
{
    const double *v = t->row[row].v[m];
    size_t n = (size_t)t->rounds;
    return t->metric[m].agg == BENCH_AGG_MAX ? bench_max(v, n)
                                             : bench_median(v, n);
}

const char *bench_grouped(double v, char *buf, size_t cap)
{
    char digits[32];
    snprintf(digits, sizeof digits, "%.0f", v);
    size_t n = strlen(digits), o = 0, lead = digits[0] == '-';
    for (size_t i = 0; i < n && o + 2 < cap; i++) {
        if (i > lead && (n - i) % 3 == 0)
            buf[o++] = ',';
        buf[o++] = digits[i];
    }
    buf[o] = '\0';
    return buf;
}

static const char *figure(double v, int decimals, char *buf, size_t cap)
{
    if (!isfinite(v))
        snprintf(buf, cap, "-");
    else if (decimals < 0)
        bench_grouped(v, buf, cap);
    else
        snprintf(buf, cap, "%.*f", decimals, v);
    return buf;
}

static bench_paired_t compare(const bench_table_t *t, const bench_cmp_t *c)
{
    return bench_compare(t->row[c->a].v[0], t->row[c->b].v[0], t->rounds,
                         t->better, c->target > 0 ? c->target : 1.0);
}

static const char *verdict_word(const bench_table_t *t, const bench_cmp_t *c,
                                bench_verdict_t v)
{
    if (v == BENCH_UNCLEAR)
        return "unclear";
    if (c->target > 0)
        return v == BENCH_ABOVE ? "meets" : "below";
    return v == BENCH_ABOVE ? t->better_word : t->worse_word;
}

/* ---- text ---------------------------------------------------------------- */

static void text_header(FILE *out, const bench_table_t *t)
{
    fprintf(out, "\n%s: %s\n", t->id, t->title);
    if (t->note[0])
        fprintf(out, "  %s\n", t->note);
    fprintf(out, "  %-16s", "contestant");
    for (int m = 0; m < t->nmetrics; m++)
        fprintf(out, " %12s", t->metric[m].head);
    fprintf(out, " %7s%s\n", "spread", t->show_failed ? "  failed" : "");
}

static void text_row(FILE *out, const bench_table_t *t, int r)
{
    char num[32];
    fprintf(out, "  %-16s", t->row[r].name);
    for (int m = 0; m < t->nmetrics; m++)
        fprintf(
            out, " %12s",
            figure(aggregate(t, r, m), t->metric[m].decimals, num, sizeof num));
    bench_summary_t s = bench_summarize(t->row[r].v[0], (size_t)t->rounds);
    char spread[16] = "-";
    if (isfinite(s.spread))
        snprintf(spread, sizeof spread, "\u00b1%.0f%%", s.spread * 100);
    /* "±" is two bytes and one column: one byte more of width */
    fprintf(out, isfinite(s.spread) ? " %8s" : " %7s", spread);
    if (t->show_failed)
        fprintf(out, "  %6lu", t->row[r].failed);
    fputc('\n', out);
}

static void text_cmp(bench_report_t *rep, const bench_table_t *t,
                     const bench_cmp_t *c)
{
    bench_paired_t p = compare(t, c);
    char label[80], range[40];
    snprintf(label, sizeof label, "%s / %s", t->row[c->a].name,
             t->row[c->b].name);
    if (isfinite(p.lo))
        snprintf(range, sizeof range, "paired %.3f-%.3f (%.0f%%)", p.lo, p.hi,
                 p.coverage * 100);
    else
        snprintf(range, sizeof range, "paired -");
    fprintf(rep->out, "  %-30s %7.3f  %-26s", label, p.ratio, range);
    if (c->target > 0)
        fprintf(rep->out, " target >= %.2f: %s\n", c->target,
                verdict_word(t, c, p.verdict));
    else
        fprintf(rep->out, " %s\n", verdict_word(t, c, p.verdict));
    if (isfinite(p.lo) && p.coverage < rep->min_coverage)
        rep->min_coverage = p.coverage;
}

static void text_table(bench_report_t *rep, const bench_table_t *t)
{
    text_header(rep->out, t);
    for (int r = 0; r < t->nrows; r++)
        text_row(rep->out, t, r);
    for (int c = 0; c < t->ncmps; c++)
        text_cmp(rep, t, &t->cmp[c]);
    fflush(rep->out);
}

/* ---- JSON ---------------------------------------------------------------- */

static void json_number(FILE *out, double v)
{
    if (isfinite(v))
        fprintf(out, "%.10g", v);
    else
        fputs("null", out);
}

static void json_metric(FILE *out, const bench_table_t *t, int r, int m)
{
    const double *v = t->row[r].v[m];
    size_t n = (size_t)t->rounds;
    fprintf(out, "%s\n          ", m ? "," : "");
    cli_json_string(out, t->metric[m].id);
    fputs(": {\"value\": ", out);
    json_number(out, aggregate(t, r, m));
    fprintf(out, ", \"of_rounds\": \"%s\", \"min\": ",
            t->metric[m].agg == BENCH_AGG_MAX ? "max" : "median");
    json_number(out, bench_min(v, n));
    fputs(", \"max\": ", out);
    json_number(out, bench_max(v, n));
    fputs(", \"rounds\": [", out);
    for (size_t i = 0; i < n; i++) {
        fputs(i ? ", " : "", out);
        json_number(out, v[i]);
    }
    fputs("]}", out);
}

static void json_row(FILE *out, const bench_table_t *t, int r)
{
    const bench_row_t *row = &t->row[r];
    fprintf(out, "%s\n        {\"id\": ", r ? "," : "");
    cli_json_string(out, row->id);
    fputs(", \"name\": ", out);
    cli_json_string(out, row->name);
    fputs(", \"calls\": ", out);
    cli_json_string(out, row->detail);
    fprintf(out, ", \"failed\": %lu,\n         \"metrics\": {", row->failed);
    for (int m = 0; m < t->nmetrics; m++)
        json_metric(out, t, r, m);
    fputs("}}", out);
}

static void json_cmp(FILE *out, const bench_table_t *t, int i)
{
    const bench_cmp_t *c = &t->cmp[i];
    bench_paired_t p = compare(t, c);
    fprintf(out, "%s\n        {\"a\": ", i ? "," : "");
    cli_json_string(out, t->row[c->a].id);
    fputs(", \"b\": ", out);
    cli_json_string(out, t->row[c->b].id);
    fputs(", \"ratio\": ", out);
    json_number(out, p.ratio);
    fputs(", \"paired\": ", out);
    json_number(out, p.paired);
    fputs(", \"interval\": [", out);
    json_number(out, p.lo);
    fputs(", ", out);
    json_number(out, p.hi);
    fputs("], \"coverage\": ", out);
    json_number(out, p.coverage);
    fputs(", \"target\": ", out);
    json_number(out, c->target > 0 ? c->target : NAN);
    fputs(", \"verdict\": ", out);
    cli_json_string(out, verdict_word(t, c, p.verdict));
    fputc('}', out);
}

static void json_table(bench_report_t *rep, const bench_table_t *t)
{
    FILE *out = rep->out;
    fprintf(out, "%s\n    {\"id\": ", rep->tables ? "," : "");
    cli_json_string(out, t->id);
    fputs(", \"title\": ", out);
    cli_json_string(out, t->title);
    fputs(",\n     \"note\": ", out);
    cli_json_string(out, t->note);
    fputs(",\n     \"options\": ", out);
    cli_json_string(out, t->options);
    fprintf(out, ",\n     \"rounds\": %d, \"per_round\": ", t->rounds);
    json_number(out, t->per_round);
    fputs(", \"per_round_of\": ", out);
    cli_json_string(out, t->per_round_of ? t->per_round_of : "");
    fputs(", \"ratio_metric\": ", out);
    cli_json_string(out, t->metric[0].id);
    fprintf(out, ", \"better\": \"%s\",\n     \"contestants\": [",
            t->better == BENCH_HIGHER_BETTER ? "higher" : "lower");
    for (int r = 0; r < t->nrows; r++)
        json_row(out, t, r);
    fputs("],\n     \"comparisons\": [", out);
    for (int c = 0; c < t->ncmps; c++)
        json_cmp(out, t, c);
    fputs("]}", out);
    fflush(out);
}

/* ---- the document -------------------------------------------------------- */

typedef struct versions {
    int zmq[3], czmq[3];
} versions_t;

static versions_t versions(void)
{
    versions_t v;
    zmq_version(&v.zmq[0], &v.zmq[1], &v.zmq[2]);
    zsys_version(&v.czmq[0], &v.czmq[1], &v.czmq[2]);
    return v;
}

void bench_report_begin(bench_report_t *r, const bench_cfg_t *cfg)
{
    r->json = cfg->json;
    r->out = stdout;
    r->tables = 0;
    r->min_coverage = 1;
    versions_t v = versions();
    if (!r->json) {
        fprintf(r->out,
                "%s: zguard %s, libzmq %d.%d.%d, CZMQ %d.%d.%d; %d "
                "interleaved rounds per contestant%s\n",
                bench_prog(), zg_version_string(), v.zmq[0], v.zmq[1], v.zmq[2],
                v.czmq[0], v.czmq[1], v.czmq[2], cfg->rounds,
                cfg->quick ? " (--quick: a smoke run, not a result)" : "");
        return;
    }
    fprintf(r->out,
            "{\n  \"benchmark\": \"zguard-bench\",\n  \"zguard\": \"%s\", "
            "\"libzmq\": \"%d.%d.%d\", \"czmq\": \"%d.%d.%d\",\n"
            "  \"quick\": %s, \"rounds\": %d, \"round_seconds\": %.3f,\n"
            "  \"percentiles\": \"nearest rank\",\n  \"scenarios\": [",
            zg_version_string(), v.zmq[0], v.zmq[1], v.zmq[2], v.czmq[0],
            v.czmq[1], v.czmq[2], cfg->quick ? "true" : "false", cfg->rounds,
            cfg->round_s);
}

void bench_report_table(bench_report_t *r, const bench_table_t *t)
{
    if (r->json)
        json_table(r, t);
    else
        text_table(r, t);
    r->tables++;
}

static const char legend[] =
    "\n"
    "How to read these tables (zguard bench --help says more):\n"
    "  figures    the median over the rounds (max: the largest of any "
    "round);\n"
    "             spread: the farthest round from the median of the first "
    "column\n"
    "  A / B      ratio of the medians, oriented so that > 1 means A is "
    "better:\n"
    "             rates A/B, latencies and memory B/A\n"
    "  paired     each round ran every contestant once, a moment apart: the "
    "interval\n"
    "             (sign test) of the median of the per-round ratios, at the "
    "coverage shown\n"
    "  verdict    meets / below: the whole interval is at or above / below "
    "the target;\n"
    "             faster / slower (smaller / larger): the same against 1; "
    "unclear: the\n"
    "             noise of this machine is wider than the margin (more "
    "--rounds narrow it)\n";

void bench_report_end(bench_report_t *r)
{
    if (r->json) {
        fputs("\n  ]\n}\n", r->out);
    } else {
        fputs(legend, r->out);
        if (r->min_coverage < 0.95)
            fprintf(r->out,
                    "  (some intervals cover only %.0f%%: few rounds; "
                    "their verdicts are a smoke signal)\n",
                    r->min_coverage * 100);
    }
    fflush(r->out);
}
