// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "json.h"
#include "report_perfetto.h"

int perfetto_open(struct perfetto *pf, const char *path, const char *name, int tasks)
{
	memset(pf, 0, sizeof(*pf));
	pf->path = path;
	pf->name = name;
	pf->tasks = tasks;
	pf->page_size = (uint64_t)sysconf(_SC_PAGESIZE);
	pf->f = fopen(path, "we"); /* "e": the command must not inherit it */
	if (!pf->f) {
		fprintf(stderr, "memtrace: cannot write '%s' for --perfetto: %s\n", path, strerror(errno));
		return -1;
	}
	/* Events stream in as they happen; the viewers sort them by time. */
	fputs("{\"traceEvents\":[", pf->f);
	return 0;
}

static uint32_t tree_pid(int run)
{
	return PERFETTO_TREE_PID + (uint32_t)run;
}

/* Opens one event; the caller writes its fields from "," on and closes the brace. */
static void event(struct perfetto *pf, const char *ph, const char *name, uint32_t pid, uint32_t tid)
{
	fputs(pf->events++ ? ",\n" : "\n", pf->f);
	fprintf(pf->f, "{\"ph\":\"%s\",\"name\":", ph);
	json_write_string(pf->f, name);
	fprintf(pf->f, ",\"pid\":%u,\"tid\":%u", pid, tid);
}

/* Microseconds to the nanosecond: the trace format's unit. */
static void field_us(FILE *f, const char *key, uint64_t ns)
{
	fprintf(f, ",\"%s\":%llu.%03llu", key, (unsigned long long)(ns / 1000),
		(unsigned long long)(ns % 1000));
}

static void metadata(struct perfetto *pf, const char *what, uint32_t pid, uint32_t tid,
		     const char *name)
{
	event(pf, "M", what, pid, tid);
	fputs(",\"args\":{\"name\":", pf->f);
	json_write_string(pf->f, name);
	fputs("}}", pf->f);
}

/* One counter track per quantity, each in bytes: "rss bytes", "total bytes" in the viewer. */
static void counters(struct perfetto *pf, uint32_t pid, uint64_t t_ns, const struct mt_mem *m,
		     uint64_t thread_bytes)
{
	int64_t ps = (int64_t)pf->page_size, rss = mem_rss_bytes(m, pf->page_size),
		kern = mem_kernel_bytes(m, thread_bytes);
	const char *names[] = { "rss", "anon", "file", "shmem", "kernel", "total" };
	int64_t values[] = { rss, m->pages[MT_ANON] * ps, m->pages[MT_FILE] * ps,
			     m->pages[MT_SHMEM] * ps, kern, rss + kern };
	size_t i;

	for (i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
		event(pf, "C", names[i], pid, pid);
		field_us(pf->f, "ts", t_ns);
		fprintf(pf->f, ",\"args\":{\"bytes\":%lld}}", (long long)values[i]);
	}
}

void perfetto_sample(struct perfetto *pf, const struct live_sample *ls)
{
	const struct summary *s = ls->sum;
	uint64_t t = summary_since_start(s, ls->now_ns);
	size_t i;

	counters(pf, tree_pid(s->run), t, &ls->tree->cur, s->thread_bytes);
	for (i = 0; i < ls->nprocs; i++)
		counters(pf, ls->procs[i].tgid, t, &ls->procs[i].cur, s->thread_bytes);
}

static int alive_at(const struct proc_row *row, uint64_t ns)
{
	return row->p.start_ns <= ns && (row->live || row->p.exit_ns >= ns);
}

/* "123 make": who held what at a peak, for the instant's details. */
static void peak_instant(struct perfetto *pf, const struct summary *s, const char *name, int k)
{
	const struct mt_tree *t = &s->tree;
	uint64_t ns = t->peak_ns[k];
	char key[64];
	size_t i;
	int n = 0;

	event(pf, "i", name, tree_pid(s->run), 0);
	field_us(pf->f, "ts", summary_since_start(s, ns));
	fprintf(pf->f, ",\"s\":\"g\",\"args\":{\"bytes\":%lld,\"processes\":{",
		(long long)t->peak_bytes[k]);
	for (i = 0; i < s->rec->nprocs; i++) {
		const struct proc_row *row = &s->rec->procs[i];
		int64_t b = mem_rss_bytes(&row->at_peak[k], pf->page_size);

		if (k == MT_PEAK_TOTAL)
			b += mem_kernel_bytes(&row->at_peak[k], s->thread_bytes);
		if (!b)
			continue;
		snprintf(key, sizeof(key), "%u %s", row->p.tgid, row->p.comm);
		fputs(n++ ? "," : "", pf->f);
		json_write_string(pf->f, key);
		fprintf(pf->f, ":%lld", (long long)b);
	}
	fputs("}}}", pf->f);
}

