#!/usr/bin/env python3
"""Mutation check: does the test suite catch wrong numbers?

Each mutant is one small deliberate break of memtrace (an off-by-one page, a
dropped counter, swapped fields, a skipped event, a wrong unit, a lost exit
status, an ignored option, a lock not taken, an unescaped string ...), given
as a description, an exact source snippet and its replacement. The snippet is
looked up in every file under bpf/ and user/ and must occur exactly once in
all of them together, so a mutant still applies when code moves between
files; one that is not found (or found twice) is NOT-APPLICABLE, and that
fails the check as a survivor does: it has to be brought up to date, never
skipped in silence.

The tree is copied to a scratch folder (with its build/, so that only what a
mutant touches is rebuilt); the tests the mutants name are run once on the
unbroken copy first (they must pass, or no kill means anything); then, one
mutant at a time: apply, `make all fixtures`, run the unit tests (for user/
mutants) and the named integration tests, stopping at the first failure,
restore. A table closes the run: each mutant, and the test that killed it, or
SURVIVED, BUILD-FAILED, NOT-APPLICABLE. Exit status 0 only when every mutant
was killed.

    make mutants                        # all of them
    python3 tools/mutants.py --list     # the mutants and their tests
    python3 tools/mutants.py -m 3,7     # some, by number
"""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SOURCE_DIRS = ("bpf", "user")
COPY = ("Makefile", "bpf", "user", "tests", "tools", "vmlinux", "docs", "README.md")


class Mutant:
    def __init__(self, what, edits, tests, unit=False):
        self.what = what
        # (snippet, replacement) pairs; most mutants have one.
        self.edits = edits if isinstance(edits, list) else [edits]
        self.tests = tests
        self.unit = unit


