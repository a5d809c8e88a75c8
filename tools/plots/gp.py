"""Running gnuplot: one script body drawn twice, to OUT.png and OUT.svg.

Scripts are fed on stdin with their data inline as data blocks ($name << EOD),
so a figure needs no temporary files and the script can be kept (keep_script)
to redraw it by hand: `gnuplot OUT.gp` (it writes both files again).
"""
import os
import shutil
import subprocess

FONT = "DejaVu Sans"

# Colours that stay apart from each other on white, one per runtime (see
# colors_for): the first ten are the usual categorical set, the rest darker
# or lighter tones of other hues. A 25th series takes them again, dashed.
PALETTE = [
    "#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b",
    "#e377c2", "#17becf", "#7f7f7f", "#bcbd22", "#000075", "#800000",
    "#469990", "#f032e6", "#000000", "#ffb000", "#6a3d9a", "#4b7b00",
    "#fb9a99", "#a6cee3", "#9acd32", "#8b008b", "#5f9ea0", "#d2691e",
]
USER_COLOR = "#4c72b0"    # RSS (user memory) in stacked bars
KERNEL_COLOR = "#dd8452"  # kernel memory in stacked bars


class GnuplotError(Exception):
    pass


def gnuplot_path():
    return shutil.which("gnuplot")


def require():
    """The gnuplot binary, or GnuplotError saying how to get it."""
    path = gnuplot_path()
    if not path:
        raise GnuplotError("gnuplot not found (install it with: tools/deps.sh bench, "
                           "or apt-get install gnuplot-nox)")
    return path


_terminals = None


def _has_terminal(name):
    global _terminals
    if _terminals is None:
        p = subprocess.run([require(), "-e", "set terminal"], capture_output=True, text=True)
        _terminals = set()
        for line in (p.stdout + p.stderr).splitlines():
            parts = line.split()
            if parts:
                _terminals.add(parts[0])
    return name in _terminals


def q(text):
    """A gnuplot string literal: single quotes take everything literally but ''."""
    return "'" + str(text).replace("'", "''") + "'"


def qq(text):
    """A gnuplot double-quoted string literal, for text with line breaks."""
    s = str(text).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return '"' + s + '"'


def datum(v):
    """One field of a data block: numbers as they are, strings double-quoted."""
    if isinstance(v, float):
        return repr(v)
    if isinstance(v, int):
        return str(v)
    s = str(v).replace('"', "'").replace("\n", " ")
    return '"' + s + '"'


def datablock(name, rows):
    """$name << EOD ... EOD, one row per line. An empty block gets one NaN row
    so that plotting it draws nothing instead of failing."""
    lines = ["$%s << EOD" % name]
    for r in rows:
        lines.append(" ".join(datum(v) for v in r))
    if not rows:
        lines.append("NaN NaN")
    lines.append("EOD")
    return "\n".join(lines) + "\n"


def colors_for(names):
    """{name: colour}, a different colour for each of up to len(PALETTE)
    names, in the order given (keep the order of the whole matrix so that a
    runtime has the same colour in every figure)."""
    return {name: PALETTE[i % len(PALETTE)] for i, name in enumerate(names)}


def line_style(i):
    """Colour and dash type of the i-th series (0-based)."""
    color = PALETTE[i % len(PALETTE)]
    dash = 1 + (i // len(PALETTE)) % 5
    return color, dash


def _terminal(kind, width, height, font_size):
    if kind == "png":
        if _has_terminal("pngcairo"):
            return "set terminal pngcairo size %d,%d enhanced font %s background rgb 'white'" % (
                width, height, q("%s,%d" % (FONT, font_size)))
        return "set terminal png size %d,%d font %s" % (width, height, q("%s,%d" % (FONT, font_size)))
    return "set terminal svg size %d,%d dynamic enhanced font %s background rgb 'white'" % (
        width, height, q("%s,%d" % (FONT, font_size)))


def render(body, out_base, width=1100, height=650, font_size=11, keep_script=False):
    """Draws body (gnuplot commands, data blocks first) to out_base.png and
    out_base.svg. Returns the two paths. Raises GnuplotError on failure, with
    gnuplot's own message."""
    gp = require()
    d = os.path.dirname(os.path.abspath(out_base))
    os.makedirs(d, exist_ok=True)
    outs = [out_base + ".png", out_base + ".svg"]
    # The body is repeated after each terminal: it holds its own data blocks,
    # and drawing it twice from one script keeps the two files identical.
    script = ""
    for kind, path in zip(("png", "svg"), outs):
        script += "%s\nset output %s\n%s\nunset output\n" % (
            _terminal(kind, width, height, font_size), q(path), body)
    for path in outs:
        if os.path.exists(path):
            os.unlink(path)
    p = subprocess.run([gp], input=script, capture_output=True, text=True)
    if keep_script:
        with open(out_base + ".gp", "w") as f:
            f.write(script)
    msg = (p.stderr or "").strip()
    if p.returncode != 0:
        raise GnuplotError("gnuplot failed for %s: %s" % (
            out_base, " | ".join(msg.splitlines()[-3:]) if msg else "exit %d" % p.returncode))
    for path in outs:
        if not os.path.exists(path) or os.path.getsize(path) == 0:
            raise GnuplotError("gnuplot wrote no %s: %s" % (path, msg or "no message"))
    return outs


def fmt_bytes(b):
    """1536 -> '1.5 KiB'; for value labels."""
    b = float(b)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(b) < 1024 or unit == "TiB":
            if unit == "B":
                return "%d B" % round(b)
            if b == int(b):
                return "%d %s" % (b, unit)
            return ("%.1f %s" if abs(b) < 100 else "%.0f %s") % (b, unit)
        b /= 1024.0
    return "%g" % b


def fmt_mib(b):
    """Bytes as MiB with a precision that suits the size: '0.84', '12.3', '2,614'."""
    m = b / 1048576.0
    if m < 10:
        return "%.2f" % m
    if m < 100:
        return "%.1f" % m
    return "{:,.0f}".format(m)
