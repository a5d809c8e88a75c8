#!/usr/bin/env python3
"""What RSS a Linux kernel before 6.2 would have shown at memtrace's RSS peak.

usage: tools/old_kernel_rss.py TASKS_CSV REPORT_JSON

TASKS_CSV and REPORT_JSON are the --tasks-csv and --json files of one
memtrace run (one run only: --runs 1).

Before Linux 6.2 ("mm: convert mm's rss stats into percpu_counter"), a
thread's own page faults changed a counter cached in its task_struct
(SPLIT_RSS_COUNTING); the cache went into the process's RSS only on the
fault that found more than 64 faults since the last flush (mm/memory.c
check_sync_rss_stat: "sync counter once per 64 page faults", checked
before the fault is counted) and when the thread exited. So a thread that
made k faults still held the pages of its last ((k - 1) mod 65) + 1 faults
in its own cache, out of every RSS figure (/proc, getrusage, time, ps), as
long as it lived. A sleeping thread of a benchmark keeps them for its whole
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
FLUSH_AFTER = 65  # faults kept in a task's cache at most (events > 64 flushes)


def unflushed(faults):
    """Pages of the last faults still in a task's cache after `faults` faults."""
    return 0 if faults <= 0 else (faults - 1) % FLUSH_AFTER + 1


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