M = Mutant
MUTANTS = [
    # --- the six breaks of issue 12 ---
    M("peak RSS one page too small",
      ("t->peak_bytes[MT_PEAK_RSS] = rss;", "t->peak_bytes[MT_PEAK_RSS] = rss - (1 << page_shift);"),
      ["peak_equals_vmrss_at_peak", "short_spike_is_caught", "memory_kinds_split"]),
    M("--interval ignored (always 100 ms)",
      ("s->interval_ms = (unsigned)round(ms);", "(void)ms;"),
      ["interval_spacing_and_count"], unit=True),
    M("shmem counter dropped (rss_stat for shmem skipped)",
      ("case MM_SHMEMPAGES:\n\t\t\tpc = &mm->rss_stat[MM_SHMEMPAGES];\n\t\t\tbreak;",
       "case MM_SHMEMPAGES:\n\t\t\treturn 0;"),
      ["memory_kinds_split"]),
    M("anon and file swapped in --csv",
      ("(long long)rss, (long long)(m->pages[MT_ANON] * (int64_t)ps),\n\t\t(long long)(m->pages[MT_FILE] * (int64_t)ps),",
       "(long long)rss, (long long)(m->pages[MT_FILE] * (int64_t)ps),\n\t\t(long long)(m->pages[MT_ANON] * (int64_t)ps),"),
      ["memory_kinds_split", "time_series_csv"]),
    M("a vfork child's shared pages counted",
      ("if (mm != cloner->mm)\n\t\t\treturn 0;", "if (cloner)\n\t\t\treturn 0;"),
      ["vfork_child_not_double_counted"]),
    M("page faults doubled",
      ("return t->min_flt + t->maj_flt;",
       "return 2 * (t->min_flt + t->maj_flt);"),
      ["page_faults_match_rusage"]),
    # --- numbers ---
    M("a process's RSS one page too large in user space",
      ("return (m->pages[MT_FILE] + m->pages[MT_ANON] + m->pages[MT_SHMEM]) * (int64_t)page_size;",
       "return (m->pages[MT_FILE] + m->pages[MT_ANON] + m->pages[MT_SHMEM] + 1) * (int64_t)page_size;"),
      ["memory_kinds_split", "tree_of_eight_at_once"], unit=True),
    M("swap reported as shmem in JSON",
      ('json_int(j, "swap_bytes", m->pages[MT_SWAP] * ps);', 'json_int(j, "swap_bytes", m->pages[MT_SHMEM] * ps);'),
      ["memory_kinds_split"]),
    M("new threads not followed (their clone event skipped)",
      ("\ttrack_task(child, cloner, 0, now, now);", "\tif (child->pid == child->tgid)\n\t\ttrack_task(child, cloner, 0, now, now);"),
      ["thousand_threads", "kernel_stacks_follow_threads"]),
    M("a dead process keeps its memory in the tree",
      ("c.zero = 1;\n\t\tc.d_procs = -1;", "c.zero = 0;\n\t\tc.d_procs = -1;"),
      ["peak_equals_vmrss_at_peak", "sequential_children_do_not_add_up"]),
    M("a thread's kernel stack not given back at its exit",
      ("c.d_kstack_bytes = -(__s64)task->kstack_bytes;", "c.d_kstack_bytes = 0;"),
      ["kernel_stacks_follow_threads"]),
    M("kernel stack one page short",
      ("return nr_pages ? (__u64)nr_pages << page_shift : default_kstack_bytes;",
       "return nr_pages ? (__u64)(nr_pages - 1) << page_shift : default_kstack_bytes;"),
      ["kernel_stacks_match_meminfo"]),
    M("small per-thread slab objects left out of the model",
      ("return si->task_struct_bytes + MT_THREAD_SMALL_SLABS;", "return si->task_struct_bytes;"),
      ["kernel_memory_matches_the_cgroup"], unit=True),
    M("page tables not read at rss_stat",
      ("c.pgtables_bytes = mm->pgtables_bytes.counter;\n\t\tc.set_pgtables = 1;",
       "c.pgtables_bytes = mm->pgtables_bytes.counter;\n\t\tc.set_pgtables = 0;"),
      ["page_tables_of_sparse_memory", "stack_size_changes_page_tables", "kernel_memory_matches_the_cgroup"]),
    M("per-process snapshot at the RSS peak not taken",
      ("if (p->snap_gen[MT_PEAK_RSS] != t->gen[MT_PEAK_RSS]) {", "if (0) {"),
      ["tree_of_eight_at_once", "sequential_children_do_not_add_up"]),
    M("processes sorted by the smallest peak first",
      ("return px > py ? -1 : 1;", "return px > py ? 1 : -1;"),
      ["top_and_verbose"], unit=True),
    M("peak thread count one short",
      ("t->threads_peak = t->cur.threads;", "t->threads_peak = t->cur.threads - 1;"),
      ["thousand_threads"]),
    M("peak time 5 ms late",
      ("t->peak_ns[MT_PEAK_RSS] = now;", "t->peak_ns[MT_PEAK_RSS] = now + 5000000;"),
      ["peak_time_is_within_one_tick"]),
    M("wrong unit: summary CSV wall_s in ms",
      ('fprintf(f, ",%.6f,%.6f,%.6f,", (double)(s->end_ns - s->start_ns) / 1e9,',
       'fprintf(f, ",%.6f,%.6f,%.6f,", (double)(s->end_ns - s->start_ns) / 1e6,'),
      ["summary_csv_columns"]),
    M("tree lock not taken",
      [("\tif (tree_lock_raw(slot)) {\n\t\t__sync_fetch_and_add(&slot->tree.lock_fails, 1);\n\t\treturn -1;\n\t}\n\treturn 0;",
        "\treturn 0;"),
       ("\ttree_unlock_raw(slot);\n}", "}")],
      ["tree_of_eight_at_once", "tree_sums_under_concurrent_faults"]),
    # --- lost events ---
    M("full maps not counted as lost",
      ("count(&slot->tree.map_full);", ";"),
      ["lost_events_are_counted", "too_many_live_processes"]),
    M("ring-buffer drops not counted",
      ("count(&slot->tree.ringbuf_drops);", ";"),
      ["lost_events_are_counted"]),
    M("--strict ignored",
      ("if (ss->set->strict && summary_lost(&ss->sum))", "if (0 && summary_lost(&ss->sum))"),
      ["lost_events_are_counted"], unit=True),
    # --- exit statuses and signals ---
    M("the command's exit status lost",
      ("return WEXITSTATUS(st);", "return 0;"),
      ["exit_status_is_the_commands"], unit=True),
    M("killed by a signal: 128 without the signal",
      ("return 128 + WTERMSIG(st);", "return 128;"),
      ["exit_status_is_the_commands", "signals_are_forwarded"], unit=True),
    M("every signal forwarded as SIGTERM",
      ("kill(ss->child.pid, (int)si.ssi_signo);", "kill(ss->child.pid, SIGTERM);"),
      ["signals_are_forwarded"], unit=True),
    M("--duration never sends SIGKILL",
      ("kill(ss->child.pid, SIGKILL);\n\t\t\tkill_at = 0;", "kill_at = 0;"),
      ["duration_kills_after_grace"], unit=True),
    # --- options ---
    M("--top ignored (always 10)",
      ("shown = all ? r->nprocs : (size_t)top;", "shown = all ? r->nprocs : (size_t)(top ? 10 : 10);"),
      ["top_and_verbose"], unit=True),
    M("--tasks shows 60 rows, not 50",
      ("#define TASKS_ON_SCREEN 50", "#define TASKS_ON_SCREEN 60"),
      ["tasks_table_cap"], unit=True),
    M("-p keeps only the first pid",
      ('tok; tok = strtok_r(NULL, ",", &save)) {', "tok; tok = NULL) {"),
      ["attach_several_pids"], unit=True),
    M("-u by numeric uid not looked up",
      ("pw = getpwuid((uid_t)id);", "pw = getpwuid((uid_t)id) ? NULL : NULL;"),
      ["run_as_user"], unit=True),
    M("-u leaves USER as it was",
      ('setenv("USER", as->name, 1);', ""),
      ["run_as_user"], unit=True),
    M("-u keeps root's supplementary groups",
      ("int groups = as->no_entry ? setgroups(0, NULL) : initgroups(as->name, as->gid);",
       "int groups = as->no_entry ? setgroups(0, NULL) : 0;"),
      ["run_as_user"], unit=True),
    # --- exports ---
    M("JSON strings: quotes not escaped",
      ('case \'"\':\n\t\t\tfputs_unlocked("\\\\\\"", f);\n\t\t\tbreak;\n', ""),
      ["strings_are_escaped"], unit=True),
    M("summary CSV: quotes in the command not doubled",
      ("\t\telse if (cp == '\"')\n\t\t\tfputs(\"\\\"\\\"\", f);\n", ""),
      ["strings_are_escaped"], unit=True),
    M("time series: an existing file appended to",
      ('o->f = fopen(path, mode == OUTFILE_APPEND ? "ae" : "we");', 'o->f = fopen(path, "ae");'),
      ["time_series_csv"], unit=True),
    M("time series: the peak rows left out",
      ("if (t->peak_bytes[k] <= 0 || t->peak_ns[k] == ts->written_ns[k])\n\t\t\tcontinue;", "continue;"),
      ["time_series_csv"], unit=True),
    M("summary CSV: the header written before every row",
      ("if (at <= 0) {", "if (at <= 0 || 1) {"),
      ["repeated_runs_statistics"], unit=True),
    M("per-task CSV: kstack_bytes of the wrong field",
      ('fprintf(f, ",%llu\\n", (unsigned long long)t->kstack_bytes);',
       'fprintf(f, ",%llu\\n", (unsigned long long)t->faults);'),
      ["per_task_table_of_a_known_tree"], unit=True),
    M("--max-procs not given to the kernel side",
      ("skel->rodata->max_procs = t->proc_slots;", ""),
      ["too_many_live_processes", "process_slots_are_reused"], unit=True),
    M("process slots fixed at 32768 whatever pid_max",
      ("uint64_t n = requested ? requested : pid_max;", "uint64_t n = requested ? requested : 32768 + 0 * pid_max;"),
      ["process_slots_follow_pid_max"], unit=True),
    M("a live row kept although its exit record superseded it",
      ("\t\tif (!first[i].live)\n\t\t\tcontinue;\n", ""),
      ["rows_balance_while_children_exit"], unit=True),
    M("--ringbuf-size ignored",
      ("bpf_map__set_max_entries(skel->maps.events, (unsigned int)s->ringbuf_bytes);", ""),
      ["lost_events_are_counted"], unit=True),
    M("attach: children of followed processes not walked",
      ("if (!root_flags && !lookup_proc(tgid, NULL) && !(iter_adopt && lookup_proc(ptgid, NULL)))",
       "if (!root_flags && !lookup_proc(tgid, NULL) && ptgid)"),
      ["attach_follows_existing_and_new"]),
    M("a process's exit status not read",
      ("proc->exit_code = p->exit_code;", "proc->exit_code = 0;"),
      ["tree_of_eight_at_once"]),
    M("--warmup runs exported to the time series",
      ("ss.ts = NULL; /* warm-up runs are not exported */", "ss.ts = ts;"),
      ["repeated_runs_statistics"], unit=True),
    M("JSON: a process's page faults left at its exited threads'",
      ("row->p.faults += task->faults;", "row->p.faults += 0 * task->faults;"),
      ["attach_several_pids"], unit=True),
    # --- process lifecycles (issue 11) ---
    M("a zombie found by the iterator followed as live",
      ("\tif (t->exit_state || (t->flags & PF_EXITING))\n\t\treturn 0;\n\tns_tgid", "\tns_tgid"),
      ["zombies_are_not_followed", "attach_ends_despite_an_unreaped_child"]),
    M("a shared mm's pages not handed to the process still on it",
      ("to = mm && shared_mms ? find_sharer(mm, tgid, &to_tgid) : NULL;", "to = NULL;"),
      ["clone_vm_pages_move_to_the_survivor"]),
    M("an exit whose lock failed never applied",
      ("\tif (!ts || !ts->tree.zero_pending)\n\t\treturn;", "\tif (ts || !ts)\n\t\treturn;"),
      ["a_lost_lock_loses_only_that_change"]),
    M("page tables read only at RSS changes (no re-read at mm unlock, nor by the refresh pass)",
      ("\tif (mm->pgtables_bytes.counter == proc->cur.pgtables_bytes &&\n", "\treturn;\n\tif (mm->pgtables_bytes.counter == proc->cur.pgtables_bytes &&\n"),
      ["page_tables_equal_vmpte_without_rss_events"]),
    M("roots looked up by the initial namespace's pid",
      ("\tns_tgid = ns_tgid_of(t);\n\troot_flags", "\tns_tgid = tgid;\n\troot_flags"),
      ["inside_a_pid_namespace"]),
    M("a process named after the thread that exits last",
      ("\t\t\t\t\t\t  p->group_leader->comm);", "\t\t\t\t\t\t  p->comm);"),
      ["process_name_is_the_leaders"]),    # --- costs (issue 17) ---
    M("the task map allocating again (BPF_F_NO_PREALLOC)",
      ("\t__uint(type, BPF_MAP_TYPE_HASH);\n\t__uint(max_entries, 1048576);\n\t__type(key, __u32);\n\t__type(value, struct mt_task);",
       "\t__uint(type, BPF_MAP_TYPE_HASH);\n\t__uint(map_flags, BPF_F_NO_PREALLOC);\n\t__uint(max_entries, 1048576);\n\t__type(key, __u32);\n\t__type(value, struct mt_task);"),
      ["task_map_is_preallocated_to_the_kernels_bound"]),
    M("the task map sized by threads-max alone (pid_max ignored)",
      ("uint64_t n = threads_max < pid_max ? threads_max : pid_max;", "uint64_t n = ((void)pid_max, threads_max);"),
      ["task_map_is_preallocated_to_the_kernels_bound"]),
    M("thread ids in the initial namespace taken from the process id",
      ("\tif (my_pidns && my_pidns_level == 0)\n\t\treturn t->pid;", "\tif (my_pidns && my_pidns_level == 0)\n\t\treturn t->tgid;"),
      ["per_task_table_of_a_known_tree"]),
    M("a process marked dead only after its exit's lock, not in the change that empties it",
      ("\t\t__sync_fetch_and_or(&p->flags, MT_PROC_DEAD);\n\t\t__builtin_memset(&p->cur, 0, sizeof(p->cur));",
       "\t\t__builtin_memset(&p->cur, 0, sizeof(p->cur));"),
      ["pages_faulted_into_an_exiting_process_are_not_kept"]),
    M("the refresh pass passes over every thread, also where the leader is gone",
      ("\treturn leader && mm && leader->mm == mm && !leader->exit_state &&\n\t       !(leader->flags & PF_EXITING);",
       "\treturn leader && mm;"),
      ["page_tables_equal_vmpte_without_rss_events"]),
    M("the report's pass skips threads whose leader runs (their fault counts stale)",
      ("\tint err = tracer_live_faults(t, &faults, 1);", "\tint err = tracer_live_faults(t, &faults, 0);"),
      ["live_threads_faults_at_the_report"]),
    M("a change of the swap counter read into shmem's slot (swap left at 0)",
      ("\t\t\telse if (member == MM_SWAPENTS)\n\t\t\t\tc.pages[MT_SWAP] = pages;",
       "\t\t\telse if (member == MM_SWAPENTS)\n\t\t\t\tc.pages[MT_SHMEM] = pages;"),
      ["swapped_pages_are_reported_apart"]),
    M("hugetlb pages not looked at as the mm's write lock is taken (munmap frees them unseen)",
      ("\tif (!write || !success)\n\t\treturn 0;\n\tproc = proc_of_mm(mm, &tgid);\n\tif (proc)\n\t\tnote_hugetlb(proc, mm);",
       "\tif (!write || !success)\n\t\treturn 0;\n\tproc = proc_of_mm(mm, &tgid);\n\t(void)proc;"),
      ["hugetlb_pages_are_outside_rss_and_reported"]),
    M("hugetlb pages not looked at by the exit (exit_mm() frees them unseen)",
      ("\t\t\tif (p->mm)\n\t\t\t\tnote_hugetlb(proc, p->mm);", ""),
      ["hugetlb_pages_are_outside_rss_and_reported"]),
    M("hugetlb pages not looked at by the refresh pass",
      ("\treread_pgtables(proc, tgid, mm, 0);\n\tnote_hugetlb(proc, mm);", "\treread_pgtables(proc, tgid, mm, 0);"),
      ["hugetlb_pages_are_outside_rss_and_reported"]),
    M("the tree's hugetlb figure not raised (only the processes')",
      ("\tif (slot)\n\t\traise_to(&slot->tree.hugetlb_pages_seen, pages);", "\t(void)slot;"),
      ["hugetlb_pages_are_outside_rss_and_reported"]),
    M("the munmap look at hugetlb pages loaded without a pool (a cost at every mmap lock, for nothing)",
      ("bpf_program__set_autoload(skel->progs.on_mmap_write_lock, t->si.hugetlb_pool);",
       "bpf_program__set_autoload(skel->progs.on_mmap_write_lock, 1);"),
      ["hugetlb_pages_are_outside_rss_and_reported"]),
]


