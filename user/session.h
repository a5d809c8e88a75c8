/* SPDX-License-Identifier: GPL-2.0 */
/* One measured run: start (or attach), wait for the end while sampling, collect. */
#ifndef MT_SESSION_H
#define MT_SESSION_H

#include <signal.h>

#include "guard.h"
#include "cgroup.h"
#include "launch.h"
#include "live.h"
#include "options.h"
#include "records.h"
#include "status_line.h"
#include "summary.h"
#include "timeseries.h"
#include "tracer.h"

struct session {
	const struct settings *set;
	const struct run_as *as;  /* -u, or NULL */
	sigset_t child_mask;      /* the signal mask the command gets */
	int sigfd;                /* signals to forward (or to stop on, attached) */
	struct timeseries *ts;    /* --csv, or NULL */
	int stop;                 /* a signal asked memtrace to stop: no further runs */
	struct live_hook live;    /* --perfetto, --prom: told at each interval */
	struct mt_proc *procs;    /* live processes read for live.want_procs */
	size_t procs_cap;
	int interim_due;          /* SIGUSR1 came: report the run so far */
	/* Called with the run so far on SIGUSR1 (the report's owner prints it). */
	void (*on_interim)(void *arg, const struct summary *s);
	void *interim_arg;
	struct status_line status; /* on a terminal, unless -q */

	/* Per run: */
	struct tracer tracer;
	struct records rec;
	struct summary sum;
	struct child child;
	struct guard guard;       /* kills the command if memtrace dies */
	int pidfd;
	int epfd;
	uint64_t limit_seen_ns;   /* when user space saw the tree cross --limit; 0: not */
	struct memcg memcg;       /* --cgroup: the run's group (version 0: none) */
};

/*
 * Runs the command once (or attaches), waits for the end, and fills
 * ss->sum. Returns 0, or an MT_EXIT_* status when the run could not happen
 * (a line was printed).
 */
int session_run(struct session *ss, int run);
/* CLOCK_MONOTONIC in ns: the clock of the BPF side's timestamps. */
uint64_t now_ns(void);
/* Releases what session_run() kept for the report. */
void session_end(struct session *ss);

#endif
