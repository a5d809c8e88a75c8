#!/usr/bin/env python3
"""The same workload measured four ways, side by side:

  memtrace     peak tree RSS and peak total (RSS + kernel memory), exact, from BPF
  time %M      GNU time's maximum resident set size (getrusage: the largest
               single process of the tree, from the kernel's high-water mark)
  cgroup       a fresh memory cgroup (v1) holding the command:
               memory.max_usage_in_bytes and memory.kmem.max_usage_in_bytes
  poller       /proc polled every 100 ms: the sum of VmRSS over the process
               tree (ppid links from the root), its maximum

Each method measures its own run of the command (one after the other), so the
methods never measure each other. The default cases are the ones where the
methods disagree, plus one where they should not:

  threads   10,000 threads alive at once (fixture threads): kernel memory RSS hides
  tree      8 processes holding 32 MiB each at once (tree_hold): time sees one
  spike     64 MiB held 5 ms between quiet seconds (spike): a 100 ms poller misses it
  go        100,000 goroutines sleeping 2 s (if built): one process, all agree

usage: tools/compare.py [--memtrace build/memtrace] [--fixtures build/fixtures]
                        [--cases threads,tree,spike,go] [--markdown FILE] [--json FILE]
                        [--poll-ms 100]

Needs root (memtrace, cgroups). Prints the table on stdout, in MiB.
"""
import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from memcg import MemoryCgroup, NoMemoryCgroup  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
MIB = 1048576.0


def build_path(*p):
    return os.path.join(ROOT, "build", *p)


def case_table(fixtures, workloads):
    """name: (argv, description) for every case this machine can run."""
    fx = lambda n: os.path.join(fixtures, n)  # noqa: E731
    cases = {
        "threads": ([fx("threads"), "10000", "0", "1000"],
                    "10,000 threads alive at once for 1 s (fixture threads 10000 0 1000)"),
        "tree": ([fx("tree_hold"), "8", "32"],
                 "8 child processes holding 32 MiB each at once (fixture tree_hold 8 32)"),
        "spike": ([fx("spike"), "64", "5", "1000"],
                  "64 MiB touched and held 5 ms between two quiet seconds (fixture spike 64 5 1000)"),
    }
    go = os.path.join(workloads, "go", "go-goroutines")
    if os.access(go, os.X_OK):
        cases["go"] = ([go, "100000", "2"], "100,000 goroutines sleeping 2 s, one process (workload go)")
    cp = os.path.join(workloads, "c-pthreads", "c-pthreads")
    if os.access(cp, os.X_OK):
        cases["c-pthreads"] = ([cp, "10000", "3"], "10,000 pthreads sleeping 3 s (workload c-pthreads)")
    return cases


def fixture_values(text):
    return {k: int(v) for k, v in re.findall(r"^(\w+)=(-?\d+)$", text or "", re.M)}


# ----------------------------------------------------------------- methods

def by_memtrace(memtrace, argv, tmp):
    js = os.path.join(tmp, "memtrace.json")
    p = subprocess.run([memtrace, "--as-root", "--json", js, "-o", os.path.join(tmp, "memtrace.txt"), "--"] + argv,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=600)
    if p.returncode != 0 or not os.path.exists(js):
        raise RuntimeError("memtrace exit %d: %s" % (p.returncode, p.stderr.strip()[-200:]))
    with open(js) as f:
        r = json.load(f)
    return {"rss": r["peak_rss"]["bytes"], "total": r["peak_total"]["bytes"],
            "kernel": r["peak_kernel"]["bytes"], "processes": r["processes"]["total"],
            "threads": r["threads"]["peak_concurrent"], "stdout": p.stdout,
            "lost": r["events"]["lost"]}


def by_time(argv, tmp):
    if not os.access("/usr/bin/time", os.X_OK):
        return None, "GNU time not installed (apt-get install time)"
    out = os.path.join(tmp, "time.txt")
    p = subprocess.run(["/usr/bin/time", "-f", "%M", "-o", out, "--"] + argv, stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE, text=True, timeout=600)
    if p.returncode != 0:
        return None, "exit %d" % p.returncode
    with open(out) as f:
        return int(f.read().strip().splitlines()[-1]) * 1024, None


