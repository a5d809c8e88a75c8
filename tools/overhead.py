#!/usr/bin/env python3
"""Overhead of memtrace on a page-fault storm (touch 2 GiB page by page),
run interleaved with and without memtrace; also memtrace's start-up time and
its own peak RSS. Prints figures; asserts nothing (these machines are noisy).

Three times are taken from each run:
  storm    the first pass, touching 2 GiB of fresh memory, timed by the
           storm program itself: what memtrace adds to the faults;
  re-touch the fastest of three more passes over the same range, each after
           MADV_DONTNEED: pages the hypervisor already backs, and the best
           of three, so the same faults with much less of the host's noise;
  command  the whole command, start to exit: also memtrace's start-up
           (reported on its own) and its report at the end.
For each, the slowdown is the median over runs of traced / plain.

usage: tools/overhead.py [--memtrace build/memtrace] [--touch build/tools/touch]
                         [--mib 2048] [--runs 15]
"""
import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

KINDS = ("storm", "re-touch", "command")
PASSES = 4


def run_storm(cmd):
    """Runs the storm; returns its (first pass, best re-touch, whole command) seconds."""
    t0 = time.monotonic()
    p = subprocess.run(cmd, check=True, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    wall = time.monotonic() - t0
    passes = [float(x) for x in re.findall(r"^pass_s=([\d.]+)$", p.stdout, re.M)]
    if len(passes) != PASSES:
        sys.exit("overhead: the storm printed %r" % p.stdout)
    return passes[0], min(passes[1:]), wall


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--memtrace", default="build/memtrace")
    ap.add_argument("--touch", default="build/tools/touch")
    ap.add_argument("--mib", type=int, default=2048)
    ap.add_argument("--runs", type=int, default=15)
    a = ap.parse_args()

    plain, traced, startup, self_hwm, lost = [], [], [], [], []
    storm = [a.touch, str(a.mib), str(PASSES)]
    with tempfile.TemporaryDirectory() as tmp:
        js = os.path.join(tmp, "r.json")
        for i in range(a.runs):
            # Alternate which goes first so drift in the machine hits both alike.
            for kind in (("plain", "traced") if i % 2 == 0 else ("traced", "plain")):
                if kind == "plain":
                    plain.append(run_storm(storm))
                else:
                    traced.append(run_storm([a.memtrace, "--as-root", "--json", js, "-o", os.devnull, "--"] + storm))
                    with open(js) as f:
                        r = json.load(f)
                    startup.append(r["startup_ms"])
                    self_hwm.append(r["memtrace_self"]["vmhwm_bytes"])
                    lost.append(r["events"]["lost"])
    faults = a.mib * 256
    print("page-fault storm: touch %d MiB page by page (%d faults), %d interleaved runs" % (
        a.mib, faults, a.runs))
    print("  %-9s %9s %9s %9s %9s   %s" % ("", "plain", "traced", "plain", "traced", "slowdown"))
    print("  %-9s %9s %9s %9s %9s   %s" % ("", "median", "median", "min", "min",
                                          "median of ratios (of medians, of minima)"))
    for k, name in enumerate(KINDS):
        p = [x[k] for x in plain]
        t = [x[k] for x in traced]
        ratios = [y / x for x, y in zip(p, t)]
        print("  %-9s %8.3fs %8.3fs %8.3fs %8.3fs   %.3f (%.3f, %.3f)" % (
            name, statistics.median(p), statistics.median(t), min(p), min(t),
            statistics.median(ratios), statistics.median(t) / statistics.median(p), min(t) / min(p)))
    print("  memtrace start-up (start to exec): median %.1f ms, max %.1f ms" % (
        statistics.median(startup), max(startup)))
    print("  memtrace own peak RSS (VmHWM): max %.1f MiB" % (max(self_hwm) / 1048576))
    print("  events lost: %d" % sum(lost))
    return 0


if __name__ == "__main__":
    sys.exit(main())
