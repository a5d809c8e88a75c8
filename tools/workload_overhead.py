#!/usr/bin/env python3
"""What memtrace costs the benchmark's own workloads: each runtime at N tasks
(default 100,000), run with and without memtrace, interleaved; prints the
median wall-time and CPU-time ratios per runtime. The wall ratio includes
memtrace's start-up (load and attach, before the command runs); cmd_ratio
is the command's own wall under memtrace (its exec to its exit, memtrace's
wall_s) over the plain run's, which is what memtrace costs the workload. Raises kernel.pid_max and
vm.max_map_count for thread-per-task runtimes and restores them. Prints
figures; asserts nothing.

usage: tools/workload_overhead.py [--memtrace build/memtrace] [--runtimes a,b]
                                  [--n 100000] [--runs 3] [--seconds 10]
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sysctl_guard import SysctlGuard, terminate_as_exception, thread_sysctls  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RUN = os.path.join(ROOT, "workloads", "run")


def built_runtimes():
    out = subprocess.run([RUN, "--list"], capture_output=True, text=True).stdout
    return [line.split()[0] for line in out.splitlines()[1:] if line.split()[1:2] == ["yes"]]


def timed(cmd):
    """Wall and CPU (user + system of the whole tree) seconds of cmd; raises on failure."""
    t0 = time.monotonic()
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.monotonic() - t0
    err = p.stderr.read().decode(errors="replace")
    p.stderr.close()
    p.returncode = os.waitstatus_to_exitcode(status)
    if p.returncode:
        raise RuntimeError("%s exited %d: %s" % (" ".join(cmd), p.returncode, err.strip()[-200:]))
    return wall, ru.ru_utime + ru.ru_stime


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--memtrace", default=os.path.join(ROOT, "build", "memtrace"))
    ap.add_argument("--runtimes", help="comma-separated (default: every built one)")
    ap.add_argument("--n", type=int, default=100000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--seconds", type=int, default=10)
    a = ap.parse_args()
    runtimes = a.runtimes.split(",") if a.runtimes else built_runtimes()
    limits = thread_sysctls(a.n)
    print("N = %d tasks sleeping %d s, %d interleaved runs each with and without memtrace" % (
        a.n, a.seconds, a.runs))
    print("%-15s %9s %9s %10s %9s %9s %9s %9s" % ("runtime", "wall", "traced", "wall_ratio",
                                                  "cmd_ratio", "cpu", "traced", "cpu_ratio"))
    with terminate_as_exception(), SysctlGuard(limits) as guard, \
            tempfile.TemporaryDirectory() as tmp:
        for rt in runtimes:
            work = [RUN, rt, str(a.n), str(a.seconds)]
            report = os.path.join(tmp, "report.json")
            traced = [a.memtrace, "--as-root", "-o", os.path.join(tmp, "report.txt"), "--json", report,
                      "--"] + work
            plain_w, plain_c, tr_w, tr_c, ratios, cratios, cmd_ratios = [], [], [], [], [], [], []
            try:
                for i in range(a.runs):
                    pair = [(work, plain_w, plain_c), (traced, tr_w, tr_c)]
                    for cmd, walls, cpus in (pair if i % 2 == 0 else pair[::-1]):
                        w, cpu = timed(cmd)
                        walls.append(w)
                        cpus.append(cpu)
                    ratios.append(tr_w[-1] / plain_w[-1])
                    with open(report) as f:
                        cmd_ratios.append(json.load(f)["wall_s"] / plain_w[-1])
                    cratios.append(tr_c[-1] / plain_c[-1] if plain_c[-1] > 0 else float("nan"))
            except RuntimeError as e:
                print("%-15s failed: %s" % (rt, e), flush=True)
                continue
            print("%-15s %8.2fs %8.2fs %10.3f %9.3f %8.2fs %8.2fs %9.3f" % (
                rt, statistics.median(plain_w), statistics.median(tr_w), statistics.median(ratios),
                statistics.median(cmd_ratios), statistics.median(plain_c), statistics.median(tr_c),
                statistics.median(cratios)),
                flush=True)
    print("limits: " + "; ".join(guard.describe()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
