"""Exports to other tools, checked by the tools themselves or their published schemas:
the Perfetto timeline (Chrome Trace Event Format), Prometheus text through a real
node_exporter, pushes through a real Pushgateway that a real Prometheus scrapes,
and the CI benchmark formats (Bencher Metric Format, github-action-benchmark)."""
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request

from common import KIB, MIB, Failure, Skip, check, end_all, no_loss, one_line_error, serial, test
from test_robustness import vmrss_kib, wait_for_line

TREE_PID = 4194304  # the tree's pseudo-process in the timeline, plus the run index


# ---------------------------------------------------------------- servers

def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http_get(url, timeout=5):
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return r.read().decode()


class Server:
    """A Debian server binary on 127.0.0.1, started here, stopped on leaving the block."""

    def __init__(self, c, name, binary, args, ready_path):
        self.binary = shutil.which(binary)
        if not self.binary:
            raise Skip("%s is not installed (tools/deps.sh bench installs it)" % binary)
        self.port = free_port()
        self.url = "http://127.0.0.1:%d" % self.port
        self.args = [a.replace("{port}", str(self.port)) for a in args]
        self.ready = self.url + ready_path
        self.log = c.path(name + ".log")
        self.proc = None

    def __enter__(self):
        with open(self.log, "w") as log:
            self.proc = subprocess.Popen([self.binary] + self.args, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                self.stop()
                raise Failure("%s exited at start: %s" % (self.binary, self.tail()))
            try:
                http_get(self.ready, timeout=1)
                return self
            except (urllib.error.URLError, ConnectionError, OSError):
                time.sleep(0.1)  # polling the readiness endpoint
        self.stop()
        raise Failure("%s never answered %s: %s" % (self.binary, self.ready, self.tail()))

    def __exit__(self, *exc):
        self.stop()
        return False

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def tail(self):
        with open(self.log) as f:
            return f.read()[-400:]


def node_exporter(c, textdir):
    return Server(c, "node-exporter", "prometheus-node-exporter",
                  ["--web.listen-address=127.0.0.1:{port}", "--collector.disable-defaults",
                   "--collector.textfile", "--collector.textfile.directory=" + textdir], "/metrics")


def pushgateway(c):
    return Server(c, "pushgateway", "prometheus-pushgateway",
                  ["--web.listen-address=127.0.0.1:{port}", "--persistence.file="], "/-/ready")


def prometheus(c, scrape_target):
    tsdb = c.path("prometheus-data")
    shutil.rmtree(tsdb, ignore_errors=True)
    config = c.path("prometheus.yml")
    with open(config, "w") as f:
        f.write("global:\n  scrape_interval: 1s\n"
                "scrape_configs:\n  - job_name: pushgateway\n    honor_labels: true\n"
                "    static_configs:\n      - targets: ['%s']\n" % scrape_target)
    return Server(c, "prometheus", "prometheus",
                  ["--config.file=" + config, "--storage.tsdb.path=" + tsdb,
                   "--web.listen-address=127.0.0.1:{port}"], "/-/ready")


# ---------------------------------------------------------------- exposition format

LINE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+\d+)?$')
LABEL = re.compile(r'\s*([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"\s*,?')


def unescape(v):
    return re.sub(r'\\(.)', lambda m: {"n": "\n"}.get(m.group(1), m.group(1)), v)


def parse_metrics(text):
    """[(name, {label: value}, float)] of every sample line; # lines are checked for form."""
    samples = []
    for line in text.splitlines():
        if not line.strip():
            continue
        if line.startswith("#"):
            check(re.match(r"^# (HELP|TYPE) [a-zA-Z_:][a-zA-Z0-9_:]* .+$", line) or
                  not re.match(r"^# (HELP|TYPE)", line), "bad comment line %r" % line)
            continue
        m = LINE.match(line)
        check(m, "not an exposition line: %r" % line)
        labels, rest = {}, m.group(2) or ""
        pos = 0
        while pos < len(rest):
            lm = LABEL.match(rest, pos)
            check(lm, "bad labels in %r" % line)
            labels[lm.group(1)] = unescape(lm.group(2))
            pos = lm.end()
        samples.append((m.group(1), labels, float(m.group(3))))
    return samples


def find(samples, name, **labels):
    got = [(l, v) for n, l, v in samples if n == name and all(l.get(k) == w for k, w in labels.items())]
    check(len(got) == 1, "%d samples of %s%s" % (len(got), name, labels))
    return got[0]


