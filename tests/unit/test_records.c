// SPDX-License-Identifier: GPL-2.0
/* Process rows, and each process's share of the tree's peaks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include "records.h"

static struct mt_mem mem(long anon, long file, long threads)
{
	struct mt_mem m;

	memset(&m, 0, sizeof(m));
	m.pages[MT_ANON] = anon;
	m.pages[MT_FILE] = file;
	m.threads = threads;
	m.kstack_bytes = threads * 16384;
	m.pgtables_bytes = 8192;
	return m;
}

static struct mt_proc proc(unsigned tgid)
{
	struct mt_proc p;

	memset(&p, 0, sizeof(p));
	p.tgid = tgid;
	return p;
}

static void share_of_the_peak(void **state)
{
	struct records r;
	struct mt_tree tree;
	struct mt_proc died_at_peak = proc(1), died_before = proc(2), live_changed = proc(3),
		       live_still = proc(4);

	(void)state;
	memset(&tree, 0, sizeof(tree));
	tree.gen[MT_PEAK_RSS] = 7;
	tree.gen[MT_PEAK_TOTAL] = 9;

	/* Held 100 pages at the last peak (gen 7), died after it. */
	died_at_peak.at_peak[MT_PEAK_RSS] = mem(100, 0, 1);
	died_at_peak.snap_gen[MT_PEAK_RSS] = 7;
	died_at_peak.exit_gen[MT_PEAK_RSS] = 7;
	/* Died before the last peak: holds nothing at it. */
	died_before.at_peak[MT_PEAK_RSS] = mem(500, 0, 1);
	died_before.snap_gen[MT_PEAK_RSS] = 5;
	died_before.exit_gen[MT_PEAK_RSS] = 5;
	/* Changed since the peak: its snapshot is the value at the peak. */
	live_changed.cur = mem(1, 1, 1);
	live_changed.at_peak[MT_PEAK_RSS] = mem(40, 2, 3);
	live_changed.snap_gen[MT_PEAK_RSS] = 7;
	/* Unchanged since before the peak: its current value is the value at it. */
	live_still.cur = mem(30, 3, 1);
	live_still.at_peak[MT_PEAK_RSS] = mem(999, 9, 9);
	live_still.snap_gen[MT_PEAK_RSS] = 6;

	records_init(&r, 0);
	assert_int_equal(records_add_proc(&r, &died_at_peak, 0), 0);
	assert_int_equal(records_add_proc(&r, &died_before, 0), 0);
	assert_int_equal(records_add_proc(&r, &live_changed, 1), 0);
	assert_int_equal(records_add_proc(&r, &live_still, 1), 0);
	records_finish(&r, &tree);

	assert_int_equal(r.procs[0].at_peak[MT_PEAK_RSS].pages[MT_ANON], 100);
	assert_int_equal(r.procs[1].at_peak[MT_PEAK_RSS].pages[MT_ANON], 0);
	assert_int_equal(r.procs[1].at_peak[MT_PEAK_RSS].threads, 0);
	assert_int_equal(r.procs[2].at_peak[MT_PEAK_RSS].pages[MT_ANON], 40);
	assert_int_equal(r.procs[2].at_peak[MT_PEAK_RSS].threads, 3);
	assert_int_equal(r.procs[3].at_peak[MT_PEAK_RSS].pages[MT_ANON], 30);
	/* The total peak's gen (9) matches none of the dead rows: they hold nothing. */
	assert_int_equal(r.procs[0].at_peak[MT_PEAK_TOTAL].pages[MT_ANON], 0);
	assert_int_equal(r.procs[3].at_peak[MT_PEAK_TOTAL].pages[MT_ANON], 30);
	assert_int_equal(r.proc_exits, 2);
	records_free(&r);
}

static void tasks_kept_only_when_asked(void **state)
{
	struct records r;
	struct mt_task t;

	(void)state;
	memset(&t, 0, sizeof(t));
	t.faults = 5;
	records_init(&r, 0);
	records_add_task(&r, &t, 0);
	records_add_task(&r, &t, 1);
	records_add_task(&r, &t, 1);
	assert_int_equal(r.live_tasks, 2);
	assert_int_equal(r.live_faults, 10);
	assert_int_equal(r.ntasks, 0);
	records_free(&r);

	records_init(&r, 1);
	for (int i = 0; i < 1000; i++) {
		t.tid = (unsigned)i;
		assert_int_equal(records_add_task(&r, &t, 0), 0);
	}
	assert_int_equal(r.ntasks, 1000);
	assert_int_equal(r.tasks[999].tid, 999);
	records_free(&r);
}

