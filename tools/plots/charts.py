"""The benchmark's charts, as gnuplot scripts (see gp.render).

Rows are horizontal (one per runtime, first on top) so that runtime names
stay readable, each with its value written to the right of its error bar, one
label per row: labels cannot overlap. A runtime without a value (failed, not
attempted, skipped) keeps its row with the reason in place of a bar, so every
chart of a matrix lists the same runtimes in the same order.

Every value is the median of a cell's runs, drawn with the range of the runs
(min to max) as an error bar.
"""
import math

from . import gp

MIB = 1048576.0


def _row_height(n_rows, key=False):
    return max(300, 130 + 42 * n_rows + (30 if key else 0))


# Width of the figures, the part of it the plot area takes (the rest holds
# the runtime names), and of one character of a value label, in pixels.
WIDTH = 1200
PLOT_PX = 960
CHAR_PX = 7.2


def _fit_range(ends):
    """The upper end of a linear axis from 0 such that each (x, label) of
    ends has its label, starting at x, inside the plot."""
    top = 1.0
    for x, label in ends:
        room = 1.0 - min(0.8, (len(label) + 2) * CHAR_PX / PLOT_PX)
        top = max(top, x / room)
    return top


def stacked_peaks(rows, out_base, title, subtitle=None, keep_script=False):
    """rows: dicts in display order with label, and either note (the text
    shown instead of a bar) or user and kernel (the split of the median run's
    peak total), median, lo and hi (peak total of the runs, bytes) and text
    (the value label). The bar shows user + kernel stacked up to the median,
    the error bar lo to hi. Writes out_base.png/.svg."""
    if not rows:
        raise ValueError("no rows to draw")
    n = len(rows)
    bars = []
    notes = []
    for i, row in enumerate(rows):
        y = n - i
        if row.get("note") is None:
            med = row["median"] / MIB
            u = min(row["user"] / MIB, med)
            hi = row["hi"] / MIB
            bars.append((y, row["label"], u, med, row["lo"] / MIB, hi, "  " + row["text"]))
        else:
            notes.append((y, row["label"], "  " + row["note"]))
    top = _fit_range([(b[5], b[6]) for b in bars] + [(0, x[2]) for x in notes])
    body = [gp.datablock("bars", bars), gp.datablock("notes", notes)]
    ticks = ", ".join("%s %d" % (gp.q(r["label"]), n - i) for i, r in enumerate(rows))
    body += [
        "set title %s noenhanced" % gp.qq(title + ("\n" + subtitle if subtitle else "")),
        "set xlabel 'peak total memory (MiB) = RSS + kernel memory; bar: median run, whisker: "
        "min to max of the runs'",
        "set ytics (%s) noenhanced nomirror" % ticks,
        "set yrange [0.4:%g]" % (n + 0.6),
        # Room on the right for the value labels.
        "set xrange [0:%g]" % top,
        "set lmargin at screen %g" % (1 - (PLOT_PX + 30) / float(WIDTH)),
        "set rmargin at screen %g" % (1 - 30 / float(WIDTH)),
        "set format x '%g'",
        "set xtics nomirror",
        "set grid xtics lc rgb '#dddddd'",
        "set border 3",
        "set style fill solid 0.9 border lc rgb '#333333'",
        "set key below horizontal center noenhanced samplen 2 maxcols 2 maxrows 1",
        "set bmargin 5.5",
    ]
    # gnuplot 5.4 crashes (SIGSEGV) on a labels element whose data block is
    # empty: leave out the elements that have no rows.
    elems = []
    if bars:
        elems += ["$bars using (0):1:(0):3:($1-0.34):($1+0.34) with boxxyerror lc rgb %s "
                  "title 'RSS (user memory)'" % gp.q(gp.USER_COLOR),
                  "$bars using 3:1:3:4:($1-0.34):($1+0.34) with boxxyerror lc rgb %s "
                  "title 'kernel memory (stacks, page tables...)'" % gp.q(gp.KERNEL_COLOR),
                  "$bars using 4:1:5:6 with xerrorbars lc rgb '#000000' lw 1.5 pt 0 notitle",
                  "$bars using 6:1:7 with labels left noenhanced notitle"]
    if notes:
        elems.append("$notes using (0):1:3 with labels left tc rgb '#a00000' noenhanced notitle")
    body.append("plot " + ", \\\n     ".join(elems))
    return gp.render("\n".join(body), out_base, width=WIDTH, height=_row_height(n, key=True),
                     keep_script=keep_script)


def per_task(rows, out_base, title, subtitle=None, keep_script=False):
    """rows: dicts with label, color, and either note or value, lo, hi
    (bytes per task, the runs' range) and text. A dot per runtime on a log
    axis (values span 40 B to 50 KiB: a bar's length would mean nothing
    there), its range as a whisker; a row whose range reaches 0 or below is
    drawn from the axis' left end."""
    if not rows:
        raise ValueError("no rows to draw")
    n = len(rows)
    dots = []
    notes = []
    vals = []
    for i, row in enumerate(rows):
        y = n - i
        v = row.get("value")
        if row.get("note") is None and v is not None and v > 0:
            dots.append([y, row["label"], float(v), float(row["lo"]), float(row["hi"]),
                         "  " + row["text"], int(row["color"].lstrip("#"), 16)])
            vals += [v, row["hi"]] + ([row["lo"]] if row["lo"] > 0 else [])
        else:
            note = row.get("note") or "%s: no growth measured" % (gp.fmt_bytes(v) if v is not None else "n/a")
            notes.append((y, row["label"], "  " + note))
    # Axis in powers of 4 bytes (16 B, 64 B, 256 B, 1 KiB...), readable as sizes.
    lo = 4 ** math.floor(math.log(min(vals) / 1.2, 4)) if vals else 16
    hi = 4 ** math.ceil(math.log(max(vals) * 40, 4)) if vals else 4 ** 9
    for d in dots:
        d[3] = max(d[3], lo)
    body = [gp.datablock("dots", dots), gp.datablock("notes", notes)]
    ticks = ", ".join("%s %d" % (gp.q(r["label"]), n - i) for i, r in enumerate(rows))
    xt = []
    v = lo
    while v <= hi:
        xt.append("%s %g" % (gp.q(gp.fmt_bytes(v)), v))
        v *= 4
    body += [
        "set title %s noenhanced" % gp.qq(title + ("\n" + subtitle if subtitle else "")),
        "set xlabel 'bytes per task, log scale: dot (peak total at N - peak total at 1) / (N - 1) "
        "of the medians; whisker: the runs'' extremes'",
        "set ytics (%s) noenhanced nomirror" % ticks,
        "set yrange [0.4:%g]" % (n + 0.6),
        "set logscale x 10",
        "set xrange [%g:%g]" % (lo, hi),
        "set xtics (%s) nomirror" % ", ".join(xt),
        "set grid xtics ytics lc rgb '#e4e4e4'",
        "set border 3",
        "unset key",
    ]
    elems = []
    if dots:
        elems += ["$dots using 3:1:4:5:7 with xerrorbars lc rgb variable lw 1.5 pt 7 ps 1.4 notitle",
                  "$dots using 5:1:6 with labels left noenhanced notitle"]
    if notes:
        elems.append("$notes using (%g):1:3 with labels left tc rgb '#a00000' noenhanced notitle" % (lo * 1.05))
    body.append("plot " + ", \\\n     ".join(elems))
    return gp.render("\n".join(body), out_base, width=1200, height=_row_height(n), keep_script=keep_script)