static void exit_arg(FILE *f, const struct proc_row *row)
{
	int st = row->p.exit_code;

	if (row->live)
		fputs(",\"exit\":\"running\"", f);
	else if (WIFSIGNALED(st))
		fprintf(f, ",\"exit\":\"signal %d\"", WTERMSIG(st));
	else
		fprintf(f, ",\"exit\":\"status %d\"", WEXITSTATUS(st));
}

static void process(struct perfetto *pf, const struct summary *s, const struct proc_row *row)
{
	const struct proc_info *p = &row->p;
	uint64_t end = row->live ? s->end_ns : p->exit_ns;
	uint64_t start = summary_since_start(s, p->start_ns);
	int k;

	metadata(pf, "process_name", p->tgid, p->tgid, p->comm);
	event(pf, "X", p->comm, p->tgid, p->tgid);
	field_us(pf->f, "ts", start);
	field_us(pf->f, "dur", summary_since_start(s, end) - start);
	fprintf(pf->f, ",\"args\":{\"ppid\":%u,\"peak_rss_bytes\":%lld", p->ppid,
		(long long)mem_rss_bytes(&p->own_peak, pf->page_size));
	exit_arg(pf->f, row);
	fputs("}}", pf->f);

	/* Its own peak and its share at the tree's, exactly when they happened. */
	if (p->own_peak_ns)
		counters(pf, p->tgid, summary_since_start(s, p->own_peak_ns), &p->own_peak,
			 s->thread_bytes);
	for (k = 0; k < MT_NR_PEAKS; k++)
		if (s->tree.peak_bytes[k] > 0 && alive_at(row, s->tree.peak_ns[k]))
			counters(pf, p->tgid, summary_since_start(s, s->tree.peak_ns[k]),
				 &row->at_peak[k], s->thread_bytes);
	if (!row->live) {
		struct mt_mem gone;

		memset(&gone, 0, sizeof(gone));
		counters(pf, p->tgid, summary_since_start(s, p->exit_ns), &gone, s->thread_bytes);
	}
}

static void thread(struct perfetto *pf, const struct summary *s, const struct mt_task *t)
{
	uint64_t start = summary_since_start(s, t->start_ns);
	uint64_t end = summary_since_start(s, t->exit_ns ? t->exit_ns : s->end_ns);

	metadata(pf, "thread_name", t->tgid, t->tid, t->comm);
	/* The leader's lifetime is the process's slice. */
	if (t->tid == t->tgid)
		return;
	event(pf, "X", t->comm, t->tgid, t->tid);
	field_us(pf->f, "ts", start);
	field_us(pf->f, "dur", end > start ? end - start : 0);
	fprintf(pf->f, ",\"args\":{\"page_faults\":%llu}}", (unsigned long long)t->faults);
}

void perfetto_run(struct perfetto *pf, const struct summary *s)
{
	const struct mt_tree *t = &s->tree;
	uint32_t tp = tree_pid(s->run);
	char name[256];
	size_t i;

	snprintf(name, sizeof(name), "tree: %.200s (run %d)", pf->name, s->run);
	metadata(pf, "process_name", tp, 0, name);
	event(pf, "M", "process_sort_index", tp, 0);
	fprintf(pf->f, ",\"args\":{\"sort_index\":%d}}", -1000 + s->run);

	/* The tree at its peaks, so that no track shows less than the report. */
	if (t->peak_bytes[MT_PEAK_RSS] > 0) {
		counters(pf, tp, summary_since_start(s, t->peak_ns[MT_PEAK_RSS]),
			 &t->peak_mem[MT_PEAK_RSS], s->thread_bytes);
		peak_instant(pf, s, "peak RSS", MT_PEAK_RSS);
	}
	if (t->peak_bytes[MT_PEAK_TOTAL] > 0) {
		counters(pf, tp, summary_since_start(s, t->peak_ns[MT_PEAK_TOTAL]),
			 &t->peak_mem[MT_PEAK_TOTAL], s->thread_bytes);
		peak_instant(pf, s, "peak total", MT_PEAK_TOTAL);
	}
	if (t->kernel_peak_bytes > 0)
		counters(pf, tp, summary_since_start(s, t->kernel_peak_ns), &t->kernel_peak_mem,
			 s->thread_bytes);
	counters(pf, tp, summary_since_start(s, s->end_ns), &t->cur, s->thread_bytes);

	for (i = 0; i < s->rec->nprocs; i++)
		process(pf, s, &s->rec->procs[i]);
	if (pf->tasks && s->rec->keep_tasks)
		for (i = 0; i < s->rec->ntasks; i++)
			thread(pf, s, &s->rec->tasks[i]);
	fflush(pf->f);
}

int perfetto_close(struct perfetto *pf)
{
	int err;

	if (!pf->f)
		return 0;
	fputs("\n],\"displayTimeUnit\":\"ms\"}\n", pf->f);
	err = ferror(pf->f) ? EIO : 0;
	if (fclose(pf->f) && !err)
		err = errno;
	pf->f = NULL;
	if (err) {
		fprintf(stderr, "memtrace: cannot write '%s' for --perfetto: %s\n", pf->path, strerror(err));
		return -1;
	}
	return 0;
}
