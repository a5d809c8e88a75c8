/* SPDX-License-Identifier: GPL-2.0 */
/*
 * --limit, enforced where the tree's sums change: the change that takes the
 * tree's RSS (or RSS + kernel memory) above the limit is recorded once, and
 * from then on every change that grows the tree (a fault, a fork) gets the
 * task that made it signalled at once, before it returns to user space, even
 * if the tree has meanwhile fallen below as its processes die: the tree is
 * being ended. User space then ends the processes that do not grow.
 */
#ifndef MT_BPF_TREE_LIMIT_H
#define MT_BPF_TREE_LIMIT_H

static __always_inline __s64 limit_usage(const struct mt_mem *m)
{
	return rss_bytes(m) + (limit_kind == MT_LIMIT_TOTAL ? kernel_bytes(m) : 0);
}

/*
 * Under the tree lock, after the change of p (before: p as it was): 0 when
 * nothing is to be done, 1 to signal, 2 to signal and wake user space (the
 * first crossing).
 */
static __always_inline int check_limit(struct mt_tree *t, const struct mt_proc *p,
				       const struct mt_mem *before, __u32 tgid, __u64 now)
{
	__s64 used;

	if (!limit_armed)
		return 0;
	used = limit_usage(&t->cur);
	/* A change that frees memory is never punished. */
	if ((used <= limit_bytes && !t->limit_ns) || limit_usage(&p->cur) <= limit_usage(before))
		return 0;
	if (!t->limit_ns) {
		t->limit_ns = now ? now : 1;
		t->limit_over_bytes = used - limit_bytes;
		t->limit_mem = t->cur;
		t->limit_tgid = tgid;
		return 2;
	}
	return 1;
}

/*
 * The current task made the change (a fault, a fork, an exec). It is
 * signalled only if it belongs to the tree and runs its own program: never
 * memtrace itself (which adds the roots), a debugger writing into a process
 * of the tree, or a kernel thread (bpf_send_signal refuses those).
 */
static __always_inline void signal_over_limit(int over)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	struct mt_tree_slot *slot;
	struct mt_proc *p;
	__u32 *rec;

	/* User space ends the rest of the tree as soon as it wakes: wake it now. */
	if (over == 2) {
		rec = bpf_ringbuf_reserve(&events, 8, 0);
		if (rec) {
			rec[0] = MT_EV_LIMIT;
			rec[1] = 0;
			bpf_ringbuf_submit(rec, BPF_RB_FORCE_WAKEUP);
		}
	}
	p = lookup_proc(tgid, NULL);
	if (!p || (p->flags & MT_PROC_AWAIT_EXEC))
		return;
	if (bpf_send_signal(limit_signal))
		return;
	slot = tree_slot();
	if (slot)
		__sync_fetch_and_add(&slot->tree.limit_signals, 1);
}

#endif
