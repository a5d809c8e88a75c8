"""Data out: the time-series CSV, JSON against the text report, summary CSV, repeated runs."""
import csv
import json
import os
import re
import statistics
import subprocess

from common import KIB, check, exclusive, fixture_values, no_loss, one_line_error, serial, test


def read_csv(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


@test
@serial("4 rows at a 5 ms interval in a 0.1 s run: the poll's wake-up is late on busy CPUs")
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
    m = re.match(r".*\((\d+) bytes\) at ([\d.]+) ms", text_value(t, "Peak total:"))
    check(int(m.group(1)) == r["peak_total"]["bytes"], "total")
    m = re.match(r".*\((\d+) bytes\) at ([\d.]+) ms", text_value(t, "Peak kernel memory:"))
    check(int(m.group(1)) == r["peak_kernel"]["bytes"], "kernel")
    m = re.match(r"(\d+) total, at most (\d+) at once, (\d+) still running", text_value(t, "Processes:"))
    check(tuple(map(int, m.groups())) == (r["processes"]["total"], r["processes"]["peak_concurrent"],
                                          r["processes"]["still_running"]), "processes")
    m = re.match(r"(\d+) total, at most (\d+) at once, (\d+) exits seen", text_value(t, "Threads:"))
    check(tuple(map(int, m.groups())) == (r["threads"]["total"], r["threads"]["peak_concurrent"],
                                          r["threads"]["exits_seen"]), "threads")
    count = lambda text: int(text.replace(",", ""))  # digits are grouped by thousands
    check(count(text_value(t, "Page faults:")) == r["page_faults"], "faults")
    m = re.match(r"([\d,]+) applied, ([\d,]+) lost", text_value(t, "Events:"))
    check((count(m.group(1)), count(m.group(2))) == (r["events"]["applied"], r["events"]["lost"]), "events")
    check(int(text_value(t, "Exit status:")) == r["exit"]["status"], "exit status")
    check(r["schema"] == "memtrace-report/1" and r["run"] == 1, "schema")
    for proc in r["per_process"]:
        check(re.search(r"^\s+%d\s" % proc["pid"], t, re.M), "pid %d not in text" % proc["pid"])
    # The headline: one line, the same figures.
    m = re.match(r"memtrace: peak RSS (.+), peak total (.+), wall ([\d.]+) s, (\d+) process(es)?$", t.splitlines()[0])
    check(m and int(m.group(4)) == r["processes"]["total"], "headline %r" % t.splitlines()[0])
    check(abs(float(m.group(3)) - r["wall_s"]) < 0.001, "headline wall %s vs %s" % (m.group(3), r["wall_s"]))


@test
def report_fits_80_columns(c):
    """The default report fits a terminal of 80 columns; -v adds PPID and the peak's time per process."""
    long_script = "echo one\n" + "true " * 40 + "\necho three"
    p, r = c.run([], ["sh", "-c", "%s; %s" % (long_script, c.fx("tree_hold") + " 3 8")])
    check(p.returncode == 0, "exit %d: %s" % (p.returncode, p.stderr))
    wide = [x for x in p.stderr.splitlines() if len(x) > 80]
    check(not wide, "lines over 80 columns: %s" % wide)
    cmd = [x for x in p.stderr.splitlines() if x.startswith("  Command:")]
    check(len(cmd) == 1 and "\\n" in cmd[0] and cmd[0].endswith("..."), "command line %r" % cmd)
    check(r["command"][2] == "%s; %s" % (long_script, c.fx("tree_hold") + " 3 8"), "JSON keeps the whole script")
    p, r = c.run(["-v"], [c.fx("tree_hold"), "3", "8"])
    for proc in r["per_process"]:
        check(re.search(r"^\s+%d\s+%d\s" % (proc["pid"], proc["ppid"]), p.stderr, re.M),
              "-v: pid %d ppid %d not in text" % (proc["pid"], proc["ppid"]))


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
    one_line_error(run("--interval", "10parsecs", "--", "true"), 64, r"bad interval '10parsecs'")
    one_line_error(run("--interval", "3600001", "--", "true"), 64, r"bad interval '3600001'")
    check(run("--interval", "3600000", "--", "true").returncode == 0, "--interval 3600000 refused")
    one_line_error(run("--runs", "0", "--", "true"), 64, r"bad number '0' for --runs")
    one_line_error(run("--warmup", "x", "--", "true"), 64, r"bad number 'x' for --warmup")
    one_line_error(run("--runs", "2", "-p", "1"), 64, r"--runs and --warmup repeat a command")


@test
@exclusive("make-install")  # each writes build/memtrace-plot for its PREFIX, then installs it
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
@exclusive("make-install")  # each writes build/memtrace-plot for its PREFIX, then installs it
def install_gives_plot_tool_and_completion(c):
    """make install also installs memtrace-plot (it draws a --csv file) and bash completion of every option."""
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    prefix = c.path("prefix")
    p = subprocess.run(["make", "-C", root, "install", "PREFIX=" + prefix], capture_output=True, text=True,
                       timeout=600)
    check(p.returncode == 0, "make install: %s" % p.stderr)
    csv_path = c.path("plot.csv")
    p, _ = c.run(["--csv", csv_path, "--interval", "5ms"], [c.fx("alloc_free"), "30", "10"])
    out = c.path("plot")
    p = subprocess.run([os.path.join(prefix, "bin/memtrace-plot"), csv_path, "-o", out], capture_output=True,
                       text=True, timeout=120)
    check(p.returncode == 0 and os.path.getsize(out + ".png") > 1000, "memtrace-plot: %s" % p.stderr)
    with open(out + ".png", "rb") as f:
        check(f.read(8) == b"\x89PNG\r\n\x1a\n", "not a PNG")

    completion = os.path.join(prefix, "share/bash-completion/completions/memtrace")
    script = r"""
source /usr/share/bash-completion/bash_completion
source "$1"
t() { COMP_WORDS=("$@"); COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}
      COMPREPLY=(); _memtrace; echo "${COMPREPLY[*]}"; }
t memtrace -
t memtrace --ringbuf-size ''
t memtrace -o x ls --colo
"""
    p = subprocess.run(["bash", "-c", script, "bash", completion], capture_output=True, text=True, timeout=60)
    check(p.returncode == 0, "completion: %s" % p.stderr)
    options, sizes, after = p.stdout.splitlines()
    helptext = c.bare("--help").stdout
    listed = re.findall(r"^\s+(?:(-\w), )?(--[a-z][a-z-]+)", helptext, re.M)
    for opt in sorted({x for pair in listed for x in pair if x}):
        check(opt in options.split(), "completion lacks %s" % opt)
    check("8M" in sizes.split(), "sizes: %r" % sizes)
    check("--color" in after.split(), "the command's own options: %r" % after)


@test
def csv_rows_are_written_live(c):
    """tail -f follows a run: rows are in the file while the command still runs; one peak marked at the end."""
    import time
    path = c.path("live.csv")
    mt = subprocess.Popen([c.memtrace, "-q", "--csv", path, "--interval", "20ms", "--",
                           "sh", "-c", '"$0" 30 10; read x; exit 0', c.fx("alloc_free")],
                          stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        seen = []
        deadline = time.monotonic() + 20
        while len(seen) < 5 and time.monotonic() < deadline and mt.poll() is None:
            time.sleep(0.05)
            seen = read_csv(path) if os.path.exists(path) else []
        running = mt.poll() is None
        out, err = mt.communicate(timeout=60)
    finally:
        mt.kill()
    check(running and len(seen) >= 5, "only %d rows while the command ran (running %s)" % (len(seen), running))
    rows = read_csv(path)
    check(mt.returncode == 0 and len(rows) > len(seen), "exit %d, %d rows" % (mt.returncode, len(rows)))
    key = lambda x: (x["t_ms"], x["rss_bytes"])  # a peak row's 0/1 mark may be taken back
    check([key(x) for x in rows[:len(seen) - 1]] == [key(x) for x in seen[:-1]], "rows written live were changed")
    times = [float(x["t_ms"]) for x in rows]
    check(all(b > a for a, b in zip(times, times[1:])), "times not strictly increasing")
    check(sum(x["is_rss_peak"] == "1" for x in rows) == 1, "not exactly one RSS peak row")
    check(sum(x["is_total_peak"] == "1" for x in rows) == 1, "not exactly one total peak row")


@test
def format_gives_one_line(c):
    """--format, as time -f: only that line, every figure as the JSON has it; a bad one refused."""
    fmt = r"%R|%M|%T|%K|%e|%U|%S|%x|%P|%H|%F|%L|%C\t%%"
    p, r = c.run(["--format", fmt], [c.fx("tree_hold"), "3", "8"])
    check(p.returncode == 0, "exit %d: %s" % (p.returncode, p.stderr))
    check(p.stderr.count("\n") == 1, "more than the one line: %r" % p.stderr)
    f = p.stderr.rstrip("\n").split("|")
    want = [r["peak_rss"]["bytes"], r["peak_rss"]["bytes"] // 1024, r["peak_total"]["bytes"],
            r["peak_kernel"]["bytes"]]
    check([int(x) for x in f[:4]] == want, "sizes %s vs %s" % (f[:4], want))
    check(abs(float(f[4]) - r["wall_s"]) < 0.001 and abs(float(f[5]) - r["user_s"]) < 0.001
          and abs(float(f[6]) - r["sys_s"]) < 0.001, "times %s" % f[4:7])
    check([int(x) for x in f[7:12]] == [0, r["processes"]["total"], r["threads"]["total"], r["page_faults"],
                                         r["events"]["lost"]], "counts %s" % f[7:12])
    check(f[12] == "%s 3 8\t%%" % c.fx("tree_hold"), "command %r" % f[12])
    p, r = c.run(["--format", "%x %e"], ["sh", "-c", "kill -9 $$"])
    check(p.returncode == 137 and p.stderr.split()[0] == "137", "killed: %r" % p.stderr)
    one_line_error(c.bare("--format", "%Q", "true"), 64, r"bad format '%Q' for --format: unknown '%Q'")


@test
def compare_commands(c):
    """-c A -c B --runs 2: a table of medians, min and max, and B's peak total as a multiple of A's."""
    a = "%s 40 1" % c.fx("alloc_free")
    b = "%s 80 1" % c.fx("alloc_free")
    p, r = c.run(["-c", a, "-c", b, "--runs", "2"])
    check(p.returncode == 0, "exit %d: %s" % (p.returncode, p.stderr))
    check(r["schema"] == "memtrace-compare/1" and [x["command"] for x in r["commands"]] == [a, b], "commands")
    highs = [v for k, v in re.findall(r"^(\w+)=(\d+)$", p.stdout, re.M) if k == "vmrss_at_peak_kib"]
    check(len(highs) == 4, "the fixture ran %d times, want 2 each" % len(highs))
    means = []
    for i, cmd in enumerate(r["commands"]):
        check(len(cmd["runs"]) == 2 and all(x["command"] == ["sh", "-c", cmd["command"]] for x in cmd["runs"]),
              "runs of %s" % cmd["command"])
        peaks = [x["peak_rss"]["bytes"] for x in cmd["runs"]]
        for peak, high in zip(peaks, highs[2 * i:2 * i + 2]):
            check(peak >= int(high) * KIB, "peak %d below the fixture's own VmRSS %s KiB" % (peak, high))
        st = cmd["statistics"]["peak_rss_bytes"]
        check(st["median"] == statistics.median(peaks) and st["min"] == min(peaks), "statistics %s" % st)
        totals = [x["peak_total"]["bytes"] for x in cmd["runs"]]
        means.append((statistics.mean(totals), statistics.stdev(totals)))
    ratio = means[1][0] / means[0][0]
    err = ratio * ((means[0][1] / means[0][0]) ** 2 + (means[1][1] / means[1][0]) ** 2) ** 0.5
    got = r["peak_total_ratios"]
    check(r["least_memory"] == 0 and got[0] == {"ratio": 1, "stddev": 0}, "reference %s" % got)
    check(abs(got[1]["ratio"] - ratio) < 1e-5 and abs(got[1]["stddev"] - err) < 1e-5, "ratio %s vs %s" % (got, ratio))
    line = "  B needs %.2f \u00b1 %.2f \u00d7 the memory of A" % (ratio, err)
    check(line in p.stderr.splitlines(), "no line %r in %s" % (line, p.stderr))
    check(1.6 < ratio < 2.1, "80 MiB against 40 MiB gave %.2f" % ratio)
    check("A needs the least memory" in p.stderr, p.stderr)
    one_line_error(c.bare("-c", "true", "--", "true"), 64, r"-c compares commands of its own")
    one_line_error(c.bare("-c", "true", "--csv", "x.csv"), 64, r"-c reports a comparison")
    p = c.bare("-c", "true", "-c", "exit 3", "--runs", "1")
    check(p.returncode == 3 and "B needs" in p.stderr, "a failing command: exit %d %s" % (p.returncode, p.stderr))


@test
def readme_names_only_files_in_the_repository(c):
    """Every file the README points to is in the repository (DESIGN.md once was not)."""
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    with open(os.path.join(root, "README.md")) as f:
        text = f.read()
    lines = text.splitlines()
    check(lines[2].split()[:2] == ["make", "bench"] and lines[3].split()[:2] == ["make", "test"],
          "the README does not open with make bench and make test")
    named = set(re.findall(r"[\w./-]*[A-Za-z][\w./-]*\.(?:md|py|c|h|1|bash|sh|csv|png|json)\b", text))
    named |= set(re.findall(r"`((?:docs|tools|tests|user|bpf|workloads|completion|vmlinux)/[\w./-]*)`", text))
    # Files a run writes, and paths on the machine, not in the repository.
    made = re.compile(r"^(/|results/|results\.md|mem\.|run\.|runs\.|report\.|x\.py|a\.(py|js)|job\.py|summary\.csv)")
    missing = sorted(n for n in named if not made.match(n) and "*" not in n and "<" not in n
                     and not os.path.exists(os.path.join(root, n)))
    check(not missing, "the README names files that are not in the repository: %s" % missing)


@test
def each_process_has_its_command_line(c):
    """Seven children of one program told apart: -v and the JSON give each its full command line."""
    script = "for i in 1 2 3 4 5 6 7; do sleep 0.$i & done; wait"
    p, r = c.run(["-v"], ["sh", "-c", script])
    check(p.returncode == 0, "exit %d: %s" % (p.returncode, p.stderr))
    kids = [x for x in r["per_process"] if x["comm"] == "sleep"]
    want = sorted("sleep 0.%d" % i for i in range(1, 8))
    check(sorted(x["cmdline"] for x in kids) == want, "cmdlines %s" % [x["cmdline"] for x in kids])
    for x in kids:
        check(re.search(r"^\s+%d\s+%d\s.*\s%s$" % (x["pid"], x["ppid"], re.escape(x["cmdline"])), p.stderr, re.M),
              "-v row of %d lacks %r" % (x["pid"], x["cmdline"]))
    sh = [x for x in r["per_process"] if x["comm"] == "sh"]
    check(sh and sh[0]["cmdline"] == "sh -c " + script, "sh: %s" % sh)


@test
def tests_readme_names_real_tests(c):
    """tests/README.md's feature -> test table names only tests that exist, every
    test appears in it, no row says UNTESTED, and its table of serial tests is
    the tests marked @serial."""
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
    # The table of serial tests names each test marked @serial, and no other.
    section = text.split("**Serial**", 1)[-1].split("**Exclusive**", 1)[0]
    listed = {n for row in re.findall(r"^\| (.*?) \|", section, re.M) for n in re.findall(r"`(\w+)`", row)}
    marked = {fn.__name__ for fn in common.TESTS if getattr(fn, "serial", None)}
    check(listed == marked, "serial in the README but not marked: %s; marked but not in it: %s"
          % (sorted(listed - marked), sorted(marked - listed)))
