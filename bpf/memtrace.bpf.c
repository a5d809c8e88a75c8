// SPDX-License-Identifier: GPL-2.0
/*
 * The kernel side of memtrace: which tasks belong to the traced tree, and what
 * each of its processes holds, exactly, at every change.
 *
 * RSS is read from mm->rss_stat[], a percpu_counter since 6.2: its "count"
 * alone lags by up to ncpu * 32 pages, so every update sums the per-CPU parts
 * too, as the kernel's percpu_counter_sum() does. No exported symbol gives the
 * per-CPU offsets here (no KALLSYMS_ALL), so they are derived from a one-entry
 * PERCPU_ARRAY: the address bpf_map_lookup_percpu_elem() returns for a CPU
 * minus the array's own per-CPU base pointer.
 *
 * All changes of the tree's sums and peaks happen under one resilient spin
 * lock, so a peak and the per-process breakdown recorded with it always
 * describe the same instant.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "memtrace.h"

char LICENSE[] SEC("license") = "GPL";

#define MAX_CPUS MT_MAX_CPUS
#define UNROLLED_CPUS 8
#define PF_KTHREAD 0x00200000
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

extern int bpf_res_spin_lock(struct bpf_res_spin_lock *lock) __ksym;
extern void *bpf_rdonly_cast(const void *obj, __u32 btf_id) __ksym;
extern void bpf_res_spin_unlock(struct bpf_res_spin_lock *lock) __ksym;

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct mt_tree_slot);
} tree_map SEC(".maps");

/*
 * Processes live in the slots of an array, found through a hash from tgid to
 * slot: the array lookup is inlined where the hash's is a call, and every
 * rss_stat event needs its process, so a per-CPU cache remembers the slot of
 * the last process seen there. A slot is free while its tgid is 0; it is
 * filled and emptied under the tree lock, where every change checks it.
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 32768);
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

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 1048576);
	__type(key, __u32);
	__type(value, struct mt_task);
} tasks SEC(".maps");

/* Processes the task iterator must add, with the MT_PROC_* flags they start with. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, __u32);
} roots SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 8 << 20);
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} cpu_probe SEC(".maps");

/* A new process record is too large for the 512-byte BPF stack. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct mt_proc);
} scratch SEC(".maps");

/* The time read for the running task's latest RSS change, per CPU (event_time()). */
struct mt_clock {
	__u64 ns;
	__u64 jiffies;
	__u64 switches; /* the task's context switches when it was read */
	__u32 tid;
	__u32 reuses;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct mt_clock);
} clock_cache SEC(".maps");

__u64 cpu_offset[MAX_CPUS];
__u32 cpu_offset_ready;
__u64 slots_used;  /* slots ever handed out, free ones included: user space reads below it */
__u64 iter_added;  /* tasks the task iterator added in its last pass */
__u64 iter_faults; /* faults of the followed live tasks it saw in that pass */

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

/*
 * The verifier forbids arithmetic on map pointers; copied through
 * bpf_probe_read_kernel() the address becomes a plain number (root may).
 */
static __always_inline __u64 address_of(void *p)
{
	__u64 addr = 0;

	bpf_probe_read_kernel(&addr, sizeof(addr), &p);
	return addr;
}

struct mt_offset_ctx {
	__u64 base;
};

static long learn_cpu_offset(__u32 cpu, struct mt_offset_ctx *ctx)
{
	__u32 zero = 0;
	void *p;

	if (cpu >= MAX_CPUS)
		return 1;
	p = bpf_map_lookup_percpu_elem(&cpu_probe, &zero, cpu);
	if (!p)
		return 1;
	cpu_offset[cpu] = address_of(p) - ctx->base;
	return 0;
}

static void learn_cpu_offsets(void)
{
	struct mt_offset_ctx ctx = {};
	struct bpf_array *arr = (struct bpf_array *)address_of(&cpu_probe);

	if (bpf_core_read(&ctx.base, sizeof(ctx.base), &arr->pptrs[0]) || !ctx.base)
		return;
	bpf_loop(nr_cpus, learn_cpu_offset, &ctx, 0);
	cpu_offset_ready = 1;
}

struct mt_sum_ctx {
	__u64 counters;
	__s64 sum;
};

/*
 * One CPU's share of a percpu_counter. The address is a plain number; cast
 * to a kernel type (struct kref: one 32-bit counter) it reads with a guarded
 * load, which the verifier emits inline, where bpf_probe_read_kernel() would
 * cost a helper call per CPU per event.
 */
