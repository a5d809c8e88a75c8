// SPDX-License-Identifier: GPL-2.0
#include <stdlib.h>

#include "format.h"
#include "tasks.h"
#include "utf8.h"

static int by_process_then_start(const void *a, const void *b)
{
	const struct mt_task *x = a, *y = b;
	int xl = x->tid == x->tgid, yl = y->tid == y->tgid;

	if (x->tgid != y->tgid)
		return x->tgid < y->tgid ? -1 : 1;
	if (xl != yl)
		return xl ? -1 : 1;
	if (x->start_ns != y->start_ns)
		return x->start_ns < y->start_ns ? -1 : 1;
	return x->tid < y->tid ? -1 : x->tid > y->tid;
}

void tasks_sort(struct records *r)
{
	if (r->ntasks > 1)
		qsort(r->tasks, r->ntasks, sizeof(*r->tasks), by_process_then_start);
}

/*
 * The process a task belonged to: same tgid, started no later than the task.
 * pids can be reused during a long run, so the latest such start wins.
 */
const struct proc_row *tasks_find_proc(const struct summary *s, const struct mt_task *t)
{
	const struct proc_row *best = NULL;
	size_t i;

	for (i = 0; i < s->rec->nprocs; i++) {
		const struct proc_row *row = &s->rec->procs[i];

		if (row->p.tgid != t->tgid || row->p.start_ns > t->start_ns + 1)
			continue;
		if (!best || row->p.start_ns > best->p.start_ns)
			best = row;
	}
	return best;
}

static int task_live(const struct mt_task *t)
{
	return t->exit_ns == 0;
}

void tasks_print_text(FILE *f, const struct summary *s, size_t limit)
{
	const struct records *r = s->rec;
	size_t i, shown = r->ntasks < limit ? r->ntasks : limit;
	char a[32], b[32], c[32], d[32], k[32], ms1[32], ms2[32], name[3 * MT_COMM_LEN + 1];

	fprintf(f, "\n  Tasks: %zu threads, by process then start (%zu shown%s):\n", r->ntasks, shown,
		shown < r->ntasks ? "; --tasks-csv FILE for all" : "");
	fprintf(f, "  %8s %8s %8s %10s %10s %9s %10s %10s %10s %10s %10s  %s\n", "TID", "TGID", "PTID",
		"START_MS", "EXIT_MS", "FAULTS", "PEAK_RSS", "ANON", "FILE", "SHMEM", "KERNEL", "COMMAND");
	for (i = 0; i < shown; i++) {
		const struct mt_task *t = &r->tasks[i];
		const struct proc_row *p = t->tid == t->tgid ? tasks_find_proc(s, t) : NULL;
		uint64_t ps = s->si->page_size;

		fprintf(f, "  %8u %8u %8u %10s %10s %9llu", t->tid, t->tgid, t->ptid,
			format_ms(ms1, sizeof(ms1), summary_since_start(s, t->start_ns)),
			task_live(t) ? "running" : format_ms(ms2, sizeof(ms2), summary_since_start(s, t->exit_ns)),
			(unsigned long long)t->faults);
		if (p)
			fprintf(f, " %10s %10s %10s %10s %10s",
				format_bytes(a, sizeof(a), mem_rss_bytes(&p->p.own_peak, ps)),
				format_bytes(b, sizeof(b), p->p.own_peak.pages[MT_ANON] * (int64_t)ps),
				format_bytes(c, sizeof(c), p->p.own_peak.pages[MT_FILE] * (int64_t)ps),
				format_bytes(d, sizeof(d), p->p.own_peak.pages[MT_SHMEM] * (int64_t)ps),
				format_bytes(k, sizeof(k), p->p.own_peak_kernel_bytes));
		else
			fprintf(f, " %10s %10s %10s %10s %10s", "", "", "", "", "");
		utf8_clean(name, sizeof(name), t->comm, MT_COMM_LEN);
		fprintf(f, "  %s\n", name);
	}
}

/* Quoted, as valid UTF-8: a comm can hold commas, quotes, any byte. */
static void csv_comm(FILE *f, const char *comm)
{
	fputc('"', f);
	utf8_write_csv(f, comm, MT_COMM_LEN);
	fputc('"', f);
}

void tasks_write_csv(FILE *f, const struct summary *s, int run, int header)
{
	const struct records *r = s->rec;
	uint64_t ps = s->si->page_size;
	size_t i;

	if (header)
		fprintf(f, "run,tid,tgid,ptid,ppid,comm,start_ms,exit_ms,page_faults,is_process,"
			   "peak_rss_bytes,peak_anon_bytes,peak_file_bytes,peak_shmem_bytes,"
			   "peak_kernel_bytes,kstack_bytes\n");
	for (i = 0; i < r->ntasks; i++) {
		const struct mt_task *t = &r->tasks[i];
		const struct proc_row *p = t->tid == t->tgid ? tasks_find_proc(s, t) : NULL;

		fprintf(f, "%d,%u,%u,%u,%u,", run, t->tid, t->tgid, t->ptid, t->ppid);
		csv_comm(f, t->comm);
		fprintf(f, ",%.3f,", (double)summary_since_start(s, t->start_ns) / 1e6);
		if (!task_live(t))
			fprintf(f, "%.3f", (double)summary_since_start(s, t->exit_ns) / 1e6);
		fprintf(f, ",%llu,%d,", (unsigned long long)t->faults, t->tid == t->tgid);
		if (p)
			fprintf(f, "%lld,%lld,%lld,%lld,%lld",
				(long long)mem_rss_bytes(&p->p.own_peak, ps),
				(long long)(p->p.own_peak.pages[MT_ANON] * (int64_t)ps),
				(long long)(p->p.own_peak.pages[MT_FILE] * (int64_t)ps),
				(long long)(p->p.own_peak.pages[MT_SHMEM] * (int64_t)ps),
				(long long)p->p.own_peak_kernel_bytes);
		else
			fprintf(f, ",,,,");
		fprintf(f, ",%llu\n", (unsigned long long)t->kstack_bytes);
	}
}
