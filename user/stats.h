/* SPDX-License-Identifier: GPL-2.0 */
/* Statistics over repeated runs, as hyperfine gives them. */
#ifndef MT_STATS_H
#define MT_STATS_H

#include <stddef.h>

struct stats {
	size_t n;
	double min, median, mean, max;
	double stddev; /* sample standard deviation (n - 1); 0 for one value */
};

/* Fills s from the n values (n >= 1); the values are not changed. Returns -1 on n == 0. */
int stats_compute(const double *values, size_t n, struct stats *s);

/*
 * How many times ref's mean a's mean is, with its uncertainty from both
 * standard deviations (relative errors added in quadrature, as hyperfine
 * does). Returns -1 when ref's mean is 0.
 */
int stats_ratio(const struct stats *a, const struct stats *ref, double *ratio, double *err);

#endif
