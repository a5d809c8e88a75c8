/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Process ids as memtrace's own PID namespace numbers them. Tasks carry the
 * initial namespace's numbers, which memtrace keys its maps by; inside a
 * container the user gives, and expects back, the container's numbers: the
 * pid that fork() returned, the pid given to -p, /proc's pids.
 */
#ifndef MT_BPF_PIDNS_H
#define MT_BPF_PIDNS_H

/* memtrace's namespace, learned from its own task by the first iterator pass. */
__u64 my_pidns;
__u32 my_pidns_level;

#define MT_MAX_PIDNS_LEVEL 32 /* the kernel's MAX_PID_NS_LEVEL */

/* struct upid at pid->numbers[level], read by address: the array has no fixed bound. */
static __always_inline int read_upid(struct pid *pid, __u32 level, struct upid *out)
{
	__u64 addr = (__u64)pid + bpf_core_field_offset(struct pid, numbers) +
		     (__u64)level * bpf_core_type_size(struct upid);

	return bpf_probe_read_kernel(out, sizeof(*out), (void *)addr);
}

/* Called in memtrace's own context (the iterator runs in its read()). */
static __always_inline void learn_my_pidns(void)
{
	struct task_struct *self;
	struct upid up;
	struct pid *pid;
	__u32 level;

	if (my_pidns)
		return;
	self = bpf_get_current_task_btf();
	pid = self->thread_pid;
	if (!pid)
		return;
	level = pid->level;
	if (level > MT_MAX_PIDNS_LEVEL || read_upid(pid, level, &up))
		return;
	my_pidns_level = level;
	my_pidns = (__u64)up.ns;
}

/* pid's number in memtrace's namespace; 0 where it is not visible there. */
static __always_inline __u32 nr_in_my_ns(struct pid *pid)
{
	struct upid up;

	if (!pid || !my_pidns)
		return 0;
	if (my_pidns_level > BPF_CORE_READ(pid, level) || my_pidns_level > MT_MAX_PIDNS_LEVEL)
		return 0;
	if (read_upid(pid, my_pidns_level, &up) || (__u64)up.ns != my_pidns)
		return 0;
	return up.nr > 0 ? (__u32)up.nr : 0;
}

/*
 * In the initial namespace, where memtrace mostly runs, its numbers are the
 * task's own: no walk of struct pid (two probe reads per id, and a new task
 * needs four ids).
 */
static __always_inline __u32 ns_tid_of(struct task_struct *t)
{
	if (my_pidns && my_pidns_level == 0)
		return t->pid;
	return nr_in_my_ns(BPF_CORE_READ(t, thread_pid));
}

static __always_inline __u32 ns_tgid_of(struct task_struct *t)
{
	if (my_pidns && my_pidns_level == 0)
		return t->tgid;
	return nr_in_my_ns(BPF_CORE_READ(t, signal, pids[PIDTYPE_TGID]));
}

#endif
