/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The tree's sums and peaks. Every change of a process is applied to the
 * process and to the tree under one lock (tree_lock.h), so a peak and the
 * per-process breakdown recorded with it always describe the same instant.
 */
#ifndef MT_BPF_TREE_H
#define MT_BPF_TREE_H

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct mt_tree_slot);
} tree_map SEC(".maps");

/* A change of one process, applied under the tree lock. */
struct mt_change {
	__s64 pages[MT_NR_MEMBERS];
	__s64 pgtables_bytes;
	__s64 d_kstack_bytes;
	__s64 d_threads;
	__s64 d_procs;
	__u32 set_pages;    /* bit per member: take pages[m] */
	__u32 set_pgtables;
	__u32 zero;         /* the process died: it holds nothing any more */
	__u32 rss_event;    /* an rss_stat update: skipped before the first exec */
};

static __always_inline struct mt_tree_slot *tree_slot(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&tree_map, &zero);
}

static __always_inline __s64 rss_bytes(const struct mt_mem *m)
{
	return (m->pages[MT_FILE] + m->pages[MT_ANON] + m->pages[MT_SHMEM]) << page_shift;
}

static __always_inline __s64 kernel_bytes(const struct mt_mem *m)
{
	return m->pgtables_bytes + m->kstack_bytes + m->threads * (__s64)thread_bytes;
}

static __always_inline void read_mm(struct mm_struct *mm, struct mt_change *c)
{
	c->pages[MT_FILE] = exact_counter(&mm->rss_stat[MM_FILEPAGES]);
	c->pages[MT_ANON] = exact_counter(&mm->rss_stat[MM_ANONPAGES]);
	c->pages[MT_SWAP] = exact_counter(&mm->rss_stat[MM_SWAPENTS]);
	c->pages[MT_SHMEM] = exact_counter(&mm->rss_stat[MM_SHMEMPAGES]);
	c->set_pages = 0xf;
	c->pgtables_bytes = BPF_CORE_READ(mm, pgtables_bytes.counter);
	c->set_pgtables = 1;
}

static __always_inline void snapshot_before_change(struct mt_proc *p, struct mt_tree *t)
{
	if (p->snap_gen[MT_PEAK_RSS] != t->gen[MT_PEAK_RSS]) {
		p->at_peak[MT_PEAK_RSS] = p->cur;
		p->snap_gen[MT_PEAK_RSS] = t->gen[MT_PEAK_RSS];
	}
	if (p->snap_gen[MT_PEAK_TOTAL] != t->gen[MT_PEAK_TOTAL]) {
		p->at_peak[MT_PEAK_TOTAL] = p->cur;
		p->snap_gen[MT_PEAK_TOTAL] = t->gen[MT_PEAK_TOTAL];
	}
}

static __always_inline void mem_add_diff(struct mt_mem *dst, const struct mt_mem *now,
					 const struct mt_mem *before)
{
	dst->pages[0] += now->pages[0] - before->pages[0];
	dst->pages[1] += now->pages[1] - before->pages[1];
	dst->pages[2] += now->pages[2] - before->pages[2];
	dst->pages[3] += now->pages[3] - before->pages[3];
	dst->pgtables_bytes += now->pgtables_bytes - before->pgtables_bytes;
	dst->kstack_bytes += now->kstack_bytes - before->kstack_bytes;
	dst->threads += now->threads - before->threads;
}

