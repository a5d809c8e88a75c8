"""The benchmark's bar charts, as gnuplot scripts (see gp.render).

Bars are horizontal (one per runtime, first on top) so that runtime names stay
readable, with each bar's value written at its end. A runtime without a value
(failed, not attempted, skipped) keeps its row with the reason in place of a
bar, so every chart of a matrix lists the same runtimes in the same order.
"""
import math

from . import gp

MIB = 1048576.0


def _bar_height(n_rows, key=False):
    return max(300, 120 + 42 * n_rows + (30 if key else 0))


def stacked_peaks(rows, out_base, title, subtitle=None, keep_script=False):
    """rows: (label, user_bytes, kernel_bytes, note[, extra]) in display
    order; note is None for a measured bar, else the text shown instead of a
    bar. user + kernel is the peak total; the bar shows both, stacked, and its
    label the total with the kernel share, then extra if given. Writes
    out_base.png/.svg."""
    if not rows:
        raise ValueError("no rows to draw")
    n = len(rows)
    bars = []
    notes = []
    max_total = 0.0
    for i, row in enumerate(rows):
        label, user, kernel, note = row[:4]
        extra = row[4] if len(row) > 4 and row[4] else ""
        y = n - i
        if note is None:
            u = user / MIB
            k = kernel / MIB
            t = u + k
            max_total = max(max_total, t)
            text = "  %s MiB (kernel %s MiB)%s" % (gp.fmt_mib(user + kernel), gp.fmt_mib(kernel),
                                                   ", " + extra if extra else "")
            bars.append((y, label, u, k, t, text))
        else:
            notes.append((y, label, "  " + note))
    if max_total <= 0:
        max_total = 1.0
    body = [gp.datablock("bars", bars), gp.datablock("notes", notes)]
    ticks = ", ".join("%s %d" % (gp.q(r[0]), n - i) for i, r in enumerate(rows))
    body += [
        "set title %s noenhanced" % gp.qq(title + ("\n" + subtitle if subtitle else "")),
        "set xlabel 'peak total memory (MiB) = RSS + kernel memory (kernel stacks, task structs, page tables)'",
        "set ytics (%s) noenhanced nomirror" % ticks,
        "set yrange [0.4:%g]" % (n + 0.6),
        # Room on the right for the value labels.
        "set xrange [0:%g]" % (max_total * 1.42),
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
        elems += ["$bars using (0):1:(0):3:($1-0.36):($1+0.36) with boxxyerror lc rgb %s "
                  "title 'RSS (user memory)'" % gp.q(gp.USER_COLOR),
                  "$bars using (0):1:3:($3+$4):($1-0.36):($1+0.36) with boxxyerror lc rgb %s "
                  "title 'kernel memory (stacks, page tables...)'" % gp.q(gp.KERNEL_COLOR),
                  "$bars using 5:1:6 with labels left noenhanced notitle"]
    if notes:
        elems.append("$notes using (0):1:3 with labels left tc rgb '#a00000' noenhanced notitle")
    body.append("plot " + ", \\\n     ".join(elems))
    return gp.render("\n".join(body), out_base, height=_bar_height(n, key=True), keep_script=keep_script)


def per_task(rows, out_base, title, subtitle=None, keep_script=False):
    """rows: (label, bytes_per_task, kernel_bytes_per_task, n_max, note). A
    positive value gets a bar on a log axis (values span 100 B to 100 KiB);
    note (or a value <= 0) is shown as text instead."""
    if not rows:
        raise ValueError("no rows to draw")
    n = len(rows)
    bars = []
    notes = []
    vals = []
    for i, (label, b, kb, n_max, note) in enumerate(rows):
        y = n - i
        if note is None and b is not None and b > 0:
            share = ""
            if kb is not None and kb > 0:
                share = ", kernel %s" % gp.fmt_bytes(kb)
            text = "  %s%s (1 to %s tasks)" % (gp.fmt_bytes(b), share, "{:,}".format(n_max))
            bars.append((y, label, float(b), text))
            vals.append(b)
        else:
            if note is None:
                note = "%s: no growth measured" % (gp.fmt_bytes(b) if b is not None else "n/a")
            notes.append((y, label, "  " + note))
    # Axis in powers of 4 bytes (1 KiB, 4 KiB, 16 KiB...), readable as sizes.
    lo = 4 ** math.floor(math.log(min(vals), 4)) if vals else 16
    hi = 4 ** math.ceil(math.log(max(vals) * 60, 4)) if vals else 4 ** 9
    lo = min(lo, 64)
    body = [gp.datablock("bars", bars), gp.datablock("notes", notes)]
    ticks = ", ".join("%s %d" % (gp.q(r[0]), n - i) for i, r in enumerate(rows))
    xt = []
    v = lo
    while v <= hi:
        xt.append("%s %g" % (gp.q(gp.fmt_bytes(v)), v))
        v *= 4
    body += [
        "set title %s noenhanced" % gp.qq(title + ("\n" + subtitle if subtitle else "")),
        "set xlabel 'bytes per task (log scale): (peak total at N - peak total at 1) / (N - 1)'",
        "set ytics (%s) noenhanced nomirror" % ticks,
        "set yrange [0.4:%g]" % (n + 0.6),
        "set logscale x 10",
        "set xrange [%g:%g]" % (lo, hi),
        "set xtics (%s) nomirror" % ", ".join(xt),
        "set mxtics 2",
        "set grid xtics lc rgb '#dddddd'",
        "set border 3",
        "set style fill solid 0.9 border lc rgb '#333333'",
        "unset key",
    ]
    elems = []
    if bars:
        elems += ["$bars using (%g):1:(%g):3:($1-0.36):($1+0.36) with boxxyerror lc rgb %s notitle"
                  % (lo, lo, gp.q(gp.USER_COLOR)),
                  "$bars using 3:1:4 with labels left noenhanced notitle"]
    if notes:
        elems.append("$notes using (%g):1:3 with labels left tc rgb '#a00000' noenhanced notitle" % (lo * 1.05))
    body.append("plot " + ", \\\n     ".join(elems))
    return gp.render("\n".join(body), out_base, height=_bar_height(n), keep_script=keep_script)
