#!/usr/bin/env python3
"""What the integration tests share: the test registry, running memtrace,
reading fixtures' output, checks."""
import json
import os
import re
import subprocess
import time

KIB = 1024
MIB = 1024 * 1024

TESTS = []


def test(fn):
    TESTS.append(fn)
    return fn


def known_bug(why):
    """Marks a test that fails because of a known bug of memtrace, named in why:
    run.py prints its failure as XFAIL (the suite stays usable) and an
    unexpected pass as XPASS, so the mark is removed once the bug is fixed."""
    def mark(fn):
        fn.known_bug = why
        return fn
    return mark


def register(fn):
    """For tests made by a loop, one per case."""
    return test(fn)


def serial(why):
    """Marks a test that must run alone, overlapped by no other test (run.py
    runs it after the others, one at a time): it reads host-wide state,
    changes it, or asserts a time that other work on the CPUs would move.
    why says which; tests/README.md lists them."""
    def mark(fn):
        fn.serial = why
        return fn
    return mark


def exclusive(group):
    """Marks a test that may overlap others, but no other test of group (for
    example "10k-threads": two of those at once would come near the default
    kernel.pid_max of 32768)."""
    def mark(fn):
        fn.exclusive = group
        return fn
    return mark


class Failure(Exception):
    pass


class Skip(Exception):
    """The test cannot run here; the reason is printed, never a silent pass."""


def check(cond, msg):
    if not cond:
        raise Failure(msg)


class Ctx:
    def __init__(self, memtrace, fixtures, tmp, workloads=None):
        self.memtrace = os.path.abspath(memtrace)
        self.fixtures = os.path.abspath(fixtures)
        self.tmp = tmp
        self.workloads = workloads

    def fx(self, name):
        return os.path.join(self.fixtures, name)

    def bare(self, *args):
        """Runs memtrace with exactly these arguments (no --json added)."""
        return subprocess.run([self.memtrace] + list(args), capture_output=True, text=True, timeout=60)

    def path(self, name):
        return os.path.join(self.tmp, name)

    def load_json(self, name):
        with open(self.path(name)) as f:
            return json.load(f)

    def run(self, args, cmd=None, timeout=120, **kw):
        """Runs memtrace with args (and -- cmd). Returns (proc, report dict or None)."""
        json_path = os.path.join(self.tmp, "report.json")
        if os.path.exists(json_path):
            os.unlink(json_path)
        full = [self.memtrace, "--json", json_path] + list(args)
        if cmd is not None:
            full += ["--"] + list(cmd)
        p = subprocess.run(full, capture_output=True, text=True, timeout=timeout, **kw)
        report = None
        if os.path.exists(json_path) and os.path.getsize(json_path) > 0:
            with open(json_path) as f:
                report = json.load(f)
        return p, report


def fixture_values(stdout):
    """key=value lines printed by a fixture."""
    return {k: int(v) for k, v in re.findall(r"^(\w+)=(-?\d+)$", stdout, re.M)}


def values_until(stream, last):
    """key=value lines a running fixture prints, read up to the line of key last."""
    values = {}
    for line in stream:
        k, _, v = line.strip().partition("=")
        values[k] = int(v)
        if k == last:
            break
    return values


def no_loss(report):
    ev = report["events"]
    check(ev["lost"] == 0, "events lost: %s" % ev)


def exact(got, truth, what):
    """got must equal truth to the byte; the message shows both and the gap in KiB."""
    check(got == truth, "%s: %d, truth %d (off by %+.1f KiB)" % (what, got, truth, (got - truth) / 1024.0))


def near(a, b, tol, what):
    check(abs(a - b) <= tol, "%s: %d vs %d differ by %d (> %d)" % (what, a, b, abs(a - b), tol))


def one_line_error(p, code, pattern):
    check(p.returncode == code, "exit %d, want %d (stderr %r)" % (p.returncode, code, p.stderr))
    lines = p.stderr.strip().splitlines()
    check(len(lines) == 1, "want one line, got %r" % p.stderr)
    check(re.search(pattern, lines[0]), "message %r does not match %r" % (lines[0], pattern))


def end_all(*procs):
    """Kills and reaps each of procs (Popen objects; None skipped) still running:
    a failed test leaves no fixture or memtrace behind."""
    for p in procs:
        if p is not None and p.poll() is None:
            p.kill()
            p.wait()


def wait_until_polling(pid, timeout=30):
    """Until memtrace waits in epoll_wait: it has attached, walked the tasks
    and entered its loop (its own readiness, read from /proc/PID/syscall)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with open("/proc/%d/syscall" % pid) as f:
                nr = f.read().split()[0]
        except (OSError, IndexError):
            raise Failure("memtrace %d is gone" % pid)
        if nr in ("232", "281", "441"):  # epoll_wait, epoll_pwait, epoll_pwait2 (x86-64)
            return
        time.sleep(0.01)
    raise Failure("memtrace %d never started polling" % pid)
