/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The --csv time series: one row per interval, plus the exact peaks as rows
 * of their own at the instant they happened, whatever the interval. Rows go
 * to the file as they are sampled (tail -f follows a run); a peak row that a
 * higher peak later replaces keeps its values and loses its 0/1 mark.
 */
#ifndef MT_TIMESERIES_H
#define MT_TIMESERIES_H

#include <stdint.h>
#include <stdio.h>

#include "memtrace.h"
#include "outfile.h"

struct timeseries {
	struct outfile file;
	FILE *rows;           /* the file itself, or (for a pipe) a temporary one per run */
	int run;
	uint64_t page_size;
	uint64_t thread_bytes;
	uint64_t start_ns;
	uint64_t last_us;     /* time of the last row, in microseconds */
	int last_us_valid;
	uint64_t written_ns[MT_NR_PEAKS]; /* the peak each latest marked row shows */
	long mark_at[MT_NR_PEAKS];        /* offset of that row's 0/1 mark; -1: none */
};

/* Creates (or replaces) path ("-": stdout) and writes the header. Prints one line and returns -1 on failure. */
int ts_open(struct timeseries *ts, const char *path);
int ts_begin_run(struct timeseries *ts, int run, uint64_t start_ns, uint64_t page_size,
		 uint64_t thread_bytes);
/*
 * One row: the tree at t_ns after start, with the tree's page faults so far;
 * before it, a row for each peak reached since the last row.
 */
void ts_sample(struct timeseries *ts, uint64_t t_ns, const struct mt_tree *t, uint64_t faults);
/* Closes the run: the peaks not yet written, then a last row for the final state. */
int ts_end_run(struct timeseries *ts, uint64_t end_ns, const struct mt_tree *t, uint64_t faults);
/* complete: keep the file; otherwise remove it. */
int ts_close(struct timeseries *ts, int complete);

#endif
