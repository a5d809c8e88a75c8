// SPDX-License-Identifier: GPL-2.0
/* Statistics over repeated runs. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "stats.h"

static void odd_count(void **state)
{
	const double v[] = { 5, 1, 4, 2, 3 };
	struct stats s;

	(void)state;
	assert_int_equal(stats_compute(v, 5, &s), 0);
	assert_int_equal(s.n, 5);
	assert_float_equal(s.min, 1, 1e-12);
	assert_float_equal(s.max, 5, 1e-12);
	assert_float_equal(s.median, 3, 1e-12);
	assert_float_equal(s.mean, 3, 1e-12);
	/* Sample standard deviation: sqrt(10 / 4). */
	assert_float_equal(s.stddev, 1.5811388300841898, 1e-12);
	/* The input is left as it was. */
	assert_float_equal(v[0], 5, 0);
}

static void even_count_and_one_value(void **state)
{
	const double v[] = { 10, 40, 20, 30 };
	const double one[] = { 7 };
	struct stats s;

	(void)state;
	assert_int_equal(stats_compute(v, 4, &s), 0);
	assert_float_equal(s.median, 25, 1e-12);
	assert_float_equal(s.mean, 25, 1e-12);
	assert_int_equal(stats_compute(one, 1, &s), 0);
	assert_float_equal(s.median, 7, 0);
	assert_float_equal(s.stddev, 0, 0);
	assert_int_equal(stats_compute(v, 0, &s), -1);
}

static void ratios(void **state)
{
	double a[] = { 200, 220, 180 }, ref[] = { 100, 100, 100 }, zero[] = { 0, 0 };
	struct stats sa, sr, sz;
	double r, e;

	(void)state;
	stats_compute(a, 3, &sa);
	stats_compute(ref, 3, &sr);
	assert_int_equal(stats_ratio(&sa, &sr, &r, &e), 0);
	assert_true(fabs(r - 2.0) < 1e-12);
	/* ref has no spread: the error is a's relative stddev (20/200) times the ratio. */
	assert_true(fabs(e - 0.2) < 1e-12);
	assert_int_equal(stats_ratio(&sr, &sr, &r, &e), 0);
	assert_true(r == 1 && e == 0);
	stats_compute(zero, 2, &sz);
	assert_int_equal(stats_ratio(&sa, &sz, &r, &e), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(ratios),
		cmocka_unit_test(odd_count),
		cmocka_unit_test(even_count_and_one_value),
	};

	return cmocka_run_group_tests_name("stats", tests, NULL, NULL);
}
