#!/usr/bin/env python3
"""What RSS a Linux kernel before 6.2 would have shown at memtrace's RSS peak.

usage: tools/old_kernel_rss.py TASKS_CSV REPORT_JSON

TASKS_CSV and REPORT_JSON are the --tasks-csv and --json files of one
memtrace run (one run only: --runs 1).

Before Linux 6.2 ("mm: convert mm's rss stats into percpu_counter"), a
thread's own page faults changed a counter cached in its task_struct
(SPLIT_RSS_COUNTING); the cache went into the process's RSS only when the
thread exited, or at a fault whose check found the event count past 64
(mm/memory.c check_sync_rss_stat: `if (events++ > 64) sync_mm_rss()`,
which zeroes the count, before the fault adds its own page). The first
flush comes at a thread's 66th fault, the next ones every 66 faults. So a
thread that made k faults still held the pages of its last k (k <= 65) or
((k - 66) mod 66) + 1 faults in its own cache, out of every RSS figure
(/proc, getrusage, time, ps), as long as it lived. A sleeping thread of a benchmark keeps them for its whole
sleep.

memtrace counts each thread's faults (page_faults in the per-task table)
and reads the RSS exactly (6.2+ counters). For every task alive at the RSS
peak, this subtracts the pages an old kernel would have left in the task's
cache, taking one page per fault (the first touch of an anonymous page, as
a thread's stack, maps one page; fault-around of file pages can map more,
and a write to a present page maps none). Prints the figures, one per line.
"""
import csv
import json
import sys

MIB = 1024 * 1024
PAGE = 4096
FIRST_FLUSH = 66  # the fault that first finds events > 64, and the period after it


def unflushed(faults):
    """Pages of the last faults still in a task's cache after `faults` faults."""
    if faults < FIRST_FLUSH:
        return max(faults, 0)
    return (faults - FIRST_FLUSH) % FIRST_FLUSH + 1


def alive_at(rows, t_ms):
    """Per-task rows of the tasks alive at t_ms (started, not yet exited)."""
    return [r for r in rows if float(r["start_ms"]) <= t_ms
            and (r["exit_ms"] == "" or float(r["exit_ms"]) > t_ms)]


def estimate(rows, report):
    """(tasks alive at the RSS peak, pages left out, RSS bytes, old-kernel RSS bytes)."""
    peak = report["peak_rss"]
    live = alive_at(rows, float(peak["t_ms"]))
    left_out = sum(unflushed(int(r["page_faults"])) for r in live)
    return len(live), left_out, peak["bytes"], peak["bytes"] - left_out * PAGE


def main(argv):
    if len(argv) != 2:
        sys.stderr.write("usage: old_kernel_rss.py TASKS_CSV REPORT_JSON\n")
        return 64
    try:
        with open(argv[0], newline="") as f:
            rows = list(csv.DictReader(f))
        with open(argv[1]) as f:
            report = json.load(f)
    except (OSError, ValueError) as e:
        sys.stderr.write("old_kernel_rss: cannot read %s\n" % e)
        return 1
    if len({r["run"] for r in rows}) > 1:
        sys.stderr.write("old_kernel_rss: cannot use a table of several runs (take --runs 1)\n")
        return 1
    tasks, left_out, rss, old = estimate(rows, report)
    print("tasks_alive_at_peak=%d" % tasks)
    print("pages_left_out=%d" % left_out)
    print("peak_rss_mib=%.1f" % (rss / MIB))
    print("old_kernel_rss_mib=%.1f" % (old / MIB))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
