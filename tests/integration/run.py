#!/usr/bin/env python3
"""Integration tests: the real memtrace binary on fixture programs that know
their own truth (VmRSS read at their peak, thread counts, process shapes).

Needs root and BPF. Prints one line per test and closes with
"N passed, N failed"; exits non-zero when any failed.

Tests run -j at a time, each in a process of its own (forked: its own
globals, signal handlers and environment) with a temporary folder of its
own. Most of them wait on sleeping fixtures, so several share the 2 CPUs
well. Tests marked @serial (common.py: host-wide state, or a time that other
work would move) run after the others, one at a time, overlapped by
nothing; tests marked @exclusive(group) never overlap another of their
group. The lines come in a stable order: the overlapped tests in the order
they are defined, then the serial ones.

--alongside CMD runs a shell command next to the overlapped tests (make test:
the kernels booted in QEMU); the serial tests wait for it, its output is
printed as a section of its own when it has ended, and its failure fails
the run.
"""
import argparse
import json
import os
import select
import subprocess
import sys
import tempfile
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import common  # noqa: E402
import test_core  # noqa: E402,F401
import test_robustness  # noqa: E402,F401
import test_kernel_memory  # noqa: E402,F401
import test_truth  # noqa: E402,F401
import test_options  # noqa: E402,F401
import test_exports  # noqa: E402,F401
import test_lifecycle  # noqa: E402,F401
import test_workloads  # noqa: E402,F401
import test_bench  # noqa: E402,F401
import test_ecosystem  # noqa: E402,F401
import test_terminal  # noqa: E402,F401
import test_lifecycle_user  # noqa: E402,F401
import test_explain  # noqa: E402,F401
import test_limits  # noqa: E402,F401
import test_kernel_variants  # noqa: E402,F401
from common import Ctx, Failure, Skip, TESTS  # noqa: E402

# Most tests wait (sleeping fixtures, memtrace's polls), but each memtrace
# start spends about 0.25 s of CPU verifying its BPF programs: twice the
# CPUs keeps them busy without queueing (the figures: README, Development).
DEFAULT_JOBS = 2 * (os.cpu_count() or 1)


def run_test(fn, c):
    """Runs one test; returns (kind, line) with kind pass, fail, skip or xfail."""
    t0 = time.monotonic()
    bug = getattr(fn, "known_bug", None)
    try:
        fn(c)
    except Skip as e:
        return "skip", "SKIP %-40s %s" % (fn.__name__, e)
    except Failure as e:
        if bug:
            return "xfail", "XFAIL %-39s known bug: %s: %s" % (fn.__name__, bug, e)
        return "fail", "FAIL %-40s %s" % (fn.__name__, e)
    except Exception:
        return "fail", "FAIL %-40s %s" % (fn.__name__, traceback.format_exc().strip().splitlines()[-1])
    if bug:
        return "pass", "XPASS %-39s passed despite the known bug (%s): remove the mark" % (fn.__name__, bug)
    return "pass", "ok   %-40s %6.2f s" % (fn.__name__, time.monotonic() - t0)


def start(fn, args, tmp):
    """Forks a process that runs fn in a folder of its own; returns (pid, read end of its result pipe)."""
    folder = os.path.join(tmp, fn.__name__)
    os.mkdir(folder)
    os.chmod(folder, 0o755)  # tests run programs as nobody that read what they leave here
    r, w = os.pipe()
    sys.stdout.flush()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        try:
            kind, line = run_test(fn, Ctx(args.memtrace, args.fixtures, folder))
        except BaseException as e:  # ^C, SystemExit: still one result
            kind, line = "fail", "FAIL %-40s %s" % (fn.__name__, repr(e))
        os.write(w, json.dumps([kind, line]).encode())
        os._exit(0)
    os.close(w)
    return pid, r


def collect(pid, r):
    """The result a test's process sent, once it has ended."""
    data = b""
    while True:
        chunk = os.read(r, 65536)
        if not chunk:
            break
        data += chunk
    os.close(r)
    _, status = os.waitpid(pid, 0)
    try:
        return json.loads(data.decode())
    except ValueError:
        return None, "process ended without a result (wait status %d)" % status