static void sorted_by_own_peak(void **state)
{
	struct records r;
	struct mt_proc a = proc(1), b = proc(2), c = proc(3);

	(void)state;
	a.own_peak = mem(10, 0, 1);
	b.own_peak = mem(30, 0, 1);
	c.own_peak = mem(10, 0, 1);
	a.start_ns = 5;
	c.start_ns = 1;
	records_init(&r, 0);
	records_add_proc(&r, &a, 0);
	records_add_proc(&r, &b, 0);
	records_add_proc(&r, &c, 0);
	records_sort_by_peak(&r);
	assert_int_equal(r.procs[0].p.tgid, 2);
	assert_int_equal(r.procs[1].p.tgid, 3); /* same peak: earlier start first */
	assert_int_equal(r.procs[2].p.tgid, 1);
	records_free(&r);
}

static void pruning_keeps_what_the_report_needs(void **state)
{
	struct records r;
	struct mt_tree tree;
	struct mt_proc p;
	unsigned i;

	(void)state;
	memset(&tree, 0, sizeof(tree));
	tree.gen[MT_PEAK_RSS] = 3;
	tree.gen[MT_PEAK_TOTAL] = 4;
	records_init(&r, 0);
	for (i = 1; i <= 10; i++) {
		p = proc(i);
		p.own_peak = mem(i, 0, 1); /* pid 10 has the largest peak */
		p.exit_gen[MT_PEAK_RSS] = 1;
		p.exit_gen[MT_PEAK_TOTAL] = 1;
		if (i == 2)
			p.exit_gen[MT_PEAK_RSS] = 3; /* died after the latest RSS peak */
		if (i == 3)
			p.exit_gen[MT_PEAK_TOTAL] = 4;
		records_add_proc(&r, &p, i == 1); /* pid 1 still runs */
	}
	records_prune(&r, &tree, 2);
	/* Live 1, at-peak 2 and 3, and the two largest of the rest: 10 and 9. */
	assert_int_equal(r.nprocs, 5);
	assert_int_equal(r.procs_dropped, 5);
	for (i = 0; i < r.nprocs; i++) {
		unsigned pid = r.procs[i].p.tgid;

		assert_true(pid == 1 || pid == 2 || pid == 3 || pid == 9 || pid == 10);
	}
	records_free(&r);
}

/* Seven cc1 rows told apart: each process's row gets its latest exec's arguments, once. */
static void command_lines(void **state)
{
	struct records r;
	struct mt_proc a = proc(100), b = proc(200);
	static const char first[] = "sh\0-c\0make\0", second[] = "cc1\0x.c\0-o\0x.s\0";

	(void)state;
	records_init(&r, 0);
	assert_int_equal(records_set_args(&r, 100, first, sizeof(first) - 1), 0);
	assert_int_equal(records_set_args(&r, 100, second, sizeof(second) - 1), 0); /* it exec'd again */
	assert_int_equal(records_set_args(&r, 200, "cc1\0y.c", 8), 0);      /* cut: no final NUL */
	assert_int_equal(records_add_proc(&r, &a, 0), 0);
	assert_int_equal(records_add_proc(&r, &b, 1), 0);
	assert_string_equal(r.procs[0].cmdline, "cc1 x.c -o x.s");
	assert_string_equal(r.procs[1].cmdline, "cc1 y.c");
	/* A later process with pid 100 that never execs has no command line of its own. */
	assert_int_equal(records_add_proc(&r, &a, 0), 0);
	assert_null(r.procs[2].cmdline);
	records_free(&r);
}

static void exit_record_supersedes_live_row(void **state)
{
	struct records r;
	struct mt_tree tree;
	struct mt_proc a = proc(10), b = proc(11), old_b = proc(11), gone = proc(12);

	(void)state;
	memset(&tree, 0, sizeof(tree));
	a.start_ns = 100;
	b.start_ns = 200;
	old_b.start_ns = 50; /* an earlier process with b's pid: not b */
	gone.start_ns = 300;
	tree.procs_total = 5;
	tree.proc_records_dropped = 1;
	records_init(&r, 0);
	records_add_proc(&r, &old_b, 0);
	records_stage_live(&r, &a);
	records_stage_live(&r, &b);
	records_stage_seal(&r);
	assert_int_equal(records_staged_live(&r), 2);
	/* old_b + a + b + one dropped record: one process (gone) is missing. */
	assert_int_equal(records_unaccounted(&r, &tree), 1);
	/* b exits after the scan read it: counted once, as exited. */
	records_add_proc(&r, &b, 0);
	assert_int_equal(records_staged_live(&r), 1);
	assert_int_equal(records_unaccounted(&r, &tree), 1);
	records_add_proc(&r, &gone, 0);
	assert_int_equal(records_unaccounted(&r, &tree), 0);
	/* Counted twice shows as negative, never as balanced. */
	tree.procs_total = 3;
	assert_int_equal(records_unaccounted(&r, &tree), -2);
	assert_int_equal(records_commit_staged(&r), 0);
	assert_int_equal(r.nprocs, 4);
	assert_int_equal(r.live_procs, 1);
	assert_int_equal(r.procs[3].p.tgid, 10);
	assert_int_equal(r.procs[3].live, 1);
	assert_int_equal(r.nstaged, 0);
	records_free(&r);
}

