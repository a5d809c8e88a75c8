// SPDX-License-Identifier: GPL-2.0
/*
 * Which kernels memtrace takes, and which program variant each gets, read
 * from BTF files built here in the shapes of Linux 6.1, 6.12 and 6.18.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <bpf/btf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kernel_check.h"

enum shape { LINUX_6_1, LINUX_6_12, LINUX_6_18 };

/*
 * A kernel BTF reduced to what memtrace looks at: mm_struct's rss_stat
 * inside an anonymous member (as the kernel's __randomize_layout block is),
 * the exit tracepoint's typedef, and the kfuncs.
 */
static char *write_btf(enum shape shape)
{
	struct btf *btf = btf__new_empty();
	char *path = strdup("/tmp/memtrace-btf-XXXXXX");
	int i32, u32, counter, stat, rss, anon, task, task_ptr, void_ptr, proto, proto_ptr, func_proto, bool_t;
	const void *raw;
	__u32 size;
	FILE *f;
	int fd;

	assert_non_null(btf);
	i32 = btf__add_int(btf, "int", 4, BTF_INT_SIGNED);
	u32 = btf__add_int(btf, "unsigned int", 4, 0);
	bool_t = btf__add_int(btf, "_Bool", 1, BTF_INT_BOOL);
	if (shape == LINUX_6_1) {
		stat = btf__add_struct(btf, "mm_rss_stat", 32);
		btf__add_field(btf, "count", btf__add_array(btf, u32, i32, 4), 0, 0);
		rss = stat;
	} else {
		counter = btf__add_struct(btf, "percpu_counter", 40);
		btf__add_field(btf, "count", i32, 0, 0);
		rss = btf__add_array(btf, u32, counter, 4);
	}
	anon = btf__add_struct(btf, NULL, 160);
	btf__add_field(btf, "pgtables_bytes", i32, 0, 0);
	btf__add_field(btf, "rss_stat", rss, 64, 0);
	btf__add_struct(btf, "mm_struct", 168);
	btf__add_field(btf, NULL, anon, 0, 0);

	task = btf__add_struct(btf, "task_struct", 8);
	btf__add_field(btf, "pid", i32, 0, 0);
	task_ptr = btf__add_ptr(btf, task);
	void_ptr = btf__add_ptr(btf, 0);
	/* A prototype's parameters must follow it directly. */
	proto = btf__add_func_proto(btf, 0);
	assert_int_equal(btf__add_func_param(btf, "__data", void_ptr), 0);
	assert_int_equal(btf__add_func_param(btf, "p", task_ptr), 0);
	if (shape == LINUX_6_18)
		assert_int_equal(btf__add_func_param(btf, "group_dead", bool_t), 0);
	proto_ptr = btf__add_ptr(btf, proto);
	btf__add_typedef(btf, "btf_trace_sched_process_exit", proto_ptr);

	func_proto = btf__add_func_proto(btf, i32);
	assert_int_equal(btf__add_func_param(btf, "p", task_ptr), 0);
	if (shape != LINUX_6_1)
		btf__add_func(btf, "bpf_rdonly_cast", BTF_FUNC_GLOBAL, func_proto);
	if (shape == LINUX_6_18)
		btf__add_func(btf, "bpf_res_spin_lock", BTF_FUNC_GLOBAL, func_proto);

	raw = btf__raw_data(btf, &size);
	assert_non_null(raw);
	fd = mkstemp(path);
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	assert_int_equal(fwrite(raw, 1, size, f), size);
	fclose(f);
	btf__free(btf);
	return path;
}

static void read_shape(enum shape shape, struct kernel_features *kf)
{
	char *path = write_btf(shape);

	assert_int_equal(kernel_features_read(path, kf), 0);
	unlink(path);
	free(path);
}

static void linux_6_1_is_refused_in_one_line(void **state)
{
	struct kernel_features kf;
	char buf[256];

	(void)state;
	read_shape(LINUX_6_1, &kf);
	assert_false(kf.percpu_rss);
	snprintf(kf.release, sizeof(kf.release), "6.1.0-57-amd64");
	assert_non_null(kernel_refusal(&kf, buf, sizeof(buf)));
	assert_string_equal(buf, "memtrace needs Linux 6.2 or newer (this is 6.1.0-57-amd64): its RSS counters "
				 "are not per-CPU counters that can be summed exactly (mm_struct.rss_stat; "
				 "even the kernel's own VmRSS is approximate there)");
}

static void linux_6_12_gets_the_spin_lock_and_derives_group_dead(void **state)
{
	struct kernel_features kf;
	char buf[256];

	(void)state;
	read_shape(LINUX_6_12, &kf);
	assert_true(kf.percpu_rss);
	assert_true(kf.rdonly_cast);
	assert_false(kf.res_spin_lock);
	assert_false(kf.exit_group_dead);
	assert_null(kernel_refusal(&kf, buf, sizeof(buf)));
}

static void linux_6_18_gets_everything(void **state)
{
	struct kernel_features kf;
	char buf[256];

	(void)state;
	read_shape(LINUX_6_18, &kf);
	assert_true(kf.percpu_rss);
	assert_true(kf.res_spin_lock);
	assert_true(kf.exit_group_dead);
	assert_null(kernel_refusal(&kf, buf, sizeof(buf)));
}

static void a_missing_kfunc_is_named(void **state)
{
	struct kernel_features kf = { .percpu_rss = 1, .rdonly_cast = 0 };
	char buf[256];

	(void)state;
	snprintf(kf.release, sizeof(kf.release), "6.2.0");
	assert_non_null(kernel_refusal(&kf, buf, sizeof(buf)));
	assert_string_equal(buf, "memtrace needs Linux 6.2 or newer (this is 6.2.0): the bpf_rdonly_cast kfunc is missing");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(linux_6_1_is_refused_in_one_line),
		cmocka_unit_test(linux_6_12_gets_the_spin_lock_and_derives_group_dead),
		cmocka_unit_test(linux_6_18_gets_everything),
		cmocka_unit_test(a_missing_kfunc_is_named),
	};

	unsetenv("MEMTRACE_OLDER_KERNEL_PROGRAMS");
	return cmocka_run_group_tests_name("kernel_check", tests, NULL, NULL);
}
