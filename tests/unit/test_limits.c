// SPDX-License-Identifier: GPL-2.0
/*
 * --limit's sizes and signals, and --cgroup's reading of /proc/self/cgroup,
 * mountinfo and the group's files: recorded texts from this machine (cgroup
 * v1 memory) and from cgroup v2 machines, so the v2 path is tested here too.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "cgroup.h"
#include "limit.h"
#include "memtrace.h"

/* --limit's sizes are parse_size()'s (test_units.c), nothing else: zero is no limit. */
static void sizes(void **state)
{
	uint64_t b;
	int kind;

	(void)state;
	assert_int_equal(limit_parse("512K", &b, &kind), 0);
	assert_int_equal(b, 512 << 10);
	assert_int_equal(limit_parse("1.5G", &b, &kind), 0);
	assert_int_equal(b, 3UL << 29);
	assert_int_equal(limit_parse("2gib,total", &b, &kind), 0);
	assert_int_equal(b, 2UL << 30);
	assert_int_equal(limit_parse("3TB", &b, &kind), 0);
	assert_int_equal(b, 3ULL << 40);
	assert_int_equal(limit_parse("0", &b, &kind), -1);
	assert_int_equal(limit_parse("0M", &b, &kind), -1);
	assert_int_equal(limit_parse("10MM", &b, &kind), -1);
	assert_int_equal(limit_parse("-5M", &b, &kind), -1);
	assert_int_equal(limit_parse(" 5M", &b, &kind), -1);
	assert_int_equal(limit_parse("1.3", &b, &kind), -1);
	assert_int_equal(limit_parse("99999999999T", &b, &kind), -1);
}

static void limits(void **state)
{
	uint64_t b;
	int kind = -1;

	(void)state;
	assert_int_equal(limit_parse("100M", &b, &kind), 0);
	assert_int_equal(b, 100UL << 20);
	assert_int_equal(kind, MT_LIMIT_RSS);
	assert_int_equal(limit_parse("1G,total", &b, &kind), 0);
	assert_int_equal(kind, MT_LIMIT_TOTAL);
	assert_int_equal(limit_parse("1G,rss", &b, &kind), 0);
	assert_int_equal(kind, MT_LIMIT_RSS);
	assert_int_equal(limit_parse("1G,", &b, &kind), -1);
	assert_int_equal(limit_parse("1G,swap", &b, &kind), -1);
	assert_int_equal(limit_parse(",rss", &b, &kind), -1);
	assert_string_equal(limit_kind_name(MT_LIMIT_TOTAL), "total");
}

static void signals(void **state)
{
	(void)state;
	assert_int_equal(signal_parse("KILL"), SIGKILL);
	assert_int_equal(signal_parse("SIGTERM"), SIGTERM);
	assert_int_equal(signal_parse("usr1"), SIGUSR1);
	assert_int_equal(signal_parse("sigint"), SIGINT);
	assert_int_equal(signal_parse("9"), 9);
	assert_int_equal(signal_parse("64"), 64);
	assert_int_equal(signal_parse("0"), -1);
	assert_int_equal(signal_parse("65"), -1);
	assert_int_equal(signal_parse("SIGFOO"), -1);
	assert_int_equal(signal_parse("SIG"), -1);
	assert_int_equal(signal_parse(""), -1);
	assert_int_equal(signal_parse("9x"), -1);
}

/* This machine: memory bound to v1, a cgroup2 mount with no memory controller. */
static const char v1_cgroup[] = "9:name=systemd:/\n"
				"4:memory:/process_api/2b5b\n"
				"1:cpu:/\n"
				"0::/\n";
static const char v1_mountinfo[] =
	"31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
	"32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n"
	"35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n"
	"40 31 0:37 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n";

/* A systemd machine on v2 only, and a container whose cgroup namespace root is a sub-tree. */
static const char v2_cgroup[] = "0::/user.slice/user-1000.slice/session-2.scope\n";
static const char v2_mountinfo[] =
	"22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw\n"
	"30 25 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot\n";
static const char v2_container_mountinfo[] =
	"500 490 0:26 /kubepods/pod1 /sys/fs/cgroup ro,relatime - cgroup2 cgroup2 rw\n";
static const char v2_container_cgroup[] = "0::/kubepods/pod1/app\n";

