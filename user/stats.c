// SPDX-License-Identifier: GPL-2.0
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "stats.h"

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int stats_compute(const double *values, size_t n, struct stats *s)
{
	double *sorted, sum = 0, sq = 0;
	size_t i;

	memset(s, 0, sizeof(*s));
	if (n == 0)
		return -1;
	sorted = malloc(n * sizeof(*sorted));
	if (!sorted)
		return -1;
	memcpy(sorted, values, n * sizeof(*sorted));
	qsort(sorted, n, sizeof(*sorted), cmp_double);
	for (i = 0; i < n; i++)
		sum += sorted[i];
	s->n = n;
	s->min = sorted[0];
	s->max = sorted[n - 1];
	s->mean = sum / (double)n;
	s->median = n % 2 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
	for (i = 0; i < n; i++)
		sq += (sorted[i] - s->mean) * (sorted[i] - s->mean);
	s->stddev = n > 1 ? sqrt(sq / (double)(n - 1)) : 0;
	free(sorted);
	return 0;
}

int stats_ratio(const struct stats *a, const struct stats *ref, double *ratio, double *err)
{
	double ra, rr;

	if (ref->mean == 0)
		return -1;
	*ratio = a->mean / ref->mean;
	ra = a->mean ? a->stddev / a->mean : 0;
	rr = ref->stddev / ref->mean;
	*err = *ratio * sqrt(ra * ra + rr * rr);
	return 0;
}
