"""Process lifecycles seen from user space: the report collected while processes
exit, -u and the parent-death signal, names that are not UTF-8, attaching to a
process whose leader exited, --runs interrupted, wall time while memtrace is
stopped, the parent of a re-parented process."""
import csv
import io
import json
import os
import re
import signal
import subprocess
import time

from common import KIB, Failure, check, fixture_values, near, serial, test, wait_until_polling
from test_robustness import wait_for_line


def row_sums(r, key):
    return sum(p[key]["rss_bytes"] for p in r["per_process"])


@test
def rows_balance_while_children_exit(c):
    """300 children exit 0-20 ms after the command: every process is one row, live or
    exited, and the rows' shares at the peak add up to the peak; over several runs."""
    for run in range(8):
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


@test
@serial("wall time within 50 ms of the command's own clock")
def wall_time_leaves_out_memtrace_stopped(c):
    """SIGSTOP memtrace for 1.5 s while a 1 s command runs: the wall time is the
    command's, by its own clock (plus its exec: at most 50 ms)."""
    mt = subprocess.Popen([c.memtrace, "--json", c.path("stopped.json"), "--", c.fx("hold"), "1000"],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_for_line(mt, "ready")
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
    check(re.search(r"^  Wall time:\s+%.3f s$" % r["wall_s"], err, re.M), "text report: %s" % err)


def strict_text(path):
    with open(path, "rb") as f:
        return f.read().decode("utf-8")  # strict: raises on any ill-formed byte


def csv_clean(name):
    """A name as the CSV outputs carry it: control characters as U+FFFD."""
    return "".join("\ufffd" if ord(ch) < 0x20 or ord(ch) == 0x7F else ch for ch in name)


@test
def names_are_valid_utf8_in_every_output(c):
    """Names cut inside a character, with quotes, commas, control characters or
    ill-formed bytes: JSON and CSV stay valid UTF-8, each name as Python's own
    decoder (errors='replace') reads the bytes the kernel held."""
    odd_arg = b"arg\xff\"q\",\n\xe2\x82"
    paths = {k: c.path("names." + k) for k in ("json", "tasks.csv", "summary.csv", "ts.csv")}
    for path in paths.values():
        if os.path.exists(path):
            os.unlink(path)
    p = subprocess.run([c.memtrace.encode(), b"--json", paths["json"].encode(), b"--tasks-csv",
                        paths["tasks.csv"].encode(), b"--summary-csv", paths["summary.csv"].encode(),
                        b"--csv", paths["ts.csv"].encode(), b"--", c.fx("odd_names").encode(), odd_arg],
                       capture_output=True, timeout=60)
    check(p.returncode == 0, "exit %d: %r" % (p.returncode, p.stderr))
    truth = {}
    for line in p.stdout.decode().splitlines():
        pid, _, hexname = line.partition("=")[2].partition(":")
        truth[int(pid)] = bytes.fromhex(hexname).decode("utf-8", errors="replace")
    check(len(truth) == 3, "fixture printed %r" % p.stdout)

    r = json.loads(strict_text(paths["json"]))
    comms = {x["pid"]: x["comm"] for x in r["per_process"]}
    for pid, name in truth.items():
        check(comms.get(pid) == name, "JSON comm of %d: %r, the kernel's %r" % (pid, comms.get(pid), name))
    check(r["command"][1] == odd_arg.decode("utf-8", errors="replace"), "JSON command %r" % r["command"])

    text = strict_text(paths["tasks.csv"])
    rows = list(csv.DictReader(io.StringIO(text)))
    check(len(text.splitlines()) == len(rows) + 1, "a task row spans lines")
    tasks = {int(x["tid"]): x["comm"] for x in rows}
    for pid, name in truth.items():
        check(tasks.get(pid) == csv_clean(name), "CSV comm of %d: %r, want %r" % (pid, tasks.get(pid), csv_clean(name)))

    text = strict_text(paths["summary.csv"])
    rows = list(csv.DictReader(io.StringIO(text)))
    check(len(rows) == 1 and len(text.splitlines()) == 2, "summary CSV rows: %r" % text)
    want = csv_clean("%s %s" % (c.fx("odd_names"), odd_arg.decode("utf-8", errors="replace")))
    check(rows[0]["command"] == want, "summary command %r, want %r" % (rows[0]["command"], want))
    strict_text(paths["ts.csv"])


@test
def runs_interrupted_report_the_runs_done(c):
    """Ctrl-C in run 2 of 3: the full report is printed, run 2 is in the JSON marked
    interrupted and left out of the statistics, which are run 1's (its fixture's VmRSS)."""
    mt = subprocess.Popen([c.memtrace, "--runs", "3", "--json", c.path("interrupted.json"), "--",
                           c.fx("hold"), "500", "16"],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        first = wait_for_line(mt, "own_wall_us")
        wait_for_line(mt, "ready")  # run 2 is holding its memory
        mt.send_signal(signal.SIGINT)
        out, err = mt.communicate(timeout=30)
    finally:
        mt.kill()
        mt.wait()
    check(mt.returncode == 128 + signal.SIGINT, "exit %d: %s" % (mt.returncode, err))
    check("Peak RSS (tree):" in err and "interrupted: a signal to memtrace" in err, "no full report: %s" % err)
    check("Over 1 run (run 2, interrupted, is left out):" in err, "statistics line: %s" % err)
    check("run 2/3" in err and "(interrupted: left out of the statistics)" in err, "run line: %s" % err)
    r = c.load_json("interrupted.json")
    runs = r["runs"]
    check(len(runs) == 2 and [x["interrupted"] for x in runs] == [0, 1], "runs %s" % [x["interrupted"] for x in runs])
    check(r["interrupted_runs"] == [2], "interrupted_runs %s" % r.get("interrupted_runs"))
    st = r["statistics"]["peak_rss_bytes"]
    check(st["n"] == 1 and st["median"] == runs[0]["peak_rss"]["bytes"], "statistics %s" % st)
    check(r["statistics"]["wall_s"]["max"] == runs[0]["wall_s"], "wall statistics %s" % r["statistics"]["wall_s"])
    near(runs[0]["peak_rss"]["bytes"], first["vmrss_kib"] * KIB, 16 * KIB, "run 1 peak vs its VmRSS")


def gone(pid):
    """The process has ended: no such pid, or only its zombie left."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] in ("Z", "X")
    except FileNotFoundError:
        return True


def children_of(pid):
    kids = set()
    for tid in os.listdir("/proc/%d/task" % pid):
        with open("/proc/%d/task/%s/children" % (pid, tid)) as f:
            kids |= {int(x) for x in f.read().split()}
    return kids


def dies_with_memtrace(c, args, cmd):
    mt = subprocess.Popen([c.memtrace] + args + ["--"] + cmd,
                          stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        v = wait_for_line(mt, "ready")
        check(v["uid"] == 65534, "the command runs as uid %d" % v["uid"])
        helpers = children_of(mt.pid) - {v["pid"]}  # the guard
        mt.kill()
        mt.wait()
        deadline = time.monotonic() + 5
        while not all(gone(p) for p in helpers | {v["pid"]}) and time.monotonic() < deadline:
            time.sleep(0.05)  # the kernel delivers the signal at memtrace's exit
        survived = not gone(v["pid"])
        if survived:
            os.kill(v["pid"], signal.SIGKILL)
        check(not survived, "the command (pid %d, as nobody) outlived memtrace" % v["pid"])
        check(all(gone(p) for p in helpers), "memtrace's helpers %s outlived it" % helpers)
    finally:
        mt.kill()
        mt.wait()


@test
def user_command_dies_with_memtrace(c):
    """-u nobody, then SIGKILL of memtrace: the command, running as nobody, is gone."""
    dies_with_memtrace(c, ["-u", "nobody"], [c.fx("hold"), "60000"])


@test
def command_that_drops_its_credentials_dies_with_memtrace(c):
    """A command that changes its own uid (the kernel then clears its parent-death
    signal), then SIGKILL of memtrace: the guard kills it."""
    dies_with_memtrace(c, [], [c.fx("hold"), "60000", "0", "drop"])


def wait_tracing(mt, timeout=30):
    """Until memtrace polls (attached, tasks walked), or has exited."""
    if mt.poll() is not None:
        raise Failure("memtrace exited %d: %s" % (mt.returncode, mt.stderr.read()))
    wait_until_polling(mt.pid, timeout)


@test
def attach_to_process_whose_leader_exited(c):
    """-p on a process whose leader thread is a zombie while another thread runs and
    grows by 200 MiB: accepted, and the peak is the fixture's VmRSS at its high."""
    fx = subprocess.Popen([c.fx("leader_exits"), "200"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    mt = None
    try:
        v = wait_for_line(fx, "ready")
        mt = subprocess.Popen([c.memtrace, "--json", c.path("leader.json"), "-p", str(v["pid"])],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        wait_tracing(mt)
        fx.stdin.write("go\n")
        fx.stdin.flush()
        v.update(wait_for_line(fx, "vmrss_at_peak_kib"))
        fx.wait(timeout=30)
        out, err = mt.communicate(timeout=30)
    finally:
        fx.kill()
        fx.wait()
        if mt:
            mt.kill()
            mt.wait()
    check(mt.returncode == 0, "memtrace exit %d: %s" % (mt.returncode, err))
    r = c.load_json("leader.json")
    check(r["processes"]["total"] == 1, "processes %s" % r["processes"])
    near(r["peak_rss"]["bytes"], v["vmrss_at_peak_kib"] * KIB, 16 * KIB, "peak vs the fixture's VmRSS")


@test
def ppid_is_the_parent_after_reparenting(c):
    """Double-fork daemons: PPID is the parent at exit (the first daemon) or now (the
    second, still running at the report), as the daemons read it with getppid(),
    not the middle process that made them and exited."""
    # -v: the report's table has the PPID column only then.
    p, r = c.run(["-v"], [c.fx("daemonize")])
    check(p.returncode == 0, "exit %d: %s" % (p.returncode, p.stderr))
    v = fixture_values(p.stdout)
    rows = {x["pid"]: x for x in r["per_process"]}
    for n, live in ((1, 0), (2, 1)):
        d = rows.get(v["daemon%d" % n])
        check(d is not None, "daemon %d has no row" % n)
        check(d["live"] == live, "daemon %d live %d" % (n, d["live"]))
        check(d["ppid"] == v["ppid%d" % n], "daemon %d: ppid %d, its parent %d (first parent %d)"
              % (n, d["ppid"], v["ppid%d" % n], v["middle%d" % n]))
    check("PPID: parent at exit, or now if running" in p.stderr, "the report does not name PPID")
    shown = {int(f[0]): int(f[1]) for f in (line.split() for line in p.stderr.splitlines())
             if len(f) > 2 and f[0].isdigit()}
    for n in (1, 2):
        check(shown.get(v["daemon%d" % n]) == v["ppid%d" % n], "report PPID of daemon %d: %s, want %d"
              % (n, shown.get(v["daemon%d" % n]), v["ppid%d" % n]))
