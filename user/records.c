// SPDX-License-Identifier: GPL-2.0
/* Rows of processes and threads, and the per-process breakdown at the peaks. */
#include <search.h>
#include <stdlib.h>
#include <string.h>

#include "records.h"

void records_init(struct records *r, int keep_tasks)
{
	memset(r, 0, sizeof(*r));
	r->keep_tasks = keep_tasks;
}

struct pending_args {
	uint32_t tgid;
	char *cmdline;
};

static int by_pending_tgid(const void *a, const void *b)
{
	const struct pending_args *x = a, *y = b;

	return x->tgid < y->tgid ? -1 : x->tgid > y->tgid;
}

static void free_pending(void *node)
{
	struct pending_args *pa = node;

	free(pa->cmdline);
	free(pa);
}

void records_free(struct records *r)
{
	size_t i;

	for (i = 0; i < r->nprocs; i++)
		free(r->procs[i].cmdline);
	tdestroy(r->pending_args, free_pending);
	free(r->procs);
	free(r->tasks);
	free(r->staged);
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

void records_use_ns_pids(struct mt_proc *p)
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

/* The command line kept for tgid, now the row's (a later process with that pid starts afresh). */
static char *take_args(struct records *r, uint32_t tgid)
{
	struct pending_args key = { tgid, NULL }, *pa;
	void *node = tfind(&key, &r->pending_args, by_pending_tgid);
	char *cmdline;

	if (!node)
		return NULL;
	pa = *(struct pending_args **)node;
	cmdline = pa->cmdline;
	tdelete(&key, &r->pending_args, by_pending_tgid);
	free(pa);
	return cmdline;
}

int records_set_args(struct records *r, uint32_t tgid, const char *args, size_t len)
{
	struct pending_args *pa = calloc(1, sizeof(*pa)), **slot;
	size_t i;

	if (!pa || !(pa->cmdline = malloc(len + 1))) {
		free(pa);
		return -1;
	}
	pa->tgid = tgid;
	/* argv's NULs become spaces, as ps shows it; the last one ends the string. */
	for (i = 0; i < len; i++)
		pa->cmdline[i] = args[i] ? args[i] : ' ';
	while (len && pa->cmdline[len - 1] == ' ' && !args[len - 1])
		len--;
	pa->cmdline[len] = '\0';
	slot = tsearch(pa, &r->pending_args, by_pending_tgid);
	if (!slot) {
		free_pending(pa);
		return -1;
	}
	if (*slot != pa) {
		/* An exec after an exec: the latest program is the process's. */
		free((*slot)->cmdline);
		(*slot)->cmdline = pa->cmdline;
		free(pa);
	}
	return 0;
}

static int by_identity(const void *a, const void *b)
{
	const struct proc_row *x = a, *y = b;

	if (x->p.tgid != y->p.tgid)
		return x->p.tgid < y->p.tgid ? -1 : 1;
	return x->p.start_ns < y->p.start_ns ? -1 : x->p.start_ns > y->p.start_ns;
}

/* A process seen live, then by its exit record: the record wins. */
static void supersede_staged(struct records *r, const struct mt_proc *p)
{
	struct proc_row want, *hit;

	if (!r->staged_sorted || !r->nstaged)
		return;
	want.p.tgid = p->tgid;
	want.p.start_ns = p->start_ns;
	hit = bsearch(&want, r->staged, r->nstaged, sizeof(*r->staged), by_identity);
	if (hit)
		hit->live = 0;
}

int records_add_proc(struct records *r, const struct mt_proc *p, int live)
{
	struct proc_row *row;

	if (!live) {
		r->proc_exits++;
		supersede_staged(r, p);
	} else {
		r->live_procs++;
	}
	if (grow((void **)&r->procs, &r->procs_cap, r->nprocs + 1, sizeof(*r->procs)))
		return -1;
	row = &r->procs[r->nprocs++];
	memset(row, 0, sizeof(*row));
	row->p = *p;
	records_use_ns_pids(&row->p);
	row->live = live;
	row->cmdline = take_args(r, p->tgid);
	return 0;
}

void records_stage_clear(struct records *r)
{
	r->nstaged = 0;
	r->staged_sorted = 0;
}

int records_stage_live(struct records *r, const struct mt_proc *p)
{
	struct proc_row *row;

	if (grow((void **)&r->staged, &r->staged_cap, r->nstaged + 1, sizeof(*r->staged)))
		return -1;
	row = &r->staged[r->nstaged++];
	memset(row, 0, sizeof(*row));
	row->p = *p;
	row->live = 1;
	return 0;
}

void records_stage_seal(struct records *r)
{
	if (r->nstaged > 1)
		qsort(r->staged, r->nstaged, sizeof(*r->staged), by_identity);
	r->staged_sorted = 1;
}

size_t records_staged_live(const struct records *r)
{
	size_t i, n = 0;

	for (i = 0; i < r->nstaged; i++)
		n += r->staged[i].live;
	return n;
}

int64_t records_unaccounted(const struct records *r, const struct mt_tree *tree)
{
	return (int64_t)tree->procs_total - (int64_t)r->proc_exits -
	       (int64_t)records_staged_live(r) - (int64_t)tree->proc_records_dropped;
}

int records_commit_staged(struct records *r)
{
	size_t i;
	int err = 0;

	for (i = 0; i < r->nstaged; i++)
		if (r->staged[i].live && records_add_proc(r, &r->staged[i].p, 1))
			err = -1;
	records_stage_clear(r);
	return err;
}

const struct proc_row *records_find_exited(const struct records *r, uint32_t pid)
{
	const struct proc_row *best = NULL;
	size_t i;

	for (i = 0; i < r->nprocs; i++) {
		const struct proc_row *row = &r->procs[i];
		uint32_t seen = row->p.ns_tgid ? row->p.ns_tgid : row->p.tgid;

		if (row->live || seen != pid)
			continue;
		if (!best || row->p.start_ns < best->p.start_ns)
			best = row;
	}
	return best;
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
			free(row->cmdline);
			r->procs_dropped++;
		}
	}
	r->nprocs = out;
}