class Alongside:
    """A shell command run next to the overlapped tests, its output kept for later."""

    def __init__(self, cmd):
        self.cmd = cmd
        self.out = tempfile.TemporaryFile(mode="w+")
        self.t0 = time.monotonic()
        # Ahead of the tests on the CPUs (nice -5): a QEMU guest runs its tests
        # one after the other on one emulated CPU, the longest chain of all,
        # while the overlapped tests mostly wait and fill the other CPU.
        self.proc = subprocess.Popen(cmd, shell=True, stdout=self.out, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, preexec_fn=lambda: os.nice(-5))

    def finish(self):
        """Waits for it, prints its section; True when it succeeded."""
        code = self.proc.wait()
        self.out.seek(0)
        print("\n== %s: exit %d, %.0f s ==" % (self.cmd, code, time.monotonic() - self.t0))
        print(self.out.read().rstrip("\n"))
        print("== end of %s ==\n" % self.cmd.split()[0], flush=True)
        return code == 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--memtrace", required=True)
    ap.add_argument("--fixtures", required=True)
    ap.add_argument("-k", action="append", default=[],
                    help="run only tests whose name contains this (repeat, or NAME,NAME: any of them)")
    ap.add_argument("-x", "--exitfirst", action="store_true", help="stop at the first failure")
    ap.add_argument("-j", "--jobs", type=int, default=DEFAULT_JOBS,
                    help="tests at a time, serial ones aside (default %d: twice the CPUs)" % DEFAULT_JOBS)
    ap.add_argument("--alongside", metavar="CMD",
                    help="a shell command to run next to the overlapped tests; it must succeed too")
    ap.add_argument("--list", action="store_true", help="list the tests in the order of their lines, and why serial or exclusive")
    args = ap.parse_args()
    if args.jobs < 1:
        ap.error("bad number '%d' for -j" % args.jobs)
    wanted = [k for arg in args.k for k in arg.split(",") if k]
    chosen = [fn for fn in TESTS if not wanted or any(k in fn.__name__ for k in wanted)]
    # The order of the lines: overlapped tests first, then the serial ones.
    order = ([fn for fn in chosen if not getattr(fn, "serial", None)] +
             [fn for fn in chosen if getattr(fn, "serial", None)])
    if args.list:
        for fn in order:
            why = getattr(fn, "serial", None) or getattr(fn, "exclusive", None)
            kind = "serial" if getattr(fn, "serial", None) else "exclusive" if why else ""
            print("%-48s %-9s %s" % (fn.__name__, kind, why or ""))
        return 0
    if os.geteuid() != 0:
        print("integration tests need root (BPF)", file=sys.stderr)
        return 2
    # The tests mean root; under sudo memtrace would run commands as the sudo user.
    for k in ("SUDO_UID", "SUDO_GID", "SUDO_USER"):
        os.environ.pop(k, None)
    # On a kernel memtrace refuses, its one line says why, instead of every test failing.
    pre = subprocess.run([args.memtrace, "--check-kernel"], capture_output=True, text=True)
    if pre.returncode != 0:
        print(pre.stderr.strip() or "memtrace --check-kernel: exit %d" % pre.returncode, file=sys.stderr)
        return pre.returncode
    counts = {"pass": 0, "fail": 0, "skip": 0, "xfail": 0}
    alongside = Alongside(args.alongside) if args.alongside else None
    alongside_ok = True
    with tempfile.TemporaryDirectory(prefix="memtrace-test-") as tmp:
        os.chmod(tmp, 0o755)
        results = {}  # index in order -> line
        running = {}  # pid -> (index, read end)
        shown = 0
        # Tests of an exclusive group start first: each group is a chain of
        # tests one after the other, which then ends along with the rest.
        todo = sorted(range(len(order)), key=lambda i: (getattr(order[i], "serial", None) is not None,
                                                        getattr(order[i], "exclusive", None) is None, i))
        while todo or running:
            stop = counts["fail"] and args.exitfirst
            # Start what may start: an overlapped test while a slot is free and no
            # test of its group runs; a serial one when nothing else runs (the
            # alongside command included), and only after every overlapped one.
            busy = {getattr(order[i], "exclusive", None) for i, _ in running.values()} - {None}
            for i in list(todo):
                if stop or len(running) >= args.jobs:
                    break
                fn = order[i]
                if getattr(fn, "serial", None):
                    if running or any(not getattr(order[j], "serial", None) for j in todo):
                        break
                    if alongside:
                        alongside_ok = alongside.finish()
                        alongside = None
                    pid, r = start(fn, args, tmp)
                    running[pid] = (i, r)
                    todo.remove(i)
                    break
                if getattr(fn, "exclusive", None) in busy:
                    continue
                pid, r = start(fn, args, tmp)
                running[pid] = (i, r)
                todo.remove(i)
                busy.add(getattr(fn, "exclusive", None))
            if not running:
                break  # -x: nothing more to start
            # Wait for any test to end: its result pipe closes then.
            ready, _, _ = select.select([r for _, r in running.values()], [], [])
            for pid, (i, r) in list(running.items()):
                if r in ready:
                    kind, line = collect(pid, r)
                    del running[pid]
                    if kind is None:
                        kind, line = "fail", "FAIL %-40s %s" % (order[i].__name__, line)
                    counts[kind] += 1
                    results[i] = line
            while shown in results:
                print(results[shown], flush=True)
                shown += 1
        for i in sorted(results):
            if i >= shown:  # -x: the lines after a test that never ran
                print(results[i], flush=True)
    if alongside:
        alongside_ok = alongside.finish()
    print("%d passed, %d failed, %d skipped%s" % (
        counts["pass"], counts["fail"], counts["skip"],
        ", %d known bugs (XFAIL)" % counts["xfail"] if counts["xfail"] else ""))
    return 1 if counts["fail"] or not alongside_ok else 0


if __name__ == "__main__":
    sys.exit(main())
