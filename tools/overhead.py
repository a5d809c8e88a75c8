#!/usr/bin/env python3
"""Overhead of memtrace on a page-fault storm (touch 2 GiB page by page),
measured against its floor: what any program on the rss_stat tracepoint costs
a fault before it does anything. Prints figures; asserts nothing (these
machines are noisy).

Five arms are interleaved, in an order that rotates from round to round:
  plain      the storm alone;
  floor      the storm with an empty tp_btf/rss_stat program attached
             (build/tools/floor empty): the kernel's own tracepoint cost;
  reject     the same with a program that only makes memtrace's test for
             "not my tree" (build/tools/floor reject);
  traced     the storm traced by memtrace;
  bystander  the storm untraced while memtrace traces something else:
             what memtrace costs every other process on the machine.
Two measurements:
  storm      one storm process per arm and run, its single pass over fresh
             memory timed by itself (the traced arm runs it under memtrace,
             whose start-up and own RSS are reported too);
  re-touch   one storm process for all arms: before each pass the arm is set
             up (memtrace attaches with -p), then the process gives its pages
             back (MADV_DONTNEED) and touches them again. Pages the
             hypervisor already backs, in the same process: only what is
             attached differs, so this is the steadier figure.
Each arm's ratio is its time over plain's in the same run or round; the
figures are the median of those ratios and their spread (lowest to
highest), and the ratio of the minima. The added cost over the floor is, per
run or round, arm ratio minus floor ratio.

Then, with kernel.bpf_stats_enabled set to 1 (and put back), untimed storms
(3 by default) under memtrace, each with the empty program, the rejecting
one and a bystander memtrace attached at the same time, give the kernel's
own count of each program's runs and their nanoseconds over the same
events: ns/event
of the empty program, of the rejecting one, of memtrace's handler for other
processes, and for the changes of its tree (its other events priced at the
bystander's rate). The stats themselves add a fixed cost (two clock reads
per run) that the empty program's figure carries too: subtract it.

usage: tools/overhead.py [--memtrace build/memtrace] [--touch build/tools/touch]
                         [--floor build/tools/floor] [--mib 2048] [--runs 11] [--rounds 21]
                         [--stats-passes 3]
"""
import argparse
import contextlib
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sysctl_guard import SysctlGuard  # noqa: E402

ARMS = ("plain", "floor", "reject", "traced", "bystander")
# A journal of its own: other benchmarks' guards may run at the same time.
JOURNAL = "/run/memtrace-bench/overhead-sysctl-journal.json"


def storm_times(stdout):
    """The storm's seconds, from its output."""
    passes = [float(x) for x in re.findall(r"^pass_s=([\d.]+)$", stdout, re.M)]
    if len(passes) != 1:
        sys.exit("overhead: the storm printed %r" % stdout)
    return passes[0]


class Stepper:
    """One storm process that makes a pass over its memory on each request
    (touch MIB -): the first touches fresh memory, each later one the same
    range again after MADV_DONTNEED."""

    def __init__(self, touch, mib):
        self.p = subprocess.Popen([touch, str(mib), "-"], stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, text=True)

    def one_pass(self):
        self.p.stdin.write("\n")
        self.p.stdin.flush()
        m = re.match(r"pass_s=([\d.]+)$", self.p.stdout.readline().strip())
        if not m:
            sys.exit("overhead: the stepped storm stopped")
        return float(m.group(1))

    def close(self):
        self.p.stdin.close()
        self.p.wait()


