#!/usr/bin/env python3
"""The benchmark: N concurrent tasks that each sleep, in every built runtime,
measured by memtrace (peak RSS, kernel memory, peak total).

usage: tools/bench.py [--memtrace build/memtrace] [--runtimes a,b] [--sizes 1,10000]
                      [--runs K] [--seconds S] [--out DIR] [--quick] [--via-run]

For each N in --sizes (default 1, 10000, 100000, 1000000) and each runtime
that workloads/run lists as built (the others get a "skipped" row), runs
`memtrace --json --csv -- <workload> N SECONDS` --runs times and writes to
--out (default results/<date>-<hostname>/):

    summary.csv    one row per (runtime, N, run), failed and skipped ones too
    runs/          every run's JSON report, time-series CSV, text report, stderr
    results.md     table (runtime x N: peak total, user/kernel split, bytes per
                   task), versions, date, machine
    bench.json     the same data and the settings, limits and sysctl changes
    figures/       peak-n<N>, bytes-per-task, over-time-n<N> as PNG and SVG

Thread-per-task runtimes need more PIDs and memory mappings than Linux allows
by default from a few tens of thousands of threads on: kernel.pid_max and
vm.max_map_count are raised for such a run only and restored right after it,
also on failure, Ctrl-C or SIGTERM (tools/sysctl_guard.py). A million OS
threads would need about 30 GiB of kernel memory and stacks, so thread-per-task
runtimes above 100,000 tasks are recorded as "not attempted" and never run.

The workload is exec'd directly, with the command line workloads/run would
exec (--via-run goes through the script instead): memtrace counts the shell
that runs the script until it execs, about 1.5 MiB, which would be most of a
small native workload's peak.

--quick: c-timers, c-pthreads, go and python at N = 1 and 1000, 1 s sleeps,
one run; about 20 s plus figures.
"""
import argparse
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

import plot_timeseries  # noqa: E402
import sysctl_guard  # noqa: E402
from plots import charts, gp  # noqa: E402

ROOT = os.path.dirname(HERE)
MIB = 1048576.0

DEFAULT_SIZES = [1, 10000, 100000, 1000000]
QUICK_RUNTIMES = ["c-timers", "c-pthreads", "go", "python"]
QUICK_SIZES = [1, 1000]
QUICK_SECONDS = 1

# Above this many tasks a thread-per-task runtime is not run (see module doc).
MAX_THREADS = 100000
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

    def names(self):
        return [w["name"] for w in self.table]

    def interp(self, name):
        with open(os.path.join(self.build, name, "interp")) as f:
            return f.read().strip()

    def argv(self, name, n, seconds, via_run=False):
        """The command line of workload name with n tasks sleeping seconds:
        what workloads/run would exec, as its --argv prints it."""
        args = [str(n), str(seconds)]
        if via_run:
            return [self.run, name] + args
        return self.exec_line(name, n, seconds)[1]

    def environ(self, name, n, seconds):
        """The environment to run argv(name, ...) in: ours plus the
        variables workloads/run would set (csharp-coreclr's ICU version)."""
        return dict(os.environ, **self.exec_line(name, n, seconds)[0])

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
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


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

def _child_setup():
    # Root is exempt from RLIMIT_NPROC, but a harness run with capabilities
    # only is not: lift it to the hard limit for the workload.
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
                             start_new_session=True, preexec_fn=_child_setup, env=env)
        try:
            rc = p.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            timed_out = True
            _stop(p)
            rc = p.returncode
        except BaseException:
            _stop(p, grace=5)
            raise
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


# ------------------------------------------------------------ aggregation

def as_int(v):
    try:
        return int(v)
    except (TypeError, ValueError):
        return None


def ok_rows(rows, name, n):
    return [r for r in rows if r["runtime"] == name and int(r["n"]) == n and r["status"] == "ok"]


