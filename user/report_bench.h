/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The figures that CI benchmark dashboards take from a measurement: peak
 * RSS, peak total and wall time, each over the measured runs (--runs).
 */
#ifndef MT_REPORT_BENCH_H
#define MT_REPORT_BENCH_H

#include <stdio.h>

#include "json.h"
#include "stats.h"

struct bench_figures {
	const char *name;        /* --bench-name, or the command line */
	struct stats peak_rss;   /* bytes */
	struct stats peak_total; /* bytes */
	struct stats wall;       /* seconds */
};

/* --export-bmf: Bencher Metric Format (report_bmf.c). */
void bmf_write(FILE *f, const struct bench_figures *b);
/* --export-github-benchmark: customSmallerIsBetter entries (report_github.c). */
void github_benchmark_write(FILE *f, const struct bench_figures *b);
/* A number as JSON: whole numbers without a fraction (bytes stay integers). */
void bench_number(struct json *j, const char *key, double v);

#endif
