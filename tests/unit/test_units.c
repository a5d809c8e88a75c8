// SPDX-License-Identifier: GPL-2.0
/* Sizes and times with units, as the options take them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "units.h"

static uint64_t size_of(const char *text)
{
	uint64_t b = 12345;

	assert_int_equal(parse_size(text, &b), 0);
	return b;
}

static void sizes(void **state)
{
	uint64_t b;

	(void)state;
	assert_int_equal(size_of("4096"), 4096); /* a plain number keeps its meaning: bytes */
	assert_int_equal(size_of("8M"), 8ULL << 20);
	assert_int_equal(size_of("8MiB"), 8ULL << 20);
	assert_int_equal(size_of("8mb"), 8ULL << 20);
	assert_int_equal(size_of("64K"), 64ULL << 10);
	assert_int_equal(size_of("1G"), 1ULL << 30);
	assert_int_equal(size_of("2 TiB"), 2ULL << 40);
	assert_int_equal(size_of("1.5K"), 1536);
	assert_int_equal(size_of("10B"), 10);
	assert_int_equal(parse_size("1.3B", &b), -1);  /* not whole bytes */
	assert_int_equal(parse_size("-1M", &b), -1);
	assert_int_equal(parse_size("", &b), -1);
	assert_int_equal(parse_size("M", &b), -1);
	assert_int_equal(parse_size("8X", &b), -1);
	assert_int_equal(parse_size("1e3", &b), -1);
	assert_int_equal(parse_size("99999999999T", &b), -1); /* does not fit */
}

static double seconds_of(const char *text, double plain)
{
	double s = -1;

	assert_int_equal(parse_duration(text, plain, &s), 0);
	return s;
}

static void durations(void **state)
{
	double s;

	(void)state;
	assert_true(seconds_of("2", 1) == 2);          /* --duration: seconds */
	assert_true(seconds_of("10", 1e-3) == 10e-3);  /* --interval: ms */
	assert_true(seconds_of("10ms", 1) == 10e-3);
	assert_true(seconds_of("2m", 1e-3) == 120);    /* minutes, as sleep and timeout take it */
	assert_true(seconds_of("2min", 1) == 120);
	assert_true(seconds_of("1.5h", 1) == 5400);
	assert_true(seconds_of("250us", 1) == 250e-6);
	assert_true(seconds_of("0.5s", 1e-3) == 0.5);
	assert_true(seconds_of("1d", 1) == 86400);
	assert_int_equal(parse_duration("-1", 1, &s), -1);
	assert_int_equal(parse_duration("abc", 1, &s), -1);
	assert_int_equal(parse_duration("10parsecs", 1, &s), -1);
	assert_int_equal(parse_duration("", 1, &s), -1);
	assert_int_equal(parse_duration(".", 1, &s), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(sizes),
		cmocka_unit_test(durations),
	};

	return cmocka_run_group_tests_name("units", tests, NULL, NULL);
}
