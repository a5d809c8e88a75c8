/* SPDX-License-Identifier: GPL-2.0 */
#ifndef MT_TRACER_H
#define MT_TRACER_H

#include <sys/types.h>

#include "options.h"
#include "records.h"
#include "sysinfo.h"

struct memtrace_bpf;
struct ring_buffer;

struct tracer {
	struct memtrace_bpf *skel;
	struct ring_buffer *rb;
	struct records *rec;
	struct sysinfo_mt si;
	uint64_t thread_bytes;
	uint32_t proc_slots;      /* live processes the kernel side can follow (capacity.h) */
	uint64_t record_failures; /* records user space could not store (no memory) */
};

/* Loads and attaches everything. Prints one line and returns -1 on failure. */
int tracer_open(struct tracer *t, const struct settings *s, struct records *rec);
/*
 * Follows the given processes (and, for attach, their threads and
 * descendants) starting with flags (MT_PROC_*). Returns the number of tasks
 * added, or -1.
 */
int tracer_add_roots(struct tracer *t, const pid_t *pids, int n, unsigned int flags);
/*
 * The refresh pass (page tables, parents, exits whose lock failed), each
 * process once; with all_threads, every live task too, whose fault counts
 * it brings up to date, their sum in *faults (else *faults is partial).
 */
int tracer_live_faults(struct tracer *t, uint64_t *faults, int all_threads);
int tracer_epoll_fd(const struct tracer *t);
/* Takes every record waiting in the ring buffer. */
int tracer_consume(struct tracer *t);
int tracer_read_tree(const struct tracer *t, struct mt_tree *out);
/* Brings live tasks' fault counts up to date (and adds any task not yet followed). */
int tracer_refresh_tasks(struct tracer *t);
/*
 * Calls fn with a copy of every process followed now, live ones only.
 * Returns how many.
 */
int tracer_for_each_proc(const struct tracer *t, void (*fn)(void *ctx, const struct mt_proc *p),
			 void *ctx);
/*
 * Stages every live process in its slot (records_stage_live), then seals the
 * stage: exit records consumed from then on supersede what they match.
 */
int tracer_stage_live_procs(struct tracer *t);
/*
 * Adds the threads still followed to the records, as live, and their fault
 * counts to their live process rows (which must be the last rows added).
 */
int tracer_collect_live_tasks(struct tracer *t);
/* The processes followed and alive now: up to max pids (as /proc shows them) into pids; returns how many. */
int tracer_live_pids(const struct tracer *t, pid_t *pids, int max);
/* From now on the kernel side enforces --limit. */
void tracer_arm_limit(struct tracer *t);
/* Events that the kernel skipped because a program was already running on that CPU. */
uint64_t tracer_recursion_misses(const struct tracer *t);
void tracer_close(struct tracer *t);

#endif
