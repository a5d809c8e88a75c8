// SPDX-License-Identifier: GPL-2.0
/* Facts about this kernel that BPF cannot read: slab object sizes, page size. */
#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "sysinfo.h"

/* task_struct on 6.x x86-64 builds; only used when /sys/kernel/slab is absent. */
#define TASK_STRUCT_FALLBACK 5824
/* PID_MAX_LIMIT on 64-bit: no pid is above it. */
#define PID_MAX_FALLBACK 4194304

static int read_u64(const char *path, uint64_t *out)
{
	unsigned long long v;
	FILE *f = fopen(path, "r");
	int ok;

	if (!f)
		return -1;
	ok = fscanf(f, "%llu", &v) == 1;
	fclose(f);
	if (!ok)
		return -1;
	*out = v;
	return 0;
}

/*
 * Whether any size of hugetlb page has a pool (reserved or overcommitted
 * pages): without one no process can get such pages. A kernel without
 * hugetlb has no /sys/kernel/mm/hugepages.
 */
static int hugetlb_pool_exists(void)
{
	static const char *const knobs[] = { "nr_hugepages", "nr_overcommit_hugepages" };
	const char *dir = "/sys/kernel/mm/hugepages";
	char path[512];
	struct dirent *e;
	uint64_t n;
	int found = 0;
	size_t i;
	DIR *d;

	d = opendir(dir);
	if (!d)
		return 0;
	while (!found && (e = readdir(d))) {
		if (strncmp(e->d_name, "hugepages-", 10))
			continue;
		for (i = 0; i < sizeof(knobs) / sizeof(knobs[0]); i++) {
			snprintf(path, sizeof(path), "%s/%s/%s", dir, e->d_name, knobs[i]);
			if (read_u64(path, &n) == 0 && n > 0)
				found = 1;
		}
	}
	closedir(d);
	return found;
}

void sysinfo_read(struct sysinfo_mt *si)
{
	struct utsname u;
	long ps = sysconf(_SC_PAGESIZE);

	memset(si, 0, sizeof(*si));
	si->page_size = ps > 0 ? (uint64_t)ps : 4096;
	while ((1ULL << si->page_shift) < si->page_size)
		si->page_shift++;
	if (read_u64("/sys/kernel/slab/task_struct/object_size", &si->task_struct_bytes) == 0 &&
	    si->task_struct_bytes > 0) {
		si->task_struct_from_slab = 1;
	} else {
		si->task_struct_bytes = TASK_STRUCT_FALLBACK;
	}
	if (read_u64("/proc/sys/kernel/pid_max", &si->pid_max) || si->pid_max == 0)
		si->pid_max = PID_MAX_FALLBACK;
	if (read_u64("/proc/sys/kernel/threads-max", &si->threads_max) || si->threads_max == 0)
		si->threads_max = si->pid_max;
	si->hugetlb_pool = hugetlb_pool_exists();
	if (uname(&u) == 0)
		snprintf(si->kernel_release, sizeof(si->kernel_release), "%s", u.release);
}

uint64_t sysinfo_thread_bytes(const struct sysinfo_mt *si)
{
	return si->task_struct_bytes + MT_THREAD_SMALL_SLABS;
}

void sysinfo_self_memory(uint64_t *hwm_bytes, uint64_t *rss_bytes)
{
	char line[256];
	unsigned long long kib;
	FILE *f = fopen("/proc/self/status", "r");

	*hwm_bytes = *rss_bytes = 0;
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "VmHWM: %llu kB", &kib) == 1)
			*hwm_bytes = kib * 1024;
		else if (sscanf(line, "VmRSS: %llu kB", &kib) == 1)
			*rss_bytes = kib * 1024;
	}
	fclose(f);
}
