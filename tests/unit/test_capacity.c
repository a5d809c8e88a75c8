// SPDX-License-Identifier: GPL-2.0
/* Process slots and task entries follow the kernel's limits up to their caps; the options override. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "capacity.h"

static void slots_follow_pid_max(void **state)
{
	(void)state;
	/* A process needs a pid: no more live processes than pid_max. */
	assert_int_equal(proc_slots(32768, 0), 32768);   /* the kernel's default */
	assert_int_equal(proc_slots(110000, 0), 110000); /* raised for 100,000 processes */
	assert_int_equal(proc_slots(MT_PROC_SLOTS_CAP, 0), MT_PROC_SLOTS_CAP);
	/* systemd's 4194304: capped, the array is preallocated. */
	assert_int_equal(proc_slots(4194304, 0), MT_PROC_SLOTS_CAP);
	assert_int_equal(proc_slots(MT_PROC_SLOTS_CAP + 1, 0), MT_PROC_SLOTS_CAP);
	/* The kernel's smallest pid_max still leaves room for a tree. */
	assert_int_equal(proc_slots(301, 0), 301);
	assert_int_equal(proc_slots(1, 0), MT_PROC_SLOTS_MIN);
	/* 100,000 processes fit by default wherever pid_max allows them. */
	assert_true(MT_PROC_SLOTS_CAP >= 100000);
}

static void max_procs_overrides(void **state)
{
	(void)state;
	assert_int_equal(proc_slots(32768, 16), 16);
	assert_int_equal(proc_slots(32768, 4194304), 4194304); /* asked for: not capped */
	assert_int_equal(proc_slots(4194304, 200000), 200000);
}

static void tasks_follow_pid_max_and_threads_max(void **state)
{
	(void)state;
	/* A task needs a pid and counts against threads-max: the smaller bounds the live ones. */
	assert_int_equal(task_slots(32768, 192731, 0), 32768);
	assert_int_equal(task_slots(4194304, 192731, 0), 192731);
	/* Both above the cap (a large machine with systemd's pid_max): capped, preallocated. */
	assert_int_equal(task_slots(4194304, 4194304, 0), MT_TASK_SLOTS_CAP);
	assert_int_equal(task_slots(1, 1, 0), MT_PROC_SLOTS_MIN);
	/* --max-tasks is taken as asked. */
	assert_int_equal(task_slots(32768, 192731, 4096), 4096);
	assert_int_equal(task_slots(32768, 192731, 4194304), 4194304);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(slots_follow_pid_max),
		cmocka_unit_test(max_procs_overrides),
		cmocka_unit_test(tasks_follow_pid_max_and_threads_max),
	};

	return cmocka_run_group_tests_name("capacity", tests, NULL, NULL);
}
