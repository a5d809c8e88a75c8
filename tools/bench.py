#!/usr/bin/env python3
"""The benchmark: N concurrent tasks that each sleep, in every built runtime,
measured by memtrace (peak RSS, kernel memory, peak total).

usage: tools/bench.py [--memtrace build/memtrace] [--runtimes a,b] [--sizes 1,10000]
                      [--runs K] [--seconds S] [--out DIR] [--quick] [--via-run]
                      [--article TSV] [--attempt-all] [--replot DIR]

For each N in --sizes (default 1, 10000, 100000, 1000000) and each runtime
that workloads/run lists as built (the others get a "skipped" row), runs
`memtrace --json --csv -- <workload> N SECONDS` --runs times (default 3,
interleaved: every runtime once, then again) and writes to --out (default
results/<date>-<hostname>/):

    summary.csv      one row per (runtime, N, run), failed and skipped ones too
    runs/            every run's JSON report, time-series CSV, text report, stderr
    results.md       per cell the median peak total, the runs' min-max and a
                     flag where that spread is over 5% of the median; bytes per
                     task and ratios with their ranges; rankings the ranges
                     support; the article / pinned / current table
                     (workloads/article.tsv); every run; versions, machine
    readme-table.md  the matrix in the README's form
    bench.bmf.json   the matrix in Bencher Metric Format, cells named <runtime>/<N>
    bench.github.json  the same for github-action-benchmark (customSmallerIsBetter)
    bench.json       the data, settings, limits and sysctl changes
    figures/         peak-n<N> (median, min-max whiskers), bytes-per-task (log
                     dots with ranges), over-time-n<N> (a panel per runtime)

Thread-per-task runtimes need more PIDs and memory mappings than Linux allows
by default from a few tens of thousands of threads on: kernel.pid_max and
vm.max_map_count are raised for such a run only and restored right after it,
also on failure, Ctrl-C or SIGTERM (tools/sysctl_guard.py). A million OS
threads would need about 30 GiB of kernel memory and stacks, so thread-per-task
runtimes above 100,000 tasks are recorded as "not attempted" and never run;
so is java-threads above 10,000 (THREAD_CAPS: it cannot start them fast
enough to have them alive at once; --attempt-all runs it anyway).

Variants with runtime settings pinned (VARIANTS, e.g. java-virtual+fixed-heap)
run when named in --runtimes.

The workload is exec'd directly, with the command line workloads/run would
exec (--via-run goes through the script instead): memtrace counts the shell
that runs the script until it execs, about 1.5 MiB, which would be most of a
small native workload's peak.

--quick: c-timers, c-pthreads, go and python at N = 1 and 1000, 1 s sleeps,
one run (--runs to change); about 5 s with figures (runs go up to 6 at once).
"""
import argparse
import concurrent.futures
import csv
import datetime
import json
import os
import platform
import resource
import signal
import socket
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import bench_article  # noqa: E402
import bench_export  # noqa: E402
import bench_plan  # noqa: E402
import bench_stats  # noqa: E402
import plot_timeseries  # noqa: E402
import sysctl_guard  # noqa: E402
from bench_stats import as_int, cell, ok_rows  # noqa: E402
from meminfo import meminfo_bytes  # noqa: E402
from plots import charts, gp  # noqa: E402

ROOT = os.path.dirname(HERE)
MIB = 1048576.0

DEFAULT_SIZES = [1, 10000, 100000, 1000000]
QUICK_RUNTIMES = ["c-timers", "c-pthreads", "go", "python"]
QUICK_SIZES = [1, 1000]
QUICK_SECONDS = 1

DEFAULT_RUNS = 3
# memtrace processes running now, for stopping them all on an interrupt.
LIVE = set()
ARTICLE_TSV = os.path.join(ROOT, "workloads", "article.tsv")

# Above this many tasks a thread-per-task runtime is not run (see module doc).
MAX_THREADS = 100000
# Thread-per-task runtimes that cannot have more tasks than this alive at
# once here, whatever the limits: above it they are not attempted (unless
# --attempt-all), as their runs would not measure N tasks and would take a
# tenth of the matrix's time.
THREAD_CAPS = {
    "java-threads": (10000, "the JVM starts platform threads too slowly here for 100,000 to be alive "
                            "at once: the first tasks' 10 s sleeps end before the last threads start "
                            "(at most 26,007 alive at once, in an 87 s run, on 2026-11-28)"),
}

# Variants of a workload with runtime settings pinned, run only when named
# in --runtimes: name -> (workload, options put before the program's own,
# what they pin). The JVM sizes its heap and young generation from the
# machine and from past GC times, so its peak varies from run to run (see
# docs/results.md); these take those choices away.
VARIANTS = {
    "java-virtual+fixed-heap": ("java-virtual", ["-Xms2g", "-Xmx2g"],
                                "G1 with the heap fixed at 2 GiB (-Xms2g -Xmx2g)"),
    "java-virtual+serial": ("java-virtual", ["-XX:+UseSerialGC"], "serial GC (-XX:+UseSerialGC)"),
}
# Per OS thread: 16 KiB kernel stack, ~6.6 KiB task struct and small slab
# objects, page tables and the touched pages of its user stack (measured:
# 22-30 KiB per thread at 100k).
THREAD_COST_BYTES = 30 * 1024

COLUMNS = [
    "runtime", "version", "model", "n", "run",
    "peak_user_bytes", "peak_kernel_bytes", "peak_total_bytes", "peak_threads",
    "wall_s", "cpu_s", "exit_status", "status",
    # Beyond the summary proper: the split of the peak total into user and
    # kernel memory at that instant (they add up to peak_total_bytes, unlike
    # the two separate peaks above), and what a reader needs to check a run.
    "total_peak_user_bytes", "total_peak_kernel_bytes", "peak_total_t_ms",
    "processes", "page_faults", "events_lost", "sysctl", "command",
    # memtrace --cgroup: the run's memory cgroup's charged peak (each page
    # once, page cache and kernel memory in); empty where no cgroup is usable.
    "charged_peak_bytes",
]


class BenchError(Exception):
    pass


# ---------------------------------------------------------------- workloads

