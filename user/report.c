// SPDX-License-Identifier: GPL-2.0
/* The text report, in the manner of time -v: one labelled line per figure. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

#include "format.h"
#include "report.h"
#include "utf8.h"

/* Labels and values in 80 columns: values start at column 24. */
#define LABEL "  %-21s "
#define WIDTH 80

static void print_size_line(FILE *f, const char *label, int64_t bytes, const char *suffix)
{
	char h[32];

	fprintf(f, LABEL "%s (%lld bytes)%s\n", label, format_bytes(h, sizeof(h), bytes),
		(long long)bytes, suffix ? suffix : "");
}

/* The command on one line (a multi-line script escaped, a long one cut). */
static void print_command(FILE *f, const struct summary *s)
{
	char cmd[WIDTH - 24 + 1];
	int i;

	if (s->command) {
		fprintf(f, LABEL "%s\n", "Command:",
			format_command(cmd, sizeof(cmd), s->command, s->command_argc));
	} else {
		fprintf(f, LABEL, "Attached to:");
		for (i = 0; i < s->npids; i++)
			fprintf(f, "%s%d", i ? "," : "", s->pids[i]);
		fprintf(f, "\n");
	}
}

void report_headline(FILE *f, const struct summary *s)
{
	const struct mt_tree *t = &s->tree;
	char a[32], b[32], n[32];
	double wall = (double)(s->end_ns - s->start_ns) / 1e9;

	fprintf(f, "memtrace: peak RSS %s, peak total %s, wall %.*f s, %s process%s\n",
		format_bytes(a, sizeof(a), t->peak_bytes[MT_PEAK_RSS]),
		format_bytes(b, sizeof(b), t->peak_bytes[MT_PEAK_TOTAL]), wall < 100 ? 3 : 1, wall,
		format_count(n, sizeof(n), (int64_t)t->procs_total), t->procs_total == 1 ? "" : "es");
}

static void print_status(FILE *f, const struct summary *s)
{
	if (s->command && s->timed_out)
		fprintf(f, LABEL "%s\n", "Ended:", "--duration ran out: the command was sent SIGTERM");
	else if (s->command && s->interrupted)
		fprintf(f, LABEL "%s\n", "Ended:", "interrupted: a signal to memtrace, passed to the command");
	if (s->command && s->exited) {
		if (WIFEXITED(s->wait_status))
			fprintf(f, LABEL "%d\n", "Exit status:", WEXITSTATUS(s->wait_status));
		else if (WIFSIGNALED(s->wait_status))
			fprintf(f, LABEL "killed by signal %d (%s)\n", "Exit status:",
				WTERMSIG(s->wait_status), strsignal(WTERMSIG(s->wait_status)));
	} else if (!s->command) {
		fprintf(f, LABEL "%s; peaks are since attach\n", "Ended:",
			s->timed_out     ? "--duration ran out"
			: s->interrupted ? "stopped by a signal to memtrace"
					 : "every followed process exited");
	}
}

static void print_breakdown(FILE *f, const struct mt_mem *m, const struct summary *s)
{
	char a[32], b[32], c[32], w[32];
	uint64_t ps = s->si->page_size;

	fprintf(f, LABEL "anon %s, file %s, shmem %s, swap %s\n", "",
		format_bytes(a, sizeof(a), m->pages[MT_ANON] * (int64_t)ps),
		format_bytes(b, sizeof(b), m->pages[MT_FILE] * (int64_t)ps),
		format_bytes(c, sizeof(c), m->pages[MT_SHMEM] * (int64_t)ps),
		format_bytes(w, sizeof(w), m->pages[MT_SWAP] * (int64_t)ps));
}

static void print_kernel_breakdown(FILE *f, const struct mt_mem *m, const struct summary *s)
{
	char a[32], b[32], c[32];

	fprintf(f, LABEL "page tables %s, stacks %s, tasks %s\n", "",
		format_bytes(a, sizeof(a), m->pgtables_bytes),
		format_bytes(b, sizeof(b), m->kstack_bytes),
		format_bytes(c, sizeof(c), m->threads * (int64_t)s->thread_bytes));
}

static void print_lost(FILE *f, const struct summary *s)
{
	uint64_t lost = summary_lost(s);
	char a[32], b[32];

	fprintf(f, LABEL "%s applied, %s lost\n", "Events:",
		format_count(a, sizeof(a), (int64_t)s->tree.events),
		format_count(b, sizeof(b), (int64_t)lost));
	if (lost)
		fprintf(f, LABEL "ringbuf %llu, map full %llu, lock %llu"
			", recursion %llu, no memory %llu, rows %llu\n",
			"", s->tree.ringbuf_drops, s->tree.map_full, s->tree.lock_fails,
			(unsigned long long)s->recursion_misses,
			(unsigned long long)s->record_failures,
			(unsigned long long)s->rec->rows_lost);
}

