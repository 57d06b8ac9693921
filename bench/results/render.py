"""Turns the JSON of one benchmark run into bench/results/README.md and the
data files bench/results/plots.gp draws (bench/results/update.sh runs both).

    python3 render.py DIR

DIR holds zguard-bench.json (`zguard bench --json`), gate.json (`zguard
bench gate --json`), hwm.json (`zguard bench hwm --json`) and machine.txt;
it gets README.md and *.dat. Nothing here measures: it only lays out what
the run wrote.
"""
import json
import os
import sys

SIZES = {"64B": 64, "1KiB": 1024, "64KiB": 65536}


def fmt(v, unit=""):
    if v is None:
        return "-"
    if abs(v) >= 1000:
        return "{:,.0f}{}".format(v, unit)
    if abs(v) >= 10:
        return "{:.1f}{}".format(v, unit)
    return "{:.3g}{}".format(v, unit)


def scenario_md(s, out):
    out.append("### `{}`: {}\n".format(s["id"], s["title"]))
    if s.get("note"):
        out.append("{}\n".format(s["note"]))
    metrics = list(s["contestants"][0]["metrics"].keys())
    out.append("| contestant | " + " | ".join(metrics) + " |")
    out.append("|---|" + "---|" * len(metrics))
    for c in s["contestants"]:
        cells = []
        for m in metrics:
            x = c["metrics"][m]
            cells.append("{} [{}-{}]".format(fmt(x["value"]), fmt(x["min"]), fmt(x["max"])))
        out.append("| {} | {} |".format(c["name"], " | ".join(cells)))
    if s.get("comparisons"):
        out.append("")
        out.append("| comparison | ratio of medians | paired | interval | target | verdict |")
        out.append("|---|---|---|---|---|---|")
        names = {c["id"]: c["name"] for c in s["contestants"]}
        for c in s["comparisons"]:
            lo, hi = c["interval"]
            out.append("| {} / {} | {:.3f} | {:.3f} | {:.2f}-{:.2f} ({:.0f}%) | {} | {} |".format(
                names[c["a"]], names[c["b"]], c["ratio"], c["paired"], lo, hi,
                100 * c["coverage"], c.get("target") or "-", c["verdict"]))
    out.append("")


def targets_md(bench, out):
    """The issue's targets, one line each, straight from the comparisons."""
    out.append("| target | scenario | ratio | paired interval | verdict |")
    out.append("|---|---|---|---|---|")
    for s in bench["scenarios"]:
        names = {c["id"]: c["name"] for c in s["contestants"]}
        for c in s.get("comparisons", []):
            if not c.get("target"):
                continue
            lo, hi = c["interval"]
            out.append("| {} / {} >= {} | `{}` | {:.3f} | {:.2f}-{:.2f} | {} |".format(
                names[c["a"]], names[c["b"]], c["target"], s["id"], c["ratio"],
                lo, hi, c["verdict"]))
    out.append("")


def write_dat(d, bench):
    by_id = {s["id"]: s for s in bench["scenarios"]}
    # throughput (MB/s) vs message size, per contestant, tcp NULL and CURVE
    with open(os.path.join(d, "throughput.dat"), "w") as f:
        f.write("# size raw zguard czmq (MB/s, medians): tcp-null then tcp-curve\n")
        for sec in ("null", "curve"):
            for label, size in SIZES.items():
                s = by_id.get("throughput-tcp-{}-{}".format(sec, label))
                if not s:
                    continue
                vals = {c["id"]: c["metrics"].get("mb_per_s", c["metrics"]["msgs_per_s"])["value"]
                        for c in s["contestants"]}
                f.write("{} {} {} {}\n".format(size, vals.get("raw"), vals.get("zguard"), vals.get("czmq")))
            f.write("\n\n")
    # handshakes/s vs keys
    s = by_id.get("handshake")
    if s:
        v = {c["id"]: c["metrics"]["handshakes_per_s"]["value"] for c in s["contestants"]}
        with open(os.path.join(d, "handshake.dat"), "w") as f:
            f.write("# keys no-zap zguard zauth (handshakes/s, medians)\n")
            for k in (1, 1000, 10000):
                f.write("{} {} {} {}\n".format(k, v.get("no-zap"), v.get("zguard-%d" % k),
                                               v.get("zauth-%d" % k)))
    # latency p50 / p99 / max of each contestant, tcp NULL 64 B and 1 KiB
    with open(os.path.join(d, "latency.dat"), "w") as f:
        f.write("# label p50 p99 max (us)\n")
        for label in ("64B", "1KiB"):
            s = by_id.get("latency-tcp-null-" + label)
            if not s:
                continue
            for c in s["contestants"]:
                m = c["metrics"]
                f.write('"{} {}" {} {} {}\n'.format(c["name"], label, m["p50_us"]["value"],
                                                    m["p99_us"]["value"], m["max_us"]["value"]))


def hwm_md(h, out):
    out.append("`zguard bench hwm` ({} {} B over {}, {} rounds of {} s, medians):\n".format(
        h["pattern"], h["size"], h["transport"], h["rounds"], h["seconds"]))
    out.append("| HWM | msg/s | of best | peak RSS MiB |")
    out.append("|---|---|---|---|")
    best = max(r["msgs_per_s"] for r in h["results"])
    for r in h["results"]:
        mark = " (recommended)" if r["hwm"] == h["recommended"] else ""
        out.append("| {}{} | {} | {:.0f}% | {:.1f} |".format(r["hwm"], mark, fmt(r["msgs_per_s"]),
                                                            100 * r["msgs_per_s"] / best,
                                                            r["peak_rss_mib"]))
    out.append("\n```\n" + h["policy"] + "```\n")


def main():
    d = sys.argv[1]
    bench = json.load(open(os.path.join(d, "zguard-bench.json")))
    machine = open(os.path.join(d, "machine.txt")).read().strip()
    out = ["# Benchmark results", "",
           "The latest full run on this kind of machine, made by "
           "`bench/results/update.sh`: `zguard bench`, `zguard bench gate` and "
           "`zguard bench hwm`, their JSON beside this file. Every figure is the "
           "median of interleaved rounds, [min-max] of the rounds; verdicts as "
           "bench/README.md explains them (unclear: the machine's noise is wider "
           "than the margin).", "", "Machine:", "", "```", machine, "```", "",
           "zguard {}, libzmq {}, CZMQ {}; {} rounds.".format(
               bench["zguard"], bench["libzmq"], bench.get("czmq", "?"), bench["rounds"]), "",
           "![throughput](throughput.png) ![handshakes](handshake.png) "
           "![latency](latency.png)", "", "## Against the targets", ""]
    targets_md(bench, out)
    gate = os.path.join(d, "gate.txt")
    if os.path.exists(gate):
        out += ["## zguard gate vs a bare zmq_proxy hop vs direct", "", "```",
                open(gate).read().rstrip(), "```", ""]
    hwm = os.path.join(d, "hwm.json")
    if os.path.exists(hwm):
        out += ["## The HWM advisor", ""]
        hwm_md(json.load(open(hwm)), out)
    out += ["## Every scenario", ""]
    for s in bench["scenarios"]:
        scenario_md(s, out)
    with open(os.path.join(d, "README.md"), "w") as f:
        f.write("\n".join(out) + "\n")
    write_dat(d, bench)


if __name__ == "__main__":
    main()