MEMTRACE_GAUGES = ("memtrace_peak_rss_bytes", "memtrace_peak_total_bytes", "memtrace_peak_kernel_bytes",
                   "memtrace_wall_seconds", "memtrace_exit_status", "memtrace_events_lost_total",
                   "memtrace_run_end_timestamp_seconds")


def check_final_metrics(samples, r, cmdline, **labels):
    """Every metric the README lists, with the report's values, and no pid anywhere in the labels."""
    want = {"memtrace_peak_rss_bytes": r["peak_rss"]["bytes"],
            "memtrace_peak_total_bytes": r["peak_total"]["bytes"],
            "memtrace_peak_kernel_bytes": r["peak_kernel"]["bytes"],
            "memtrace_exit_status": r["memtrace_exit_code"],
            "memtrace_events_lost_total": r["events"]["lost"],
            "memtrace_running": 0}
    for name in MEMTRACE_GAUGES + ("memtrace_running",):
        lab, v = find(samples, name, command=cmdline, **labels)
        if name in want:
            check(v == want[name], "%s = %r, report says %r" % (name, v, want[name]))
        for k, val in lab.items():
            check("pid" not in k and not re.fullmatch(r"\d+", val), "a pid as a label: %s=%s" % (k, val))
    _, wall = find(samples, "memtrace_wall_seconds", command=cmdline, **labels)
    check(abs(wall - r["wall_s"]) < 1e-5, "wall %r vs %r" % (wall, r["wall_s"]))
    _, end = find(samples, "memtrace_run_end_timestamp_seconds", command=cmdline, **labels)
    check(abs(end - time.time()) < 120, "end timestamp %r is not now" % end)


# ---------------------------------------------------------------- Perfetto

PH = {"C", "M", "X", "i"}


def trace_events(path):
    with open(path) as f:
        d = json.load(f)
    check(isinstance(d, dict) and isinstance(d.get("traceEvents"), list), "no traceEvents array")
    check(d.get("displayTimeUnit") in ("ms", "ns"), "displayTimeUnit %r" % d.get("displayTimeUnit"))
    for e in d["traceEvents"]:
        check(e.get("ph") in PH, "phase %r" % e)
        check(isinstance(e.get("name"), str) and isinstance(e.get("pid"), int) and isinstance(e.get("tid"), int),
              "name/pid/tid of %r" % e)
        if e["ph"] != "M":
            check(isinstance(e.get("ts"), (int, float)) and e["ts"] >= 0, "ts of %r" % e)
        if e["ph"] == "C":
            check(isinstance(e.get("args"), dict) and e["args"] and
                  all(isinstance(v, int) for v in e["args"].values()), "counter args %r" % e)
        if e["ph"] == "X":
            check(isinstance(e.get("dur"), (int, float)) and e["dur"] >= 0, "dur of %r" % e)
        if e["ph"] == "i":
            check(e.get("s") == "g", "instant scope %r" % e)
        if e["ph"] == "M":
            check(e["name"] in ("process_name", "thread_name", "process_sort_index") and
                  isinstance(e.get("args"), dict), "metadata %r" % e)
    return d["traceEvents"]


def counter_max(events, pid, name):
    vals = [e["args"]["bytes"] for e in events if e["ph"] == "C" and e["pid"] == pid and e["name"] == name]
    check(vals, "no %r counter for pid %d" % (name, pid))
    return max(vals)


