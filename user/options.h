/* SPDX-License-Identifier: GPL-2.0 */
#ifndef MT_OPTIONS_H
#define MT_OPTIONS_H

#include <stdbool.h>
#include <sys/types.h>

#define MT_MAX_PIDS 64

struct settings {
	char **command;            /* argv of the command after "--", NULL-terminated */
	int command_argc;
	pid_t pids[MT_MAX_PIDS];   /* -p */
	int npids;
	const char *output;        /* -o: the report, instead of stderr */
	const char *json;          /* --json */
	const char *csv;           /* --csv: time series */
	unsigned interval_ms;      /* --interval */
	const char *summary_csv;   /* --summary-csv: one row per run, appended */
	bool tasks;                /* --tasks: per-task table in the report */
	const char *tasks_csv;     /* --tasks-csv */
	int runs;                  /* --runs */
	int warmup;                /* --warmup */
	int verbose;               /* -v: all processes, libbpf's log with -vv */
	int top;                   /* processes shown in the report */
	unsigned long max_tasks;   /* live threads the kernel side can follow */
	unsigned long max_procs;   /* live processes the kernel side can follow */
	unsigned long ringbuf_bytes;
	const char *user;          /* -u: run the command as this user */
	double duration_s;         /* --duration; 0: none */
	bool strict;               /* exit MT_EXIT_LOST when events were lost */
	bool exit_now;             /* --help or --version was handled */
	bool check_kernel;         /* --check-kernel: say whether this kernel can be traced */
};

void settings_init(struct settings *s);

/*
 * Fills s from argv. Returns 0 on success or when --help/--version ran
 * (s->exit_now is then set), or MT_EXIT_USAGE after printing one line that
 * says what is wrong.
 */
int parse_options(int argc, char **argv, struct settings *s);

#endif
