#!/usr/bin/env python3
"""The benchmark's schedule: which planned runs may share the machine, and
how long the matrix should take.

A run of the matrix is mostly a 10 s sleep: its memory is decided by its own
tree, which its own memtrace follows, so runs can overlap where CPU and
memory allow it. What they must not share:

  alone  a thread-per-task run that raises kernel.pid_max and vm.max_map_count
         (100,000 threads): nothing else runs beside it, so no two runs ever
         change sysctls at once and none sees limits it did not ask for
  heavy  a run estimated to use HEAVY_CPU_S of CPU or more (1,000,000 tasks of
         a managed runtime, java-threads' slow thread start): alone too. Its
         spawning can take longer than the sleep, and then how many tasks are
         alive at once, so its peak, depends on the CPU it gets: in the first
         full run of this schedule (2026-11-29), which let heavy runs share
         the machine with light ones, go and elixir-beam at 1,000,000 beside
         8 or 9 light runs of 1,000,000 took up to 2.2 times as long and
         peaked up to 37% lower than their runs alone (other engineers'
         tests ran on the machine too, so not all of it need be the
         company's)
  light  the rest (N = 1 and 10,000, async runtimes at 100,000, fast native
         runtimes at 1,000,000): up to --jobs at once

and in every case: at most one thread-per-task run of MANY_THREADS or more at a
time (each takes a PID per task; two at 10,000 would bring the default pid_max
of 32,768 close, with others' tests on the machine),
the runs' estimated CPU (CPU seconds over wall seconds, summed) within
CPU_BUDGET cores, their estimated peaks within MEM_SHARE of the memory
available at the start, and starts at least START_GAP_S apart, so that
start-up bursts (a JVM's, BEAM's) do not coincide.

Runs start in plan order (the interleaved rounds of bench.py) where they fit;
a run that does not fit is passed over for later ones, except an alone or
heavy run: those wait at the head until the machine is empty, so that light
runs cannot keep them waiting for ever. Run k of a cell starts
only once every run k - 1 at its N has started, so that a cell's runs stay
spread over its N's part of the matrix.

Estimates (wall s, CPU s, peak bytes per runtime and N) come from
tools/bench_estimates.tsv, the medians of a full matrix on this machine; a
NAME@2023 or a variant takes its base runtime's, a missing N is interpolated
linearly in N between the nearest ones, and the sleep is scaled to --seconds.

usage: tools/bench_plan.py --estimates-from results/DIR/summary.csv > tools/bench_estimates.tsv
"""
import argparse
import csv
import os
import statistics
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ESTIMATES_TSV = os.path.join(HERE, "bench_estimates.tsv")
ESTIMATE_COLUMNS = ["runtime", "n", "seconds", "wall_s", "cpu_s", "peak_bytes"]

DEFAULT_JOBS = 6
HEAVY_CPU_S = 5.0
MANY_THREADS = 1000
START_GAP_S = 0.25
MEM_SHARE = 0.85
# memtrace's own start (loading BPF) and report, beside the command's wall.
RUN_OVERHEAD_S = 0.4
# Without an estimate: CPU per task and memory per task (async; a thread
# costs bench.THREAD_COST_BYTES), on top of a small runtime.
FALLBACK_CPU_PER_TASK_S = 20e-6
FALLBACK_BYTES_PER_TASK = 4096
FALLBACK_BASE_BYTES = 64 << 20


def cpu_budget(ncpu):
    """Cores the runs' estimated CPU may add up to: all but half a core, left
    to the memtraces themselves and to the machine's other work."""
    return max(1.0, (ncpu or 1) - 0.5)


def load_estimates(path=ESTIMATES_TSV):
    """{(runtime, n): {"seconds", "wall_s", "cpu_s", "peak_bytes"}}; {} when
    the file is missing."""
    out = {}
    try:
        with open(path, newline="") as f:
            lines = [ln for ln in f if not ln.startswith("#")]
    except OSError:
        return out
    for r in csv.DictReader(lines, delimiter="\t"):
        out[(r["runtime"], int(r["n"]))] = {"seconds": float(r["seconds"]), "wall_s": float(r["wall_s"]),
                                            "cpu_s": float(r["cpu_s"]), "peak_bytes": float(r["peak_bytes"])}
    return out


def estimates_from_summary(path, seconds=10):
    """The medians per (runtime, N) of a summary.csv's ok runs, as TSV lines."""
    cells = {}
    with open(path, newline="") as f:
        for r in csv.DictReader(f):
            if r["status"] == "ok" and r["wall_s"] and r["cpu_s"]:
                cells.setdefault((r["runtime"], int(r["n"])), []).append(r)
    lines = ["# medians of the ok runs of %s (tools/bench_plan.py --estimates-from)" % os.path.basename(
        os.path.dirname(os.path.abspath(path))), "\t".join(ESTIMATE_COLUMNS)]
    for (name, n), runs in sorted(cells.items(), key=lambda x: (x[0][1], x[0][0])):
        med = {k: statistics.median(float(r[k]) for r in runs) for k in ("wall_s", "cpu_s", "peak_total_bytes")}
        lines.append("%s\t%d\t%d\t%.2f\t%.2f\t%d" % (name, n, seconds, med["wall_s"], med["cpu_s"],
                                                     med["peak_total_bytes"]))
    return lines


def _base_names(name, base):
    """The names whose estimates stand in for a runtime: itself, its base
    (a variant's workload), and that without @2023."""
    out = [name, base, base.split("@", 1)[0]]
    return list(dict.fromkeys(out))


