// SPDX-License-Identifier: GPL-2.0
#include <string.h>
#include <sys/wait.h>

#include "report_format.h"

static const char conversions[] = "RMTKeUSxPHFLC%";
static const char escapes[] = "nt\\";

int report_format_check(const char *fmt)
{
	const char *p;

	for (p = fmt; *p; p++) {
		if (*p != '%' && *p != '\\')
			continue;
		if (!p[1] || !strchr(*p == '%' ? conversions : escapes, p[1])) {
			fprintf(stderr, "memtrace: bad format '%s' for --format: unknown '%.*s' "
				"(see memtrace --help)\n", fmt, p[1] ? 2 : 1, p);
			return -1;
		}
		p++;
	}
	return 0;
}

static void command(FILE *f, const struct summary *s)
{
	int i;

	if (!s->command) {
		for (i = 0; i < s->npids; i++)
			fprintf(f, "%s%d", i ? "," : "-p ", s->pids[i]);
		return;
	}
	for (i = 0; i < s->command_argc; i++)
		fprintf(f, "%s%s", i ? " " : "", s->command[i]);
}

/* What the command's exit said, as time's %x: its status, or 128 + the signal. */
static int exit_status(const struct summary *s)
{
	if (!s->command || !s->exited)
		return 0;
	if (WIFSIGNALED(s->wait_status))
		return 128 + WTERMSIG(s->wait_status);
	return WEXITSTATUS(s->wait_status);
}

static void conversion(FILE *f, char c, const struct summary *s)
{
	const struct mt_tree *t = &s->tree;

	switch (c) {
	case 'R':
		fprintf(f, "%lld", (long long)t->peak_bytes[MT_PEAK_RSS]);
		break;
	case 'M':
		fprintf(f, "%lld", (long long)(t->peak_bytes[MT_PEAK_RSS] / 1024));
		break;
	case 'T':
		fprintf(f, "%lld", (long long)t->peak_bytes[MT_PEAK_TOTAL]);
		break;
	case 'K':
		fprintf(f, "%lld", (long long)t->kernel_peak_bytes);
		break;
	case 'e':
		fprintf(f, "%.3f", (double)(s->end_ns - s->start_ns) / 1e9);
		break;
	case 'U':
		fprintf(f, "%.3f", s->user_s);
		break;
	case 'S':
		fprintf(f, "%.3f", s->sys_s);
		break;
	case 'x':
		fprintf(f, "%d", exit_status(s));
		break;
	case 'P':
		fprintf(f, "%llu", (unsigned long long)t->procs_total);
		break;
	case 'H':
		fprintf(f, "%llu", (unsigned long long)t->threads_total);
		break;
	case 'F':
		fprintf(f, "%llu", (unsigned long long)s->faults);
		break;
	case 'L':
		fprintf(f, "%llu", (unsigned long long)summary_lost(s));
		break;
	case 'C':
		command(f, s);
		break;
	default:
		fputc(c, f);
	}
}

void report_format(FILE *f, const char *fmt, const struct summary *s)
{
	const char *p;

	for (p = fmt; *p; p++) {
		if (*p == '%' && p[1]) {
			conversion(f, *++p, s);
		} else if (*p == '\\' && p[1]) {
			p++;
			fputc(*p == 'n' ? '\n' : *p == 't' ? '\t' : *p, f);
		} else {
			fputc(*p, f);
		}
	}
	fputc('\n', f);
}
