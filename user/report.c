// SPDX-License-Identifier: GPL-2.0
/* The text report, in the manner of time -v: one labelled line per figure. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

#include "format.h"
#include "report.h"

#define LABEL "  %-30s "

static void print_size_line(FILE *f, const char *label, int64_t bytes, const char *suffix)
{
	char h[32];

	fprintf(f, LABEL "%s (%lld bytes)%s\n", label, format_bytes(h, sizeof(h), bytes),
		(long long)bytes, suffix ? suffix : "");
}

static void print_command(FILE *f, const struct summary *s)
{
	int i;

	if (s->command) {
		fprintf(f, "memtrace %s:", MEMTRACE_VERSION);
		for (i = 0; i < s->command_argc; i++)
			fprintf(f, " %s", s->command[i]);
		fprintf(f, "\n");
	} else {
		fprintf(f, "memtrace %s: attached to", MEMTRACE_VERSION);
		for (i = 0; i < s->npids; i++)
			fprintf(f, "%s %d", i ? "," : "", s->pids[i]);
		fprintf(f, "\n");
	}
}

static void print_status(FILE *f, const struct summary *s)
{
	if (s->command && s->timed_out)
		fprintf(f, LABEL "%s\n", "Ended:", "--duration ran out: the command was sent SIGTERM");
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

	fprintf(f, LABEL "anon %s, file %s, shmem %s; swap %s (not in RSS)\n", "",
		format_bytes(a, sizeof(a), m->pages[MT_ANON] * (int64_t)ps),
		format_bytes(b, sizeof(b), m->pages[MT_FILE] * (int64_t)ps),
		format_bytes(c, sizeof(c), m->pages[MT_SHMEM] * (int64_t)ps),
		format_bytes(w, sizeof(w), m->pages[MT_SWAP] * (int64_t)ps));
}

static void print_kernel_breakdown(FILE *f, const struct mt_mem *m, const struct summary *s)
{
	char a[32], b[32], c[32];

	fprintf(f, LABEL "page tables %s, kernel stacks %s, thread objects %s (%lld threads)\n", "",
		format_bytes(a, sizeof(a), m->pgtables_bytes),
		format_bytes(b, sizeof(b), m->kstack_bytes),
		format_bytes(c, sizeof(c), m->threads * (int64_t)s->thread_bytes), m->threads);
}

static void print_lost(FILE *f, const struct summary *s)
{
	uint64_t lost = summary_lost(s);
	char a[32], b[32];

	fprintf(f, LABEL "%s applied, %s lost\n", "Events:",
		format_count(a, sizeof(a), (int64_t)s->tree.events),
		format_count(b, sizeof(b), (int64_t)lost));
	if (lost)
		fprintf(f, LABEL "ring buffer full %llu, map full %llu"
			", lock timeouts %llu, recursion %llu, no memory %llu\n",
			"", s->tree.ringbuf_drops, s->tree.map_full, s->tree.lock_fails,
			(unsigned long long)s->recursion_misses,
			(unsigned long long)s->record_failures);
}

static void print_processes(FILE *f, const struct summary *s, int top, int all)
{
	const struct records *r = s->rec;
	size_t i, shown = all ? r->nprocs : (size_t)top;
	char peak[32], at[32], kern[32], ms[32];

	if (shown > r->nprocs)
		shown = r->nprocs;
	fprintf(f, "\n  Processes by peak RSS (%zu of %zu%s):\n", shown, r->nprocs,
		shown < r->nprocs ? "; -v for all" : "");
	if (r->procs_dropped)
		fprintf(f, "  (%llu more short-lived processes were not kept, to bound memtrace's memory)\n",
			(unsigned long long)r->procs_dropped);
	fprintf(f, "  %8s %8s %10s %10s %12s %10s %8s %10s %9s  %s\n", "PID", "PPID", "PEAK_RSS",
		"PEAK_T_MS", "AT_TREE_PEAK", "KERNEL", "THREADS", "FAULTS", "EXIT", "COMMAND");
	for (i = 0; i < shown; i++) {
		const struct proc_row *row = &r->procs[i];
		char exit_s[16];

		if (row->live)
			snprintf(exit_s, sizeof(exit_s), "running");
		else if (WIFSIGNALED(row->p.exit_code))
			snprintf(exit_s, sizeof(exit_s), "sig %d", WTERMSIG(row->p.exit_code));
		else
			snprintf(exit_s, sizeof(exit_s), "%d", WEXITSTATUS(row->p.exit_code));
		fprintf(f, "  %8u %8u %10s %10s %12s %10s %8lld %10llu %9s  %.16s\n",
			row->p.tgid, row->p.ppid,
			format_bytes(peak, sizeof(peak), mem_rss_bytes(&row->p.own_peak, s->si->page_size)),
			format_ms(ms, sizeof(ms), summary_since_start(s, row->p.own_peak_ns)),
			format_bytes(at, sizeof(at),
				     mem_rss_bytes(&row->at_peak[MT_PEAK_RSS], s->si->page_size)),
			format_bytes(kern, sizeof(kern), row->p.own_peak_kernel_bytes),
			row->p.peak_threads, row->p.faults, exit_s, row->p.comm);
	}
}

void report_text(FILE *f, const struct summary *s, int top, int all)
{
	const struct mt_tree *t = &s->tree;
	const struct mt_mem *rp = &t->peak_mem[MT_PEAK_RSS];
	const struct mt_mem *tp = &t->peak_mem[MT_PEAK_TOTAL];
	char ms[32], wall[32], buf[64];
	uint64_t wall_ns = s->end_ns - s->start_ns;

	print_command(f, s);
	print_status(f, s);
	snprintf(wall, sizeof(wall), "%.3f s", (double)wall_ns / 1e9);
	fprintf(f, LABEL "%s\n", "Wall time:", wall);
	if (s->command)
		fprintf(f, LABEL "%.3f s user, %.3f s system\n", "CPU time:", s->user_s, s->sys_s);

	snprintf(buf, sizeof(buf), " at %s ms", format_ms(ms, sizeof(ms), summary_since_start(s, t->peak_ns[MT_PEAK_RSS])));
	print_size_line(f, "Peak RSS (tree):", t->peak_bytes[MT_PEAK_RSS], buf);
	print_breakdown(f, rp, s);
	print_size_line(f, "Kernel memory at that peak:", mem_kernel_bytes(rp, s->thread_bytes), NULL);

	snprintf(buf, sizeof(buf), " at %s ms", format_ms(ms, sizeof(ms), summary_since_start(s, t->kernel_peak_ns)));
	print_size_line(f, "Peak kernel memory:", t->kernel_peak_bytes, buf);
	print_kernel_breakdown(f, &t->kernel_peak_mem, s);
	snprintf(buf, sizeof(buf), " at %s ms", format_ms(ms, sizeof(ms), summary_since_start(s, t->peak_ns[MT_PEAK_TOTAL])));
	print_size_line(f, "Peak total (RSS + kernel):", t->peak_bytes[MT_PEAK_TOTAL], buf);
	{
		char a[32], b[32];

		fprintf(f, LABEL "RSS %s + kernel %s\n", "",
			format_bytes(a, sizeof(a), mem_rss_bytes(tp, s->si->page_size)),
			format_bytes(b, sizeof(b), mem_kernel_bytes(tp, s->thread_bytes)));
	}

	report_limits_text(f, s);
	fprintf(f, LABEL "%llu" " total, %lld peak concurrent, %lld still running\n",
		"Processes:", t->procs_total, t->procs_peak, t->procs_live);
	fprintf(f, LABEL "%llu" " total, %lld peak concurrent, %llu exits seen\n",
		"Threads:", t->threads_total, t->threads_peak,
		(unsigned long long)s->tree.threads_exited);
	fprintf(f, LABEL "%s\n", "Page faults:", format_count(buf, sizeof(buf), (int64_t)s->faults));
	print_lost(f, s);
	if (all) {
		char a[32], b[32];

		fprintf(f, LABEL "peak %s, now %s\n", "memtrace's own RSS:",
			format_bytes(a, sizeof(a), (int64_t)s->self_hwm_bytes),
			format_bytes(b, sizeof(b), (int64_t)s->self_rss_bytes));
	}
	print_processes(f, s, top, all);
}