def source_files(root):
    for d in SOURCE_DIRS:
        for dirpath, _, names in os.walk(os.path.join(root, d)):
            for n in sorted(names):
                if n.endswith((".c", ".h")):
                    yield os.path.join(dirpath, n)


def locate(root, snippet):
    """The one file holding snippet, or an error string."""
    hits = []
    for path in source_files(root):
        with open(path) as f:
            hits += [path] * f.read().count(snippet)
    if len(hits) != 1:
        where = ", ".join(sorted({os.path.relpath(h, root) for h in hits})) or "nowhere"
        return None, "found %d times (%s)" % (len(hits), where)
    return hits[0], None


def sh(cmd, cwd, log, timeout):
    with open(log, "a") as f:
        f.write("\n$ %s\n" % " ".join(cmd))
        f.flush()
        try:
            p = subprocess.run(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               text=True, timeout=timeout)
        except subprocess.TimeoutExpired as e:
            out = e.stdout.decode() if isinstance(e.stdout, bytes) else (e.stdout or "")
            f.write(out + "\nTIMEOUT after %d s\n" % timeout)
            return 124, out
        f.write(p.stdout)
    return p.returncode, p.stdout


def run_tests(scratch, names, log, workloads):
    cmd = [sys.executable, "tests/integration/run.py", "--memtrace", "build/memtrace",
           "--fixtures", "build/fixtures", "-x", "-k", ",".join(names)]
    env_cmd = ["env", "BUILD=" + workloads] + cmd
    rc, out = sh(env_cmd, scratch, log, timeout=900)
    failed = [line.split()[1] for line in out.splitlines() if line.startswith("FAIL ")]
    ran = [line.split()[1] for line in out.splitlines() if line.startswith(("ok ", "FAIL "))]
    return rc, failed, ran, out


