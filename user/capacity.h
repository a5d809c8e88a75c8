/* SPDX-License-Identifier: GPL-2.0 */
/*
 * How many live processes the kernel side can follow: the slots of its
 * process maps (bpf/slots.h), sized at load.
 */
#ifndef MT_CAPACITY_H
#define MT_CAPACITY_H

#include <stdint.h>

/*
 * The default's ceiling, the first power of two above 100,000 processes.
 * A slot costs 488 bytes of kernel memory, taken at load (bpftool's memlock
 * of the five process maps: the preallocated array's 448-byte mt_proc, the
 * hashes' buckets, the queues): 61 MiB at the cap. systemd raises pid_max
 * to 4194304 on many machines, where a slot per pid would take 1.9 GiB on
 * every run.
 */
#define MT_PROC_SLOTS_CAP 131072
/* The fewest slots: --max-procs's lower bound. */
#define MT_PROC_SLOTS_MIN 16

/*
 * Slots for a run: requested (--max-procs) when given (non-zero), else one
 * per pid the kernel can hand out (pid_max, as read at start: a process
 * needs a pid), at most MT_PROC_SLOTS_CAP.
 */
uint32_t proc_slots(uint64_t pid_max, unsigned long requested);

/*
 * The default's ceiling for live tasks. The task map is preallocated (an
 * allocating one cost every thread created and ended about 1 us more), 160
 * bytes a task (bpftool's memlock): 160 MiB at the cap, reached only where
 * both pid_max and threads-max (which follows RAM) are above it.
 */
#define MT_TASK_SLOTS_CAP 1048576

/*
 * Task map entries for a run: requested (--max-tasks) when given, else as
 * many tasks as can be alive (each needs a pid and counts against
 * threads-max), at most MT_TASK_SLOTS_CAP.
 */
uint32_t task_slots(uint64_t pid_max, uint64_t threads_max, unsigned long requested);

#endif
