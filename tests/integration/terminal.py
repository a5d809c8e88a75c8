"""A real pseudo-terminal for tests of what a person at a terminal sees: the
program runs as the session's foreground process group (the kernel sends it
^C as a terminal does), and the bytes it writes are replayed into a screen
(carriage returns, erase-line, colours ignored), as tmux capture-pane shows it.
tmux itself cannot start its server on these machines (/dev/null is not a
character device), so this is the same idea in the standard library."""
import fcntl
import os
import pty
import re
import select
import signal
import struct
import termios
import time

from common import Failure


class Terminal:
    def __init__(self, argv, cols=100, rows=40, env=None, cwd=None):
        self.cols, self.rows = cols, rows
        self.raw = bytearray()
        self.status = None
        pid, fd = pty.fork()
        if pid == 0:
            try:
                if cwd:
                    os.chdir(cwd)
                os.execvpe(argv[0], argv, env if env is not None else os.environ)
            finally:
                os._exit(127)
        self.pid, self.fd = pid, fd
        fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))

    def pump(self, timeout):
        """Reads what the program wrote, for up to timeout seconds."""
        r, _, _ = select.select([self.fd], [], [], timeout)
        if not r:
            return False
        try:
            data = os.read(self.fd, 65536)
        except OSError:  # EIO: the last holder of the terminal's other side is gone
            data = b""
        if not data:
            return False
        self.raw += data
        return True

    def keys(self, data):
        os.write(self.fd, data)

    def screen(self):
        """The lines on screen (trailing blanks dropped), as a terminal would show them."""
        lines, row, col = [[]], 0, 0
        text = self.raw.decode("utf-8", "replace")
        i = 0
        while i < len(text):
            ch = text[i]
            if ch == "\x1b":
                m = re.match(r"\x1b\[([0-9;?]*)([A-Za-z])", text[i:])
                if m:
                    if m.group(2) == "K":
                        del lines[row][col:]
                    i += m.end()
                    continue
                i += 2
                continue
            if ch == "\r":
                col = 0
            elif ch == "\n":
                row += 1
                col = 0
                while len(lines) <= row:
                    lines.append([])
            elif ch == "\b":
                col = max(0, col - 1)
            else:
                line = lines[row]
                while len(line) < col:
                    line.append(" ")
                if col < len(line):
                    line[col] = ch
                else:
                    line.append(ch)
                col += 1
            i += 1
        return ["".join(x).rstrip() for x in lines]

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
            self.pump(0.05)

    def wait(self, timeout=60):
        """Until the program ends; returns its exit status (as a shell's $?)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.pump(0.05)
            pid, st = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                while self.pump(0.05):
                    pass
                os.close(self.fd)
                self.status = os.waitstatus_to_exitcode(st)
                if self.status < 0:
                    self.status = 128 - self.status
                return self.status
        self.kill()
        raise Failure("still running after %d s; screen:\n%s" % (timeout, "\n".join(self.screen())))

    def kill(self):
        if self.status is None:
            try:
                os.kill(self.pid, signal.SIGKILL)
                os.waitpid(self.pid, 0)
                os.close(self.fd)
            except OSError:
                pass
            self.status = -1
