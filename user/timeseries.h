/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The --csv time series: one row per interval, plus the exact peaks as rows
 * of their own at the instant they happened, whatever the interval.
 */
#ifndef MT_TIMESERIES_H
#define MT_TIMESERIES_H

#include <stdint.h>
#include <stdio.h>

#include "memtrace.h"

struct timeseries {
	const char *path;
	char *part_path;      /* this run's rows until the peaks are known */
	FILE *out;
	FILE *part;
	int run;
	uint64_t page_size;
	uint64_t thread_bytes;
	uint64_t last_us;     /* time of the last row, in microseconds */
	int last_us_valid;
};

/* Creates (or replaces) path and writes the header. Prints one line and returns -1 on failure. */
int ts_open(struct timeseries *ts, const char *path);
int ts_begin_run(struct timeseries *ts, int run, uint64_t page_size, uint64_t thread_bytes);
/* One row: the tree at t_ns after start, with the tree's page faults so far. */
void ts_sample(struct timeseries *ts, uint64_t t_ns, const struct mt_tree *t, uint64_t faults);
/*
 * Closes the run: a last row for the final state, then the run's rows go to
 * the file with the RSS and total peaks inserted in time order.
 */
int ts_end_run(struct timeseries *ts, uint64_t end_ns, const struct mt_tree *t, uint64_t faults,
	       uint64_t start_ns);
void ts_close(struct timeseries *ts);

#endif
