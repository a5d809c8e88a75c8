#!/usr/bin/env python3
"""Do runs that shared the machine give the figures of runs made alone?

usage: tools/bench_concurrency.py [--markdown] SHARED_DIR ALONE_DIR [ALONE_DIR...]

SHARED_DIR is a bench.py results folder whose runs went several at a time
(the default schedule, tools/bench_plan.py); each ALONE_DIR one made with
--jobs 1, every run alone. For every cell (runtime, N) with ok runs in both,
prints the median peak total and the runs' min-max of each, what the shared
runs had beside them, the median wall times, and whether each median lies
within the other's range ("yes": neither set of runs tells the two apart), and
the ratio of the medians.
Exit status 0 when every cell agrees, 1 when one does not, 2 on bad input.
"""
import argparse
import csv
import json
import os
import statistics
import sys

MIB = 1048576.0


class InputError(Exception):
    pass


def load(folder):
    """(rows of summary.csv, {(runtime, n, run): bench.json's run}) of a
    results folder."""
    try:
        with open(os.path.join(folder, "summary.csv"), newline="") as f:
            rows = list(csv.DictReader(f))
        with open(os.path.join(folder, "bench.json")) as f:
            runs = json.load(f).get("runs") or []
    except (OSError, ValueError) as e:
        raise InputError("cannot read %s: %s" % (folder, e))
    return rows, {(r["runtime"], int(r["n"]), int(r["run"])): r for r in runs}


def cells(rows):
    """{(runtime, n): [ok rows]}."""
    out = {}
    for r in rows:
        if r.get("status") == "ok" and r.get("peak_total_bytes"):
            out.setdefault((r["runtime"], int(r["n"])), []).append(r)
    return out


def stat(rows, key):
    v = [float(r[key]) for r in rows if r.get(key)]
    return (statistics.median(v), min(v), max(v)) if v else None


def compare(shared_dir, alone_dirs):
    """[dict per cell found in both], in the shared folder's order."""
    shared_rows, shared_runs = load(shared_dir)
    alone = {}
    for d in alone_dirs:
        rows, runs = load(d)
        busy = [k for k, r in runs.items() if r.get("concurrent_with")]
        if busy:
            raise InputError("%s: %s N=%d run %d did not run alone" % ((d,) + busy[0]))
        for key, rs in cells(rows).items():
            alone.setdefault(key, []).extend(rs)
    out = []
    for key, rs in cells(shared_rows).items():
        if key not in alone:
            continue
        beside = [len(shared_runs.get((key[0], key[1], int(r["run"])), {}).get("concurrent_with") or [])
                  for r in rs]
        s, a = stat(rs, "peak_total_bytes"), stat(alone[key], "peak_total_bytes")
        out.append({"runtime": key[0], "n": key[1], "shared": s, "alone": a,
                    "shared_runs": len(rs), "alone_runs": len(alone[key]),
                    "beside": (min(beside), max(beside)),
                    "kind": shared_runs.get((key[0], key[1], int(rs[0]["run"])), {}).get("kind", ""),
                    "shared_wall": stat(rs, "wall_s")[0], "alone_wall": stat(alone[key], "wall_s")[0],
                    "agree": a[1] <= s[0] <= a[2] and s[1] <= a[0] <= s[2]})
    return out


def fmt_mib(s):
    med, lo, hi = (x / MIB for x in s)
    return "%.1f (%.1f–%.1f)" % (med, lo, hi) if lo != hi else "%.1f" % med


def table(results, markdown):
    head = ["runtime", "N", "kind", "beside", "shared MiB", "alone MiB", "shared / alone", "wall s shared / alone",
            "agree"]
    lines = []
    for c in results:
        b = c["beside"]
        lines.append([c["runtime"], "{:,}".format(c["n"]), c["kind"], "%d" % b[0] if b[0] == b[1] else "%d–%d" % b,
                      fmt_mib(c["shared"]), fmt_mib(c["alone"]), "%.3f" % (c["shared"][0] / c["alone"][0]),
                      "%.1f / %.1f" % (c["shared_wall"], c["alone_wall"]), "yes" if c["agree"] else "NO"])
    if markdown:
        out = ["| " + " | ".join(head) + " |", "|---|---:|---|---:|---:|---:|---:|---:|---|"]
        out += ["| " + " | ".join(x) + " |" for x in lines]
        return out
    w = [max(len(x[i]) for x in [head] + lines) for i in range(len(head))]
    return ["  ".join(x[i].ljust(w[i]) for i in range(len(head))).rstrip() for x in [head] + lines]


def main(argv=None):
    ap = argparse.ArgumentParser(description="Compare cells run beside others with the same cells run alone.")
    ap.add_argument("--markdown", action="store_true")
    ap.add_argument("shared")
    ap.add_argument("alone", nargs="+")
    a = ap.parse_args(argv)
    try:
        results = compare(a.shared, a.alone)
    except InputError as e:
        print("bench_concurrency: %s" % e, file=sys.stderr)
        return 2
    if not results:
        print("bench_concurrency: no cell has ok runs in both %s and %s" % (a.shared, ", ".join(a.alone)),
              file=sys.stderr)
        return 2
    print("\n".join(table(results, a.markdown)))
    return 0 if all(c["agree"] for c in results) else 1


if __name__ == "__main__":
    sys.exit(main())
