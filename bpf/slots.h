/* SPDX-License-Identifier: GPL-2.0 */
/* Where each followed process's record lives: the process slots. */
#ifndef MT_BPF_SLOTS_H
#define MT_BPF_SLOTS_H

#include "followed_bits.h"

/*
 * Processes live in the slots of an array, found through a hash from tgid to
 * slot: the array lookup is inlined where the hash's is a call, and every
 * rss_stat event needs its process, so a per-CPU cache remembers the slot of
 * the last process seen there; a bit per tgid (followed_bits.h) turns away
 * the processes outside the tree before either. A slot is free while its
 * tgid is 0; it is filled and emptied under the tree lock, where every
 * change checks it.
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 32768); /* user space sets all five maps' (user/capacity.h) */
	__type(key, __u32);
	__type(value, struct mt_proc);
} procs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 32768);
	__type(key, __u32);
	__type(value, __u32);
} proc_slots SEC(".maps");

/* Slots given back by processes that ended. */
struct {
	__uint(type, BPF_MAP_TYPE_QUEUE);
	__uint(max_entries, 32768);
	__type(value, __u32);
} free_slots SEC(".maps");

struct mt_slot_hint {
	__u32 tgid;
	__u32 slot;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct mt_slot_hint);
} slot_hint SEC(".maps");

__u64 slots_used;  /* slots ever handed out, free ones included: user space reads below it */

/* The process in this slot, if the slot still holds tgid. */
static __always_inline struct mt_proc *proc_in_slot(__u32 slot, __u32 tgid)
{
	struct mt_proc *p = bpf_map_lookup_elem(&procs, &slot);

	return p && p->tgid == tgid ? p : NULL;
}

/* The process with this tgid, if followed; its slot through slot_out. */
static __always_inline struct mt_proc *lookup_proc(__u32 tgid, __u32 *slot_out)
{
	struct mt_proc *p;
	__u32 *slot;

	if (!may_be_followed(tgid))
		return NULL;
	slot = bpf_map_lookup_elem(&proc_slots, &tgid);
	if (!slot)
		return NULL;
	p = proc_in_slot(*slot, tgid);
	if (p && slot_out)
		*slot_out = *slot;
	return p;
}

/* lookup_proc() that first tries the slot last found on this CPU. */
static __always_inline struct mt_proc *lookup_proc_hinted(__u32 tgid)
{
	struct mt_slot_hint *hint;
	struct mt_proc *p;
	__u32 zero = 0, slot;

	/* First, before any call: most events are of processes outside the tree. */
	if (!may_be_followed(tgid))
		return NULL;
	hint = bpf_map_lookup_elem(&slot_hint, &zero);
	if (hint && tgid && hint->tgid == tgid) {
		p = proc_in_slot(hint->slot, tgid);
		if (p)
			return p;
	}
	p = lookup_proc(tgid, &slot);
	if (p && hint) {
		hint->tgid = tgid;
		hint->slot = slot;
	}
	return p;
}

static __always_inline int take_slot(__u32 *slot)
{
	__u64 n;

	if (bpf_map_pop_elem(&free_slots, slot) == 0)
		return 0;
	n = __sync_fetch_and_add(&slots_used, 1);
	if (n >= max_procs)
		return -1;
	*slot = n;
	return 0;
}

/* Fill slot p with fresh, or (fresh NULL) empty it if it still holds tgid. */
static __always_inline int set_slot(struct mt_proc *p, const struct mt_proc *fresh, __u32 tgid)
{
	struct mt_tree_slot *slot = tree_slot();

	if (!slot)
		return -1;
	if (tree_lock(slot, MT_KIND_OTHER))
		return -1;
	if (fresh)
		*p = *fresh;
	else if (p->tgid == tgid)
		p->tgid = 0;
	tree_unlock(slot);
	return 0;
}

/* Emptied before it is queued: whoever still holds the slot sees it is not tgid's. */
static __always_inline void give_slot_back(struct mt_proc *p, __u32 slot, __u32 tgid)
{
	set_slot(p, NULL, tgid);
	bpf_map_push_elem(&free_slots, &slot, 0);
}

/*
 * Puts fresh, the record of process tgid, in a slot of its own and publishes
 * it under tgid. Fails with -ENOSPC when no slot is free, -EBUSY when the
 * tree lock timed out (counted there), -EEXIST when another CPU published
 * tgid first.
 */
static __always_inline int add_proc(const struct mt_proc *fresh, __u32 tgid, struct mt_proc **out)
{
	struct mt_proc *p;
	__u32 slot;

	if (take_slot(&slot))
		return -ENOSPC;
	p = bpf_map_lookup_elem(&procs, &slot);
	if (!p || set_slot(p, fresh, 0)) {
		bpf_map_push_elem(&free_slots, &slot, 0);
		return -EBUSY;
	}
	/*
	 * The bit before the entry, so that whoever finds the entry passes the
	 * test (a bit left set by a failed add only costs a lookup), and again
	 * after it, so that an unpublish_proc() of the same tgid racing with
	 * this add cannot leave it clear.
	 */
	mark_followed(tgid);
	if (bpf_map_update_elem(&proc_slots, &tgid, &slot, BPF_NOEXIST)) {
		give_slot_back(p, slot, tgid);
		return -EEXIST;
	}
	mark_followed(tgid);
	*out = p;
	return 0;
}

/* Takes tgid out of proc_slots and its bit, unless an add of it published it again. */
static __always_inline void unpublish_proc(__u32 tgid)
{
	bpf_map_delete_elem(&proc_slots, &tgid);
	unmark_followed(tgid);
	if (bpf_map_lookup_elem(&proc_slots, &tgid))
		mark_followed(tgid);
}

#endif