static void locate(void **state)
{
	struct memcg cg;
	const char *why = NULL;

	(void)state;
	assert_int_equal(memcg_locate(v1_cgroup, v1_mountinfo, &cg, &why), 0);
	assert_int_equal(cg.version, 1);
	assert_string_equal(cg.parent, "/sys/fs/cgroup/memory/process_api/2b5b");
	assert_string_equal(cg.home, cg.parent);
	assert_string_equal(cg.mount, "/sys/fs/cgroup/memory");

	assert_int_equal(memcg_locate(v2_cgroup, v2_mountinfo, &cg, &why), 0);
	assert_int_equal(cg.version, 2);
	assert_string_equal(cg.parent, "/sys/fs/cgroup/user.slice/user-1000.slice/session-2.scope");

	assert_int_equal(memcg_locate(v2_container_cgroup, v2_container_mountinfo, &cg, &why), 0);
	assert_int_equal(cg.version, 2);
	assert_string_equal(cg.parent, "/sys/fs/cgroup/app");

	assert_int_equal(memcg_locate("0::/\n", v2_mountinfo, &cg, &why), 0);
	assert_string_equal(cg.parent, "/sys/fs/cgroup");

	/* v1 memory named in /proc/self/cgroup but not mounted; nothing mounted at all. */
	assert_int_equal(memcg_locate(v1_cgroup, v2_container_mountinfo, &cg, &why), -1);
	assert_non_null(why);
	assert_int_equal(memcg_locate(v2_cgroup, "", &cg, &why), -1);
	assert_non_null(strstr(why, "no memory cgroup hierarchy"));
}

/* v2: in memtrace's own group only if it delegates memory or is the root; else beside it. */
static void v2_place(void **state)
{
	static const char scope[] = "/sys/fs/cgroup/user.slice/user-1000.slice/session-2.scope";
	char out[MT_CGROUP_PATH_MAX];

	(void)state;
	assert_int_equal(memcg_v2_place(scope, "/sys/fs/cgroup", 0, out, sizeof(out)), 0);
	assert_string_equal(out, "/sys/fs/cgroup/user.slice/user-1000.slice");
	assert_int_equal(memcg_v2_place(scope, "/sys/fs/cgroup", 1, out, sizeof(out)), 0);
	assert_string_equal(out, scope);
	assert_int_equal(memcg_v2_place("/sys/fs/cgroup", "/sys/fs/cgroup", 0, out, sizeof(out)), 0);
	assert_string_equal(out, "/sys/fs/cgroup");
	assert_int_equal(memcg_v2_place("/sys/fs/cgroup/app", "/sys/fs/cgroup", 0, out, sizeof(out)), 0);
	assert_string_equal(out, "/sys/fs/cgroup");
	/* Never above what memtrace can see, never a truncated path. */
	assert_int_equal(memcg_v2_place("/other/app", "/sys/fs/cgroup", 0, out, sizeof(out)), -1);
	assert_int_equal(memcg_v2_place(scope, "/sys/fs/cgroup", 1, out, 8), -1);
}

static void put(const char *dir, const char *name, const char *text)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void peaks(void **state)
{
	static const char *const files[] = { "memory.stat", "memory.max_usage_in_bytes",
					     "memory.kmem.max_usage_in_bytes" };
	char dir[] = "/tmp/memtrace-unit-XXXXXX", path[512];
	struct memcg_peak pk;
	size_t i;

	(void)state;
	assert_non_null(mkdtemp(dir));
	/* v2, as a 6.x kernel writes them. */
	put(dir, "memory.peak", "110362624\n");
	put(dir, "memory.stat", "anon 104857600\nfile 2097152\nkernel 1617920\nkernel_stack 81920\n");
	assert_int_equal(memcg_read_peak(2, dir, &pk), 0);
	assert_int_equal(pk.version, 2);
	assert_int_equal(pk.peak_bytes, 110362624);
	assert_int_equal(pk.kernel_bytes, 1617920);
	assert_int_equal(pk.kmem_peak_bytes, -1);
	/* v1. */
	put(dir, "memory.max_usage_in_bytes", "108908544\n");
	put(dir, "memory.kmem.max_usage_in_bytes", "1343488\n");
	assert_int_equal(memcg_read_peak(1, dir, &pk), 0);
	assert_int_equal(pk.peak_bytes, 108908544);
	assert_int_equal(pk.kmem_peak_bytes, 1343488);
	assert_int_equal(pk.kernel_bytes, -1);
	/* v2 before 5.19: no memory.peak. */
	snprintf(path, sizeof(path), "%s/memory.peak", dir);
	unlink(path);
	assert_true(memcg_read_peak(2, dir, &pk) < 0);
	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
		unlink(path);
	}
	assert_int_equal(rmdir(dir), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(sizes),
		cmocka_unit_test(limits),
		cmocka_unit_test(signals),
		cmocka_unit_test(locate),
		cmocka_unit_test(v2_place),
		cmocka_unit_test(peaks),
	};

	return cmocka_run_group_tests_name("limits", tests, NULL, NULL);
}
