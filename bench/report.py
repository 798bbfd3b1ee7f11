#!/usr/bin/env python3
"""report.py - `make bench`'s last step: one table, build/bench/results.json, dataplane.png.

Usage: report.py BENCH_DIR
Reads the row files the steps wrote into BENCH_DIR/parts (see bench/rows.h for a row),
adds the machine, writes BENCH_DIR/results.json, prints the table and plots the data-plane rows
beside their baselines with gnuplot (BENCH_DIR/dataplane.png). Targets are reported, never
asserted: the exit status is 0 unless a step left no rows at all.
"""
import datetime
import json
import os
import platform
import shutil
import subprocess
import sys

# Steps in table order: file in parts/, what it is (for "missing" lines).
PARTS = [
    ("dataplane.json", "data plane, BPF_PROG_TEST_RUN (xlb-bench)"),
    ("ctl.json", "controller: Maglev build, table publish (ctl-bench offline)"),
    ("ctl_latency.json", "controller: config latency against xlbd (ctl_live.sh)"),
    ("ctl_health.json", "controller: health-check CPU (ctl_live.sh)"),
    ("veth.json", "packet rate over veth (veth_pps.sh)"),
]


def machine(out_dir):
    """The CPU, the kernel, and the date run.sh started (now when it left none)."""
    model = "unknown"
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout
        for line in out.splitlines():
            if line.startswith("Model name:"):
                model = line.split(":", 1)[1].strip()
            if line.startswith("Hypervisor vendor:"):
                model += " (%s guest)" % line.split(":", 1)[1].strip()
    except (OSError, subprocess.CalledProcessError):
        pass
    try:
        with open(os.path.join(out_dir, "parts", "started")) as f:
            date = f.read().strip()
    except OSError:
        date = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {"cpu": model, "cpus": os.cpu_count(), "kernel": platform.release(), "date": date}


def fmt(v, unit):
    if unit == "ratio":
        return "%.3f" % v
    if abs(v) >= 100:
        return "%.0f" % v
    if abs(v) >= 10:
        return "%.1f" % v
    return "%.2f" % v


def verdict(r):
    """Target status, or the difference to the baseline."""
    if "target_op" in r:
        above = r.get("target_on") == "above_baseline"
        v = r["above_baseline"] if above else r["median"]
        ok = v >= r["target"] if r["target_op"] == ">=" else v <= r["target"]
        return "%s target %s %s%s" % ("MET   " if ok else "MISSED", r["target_op"],
                                      fmt(r["target"], r["unit"]),
                                      " above %s (%+.1f)" % (r["baseline"], v) if above else "")
    if "baseline" in r:
        return "%+.1f vs %s" % (r["above_baseline"], r["baseline"])
    return ""


def print_table(rows, m, missing):
    print("xlb bench: %s, %d CPUs, kernel %s, %s" % (m["cpu"], m["cpus"], m["kernel"], m["date"]))
    w = max(len(r["name"]) for r in rows)
    print("%-10s %-*s %9s %9s %9s %-5s %s" % ("group", w, "row", "median", "min", "max", "unit",
                                             "target / above baseline"))
    group = None
    for r in rows:
        if group is not None and r["group"] != group:
            print()
        group = r["group"]
        print("%-10s %-*s %9s %9s %9s %-5s %s" % (
            r["group"], w, r["name"], fmt(r["median"], r["unit"]), fmt(r["min"], r["unit"]),
            fmt(r["max"], r["unit"]), r["unit"], verdict(r)))
    for what in missing:
        print("MISSING: %s (see its log in build/bench/)" % what)


