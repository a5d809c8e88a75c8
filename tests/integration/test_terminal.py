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


STATUS = r"^memtrace (\d+\.\d) s  rss [\d.]+ [KMG]?i?B  kernel [\d.]+ [KMG]?i?B  peak [\d.]+ [KMG]?i?B  1 proc  1 thread$"


@test
def status_line_while_it_runs(c):
    """On a terminal: a status line redrawn in place while the command runs, erased at the end."""
    report = c.path("status-report.txt")
    t = Terminal([c.memtrace, "-o", report, "sleep", "2"], cols=100)
    try:
        first = float(t.wait_for(STATUS).group(1))
        later = t.wait_for(STATUS.replace(r"(\d+\.\d)", r"(1\.\d)"))  # redrawn a second later
        on_screen = [x for x in t.screen() if x.startswith("memtrace ")]
        check(len(on_screen) == 1, "the status line was not redrawn in place: %s" % on_screen)
        status = t.wait()
    finally:
        t.kill()
    check(status == 0, "exit %d" % status)
    check(first < 1.0 and later, "elapsed did not advance")
    left = [x for x in t.screen() if x.strip()]
    check(not left, "the status line was not erased: %s" % left)
    with open(report) as f:
        text = f.read()
    check("\r" not in text and "\x1b" not in text and "memtrace 1." not in text, "status line in -o: %r" % text)

    # Cut to a narrow terminal's width: a wrapped line could not be redrawn in place.
    t = Terminal([c.memtrace, "-o", report, "sleep", "1"], cols=40)
    try:
        t.wait_for(r"^memtrace \d")
        narrow = [x for x in t.screen() if x.startswith("memtrace ")]
        t.wait()
    finally:
        t.kill()
    check(narrow and all(len(x) <= 39 for x in narrow), "not cut to 40 columns: %s" % narrow)


@test
def status_line_off_with_q_or_without_a_terminal(c):
    t = Terminal([c.memtrace, "-q", "-o", c.path("q.txt"), "sleep", "1"])
    try:
        status = t.wait()
    finally:
        t.kill()
    check(status == 0 and b"\x1b[K" not in t.raw and b"memtrace " not in t.raw, "-q: %r" % bytes(t.raw))
    p = c.bare("sleep", "1")
    check(p.returncode == 0 and "\x1b" not in p.stderr and "\r" not in p.stderr, "not a tty: %r" % p.stderr[:200])


@test
def attach_says_what_it_attached(c):
    """-p on a terminal: at once, what is followed and how to stop; ^C stops memtrace, not them."""
    import subprocess
    tree = subprocess.Popen(["sh", "-c", "sleep 60 & sleep 60 & echo started; wait"], stdout=subprocess.PIPE,
                            text=True, start_new_session=True)
    try:
        tree.stdout.readline()  # both children forked
        t = Terminal([c.memtrace, "-p", str(tree.pid)])
        try:
            m = t.wait_for(r"^memtrace: attached to (\d+) process(es)?, (\d+) threads?; Ctrl-C to stop$")
            check(m.group(1) == "3" and m.group(3) == "3", "said %r" % m.group(0))
            check(not any("Peak RSS" in x for x in t.screen()), "said only at the end")
            t.keys(b"\x03")
            status = t.wait()
        finally:
            t.kill()
        check(status == 0, "exit %d" % status)
        check(tree.poll() is None, "^C at memtrace's terminal reached the attached processes")
        check(any("stopped by a signal" in x for x in t.screen()), "report: %s" % t.screen())
    finally:
        os.killpg(tree.pid, signal.SIGKILL)
        tree.wait()
