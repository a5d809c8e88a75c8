/* SPDX-License-Identifier: GPL-2.0 */
/*
 * --perfetto: the run as a timeline in the Chrome Trace Event Format (JSON),
 * which ui.perfetto.dev and chrome://tracing open as they are. Counter
 * tracks ("C") for the tree and each process, one slice ("X") per process
 * lifetime (and thread with --tasks), the exact peaks as global instants
 * ("i"). Timestamps are microseconds since the command's exec (or attach).
 */
#ifndef MT_REPORT_PERFETTO_H
#define MT_REPORT_PERFETTO_H

#include <stdint.h>
#include <stdio.h>

#include "live.h"
#include "summary.h"

/*
 * The tree's tracks belong to a process that does not exist: this number
 * plus the run index, above any real pid (the kernel's PID_MAX_LIMIT).
 */
#define PERFETTO_TREE_PID 4194304U

struct perfetto {
	const char *path;
	FILE *f;
	const char *name;   /* the command line, for the tree's track */
	uint64_t page_size;
	uint64_t events;    /* written so far */
	int tasks;          /* slices for threads too */
};

/* Creates (or replaces) path. Prints one line and returns -1 on failure. */
int perfetto_open(struct perfetto *pf, const char *path, const char *name, int tasks);
/* The tree's and each live process's memory at one interval. */
void perfetto_sample(struct perfetto *pf, const struct live_sample *ls);
/* The end of a run: names, lifetimes, the peaks at their instants, the final state. */
void perfetto_run(struct perfetto *pf, const struct summary *s);
/* Ends the file. Returns -1 after printing one line when it could not be written whole. */
int perfetto_close(struct perfetto *pf);

#endif
