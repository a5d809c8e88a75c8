// SPDX-License-Identifier: GPL-2.0
/* The report as JSON. Schema "memtrace-report/1", described in the README. */
#include <sys/wait.h>

#include "report.h"

static double ms_since_start(const struct summary *s, uint64_t ns)
{
	return (double)summary_since_start(s, ns) / 1e6;
}

/* One instant's memory: user pages by type, kernel memory by part. */
static void write_mem(struct json *j, const char *key, const struct mt_mem *m,
		      const struct summary *s)
{
	int64_t ps = (int64_t)s->si->page_size;

	json_begin_object(j, key);
	json_int(j, "rss_bytes", mem_rss_bytes(m, s->si->page_size));
	json_int(j, "anon_bytes", m->pages[MT_ANON] * ps);
	json_int(j, "file_bytes", m->pages[MT_FILE] * ps);
	json_int(j, "shmem_bytes", m->pages[MT_SHMEM] * ps);
	json_int(j, "swap_bytes", m->pages[MT_SWAP] * ps);
	json_int(j, "kernel_bytes", mem_kernel_bytes(m, s->thread_bytes));
	json_int(j, "pgtables_bytes", m->pgtables_bytes);
	json_int(j, "kstack_bytes", m->kstack_bytes);
	json_int(j, "thread_objects_bytes", m->threads * (int64_t)s->thread_bytes);
	json_int(j, "threads", m->threads);
	json_end_object(j);
}

void report_json_mem(struct json *j, const char *key, const struct mt_mem *m,
		     const struct summary *s)
{
	write_mem(j, key, m, s);
}

static void write_peak(struct json *j, const char *key, int64_t bytes, uint64_t ns,
		       const struct mt_mem *m, const struct summary *s)
{
	json_begin_object(j, key);
	json_int(j, "bytes", bytes);
	json_double(j, "t_ms", ms_since_start(s, ns));
	if (m)
		write_mem(j, "at_peak", m, s);
	json_end_object(j);
}

static void write_exit(struct json *j, const char *key, int wait_status, int valid)
{
	json_begin_object(j, key);
	if (valid && WIFEXITED(wait_status))
		json_int(j, "status", WEXITSTATUS(wait_status));
	else
		json_null(j, "status");
	if (valid && WIFSIGNALED(wait_status))
		json_int(j, "signal", WTERMSIG(wait_status));
	else
		json_null(j, "signal");
	json_end_object(j);
}

static void write_process(struct json *j, const struct proc_row *row, const struct summary *s)
{
	const struct proc_info *p = &row->p;

	json_begin_object(j, NULL);
	json_uint(j, "pid", p->tgid);
	json_uint(j, "ppid", p->ppid);
	json_string(j, "comm", p->comm);
	if (row->cmdline)
		json_string(j, "cmdline", row->cmdline);
	else
		json_null(j, "cmdline");
	json_int(j, "live", row->live);
	json_int(j, "attached", !!(p->flags & MT_PROC_ATTACHED));
	json_int(j, "shared_vm", !!(p->flags & MT_PROC_SHARED_VM));
	json_int(j, "start_rss_bytes", p->first_rss_pages * (int64_t)s->si->page_size);
	json_double(j, "start_ms", ms_since_start(s, p->start_ns));
	if (row->live)
		json_null(j, "exit_ms");
	else
		json_double(j, "exit_ms", ms_since_start(s, p->exit_ns));
	write_exit(j, "exit", p->exit_code, !row->live);
	json_uint(j, "execs", p->execs);
	json_uint(j, "threads_total", p->threads_total);
	json_int(j, "threads_peak", p->peak_threads);
	json_uint(j, "page_faults", p->faults);
	json_double(j, "peak_t_ms", ms_since_start(s, p->own_peak_ns));
	json_int(j, "peak_kernel_bytes", p->own_peak_kernel_bytes);
	json_uint(j, "hugetlb_seen_bytes", p->hugetlb_pages_seen * s->si->page_size);
	write_mem(j, "peak", &p->own_peak, s);
	write_mem(j, "at_tree_rss_peak", &row->at_peak[MT_PEAK_RSS], s);
	write_mem(j, "at_tree_total_peak", &row->at_peak[MT_PEAK_TOTAL], s);
	if (row->live)
		write_mem(j, "current", &p->cur, s);
	json_end_object(j);
}

static void write_task(struct json *j, const struct mt_task *t, const struct summary *s)
{
	json_begin_object(j, NULL);
	json_uint(j, "tid", t->tid);
	json_uint(j, "tgid", t->tgid);
	json_uint(j, "ptid", t->ptid);
	json_uint(j, "ppid", t->ppid);
	json_string(j, "comm", t->comm);
	json_double(j, "start_ms", ms_since_start(s, t->start_ns));
	if (t->exit_ns)
		json_double(j, "exit_ms", ms_since_start(s, t->exit_ns));
	else
		json_null(j, "exit_ms");
	json_uint(j, "page_faults", t->faults);
	json_uint(j, "kstack_bytes", t->kstack_bytes);
	json_end_object(j);
}