class Workloads:
    """The workloads as workloads/run lists them, and how to exec each one."""

    def __init__(self, run_script, build_dir):
        self.run = os.path.abspath(run_script)
        self.build = os.path.abspath(build_dir)
        self.env = dict(os.environ, BUILD=self.build)
        self.table = []       # dicts: name, built, model, version, in run's order
        p = subprocess.run([self.run, "--list"], capture_output=True, text=True, env=self.env)
        if p.returncode != 0:
            raise BenchError("cannot list workloads (%s --list): %s" % (self.run, p.stderr.strip()))
        for line in p.stdout.splitlines()[1:]:
            parts = line.split(None, 3)
            if len(parts) < 3:
                continue
            version = parts[3].strip() if len(parts) > 3 else ""
            self.table.append({"name": parts[0], "built": parts[1] == "yes", "model": parts[2],
                               "version": "" if version == "-" else version})
        self.by_name = {w["name"]: w for w in self.table}
        for name, (base, opts, what) in VARIANTS.items():
            b = self.by_name.get(base)
            if b:
                self.by_name[name] = dict(b, name=name, version=(b["version"] + ", " + what).strip(", "),
                                          variant=True)

    def names(self):
        return [w["name"] for w in self.table]

    def interp(self, name):
        with open(os.path.join(self.build, name, "interp")) as f:
            return f.read().strip()

    def argv(self, name, n, seconds, via_run=False):
        """The command line of workload name with n tasks sleeping seconds:
        what workloads/run would exec, as its --argv prints it; a variant
        (VARIANTS) with its options put after the interpreter."""
        if name in VARIANTS:
            base, opts, _ = VARIANTS[name]
            argv = self.argv(base, n, seconds)
            return argv[:1] + opts + argv[1:]
        args = [str(n), str(seconds)]
        if via_run:
            return [self.run, name] + args
        return self.exec_line(name, n, seconds)[1]

    def environ(self, name, n, seconds):
        """The environment to run argv(name, ...) in: ours plus the
        variables workloads/run would set (csharp-coreclr's ICU version)."""
        base = VARIANTS[name][0] if name in VARIANTS else name
        return dict(os.environ, **self.exec_line(base, n, seconds)[0])

    def exec_line(self, name, n, seconds):
        """({VAR: VALUE}, argv) that `workloads/run NAME N SECONDS` would
        exec, from its --argv: VAR=VALUE lines, a line --, the arguments."""
        p = subprocess.run([self.run, "--argv", name, str(n), str(seconds)], capture_output=True,
                           text=True, env=self.env)
        lines = p.stdout.split("\n")[:-1]
        if p.returncode != 0 or "--" not in lines:
            raise BenchError("cannot get the command line of %s (%s --argv): %s"
                             % (name, self.run, p.stderr.strip()))
        cut = lines.index("--")
        env = dict(line.split("=", 1) for line in lines[:cut])
        return env, lines[cut + 1:]


# ------------------------------------------------------------------- limits

def read_int(path):
    try:
        with open(path) as f:
            v = f.read().strip()
    except OSError:
        return None
    if v == "max":
        return None
    try:
        return int(v)
    except ValueError:
        return None


def own_cgroup_file(controller, filename):
    """The value of filename in this process's cgroup of controller (v1), or
    of the unified hierarchy (v2), going up to the root; None when unlimited
    or unknown. Returns the smallest limit found on the way up."""
    try:
        with open("/proc/self/cgroup") as f:
            lines = f.read().splitlines()
    except OSError:
        return None
    best = None
    for line in lines:
        hid, ctrls, path = line.split(":", 2)
        if controller in ctrls.split(","):
            base = "/sys/fs/cgroup/" + controller
        elif hid == "0" and ctrls == "":
            base = "/sys/fs/cgroup/unified" if os.path.isdir("/sys/fs/cgroup/unified") else "/sys/fs/cgroup"
        else:
            continue
        p = path
        while True:
            v = read_int(os.path.join(base + p, filename))
            if v is not None and v < (1 << 60):
                best = v if best is None else min(best, v)
            if p in ("/", ""):
                break
            p = os.path.dirname(p)
    return best


def mem_total_bytes():
    return meminfo_bytes("MemTotal")


def limits_snapshot():
    """The limits a run of many threads can hit."""
    return {
        "kernel.pid_max": sysctl_guard.read_sysctl("kernel.pid_max"),
        "vm.max_map_count": sysctl_guard.read_sysctl("vm.max_map_count"),
        "kernel.threads-max": sysctl_guard.read_sysctl("kernel.threads-max"),
        "RLIMIT_NPROC": resource.getrlimit(resource.RLIMIT_NPROC)[0],
        "memory_cgroup_limit_bytes": (own_cgroup_file("memory", "memory.limit_in_bytes")
                                      or own_cgroup_file("memory", "memory.max")),
        "pids_cgroup_max": own_cgroup_file("pids", "pids.max"),
        "mem_total_bytes": mem_total_bytes(),
    }


def thread_limit_problems(n, limits):
    """What outside this harness's reach would stop n threads."""
    out = []
    pm = limits.get("pids_cgroup_max")
    if pm is not None and pm < n + 1000:
        out.append("pids cgroup allows %d tasks" % pm)
    ml = limits.get("memory_cgroup_limit_bytes")
    if ml is not None and ml < n * THREAD_COST_BYTES:
        out.append("memory cgroup limit %s < ~%s needed" % (gp.fmt_bytes(ml), gp.fmt_bytes(n * THREAD_COST_BYTES)))
    return out


def not_attempted_reason(n, limits):
    est = n * THREAD_COST_BYTES
    mem = limits.get("mem_total_bytes") or 0
    return ("%s OS threads need about %s of kernel stacks, task structs, page tables and touched "
            "stacks (~%d KiB each; machine has %s), a PID each (pid_max at most %d) and "
            "threads-max %d" % ("{:,}".format(n), gp.fmt_bytes(est), THREAD_COST_BYTES // 1024,
                                gp.fmt_bytes(mem), sysctl_guard.PID_MAX_RAISED, limits.get("kernel.threads-max") or 0))


# ---------------------------------------------------------------- one run

