"""Attaching to running processes, signals, -u, lost events, clean-up, bad input."""
import json
import os
import re
import signal
import subprocess
import sys
import time

from common import (KIB, MIB, Failure, check, end_all, fixture_values, no_loss, one_line_error, serial, test,
                    wait_until_polling)


def wait_for_line(proc, key, timeout=10):
    """Reads a fixture's stdout up to the line key=..., returns the values so far."""
    values = {}
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        if "=" in line:
            k, v = line.strip().split("=", 1)
            values[k] = int(v) if v.lstrip("-").isdigit() else v
            if k == key:
                return values
    raise Failure("fixture never printed %s (got %s)" % (key, values))


def vmrss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise Failure("no VmRSS for %d" % pid)


@test
def live_threads_faults_at_the_report(c):
    """Attached, 8 threads each fault 4 MiB page by page and are still alive
    when memtrace reports (--duration): the process's page faults are theirs,
    read from the live threads at the report, 8 x 1024 and at most a few more."""
    fx = subprocess.Popen([c.fx("touch_threads"), "8", "4"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                          text=True)
    mt = None
    try:
        v = wait_for_line(fx, "ready")
        mt = subprocess.Popen([c.memtrace, "--json", c.path("live.json"), "--duration", "3", "-p", str(v["pid"])],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        wait_until_polling(mt.pid)
        fx.stdin.write("go\n")
        fx.stdin.flush()
        wait_for_line(fx, "touched")
        out, err = mt.communicate(timeout=30)
        alive_at_report = fx.poll() is None
    finally:
        end_all(fx, mt)
    check(mt.returncode == 0, "memtrace exit %d: %s" % (mt.returncode, err))
    check(alive_at_report, "the fixture ended before the report")
    r = c.load_json("live.json")
    row = [p for p in r["per_process"] if p["pid"] == v["pid"]]
    check(len(row) == 1 and row[0]["live"] == 1 and row[0]["current"]["threads"] == 9,
          "the process is not one live row of 9 threads: %s" % row)
    want = 8 * 4 * MIB // 4096
    got = row[0]["page_faults"]
    check(want <= got <= want + 64, "page faults %d, want %d and at most 64 more" % (got, want))
    check(r["page_faults"] == got, "tree faults %d, the process's %d" % (r["page_faults"], got))


@test
def attach_follows_existing_and_new(c):
    """Attach to 3 processes / 10 threads; 2 more processes start later: all followed."""
    fx = subprocess.Popen([c.fx("attach_target"), "40"], stdout=subprocess.PIPE, text=True)
    mt, v = None, {}
    try:
        v = wait_for_line(fx, "ready")
        pids = [v["parent"], v["child1"], v["child2"]]
        before = {p: vmrss_kib(p) for p in pids}
        mt = subprocess.Popen([c.memtrace, "--json", c.path("attach.json"), "-p", str(v["parent"])],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        wait_until_polling(mt.pid)
        after = {p: vmrss_kib(p) for p in pids}
        fx.send_signal(signal.SIGUSR1)
        v.update(wait_for_line(fx, "sum_vmrss_at_peak_kib"))
        fx.wait(timeout=30)
        out, err = mt.communicate(timeout=30)
    finally:
        # On a failure nothing may stay behind: the fixture's children (their
        # parent kills them only at its end) and a memtrace still following them.
        for pid in (v.get("child1"), v.get("child2")):
            if pid and alive(pid):
                os.kill(pid, signal.SIGKILL)
        end_all(fx, mt)
    check(mt.returncode == 0, "memtrace exit %d: %s" % (mt.returncode, err))
    r = c.load_json("attach.json")
    check(r["command"] is None and r["attached_pids"] == [v["parent"]], "attach fields")
    check("peaks are since attach" in err, "report does not say 'since attach': %s" % err)
    procs = {p["pid"]: p for p in r["per_process"]}
    check(r["processes"]["total"] == 5, "processes %s" % r["processes"])
    check(r["threads"]["total"] == 12, "threads %s" % r["threads"])
    for p in pids:
        check(p in procs and procs[p]["attached"] == 1, "pid %d not followed as attached" % p)
        got = procs[p]["start_rss_bytes"] // KIB
        # Idle processes only grow (their threads' first code pages) between the
        # two reads: RSS at attach lies between them, both included.
        check(before[p] <= got <= after[p], "pid %d start RSS %d KiB, VmRSS %d before and %d after attach" % (
            p, got, before[p], after[p]))
    check(v["late"] in procs and procs[v["late"]]["attached"] == 0, "late child not followed")
    peak = r["peak_rss"]["bytes"]
    want = v["sum_vmrss_at_peak_kib"] * KIB
    check(abs(peak - want) <= 4 * 16 * KIB, "peak %d vs sum of VmRSS %d" % (peak, want))
    check(peak >= 40 * MIB, "peak below the late child's 40 MiB")
    no_loss(r)


@test
def attach_refusals(c):
    run = c.bare
    one_line_error(run("-p", "999999999"), 125, r"^memtrace: cannot attach to 999999999: no such process")
    one_line_error(run("-p", "2"), 125, r"^memtrace: cannot attach to 2: it is a kernel thread")
    p = subprocess.run(["sh", "-c", "exec %s -p $$" % c.memtrace], capture_output=True, text=True, timeout=60)
    one_line_error(p, 125, r"cannot attach to \d+: that is memtrace itself")
    p = subprocess.run(["sh", "-c", "%s -p $$" % c.memtrace], capture_output=True, text=True, timeout=60)
    one_line_error(p, 125, r"cannot attach to \d+: it is an ancestor of memtrace")
    zombie = subprocess.Popen(["true"])
    os.waitid(os.P_PID, zombie.pid, os.WEXITED | os.WNOWAIT)  # exited, not reaped: a zombie
    one_line_error(run("-p", str(zombie.pid)), 125, r"cannot attach to \d+: it has already exited")
    zombie.wait()
    one_line_error(run("-p", "12abc"), 64, r"bad process id '12abc'")
    one_line_error(run("-p", "1", "--", "true"), 64, r"either -p PID or a command")
    one_line_error(run("--duration", "-1", "-p", "1"), 64, r"bad duration '-1'")
    one_line_error(run("--duration", "abc", "-p", "1"), 64, r"bad duration 'abc'")
    one_line_error(run("-u", "no-such-user-xyz", "--", "true"), 64, r"unknown user 'no-such-user-xyz'")
    one_line_error(run("--json", "/no/such/dir/x.json", "--", "true"), 125, r"cannot write '/no/such/dir/x.json'")


@test
@serial("how long a --duration run takes")
def duration_ends_attach(c):
    sleeper = subprocess.Popen(["sleep", "30"])
    try:
        t0 = time.monotonic()
        p, r = c.run(["--duration", "500ms", "-p", str(sleeper.pid)])  # a unit, as sleep takes it
        took = time.monotonic() - t0
    finally:
        sleeper.kill()
        sleeper.wait()
    check(p.returncode == 0, "exit %d: %s" % (p.returncode, p.stderr))
    check(took < 10, "took %.1f s" % took)
    check(r["timed_out"] == 1 and r["processes"]["still_running"] == 1, "report %s" % r["processes"])
    check("--duration ran out" in p.stderr, p.stderr)

    # A command gets SIGTERM, as timeout(1) sends it.
    t0 = time.monotonic()
    p, r = c.run(["--duration", "0.3"], ["sleep", "30"])
    check(time.monotonic() - t0 < 10, "the command was not stopped")
    check(p.returncode == 128 + signal.SIGTERM and r["exit"]["signal"] == signal.SIGTERM,
          "exit %d, report %s" % (p.returncode, r["exit"]))
    check(r["timed_out"] == 1 and "sent SIGTERM" in p.stderr, p.stderr)


@test
def ctrl_c_in_both_modes(c):
    """SIGINT to memtrace: the command gets it, the report is printed, status says so."""
    mt = subprocess.Popen([c.memtrace, "--", "sh", "-c", "echo $$; exec sleep 30"], stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True)
    child = int(mt.stdout.readline())  # the command runs: memtrace traces it
    mt.send_signal(signal.SIGINT)
    out, err = mt.communicate(timeout=30)
    check(mt.returncode == 128 + signal.SIGINT, "exit %d" % mt.returncode)
    check("killed by signal 2" in err and "Peak RSS (tree):" in err, "report: %s" % err)
    check(not os.path.exists("/proc/%d" % child), "the command %d still runs" % child)

    sleeper = subprocess.Popen(["sleep", "30"])
    try:
        mt = subprocess.Popen([c.memtrace, "-p", str(sleeper.pid)], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
        wait_until_polling(mt.pid)
        mt.send_signal(signal.SIGINT)
        out, err = mt.communicate(timeout=30)
        check(mt.returncode == 0, "attach exit %d" % mt.returncode)
        check("stopped by a signal" in err and "Peak RSS (tree):" in err, "report: %s" % err)
        check(sleeper.poll() is None, "the attached process was harmed")
    finally:
        sleeper.kill()
        sleeper.wait()


def alive(pid):
    """Running, not a zombie waiting for init to reap it."""
    try:
        return process_state(pid) not in ("Z", "X")
    except OSError:
        return False


def process_state(pid):
    with open("/proc/%d/stat" % pid) as f:
        return f.read().rsplit(")", 1)[1].split()[0]


@test
def stop_and_continue_do_not_end_the_run(c):
    """^Z (SIGTSTP) stops memtrace, fg (SIGCONT) resumes it: the run goes on to the command's end."""
    # A group of its own whose parent (this test) is in another group of the
    # same session, as a shell's job is: the kernel discards SIGTSTP sent to
    # an orphaned process group, which the test's own group may be.
    mt = subprocess.Popen([c.memtrace, "--", "sh", "-c", "echo ready; read x; exit 0"], stdin=subprocess.PIPE,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, process_group=0)
    mt.stdout.readline()
    mt.send_signal(signal.SIGTSTP)
    deadline = time.monotonic() + 10
    while process_state(mt.pid) != "T" and time.monotonic() < deadline:
        time.sleep(0.01)  # polls the state the signal sets
    check(process_state(mt.pid) == "T", "memtrace did not stop")
    mt.send_signal(signal.SIGCONT)
    out, err = mt.communicate(input="go\n", timeout=30)
    check(mt.returncode == 0, "exit %d: %s" % (mt.returncode, err))
    check(re.search(r"^  Exit status:\s+0$", err, re.M), err)


def bpf_ids_of(pid, kind):
    """BPF programs (kind "prog") or maps ("map") a process holds, from the fdinfo of its fds."""
    ids = set()
    fddir = "/proc/%d/fdinfo" % pid
    for fd in os.listdir(fddir):
        try:
            with open(os.path.join(fddir, fd)) as f:
                for line in f:
                    if line.startswith(kind + "_id:"):
                        ids.add(int(line.split()[1]))
        except OSError:
            pass
    return ids


def loaded_ids(kind):
    out = subprocess.run(["bpftool", kind, "show"], capture_output=True, text=True).stdout
    return {int(line.split(":")[0]) for line in out.splitlines() if line[:1].isdigit()}


def wait_gone(ids, kind, timeout=5):
    """Programs and maps are freed a moment after their last holder dies."""
    deadline = time.monotonic() + timeout
    while ids & loaded_ids(kind) and time.monotonic() < deadline:
        time.sleep(0.1)
    return ids & loaded_ids(kind)


@test
@serial("the BPF programs and maps loaded on the whole host")
def memtrace_leaves_nothing_loaded(c):
    """SIGKILL memtrace: the command dies with it; after that, and after a plain
    exit, none of its BPF programs or maps stays loaded."""
    mt = subprocess.Popen([c.memtrace, "--", "sh", "-c", "echo $$; exec sleep 30"],
                          stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    child = int(mt.stdout.readline())  # running: memtrace holds everything by now
    progs, maps = bpf_ids_of(mt.pid, "prog"), bpf_ids_of(mt.pid, "map")
    check(len(progs) >= 5 and progs <= loaded_ids("prog"), "memtrace holds programs %s" % progs)
    check(len(maps) >= 8 and maps <= loaded_ids("map"), "memtrace holds maps %s" % maps)
    mt.kill()
    mt.wait()
    deadline = time.monotonic() + 5
    while alive(child) and time.monotonic() < deadline:
        time.sleep(0.05)  # PR_SET_PDEATHSIG's SIGKILL is on its way
    survivor = alive(child)
    if survivor:
        os.kill(child, signal.SIGKILL)
    check(not survivor, "the command outlived memtrace")
    check(not wait_gone(progs, "prog"), "programs left loaded after SIGKILL")
    check(not wait_gone(maps, "map"), "maps left loaded after SIGKILL")

    mt = subprocess.Popen([c.memtrace, "--", "sh", "-c", "echo ready; read x"], stdin=subprocess.PIPE,
                          stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    mt.stdout.readline()
    progs, maps = bpf_ids_of(mt.pid, "prog"), bpf_ids_of(mt.pid, "map")
    mt.communicate(input="x\n", timeout=30)
    check(mt.returncode == 0 and len(maps) >= 8, "exit %d, maps %s" % (mt.returncode, maps))
    check(not wait_gone(progs, "prog"), "programs left loaded after exit")
    check(not wait_gone(maps, "map"), "maps left loaded after exit")


@test
def run_as_user(c):
    """-u by name and by numeric uid: uid, gid, supplementary groups, HOME, USER, LOGNAME."""
    nobody_groups = sorted(set(os.getgrouplist("nobody", 65534)))
    for who in ("nobody", "65534"):
        # memtrace itself holds supplementary groups the command must not keep.
        p, r = c.run(["-u", who], [c.fx("whoami")], env=dict(os.environ, HOME="/root", USER="root", LOGNAME="root"),
                     preexec_fn=lambda: os.setgroups([0, 4, 27]))
        check(p.returncode == 0, "-u %s: exit %d: %s" % (who, p.returncode, p.stderr))
        v = fixture_values(p.stdout)
        check(v["uid"] == 65534 and v["gid"] == 65534, "-u %s: ran as uid %d gid %d" % (who, v["uid"], v["gid"]))
        for line in ("home=/nonexistent", "user=nobody", "logname=nobody"):
            check(line in p.stdout.splitlines(), "-u %s: no %r in %r" % (who, line, p.stdout))
        groups = sorted(v["group%d" % i] for i in range(v["ngroups"]))
        check(groups == nobody_groups, "-u %s: groups %s, nobody's are %s" % (who, groups, nobody_groups))


@test
def lost_events_are_counted(c):
    """A forced overflow (tiny ring buffer, tiny task map) shows drops; --strict fails."""
    p, r = c.run(["--tasks", "--ringbuf-size", "4096"], [c.fx("threads"), "2000"])
    check(p.returncode == 0, "exit %d: %s" % (p.returncode, p.stderr))
    ev = r["events"]
    check(ev["ringbuf_drops"] > 0 and ev["lost"] >= ev["ringbuf_drops"], "events %s" % ev)
    check("events lost" in p.stderr, "no warning line: %s" % p.stderr)
    p, r = c.run(["--strict", "--max-tasks", "16"], [c.fx("threads"), "100"])
    check(p.returncode == 122, "--strict exit %d" % p.returncode)
    check(r["events"]["map_full"] > 0, "events %s" % r["events"])
    p, r = c.run(["--strict"], [c.fx("threads"), "100"])
    check(p.returncode == 0 and r["events"]["lost"] == 0, "clean run: exit %d %s" % (p.returncode, r["events"]))


@test
def process_slots_are_reused(c):
    """300 short processes, at most 9 alive at once, through 16 slots: none lost."""
    p, r = c.run(["--strict", "--max-procs", "16"], [c.fx("churn"), "300", "8", "procs"])
    check(p.returncode == 0, "exit %d: %s" % (p.returncode, p.stderr))
    check(r["processes"]["total"] == 301, "processes %s" % r["processes"])
    check(r["processes"]["peak_concurrent"] <= 9, "processes %s" % r["processes"])
    no_loss(r)


@test
def too_many_live_processes_are_counted(c):
    """21 processes alive at once in 16 slots: the 5 that do not fit are counted lost."""
    p, r = c.run(["--max-procs", "16"], [c.fx("tree_hold"), "20", "1"])
    check(p.returncode == 0, "exit %d: %s" % (p.returncode, p.stderr))
    ev = r["events"]
    check(ev["map_full"] == 5 and ev["lost"] >= 5, "events %s" % ev)
    check(r["processes"]["peak_concurrent"] == 16, "processes %s" % r["processes"])


# The kernel's map types (include/uapi/linux/bpf.h) of the five process maps.
MAP_HASH, MAP_ARRAY, MAP_QUEUE = 1, 2, 22


def bpf_maps_of(pid):
    """The kernel's own description (fdinfo) of every BPF map process pid holds open."""
    maps = []
    for fd in os.listdir("/proc/%d/fd" % pid):
        try:
            if os.readlink("/proc/%d/fd/%s" % (pid, fd)) != "anon_inode:bpf-map":
                continue
            with open("/proc/%d/fdinfo/%s" % (pid, fd)) as f:
                info = dict(line.rstrip("\n").split(":\t", 1) for line in f if ":\t" in line)
        except OSError:
            continue
        maps.append({k: int(v) for k, v in info.items() if v.strip().isdigit()})
    return maps


@test
@serial("raises kernel.pid_max, which other runs' map sizes follow")
def process_slots_follow_pid_max(c):
    """The process maps have a slot per pid (kernel.pid_max, raised above the
    old fixed 32,768 for the test; at most 131072) or --max-procs of them, as
    the kernel describes memtrace's open maps (fdinfo), read while the command
    runs."""
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                                    "tools"))
    import sysctl_guard
    with sysctl_guard.SysctlGuard({"kernel.pid_max": 40000}, journal=c.path("pid-max-journal.json")):
        pid_max = sysctl_guard.read_sysctl("kernel.pid_max")
        for opts, slots in (([], min(pid_max, 131072)), (["--max-procs", "20"], 20)):
            slots_of(c, opts, slots, pid_max)


def slots_of(c, opts, slots, pid_max):
    """Checks that memtrace run with opts has five process maps of slots entries."""
    # The task map follows pid_max too: sized apart, only the process maps have `slots` entries.
    mt = subprocess.Popen([c.memtrace, "-q", "-o", os.devnull, "--max-tasks", "4096"] + opts +
                          ["--", c.fx("hold"), "60000"],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_for_line(mt, "ready", timeout=30)
        maps = bpf_maps_of(mt.pid)
    finally:
        mt.kill()
        mt.wait()
    sized = sorted(m["map_type"] for m in maps if m.get("max_entries") == slots)
    check(sized == [MAP_HASH, MAP_HASH, MAP_ARRAY, MAP_QUEUE, MAP_QUEUE],
          "%s: maps of %d entries (pid_max %d): types %s" % (opts or "default", slots, pid_max, sized))
    array = [m for m in maps if m.get("max_entries") == slots and m["map_type"] == MAP_ARRAY][0]
    # Preallocated: the kernel charges every slot at load.
    check(array["memlock"] >= slots * array["value_size"], "procs memlock %d for %d slots of %d bytes"
          % (array["memlock"], slots, array["value_size"]))


@test
def command_inherits_no_memtrace_files(c):
    """The report, JSON and CSV files (and BPF objects) stay memtrace's own."""
    probe = ["sh", "-c", "ls /proc/self/fd"]
    plain = subprocess.run(probe, capture_output=True, text=True).stdout.split()
    p, _ = c.run(["-o", c.path("r.txt"), "--csv", c.path("r.csv"), "--summary-csv", c.path("s.csv"),
                  "--tasks-csv", c.path("t.csv")], probe)
    check(p.returncode == 0, "exit %d" % p.returncode)
    check(p.stdout.split() == plain, "command got fds %s, a plain run %s" % (p.stdout.split(), plain))


def read_until(stream, pattern, timeout=20):
    """What a pipe delivers up to pattern, read unbuffered so nothing is left behind."""
    import select
    seen = b""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and pattern.encode() not in seen:
        r, _, _ = select.select([stream], [], [], 0.1)
        if r:
            chunk = os.read(stream.fileno(), 4096)
            if not chunk:
                break
            seen += chunk
    if pattern.encode() not in seen:
        raise Failure("never saw %r in %r" % (pattern, seen))
    return seen.decode()


@test
def sigusr1_reports_and_goes_on(c):
    """kill -USR1, as dd takes it: the run so far is printed, the command goes on, -o is whole."""
    out = c.path("usr1.txt")
    for dest in ([], ["-o", out]):
        mt = subprocess.Popen([c.memtrace] + dest + ["--", "sh", "-c", "echo go; read x; echo done"],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              bufsize=0)
        try:
            read_until(mt.stdout, "go")  # the command runs: memtrace is tracing
            mt.send_signal(signal.SIGUSR1)
            seen = read_until(mt.stderr, "now: rss ")
            out_text, err = (x.decode() for x in mt.communicate(b"\n", timeout=30))
        finally:
            mt.kill()
        check(mt.returncode == 0, "exit %d after SIGUSR1: %s" % (mt.returncode, err))
        check(out_text == "done\n", "the command did not go on: %r" % out_text)
        err = seen + err
        check("memtrace: so far" in err, "no interim peaks: %r" % err)
        report = open(out).read() if dest else err
        check("Peak RSS (tree):" in report and "Exit status:" in report, "no final report: %r" % report)
        if dest:
            check("so far" not in report, "interim in the -o file")


@test
def failed_start_leaves_no_files(c):
    """125/126/127 before the command ran: no empty JSON, no header-only CSV; said on stderr."""
    names = ["f.json", "f.csv", "f-summary.csv", "f-tasks.csv", "f.txt"]
    kept = c.path("kept-summary.csv")
    with open(kept, "w") as f:
        f.write("earlier rows\n")
    notexec = c.path("notexec.sh")
    with open(notexec, "w") as f:
        f.write("#!/bin/sh\n")
    os.chmod(notexec, 0o644)
    for cmd, code in ((["/no/such/program"], 127), ([notexec], 126)):
        for n in names:
            if os.path.exists(c.path(n)):
                os.unlink(c.path(n))
        p = c.bare("--json", c.path("f.json"), "--csv", c.path("f.csv"), "--summary-csv",
                   c.path("f-summary.csv"), "--tasks-csv", c.path("f-tasks.csv"), "-o", c.path("f.txt"),
                   "--", *cmd)
        check(p.returncode == code, "exit %d, want %d" % (p.returncode, code))
        left = [n for n in names if os.path.exists(c.path(n))]
        check(not left, "files left after a failed start: %s" % left)
        check("memtrace: nothing was measured: wrote no" in p.stderr and "f.json" in p.stderr,
              "not said: %r" % p.stderr)
        p = c.bare("--summary-csv", kept, "--", *cmd)
        check(open(kept).read() == "earlier rows\n", "an existing summary CSV was changed")
    # Not a regular file: written in place, never renamed over or removed.
    import stat
    for cmd in (["true"], ["/no/such/program"]):
        c.bare("-o", "/dev/null", "--json", "/dev/null", "--csv", "/dev/null", "--", *cmd)
        check(stat.S_ISCHR(os.stat("/dev/null").st_mode), "/dev/null is no longer a device")
    # memtrace itself failing (125): the same.
    p = subprocess.run([c.memtrace, "--json", c.path("f.json"), "--", "true"], capture_output=True, text=True,
                       env=dict(os.environ, MEMTRACE_BTF_PATH="/nonexistent/vmlinux"))
    check(p.returncode == 125 and not os.path.exists(c.path("f.json")), "125 left %s" % p.stderr)


@test
def dash_is_standard_output(c):
    """--json -, --csv -, -o -: standard output, as everywhere else."""
    import csv as csvmod
    import io
    import json as jsonmod
    p = c.bare("--json", "-", "--", "true")
    check(p.returncode == 0 and jsonmod.loads(p.stdout)["schema"] == "memtrace-report/1", p.stdout[:200])
    check("Peak RSS (tree):" in p.stderr, "the report left stderr")
    p = c.bare("--csv", "-", "-o", c.path("dash.txt"), "--", c.fx("alloc_free"), "20", "10")
    rows = list(csvmod.DictReader(io.StringIO("".join(x + "\n" for x in p.stdout.splitlines()
                                                      if not x.startswith("vmrss")))))
    check(p.returncode == 0 and len(rows) >= 2, "csv on stdout: %r" % p.stdout[:300])
    check(sum(1 for x in rows if x["is_rss_peak"] == "1") == 1, "peak rows %s" % rows)
    check(not os.path.exists(c.path("-")), "a file named '-' was made")
    p = c.bare("-o", "-", "--", "true")
    check(p.returncode == 0 and "Peak RSS (tree):" in p.stdout and p.stderr == "", "stderr %r" % p.stderr)


@test
def under_sudo_the_command_runs_as_the_user(c):
    """SUDO_UID set and no -u: the command runs as that user (what they meant); --as-root keeps root."""
    sudo = dict(os.environ, SUDO_UID="65534", SUDO_GID="65534", SUDO_USER="nobody")
    run = lambda *args: subprocess.run([c.memtrace, "-o", c.path("sudo.txt")] + list(args),
                                       capture_output=True, text=True, timeout=60, env=sudo)
    p = run(c.fx("whoami"))
    v = fixture_values(p.stdout)
    check(p.returncode == 0 and v["uid"] == 65534 and v["gid"] == 65534, "ran as %s: %s" % (v, p.stderr))
    check("home=/nonexistent" in p.stdout, "HOME not nobody's: %s" % p.stdout)
    p = run("--as-root", c.fx("whoami"))
    check(fixture_values(p.stdout)["uid"] == 0, "--as-root: %s" % p.stdout)
    p = run("-u", "root", c.fx("whoami"))
    check(fixture_values(p.stdout)["uid"] == 0, "-u wins over SUDO_UID: %s" % p.stdout)
    # A user the password database does not know (a container's): the ids sudo gives, no groups.
    sudo.update(SUDO_UID="54321", SUDO_GID="54322", SUDO_USER="ghost")
    v = fixture_values(run(c.fx("whoami")).stdout)
    check(v["uid"] == 54321 and v["gid"] == 54322 and v["ngroups"] == 0, "unknown sudo user: %s" % v)
    sudo["SUDO_UID"] = "x1"
    one_line_error(run("true"), 64, r"bad SUDO_UID 'x1'")
    one_line_error(c.bare("-u", "nobody", "--as-root", "true"), 64, r"either -u USER or --as-root")


@test
def capabilities_are_enough(c):
    """As the README says: setcap cap_bpf,cap_perfmon+ep, then an ordinary user can run it."""
    import shutil
    if not shutil.which("setcap"):
        raise Failure("setcap (libcap2-bin) missing")
    binary = c.path("memtrace-cap")
    shutil.copy(c.memtrace, binary)
    os.chmod(binary, 0o755)
    p = subprocess.run(["setcap", "cap_bpf,cap_perfmon+ep", binary], capture_output=True, text=True)
    check(p.returncode == 0, "setcap: %s" % p.stderr)
    p = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", binary, "--format", "%x %P",
                        c.fx("whoami")], capture_output=True, text=True, timeout=60, cwd="/")
    check(p.returncode == 0 and p.stderr == "0 1\n", "as nobody with the capabilities: %d %r" % (p.returncode, p.stderr))
    check(fixture_values(p.stdout)["uid"] == 65534, "the command ran as %s" % p.stdout)


def read_sysctl_int(name):
    with open("/proc/sys/" + name.replace(".", "/")) as f:
        return int(f.read())


@test
def task_map_is_preallocated_to_the_kernels_bound(c):
    """The task map holds as many tasks as can be alive (a pid each, at most
    threads-max), preallocated: an allocating map costs every thread about
    1 us more. --max-tasks replaces the bound."""
    bound = min(read_sysctl_int("kernel.pid_max"), read_sysctl_int("kernel.threads-max"))
    for extra, want in (([], bound), (["--max-tasks", "4096"], 4096)):
        mt = subprocess.Popen([c.memtrace] + extra + ["-q", "-o", os.devnull, "--", "sh", "-c", "echo ready; read x"],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        mt.stdout.readline()
        found = None
        for i in bpf_ids_of(mt.pid, "map"):
            info = subprocess.run(["bpftool", "--json", "map", "show", "id", str(i)],
                                  capture_output=True, text=True).stdout
            m = json.loads(info) if info else {}
            if m.get("name") == "tasks":
                found = m
        mt.communicate(input="x\n", timeout=30)
        check(found is not None, "no map named tasks held by memtrace")
        check(found["max_entries"] == want, "%s: %d entries, want %d" % (extra, found["max_entries"], want))
        check(found["flags"] & 1 == 0, "%s: flags %#x: BPF_F_NO_PREALLOC set" % (extra, found["flags"]))