static __always_inline void check_peaks(struct mt_tree *t, struct mt_proc *p, __u64 now)
{
	__s64 rss = rss_bytes(&t->cur);
	__s64 kern = kernel_bytes(&t->cur);
	__s64 own = rss_bytes(&p->cur);

	if (rss > t->peak_bytes[MT_PEAK_RSS]) {
		t->gen[MT_PEAK_RSS]++;
		t->peak_bytes[MT_PEAK_RSS] = rss;
		t->peak_ns[MT_PEAK_RSS] = now;
		t->peak_mem[MT_PEAK_RSS] = t->cur;
		t->peak_procs[MT_PEAK_RSS] = t->procs_live;
		p->at_peak[MT_PEAK_RSS] = p->cur;
		p->snap_gen[MT_PEAK_RSS] = t->gen[MT_PEAK_RSS];
	}
	if (rss + kern > t->peak_bytes[MT_PEAK_TOTAL]) {
		t->gen[MT_PEAK_TOTAL]++;
		t->peak_bytes[MT_PEAK_TOTAL] = rss + kern;
		t->peak_ns[MT_PEAK_TOTAL] = now;
		t->peak_mem[MT_PEAK_TOTAL] = t->cur;
		t->peak_procs[MT_PEAK_TOTAL] = t->procs_live;
		p->at_peak[MT_PEAK_TOTAL] = p->cur;
		p->snap_gen[MT_PEAK_TOTAL] = t->gen[MT_PEAK_TOTAL];
	}
	if (kern > t->kernel_peak_bytes) {
		t->kernel_peak_bytes = kern;
		t->kernel_peak_ns = now;
		t->kernel_peak_mem = t->cur;
	}
	if (t->cur.threads > t->threads_peak)
		t->threads_peak = t->cur.threads;
	if (t->procs_live > t->procs_peak)
		t->procs_peak = t->procs_live;
	if (own > rss_bytes(&p->own_peak)) {
		p->own_peak = p->cur;
		p->own_peak_ns = now;
		p->own_peak_kernel_bytes = kernel_bytes(&p->cur);
	}
	if (p->cur.threads > p->peak_threads)
		p->peak_threads = p->cur.threads;
}

/*
 * Apply one change of process p to p and to the tree's sums, then raise the
 * peaks it beats. Returns the tree gens after the change through gen_out
 * (may be NULL). A timed-out lock loses the change; it is counted.
 */
static __always_inline int apply_change(struct mt_proc *p, __u32 tgid, const struct mt_change *c,
					__u64 now, __u64 *gen_out)
{
	struct mt_tree_slot *slot = tree_slot();
	struct mt_tree *t;
	struct mt_mem before;
	int applied = 0;

	if (!slot)
		return 0;
	if (tree_lock(slot)) {
		__sync_fetch_and_add(&slot->tree.lock_fails, 1);
		return 0;
	}
	t = &slot->tree;
	/* The slot may have been emptied, or given to another process, meanwhile. */
	if (p->tgid != tgid || (p->flags & MT_PROC_DEAD))
		goto unlock;
	if (c->rss_event && (p->flags & MT_PROC_AWAIT_EXEC))
		goto unlock;

	snapshot_before_change(p, t);
	before = p->cur;
	if (c->zero) {
		__builtin_memset(&p->cur, 0, sizeof(p->cur));
	} else {
		if (c->set_pages & 1)
			p->cur.pages[0] = c->pages[0];
		if (c->set_pages & 2)
			p->cur.pages[1] = c->pages[1];
		if (c->set_pages & 4)
			p->cur.pages[2] = c->pages[2];
		if (c->set_pages & 8)
			p->cur.pages[3] = c->pages[3];
		if (c->set_pgtables)
			p->cur.pgtables_bytes = c->pgtables_bytes;
		p->cur.kstack_bytes += c->d_kstack_bytes;
		p->cur.threads += c->d_threads;
	}
	mem_add_diff(&t->cur, &p->cur, &before);
	t->procs_live += c->d_procs;
	if (c->d_procs > 0)
		t->procs_total++;
	if (c->d_threads > 0) {
		t->threads_total += c->d_threads;
		p->threads_total += c->d_threads;
	}
	t->events++;
	check_peaks(t, p, now);
	if (gen_out) {
		gen_out[0] = t->gen[0];
		gen_out[1] = t->gen[1];
	}
	applied = 1;
unlock:
	tree_unlock(slot);
	return applied;
}

static __always_inline void count(__u64 *field)
{
	__sync_fetch_and_add(field, 1);
}

static __always_inline void count_tree(int which)
{
	struct mt_tree_slot *slot = tree_slot();

	if (!slot)
		return;
	if (which == 0)
		count(&slot->tree.map_full);
	else
		count(&slot->tree.ringbuf_drops);
}

#define COUNT_MAP_FULL 0
#define COUNT_RINGBUF_DROP 1


#endif
