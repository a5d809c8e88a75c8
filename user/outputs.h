/* SPDX-License-Identifier: GPL-2.0 */
/* Every place a run's results go: the text report, JSON, CSV files. */
#ifndef MT_OUTPUTS_H
#define MT_OUTPUTS_H

#include <stdio.h>

#include "json.h"
#include "live.h"
#include "options.h"
#include "report_perfetto.h"
#include "report_prom.h"
#include "outfile.h"
#include "summary.h"
#include "timeseries.h"

#define MT_MAX_RUNS 100000

struct outputs {
	const struct settings *set;
	FILE *report;        /* stderr, or -o: report_file.f */
	struct outfile report_file;
	FILE *json;
	struct outfile json_file;
	struct json jw;
	FILE *summary_csv;
	struct outfile summary_file;
	FILE *tasks_csv;
	struct outfile tasks_file;
	int tasks_header;    /* written once for all runs */
	struct timeseries ts;
	int have_ts;
	double *peaks;       /* per measured run, for the statistics */
	double *totals;
	double *walls;
	int nruns;
	char *cmdline;       /* the command line: labels, benchmark name, tree track */
	struct perfetto pf;
	int have_pf;
	struct prom prom;    /* --prom and --push */
	int have_prom;
	char *push_url;
	FILE *bmf;
	FILE *github;
	struct live_hook live; /* for the session: what follows the run as it goes */
	int failed;          /* an export could not be written or pushed */
	int interrupted_run; /* cut short by a signal to memtrace: not in the statistics; 0: none */
};

/* Opens every output file, before anything runs. Prints one line and returns -1 on failure. */
int outputs_open(struct outputs *o, const struct settings *set);
/* Writes one measured run everywhere it goes. */
void outputs_run(struct outputs *o, const struct summary *s);
/* At each interval of a run: --perfetto's samples, --prom's live rewrite. */
void outputs_live(void *ctx, const struct live_sample *ls);
/* The run so far (SIGUSR1), to the report's destination (stderr while -o FILE is being written). */
void outputs_interim(void *outputs, const struct summary *s);
/*
 * Statistics over the runs (when more than one), the benchmark exports, and
 * closes the files: under their names when a run was measured, otherwise
 * removed (and said so). Returns -1 when a file could not be completed or an
 * export could not be written or pushed (a line was printed for each).
 */
int outputs_close(struct outputs *o);

#endif