@test
@serial("its last event within 250 ms of the command's exit: memtrace's reaping is late on busy CPUs")
def perfetto_timeline(c):
    """Trace Event Format; the tree's counters peak at the report's peaks to the byte; every process named."""
    path = c.path("trace.json")
    p, r = c.run(["--perfetto", path, "--interval", "5"], [c.fx("tree_hold"), "4", "16"])
    check(p.returncode == 0, "exit %d: %s" % (p.returncode, p.stderr))
    ev = trace_events(path)
    tree = TREE_PID + 1
    names = {e["pid"]: e["args"]["name"] for e in ev if e["ph"] == "M" and e["name"] == "process_name"}
    check(names.get(tree, "").startswith("tree: %s" % c.fx("tree_hold")), "tree track name %r" % names.get(tree))
    check(counter_max(ev, tree, "rss") == r["peak_rss"]["bytes"], "tree rss max vs peak")
    check(counter_max(ev, tree, "total") == r["peak_total"]["bytes"], "tree total max vs peak")
    check(counter_max(ev, tree, "kernel") == r["peak_kernel"]["bytes"], "tree kernel max vs peak")
    samples = [e for e in ev if e["ph"] == "C" and e["pid"] == tree and e["name"] == "rss"]
    check(len(samples) >= 4, "only %d tree samples at a 5 ms interval" % len(samples))
    # Timestamps are microseconds since exec: the peak's instant is the report's t_ms.
    peaks = {e["name"]: e for e in ev if e["ph"] == "i"}
    check(set(peaks) == {"peak RSS", "peak total"}, "instants %s" % list(peaks))
    check(abs(peaks["peak RSS"]["ts"] - r["peak_rss"]["t_ms"] * 1000) < 1, "peak ts %r vs %r ms" % (
        peaks["peak RSS"]["ts"], r["peak_rss"]["t_ms"]))
    check(peaks["peak RSS"]["args"]["bytes"] == r["peak_rss"]["bytes"], "instant bytes")
    shares = peaks["peak RSS"]["args"]["processes"]
    check(sum(shares.values()) == r["peak_rss"]["bytes"], "per-process shares %s do not add up" % shares)
    for proc in r["per_process"]:
        pid = proc["pid"]
        check(names.get(pid) == proc["comm"], "pid %d named %r, want %r" % (pid, names.get(pid), proc["comm"]))
        check(counter_max(ev, pid, "rss") == proc["peak"]["rss_bytes"], "pid %d rss max vs its peak" % pid)
        if proc["at_tree_rss_peak"]["rss_bytes"]:
            check(shares.get("%d %s" % (pid, proc["comm"])) == proc["at_tree_rss_peak"]["rss_bytes"],
                  "pid %d share at the peak" % pid)
        sl = [e for e in ev if e["ph"] == "X" and e["pid"] == pid and e["tid"] == pid]
        check(len(sl) == 1, "pid %d has %d lifetime slices" % (pid, len(sl)))
        check(abs(sl[0]["ts"] - proc["start_ms"] * 1000) < 1 and
              abs(sl[0]["ts"] + sl[0]["dur"] - proc["exit_ms"] * 1000) < 1, "pid %d slice %r" % (pid, sl[0]))
    # wall_s ends at the command's own exit; samples go on until memtrace has reaped it and
    # read the final state (one poll, 100 ms, and the collection): no event later than that.
    check(max(e["ts"] + e.get("dur", 0) for e in ev if "ts" in e) <= r["wall_s"] * 1e6 + 250000,
          "an event after the end")
    no_loss(r)


@test
def perfetto_threads_and_runs(c):
    """--tasks: one slice per thread besides the leader; --runs 2: a tree track per run."""
    path = c.path("trace-threads.json")
    p, r = c.run(["--perfetto", path, "--tasks", "--runs", "2"], [c.fx("threads"), "20"])
    check(p.returncode == 0, "exit %d: %s" % (p.returncode, p.stderr))
    ev = trace_events(path)
    for run in r["runs"]:
        tree = TREE_PID + run["run"]
        check(counter_max(ev, tree, "rss") == run["peak_rss"]["bytes"], "run %d tree peak" % run["run"])
        tids = {t["tid"] for t in run["tasks"] if t["tid"] != t["tgid"]}
        check(len(tids) == 20, "run %d: %d threads in the report" % (run["run"], len(tids)))
        slices = {e["tid"] for e in ev if e["ph"] == "X" and e["tid"] in tids}
        check(slices == tids, "run %d: threads without a slice: %s" % (run["run"], tids - slices))
        named = {e["tid"] for e in ev if e["ph"] == "M" and e["name"] == "thread_name"}
        check(tids <= named, "unnamed threads")


# ---------------------------------------------------------------- Prometheus

