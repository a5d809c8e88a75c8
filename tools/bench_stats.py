"""The benchmark's statistics: per cell (runtime, N) the median of its runs,
their range and whether the spread is large; bytes per task and ratios with
the range the runs allow; rankings that those ranges support.

Pure functions of summary.csv rows (dicts of strings, as bench.py writes
them), so tests can feed them synthetic rows.

A range is [min, max] of the runs, not a confidence interval: with 3 runs a
95% interval of the median would be wider than the data. Quantities derived
from two cells (bytes per task, ratios) take the widest range their runs
allow: the lower end from the most favourable pair of extremes, the upper end
from the least (interval arithmetic), so no run of either cell falls outside.
"""
import math
import statistics

# A cell whose runs spread over more than this share of its median is
# flagged: its figure depends on which run is taken.
SPREAD_FLAG = 0.05


def as_int(v):
    try:
        return int(v)
    except (TypeError, ValueError):
        return None


class Cell:
    """The ok runs of one (runtime, N): median, min and max of a metric.

    values(key) reads the column key of every run; the user/kernel split of
    the median is taken from the median run (the lower median for an even
    count), whose parts add up to its total."""

    def __init__(self, name, n, runs):
        self.name = name
        self.n = n
        self.runs = sorted(runs, key=lambda r: int(r["peak_total_bytes"]))
        self.count = len(self.runs)

    def __bool__(self):
        return self.count > 0

    def values(self, key):
        out = []
        for r in self.runs:
            v = r.get(key, "")
            try:
                out.append(float(v))
            except (TypeError, ValueError):
                pass
        return out

    def stat(self, key="peak_total_bytes"):
        """(median, min, max) of key over the runs; None without runs."""
        v = self.values(key)
        if not v:
            return None
        return statistics.median(v), min(v), max(v)

    def median(self, key="peak_total_bytes"):
        s = self.stat(key)
        return s[0] if s else None

    def spread(self, key="peak_total_bytes"):
        """(max - min) / median, 0 for one run."""
        s = self.stat(key)
        if not s or s[0] <= 0:
            return 0.0
        return (s[2] - s[1]) / s[0]

    def flagged(self, key="peak_total_bytes"):
        return self.count > 1 and self.spread(key) > SPREAD_FLAG

    def median_run(self):
        return self.runs[(self.count - 1) // 2] if self.runs else None


def ok_rows(rows, name, n):
    return [r for r in rows if r["runtime"] == name and int(r["n"]) == n and r["status"] == "ok"]


def cell(rows, name, n):
    return Cell(name, n, ok_rows(rows, name, n))


def all_alive(row):
    """Whether a run had its N tasks alive at once. Only thread-per-task runs
    can tell (one thread per task); a slow thread start lets the first tasks
    end before the last start."""
    if row.get("model") != "thread-per-task":
        return True
    return (as_int(row.get("peak_threads")) or 0) >= int(row["n"])


def cell_all_alive(c):
    """A cell counts as N tasks alive at once when its median run had them."""
    m = c.median_run()
    return m is not None and all_alive(m)


def per_task(rows, name, sizes, key="peak_total_bytes"):
    """Bytes per task from N = 1 to N_max, the largest N whose median run had
    all its tasks alive at once: (value, lo, hi, n_max, reason). value is
    (median at N_max - median at 1) / (N_max - 1); lo and hi come from the
    runs' extremes: (min at N_max - max at 1) and (max at N_max - min at 1).
    Without such an N: (None, None, None, None, reason)."""
    one = cell(rows, name, 1)
    if not one:
        return None, None, None, None, "no N = 1 run"
    o = one.stat(key)
    for n in sorted(sizes, reverse=True):
        if n <= 1:
            continue
        big = cell(rows, name, n)
        if big and cell_all_alive(big):
            b = big.stat(key)
            d = float(n - 1)
            return (b[0] - o[0]) / d, (b[1] - o[2]) / d, (b[2] - o[1]) / d, n, None
    return None, None, None, None, "no run with N > 1 and all tasks alive at once"


def ratio(a, b, key="peak_total_bytes"):
    """Cell a over cell b: (median ratio, lo, hi) with lo = min a / max b and
    hi = max a / min b; None when either has no run or a zero."""
    sa, sb = a.stat(key), b.stat(key)
    if not sa or not sb or sb[1] <= 0 or sb[2] <= 0:
        return None
    return sa[0] / sb[0], sa[1] / sb[2], sa[2] / sb[1]


def ranking(cells, key="peak_total_bytes"):
    """The cells that ran, lightest median first, in groups: the runs support
    an order between two groups only when every run of the lighter ones is
    below every run of the heavier ones, so a cut is made after a cell only
    where the largest max so far is below the smallest min of all that
    follow. Returns a list of lists of cells."""
    ran = sorted((c for c in cells if c), key=lambda c: c.median(key))
    if not ran:
        return []
    stats = [c.stat(key) for c in ran]
    suffix_lo = [0.0] * len(ran)
    lo = float("inf")
    for i in range(len(ran) - 1, -1, -1):
        lo = min(lo, stats[i][1])
        suffix_lo[i] = lo
    groups = [[ran[0]]]
    hi = stats[0][2]
    for i in range(1, len(ran)):
        if hi < suffix_lo[i]:
            groups.append([ran[i]])
        else:
            groups[-1].append(ran[i])
        hi = max(hi, stats[i][2])
    return groups


def ranking_text(groups):
    """'a < b ≈ c < d': '≈' where the ranges overlap."""
    return " < ".join(" ≈ ".join(c.name for c in g) for g in groups)


# ------------------------------------------------------------- formatting

def _sig_step(v, digits):
    """The rounding step that keeps digits significant digits of v."""
    if v == 0:
        return 1.0
    return 10.0 ** (math.floor(math.log10(abs(v))) - digits + 1)


def noise_step(value, lo, hi, digits=3, floor=None):
    """The step to round value and its range to: a power of ten no finer than
    half the range (the noise) and no finer than digits significant digits;
    at least floor when given (1 for whole bytes)."""
    step = _sig_step(value, digits)
    half = (hi - lo) / 2.0
    if half > 0:
        step = max(step, 10.0 ** math.floor(math.log10(half)))
    return max(step, floor) if floor else step


def _round(v, step):
    r = round(v / step) * step
    if step >= 1:
        return "{:,.0f}".format(r)
    places = max(0, -int(math.floor(math.log10(step) + 1e-9)))
    return "{:,.{p}f}".format(r, p=places)


def fmt_range(value, lo, hi, unit="", digits=3, floor=None):
    """'456 (450–462)': value and range rounded to the same noise-limited
    step; just the value when lo == hi (one run)."""
    step = noise_step(value, lo, hi, digits, floor)
    u = " " + unit if unit else ""
    a, b = _round(lo, step), _round(hi, step)
    if a == b:
        return "%s%s" % (_round(value, step), u)
    return "%s%s (%s–%s)" % (_round(value, step), u, a, b)


def fmt_bytes_range(value, lo, hi):
    """Bytes per task with its range, in B below 10 KiB, else KiB."""
    if abs(value) >= 10240:
        return fmt_range(value / 1024.0, lo / 1024.0, hi / 1024.0, "KiB")
    return fmt_range(value, lo, hi, "B", floor=1.0)


def fmt_mib_range(c, key="peak_total_bytes"):
    """A cell as MiB: '264 (183–290)', with the precision of gp.fmt_mib for
    the median and no finer than the noise allows."""
    m, lo, hi = (x / 1048576.0 for x in c.stat(key))
    digits = 3 if m >= 1 else 2
    return fmt_range(m, lo, hi, "", digits=digits)


def fmt_ratio(r):
    """'6.0× (5.8–6.2)'."""
    v, lo, hi = r
    text = fmt_range(v, lo, hi)
    return text.replace(" (", "× (", 1) if " (" in text else text + "×"


def kernel_per_task_text(v, lo, hi):
    """The kernel share of bytes per task, or how small it is when the runs
    cannot tell it from zero (its range reaches 0, or is wider than it)."""
    if v is None:
        return ""
    if hi < 1:
        return "kernel < 1 B"
    if lo <= 0 or v < 1 or (hi - lo) / 2.0 >= v:
        top = math.ceil(hi)
        return "kernel ≤ %s" % fmt_bytes_range(top, top, top)
    return "kernel " + fmt_bytes_range(v, lo, hi)
