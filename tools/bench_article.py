"""The article's figures beside ours: article, pinned, current.

The article's figures (workloads/article.tsv) are peak memory read from its
charts, in "MB". For each of them the table shows the pinned workload
(NAME@2023: the versions the article ran) and the current one (NAME), as
the median peak RSS of their runs with its range, and the ratio pinned /
article under both readings of "MB": 10^6 bytes and 2^20 bytes (MiB). The
article's figures are RSS (its text never mentions kernel memory), so RSS is
what is compared, not the peak total.

article.tsv (workloads/): tab-separated, '#' comments, a header naming a
runtime column (the workload's name without @2023), n, article_value, and
optionally unit (MB only), article_version and kind ("chart": read off its
charts; "text": stated in its text, approximate).
"""
import math

import bench_stats

MB = 1000000.0
MIB = 1048576.0
# The article's figures count as reproduced within this share.
TARGET = 0.05
PINNED_SUFFIX = "@2023"


class ArticleError(Exception):
    pass


def load(path):
    """[(runtime, n, value_mb, version, kind)] in file order."""
    try:
        with open(path) as f:
            lines = [ln.rstrip("\n") for ln in f]
    except OSError as e:
        raise ArticleError("cannot read %s: %s" % (path, e.strerror))
    lines = [ln for ln in lines if ln.strip() and not ln.lstrip().startswith("#")]
    if not lines:
        raise ArticleError("%s: no rows" % path)
    header = [h.strip().lower() for h in lines[0].split("\t")]
    missing = [h for h in ("runtime", "n", "article_value") if h not in header]
    if missing:
        raise ArticleError("%s: header %r lacks %s" % (path, lines[0], ", ".join(missing)))
    col = {h: i for i, h in enumerate(header)}
    out = []
    for k, ln in enumerate(lines[1:], 2):
        f = [x.strip() for x in ln.split("\t")]

        def get(h):
            return f[col[h]] if h in col and col[h] < len(f) else ""
        try:
            row = (get("runtime"), int(get("n").replace(",", "").replace("_", "")),
                   float(get("article_value").replace(",", "")), get("article_version"), get("kind") or "chart")
        except ValueError:
            raise ArticleError("%s: line %d: %r" % (path, k, ln))
        if get("unit") not in ("", "MB"):
            raise ArticleError("%s: line %d: unit %r (only the article's MB)" % (path, k, get("unit")))
        out.append(row)
    return out


def _ratios(c, article_mb):
    """pinned / article with article read as MB and as MiB: two (v, lo, hi)."""
    med, lo, hi = c.stat("peak_user_bytes")
    return (tuple(x / (article_mb * MB) for x in (med, lo, hi)),
            tuple(x / (article_mb * MIB) for x in (med, lo, hi)))


def likely_unit(rows, figures, min_n=100000):
    """Which reading of the article's "MB" its pinned rows at N >= min_n
    match better: ('MiB' or 'MB', mean |ln ratio| as MB, as MiB, count)."""
    err = {"MB": [], "MiB": []}
    for name, n, mb, _, kind in figures:
        if n < min_n or kind != "chart":
            continue
        c = bench_stats.cell(rows, name + PINNED_SUFFIX, n)
        if not c:
            continue
        as_mb, as_mib = _ratios(c, mb)
        err["MB"].append(abs(math.log(as_mb[0])))
        err["MiB"].append(abs(math.log(as_mib[0])))
    if not err["MB"]:
        return None
    e_mb = sum(err["MB"]) / len(err["MB"])
    e_mib = sum(err["MiB"]) / len(err["MiB"])
    return ("MiB" if e_mib < e_mb else "MB"), e_mb, e_mib, len(err["MB"])


def _cell_text(c):
    if not c:
        return "-", "-"
    med, lo, hi = c.stat("peak_user_bytes")
    return (bench_stats.fmt_range(med / MIB, lo / MIB, hi / MIB),
            bench_stats.fmt_range(med / MB, lo / MB, hi / MB))


def table(rows, figures, sizes, versions):
    """Markdown lines of the article / pinned / current table, and a line
    saying which "MB" the article most likely used."""
    L = ["| runtime | N | article \"MB\" (its version) | pinned MiB (version) | pinned MB | "
         "current MiB (version) | current MB | pinned / article, MB = 10^6 B | pinned / article, MB = MiB |",
         "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    unit = likely_unit(rows, figures)
    for name, n, mb, aver, kind in figures:
        if n not in sizes:
            continue
        pinned = bench_stats.cell(rows, name + PINNED_SUFFIX, n)
        current = bench_stats.cell(rows, name, n)
        p_mib, p_mb = _cell_text(pinned)
        c_mib, c_mb = _cell_text(current)
        r_mb = r_mib = "-"
        if pinned:
            as_mb, as_mib = _ratios(pinned, mb)
            r_mb, r_mib = bench_stats.fmt_ratio(as_mb), bench_stats.fmt_ratio(as_mib)
            if unit:
                best = as_mib if unit[0] == "MiB" else as_mb
                mark = " ✓" if abs(best[0] - 1) <= TARGET else " ✗"
                if unit[0] == "MiB":
                    r_mib += mark
                else:
                    r_mb += mark
        pv = versions.get(name + PINNED_SUFFIX, "")
        cv = versions.get(name, "")
        art = ("~" if kind != "chart" else "") + "{:,.2f}".format(mb).rstrip("0").rstrip(".")
        L.append("| %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
            name, "{:,}".format(n), art + (" (%s)" % aver if aver else ""),
            p_mib + (" (%s)" % pv if pv and p_mib != "-" else ""), p_mb,
            c_mib + (" (%s)" % cv if cv and c_mib != "-" else ""), c_mb, r_mb, r_mib))
    note = []
    if any(kind != "chart" for _, _, _, _, kind in figures):
        note.append("~: a figure stated in the article's text, approximate (\"almost 250 MB\").")
    if unit:
        note.insert(0, "Pinned rows at N ≥ 100,000 (%d): mean |ln(pinned / article)| is %.3f reading the "
                    "article's MB as 10^6 bytes and %.3f reading it as MiB, so the article most likely "
                    "used **%s** (✓: within %d%% in that reading, ✗: not)." % (
                        unit[3], unit[1], unit[2], "MiB (2^20 bytes)" if unit[0] == "MiB" else "MB (10^6 bytes)",
                        100 * TARGET))
    else:
        note.insert(0, "No pinned workload ran at N ≥ 100,000: the article's unit is not decided here.")
    return L, note