@test
def prom_textfile_node_exporter(c):
    """--prom read by a real node_exporter's textfile collector, escaped labels, no temp file left."""
    textdir = c.path("textfile")
    os.makedirs(textdir, exist_ok=True)
    prom = os.path.join(textdir, "memtrace.prom")
    note = 'a "quoted" \\ value\nover two lines'
    p, r = c.run(["--prom", prom, "--label", "host=ci-1", "--label", "note=" + note],
                 [c.fx("tree_hold"), "2", "8"])
    check(p.returncode == 0, "exit %d: %s" % (p.returncode, p.stderr))
    check(os.listdir(textdir) == ["memtrace.prom"], "left in the directory: %s" % os.listdir(textdir))
    check(os.stat(prom).st_mode & 0o044 == 0o044, "not readable by node_exporter's user")
    cmdline = "%s 2 8" % c.fx("tree_hold")
    with node_exporter(c, textdir) as ne:
        samples = parse_metrics(http_get(ne.url + "/metrics"))
    check(find(samples, "node_textfile_scrape_error")[1] == 0, "node_exporter could not read the file")
    check_final_metrics(samples, r, cmdline, host="ci-1", note=note)


@test
def prom_rewritten_live_when_attached(c):
    """-p with --prom: node_exporter sees current values while attached, then the final peak."""
    textdir = c.path("textfile-live")
    os.makedirs(textdir, exist_ok=True)
    prom = os.path.join(textdir, "svc.prom")
    if os.path.exists(prom):
        os.unlink(prom)
    fx = subprocess.Popen([c.fx("attach_target"), "40"], stdout=subprocess.PIPE, text=True)
    mt = None
    try:
        with node_exporter(c, textdir) as ne:
            v = wait_for_line(fx, "ready")
            pids = [v["parent"], v["child1"], v["child2"]]
            mt = subprocess.Popen([c.memtrace, "--json", c.path("live.json"), "--prom", prom, "--interval", "20",
                                   "--label", "service=demo", "-p", str(v["parent"])],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            deadline = time.monotonic() + 20
            while not os.path.exists(prom) and time.monotonic() < deadline:
                time.sleep(0.02)  # the file appears, by rename, once attached
            check(os.path.exists(prom), "no live file while attached")
            live = parse_metrics(http_get(ne.url + "/metrics"))
            _, running = find(live, "memtrace_running", service="demo")
            check(running == 1, "running %r while attached" % running)
            _, rss = find(live, "memtrace_rss_bytes", service="demo")
            want = sum(vmrss_kib(p) for p in pids) * KIB
            check(abs(rss - want) <= 3 * 16 * KIB, "live rss %d vs VmRSS sum %d" % (rss, want))
            _, wall1 = find(live, "memtrace_wall_seconds", service="demo")
            deadline = time.monotonic() + 10
            wall2 = wall1
            while wall2 == wall1 and time.monotonic() < deadline:
                time.sleep(0.02)
                wall2 = find(parse_metrics(http_get(ne.url + "/metrics")), "memtrace_wall_seconds",
                             service="demo")[1]
            check(wall2 > wall1, "the file is not rewritten (wall %r, then %r)" % (wall1, wall2))
            fx.send_signal(signal.SIGUSR1)
            v.update(wait_for_line(fx, "sum_vmrss_at_peak_kib"))
            fx.wait(timeout=30)
            out, err = mt.communicate(timeout=30)
            check(mt.returncode == 0, "memtrace exit %d: %s" % (mt.returncode, err))
            final = parse_metrics(http_get(ne.url + "/metrics"))
    finally:
        end_all(fx, mt)
    r = c.load_json("live.json")
    comms = ",".join(["attach_target"])
    check_final_metrics(final, r, comms, service="demo")
    _, peak = find(final, "memtrace_peak_rss_bytes", service="demo")
    check(abs(peak - v["sum_vmrss_at_peak_kib"] * KIB) <= 4 * 16 * KIB and peak >= 40 * MIB,
          "final peak %d vs sum of VmRSS %d KiB" % (peak, v["sum_vmrss_at_peak_kib"]))


@test
def push_gateway_and_prometheus(c):
    """--push to a real Pushgateway, grouped per command; a real Prometheus scrapes it; PromQL returns the peak."""
    with pushgateway(c) as pg:
        with prometheus(c, "127.0.0.1:%d" % pg.port) as pr:
            p, r = c.run(["--push", pg.url, "--label", "host=ci-2"], [c.fx("alloc_free"), "30", "10"])
            check(p.returncode == 0, "exit %d: %s" % (p.returncode, p.stderr))
            p2, r2 = c.run(["--push", pg.url + "/", "--label", "host=ci-2"], ["true"])
            check(p2.returncode == 0, "exit %d: %s" % (p2.returncode, p2.stderr))
            samples = parse_metrics(http_get(pg.url + "/metrics"))
            cmdline = "%s 30 10" % c.fx("alloc_free")
            check_final_metrics(samples, r, cmdline, job="memtrace", host="ci-2")
            check_final_metrics(samples, r2, "true", job="memtrace", host="ci-2")  # its own group
            query = 'memtrace_peak_rss_bytes{job="memtrace",host="ci-2",command="%s"}' % cmdline
            url = pr.url + "/api/v1/query?" + urllib.parse.urlencode({"query": query})
            deadline = time.monotonic() + 30
            result = []
            while not result and time.monotonic() < deadline:
                answer = json.loads(http_get(url))
                check(answer["status"] == "success", "PromQL: %s" % answer)
                result = answer["data"]["result"]
                if not result:
                    time.sleep(0.2)  # until Prometheus has scraped the Pushgateway once
            check(len(result) == 1, "PromQL result %s" % result)
            check(int(result[0]["value"][1]) == r["peak_rss"]["bytes"], "PromQL %s vs report %d" % (
                result[0]["value"], r["peak_rss"]["bytes"]))


@test
def push_and_prom_bad_input(c):
    """Refused or unreachable Pushgateway, URL without scheme, bad labels, unwritable files."""
    run = c.bare
    prom, rep = c.path("kept.prom"), c.path("kept.json")
    for f in (prom, rep):
        if os.path.exists(f):
            os.unlink(f)
    txt = c.path("kept.txt")  # the report, so that stderr holds only the error
    port = free_port()  # nothing listens there
    p = run("--push", "http://127.0.0.1:%d" % port, "--prom", prom, "--json", rep, "-o", txt, "--", "true")
    one_line_error(p, 125, r"^memtrace: cannot push to 'http://127\.0\.0\.1:%d/metrics/job/memtrace/command@base64/dHJ1ZQ==' "
                           r"for --push: .*" % port)
    check(os.path.getsize(prom) > 0 and os.path.getsize(txt) > 0 and json.load(open(rep))["exit"]["status"] == 0,
          "local outputs not written")
    p = run("--push", "http://127.0.0.1:%d" % port, "-o", txt, "--", "sh", "-c", "exit 3")
    check(p.returncode == 3, "the command's status is kept: %d" % p.returncode)
    with pushgateway(c) as pg:
        # A group path with a label name but no value: the Pushgateway answers 400.
        p = run("--push", pg.url + "/metrics/job/memtrace/lonely", "-o", txt, "--", "true")
        one_line_error(p, 125, r"cannot push to '.*/lonely' for --push: HTTP 4\d\d")
    one_line_error(run("--push", "127.0.0.1:9091", "--", "true"), 64, r"^memtrace: bad URL '127\.0\.0\.1:9091' for --push")
    one_line_error(run("--push", "ftp://x/", "--", "true"), 64, r"bad URL 'ftp://x/' for --push")
    one_line_error(run("--push", "http://", "--", "true"), 64, r"bad URL 'http://' for --push: no host")
    for label, why in (("9x=1", "a name is letters"), ("a-b=1", "a name is letters"), ("novalue", "want NAME=VALUE"),
                       ("=v", "want NAME=VALUE"), ("__name__=x", "'__' are Prometheus's own"),
                       ("command=x", "sets 'command'")):
        one_line_error(run("--prom", prom, "--label", label, "--", "true"), 64,
                       r"^memtrace: bad label '%s' for --label: .*%s" % (re.escape(label), re.escape(why)))
    one_line_error(run("--prom", prom, "--label", "a=1", "--label", "a=2", "--", "true"), 64, r"given twice")
    one_line_error(run("--label", "a=1", "--", "true"), 64, r"--label labels the Prometheus metrics")
    marker = c.path("ran")
    for opt in ("--perfetto", "--prom", "--export-bmf", "--export-github-benchmark"):
        one_line_error(run(opt, "/no/such/dir/f", "--", "touch", marker), 125,
                       r"^memtrace: cannot write '/no/such/dir/f' for %s: No such file" % opt)
        check(not os.path.exists(marker), "%s: the command ran" % opt)
    one_line_error(run("--prom", c.tmp, "--", "true"), 125, r"cannot write '.*' for --prom: it is a directory")
    one_line_error(run("--bench-name", "", "--", "true"), 64, r"empty name for --bench-name")


# ---------------------------------------------------------------- CI benchmark formats

def is_number(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def check_bmf(doc, name, stats):
    """Bencher Metric Format JSON schema (bencher.dev/bmf.json): benchmark -> measure -> {value, lower_value?,
    upper_value?} numbers, value required; names at most 1024, measure slugs at most 64 characters."""
    check(isinstance(doc, dict) and list(doc) == [name], "benchmarks %s" % list(doc))
    measures = doc[name]
    check(isinstance(measures, dict) and set(measures) == {"peak-rss", "peak-total", "wall-time"}, "measures %s" % measures)
    check(len(name) <= 1024, "name too long")
    for slug, key in (("peak-rss", "peak_rss_bytes"), ("peak-total", "peak_total_bytes"), ("wall-time", "wall_s")):
        m = measures[slug]
        check(len(slug) <= 64 and re.fullmatch(r"[a-z0-9-]+", slug), "slug %r" % slug)
        check(set(m) == {"value", "lower_value", "upper_value"} and all(is_number(v) for v in m.values()),
              "%s: %r" % (slug, m))
        st = stats[key]
        tol = 1e-5 if key == "wall_s" else 0.5
        check(abs(m["value"] - st["median"]) <= tol and abs(m["lower_value"] - st["min"]) <= tol and
              abs(m["upper_value"] - st["max"]) <= tol, "%s %r vs statistics %r" % (slug, m, st))
        check(m["lower_value"] <= m["value"] <= m["upper_value"], "%s bounds" % slug)


def check_github(doc, name, stats):
    """github-action-benchmark customSmallerIsBetter: an array of {name: str, unit: str, value: number,
    range?: str, extra?: str}."""
    check(isinstance(doc, list) and len(doc) == 3, "want 3 entries, got %r" % doc)
    for e, (what, unit, key) in zip(doc, (("peak RSS", "bytes", "peak_rss_bytes"),
                                          ("peak total", "bytes", "peak_total_bytes"),
                                          ("wall time", "s", "wall_s"))):
        check(set(e) == {"name", "unit", "value", "range", "extra"}, "fields %s" % sorted(e))
        check(all(isinstance(e[k], str) for k in ("name", "unit", "range", "extra")) and is_number(e["value"]),
              "types %r" % e)
        check(e["name"] == "%s - %s" % (name, what) and e["unit"] == unit, "name/unit %r" % e)
        st = stats[key]
        tol = 1e-5 if key == "wall_s" else 0.5
        check(abs(e["value"] - st["median"]) <= tol, "%s value %r vs median %r" % (what, e["value"], st["median"]))
        m = re.fullmatch(r"\u00b1 (\S+)", e["range"])
        check(m and abs(float(m.group(1)) - st["stddev"]) <= max(1e-5, st["stddev"] * 1e-5),
              "range %r vs stddev %r" % (e["range"], st["stddev"]))
        check("runs: %d" % st["n"] in e["extra"], "extra %r" % e["extra"])


@test
def bench_exports_schemas(c):
    """--export-bmf and --export-github-benchmark over --runs 3, field by field against their schemas."""
    bmf, gh = c.path("bmf.json"), c.path("gh.json")
    p, r = c.run(["--runs", "3", "--export-bmf", bmf, "--export-github-benchmark", gh, "--bench-name", "c/40"],
                 [c.fx("alloc_free"), "40", "10"])
    check(p.returncode == 0, "exit %d: %s" % (p.returncode, p.stderr))
    check_bmf(c.load_json("bmf.json"), "c/40", r["statistics"])
    check_github(c.load_json("gh.json"), "c/40", r["statistics"])
    # One run, no --bench-name: the command line names it, and min = value = max.
    p, r = c.run(["--export-bmf", bmf, "--export-github-benchmark", gh], [c.fx("alloc_free"), "20", "10"])
    check(p.returncode == 0, "exit %d: %s" % (p.returncode, p.stderr))
    one = {"peak_rss_bytes": r["peak_rss"]["bytes"], "peak_total_bytes": r["peak_total"]["bytes"],
           "wall_s": r["wall_s"]}
    stats = {k: {"n": 1, "min": v, "median": v, "max": v, "mean": v, "stddev": 0} for k, v in one.items()}
    name = "%s 20 10" % c.fx("alloc_free")
    check_bmf(c.load_json("bmf.json"), name, stats)
    check_github(c.load_json("gh.json"), name, stats)