def lift_nproc_limit():
    """Root is exempt from RLIMIT_NPROC, but a harness run with capabilities
    only is not: lift it to the hard limit, for this process and so for the
    workloads it starts (set here once, not in a preexec_fn, which is unsafe
    beside the threads that run two workloads at once)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NPROC)
    try:
        resource.setrlimit(resource.RLIMIT_NPROC, (hard, hard))
    except (ValueError, OSError):
        pass


def _stop(p, grace=15):
    """SIGTERM to the run's process group (memtrace forwards it to the
    command), then SIGKILL if it is still there after grace seconds."""
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 10)):
        try:
            os.killpg(p.pid, sig)
        except ProcessLookupError:
            pass
        try:
            p.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue


def last_line(path):
    try:
        with open(path, errors="replace") as f:
            lines = [ln.strip() for ln in f.read().splitlines() if ln.strip()]
    except OSError:
        return ""
    return lines[-1][:200] if lines else ""


def cgroup_problem(memtrace):
    """None when memtrace --cgroup works here, else its one-line reason."""
    p = subprocess.run([memtrace, "--as-root", "--cgroup", "-o", os.devnull, "--", "true"], capture_output=True, text=True)
    return None if p.returncode == 0 else (p.stderr.strip().splitlines() or ["exit %d" % p.returncode])[-1]


def run_memtrace(memtrace, argv, stem, interval, timeout, env=None, cgroup=False):
    """Runs argv under memtrace (in env, default ours; in a memory cgroup of
    its own with cgroup); returns a dict with rc, timed_out, wall, report
    (the JSON or None) and the file paths."""
    files = {k: stem + ext for k, ext in (("json", ".json"), ("csv", ".csv"),
                                          ("report", ".report.txt"), ("stderr", ".stderr"))}
    for path in files.values():
        if os.path.exists(path):
            os.unlink(path)
    cmd = [memtrace, "--as-root", "--json", files["json"], "--csv", files["csv"], "--interval", str(interval),
           "-o", files["report"]] + (["--cgroup"] if cgroup else []) + ["--"] + argv
    t0 = time.monotonic()
    timed_out = False
    with open(files["stderr"], "wb") as err:
        p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err,
                             start_new_session=True, env=env)
        LIVE.add(p)
        try:
            rc = p.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            timed_out = True
            _stop(p)
            rc = p.returncode
        except BaseException:
            _stop(p, grace=5)
            raise
        finally:
            LIVE.discard(p)
    wall = time.monotonic() - t0
    report = None
    if os.path.exists(files["json"]) and os.path.getsize(files["json"]) > 0:
        try:
            with open(files["json"]) as f:
                report = json.load(f)
        except ValueError:
            report = None
    return {"rc": rc, "timed_out": timed_out, "wall": wall, "report": report, "files": files,
            "cmd": cmd}


def row_from(rt, n, k, res, timeout, sysctl_text, argv):
    r = res["report"]
    row = {c: "" for c in COLUMNS}
    row.update(runtime=rt["name"], version=rt["version"], model=rt["model"], n=n, run=k,
               exit_status=res["rc"] if res["rc"] is not None else "", sysctl=sysctl_text,
               command=" ".join(argv))
    if r:
        at = r["peak_total"]["at_peak"]
        row.update(peak_user_bytes=r["peak_rss"]["bytes"], peak_kernel_bytes=r["peak_kernel"]["bytes"],
                   peak_total_bytes=r["peak_total"]["bytes"],
                   peak_threads=r["threads"]["peak_concurrent"],
                   wall_s="%.3f" % r["wall_s"], cpu_s="%.3f" % (r["user_s"] + r["sys_s"]),
                   total_peak_user_bytes=at["rss_bytes"], total_peak_kernel_bytes=at["kernel_bytes"],
                   peak_total_t_ms="%.1f" % r["peak_total"]["t_ms"],
                   processes=r["processes"]["total"], page_faults=r.get("page_faults", ""),
                   events_lost=r["events"]["lost"],
                   charged_peak_bytes=(r.get("cgroup") or {}).get("peak_bytes", ""))
    if res["timed_out"]:
        row["status"] = "failed: timeout after %d s" % timeout
    elif res["rc"] != 0:
        msg = last_line(res["files"]["stderr"])
        sig = r["exit"].get("signal") if r else None
        what = "killed by signal %s" % sig if sig else "exit %s" % res["rc"]
        row["status"] = "failed: %s%s" % (what, ": " + msg if msg else "")
    elif not r:
        row["status"] = "failed: no JSON report (%s)" % (last_line(res["files"]["stderr"]) or "no message")
    else:
        row["status"] = "ok"
    return row


def start_run(job, memtrace, wl, out, seconds, a, timeout, cgroup=False):
    """Runs one planned run under its own memtrace (called in a worker
    thread); returns (result, guard, limits, problems, argv). The sysctls
    a thread-per-task run needs are raised around it (the schedule runs such
    a run alone) and restored, whatever ends it."""
    n, rt, k = job.n, job.rt, job.k
    name = rt["name"]
    argv_w = wl.argv(name, n, seconds, a.via_run)
    stem = os.path.join(out, "runs", "%s-%d-%d" % (name, n, k))
    want = sysctl_guard.thread_sysctls(n) if rt["model"] == "thread-per-task" else {}
    limits = limits_snapshot()
    problems = thread_limit_problems(n, limits) if rt["model"] == "thread-per-task" else []
    guard = sysctl_guard.SysctlGuard(want)
    with guard:
        res = run_memtrace(memtrace, argv_w, stem, a.interval, timeout,
                           env=None if a.via_run else wl.environ(name, n, seconds), cgroup=cgroup)
    return res, guard, limits, problems, argv_w


def run_schedule(jobs, policy, start, on_done):
    """Starts the jobs as bench_plan.pick allows, each in a worker thread
    (start(job) returns its result), and calls on_done(job, result, t0, t1)
    in this thread as each ends (t0, t1: monotonic start and end). On an
    interrupt every run still going is stopped, the others are not
    started, and the interrupt is raised again."""
    pending = [j for j in jobs if j.why is None]
    running = {}
    last_start = None
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=max(1, policy.jobs))
    try:
        while pending or running:
            now = time.monotonic()
            ready = last_start is None or now >= last_start + policy.start_gap_s
            job = bench_plan.pick(pending, [j for j, _ in running.values()], policy) if ready and pending else None
            if job:
                pending.remove(job)
                running[pool.submit(start, job)] = (job, now)
                last_start = now
                continue
            wait = 0.5 if ready or not pending else max(0.01, last_start + policy.start_gap_s - now)
            done, _ = concurrent.futures.wait(list(running), timeout=wait,
                                              return_when=concurrent.futures.FIRST_COMPLETED)
            for f in done:
                job, t0 = running.pop(f)
                on_done(job, f.result(), t0, time.monotonic())
    except BaseException:
        for p in list(LIVE):
            _stop(p, grace=5)
        raise
    finally:
        pool.shutdown(wait=True)


def mem_available_bytes():
    return meminfo_bytes("MemAvailable") or mem_total_bytes() or (1 << 30)


def plan_jobs(plan, jobs, seconds):
    """The plan's entries as bench_plan.Jobs with their estimates, and the
    policy for this machine. Whether a thread-per-task run raises sysctls is
    decided here, from the limits now (the schedule runs it alone)."""
    table = bench_plan.load_estimates()
    out = []
    for i, entry in enumerate(plan):
        n, rt, k, why = entry
        name = rt["name"]
        base = VARIANTS[name][0] if name in VARIANTS else name
        threads = rt["model"] == "thread-per-task"
        wall, cpu, peak = bench_plan.estimate(table, name, base, n, seconds, threads, THREAD_COST_BYTES)
        sysctls = sysctl_guard.thread_sysctls(n) if threads and why is None else {}
        out.append(bench_plan.Job(i, entry, wall, cpu, peak, threads, sysctls))
    return out, bench_plan.Policy(jobs, os.cpu_count(), mem_available_bytes())


def mark_concurrent(runs):
    """Adds to each run of meta["runs"] the runs that overlapped it in time
    ("runtime N=n run k"), for results.md's account of what ran beside what."""
    for r in runs:
        r["concurrent_with"] = ["%s N=%d run %d" % (o["runtime"], o["n"], o["run"]) for o in runs
                                if o is not r and o["start_s"] < r["end_s"] and r["start_s"] < o["end_s"]]


# ------------------------------------------------------------ aggregation