def plot(rows, out_dir, title):
    """Horizontal bars (median, min-max whiskers): three panels, one per method."""
    if not shutil.which("gnuplot"):
        print("report: gnuplot not found: no plot (scripts/deps.sh installs gnuplot-nox)",
              file=sys.stderr)
        return
    dp = [r for r in rows if r["group"] == "dataplane"]
    est = [r for r in dp if r["name"] == "xlb hot established flow (ipv4 tcp)"]
    # Kind: 0 xlb, 1 baseline, 2 one part of the per-packet work, 3 the established path.
    # One run per call (distinct frames, or the ipip rows' one frame again and again) pays the
    # per-call overhead: its own panel, beside its own baselines.
    def per_call(r):
        return "repeat=1000000" not in r["method"]

    panels = [
        ("repeat", "BPF_PROG_TEST_RUN repeat=10^6 on one frame: ns per packet (median, min-max)",
         [(r, 0) for r in dp if not per_call(r)], False),
        ("distinct", "repeat=1 per call (new flows, 100k flows, ipip): ns per packet",
         [(r, 0) for r in dp if per_call(r)]
         + [(r, 2) for r in rows if r["group"] == "cost" and per_call(r)], False),
        ("cost", "parts of xlb's established path (bench_cost.bpf.c): ns above XDP_PASS",
         [(r, 2) for r in rows if r["group"] == "cost" and not per_call(r)]
         + [(r, 0) for r in est], True),
    ]
    script = ["set terminal pngcairo size 1400,1500 font 'Sans,11' noenhanced",
              "set output '%s'" % os.path.join(out_dir, "dataplane.png"),
              "set multiplot layout 3,1 title '%s' font 'Sans,14'" % title.replace("'", ""),
              "set style fill solid 0.75 border -1",
              "set grid xtics", "set offsets 0,0,0.6,0.6",
              "set key outside top right horizontal", "set lmargin 46", "set rmargin 6"]
    colors = {0: "#2b6cb0", 1: "#9aa5b1", 2: "#dd8452", 3: "#c44e52"}
    names = {0: "xlb", 1: "baseline", 2: "one part, alone", 3: "the parts of the established path"}
    for tag, ptitle, sel, above in panels:
        if not sel:
            continue
        dat = os.path.join(out_dir, "plot_%s.dat" % tag)
        top = 0
        used = set()
        with open(dat, "w") as f:
            for i, (r, kind) in enumerate(reversed(sel)):
                if "baseline" in r["name"]:
                    kind = 1
                elif r["name"].startswith("cost: established path"):
                    kind = 3
                med, lo, hi = r["median"], r["min"], r["max"]
                if above:
                    d = r["above_baseline"] - med
                    med, lo, hi = med + d, lo + d, hi + d
                    if kind == 0:
                        r = dict(r, name=r["name"] + ", whole")
                top = max(top, hi, med)
                used.add(kind)
                f.write('%d "%s" %.2f %.2f %.2f %d\n' % (i, r["name"].replace('"', "'"),
                                                          max(med, 0), max(lo, 0), max(hi, 0),
                                                          kind))
        plots = []
        for kind in (1, 0, 2, 3):
            if kind in used:
                plots.append("'%s' using (($6==%d)?$3:1/0):1:(0):3:($1-0.35):($1+0.35):"
                             "ytic(2) with boxxyerror lc rgb '%s' title '%s'"
                             % (dat, kind, colors[kind], names[kind]))
        plots.append("'%s' using 3:1:4:5 with xerrorbars lc rgb 'black' pt 0 lw 1 "
                     "title 'min-max over trials'" % dat)
        plots.append("'%s' using ($5 + %.2f):1:(sprintf('%%.0f', $3)) with labels left notitle"
                     % (dat, top * 0.01))
        script += ["set title \"%s\"" % ptitle,
                   "set xlabel '%s'" % ("ns per packet above XDP_PASS" if above
                                        else "ns per packet"),
                   "set xrange [0:%.1f]" % (top * 1.12 + 1),
                   "plot " + ", ".join(plots)]
    script.append("unset multiplot")
    gp = os.path.join(out_dir, "dataplane.gp")
    with open(gp, "w") as f:
        f.write("\n".join(script) + "\n")
    res = subprocess.run(["gnuplot", gp], capture_output=True, text=True)
    if res.returncode:
        print("report: gnuplot failed: %s" % res.stderr.strip(), file=sys.stderr)


def main():
    out_dir = sys.argv[1] if len(sys.argv) > 1 else "build/bench"
    rows, missing = [], []
    for name, what in PARTS:
        path = os.path.join(out_dir, "parts", name)
        try:
            with open(path) as f:
                rows += json.load(f)["rows"]
        except (OSError, ValueError, KeyError):
            missing.append(what)
    m = machine(out_dir)
    results = {"machine": m, "rows": rows, "missing": missing}
    with open(os.path.join(out_dir, "results.json.tmp"), "w") as f:
        json.dump(results, f, indent=1)
    os.replace(os.path.join(out_dir, "results.json.tmp"), os.path.join(out_dir, "results.json"))
    if not rows:
        print("report: no rows at all", file=sys.stderr)
        return 1
    print_table(rows, m, missing)
    plot(rows, out_dir, "xlb data plane beside its baselines: %s, kernel %s, %s"
         % (m["cpu"], m["kernel"], m["date"][:10]))
    print("\nwrote %s, %s" % (os.path.join(out_dir, "results.json"),
                             os.path.join(out_dir, "dataplane.png")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
