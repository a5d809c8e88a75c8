/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The tree lock, which every change of the tree's sums and peaks holds. The
 * object is built twice from the same source, and user space loads the one
 * the kernel can run (user/kernel_check.c):
 *
 * - bpf_res_spin_lock (Linux 6.15 and newer): a resilient lock that gives
 *   up after a timeout or on a detected deadlock; a change that could not
 *   take it is lost, and counted (lock_fails).
 * - bpf_spin_lock (MT_TREE_LOCK_SPIN, for 6.2 to 6.14): the verifier lets
 *   tp_btf and iter programs (BPF_PROG_TYPE_TRACING) hold it. It cannot
 *   time out, and cannot deadlock here: it is held with interrupts off,
 *   over plain loads and stores only (the verifier allows no call inside),
 *   so nothing that fires a tracepoint runs while it is held.
 *
 * tree_lock_raw() returns 0 once the lock is held; tree.h's tree_lock() counts
 * a failure and keeps what the change would have done.
 */
#ifndef MT_BPF_TREE_LOCK_H
#define MT_BPF_TREE_LOCK_H

#ifdef MT_TREE_LOCK_SPIN
static __always_inline int tree_lock_raw(struct mt_tree_slot *slot)
{
	bpf_spin_lock(&slot->lock);
	return 0;
}

static __always_inline void tree_unlock_raw(struct mt_tree_slot *slot)
{
	bpf_spin_unlock(&slot->lock);
}
#else
extern int bpf_res_spin_lock(struct bpf_res_spin_lock *lock) __ksym;
extern void bpf_res_spin_unlock(struct bpf_res_spin_lock *lock) __ksym;

static __always_inline int tree_lock_raw(struct mt_tree_slot *slot)
{
	return bpf_res_spin_lock(&slot->lock);
}

static __always_inline void tree_unlock_raw(struct mt_tree_slot *slot)
{
	bpf_res_spin_unlock(&slot->lock);
}
#endif

#endif
