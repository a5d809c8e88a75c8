#!/usr/bin/env python3
"""Ways to cap a process tree's memory, on the same cases, side by side:

  memtrace --limit   checked in the kernel at every change of the tree's RSS
                     sum; the task that crosses it is signalled before it
                     returns to user space
  ulimit -v          RLIMIT_AS (prlimit --as): address space, not memory
  cgroup limit       a fresh v1 memory cgroup with memory.limit_in_bytes
                     (v2: memory.max): page cache counted, reclaimed first,
                     then the OOM killer
  systemd-run        -p MemoryMax= (a cgroup limit, through systemd): used
                     only where systemd runs
  watchdog           /proc polled every 100 ms, the tree's VmRSS summed (ppid
                     links), SIGKILL to the tree once it is above the limit

Every run is measured by memtrace without a limit (the method's own command
under it), so "peak" is the same exact tree RSS sum for every method. Cases
(limit 128 MiB by default):

  grow       touches 256 MiB page by page               everyone should stop it
  spike      144 MiB held 5 ms between quiet 300 ms     above the limit ~20 ms
  forkbomb   processes of 2 MiB each forking, up to 200
  reserve    maps 1 GiB, touches 64 MiB (as JIT runtimes reserve)
  pagecache  writes a 256 MiB file (page cache, not RSS)
  under      touches 64 MiB                              nobody should stop it

usage: tools/limit_compare.py [--memtrace build/memtrace] [--fixtures build/fixtures]
                              [--limit-mib 128] [--cases grow,spike,...] [--markdown FILE]

Needs root (memtrace, cgroups). Prints one table on stdout: per case and
method, what happened and the tree's peak RSS (MiB).
"""
import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from compare import _ppid_map, _vmrss  # noqa: E402
from memcg import MemoryCgroup, NoMemoryCgroup  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
MIB = 1048576.0
METHODS = ["memtrace", "ulimit-v", "cgroup", "systemd-run", "watchdog"]


def cases(fixtures, tmp):
    fx = lambda n: os.path.join(fixtures, n)  # noqa: E731
    reserve = ("import mmap\nm = mmap.mmap(-1, 1 << 30)\n"
               "for i in range(0, 64 << 20, 4096):\n    m[i] = 1\n")
    return {
        "grow": [fx("limit_touch"), "256"],
        "spike": [fx("spike"), "144", "5", "300"],
        "forkbomb": [fx("forkbomb"), os.path.join(tmp, "bomb.pids"), "200", "2", "2000"],
        "reserve": [sys.executable, "-c", reserve],
        "pagecache": ["dd", "if=/dev/zero", "of=" + os.path.join(tmp, "pagecache.bin"), "bs=1M",
                      "count=256", "status=none"],
        "under": [fx("limit_touch"), "64"],
    }


def outcome(r):
    """What happened to the command, from memtrace's report of it."""
    ex = r["exit"]
    if ex["signal"] is not None:
        return "killed (signal %d)" % ex["signal"]
    if ex["status"]:
        return "failed (exit %d)" % ex["status"]
    return "ran to the end"


def measured(memtrace, argv, tmp, extra=(), popen_hook=None):
    """Runs argv under memtrace (with extra options); returns its JSON report."""
    js = os.path.join(tmp, "m.json")
    if os.path.exists(js):
        os.unlink(js)
    cmd = [memtrace, "--json", js, "-o", os.devnull] + list(extra) + ["--"] + argv
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    if popen_hook:
        popen_hook(p)
    _, err = p.communicate(timeout=600)
    if not os.path.exists(js):
        raise RuntimeError("memtrace exit %d: %s" % (p.returncode, err.strip()[-200:]))
    with open(js) as f:
        return json.load(f)


def by_memtrace(memtrace, argv, tmp, limit):
    r = measured(memtrace, argv, tmp, ["--limit", str(limit)])
    what = "killed at the crossing" if r["limit"]["exceeded"] else outcome(r)
    return what, r["peak_rss"]["bytes"]


def by_ulimit(memtrace, argv, tmp, limit):
    r = measured(memtrace, ["prlimit", "--as=%d" % limit, "--"] + argv, tmp)
    return outcome(r), r["peak_rss"]["bytes"]


def by_cgroup(memtrace, argv, tmp, limit):
    try:
        with MemoryCgroup("limit") as cg:
            with open(os.path.join(cg.path, "memory.limit_in_bytes"), "w") as f:
                f.write(str(limit))
            r = measured(memtrace, cg.command(argv), tmp)
            with open(os.path.join(cg.path, "memory.oom_control")) as f:
                ooms = dict(line.split() for line in f).get("oom_kill", "0")
            charged = cg.read("memory.max_usage_in_bytes")
    except NoMemoryCgroup as e:
        NOTES["cgroup"] = str(e)
        return "n/a", None
    what = outcome(r)
    if int(ooms):
        what += ", %s OOM kill(s)" % ooms
    return "%s; charged %.1f" % (what, charged / MIB), r["peak_rss"]["bytes"]


