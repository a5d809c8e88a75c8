"""Kernel memory that RSS hides, against the memory cgroup's own count, and the per-task table."""
import csv
import os
import subprocess
import sys

from common import Failure, check, fixture_values, no_loss, serial, test, values_until

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))), "tools"))
import memcg  # noqa: E402
from memcg import MemoryCgroup, NoMemoryCgroup  # noqa: E402

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data")


@test
@serial("the cgroup's kernel memory: other groups' charges on the same CPU move its per-CPU stock")
def kernel_memory_matches_the_cgroup(c):
    """1000 threads held in a fresh memory cgroup: kernel memory within the
    README's 0.15% of the cgroup's own count (v1 kmem usage, or v2 memory.stat)."""
    try:
        with MemoryCgroup("test") as cg:
            args = cg.command([c.fx("threads"), "1000", "0", "-1"])
            mt = subprocess.Popen([c.memtrace, "--json", c.path("kmem.json"), "--"] + args,
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            try:
                values = values_until(mt.stdout, "held")
                kmem = cg.kernel_bytes()  # while every thread is held, waiting for stdin
                mt.stdin.write("g")
                mt.stdin.flush()
                out, err = mt.communicate(timeout=120)
            finally:
                if mt.poll() is None:
                    mt.kill()
                    mt.wait()
            check(mt.returncode == 0, "exit %d: %s" % (mt.returncode, err))
    except NoMemoryCgroup as e:
        raise Failure(str(e))
    r = c.load_json("kmem.json")
    ours = r["peak_kernel"]["bytes"]
    check(values["threads_seen"] == 1001, "fixture saw %d threads" % values["threads_seen"])
    # README: "matches to 0.15%" (0.03% measured here at 1,000 threads, v1).
    check(abs(ours - kmem) <= 0.0015 * kmem, "memtrace kernel %d vs cgroup v%d kernel %d (%+.3f%%)" % (
        ours, cg.version, kmem, 100.0 * (ours - kmem) / kmem))
    at = r["peak_kernel"]["at_peak"]
    check(at["pgtables_bytes"] == values["vmpte_kib"] * 1024,
          "page tables %d vs VmPTE %d KiB" % (at["pgtables_bytes"], values["vmpte_kib"]))
    check(at["threads"] == 1001 and at["kstack_bytes"] == 1001 * 16384, "threads/stacks %s" % at)
    check(at["thread_objects_bytes"] == 1001 * r["thread_kernel_bytes"], "thread objects %s" % at)
    check(at["kernel_bytes"] == at["pgtables_bytes"] + at["kstack_bytes"] + at["thread_objects_bytes"],
          "kernel_bytes is not the sum of its parts: %s" % at)
    no_loss(r)


@test
@serial("on a cgroup v2 host it turns the memory controller on and off in the root's subtree_control")
def cgroup_v2_memory_stat(c):
    """The cgroup v2 path of tools/memcg.py: finding a cgroup2 mount, and the
    kernel memory of a group from memory.stat, on files in the format of a
    v2-only host (tests/integration/data/README: why not recorded here); and
    on this host, whether a v2 group can count memory, and why not."""
    mounts = memcg.cgroup2_mounts(os.path.join(DATA, "mountinfo.v2"))
    check(mounts == ["/sys/fs/cgroup"], "cgroup2 mounts %s" % mounts)
    with open(os.path.join(DATA, "memory.stat.v2")) as f:
        text = f.read()
    stat = memcg.parse_memory_stat(text)
    check(stat["kernel_stack"] == 1002 * 16384 and stat["slab"] == 6907368, "parsed %s" % stat)
    check(memcg.v2_kernel_bytes(stat) == 27521024, "'kernel' is the figure when present")
    del stat["kernel"]  # before Linux 5.18: the parts
    check(memcg.v2_kernel_bytes(stat) == 1002 * 16384 + 4186112 + 6907368 + 2400, "sum of the parts")
    del stat["slab"]
    try:
        memcg.v2_kernel_bytes(stat)
        raise Failure("a memory.stat without kernel nor slab was taken")
    except NoMemoryCgroup as e:
        check("slab" in str(e), "message %r" % str(e))
    # Here: a v2 group either counts memory (then kernel_bytes() reads it),
    # or the reason it cannot is named.
    root, why = memcg.v2_root_with_memory()
    if root:
        with MemoryCgroup("v2-probe", version=2) as cg:
            check(cg.kernel_bytes() >= 0, "v2 kernel bytes")
    else:
        check("memory" in why, "no reason given: %r" % why)
        try:
            with MemoryCgroup("v2-probe", version=2):
                raise Failure("a v2 group was made without a memory controller")
        except NoMemoryCgroup as e:
            check(str(e) == why, "%r vs %r" % (str(e), why))


@test
def stack_size_changes_page_tables_not_kernel_stacks(c):
    """Threads with 64 KiB and 8 MiB stacks: page tables follow VmPTE, kernel stacks do not move."""
    seen = {}
    for stack_kib in (64, 8192):
        p, r = c.run([], [c.fx("threads"), "200", str(stack_kib), "300"])
        check(p.returncode == 0, "exit %d: %s" % (p.returncode, p.stderr))
        v = fixture_values(p.stdout)
        at = r["peak_kernel"]["at_peak"]
        check(at["pgtables_bytes"] == v["vmpte_kib"] * 1024,
              "%d KiB stacks: page tables %d vs VmPTE %d KiB" % (stack_kib, at["pgtables_bytes"], v["vmpte_kib"]))
        seen[stack_kib] = at
        no_loss(r)
    small, big = seen[64], seen[8192]
    check(big["pgtables_bytes"] > small["pgtables_bytes"] * 2,
          "page tables barely differ: %d vs %d" % (small["pgtables_bytes"], big["pgtables_bytes"]))
    check(small["kstack_bytes"] == big["kstack_bytes"] == 201 * 16384,
          "kernel stacks %d vs %d" % (small["kstack_bytes"], big["kstack_bytes"]))


@test
def per_task_table_of_a_known_tree(c):
    """2 processes of 5 threads each: exactly those 10 rows; faults add up to the tree's."""
    csv_path = c.path("tasks.csv")
    p, r = c.run(["--tasks", "--tasks-csv", csv_path], [c.fx("procs_threads"), "2", "5"])
    check(p.returncode == 0, "exit %d: %s" % (p.returncode, p.stderr))
    tids = sorted(int(x.split("=")[1]) for x in p.stdout.split() if x.startswith("tid="))
    check(len(tids) == 10, "fixture printed %d tids" % len(tids))
    rows = r["tasks"]
    check(sorted(t["tid"] for t in rows) == tids, "task rows %s vs tids %s" % ([t["tid"] for t in rows], tids))
    by_proc = {}
    for t in rows:
        by_proc.setdefault(t["tgid"], []).append(t)
    check(sorted(len(v) for v in by_proc.values()) == [5, 5], "rows per process %s" % by_proc.keys())
    check(sum(t["page_faults"] for t in rows) == r["page_faults"],
          "task faults %d vs tree %d" % (sum(t["page_faults"] for t in rows), r["page_faults"]))
    check(all(t["exit_ms"] is not None and t["exit_ms"] >= t["start_ms"] for t in rows), "exit times")
    check("Tasks: 10 threads" in p.stderr, "text table missing: %s" % p.stderr[-500:])
    with open(csv_path) as f:
        reader = csv.DictReader(f)
        crows = list(reader)
    check(reader.fieldnames == ["run", "tid", "tgid", "ptid", "ppid", "comm", "start_ms", "exit_ms", "page_faults",
                                "is_process", "peak_rss_bytes", "peak_anon_bytes", "peak_file_bytes",
                                "peak_shmem_bytes", "peak_kernel_bytes", "kstack_bytes"], "columns %s" % reader.fieldnames)
    check(len(crows) == 10, "CSV rows %d" % len(crows))
    # README: ordered by process, then start.
    order = [(int(x["tgid"]), int(x["tid"]) != int(x["tgid"]), float(x["start_ms"])) for x in crows]
    check(order == sorted(order), "rows not by process then start: %s" % order)
    tasks = {t["tid"]: t for t in rows}
    procs = {x["pid"]: x for x in r["per_process"]}
    for x in crows:
        t = tasks[int(x["tid"])]
        for k in ("tgid", "ptid", "ppid", "page_faults", "kstack_bytes"):
            check(int(x[k]) == t[k], "tid %s %s: CSV %s, JSON %s" % (x["tid"], k, x[k], t[k]))
        check(x["run"] == "1" and x["comm"] == t["comm"], "tid %s run/comm %s" % (x["tid"], x))
        check(int(x["kstack_bytes"]) == 16384, "tid %s kstack %s" % (x["tid"], x["kstack_bytes"]))
        for k in ("start_ms", "exit_ms"):
            check(abs(float(x[k]) - t[k]) < 0.002, "tid %s %s: CSV %s, JSON %s" % (x["tid"], k, x[k], t[k]))
        leader = int(x["tid"]) == int(x["tgid"])
        check(x["is_process"] == ("1" if leader else "0"), "tid %s is_process %s" % (x["tid"], x["is_process"]))
        if leader:
            pk = procs[int(x["tid"])]["peak"]
            for k in ("rss", "anon", "file", "shmem"):
                check(int(x["peak_%s_bytes" % k]) == pk["%s_bytes" % k], "tid %s peak_%s_bytes" % (x["tid"], k))
            check(int(x["peak_kernel_bytes"]) == procs[int(x["tid"])]["peak_kernel_bytes"], "peak_kernel_bytes")
            check(pk["rss_bytes"] > 0, "leader %s has no peak" % x["tid"])
        else:
            check(all(x["peak_%s_bytes" % k] == "" for k in ("rss", "anon", "file", "shmem", "kernel")),
                  "a thread row with process figures: %s" % x)
    no_loss(r)
