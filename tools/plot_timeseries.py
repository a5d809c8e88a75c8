#!/usr/bin/env python3
"""Memory over time from memtrace's time-series CSVs (--csv), drawn with gnuplot.

usage: tools/plot_timeseries.py CSV [CSV...] -o OUT [--title T] [--label L ...]
                                [--run K] [--rss] [--logy] [--keep-script]

Writes OUT.png and OUT.svg: time since the command's exec in seconds on x,
MiB on y, one line per file (its peak total: RSS + kernel memory), with the
exact peak marked by a point. --rss adds each file's RSS as a dashed line of
the same colour. A CSV of several runs (memtrace --runs) is drawn for run 1,
or the run given by --run. Labels are the file names without .csv unless
--label is given once per file.
"""
import argparse
import csv
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from plots import gp  # noqa: E402

MIB = 1048576.0
REQUIRED = ("run", "t_ms", "rss_bytes", "total_bytes", "is_rss_peak", "is_total_peak")


class Series:
    """One run of one CSV: times in s, memory in MiB, and its exact peaks."""

    def __init__(self, label, path, run=None):
        self.label = label
        self.path = path
        self.t = []
        self.total = []
        self.rss = []
        self.kernel = []
        self.peak_total = None   # (t_s, MiB)
        self.peak_rss = None
        self.run = None
        self._read(run)

    def _read(self, want):
        with open(self.path, newline="") as f:
            rows = list(csv.DictReader(f))
        if not rows:
            raise ValueError("%s: no rows" % self.path)
        missing = [c for c in REQUIRED if c not in rows[0]]
        if missing:
            raise ValueError("%s: not a memtrace time series (missing %s)" % (self.path, ", ".join(missing)))
        runs = []
        for r in rows:
            if r["run"] not in runs:
                runs.append(r["run"])
        run = str(want) if want is not None else runs[0]
        if run not in runs:
            raise ValueError("%s: no run %s (runs: %s)" % (self.path, run, ", ".join(runs)))
        self.run = int(run)
        rows = sorted((r for r in rows if r["run"] == run), key=lambda r: float(r["t_ms"]))
        for r in rows:
            t = float(r["t_ms"]) / 1000.0
            total = int(r["total_bytes"]) / MIB
            rss = int(r["rss_bytes"]) / MIB
            self.t.append(t)
            self.total.append(total)
            self.rss.append(rss)
            self.kernel.append(int(r.get("kernel_bytes") or 0) / MIB)
            if r["is_total_peak"] == "1":
                self.peak_total = (t, total)
            if r["is_rss_peak"] == "1":
                self.peak_rss = (t, rss)
        # A CSV cut short (killed run) may lack the peak rows: use its maximum.
        if self.peak_total is None and self.total:
            i = max(range(len(self.total)), key=lambda k: self.total[k])
            self.peak_total = (self.t[i], self.total[i])
        if self.peak_rss is None and self.rss:
            i = max(range(len(self.rss)), key=lambda k: self.rss[k])
            self.peak_rss = (self.t[i], self.rss[i])


def _mib_label(m):
    return "%s MiB" % gp.fmt_mib(m * MIB)


def plot(series, out_base, title="Memory over time", rss=False, logy=False, peak_labels=None,
         keep_script=False, subtitle=None, width=1100, height=650):
    """Draws a list of Series to out_base.png/.svg; returns the paths.
    peak_labels: write the peak's value next to its point (default: when at
    most 4 series; with more, the value goes in the legend instead)."""
    if not series:
        raise ValueError("nothing to plot")
    if peak_labels is None:
        peak_labels = len(series) <= 4
    body = []
    plots = []
    ymin_pos = None
    for i, s in enumerate(series):
        body.append(gp.datablock("d%d" % i, list(zip(s.t, s.total, s.rss))))
        body.append(gp.datablock("p%d" % i, [(s.peak_total[0], s.peak_total[1],
                                              "peak %s at %.2f s" % (_mib_label(s.peak_total[1]),
                                                                      s.peak_total[0]))]))
        if rss:
            body.append(gp.datablock("r%d" % i, [(s.peak_rss[0], s.peak_rss[1])]))
        pos = [v for v in s.total + (s.rss if rss else []) if v > 0]
        if pos:
            ymin_pos = min(pos) if ymin_pos is None else min(ymin_pos, min(pos))
    body.append("set title %s noenhanced" % gp.qq(title + ("\n" + subtitle if subtitle else "")))
    body.append("set xlabel 'time since the command started (s)'")
    body.append("set ylabel 'memory (MiB)%s'" % (", log scale" if logy else ""))
    body.append("set grid xtics ytics mxtics mytics lc rgb '#dddddd' lw 1")
    body.append("set key outside right top noenhanced spacing 1.2")
    body.append("set border 3")
    body.append("set tics nomirror")
    body.append("set xrange [0:*]")
    if logy:
        body.append("set logscale y 10")
        body.append("set yrange [%g:*]" % max(0.1, (ymin_pos or 1) / 1.5))
        body.append("set format y '%g'")
    else:
        body.append("set yrange [0:*]")
        body.append("set format y '%g'")
    body.append("set offsets 0, graph 0.02, graph 0.08, 0")
    for i, s in enumerate(series):
        color, dash = gp.line_style(i)
        if peak_labels:
            title_txt = s.label + (" total (RSS + kernel)" if rss else "")
        else:
            title_txt = "%s (peak %s)" % (s.label, _mib_label(s.peak_total[1]))
        plots.append("$d%d using 1:2 with lines lw 2 lc rgb %s dt %d title %s" % (
            i, gp.q(color), dash, gp.q(title_txt)))
        if rss:
            plots.append("$d%d using 1:3 with lines lw 1.5 lc rgb %s dt 2 title %s" % (
                i, gp.q(color), gp.q(s.label + " RSS")))
        plots.append("$p%d using 1:2 with points pt 7 ps 1.3 lc rgb %s notitle" % (i, gp.q(color)))
        if peak_labels:
            plots.append("$p%d using 1:2:3 with labels left offset 0.8,0.6 tc rgb %s noenhanced notitle"
                         % (i, gp.q(color)))
    body.append("plot " + ", \\\n     ".join(plots))
    return gp.render("\n".join(body), out_base, keep_script=keep_script, width=width, height=height)


