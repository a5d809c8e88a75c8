/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What user space sets before load (read-only to the programs), the kfuncs
 * memtrace calls, and the few kernel constants vmlinux.h does not carry.
 */
#ifndef MT_BPF_CONFIG_H
#define MT_BPF_CONFIG_H

#define MAX_CPUS MT_MAX_CPUS
#define UNROLLED_CPUS 8
#define PF_EXITING 0x00000004
#define PF_KTHREAD 0x00200000
#define CLONE_VM 0x00000100
#define CLONE_THREAD 0x00010000
#define EEXIST 17
#define EBUSY 16
#define ENOSPC 28

/* Set by user space before load. */
const volatile __u32 page_shift = 12;
const volatile __u32 nr_cpus = 1;
const volatile __u64 thread_bytes;          /* task_struct slab object + small slabs */
const volatile __u64 default_kstack_bytes = 16384;
const volatile __u32 task_records;          /* send a record per thread exit (--tasks) */
const volatile __u32 max_procs = 32768;     /* slots in procs */
const volatile __u32 exec_args;             /* send each exec's command line (-v, --json) */
/*
 * Tests only (MEMTRACE_TEST_FAIL_LOCK): the first tree lock taken for each
 * event kind in this mask fails as a timed-out lock would, so that the
 * healing of lost changes can be shown. Zero in normal runs, where the
 * verifier drops the check.
 */
const volatile __u32 test_fail_lock;
/*
 * Tests only (MEMTRACE_TEST_EXIT_SPIN_NS): the exit that ends a process
 * spins this long after its change, so that changes of its mm racing with
 * that exit (another process writing its pages) reach the lock in between.
 */
const volatile __u64 test_exit_spin_ns;
const volatile __s64 limit_bytes;           /* --limit; 0: none */
const volatile __u32 limit_kind;            /* MT_LIMIT_RSS or MT_LIMIT_TOTAL */
const volatile __u32 limit_signal = 9;      /* --limit-signal (SIGKILL) */
/* Set by user space once the tree is known to start below --limit. */
__u32 limit_armed;

extern void *bpf_rdonly_cast(const void *obj, __u32 btf_id) __ksym;

#endif