def estimate(table, name, base, n, seconds, thread_per_task, thread_cost):
    """(wall_s, cpu_s, peak_bytes) of one run, with the sleep set to seconds."""
    for key in _base_names(name, base):
        known = sorted((k[1], v) for k, v in table.items() if k[0] == key)
        if not known:
            continue
        lower = [x for x in known if x[0] <= n]
        upper = [x for x in known if x[0] >= n]
        a = lower[-1] if lower else known[0]
        b = upper[0] if upper else known[-1]
        if a[0] == b[0]:
            # N known, or outside the known ones: beyond the largest, the
            # work and the memory grow in proportion to N.
            v = a[1]
            scale = n / float(a[0]) if n > a[0] else 1.0
            busy = max(0.0, v["wall_s"] - v["seconds"]) * scale
            return busy + seconds, v["cpu_s"] * scale, v["peak_bytes"] * scale
        t = (n - a[0]) / float(b[0] - a[0])

        def mix(k):
            return a[1][k] + t * (b[1][k] - a[1][k])
        busy = max(0.0, mix("wall_s") - mix("seconds"))
        return busy + seconds, mix("cpu_s"), mix("peak_bytes")
    cpu = 0.3 + n * FALLBACK_CPU_PER_TASK_S
    per_task = thread_cost if thread_per_task else FALLBACK_BYTES_PER_TASK
    return seconds + cpu, cpu, FALLBACK_BASE_BYTES + n * per_task


class Job:
    """One planned run and what the schedule needs to know of it."""

    def __init__(self, index, entry, wall_s, cpu_s, peak_bytes, threads, sysctls):
        self.index = index
        self.entry = entry
        self.n, self.rt, self.k, self.why = entry
        self.name = self.rt["name"]
        self.wall_s = wall_s + RUN_OVERHEAD_S
        self.cpu_s = cpu_s
        self.cores = min(cpu_s / wall_s, 8.0) if wall_s > 0 else 0.0
        self.mem = peak_bytes * 1.25 + (32 << 20)
        self.threads = threads and self.n >= MANY_THREADS
        self.sysctls = sysctls
        self.kind = "alone" if sysctls else "heavy" if cpu_s >= HEAVY_CPU_S else "light"

    def __repr__(self):
        return "Job(%s N=%d run %d %s)" % (self.name, self.n, self.k, self.kind)


class Policy:
    def __init__(self, jobs, ncpu, mem_bytes, start_gap_s=START_GAP_S):
        self.jobs = jobs
        self.cpu_budget = cpu_budget(ncpu)
        self.mem_budget = mem_bytes * MEM_SHARE
        self.start_gap_s = start_gap_s if jobs > 1 else 0.0


def blocked_by(job, running, policy):
    """None when job may start beside the running jobs, else why not (a
    word). An empty machine takes any job."""
    if not running:
        return None
    if job.kind != "light" or any(r.kind != "light" for r in running):
        return "alone"
    if len(running) >= policy.jobs:
        return "jobs"
    if job.threads and any(r.threads for r in running):
        return "threads"
    if sum(r.cores for r in running) + job.cores > policy.cpu_budget:
        return "cpu"
    if sum(r.mem for r in running) + job.mem > policy.mem_budget:
        return "memory"
    return None


def pick(pending, running, policy):
    """The first pending job (in plan order) that may start now, or None.
    An alone or heavy job is not passed over: later jobs wait behind it. Run k of a
    cell never starts before every run k - 1 at its N has started, so the
    rounds stay interleaved when light runs overtake heavy ones."""
    rounds = {}
    for job in pending:
        rounds[job.n] = min(rounds.get(job.n, job.k), job.k)
    for job in pending:
        if job.k > rounds[job.n]:
            continue
        why = blocked_by(job, running, policy)
        if why is None:
            return job
        if job.kind != "light":
            return None
    return None


def simulate(jobs, policy):
    """[(job, start_s, end_s)] from the estimates, and the matrix's end."""
    pending = [j for j in jobs if j.why is None]
    running = []      # (end, job)
    out = []
    now = 0.0
    last_start = None
    while pending or running:
        ready = last_start is None or now >= last_start + policy.start_gap_s - 1e-9
        job = pick(pending, [j for _, j in running], policy) if ready and pending else None
        if job:
            pending.remove(job)
            running.append((now + job.wall_s, job))
            out.append((job, now, now + job.wall_s))
            last_start = now
            continue
        events = [e for e, _ in running]
        if pending and not ready:
            events.append(last_start + policy.start_gap_s)
        nxt = min(events)
        now = max(now, nxt)
        running = [(e, j) for e, j in running if e > now + 1e-9]
    return out, max((e for _, _, e in out), default=0.0)


def overlaps(intervals):
    """{index: [indexes of the jobs whose (start, end) overlap it]}."""
    out = {}
    for j, s, e in intervals:
        out[j.index] = [o.index for o, s2, e2 in intervals if o is not j and s2 < e and s < e2]
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description="Write bench_estimates.tsv from a full matrix's summary.csv")
    ap.add_argument("--estimates-from", required=True, metavar="SUMMARY_CSV")
    ap.add_argument("--seconds", type=int, default=10, help="the sleep of those runs (default 10)")
    a = ap.parse_args(argv)
    try:
        print("\n".join(estimates_from_summary(a.estimates_from, a.seconds)))
    except (OSError, KeyError, ValueError) as e:
        print("bench_plan: cannot read %s: %s" % (a.estimates_from, e), file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
