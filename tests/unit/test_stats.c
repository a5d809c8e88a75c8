// SPDX-License-Identifier: GPL-2.0
/* Statistics over repeated runs. */
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(odd_count),
		cmocka_unit_test(even_count_and_one_value),
	};

	return cmocka_run_group_tests_name("stats", tests, NULL, NULL);
}
