"""Process lifecycles seen from user space: the report collected while processes
exit, -u and the parent-death signal, names that are not UTF-8, attaching to a
process whose leader exited, --runs interrupted, wall time while memtrace is
stopped, the parent of a re-parented process."""
import os
import signal
import subprocess
import time

from common import KIB, Failure, check, fixture_values, test


def row_sums(r, key):
    return sum(p[key]["rss_bytes"] for p in r["per_process"])


@test
def rows_balance_while_children_exit(c):
    """300 children exit 0-20 ms after the command: every process is one row, live or
    exited, and the rows' shares at the peak add up to the peak; over several runs."""
    for run in range(6):
        p, r = c.run([], [c.fx("late_exits"), "300", "256"])
        check(p.returncode == 0, "run %d: exit %d: %s" % (run, p.returncode, p.stderr))
        v = fixture_values(p.stdout)
        procs = r["processes"]
        rows = r["per_process"]
        live = sum(1 for x in rows if x["live"])
        accounted = len(rows) + procs["rows_not_kept"] + procs["records_dropped"]
        check(procs["total"] == v["procs"], "run %d: %d processes, truth %d" % (run, procs["total"], v["procs"]))
        check(procs["rows_lost"] == 0 and accounted == v["procs"] and len(rows) == v["procs"],
              "run %d: %d rows (+%d not kept, %d records dropped, %d lost) for %d processes"
              % (run, len(rows), procs["rows_not_kept"], procs["records_dropped"], procs["rows_lost"],
                 v["procs"]))
        check(len({(x["pid"], x["start_ms"]) for x in rows}) == len(rows), "run %d: a process twice" % run)
        check(procs["still_running"] == live, "run %d: still_running %d, rows marked live %d"
              % (run, procs["still_running"], live))
        peak = r["peak_rss"]["bytes"]
        check(row_sums(r, "at_tree_rss_peak") == peak, "run %d: shares at the peak %d, peak %d"
              % (run, row_sums(r, "at_tree_rss_peak"), peak))
        check(row_sums(r, "at_tree_total_peak") == r["peak_total"]["at_peak"]["rss_bytes"],
              "run %d: shares at the total peak" % run)
        # The peak is at least what the fixture read with every child holding its memory.
        check(peak >= v["sum_vmrss_kib"] * KIB - 64 * KIB, "run %d: peak %d below the fixture's %d KiB"
              % (run, peak, v["sum_vmrss_kib"]))


def read_until(proc, key, timeout=20):
    """A fixture's key=value lines from proc.stdout, up to key (its readiness)."""
    values = {}
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        k, _, v = line.strip().partition("=")
        values[k] = int(v) if v.lstrip("-").isdigit() else v
        if k == key:
            return values
    raise Failure("fixture never printed %s (got %s)" % (key, values))


@test
def wall_time_leaves_out_memtrace_stopped(c):
    """SIGSTOP memtrace for 1.5 s while a 1 s command runs: the wall time is the
    command's, by its own clock (plus its exec: at most 50 ms)."""
    mt = subprocess.Popen([c.memtrace, "--json", c.path("stopped.json"), "--", c.fx("hold"), "1000"],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        read_until(mt, "ready")
        mt.send_signal(signal.SIGSTOP)
        time.sleep(1.5)  # the stimulus: memtrace stopped past the command's end
        mt.send_signal(signal.SIGCONT)
        out, err = mt.communicate(timeout=30)
    finally:
        mt.kill()
        mt.wait()
    check(mt.returncode == 0, "exit %d: %s" % (mt.returncode, err))
    own_s = fixture_values(out)["own_wall_us"] / 1e6
    r = c.load_json("stopped.json")
    check(0 <= r["wall_s"] - own_s <= 0.05, "wall %.3f s, the command's own %.3f s" % (r["wall_s"], own_s))
    check("Wall time:                     %.3f s" % r["wall_s"] in err, "text report: %s" % err)