/* Forked workers: their RSS sum counts each shared page in every process. */
static void print_sharing(FILE *f, const struct summary *s)
{
	const struct sharing *sh = &s->sharing;
	char a[32], b[32], ms[32];

	if (!sharing_warn(sh))
		return;
	fprintf(f, LABEL "%s\n", "Shared pages:",
		"RSS counts a page in every process that maps it;");
	fprintf(f, LABEL "at %s ms the RSS sum was %s, the PSS sum %s\n", "",
		format_ms(ms, sizeof(ms), summary_since_start(s, sh->t_ns)),
		format_bytes(a, sizeof(a), (int64_t)sh->rss_bytes),
		format_bytes(b, sizeof(b), (int64_t)sh->pss_bytes));
	fprintf(f, LABEL "%s\n", "", "(PSS splits a page among its sharers: memtrace(1))");
}

/* Outside RSS and counted nowhere: the report says they were there (a lower bound). */
static void print_hugetlb(FILE *f, const struct summary *s)
{
	char b[32];

	if (!s->tree.hugetlb_pages_seen)
		return;
	fprintf(f, LABEL "%s or more (one process), outside RSS: not counted\n", "Hugetlb pages:",
		format_bytes(b, sizeof(b), (int64_t)(s->tree.hugetlb_pages_seen * s->si->page_size)));
}

static void print_processes(FILE *f, const struct summary *s, int top, int all)
{
	const struct records *r = s->rec;
	size_t i, shown = all ? r->nprocs : (size_t)top;
	char peak[32], at[32], kern[32], ms[32], cmdline[MT_ARGS_LEN + 32];
	char name[3 * MT_COMM_LEN + 1];

	if (shown > r->nprocs)
		shown = r->nprocs;
	fprintf(f, "\n  Processes by peak RSS (%zu of %zu%s; PPID: parent at exit, or now if running):\n",
		shown, r->nprocs, shown < r->nprocs ? "; -v for all" : "");
	if (r->procs_dropped)
		fprintf(f, "  (%llu more short-lived processes were not kept, to bound memtrace's memory)\n",
			(unsigned long long)r->procs_dropped);
	if (all)
		fprintf(f, "  %7s %7s %8s %9s %8s %8s %7s %9s %7s %s\n", "PID", "PPID", "PEAK_RSS",
			"PEAK_T_MS", "AT_PEAK", "KERNEL", "THREADS", "FAULTS", "EXIT", "COMMAND");
	else
		fprintf(f, "  %7s %8s %8s %8s %7s %9s %7s %s\n", "PID", "PEAK_RSS", "AT_PEAK",
			"KERNEL", "THREADS", "FAULTS", "EXIT", "COMMAND");
	for (i = 0; i < shown; i++) {
		const struct proc_row *row = &r->procs[i];
		char exit_s[16];

		if (row->live)
			snprintf(exit_s, sizeof(exit_s), "running");
		else if (WIFSIGNALED(row->p.exit_code))
			snprintf(exit_s, sizeof(exit_s), "sig %d", WTERMSIG(row->p.exit_code));
		else
			snprintf(exit_s, sizeof(exit_s), "%d", WEXITSTATUS(row->p.exit_code));
		utf8_clean(name, sizeof(name), row->p.comm, MT_COMM_LEN);
		format_bytes(peak, sizeof(peak), mem_rss_bytes(&row->p.own_peak, s->si->page_size));
		format_bytes(at, sizeof(at), mem_rss_bytes(&row->at_peak[MT_PEAK_RSS], s->si->page_size));
		format_bytes(kern, sizeof(kern), row->p.own_peak_kernel_bytes);
		if (all)
			fprintf(f, "  %7u %7u %8s %9s %8s %8s %7lld %9llu %7s %s\n", row->p.tgid,
				row->p.ppid, peak,
				format_ms(ms, sizeof(ms), summary_since_start(s, row->p.own_peak_ns)), at,
				kern, row->p.peak_threads, row->p.faults, exit_s,
				row->cmdline && *row->cmdline
					? format_script(cmdline, sizeof(cmdline), row->cmdline)
					: name);
		else
			fprintf(f, "  %7u %8s %8s %8s %7lld %9llu %7s %s\n", row->p.tgid, peak, at,
				kern, row->p.peak_threads, row->p.faults, exit_s, name);
	}
}

