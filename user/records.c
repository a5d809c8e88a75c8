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
	memset(r, 0, sizeof(*r));
}

/*
 * Grows by half: realloc() of a large block moves its pages (mremap) rather
 * than copying them, and the part not yet written costs no memory, but a
 * block in the heap is copied, the old one kept until reused.
 */
static int grow(void **arr, size_t *cap, size_t need, size_t elem)
{
	size_t ncap;
	void *n;

	if (need <= *cap)
		return 0;
	ncap = *cap ? *cap + *cap / 2 : 64;
	if (ncap < need)
		ncap = need;
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

	if (x->p.kernel_tgid != y->p.kernel_tgid)
		return x->p.kernel_tgid < y->p.kernel_tgid ? -1 : 1;
	return x->p.start_ns < y->p.start_ns ? -1 : x->p.start_ns > y->p.start_ns;
}

/* A process seen live, then by its exit record: the record wins. */
static void supersede_staged(struct records *r, const struct mt_proc *p)
{
	struct proc_row want, *hit;

	if (!r->staged_sorted || !r->nstaged)
		return;
	want.p.kernel_tgid = p->tgid;
	want.p.start_ns = p->start_ns;
	hit = bsearch(&want, r->procs + r->staged_from, r->nstaged, sizeof(*r->procs), by_identity);
	if (hit)
		hit->live = 0;
}

/*
 * The row's part of a record. An exited process's share of a peak is known
 * already: nothing, unless its snapshot is of the tree's gen at its death.
 */
static void fill_row(struct proc_row *row, const struct mt_proc *p, int live)
{
	struct proc_info *i = &row->p;
	int k;

	memset(row, 0, sizeof(*row));
	i->cur = p->cur;
	i->own_peak = p->own_peak;
	for (k = 0; k < MT_NR_PEAKS; k++) {
		i->gen[k] = live ? p->snap_gen[k] : p->exit_gen[k];
		if (live || p->snap_gen[k] == p->exit_gen[k])
			row->at_peak[k] = p->at_peak[k];
	}
	i->start_ns = p->start_ns;
	i->exit_ns = p->exit_ns;
	i->own_peak_ns = p->own_peak_ns;
	i->own_peak_kernel_bytes = p->own_peak_kernel_bytes;
	i->first_rss_pages = p->first_rss_pages;
	i->threads_total = p->threads_total;
	i->peak_threads = p->peak_threads;
	i->faults = p->faults;
	i->hugetlb_pages_seen = p->hugetlb_pages_seen;
	i->kernel_tgid = p->tgid;
	i->tgid = p->ns_tgid ? p->ns_tgid : p->tgid;
	i->ppid = p->ns_tgid ? p->ns_ppid : p->ppid;
	i->flags = p->flags;
	i->execs = p->execs;
	i->exit_code = p->exit_code;
	memcpy(i->comm, p->comm, sizeof(i->comm));
	row->live = live;
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
	fill_row(row, p, live);
	row->cmdline = take_args(r, p->tgid);
	return 0;
}

int records_reserve(struct records *r, size_t n)
{
	return grow((void **)&r->procs, &r->procs_cap, r->nprocs + n, sizeof(*r->procs));
}

/* Takes the staged rows out from among the rows, closing the gap. */
void records_stage_clear(struct records *r)
{
	size_t after = r->staged_from + r->nstaged;

	if (r->nstaged)
		memmove(r->procs + r->staged_from, r->procs + after,
			(r->nprocs - after) * sizeof(*r->procs));
	r->nprocs -= r->nstaged;
	r->nstaged = 0;
	r->staged_from = r->nprocs;
	r->staged_sorted = 0;
}

int records_stage_live(struct records *r, const struct mt_proc *p)
{
	if (!r->nstaged)
		r->staged_from = r->nprocs;
	/* Staged rows must stay together: no exit row may come between. */
	if (r->staged_sorted || r->staged_from + r->nstaged != r->nprocs)
		return -1;
	if (grow((void **)&r->procs, &r->procs_cap, r->nprocs + 1, sizeof(*r->procs)))
		return -1;
	fill_row(&r->procs[r->nprocs++], p, 1);
	r->nstaged++;
	return 0;
}