static __always_inline __s32 cpu_share(__u64 counters, __u32 cpu)
{
	struct kref *k = bpf_rdonly_cast((void *)(counters + cpu_offset[cpu]),
					 bpf_core_type_id_kernel(struct kref));

	return k->refcount.refs.counter;
}

static long add_cpu_share(__u32 cpu, struct mt_sum_ctx *ctx)
{
	if (cpu >= MAX_CPUS)
		return 1;
	ctx->sum += cpu_share(ctx->counters, cpu);
	return 0;
}

/* percpu_counter_sum(), clamped at zero as get_mm_counter() is. */
static __always_inline __s64 exact_counter(struct percpu_counter *pc)
{
	struct mt_sum_ctx ctx = {};

	if (!cpu_offset_ready)
		learn_cpu_offsets();
	/* Plain loads: pc points into a trusted mm, the verifier guards them. */
	ctx.sum = pc->count;
	ctx.counters = (__u64)pc->counters;
	if (!ctx.counters)
		return ctx.sum < 0 ? 0 : ctx.sum;
	if (nr_cpus <= UNROLLED_CPUS) {
		/* nr_cpus is a load-time constant: the verifier drops what is unused. */
		for (__u32 i = 0; i < UNROLLED_CPUS; i++) {
			if (i >= nr_cpus)
				break;
			ctx.sum += cpu_share(ctx.counters, i);
		}
	} else {
		bpf_loop(nr_cpus, add_cpu_share, &ctx, 0);
	}
	return ctx.sum < 0 ? 0 : ctx.sum;
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

/*
 * The time of an RSS change. Reading the clock costs as much here as all the
 * rest of an rss_stat update, and a page-fault storm changes RSS at every
 * fault. So a task that has not left its CPU since the last read reuses that
 * read, up to MT_CLOCK_REUSES times and never past the clock tick it was made
 * in. A peak's time is thus never later than the truth, and earlier by at
 * most the few changes that one running task made in between (microseconds
 * in a storm), and always by less than one tick.
 */
#define MT_CLOCK_REUSES 15

static __always_inline __u64 event_time(void)
{
	struct task_struct *cur = bpf_get_current_task_btf();
	__u64 switches = cur->nvcsw + cur->nivcsw;
	__u64 jiffies = bpf_jiffies64();
	__u32 tid = cur->pid;
	__u32 zero = 0;
	struct mt_clock *c = bpf_map_lookup_elem(&clock_cache, &zero);

	if (!c)
		return bpf_ktime_get_ns();
	if (c->tid == tid && c->switches == switches && c->jiffies == jiffies &&
	    c->reuses < MT_CLOCK_REUSES) {
		c->reuses++;
		return c->ns;
	}
	c->ns = bpf_ktime_get_ns();
	c->jiffies = jiffies;
	c->switches = switches;
	c->tid = tid;
	c->reuses = 0;
	return c->ns;
}

static __always_inline __u64 faults_of(struct task_struct *t)
{
	return BPF_CORE_READ(t, min_flt) + BPF_CORE_READ(t, maj_flt);
}

static __always_inline __u64 kstack_of(struct task_struct *t)
{
	struct vm_struct *area = BPF_CORE_READ(t, stack_vm_area);
	__u32 nr_pages;

	if (!area)
		return default_kstack_bytes;
	nr_pages = BPF_CORE_READ(area, nr_pages);
	return nr_pages ? (__u64)nr_pages << page_shift : default_kstack_bytes;
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
	if (bpf_res_spin_lock(&slot->lock)) {
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
	bpf_res_spin_unlock(&slot->lock);
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

/* The process in this slot, if the slot still holds tgid. */
static __always_inline struct mt_proc *proc_in_slot(__u32 slot, __u32 tgid)
{
	struct mt_proc *p = bpf_map_lookup_elem(&procs, &slot);

	return p && p->tgid == tgid ? p : NULL;
}

/* The process with this tgid, if followed; its slot through slot_out. */
static __always_inline struct mt_proc *lookup_proc(__u32 tgid, __u32 *slot_out)
{
	__u32 *slot = bpf_map_lookup_elem(&proc_slots, &tgid);
	struct mt_proc *p;

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
	if (bpf_res_spin_lock(&slot->lock)) {
		__sync_fetch_and_add(&slot->tree.lock_fails, 1);
		return -1;
	}
	if (fresh)
		*p = *fresh;
	else if (p->tgid == tgid)
		p->tgid = 0;
	bpf_res_spin_unlock(&slot->lock);
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
	if (bpf_map_update_elem(&proc_slots, &tgid, &slot, BPF_NOEXIST)) {
		give_slot_back(p, slot, tgid);
		return -EEXIST;
	}
	*out = p;
	return 0;
}

/*
 * Start following task t. cloner is the task that created it (NULL when found
 * by the iterator). root_flags are MT_PROC_* flags for a process that starts
 * the tree. Returns 1 when t was added.
 */
static int track_task(struct task_struct *t, struct task_struct *cloner, __u32 root_flags,
		      __u64 now, __u64 start_ns)
{
	struct mt_task task = {};
	struct mt_change c = {};
	struct mt_proc *p;
	__u32 tid = BPF_CORE_READ(t, pid);
	__u32 tgid = BPF_CORE_READ(t, tgid);
	__u32 zero = 0;
	long err;

	task.tid = tid;
	task.tgid = tgid;
	task.start_ns = start_ns;
	task.kstack_bytes = kstack_of(t);
	/* A new child starts at zero; a task found running starts from now. */
	task.faults_base = cloner ? 0 : faults_of(t);
	if (cloner) {
		task.ptid = BPF_CORE_READ(cloner, pid);
		task.ppid = BPF_CORE_READ(cloner, tgid);
	} else if (tid == tgid) {
		task.ptid = BPF_CORE_READ(t, real_parent, pid);
		task.ppid = BPF_CORE_READ(t, real_parent, tgid);
	} else {
		task.ptid = tgid;
		task.ppid = tgid;
	}
	bpf_probe_read_kernel_str(task.comm, sizeof(task.comm), t->comm);
	err = bpf_map_update_elem(&tasks, &tid, &task, BPF_NOEXIST);
	if (err == -EEXIST)
		return 0;
	if (err) {
		count_tree(COUNT_MAP_FULL);
		return 0;
	}

	c.d_threads = 1;
	c.d_kstack_bytes = task.kstack_bytes;
	p = lookup_proc(tgid, NULL);
	if (!p) {
		struct mm_struct *mm = t->mm;
		struct mt_proc *fresh = bpf_map_lookup_elem(&scratch, &zero);

		if (!fresh)
			return 0;
		__builtin_memset(fresh, 0, sizeof(*fresh));
		fresh->tgid = tgid;
		fresh->ppid = task.ppid;
		fresh->start_ns = start_ns;
		fresh->flags = root_flags;
		fresh->snap_gen[0] = ~0ULL;
		fresh->snap_gen[1] = ~0ULL;
		__builtin_memcpy(fresh->comm, task.comm, sizeof(fresh->comm));
		if (cloner && mm == cloner->mm)
			fresh->flags |= MT_PROC_SHARED_VM;
		if (mm && !(fresh->flags & (MT_PROC_AWAIT_EXEC | MT_PROC_SHARED_VM)))
			read_mm(mm, &c);
		fresh->first_rss_pages = c.pages[MT_FILE] + c.pages[MT_ANON] + c.pages[MT_SHMEM];
		err = add_proc(fresh, tgid, &p);
		if (err == 0) {
			c.d_procs = 1;
		} else {
			/* Another CPU may have added it first; else it is lost, and counted. */
			p = err == -EEXIST ? lookup_proc(tgid, NULL) : NULL;
			if (!p) {
				bpf_map_delete_elem(&tasks, &tid);
				if (err != -EBUSY)
					count_tree(COUNT_MAP_FULL);
				return 0;
			}
			c = (struct mt_change){ .d_threads = 1, .d_kstack_bytes = task.kstack_bytes };
		}
	}
	__sync_fetch_and_add(&p->tasks_alive, 1);
	apply_change(p, tgid, &c, now, NULL);
	return 1;
}

SEC("tp_btf/sched_process_fork")
int BPF_PROG(on_fork, struct task_struct *parent, struct task_struct *child)
{
	__u32 ptgid = parent->tgid;
	__u64 now;

	if (!lookup_proc(ptgid, NULL))
		return 0;
	now = bpf_ktime_get_ns();
	track_task(child, parent, 0, now, now);
	return 0;
}

/*
 * The new program's argv, read from its stack where exec has just copied it
 * (so the pages are there): seven cc1 rows can then be told apart.
 */
static __always_inline void send_args(struct task_struct *p, __u32 tgid)
{
	struct mm_struct *mm = p->mm;
	struct mt_args_event *ae;
	unsigned long start, end;
	__u32 len;

	if (!mm)
		return;
	start = BPF_CORE_READ(mm, arg_start);
	end = BPF_CORE_READ(mm, arg_end);
	len = end > start ? (__u32)(end - start) : 0;
	if (len > MT_ARGS_LEN - 1)
		len = MT_ARGS_LEN - 1;
	ae = bpf_ringbuf_reserve(&events, sizeof(*ae), 0);
	if (!ae) {
		count_tree(COUNT_RINGBUF_DROP);
		return;
	}
	ae->kind = MT_EV_EXEC_ARGS;
	ae->tgid = tgid;
	ae->pad = 0;
	if (bpf_probe_read_user(ae->args, len, (const void *)start))
		len = 0;
	ae->len = len;
	/* Not worth a wake-up: memtrace polls every 100 ms. */
	bpf_ringbuf_submit(ae, BPF_RB_NO_WAKEUP);
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(on_exec, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm)
{
	__u32 tgid = p->tgid;
	__u32 tid = p->pid;
	__u32 old = old_pid;
	struct mt_change c = {};
	struct mt_proc *proc;
	struct mt_task *task;
	struct mm_struct *mm;

	proc = lookup_proc(tgid, NULL);
	if (!proc)
		return 0;
	/* A non-leader thread that execs takes over the leader's pid. */
	if (old != tid) {
		task = bpf_map_lookup_elem(&tasks, &old);
		if (task) {
			struct mt_task moved = *task;

			moved.tid = tid;
			bpf_map_delete_elem(&tasks, &old);
			if (bpf_map_update_elem(&tasks, &tid, &moved, BPF_ANY))
				count_tree(COUNT_MAP_FULL);
		}
	}
	task = bpf_map_lookup_elem(&tasks, &tid);
	if (task) {
		bpf_probe_read_kernel_str(task->comm, sizeof(task->comm), p->comm);
		/* The launched command counts from its exec, not memtrace's fork. */
		if (proc->flags & MT_PROC_AWAIT_EXEC)
			task->faults_base = faults_of(p);
	}
	bpf_probe_read_kernel_str(proc->comm, sizeof(proc->comm), p->comm);
	if (exec_args)
		send_args(p, tgid);

	mm = p->mm;
	if (mm)
		read_mm(mm, &c);
	if (apply_change(proc, tgid, &c, bpf_ktime_get_ns(), NULL)) {
		__sync_fetch_and_add(&proc->execs, 1);
		__sync_fetch_and_and(&proc->flags, ~MT_PROC_AWAIT_EXEC);
	}
	return 0;
}

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

static __always_inline void report_proc(struct mt_proc *proc, __u32 tgid, __u32 slot)
{
	struct mt_proc_event *pe;

	pe = bpf_ringbuf_reserve(&events, sizeof(*pe), 0);
	if (pe) {
		pe->kind = MT_EV_PROC_EXIT;
		pe->pad = 0;
		pe->proc = *proc;
		bpf_ringbuf_submit(pe, submit_flags());
	} else {
		count_tree(COUNT_RINGBUF_DROP);
	}
	bpf_map_delete_elem(&proc_slots, &tgid);
	give_slot_back(proc, slot, tgid);
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(on_exit, struct task_struct *p, bool group_dead)
{
	__u32 tid = p->pid;
	__u32 tgid = p->tgid;
	struct mt_task_event *te;
	struct mt_change c = {};
	struct mt_proc *proc;
	struct mt_task *task;
	__u64 faults, now;
	__u32 proc_slot = 0;

	task = bpf_map_lookup_elem(&tasks, &tid);
	if (!task)
		return 0;
	now = bpf_ktime_get_ns();
	faults = faults_of(p) - task->faults_base;
	c.d_threads = -1;
	c.d_kstack_bytes = -(__s64)task->kstack_bytes;

	if (task_records) {
		te = bpf_ringbuf_reserve(&events, sizeof(*te), 0);
		if (te) {
			te->kind = MT_EV_TASK_EXIT;
			te->pad = 0;
			te->task = *task;
			te->task.exit_ns = now;
			te->task.faults = faults;
			bpf_probe_read_kernel_str(te->task.comm, sizeof(te->task.comm), p->comm);
			bpf_ringbuf_submit(te, submit_flags());
		} else {
			count_tree(COUNT_RINGBUF_DROP);
		}
	}
	bpf_map_delete_elem(&tasks, &tid);
	{
		struct mt_tree_slot *slot = tree_slot();

		if (slot) {
			__sync_fetch_and_add(&slot->tree.faults, faults);
			__sync_fetch_and_add(&slot->tree.threads_exited, 1);
		}
	}

	proc = lookup_proc(tgid, &proc_slot);
	if (!proc)
		return 0;
	__sync_fetch_and_add(&proc->faults, faults);
	if (group_dead) {
		c.zero = 1;
		c.d_procs = -1;
		apply_change(proc, tgid, &c, now, proc->exit_gen);
		proc->exit_ns = now;
		proc->exit_code = BPF_CORE_READ(p, exit_code);
		if (!(proc->flags & MT_PROC_SHARED_VM) || proc->execs)
			bpf_probe_read_kernel_str(proc->comm, sizeof(proc->comm), p->comm);
		/* Before the count drops, so whoever drops it to zero sees it. */
		__sync_fetch_and_or(&proc->flags, MT_PROC_DEAD);
	} else {
		apply_change(proc, tgid, &c, now, NULL);
	}
	/*
	 * Threads of an exit_group() race past group_dead's thread to here; the
	 * last task record out reports the process, so its fault count is whole.
	 */
	if (__sync_fetch_and_add(&proc->tasks_alive, -1) == 1 && (proc->flags & MT_PROC_DEAD))
		report_proc(proc, tgid, proc_slot);
	return 0;
}

SEC("tp_btf/rss_stat")
int BPF_PROG(on_rss_stat, struct mm_struct *mm, int member)
{
	/* mm->owner exists with CONFIG_MEMCG; without it, the current task. */
	struct task_struct *owner = bpf_core_field_exists(mm->owner) ? mm->owner : NULL;
	struct task_struct *t = owner ? owner : bpf_get_current_task_btf();
	struct mt_change c = {};
	struct percpu_counter *pc;
	struct mt_proc *proc;
	__u32 tgid = t->tgid;
	__s64 pages;

	proc = lookup_proc_hinted(tgid);
	if (!proc)
		return 0;
	/*
	 * Only the mm the process runs on counts: this skips the new mm that
	 * exec fills before switching to it (synced at the exec event), the
	 * old one it frees after, and the teardown at exit.
	 */
	if (t->mm != mm)
		return 0;
	/* One inlined sum for whichever counter changed: a helper call per event costs here. */
	switch (member) {
	case MM_FILEPAGES:
		pc = &mm->rss_stat[MM_FILEPAGES];
		break;
	case MM_ANONPAGES:
		pc = &mm->rss_stat[MM_ANONPAGES];
		break;
	case MM_SWAPENTS:
		pc = &mm->rss_stat[MM_SWAPENTS];
		break;
	case MM_SHMEMPAGES:
		pc = &mm->rss_stat[MM_SHMEMPAGES];
		break;
	default:
		return 0;
	}
	pages = exact_counter(pc);
	if (member == MM_FILEPAGES)
		c.pages[MT_FILE] = pages;
	else if (member == MM_ANONPAGES)
		c.pages[MT_ANON] = pages;
	else if (member == MM_SWAPENTS)
		c.pages[MT_SWAP] = pages;
	else
		c.pages[MT_SHMEM] = pages;
	c.set_pages = 1u << member;
	c.pgtables_bytes = mm->pgtables_bytes.counter;
	c.set_pgtables = 1;
	c.rss_event = 1;
	apply_change(proc, tgid, &c, event_time(), NULL);
	return 0;
}

/*
 * Adds to the tree every task that belongs to it and is not yet followed: the
 * roots user space named, their threads, and the children of followed
 * processes. User space runs it until a pass adds nothing, and once more to
 * refresh the fault counts of live tasks before it reads them.
 */
SEC("iter/task")
int track_existing(struct bpf_iter__task *ctx)
{
	struct task_struct *t = ctx->task;
	struct mt_task *followed;
	__u32 tid, tgid, ptgid;
	__u32 *root_flags;
	__u64 now;

	if (!t)
		return 0;
	if (t->flags & PF_KTHREAD)
		return 0;
	tid = t->pid;
	tgid = t->tgid;
	followed = bpf_map_lookup_elem(&tasks, &tid);
	if (followed) {
		/* Fault counts of live tasks live in the kernel: refresh them. */
		followed->faults = faults_of(t) - followed->faults_base;
		__sync_fetch_and_add(&iter_faults, followed->faults);
		return 0;
	}
	root_flags = bpf_map_lookup_elem(&roots, &tgid);
	ptgid = BPF_CORE_READ(t, real_parent, tgid);
	if (!root_flags && !lookup_proc(tgid, NULL) && !lookup_proc(ptgid, NULL))
		return 0;
	now = bpf_ktime_get_ns();
	if (track_task(t, NULL, root_flags ? *root_flags : MT_PROC_ATTACHED, now,
		       root_flags && (*root_flags & MT_PROC_AWAIT_EXEC) ? now : t->start_time))
		__sync_fetch_and_add(&iter_added, 1);
	return 0;
}