def cell_status(rows, name, n):
    """Why (runtime, n) has no value: the status of its first row."""
    for r in rows:
        if r["runtime"] == name and int(r["n"]) == n:
            return r["status"]
    return "not run"


def alive_note(c):
    """'' or 'only 26,007 alive at once' (threads), for a cell's median run."""
    m = c.median_run()
    if m is None or bench_stats.all_alive(m):
        return ""
    return "only %s alive at once" % fmt_n(as_int(m["peak_threads"]) or 0)


def spread_note(c):
    """'⚠ 31%' when the cell's runs spread over more than 5% of its median."""
    return "⚠ %.1f%%" % (100 * c.spread()) if c.flagged() else ""


def planned_runs(rows, name, n):
    return sum(1 for r in rows if r["runtime"] == name and int(r["n"]) == n)


def count_note(rows, c):
    """'2 of 3 runs' when some runs of the cell failed, else ''."""
    want = planned_runs(rows, c.name, c.n)
    return "%d of %d runs" % (c.count, want) if c.count < want else ""


def per_task_text(rows, name, sizes):
    """'456 B (450–462), kernel ≤ 2 B, N 1,000,000' or '-'."""
    v, lo, hi, nmax, _ = bench_stats.per_task(rows, name, sizes)
    if v is None:
        return "-"
    # The kernel memory at the peak total, over the same N (which N counts
    # depends on the cell, not on the column).
    kv, klo, khi, _, _ = bench_stats.per_task(rows, name, sizes, key="total_peak_kernel_bytes")
    return "%s, %s, N %s" % (bench_stats.fmt_bytes_range(v, lo, hi),
                             bench_stats.kernel_per_task_text(kv, klo, khi), fmt_n(nmax))


def short_status(s):
    """'not attempted: long reason' -> 'not attempted' for table cells."""
    return s.split(":", 1)[0] if s else s


# ----------------------------------------------------------------- output

def machine_info():
    cpu = ""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return {"hostname": socket.gethostname(), "nproc": os.cpu_count(), "kernel": platform.release(),
            "mem_total_bytes": mem_total_bytes(), "cpu": cpu, "machine": platform.machine()}


def memtrace_version(memtrace):
    p = subprocess.run([memtrace, "--version"], capture_output=True, text=True)
    return (p.stdout or p.stderr).strip().splitlines()[0] if p.returncode == 0 else None


def git_commit():
    try:
        p = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"], capture_output=True,
                           text=True, timeout=10)
        return p.stdout.strip() if p.returncode == 0 else ""
    except (OSError, subprocess.TimeoutExpired):
        return ""


def fmt_n(n):
    return "{:,}".format(n)


def write_summary(path, rows):
    tmp = path + ".tmp"
    with open(tmp, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=COLUMNS)
        w.writeheader()
        for r in rows:
            w.writerow(r)
    os.replace(tmp, path)


def draw_figures(out, rows, names, sizes, meta, log):
    """Bar chart per N, bytes per task, memory over time per N. Returns the
    figure base names written (relative to out)."""
    fig_dir = os.path.join(out, "figures")
    os.makedirs(fig_dir, exist_ok=True)
    made = []
    colors = gp.colors_for(names)
    runs = meta["settings"]["runs"]
    sub = "each task sleeps %s s; median of %d run%s per cell; measured by memtrace on %s (%d CPUs, Linux %s)" % (
        meta["settings"]["seconds"], runs, "" if runs == 1 else "s", meta["machine"]["hostname"],
        meta["machine"]["nproc"], meta["machine"]["kernel"])
    for n in sizes:
        bars = []
        for name in names:
            c = cell(rows, name, n)
            if not c:
                bars.append({"label": name, "note": short_status(cell_status(rows, name, n))})
                continue
            med, lo, hi = c.stat()
            m = c.median_run()
            notes = [x for x in (spread_note(c), count_note(rows, c), alive_note(c)) if x]
            text = "%s MiB, kernel %s%s" % (bench_stats.fmt_mib_range(c), gp.fmt_mib(int(m["total_peak_kernel_bytes"])),
                                            "; " + "; ".join(notes) if notes else "")
            bars.append({"label": name, "user": int(m["total_peak_user_bytes"]), "median": med, "lo": lo,
                         "hi": hi, "text": text})
        base = os.path.join(fig_dir, "peak-n%d" % n)
        try:
            charts.stacked_peaks(bars, base, "Peak memory of %s concurrent task%s" % (
                fmt_n(n), "" if n == 1 else "s"), sub)
            made.append("peak-n%d" % n)
        except gp.GnuplotError as e:
            log("figure peak-n%d: %s" % (n, e))
    pt = []
    for name in names:
        v, lo, hi, nmax, why = bench_stats.per_task(rows, name, sizes)
        if v is None:
            pt.append({"label": name, "color": colors[name], "note": why})
        else:
            pt.append({"label": name, "color": colors[name], "value": v, "lo": lo, "hi": hi,
                       "text": "%s (1 to %s tasks)" % (bench_stats.fmt_bytes_range(v, lo, hi), fmt_n(nmax))})
    try:
        charts.per_task(pt, os.path.join(fig_dir, "bytes-per-task"), "Memory per task: slope of peak total "
                        "from 1 task to the largest N that ran with all tasks alive",
                        "peak total = RSS + kernel memory, by memtrace; %s s sleeps" % meta["settings"]["seconds"])
        made.append("bytes-per-task")
    except gp.GnuplotError as e:
        log("figure bytes-per-task: %s" % e)
    for n in sizes:
        panels = []
        for name in names:
            c = cell(rows, name, n)
            if not c:
                continue
            series = []
            median = 0
            for r in c.runs:
                csv_path = os.path.join(out, "runs", "%s-%d-%s.csv" % (name, n, r["run"]))
                try:
                    s = plot_timeseries.Series(name, csv_path)
                except (OSError, ValueError) as e:
                    log("figure over-time-n%d: %s: %s" % (n, name, e))
                    continue
                if r is c.median_run():
                    median = len(series)
                series.append(s)
            if series:
                panels.append({"label": name, "color": colors[name], "series": series, "median": median,
                               "text": "peak %s MiB, %d run%s" % (bench_stats.fmt_mib_range(c), c.count,
                                                                  "" if c.count == 1 else "s")})
        if not panels:
            continue
        try:
            plot_timeseries.plot_panels(panels, os.path.join(fig_dir, "over-time-n%d" % n),
                                        "Memory over time with %s task%s: peak total (RSS + kernel) in MiB "
                                        "against seconds since the start" % (fmt_n(n), "" if n == 1 else "s"),
                                        "one panel per runtime, each on its own scales; bold: the median "
                                        "run, its dot the exact peak; thin: the other runs")
            made.append("over-time-n%d" % n)
        except gp.GnuplotError as e:
            log("figure over-time-n%d: %s" % (n, e))
    return made