def by_cgroup(argv, name):
    """Runs argv in a new v1 memory cgroup; returns (max_usage, kmem_max_usage), error."""
    try:
        with MemoryCgroup("compare-" + name) as cg:
            p = subprocess.run(cg.command(argv), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                               text=True, timeout=600)
            if p.returncode != 0:
                return None, "exit %d: %s" % (p.returncode, p.stderr.strip()[-200:])
            vals = []
            for f in ("memory.max_usage_in_bytes", "memory.kmem.max_usage_in_bytes"):
                try:
                    vals.append(cg.read(f))
                except OSError:
                    vals.append(None)
    except NoMemoryCgroup as e:
        return None, str(e)
    if not cg.removed:
        print("compare: could not remove cgroup %s" % cg.path, file=sys.stderr)
    return tuple(vals), None


def _ppid_map():
    m = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                s = f.read()
        except OSError:
            continue
        # comm may hold spaces and parentheses: the fields follow the last ')'.
        rest = s[s.rfind(")") + 2:].split()
        if len(rest) > 1:
            m[int(d)] = int(rest[1])
    return m


def _vmrss(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def tree_rss(root):
    """Sum of VmRSS over root and its descendants (by ppid links)."""
    children = {}
    for pid, ppid in _ppid_map().items():
        children.setdefault(ppid, []).append(pid)
    total = 0
    todo = [root]
    seen = set()
    while todo:
        pid = todo.pop()
        if pid in seen:
            continue
        seen.add(pid)
        total += _vmrss(pid)
        todo.extend(children.get(pid, []))
    return total


def by_poller(argv, period):
    p = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    peak = 0
    polls = 0
    nxt = time.monotonic()
    try:
        while p.poll() is None:
            peak = max(peak, tree_rss(p.pid))
            polls += 1
            nxt += period
            time.sleep(max(0.0, nxt - time.monotonic()))
    finally:
        if p.poll() is None:
            p.kill()
        p.wait()
    if p.returncode != 0:
        return None, polls, "exit %d" % p.returncode
    return peak, polls, None


# ------------------------------------------------------------------ report

def mib(v):
    if v is None:
        return "n/a"
    return "%.1f" % (v / MIB)


def _agree(a, b, tol=0.03):
    return a is not None and b is not None and abs(a - b) <= tol * max(a, b)


def _cgroup_clause(cg, total):
    """How the cgroup's maximum (user + kernel pages charged to it) compares
    with memtrace's total."""
    if cg is None or total is None:
        return ""
    if _agree(cg, total, 0.01):
        return ("; the cgroup, which charges user and kernel pages of the whole tree, agrees with memtrace's "
                "total within 1%% (%s vs %s MiB)" % (mib(cg), mib(total)))
    if cg < total:
        return ("; the cgroup's %s MiB is below memtrace's total %s MiB: it is charged once per page (RSS "
                "counts a shared page in every process that maps it) and only for pages first touched inside "
                "it, so file pages already cached (binary, libc) are not counted" % (mib(cg), mib(total)))
    return ("; the cgroup's %s MiB is above memtrace's total %s MiB: it also charges page cache and slab "
            "memory that is not part of any process's RSS" % (mib(cg), mib(total)))


def explain(name, r):
    """One sentence on why the columns differ, from the numbers."""
    m = r.get("memtrace") or {}
    rss, total = m.get("rss"), m.get("total")
    t, cg, kmem, poll = r.get("time"), r.get("cgroup"), r.get("cgroup_kmem"), r.get("poller")
    fv = fixture_values(m.get("stdout"))
    if rss is None:
        return "memtrace failed: %s." % r.get("errors", {}).get("memtrace", "?")
    if name in ("threads", "c-pthreads"):
        s = ("With %s threads alive, RSS is only %s MiB (memtrace; time %%M %s, poller %s), but the "
             "threads' kernel stacks, task structs and page tables add %s MiB that no RSS figure shows: "
             "memtrace's total is %s MiB" % ("{:,}".format(m.get("threads", 0)), mib(rss), mib(t), mib(poll),
                                              mib(total - rss), mib(total)))
        if kmem:
            s += ", and the cgroup's kernel-memory counter (%s MiB) confirms it" % mib(kmem)
        return s + _cgroup_clause(cg, total) + "."
    if name == "tree":
        one = fv.get("sum_vmrss_kib")
        s = ("GNU time reports the largest single process's maximum (%s MiB, about one child's 32 MiB), "
             "not the %d processes' sum that memtrace measures (%s MiB%s)" % (
                 mib(t), m.get("processes", 0), mib(rss),
                 "; the fixture's own VmRSS sum: %s MiB" % mib(one * 1024) if one else ""))
        if poll is not None:
            s += "; the poller saw %s MiB because %s" % (
                mib(poll), "the whole run, children included, lasts less than one 100 ms period and the "
                "children hold their memory together only for an instant" if poll < 0.8 * rss else
                "its poll landed while all children held their memory")
        return s + _cgroup_clause(cg, total) + "."
    if name == "spike":
        during = fv.get("vmrss_during_spike_kib")
        s = ("The 64 MiB live for 5 ms: memtrace's peak (%s MiB%s) includes it" % (
            mib(rss), "; fixture's VmRSS in the spike %s MiB" % mib(during * 1024) if during else ""))
        if poll is not None:
            s += (", the 100 ms poller %s (%s MiB)" % (
                "missed it" if poll < 0.5 * rss else "happened to poll during it", mib(poll)))
        s += (", while time %%M (%s MiB) and the cgroup maximum (%s MiB) catch it, being high-water marks "
              "kept by the kernel" % (mib(t), mib(cg)))
        return s + _cgroup_clause(cg, total) + "."
    # A single process, where the methods should agree.
    ok = all(_agree(rss, x) for x in (t, poll) if x is not None)
    s = ("One process, memory that stays: memtrace's peak RSS %s MiB, time %%M %s MiB and the poller %s MiB "
         "%s" % (mib(rss), mib(t), mib(poll), "agree within 3%" if ok else "differ"))
    return s + _cgroup_clause(cg, total) + "."


COLS = [("case", 10), ("memtrace RSS", 12), ("memtrace total", 14), ("time %M", 9), ("cgroup max", 10),
        ("cgroup kmem max", 15), ("poller max", 10)]


def table_rows(results):
    rows = []
    for name, r in results.items():
        m = r.get("memtrace") or {}
        rows.append([name, mib(m.get("rss")), mib(m.get("total")), mib(r.get("time")), mib(r.get("cgroup")),
                     mib(r.get("cgroup_kmem")), mib(r.get("poller"))])
    return rows


def print_table(results, out=sys.stdout):
    out.write("  ".join(h.rjust(w) if i else h.ljust(w) for i, (h, w) in enumerate(COLS)) + "\n")
    for row in table_rows(results):
        out.write("  ".join(v.rjust(w) if i else v.ljust(w) for i, (v, (_, w)) in enumerate(zip(row, COLS)))
                  + "\n")
    out.write("(MiB; poller: VmRSS of the process tree every %d ms)\n" % results_poll_ms)


def write_markdown(path, results, cases, meta):
    L = ["# Peak memory: memtrace vs GNU time, a memory cgroup and a /proc poller", ""]
    L.append("%s, %s, Linux %s, memtrace %s. Each method measures its own run of the case, in MiB. "
             "memtrace RSS is the peak of the tree's summed RSS, memtrace total adds kernel memory; "
             "time %%M is GNU time's maximum resident set size; cgroup max and kmem max are "
             "`memory.max_usage_in_bytes` and `memory.kmem.max_usage_in_bytes` of a fresh cgroup v1 "
             "holding the command; the poller sums VmRSS over the process tree every %d ms."
             % (meta["date"], meta["host"], meta["kernel"], meta["memtrace_version"], meta["poll_ms"]))
    L.append("")
    L.append("| " + " | ".join(h for h, _ in COLS) + " |")
    L.append("|---|" + "---:|" * (len(COLS) - 1))
    for row in table_rows(results):
        L.append("| " + " | ".join(row) + " |")
    L.append("")
    for name, r in results.items():
        L.append("- **%s** (%s): %s" % (name, cases[name][1], explain(name, r)))
    errs = [(n, r["errors"]) for n, r in results.items() if r.get("errors")]
    if errs:
        L.append("")
        for n, e in errs:
            L.append("- %s: could not measure: %s" % (n, "; ".join("%s: %s" % kv for kv in e.items())))
    with open(path, "w") as f:
        f.write("\n".join(L) + "\n")


results_poll_ms = 100


def main(argv=None):
    global results_poll_ms
    ap = argparse.ArgumentParser(description="Peak memory of the same workloads by memtrace, GNU time, "
                                             "a memory cgroup and a /proc poller.")
    ap.add_argument("--memtrace", default=build_path("memtrace"))
    ap.add_argument("--fixtures", default=build_path("fixtures"))
    ap.add_argument("--workloads", default=os.environ.get("BUILD") or build_path("workloads"),
                    help="workload build folder (for the go and c-pthreads cases)")
    ap.add_argument("--cases", help="comma-separated (default: threads,tree,spike,go)")
    ap.add_argument("--markdown", metavar="FILE", help="also write the table and explanations as markdown")
    ap.add_argument("--json", metavar="FILE", help="also write every number as JSON")
    ap.add_argument("--poll-ms", type=int, default=100)
    a = ap.parse_args(argv)
    results_poll_ms = a.poll_ms
    memtrace = os.path.abspath(a.memtrace)
    cases = case_table(os.path.abspath(a.fixtures), os.path.abspath(a.workloads))
    names = [x.strip() for x in a.cases.split(",")] if a.cases else [
        x for x in ("threads", "tree", "spike", "go") if x in cases]
    bad = [x for x in names if x not in cases]
    if bad:
        ap.error("unknown or unbuilt case(s) %s; available: %s" % (", ".join(bad), ", ".join(cases)))
    for x in names:
        if not os.access(cases[x][0][0], os.X_OK):
            print("compare: %s not found (make fixtures)" % cases[x][0][0], file=sys.stderr)
            return 2
    results = {}
    with tempfile.TemporaryDirectory(prefix="memtrace-compare-") as tmp:
        for name in names:
            argv_c = cases[name][0]
            r = {"argv": argv_c, "errors": {}}
            print("compare: %s: %s" % (name, " ".join(argv_c)), file=sys.stderr, flush=True)
            try:
                r["memtrace"] = by_memtrace(memtrace, argv_c, tmp)
            except (RuntimeError, subprocess.TimeoutExpired, OSError, ValueError) as e:
                r["errors"]["memtrace"] = str(e)
            try:
                r["time"], err = by_time(argv_c, tmp)
                if err:
                    r["errors"]["time"] = err
            except (subprocess.TimeoutExpired, OSError, ValueError) as e:
                r["time"] = None
                r["errors"]["time"] = str(e)
            try:
                vals, err = by_cgroup(argv_c, name)
                r["cgroup"], r["cgroup_kmem"] = vals if vals else (None, None)
                if err:
                    r["errors"]["cgroup"] = err
            except (subprocess.TimeoutExpired, OSError) as e:
                r["cgroup"] = r["cgroup_kmem"] = None
                r["errors"]["cgroup"] = str(e)
            try:
                r["poller"], r["polls"], err = by_poller(argv_c, a.poll_ms / 1000.0)
                if err:
                    r["errors"]["poller"] = err
            except OSError as e:
                r["poller"] = None
                r["errors"]["poller"] = str(e)
            results[name] = r
    print_table(results)
    for name, r in results.items():
        print("  %s: %s" % (name, explain(name, r)))
        if r["errors"]:
            print("  %s: errors: %s" % (name, r["errors"]))
    mv = subprocess.run([memtrace, "--version"], capture_output=True, text=True).stdout.strip()
    meta = {"date": time.strftime("%Y-%m-%d"), "host": os.uname().nodename, "kernel": os.uname().release,
            "memtrace_version": mv.split()[-1] if mv else "?", "poll_ms": a.poll_ms}
    if a.markdown:
        write_markdown(a.markdown, results, cases, meta)
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"meta": meta, "results": results}, f, indent=1)
    return 1 if any(r["errors"] for r in results.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