class TracedPid:
    """memtrace -p PID for a with-block: attached when entered."""

    def __init__(self, memtrace, pid):
        self.cmd = [memtrace, "--as-root", "-o", os.devnull, "-p", str(pid)]

    def __enter__(self):
        self.p = subprocess.Popen(self.cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        for line in self.p.stderr:
            if line.startswith("memtrace: attached to"):
                return self
        self.p.wait()
        sys.exit("overhead: memtrace -p did not attach")

    def __exit__(self, *exc):
        self.p.send_signal(signal.SIGINT)
        self.p.communicate()
        return False


def run_plain(storm):
    p = subprocess.run(storm, check=True, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    return storm_times(p.stdout)


class Floor:
    """build/tools/floor attached for the length of a with-block."""

    def __init__(self, floor, variant):
        self.cmd = [floor, variant]
        self.stats = None

    def __enter__(self):
        self.p = subprocess.Popen(self.cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        if self.p.stdout.readline().strip() != "attached":
            self.p.kill()
            self.p.wait()
            sys.exit("overhead: %s did not attach" % " ".join(self.cmd))
        return self

    def __exit__(self, *exc):
        self.p.stdin.close()
        out = self.p.stdout.read()
        self.p.wait()
        m = re.search(r"run_cnt=(\d+) run_time_ns=(\d+)", out)
        self.stats = (int(m.group(1)), int(m.group(2))) if m else None
        return False


def rss_stat_prog_ids(pid):
    """Ids of the programs process pid holds (bpf-prog and bpf-link fds)."""
    ids = set()
    d = "/proc/%d/fdinfo" % pid
    for fd in os.listdir(d):
        try:
            with open(os.path.join(d, fd)) as f:
                m = re.search(r"^prog_id:\s+(\d+)$", f.read(), re.M)
        except OSError:
            continue
        if m:
            ids.add(int(m.group(1)))
    return ids


def prog_stats(ids, name):
    """(run_cnt, run_time_ns) of the program called name among ids."""
    for i in ids:
        p = subprocess.run(["bpftool", "--json", "prog", "show", "id", str(i)],
                           stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        if p.returncode:
            continue
        info = json.loads(p.stdout)
        if info.get("name") == name:
            return info.get("run_cnt", 0), info.get("run_time_ns", 0)
    return None


def other_rss_stat_programs():
    """rss_stat handlers loaded by anyone (other memtraces): they tax every arm alike."""
    p = subprocess.run(["bpftool", "--json", "prog", "show"], stdout=subprocess.PIPE,
                       stderr=subprocess.DEVNULL, text=True)
    if p.returncode:
        return -1
    return sum(1 for x in json.loads(p.stdout)
               if x.get("name") in ("on_rss_stat", "floor_empty", "floor_reject"))


class Bystander:
    """memtrace tracing a shell that waits on its stdin, for a with-block."""

    def __init__(self, memtrace, want_stats=False):
        self.cmd = [memtrace, "--as-root", "-q", "-o", os.devnull, "--",
                    "sh", "-c", "echo traced; read x"]
        self.want_stats = want_stats
        self.stats = None

    def __enter__(self):
        self.p = subprocess.Popen(self.cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        if self.p.stdout.readline().strip() != "traced":
            self.p.kill()
            self.p.wait()
            sys.exit("overhead: memtrace did not start its command")
        self.ids = rss_stat_prog_ids(self.p.pid) if self.want_stats else set()
        return self

    def read_stats(self):
        self.stats = prog_stats(self.ids, "on_rss_stat")

    def __exit__(self, *exc):
        self.p.stdin.close()
        self.p.wait()
        return False


def run_traced(memtrace, storm, js, extra):
    p = subprocess.run([memtrace, "--as-root", "--json", js, "-o", os.devnull, "--"] + storm,
                       check=True, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    with open(js) as f:
        r = json.load(f)
    extra["startup_ms"].append(r["startup_ms"])
    extra["self_hwm"].append(r["memtrace_self"]["vmhwm_bytes"])
    extra["lost"].append(r["events"]["lost"])
    return storm_times(p.stdout)


def stats_of_run(memtrace, args, cmd, names):
    """{name: (run_cnt, run_time_ns) or None} of memtrace's programs over one run
    of cmd under memtrace (args: its options), read after cmd ends and before
    memtrace does. Raises RuntimeError when memtrace or cmd does not get there."""
    # The command runs once memtrace is attached: its first word says so.
    script = 'echo traced; read x; "$@" >/dev/null; echo done; read x'
    p = subprocess.Popen([memtrace, "--as-root", "-q", "-o", os.devnull] + args + ["--", "sh", "-c", script, "sh"]
                         + cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        if p.stdout.readline().strip() != "traced":
            raise RuntimeError("memtrace did not start the command")
        ids = rss_stat_prog_ids(p.pid)
        p.stdin.write("go\n")
        p.stdin.flush()
        if p.stdout.readline().strip() != "done":
            raise RuntimeError("the command did not finish")
        return {name: prog_stats(ids, name) for name in names}
    finally:
        p.stdin.close()
        p.wait()


def traced_stats(memtrace, touch, mib, js):
    """memtrace's handler stats over one storm, read while it still runs,
    and the number of changes it applied to the tree (its JSON)."""
    try:
        stats = stats_of_run(memtrace, ["--json", js], [touch, str(mib), "1"], ["on_rss_stat"])["on_rss_stat"]
    except RuntimeError:
        return None
    if not stats:
        return None
    with open(js) as f:
        return stats + (json.load(f)["events"]["applied"],)


def handler_figures(a, js):
    """ns/event per program, with bpf_stats enabled: all four attached at
    once over one storm under memtrace, so that they price the same events."""
    out = {}
    with SysctlGuard({"kernel.bpf_stats_enabled": 1}, journal=JOURNAL):
        with Floor(a.floor, "empty") as fe, Floor(a.floor, "reject") as fr, \
                Bystander(a.memtrace, want_stats=True) as b:
            out["traced"] = traced_stats(a.memtrace, a.touch, a.mib, js)
            b.read_stats()
        out["empty"], out["reject"], out["bystander"] = fe.stats, fr.stats, b.stats
    return out


def arm(name, a, pid):
    """What is attached to rss_stat for one arm, as a context manager."""
    if name in ("floor", "reject"):
        return Floor(a.floor, "empty" if name == "floor" else "reject")
    if name == "traced":
        return TracedPid(a.memtrace, pid)
    if name == "bystander":
        return Bystander(a.memtrace)
    return contextlib.nullcontext()


def paired_passes(a):
    """Passes of one storm process, the arms changed between them: the same
    memory and process for every arm, so that only what is attached differs."""
    s = Stepper(a.touch, a.mib)
    times = {name: [] for name in ARMS}
    try:
        s.one_pass()  # fresh memory: not compared
        for i in range(a.rounds):
            for name in ARMS[i % len(ARMS):] + ARMS[:i % len(ARMS)]:
                with arm(name, a, s.p.pid):
                    times[name].append(s.one_pass())
    finally:
        s.close()
    return times


def print_arms(kind, how, times):
    print("  %s (%s):" % (kind, how))
    print("    %-10s %8s %8s   %s" % ("arm", "median", "min",
                                      "ratio to plain: median [lowest..highest] (of the minima)"))
    plain = times["plain"]
    ratio = {}
    for name in ARMS:
        t = times[name]
        ratio[name] = [y / x for x, y in zip(plain, t)]
        print("    %-10s %7.3fs %7.3fs   %s (%.3f)" % (name, statistics.median(t), min(t), spread(ratio[name]),
                                                   min(t) / min(plain)))
    print("    floor's own cost (floor - 1):            %s" % spread([r - 1 for r in ratio["floor"]]))
    for name, target in (("traced", "<= floor's own cost"), ("bystander", "<= 0.01"), ("reject", "")):
        added = [x - f for x, f in zip(ratio[name], ratio["floor"])]
        print("    added cost over the floor, %-10s %s%s" % (
            name + ":", spread(added), "   target " + target if target else ""))


def handler_ns(st):
    """ns/event of each program in one stats pass, over the empty program's."""
    ns = {k: v[1] / v[0] for k, v in st.items() if v and v[0]}
    if not all(k in ns for k in ("empty", "reject", "bystander", "traced")):
        return None
    # The traced program also ran for every other process meanwhile: price those
    # events at the bystander's rate, and the tree's changes take the rest.
    cnt, total, tree = st["traced"]
    tree = min(tree, cnt)
    if not tree:
        return None
    own = (total - (cnt - tree) * ns["bystander"]) / tree
    return {"empty": ns["empty"], "reject": ns["reject"] - ns["empty"],
            "bystander": ns["bystander"] - ns["empty"], "traced": own - ns["empty"]}


def spread1(xs):
    return "%6.1f [%.1f..%.1f]" % (statistics.median(xs), min(xs), max(xs))


def spread(xs):
    return "%.3f [%.3f..%.3f]" % (statistics.median(xs), min(xs), max(xs))


def loadavg():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--memtrace", default="build/memtrace")
    ap.add_argument("--touch", default="build/tools/touch")
    ap.add_argument("--floor", default="build/tools/floor")
    ap.add_argument("--mib", type=int, default=2048)
    ap.add_argument("--runs", type=int, default=11)
    ap.add_argument("--rounds", type=int, default=21)
    ap.add_argument("--stats-passes", type=int, default=3)
    a = ap.parse_args()

    times = {arm: [] for arm in ARMS}
    extra = {"startup_ms": [], "self_hwm": [], "lost": []}
    others = []
    storm = [a.touch, str(a.mib), "1"]
    load_before = loadavg()
    with tempfile.TemporaryDirectory() as tmp:
        js = os.path.join(tmp, "r.json")
        for i in range(a.runs):
            others.append(other_rss_stat_programs())
            # Rotate the order so that drift in the machine hits every arm alike.
            for arm in ARMS[i % len(ARMS):] + ARMS[:i % len(ARMS)]:
                if arm == "plain":
                    t = run_plain(storm)
                elif arm in ("floor", "reject"):
                    with Floor(a.floor, "empty" if arm == "floor" else "reject"):
                        t = run_plain(storm)
                elif arm == "traced":
                    t = run_traced(a.memtrace, storm, js, extra)
                else:
                    with Bystander(a.memtrace):
                        t = run_plain(storm)
                times[arm].append(t)
        paired = paired_passes(a)
        stats = [handler_figures(a, js) for _ in range(a.stats_passes)]
    load_after = loadavg()

    print("page-fault storm: touch %d MiB page by page (%d faults), %d arms interleaved" % (
        a.mib, a.mib * 256, len(ARMS)))
    print("  load average %s before, %s after; rss_stat programs of others attached: %d to %d" % (
        load_before, load_after, min(others), max(others)))
    print_arms("storm", "fresh memory, one storm process per arm and run", times)
    print_arms("re-touch", "one storm process, %d rounds of a pass per arm over the same range" % a.rounds,
               paired)
    print("  handler time (kernel.bpf_stats_enabled; all attached at once over a %d MiB storm"
          " under memtrace; %d passes: median [lowest..highest]):" % (a.mib, a.stats_passes))
    per = [handler_ns(st) for st in stats]
    per = [x for x in per if x]
    if not per:
        print("    no figure")
    for name, what in (("empty", "ns/event (the stats' own cost, in every figure)"),
                       ("reject", "ns over the empty program"),
                       ("bystander", "ns over the empty program (other processes' events)"),
                       ("traced", "ns over the empty program per change of the tree")):
        if per:
            print("    %-10s %s %s" % (name, spread1([x[name] for x in per]), what))
    print("  memtrace start-up (start to exec): median %.1f ms, max %.1f ms" % (
        statistics.median(extra["startup_ms"]), max(extra["startup_ms"])))
    print("  memtrace own peak RSS (VmHWM): max %.1f MiB" % (max(extra["self_hwm"]) / 1048576))
    print("  events lost: %d" % sum(extra["lost"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
