// SPDX-License-Identifier: GPL-2.0
/*
 * The programs of memtrace's kernel side: which tasks belong to the traced
 * tree, and what each of its processes holds, exactly, at every change.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "memtrace.h"

char LICENSE[] SEC("license") = "GPL";

#include "config.h"
#include "counters.h"
#include "event_time.h"
#include "tree_lock.h"
#include "tree.h"
#include "slots.h"

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



/* A new process record is too large for the 512-byte BPF stack. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct mt_proc);
} scratch SEC(".maps");

__u64 iter_added;  /* tasks the task iterator added in its last pass */
__u64 iter_faults; /* faults of the followed live tasks it saw in that pass */

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

/*
 * The exit of task p; group_dead is true for the last thread of its process,
 * or GROUP_DEAD_UNKNOWN where the kernel does not say (on_exit_task_only).
 */
#define GROUP_DEAD_UNKNOWN -1

static __always_inline int handle_exit(struct task_struct *p, int group_dead)
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
	/*
	 * Without the kernel's word, the tracepoint comes after the task left
	 * signal->live: live reads 0 for the last thread out and for any
	 * sibling passing here after it; the first of them to claim exit_ns
	 * ends the process, once.
	 */
	if (group_dead == GROUP_DEAD_UNKNOWN)
		group_dead = BPF_CORE_READ(p, signal, live.counter) == 0 &&
			     __sync_val_compare_and_swap(&proc->exit_ns, 0, now) == 0;
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

/* Since 6.16 the tracepoint says which thread ends the process, before exit_mm(). */
SEC("tp_btf/sched_process_exit")
int BPF_PROG(on_exit, struct task_struct *p, bool group_dead)
{
	return handle_exit(p, group_dead);
}

/* Before, it passes the task alone, after exit_mm(); user space loads this one there. */
SEC("tp_btf/sched_process_exit")
int BPF_PROG(on_exit_task_only, struct task_struct *p)
{
	return handle_exit(p, GROUP_DEAD_UNKNOWN);
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

