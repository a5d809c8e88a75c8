"""Process lifecycles where accounting goes wrong: zombies, a shared mm
(CLONE_VM) that changes hands, lost locks, page tables without RSS events,
io_uring workers, PID namespaces, names. Each compares memtrace with the
fixture's own /proc truth, read at its high point (tests/fixtures/lifecycle.c)."""
import gzip
import os
import shutil
import signal
import subprocess
import time

from common import KIB, MIB, Failure, Skip, check, fixture_values, no_loss, serial, test, wait_until_polling
from test_robustness import wait_for_line


def lifecycle(c, *args, env=None, extra=()):
    p, r = c.run(list(extra), [c.fx("lifecycle")] + [str(a) for a in args], env=env)
    check(p.returncode == 0, "exit %d: %s" % (p.returncode, p.stderr))
    check(r is not None, "no JSON report: %s" % p.stderr)
    return fixture_values(p.stdout), r, p


def status_kib(v, prefix, field):
    return v["%s_%s_kib" % (prefix, field)] * KIB


@test
def zombies_are_not_followed(c):
    """50 children exit at once and are reaped 2.5 s later: 51 processes, none
    left running, no kernel memory at the end, whatever the exports."""
    for extra in ([], ["--csv", c.path("zombies.csv"), "--interval", "10"]):
        v, r, _ = lifecycle(c, "zombies", 50, 2500, extra=extra)
        what = "with %s" % (extra or "no export")
        check(v["children"] == 50, "fixture made %d children" % v["children"])
        check(r["processes"]["total"] == 51, "%s: processes %s, truth 51" % (what, r["processes"]))
        check(r["processes"]["still_running"] == 0, "%s: processes %s" % (what, r["processes"]))
        check(r["processes"]["exits_seen"] == 51, "%s: processes %s" % (what, r["processes"]))
        check(r["threads"]["still_running"] == 0, "%s: threads %s" % (what, r["threads"]))
        check(r["final"]["kernel_bytes"] == 0 and r["final"]["rss_bytes"] == 0,
              "%s: final %s, truth 0: every process is gone" % (what, r["final"]))
        check(len(r["per_process"]) == 51, "%s: %d rows" % (what, len(r["per_process"])))
        no_loss(r)


