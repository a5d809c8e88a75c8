"""Data out: the time-series CSV, JSON against the text report, summary CSV, repeated runs."""
import csv
import json
import os
import re
import statistics
import subprocess

from common import KIB, check, fixture_values, no_loss, one_line_error, test


def read_csv(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


@test
def time_series_csv(c):
    """100 MiB / 50 MiB fixture: times increase, the marked peak is the report's, last row is final."""
    path = c.path("ts.csv")
    p, r = c.run(["--csv", path, "--interval", "5"], [c.fx("alloc_free"), "100", "50"])
    check(p.returncode == 0, "exit %d: %s" % (p.returncode, p.stderr))
    rows = read_csv(path)
    check(len(rows) >= 4, "only %d rows" % len(rows))
    times = [float(x["t_ms"]) for x in rows]
    check(all(b > a for a, b in zip(times, times[1:])), "times not strictly increasing: %s" % times)
    peaks = [x for x in rows if x["is_rss_peak"] == "1"]
    check(len(peaks) == 1, "%d rows marked as the RSS peak" % len(peaks))
    check(int(peaks[0]["rss_bytes"]) == r["peak_rss"]["bytes"], "peak row %s vs report %d" % (
        peaks[0]["rss_bytes"], r["peak_rss"]["bytes"]))
    check(abs(float(peaks[0]["t_ms"]) - r["peak_rss"]["t_ms"]) < 0.002, "peak time")
    check(max(int(x["rss_bytes"]) for x in rows) == r["peak_rss"]["bytes"], "a row above the peak")
    totals = [x for x in rows if x["is_total_peak"] == "1"]
    check(len(totals) == 1 and int(totals[0]["total_bytes"]) == r["peak_total"]["bytes"], "total peak row")
    at = r["peak_total"]["at_peak"]
    for key in ("rss_bytes", "anon_bytes", "file_bytes", "shmem_bytes", "swap_bytes", "kernel_bytes",
                "pgtables_bytes", "kstack_bytes", "threads"):
        check(int(totals[0][key]) == at[key], "total peak row %s %s, JSON %s" % (key, totals[0][key], at[key]))
    check(totals[0]["processes"] == "1" and totals[0]["page_faults"] == "", "total peak row %s" % totals[0])
    last = rows[-1]
    check(int(last["rss_bytes"]) == r["final"]["rss_bytes"] and int(last["processes"]) == 0,
          "last row %s vs final %s" % (last, r["final"]))
    check(int(last["page_faults"]) == r["page_faults"], "last row faults %s vs %d" % (
        last["page_faults"], r["page_faults"]))
    v = fixture_values(p.stdout)
    check(abs(int(peaks[0]["rss_bytes"]) - v["vmrss_at_peak_kib"] * KIB) <= 16 * KIB, "peak vs VmRSS")

    # An existing file is replaced, not appended to.
    p, r = c.run(["--csv", path], ["true"])
    check(read_csv(path)[0]["run"] == "1" and len(read_csv(path)) < len(rows) + 2, "not replaced")
    no_loss(r)


def text_value(text, label):
    m = re.search(r"^  %s\s+(.*)$" % re.escape(label), text, re.M)
    check(m, "no '%s' line in the report" % label)
    return m.group(1)


@test
def json_matches_text_report(c):
    p, r = c.run([], [c.fx("tree_hold"), "3", "16"])
    check(p.returncode == 0, "exit %d: %s" % (p.returncode, p.stderr))
    t = p.stderr
    json.dumps(r)  # it parsed, and is plain data
    m = re.match(r".*\((\d+) bytes\) at ([\d.]+) ms", text_value(t, "Peak RSS (tree):"))
    check(int(m.group(1)) == r["peak_rss"]["bytes"], "peak bytes text %s json %d" % (m.group(1), r["peak_rss"]["bytes"]))
    check(abs(float(m.group(2)) - r["peak_rss"]["t_ms"]) < 0.1, "peak time")
    m = re.match(r".*\((\d+) bytes\) at ([\d.]+) ms", text_value(t, "Peak total (RSS + kernel):"))
    check(int(m.group(1)) == r["peak_total"]["bytes"], "total")
    m = re.match(r".*\((\d+) bytes\) at ([\d.]+) ms", text_value(t, "Peak kernel memory:"))
    check(int(m.group(1)) == r["peak_kernel"]["bytes"], "kernel")
    m = re.match(r"(\d+) total, (\d+) peak concurrent, (\d+) still running", text_value(t, "Processes:"))
    check(tuple(map(int, m.groups())) == (r["processes"]["total"], r["processes"]["peak_concurrent"],
                                          r["processes"]["still_running"]), "processes")
    m = re.match(r"(\d+) total, (\d+) peak concurrent, (\d+) exits seen", text_value(t, "Threads:"))
    check(tuple(map(int, m.groups())) == (r["threads"]["total"], r["threads"]["peak_concurrent"],
                                          r["threads"]["exits_seen"]), "threads")
    count = lambda text: int(text.replace(",", ""))  # digits are grouped by thousands
    check(count(text_value(t, "Page faults:")) == r["page_faults"], "faults")
    m = re.match(r"([\d,]+) applied, ([\d,]+) lost", text_value(t, "Events:"))
    check((count(m.group(1)), count(m.group(2))) == (r["events"]["applied"], r["events"]["lost"]), "events")
    check(int(text_value(t, "Exit status:")) == r["exit"]["status"], "exit status")
    check(r["schema"] == "memtrace-report/1" and r["run"] == 1, "schema")
    for proc in r["per_process"]:
        check(re.search(r"^\s+%d\s+%d\s" % (proc["pid"], proc["ppid"]), t, re.M), "pid %d not in text" % proc["pid"])


@test
def repeated_runs_statistics(c):
    """--runs 3 --warmup 1: three summary rows, statistics as computed here."""
    summary = c.path("summary.csv")
    if os.path.exists(summary):
        os.unlink(summary)
    ts = c.path("runs.csv")
    p, r = c.run(["--runs", "3", "--warmup", "1", "--summary-csv", summary, "--csv", ts],
                 [c.fx("alloc_free"), "40", "10"])
    check(p.returncode == 0, "exit %d: %s" % (p.returncode, p.stderr))
    check(r["schema"] == "memtrace-runs/1" and len(r["runs"]) == 3, "runs json")
    rows = read_csv(summary)
    check([x["run"] for x in rows] == ["1", "2", "3"], "summary rows %s" % [x["run"] for x in rows])
    peaks = [int(x["peak_rss_bytes"]) for x in rows]
    check(peaks == [run["peak_rss"]["bytes"] for run in r["runs"]], "summary vs json peaks")
    st = r["statistics"]["peak_rss_bytes"]
    check(st["n"] == 3 and st["min"] == min(peaks) and st["max"] == max(peaks), "min/max %s" % st)
    check(abs(st["median"] - statistics.median(peaks)) < 1, "median %s vs %s" % (st["median"], statistics.median(peaks)))
    check(abs(st["mean"] - statistics.mean(peaks)) < 1, "mean")
    check(abs(st["stddev"] - statistics.stdev(peaks)) < 1, "stddev %s vs %s" % (st["stddev"], statistics.stdev(peaks)))
    walls = [float(x["wall_s"]) for x in rows]
    check(abs(r["statistics"]["wall_s"]["median"] - statistics.median(walls)) < 1e-5, "wall median")
    check(all(p >= 40 * 1024 * 1024 for p in peaks), "peaks below 40 MiB: %s" % peaks)
    check(sorted({x["run"] for x in read_csv(ts)}) == ["1", "2", "3"], "time series runs")
    check("Over 3 runs:" in p.stderr, "no statistics in the text report")

    # Appending: one more run, no second header.
    p, _ = c.run(["--summary-csv", summary], ["true"])
    with open(summary) as f:
        lines = f.read().splitlines()
    check(len(lines) == 5 and sum(1 for x in lines if x.startswith("run,")) == 1, "append: %s" % lines)


@test
def export_bad_input(c):
    run = c.bare
    marker = c.path("ran")
    for opt in ("--csv", "--summary-csv", "--tasks-csv", "--json", "-o"):
        one_line_error(run(opt, "/no/such/dir/f", "--", "touch", marker), 125, r"cannot write '/no/such/dir/f")
        check(not os.path.exists(marker), "%s: the command ran" % opt)
    one_line_error(run("--interval", "0", "--", "true"), 64, r"bad interval '0'")
    one_line_error(run("--interval", "10ms", "--", "true"), 64, r"bad interval '10ms'")
    one_line_error(run("--interval", "3600001", "--", "true"), 64, r"bad interval '3600001'")
    check(run("--interval", "3600000", "--", "true").returncode == 0, "--interval 3600000 refused")
    one_line_error(run("--runs", "0", "--", "true"), 64, r"bad number '0' for --runs")
    one_line_error(run("--warmup", "x", "--", "true"), 64, r"bad number 'x' for --warmup")
    one_line_error(run("--runs", "2", "-p", "1"), 64, r"--runs and --warmup repeat a command")


@test
def install_and_man_page(c):
    """make install honours PREFIX and DESTDIR; the man page covers every option --help lists."""
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    dest = c.path("destdir")
    p = subprocess.run(["make", "-C", root, "install", "PREFIX=/opt/mt", "DESTDIR=" + dest],
                       capture_output=True, text=True, timeout=600)
    check(p.returncode == 0, "make install: %s" % p.stderr)
    binary = os.path.join(dest, "opt/mt/bin/memtrace")
    man = os.path.join(dest, "opt/mt/share/man/man1/memtrace.1")
    check(os.access(binary, os.X_OK) and os.path.getsize(man) > 0, "installed files missing")
    helptext = subprocess.run([binary, "--help"], capture_output=True, text=True).stdout
    with open(man) as f:
        page = f.read().replace("\\-", "-")
    for opt in sorted(set(re.findall(r"--([a-z][a-z-]+)", helptext))):
        check("--" + opt in page, "option --%s is not in the man page" % opt)
    for code in ("64", "122", "125", "126", "127"):
        check(".B %s" % code in page, "exit status %s not in the man page" % code)


@test
def tests_readme_names_real_tests(c):
    """tests/README.md's feature -> test table names only tests that exist, every
    test appears in it, and no row says UNTESTED."""
    import common
    path = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "README.md")
    with open(path) as f:
        text = f.read()
    names = {fn.__name__ for fn in common.TESTS}
    # Backticked words of the project README are options, fields and columns, not tests.
    with open(os.path.join(os.path.dirname(path), "..", "README.md")) as f:
        fields = set(re.findall(r"`([^`\n]+)`", re.sub(r"```.*?```", "", f.read(), flags=re.S)))
    cited = {n for n in re.findall(r"`([a-z][a-z0-9_]+)`", text) if "_" in n and n not in fields}
    unknown = {n for n in cited if n not in names and not n.startswith(("test_", "workload_"))}
    check(not unknown, "README names no such tests: %s" % sorted(unknown))
    missing = {n for n in names if n not in text and not n.startswith("workload_")}
    check(not missing, "tests not in the README's table: %s" % sorted(missing))
    check("UNTESTED" not in text, "an UNTESTED row")
