// SPDX-License-Identifier: GPL-2.0
/* Rows of processes and threads, and the per-process breakdown at the peaks. */
#include <stdlib.h>
#include <string.h>

#include "records.h"

void records_init(struct records *r, int keep_tasks)
{
	memset(r, 0, sizeof(*r));
	r->keep_tasks = keep_tasks;
}

void records_free(struct records *r)
{
	free(r->procs);
	free(r->tasks);
	memset(r, 0, sizeof(*r));
}

static int grow(void **arr, size_t *cap, size_t need, size_t elem)
{
	size_t ncap;
	void *n;

	if (need <= *cap)
		return 0;
	ncap = *cap ? *cap * 2 : 64;
	while (ncap < need)
		ncap *= 2;
	n = realloc(*arr, ncap * elem);
	if (!n)
		return -1;
	*arr = n;
	*cap = ncap;
	return 0;
}

/*
 * Rows carry the pids memtrace's own PID namespace gives (those the user
 * knows: fork's return, -p, /proc), where the kernel side found them; the
 * initial namespace's otherwise.
 */
static void use_ns_pids_task(struct mt_task *t)
{
	if (!t->ns_tid || !t->ns_tgid)
		return;
	t->tid = t->ns_tid;
	t->tgid = t->ns_tgid;
	t->ptid = t->ns_ptid;
	t->ppid = t->ns_ppid;
}

static void use_ns_pids_proc(struct mt_proc *p)
{
	if (!p->ns_tgid)
		return;
	p->tgid = p->ns_tgid;
	p->ppid = p->ns_ppid;
}

int records_add_task(struct records *r, const struct mt_task *t, int live)
{
	if (live) {
		r->live_tasks++;
		r->live_faults += t->faults;
	}
	if (!r->keep_tasks)
		return 0;
	if (grow((void **)&r->tasks, &r->tasks_cap, r->ntasks + 1, sizeof(*r->tasks)))
		return -1;
	r->tasks[r->ntasks] = *t;
	use_ns_pids_task(&r->tasks[r->ntasks++]);
	return 0;
}

int records_add_proc(struct records *r, const struct mt_proc *p, int live)
{
	struct proc_row *row;

	if (!live)
		r->proc_exits++;
	if (grow((void **)&r->procs, &r->procs_cap, r->nprocs + 1, sizeof(*r->procs)))
		return -1;
	row = &r->procs[r->nprocs++];
	memset(row, 0, sizeof(*row));
	row->p = *p;
	use_ns_pids_proc(&row->p);
	row->live = live;
	return 0;
}

/*
 * A process that died holds its value at a peak only if no later peak came:
 * its gen at death equals the tree's final gen. A live one holds its snapshot
 * if it changed since that peak, else its current value.
 */
void records_finish(struct records *r, const struct mt_tree *tree)
{
	size_t i;
	int k;

	for (i = 0; i < r->nprocs; i++) {
		struct proc_row *row = &r->procs[i];

		for (k = 0; k < MT_NR_PEAKS; k++) {
			if (row->live) {
				row->at_peak[k] = row->p.snap_gen[k] == tree->gen[k] ? row->p.at_peak[k]
										    : row->p.cur;
			} else if (row->p.exit_gen[k] == tree->gen[k] &&
				   row->p.snap_gen[k] == tree->gen[k]) {
				row->at_peak[k] = row->p.at_peak[k];
			} else {
				memset(&row->at_peak[k], 0, sizeof(row->at_peak[k]));
			}
		}
	}
}

int64_t mem_rss_bytes(const struct mt_mem *m, uint64_t page_size)
{
	return (m->pages[MT_FILE] + m->pages[MT_ANON] + m->pages[MT_SHMEM]) * (int64_t)page_size;
}

int64_t mem_kernel_bytes(const struct mt_mem *m, uint64_t thread_bytes)
{
	return m->pgtables_bytes + m->kstack_bytes + m->threads * (int64_t)thread_bytes;
}

static int by_peak(const void *a, const void *b)
{
	const struct proc_row *x = a, *y = b;
	int64_t px = mem_rss_bytes(&x->p.own_peak, 1), py = mem_rss_bytes(&y->p.own_peak, 1);

	if (px != py)
		return px > py ? -1 : 1;
	if (x->p.start_ns != y->p.start_ns)
		return x->p.start_ns < y->p.start_ns ? -1 : 1;
	return 0;
}

void records_sort_by_peak(struct records *r)
{
	if (r->nprocs > 1)
		qsort(r->procs, r->nprocs, sizeof(*r->procs), by_peak);
}

void records_prune(struct records *r, const struct mt_tree *tree, size_t keep)
{
	size_t i, out = 0, ranked = 0;

	/* Largest first: the first keep dead rows by peak survive. */
	records_sort_by_peak(r);
	for (i = 0; i < r->nprocs; i++) {
		const struct proc_row *row = &r->procs[i];
		int at_peak = row->p.exit_gen[MT_PEAK_RSS] == tree->gen[MT_PEAK_RSS] ||
			      row->p.exit_gen[MT_PEAK_TOTAL] == tree->gen[MT_PEAK_TOTAL];

		if (row->live || at_peak || ranked < keep) {
			if (!row->live && !at_peak)
				ranked++;
			r->procs[out++] = *row;
		} else {
			r->procs_dropped++;
		}
	}
	r->nprocs = out;
}
