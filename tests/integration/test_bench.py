"""The benchmark harness (tools/): the quick bench end to end, the time-series
plot, the sysctl guard, and the workload command lines bench.py execs."""
import csv
import json
import os
import signal
import subprocess
import sys
import time

from common import Failure, check, test

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
        check(json.load(f)["settings"]["quick"] is True, "bench.json settings")
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
    wl = bench.Workloads(os.path.join(ROOT, "workloads", "run"), os.path.join(ROOT, "build", "workloads"))
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