def cell_md(rows, c):
    """'**264** (183–290) ⚠ 31%<br>263 + 1.25' (median peak total and the
    runs' range, then RSS + kernel of the median run), in MiB."""
    m = c.median_run()
    notes = [x for x in (spread_note(c), count_note(rows, c), alive_note(c)) if x]
    text = bench_stats.fmt_mib_range(c)
    head, _, rest = text.partition(" ")
    return "**%s**%s%s<br>%s + %s" % (head, " " + rest if rest else "", " " + " ".join(notes) if notes else "",
                                      gp.fmt_mib(int(m["total_peak_user_bytes"])),
                                      gp.fmt_mib(int(m["total_peak_kernel_bytes"])))


def matrix_table(rows, names, sizes, meta, compact=False):
    """The runtime x N table in markdown lines; compact: the README's form
    (median and range only)."""
    L = []
    if compact:
        L.append("| runtime | " + " | ".join("N = %s" % fmt_n(n) for n in sizes) + " | bytes per task |")
        L.append("|---|" + "---:|" * (len(sizes) + 1))
    else:
        L.append("| runtime | model | version | " + " | ".join("N = %s" % fmt_n(n) for n in sizes) +
                 " | bytes/task |")
        L.append("|---|---|---|" + "---:|" * (len(sizes) + 1))
    for name in names:
        rt = meta["runtimes"].get(name, {})
        cells = [name] if compact else [name, rt.get("model", ""), rt.get("version", "") or "-"]
        if compact and rt.get("version"):
            cells = ["%s (%s)" % (name, rt["version"])]
        for n in sizes:
            c = cell(rows, name, n)
            if not c:
                cells.append(short_status(cell_status(rows, name, n)))
            elif compact:
                notes = [x for x in (spread_note(c), alive_note(c) and "(%s)" % alive_note(c)) if x]
                cells.append(bench_stats.fmt_mib_range(c) + (" " + " ".join(notes) if notes else ""))
            else:
                cells.append(cell_md(rows, c))
        txt = per_task_text(rows, name, sizes)
        cells.append(txt.split(", kernel")[0] if compact else txt)
        L.append("| " + " | ".join(cells) + " |")
    return L


def ranking_lines(rows, names, sizes):
    """Per N > 1: the order of the runtimes that the runs' ranges support,
    and at each N the ratio of every runtime to the lightest and to go."""
    L = []
    for n in sizes:
        if n <= 1:
            continue
        cells = [cell(rows, name, n) for name in names]
        groups = bench_stats.ranking(cells)
        if groups:
            L.append("- N = %s: %s" % (fmt_n(n), bench_stats.ranking_text(groups)))
    big = [n for n in sizes if n > 1]
    if not big:
        return L
    L.append("")
    refs = []
    for n in big:
        ran = [cell(rows, name, n) for name in names]
        ran = [c for c in ran if c and not c.name.startswith("c-")]
        if ran:
            refs.append((n, min(ran, key=lambda c: c.median())))
    # Go is the article's reference point ("Go loses over 12x to the
    # winner"): its ratios too, where it is not the lightest itself.
    go_sizes = [n for n, ref in refs if ref.name != "go" and cell(rows, "go", n)]
    head = ["runtime"] + ["N = %s: × %s" % (fmt_n(n), ref.name) for n, ref in refs]
    head += ["N = %s: × go" % fmt_n(n) for n in go_sizes]
    L.append("| " + " | ".join(head) + " |")
    L.append("|---|" + "---:|" * (len(head) - 1))
    for name in names:
        cells = [name]
        for n, ref in refs:
            c = cell(rows, name, n)
            r = bench_stats.ratio(c, ref) if c else None
            cells.append(bench_stats.fmt_ratio(r) if r else "-")
        for n in go_sizes:
            c = cell(rows, name, n)
            r = bench_stats.ratio(c, cell(rows, "go", n)) if c else None
            cells.append(bench_stats.fmt_ratio(r) if r else "-")
        L.append("| " + " | ".join(cells) + " |")
    return L


def schedule_lines(names, sizes, meta):
    """What ran beside what, from bench.json's runs: per cell its kind
    (tools/bench_plan.py) and how many other runs overlapped each of its
    runs (min-max), then the heavy and alone runs' company in words."""
    runs = meta.get("runs") or []
    if not runs or not all("concurrent_with" in r and "kind" in r for r in runs):
        return []
    by_cell = {}
    for r in runs:
        by_cell.setdefault((r["runtime"], r["n"]), []).append(r)
    L = ["| runtime | " + " | ".join("N = %s" % fmt_n(n) for n in sizes) + " |",
         "|---|" + "---|" * len(sizes)]
    for name in names:
        cells = [name]
        for n in sizes:
            rs = by_cell.get((name, n))
            if not rs:
                cells.append("-")
                continue
            k = sorted(len(r["concurrent_with"]) for r in rs)
            kind = rs[0]["kind"]
            if k[-1] == 0:
                cells.append("alone" if kind == "alone" else "%s, alone" % kind)
            else:
                cells.append("%s, beside %s" % (kind, "%d" % k[0] if k[0] == k[-1] else "%d–%d" % (k[0], k[-1])))
        L.append("| " + " | ".join(cells) + " |")
    L.append("")
    # The most runs at once: a sweep over the starts and ends.
    most = cur = 0
    for _, step in sorted([(r["start_s"], 1) for r in runs] + [(r["end_s"], -1) for r in runs]):
        cur += step
        most = max(most, cur)
    L.append("At most %d runs at once. Cells with a run that had nothing beside it: %s." % (most, ", ".join(sorted(
        {"%s at %s" % (r["runtime"], fmt_n(r["n"])) for r in runs if not r["concurrent_with"]}, key=str)) or "none"))
    shared = [r for r in runs if r["kind"] != "light" and r["concurrent_with"]]
    if shared:
        L.append("")
        L.append("Heavy or alone runs that had company (`runtime N=n run k`):")
        L.append("")
        for r in sorted(shared, key=lambda r: r["start_s"]):
            L.append("- %s N=%s run %d: %s" % (r["runtime"], fmt_n(r["n"]), r["run"], ", ".join(r["concurrent_with"])))
    return L


