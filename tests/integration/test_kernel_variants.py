"""Which programs memtrace loads on which kernel, and the programs that older
kernels get (bpf_spin_lock for the tree lock before 6.15, group_dead derived
from signal->live before 6.16) run here on the running kernel
(MEMTRACE_OLDER_KERNEL_PROGRAMS) against the same truths as the core tests.
tools/test_kernels.py runs the core tests on such kernels themselves."""
import os
import re
import subprocess
import time

from common import KIB, MIB, Failure, Skip, check, fixture_values, near, no_loss, serial, test, values_until

OLDER = dict(os.environ, MEMTRACE_OLDER_KERNEL_PROGRAMS="1")


def btf_has_func(name):
    """Independent of memtrace: bpftool's listing of the kernel's BTF."""
    out = subprocess.run(["bpftool", "btf", "dump", "file", "/sys/kernel/btf/vmlinux"],
                         capture_output=True, text=True).stdout
    return re.search(r"^\[\d+\] FUNC '%s'" % re.escape(name), out, re.M) is not None


@test
def check_kernel_names_what_it_loads(c):
    """--check-kernel: exit 0 here, and the lock it names is the one this kernel's BTF has."""
    p = c.bare("--check-kernel")
    check(p.returncode == 0, "exit %d: %s" % (p.returncode, p.stderr))
    lock = "bpf_res_spin_lock" if btf_has_func("bpf_res_spin_lock") else "bpf_spin_lock"
    check(re.match(r"^memtrace can run on Linux %s: tree lock %s, " % (re.escape(os.uname().release), lock),
                   p.stdout), "output %r, want lock %s" % (p.stdout, lock))
    p = subprocess.run([c.memtrace, "--check-kernel"], capture_output=True, text=True, env=OLDER)
    check("tree lock bpf_spin_lock, exit tracepoint without group_dead" in p.stdout, "older: %r" % p.stdout)


@test
def older_kernel_programs_are_the_ones_loaded(c):
    """libbpf's log: the two-argument exit program is skipped, no bpf_res_spin_lock is resolved."""
    p = subprocess.run([c.memtrace, "-vv", "--", "true"], capture_output=True, text=True, env=OLDER, timeout=60)
    check(p.returncode == 0, "exit %d" % p.returncode)
    check("prog 'on_exit': skipped loading" in p.stderr, "on_exit was loaded")
    check("on_exit_task_only': skipped" not in p.stderr, "on_exit_task_only was skipped")
    check("'bpf_res_spin_lock': resolved" not in p.stderr, "the resilient lock was used")


@test
def older_kernel_programs_exact_peak(c):
    """Touch 100 MiB, free, touch 50 MiB: the peak is the fixture's VmRSS at its high."""
    p, r = c.run([], [c.fx("alloc_free"), "100", "50"], env=OLDER)
    check(p.returncode == 0, "exit %d: %s" % (p.returncode, p.stderr))
    v = fixture_values(p.stdout)
    near(r["peak_rss"]["bytes"], v["vmrss_at_peak_kib"] * KIB, 16 * KIB, "peak vs VmRSS")
    check(r["final"]["rss_bytes"] == 0, "final RSS %d" % r["final"]["rss_bytes"])
    no_loss(r)


@test
def older_kernel_programs_tree_breakdown(c):
    """8 children of 32 MiB at once: the per-process shares at the peak add up to it exactly."""
    p, r = c.run([], [c.fx("tree_hold"), "8", "32"], env=OLDER)
    check(p.returncode == 0, "exit %d: %s" % (p.returncode, p.stderr))
    v = fixture_values(p.stdout)
    peak = r["peak_rss"]["bytes"]
    total = v["sum_vmrss_kib"] * KIB
    check(peak >= 8 * 32 * MIB and abs(peak - total) <= 0.02 * total, "peak %d, VmRSS sum %d" % (peak, total))
    at_peak = sum(x["at_tree_rss_peak"]["rss_bytes"] for x in r["per_process"])
    check(at_peak == peak, "breakdown at peak sums to %d, peak %d" % (at_peak, peak))
    check(r["events"]["lock_timeouts"] == 0, "lock timeouts %s" % r["events"])
    no_loss(r)


