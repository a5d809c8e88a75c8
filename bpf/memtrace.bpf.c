// SPDX-License-Identifier: GPL-2.0
/*
 * The programs of memtrace's kernel side: which tasks belong to the traced
 * tree, and what each of its processes holds, exactly, at every change.
 *
 * How an event flows:
 * - A task of the tree is created (task_newtask: every clone, io_uring
 *   workers included) or found running (the iter/task pass user space runs
 *   at start and every second): track_task() records it in `tasks` and, for
 *   a new process, gives it a slot (slots.h) with its mm read exactly
 *   (counters.h). A process that shares its mm (vfork, CLONE_VM) holds no
 *   pages of its own (mm_share.h).
 * - An RSS counter changes (rss_stat) or the mm's lock is released after a
 *   map change (mmap_lock_released: page tables freed by munmap): the
 *   process that counts that mm is found, the changed counter is re-read
 *   exactly with a ticket (tree.h read_ticket()), and apply_change() updates
 *   the process and the tree's sums and peaks under the tree lock, at the
 *   time event_time.h gives.
 * - A process execs: its new mm is read whole; the old one, if another
 *   process of the tree still runs on it, moves to that process.
 * - A thread exits: the last thread of a process zeroes it (or hands its mm
 *   over), and the last task record out sends the process's exit record
 *   (exit_records.h).
 * A change whose lock fails is never lost for good: it waits in the
 * process (pending threads, a flag to re-read the whole mm) or, for an
 * exit, in a queue, and the next change applies it.
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
#include "pidns.h"
#include "mm_share.h"
#include "exit_records.h"
#include "tree_limit.h"

/*
 * Preallocated (user space sizes it to the live tasks the kernel allows):
 * an allocating map's insert and delete cost every thread created and
 * ended about 1 us more here (bpf_stats, 10,000 threads).
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
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

/* A new process record is too large for the 512-byte BPF stack. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct mt_proc);
} scratch SEC(".maps");

__u64 iter_added;  /* tasks the task iterator added in its last pass */
/*
 * 1 while user space attaches (roots, their threads and descendants); 0 for
 * the refresh passes, which add only threads of followed processes (io_uring
 * workers fire no fork event before 6.x's task_newtask is seen): a process
 * refused once for want of a slot is not tried, and counted, again.
 */
__u32 iter_adopt;
__u64 iter_faults; /* faults of the followed live tasks it saw in that pass */
/*
 * 1: the pass visits every thread (fault counts for the time series and the
 * report); 0: a refresh pass that wants each process once, so the threads of
 * a process whose leader still runs on its mm are passed over before any
 * lookup (100,000 threads cost the pass some 30 ms of memtrace's CPU).
 */
__u32 iter_threads;

static __always_inline __u64 faults_of(struct task_struct *t)
{
	return t->min_flt + t->maj_flt;
}

static __always_inline __u64 kstack_of(struct task_struct *t)
{
	struct vm_struct *area = t->stack_vm_area;
	__u32 nr_pages;

	if (!area)
		return default_kstack_bytes;
	nr_pages = area->nr_pages;
	return nr_pages ? (__u64)nr_pages << page_shift : default_kstack_bytes;
}

/* The ids of task t's creator, or of its parent when found running. */
static __always_inline void fill_parent(struct mt_task *task, struct task_struct *t,
					struct task_struct *cloner)
{
	struct task_struct *parent = cloner ? cloner : t->real_parent;

	if (!cloner && task->tid != task->tgid) {
		/* A thread found running: the process made it. */
		task->ptid = task->tgid;
		task->ppid = task->tgid;
		task->ns_ptid = task->ns_tgid;
		task->ns_ppid = task->ns_tgid;
		return;
	}
	task->ptid = parent->pid;
	task->ppid = parent->tgid;
	task->ns_ptid = ns_tid_of(parent);
	task->ns_ppid = ns_tgid_of(parent);
}

/*
 * How a new process stands to its mm: counted by itself (0), or a sharer
 * of an mm another followed process counts (MT_PROC_SHARED_VM).
 */
static __always_inline __u32 mm_role(struct task_struct *t, struct mm_struct *mm,
				     struct task_struct *cloner, __u32 tgid)
{
	__u64 key = (__u64)mm;
	int users, threads;

