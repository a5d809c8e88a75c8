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

/* Which event a change comes from: for lock-failure healing and its test hook. */
enum mt_kind {
	MT_KIND_EXEC = 1,
	MT_KIND_EXIT = 2,
	MT_KIND_RSS = 4,
	MT_KIND_FORK = 8,
	MT_KIND_OTHER = 16,
};

/* A change of one process, applied under the tree lock. */
struct mt_change {
	__s64 pages[MT_NR_MEMBERS];
	__s64 pgtables_bytes;
	__s64 d_kstack_bytes;
	__s64 d_threads;
	__s64 d_procs;
	__u64 seq;          /* read_ticket() taken before pages/pgtables were read */
	__u32 set_pages;    /* bit per member: take pages[m] */
	__u32 set_pgtables;
	__u32 zero;         /* the process died: it holds nothing any more */
	__u32 rss_event;    /* a change of the mm: skipped before the first exec */
	__u32 kind;         /* enum mt_kind */
	__u32 clear_flags;  /* MT_PROC_* flags that this change settles */
	__u32 partial;      /* a counter could not be read whole: re-read the mm at the next change */
	__u32 pad;
};

__u32 test_failed_kinds; /* kinds whose injected lock failure has happened */
/* --limit, in tree_limit.h: whether a change took the tree above it; who gets the signal. */
static __always_inline int check_limit(struct mt_tree *t, const struct mt_proc *p,
				       const struct mt_mem *before, __u32 tgid, __u64 now);
static __always_inline void signal_over_limit(int over);

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

/*
 * Takes the tree lock. A failure (the resilient lock timed out or saw a
 * deadlock) is counted; the caller keeps what it could not apply for the
 * next change (defer_change()).
 */
static __always_inline int tree_lock(struct mt_tree_slot *slot, __u32 kind)
{
	if ((test_fail_lock & kind) && !(__sync_fetch_and_or(&test_failed_kinds, kind) & kind)) {
		__sync_fetch_and_add(&slot->tree.lock_fails, 1);
		return -1;
	}
	if (tree_lock_raw(slot)) {
		__sync_fetch_and_add(&slot->tree.lock_fails, 1);
		return -1;
	}
	return 0;
}

static __always_inline void tree_unlock(struct mt_tree_slot *slot)
{
	tree_unlock_raw(slot);
}

/*
 * Counter reads race: two threads of one process fault on two CPUs, and the
 * read taken first may reach the lock last. Each read takes a ticket first
 * (a locked add: every counter update made before it is visible to reads
 * that follow it), and a value is applied only if its ticket is newer than
 * the one that value already holds.
 */
static __always_inline __u64 read_ticket(struct mt_proc *p)
{
	return __sync_fetch_and_add(&p->read_seq, 1) + 1;
}

