"""Every figure against a truth memtrace does not compute: the kinds of
pages against the fixture's own /proc/self/status, page faults against
/proc/PID/stat, the time series' spacing against the clock, kernel stacks
against /proc/meminfo."""
import csv
import os
import subprocess

from common import KIB, MIB, Failure, Skip, check, exact, fixture_values, known_bug, no_loss, serial, test

THREAD_STACK = 16384  # x86-64 THREAD_SIZE; kernel_stacks_match_meminfo shows it independently


def read_csv(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


@test
def memory_kinds_split(c):
    """20 MiB anon, 8 MiB of a disk file, 12 MiB shmem at once: each part is the
    fixture's own RssAnon / RssFile / RssShmem / VmSwap at its high, to the byte."""
    data = os.path.join(c.fixtures, "kinds.data.%d" % os.getpid())  # a disk, not tmpfs
    ts, summary = c.path("kinds.csv"), c.path("kinds-summary.csv")
    if os.path.exists(summary):
        os.unlink(summary)
    p, r = c.run(["--csv", ts, "--summary-csv", summary], [c.fx("kinds"), "20", "8", "12", data])
    check(p.returncode == 0, "exit %d: %s" % (p.returncode, p.stderr))
    v = fixture_values(p.stdout)
    check(v["rss_shmem_kib"] >= 12 * 1024 and v["rss_file_kib"] >= 8 * 1024,
          "the fixture did not hold its shmem and file pages: %s" % v)
    # The fixture reads status once, warm, right after its last touch: the
    # tree's peak is that instant, so every part matches exactly.
    truth = {"rss_bytes": v["vmrss_kib"] * KIB, "anon_bytes": v["rss_anon_kib"] * KIB,
             "file_bytes": v["rss_file_kib"] * KIB, "shmem_bytes": v["rss_shmem_kib"] * KIB,
             "swap_bytes": v["vm_swap_kib"] * KIB}
    exact(r["peak_rss"]["bytes"], truth["rss_bytes"], "peak vs VmRSS")
    for where, mem in (("peak_rss.at_peak", r["peak_rss"]["at_peak"]),
                       ("per_process.peak", r["per_process"][0]["peak"]),
                       ("per_process.at_tree_rss_peak", r["per_process"][0]["at_tree_rss_peak"])):
        for key, want in truth.items():
            exact(mem[key], want, "%s.%s" % (where, key))
    row = [x for x in read_csv(ts) if x["is_rss_peak"] == "1"][0]
    for key, want in truth.items():
        exact(int(row[key]), want, "time-series peak row %s" % key)
    srow = read_csv(summary)[0]
    for key in ("anon", "file", "shmem"):
        exact(int(srow["peak_%s_bytes" % key]), truth["%s_bytes" % key], "summary CSV peak_%s_bytes" % key)
    exact(int(srow["peak_rss_bytes"]), truth["rss_bytes"], "summary CSV peak_rss_bytes")
    no_loss(r)


SWAP_MIB = 256


def swap_areas():
    with open("/proc/swaps") as f:
        return [line.split()[0] for line in f.read().splitlines()[1:]]


@test
@serial("turns on a swap area of the whole host; a time-series row must fall in a 500 ms pause")
def swapped_pages_are_reported_apart(c):
    """64 MiB touched, its first 48 MiB pushed to swap (MADV_PAGEOUT), 32 MiB
    more, a 500 ms pause: the time series' rows in it show the fixture's
    VmRSS (the swapped pages left out) and VmSwap (most of the 48 MiB), to
    the byte. Then the swapped pages are written again, back into RSS and
    out of swap: the peak is VmRSS at that high, its swap part the one page
    the last swap-in has yet to take out, and the tree ends at zero. The
    swap area is a file of the test's, on a disk."""
    # A file system that swap files can live on (not tmpfs), the test's own name.
    area = os.path.join(c.fixtures, "swapfile.test")
    for old in swap_areas():  # left by a killed run of this test
        if os.path.basename(old) == "swapfile.test":
            subprocess.run(["swapoff", old], capture_output=True)
    try:
        try:
            with open(area, "wb") as f:
                os.fchmod(f.fileno(), 0o600)
                os.posix_fallocate(f.fileno(), 0, SWAP_MIB * MIB)
        except OSError as e:
            raise Skip("no room for a %d MiB swap file here: %s" % (SWAP_MIB, e))
        try:
            mk = subprocess.run(["mkswap", area], capture_output=True, text=True)
            on = subprocess.run(["swapon", area], capture_output=True, text=True) if mk.returncode == 0 else mk
        except FileNotFoundError as e:  # tools/deps.sh installs them: util-linux, mount
            raise Failure("no %s: tools/deps.sh bench installs it" % e.filename)
        if on.returncode != 0:
            raise Skip("no swap area could be made here: %s" % (on.stderr.strip() or on.stdout.strip()))
        ts = c.path("swap.csv")
        p, r = c.run(["--csv", ts, "--interval", "50"], [c.fx("swap_out"), "64", "48", "32"])
        check(p.returncode == 0, "exit %d: %s" % (p.returncode, p.stderr))
        v = fixture_values(p.stdout)
        # MADV_PAGEOUT passes over a page still in a CPU's batch on its way to the LRU
        # (20 of 12,288 once): the truth is the fixture's own VmSwap, most of the 48 MiB.
        check(v["out_vm_swap_kib"] >= 40 * 1024, "MADV_PAGEOUT left VmSwap at %d KiB of 48 MiB" % v["out_vm_swap_kib"])
        check(v["high_vm_swap_kib"] == 0, "the pages written again are still in swap: %s" % v)
        rows = [(int(x["rss_bytes"]), int(x["swap_bytes"]), int(x["anon_bytes"])) for x in read_csv(ts)]
        out = (v["out_vmrss_kib"] * KIB, v["out_vm_swap_kib"] * KIB)
        check(sum(1 for x in rows if x[:2] == out) >= 3,
              "no three rows of the pause show RSS %d with swap %d: %s" % (out + (sorted(set(rows)),)))
        at = r["peak_rss"]["at_peak"]
        exact(r["peak_rss"]["bytes"], v["high_vmrss_kib"] * KIB, "peak vs VmRSS at the high")
        exact(at["anon_bytes"], v["high_rss_anon_kib"] * KIB, "anon at the peak vs RssAnon")
        # A swap-in counts its page into anon before it takes it out of swap
        # (do_swap_page): at the first instant of the high, the last page
        # written is in both, and the swap part is that one page.
        exact(at["swap_bytes"], 4096, "swap at the peak, the instant the last page came back")
        exact(r["final"]["swap_bytes"], 0, "swap at the end")
        exact(r["final"]["rss_bytes"], 0, "RSS at the end")
        no_loss(r)
    finally:
        if area in swap_areas():
            subprocess.run(["swapoff", area], capture_output=True)
        if os.path.exists(area):
            os.unlink(area)


def hugetlb_pool_exists():
    """Whether any size of hugetlb page has reserved or overcommitted pages."""
    top = "/sys/kernel/mm/hugepages"
    for d in os.listdir(top) if os.path.isdir(top) else []:
        for knob in ("nr_hugepages", "nr_overcommit_hugepages"):
            with open(os.path.join(top, d, knob)) as f:
                if int(f.read()) > 0:
                    return True
    return False


def write_lock_program_loaded(c):
    """Whether memtrace loads its munmap look at hugetlb pages (libbpf's log, -vv)."""
    p = subprocess.run([c.memtrace, "-vv", "--", "true"], capture_output=True, text=True, timeout=60)
    check(p.returncode == 0, "memtrace -vv true: exit %d" % p.returncode)
    return "prog 'on_mmap_write_lock': skipped loading" not in p.stderr


@test
@serial("reserves hugetlb pages for the whole host (vm.nr_hugepages)")
def hugetlb_pages_are_outside_rss_and_reported(c):
    """16 MiB of hugetlb pages (MAP_HUGETLB) beside 8 MiB of ordinary memory.
    RSS leaves hugetlb pages out (the kernel counts them in HugetlbPages), and
    so does memtrace's peak: the fixture's VmRSS at its high, to the byte. The
    report says they were there: hugetlb_seen_bytes is the fixture's
    HugetlbPages, in JSON (tree and process) and in a line of the text, for a
    command that frees them before it exits (seen as munmap takes the mm's
    write lock), one that exits holding them with no mmap after their faults
    (seen at its exit, the mm still whole), and a process attached with -p
    that holds them (seen by the refresh pass: it takes no lock and does not
    exit meanwhile). Without a hugetlb pool the program that looks at munmap
    is not loaded: it would run at every mmap lock of the host for nothing."""
    knob = "/proc/sys/vm/nr_hugepages"
    with open(knob) as f:
        before = int(f.read())
    try:
        try:
            with open(knob, "w") as f:
                f.write(str(before + 8))
        except OSError as e:
            raise Skip("cannot set vm.nr_hugepages: %s" % e)
        with open(knob) as f:
            if int(f.read()) < before + 8:
                raise Skip("the kernel could not reserve 8 hugetlb pages of 2 MiB")
        check(write_lock_program_loaded(c), "a hugetlb pool, and on_mmap_write_lock is not loaded")
        for how in ("free", "exit"):
            p, r = c.run([], [c.fx("hugetlb_map"), "16", "8", how])
            check(p.returncode == 0, "%s: exit %d: %s" % (how, p.returncode, p.stderr))
            v = fixture_values(p.stdout)
            check(v["hugetlb_kib"] == 16 * 1024, "%s: the fixture held %d KiB of hugetlb pages" % (how, v["hugetlb_kib"]))
            exact(r["peak_rss"]["bytes"], v["vmrss_kib"] * KIB, "%s: peak vs VmRSS (hugetlb pages left out)" % how)
            exact(r["hugetlb_seen_bytes"], 16 * MIB, "%s: hugetlb_seen_bytes" % how)
            exact(r["per_process"][0]["hugetlb_seen_bytes"], 16 * MIB, "%s: the process's hugetlb_seen_bytes" % how)
            check("\n  Hugetlb pages:        16.0 MiB or more (one process), outside RSS: not counted\n" in p.stderr,
                  "%s: no Hugetlb pages line in %r" % (how, p.stderr[-600:]))
            no_loss(r)

        fx = subprocess.Popen([c.fx("hugetlb_map"), "16", "8", "hold"], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
        try:
            v = {}
            for line in fx.stdout:
                key, _, val = line.strip().partition("=")
                v[key] = int(val)
                if key == "hugetlb_kib":
                    break
            check("pid" in v and "hugetlb_kib" in v, "the holding fixture did not start: %s" % v)
            mt = subprocess.run([c.memtrace, "--json", c.path("huge.json"), "-p", str(v["pid"]), "--duration", "0.5"],
                                capture_output=True, text=True, timeout=60)
            with open("/proc/%d/status" % v["pid"]) as f:  # idle on its stdin since it printed
                now = {k: int(x.split()[0]) for k, _, x in (l.partition(":") for l in f) if k in ("VmRSS", "HugetlbPages")}
        finally:
            fx.stdin.close()
            fx.wait(timeout=30)
        check(mt.returncode == 0, "attached: exit %d: %s" % (mt.returncode, mt.stderr))
        r = c.load_json("huge.json")
        check(now["HugetlbPages"] == 16 * 1024, "attached: the fixture holds %d KiB of hugetlb pages" % now["HugetlbPages"])
        exact(r["peak_rss"]["bytes"], now["VmRSS"] * KIB, "attached: peak vs VmRSS")
        exact(r["hugetlb_seen_bytes"], 16 * MIB, "attached: hugetlb_seen_bytes")
        no_loss(r)
    finally:
        try:
            with open(knob, "w") as f:
                f.write(str(before))
        except OSError:
            pass  # it was refused before any change

    p, r = c.run([], [c.fx("alloc_free"), "8", "8"])
    check(r["hugetlb_seen_bytes"] == 0 and "Hugetlb pages:" not in p.stderr,
          "no hugetlb pages, yet the report names some: %s" % r["hugetlb_seen_bytes"])
    # At every mmap lock of the machine it costs, and without a pool nothing can need it.
    if not hugetlb_pool_exists():
        check(not write_lock_program_loaded(c), "no hugetlb pool, yet on_mmap_write_lock is loaded")


@test
def page_faults_match_rusage(c):
    """A child touching 16 MiB: its fault count is the kernel's minflt + majflt
    from /proc/PID/stat, read by its parent once it has exited, exactly."""
    tasks_csv = c.path("faults-tasks.csv")
    p, r = c.run(["--tasks-csv", tasks_csv], [c.fx("faults"), "16"])
    check(p.returncode == 0, "exit %d: %s" % (p.returncode, p.stderr))
    v = fixture_values(p.stdout)
    check(v["child_faults"] >= 16 * MIB // 4096, "the child took only %d faults" % v["child_faults"])
    procs = {x["pid"]: x for x in r["per_process"]}
    child = procs[v["child_pid"]]
    # A child's counters start at zero at fork, where memtrace starts following it.
    exact(child["page_faults"], v["child_faults"], "the child's page faults")
    exact(r["page_faults"], sum(x["page_faults"] for x in r["per_process"]), "tree faults vs processes summed")
    rows = {int(x["tid"]): x for x in read_csv(tasks_csv)}
    exact(int(rows[v["child_pid"]]["page_faults"]), v["child_faults"], "the child's row in --tasks-csv")
    no_loss(r)


@test
@serial("row spacing to the millisecond: the poll's wake-up is late on busy CPUs")
def interval_spacing_and_count(c):
    """--interval 40 over a 1.2 s command: a row every 40 ms, on a 40 ms grid from the start."""
    path = c.path("interval.csv")
    p, r = c.run(["--csv", path, "--interval", "40"], ["sleep", "1.2"])
    check(p.returncode == 0, "exit %d: %s" % (p.returncode, p.stderr))
    rows = read_csv(path)
    samples = [float(x["t_ms"]) for x in rows[:-1] if x["is_rss_peak"] == "0" and x["is_total_peak"] == "0"]
    # Sampling goes on until memtrace has reaped the command and read the final
    # state (the last row's time), a little after the command's own exit (wall_s).
    wall_ms = float(rows[-1]["t_ms"])
    due = int(wall_ms // 40) + 1  # at 0, 40, 80 ... ms up to the end
    # A sample is taken when its time has come: late by the poll's wake-up
    # (a loaded host: a few ms), never early; a late one may skip a slot, so
    # allow 20% of the slots empty. A peak row stays where it was written when
    # a higher peak comes later (rows are written live) and loses its mark: it
    # may share a slot with a sample, so slots are counted, and none may hold
    # more than one sample and one such row.
    slots = {}
    for t in samples:
        slots[int(t // 40)] = slots.get(int(t // 40), 0) + 1
    check(0.8 * due <= len(slots) <= due and max(slots.values()) <= 2,
          "%d slots with rows (%d rows), %d due in %.0f ms" % (len(slots), len(samples), due, wall_ms))
    samples = sorted({int(t // 40): t for t in samples}.values())
    late = sorted(t - 40 * int(t // 40) for t in samples)
    check(late[len(late) // 2] < 10, "samples off the 40 ms grid: median %.1f ms late" % late[len(late) // 2])
    gaps = sorted(b - a for a, b in zip(samples, samples[1:]))
    check(35 <= gaps[len(gaps) // 2] <= 45, "median gap %.1f ms, want 40" % gaps[len(gaps) // 2])
    check(samples[0] < 40, "first sample at %.1f ms" % samples[0])
    no_loss(r)


def meminfo_kib(field):
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise Failure("no %s in /proc/meminfo" % field)


@test
@serial("KernelStack in /proc/meminfo counts every thread of the host")
def kernel_stacks_match_meminfo(c):
    """2000 threads held alive: memtrace's kernel stacks equal what KernelStack
    in /proc/meminfo (the kernel's own count) drops by when they end."""
    n = 2000
    drops = []
    for attempt in range(3):
        mt = subprocess.Popen([c.memtrace, "--json", c.path("kstack.json"), "--", c.fx("threads"), str(n), "0", "-1"],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            for line in mt.stdout:
                if line.startswith("held="):
                    break
            during = meminfo_kib("KernelStack")  # every thread is alive, waiting for stdin
            mt.stdin.write("g")
            mt.stdin.flush()
            out, err = mt.communicate(timeout=60)
        finally:
            if mt.poll() is None:
                mt.kill()
                mt.wait()
        after = meminfo_kib("KernelStack")  # the fixture and memtrace are gone
        check(mt.returncode == 0, "exit %d: %s" % (mt.returncode, err))
        drops.append((during - after) * KIB)  # the fixture's n + 1 threads and memtrace's one
    r = c.load_json("kstack.json")
    ours = r["peak_kernel"]["at_peak"]["kstack_bytes"]
    drop = sorted(drops)[1]
    # KernelStack is host-wide and the host is shared: other processes' threads
    # come and go in the tenth of a second between the two reads. The median of
    # three runs, within 4 MiB (256 stacks, 12% of the 31 MiB measured; one
    # page short per stack would be 25% off).
    check(abs(ours - drop) <= 4 * MIB, "memtrace kernel stacks %d vs KernelStack drops %s (median %+.1f%%)" % (
        ours, drops, 100.0 * (ours - drop) / drop))
    check(r["peak_kernel"]["at_peak"]["threads"] == n + 1, "threads %s" % r["peak_kernel"]["at_peak"])
    no_loss(r)


@test
def kernel_stacks_follow_threads(c):
    """300 short threads, at most 9 alive: at each peak the stacks are those of
    the live threads, and nothing is left at the end."""
    p, r = c.run([], [c.fx("churn"), "300", "8"])
    check(p.returncode == 0, "exit %d: %s" % (p.returncode, p.stderr))
    for key in ("peak_rss", "peak_kernel", "peak_total"):
        at = r[key]["at_peak"]
        exact(at["kstack_bytes"], at["threads"] * THREAD_STACK, "%s kernel stacks of %d threads" % (key, at["threads"]))
        check(1 <= at["threads"] <= 9, "%s threads %d" % (key, at["threads"]))
    check(r["threads"]["total"] == 301 and r["threads"]["exits_seen"] == 301, "threads %s" % r["threads"])
    final = r["final"]
    check(final["kstack_bytes"] == 0 and final["threads"] == 0 and final["kernel_bytes"] == 0, "final %s" % final)
    no_loss(r)


@test
def page_tables_of_sparse_memory(c):
    """One page touched in every 2 MiB of 1 GiB: 512 page-table pages that come
    with faults alone; at the kernel-memory peak, page tables are VmPTE exactly."""
    p, r = c.run([], [c.fx("sparse"), "1024"])
    check(p.returncode == 0, "exit %d: %s" % (p.returncode, p.stderr))
    v = fixture_values(p.stdout)
    check(v["vmpte_kib"] >= 512 * 4, "the fixture's page tables: %d KiB" % v["vmpte_kib"])
    for key in ("peak_kernel", "peak_total"):
        exact(r[key]["at_peak"]["pgtables_bytes"], v["vmpte_kib"] * KIB, "%s page tables vs VmPTE at the high" % key)
    exact(r["peak_rss"]["bytes"], v["vmrss_kib"] * KIB, "peak vs VmRSS")
    no_loss(r)


@test
@serial("the threads must fault on every CPU at the same time: other work would take the CPUs")
def fault_storm_on_every_cpu(c):
    """4 threads of one process fault 32 MiB each at the same time, five runs:
    the peak is the process's VmRSS once all have touched, exactly, every time
    (concurrent changes of one process and of the tree's sums lose nothing; a
    counter read that a concurrent fold of a CPU's share tears is read again).
    The threads stay alive until the fixture's read: glibc gives an exiting
    thread's stack back, 16 KiB each, which once looked like a memtrace bug."""
    for _ in range(5):
        p, r = c.run([], [c.fx("storm"), "4", "32"])
        check(p.returncode == 0, "exit %d: %s" % (p.returncode, p.stderr))
        v = fixture_values(p.stdout)
        exact(r["peak_rss"]["bytes"], v["vmrss_kib"] * KIB, "peak vs VmRSS after the storm")
        check(r["final"]["rss_bytes"] == 0, "final %s" % r["final"])
        no_loss(r)


@test
@serial("the two processes must fault on two CPUs at once: other work would take one")
def tree_sums_under_concurrent_faults(c):
    """Two processes fault 128 MiB each at the same time on two CPUs, three runs:
    the tree's peak is the sum of their VmRSS exactly, every time (changes of
    different processes that race for the tree's sums lose nothing)."""
    for _ in range(3):
        p, r = c.run([], [c.fx("tree_hold"), "2", "128"])
        check(p.returncode == 0, "exit %d: %s" % (p.returncode, p.stderr))
        v = fixture_values(p.stdout)
        exact(r["peak_rss"]["bytes"], v["sum_vmrss_kib"] * KIB, "peak vs the sum of VmRSS")
        no_loss(r)
