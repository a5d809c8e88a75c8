"""The benchmark harness (tools/): the quick bench end to end, the time-series
plot, the sysctl guard, and the workload command lines bench.py execs."""
import csv
import json
import os
import re
import signal
import subprocess
import sys
import time

from common import Failure, check, serial, test

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TOOLS = os.path.join(ROOT, "tools")
if TOOLS not in sys.path:
    sys.path.insert(0, TOOLS)

SUMMARY_COLUMNS = ["runtime", "version", "model", "n", "run", "peak_user_bytes", "peak_kernel_bytes",
                   "peak_total_bytes", "peak_threads", "wall_s", "cpu_s", "exit_status", "status"]
QUICK_RUNTIMES = ["c-timers", "c-pthreads", "go", "python"]
QUICK_SIZES = [1, 1000]
GUARDED = ("kernel.pid_max", "vm.max_map_count")


def read_sysctl(name):
    with open("/proc/sys/" + name.replace(".", "/")) as f:
        return int(f.read().split()[0])


def built_workloads():
    """{name: built?} as workloads/run --list says."""
    p = subprocess.run([os.path.join(ROOT, "workloads", "run"), "--list"], capture_output=True, text=True)
    check(p.returncode == 0, "workloads/run --list: exit %d: %s" % (p.returncode, p.stderr))
    out = {}
    for line in p.stdout.splitlines()[1:]:
        parts = line.split()
        if len(parts) >= 2:
            out[parts[0]] = parts[1] == "yes"
    return out


def check_figure(path):
    check(os.path.exists(path), "figure %s missing" % path)
    size = os.path.getsize(path)
    check(size > 1000, "figure %s has %d bytes" % (path, size))
    with open(path, "rb") as f:
        head = f.read(512)
    if path.endswith(".png"):
        check(head.startswith(b"\x89PNG\r\n\x1a\n"), "%s is not a PNG" % path)
    else:
        check(b"<svg" in head or b"<svg" in open(path, "rb").read(4096), "%s is not an SVG" % path)


@test
def bench_quick_matrix(c):
    """--quick: one row per (runtime, N, run), built ones ok, unbuilt ones
    skipped; figures drawn; the guarded sysctls as they were."""
    before = {n: read_sysctl(n) for n in GUARDED}
    built = built_workloads()
    check(any(built.get(r) for r in QUICK_RUNTIMES),
          "none of the quick runtimes %s is built (make workloads)" % ", ".join(QUICK_RUNTIMES))
    out = c.path("bench-quick")
    p = subprocess.run([sys.executable, os.path.join(TOOLS, "bench.py"), "--memtrace", c.memtrace, "--quick",
                        "--out", out], capture_output=True, text=True, timeout=600)
    check(p.returncode == 0, "bench exit %d: %s" % (p.returncode, p.stderr.strip()[-500:]))
    with open(os.path.join(out, "summary.csv"), newline="") as f:
        reader = csv.DictReader(f)
        cols = reader.fieldnames
        rows = list(reader)
    check(cols[:len(SUMMARY_COLUMNS)] == SUMMARY_COLUMNS, "summary.csv columns %s" % cols)
    keys = [(r["runtime"], int(r["n"]), int(r["run"])) for r in rows]
    want = [(rt, n, 1) for n in QUICK_SIZES for rt in QUICK_RUNTIMES]
    check(sorted(keys) == sorted(want), "rows %s, want %s" % (keys, want))
    for r in rows:
        what = "%s N=%s" % (r["runtime"], r["n"])
        if not built.get(r["runtime"]):
            check(r["status"].startswith("skipped"), "%s not built but status %r" % (what, r["status"]))
            continue
        check(r["status"] == "ok", "%s: status %r" % (what, r["status"]))
        check(r["exit_status"] == "0", "%s: exit %r" % (what, r["exit_status"]))
        user, kern, total = (int(r[k]) for k in ("peak_user_bytes", "peak_kernel_bytes", "peak_total_bytes"))
        check(0 < user <= total and 0 < kern <= total, "%s: user %d kernel %d total %d" % (what, user, kern, total))
        check(total <= user + kern, "%s: total %d above peak user + peak kernel" % (what, total))
        # The run's own memory cgroup (--cgroup) charged its pages: more than nothing, and not
        # more than RSS + kernel memory + the page cache a runtime's start reads (64 MiB here).
        charged = int(r["charged_peak_bytes"])
        check(0 < charged <= total + 64 * 1048576, "%s: charged %d vs total %d" % (what, charged, total))
        for side in ("json", "csv"):
            path = os.path.join(out, "runs", "%s-%s-1.%s" % (r["runtime"], r["n"], side))
            check(os.path.getsize(path) > 0, "%s missing or empty" % path)
    if built.get("c-pthreads"):
        r = next(r for r in rows if r["runtime"] == "c-pthreads" and r["n"] == "1000")
        check(int(r["peak_threads"]) == 1001, "c-pthreads 1000: peak threads %s" % r["peak_threads"])
        # 1000 kernel stacks of 16 KiB at least: the memory that RSS hides.
        check(int(r["peak_kernel_bytes"]) >= 1000 * 16384, "c-pthreads 1000: kernel %s" % r["peak_kernel_bytes"])
    figs = ["peak-n1", "peak-n1000", "bytes-per-task", "over-time-n1000"]
    for f in figs:
        for ext in ("png", "svg"):
            check_figure(os.path.join(out, "figures", "%s.%s" % (f, ext)))
    with open(os.path.join(out, "results.md")) as f:
        md = f.read()
    for rt in QUICK_RUNTIMES:
        check("| %s |" % rt in md, "results.md has no row for %s" % rt)
    with open(os.path.join(out, "bench.json")) as f:
        settings = json.load(f)["settings"]
    check(settings["quick"] is True and settings["runs"] == 1, "bench.json settings %s" % settings)
    # The matrix for CI dashboards, against the schemas and the runs.
    with open(os.path.join(out, "bench.bmf.json")) as f:
        bmf = json.load(f)
    with open(os.path.join(out, "bench.github.json")) as f:
        gh = json.load(f)
    check_exports(bmf, gh, rows, QUICK_RUNTIMES, QUICK_SIZES)
    check(len(gh) == sum(1 for r in QUICK_RUNTIMES if built.get(r)) * len(QUICK_SIZES), "GH entries %d" % len(gh))
    after = {n: read_sysctl(n) for n in GUARDED}
    check(after == before, "sysctls changed by the bench: %s -> %s" % (before, after))


