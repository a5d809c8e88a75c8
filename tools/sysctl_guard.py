#!/usr/bin/env python3
"""Raise kernel limits for a block of code, and put them back afterwards.

    with SysctlGuard({"kernel.pid_max": 4194304, "vm.max_map_count": 1048576}) as g:
        run_the_benchmark()
    # here both are back to what they were, also after an exception,
    # Ctrl-C, or SIGTERM/SIGHUP (with terminate_as_exception() in force)

Only values below the wanted ones are changed (a limit already higher is left
alone), and every change is first written to a journal file. If the process
dies without restoring (SIGKILL, power cut of the VM aside), the next guard,
or `tools/sysctl_guard.py --restore`, puts the journal's values back.

usage: tools/sysctl_guard.py [--show] [--restore] [--journal FILE]
"""
import argparse
import contextlib
import json
import os
import signal
import sys

DEFAULT_JOURNAL = "/run/memtrace-bench/sysctl-journal.json"
_BLOCK = {signal.SIGINT, signal.SIGTERM, signal.SIGHUP}


class Terminated(Exception):
    """SIGTERM or SIGHUP arrived (under terminate_as_exception)."""

    def __init__(self, signum):
        super().__init__("terminated by signal %d" % signum)
        self.signum = signum


def sysctl_path(name):
    return "/proc/sys/" + name.replace(".", "/")


def read_sysctl(name):
    with open(sysctl_path(name)) as f:
        return int(f.read().split()[0])


def write_sysctl(name, value):
    with open(sysctl_path(name), "w") as f:
        f.write("%d\n" % value)
    got = read_sysctl(name)
    if got != value:
        raise OSError("%s reads %d after writing %d" % (name, got, value))


@contextlib.contextmanager
def signals_blocked():
    """No SIGINT/SIGTERM/SIGHUP between changing a value and recording it."""
    old = signal.pthread_sigmask(signal.SIG_BLOCK, _BLOCK)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


@contextlib.contextmanager
def terminate_as_exception():
    """SIGTERM and SIGHUP raise Terminated (SIGINT already raises
    KeyboardInterrupt), so that `finally` blocks run when the process is asked
    to stop. Restores the previous handlers on leaving."""
    def handler(signum, frame):
        raise Terminated(signum)

    old = {}
    for s in (signal.SIGTERM, signal.SIGHUP):
        old[s] = signal.signal(s, handler)
    try:
        yield
    finally:
        for s, h in old.items():
            signal.signal(s, h)


