/* SPDX-License-Identifier: GPL-2.0 */
#ifndef MT_SYSINFO_H
#define MT_SYSINFO_H

#include <stdint.h>

/*
 * Per-thread kernel objects that are neither the stack nor the task_struct:
 * struct pid, the thread stack's vm_area_struct and its guard, and a few
 * small slab objects (seccomp, audit, io context, signal queue bookkeeping).
 * Measured against the memory cgroup's kmem counter on this kernel; see
 * README "Kernel memory".
 */
#define MT_THREAD_SMALL_SLABS 800

struct sysinfo_mt {
	uint64_t page_size;
	uint32_t page_shift;
	uint64_t task_struct_bytes; /* /sys/kernel/slab/task_struct/object_size */
	int task_struct_from_slab;  /* 0 when the fallback was used */
	uint64_t pid_max;           /* kernel.pid_max at start (the x86-64 limit if unreadable) */
	uint64_t threads_max;       /* kernel.threads-max at start (pid_max if unreadable) */
	int hugetlb_pool;           /* some size of hugetlb page had a pool at start */
	char kernel_release[128];
};

void sysinfo_read(struct sysinfo_mt *si);
/* memtrace's own peak and current RSS, from /proc/self/status. */
void sysinfo_self_memory(uint64_t *hwm_bytes, uint64_t *rss_bytes);
/* Bytes of kernel memory one thread costs, by the model above. */
uint64_t sysinfo_thread_bytes(const struct sysinfo_mt *si);

#endif