def exec_of_run(wl, name, n, seconds):
    """The argv workloads/run NAME N SECONDS execs, read from /proc as soon
    as the script has replaced itself; the process is killed right after."""
    p = subprocess.Popen([wl.run, name, str(n), str(seconds)], env=wl.env, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    first = None
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with open("/proc/%d/cmdline" % p.pid, "rb") as f:
                    argv = [x.decode() for x in f.read().split(b"\0") if x]
            except OSError:
                argv = []
            # The script execs at once: the first look may already see the workload.
            if argv and not any(a.endswith("workloads/run") for a in argv[:2]):
                return argv
            if argv and first is None:
                first = argv
            elif argv and argv != first:
                return argv
            time.sleep(0.001)
    finally:
        p.kill()
        p.wait()
    raise Failure("%s: never saw workloads/run exec (cmdline %s)" % (name, first))


@test
def bench_execs_what_workloads_run_execs(c):
    """bench.py execs the command line workloads/run would exec (it skips the
    script, whose subshells memtrace would count): compared, for every built
    workload, with the script's own exec read from /proc."""
    import bench
    wl = bench.Workloads(os.path.join(ROOT, "workloads", "run"),
                         os.environ.get("BUILD") or os.path.join(ROOT, "build", "workloads"))
    names = [w["name"] for w in wl.table if w["built"]]
    check(names, "no workload is built")
    for name in names:
        # Elixir's command line depends on N (+P above 262,144 tasks).
        for n in ((1, 300000) if name.startswith("elixir") else (1,)):
            got = exec_of_run(wl, name, n, 30)
            want = wl.argv(name, n, 30)
            # An interpreter that is itself a script shows as "sh SCRIPT ARGS".
            if got != want and os.path.basename(got[0]) in ("sh", "bash", "dash"):
                got = got[1:]
            check(got == want, "%s N=%d: workloads/run execs %s, bench would exec %s" % (name, n, got, want))


@test
def plot_timeseries_draws_png_and_svg(c):
    """A memtrace --csv of a fixture (two runs) drawn as PNG and SVG; --run picks a run."""
    csv_path = c.path("spike.csv")
    p, r = c.run(["--csv", csv_path, "--interval", "20", "--runs", "2"], [c.fx("spike"), "16", "5", "150"])
    check(p.returncode == 0, "memtrace exit %d: %s" % (p.returncode, p.stderr[-300:]))
    tool = os.path.join(TOOLS, "plot_timeseries.py")
    for args, base in (([], "ts1"), (["--run", "2", "--rss", "--title", "spike run 2"], "ts2")):
        out = c.path(base)
        q = subprocess.run([sys.executable, tool, csv_path, "-o", out, "--label", "spike"] + args,
                           capture_output=True, text=True, timeout=60)
        check(q.returncode == 0, "plot_timeseries exit %d: %s" % (q.returncode, q.stderr))
        for ext in ("png", "svg"):
            check_figure(out + "." + ext)
    q = subprocess.run([sys.executable, tool, csv_path, "-o", c.path("ts3"), "--run", "3"],
                       capture_output=True, text=True, timeout=60)
    check(q.returncode != 0 and "no run 3" in q.stderr, "--run 3 of 2: exit %d %r" % (q.returncode, q.stderr))


@test
@serial("changes vm.max_map_count, which bench_quick_matrix checks is left as it was")
def sysctl_guard_restores_on_exception(c):
    """The guard raises a value for its block and puts it back when the block
    raises; a value already high enough is left alone."""
    import sysctl_guard
    name = "vm.max_map_count"
    journal = c.path("guard-journal.json")
    before = read_sysctl(name)
    try:
        with sysctl_guard.SysctlGuard({name: before + 4096, "kernel.pid_max": 1}, journal=journal) as g:
            check(read_sysctl(name) == before + 4096, "not raised: %d" % read_sysctl(name))
            check(os.path.exists(journal), "no journal while raised")
            check("kernel.pid_max" not in g.changes, "pid_max lowered: %s" % g.changes)
            raise KeyError("boom")
    except KeyError:
        pass
    else:
        raise Failure("the exception did not propagate")
    check(read_sysctl(name) == before, "%s is %d after the block, was %d" % (name, read_sysctl(name), before))
    check(g.restored is True, "restored %s" % g.restored)
    check(not os.path.exists(journal), "journal left behind")


@test
@serial("changes vm.max_map_count, which bench_quick_matrix checks is left as it was")
def sysctl_guard_restores_on_sigterm_and_after_sigkill(c):
    """SIGTERM inside the guarded block restores at once; after SIGKILL the
    journal lets recover() restore."""
    import sysctl_guard
    name = "vm.max_map_count"
    journal = c.path("guard-journal2.json")
    before = read_sysctl(name)
    child = ("import sys, time; sys.path.insert(0, %r); import sysctl_guard as g\n"
             "with g.terminate_as_exception():\n"
             "    with g.SysctlGuard({%r: %d}, journal=%r):\n"
             "        print('raised', flush=True); time.sleep(60)\n" % (TOOLS, name, before + 8192, journal))
    try:
        _guard_child_signals(name, before, journal, child)
    finally:
        # Whatever failed above, leave the value as the test found it.
        if read_sysctl(name) == before + 8192:
            sysctl_guard.write_sysctl(name, before)


def _guard_child_signals(name, before, journal, child):
    import sysctl_guard
    for sig in (signal.SIGTERM, signal.SIGKILL):
        p = subprocess.Popen([sys.executable, "-c", child], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True)
        try:
            line = p.stdout.readline()
            check(line.strip() == "raised", "child said %r: %s" % (line, p.stderr.read() if p.poll() else ""))
            check(read_sysctl(name) == before + 8192, "child did not raise %s" % name)
            p.send_signal(sig)
            p.wait(timeout=10)
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
        if sig == signal.SIGTERM:
            check(read_sysctl(name) == before, "after SIGTERM %s is %d, was %d" % (name, read_sysctl(name), before))
            check(not os.path.exists(journal), "journal left after SIGTERM")
        else:
            check(read_sysctl(name) == before + 8192, "SIGKILL: expected the value still raised")
            done = sysctl_guard.recover(journal)
            check(read_sysctl(name) == before, "recover() left %s at %d (did %s)" % (name, read_sysctl(name), done))
            check(not os.path.exists(journal), "journal left after recover")


# ------------------------------------------------ statistics of the matrix

def synth_row(name, n, run, total, user=None, kernel=0, model="async", threads=None, wall=10.0,
              status="ok"):
    """A summary.csv row as bench.py writes it (strings), for a run whose
    peak total is total bytes."""
    user = total - kernel if user is None else user
    return {"runtime": name, "version": "v1", "model": model, "n": str(n), "run": str(run),
            "peak_user_bytes": str(user), "peak_kernel_bytes": str(kernel), "peak_total_bytes": str(total),
            "peak_threads": str(threads if threads is not None else 4), "wall_s": "%.3f" % wall,
            "cpu_s": "0.1", "exit_status": "0", "status": status, "total_peak_user_bytes": str(user),
            "total_peak_kernel_bytes": str(kernel), "peak_total_t_ms": "5.0", "processes": "1",
            "page_faults": "10", "events_lost": "0", "sysctl": "", "command": "x"}


def synth_matrix():
    """Two runtimes at N = 1 and 1,001 with known runs: 'steady' spreads 2%,
    'jumpy' 50%; one failed run of jumpy that must not count."""
    M = 1000000
    rows = []
    for k, (s1, s2, j1, j2) in enumerate([(10 * M, 110 * M, 20 * M, 200 * M),
                                           (10 * M, 111 * M, 21 * M, 300 * M),
                                           (10 * M, 112 * M, 22 * M, 400 * M)], 1):
        rows += [synth_row("steady", 1, k, s1, kernel=1000), synth_row("steady", 1001, k, s2, kernel=2000 + k),
                 synth_row("jumpy", 1, k, j1), synth_row("jumpy", 1001, k, j2, wall=10.0 + k)]
    rows.append(synth_row("jumpy", 1001, 4, 1, status="failed: exit 1"))
    return rows


@test
def bench_stats_median_range_flag(c):
    """Per cell: the median of the ok runs, their min and max, the count, the
    5% flag; bytes per task and ratios with ranges from the runs' extremes;
    a ranking only where ranges do not overlap: against hand-computed values
    of synthetic runs."""
    import bench_stats as bs
    rows = synth_matrix()
    M = 1000000
    steady, jumpy = bs.cell(rows, "steady", 1001), bs.cell(rows, "jumpy", 1001)
    check(steady.count == 3 and jumpy.count == 3, "counts %d %d (the failed run counted?)" % (steady.count, jumpy.count))
    check(steady.stat() == (111 * M, 110 * M, 112 * M), "steady stat %s" % (steady.stat(),))
    check(jumpy.stat() == (300 * M, 200 * M, 400 * M), "jumpy stat %s" % (jumpy.stat(),))
    check(not steady.flagged() and abs(steady.spread() - 2 / 111.0) < 1e-12, "steady spread %g" % steady.spread())
    check(jumpy.flagged() and abs(jumpy.spread() - 200 / 300.0) < 1e-12, "jumpy spread %g" % jumpy.spread())
    check(bs.cell(rows, "steady", 1).flagged() is False, "one value three times is flagged")
    check(bs.Cell("x", 1, [synth_row("x", 1, 1, 100), synth_row("x", 1, 2, 106)]).flagged(),
          "6% spread not flagged")
    check(not bs.Cell("x", 1, [synth_row("x", 1, 1, 100), synth_row("x", 1, 2, 105)]).flagged(),
          "exactly 5% flagged (the flag is for over 5%)")
    # Even count: the median is the mean of the middle two.
    check(bs.Cell("x", 1, [synth_row("x", 1, k, v) for k, v in enumerate((1, 2, 3, 10))]).median() == 2.5,
          "median of 1,2,3,10")
    # Bytes per task: (111M - 10M) / 1000, range (110M - 10M) / 1000 .. (112M - 10M) / 1000.
    v, lo, hi, nmax, why = bs.per_task(rows, "steady", [1, 1001])
    check((v, lo, hi, nmax) == (101000.0, 100000.0, 102000.0, 1001), "steady per task %s" % ((v, lo, hi, nmax),))
    v, lo, hi, nmax, why = bs.per_task(rows, "jumpy", [1, 1001])
    check((v, lo, hi) == (279000.0, 178000.0, 380000.0), "jumpy per task %s" % ((v, lo, hi),))
    # The kernel share over the same runs: 2002 - 1000 = 1002 over 1000 tasks.
    kv, klo, khi, _, _ = bs.per_task(rows, "steady", [1, 1001], key="total_peak_kernel_bytes")
    check((kv, klo, khi) == (1.002, 1.001, 1.003), "kernel per task %s" % ((kv, klo, khi),))
    r = bs.ratio(jumpy, steady)
    check(abs(r[0] - 300 / 111.0) < 1e-12 and abs(r[1] - 200 / 112.0) < 1e-12 and abs(r[2] - 400 / 110.0) < 1e-12,
          "ratio %s" % (r,))
    groups = bs.ranking([jumpy, steady, bs.cell(rows, "absent", 1001)])
    check([[x.name for x in g] for g in groups] == [["steady"], ["jumpy"]], "ranking %s" % groups)
    near = bs.Cell("near", 1001, [synth_row("near", 1001, 1, 111500000)])
    check(bs.ranking_text(bs.ranking([steady, near, jumpy])) == "steady ≈ near < jumpy",
          "overlapping ranges ranked: %s" % bs.ranking_text(bs.ranking([steady, near, jumpy])))
    # wide (100-300) overlaps both narrow ones (150, 250), which do not
    # overlap each other: no order at all is supported.
    wide = bs.Cell("wide", 1, [synth_row("wide", 1, 1, 100), synth_row("wide", 1, 2, 200), synth_row("wide", 1, 3, 300)])
    a = bs.Cell("a", 1, [synth_row("a", 1, 1, 150)])
    b = bs.Cell("b", 1, [synth_row("b", 1, 1, 250)])
    check(bs.ranking_text(bs.ranking([b, wide, a])) == "a ≈ wide ≈ b", bs.ranking_text(bs.ranking([b, wide, a])))
    # A thread-per-task cell whose median run did not have its N threads
    # alive is not used for bytes per task: the smaller N is.
    t = [synth_row("t", 1, 1, 1000, model="thread-per-task", threads=2),
         synth_row("t", 11, 1, 11000, model="thread-per-task", threads=12),
         synth_row("t", 101, 1, 50000, model="thread-per-task", threads=60)]
    v, lo, hi, nmax, why = bs.per_task(t, "t", [1, 11, 101])
    check(nmax == 11 and v == 1000.0, "thread cell with threads missing used: N %s, %s" % (nmax, v))


@test
def bench_stats_rounding_follows_the_noise(c):
    """Figures are rounded to the range of their runs, never finer than the
    runs can tell (issue 16: no 'kernel 12 B' from noise)."""
    import bench_stats as bs
    cases = [((456, 450, 462, "B"), "456 B (450–462)"),
             ((2734.5, 2700, 2760, "B"), "2,730 B (2,700–2,760)"),
             ((264, 183, 290, ""), "260 (180–290)"),
             ((2.21, 2.20, 2.23, ""), "2.21 (2.20–2.23)")]
    for (v, lo, hi, unit), want in cases:
        got = bs.fmt_range(v, lo, hi, unit, floor=1.0 if unit else None)
        check(got == want, "fmt_range%s = %r, want %r" % ((v, lo, hi), got, want))
    check(bs.fmt_bytes_range(36966, 36700, 37200) == "36.1 KiB (35.8–36.3)", bs.fmt_bytes_range(36966, 36700, 37200))
    check(bs.fmt_ratio((6.03, 5.8, 6.2)) == "6.0× (5.8–6.2)", bs.fmt_ratio((6.03, 5.8, 6.2)))
    check(bs.fmt_ratio((1.16, 1.15, 1.17)) == "1.16× (1.15–1.17)", bs.fmt_ratio((1.16, 1.15, 1.17)))
    check(bs.kernel_per_task_text(12, -3, 20) == "kernel ≤ 20 B", bs.kernel_per_task_text(12, -3, 20))
    check(bs.kernel_per_task_text(0.4, 0.3, 0.6) == "kernel < 1 B", bs.kernel_per_task_text(0.4, 0.3, 0.6))
    check(bs.kernel_per_task_text(0.7, 0.5, 1.2) == "kernel ≤ 2 B", bs.kernel_per_task_text(0.7, 0.5, 1.2))
    check(bs.kernel_per_task_text(27136, 27000, 27200).startswith("kernel 26.5 KiB"),
          bs.kernel_per_task_text(27136, 27000, 27200))


# The Bencher Metric Format's published JSON Schema (bencher.dev/bmf.json).
BMF_SCHEMA = {
    "type": "object",
    "patternProperties": {".+": {
        "type": "object",
        "patternProperties": {".+": {
            "type": "object",
            "properties": {"value": {"type": "number"}, "lower_value": {"type": "number"},
                           "upper_value": {"type": "number"}},
            "required": ["value"]}}}},
}
# github-action-benchmark's custom tools (customSmallerIsBetter): an array of
# its BenchmarkResult interface {name: string, value: number, unit: string,
# range?: string, extra?: string}; the action keeps these five fields only.
GH_SCHEMA = {
    "type": "array",
    "items": {"type": "object",
              "properties": {"name": {"type": "string"}, "value": {"type": "number"},
                             "unit": {"type": "string"}, "range": {"type": "string"},
                             "extra": {"type": "string"}},
              "required": ["name", "value", "unit"], "additionalProperties": False},
}


def validate(doc, schema, where="$"):
    """The subset of JSON Schema draft-07 the two schemas above use."""
    import re
    t = schema.get("type")
    types = {"object": dict, "array": list, "string": str}
    if t == "number":
        check(isinstance(doc, (int, float)) and not isinstance(doc, bool), "%s: %r is not a number" % (where, doc))
    elif t:
        check(isinstance(doc, types[t]), "%s: %r is not a%s %s" % (where, doc, "n" if t[0] in "ao" else "", t))
    if t == "object":
        for k in schema.get("required", []):
            check(k in doc, "%s: no %r" % (where, k))
        props = schema.get("properties", {})
        for k, v in doc.items():
            if k in props:
                validate(v, props[k], "%s.%s" % (where, k))
            for pat, sub in schema.get("patternProperties", {}).items():
                if re.search(pat, k):
                    validate(v, sub, "%s[%r]" % (where, k))
            if schema.get("additionalProperties") is False:
                check(k in props, "%s: field %r not in the schema" % (where, k))
    if t == "array":
        for i, v in enumerate(doc):
            validate(v, schema["items"], "%s[%d]" % (where, i))


def check_exports(bmf, gh, rows, names, sizes):
    """Both files against their schemas, and every value against the runs."""
    import bench_stats as bs
    validate(bmf, BMF_SCHEMA)
    validate(gh, GH_SCHEMA)
    want = ["%s/%d" % (name, n) for name in names for n in sizes if bs.cell(rows, name, n)]
    check(sorted(bmf) == sorted(want), "BMF benchmarks %s, want %s" % (sorted(bmf), sorted(want)))
    check([e["name"] for e in gh] == want, "GH names %s, want %s" % ([e["name"] for e in gh], want))
    for e in gh:
        name, n = e["name"].rsplit("/", 1)
        cl = bs.cell(rows, name, int(n))
        med, lo, hi = cl.stat()
        check(e["unit"] == "bytes" and e["value"] == med, "%s: %s %s, median %s" % (e["name"], e["value"], e["unit"], med))
        check(e["range"] == "± %d" % round(max(med - lo, hi - med)), "%s: range %r" % (e["name"], e["range"]))
        m = bmf[e["name"]]
        for slug, key in (("peak-total", "peak_total_bytes"), ("peak-rss", "peak_user_bytes"), ("wall-time", "wall_s")):
            s = cl.stat(key)
            got = (m[slug]["value"], m[slug]["lower_value"], m[slug]["upper_value"])
            check(all(abs(a - b) < 1e-9 for a, b in zip(got, s)), "%s %s: %s, runs %s" % (e["name"], slug, got, s))
            check(got[1] <= got[0] <= got[2], "%s %s: not lower <= value <= upper: %s" % (e["name"], slug, got))


@test
def bench_exports_follow_their_schemas(c):
    """bench.bmf.json and bench.github.json of synthetic runs: each against
    its published schema, one benchmark per cell named <runtime>/<N>, the
    values the runs' median, min and max (failed runs left out)."""
    import bench_export
    rows = synth_matrix()
    names, sizes = ["steady", "jumpy", "absent"], [1, 1001]
    out = c.path("exports")
    os.makedirs(out, exist_ok=True)
    bmf_path, gh_path = bench_export.write_all(out, rows, names, sizes)
    with open(bmf_path) as f:
        bmf = json.load(f)
    with open(gh_path) as f:
        gh = json.load(f)
    check_exports(bmf, gh, rows, names, sizes)
    check(bmf["jumpy/1001"]["peak-total"] == {"value": 300000000, "lower_value": 200000000,
                                              "upper_value": 400000000}, "jumpy/1001 %s" % bmf["jumpy/1001"])
    check(bmf["jumpy/1001"]["wall-time"]["value"] == 12.0, "wall %s" % bmf["jumpy/1001"]["wall-time"])
    # The validator itself must refuse what the schemas refuse.
    for bad, schema in (({"a/1": {"peak-total": {"lower_value": 1}}}, BMF_SCHEMA),
                        ({"a/1": {"peak-total": {"value": "1"}}}, BMF_SCHEMA),
                        ([{"name": "a/1", "unit": "bytes", "value": 1, "range": 3}], GH_SCHEMA),
                        ([{"name": "a/1", "unit": "bytes", "value": 1, "os": "linux"}], GH_SCHEMA)):
        try:
            validate(bad, schema)
        except Failure:
            continue
        raise Failure("validator accepted %r" % (bad,))


@test
def bench_article_table(c):
    """The article / pinned / current table from synthetic runs: peak RSS
    medians with ranges in MiB and MB, the ratio pinned / article in both
    readings of "MB", and the reading that fits the pinned rows best."""
    import bench_article
    MiB = 1048576
    tsv = c.path("article.tsv")
    with open(tsv, "w") as f:
        f.write("# figures read from the article's charts\nruntime\tn\tarticle_value\tunit\tarticle_version\tkind\n"
                "rust-tokio\t1000000\t213.6\tMB\ttokio 1.28.1\tchart\npython\t1000000\t2232\tMB\t\tchart\n"
                "go\t1000000\t2658\tMB\tGo 1.18\tchart\njava-threads\t10000\t250\tMB\t\ttext\n")
    figures = bench_article.load(tsv)
    check(figures == [("rust-tokio", 1000000, 213.6, "tokio 1.28.1", "chart"), ("python", 1000000, 2232.0, "", "chart"),
                      ("go", 1000000, 2658.0, "Go 1.18", "chart"), ("java-threads", 10000, 250.0, "", "text")],
          "loaded %s" % figures)
    rows = []
    for k, v in enumerate((223, 224, 225), 1):
        rows.append(synth_row("rust-tokio@2023", 1000000, k, v * MiB + 4096, user=v * MiB, kernel=4096))
        rows.append(synth_row("rust-tokio", 1000000, k, 438 * MiB))
        rows.append(synth_row("python@2023", 1000000, k, 2205 * MiB))
    lines, note = bench_article.table(rows, figures, [1000000], {"rust-tokio@2023": "tokio 1.28.1"})
    check(not any(ln.startswith("| java-threads |") for ln in lines), "a row for an N that did not run")
    tokio = next(ln for ln in lines if ln.startswith("| rust-tokio |"))
    cells = [x.strip() for x in tokio.strip("|").split("|")]
    # 224 MiB = 234.9 MB; / 213.6: 1.048 as MiB (223/213.6 .. 225/213.6), 1.10 as MB.
    check(cells[3] == "224 (223–225) (tokio 1.28.1)", "pinned MiB %r" % cells[3])
    check(cells[4] == "235 (234–236)", "pinned MB %r" % cells[4])
    check(cells[5].startswith("438") and cells[6] == "459", "current %r %r" % (cells[5], cells[6]))
    check(cells[8] == "1.05× (1.04–1.05) ✓", "ratio as MiB %r" % cells[8])
    check(cells[7] == "1.10× (1.09–1.10)", "ratio as MB %r" % cells[7])
    gorow = [x.strip() for x in next(ln for ln in lines if ln.startswith("| go |")).strip("|").split("|")]
    check(gorow[3] == "-" and gorow[8] == "-", "go has no pinned build: %s" % gorow)
    check(cells[2] == "213.6 (tokio 1.28.1)", "article cell %r" % cells[2])
    check("most likely used **MiB" in note[0], "unit verdict %r" % note)
    for text, why in (("runtime\tn\nx\t1\n", "lacks article_value"),
                      ("runtime\tn\tarticle_value\tunit\nx\t1\t2\tGB\n", "unit 'GB'"),
                      ("runtime\tn\tarticle_value\nx\tmany\t2\n", "line 2")):
        bad = c.path("bad.tsv")
        with open(bad, "w") as f:
            f.write(text)
        try:
            bench_article.load(bad)
        except bench_article.ArticleError as e:
            check(why in str(e), "error %s, want %s" % (e, why))
        else:
            raise Failure("loaded %r" % text)


def dry_run(c, env, *args):
    """bench.py --dry-run's plan: [(name, n, k, what, kind, start, end)] in
    plan order (start and end None for runs not made), and its last line."""
    p = subprocess.run([sys.executable, os.path.join(TOOLS, "bench.py"), "--memtrace", c.memtrace, "--dry-run"]
                       + list(args), capture_output=True, text=True, timeout=60, env=env)
    check(p.returncode == 0, "dry run exit %d: %s" % (p.returncode, p.stderr[-300:]))
    plan = []
    for ln in p.stdout.splitlines():
        f = ln.split("\t")
        if len(f) == 7:
            t = (None, None) if f[5] == "-" else (float(f[5]), float(f[6]))
            plan.append((f[0], int(f[1]), int(f[2]), f[3], f[4]) + t)
    return plan, p.stdout.splitlines()[-1]


def overlapping(a, b):
    return a[5] is not None and b[5] is not None and a[5] < b[6] and b[5] < a[6]


@test
def bench_plan_runs_three_interleaved(c):
    """Default: every cell 3 runs, interleaved (every runtime once per
    round); java-threads above 10,000 and thread-per-task above 100,000 not
    attempted; --quick keeps 1 run; a runtime never shares its colour."""
    import bench
    from plots import gp
    env = dict(os.environ, BUILD=os.environ.get("BUILD") or os.path.join(ROOT, "build", "workloads"))
    plan, _ = dry_run(c, env)
    names = list(dict.fromkeys(x[0] for x in plan))
    cells = {}
    for name, n, k, what, kind, t0, t1 in plan:
        cells.setdefault((name, n), []).append(k)
    check(all(v == [1, 2, 3] for v in cells.values()), "runs per cell %s" % cells)
    check(len(cells) == len(names) * 4, "%d cells for %d runtimes" % (len(cells), len(names)))
    first = [(x[0], x[2]) for x in plan[:2 * len(names)]]
    check(first == [(nm, 1) for nm in names] + [(nm, 2) for nm in names], "not interleaved: %s" % first[:6])
    threads = {w["name"] for w in bench.Workloads(os.path.join(ROOT, "workloads", "run"), env["BUILD"]).table
               if w["model"] == "thread-per-task"}
    check("java-threads" in threads and "c-pthreads" in threads, "thread-per-task workloads %s" % threads)
    for name, n, k, what, kind, t0, t1 in plan:
        skip = (name.split("@")[0] == "java-threads" and n > 10000) or (n > 100000 and name in threads)
        check(what.startswith("not attempted") == skip or what.startswith("skipped"),
              "%s N=%s: %s" % (name, n, what[:80]))
    quick, _ = dry_run(c, env, "--quick")
    check(quick and {x[2] for x in quick} == {1}, "--quick runs more than once: %s" % quick[:3])
    colors = gp.colors_for(names + list(bench.VARIANTS))
    check(len(set(colors.values())) == len(colors), "two runtimes share a colour: %s" % colors)


@test
def bench_schedule_keeps_its_limits(c):
    """The schedule of the default matrix (--dry-run, from the estimates):
    a run that raises sysctls (thread-per-task at 100,000, when the limits
    now need it) and a heavy run (a CPU-bound spawn) overlap no other run;
    two thread-per-task runs of 1,000 threads or more never overlap; never more than
    --jobs runs at once; run k of a cell starts only after every run k - 1 at its N; the
    planned time is the last run's end. With --jobs 1 no two runs overlap."""
    import bench_plan
    import sysctl_guard
    env = dict(os.environ, BUILD=os.environ.get("BUILD") or os.path.join(ROOT, "build", "workloads"))
    plan, last = dry_run(c, env)
    ran = [x for x in plan if x[5] is not None]
    check(ran and all(x[3] == "run" for x in ran), "runs without times: %s" % [x for x in plan if x[3] == "run"
                                                                          and x[5] is None][:3])
    threads = {w["name"] for w in __import__("bench").Workloads(os.path.join(ROOT, "workloads", "run"),
                                                                 env["BUILD"]).table
               if w["model"] == "thread-per-task"}
    raises = bool(sysctl_guard.thread_sysctls(100000))
    for x in ran:
        name, n, k, what, kind = x[:5]
        if name in threads and n == 100000:
            check((kind == "alone") == raises, "%s N=%d: %s, sysctls to raise: %s" % (name, n, kind, raises))
        others = [y for y in ran if y is not x and overlapping(x, y)]
        if kind in ("alone", "heavy"):
            check(not others, "%s %s N=%d run %d overlaps %s" % (kind, name, n, k, others[:3]))
        if name in threads and n >= bench_plan.MANY_THREADS:
            check(not [y for y in others if y[0] in threads and y[1] >= bench_plan.MANY_THREADS],
                  "%s N=%d run %d beside another thread-per-task run" % (name, n, k))
        # At each start: the runs going then, this one included.
        now = [y for y in ran if y[5] <= x[5] < y[6]]
        check(len(now) <= bench_plan.DEFAULT_JOBS, "%d runs at once at %.1f s" % (len(now), x[5]))
        earlier = [y for y in ran if y[1] == n and y[2] == k - 1]
        check(all(y[5] <= x[5] for y in earlier), "%s N=%d run %d starts before round %d" % (name, n, k, k - 1))
    check(any(len([y for y in ran if y[5] <= x[5] < y[6]]) > 1 for x in ran), "nothing ran at once")
    check({"alone", "heavy"} <= {x[4] for x in ran} or not raises, "kinds %s" % {x[4] for x in ran})
    end = max(x[6] for x in ran)
    m = re.search(r"planned (?:(\d+) min )?(\d+) s", last)
    check(m and abs(int(m.group(1) or 0) * 60 + int(m.group(2)) - end) <= 1,
          "last line %r, last run ends at %.1f s" % (last, end))
    one, _ = dry_run(c, env, "--jobs", "1")
    one = [x for x in one if x[5] is not None]
    check(len(one) == len(ran), "--jobs 1: %d runs, default %d" % (len(one), len(ran)))
    check(not any(overlapping(a, b) for i, a in enumerate(one) for b in one[i + 1:]), "--jobs 1: runs overlap")



def write_results(folder, runs):
    """A bench.py results folder of runs [(runtime, n, run, peak MiB, wall s,
    concurrent_with)], as bench_concurrency.py reads it."""
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "summary.csv"), "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=SUMMARY_COLUMNS)
        w.writeheader()
        for name, n, k, mib, wall, _ in runs:
            w.writerow({c: "" for c in SUMMARY_COLUMNS} | {"runtime": name, "n": n, "run": k, "status": "ok",
                                                            "peak_total_bytes": int(mib * 1048576), "wall_s": wall})
    with open(os.path.join(folder, "bench.json"), "w") as f:
        json.dump({"runs": [{"runtime": name, "n": n, "run": k, "kind": "light", "concurrent_with": beside}
                            for name, n, k, _, _, beside in runs]}, f)