def median_row(rows):
    """The run whose peak total is the (lower) median: its user/kernel split
    then adds up to the value shown."""
    if not rows:
        return None
    rs = sorted(rows, key=lambda r: int(r["peak_total_bytes"]))
    return rs[(len(rs) - 1) // 2]


def cell_status(rows, name, n):
    """Why (runtime, n) has no value: the status of its first row."""
    for r in rows:
        if r["runtime"] == name and int(r["n"]) == n:
            return r["status"]
    return "not run"


def all_alive(row):
    """Whether a run had its N tasks alive at once. Only thread-per-task runs
    can tell (one thread per task); a slow thread start lets the first tasks
    end before the last start (java-threads at 100,000 here)."""
    if row["model"] != "thread-per-task":
        return True
    return (as_int(row["peak_threads"]) or 0) >= int(row["n"])


def alive_note(row):
    """'' or 'only 26,007 threads alive at once'."""
    if all_alive(row):
        return ""
    return "only %s threads alive at once" % fmt_n(as_int(row["peak_threads"]) or 0)


def per_task(rows, name, sizes):
    """(bytes per task, kernel bytes per task, n_max, reason): the slope of
    the peak total from N = 1 to the largest N that ran with all its tasks
    alive at once; (None, None, None, reason) when there is none."""
    one = median_row(ok_rows(rows, name, 1))
    if not one:
        return None, None, None, "no N = 1 run"
    for n in sorted(sizes, reverse=True):
        if n <= 1:
            continue
        big = median_row(ok_rows(rows, name, n))
        if big and all_alive(big):
            b = (int(big["peak_total_bytes"]) - int(one["peak_total_bytes"])) / (n - 1)
            kb = (int(big["total_peak_kernel_bytes"]) - int(one["total_peak_kernel_bytes"])) / (n - 1)
            return b, kb, n, None
    return None, None, None, "no run with N > 1 and all tasks alive at once"


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
    sub = "each task sleeps %s s; measured by memtrace on %s (%d CPUs, Linux %s)" % (
        meta["settings"]["seconds"], meta["machine"]["hostname"], meta["machine"]["nproc"],
        meta["machine"]["kernel"])
    for n in sizes:
        bars = []
        for name in names:
            m = median_row(ok_rows(rows, name, n))
            if m:
                bars.append((name, int(m["total_peak_user_bytes"]), int(m["total_peak_kernel_bytes"]), None,
                             alive_note(m)))
            else:
                bars.append((name, 0, 0, short_status(cell_status(rows, name, n)), ""))
        base = os.path.join(fig_dir, "peak-n%d" % n)
        try:
            charts.stacked_peaks(bars, base, "Peak memory of %s concurrent task%s" % (
                fmt_n(n), "" if n == 1 else "s"), sub)
            made.append("peak-n%d" % n)
        except gp.GnuplotError as e:
            log("figure peak-n%d: %s" % (n, e))
    pt = []
    for name in names:
        b, kb, nmax, why = per_task(rows, name, sizes)
        pt.append((name, b, kb, nmax, why))
    try:
        charts.per_task(pt, os.path.join(fig_dir, "bytes-per-task"), "Memory per task: slope of peak total "
                        "from 1 task to the largest N that ran with all tasks alive",
                        "peak total = RSS + kernel memory, by memtrace; %s s sleeps" % meta["settings"]["seconds"])
        made.append("bytes-per-task")
    except gp.GnuplotError as e:
        log("figure bytes-per-task: %s" % e)
    for n in sizes:
        series = []
        for name in names:
            rs = ok_rows(rows, name, n)
            if not rs:
                continue
            csv_path = os.path.join(out, "runs", "%s-%d-%s.csv" % (name, n, rs[0]["run"]))
            try:
                series.append(plot_timeseries.Series(name, csv_path))
            except (OSError, ValueError) as e:
                log("figure over-time-n%d: %s: %s" % (n, name, e))
        if not series:
            continue
        try:
            plot_timeseries.plot(series, os.path.join(fig_dir, "over-time-n%d" % n),
                                 title="Memory over time with %s task%s: peak total (RSS + kernel)" % (
                                     fmt_n(n), "" if n == 1 else "s"),
                                 subtitle="first successful run of each runtime; dots mark the exact peak")
            made.append("over-time-n%d" % n)
        except gp.GnuplotError as e:
            log("figure over-time-n%d: %s" % (n, e))
    return made


def write_results_md(path, rows, names, sizes, meta, figures):
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
    L.append("- runs per case: %d%s; sizes: %s" % (
        s["runs"], " (cells show the median run)" if s["runs"] > 1 else "",
        ", ".join(fmt_n(n) for n in sizes)))
    if s.get("quick"):
        L.append("- QUICK mode: a subset for testing, not a benchmark result")
    if meta.get("interrupted"):
        L.append("- INTERRUPTED: the matrix did not finish")
    L.append("")
    L.append("Cells: **peak total** in MiB, then (RSS + kernel) at that instant, in MiB. Peak total is "
             "the maximum over the run of the tree's RSS plus its kernel memory (page tables, kernel "
             "stacks, task structs), measured exactly by memtrace. Bytes per task: "
             "(peak total at N_max - peak total at 1) / (N_max - 1), N_max the largest N that ran with "
             "all its tasks alive at once (a thread-per-task run whose threads start slower than they "
             "sleep never has them all alive: marked ⚠).")
    L.append("")
    head = ["runtime", "model", "version"] + ["N = %s" % fmt_n(n) for n in sizes] + ["bytes/task"]
    L.append("| " + " | ".join(head) + " |")
    L.append("|" + "|".join(["---"] * 3 + ["---:"] * (len(sizes) + 1)) + "|")
    for name in names:
        rt = meta["runtimes"].get(name, {})
        cells = [name, rt.get("model", ""), rt.get("version", "") or "-"]
        for n in sizes:
            mr = median_row(ok_rows(rows, name, n))
            if mr:
                note = alive_note(mr)
                cells.append("**%s** (%s + %s)%s" % (gp.fmt_mib(int(mr["peak_total_bytes"])),
                                                     gp.fmt_mib(int(mr["total_peak_user_bytes"])),
                                                     gp.fmt_mib(int(mr["total_peak_kernel_bytes"])),
                                                     " ⚠ %s" % note if note else ""))
            else:
                cells.append(short_status(cell_status(rows, name, n)))
        b, kb, nmax, why = per_task(rows, name, sizes)
        if b is not None:
            cells.append("%s (kernel %s, N %s)" % (gp.fmt_bytes(b), gp.fmt_bytes(max(kb, 0)), fmt_n(nmax)))
        else:
            cells.append("-")
        L.append("| " + " | ".join(cells) + " |")
    L.append("")
    L.append("## Every run")
    L.append("")
    L.append("| runtime | N | run | peak total MiB | peak RSS MiB | peak kernel MiB | charged MiB | "
             "peak threads | wall s | CPU s | status |")
    L.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    for r in rows:
        def mib(k):
            v = as_int(r.get(k))
            return gp.fmt_mib(v) if v is not None else ""
        L.append("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
            r["runtime"], fmt_n(int(r["n"])), r["run"], mib("peak_total_bytes"), mib("peak_user_bytes"),
            mib("peak_kernel_bytes"), mib("charged_peak_bytes"), r["peak_threads"], r["wall_s"], r["cpu_s"],
            r["status"].replace("|", "/")))
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
             "time series, text report and stderr are in runs/.")
    with open(path, "w") as f:
        f.write("\n".join(L) + "\n")


