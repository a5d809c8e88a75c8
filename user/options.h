/* SPDX-License-Identifier: GPL-2.0 */
#ifndef MT_OPTIONS_H
#define MT_OPTIONS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#define MT_MAX_PIDS 64
#define MT_MAX_LABELS 32
#define MT_MAX_COMPARE 26 /* -c commands, named A to Z */

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
	bool runs_given;           /* --runs was on the command line */
	const char *compare[MT_MAX_COMPARE]; /* -c: commands to compare (each through sh -c) */
	int ncompare;
	int warmup;                /* --warmup */
	int verbose;               /* -v: all processes, libbpf's log with -vv */
	int top;                   /* processes shown in the report */
	unsigned long max_tasks;   /* live threads the kernel side can follow; 0: the kernel's bound */
	unsigned long max_procs;   /* live processes the kernel side can follow */
	unsigned long ringbuf_bytes;
	const char *user;          /* -u: run the command as this user */
	bool as_root;              /* --as-root: under sudo, keep root for the command */
	double duration_s;         /* --duration; 0: none */
	bool wait;                 /* --wait: until the tree's last process ends */
	bool cgroup;               /* --cgroup: run in a memory cgroup, report its peak */
	uint64_t limit_bytes;      /* --limit; 0: none */
	int limit_kind;            /* MT_LIMIT_RSS or MT_LIMIT_TOTAL */
	int limit_signal;          /* --limit-signal */
	bool strict;               /* exit MT_EXIT_LOST when events were lost */
	const char *format;        /* --format: one line of the user's own instead of the report */
	bool quiet;                /* -q: no status line, no attach message */
	bool exit_now;             /* --help or --version was handled */
	const char *perfetto;      /* --perfetto: Chrome trace JSON timeline */
	const char *prom;          /* --prom: Prometheus text file */
	const char *push_url;      /* --push: Prometheus Pushgateway */
	const char *labels[MT_MAX_LABELS]; /* --label k=v, checked */
	int nlabels;
	const char *export_bmf;    /* --export-bmf: Bencher Metric Format */
	const char *export_github; /* --export-github-benchmark */
	const char *bench_name;    /* --bench-name: the benchmark's name in those two */
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
