"""The tools behind docs/results.md's "Why the figures differ from the article"."""
import os
import subprocess
import sys

from common import check, fixture_values, no_loss, test

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TOOLS = os.path.join(ROOT, "tools")
if TOOLS not in sys.path:
    sys.path.insert(0, TOOLS)


def kernel_cache_after(faults):
    """Pages still in a task's own RSS cache after `faults` faults, stepped
    the way Linux before 6.2 did it (mm/memory.c): at each fault,
    check_sync_rss_stat() flushes the cache when `events++ > 64`
    (TASK_RSS_EVENTS_THRESH), then the fault adds its page to the cache."""
    events = cached = 0
    for _ in range(faults):
        flush = events > 64
        events += 1
        if flush:
            cached = events = 0
        cached += 1
    return cached


@test
def old_kernel_rss_follows_the_kernels_flush_rule(c):
    """tools/old_kernel_rss.py's closed form against the kernel's rule run
    fault by fault, over five flush periods."""
    import old_kernel_rss
    for k in range(0, 400):
        want = kernel_cache_after(k)
        got = old_kernel_rss.unflushed(k)
        check(got == want, "%d faults: the tool leaves %d pages out, the kernel's rule %d" % (k, got, want))


@test
def old_kernel_rss_counts_every_thread_alive_at_the_peak(c):
    """500 threads held alive together (fixture threads), each touching its
    own stack: every one is alive at the RSS peak, each left at least the
    page of its own first fault out of an old kernel's RSS, at most 66, and
    the estimate is the peak RSS less those pages."""
    n = 500
    csv_path = c.path("tasks.csv")
    p, r = c.run(["--tasks-csv", csv_path], [c.fx("threads"), str(n), "0", "300"])
    check(p.returncode == 0, "memtrace exit %d: %s" % (p.returncode, p.stderr[-300:]))
    no_loss(r)
    check(fixture_values(p.stdout).get("threads_seen") == n + 1, "fixture: %s" % p.stdout)
    json_path = c.path("report.json")
    t = subprocess.run([sys.executable, os.path.join(TOOLS, "old_kernel_rss.py"), csv_path, json_path],
                       capture_output=True, text=True, timeout=60)
    check(t.returncode == 0, "old_kernel_rss.py exit %d: %s" % (t.returncode, t.stderr))
    v = dict(line.split("=", 1) for line in t.stdout.split())
    check(int(v["tasks_alive_at_peak"]) == n + 1, "alive at the peak: %s, not %d" % (v["tasks_alive_at_peak"], n + 1))
    pages = int(v["pages_left_out"])
    check(n <= pages <= (n + 1) * 66, "%d pages left out for %d threads" % (pages, n))
    rss_mib = r["peak_rss"]["bytes"] / 2**20
    check(abs(float(v["peak_rss_mib"]) - rss_mib) < 0.05, "peak RSS %s vs the report's %.2f" % (v["peak_rss_mib"], rss_mib))
    old = rss_mib - pages * 4096 / 2**20
    check(abs(float(v["old_kernel_rss_mib"]) - old) < 0.05, "old-kernel RSS %s, not %.2f" % (v["old_kernel_rss_mib"], old))
    bad = subprocess.run([sys.executable, os.path.join(TOOLS, "old_kernel_rss.py"), csv_path],
                         capture_output=True, text=True, timeout=60)
    check(bad.returncode == 64 and bad.stderr.startswith("usage:"), "one argument: exit %d" % bad.returncode)


@test
def python_task_bytes_reports_the_objects_of_a_task(c):
    """tools/python_task_bytes.py under this Python: a positive heap per task
    at least the sum of the objects it lists (all are held per task)."""
    t = subprocess.run([sys.executable, os.path.join(TOOLS, "python_task_bytes.py"), "2000"],
                       capture_output=True, text=True, timeout=120)
    check(t.returncode == 0, "exit %d: %s" % (t.returncode, t.stderr))
    v = dict(line.split("=", 1) for line in t.stdout.split())
    objects = sum(int(x) for k, x in v.items() if k.endswith("_bytes") and k != "heap_bytes_per_task")
    heap = float(v["heap_bytes_per_task"])
    check(objects > 0 and heap >= objects, "heap %.0f B per task, objects %d B" % (heap, objects))
    bad = subprocess.run([sys.executable, os.path.join(TOOLS, "python_task_bytes.py"), "x"],
                         capture_output=True, text=True, timeout=60)
    check(bad.returncode == 64, "bad N: exit %d" % bad.returncode)
