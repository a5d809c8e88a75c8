/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What reaches user space through the ring buffer: one record per process
 * that ended (and, with --tasks, per thread), and the exits that wait to be
 * applied because their lock failed.
 */
#ifndef MT_BPF_EXIT_RECORDS_H
#define MT_BPF_EXIT_RECORDS_H

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 8 << 20);
} events SEC(".maps");

/* Slots of dead processes whose exit could not be applied yet (heal_pending_exit()). */
struct {
	__uint(type, BPF_MAP_TYPE_QUEUE);
	__uint(max_entries, 32768);
	__type(value, __u32);
} pending_exits SEC(".maps");

/*
 * Waking user space for every record costs more than the record when
 * thousands of threads exit at once; it polls every 100 ms anyway, so wake
 * it only once a good share of the buffer waits.
 */
#define WAKE_AFTER_BYTES (256 << 10)

static __always_inline __u64 submit_flags(void)
{
	return bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) > WAKE_AFTER_BYTES ? BPF_RB_FORCE_WAKEUP
										   : BPF_RB_NO_WAKEUP;
}

/* Sends the record of a process whose exit is applied, once, and frees its slot. */
static __always_inline void report_proc(struct mt_proc *proc, __u32 tgid, __u32 slot)
{
	struct mt_tree_slot *ts;
	struct mt_proc_event *pe;

	if (__sync_fetch_and_or(&proc->flags, MT_PROC_REPORTED) & MT_PROC_REPORTED)
		return;
	pe = bpf_ringbuf_reserve(&events, sizeof(*pe), 0);
	if (pe) {
		pe->kind = MT_EV_PROC_EXIT;
		pe->pad = 0;
		pe->proc = *proc;
		bpf_ringbuf_submit(pe, submit_flags());
	} else {
		count_tree(COUNT_RINGBUF_DROP);
		ts = tree_slot();
		if (ts)
			__sync_fetch_and_add(&ts->tree.proc_records_dropped, 1);
	}
	unpublish_proc(tgid);
	give_slot_back(proc, slot, tgid);
}

/* Its exit is applied and its last thread is gone: report it. */
static __always_inline void report_if_done(struct mt_proc *proc, __u32 tgid, __u32 slot)
{
	__u32 flags = proc->flags;

	if ((flags & MT_PROC_DEAD) && !(flags & MT_PROC_ZERO_PENDING) && proc->tasks_alive <= 0)
		report_proc(proc, tgid, slot);
}

/* The exit of proc could not take the lock: queue it for heal_pending_exit(). */
static __always_inline void defer_exit(struct mt_proc *proc, __u32 slot)
{
	struct mt_tree_slot *ts = tree_slot();

	__sync_fetch_and_or(&proc->flags, MT_PROC_ZERO_PENDING);
	if (ts)
		__sync_fetch_and_add(&ts->tree.zero_pending, 1);
	if (bpf_map_push_elem(&pending_exits, &slot, 0))
		count_tree(COUNT_MAP_FULL);
}

/*
 * Applies one exit whose lock had failed. Called from the slow paths (fork,
 * exec, exit, the iterator user space runs every second): a dead process
 * holds its pages in the tree only until the next of these.
 */
static __noinline void heal_pending_exit(void)
{
	struct mt_change c = { .zero = 1, .d_procs = -1, .kind = MT_KIND_OTHER };
	struct mt_tree_slot *ts = tree_slot();
	struct mt_proc *proc;
	__u32 slot, tgid;
	int r;

	if (!ts || !ts->tree.zero_pending)
		return;
	if (bpf_map_pop_elem(&pending_exits, &slot))
		return;
	proc = bpf_map_lookup_elem(&procs, &slot);
	if (!proc || !(proc->flags & MT_PROC_ZERO_PENDING))
		return;
	tgid = proc->tgid;
	r = mt_apply_change(proc, tgid, &c, bpf_ktime_get_ns(), (struct mt_gens *)proc->exit_gen);
	if (r < 0) {
		bpf_map_push_elem(&pending_exits, &slot, 0);
		return;
	}
	report_if_done(proc, tgid, slot);
}

#endif