	if (cloner) {
		/* CLONE_VM without CLONE_THREAD: vfork, posix_spawn, clone(CLONE_VM). */
		if (mm != cloner->mm)
			return 0;
		mm_share_join(key, cloner->tgid);
		return MT_PROC_SHARED_VM;
	}
	/* Found running: more users than threads means another process may run on it. */
	users = BPF_CORE_READ(mm, mm_users.counter);
	threads = BPF_CORE_READ(t, signal, nr_threads);
	if (users <= threads)
		return 0;
	if (mm_share_note(key, tgid) == tgid)
		return 0;
	mm_share_join(key, tgid);
	return MT_PROC_SHARED_VM;
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
	struct mt_change c = { .kind = MT_KIND_FORK };
	struct mt_proc *p;
	__u32 tid = t->pid;
	__u32 tgid = t->tgid;
	__u32 zero = 0;
	long err;

	task.tid = tid;
	task.tgid = tgid;
	task.ns_tid = ns_tid_of(t);
	task.ns_tgid = ns_tgid_of(t);
	task.start_ns = start_ns;
	task.kstack_bytes = kstack_of(t);
	/* A new child starts at zero; a task found running starts from now. */
	task.faults_base = cloner ? 0 : faults_of(t);
	fill_parent(&task, t, cloner);
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
		fresh->ns_tgid = task.ns_tgid;
		fresh->ns_ppid = task.ns_ppid;
		fresh->start_ns = start_ns;
		fresh->flags = root_flags;
		fresh->snap_gen[0] = ~0ULL;
		fresh->snap_gen[1] = ~0ULL;
		/* The process's name is its leader's, as /proc/PID/comm shows. */
		bpf_probe_read_kernel_str(fresh->comm, sizeof(fresh->comm), t->group_leader->comm);
		if (mm && !(root_flags & MT_PROC_AWAIT_EXEC)) {
			fresh->mm = (__u64)mm;
			fresh->flags |= mm_role(t, mm, cloner, tgid);
			if (!(fresh->flags & MT_PROC_SHARED_VM)) {
				/* The first read of a fresh record: ticket 1. */
				fresh->read_seq = 1;
				c.seq = 1;
				read_mm(mm, &c);
			}
		}
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
			c = (struct mt_change){ .d_threads = 1, .d_kstack_bytes = task.kstack_bytes,
						.kind = MT_KIND_FORK };
		}
	}
	__sync_fetch_and_add(&p->tasks_alive, 1);
	mt_apply_or_defer(p, tgid, &c, now, NULL);
	return 1;
}

/*
 * task_newtask fires in copy_process() for every new task, io_uring workers
 * (create_io_thread()) included, which sched_process_fork misses. The child
 * has not run yet; the current task created it.
 */
SEC("tp_btf/task_newtask")
int BPF_PROG(on_newtask, struct task_struct *child, __u64 clone_flags)
{
	struct task_struct *cloner = bpf_get_current_task_btf();
	__u64 now;

	if (!lookup_proc(cloner->tgid, NULL))
		return 0;
	heal_pending_exit();
	now = bpf_ktime_get_ns();
	track_task(child, cloner, 0, now, now);
	return 0;
}

/*
 * Gives the mm proc leaves to another process of the tree still on it, or
 * forgets its entry. Global, like mt_apply_change(): verified once for exec
 * and exit.
 */
__noinline int mt_leave_mm(struct mt_proc *proc, __u32 tgid, const struct mt_change *c, __u64 now,
			   struct mt_gens *gens)
{
	__u64 *gen_out = gens ? gens->gen : NULL;
	struct mt_proc *to;
	__u32 to_tgid = 0;
	__u64 mm;
	int r;

	if (!proc || !c)
		return 0;
	mm = proc->mm;

	if (proc->flags & MT_PROC_SHARED_VM) {
		if (mm)
			mm_share_leave(mm);
		return apply_change(proc, tgid, c, now, gen_out);
	}
	to = mm && shared_mms ? find_sharer(mm, tgid, &to_tgid) : NULL;
	if (!to) {
		if (mm && shared_mms)
			mm_share_forget(mm);
		return apply_change(proc, tgid, c, now, gen_out);
	}
	r = hand_over_mm(proc, tgid, c, to, to_tgid, now, gen_out);
	if (r < 0) {
		/* The pages could not move: the successor re-reads the mm whole at its next change. */
		struct mt_mm_share *share = bpf_map_lookup_elem(&mm_shares, &mm);

		if (share)
			share->holder = to_tgid;
		__sync_fetch_and_and(&to->flags, ~MT_PROC_SHARED_VM);
		__sync_fetch_and_or(&to->flags, MT_PROC_RESYNC);
	}
	return r;
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
	struct mt_change c = { .kind = MT_KIND_EXEC };
	struct mt_proc *proc;
	struct mt_task *task;
	struct mm_struct *mm;
	int r;