def systemd_state():
    """None when systemd-run can be used here, else why not."""
    if not shutil.which("systemd-run"):
        return "systemd-run not installed"
    p = subprocess.run(["systemd-run", "--scope", "--quiet", "-p", "MemoryMax=1G", "true"],
                       capture_output=True, text=True)
    if p.returncode != 0:
        return (p.stderr.strip().splitlines() or ["exit %d" % p.returncode])[0]
    return None


def by_systemd(memtrace, argv, tmp, limit):
    why = systemd_state()
    if why:
        NOTES["systemd-run"] = why
        return "n/a", None
    r = measured(memtrace, ["systemd-run", "--scope", "--quiet", "-p", "MemoryMax=%d" % limit,
                            "-p", "MemorySwapMax=0", "--"] + argv, tmp)
    return outcome(r), r["peak_rss"]["bytes"]


def descendants(root, seen):
    children = {}
    for pid, ppid in _ppid_map().items():
        children.setdefault(ppid, []).append(pid)
    todo, out = [root], []
    while todo:
        pid = todo.pop()
        if pid in out:
            continue
        out.append(pid)
        seen.add(pid)
        todo.extend(children.get(pid, []))
    return out


def by_watchdog(memtrace, argv, tmp, limit, period=0.1):
    fired = []

    def watch(mt):
        # The command is memtrace's only child; wait for it, then poll its tree.
        deadline = time.monotonic() + 20
        child = None
        while child is None and mt.poll() is None and time.monotonic() < deadline:
            try:
                with open("/proc/%d/task/%d/children" % (mt.pid, mt.pid)) as f:
                    kids = f.read().split()
                child = int(kids[0]) if kids else None
            except OSError:
                pass
            time.sleep(0.005)
        seen = set()
        nxt = time.monotonic()
        while child is not None and mt.poll() is None:
            pids = descendants(child, seen)
            if sum(_vmrss(p) for p in pids) > limit:
                for p in seen:
                    try:
                        os.kill(p, signal.SIGKILL)
                    except OSError:
                        pass
                fired.append(1)
                return
            nxt += period
            time.sleep(max(0.0, nxt - time.monotonic()))

    r = measured(memtrace, argv, tmp, popen_hook=watch)
    what = "killed after a poll" if fired else outcome(r)
    return what, r["peak_rss"]["bytes"]


NOTES = {}  # method: why it could not be used here
RUNNERS = {"memtrace": by_memtrace, "ulimit-v": by_ulimit, "cgroup": by_cgroup,
           "systemd-run": by_systemd, "watchdog": by_watchdog}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--memtrace", default=os.path.join(ROOT, "build", "memtrace"))
    ap.add_argument("--fixtures", default=os.path.join(ROOT, "build", "fixtures"))
    ap.add_argument("--limit-mib", type=int, default=128)
    ap.add_argument("--cases", default="grow,spike,forkbomb,reserve,pagecache,under")
    ap.add_argument("--markdown", help="also write the table here")
    args = ap.parse_args()
    limit = args.limit_mib << 20
    rows = []
    with tempfile.TemporaryDirectory(prefix="memtrace-limits-", dir=os.path.join(ROOT, "build")) as tmp:
        table = cases(os.path.abspath(args.fixtures), tmp)
        for name in args.cases.split(","):
            argv = table[name]
            row = [name]
            for m in METHODS:
                try:
                    what, peak = RUNNERS[m](os.path.abspath(args.memtrace), argv, tmp, limit)
                except Exception as e:  # one cell fails, the table goes on
                    what, peak = "error: %s" % e, None
                row.append(what if peak is None else "%s, peak %.1f" % (what, peak / MIB))
                print("%-10s %-12s %s" % (name, m, row[-1]), file=sys.stderr, flush=True)
            rows.append(row)
    head = "| case (limit %d MiB) | %s |" % (args.limit_mib, " | ".join(METHODS))
    lines = [head, "|" + "---|" * (len(METHODS) + 1)]
    lines += ["| %s |" % " | ".join(r) for r in rows]
    if NOTES:
        lines.append("")
        lines += ["n/a: %s: %s" % (m, why) for m, why in sorted(NOTES.items())]
    text = "\n".join(lines) + "\n"
    sys.stdout.write(text)
    if args.markdown:
        with open(args.markdown, "w") as f:
            f.write(text)


if __name__ == "__main__":
    main()
