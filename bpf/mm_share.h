/* SPDX-License-Identifier: GPL-2.0 */
/*
 * One mm, several processes: vfork children until they exec, and CLONE_VM
 * children without CLONE_THREAD. The mm's pages count once, in its holder;
 * the others (MT_PROC_SHARED_VM) hold none. When the holder exits or execs
 * while another process of the tree still runs on the mm, the pages move to
 * that process in the same locked change, so the tree never drops them.
 *
 * mm->owner names the task rss_stat events are charged to, but the kernel
 * moves it by its own rules (mm_update_next_owner) and may pick a process
 * memtrace does not follow (attached to a CLONE_VM child only): events whose
 * owner is not the holder look the holder up here, by mm. Only processes
 * whose mm may be shared have an entry, and the lookup happens only while
 * some entry exists, so the common case pays nothing.
 */
#ifndef MT_BPF_MM_SHARE_H
#define MT_BPF_MM_SHARE_H

struct mt_mm_share {
	__u32 holder;  /* tgid of the process that counts the mm's pages */
	__u32 sharers; /* other followed processes on it */
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 32768);
	__type(key, __u64);
	__type(value, struct mt_mm_share);
} mm_shares SEC(".maps");

__u64 shared_mms; /* entries in mm_shares */

/* Records that holder's mm may be shared. Returns the entry's holder. */
static __always_inline __u32 mm_share_note(__u64 mm, __u32 holder)
{
	struct mt_mm_share fresh = { .holder = holder }, *s;

	if (bpf_map_update_elem(&mm_shares, &mm, &fresh, BPF_NOEXIST) == 0) {
		__sync_fetch_and_add(&shared_mms, 1);
		return holder;
	}
	s = bpf_map_lookup_elem(&mm_shares, &mm);
	return s ? s->holder : holder;
}

static __always_inline void mm_share_forget(__u64 mm)
{
	if (bpf_map_delete_elem(&mm_shares, &mm) == 0)
		__sync_fetch_and_add(&shared_mms, -1);
}

/* A process joins mm as a sharer; returns the holder's tgid. */
static __always_inline __u32 mm_share_join(__u64 mm, __u32 holder_if_new)
{
	struct mt_mm_share *s;
	__u32 holder = mm_share_note(mm, holder_if_new);

	s = bpf_map_lookup_elem(&mm_shares, &mm);
	if (s)
		__sync_fetch_and_add(&s->sharers, 1);
	return holder;
}

/* A sharer leaves mm (exec or exit): the last one out removes the entry. */
static __always_inline void mm_share_leave(__u64 mm)
{
	struct mt_mm_share *s = bpf_map_lookup_elem(&mm_shares, &mm);

	if (s && __sync_fetch_and_add(&s->sharers, -1) <= 1)
		mm_share_forget(mm);
}

/* The process counting mm's pages, for an event whose mm->owner is not followed as its holder. */
static __always_inline struct mt_proc *mm_holder_proc(struct mm_struct *mm, __u32 *tgid)
{
	__u64 key = (__u64)mm;
	struct mt_mm_share *s;
	struct mt_proc *p;

	s = bpf_map_lookup_elem(&mm_shares, &key);
	if (!s)
		return NULL;
	*tgid = s->holder;
	p = lookup_proc(*tgid, NULL);
	return p && p->mm == key ? p : NULL;
}

struct mt_sharer_search {
	__u64 mm;
	__u32 except;
	__u32 slot;
	__u32 tgid;
	__u32 found;
};

static long match_sharer(__u32 slot, struct mt_sharer_search *s)
{
	struct mt_proc *p = bpf_map_lookup_elem(&procs, &slot);

	if (!p || !p->tgid || p->tgid == s->except || p->mm != s->mm ||
	    (p->flags & MT_PROC_DEAD))
		return 0;
	s->slot = slot;
	s->tgid = p->tgid;
	s->found = 1;
	return 1;
}

/* Another live followed process on mm, if any: the successor of its holder. */
static __always_inline struct mt_proc *find_sharer(__u64 mm, __u32 except, __u32 *tgid)
{
	struct mt_sharer_search s = { .mm = mm, .except = except };
	__u64 n = slots_used;

	if (n > max_procs)
		n = max_procs;
	bpf_loop((__u32)n, match_sharer, &s, 0);
	if (!s.found)
		return NULL;
	*tgid = s.tgid;
	return proc_in_slot(s.slot, s.tgid);
}

/*
 * The holder `from` leaves its mm (exit: c zeroes it; exec: c holds its new
 * mm): its pages and page tables move to `to`, in one locked change, and the
 * entry names `to` as the holder. Returns apply_change()'s codes.
 */
static __always_inline int hand_over_mm(struct mt_proc *from, __u32 from_tgid,
					const struct mt_change *c, struct mt_proc *to,
					__u32 to_tgid, __u64 now, __u64 *gen_out)
{
	struct mt_tree_slot *slot = tree_slot();
	struct mt_change take = { .kind = MT_KIND_OTHER, .clear_flags = MT_PROC_SHARED_VM };
	struct mt_mm_share *share;
	__u64 mm = from->mm;
	int r = 0;

	if (!slot)
		return 0;
	take.seq = read_ticket(to);
	if (tree_lock(slot, c->kind))
		return -1;
	if (change_allowed(from, from_tgid, c) && change_allowed(to, to_tgid, &take) &&
	    to->mm == mm) {
		take.pages[0] = from->cur.pages[0];
		take.pages[1] = from->cur.pages[1];
		take.pages[2] = from->cur.pages[2];
		take.pages[3] = from->cur.pages[3];
		take.pgtables_bytes = from->cur.pgtables_bytes;
		take.set_pages = 0xf;
		take.set_pgtables = 1;
		/* from first: the tree never holds the mm twice, not even in between. */
		change_locked(&slot->tree, from, c, now);
		change_locked(&slot->tree, to, &take, now);
		if (gen_out) {
			gen_out[0] = slot->tree.gen[0];
			gen_out[1] = slot->tree.gen[1];
		}
		r = 1;
	}
	tree_unlock(slot);
	if (r == 1) {
		/* Its values were the holder's last: re-read them at its next change. */
		__sync_fetch_and_or(&to->flags, MT_PROC_RESYNC);
		share = bpf_map_lookup_elem(&mm_shares, &mm);
		if (share) {
			share->holder = to_tgid;
			mm_share_leave(mm);
		}
	}
	return r;
}

#endif
