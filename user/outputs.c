// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cmdline.h"
#include "format.h"
#include "outputs.h"
#include "push.h"
#include "report_bench.h"
#include "report.h"
#include "report_format.h"
#include "stats.h"
#include "summary_csv.h"
#include "tasks.h"

/* Rows of the per-task table shown on screen; files get them all. */
#define TASKS_ON_SCREEN 50

/* Every file is whole or absent: see outfile.h. */
static FILE *open_out(struct outfile *f, const char *path, enum outfile_mode mode)
{
	return outfile_open(f, path, mode) ? NULL : f->f;
}

static FILE *open_export(const char *path, const char *opt)
{
	FILE *f = fopen(path, "we");

	if (!f)
		fprintf(stderr, "memtrace: cannot write '%s' for %s: %s\n", path, opt, strerror(errno));
	return f;
}

/* The exports to other tools: --perfetto, --prom, --push, --export-*. */
static int open_ecosystem(struct outputs *o, const struct settings *set)
{
	if (!set->perfetto && !set->prom && !set->push_url && !set->export_bmf && !set->export_github)
		return 0;
	o->cmdline = cmdline_string(set);
	if (!o->cmdline) {
		fprintf(stderr, "memtrace: cannot name the run: out of memory\n");
		return -1;
	}
	if (set->perfetto) {
		if (perfetto_open(&o->pf, set->perfetto, o->cmdline, set->tasks))
			return -1;
		o->have_pf = 1;
	}
	if (set->prom || set->push_url) {
		o->have_prom = 1;
		if (prom_open(&o->prom, set, o->cmdline))
			return -1;
	}
	if (set->push_url && !(o->push_url = push_group_url(set, o->cmdline))) {
		fprintf(stderr, "memtrace: cannot push to '%s' for --push: out of memory\n", set->push_url);
		return -1;
	}
	if (set->export_bmf && !(o->bmf = open_export(set->export_bmf, "--export-bmf")))
		return -1;
	if (set->export_github &&
	    !(o->github = open_export(set->export_github, "--export-github-benchmark")))
		return -1;
	if (o->have_pf || set->prom) {
		o->live.fn = outputs_live;
		o->live.ctx = o;
		o->live.want_procs = o->have_pf;
	}
	return 0;
}

int outputs_open(struct outputs *o, const struct settings *set)
{
	int runs = set->runs;

	memset(o, 0, sizeof(*o));
	o->set = set;
	o->report = set->output ? open_out(&o->report_file, set->output, OUTFILE_REPLACE) : stderr;
	if (!o->report)
		return -1;
	if (set->json) {
		o->json = open_out(&o->json_file, set->json, OUTFILE_REPLACE);
		if (!o->json)
			return -1;
		json_init(&o->jw, o->json);
		if (runs > 1) {
			json_begin_object(&o->jw, NULL);
			json_string(&o->jw, "schema", "memtrace-runs/1");
			json_begin_array(&o->jw, "runs");
		}
	}
	if (set->summary_csv) {
		o->summary_csv = open_out(&o->summary_file, set->summary_csv, OUTFILE_APPEND);
		if (!o->summary_csv)
			return -1;
		summary_csv_header(o->summary_csv);
	}
	if (set->tasks_csv && !(o->tasks_csv = open_out(&o->tasks_file, set->tasks_csv, OUTFILE_REPLACE)))
		return -1;
	if (set->csv) {
		if (ts_open(&o->ts, set->csv))
			return -1;
		o->have_ts = 1;
	}
	if (open_ecosystem(o, set))
		return -1;
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

void outputs_live(void *ctx, const struct live_sample *ls)
{
	struct outputs *o = ctx;

	if (o->have_pf)
		perfetto_sample(&o->pf, ls);
	if (o->set->prom && prom_write_file(&o->prom, ls->sum, ls->tree, ls->now_ns, 0))
		o->failed = 1;
}

/* The run's final metrics to the Pushgateway, after every local output is written. */
static int push_run(struct outputs *o, const struct summary *s)
{
	char *text = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&text, &len);
	int rc;

	if (!m) {
		fprintf(stderr, "memtrace: cannot push to '%s' for --push: out of memory\n", o->push_url);
		return -1;
	}
	prom_write_text(m, &o->prom, s, &s->tree, s->end_ns, 1);
	if (fclose(m)) {
		free(text);
		fprintf(stderr, "memtrace: cannot push to '%s' for --push: out of memory\n", o->push_url);
		return -1;
	}
	rc = push_metrics(o->push_url, text);
	free(text);
	return rc;
}