@test
def bench_concurrency_compares_shared_with_alone(c):
    """tools/bench_concurrency.py: a cell agrees when each median lies within
    the other's range (go), not when one lies outside (node: 105 beyond
    101-103); exit 1 then; an 'alone' folder with a run that had company is
    refused (exit 2)."""
    tool = os.path.join(TOOLS, "bench_concurrency.py")
    shared, alone, bad = c.path("shared"), c.path("alone"), c.path("bad")
    write_results(shared, [("go", 100000, k, v, 10.5, ["x N=1 run 1"] * k) for k, v in ((1, 265), (2, 266), (3, 263))]
                  + [("node", 100000, k, v, 10.4, ["x N=1 run 1"]) for k, v in ((1, 101), (2, 102), (3, 103))])
    write_results(alone, [("go", 100000, k, v, 10.3, []) for k, v in ((1, 264), (2, 265.5), (3, 267))]
                  + [("node", 100000, k, v, 10.2, []) for k, v in ((1, 105), (2, 105), (3, 106))])
    p = subprocess.run([sys.executable, tool, shared, alone], capture_output=True, text=True, timeout=30)
    check(p.returncode == 1, "exit %d: %s %s" % (p.returncode, p.stdout, p.stderr))
    rows = {ln.split()[0]: ln.split() for ln in p.stdout.splitlines()[1:]}
    check(rows["go"][-1] == "yes" and rows["go"][3] == "1–3", "go: %s" % rows["go"])
    check(rows["go"][4:6] == ["265.0", "(263.0–266.0)"], "go shared: %s" % rows["go"])
    check(rows["node"][-1] == "NO", "node: %s" % rows["node"])
    write_results(bad, [("go", 100000, 1, 265, 10.5, ["node N=100000 run 1"])])
    q = subprocess.run([sys.executable, tool, shared, bad], capture_output=True, text=True, timeout=30)
    check(q.returncode == 2 and "did not run alone" in q.stderr, "exit %d: %s" % (q.returncode, q.stderr))