	proc = lookup_proc(tgid, NULL);
	if (!proc)
		return 0;
	heal_pending_exit();
	/* A non-leader thread that execs takes over the leader's pid. */
	if (old != tid) {
		task = bpf_map_lookup_elem(&tasks, &old);
		if (task) {
			struct mt_task moved = *task;

			moved.tid = tid;
			moved.ns_tid = ns_tid_of(p);
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
		send_args(p, ns_tgid_of(p) ? ns_tgid_of(p) : tgid);

	mm = p->mm;
	c.seq = read_ticket(proc);
	if (mm)
		read_mm(mm, &c);
	c.clear_flags = MT_PROC_AWAIT_EXEC | MT_PROC_SHARED_VM | MT_PROC_RESYNC;
	r = mt_leave_mm(proc, tgid, &c, bpf_ktime_get_ns(), NULL);
	proc->mm = (__u64)mm;
	if (r < 0) {
		/* The exec happened all the same: count from it, and re-read the mm at the next change. */
		defer_change(proc, tgid, &c);
		__sync_fetch_and_and(&proc->flags, ~(MT_PROC_AWAIT_EXEC | MT_PROC_SHARED_VM));
	}
	if (r != 0)
		__sync_fetch_and_add(&proc->execs, 1);
	return 0;
}

static long spin_step(__u32 i, void *deadline)
{
	(void)i;
	return bpf_ktime_get_ns() >= *(__u64 *)deadline;
}

/* *at becomes v if v is larger; a few tries, then the other writer's larger value stands. */
static __always_inline void raise_to(__u64 *at, __u64 v)
{
	__u64 old = *at, seen;
	int i;

	for (i = 0; i < 4 && v > old; i++) {
		seen = __sync_val_compare_and_swap(at, old, v);
		if (seen == old)
			break;
		old = seen;
	}
}

/*
 * Hugetlb pages (MAP_HUGETLB, hugetlbfs) are outside RSS and move no RSS
 * counter, and no event marks their faults: memtrace reads the mm's count
 * as the mm's write lock is taken (munmap() and the like, before they free
 * any), at a process's exit and in the refresh pass, so that the report can
 * say they were there: the most seen, a lower bound of the most held.
 */
static __always_inline void note_hugetlb(struct mt_proc *proc, struct mm_struct *mm)
{
	struct mt_tree_slot *slot;
	__u64 pages;

	if (!bpf_core_field_exists(mm->hugetlb_usage))
		return;
	pages = mm->hugetlb_usage.counter;
	if (pages <= proc->hugetlb_pages_seen)
		return;
	raise_to(&proc->hugetlb_pages_seen, pages);
	slot = tree_slot();
	if (slot)
		raise_to(&slot->tree.hugetlb_pages_seen, pages);
}

/* Busy for ns nanoseconds (test_exit_spin_ns). */
static __noinline void spin_for(__u64 ns)
{
	__u64 deadline = bpf_ktime_get_ns() + ns;

	bpf_loop(1 << 23, spin_step, &deadline, 0);
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
	struct mt_change c = { .kind = MT_KIND_OTHER };
	struct task_struct *parent;
	struct mt_proc *proc;
	struct mt_task *task;
	__u64 faults, now;
	__u32 proc_slot = 0;

	task = bpf_map_lookup_elem(&tasks, &tid);
	if (!task)
		return 0;
	heal_pending_exit();
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
		group_dead = p->signal->live.counter == 0 &&
			     __sync_val_compare_and_swap(&proc->exit_ns, 0, now) == 0;
	if (group_dead) {
		/* Its parent now: a re-parented process shows the one that reaps it. */
		parent = p->real_parent;
		proc->ppid = parent->tgid;
		proc->ns_ppid = ns_tgid_of(parent);
		proc->exit_ns = now;
		proc->exit_code = p->exit_code;
		/* Its own name and mm, not those of the process whose mm it shares. */
		if (!(proc->flags & MT_PROC_SHARED_VM) || proc->execs) {
			bpf_probe_read_kernel_str(proc->comm, sizeof(proc->comm),
						  p->group_leader->comm);
			/* Hugetlb pages held to the end: since 6.16 the mm is still whole here. */
			if (p->mm)
				note_hugetlb(proc, p->mm);
		}
		c.zero = 1;
		c.d_procs = -1;
		c.kind = MT_KIND_EXIT;
		/* Applied, the change marked proc dead under the lock (change_locked()). */
		if (mt_leave_mm(proc, tgid, &c, now, (struct mt_gens *)proc->exit_gen) < 0)
			defer_exit(proc, proc_slot);
		if (test_exit_spin_ns)
			spin_for(test_exit_spin_ns);
		/* Not applied: dead all the same, before the count drops, so whoever drops it sees it. */
		__sync_fetch_and_or(&proc->flags, MT_PROC_DEAD);
	} else {
		mt_apply_or_defer(proc, tgid, &c, now, NULL);
	}
	/*
	 * Threads of an exit_group() race past group_dead's thread to here; the
	 * last task record out reports the process, so its fault count is whole.
	 */
	__sync_fetch_and_add(&proc->tasks_alive, -1);
	report_if_done(proc, tgid, proc_slot);
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

/*
 * The followed process that counts mm's pages: mm->owner's (CONFIG_MEMCG;
 * else the current task's) when it runs on mm and holds it, else the holder
 * mm_share.h names. Skipped: the new mm exec fills before switching to it
 * (synced at the exec event), the old one it frees after, the teardown after
 * an exit, and mms of processes outside the tree.
 */
static __always_inline struct mt_proc *proc_of_mm(struct mm_struct *mm, __u32 *tgid)
{
	struct task_struct *owner = bpf_core_field_exists(mm->owner) ? mm->owner : NULL;
	struct task_struct *t = owner ? owner : bpf_get_current_task_btf();
	struct mt_proc *p;

	*tgid = t->tgid;
	p = lookup_proc_hinted(*tgid);
	if (p && p->mm == (__u64)mm && !(p->flags & (MT_PROC_SHARED_VM | MT_PROC_DEAD)))
		return p;
	if (!shared_mms)
		return NULL;
	return mm_holder_proc(mm, tgid);
}

/* After a lost change, the whole mm; else nothing yet (the caller sets what changed). */
static __always_inline void begin_mm_change(struct mt_proc *proc, struct mm_struct *mm,
					    struct mt_change *c)
{
	c->rss_event = 1;
	c->seq = read_ticket(proc);
	if (proc->flags & MT_PROC_RESYNC) {
		read_mm(mm, c);
		c->clear_flags = MT_PROC_RESYNC;
	}
}

SEC("tp_btf/rss_stat")
int BPF_PROG(on_rss_stat, struct mm_struct *mm, int member)
{
	struct mt_change c = { .kind = MT_KIND_RSS };
	struct percpu_counter *pc;
	struct mt_proc *proc;
	__u32 tgid;
	__s64 pages;

	proc = proc_of_mm(mm, &tgid);
	if (!proc)
		return 0;
	begin_mm_change(proc, mm, &c);
	if (!c.set_pages) {
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
		if (exact_counter(pc, &pages)) {
			/* Torn by a fold every time: the next change re-reads the whole mm. */
			c.partial = 1;
		} else {
			if (member == MM_FILEPAGES)
				c.pages[MT_FILE] = pages;
			else if (member == MM_ANONPAGES)
				c.pages[MT_ANON] = pages;
			else if (member == MM_SWAPENTS)
				c.pages[MT_SWAP] = pages;
			else
				c.pages[MT_SHMEM] = pages;
			c.set_pages = 1u << member;
		}
		c.pgtables_bytes = mm->pgtables_bytes.counter;
		c.set_pgtables = 1;
	}
	apply_or_defer(proc, tgid, &c, event_time(), NULL);
	return 0;
}

/*
 * proc's page tables, re-read if they moved (or a lost change left it to
 * re-read). The value applied is read after the ticket, as every counter
 * is: one read before it could overwrite a newer read that took an older
 * ticket. at_event: the time of an event in its task (event_time()).
 */
static __always_inline void reread_pgtables(struct mt_proc *proc, __u32 tgid, struct mm_struct *mm,
					    int at_event)
{
	struct mt_change c = { .kind = MT_KIND_OTHER };

	if (mm->pgtables_bytes.counter == proc->cur.pgtables_bytes &&
	    !(proc->flags & MT_PROC_RESYNC))
		return;
	begin_mm_change(proc, mm, &c);
	c.pgtables_bytes = mm->pgtables_bytes.counter;
	c.set_pgtables = 1;
	mt_apply_or_defer(proc, tgid, &c, at_event ? event_time() : bpf_ktime_get_ns(), NULL);
}

/*
 * Page tables change without an RSS event where munmap() frees them
 * (free_pgtables() runs after the pages' counters fell) and where mmap(),
 * mprotect() or brk() split or join tables: each ends by releasing the
 * mm's lock, so re-read them there.
 */
SEC("tp_btf/mmap_lock_released")
int BPF_PROG(on_mmap_unlock, struct mm_struct *mm, bool write)
{
	struct mt_proc *proc;
	__u32 tgid;

	proc = proc_of_mm(mm, &tgid);
	if (proc)
		reread_pgtables(proc, tgid, mm, 1);
	return 0;
}

/*
 * Hugetlb faults take no mmap lock (the per-VMA lock serves them), and
 * munmap() drops the mm's hugetlb count under its write lock, before the
 * release above: a look as the write lock is taken sees the pages it frees.
 */
SEC("tp_btf/mmap_lock_acquire_returned")
int BPF_PROG(on_mmap_write_lock, struct mm_struct *mm, bool write, bool success)
{
	struct mt_proc *proc;
	__u32 tgid;

	if (!write || !success)
		return 0;
	proc = proc_of_mm(mm, &tgid);
	if (proc)
		note_hugetlb(proc, mm);
	return 0;
}

/*
 * What no event tells of a followed process, brought up to date by the
 * iterator pass: its parent (re-parented when its parent died), page tables
 * that changed without an RSS change (reads of the shared zero page, the
 * table a huge page deposits after its counter rose), a lost change's
 * re-read.
 */
static __noinline void refresh_process(struct task_struct *t, __u32 tid, __u32 tgid)
{
	struct mm_struct *mm = t->mm;
	struct task_struct *parent;
	struct mt_proc *proc;

	/* A process's threads come one after another in the pass: the CPU's hint finds them. */
	proc = lookup_proc_hinted(tgid);
	if (!proc)
		return;
	if (tid == tgid) {
		parent = t->real_parent;
		proc->ppid = BPF_CORE_READ(parent, tgid);
		proc->ns_ppid = ns_tgid_of(parent);
	}
	if (!mm || proc->mm != (__u64)mm || (proc->flags & (MT_PROC_SHARED_VM | MT_PROC_DEAD)))
		return;
	reread_pgtables(proc, tgid, mm, 0);
	note_hugetlb(proc, mm);
}

/* Whether the visit of t's leader refreshes t's process: the leader runs on t's mm. */
static __always_inline int leader_refreshes(struct task_struct *t)
{
	struct task_struct *leader = t->group_leader;
	struct mm_struct *mm = t->mm;

	return leader && mm && leader->mm == mm && !leader->exit_state &&
	       !(leader->flags & PF_EXITING);
}

/*
 * Adds to the tree every task that belongs to it and is not yet followed: the
 * roots user space named (by the pids its own namespace gives), their threads,
 * and the children of followed processes. User space runs it until a pass
 * adds nothing, then every second and before the report, to refresh what
 * no event tells (refresh_process(), live tasks' fault counts) and to apply
 * exits whose lock had failed.
 */
SEC("iter/task")
int track_existing(struct bpf_iter__task *ctx)
{
	struct task_struct *t = ctx->task;
	struct mt_task *followed;
	__u32 tid, tgid, ptgid, ns_tgid;
	__u32 *root_flags;
	__u64 now;

	if (!t)
		return 0;
	learn_my_pidns();
	heal_pending_exit();
	if (t->flags & PF_KTHREAD)
		return 0;
	tid = t->pid;
	tgid = t->tgid;
	if (!iter_adopt && !iter_threads && tid != tgid && leader_refreshes(t))
		return 0;
	followed = bpf_map_lookup_elem(&tasks, &tid);
	if (followed) {
		/* Fault counts of live tasks live in the kernel: refresh them. */
		followed->faults = faults_of(t) - followed->faults_base;
		__sync_fetch_and_add(&iter_faults, followed->faults);
		refresh_process(t, tid, tgid);
		return 0;
	}
	/*
	 * A task that has begun to exit (a zombie not yet reaped, or one past
	 * its exit event) gets no exit event any more: never add it.
	 */
	if (t->exit_state || (t->flags & PF_EXITING))
		return 0;
	ns_tgid = ns_tgid_of(t);
	root_flags = bpf_map_lookup_elem(&roots, &ns_tgid);
	ptgid = BPF_CORE_READ(t, real_parent, tgid);
	if (!root_flags && !lookup_proc(tgid, NULL) && !(iter_adopt && lookup_proc(ptgid, NULL)))
		return 0;
	now = bpf_ktime_get_ns();
	if (track_task(t, NULL, root_flags ? *root_flags : MT_PROC_ATTACHED, now,
		       root_flags && (*root_flags & MT_PROC_AWAIT_EXEC) ? now : t->start_time))
		__sync_fetch_and_add(&iter_added, 1);
	return 0;
}