void outputs_run(struct outputs *o, const struct summary *s)
{
	const struct settings *set = o->set;
	/* A signal to memtrace ends the runs: this one is the last, cut short. */
	int last = s->run == set->runs || s->interrupted;

	if (set->tasks || set->tasks_csv)
		tasks_sort(s->rec);
	if (set->format)
		report_format(o->report, set->format, s);
	else if (set->runs > 1)
		one_line(o->report, s, set->runs);
	if (!set->format && (last || set->runs == 1)) {
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
	if (o->have_pf)
		perfetto_run(&o->pf, s);
	if (set->prom && prom_write_file(&o->prom, s, &s->tree, s->end_ns, 1))
		o->failed = 1;
	if (o->push_url && push_run(o, s))
		o->failed = 1;
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

static int close_export(FILE *f, const char *path, const char *opt)
{
	int err = ferror(f) ? EIO : 0;

	if (fclose(f) && !err)
		err = errno;
	if (err)
		fprintf(stderr, "memtrace: cannot write '%s' for %s: %s\n", path, opt, strerror(err));
	return err ? -1 : 0;
}

/* --export-bmf and --export-github-benchmark: written once the runs are known. */
static int close_bench_exports(struct outputs *o)
{
	struct bench_figures b;
	int rc = 0;

	if (o->nruns > 0 && (o->bmf || o->github)) {
		b.name = o->set->bench_name ? o->set->bench_name : o->cmdline;
		stats_compute(o->peaks, (size_t)o->nruns, &b.peak_rss);
		stats_compute(o->totals, (size_t)o->nruns, &b.peak_total);
		stats_compute(o->walls, (size_t)o->nruns, &b.wall);
		if (o->bmf)
			bmf_write(o->bmf, &b);
		if (o->github)
			github_benchmark_write(o->github, &b);
	}
	if (o->bmf && close_export(o->bmf, o->set->export_bmf, "--export-bmf"))
		rc = -1;
	if (o->github && close_export(o->github, o->set->export_github, "--export-github-benchmark"))
		rc = -1;
	return rc;
}

/* Runs cut short by a signal to memtrace: in "runs", but not in "statistics". */
static void interrupted_json(struct outputs *o)
{
	json_begin_array(&o->jw, "interrupted_runs");
	if (o->interrupted_run)
		json_int(&o->jw, NULL, o->interrupted_run);
	json_end_array(&o->jw);
}

static void statistics(struct outputs *o)
{
	struct stats peak, total, wall;

	if (o->nruns > 0) {
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
			json_stats(&o->jw, "peak_rss_bytes", &peak);
			json_stats(&o->jw, "peak_total_bytes", &total);
			json_stats(&o->jw, "wall_s", &wall);
			json_end_object(&o->jw);
			json_end_object(&o->jw);
		}
	} else {
		if (o->interrupted_run)
			fprintf(o->report, "\n  No statistics: run %d was interrupted, and no run before it completed\n",
				o->interrupted_run);
		if (o->json) {
			json_end_array(&o->jw);
			interrupted_json(o);
			json_end_object(&o->jw);
		}
	}
}

/* Keeps a file under its name when a run was measured; otherwise leaves none. */
static int finish(struct outfile *f, int complete, char *dropped, size_t len)
{
	size_t n = strlen(dropped);

	if (!f->f)
		return 0;
	if (complete)
		return outfile_commit(f);
	if (f->path && !f->in_place)
		snprintf(dropped + n, len - n, "%s'%s'", n ? ", " : "", f->path);
	outfile_abort(f);
	return 0;
}

int outputs_close(struct outputs *o)
{
	int complete = o->nruns > 0 || o->interrupted_run, rc = 0;
	char dropped[1024] = "";

	if (o->set && o->set->runs > 1 && !o->set->format) {
		statistics(o);
	} else if (o->set && o->set->runs > 1 && o->json) {
		json_end_array(&o->jw);
		interrupted_json(o);
		json_end_object(&o->jw);
	}
	rc |= finish(&o->json_file, complete, dropped, sizeof(dropped));
	rc |= finish(&o->summary_file, complete, dropped, sizeof(dropped));
	rc |= finish(&o->tasks_file, complete, dropped, sizeof(dropped));
	if (o->have_ts) {
		if (!complete && o->ts.file.path && !o->ts.file.in_place)
			snprintf(dropped + strlen(dropped), sizeof(dropped) - strlen(dropped), "%s'%s'",
				 *dropped ? ", " : "", o->ts.file.path);
		rc |= ts_close(&o->ts, complete);
	}
	rc |= finish(&o->report_file, complete, dropped, sizeof(dropped));
	if (*dropped)
		fprintf(stderr, "memtrace: nothing was measured: wrote no %s\n", dropped);
	if (close_bench_exports(o))
		rc = -1;
	if (o->have_pf && perfetto_close(&o->pf))
		rc = -1;
	if (o->have_prom)
		prom_close(&o->prom);
	if (o->failed)
		rc = -1;
	free(o->push_url);
	free(o->cmdline);
	free(o->peaks);
	free(o->totals);
	free(o->walls);
	memset(o, 0, sizeof(*o));
	return rc ? -1 : 0;
}

void outputs_interim(void *outputs, const struct summary *s)
{
	struct outputs *o = outputs;
	FILE *f = o->report_file.path ? stderr : o->report;

	report_interim(f, s);
	fflush(f);
}
