"""At a terminal: ^C, the status line, what attach says; in a real pseudo-terminal."""
import json
import os
import signal
import time

from common import Failure, check, test
from terminal import Terminal


def values_in(path, timeout=20, want="ready"):
    """key=value lines a fixture appended to path, once the line want= is there."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if os.path.exists(path):
            with open(path) as f:
                pairs = [line.strip().split("=", 1) for line in f if "=" in line]
            if any(k == want for k, _ in pairs):
                return pairs
        time.sleep(0.02)
    raise Failure("%s never said %s=" % (path, want))


def sigints(path):
    return [int(v) for k, v in values_in(path) if k == "sigint"]


def run_sigcount(c, name, send):
    """sigcount under memtrace in a terminal; send(term) delivers one interrupt."""
    counts, report = c.path(name + ".txt"), c.path(name + ".json")
    for p in (counts, report):
        if os.path.exists(p):
            os.unlink(p)
    t = Terminal([c.memtrace, "--json", report, "--", c.fx("sigcount"), counts, "700"])
    try:
        values_in(counts)
        send(t)
        status = t.wait()
    finally:
        t.kill()
    with open(report) as f:
        return status, sigints(counts), json.load(f)


@test
def ctrl_c_reaches_the_command_once(c):
    """^C at the terminal: the kernel gives the command its copy; memtrace adds none."""
    status, got, r = run_sigcount(c, "ctrl_c", lambda t: t.keys(b"\x03"))
    check(got == [1], "the command counted SIGINTs %s, want exactly one" % got)
    check(status == 1 and r["exit"]["status"] == 1, "exit %d, report %s" % (status, r["exit"]))
    check(r["interrupted"] == 1, "JSON interrupted is %s after ^C" % r["interrupted"])

    # kill -INT to memtrace alone (not from the terminal): it passes it on, once.
    status, got, r = run_sigcount(c, "kill_int", lambda t: os.kill(t.pid, signal.SIGINT))
    check(got == [1], "after kill -INT memtrace the command counted %s, want one" % got)
    check(status == 1 and r["interrupted"] == 1, "exit %d, interrupted %s" % (status, r["interrupted"]))
