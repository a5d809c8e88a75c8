#!/usr/bin/env python3
"""Overhead of memtrace on a page-fault storm (touch 2 GiB page by page),
run interleaved with and without memtrace; also memtrace's start-up time and
its own peak RSS. Prints figures; asserts nothing (these machines are noisy).

usage: tools/overhead.py [--memtrace build/memtrace] [--touch build/tools/touch]
                         [--mib 2048] [--runs 7]
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time


def timed(cmd):
    t0 = time.monotonic()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.monotonic() - t0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--memtrace", default="build/memtrace")
    ap.add_argument("--touch", default="build/tools/touch")
    ap.add_argument("--mib", type=int, default=2048)
    ap.add_argument("--runs", type=int, default=7)
    a = ap.parse_args()

    plain, traced, startup, self_hwm, lost = [], [], [], [], []
    with tempfile.TemporaryDirectory() as tmp:
        js = os.path.join(tmp, "r.json")
        for i in range(a.runs):
            # Alternate which goes first so drift in the machine hits both alike.
            order = ["plain", "traced"] if i % 2 == 0 else ["traced", "plain"]
            for kind in order:
                if kind == "plain":
                    plain.append(timed([a.touch, str(a.mib)]))
                else:
                    traced.append(timed([a.memtrace, "--json", js, "--", a.touch, str(a.mib)]))
                    with open(js) as f:
                        r = json.load(f)
                    startup.append(r["startup_ms"])
                    self_hwm.append(r["memtrace_self"]["vmhwm_bytes"])
                    lost.append(r["events"]["lost"])
    ratios = [t / p for t, p in zip(traced, plain)]
    print("page-fault storm: touch %d MiB page by page, %d interleaved runs" % (a.mib, a.runs))
    print("  plain   median %.3f s  min %.3f s" % (statistics.median(plain), min(plain)))
    print("  traced  median %.3f s  min %.3f s" % (statistics.median(traced), min(traced)))
    print("  slowdown ratio: median %.3f (of medians %.3f, of minima %.3f)" % (
        statistics.median(ratios), statistics.median(traced) / statistics.median(plain),
        min(traced) / min(plain)))
    print("  memtrace start-up (start to exec): median %.1f ms, max %.1f ms" % (
        statistics.median(startup), max(startup)))
    print("  memtrace own peak RSS (VmHWM): max %.1f MiB" % (max(self_hwm) / 1048576))
    print("  events lost: %d" % sum(lost))
    return 0


if __name__ == "__main__":
    sys.exit(main())
