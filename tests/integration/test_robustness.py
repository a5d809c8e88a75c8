"""Attaching to running processes, signals, -u, lost events, clean-up, bad input."""
import os
import re
import signal
import subprocess
import time

from common import KIB, MIB, Failure, check, fixture_values, no_loss, one_line_error, test


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
def attach_follows_existing_and_new(c):
    """Attach to 3 processes / 10 threads; 2 more processes start later: all followed."""
    fx = subprocess.Popen([c.fx("attach_target"), "40"], stdout=subprocess.PIPE, text=True)
    try:
        v = wait_for_line(fx, "ready")
        pids = [v["parent"], v["child1"], v["child2"]]
        before = {p: vmrss_kib(p) for p in pids}
        mt = subprocess.Popen([c.memtrace, "--json", c.path("attach.json"), "-p", str(v["parent"])],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        wait_until_tracing(mt.pid)
        fx.send_signal(signal.SIGUSR1)
        v.update(wait_for_line(fx, "sum_vmrss_at_peak_kib"))
        fx.wait(timeout=30)
        out, err = mt.communicate(timeout=30)
    finally:
        fx.kill()
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
        check(abs(got - before[p]) <= 16, "pid %d start RSS %d KiB, VmRSS %d KiB" % (p, got, before[p]))
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
    time.sleep(0.3)  # exited, not reaped: a zombie
    one_line_error(run("-p", str(zombie.pid)), 125, r"cannot attach to \d+: it has already exited")
    zombie.wait()
    one_line_error(run("-p", "12abc"), 64, r"bad process id '12abc'")
    one_line_error(run("-p", "1", "--", "true"), 64, r"either -p PID or a command")
    one_line_error(run("--duration", "-1", "-p", "1"), 64, r"bad duration '-1'")
    one_line_error(run("--duration", "abc", "-p", "1"), 64, r"bad duration 'abc'")
    one_line_error(run("-u", "no-such-user-xyz", "--", "true"), 64, r"unknown user 'no-such-user-xyz'")
    one_line_error(run("--json", "/no/such/dir/x.json", "--", "true"), 125, r"cannot write '/no/such/dir/x.json'")


@test
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
    mt = subprocess.Popen([c.memtrace, "--", "sleep", "30"], stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True)
    time.sleep(0.5)
    mt.send_signal(signal.SIGINT)
    out, err = mt.communicate(timeout=30)
    check(mt.returncode == 128 + signal.SIGINT, "exit %d" % mt.returncode)
    check("killed by signal 2" in err and "Peak RSS (tree):" in err, "report: %s" % err)
    check(subprocess.run(["pgrep", "-f", "^sleep 30$"], capture_output=True).returncode != 0,
          "sleep 30 still running")

    sleeper = subprocess.Popen(["sleep", "30"])
    try:
        mt = subprocess.Popen([c.memtrace, "-p", str(sleeper.pid)], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
        time.sleep(0.5)
        mt.send_signal(signal.SIGINT)
        out, err = mt.communicate(timeout=30)
        check(mt.returncode == 0, "attach exit %d" % mt.returncode)
        check("stopped by a signal" in err and "Peak RSS (tree):" in err, "report: %s" % err)
        check(sleeper.poll() is None, "the attached process was harmed")
    finally:
        sleeper.kill()
        sleeper.wait()


@test
def stop_and_continue_do_not_end_the_run(c):
    mt = subprocess.Popen([c.memtrace, "--", "sleep", "1"], stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True)
    time.sleep(0.3)
    mt.send_signal(signal.SIGTSTP)
    time.sleep(0.2)
    mt.send_signal(signal.SIGCONT)
    out, err = mt.communicate(timeout=30)
    check(mt.returncode == 0, "exit %d: %s" % (mt.returncode, err))
    check(re.search(r"^  Exit status:\s+0$", err, re.M), err)


def wait_until_tracing(pid, timeout=20):
    """Until memtrace holds its programs, then a moment for it to walk the tasks."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if len(prog_ids_of(pid)) >= 5:
            time.sleep(0.5)
            return
        time.sleep(0.05)
    raise Failure("memtrace %d never loaded its programs" % pid)


def prog_ids_of(pid):
    """BPF programs a process holds, from the fdinfo of its program and link fds."""
    ids = set()
    fddir = "/proc/%d/fdinfo" % pid
    for fd in os.listdir(fddir):
        try:
            with open(os.path.join(fddir, fd)) as f:
                for line in f:
                    if line.startswith("prog_id:"):
                        ids.add(int(line.split()[1]))
        except OSError:
            pass
    return ids


def loaded_prog_ids():
    out = subprocess.run(["bpftool", "prog", "show"], capture_output=True, text=True).stdout
    return {int(line.split(":")[0]) for line in out.splitlines() if line[:1].isdigit()}


@test
def sigkill_of_memtrace_leaves_nothing(c):
    """SIGKILL memtrace: the command dies with it, and no program of it stays loaded."""
    marker = "sleep %d" % (100000 + os.getpid())  # a command line no one else runs
    mt = subprocess.Popen([c.memtrace, "--"] + marker.split(),
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(0.5)
    ours = prog_ids_of(mt.pid)
    check(len(ours) >= 5 and ours <= loaded_prog_ids(), "memtrace holds programs %s" % ours)
    mt.kill()
    mt.wait()
    time.sleep(0.5)
    survivor = subprocess.run(["pgrep", "-xf", marker], capture_output=True).returncode == 0
    if survivor:
        subprocess.run(["pkill", "-xf", marker])
    check(not survivor, "the command outlived memtrace")
    deadline = time.monotonic() + 5
    while ours & loaded_prog_ids() and time.monotonic() < deadline:
        time.sleep(0.1)  # programs are freed a moment after their last holder dies
    check(not ours & loaded_prog_ids(), "programs left loaded: %s" % (ours & loaded_prog_ids()))


@test
def run_as_user(c):
    p, r = c.run(["-u", "nobody"], [c.fx("whoami")])
    check(p.returncode == 0, "exit %d: %s" % (p.returncode, p.stderr))
    v = fixture_values(p.stdout)
    check(v["uid"] == 65534 and v["gid"] == 65534, "ran as uid %d gid %d" % (v["uid"], v["gid"]))
    check("home=/nonexistent" in p.stdout, "HOME not nobody's: %s" % p.stdout)
    check(all(v["group%d" % i] != 0 for i in range(v["ngroups"])), "kept root's groups")


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