void records_stage_seal(struct records *r)
{
	if (r->nstaged > 1)
		qsort(r->procs + r->staged_from, r->nstaged, sizeof(*r->procs), by_identity);
	r->staged_sorted = 1;
}

size_t records_staged_live(const struct records *r)
{
	size_t i, n = 0;

	for (i = 0; i < r->nstaged; i++)
		n += r->procs[r->staged_from + i].live;
	return n;
}

int64_t records_unaccounted(const struct records *r, const struct mt_tree *tree)
{
	return (int64_t)tree->procs_total - (int64_t)r->proc_exits -
	       (int64_t)records_staged_live(r) - (int64_t)tree->proc_records_dropped;
}

static void reverse_rows(struct proc_row *a, size_t n)
{
	struct proc_row t;
	size_t i;

	for (i = 0; i < n / 2; i++) {
		t = a[i];
		a[i] = a[n - 1 - i];
		a[n - 1 - i] = t;
	}
}

/*
 * In place: the staged rows still live stay (and take their command
 * lines), the superseded ones go, and the live ones move behind the exit
 * rows that arrived while they were staged (a rotation by three reversals).
 */
int records_commit_staged(struct records *r)
{
	struct proc_row *first = r->procs + r->staged_from;
	size_t i, live = 0, after = r->nprocs - r->staged_from - r->nstaged;

	for (i = 0; i < r->nstaged; i++) {
		if (!first[i].live)
			continue;
		first[live] = first[i];
		first[live].cmdline = take_args(r, first[live].p.kernel_tgid);
		live++;
	}
	memmove(first + live, first + r->nstaged, after * sizeof(*first));
	reverse_rows(first, live);
	reverse_rows(first + live, after);
	reverse_rows(first, live + after);
	r->nprocs = r->staged_from + live + after;
	r->live_procs += live;
	r->nstaged = 0;
	r->staged_from = r->nprocs;
	r->staged_sorted = 0;
	return 0;
}

const struct proc_row *records_find_exited(const struct records *r, uint32_t pid)
{
	const struct proc_row *best = NULL;
	size_t i;

	for (i = 0; i < r->nprocs; i++) {
		const struct proc_row *row = &r->procs[i];

		if (row->live || row->p.tgid != pid)
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
			if (row->p.gen[k] == tree->gen[k])
				continue;
			if (row->live)
				row->at_peak[k] = row->p.cur;
			else
				memset(&row->at_peak[k], 0, sizeof(row->at_peak[k]));
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

/* Rows before the staged ones (all, when none are staged) are pruned; the rest move down. */
void records_prune(struct records *r, const struct mt_tree *tree, size_t keep)
{
	size_t i, out = 0, ranked = 0, end = r->nstaged ? r->staged_from : r->nprocs;

	/* Largest first: the first keep dead rows by peak survive. */
	if (end > 1)
		qsort(r->procs, end, sizeof(*r->procs), by_peak);
	for (i = 0; i < end; i++) {
		const struct proc_row *row = &r->procs[i];
		int at_peak = (!row->live && row->p.gen[MT_PEAK_RSS] == tree->gen[MT_PEAK_RSS]) ||
			      (!row->live && row->p.gen[MT_PEAK_TOTAL] == tree->gen[MT_PEAK_TOTAL]);

		if (row->live || at_peak || ranked < keep) {
			if (!row->live && !at_peak)
				ranked++;
			r->procs[out++] = *row;
		} else {
			free(row->cmdline);
			r->procs_dropped++;
		}
	}
	memmove(r->procs + out, r->procs + end, (r->nprocs - end) * sizeof(*r->procs));
	r->nprocs -= end - out;
	if (r->nstaged)
		r->staged_from = out;
}

size_t records_exited_rows(const struct records *r)
{
	return r->nprocs - r->nstaged - r->live_procs;
}