def plot_panels(panels, out_base, title, subtitle=None, cols=4, keep_script=False):
    """One panel per runtime, each with its own time and memory axes, so that
    one slow runtime cannot crush the others. panels: dicts with label, color,
    series (its runs, Series objects), median (index of the median run in
    series) and text (the panel's subtitle, e.g. its peak and range). The
    median run is drawn bold with its exact peak marked, the other runs thin
    in the same colour. Writes out_base.png/.svg; returns the paths."""
    if not panels:
        raise ValueError("nothing to plot")
    cols = max(1, min(cols, len(panels)))
    nrows = (len(panels) + cols - 1) // cols
    body = []
    for i, p in enumerate(panels):
        for j, s in enumerate(p["series"]):
            body.append(gp.datablock("d%d_%d" % (i, j), list(zip(s.t, s.total))))
        m = p["series"][p["median"]]
        body.append(gp.datablock("p%d" % i, [m.peak_total]))
    head = title + ("\n" + subtitle if subtitle else "")
    body.append("set multiplot layout %d,%d title %s noenhanced font ',13'" % (nrows, cols, gp.qq(head)))
    body.append("set grid xtics ytics lc rgb '#e4e4e4' lw 1")
    body.append("set border 3")
    body.append("set tics nomirror")
    body.append("set format y '%g'")
    body.append("unset key")
    # Units in the figure's title: axis labels beside small panels would
    # run into the tick labels.
    for i, p in enumerate(panels):
        tmax = max((s.t[-1] for s in p["series"] if s.t), default=1.0)
        ymax = max((max(s.total) for s in p["series"] if s.total), default=1.0)
        body.append("set title %s noenhanced tc rgb %s" % (gp.qq(p["label"] + "\n" + p["text"]),
                                                          gp.q(p["color"])))
        body.append("set xrange [0:%g]" % (tmax * 1.02 or 1))
        body.append("set yrange [0:%g]" % (ymax * 1.12 or 1))
        elems = []
        for j in range(len(p["series"])):
            lw = 2.2 if j == p["median"] else 0.8
            elems.append("$d%d_%d using 1:2 with lines lw %g lc rgb %s notitle" % (i, j, lw, gp.q(p["color"])))
        elems.append("$p%d using 1:2 with points pt 7 ps 1.0 lc rgb %s notitle" % (i, gp.q(p["color"])))
        body.append("plot " + ", \\\n     ".join(elems))
    body.append("unset multiplot")
    return gp.render("\n".join(body), out_base, keep_script=keep_script, width=330 * cols + 80,
                     height=250 * nrows + 90, font_size=9)


def main(argv=None):
    ap = argparse.ArgumentParser(description="Draw memtrace time-series CSVs (memory over time) "
                                             "to OUT.png and OUT.svg with gnuplot.")
    ap.add_argument("csv", nargs="+", help="memtrace --csv files")
    ap.add_argument("-o", "--output", required=True, metavar="OUT",
                    help="output base name: writes OUT.png and OUT.svg")
    ap.add_argument("--title", default="Memory over time (peak total = RSS + kernel memory)")
    ap.add_argument("--label", action="append", help="legend label, once per CSV, in order")
    ap.add_argument("--run", type=int, help="which run of a multi-run CSV (default: the first)")
    ap.add_argument("--rss", action="store_true", help="also draw RSS (dashed)")
    ap.add_argument("--logy", action="store_true", help="log scale on y")
    ap.add_argument("--keep-script", action="store_true", help="also write OUT.gp")
    a = ap.parse_args(argv)
    if a.label and len(a.label) != len(a.csv):
        ap.error("--label given %d times for %d files" % (len(a.label), len(a.csv)))
    out = a.output
    for ext in (".png", ".svg"):
        if out.endswith(ext):
            out = out[: -len(ext)]
    try:
        series = []
        for i, path in enumerate(a.csv):
            label = a.label[i] if a.label else os.path.basename(path)[:-4] if path.endswith(".csv") \
                else os.path.basename(path)
            series.append(Series(label, path, a.run))
        outs = plot(series, out, title=a.title, rss=a.rss, logy=a.logy, keep_script=a.keep_script)
    except (OSError, ValueError, gp.GnuplotError) as e:
        print("plot_timeseries: %s" % e, file=sys.stderr)
        return 1
    for p in outs:
        print(p)
    return 0


if __name__ == "__main__":
    sys.exit(main())
