"""A real terminal for tests of what a person at one sees: the program runs in
a tmux pane (the session's foreground process group, so ^C reaches it as a
typed one does), keys go in with send-keys, and the screen comes back from
capture-pane: tmux's own terminal emulator, not ours, says what is shown."""
import os
import re
import subprocess
import tempfile
import time

from common import Failure


class Terminal:
    def __init__(self, argv, cols=100, rows=50, env=None):
        self.sock = "memtrace-test-%d-%d" % (os.getpid(), time.monotonic_ns())
        conf = tempfile.NamedTemporaryFile("w", suffix=".conf", delete=False)
        # The pane stays after the program ends, so its last screen can be read.
        conf.write("set -g remain-on-exit on\nset -g history-limit 5000\n")
        conf.close()
        self.conf = conf.name
        extra = []
        for k, v in (env or {}).items():
            extra += ["-e", "%s=%s" % (k, v)]
        self.tmux("new-session", "-d", "-x", str(cols), "-y", str(rows), *extra, "--", *argv)
        self.pid = int(self.tmux("display-message", "-p", "#{pane_pid}").strip())

    def tmux(self, *args):
        p = subprocess.run(["tmux", "-L", self.sock, "-f", self.conf] + list(args), capture_output=True,
                           text=True, timeout=30)
        if p.returncode != 0:
            raise Failure("tmux %s: %s" % (args[0], p.stderr.strip()))
        return p.stdout

    def keys(self, *keys):
        """send-keys names: "C-c", "Enter", or text."""
        self.tmux("send-keys", *keys)

    def screen(self):
        """The pane's lines, scrolled-off ones included, trailing blanks dropped
        (and tmux's own "Pane is dead" line)."""
        lines = [x for x in self.tmux("capture-pane", "-p", "-S", "-").splitlines()
                 if not x.startswith("Pane is dead (")]
        while lines and not lines[-1].strip():
            lines.pop()
        return [x.rstrip() for x in lines]

    def wait_for(self, pattern, timeout=20):
        """Until a line on screen matches pattern; returns the match."""
        deadline = time.monotonic() + timeout
        while True:
            for line in self.screen():
                m = re.search(pattern, line)
                if m:
                    return m
            if time.monotonic() > deadline:
                raise Failure("never on screen: %r; screen:\n%s" % (pattern, "\n".join(self.screen())))
            time.sleep(0.05)

    def dead(self):
        """Whether the program has ended. (tmux 3.3 does not always learn its exit
        status: the tests read memtrace's from its report or JSON.)"""
        return self.tmux("list-panes", "-a", "-F", "#{pane_dead}").split()[0] == "1"

    def wait(self, timeout=60):
        """Until the program ends."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.dead():
                return
            time.sleep(0.05)
        raise Failure("still running after %d s; screen:\n%s" % (timeout, "\n".join(self.screen())))

    def kill(self):
        """Ends the tmux server and whatever still runs in it."""
        subprocess.run(["tmux", "-L", self.sock, "kill-server"], capture_output=True, timeout=30)
        try:
            os.unlink(self.conf)
        except OSError:
            pass