/*
 * The live rows are staged in place among the rows, once: an exit row that
 * arrives meanwhile (and a prune it sets off) leaves them whole, and the
 * commit puts them last, with their command lines and their pids as
 * memtrace's PID namespace sees them.
 */
static void staged_in_place_then_last(void **state)
{
	struct records r;
	struct mt_tree tree;
	struct mt_proc dead = proc(5), late = proc(6), a = proc(30), b = proc(20);
	unsigned i;

	(void)state;
	memset(&tree, 0, sizeof(tree));
	tree.gen[MT_PEAK_RSS] = 1; /* dead died before both peaks: it may go */
	tree.gen[MT_PEAK_TOTAL] = 1;
	records_init(&r, 0);
	dead.own_peak = mem(1, 0, 1);
	records_add_proc(&r, &dead, 0);
	a.ns_tgid = 3; /* inside a PID namespace */
	a.ns_ppid = 1;
	assert_int_equal(records_set_args(&r, 30, "a\0-x\0", 5), 0);
	assert_int_equal(records_reserve(&r, 2), 0);
	assert_true(r.procs_cap >= 3);
	assert_int_equal(records_stage_live(&r, &a), 0);
	assert_int_equal(records_stage_live(&r, &b), 0);
	records_stage_seal(&r);
	assert_int_equal(r.nprocs, 3); /* no second copy: the staged rows are rows */
	late.own_peak = mem(9, 0, 1);
	records_add_proc(&r, &late, 0);
	/* Only the exited rows before the stage are pruned: the staged ones stay sorted, whole. */
	records_prune(&r, &tree, 0);
	assert_int_equal(r.procs_dropped, 1);
	assert_int_equal(records_exited_rows(&r), 1);
	assert_int_equal(records_staged_live(&r), 2);
	records_add_proc(&r, &b, 0); /* b exits: its record supersedes its staged row */
	assert_int_equal(records_staged_live(&r), 1);
	assert_int_equal(records_commit_staged(&r), 0);
	assert_int_equal(r.nprocs, 3);
	assert_int_equal(r.live_procs, 1);
	for (i = 0; i < 2; i++)
		assert_false(r.procs[i].live);
	assert_int_equal(r.procs[0].p.tgid, 6);
	assert_int_equal(r.procs[1].p.tgid, 20);
	assert_true(r.procs[2].live);
	assert_int_equal(r.procs[2].p.tgid, 3);
	assert_int_equal(r.procs[2].p.ppid, 1);
	assert_int_equal(r.procs[2].p.kernel_tgid, 30);
	assert_string_equal(r.procs[2].cmdline, "a -x");
	/* A second round stages afresh: rows are never counted twice. */
	assert_int_equal(records_stage_live(&r, &a), 0);
	records_stage_clear(&r);
	assert_int_equal(r.nprocs, 3);
	records_free(&r);
}

/* A row keeps what the reports show and no more: 100,000 of them fit in 36 MiB. */
static void rows_stay_small(void **state)
{
	(void)state;
	assert_true(sizeof(struct proc_row) <= 376);
	assert_true(sizeof(struct proc_row) < sizeof(struct mt_proc));
}

static void byte_sums(void **state)
{
	struct mt_mem m = mem(3, 2, 4);

	(void)state;
	m.pages[MT_SHMEM] = 1;
	m.pages[MT_SWAP] = 100; /* never part of RSS */
	assert_int_equal(mem_rss_bytes(&m, 4096), 6 * 4096);
	assert_int_equal(mem_kernel_bytes(&m, 6640), 8192 + 4 * 16384 + 4 * 6640);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(share_of_the_peak),
		cmocka_unit_test(tasks_kept_only_when_asked),
		cmocka_unit_test(sorted_by_own_peak),
		cmocka_unit_test(pruning_keeps_what_the_report_needs),
		cmocka_unit_test(exit_record_supersedes_live_row),
		cmocka_unit_test(staged_in_place_then_last),
		cmocka_unit_test(rows_stay_small),
		cmocka_unit_test(byte_sums),
		cmocka_unit_test(command_lines),
	};

	return cmocka_run_group_tests_name("records", tests, NULL, NULL);
}