def copy_tree(dst):
    for name in COPY:
        src = os.path.join(ROOT, name)
        if os.path.isdir(src):
            shutil.copytree(src, os.path.join(dst, name), symlinks=True,
                            ignore=shutil.ignore_patterns("__pycache__"))
        elif os.path.exists(src):
            shutil.copy2(src, os.path.join(dst, name))
    build = os.path.join(ROOT, "build")
    for sub in ("bpf", "user", "fixtures", "tests", "tools", "memtrace"):
        src = os.path.join(build, sub)
        if os.path.isdir(src):
            shutil.copytree(src, os.path.join(dst, "build", sub), symlinks=True)
        elif os.path.exists(src):
            shutil.copy2(src, os.path.join(dst, "build", sub))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-m", help="only these mutants, by number: 1,4,7")
    ap.add_argument("--list", action="store_true", help="list the mutants and exit")
    ap.add_argument("--keep", action="store_true", help="keep the scratch folder")
    ap.add_argument("--log", default=os.path.join(ROOT, "build", "mutants.log"))
    args = ap.parse_args()

    if args.list:
        for i, m in enumerate(MUTANTS, 1):
            print("%2d  %-55s %s" % (i, m.what, ", ".join(m.tests)))
        return 0
    chosen = list(range(1, len(MUTANTS) + 1))
    if args.m:
        chosen = [int(x) for x in args.m.split(",")]
    if os.geteuid() != 0:
        print("memtrace: cannot run mutants: the integration tests need root (BPF)", file=sys.stderr)
        return 2
    workloads = os.environ.get("BUILD", os.path.join(ROOT, "build", "workloads"))
    os.makedirs(os.path.dirname(args.log), exist_ok=True)
    open(args.log, "w").close()
    scratch = tempfile.mkdtemp(prefix="memtrace-mutants-")
    os.chmod(scratch, 0o755)
    results = []
    t_start = time.monotonic()
    try:
        copy_tree(scratch)
        rc, _ = sh(["make", "all", "fixtures"], scratch, args.log, 900)
        if rc:
            print("memtrace: cannot build the scratch copy (see %s)" % args.log, file=sys.stderr)
            return 1
        names = sorted({t for i in chosen for t in MUTANTS[i - 1].tests})
        print("baseline: %d tests on the unbroken copy ..." % len(names), flush=True)
        rc, failed, ran, out = run_tests(scratch, names, args.log, workloads)
        missing = [n for n in names if not any(n in r for r in ran)]
        if rc:
            print("memtrace: the baseline does not pass: %s failed on the unbroken copy (see %s)"
                  % (", ".join(failed) or "a test", args.log), file=sys.stderr)
            return 1
        if missing:
            print("memtrace: mutants name tests that do not exist: %s" % ", ".join(missing), file=sys.stderr)
            return 1
        for i in chosen:
            m = MUTANTS[i - 1]
            t0 = time.monotonic()
            originals = {}
            verdict = None
            for snippet, replacement in m.edits:
                path, err = locate(scratch, snippet)
                if err:
                    verdict = "NOT-APPLICABLE: snippet %s" % err
                    break
                if path not in originals:
                    with open(path) as f:
                        originals[path] = f.read()
                with open(path) as f:
                    text = f.read()
                with open(path, "w") as f:
                    f.write(text.replace(snippet, replacement, 1))
            if verdict is None:
                with open(args.log, "a") as f:
                    f.write("\n=== mutant %d: %s (%s)\n" % (i, m.what, ", ".join(
                        os.path.relpath(p, scratch) for p in originals)))
                rc, _ = sh(["make", "all", "fixtures"], scratch, args.log, 900)
                if rc:
                    verdict = "BUILD-FAILED"
                elif m.unit and sh(["make", "unit"], scratch, args.log, 900)[0]:
                    verdict = "killed by unit tests"
                else:
                    rc, failed, _, _ = run_tests(scratch, m.tests, args.log, workloads)
                    if failed:
                        verdict = "killed by " + failed[0]
                    elif rc:
                        verdict = "killed (test run exit %d)" % rc
                    else:
                        verdict = "SURVIVED"
            for path, text in originals.items():
                with open(path, "w") as f:
                    f.write(text)
            results.append((i, m.what, verdict, time.monotonic() - t0))
            print("%2d  %-55s %s (%.0f s)" % (i, m.what, verdict, time.monotonic() - t0), flush=True)
    finally:
        if args.keep:
            print("scratch copy kept in %s" % scratch)
        else:
            shutil.rmtree(scratch, ignore_errors=True)

    killed = sum(1 for r in results if r[2].startswith("killed"))
    print("\n| # | mutant | result |")
    print("|---:|---|---|")
    for i, what, verdict, _ in results:
        print("| %d | %s | %s |" % (i, what.replace("|", "\\|"), verdict))
    print("\n%d of %d mutants killed in %.0f s (log: %s)" % (killed, len(results),
                                                            time.monotonic() - t_start, args.log))
    return 0 if killed == len(results) else 1


if __name__ == "__main__":
    sys.exit(main())
