/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Layouts shared by the BPF side and user space: map values and ring-buffer
 * records. Fixed-width types only, widest fields first, no pointers; the
 * _Static_asserts at the end are compiled on both sides so the two views of a
 * struct cannot drift apart.
 */
#ifndef MEMTRACE_H
#define MEMTRACE_H

#define MT_COMM_LEN 16
/* Bytes of a process's command line sent at exec (NUL-separated, cut). */
#define MT_ARGS_LEN 256
#define MT_MAX_CPUS 4096 /* CPUs whose per-CPU counter shares are summed */

/* Indices of the kernel's mm->rss_stat[] (enum MM_*PAGES in mm_types.h). */
enum mt_member {
	MT_FILE = 0,
	MT_ANON = 1,
	MT_SWAP = 2,
	MT_SHMEM = 3,
	MT_NR_MEMBERS = 4,
};

/* The two peaks whose per-process breakdown is kept. */
enum mt_peak_kind {
	MT_PEAK_RSS = 0,   /* user memory: file + anon + shmem */
	MT_PEAK_TOTAL = 1, /* user memory + kernel memory */
	MT_NR_PEAKS = 2,
};

/* What --limit compares with its size. */
enum mt_limit_kind {
	MT_LIMIT_RSS = 0,   /* the tree's RSS */
	MT_LIMIT_TOTAL = 1, /* the tree's RSS + kernel memory */
};

enum mt_proc_flags {
	MT_PROC_AWAIT_EXEC = 1 << 0, /* launched child: count nothing before its exec */
	MT_PROC_DEAD = 1 << 1,
	MT_PROC_SHARED_VM = 1 << 2,  /* vfork or CLONE_VM child: its pages are its parent's */
	MT_PROC_ATTACHED = 1 << 3,   /* existed before memtrace attached */
	MT_PROC_RESYNC = 1 << 4,     /* a change was lost: re-read the whole mm at the next one */
	MT_PROC_ZERO_PENDING = 1 << 5, /* dead, but its exit could not be applied yet */
	MT_PROC_REPORTED = 1 << 6,   /* its exit record was sent */
	MT_PROC_UNCOUNTED = 1 << 7,  /* added, but its arrival could not be applied yet */
};

enum mt_event_kind {
	MT_EV_TASK_EXIT = 1,
	MT_EV_PROC_EXIT = 2,
	MT_EV_EXEC_ARGS = 3, /* a process's command line, at its exec */
	MT_EV_LIMIT = 4,     /* the tree crossed --limit: wakes user space, carries nothing */
};

/* What one process (or the whole tree, summed) holds at one instant. */
struct mt_mem {
	__s64 pages[MT_NR_MEMBERS]; /* exact rss_stat counters, in pages */
	__s64 pgtables_bytes;       /* mm->pgtables_bytes */
	__s64 kstack_bytes;         /* kernel stacks of live threads */
	__s64 threads;              /* live threads */
};

struct mt_proc {
	struct mt_mem cur;
	/* Value at the tree's latest peak of each kind; valid while
	 * snap_gen[k] equals the tree's gen[k], else cur is that value. */
	struct mt_mem at_peak[MT_NR_PEAKS];
	struct mt_mem own_peak; /* at this process's own RSS peak */
	__u64 snap_gen[MT_NR_PEAKS];
	__u64 exit_gen[MT_NR_PEAKS]; /* the tree's gens when it died */
	__u64 start_ns;
	__u64 exit_ns;
	__u64 own_peak_ns;
	__s64 own_peak_kernel_bytes;
	__s64 first_rss_pages; /* file + anon + shmem when first followed */
	__u64 threads_total; /* threads ever, the leader included */
	__s64 peak_threads;
	__u64 faults;        /* of its threads that have exited */
	__s64 tasks_alive;   /* task records not yet exited: the last one reports the process */
	__u64 mm;            /* address of the mm it runs on: identity only, never followed */
	__u64 read_seq;      /* tickets of counter reads, so an older read never wins */
	__u64 applied_seq[MT_NR_MEMBERS]; /* ticket of the read each counter holds */
	__u64 pgtables_seq;
	__s64 pend_threads;  /* thread changes whose lock timed out, applied with the next */
	__s64 pend_kstack_bytes;
	__u64 hugetlb_pages_seen; /* largest mm->hugetlb_usage read (outside RSS: not counted) */
	__u32 tgid;          /* the kernel's (initial namespace) number: the key */
	__u32 ppid;
	__u32 ns_tgid;       /* as memtrace's own PID namespace sees them (0: not visible) */
	__u32 ns_ppid;
	__u32 flags;
	__u32 execs;
	__s32 exit_code; /* task->exit_code of the last thread: wait status */
	__u32 pad;
	char comm[MT_COMM_LEN];
};