void report_json_write(struct json *jw, const char *key, const struct summary *s)
{
	const struct mt_tree *t = &s->tree;
	struct json j = *jw;
	size_t i;
	int k;

	json_begin_object(&j, key);
	json_string(&j, "schema", "memtrace-report/1");
	json_int(&j, "run", s->run);
	json_string(&j, "memtrace_version", MEMTRACE_VERSION);
	json_string(&j, "kernel", s->si->kernel_release);
	if (s->command) {
		json_begin_array(&j, "command");
		for (k = 0; k < s->command_argc; k++)
			json_string(&j, NULL, s->command[k]);
		json_end_array(&j);
	} else {
		json_null(&j, "command");
	}
	json_begin_array(&j, "attached_pids");
	for (k = 0; k < s->npids; k++)
		json_int(&j, NULL, s->pids[k]);
	json_end_array(&j);
	write_exit(&j, "exit", s->wait_status, s->command && s->exited);
	json_int(&j, "memtrace_exit_code", s->exit_code);
	json_int(&j, "interrupted", s->interrupted);
	json_int(&j, "timed_out", s->timed_out);
	json_double(&j, "wall_s", (double)(s->end_ns - s->start_ns) / 1e9);
	json_double(&j, "user_s", s->user_s);
	json_double(&j, "sys_s", s->sys_s);
	json_double(&j, "startup_ms", (double)s->startup_ns / 1e6);
	json_uint(&j, "page_size", s->si->page_size);
	json_uint(&j, "task_struct_bytes", s->si->task_struct_bytes);
	json_uint(&j, "thread_kernel_bytes", s->thread_bytes);

	write_peak(&j, "peak_rss", t->peak_bytes[MT_PEAK_RSS], t->peak_ns[MT_PEAK_RSS],
		   &t->peak_mem[MT_PEAK_RSS], s);
	write_peak(&j, "peak_kernel", t->kernel_peak_bytes, t->kernel_peak_ns, &t->kernel_peak_mem, s);
	write_peak(&j, "peak_total", t->peak_bytes[MT_PEAK_TOTAL], t->peak_ns[MT_PEAK_TOTAL],
		   &t->peak_mem[MT_PEAK_TOTAL], s);
	write_mem(&j, "final", &t->cur, s);
	report_limits_json(&j, s);

	json_begin_object(&j, "processes");
	json_uint(&j, "total", t->procs_total);
	json_int(&j, "peak_concurrent", t->procs_peak);
	json_uint(&j, "still_running", s->rec->live_procs);
	json_uint(&j, "exits_seen", s->rec->proc_exits);
	json_uint(&j, "rows_not_kept", s->rec->procs_dropped);
	json_uint(&j, "records_dropped", t->proc_records_dropped);
	json_uint(&j, "rows_lost", s->rec->rows_lost);
	json_end_object(&j);
	json_begin_object(&j, "threads");
	json_uint(&j, "total", t->threads_total);
	json_int(&j, "peak_concurrent", t->threads_peak);
	json_uint(&j, "exits_seen", s->tree.threads_exited);
	json_uint(&j, "still_running", s->rec->live_tasks);
	json_end_object(&j);
	json_uint(&j, "page_faults", s->faults);

	json_begin_object(&j, "events");
	json_uint(&j, "applied", t->events);
	json_uint(&j, "lost", summary_lost(s));
	json_uint(&j, "ringbuf_drops", t->ringbuf_drops);
	json_uint(&j, "map_full", t->map_full);
	json_uint(&j, "lock_timeouts", t->lock_fails);
	json_uint(&j, "recursion_misses", s->recursion_misses);
	json_uint(&j, "no_memory", s->record_failures);
	json_end_object(&j);

	json_uint(&j, "hugetlb_seen_bytes", s->tree.hugetlb_pages_seen * s->si->page_size);

	json_begin_object(&j, "shared_pages");
	json_uint(&j, "rss_sum_bytes", s->sharing.rss_bytes);
	json_uint(&j, "pss_sum_bytes", s->sharing.pss_bytes);
	json_double(&j, "t_ms", s->sharing.procs ? ms_since_start(s, s->sharing.t_ns) : 0);
	json_int(&j, "processes", s->sharing.procs);
	json_int(&j, "warning", sharing_warn(&s->sharing));
	json_end_object(&j);

	json_begin_object(&j, "memtrace_self");
	json_uint(&j, "vmhwm_bytes", s->self_hwm_bytes);
	json_uint(&j, "vmrss_bytes", s->self_rss_bytes);
	json_end_object(&j);

	json_begin_array(&j, "per_process");
	for (i = 0; i < s->rec->nprocs; i++)
		write_process(&j, &s->rec->procs[i], s);
	json_end_array(&j);
	if (s->rec->keep_tasks) {
		json_begin_array(&j, "tasks");
		for (i = 0; i < s->rec->ntasks; i++)
			write_task(&j, &s->rec->tasks[i], s);
		json_end_array(&j);
	}
	json_end_object(&j);
	*jw = j;
}
