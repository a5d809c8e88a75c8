"""Every documented option, exit status, JSON field and CSV column, each by a
test that fails when it is wrong: --top, -v, -vv, -V, several pids in one -p,
--duration's SIGKILL, -u by uid, signal forwarding, the --tasks cap, the
full JSON schema, every summary and per-task CSV column, quoting."""
import csv
import os
import re
import shutil
import signal
import subprocess
import time

from common import MIB, Failure, check, end_all, exact, no_loss, serial, test, wait_until_polling

THREAD_STACK = 16384


def read_csv(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def stat_faults(pid):
    """minflt + majflt of a process from /proc/PID/stat (fields 10 and 12)."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[7]) + int(fields[9])


def read_line(stream, key):
    for line in stream:
        k, _, v = line.strip().partition("=")
        if k == key:
            return v
    raise Failure("no %s= line" % key)


def process_rows(text):
    """PIDs of the text report's process table, in order."""
    m = re.search(r"^  Processes by peak RSS \((\d+) of (\d+)[^)]*\):\n.*?\n((?:\s+\d+ .*\n?)*)", text, re.M)
    check(m, "no process table in %r" % text[-800:])
    return int(m.group(1)), int(m.group(2)), [int(x.split()[0]) for x in m.group(3).splitlines()]


@test
def top_and_verbose(c):
    """--top 2 shows the two largest peaks; -v every process and memtrace's own RSS;
    -vv libbpf's log; -V the version."""
    p, r = c.run(["--top", "2"], [c.fx("tree_hold"), "4", "8"])
    check(p.returncode == 0, "exit %d: %s" % (p.returncode, p.stderr))
    shown, total, pids = process_rows(p.stderr)
    by_peak = [x["pid"] for x in sorted(r["per_process"], key=lambda x: -x["peak"]["rss_bytes"])]
    check((shown, total) == (2, 5) and len(pids) == 2, "top 2: %d of %d, rows %s" % (shown, total, pids))
    check("-v for all" in p.stderr, "no hint at -v")
    big = {x["pid"] for x in r["per_process"] if x["peak"]["rss_bytes"] >= 8 * MIB}
    check(set(pids) <= big, "rows %s are not among the largest %s" % (pids, by_peak))
    check("memtrace's own RSS" not in p.stderr, "own RSS shown without -v")

    p, r = c.run(["-v", "--top", "2"], [c.fx("tree_hold"), "4", "8"])
    shown, total, pids = process_rows(p.stderr)
    check((shown, total) == (5, 5) and sorted(pids) == sorted(x["pid"] for x in r["per_process"]),
          "-v: %d of %d, rows %s" % (shown, total, pids))
    m = re.search(r"memtrace's own RSS:\s+peak (\S+ \S+), now (\S+ \S+)", p.stderr)
    check(m, "-v: no own RSS line")
    hwm = r["memtrace_self"]["vmhwm_bytes"]
    check(4 * MIB <= hwm <= 256 * MIB and 0 < r["memtrace_self"]["vmrss_bytes"] <= hwm, "self %s" % r["memtrace_self"])
    check("libbpf" not in p.stderr, "-v shows libbpf's log")

    p, _ = c.run(["-vv"], ["true"])
    check(p.returncode == 0 and re.search(r"^libbpf: ", p.stderr, re.M), "-vv: no libbpf log: %r" % p.stderr[:300])
    for flag in ("-V", "--version"):
        q = c.bare(flag)
        check(q.returncode == 0 and q.stdout == "memtrace %s\n" % r["memtrace_version"], "%s: %r" % (flag, q.stdout))


@test
def tasks_table_cap(c):
    """--tasks shows 50 rows of 61 threads; with -v all 61."""
    p, r = c.run(["--tasks"], [c.fx("threads"), "60"])
    check(p.returncode == 0, "exit %d: %s" % (p.returncode, p.stderr))
    check("Tasks: 61 threads, by process then start (50 shown; --tasks-csv FILE for all)" in p.stderr,
          "header: %s" % p.stderr[p.stderr.find("Tasks:"):][:200])
    table = p.stderr[p.stderr.find("Tasks:"):].splitlines()[2:]
    rows = [x for x in table if re.match(r"^\s+\d+\s+\d+\s+\d+\s", x)]
    check(len(rows) == 50, "%d task rows on screen" % len(rows))
    check(len(r["tasks"]) == 61, "JSON has %d tasks" % len(r["tasks"]))
    p, r = c.run(["--tasks", "-v"], [c.fx("threads"), "60"])
    table = p.stderr[p.stderr.find("Tasks:"):].splitlines()[2:]
    rows = [x for x in table if re.match(r"^\s+\d+\s+\d+\s+\d+\s", x)]
    check(len(rows) == 61 and "(61 shown)" in p.stderr, "-v: %d task rows" % len(rows))


@test
def signals_are_forwarded(c):
    """SIGTERM, SIGHUP, SIGQUIT (and SIGINT) to memtrace reach the command:
    it dies of that signal, memtrace exits 128 + N and still reports."""
    for sig in (signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT, signal.SIGINT):
        mt = subprocess.Popen([c.memtrace, "--json", c.path("sig.json"), "--", "sh", "-c", "echo $$; exec sleep 30"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            child = int(mt.stdout.readline())  # the command runs: memtrace is tracing
            mt.send_signal(sig)
            out, err = mt.communicate(timeout=30)
        finally:
            if mt.poll() is None:
                mt.kill()
                mt.wait()
        check(mt.returncode == 128 + sig, "%s: exit %d" % (sig.name, mt.returncode))
        r = c.load_json("sig.json")
        check(r["exit"]["signal"] == sig and r["exit"]["status"] is None, "%s: report %s" % (sig.name, r["exit"]))
        check("killed by signal %d" % sig in err and "Peak RSS (tree):" in err, "%s: %s" % (sig.name, err))
        check(not os.path.exists("/proc/%d" % child), "%s: the command %d is still there" % (sig.name, child))


@test
@serial("wall time: the SIGKILL 5 s after the SIGTERM, within 4 s")
def duration_kills_after_grace(c):
    """--duration on a command that ignores SIGTERM: SIGKILL 5 s later, as timeout(1) -k 5 does."""
    t0 = time.monotonic()
    p, r = c.run(["--duration", "0.2"], ["sh", "-c", "trap '' TERM; exec sleep 30"], timeout=60)
    took = time.monotonic() - t0
    check(p.returncode == 128 + signal.SIGKILL, "exit %d: %s" % (p.returncode, p.stderr))
    check(r["exit"]["signal"] == signal.SIGKILL and r["timed_out"] == 1, "report %s" % r["exit"])
    check(5.2 <= r["wall_s"] <= took, "killed after %.2f s (memtrace ran %.2f s), want 0.2 + 5" % (r["wall_s"], took))
    check(r["wall_s"] < 9, "SIGKILL came %.1f s late" % (r["wall_s"] - 5.2))


@test
def attach_several_pids(c):
    """-p A,B: both followed from attach; each one's faults after attach are its
    /proc/PID/stat growth, exactly, while both still run at the end."""
    kids = [subprocess.Popen([c.fx("toucher"), "8"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
            for _ in range(2)]
    mt = None
    try:
        pids = [int(read_line(k.stdout, "pid")) for k in kids]
        mt = subprocess.Popen([c.memtrace, "--json", c.path("pids.json"), "-p", "%d,%d" % tuple(pids)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        wait_until_polling(mt.pid)
        base = [stat_faults(x) for x in pids]  # both blocked on stdin: no fault since attach
        for k in kids:
            k.stdin.write("g")
            k.stdin.flush()
        for k in kids:
            read_line(k.stdout, "touched")
        grown = [stat_faults(x) - b for x, b in zip(pids, base)]
        mt.send_signal(signal.SIGINT)
        out, err = mt.communicate(timeout=30)
    finally:
        end_all(mt)
        for k in kids:
            k.stdin.close()
            k.wait(timeout=30)
    check(mt.returncode == 0, "exit %d: %s" % (mt.returncode, err))
    r = c.load_json("pids.json")
    check(r["attached_pids"] == pids and r["command"] is None, "attach fields %s" % r["attached_pids"])
    check(r["interrupted"] == 1 and r["processes"]["still_running"] == 2, "end %s" % r["processes"])
    # The word on attach, then the report, whose "Attached to" line names both pids.
    check(err.startswith("memtrace: attached to 2 processes, 2 threads; Ctrl-C to stop\n"),
          "word on attach %r" % err.splitlines()[0])
    check(re.search(r"^  Attached to:\s+%d,\s*%d$" % (pids[0], pids[1]), err, re.M), "report %r" % err)
    procs = {x["pid"]: x for x in r["per_process"]}
    for pid, want in zip(pids, grown):
        check(pid in procs, "pid %d not followed" % pid)
        x = procs[pid]
        check(x["attached"] == 1 and x["live"] == 1 and x["exit_ms"] is None, "pid %d: %s" % (pid, x))
        check(x["current"]["rss_bytes"] >= 8 * MIB, "pid %d current %s" % (pid, x["current"]))
        exact(x["page_faults"], want, "pid %d faults since attach" % pid)
    exact(r["page_faults"], sum(grown), "tree faults")
    no_loss(r)


@test
def strings_are_escaped(c):
    """A command with quotes, backslashes, commas, tabs and a newline: JSON and
    both CSVs read back exactly what was run."""
    d = c.path('we"ird,dir')
    os.makedirs(d, exist_ok=True)
    prog = os.path.join(d, 'q"u,o\\te')
    shutil.copy(c.fx("alloc_free"), prog)
    argv = [prog, "8", "4", 'a"b', "c\\d", "e,f", "g\th", "i\nj"]
    summary, tasks = c.path("esc-summary.csv"), c.path("esc-tasks.csv")
    if os.path.exists(summary):
        os.unlink(summary)
    p, r = c.run(["--summary-csv", summary, "--tasks-csv", tasks], argv)
    check(p.returncode == 0, "exit %d: %s" % (p.returncode, p.stderr))
    check(r is not None, "the JSON did not parse")
    check(r["command"] == argv, "JSON command %r" % r["command"])
    comm = os.path.basename(prog)[:15]
    check(r["per_process"][0]["comm"] == comm, "JSON comm %r, want %r" % (r["per_process"][0]["comm"], comm))
    rows = read_csv(summary)
    # CSV fields show control characters (the tab, the newline) as U+FFFD: a row stays one line.
    want = " ".join(argv).replace("\n", "\ufffd").replace("\t", "\ufffd")
    check(len(rows) == 1 and rows[0]["command"] == want, "summary command %r" % rows[0].get("command"))
    check(rows[0]["events_lost"] == "0", "summary row shifted: %s" % rows[0])
    trows = read_csv(tasks)
    check(len(trows) == 1 and trows[0]["comm"] == comm and trows[0]["kstack_bytes"] == str(THREAD_STACK),
          "tasks CSV %s" % trows)


def mem_keys():
    return {"rss_bytes", "anon_bytes", "file_bytes", "shmem_bytes", "swap_bytes", "kernel_bytes",
            "pgtables_bytes", "kstack_bytes", "thread_objects_bytes", "threads"}


@test
@serial("startup_ms within the wall time and a second: memtrace's start is slow on busy CPUs")
def json_fields_complete(c):
    """Every field the README lists, and no other, with values checked against
    the system, the command, or the rest of the report."""
    t0 = time.monotonic()
    p, r = c.run(["--tasks"], [c.fx("procs_threads"), "2", "5"])
    took = time.monotonic() - t0
    check(p.returncode == 0, "exit %d: %s" % (p.returncode, p.stderr))
    top = {"schema", "run", "memtrace_version", "kernel", "command", "attached_pids", "exit",
           "memtrace_exit_code", "interrupted", "timed_out", "wall_s", "user_s", "sys_s", "startup_ms",
           "page_size", "task_struct_bytes", "thread_kernel_bytes", "peak_rss", "peak_total", "peak_kernel",
           "final", "processes", "threads", "page_faults", "events", "memtrace_self", "per_process", "tasks",
           "limit", "cgroup", "waited", "shared_pages", "hugetlb_seen_bytes"}
    check(set(r) == top, "top-level keys: extra %s, missing %s" % (set(r) - top, top - set(r)))
    check(r["schema"] == "memtrace-report/1" and r["run"] == 1, "schema/run")
    check(r["kernel"] == os.uname().release, "kernel %r" % r["kernel"])
    check(r["command"] == [c.fx("procs_threads"), "2", "5"] and r["attached_pids"] == [], "command fields")
    check(r["exit"] == {"status": 0, "signal": None} and r["memtrace_exit_code"] == 0, "exit %s" % r["exit"])
    check(r["interrupted"] == 0 and r["timed_out"] == 0, "flags")
    check(r["limit"] is None and r["cgroup"] is None and r["waited"] == 0, "no --limit, --cgroup, --wait")
    check(r["hugetlb_seen_bytes"] == 0, "hugetlb_seen_bytes %s: nothing maps any" % r["hugetlb_seen_bytes"])
    check(set(r["shared_pages"]) == {"rss_sum_bytes", "pss_sum_bytes", "t_ms", "processes", "warning"},
          "shared_pages %s" % r["shared_pages"])
    check(0 < r["wall_s"] <= took and 0 < r["startup_ms"] < r["wall_s"] * 1000 + 1000, "times %s %s" % (
        r["wall_s"], r["startup_ms"]))
    check(0 <= r["user_s"] and 0 <= r["sys_s"] and r["user_s"] + r["sys_s"] <= took * os.cpu_count(), "cpu")
    check(r["page_size"] == os.sysconf("SC_PAGE_SIZE"), "page_size")
    with open("/sys/kernel/slab/task_struct/object_size") as f:
        check(r["task_struct_bytes"] == int(f.read()), "task_struct_bytes")
    check(r["thread_kernel_bytes"] == r["task_struct_bytes"] + 800, "thread_kernel_bytes (README: + 800)")
    for key in ("peak_rss", "peak_total", "peak_kernel"):
        check(set(r[key]) == {"bytes", "t_ms", "at_peak"} and set(r[key]["at_peak"]) == mem_keys(), key)
        check(0 <= r[key]["t_ms"] <= r["wall_s"] * 1000, "%s time" % key)
    check(r["peak_rss"]["bytes"] == r["peak_rss"]["at_peak"]["rss_bytes"], "peak_rss bytes vs its memory")
    at = r["peak_total"]["at_peak"]
    check(r["peak_total"]["bytes"] == at["rss_bytes"] + at["kernel_bytes"], "peak_total = RSS + kernel")
    check(r["peak_kernel"]["bytes"] == r["peak_kernel"]["at_peak"]["kernel_bytes"], "peak_kernel")
    check(r["peak_total"]["bytes"] >= r["peak_rss"]["bytes"] and r["peak_total"]["bytes"] >= r["peak_kernel"]["bytes"],
          "peak_total below a part")
    check(set(r["final"]) == mem_keys() and all(v == 0 for v in r["final"].values()), "final %s" % r["final"])
    check(r["processes"] == {"total": 2, "peak_concurrent": 2, "still_running": 0, "exits_seen": 2,
                             "rows_not_kept": 0, "records_dropped": 0, "rows_lost": 0},
          "processes %s" % r["processes"])
    # Each process holds its 5 threads at once (a barrier); the two processes' sets may not overlap.
    check(r["threads"]["total"] == 10 and 5 <= r["threads"]["peak_concurrent"] <= 10 and
          r["threads"]["exits_seen"] == 10 and r["threads"]["still_running"] == 0, "threads %s" % r["threads"])
    ev = r["events"]
    check(set(ev) == {"applied", "lost", "ringbuf_drops", "map_full", "lock_timeouts", "recursion_misses",
                      "no_memory"}, "events keys %s" % set(ev))
    check(ev["lost"] == sum(v for k, v in ev.items() if k not in ("applied", "lost")) and ev["applied"] > 0,
          "events %s" % ev)
    check(set(r["memtrace_self"]) == {"vmhwm_bytes", "vmrss_bytes"}, "memtrace_self")
    pkeys = {"pid", "ppid", "comm", "live", "attached", "start_rss_bytes", "start_ms", "exit_ms", "exit", "execs",
             "threads_total", "threads_peak", "page_faults", "peak_t_ms", "peak_kernel_bytes", "peak",
             "at_tree_rss_peak", "at_tree_total_peak", "shared_vm", "cmdline", "hugetlb_seen_bytes"}
    tids = sorted(int(x.split("=")[1]) for x in p.stdout.split() if x.startswith("tid="))
    leader_of = {}
    for t in r["tasks"]:
        leader_of[t["tid"]] = t["tgid"]
    pids = sorted(set(leader_of.values()))
    for x in r["per_process"]:
        check(set(x) == pkeys, "per_process keys: extra %s, missing %s" % (set(x) - pkeys, pkeys - set(x)))
        check(x["pid"] in pids and x["comm"] == "procs_threads" and x["live"] == 0 and x["attached"] == 0, "%s" % x)
        check(x["exit"] == {"status": 0, "signal": None} and x["threads_total"] == 5 and x["threads_peak"] == 5, "%s" % x)
        # wall_s ends at the command's own exit, as exit_ms does; the JSON rounds wall_s to the microsecond.
        check(x["start_ms"] <= x["peak_t_ms"] <= x["exit_ms"] <= r["wall_s"] * 1000 + 0.001, "times of %d" % x["pid"])
        check(x["peak_kernel_bytes"] == x["peak"]["kernel_bytes"], "peak_kernel_bytes of %d" % x["pid"])
        check(x["shared_vm"] == 0, "shared_vm of %d: each has its own mm" % x["pid"])
        check(x["hugetlb_seen_bytes"] == 0, "hugetlb_seen_bytes of %d: it maps none" % x["pid"])
        check(set(x["peak"]) == mem_keys() and set(x["at_tree_rss_peak"]) == mem_keys(), "memory objects")
    first = [x for x in r["per_process"] if x["ppid"] not in pids][0]
    check(first["execs"] == 1 and first["start_rss_bytes"] == 0, "the command: %s" % first)
    second = [x for x in r["per_process"] if x is not first][0]
    check(second["ppid"] == first["pid"] and second["execs"] == 0, "the forked child %s" % second)
    # A forked child starts with its parent's pages (counted from the fork).
    check(0 < second["start_rss_bytes"] <= first["peak"]["rss_bytes"], "the child's start RSS %d" % second["start_rss_bytes"])
    tkeys = {"tid", "tgid", "ptid", "ppid", "comm", "start_ms", "exit_ms", "page_faults", "kstack_bytes"}
    check(sorted(t["tid"] for t in r["tasks"]) == tids, "task tids")
    for t in r["tasks"]:
        check(set(t) == tkeys, "task keys %s" % set(t))
        check(t["kstack_bytes"] == THREAD_STACK and t["comm"] == "procs_threads", "task %s" % t)
        if t["tid"] != t["tgid"]:
            check(t["ptid"] == t["tgid"] and t["ppid"] == t["tgid"], "a worker's cloner %s" % t)
    check(r["final"]["rss_bytes"] == 0, "final")
    no_loss(r)


@test
def summary_csv_columns(c):
    """All 23 summary columns, each against the JSON of the same run (and wall
    time against the clock); a killed command has an empty exit_status."""
    path = c.path("cols-summary.csv")
    if os.path.exists(path):
        os.unlink(path)
    t0 = time.monotonic()
    p, r = c.run(["--summary-csv", path], [c.fx("kinds"), "4", "2", "3", os.path.join(c.fixtures, "cols.%d" % os.getpid())])
    took = time.monotonic() - t0
    check(p.returncode == 0, "exit %d: %s" % (p.returncode, p.stderr))
    p2, r2 = c.run(["--summary-csv", path], ["sh", "-c", "kill -9 $$"])
    with open(path) as f:
        header = f.readline().strip().split(",")
    cols = ["run", "command", "exit_status", "exit_signal", "wall_s", "user_s", "sys_s", "peak_rss_bytes",
            "peak_rss_t_ms", "peak_anon_bytes", "peak_file_bytes", "peak_shmem_bytes", "peak_kernel_bytes",
            "peak_kernel_t_ms", "peak_total_bytes", "peak_total_t_ms", "processes_total", "processes_peak",
            "threads_total", "threads_peak", "page_faults", "events_applied", "events_lost"]
    check(header == cols, "header %s" % header)
    rows = read_csv(path)
    check(len(rows) == 2, "%d rows" % len(rows))
    row = rows[0]
    at = r["peak_rss"]["at_peak"]
    want = {"run": "1", "command": " ".join(r["command"]), "exit_status": "0", "exit_signal": "",
            "peak_rss_bytes": r["peak_rss"]["bytes"], "peak_anon_bytes": at["anon_bytes"],
            "peak_file_bytes": at["file_bytes"], "peak_shmem_bytes": at["shmem_bytes"],
            "peak_kernel_bytes": r["peak_kernel"]["bytes"], "peak_total_bytes": r["peak_total"]["bytes"],
            "processes_total": r["processes"]["total"], "processes_peak": r["processes"]["peak_concurrent"],
            "threads_total": r["threads"]["total"], "threads_peak": r["threads"]["peak_concurrent"],
            "page_faults": r["page_faults"], "events_applied": r["events"]["applied"],
            "events_lost": r["events"]["lost"]}
    for k, v in want.items():
        check(row[k] == str(v), "%s: %r, JSON %r" % (k, row[k], v))
    for k, j in (("wall_s", r["wall_s"]), ("user_s", r["user_s"]), ("sys_s", r["sys_s"])):
        check(abs(float(row[k]) - j) < 2e-6, "%s: %s, JSON %s" % (k, row[k], j))
    for k, j in (("peak_rss_t_ms", "peak_rss"), ("peak_kernel_t_ms", "peak_kernel"), ("peak_total_t_ms", "peak_total")):
        check(abs(float(row[k]) - r[j]["t_ms"]) < 0.002, "%s: %s, JSON %s" % (k, row[k], r[j]["t_ms"]))
    check(0 < float(row["wall_s"]) <= took, "wall_s %s, the run took %.3f s" % (row["wall_s"], took))
    check(int(row["peak_shmem_bytes"]) >= 3 * MIB and int(row["peak_file_bytes"]) >= 2 * MIB, "kinds %s" % row)
    killed = rows[1]
    check(killed["exit_status"] == "" and killed["exit_signal"] == "9" and killed["run"] == "1", "killed %s" % killed)
    check(p2.returncode == 137 and r2["exit"]["signal"] == 9, "killed run")