def _fmt_dur(s):
    if s is None:
        return "n/a"
    s = int(round(s))
    return "%d min %02d s" % (s // 60, s % 60) if s >= 60 else "%d s" % s


def finish(out, rows, names, sizes, meta, no_figures, log):
    """Figures, bench.json and results.md from the rows; prints the tally."""
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
    write_results_md(os.path.join(out, "results.md"), rows, names, sizes, meta, figures)
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
    ap.add_argument("--runs", type=int, help="runs per case (default 1)")
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
    runs = a.runs if a.runs is not None else 1
    try:
        sizes = parse_list(a.sizes, int) if a.sizes else (QUICK_SIZES if a.quick else DEFAULT_SIZES)
    except ValueError:
        ap.error("--sizes: comma-separated whole numbers, got %r" % a.sizes)
    if runs < 1 or seconds < 0 or any(n < 1 for n in sizes) or not sizes:
        ap.error("--runs >= 1, --seconds >= 0, --sizes >= 1")
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
    os.makedirs(os.path.join(out, "runs"), exist_ok=True)

    leftover = sysctl_guard.recover()
    for name, (cur, old) in leftover.items():
        log("restored %s %d -> %d left raised by an earlier bench that died" % (name, cur, old))

    meta = {
        "schema": "memtrace-bench/1",
        "started": started.strftime("%Y-%m-%d %H:%M:%S"),
        "machine": machine_info(),
        "memtrace_version": mver,
        "commit": git_commit(),
        "settings": {"sizes": sizes, "runs": runs, "seconds": seconds, "interval_ms": a.interval,
                     "timeout_s": timeout, "quick": a.quick, "via_run": a.via_run,
                     "runtimes": names},
        "runtimes": {x: {"model": wl.by_name[x]["model"], "version": wl.by_name[x]["version"],
                         "built": wl.by_name[x]["built"]} for x in names},
        "limits_before": limits_snapshot(),
        "cgroup_problem": cgroup_problem(memtrace),
        "runs": [],
    }
    if meta["cgroup_problem"]:
        log("no charged column: %s" % meta["cgroup_problem"])

    # The matrix, in order: every N, every runtime, every run.
    plan = []
    for n in sizes:
        for name in names:
            rt = wl.by_name[name]
            for k in range(1, runs + 1):
                if not rt["built"]:
                    why = "skipped: not built (make -C workloads %s)" % name
                elif rt["model"] == "thread-per-task" and n > MAX_THREADS:
                    why = "not attempted: " + not_attempted_reason(n, meta["limits_before"])
                else:
                    why = None
                plan.append((n, rt, k, why))
    with open(os.path.join(out, "bench.json"), "w") as f:
        json.dump(meta, f, indent=1, default=str)
    total = sum(1 for p in plan if p[3] is None)
    width = len(str(total))
    rows = []
    summary = os.path.join(out, "summary.csv")
    t_start = time.monotonic()
    done = 0
    interrupted = None
    print("bench: %d runs (%s; N = %s; %s s sleeps) -> %s" % (
        total, ", ".join(names), ", ".join(fmt_n(n) for n in sizes), seconds, out), flush=True)
    try:
        with sysctl_guard.terminate_as_exception():
            for n, rt, k, why in plan:
                name = rt["name"]
                if why:
                    row = {c: "" for c in COLUMNS}
                    row.update(runtime=name, version=rt["version"], model=rt["model"], n=n, run=k, status=why)
                    rows.append(row)
                    write_summary(summary, rows)
                    print("[%s/%d] %s N=%d run %d/%d ... %s" % ("-".rjust(width), total, name, n, k, runs,
                                                                 why[:120]), flush=True)
                    continue
                done += 1
                print("[%s/%d] %s N=%d run %d/%d ... " % (str(done).rjust(width), total, name, n, k, runs),
                      end="", flush=True)
                argv_w = wl.argv(name, n, seconds, a.via_run)
                stem = os.path.join(out, "runs", "%s-%d-%d" % (name, n, k))
                want = sysctl_guard.thread_sysctls(n) if rt["model"] == "thread-per-task" else {}
                limits = limits_snapshot()
                problems = thread_limit_problems(n, limits) if rt["model"] == "thread-per-task" else []
                guard = sysctl_guard.SysctlGuard(want)
                with guard:
                    res = run_memtrace(memtrace, argv_w, stem, a.interval, timeout,
                                       env=None if a.via_run else wl.environ(name, n, seconds),
                                       cgroup=not meta["cgroup_problem"])
                sysctl_text = "; ".join(guard.describe()) if guard.changes else ""
                row = row_from(rt, n, k, res, timeout, sysctl_text, argv_w)
                if problems and row["status"] != "ok":
                    row["status"] += " (limits: %s)" % "; ".join(problems)
                rows.append(row)
                write_summary(summary, rows)
                meta["runs"].append({"runtime": name, "n": n, "run": k, "argv": argv_w, "memtrace_cmd": res["cmd"],
                                     "rc": res["rc"], "timed_out": res["timed_out"], "wall_s": res["wall"],
                                     "sysctl": guard.describe(), "sysctl_restored": guard.restored,
                                     "limits": limits, "limit_problems": problems, "status": row["status"]})
                if row["status"] == "ok":
                    print("peak %s MiB total %s MiB %.1f s%s" % (
                        gp.fmt_mib(int(row["peak_user_bytes"])), gp.fmt_mib(int(row["peak_total_bytes"])),
                        res["wall"], "" if not as_int(row["events_lost"]) else
                        " (%s events lost)" % row["events_lost"]), flush=True)
                else:
                    print("%s %.1f s" % (row["status"][:160], res["wall"]), flush=True)
                time.sleep(0.5)
    except (KeyboardInterrupt, sysctl_guard.Terminated) as e:
        interrupted = e
        print("", flush=True)
        log("interrupted (%s): writing what ran so far" % (type(e).__name__ if isinstance(e, KeyboardInterrupt)
                                                            else e))
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
