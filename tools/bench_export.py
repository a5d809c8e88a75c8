"""The benchmark matrix in the formats of CI benchmark dashboards, one
benchmark per cell named <runtime>/<N>:

- Bencher Metric Format (BMF) JSON, for `bencher run --adapter json`:
  {"<runtime>/<N>": {"peak-rss": {"value", "lower_value", "upper_value"},
                     "peak-total": {...}, "wall-time": {...}}}
  value is the median of the cell's runs, lower/upper their min and max;
  peaks in bytes, wall time in seconds.
- github-action-benchmark's custom JSON (tool: customSmallerIsBetter): an
  array of {"name", "unit", "value", "range", "extra"}, one entry per cell
  for its peak total in bytes; range is "± H", H the larger distance from
  the median to the min or the max; extra says the runs and the other
  medians.

Cells without an ok run are left out of both (a dashboard has no way to show
"not attempted").
"""
import json
import os

import bench_stats

# BMF measure slug and the summary.csv column it is read from (already in
# the measure's unit: bytes, seconds).
BMF_MEASURES = (
    ("peak-rss", "peak_user_bytes"),
    ("peak-total", "peak_total_bytes"),
    ("wall-time", "wall_s"),
)


def cell_name(name, n):
    return "%s/%d" % (name, n)


def _num(v):
    """Whole numbers as int (bytes), others as float."""
    return int(v) if float(v).is_integer() else float(v)


def _cells(rows, names, sizes):
    for name in names:
        for n in sizes:
            c = bench_stats.cell(rows, name, n)
            if c:
                yield c


def bmf(rows, names, sizes):
    """The BMF object of the matrix."""
    out = {}
    for c in _cells(rows, names, sizes):
        measures = {}
        for slug, key in BMF_MEASURES:
            s = c.stat(key)
            if s is None:
                continue
            med, lo, hi = s
            measures[slug] = {"value": _num(med), "lower_value": _num(lo), "upper_value": _num(hi)}
        if measures:
            out[cell_name(c.name, c.n)] = measures
    return out


def github_benchmark(rows, names, sizes):
    """The customSmallerIsBetter array of the matrix."""
    out = []
    for c in _cells(rows, names, sizes):
        med, lo, hi = c.stat("peak_total_bytes")
        rss = c.stat("peak_user_bytes")
        wall = c.stat("wall_s")
        extra = ["%d run%s; peak total min %d max %d bytes" % (c.count, "" if c.count == 1 else "s",
                                                               lo, hi)]
        if c.flagged():
            extra.append("spread %.1f%% of the median (over %d%%)" % (100 * c.spread(),
                                                                    100 * bench_stats.SPREAD_FLAG))
        if rss:
            extra.append("median peak RSS %d bytes" % rss[0])
        if wall:
            extra.append("median wall %.2f s" % wall[0])
        out.append({"name": cell_name(c.name, c.n), "unit": "bytes", "value": _num(med),
                    "range": "± %d" % round(max(med - lo, hi - med)), "extra": "; ".join(extra)})
    return out


def write_json(path, obj):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(obj, f, indent=1, ensure_ascii=False)
        f.write("\n")
    os.replace(tmp, path)


def write_all(out, rows, names, sizes):
    """bench.bmf.json and bench.github.json in out; returns their paths."""
    paths = (os.path.join(out, "bench.bmf.json"), os.path.join(out, "bench.github.json"))
    write_json(paths[0], bmf(rows, names, sizes))
    write_json(paths[1], github_benchmark(rows, names, sizes))
    return paths
