#!/usr/bin/env python3
"""memtrace on large trees: attach with -p to a running tree of 100,000
threads (one process), of 10,000 and of 100,000 processes, and with --tasks
to the 100,000 threads, after one process alone as the baseline; prints the
time to attach (memtrace's start to its "attached" line: BPF load and the
task walk included), the time to report (SIGINT to exit, every live task
read and the report written), and memtrace's own peak RSS (the kernel's
ru_maxrss of the memtrace process). Raises kernel.pid_max (100,000
processes need more pids than the default 32,768), vm.max_map_count and
kernel.threads-max while it runs and restores them, also when it fails or
is interrupted. A tree is skipped, saying so, when the machine's
MemAvailable cannot hold it. Prints figures; asserts nothing.

Targets (issue 17): attach <= 1 s per 100k tasks, report <= 1 s, own RSS
<= 64 MiB at 100k processes.

usage: tools/scale.py [--memtrace build/memtrace] [--tree build/tools/hold_tree]
                      [--threads 100000] [--procs 10000,100000]
"""
import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from meminfo import meminfo_bytes  # noqa: E402
from sysctl_guard import SysctlGuard, terminate_as_exception, thread_sysctls  # noqa: E402

# A journal of its own: other benchmarks' guards may run at the same time.
JOURNAL = "/run/memtrace-bench/scale-sysctl-journal.json"
# What one of hold_tree's tasks takes from MemAvailable, with room to spare:
# 119 KiB per single-thread process measured here (page tables, kernel
# stack, task_struct, mm, copied pages), 64 KiB stack per thread.
PROC_BYTES = 160 << 10
THREAD_BYTES = 96 << 10
# Left to the rest of the machine (it is shared) while a tree is held.
SPARE_BYTES = 2 << 30


class Tree:
    """build/tools/hold_tree PROCS THREADS, alive for a with-block."""

    def __init__(self, tree, procs, threads):
        self.cmd = [tree, str(procs), str(threads)]

    def __enter__(self):
        t0 = time.monotonic()
        self.p = subprocess.Popen(self.cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        if self.p.stdout.readline().strip() != "ready":
            self.p.kill()
            self.p.wait()
            sys.exit("scale: %s did not start" % " ".join(self.cmd))
        self.start_s = time.monotonic() - t0
        return self

    def __exit__(self, *exc):
        self.p.stdin.close()
        self.p.wait()
        # The children die with the root; wait until they are gone.
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and any(
                comm == "hold_tree" for comm in comms()):
            time.sleep(0.2)
        return False


def comms():
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open("/proc/%s/comm" % d) as f:
                    yield f.read().strip()
            except OSError:
                pass


def attach(memtrace, root, opts, tmp):
    """(attach s, report s, ru_maxrss bytes, JSON) of one memtrace -p run."""
    js = os.path.join(tmp, "scale.json")
    t0 = time.monotonic()
    p = subprocess.Popen([memtrace, "--as-root", "-p", str(root), "--json", js, "-o", os.devnull] + opts,
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    attached = None
    for line in p.stderr:
        if line.startswith("memtrace: attached to"):
            attached = time.monotonic() - t0
            break
    if attached is None:
        p.wait()
        sys.exit("scale: memtrace -p %d did not attach (exit %d)" % (root, p.returncode))
    t1 = time.monotonic()
    p.send_signal(signal.SIGINT)
    rest = p.stderr.read()
    _, status, ru = os.wait4(p.pid, 0)
    report = time.monotonic() - t1
    p.returncode = os.waitstatus_to_exitcode(status)
    if rest.strip():
        print("  memtrace said: " + rest.strip().replace("\n", " | "))
    return attached, report, ru.ru_maxrss * 1024, summary_of(js)


def summary_of(js):
    """The few figures printed, read by a child: a --tasks JSON of 100,000
    rows would grow this process, and a child started by exec inherits its
    parent's peak RSS in ru_maxrss (the kernel keeps the old mm's high-water
    mark across exec), which would then not be memtrace's own."""
    code = ("import json, sys; r = json.load(open(sys.argv[1])); "
            "print(json.dumps({'procs': r['processes']['total'], "
            "'threads': r['threads']['peak_concurrent'], 'lost': r['events']['lost'], "
            "'hwm': r['memtrace_self']['vmhwm_bytes']}))")
    p = subprocess.run([sys.executable, "-c", code, js], check=True, stdout=subprocess.PIPE, text=True)
    return json.loads(p.stdout)


def mem_available():
    return meminfo_bytes("MemAvailable") or 0


def fits(procs, threads):
    """(whether the tree fits in MemAvailable with SPARE_BYTES left, its estimate)."""
    need = procs * PROC_BYTES + procs * (threads - 1) * THREAD_BYTES
    return need + SPARE_BYTES <= mem_available(), need


def own_hwm():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--memtrace", default="build/memtrace")
    ap.add_argument("--tree", default="build/tools/hold_tree")
    ap.add_argument("--threads", type=int, default=100000)
    ap.add_argument("--procs", default="10000,100000", help="process counts, comma-separated")
    a = ap.parse_args()
    procs = [int(n) for n in a.procs.split(",") if n]

    with open("/proc/loadavg") as f:
        print("scale: load average %s" % " ".join(f.read().split()[:3]))
    print("  %-38s %10s %10s %10s %12s %6s" % ("case", "tree_s", "attach_s", "report_s", "own_rss_mib",
                                               "lost"))
    # One task first: memtrace's own start-up (the verifier's load), the rest's baseline.
    cases = [("1 process (start-up alone)", 1, 1, [[]]),
             ("%d threads, 1 process" % a.threads, 1, a.threads, [[], ["--tasks"]])]
    cases += [("%d processes" % n, n, 1, [[]]) for n in procs]
    limits = thread_sysctls(max([a.threads] + procs))
    with terminate_as_exception(), SysctlGuard(limits, journal=JOURNAL) as guard, \
            tempfile.TemporaryDirectory() as tmp:
        for name, nprocs, threads, variants in cases:
            ok, need = fits(nprocs, threads)
            if not ok:
                print("  -p %-35s skipped: the tree needs about %.1f GiB, MemAvailable is %.1f GiB"
                      " (%.0f GiB kept for the rest of the machine)" % (
                          name, need / 2**30, mem_available() / 2**30, SPARE_BYTES / 2**30), flush=True)
                continue
            with Tree(a.tree, nprocs, threads) as tree:
                for opts in variants:
                    att, rep, rss, r = attach(a.memtrace, tree.p.pid, opts, tmp)
                    label = "-p %s%s" % (name, " " + " ".join(opts) if opts else "")
                    print("  %-38s %10.2f %10.2f %10.2f %12.1f %6d" % (
                        label, tree.start_s, att, rep, rss / 1048576, r["lost"]), flush=True)
                    print("  %-38s (report: %d processes, %d threads at most at once; VmHWM at its"
                          " collection %.1f MiB)" % ("", r["procs"], r["threads"], r["hwm"] / 1048576))
                    if own_hwm() >= rss:
                        print("  %-38s (own_rss may be this script's: its peak is %.1f MiB)" % (
                            "", own_hwm() / 1048576))
    print("  limits: " + ("; ".join(guard.describe()) or "none raised"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