@test
def group_exit_ends_each_process_once(c):
    """Processes that exit_group() with 16 threads running: each ends once, with its status."""
    for env in (None, OLDER):
        check_group_exit(c, env)


def check_group_exit(c, env):
    p, r = c.run([], [c.fx("group_exit"), "8", "16", "7"], env=env)
    check(p.returncode == 0, "exit %d: %s" % (p.returncode, p.stderr))
    v = fixture_values(p.stdout)
    pr = r["processes"]
    check(pr["total"] == 11 and pr["exits_seen"] == 11 and pr["still_running"] == 0, "processes %s" % pr)
    check(pr["peak_concurrent"] == v["concurrent_max"], "peak concurrent %s, want 3" % pr)
    t = r["threads"]
    check(t["total"] == 8 * 17 + 3 and t["exits_seen"] == t["total"], "threads %s" % t)
    codes = sorted(x["exit"]["status"] for x in r["per_process"])
    check(codes == [0, 0, 0] + [7] * 8, "exit statuses %s" % codes)
    check(r["final"]["rss_bytes"] == 0 and r["final"]["threads"] == 0, "final %s" % r["final"])
    no_loss(r)


CGROUP2 = "/sys/fs/cgroup"


def cgroup2_memory_root():
    """The cgroup v2 root, if its memory controller is there (kernels without cgroup v1 memory)."""
    try:
        with open(os.path.join(CGROUP2, "cgroup.controllers")) as f:
            if "memory" in f.read().split():
                return CGROUP2
    except OSError:
        pass
    return None


def cgroup2_kernel_bytes(path):
    """memory.stat's "kernel": the group's kernel memory, v1's kmem usage in v2's words."""
    with open(os.path.join(path, "memory.stat")) as f:
        for line in f:
            k, v = line.split()
            if k == "kernel":
                return int(v)
    raise Failure("no 'kernel' line in %s/memory.stat" % path)


@test
@serial("the cgroup's kernel memory; changes the v2 root's subtree_control")
def kernel_memory_matches_the_v2_cgroup(c):
    """Where only cgroup v2 has the memory controller (Debian's 6.12): 1000 sleeping threads,
    kernel memory within 3% of the group's memory.stat kernel."""
    root = cgroup2_memory_root()
    if not root:
        raise Skip("the memory controller is not on a cgroup v2 hierarchy at %s "
                   "(kernel_memory_matches_the_cgroup checks cgroup v1)" % CGROUP2)
    with open(os.path.join(root, "cgroup.subtree_control"), "w") as f:
        f.write("+memory")
    path = os.path.join(root, "memtrace-kmem-%d" % os.getpid())
    os.mkdir(path)
    try:
        cmd = ["sh", "-c", 'echo $$ > "$0/cgroup.procs" && exec "$@"', path,
               c.fx("threads"), "1000", "0", "1500"]
        mt = subprocess.Popen([c.memtrace, "--json", c.path("kmem2.json"), "--"] + cmd,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        values = values_until(mt.stdout, "held")
        kmem = cgroup2_kernel_bytes(path)
        out, err = mt.communicate(timeout=120)
        check(mt.returncode == 0, "exit %d: %s" % (mt.returncode, err))
    finally:
        for _ in range(50):
            try:
                os.rmdir(path)
                break
            except OSError:
                time.sleep(0.1)  # the last task is still leaving the group
    r = c.load_json("kmem2.json")
    ours = r["peak_kernel"]["bytes"]
    check(values["threads_seen"] == 1001, "fixture saw %d threads" % values["threads_seen"])
    check(abs(ours - kmem) <= 0.03 * kmem, "memtrace kernel %d vs cgroup kernel %d (%.2f%%)" % (
        ours, kmem, 100.0 * (ours - kmem) / kmem))
    no_loss(r)
