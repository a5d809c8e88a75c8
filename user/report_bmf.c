// SPDX-License-Identifier: GPL-2.0
/*
 * Bencher Metric Format: {"<benchmark>": {"<measure>": {"value", "lower_value",
 * "upper_value"}}}. value is the median over the runs, the bounds their
 * minimum and maximum.
 */
#include <math.h>

#include "report_bench.h"

void bench_number(struct json *j, const char *key, double v)
{
	if (isfinite(v) && v == floor(v) && fabs(v) < 9007199254740992.0)
		json_int(j, key, (int64_t)v);
	else
		json_double(j, key, v);
}

static void measure(struct json *j, const char *slug, const struct stats *st)
{
	json_begin_object(j, slug);
	bench_number(j, "value", st->median);
	bench_number(j, "lower_value", st->min);
	bench_number(j, "upper_value", st->max);
	json_end_object(j);
}

void bmf_write(FILE *f, const struct bench_figures *b)
{
	struct json j;

	json_init(&j, f);
	json_begin_object(&j, NULL);
	json_begin_object(&j, b->name);
	measure(&j, "peak-rss", &b->peak_rss);
	measure(&j, "peak-total", &b->peak_total);
	measure(&j, "wall-time", &b->wall);
	json_end_object(&j);
	json_end_object(&j);
}