struct mt_task {
	__u64 start_ns;
	__u64 exit_ns;
	__u64 faults;      /* min_flt + maj_flt since followed; final at exit */
	__u64 faults_base; /* the task's count when it was first followed */
	__u64 kstack_bytes;
	__u32 tid;
	__u32 tgid;
	__u32 ptid; /* the task that cloned it */
	__u32 ppid; /* process of that task */
	__u32 ns_tid; /* the four above as memtrace's PID namespace sees them */
	__u32 ns_tgid;
	__u32 ns_ptid;
	__u32 ns_ppid;
	char comm[MT_COMM_LEN];
};

/* Counters of the tree as a whole. Everything the report calls "lost" is
 * here, so that nothing is dropped without a number. */
struct mt_tree {
	struct mt_mem cur;
	struct mt_mem peak_mem[MT_NR_PEAKS]; /* tree sums at each peak */
	struct mt_mem kernel_peak_mem;       /* tree sums at the kernel-memory peak */
	__u64 gen[MT_NR_PEAKS];              /* bumped at every new peak */
	__s64 peak_bytes[MT_NR_PEAKS];
	__s64 peak_procs[MT_NR_PEAKS];       /* live processes at each peak */
	__u64 peak_ns[MT_NR_PEAKS];
	__s64 kernel_peak_bytes;
	__u64 kernel_peak_ns;
	__s64 procs_live;
	__s64 procs_peak;
	__u64 procs_total;
	__s64 threads_peak;
	__u64 threads_total;
	__u64 faults;        /* of tasks that have exited */
	__u64 events;        /* events applied to the tree */
	__u64 ringbuf_drops; /* records that did not fit the ring buffer */
	__u64 map_full;      /* tasks or processes that did not fit their map */
	__u64 lock_fails;    /* updates skipped: the tree lock timed out */
	__u64 threads_exited; /* exits of followed threads seen */
	__u64 proc_records_dropped; /* process exit records that did not fit the ring buffer */
	__u64 zero_pending;   /* dead processes whose exit waits to be applied */
	__u64 resyncs;        /* processes re-read whole after a lost change */
	__u64 hugetlb_pages_seen; /* the most any one process was seen to hold */
	/* --limit: the first change that took the tree above it. */
	struct mt_mem limit_mem;   /* the tree's sums just after that change */
	__u64 limit_ns;            /* when; 0: never */
	__s64 limit_over_bytes;    /* by how much */
	__u64 limit_signals;       /* signals the kernel side sent for it */
	__u32 limit_tgid;          /* the process whose change it was */
	__u32 limit_pad;
};

/* Sent at each exec when the report shows command lines (-v, --json). */
struct mt_args_event {
	__u32 kind;
	__u32 tgid;
	__u32 len; /* bytes of args: argv's strings, each ended by a NUL, cut at MT_ARGS_LEN - 1 */
	__u32 pad;
	char args[MT_ARGS_LEN];
};

/* The tree lives in a one-entry array whose value starts with a lock; user
 * space sees the lock as a plain word. */
#if defined(__bpf__) && defined(MT_TREE_LOCK_SPIN)
#define MT_LOCK_T struct bpf_spin_lock /* 6.2 to 6.14: bpf/tree_lock.h */
#elif defined(__bpf__)
#define MT_LOCK_T struct bpf_res_spin_lock
#else
#define MT_LOCK_T struct { __u32 val; }
#endif
struct mt_tree_slot {
	MT_LOCK_T lock;
	__u32 pad;
	struct mt_tree tree;
};

struct mt_task_event {
	__u32 kind;
	__u32 pad;
	struct mt_task task;
};

struct mt_proc_event {
	__u32 kind;
	__u32 pad;
	struct mt_proc proc;
};

_Static_assert(sizeof(struct mt_mem) == 56, "mt_mem layout");
_Static_assert(sizeof(struct mt_args_event) == 16 + MT_ARGS_LEN, "mt_args_event layout");
_Static_assert(sizeof(struct mt_proc) == 56 * 4 + 23 * 8 + 8 * 4 + 16, "mt_proc layout");
_Static_assert(sizeof(struct mt_task) == 88, "mt_task layout");
_Static_assert(sizeof(struct mt_tree) == 56 * 4 + 8 * 8 + 8 * 17 + 56 + 3 * 8 + 2 * 4,
	       "mt_tree layout");
_Static_assert(sizeof(struct mt_tree_slot) == 8 + sizeof(struct mt_tree), "mt_tree_slot layout");
_Static_assert(sizeof(struct mt_task_event) == 96, "mt_task_event layout");
_Static_assert(sizeof(struct mt_proc_event) == 8 + sizeof(struct mt_proc), "mt_proc_event layout");

#endif /* MEMTRACE_H */