def write_results_md(path, rows, names, sizes, meta, figures, article=None):
    L = []
    m = meta["machine"]
    s = meta["settings"]
    L.append("# memtrace benchmark: N concurrent tasks sleeping %s s" % s["seconds"])
    L.append("")
    L.append("- date: %s (bench wall time %s)" % (meta["started"], _fmt_dur(meta.get("wall_s"))))
    L.append("- machine: %s, %d CPUs (%s), %s RAM, Linux %s" % (
        m["hostname"], m["nproc"], m["cpu"] or m["machine"], gp.fmt_bytes(m["mem_total_bytes"] or 0),
        m["kernel"]))
    L.append("- memtrace: %s%s; time-series interval %d ms" % (
        meta["memtrace_version"], " (commit %s)" % meta["commit"] if meta.get("commit") else "",
        s["interval_ms"]))
    L.append("- runs per cell: %d, interleaved (every runtime once, then again); sizes: %s" % (
        s["runs"], ", ".join(fmt_n(n) for n in sizes)))
    if meta.get("planned_s") is not None:
        L.append("- schedule: up to %d runs at once within %.1f cores and %s of memory (tools/bench_plan.py; "
                 "planned %s from its estimates, took %s); \"What ran beside what\" below" % (
                     s["jobs"], s.get("cpu_budget", 0), gp.fmt_bytes(s.get("mem_budget_bytes", 0)),
                     _fmt_dur(meta["planned_s"]), _fmt_dur(meta.get("wall_s"))))
    if s.get("quick"):
        L.append("- QUICK mode: a subset for testing, not a benchmark result")
    if meta.get("interrupted"):
        L.append("- INTERRUPTED: the matrix did not finish; cells show the runs that did")
    L.append("")
    L.append("Cells: **median peak total** of the runs in MiB, then (min–max) of the runs, rounded to what "
             "that range allows (no range: the runs agree to the digits shown); ⚠ and a percentage where max - min is over %d%% of the median; below it "
             "RSS + kernel memory of the median run at its peak. Peak total is the maximum over the run of the "
             "tree's RSS plus its kernel memory (page tables, kernel stacks, task structs), measured exactly "
             "by memtrace. Bytes per task: (median peak total at N_max - median at 1) / (N_max - 1), N_max the "
             "largest N whose median run had all its tasks alive at once; its range from the runs' extremes "
             "((min at N_max - max at 1) to (max at N_max - min at 1)); the kernel share is given as a bound "
             "where the runs cannot tell it from zero." % (100 * bench_stats.SPREAD_FLAG))
    L.append("")
    L += matrix_table(rows, names, sizes, meta)
    L.append("")
    flagged = [(name, n) for n in sizes for name in names if cell(rows, name, n).flagged()]
    if flagged:
        L.append("Cells whose runs spread over %d%% of their median: %s." % (
            100 * bench_stats.SPREAD_FLAG, ", ".join("%s at %s (%.1f%%)" % (name, fmt_n(n), 100 * cell(rows, name, n).spread())
                                                     for name, n in flagged)))
    else:
        L.append("No cell's runs spread over %d%% of its median." % (100 * bench_stats.SPREAD_FLAG))
    L.append("")
    rk = ranking_lines(rows, names, sizes)
    if rk:
        L.append("## Rankings and ratios the runs support")
        L.append("")
        L.append("Lightest first; `≈` joins runtimes whose ranges overlap (their order is not supported by "
                 "the runs). Ratios: median / median, with the range from the runs' extremes (min / max to "
                 "max / min); the reference is the lightest runtime of the article's (not the C ones).")
        L.append("")
        L += rk
        L.append("")
    if article:
        lines, note = article
        L.append("## Against the article: its figure, the pinned versions, today's")
        L.append("")
        L.append("Peak **RSS** (what the article's figures can show), median of the runs with their range. "
                 "Pinned: the workload NAME@2023, built with the versions the article ran; current: NAME.")
        L.append("")
        L += lines
        L.append("")
        L += note
        L.append("")
    sched = schedule_lines(names, sizes, meta)
    if sched:
        L.append("## What ran beside what")
        L.append("")
        L.append("Per cell: the kind of its runs (light: up to %d at once; heavy: nothing beside it, as its "
                 "spawning is CPU-bound and can outlast the sleep; alone: nothing beside it, as it raises kernel "
                 "limits) and how many other runs "
                 "overlapped each of its runs (min–max)." % s["jobs"])
        L.append("")
        L += sched
        L.append("")
    L.append("## Every run")
    L.append("")
    L.append("| runtime | N | run | peak total MiB | peak RSS MiB | peak kernel MiB | charged MiB | "
             "peak threads | wall s | CPU s | beside | status |")
    L.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    beside = {(r["runtime"], r["n"], r["run"]): len(r["concurrent_with"]) for r in meta.get("runs") or []
              if "concurrent_with" in r}
    for r in sorted(rows, key=lambda r: (names.index(r["runtime"]) if r["runtime"] in names else 0,
                                         int(r["n"]), int(r["run"]))):
        def mib(k):
            v = as_int(r.get(k))
            return gp.fmt_mib(v) if v is not None else ""
        L.append("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
            r["runtime"], fmt_n(int(r["n"])), r["run"], mib("peak_total_bytes"), mib("peak_user_bytes"),
            mib("peak_kernel_bytes"), mib("charged_peak_bytes"), r["peak_threads"], r["wall_s"], r["cpu_s"],
            beside.get((r["runtime"], int(r["n"]), int(r["run"])), ""), r["status"].replace("|", "/")))
    L.append("")
    changes = [r for r in rows if r["sysctl"]]
    if changes:
        L.append("## Kernel limits raised for a run (and restored after it)")
        L.append("")
        for r in changes:
            L.append("- %s N=%s run %s: %s" % (r["runtime"], fmt_n(int(r["n"])), r["run"], r["sysctl"]))
        L.append("")
    lim = meta.get("limits_before", {})
    L.append("Limits at the start: " + ", ".join("%s %s" % (k, v if v is not None else "none")
                                                for k, v in lim.items()))
    L.append("")
    lost = [r for r in rows if as_int(r["events_lost"])]
    if lost:
        L.append("Runs with lost events (their peaks may be low): " + ", ".join(
            "%s N=%s (%s lost)" % (r["runtime"], r["n"], r["events_lost"]) for r in lost))
        L.append("")
    if figures:
        L.append("## Figures")
        L.append("")
        for f in figures:
            L.append("![%s](figures/%s.png) ([SVG](figures/%s.svg))" % (f, f, f))
            L.append("")
    L.append("Workload command lines are in summary.csv (column command); each run's JSON report, "
             "time series, text report and stderr are in runs/. The matrix for CI dashboards: "
             "bench.bmf.json (Bencher Metric Format) and bench.github.json (github-action-benchmark, "
             "customSmallerIsBetter), one benchmark per cell named <runtime>/<N>.")
    with open(path, "w") as f:
        f.write("\n".join(L) + "\n")


