/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What user space keeps of a run: one row per process (from its exit record,
 * or read live at the end), optionally one row per thread, and the tree's
 * counters. Pure logic, no BPF: the unit tests drive it directly.
 */
#ifndef MT_RECORDS_H
#define MT_RECORDS_H

#include <linux/types.h>
#include <stddef.h>
#include <stdint.h>

#include "memtrace.h"

/*
 * What a row keeps of a process's record: what the reports show, none of
 * the kernel side's bookkeeping (tickets, pending changes), so that 100,000
 * live processes fit in memtrace's own 64 MiB (README "Scale").
 */
struct proc_info {
	struct mt_mem cur;      /* live rows: now */
	struct mt_mem own_peak; /* at this process's own RSS peak */
	/*
	 * The tree's gen of each peak kind the row's at_peak[] belongs to: its
	 * snapshot's for a live row, its death's for an exited one (an exited
	 * row whose snapshot is older holds nothing at that peak).
	 */
	__u64 gen[MT_NR_PEAKS];
	__u64 start_ns;
	__u64 exit_ns;
	__u64 own_peak_ns;
	__s64 own_peak_kernel_bytes;
	__s64 first_rss_pages;
	__u64 threads_total;
	__s64 peak_threads;
	__u64 faults;
	__u64 hugetlb_pages_seen;
	__u32 kernel_tgid; /* the kernel side's key: exit records and command lines */
	__u32 tgid;        /* as memtrace's own PID namespace sees it, where it can */
	__u32 ppid;
	__u32 flags;
	__u32 execs;
	__s32 exit_code;
	char comm[MT_COMM_LEN];
};

struct proc_row {
	struct proc_info p;
	struct mt_mem at_peak[MT_NR_PEAKS]; /* its share of each peak; resolved by records_finish() */
	char *cmdline;                      /* its latest exec's arguments, space-separated; or NULL */
	int live;                           /* still running when the report was made */
};

struct records {
	/*
	 * One row per process: exited ones as their records arrive; at the end
	 * the live ones, staged in place (procs[staged_from] on, nstaged of
	 * them, exit records that arrive meanwhile after them) and kept last.
	 */
	struct proc_row *procs;
	size_t nprocs, procs_cap;
	struct mt_task *tasks; /* kept only when keep_tasks is set */
	size_t ntasks, tasks_cap;
	int keep_tasks;
	uint64_t proc_exits;   /* process exit records received */
	uint64_t live_tasks;   /* tasks still running at the end */
	uint64_t live_faults;  /* faults of those */
	uint64_t procs_dropped; /* exited process rows given up to bound memory */
	void *pending_args;     /* command lines of live processes, by tgid (tsearch tree) */
	/*
	 * Processes read live from their slots at the end, not rows yet: an
	 * exit record that arrives for one of them (same tgid and start)
	 * supersedes it, so that no process is counted twice.
	 */
	size_t staged_from, nstaged;
	int staged_sorted;
	uint64_t live_procs; /* rows marked live */
	uint64_t rows_lost;  /* processes neither a row nor counted as dropped */
};

/* Process rows kept before pruning, and how many of the largest a prune keeps. */
#define RECORDS_MAX_PROCS 100000
#define RECORDS_KEEP_TOP 1000

void records_init(struct records *r, int keep_tasks);
/* Gives p the pids of memtrace's own PID namespace, where the kernel side found them. */
void records_use_ns_pids(struct mt_proc *p);
void records_free(struct records *r);
int records_add_task(struct records *r, const struct mt_task *t, int live);
/* The row takes the command line records_set_args() kept for its tgid, if any. */
int records_add_proc(struct records *r, const struct mt_proc *p, int live);
/*
 * The command line of tgid's latest exec (argv's strings, each ended by a
 * NUL, len bytes), kept until the process's row is added.
 */
int records_set_args(struct records *r, uint32_t tgid, const char *args, size_t len);
/* Collecting the live processes at the end, in rounds until they balance: */
void records_stage_clear(struct records *r);
/* Room for n more rows, taken at once (the live ones, counted before they are read). */
int records_reserve(struct records *r, size_t n);
int records_stage_live(struct records *r, const struct mt_proc *p);
/* From here on, exit records supersede the staged rows they match. */
void records_stage_seal(struct records *r);
/* Staged rows not superseded. */
size_t records_staged_live(const struct records *r);
/*
 * Processes of the tree that are neither a row (exited, or staged live) nor
 * counted as dropped (row limit, exit record that did not fit the ring
 * buffer): 0 when the collection balances, negative if one was counted twice.
 */
int64_t records_unaccounted(const struct records *r, const struct mt_tree *tree);
/* Makes the staged rows that were not superseded live rows, the last rows. */
int records_commit_staged(struct records *r);
/*
 * The exited row of the process that pid named (as memtrace's PID namespace
 * sees it) when it started: of several with that pid, the earliest. NULL if none.
 */
const struct proc_row *records_find_exited(const struct records *r, uint32_t pid);
/* Resolves every row's values at the tree's peaks, given the final tree. */
void records_finish(struct records *r, const struct mt_tree *tree);

/* Bytes, given the page size and the per-thread kernel cost. */
int64_t mem_rss_bytes(const struct mt_mem *m, uint64_t page_size);
int64_t mem_kernel_bytes(const struct mt_mem *m, uint64_t thread_bytes);

/*
 * Bounds memory on runs with very many processes: keeps the live rows, the
 * rows that may hold a share of the tree's latest peaks, and the keep
 * largest by own peak; counts the others in procs_dropped.
 */
void records_prune(struct records *r, const struct mt_tree *tree, size_t keep);
/* Rows of exited processes (the ones records_prune() bounds). */
size_t records_exited_rows(const struct records *r);
/* Sorts rows by own peak RSS, largest first (ties: earlier start first). */
void records_sort_by_peak(struct records *r);

#endif