/* Every counter of mm; one that could not be read whole leaves the process to re-read. */
static __always_inline void read_mm(struct mm_struct *mm, struct mt_change *c)
{
	c->set_pages = 0;
	if (exact_counter_slow(&mm->rss_stat[MM_FILEPAGES], &c->pages[MT_FILE]) == 0)
		c->set_pages |= 1 << MT_FILE;
	if (exact_counter_slow(&mm->rss_stat[MM_ANONPAGES], &c->pages[MT_ANON]) == 0)
		c->set_pages |= 1 << MT_ANON;
	if (exact_counter_slow(&mm->rss_stat[MM_SWAPENTS], &c->pages[MT_SWAP]) == 0)
		c->set_pages |= 1 << MT_SWAP;
	if (exact_counter_slow(&mm->rss_stat[MM_SHMEMPAGES], &c->pages[MT_SHMEM]) == 0)
		c->set_pages |= 1 << MT_SHMEM;
	c->partial = c->set_pages != 0xf;
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

/*
 * A new peak leaves p's snapshot stale on purpose: p holds cur at that peak
 * until its next change, whose snapshot_before_change() takes it, and
 * records_finish() reads cur while the snapshot is stale. A growing storm
 * sets a peak at every fault, and skipping two copies there is measurable.
 */
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
	}
	if (rss + kern > t->peak_bytes[MT_PEAK_TOTAL]) {
		t->gen[MT_PEAK_TOTAL]++;
		t->peak_bytes[MT_PEAK_TOTAL] = rss + kern;
		t->peak_ns[MT_PEAK_TOTAL] = now;
		t->peak_mem[MT_PEAK_TOTAL] = t->cur;
		t->peak_procs[MT_PEAK_TOTAL] = t->procs_live;
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

/* Takes the newer of a value and the read it replaces (read_ticket()). */
#define TAKE_IF_NEWER(dst, dst_seq, val, seq)                                                       \
	do {                                                                                       \
		if ((seq) > (dst_seq)) {                                                           \
			(dst) = (val);                                                             \
			(dst_seq) = (seq);                                                         \
		}                                                                                  \
	} while (0)

/*
 * Applies change c to p and to the tree's sums; the lock is held. Folds in
 * what earlier changes of p could not apply (pending threads, an arrival not
 * yet counted), so that a lost lock loses nothing for good. Returns what
 * check_limit() says (0 without --limit).
 */
static __always_inline int change_locked(struct mt_tree *t, struct mt_proc *p,
					 const struct mt_change *c, __u64 now)
{
	__s64 d_threads = c->d_threads, d_kstack = c->d_kstack_bytes, d_procs = c->d_procs;
	struct mt_mem before;

	snapshot_before_change(p, t);
	before = p->cur;
	if (p->pend_threads || p->pend_kstack_bytes) {
		d_threads += __sync_lock_test_and_set(&p->pend_threads, 0);
		d_kstack += __sync_lock_test_and_set(&p->pend_kstack_bytes, 0);
	}
	if (p->flags & MT_PROC_UNCOUNTED) {
		__sync_fetch_and_and(&p->flags, ~MT_PROC_UNCOUNTED);
		d_procs++;
		t->procs_total++;
	}
	if (c->zero) {
		/*
		 * Dead in the same locked change that empties it: a change of its
		 * mm that read its counters before and takes the lock after (a
		 * remote write, another thread's exit, the mm's teardown) is
		 * refused by change_allowed(), not applied to a process that ended.
		 */
		__sync_fetch_and_or(&p->flags, MT_PROC_DEAD);
		__builtin_memset(&p->cur, 0, sizeof(p->cur));
		if (p->flags & MT_PROC_ZERO_PENDING) {
			__sync_fetch_and_and(&p->flags, ~MT_PROC_ZERO_PENDING);
			t->zero_pending--;
		}
	} else {
		if (c->set_pages & 1)
			TAKE_IF_NEWER(p->cur.pages[0], p->applied_seq[0], c->pages[0], c->seq);
		if (c->set_pages & 2)
			TAKE_IF_NEWER(p->cur.pages[1], p->applied_seq[1], c->pages[1], c->seq);
		if (c->set_pages & 4)
			TAKE_IF_NEWER(p->cur.pages[2], p->applied_seq[2], c->pages[2], c->seq);
		if (c->set_pages & 8)
			TAKE_IF_NEWER(p->cur.pages[3], p->applied_seq[3], c->pages[3], c->seq);
		if (c->set_pgtables)
			TAKE_IF_NEWER(p->cur.pgtables_bytes, p->pgtables_seq, c->pgtables_bytes, c->seq);
		p->cur.kstack_bytes += d_kstack;
		p->cur.threads += d_threads;
	}
	if (c->clear_flags)
		__sync_fetch_and_and(&p->flags, ~c->clear_flags);
	if (c->partial)
		__sync_fetch_and_or(&p->flags, MT_PROC_RESYNC);
	mem_add_diff(&t->cur, &p->cur, &before);
	t->procs_live += d_procs;
	if (c->d_procs > 0)
		t->procs_total++;
	if (d_threads > 0) {
		t->threads_total += d_threads;
		p->threads_total += d_threads;
	}
	t->events++;
	check_peaks(t, p, now);
	return limit_bytes ? check_limit(t, p, &before, p->tgid, now) : 0;
}

/* Whether c may still change p: the slot holds tgid, and p is alive (or owes its exit). */
static __always_inline int change_allowed(const struct mt_proc *p, __u32 tgid,
					  const struct mt_change *c)
{
	if (p->tgid != tgid)
		return 0;
	if ((p->flags & MT_PROC_DEAD) && !(c->zero && (p->flags & MT_PROC_ZERO_PENDING)))
		return 0;
	if (c->rss_event && (p->flags & MT_PROC_AWAIT_EXEC))
		return 0;
	return 1;
}

/*
 * Apply one change of process p to p and to the tree's sums, then raise the
 * peaks it beats. Returns 1 when applied, 0 when it no longer applies (the
 * slot was emptied or given to another process meanwhile), -1 when the tree
 * lock failed (counted; see defer_change()). The tree gens after the change
 * go to gen_out (may be NULL).
 */
static __always_inline int apply_change(struct mt_proc *p, __u32 tgid, const struct mt_change *c,
					__u64 now, __u64 *gen_out)
{
	struct mt_tree_slot *slot = tree_slot();
	int applied = 0, over = 0;

	if (!slot)
		return 0;
	if (tree_lock(slot, c->kind))
		return -1;
	if (change_allowed(p, tgid, c)) {
		over = change_locked(&slot->tree, p, c, now);
		if (gen_out) {
			gen_out[0] = slot->tree.gen[0];
			gen_out[1] = slot->tree.gen[1];
		}
		applied = 1;
	}
	tree_unlock(slot);
	/* No helper may run under the lock: the signal goes after it. */
	if (over)
		signal_over_limit(over);
	return applied;
}

/*
 * Keeps what a change whose lock failed would have done, so that the next
 * change of p applies it: thread counts and kernel stacks as pending sums,
 * a new process's arrival as a flag, and a lost counter value as a flag to
 * re-read the whole mm. (A lost exit is queued by the exit path itself.)
 */
static __always_inline void defer_change(struct mt_proc *p, __u32 tgid, const struct mt_change *c)
{
	struct mt_tree_slot *slot = tree_slot();

	if (p->tgid != tgid)
		return;
	if (c->d_threads)
		__sync_fetch_and_add(&p->pend_threads, c->d_threads);
	if (c->d_kstack_bytes)
		__sync_fetch_and_add(&p->pend_kstack_bytes, c->d_kstack_bytes);
	if (c->d_procs > 0)
		__sync_fetch_and_or(&p->flags, MT_PROC_UNCOUNTED);
	if (c->set_pages || c->set_pgtables) {
		__sync_fetch_and_or(&p->flags, MT_PROC_RESYNC);
		if (slot)
			__sync_fetch_and_add(&slot->tree.resyncs, 1);
	}
}

/* apply_change(), keeping the change for later when the lock fails. */
static __always_inline int apply_or_defer(struct mt_proc *p, __u32 tgid, const struct mt_change *c,
					  __u64 now, __u64 *gen_out)
{
	int r = apply_change(p, tgid, c, now, gen_out);

	if (r < 0)
		defer_change(p, tgid, c);
	return r;
}

/* The tree's gens after a change (apply_change()'s gen_out), one object for the functions below. */
struct mt_gens {
	__u64 gen[MT_NR_PEAKS];
};

/*
 * apply_change() and apply_or_defer() for the slow paths (fork, exec, exit,
 * the iterator, page-table re-reads): global functions, which the verifier
 * checks once instead of at every caller, and start-up is mostly the
 * verifier's time. rss_stat, at every fault, keeps the inlined ones.
 */
__noinline int mt_apply_change(struct mt_proc *p, __u32 tgid, const struct mt_change *c, __u64 now,
			       struct mt_gens *gens)
{
	if (!p || !c)
		return 0;
	return apply_change(p, tgid, c, now, gens ? gens->gen : NULL);
}

__noinline int mt_apply_or_defer(struct mt_proc *p, __u32 tgid, const struct mt_change *c, __u64 now,
				 struct mt_gens *gens)
{
	if (!p || !c)
		return 0;
	return apply_or_defer(p, tgid, c, now, gens ? gens->gen : NULL);
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