def _fmt_dur(s):
    if s is None:
        return "n/a"
    s = int(round(s))
    return "%d min %02d s" % (s // 60, s % 60) if s >= 60 else "%d s" % s


def article_table(rows, names, sizes, meta, path, log):
    """(lines, note) of the article table, or None when article.tsv is
    missing or none of its runtimes ran."""
    if not path or not os.path.exists(path):
        return None
    try:
        figures = bench_article.load(path)
    except bench_article.ArticleError as e:
        log(str(e))
        return None
    if not any(cell(rows, f[0], f[1]) or cell(rows, f[0] + bench_article.PINNED_SUFFIX, f[1])
               for f in figures):
        return None
    versions = {x: rt.get("version", "") for x, rt in meta["runtimes"].items()}
    return bench_article.table(rows, figures, sizes, versions)


def finish(out, rows, names, sizes, meta, no_figures, log):
    """Figures, exports, bench.json and results.md from the rows; prints the
    tally."""
    figures = []
    if not no_figures and rows:
        try:
            gp.require()
            figures = draw_figures(out, rows, names, sizes, meta, log)
        except gp.GnuplotError as e:
            log("no figures: %s" % e)
    meta["figures"] = figures
    meta["rows"] = rows
    with open(os.path.join(out, "bench.json"), "w") as f:
        json.dump(meta, f, indent=1, default=str)
    bench_export.write_all(out, rows, names, sizes)
    article = article_table(rows, names, sizes, meta, meta["settings"].get("article"), log)
    write_results_md(os.path.join(out, "results.md"), rows, names, sizes, meta, figures, article)
    with open(os.path.join(out, "readme-table.md"), "w") as f:
        f.write("\n".join(matrix_table(rows, names, sizes, meta, compact=True)) + "\n")
    failed = sum(1 for r in rows if r["status"].startswith("failed"))
    ok = sum(1 for r in rows if r["status"] == "ok")
    print("bench: %d ok, %d failed, %d not run, in %s; %s" % (
        ok, failed, len(rows) - ok - failed, _fmt_dur(meta.get("wall_s")), os.path.join(out, "results.md")),
        flush=True)


def replot(out, no_figures, log):
    """Redraws figures and results.md of a finished (or interrupted) bench
    from its bench.json and summary.csv."""
    with open(os.path.join(out, "bench.json")) as f:
        meta = json.load(f)
    with open(os.path.join(out, "summary.csv"), newline="") as f:
        rows = [dict({c: "" for c in COLUMNS}, **r) for r in csv.DictReader(f)]
    names = meta["settings"]["runtimes"]
    sizes = meta["settings"]["sizes"]
    finish(out, rows, names, sizes, meta, no_figures, log)
    return 0


# ------------------------------------------------------------------- main

def parse_list(text, conv=str):
    return [conv(x.strip()) for x in text.split(",") if x.strip()]


def main(argv=None):
    ap = argparse.ArgumentParser(description="Benchmark: peak memory of N concurrent sleeping tasks "
                                             "per runtime, measured by memtrace.")
    ap.add_argument("--memtrace", default=os.path.join(ROOT, "build", "memtrace"))
    ap.add_argument("--runtimes", help="comma-separated workload names (default: all)")
    ap.add_argument("--sizes", help="comma-separated N (default 1,10000,100000,1000000)")
    ap.add_argument("--runs", type=int, help="runs per cell (default %d; 1 with --quick)" % DEFAULT_RUNS)
    ap.add_argument("--seconds", type=int, help="sleep of each task (default 10)")
    ap.add_argument("--out", help="results folder (default results/<date>-<hostname>)")
    ap.add_argument("--quick", action="store_true",
                    help="c-timers, c-pthreads, go, python at N=1,1000 with 1 s sleeps")
    ap.add_argument("--interval", type=int, default=100, help="time-series interval in ms (default 100)")
    ap.add_argument("--timeout", type=int, help="per-run timeout in s (default 10 x seconds + 120)")
    ap.add_argument("--via-run", action="store_true",
                    help="exec workloads through workloads/run (adds its shell to the peak)")
    ap.add_argument("--workloads-run", default=os.path.join(ROOT, "workloads", "run"))
    ap.add_argument("--build", default=os.environ.get("BUILD") or os.path.join(ROOT, "build", "workloads"),
                    help="workload build folder (default build/workloads, or $BUILD)")
    ap.add_argument("--attempt-all", action="store_true",
                    help="also run the thread-per-task cells known not to have N tasks alive at once")
    ap.add_argument("--article", default=ARTICLE_TSV,
                    help="the article's figures (default workloads/article.tsv; a missing file: no table)")
    ap.add_argument("--jobs", type=int, default=bench_plan.DEFAULT_JOBS,
                    help="most runs at once (default %d; 1: one run at a time); which runs may share the "
                    "machine: tools/bench_plan.py" % bench_plan.DEFAULT_JOBS)
    ap.add_argument("--dry-run", action="store_true",
                    help="print the plan (per run in plan order: runtime, N, run, what, kind, planned start "
                    "and end in s) and its planned time, and run nothing")
    ap.add_argument("--no-figures", action="store_true")
    ap.add_argument("--replot", metavar="DIR",
                    help="run nothing: redraw the figures and results.md of the results in DIR")
    a = ap.parse_args(argv)

    def log(msg):
        print("bench: %s" % msg, file=sys.stderr, flush=True)

    if a.replot:
        try:
            return replot(os.path.abspath(a.replot), a.no_figures, log)
        except (OSError, ValueError, KeyError) as e:
            log("cannot replot %s: %s" % (a.replot, e))
            return 2

    seconds = a.seconds if a.seconds is not None else (QUICK_SECONDS if a.quick else 10)
    runs = a.runs if a.runs is not None else (1 if a.quick else DEFAULT_RUNS)
    try:
        sizes = parse_list(a.sizes, int) if a.sizes else (QUICK_SIZES if a.quick else DEFAULT_SIZES)
    except ValueError:
        ap.error("--sizes: comma-separated whole numbers, got %r" % a.sizes)
    if runs < 1 or seconds < 0 or any(n < 1 for n in sizes) or not sizes or a.jobs < 1:
        ap.error("--runs >= 1, --jobs >= 1, --seconds >= 0, --sizes >= 1")
    sizes = sorted(set(sizes))
    timeout = a.timeout or 10 * seconds + 120
    memtrace = os.path.abspath(a.memtrace)

    if not os.access(memtrace, os.X_OK):
        log("memtrace not found at %s (build it with make)" % memtrace)
        return 2
    mver = memtrace_version(memtrace)
    if not mver:
        log("cannot run %s --version" % memtrace)
        return 2
    try:
        wl = Workloads(a.workloads_run, a.build)
    except BenchError as e:
        log(str(e))
        return 2
    if a.runtimes:
        names = parse_list(a.runtimes)
    elif a.quick:
        names = list(QUICK_RUNTIMES)
    else:
        names = wl.names()
    unknown = [x for x in names if x not in wl.by_name]
    if unknown:
        ap.error("unknown runtime(s) %s; known: %s" % (", ".join(unknown), ", ".join(wl.names())))

    host = socket.gethostname()
    started = datetime.datetime.now()
    out = os.path.abspath(a.out or os.path.join(ROOT, "results", "%s-%s" % (started.strftime("%Y-%m-%d"), host)))
    if not a.dry_run:
        os.makedirs(os.path.join(out, "runs"), exist_ok=True)
    leftover = {} if a.dry_run else sysctl_guard.recover()
    lift_nproc_limit()
    for name, (cur, old) in leftover.items():
        log("restored %s %d -> %d left raised by an earlier bench that died" % (name, cur, old))

    meta = {
        "schema": "memtrace-bench/1",
        "started": started.strftime("%Y-%m-%d %H:%M:%S"),
        "machine": machine_info(),
        "memtrace_version": mver,
        "commit": git_commit(),
        "settings": {"sizes": sizes, "runs": runs, "seconds": seconds, "interval_ms": a.interval,
                     "timeout_s": timeout, "quick": a.quick, "via_run": a.via_run, "jobs": a.jobs,
                     "runtimes": names, "article": os.path.abspath(a.article) if a.article else None},
        "runtimes": {x: {"model": wl.by_name[x]["model"], "version": wl.by_name[x]["version"],
                         "built": wl.by_name[x]["built"]} for x in names},
        "limits_before": limits_snapshot(),
        "cgroup_problem": None if a.dry_run else cgroup_problem(memtrace),
        "runs": [],
    }
    if meta["cgroup_problem"]:
        log("no charged column: %s" % meta["cgroup_problem"])

    # The matrix, in order: every N, then every run, then every runtime: the
    # runs of a cell are spread over time, so a passing disturbance of the
    # machine does not hit all of them.
    plan = []
    for n in sizes:
        for k in range(1, runs + 1):
            for name in names:
                rt = wl.by_name[name]
                base = VARIANTS[name][0] if name in VARIANTS else name
                # NAME@2023 is NAME on the article's versions: the same caps.
                family = base.split("@", 1)[0]
                if not rt["built"]:
                    why = "skipped: not built (make -C workloads %s)" % base
                elif rt["model"] == "thread-per-task" and n > MAX_THREADS:
                    why = "not attempted: " + not_attempted_reason(n, meta["limits_before"])
                elif family in THREAD_CAPS and n > THREAD_CAPS[family][0] and not a.attempt_all:
                    why = "not attempted: " + THREAD_CAPS[family][1]
                else:
                    why = None
                plan.append((n, rt, k, why))
    jobs, policy = plan_jobs(plan, a.jobs, seconds)
    timeline, planned_s = bench_plan.simulate(jobs, policy)
    meta["settings"]["cpu_budget"] = policy.cpu_budget
    meta["settings"]["mem_budget_bytes"] = int(policy.mem_budget)
    meta["planned_s"] = planned_s
    plan_note = "planned %s (estimates: %s; up to %d runs at once, %.1f cores)" % (
        _fmt_dur(planned_s), os.path.relpath(bench_plan.ESTIMATES_TSV, ROOT), policy.jobs, policy.cpu_budget)
    if a.dry_run:
        when = {j.index: (t0, t1) for j, t0, t1 in timeline}
        for j in jobs:
            t0, t1 = when.get(j.index, (None, None))
            print("%s\t%d\t%d\t%s\t%s\t%s\t%s" % (
                j.name, j.n, j.k, j.why or "run", j.kind if j.why is None else "-",
                "-" if t0 is None else "%.1f" % t0, "-" if t1 is None else "%.1f" % t1))
        print("bench: %d runs, %s" % (len(timeline), plan_note))
        return 0
    with open(os.path.join(out, "bench.json"), "w") as f:
        json.dump(meta, f, indent=1, default=str)
    total = sum(1 for p in plan if p[3] is None)
    width = len(str(total))
    rows = []
    summary = os.path.join(out, "summary.csv")
    t_start = time.monotonic()
    progress = {"done": 0}
    interrupted = None
    print("bench: %d runs (%s; N = %s; %s s sleeps) -> %s; %s" % (
        total, ", ".join(names), ", ".join(fmt_n(n) for n in sizes), seconds, out, plan_note), flush=True)
    for j in jobs:
        if j.why:
            row = {c: "" for c in COLUMNS}
            row.update(runtime=j.name, version=j.rt["version"], model=j.rt["model"], n=j.n, run=j.k, status=j.why)
            rows.append(row)
            print("[%s/%d] %s N=%d run %d/%d ... %s" % ("-".rjust(width), total, j.name, j.n, j.k, runs,
                                                         j.why[:120]), flush=True)
    write_summary(summary, rows)
    cgroup = not meta["cgroup_problem"]

    def start(job):
        return start_run(job, memtrace, wl, out, seconds, a, timeout, cgroup=cgroup)

    def done(job, result, t0, t1):
        res, guard, limits, problems, argv_w = result
        rt, n, k = job.rt, job.n, job.k
        progress["done"] += 1
        sysctl_text = "; ".join(guard.describe()) if guard.changes else ""
        row = row_from(rt, n, k, res, timeout, sysctl_text, argv_w)
        if problems and row["status"] != "ok":
            row["status"] += " (limits: %s)" % "; ".join(problems)
        rows.append(row)
        meta["runs"].append({"runtime": rt["name"], "n": n, "run": k, "argv": argv_w,
                             "memtrace_cmd": res["cmd"], "rc": res["rc"], "timed_out": res["timed_out"],
                             "wall_s": res["wall"], "start_s": round(t0 - t_start, 3),
                             "end_s": round(t1 - t_start, 3), "kind": job.kind,
                             "sysctl": guard.describe(), "sysctl_restored": guard.restored, "limits": limits,
                             "limit_problems": problems, "status": row["status"]})
        head = "[%s/%d] %s N=%d run %d/%d (%s, %.0f s in) ... " % (
            str(progress["done"]).rjust(width), total, rt["name"], n, k, runs, job.kind, t1 - t_start)
        if row["status"] == "ok":
            print(head + "peak %s MiB total %s MiB %.1f s%s" % (
                gp.fmt_mib(int(row["peak_user_bytes"])), gp.fmt_mib(int(row["peak_total_bytes"])),
                res["wall"], "" if not as_int(row["events_lost"]) else
                " (%s events lost)" % row["events_lost"]), flush=True)
        else:
            print(head + "%s %.1f s" % (row["status"][:160], res["wall"]), flush=True)
        write_summary(summary, rows)

    try:
        with sysctl_guard.terminate_as_exception():
            run_schedule(jobs, policy, start, done)
    except (KeyboardInterrupt, sysctl_guard.Terminated) as e:
        interrupted = e
        print("", flush=True)
        log("interrupted (%s): writing what ran so far" % (type(e).__name__ if isinstance(e, KeyboardInterrupt)
                                                            else e))
    mark_concurrent(meta["runs"])
    meta["wall_s"] = time.monotonic() - t_start
    meta["interrupted"] = interrupted is not None
    meta["limits_after"] = limits_snapshot()
    for key in ("kernel.pid_max", "vm.max_map_count", "kernel.threads-max"):
        if meta["limits_after"][key] != meta["limits_before"][key]:
            log("WARNING: %s is %s, was %s at the start" % (key, meta["limits_after"][key],
                                                            meta["limits_before"][key]))
    write_summary(summary, rows)
    finish(out, rows, names, sizes, meta, a.no_figures, log)
    if interrupted is not None:
        return 130 if isinstance(interrupted, KeyboardInterrupt) else 128 + interrupted.signum
    return 0


if __name__ == "__main__":
    sys.exit(main())
