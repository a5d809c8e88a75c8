// SPDX-License-Identifier: GPL-2.0
#include <string.h>
#include <sys/wait.h>

#include "summary_csv.h"
#include "utf8.h"

void summary_csv_header(FILE *f)
{
	long at;

	fseek(f, 0, SEEK_END);
	at = ftell(f);
	/* A pipe (-) cannot say: it gets the header. */
	if (at <= 0) {
		fputs("run,command,exit_status,exit_signal,wall_s,user_s,sys_s,"
		      "peak_rss_bytes,peak_rss_t_ms,peak_anon_bytes,peak_file_bytes,peak_shmem_bytes,"
		      "peak_kernel_bytes,peak_kernel_t_ms,peak_total_bytes,peak_total_t_ms,"
		      "processes_total,processes_peak,threads_total,threads_peak,page_faults,"
		      "events_applied,events_lost\n", f);
		fflush(f);
	}
}

/* The command line in one quoted field, as valid UTF-8 on one line. */
static void csv_string(FILE *f, char **argv, int argc)
{
	int i;

	fputc('"', f);
	for (i = 0; i < argc; i++) {
		if (i)
			fputc(' ', f);
		utf8_write_csv(f, argv[i], strlen(argv[i]));
	}
	fputc('"', f);
}

void summary_csv_row(FILE *f, const struct summary *s)
{
	const struct mt_tree *t = &s->tree;
	const struct mt_mem *m = &t->peak_mem[MT_PEAK_RSS];
	int64_t ps = (int64_t)s->si->page_size;
	int st = s->wait_status;

	fprintf(f, "%d,", s->run);
	if (s->command)
		csv_string(f, s->command, s->command_argc);
	fputc(',', f);
	if (s->command && s->exited && WIFEXITED(st))
		fprintf(f, "%d", WEXITSTATUS(st));
	fputc(',', f);
	if (s->command && s->exited && WIFSIGNALED(st))
		fprintf(f, "%d", WTERMSIG(st));
	fprintf(f, ",%.6f,%.6f,%.6f,", (double)(s->end_ns - s->start_ns) / 1e9, s->user_s, s->sys_s);
	fprintf(f, "%lld,%.3f,%lld,%lld,%lld,", (long long)t->peak_bytes[MT_PEAK_RSS],
		(double)summary_since_start(s, t->peak_ns[MT_PEAK_RSS]) / 1e6,
		(long long)(m->pages[MT_ANON] * ps), (long long)(m->pages[MT_FILE] * ps),
		(long long)(m->pages[MT_SHMEM] * ps));
	fprintf(f, "%lld,%.3f,%lld,%.3f,", (long long)t->kernel_peak_bytes,
		(double)summary_since_start(s, t->kernel_peak_ns) / 1e6,
		(long long)t->peak_bytes[MT_PEAK_TOTAL],
		(double)summary_since_start(s, t->peak_ns[MT_PEAK_TOTAL]) / 1e6);
	fprintf(f, "%llu,%lld,%llu,%lld,%llu,%llu,%llu\n", (unsigned long long)t->procs_total,
		(long long)t->procs_peak, (unsigned long long)t->threads_total,
		(long long)t->threads_peak, (unsigned long long)s->faults,
		(unsigned long long)t->events, (unsigned long long)summary_lost(s));
	fflush(f);
}
