// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "format.h"
#include "outputs.h"
#include "report.h"
#include "stats.h"
#include "summary_csv.h"
#include "tasks.h"

/* Rows of the per-task table shown on screen; files get them all. */
#define TASKS_ON_SCREEN 50

static FILE *open_w(const char *path)
{
	FILE *f = fopen(path, "we"); /* "e": the command must not inherit it */

	if (!f)
		fprintf(stderr, "memtrace: cannot write '%s': %s\n", path, strerror(errno));
	return f;
}

int outputs_open(struct outputs *o, const struct settings *set)
{
	int runs = set->runs;

	memset(o, 0, sizeof(*o));
	o->set = set;
	o->report = set->output ? open_w(set->output) : stderr;
	if (!o->report)
		return -1;
	if (set->json) {
		o->json = open_w(set->json);
		if (!o->json)
			return -1;
		json_init(&o->jw, o->json);
		if (runs > 1) {
			json_begin_object(&o->jw, NULL);
			json_string(&o->jw, "schema", "memtrace-runs/1");
			json_begin_array(&o->jw, "runs");
		}
	}
	if (set->summary_csv && !(o->summary_csv = summary_csv_open(set->summary_csv)))
		return -1;
	if (set->tasks_csv && !(o->tasks_csv = open_w(set->tasks_csv)))
		return -1;
	if (set->csv) {
		if (ts_open(&o->ts, set->csv))
			return -1;
		o->have_ts = 1;
	}
	o->peaks = calloc((size_t)runs, sizeof(double));
	o->totals = calloc((size_t)runs, sizeof(double));
	o->walls = calloc((size_t)runs, sizeof(double));
	if (!o->peaks || !o->totals || !o->walls) {
		fprintf(stderr, "memtrace: cannot keep %d runs: out of memory\n", runs);
		return -1;
	}
	return 0;
}

static void one_line(FILE *f, const struct summary *s, int runs)
{
	char a[32], b[32], ms[32];

	fprintf(f, "memtrace: run %d/%d: peak RSS %s at %s ms, peak total %s, wall %.3f s, exit %d%s\n",
		s->run, runs, format_bytes(a, sizeof(a), s->tree.peak_bytes[MT_PEAK_RSS]),
		format_ms(ms, sizeof(ms), summary_since_start(s, s->tree.peak_ns[MT_PEAK_RSS])),
		format_bytes(b, sizeof(b), s->tree.peak_bytes[MT_PEAK_TOTAL]),
		(double)(s->end_ns - s->start_ns) / 1e9, s->exit_code,
		s->interrupted ? " (interrupted: left out of the statistics)" : "");
}

void outputs_run(struct outputs *o, const struct summary *s)
{
	const struct settings *set = o->set;
	/* A signal to memtrace ends the runs: this one is the last, cut short. */
	int last = s->run == set->runs || s->interrupted;

	if (set->tasks || set->tasks_csv)
		tasks_sort(s->rec);
	if (set->runs > 1)
		one_line(o->report, s, set->runs);
	if (last || set->runs == 1) {
		report_text(o->report, s, set->top, set->verbose > 0);
		if (set->tasks)
			tasks_print_text(o->report, s, set->verbose ? (size_t)-1 : TASKS_ON_SCREEN);
	}
	fflush(o->report);
	if (o->json) {
		report_json_write(&o->jw, NULL, s);
		fflush(o->json);
	}
	if (o->summary_csv)
		summary_csv_row(o->summary_csv, s);
	if (o->tasks_csv) {
		tasks_write_csv(o->tasks_csv, s, s->run, !o->tasks_header);
		o->tasks_header = 1;
		fflush(o->tasks_csv);
	}
	if (s->interrupted && set->runs > 1) {
		o->interrupted_run = s->run;
	} else if (o->nruns < set->runs) {
		o->peaks[o->nruns] = (double)s->tree.peak_bytes[MT_PEAK_RSS];
		o->totals[o->nruns] = (double)s->tree.peak_bytes[MT_PEAK_TOTAL];
		o->walls[o->nruns] = (double)(s->end_ns - s->start_ns) / 1e9;
		o->nruns++;
	}
}

static void stats_text(FILE *f, const char *what, const struct stats *st, int bytes)
{
	char a[32], b[32], c[32], d[32], e[32];

	if (bytes)
		fprintf(f, "  %-22s min %s, median %s, mean %s, max %s, stddev %s\n", what,
			format_bytes(a, sizeof(a), (int64_t)st->min),
			format_bytes(b, sizeof(b), (int64_t)st->median),
			format_bytes(c, sizeof(c), (int64_t)st->mean),
			format_bytes(d, sizeof(d), (int64_t)st->max),
			format_bytes(e, sizeof(e), (int64_t)st->stddev));
	else
		fprintf(f, "  %-22s min %.3f s, median %.3f s, mean %.3f s, max %.3f s, stddev %.3f s\n",
			what, st->min, st->median, st->mean, st->max, st->stddev);
}

static void stats_json(struct json *j, const char *key, const struct stats *st)
{
	json_begin_object(j, key);
	json_uint(j, "n", st->n);
	json_double(j, "min", st->min);
	json_double(j, "median", st->median);
	json_double(j, "mean", st->mean);
	json_double(j, "max", st->max);
	json_double(j, "stddev", st->stddev);
	json_end_object(j);
}

/* Runs cut short by a signal to memtrace: in "runs", but not in "statistics". */
static void interrupted_json(struct outputs *o)
{
	json_begin_array(&o->jw, "interrupted_runs");
	if (o->interrupted_run)
		json_int(&o->jw, NULL, o->interrupted_run);
	json_end_array(&o->jw);
}

void outputs_close(struct outputs *o)
{
	struct stats peak, total, wall;
	int multi = o->set && o->set->runs > 1;

	if (multi && o->nruns > 0) {
		stats_compute(o->peaks, (size_t)o->nruns, &peak);
		stats_compute(o->totals, (size_t)o->nruns, &total);
		stats_compute(o->walls, (size_t)o->nruns, &wall);
		fprintf(o->report, "\n  Over %d run%s", o->nruns, o->nruns > 1 ? "s" : "");
		if (o->interrupted_run)
			fprintf(o->report, " (run %d, interrupted, is left out)", o->interrupted_run);
		fprintf(o->report, ":\n");
		stats_text(o->report, "Peak RSS (tree):", &peak, 1);
		stats_text(o->report, "Peak total:", &total, 1);
		stats_text(o->report, "Wall time:", &wall, 0);
		if (o->json) {
			json_end_array(&o->jw);
			interrupted_json(o);
			json_begin_object(&o->jw, "statistics");
			stats_json(&o->jw, "peak_rss_bytes", &peak);
			stats_json(&o->jw, "peak_total_bytes", &total);
			stats_json(&o->jw, "wall_s", &wall);
			json_end_object(&o->jw);
			json_end_object(&o->jw);
		}
	} else if (multi) {
		if (o->interrupted_run)
			fprintf(o->report, "\n  No statistics: run %d was interrupted, and no run before it completed\n",
				o->interrupted_run);
		if (o->json) {
			json_end_array(&o->jw);
			interrupted_json(o);
			json_end_object(&o->jw);
		}
	}
	if (o->json)
		fclose(o->json);
	if (o->summary_csv)
		fclose(o->summary_csv);
	if (o->tasks_csv)
		fclose(o->tasks_csv);
	if (o->have_ts)
		ts_close(&o->ts);
	if (o->report && o->report != stderr)
		fclose(o->report);
	free(o->peaks);
	free(o->totals);
	free(o->walls);
	memset(o, 0, sizeof(*o));
}