@test
def attach_ends_despite_an_unreaped_child(c):
    """-p on a process whose child is a zombie: the zombie is not followed, and
    memtrace ends when the process exits."""
    fx = subprocess.Popen([c.fx("lifecycle"), "zombie-child"], stdin=subprocess.PIPE,
                          stdout=subprocess.PIPE, text=True)
    try:
        v = wait_for_line(fx, "zombie")
        mt = subprocess.Popen([c.memtrace, "--json", c.path("zattach.json"), "-p", str(v["pid"])],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        wait_until_polling(mt.pid)
        fx.stdin.close()
        fx.wait(timeout=10)
        try:
            _, err = mt.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            mt.kill()
            raise
    finally:
        fx.kill()
    check(mt.returncode == 0, "memtrace exit %d: %s" % (mt.returncode, err))
    r = c.load_json("zattach.json")
    check(r["processes"]["total"] == 1, "processes %s: the zombie %d was added" %
          (r["processes"], v["zombie"]))
    check(r["processes"]["still_running"] == 0, "processes %s" % r["processes"])


@test
def clone_vm_pages_move_to_the_survivor(c):
    """P holds 64 MiB anon + 32 MiB shared memory, clones C with CLONE_VM (no
    CLONE_THREAD), then exits (or execs). C grows 48 MiB. The mm counts once,
    and the tree's peak is the command's VmRSS plus C's at its high, to the
    byte: nothing is dropped when P leaves, and C's shmem is counted."""
    for how in ("exit", "exec"):
        v, r, _ = lifecycle(c, "clone-vm", how, 64, 32, 48)
        truth = status_kib(v, "cmd", "VmRSS") + status_kib(v, "c", "VmRSS")
        peak = r["peak_rss"]["bytes"]
        check(peak == truth, "%s: tree peak %d, truth %d (command + C's VmRSS)" % (how, peak, truth))
        at = r["peak_rss"]["at_peak"]
        check(at["shmem_bytes"] == status_kib(v, "c", "RssShmem"),
              "%s: shmem at peak %d, C's RssShmem %d" % (how, at["shmem_bytes"], status_kib(v, "c", "RssShmem")))
        rows = sorted(r["per_process"], key=lambda p: p["start_ms"])
        check(len(rows) == 3, "%s: %d rows" % (how, len(rows)))
        survivor = rows[2]
        check(survivor["peak"]["rss_bytes"] == status_kib(v, "c", "VmRSS"),
              "%s: C's own peak %d, its VmRSS %d" % (how, survivor["peak"]["rss_bytes"], status_kib(v, "c", "VmRSS")))
        shares = sum(p["at_tree_rss_peak"]["rss_bytes"] for p in r["per_process"])
        check(shares == peak, "%s: shares at the peak add to %d, peak %d" % (how, shares, peak))
        check(r["final"]["rss_bytes"] == 0, "%s: final %s" % (how, r["final"]))
        no_loss(r)


def attach_clone_vm(c, target):
    """Attach to P or C of a CLONE_VM pair holding 128 MiB; C then grows 64 MiB."""
    fx = subprocess.Popen([c.fx("lifecycle"), "clone-vm-hold", "128"], stdin=subprocess.PIPE,
                          stdout=subprocess.PIPE, text=True)
    try:
        v = wait_for_line(fx, "ready")
        out = c.path("cvm-%s.json" % target)
        mt = subprocess.Popen([c.memtrace, "--json", out, "-p", str(v[target])],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        wait_until_polling(mt.pid)
        fx.stdin.write("grow 64\n")
        fx.stdin.flush()
        v.update(wait_for_line(fx, "grown"))
        fx.stdin.close()
        fx.wait(timeout=10)
        _, err = mt.communicate(timeout=15)
    finally:
        fx.kill()
    check(mt.returncode == 0, "memtrace exit %d: %s" % (mt.returncode, err))
    return v, c.load_json(out)


@test
def attach_to_a_clone_vm_pair(c):
    """-p on P follows P and C, whose one mm counts once; -p on C alone sees
    C's growth through the mm P owns. The peak is C's VmRSS at its high
    (P's equals it: one mm), to the byte."""
    for target in ("p", "c"):
        v, r = attach_clone_vm(c, target)
        truth = v["c_VmRSS_kib"] * KIB
        check(r["peak_rss"]["bytes"] == truth,
              "-p %s: peak %d, truth %d (the shared mm once)" % (target, r["peak_rss"]["bytes"], truth))
        check(r["processes"]["total"] == (2 if target == "p" else 1), "-p %s: %s" % (target, r["processes"]))
        # C was the sharer; P exits first (C sees EOF only once P's files are closed, after
        # P's exit event), and C, the holder from then on, ends with shared_vm 0.
        rows = {x["pid"]: x for x in r["per_process"]}
        if target == "p":
            check(rows[v["p"]]["shared_vm"] == 0 and rows[v["c"]]["shared_vm"] == 0,
                  "-p p: shared_vm %s" % {k: x["shared_vm"] for k, x in rows.items()})
        no_loss(r)


@test
def page_tables_equal_vmpte_without_rss_events(c):
    """Page tables that change with no RSS change are counted: reading 8 GiB of
    never-written memory (the zero page) builds 16 MiB of them (also in a
    process whose leader has exited), munmap frees
    them, a huge page deposits one after its counter rose. The page tables
    at the kernel-memory peak equal the fixture's VmPTE at its high (held
    1.5 s, past one refresh pass)."""
    v, r, _ = lifecycle(c, "zero-read", 8)
    got = r["peak_kernel"]["at_peak"]["pgtables_bytes"]
    check(got == status_kib(v, "high", "VmPTE"), "zero page: %d vs VmPTE %d" % (got, status_kib(v, "high", "VmPTE")))
    check(got > 16 * MIB, "zero page: page tables %d, expected above 16 MiB" % got)

    # The refresh pass visits a process through its leader; with the leader gone, through a thread.
    # Three runs: now and then another mm-lock user (about 1 run in 16 here) re-reads the tables
    # for the pass, and each run must show them.
    for run in range(3):
        v, r, _ = lifecycle(c, "zero-read-late", 4)
        got = r["peak_kernel"]["at_peak"]["pgtables_bytes"]
        check(got == status_kib(v, "high", "VmPTE") and got > 8 * MIB, "zero page, leader gone (run %d): %d vs VmPTE %d"
              % (run + 1, got, status_kib(v, "high", "VmPTE")))

    v, r, _ = lifecycle(c, "remap", 400)
    got = r["peak_kernel"]["at_peak"]["pgtables_bytes"]
    truth = max(status_kib(v, "first", "VmPTE"), status_kib(v, "second", "VmPTE"))
    check(got == truth, "munmap then map anew: %d vs VmPTE %d (freed tables still counted?)" % (got, truth))

    v, r, _ = lifecycle(c, "thp", 64)
    if v["high_AnonHugePages_kib"] <= 0:
        raise Skip("no transparent huge page was used (THP off?)")
    got = r["peak_kernel"]["at_peak"]["pgtables_bytes"]
    check(got == status_kib(v, "high", "VmPTE"), "THP: %d vs VmPTE %d" % (got, status_kib(v, "high", "VmPTE")))


@test
def a_lost_lock_loses_only_that_change(c):
    """The first tree lock at an exec, an exit, an RSS change or a fork fails
    (MEMTRACE_TEST_FAIL_LOCK): it is counted, and the next change heals the
    state: the peak is still the fixture's VmRSS at its high, to the byte,
    the shares add up to it, and everything ends at zero."""
    for kind in ("exec", "exit", "rss", "fork"):
        env = dict(os.environ, MEMTRACE_TEST_FAIL_LOCK=kind)
        p, r = c.run([], [c.fx("alloc_free"), "100", "50"], env=env)
        check(p.returncode == 0, "%s: exit %d: %s" % (kind, p.returncode, p.stderr))
        v = fixture_values(p.stdout)
        peak = r["peak_rss"]["bytes"]
        check(peak == v["vmrss_at_peak_kib"] * KIB, "%s: peak %d, VmRSS at high %d" %
              (kind, peak, v["vmrss_at_peak_kib"] * KIB))
        check(r["events"]["lock_timeouts"] == 1 and r["events"]["lost"] == 1,
              "%s: the failure is counted: %s" % (kind, r["events"]))
        shares = sum(x["at_tree_rss_peak"]["rss_bytes"] for x in r["per_process"])
        check(shares == peak, "%s: shares %d, peak %d" % (kind, shares, peak))
        check(r["final"]["rss_bytes"] == 0 and r["final"]["threads"] == 0, "%s: final %s" % (kind, r["final"]))
        check(r["processes"]["still_running"] == 0 and r["processes"]["exits_seen"] == 1,
              "%s: processes %s" % (kind, r["processes"]))

        p, r = c.run([], [c.fx("tree_hold"), "8", "8"], env=env)
        check(p.returncode == 0, "%s tree: exit %d: %s" % (kind, p.returncode, p.stderr))
        check(r["processes"]["total"] == 9 and r["processes"]["still_running"] == 0,
              "%s tree: processes %s" % (kind, r["processes"]))
        check(r["threads"]["total"] == 9 and r["threads"]["peak_concurrent"] == 9,
              "%s tree: threads %s" % (kind, r["threads"]))
        check(r["final"]["rss_bytes"] == 0 and r["final"]["kernel_bytes"] == 0,
              "%s tree: final %s" % (kind, r["final"]))


@test
@serial("the writes must race the exit's 100 ms spin: the spin holds one CPU, the writer needs the other")
def pages_faulted_into_an_exiting_process_are_not_kept(c):
    """Another process writes pages into a process's mm, through
    /proc/PID/mem, while that process exits; memtrace's exit spins 100 ms
    after ending it (MEMTRACE_TEST_EXIT_SPIN_NS), so such writes reach the
    lock right behind the exit. The exit marks the process dead in the same
    locked change: none of them is kept, and the tree ends at zero, with the
    kernel's own exit path and the one older kernels take."""
    for older in (False, True):
        env = dict(os.environ, MEMTRACE_TEST_EXIT_SPIN_NS=str(100 * 1000 * 1000))
        if older:
            env["MEMTRACE_OLDER_KERNEL_PROGRAMS"] = "1"
        what = "older programs" if older else "this kernel's programs"
        # Writes go on while the child exits: none without memtrace's spin, about
        # 40,000 with it here alone, 1,390 in all once in CI beside other tests. A
        # writer kept off the CPUs for the whole spin runs no race: every run must
        # end at zero, and one in three must have run the race.
        raced = []
        for _ in range(3):
            p, r = c.run([], [c.fx("remote_write_exit"), "256"], env=env)
            check(p.returncode == 0, "%s: exit %d: %s" % (what, p.returncode, p.stderr))
            v = fixture_values(p.stdout)
            check(r["processes"]["total"] == 2 and r["processes"]["still_running"] == 0,
                  "%s: processes %s" % (what, r["processes"]))
            check(r["final"]["rss_bytes"] == 0 and r["final"]["kernel_bytes"] == 0,
                  "%s: final %s after %d pages written while the child exited"
                  % (what, r["final"], v["exiting_pages"]))
            no_loss(r)
            raced.append("%d of %d" % (v["exiting_pages"], v["remote_pages"]))
            if v["exiting_pages"] >= 500:
                break
        else:
            raise Failure("%s: the race never ran: pages written while the child exited, in 3 runs: %s"
                          % (what, ", ".join(raced)))


@test
@serial("the two threads must fault on two CPUs at once: other work would take one")
def two_threads_faulting_at_once(c):
    """Two threads of one process touch 64 MiB each at the same time, their
    counter reads racing on two CPUs: the peak is still the VmRSS at the
    high, to the byte (an older read never overwrites a newer one)."""
    for _ in range(5):
        v, r, _ = lifecycle(c, "two-threads", 64)
        check(r["peak_rss"]["bytes"] == status_kib(v, "high", "VmRSS"),
              "peak %d, VmRSS %d" % (r["peak_rss"]["bytes"], status_kib(v, "high", "VmRSS")))
        no_loss(r)


@test
def io_uring_workers_are_threads_of_the_tree(c):
    """An io_uring read punted to io-wq makes a worker thread (create_io_thread,
    no fork tracepoint): it is counted, with its kernel stack, at once."""
    try:
        with open("/proc/sys/kernel/io_uring_disabled") as f:
            if f.read().strip() == "2":
                raise Skip("io_uring is disabled here")
    except FileNotFoundError:
        pass
    v, r, _ = lifecycle(c, "io-uring")
    check(v["threads_with_worker"] == 2, "fixture saw %d threads" % v["threads_with_worker"])
    check(r["threads"]["total"] == 2 and r["threads"]["peak_concurrent"] == 2,
          "threads %s, truth 2 (the process and its io-wq worker)" % r["threads"])
    check(r["peak_kernel"]["at_peak"]["kstack_bytes"] == 2 * 16384,
          "kernel stacks at the kernel peak %d, truth 2 x 16 KiB" % r["peak_kernel"]["at_peak"]["kstack_bytes"])


@test
def process_name_is_the_leaders(c):
    """The leader ("leader-name") exits before its threads "pool-1" and
    "pool-2": the process is named as /proc/PID/comm names it."""
    _, r, p = lifecycle(c, "named-threads")
    check("comm leader-name" in p.stdout, "fixture's /proc comm: %r" % p.stdout)
    check(r["per_process"][0]["comm"] == "leader-name", "comm %r" % r["per_process"][0]["comm"])


@test
def inside_a_pid_namespace(c):
    """In a new PID namespace (as in a container), command mode and -p work,
    and pids are given as the namespace numbers them."""
    if not shutil.which("unshare"):
        raise Skip("unshare missing")
    out = c.path("ns.json")
    script = "echo pid=$$; exec %s 64 16" % c.fx("alloc_free")
    p = subprocess.run(["unshare", "--pid", "--fork", "--mount-proc", c.memtrace, "--json", out,
                        "--", "sh", "-c", script], capture_output=True, text=True, timeout=60)
    check(p.returncode == 0, "exit %d: %s" % (p.returncode, p.stderr))
    v = fixture_values(p.stdout)
    r = c.load_json(out)
    check(r["peak_rss"]["bytes"] == v["vmrss_at_peak_kib"] * KIB,
          "peak %d, VmRSS %d" % (r["peak_rss"]["bytes"], v["vmrss_at_peak_kib"] * KIB))
    check([x["pid"] for x in r["per_process"]] == [v["pid"]],
          "pids %s, the namespace's %d" % ([x["pid"] for x in r["per_process"]], v["pid"]))
    check(r["per_process"][0]["ppid"] == 1, "ppid %d: memtrace is 1 in the namespace" % r["per_process"][0]["ppid"])

    out = c.path("ns-attach.json")
    script = "%s 40 & exec %s --json %s -p $!" % (c.fx("attach_target"), c.memtrace, out)
    fx = subprocess.Popen(["unshare", "--pid", "--fork", "--mount-proc", "sh", "-c", script],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        v = wait_for_line(fx, "ready")
        mt = descendant_named(fx.pid, "memtrace")
        wait_until_polling(mt)
        # The attach_target parent is memtrace's child (memtrace replaced the shell that started it).
        target = [d for d in children_of(mt) if comm_of(d) == "attach_target"]
        check(len(target) == 1, "attach_target below memtrace: %s" % target)
        os.kill(target[0], signal.SIGUSR1)
        rest, err = fx.communicate(timeout=30)
        v.update(fixture_values(rest))
    finally:
        fx.kill()
    check(fx.returncode == 0, "attach in a namespace: exit %d: %s" % (fx.returncode, err))
    r = c.load_json(out)
    check(r["attached_pids"] == [v["parent"]], "attached %s, the namespace's pid %d" %
          (r["attached_pids"], v["parent"]))
    check(r["processes"]["total"] == 5, "attach in a namespace: processes %s" % r["processes"])
    pids = sorted(x["pid"] for x in r["per_process"])
    for k in ("parent", "child1", "child2", "late"):
        check(v[k] in pids, "the namespace's pid %d (%s) not among %s" % (v[k], k, pids))


def children_of(pid):
    kids = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open("/proc/%s/stat" % d) as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            if ppid == pid:
                kids.append(int(d))
    return kids


def comm_of(pid):
    try:
        with open("/proc/%d/comm" % pid) as f:
            return f.read().strip()
    except OSError:
        return ""


def descendant_named(pid, name, timeout=20):
    """The first process called name below pid, waiting for it to appear."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        todo = [pid]
        while todo:
            d = todo.pop()
            if d != pid and comm_of(d) == name:
                return d
            todo.extend(children_of(d))
        time.sleep(0.05)
    raise Failure("no %s below %d" % (name, pid))


def kernel_hz():
    try:
        with gzip.open("/proc/config.gz", "rt") as f:
            for line in f:
                if line.startswith("CONFIG_HZ="):
                    return int(line.split("=")[1])
    except OSError:
        pass
    return 100  # the lowest HZ a kernel can have: the widest bound


@test
@serial("the peak's time within one tick of the fixture's clock")
def peak_time_is_within_one_tick(c):
    """The peak's time is never later than the fixture's last fault and earlier
    by less than one clock tick (1/CONFIG_HZ), the README's bound."""
    tick_ms = 1000.0 / kernel_hz()
    for _ in range(3):
        p, r = c.run([], [c.fx("peak_clock"), "64", "300"])
        check(p.returncode == 0, "exit %d: %s" % (p.returncode, p.stderr))
        v = fixture_values(p.stdout)
        proc = r["per_process"][0]
        truth = proc["exit_ms"] - v["peak_to_exit_us"] / 1000.0
        for what, t in (("process peak", proc["peak_t_ms"]), ("tree peak", r["peak_rss"]["t_ms"])):
            # 0.05 ms of slack for the fixture's own clock read after its fault.
            check(-tick_ms <= t - truth <= 0.05, "%s at %.3f ms, last fault at %.3f ms (tick %.1f ms)" %
                  (what, t, truth, tick_ms))