void report_text(FILE *f, const struct summary *s, int top, int all)
{
	const struct mt_tree *t = &s->tree;
	const struct mt_mem *rp = &t->peak_mem[MT_PEAK_RSS];
	const struct mt_mem *tp = &t->peak_mem[MT_PEAK_TOTAL];
	char ms[32], wall[32], buf[64];
	uint64_t wall_ns = s->end_ns - s->start_ns;

	report_headline(f, s);
	print_command(f, s);
	print_status(f, s);
	snprintf(wall, sizeof(wall), "%.3f s", (double)wall_ns / 1e9);
	fprintf(f, LABEL "%s\n", "Wall time:", wall);
	if (s->command)
		fprintf(f, LABEL "%.3f s user, %.3f s system\n", "CPU time:", s->user_s, s->sys_s);

	snprintf(buf, sizeof(buf), " at %s ms", format_ms(ms, sizeof(ms), summary_since_start(s, t->peak_ns[MT_PEAK_RSS])));
	print_size_line(f, "Peak RSS (tree):", t->peak_bytes[MT_PEAK_RSS], buf);
	print_breakdown(f, rp, s);
	print_size_line(f, "Kernel at that peak:", mem_kernel_bytes(rp, s->thread_bytes), NULL);

	snprintf(buf, sizeof(buf), " at %s ms", format_ms(ms, sizeof(ms), summary_since_start(s, t->kernel_peak_ns)));
	print_size_line(f, "Peak kernel memory:", t->kernel_peak_bytes, buf);
	print_kernel_breakdown(f, &t->kernel_peak_mem, s);
	if (all)
		fprintf(f, LABEL "%s\n", "",
			"(page tables: VmPTE, up to 1 s late after zero-page reads: memtrace(1))");
	snprintf(buf, sizeof(buf), " at %s ms", format_ms(ms, sizeof(ms), summary_since_start(s, t->peak_ns[MT_PEAK_TOTAL])));
	print_size_line(f, "Peak total:", t->peak_bytes[MT_PEAK_TOTAL], buf);
	{
		char a[32], b[32];

		fprintf(f, LABEL "RSS %s + kernel %s\n", "",
			format_bytes(a, sizeof(a), mem_rss_bytes(tp, s->si->page_size)),
			format_bytes(b, sizeof(b), mem_kernel_bytes(tp, s->thread_bytes)));
	}

	report_limits_text(f, s);
	fprintf(f, LABEL "%llu total, at most %lld at once, %llu still running\n",
		"Processes:", t->procs_total, t->procs_peak, (unsigned long long)s->rec->live_procs);
	fprintf(f, LABEL "%llu total, at most %lld at once, %llu exits seen\n",
		"Threads:", t->threads_total, t->threads_peak,
		(unsigned long long)s->tree.threads_exited);
	fprintf(f, LABEL "%s\n", "Page faults:", format_count(buf, sizeof(buf), (int64_t)s->faults));
	print_lost(f, s);
	print_sharing(f, s);
	print_hugetlb(f, s);
	if (all) {
		char a[32], b[32];

		fprintf(f, LABEL "peak %s, now %s\n", "memtrace's own RSS:",
			format_bytes(a, sizeof(a), (int64_t)s->self_hwm_bytes),
			format_bytes(b, sizeof(b), (int64_t)s->self_rss_bytes));
	}
	print_processes(f, s, top, all);
}

void report_interim(FILE *f, const struct summary *s)
{
	const struct mt_tree *t = &s->tree;
	char a[32], b[32], c[32], d[32], n[32];

	fprintf(f, "memtrace: so far (%.1f s): peak RSS %s, peak total %s\n",
		(double)(s->end_ns - s->start_ns) / 1e9,
		format_bytes(a, sizeof(a), t->peak_bytes[MT_PEAK_RSS]),
		format_bytes(b, sizeof(b), t->peak_bytes[MT_PEAK_TOTAL]));
	fprintf(f, "  now: rss %s, kernel %s, processes %lld, threads %s\n",
		format_bytes(c, sizeof(c), mem_rss_bytes(&t->cur, s->si->page_size)),
		format_bytes(d, sizeof(d), mem_kernel_bytes(&t->cur, s->thread_bytes)),
		(long long)t->procs_live, format_count(n, sizeof(n), t->cur.threads));
}