def _pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _load_journal(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def recover(journal=DEFAULT_JOURNAL, force=False):
    """Restores values left changed by a guard whose process died. Returns
    {name: (current, restored)} of what it put back. A journal of a process
    still alive is left alone unless force."""
    j = _load_journal(journal)
    if not j:
        return {}
    if not force and j.get("pid") not in (None, os.getpid()) and _pid_alive(j["pid"]):
        return {}
    done = {}
    with signals_blocked():
        for name, old in j.get("saved", {}).items():
            cur = read_sysctl(name)
            want = j.get("set", {}).get(name)
            # Put the old value back only while the value is still the one the
            # guard set: someone may have changed it since, on purpose.
            if cur != old and (want is None or cur == want):
                write_sysctl(name, old)
                done[name] = (cur, old)
        os.unlink(journal)
    return done


# Values set while a run of many threads needs more than the current limits.
PID_MAX_RAISED = 4194304          # the largest pid_max on 64-bit
MAX_MAP_COUNT_RAISED = 1048576


def count_pids():
    return sum(1 for d in os.listdir("/proc") if d.isdigit())


def thread_sysctls(n):
    """sysctl values a run of n live threads needs raised, {} if the current
    limits suffice. Each thread takes a PID and two or three memory mappings
    (stack, guard; the JVM adds its own guard zone)."""
    need_pids = n + count_pids() + 8192
    need_maps = 3 * n + 8192
    need_threads = n + 8192
    want = {}
    if need_pids > read_sysctl("kernel.pid_max"):
        want["kernel.pid_max"] = max(PID_MAX_RAISED, need_pids)
    if need_maps > read_sysctl("vm.max_map_count"):
        want["vm.max_map_count"] = max(MAX_MAP_COUNT_RAISED, need_maps)
    if need_threads > read_sysctl("kernel.threads-max"):
        want["kernel.threads-max"] = need_threads + 65536
    return want


class SysctlGuard:
    """Context manager: raises each sysctl in wanted to at least its value;
    restores the previous values on exit, whatever ends the block.

    After entering, .changes holds {name: (old, new)} of what was changed and
    .before {name: value} of every wanted name; after exit, .restored says
    whether everything was put back (.errors lists what could not be). A
    value that someone else changed while the block ran is left as they set
    it (.left)."""

    def __init__(self, wanted, journal=DEFAULT_JOURNAL):
        self.wanted = dict(wanted)
        self.journal = journal
        self.before = {}
        self.changes = {}
        self.restored = None
        self.errors = []
        self.left = {}     # name: value someone else set meanwhile (not restored)

    def _write_journal(self):
        if not self.journal:
            return
        d = os.path.dirname(self.journal)
        if d:
            os.makedirs(d, exist_ok=True)
        tmp = self.journal + ".tmp"
        with open(tmp, "w") as f:
            json.dump({"pid": os.getpid(),
                       "saved": {k: v[0] for k, v in self.changes.items()},
                       "set": {k: v[1] for k, v in self.changes.items()}}, f)
        os.replace(tmp, self.journal)

    def __enter__(self):
        if self.journal:
            recover(self.journal)
        try:
            for name, value in self.wanted.items():
                with signals_blocked():
                    cur = read_sysctl(name)
                    self.before[name] = cur
                    if cur >= value:
                        continue
                    # Journal first, then the change: a crash in between
                    # leaves a journal whose restore is a no-op.
                    self.changes[name] = (cur, value)
                    self._write_journal()
                    write_sysctl(name, value)
        except BaseException:
            self._restore()
            raise
        return self

    def _restore(self):
        with signals_blocked():
            for name in reversed(list(self.changes)):
                old, new = self.changes[name]
                try:
                    cur = read_sysctl(name)
                    # Changed again by someone else while the block ran: that
                    # value was set on purpose, leave it.
                    if cur != new:
                        self.left[name] = cur
                        continue
                    write_sysctl(name, old)
                except OSError as e:
                    self.errors.append("%s: cannot restore %d: %s" % (name, old, e))
            self.restored = not self.errors
            if self.restored and self.journal and os.path.exists(self.journal):
                os.unlink(self.journal)

    def __exit__(self, exc_type, exc, tb):
        self._restore()
        if self.errors:
            print("sysctl_guard: " + "; ".join(self.errors), file=sys.stderr)
        return False

    def describe(self):
        """'kernel.pid_max 32768 -> 4194304 (restored)' for each wanted name."""
        out = []
        for name, value in self.wanted.items():
            if name in self.changes:
                old, new = self.changes[name]
                state = "" if self.restored is None else (" (restored)" if self.restored else
                                                         " (NOT restored)")
                if name in self.left:
                    state = " (changed to %d by someone else meanwhile: left so)" % self.left[name]
                out.append("%s %d -> %d%s" % (name, old, new, state))
            elif name in self.before:
                out.append("%s %d (already >= %d)" % (name, self.before[name], value))
        return out


def main(argv=None):
    ap = argparse.ArgumentParser(description="Show the benchmark's kernel limits, or restore "
                                             "values a killed benchmark left raised.")
    ap.add_argument("--show", action="store_true", help="print the current values")
    ap.add_argument("--restore", action="store_true", help="restore from the journal")
    ap.add_argument("--journal", default=DEFAULT_JOURNAL)
    a = ap.parse_args(argv)
    if a.restore:
        done = recover(a.journal, force=True)
        for name, (cur, old) in done.items():
            print("%s %d -> %d (restored)" % (name, cur, old))
        if not done:
            print("nothing to restore (journal %s)" % a.journal)
    if a.show or not a.restore:
        for name in ("kernel.pid_max", "vm.max_map_count", "kernel.threads-max"):
            print("%s = %d" % (name, read_sysctl(name)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
