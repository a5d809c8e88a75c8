#!/usr/bin/env python3
"""What memtrace's programs cost per event while a command runs under it: the
kernel's own count of each program's runs and nanoseconds
(kernel.bpf_stats_enabled, set for the measurement and put back), for one or
more memtrace builds run alternately, so that a change's effect shows beside
the machine's noise. Prints the median and lowest ns/event per program over
the runs; asserts nothing.

usage: tools/thread_costs.py [--runs 5] --memtrace A[,B...] -- CMD [ARGS...]
  e.g. tools/thread_costs.py --memtrace /tmp/old/memtrace,build/memtrace \\
           -- build/workloads/rust-threads/rust-threads 10000 1
"""
import argparse
import os
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from overhead import stats_of_run  # noqa: E402
from sysctl_guard import SysctlGuard  # noqa: E402

PROGRAMS = ("on_newtask", "on_exit", "on_rss_stat", "on_mmap_unlock", "on_mmap_write_lock")


def one_run(memtrace, cmd):
    """ns/event of each program over one run of cmd under memtrace."""
    stats = stats_of_run(memtrace, [], cmd, PROGRAMS)
    return {name: (s[0], s[1] / s[0]) for name, s in stats.items() if s and s[0]}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--memtrace", required=True, help="comma-separated memtrace binaries")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("cmd", nargs=argparse.REMAINDER)
    a = ap.parse_args()
    cmd = a.cmd[1:] if a.cmd[:1] == ["--"] else a.cmd
    if not cmd:
        ap.error("no command")
    builds = a.memtrace.split(",")
    per = {(b, n): [] for b in builds for n in PROGRAMS}
    counts = {}
    with SysctlGuard({"kernel.bpf_stats_enabled": 1}):
        for _ in range(a.runs):
            for b in builds:
                for name, (cnt, ns) in one_run(b, cmd).items():
                    per[(b, name)].append(ns)
                    counts[(b, name)] = cnt
    print("%s, %d alternating runs; ns/event: median [lowest], events in the last run" % (" ".join(cmd), a.runs))
    for b in builds:
        print(b)
        for n in PROGRAMS:
            xs = per[(b, n)]
            if xs:
                print("  %-16s %7.0f [%6.0f] ns  %9d events" % (n, statistics.median(xs), min(xs), counts[(b, n)]))
    load = open("/proc/loadavg").read().split()[:3]
    print("load average after: %s" % " ".join(load))
    return 0


if __name__ == "__main__":
    sys.exit(main())
