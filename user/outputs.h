/* SPDX-License-Identifier: GPL-2.0 */
/* Every place a run's results go: the text report, JSON, CSV files. */
#ifndef MT_OUTPUTS_H
#define MT_OUTPUTS_H

#include <stdio.h>

#include "json.h"
#include "options.h"
#include "summary.h"
#include "timeseries.h"

#define MT_MAX_RUNS 100000

struct outputs {
	const struct settings *set;
	FILE *report;        /* stderr or -o */
	FILE *json;
	struct json jw;
	FILE *summary_csv;
	FILE *tasks_csv;
	int tasks_header;    /* written once for all runs */
	struct timeseries ts;
	int have_ts;
	double *peaks;       /* per measured run, for the statistics */
	double *totals;
	double *walls;
	int nruns;
	int interrupted_run; /* cut short by a signal to memtrace: not in the statistics; 0: none */
};

/* Opens every output file, before anything runs. Prints one line and returns -1 on failure. */
int outputs_open(struct outputs *o, const struct settings *set);
/* Writes one measured run everywhere it goes. */
void outputs_run(struct outputs *o, const struct summary *s);
/* Statistics over the runs (when more than one), and closes the files. */
void outputs_close(struct outputs *o);

#endif
