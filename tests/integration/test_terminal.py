"""At a terminal: ^C, the status line, what attach says; in a tmux pane (a real pseudo-terminal)."""
import json
import os
import re
import signal
import time

from common import Failure, check, serial, test
from terminal import Terminal


def pairs_in(path):
    """key=value lines a fixture appended to path so far."""
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [line.strip().split("=", 1) for line in f if "=" in line]


def wait_for_pair(path, key, value=None, timeout=20):
    """Until the fixture has written key= (or key=value) to path; its lines so far."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        pairs = pairs_in(path)
        if any(k == key and (value is None or v == value) for k, v in pairs):
            return pairs
        time.sleep(0.01)
    raise Failure("%s never said %s=%s: %s" % (path, key, value or "", pairs_in(path)))


def run_sigcount(c, name, presses, press):
    """sigcount under memtrace in a terminal; press(t) is one interrupt, given after the last was counted.
    memtrace and the command are on CPUs of their own where there are two, so that a second copy,
    if memtrace sent one, would come after the command took the first (not merge with it, pending)."""
    counts, report = c.path(name + ".txt"), c.path(name + ".json")
    for p in (counts, report):
        if os.path.exists(p):
            os.unlink(p)
    pin = (["taskset", "-c", "1"], ["taskset", "-c", "0"]) if os.cpu_count() >= 2 else ([], [])
    t = Terminal(pin[0] + [c.memtrace, "--json", report, "--"] + pin[1] +
                 [c.fx("sigcount"), counts, str(presses), "500"])
    try:
        wait_for_pair(counts, "ready")
        for i in range(1, presses + 1):
            press(t)
            wait_for_pair(counts, "sigint", str(i))
        t.wait()
    finally:
        t.kill()
    with open(report) as f:
        r = json.load(f)
    pairs = pairs_in(counts)
    return r, [int(v) for k, v in pairs if k == "sigint"], [v for k, v in pairs if k == "from"], t.pid


@test
@serial("memtrace and the command pinned to a CPU each: other work on them would merge signals")
def ctrl_c_reaches_the_command_once(c):
    """^C at the terminal, 5 times: the kernel gives the command its copy each time; memtrace adds none."""
    r, got, senders, _ = run_sigcount(c, "ctrl_c", 5, lambda t: t.keys("C-c"))
    check(got == [1, 2, 3, 4, 5], "the command counted SIGINTs %s for 5 presses" % got)
    check(senders == ["kernel"] * 5, "senders %s: memtrace sent copies of its own" % senders)
    check(r["exit"]["status"] == 5 and r["memtrace_exit_code"] == 5, "exit %s" % r["exit"])
    check(r["interrupted"] == 1, "JSON interrupted is %s after ^C" % r["interrupted"])

    # kill -INT to memtrace alone (not from the terminal): it passes it on, once.
    r, got, senders, pid = run_sigcount(c, "kill_int", 1, lambda t: os.kill(t.pid, signal.SIGINT))
    check(got == [1] and senders == [str(pid)], "after kill -INT memtrace: %s from %s" % (got, senders))
    check(r["memtrace_exit_code"] == 1 and r["interrupted"] == 1, "exit %s" % r["exit"])


STATUS = r"^memtrace (\d+\.\d) s  rss [\d.]+ [KMG]?i?B  kernel [\d.]+ [KMG]?i?B  peak [\d.]+ [KMG]?i?B  1 proc  1 thread$"


@test
@serial("the status line's elapsed time, redrawn every 250 ms")
def status_line_while_it_runs(c):
    """On a terminal: a status line redrawn in place while the command runs, erased at the end."""
    report = c.path("status-report.txt")
    t = Terminal([c.memtrace, "-o", report, "sleep", "2"], cols=100)
    try:
        first = float(t.wait_for(STATUS).group(1))
        later = t.wait_for(STATUS.replace(r"(\d+\.\d)", r"(1\.\d)"))  # redrawn a second later
        on_screen = [x for x in t.screen() if x.startswith("memtrace ")]
        check(len(on_screen) == 1, "the status line was not redrawn in place: %s" % on_screen)
        t.wait()
        left = [x for x in t.screen() if x.strip()]
    finally:
        t.kill()
    check(first < 1.0 and later, "elapsed did not advance")
    check(not left, "the status line was not erased: %s" % left)
    with open(report) as f:
        text = f.read()
    check(re.search(r"^  Exit status:\s+0$", text, re.M), "report: %r" % text)
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
        seen = []
        while not t.dead():  # every screen while it runs, as the status line would be redrawn
            seen += [x for x in t.screen() if x.strip()]
            time.sleep(0.05)
        t.wait()
    finally:
        t.kill()
    check(not seen, "-q: on screen %s" % seen)
    check("Exit status:" in open(c.path("q.txt")).read(), "-q: no report")
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
            t.keys("C-c")
            t.wait()
            screen = t.screen()
        finally:
            t.kill()
        check(tree.poll() is None, "^C at memtrace's terminal reached the attached processes")
        check(any("stopped by a signal" in x for x in screen), "report: %s" % screen)
    finally:
        os.killpg(tree.pid, signal.SIGKILL)
        tree.wait()
