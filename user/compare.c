// SPDX-License-Identifier: GPL-2.0
#include <stdlib.h>
#include <string.h>

#include "compare.h"
#include "exitcodes.h"
#include "format.h"
#include "json.h"
#include "outfile.h"
#include "report.h"
#include "stats.h"

enum { PEAK_RSS, PEAK_TOTAL, WALL, NR_MEASURES };

static const char *const json_keys[NR_MEASURES] = { "peak_rss_bytes", "peak_total_bytes", "wall_s" };

struct measured {
	const char *cmd;
	double *values[NR_MEASURES]; /* one per measured run */
	int n;
	struct stats st[NR_MEASURES];
};

/* Commands are named A, B, C... in the table, as they were given. */
static char letter(int i)
{
	return (char)('A' + i);
}

static void interim_to_stderr(void *arg, const struct summary *s)
{
	(void)arg;
	report_interim(stderr, s);
}

static void size_row(FILE *f, const char *what, const struct stats *st)
{
	char a[32], b[32], c[32];

	fprintf(f, "     %-11s %9s   (%s to %s)\n", what, format_bytes(a, sizeof(a), (int64_t)st->median),
		format_bytes(b, sizeof(b), (int64_t)st->min), format_bytes(c, sizeof(c), (int64_t)st->max));
}

static void table(FILE *f, const struct measured *m, int n, int runs)
{
	char cmd[80 - 5 + 1];
	int i, ref = 0;

	fprintf(f, "memtrace: %d commands, %d run%s each; median (min to max)\n", n, runs,
		runs == 1 ? "" : "s");
	for (i = 0; i < n; i++) {
		fprintf(f, "  %c  %s\n", letter(i), format_script(cmd, sizeof(cmd), m[i].cmd));
		size_row(f, "peak RSS", &m[i].st[PEAK_RSS]);
		size_row(f, "peak total", &m[i].st[PEAK_TOTAL]);
		fprintf(f, "     %-11s %7.3f s   (%.3f s to %.3f s)\n", "wall", m[i].st[WALL].median,
			m[i].st[WALL].min, m[i].st[WALL].max);
		if (m[i].st[PEAK_TOTAL].mean < m[ref].st[PEAK_TOTAL].mean)
			ref = i;
	}
	fprintf(f, "\n  %c needs the least memory (peak total, RSS + kernel)\n", letter(ref));
	for (i = 0; i < n; i++) {
		double r, e;

		if (i == ref || stats_ratio(&m[i].st[PEAK_TOTAL], &m[ref].st[PEAK_TOTAL], &r, &e))
			continue;
		fprintf(f, "  %c needs %.2f \u00b1 %.2f \u00d7 the memory of %c\n", letter(i), r, e, letter(ref));
	}
}

static void ratios_json(struct json *j, const struct measured *m, int n)
{
	int i, ref = 0;

	for (i = 1; i < n; i++)
		if (m[i].st[PEAK_TOTAL].mean < m[ref].st[PEAK_TOTAL].mean)
			ref = i;
	json_int(j, "least_memory", ref);
	json_begin_array(j, "peak_total_ratios");
	for (i = 0; i < n; i++) {
		double r = 1, e = 0;

		if (i != ref)
			stats_ratio(&m[i].st[PEAK_TOTAL], &m[ref].st[PEAK_TOTAL], &r, &e);
		json_begin_object(j, NULL);
		json_double(j, "ratio", r);
		json_double(j, "stddev", e);
		json_end_object(j);
	}
	json_end_array(j);
}

/* One command's runs; returns 0, or the status that stopped them. */
static int measure(struct session *ss, struct measured *m, struct json *j, int *status)
{
	const struct settings *set = ss->set;
	int run, k;

	for (run = 1; run <= set->warmup + set->runs && !ss->stop; run++) {
		int measured = run > set->warmup;
		int rc = session_run(ss, measured ? run - set->warmup : 0);

		if (rc) {
			session_end(ss);
			return rc;
		}
		if (measured) {
			const struct summary *s = &ss->sum;

			m->values[PEAK_RSS][m->n] = (double)s->tree.peak_bytes[MT_PEAK_RSS];
			m->values[PEAK_TOTAL][m->n] = (double)s->tree.peak_bytes[MT_PEAK_TOTAL];
			m->values[WALL][m->n] = (double)(s->end_ns - s->start_ns) / 1e9;
			m->n++;
			if (j->f)
				report_json_write(j, NULL, s);
			if (*status == MT_EXIT_OK)
				*status = s->exit_code;
		}
		session_end(ss);
	}
	for (k = 0; k < NR_MEASURES && m->n; k++)
		stats_compute(m->values[k], (size_t)m->n, &m->st[k]);
	return m->n ? 0 : MT_EXIT_FAILURE;
}

int compare_commands(struct session *ss)
{
	const struct settings *base = ss->set;
	struct settings one = *base;
	struct outfile report_file = { 0 }, json_file = { 0 };
	struct json j = { 0 };
	struct measured *m = calloc((size_t)base->ncompare, sizeof(*m));
	char *argv[4] = { "sh", "-c", NULL, NULL };
	FILE *report = stderr;
	int i, k, rc = 0, status = MT_EXIT_OK, done = 0;

	if (!m)
		return MT_EXIT_FAILURE;
	if (base->output && outfile_open(&report_file, base->output, OUTFILE_REPLACE))
		goto fail;
	if (report_file.f)
		report = report_file.f;
	if (base->json) {
		if (outfile_open(&json_file, base->json, OUTFILE_REPLACE))
			goto fail;
		json_init(&j, json_file.f);
		json_begin_object(&j, NULL);
		json_string(&j, "schema", "memtrace-compare/1");
		json_begin_array(&j, "commands");
	}
	ss->on_interim = interim_to_stderr;
	ss->set = &one;
	one.command = argv;
	one.command_argc = 3;
	for (i = 0; i < base->ncompare && !ss->stop; i++) {
		m[i].cmd = argv[2] = (char *)base->compare[i];
		for (k = 0; k < NR_MEASURES; k++)
			if (!(m[i].values[k] = calloc((size_t)base->runs, sizeof(double))))
				goto fail;
		if (j.f) {
			json_begin_object(&j, NULL);
			json_string(&j, "command", m[i].cmd);
			json_begin_array(&j, "runs");
		}
		rc = measure(ss, &m[i], &j, &status);
		if (j.f) {
			json_end_array(&j);
			json_begin_object(&j, "statistics");
			for (k = 0; k < NR_MEASURES && m[i].n; k++)
				json_stats(&j, json_keys[k], &m[i].st[k]);
			json_end_object(&j);
			json_end_object(&j);
		}
		if (rc)
			goto fail;
		done++;
	}
	if (done < base->ncompare) {
		fprintf(stderr, "memtrace: stopped after %d of %d commands: no comparison\n", done,
			base->ncompare);
		goto fail;
	}
	table(report, m, done, base->runs);
	if (j.f) {
		json_end_array(&j);
		ratios_json(&j, m, done);
		json_end_object(&j);
		fputc('\n', json_file.f);
	}
	if (outfile_commit(&json_file) | outfile_commit(&report_file))
		status = status ? status : MT_EXIT_FAILURE;
	goto out;
fail:
	outfile_abort(&json_file);
	outfile_abort(&report_file);
	status = rc ? rc : MT_EXIT_FAILURE;
out:
	ss->set = base;
	for (i = 0; i < base->ncompare; i++)
		for (k = 0; k < NR_MEASURES; k++)
			free(m[i].values[k]);
	free(m);
	return status;
}
