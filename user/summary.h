/* SPDX-License-Identifier: GPL-2.0 */
/* Everything one run's report says, gathered once for every output format. */
#ifndef MT_SUMMARY_H
#define MT_SUMMARY_H

#include <stdint.h>
#include <sys/types.h>

#include "cgroup.h"
#include "records.h"
#include "sharing.h"
#include "sysinfo.h"

struct summary {
	int run;              /* 1-based index of a measured run */
	char **command;       /* NULL when attached */
	int command_argc;
	const pid_t *pids;    /* attach mode */
	int npids;
	int exec_errno;       /* the command could not be run */
	int wait_status;      /* as from waitpid(); valid when exited is set */
	int exited;
	int interrupted;      /* attach mode ended by a signal */
	int timed_out;        /* --duration ran out */
	int exit_code;        /* what memtrace exits with */
	uint64_t start_ns;    /* CLOCK_MONOTONIC, the same clock as the BPF side */
	uint64_t end_ns;
	uint64_t startup_ns;  /* memtrace's start to the command's exec */
	double user_s, sys_s; /* CPU time of the command and its reaped descendants */
	struct mt_tree tree;
	uint64_t recursion_misses;
	uint64_t record_failures;
	struct records *rec;
	const struct sysinfo_mt *si;
	uint64_t thread_bytes;
	uint64_t faults;         /* page faults of the tree, live threads included */
	uint64_t self_hwm_bytes; /* memtrace's own peak RSS */
	uint64_t self_rss_bytes;
	struct sharing sharing;  /* RSS and PSS sums of the live processes, see sharing.h */
	uint64_t limit_bytes;    /* --limit; 0: none (the crossing is in tree.limit_*) */
	int limit_kind;
	int limit_signal;
	int limit_ended;         /* processes memtrace SIGKILLed after the crossing */
	int waited;              /* --wait: followed to the last process */
	struct memcg_peak cg;    /* --cgroup */
};

/* Lost events of every kind, summed. */
uint64_t summary_lost(const struct summary *s);
/* Nanoseconds since start; 0 for times before it. */
uint64_t summary_since_start(const struct summary *s, uint64_t ns);

#endif
