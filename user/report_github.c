// SPDX-License-Identifier: GPL-2.0
/*
 * github-action-benchmark's customSmallerIsBetter input: an array of
 * {"name", "unit", "value", "range", "extra"}. value is the median over the
 * runs; range the standard deviation, as its own adapters write it ("± x").
 */
#include <stdlib.h>

#include "report_bench.h"

static void entry(struct json *j, const struct bench_figures *b, const char *what,
		  const char *unit, const struct stats *st)
{
	char *name = NULL, range[64], extra[160];

	json_begin_object(j, NULL);
	if (asprintf(&name, "%s - %s", b->name, what) < 0)
		name = NULL;
	json_string(j, "name", name ? name : what);
	free(name);
	json_string(j, "unit", unit);
	bench_number(j, "value", st->median);
	snprintf(range, sizeof(range), "\xc2\xb1 %.6g", st->stddev);
	json_string(j, "range", range);
	snprintf(extra, sizeof(extra), "runs: %zu\nmin: %.15g\nmax: %.15g\nmean: %.15g", st->n,
		 st->min, st->max, st->mean);
	json_string(j, "extra", extra);
	json_end_object(j);
}

void github_benchmark_write(FILE *f, const struct bench_figures *b)
{
	struct json j;

	json_init(&j, f);
	json_begin_array(&j, NULL);
	entry(&j, b, "peak RSS", "bytes", &b->peak_rss);
	entry(&j, b, "peak total", "bytes", &b->peak_total);
	entry(&j, b, "wall time", "s", &b->wall);
	json_end_array(&j);
}
